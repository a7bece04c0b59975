# SPDX-License-Identifier: GPL-3.0-or-later
"""Workspace use cases: create, unlock, describe, change password, rekey, recovery.

Every function either completes or leaves the workspace as it was: ``workspace.json`` is
replaced atomically, the store changes in one transaction, and a key rotation is staged in
``workspace.json.rekey`` so that a crash between the two files is resolved at the next unlock.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from nap_desktop import config
from nap_desktop.data import migrate, store_link
from nap_desktop.data.db import check_store, make_sessionmaker
from nap_desktop.data.filelock import WorkspaceLockFile
from nap_desktop.data.models import AuditEntry, Meta, Unit, User, utcnow
from nap_desktop.domain.units_seed import UnitSeed, default_units_path, load_units_seed
from nap_desktop.errors import (
    AccountDisabled,
    CryptoError,
    RecoveryError,
    WorkspaceCorrupt,
    WorkspaceExists,
    WorkspaceNotFound,
    WrongPassword,
)
from nap_desktop.log import configure_logging
from nap_desktop.security import audit, crypto, keyfile
from nap_desktop.security.keyfile import USERNAME_RE, WorkspaceFile
from nap_desktop.security.passwords import check_password_strength
from nap_desktop.security.permissions import Perm, Role
from nap_desktop.security.throttle import AuthState
from nap_desktop.services.context import UserDTO, Workspace

logger = logging.getLogger(__name__)

NO_RECOVERY_WARNING = (
    "No recovery key is set: if every password of this workspace is lost, its data cannot be "
    "recovered. Set HQ's recovery key with 'nap-desktop recovery set age1…' (enrolment sets it too)."
)
_SITE_UNIT_KIND = {"post": "post", "circle": "circle", "hq": "hq"}


@dataclass(frozen=True)
class InitResult:
    """What :func:`init_workspace` made, and what the user must be told."""

    path: Path
    workspace_id: str
    unit: str
    site_kind: str
    admin: str
    recovery_recipient: str | None
    recovery_identity_file: Path | None
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class WorkspaceInfo:
    """A summary for ``workspace info`` and the start page."""

    path: Path
    workspace_id: str
    site_kind: str
    unit: str
    unit_name_en: str
    unit_name_ur: str
    user: str
    role: str
    schema: str
    users: int
    units: int
    audit_entries: int
    recovery_set: bool
    last_backup: datetime | None


def _paths(path: Path) -> tuple[Path, Path, Path]:
    return path / config.WORKSPACE_FILE, path / config.STORE_FILE, path / config.REKEY_FILE


# --- create ----------------------------------------------------------------------------------


def init_workspace(
    path: Path,
    *,
    site_kind: str,
    unit: str,
    admin: str,
    admin_password: str,
    admin_full_name: str = "",
    recovery_recipient: str | None = None,
    recovery_identity_out: Path | None = None,
    recovery_passphrase: str | None = None,
    units_file: Path | None = None,
    kdf: crypto.KdfParams | None = None,
    db_url: str | None = None,
) -> InitResult:
    """Creates a workspace: folders, the SQLCipher store, the admin account, the key file.

    For an ``hq`` workspace without ``recovery_recipient``, a recovery identity is generated and
    written once, encrypted with ``recovery_passphrase``, to ``recovery_identity_out``.
    ``db_url`` (HQ only): keep the store in that empty PostgreSQL database instead of ``store.db``
    (see :mod:`nap_desktop.data.store_link`).

    Raises:
        WorkspaceExists: ``path`` already holds a workspace or other files.
        ValidationError / WeakPassword / RecoveryError: bad arguments; nothing is created.
    """
    from nap_desktop.errors import ValidationError

    path = Path(path)
    if site_kind not in _SITE_UNIT_KIND:
        raise ValidationError(f"Site kind must be one of {', '.join(_SITE_UNIT_KIND)}.", {"site_kind": "unknown"})
    if not USERNAME_RE.fullmatch(admin):
        raise ValidationError(
            "User names are 3–32 characters: lower-case letters, digits, '.', '_' or '-', starting with a letter.",
            {"admin": "invalid"},
        )
    check_password_strength(admin_password, admin)
    seeds = load_units_seed(units_file or default_units_path())
    by_code = {u.code: u for u in seeds}
    if unit not in by_code:
        raise ValidationError(
            f"Unit {unit!r} is not in the unit list. See resources/units.toml for the codes.", {"unit": "unknown"}
        )
    if by_code[unit].kind != _SITE_UNIT_KIND[site_kind]:
        raise ValidationError(
            f"A {site_kind} workspace needs a {site_kind} unit; {unit} is a {by_code[unit].kind}.", {"unit": "kind"}
        )
    if recovery_recipient:
        recovery_recipient = crypto.check_age_recipient(recovery_recipient)
    if db_url is not None:
        if site_kind != "hq":
            raise ValidationError("Only an HQ workspace keeps its store in PostgreSQL.", {"db": "hq_only"})
        db_url = store_link.check_url(db_url)
    identity_pair: crypto.AgeKeypair | None = None
    if site_kind == "hq" and not recovery_recipient:
        if recovery_identity_out is None or not recovery_passphrase:
            raise RecoveryError(
                "An HQ workspace makes the national recovery key: give a file to write it to and a passphrase."
            )
        if Path(recovery_identity_out).exists():
            raise RecoveryError(f"{recovery_identity_out} already exists; choose a new file for the recovery key.")
        check_password_strength(recovery_passphrase)
        identity_pair = crypto.generate_age_keypair()
        recovery_recipient = identity_pair.recipient

    if path.exists() and any(path.iterdir()):
        if (path / config.WORKSPACE_FILE).exists():
            raise WorkspaceExists(f"A workspace already exists in {path}. Open it, or choose another folder.")
        raise WorkspaceExists(f"The folder {path} is not empty. Choose an empty or new folder for the workspace.")
    if db_url is not None:
        store_link.ensure_empty(db_url)

    created_dir = not path.exists()
    path.mkdir(parents=True, exist_ok=True)
    try:
        os.chmod(path, 0o700)  # only the owner may list or read the workspace
    except OSError:  # NOTE: Windows: the user-profile ACL protects the data folder
        pass
    try:
        return _create(
            path,
            site_kind=site_kind,
            unit=unit,
            admin=admin,
            admin_password=admin_password,
            admin_full_name=admin_full_name or admin,
            recovery_recipient=recovery_recipient,
            identity_pair=identity_pair,
            recovery_identity_out=recovery_identity_out,
            recovery_passphrase=recovery_passphrase,
            seeds=seeds,
            kdf=kdf,
            db_url=db_url,
        )
    except BaseException:
        # Nothing half-made remains: remove what this call created.
        if db_url is not None:
            store_link.drop_schema(db_url)  # it was empty before (ensure_empty)
        for child in list(path.iterdir()):
            if child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)
        if created_dir:
            path.rmdir()
        raise


def _create(
    path: Path,
    *,
    site_kind: str,
    unit: str,
    admin: str,
    admin_password: str,
    admin_full_name: str,
    recovery_recipient: str | None,
    identity_pair: crypto.AgeKeypair | None,
    recovery_identity_out: Path | None,
    recovery_passphrase: str | None,
    seeds: list[UnitSeed],
    kdf: crypto.KdfParams | None,
    db_url: str | None = None,
) -> InitResult:
    for sub in config.SUBDIRS:
        (path / sub).mkdir(exist_ok=True)
    if db_url is not None:
        store_link.write(path, db_url)
    configure_logging(path / "logs", console=False)
    ws_file, store, _ = _paths(path)
    lockfile = WorkspaceLockFile(path / config.LOCK_FILE)
    lockfile.acquire()
    dek = crypto.random_key()
    try:
        wf = keyfile.new_workspace_file(site_kind=site_kind, unit=unit, kdf=kdf)
        wf = replace(wf, users={admin: keyfile.make_user_wrap(wf, admin, admin_password, dek)})
        if recovery_recipient:
            wf = replace(wf, recovery=keyfile.make_recovery(wf.workspace_id, dek, recovery_recipient))
        engine, keys = store_link.open_engine(path, dek)
        try:
            migrate.upgrade(engine)
            sf = make_sessionmaker(engine)
            with sf.begin() as s:
                s.add(Meta(key="workspace_id", value=wf.workspace_id))
                s.add(Meta(key="site_kind", value=site_kind))
                s.add(Meta(key="unit", value=unit))
                for seed in seeds:
                    s.add(_unit_from_seed(seed))
                s.flush()
                s.add(User(username=admin, full_name=admin_full_name, role=Role.ADMIN.value, unit_code=unit))
                audit.append(
                    s,
                    workspace_id=wf.workspace_id,
                    actor=admin,
                    action="workspace.created",
                    object_type="workspace",
                    object_id=wf.workspace_id,
                    unit=unit,
                    detail={"site_kind": site_kind, "units": len(seeds), "recovery": bool(recovery_recipient)},
                )
        finally:
            engine.dispose()
            keys.drop()
        if identity_pair is not None:
            assert recovery_identity_out is not None and recovery_passphrase is not None
            crypto.atomic_write(
                Path(recovery_identity_out),
                crypto.passphrase_encrypt(identity_pair.identity.encode("ascii") + b"\n", recovery_passphrase),
            )
        # workspace.json last: its presence marks a complete workspace.
        keyfile.save(ws_file, wf, dek)
    finally:
        crypto.wipe(dek)
        lockfile.release()
    logger.info("workspace created (site kind %s, unit %s)", site_kind, unit)
    return InitResult(
        path=path,
        workspace_id=wf.workspace_id,
        unit=unit,
        site_kind=site_kind,
        admin=admin,
        recovery_recipient=recovery_recipient,
        recovery_identity_file=Path(recovery_identity_out) if identity_pair else None,
        warnings=() if recovery_recipient else (NO_RECOVERY_WARNING,),
    )


def _unit_from_seed(seed: UnitSeed) -> Unit:
    return Unit(
        code=seed.code,
        kind=seed.kind,
        parent_code=seed.parent,
        name_en=seed.name_en,
        name_ur=seed.name_ur,
        province=seed.province,
        post_type=seed.post_type,
        district=seed.district,
        iata=seed.iata,
        neighbour_country=seed.neighbour_country,
    )


# --- unlock ----------------------------------------------------------------------------------


def load_workspace_file(path: Path) -> WorkspaceFile:
    """Reads ``workspace.json`` of the workspace at ``path`` (shape check only, no key needed)."""
    path = Path(path)
    ws_file, _, _ = _paths(path)
    if not path.is_dir() or not ws_file.exists():
        raise WorkspaceNotFound(
            f"No workspace in {path}. Create one with 'nap-desktop init', or choose the right folder."
        )
    return keyfile.load(ws_file)


def list_usernames(path: Path) -> list[str]:
    """Account names that can unlock the workspace (for the login screen)."""
    return sorted(load_workspace_file(path).users)


def open_workspace(path: Path, username: str, password: str) -> Workspace:
    """Unlocks a workspace for a user.

    Order matters: nothing is written before the key, the file's MAC, the store and its schema
    have all been checked, so a wrong password, a hand-edited ``workspace.json``, a missing store
    or a store from a newer release changes nothing.

    Raises:
        WorkspaceNotFound, WorkspaceCorrupt, SchemaTooNew, WrongPassword, AccountDisabled,
        LoginThrottled, WorkspaceBusy.
    """
    path = Path(path).resolve()
    wf = load_workspace_file(path)
    ws_file, store, rekey_file = _paths(path)
    state = AuthState(path / config.AUTH_STATE_FILE)
    actor = username if USERNAME_RE.fullmatch(username or "") else "?"
    state.check(actor)
    if username in wf.disabled:
        state.record_failure(actor, "auth.disabled_attempt")
        raise AccountDisabled(f"The account {username!r} is disabled. Ask an administrator.")
    try:
        dek = keyfile.unwrap_dek(wf, username, password)
    except WrongPassword:
        n = state.record_failure(actor)
        logger.info("failed unlock attempt (%d in a row)", n)
        raise
    lockfile = WorkspaceLockFile(path / config.LOCK_FILE)
    lockfile.acquire()
    try:
        wf, dek = _settle_rekey(path, wf, dek, username, password)
        wf.verify(dek)
        ws = _open_store(path, wf, dek, username, lockfile)
    except BaseException:
        crypto.wipe(dek)
        lockfile.release()
        raise
    try:
        with ws.sf.begin() as s:
            for ev in state.take_pending(actor):
                ws.audit(
                    s,
                    str(ev.get("action", "auth.login_failed"))[:48],
                    object_type="user",
                    object_id=str(ev.get("actor", "?"))[:32],
                    detail={"attempt_at": str(ev.get("at", ""))[:32], "in_a_row": int(ev.get("n", 0) or 0)},
                )
            s.execute(User.__table__.update().where(User.username == username).values(last_login_at=utcnow()))
            ws.audit(s, "auth.unlocked", object_type="user", object_id=username)
    except BaseException:
        ws.lock()  # never leave a half-open workspace holding the key and the write lock
        raise
    return ws


def _settle_rekey(
    path: Path, wf: WorkspaceFile, dek: bytearray, username: str, password: str
) -> tuple[WorkspaceFile, bytearray]:
    """Finishes or discards a key rotation interrupted by a crash (see :func:`rekey`)."""
    ws_file, store, rekey_file = _paths(path)
    if not rekey_file.exists():
        store_link.check(path, dek)
        return wf, dek
    try:
        store_link.check(path, dek)  # NOTE: PostgreSQL has no store key: a staged rekey is discarded
    except WorkspaceCorrupt:
        staged = keyfile.load(rekey_file)
        new_dek = keyfile.unwrap_dek(staged, username, password)
        check_store(store, new_dek)  # the store was rekeyed: the staged file is the truth
        staged.verify(new_dek)
        rekey_file.replace(ws_file)
        crypto.wipe(dek)
        logger.warning("completed an interrupted key rotation")
        return staged, new_dek
    rekey_file.unlink()  # the store still has the old key: the rotation never happened
    logger.warning("discarded an interrupted key rotation")
    return wf, dek


def _open_store(path: Path, wf: WorkspaceFile, dek: bytearray, username: str, lockfile: WorkspaceLockFile) -> Workspace:
    store = path / config.STORE_FILE
    engine, keys = store_link.open_engine(path, dek)
    try:
        migrate.check_revision(migrate.current_revision(engine))  # SchemaTooNew before any write
        # NOTE: a PostgreSQL store is backed up with pg_dump before an upgrade (README, HQ setup)
        migrate.upgrade(engine, backup_of=None if store_link.is_postgres(path) else store, backup_dir=path / "backups")
        sf = make_sessionmaker(engine)
        with sf() as s:
            ws_id = s.get(Meta, "workspace_id")
            if ws_id is None or ws_id.value != wf.workspace_id:
                raise WorkspaceCorrupt("store.db belongs to another workspace than workspace.json. Restore both from one backup.")
            user = s.scalars(select(User).where(User.username == username)).one_or_none()
            if user is None:
                raise WorkspaceCorrupt(f"The account {username!r} has a key but no record in the store. Restore from a backup.")
            if user.disabled:
                raise AccountDisabled(f"The account {username!r} is disabled. Ask an administrator.")
            dto = UserDTO.of(user)
    except BaseException:
        engine.dispose()
        keys.drop()
        raise
    for sub in config.SUBDIRS:
        (path / sub).mkdir(exist_ok=True)
    configure_logging(path / "logs", console=False)
    return Workspace(path=path, wf=wf, engine=engine, sf=sf, keys=keys, dek=dek, user=dto, lockfile=lockfile)


@contextmanager
def unlocked(path: Path, username: str, password: str) -> Iterator[Workspace]:
    """``with unlocked(path, user, pw) as ws: …`` — locks again on exit, whatever happens."""
    ws = open_workspace(path, username, password)
    try:
        yield ws
    finally:
        ws.lock()


# --- describe --------------------------------------------------------------------------------


def workspace_info(ws: Workspace) -> WorkspaceInfo:
    """Summary of the workspace for the signed-in user."""
    ws.require(Perm.WORKSPACE_VIEW)
    with ws.sf() as s:
        unit = s.get(Unit, ws.wf.unit)
        n_users = s.scalar(select(func.count()).select_from(User)) or 0
        n_units = s.scalar(select(func.count()).select_from(Unit)) or 0
        n_audit = s.scalar(select(func.count()).select_from(AuditEntry)) or 0
        rev = migrate.current_revision(ws.engine) or "-"
    from nap_desktop.services.backup import last_backup as _last_backup

    last_backup = _last_backup(ws)  # recorded by a finished backup (pre-upgrade copies do not count)
    return WorkspaceInfo(
        path=ws.path,
        workspace_id=ws.workspace_id,
        site_kind=ws.wf.site_kind,
        unit=ws.wf.unit,
        unit_name_en=unit.name_en if unit else "",
        unit_name_ur=unit.name_ur if unit else "",
        user=ws.user.username,
        role=ws.user.role,
        schema=rev,
        users=n_users,
        units=n_units,
        audit_entries=n_audit,
        recovery_set=ws.wf.recovery is not None,
        last_backup=last_backup,
    )


# --- passwords, keys, recovery ---------------------------------------------------------------


def _save_wf(ws: Workspace, wf: WorkspaceFile) -> None:
    ws.wf = keyfile.save(ws.path / config.WORKSPACE_FILE, wf, ws.dek)


def change_password(ws: Workspace, old_password: str, new_password: str) -> None:
    """Changes the signed-in user's password. Reseals the user's key only; the store is untouched."""
    ws.require(Perm.PASSWORD_CHANGE_OWN)
    name = ws.user.username
    pair = keyfile.open_user_identity(ws.wf, name, old_password)
    check_password_strength(new_password, name)
    if new_password == old_password:
        from nap_desktop.errors import WeakPassword

        raise WeakPassword("The new password must differ from the old one.")
    users = dict(ws.wf.users)
    users[name] = keyfile.make_user_wrap(ws.wf, name, new_password, ws.dek, keypair=pair)
    with ws.sf.begin() as s:
        s.execute(
            User.__table__.update()
            .where(User.username == name)
            .values(password_changed_at=utcnow(), must_change_password=False)
        )
        ws.audit(s, "user.password_changed", object_type="user", object_id=name)
        # workspace.json inside the transaction: if writing it fails, the store change rolls back.
        _save_wf(ws, replace(ws.wf, users=users))


def set_recovery(ws: Workspace, recipient: str) -> None:
    """Sets (or replaces) the HQ recovery recipient and escrows the data key to it."""
    ws.require(Perm.RECOVERY_SET)
    recipient = crypto.check_age_recipient(recipient)
    with ws.sf.begin() as s:
        ws.audit(s, "recovery.set", object_type="workspace", object_id=ws.workspace_id, detail={"replaced": ws.wf.recovery is not None})
        _save_wf(ws, replace(ws.wf, recovery=keyfile.make_recovery(ws.workspace_id, ws.dek, recipient)))


def rekey(ws: Workspace) -> None:
    """Rotates the data key: ``PRAGMA rekey`` on the store, new key to every user and to recovery.

    Crash safety: the new ``workspace.json`` is staged as ``workspace.json.rekey`` first; the
    store is rekeyed; the staged file then replaces the old one. An unlock after a crash at any
    point finds the key that fits the store (see :func:`_settle_rekey`).
    """
    ws.require(Perm.REKEY)
    ws_file, store, rekey_file = _paths(ws.path)
    new_dek = crypto.random_key()
    try:
        staged = keyfile.rewrap_all(ws.wf, new_dek).signed(new_dek)
        crypto.atomic_write(rekey_file, staged.to_bytes())
        with ws.sf.begin() as s:
            ws.audit(s, "workspace.rekeyed", object_type="workspace", object_id=ws.workspace_id)
        ws.engine.dispose()
        if not store_link.is_postgres(ws.path):  # a PostgreSQL store is not encrypted with the key
            raw = ws.engine.raw_connection()
            try:
                dbapi = raw.driver_connection
                assert dbapi is not None
                dbapi.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                dbapi.execute("PRAGMA journal_mode = DELETE")
                dbapi.execute(f"PRAGMA rekey = \"x'{new_dek.hex()}'\"")
                dbapi.execute("PRAGMA journal_mode = WAL")
            finally:
                raw.close()
        rekey_file.replace(ws_file)
    except BaseException:
        crypto.wipe(new_dek)
        raise
    # Swap the key of the live workspace for the new one.
    ws.engine.dispose()
    ws._keys.drop()
    engine, keys = store_link.open_engine(ws.path, new_dek)
    crypto.wipe(ws._dek)
    ws._engine, ws._keys, ws._dek = engine, keys, new_dek
    ws._sf = make_sessionmaker(engine)
    ws.wf = staged
    logger.info("data key rotated")


def read_recovery_identity(file: Path, passphrase: str | None) -> str:
    """Reads the HQ recovery identity: a passphrase-protected age file, or a plain identity file."""
    try:
        data = Path(file).read_bytes()
    except OSError:
        raise RecoveryError(f"Cannot read the recovery key file {file}.") from None
    if data.startswith(b"age-encryption.org/"):
        if not passphrase:
            raise RecoveryError("The recovery key file is protected by a passphrase; give the passphrase.")
        try:
            data = crypto.passphrase_decrypt(data, passphrase)
        except CryptoError:
            raise RecoveryError("Wrong passphrase for the recovery key file (or the file is damaged).") from None
    for line in data.decode("ascii", errors="replace").splitlines():
        if line.startswith("AGE-SECRET-KEY-1"):
            return line.strip()
    raise RecoveryError("The file holds no age recovery identity (a line starting AGE-SECRET-KEY-1).")


def recover(path: Path, identity: str, username: str, new_password: str) -> Workspace:
    """Regains access with HQ's recovery identity and sets a new password for ``username``.

    Used when every password of a workspace is lost (a forgotten password, a departed officer).
    The account must exist and must not be disabled; it is re-enabled for unlock with the new
    password. Returns the unlocked workspace.
    """
    path = Path(path).resolve()
    wf = load_workspace_file(path)
    dek = keyfile.recover_dek(wf, identity)
    lockfile = WorkspaceLockFile(path / config.LOCK_FILE)
    lockfile.acquire()
    try:
        wf, dek = _settle_recovered_rekey(path, wf, dek, identity)
        wf.verify(dek)
        check_password_strength(new_password, username)
        engine, keys = store_link.open_engine(path, dek)
        try:
            migrate.check_revision(migrate.current_revision(engine))
            with make_sessionmaker(engine)() as s:
                user = s.scalars(select(User).where(User.username == username)).one_or_none()
                if user is None or user.disabled:
                    raise RecoveryError(f"There is no active account {username!r} in this workspace to recover.")
        finally:
            engine.dispose()
            keys.drop()
        users = dict(wf.users)
        users[username] = keyfile.make_user_wrap(wf, username, new_password, dek)
        wf = keyfile.save(path / config.WORKSPACE_FILE, replace(wf, users=users), dek)
        ws = _open_store(path, wf, dek, username, lockfile)
    except BaseException:
        crypto.wipe(dek)
        lockfile.release()
        raise
    try:
        with ws.sf.begin() as s:
            ws.audit(s, "auth.recovered", object_type="user", object_id=username)
        AuthState(path / config.AUTH_STATE_FILE).take_pending(username)
    except BaseException:
        ws.lock()
        raise
    return ws


def _settle_recovered_rekey(path: Path, wf: WorkspaceFile, dek: bytearray, identity: str) -> tuple[WorkspaceFile, bytearray]:
    ws_file, store, rekey_file = _paths(path)
    try:
        store_link.check(path, dek)
        rekey_file.unlink(missing_ok=True)
        return wf, dek
    except WorkspaceCorrupt:
        if not rekey_file.exists():
            raise
    staged = keyfile.load(rekey_file)
    new_dek = keyfile.recover_dek(staged, identity)
    check_store(store, new_dek)
    rekey_file.replace(ws_file)
    crypto.wipe(dek)
    return staged, new_dek


def upgrade_db(ws: Workspace) -> list[str]:
    """``db upgrade``: applies pending migrations (opening a workspace already does this)."""
    ws.require(Perm.DB_UPGRADE)
    applied = migrate.upgrade(ws.engine, backup_of=None if store_link.is_postgres(ws.path) else ws.store_path, backup_dir=ws.path / "backups")
    with ws.sf.begin() as s:
        ws.audit(s, "db.upgrade", detail={"applied": len(applied), "schema": migrate.head_revision()})
    return applied
