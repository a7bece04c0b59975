# SPDX-License-Identifier: GPL-3.0-or-later
"""Backup and restore of a whole workspace into one encrypted file (``*.napbak``).

What a backup holds: a consistent copy of ``store.db`` (SQLCipher ``VACUUM INTO`` on the unlocked
connection, so the copy stays encrypted with the same data key), ``workspace.json`` and
``auth_state.json``. Not the logs, the lock file, exports or older backups.

File format (``nap-backup/1``), chosen so that standard tools can open it:

- The file is a plain POSIX tar with, in this order, ``nap-backup.txt`` (a fixed text naming the
  format), optionally ``key-passphrase.age`` and ``payload.age``. Its layout is canonical and
  checked byte for byte on restore, so a flipped bit or a cut-off end anywhere is refused.
- ``payload.age`` is an age file (X25519) of an inner tar: ``manifest.json`` (format, workspace
  id, unit, schema revision, audit chain head and the size and SHA-256 of every member), then
  ``store.db``, ``workspace.json`` and ``auth_state.json``. age authenticates every byte.
- It is encrypted to the workspace's HQ recovery recipient and, with a passphrase, also to a key
  made for this backup, whose identity is stored as ``key-passphrase.age`` (age scrypt with the
  passphrase). age cannot mix a passphrase with other recipients in one file, hence this slot;
  it is a standard age "encrypted identity file": ``age -d -i key-passphrase.age payload.age``.

Opening a backup by hand: ``tar -xf B.napbak payload.age && age -d -i hq-recovery.txt payload.age > p.tar``.

The data key is not in the backup. Restoring with the recovery identity takes it from the escrow
in ``workspace.json``; restoring with the passphrase also needs one account's password. The
restored store is therefore checked (page HMACs, SQLite integrity, schema, audit chain) before
the folder appears, and a failed restore leaves nothing behind.

A restore makes a second copy of a workspace (same workspace id): use it *instead of* the lost or
broken one, never beside it.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import logging
import os
import shutil
import tarfile
import tempfile
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import pyrage
from nap_desktop import __version__, config
from nap_desktop.data import migrate
from nap_desktop.data.db import DBAPIError, check_store, make_engine, make_sessionmaker
from nap_desktop.data.meta import set_meta
from nap_desktop.data.models import Meta
from nap_desktop.errors import (
    BackupCorrupt,
    BackupError,
    BackupKeyMismatch,
    CryptoError,
    RecoveryError,
    StorageFull,
    WorkspaceCorrupt,
    WorkspaceExists,
    WrongPassword,
)
from nap_desktop.security import audit, crypto, keyfile
from nap_desktop.security.passwords import check_password_strength
from nap_desktop.security.permissions import Perm
from nap_desktop.services.context import Workspace
from nap_desktop.services.progress import Progress, drive

logger = logging.getLogger(__name__)

SUFFIX = ".napbak"
CONTAINER_FORMAT = "nap-backup/1"
PAYLOAD_FORMAT = "nap-backup-payload/1"
MARKER_NAME = "nap-backup.txt"
PASSKEY_NAME = "key-passphrase.age"
PAYLOAD_NAME = "payload.age"
MANIFEST_NAME = "manifest.json"
MARKER_TEXT = (
    f"{CONTAINER_FORMAT}\n"
    "A NAP Desktop workspace backup. Restore it with 'nap-desktop restore FILE --into NEW-FOLDER'.\n"
    "payload.age is an age file for HQ's recovery key (and, if key-passphrase.age is present,\n"
    "for the identity in that file, which opens with the backup passphrase).\n"
).encode("ascii")
# The workspace files a backup carries; the store and workspace.json are required.
MEMBERS = (config.STORE_FILE, config.WORKSPACE_FILE, config.AUTH_STATE_FILE)
REQUIRED = (config.STORE_FILE, config.WORKSPACE_FILE)
LAST_BACKUP_KEY = "last_backup_at"
REMINDER_DAYS = 7
_MAX_SMALL = 64 * 1024  # marker, passphrase slot, manifest, auth_state: small by nature
_BLOCK = 512
_TAR_FORMAT = tarfile.USTAR_FORMAT
_CHUNK = 1 << 20


@dataclass(frozen=True)
class BackupResult:
    """What :func:`make_backup` wrote."""

    path: Path
    size: int
    created_at: datetime
    schema: str
    audit_entries: int
    recovery: bool
    passphrase: bool
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class BackupInfo:
    """What can be read from a backup file without any key (for choosing how to open it)."""

    path: Path
    size: int
    passphrase: bool


@dataclass(frozen=True)
class RestoreResult:
    """What :func:`restore_backup` restored, and what the user must know."""

    path: Path
    workspace_id: str
    site_kind: str
    unit: str
    schema: str
    backup_created_at: str
    audit_entries: int
    usernames: tuple[str, ...]
    warnings: tuple[str, ...] = ()


# --- last backup and the reminder ------------------------------------------------------------------


def last_backup(ws: Workspace) -> datetime | None:
    """When this workspace was last backed up (``None``: never)."""
    with ws.sf() as s:
        row = s.get(Meta, LAST_BACKUP_KEY)
    return _parse_time(row.value) if row is not None else None


def backup_due(last: datetime | None, *, now: datetime | None = None, days: int = REMINDER_DAYS) -> bool:
    """Whether the start page should remind the user to back up (never, or more than ``days`` ago)."""
    if last is None:
        return True
    return (now or datetime.now(UTC)) - last > timedelta(days=days)


def _parse_time(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# --- backup ---------------------------------------------------------------------------------------------


def default_backup_path(ws: Workspace, when: datetime | None = None) -> Path:
    """``<workspace>/backups/nap-backup-<UNIT>-<UTC time>.napbak`` (no personal data in the name)."""
    stamp = (when or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return ws.path / "backups" / f"nap-backup-{ws.wf.unit}-{stamp}{SUFFIX}"


def make_backup(ws: Workspace, *, out: Path | None = None, passphrase: str | None = None) -> BackupResult:
    """Writes a backup and returns what was written (see :func:`iter_backup`)."""
    return drive(iter_backup(ws, out=out, passphrase=passphrase))


def iter_backup(
    ws: Workspace, *, out: Path | None = None, passphrase: str | None = None
) -> Generator[Progress, None, BackupResult]:
    """Backs the workspace up into one encrypted file, yielding :class:`Progress` between steps.

    Args:
        ws: The unlocked workspace. Run on the writer thread in the GUI: the copy is consistent
            because no other write runs meanwhile (the store copy itself is one SQLite snapshot).
        out: The file to write (default: :func:`default_backup_path`). An existing file is
            refused, never overwritten.
        passphrase: Also protect the backup with this passphrase. Required when the workspace
            has no HQ recovery recipient.

    Returns:
        The :class:`BackupResult` (the generator's return value).

    Raises:
        PermissionDenied, BackupError (no protection, target exists), WeakPassword,
        StorageFull. Nothing is left behind on failure.
    """
    ws.require(Perm.WORKSPACE_BACKUP)
    if ws.engine.dialect.name != "sqlite":
        raise BackupError(
            "This HQ workspace keeps its data in PostgreSQL: back the database up with pg_dump and copy "
            "workspace.json and store.json with it (see the README); 'backup' covers store.db workspaces."
        )
    recovery = ws.wf.recovery.recipient if ws.wf.recovery is not None else None
    if passphrase is not None and passphrase == "":
        passphrase = None
    if recovery is None and passphrase is None:
        raise BackupError(
            "This workspace has no HQ recovery key, so its backups must be protected by a passphrase. "
            "Give one (--passphrase), or have an administrator set the recovery key first."
        )
    if passphrase is not None:
        check_password_strength(passphrase)
    created = datetime.now(UTC).replace(microsecond=0)
    target = Path(out) if out is not None else default_backup_path(ws, created)
    if target.suffix != SUFFIX:
        target = target.with_name(target.name + SUFFIX)
    if target.exists():
        raise BackupError(f"{target.name} already exists; choose another file name (backups are never overwritten).")
    if not target.parent.is_dir():
        raise BackupError(f"The folder {target.parent} does not exist; choose an existing folder for the backup.")
    total = 5
    backups = ws.path / "backups"
    backups.mkdir(exist_ok=True)
    # NOTE: this process holds the workspace's write lock, so any staging folder or temp file found
    # here was left by a backup that was killed half-way: remove it.
    for stale in [*backups.glob(".backup-*"), *backups.glob(f".nap-backup-*{SUFFIX}.*.tmp")]:
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".backup-", dir=backups))
    try:
        yield Progress(0, total, "Copying the data store")
        store_copy = staging / config.STORE_FILE
        _snapshot_store(ws, store_copy)
        _stamp_copy(store_copy, ws.dek, created)
        yield Progress(1, total, "Checking the copy")
        facts = _check_copy(ws, store_copy)
        warnings: list[str] = []
        if not facts["audit"]["ok"]:
            warnings.append(
                f"The audit chain of this workspace does not verify (entry {facts['audit']['first_bad_seq']}); "
                "the backup keeps it as it is, for investigation."
            )
        yield Progress(2, total, "Packing")
        files: dict[str, Path] = {config.STORE_FILE: store_copy}
        for name in (config.WORKSPACE_FILE, config.AUTH_STATE_FILE):
            src = ws.path / name
            if src.is_file():
                dst = staging / name
                shutil.copyfile(src, dst)
                files[name] = dst
        keyfile.load(files[config.WORKSPACE_FILE]).verify(ws.dek)  # the key file fits the store's key
        manifest = {
            "format": PAYLOAD_FORMAT,
            "app_version": __version__,
            "created_at": created.isoformat(timespec="seconds"),
            "workspace_id": ws.workspace_id,
            "site_kind": ws.wf.site_kind,
            "unit": ws.wf.unit,
            "schema": facts["schema"],
            "audit": facts["audit"],
            "members": {name: {"size": p.stat().st_size, "sha256": _sha256_file(p)} for name, p in files.items()},
        }
        inner = staging / "payload.tar"
        _write_inner(inner, manifest, files, created)
        for p in files.values():
            p.unlink()
        yield Progress(3, total, "Encrypting")
        recipients: list[Any] = []
        passkey: bytes | None = None
        if recovery is not None:
            recipients.append(pyrage.x25519.Recipient.from_str(recovery))
        if passphrase is not None:
            pair = crypto.generate_age_keypair()
            recipients.append(pyrage.x25519.Recipient.from_str(pair.recipient))
            passkey = crypto.passphrase_encrypt(pair.identity.encode("ascii") + b"\n", passphrase)
        sealed = staging / PAYLOAD_NAME
        with open(inner, "rb") as src_fh, open(sealed, "wb") as dst_fh:
            pyrage.encrypt_io(src_fh, dst_fh, recipients)
        inner.unlink()
        yield Progress(4, total, "Writing the backup file")
        with _atomic_output(target) as fh:
            _write_container(fh, passkey, sealed, created)
        size = target.stat().st_size
    except OSError as exc:
        if getattr(exc, "errno", None) in (errno.ENOSPC, errno.EDQUOT):
            raise StorageFull("The disk is full: no backup was written. Free some space and try again.") from None
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    try:
        with ws.sf.begin() as s:
            set_meta(s, LAST_BACKUP_KEY, created.isoformat(timespec="seconds"))
            ws.audit(
                s,
                "workspace.backup",
                object_type="workspace",
                object_id=ws.workspace_id,
                detail={"bytes": size, "recovery": recovery is not None, "passphrase": passphrase is not None, "schema": facts["schema"]},
            )
    except BaseException:
        target.unlink(missing_ok=True)  # an unrecorded backup would mislead the reminder
        raise
    logger.info("backup written (%d bytes, recovery %s, passphrase %s)", size, recovery is not None, passphrase is not None)
    yield Progress(total, total, "Done")
    return BackupResult(
        path=target,
        size=size,
        created_at=created,
        schema=facts["schema"],
        audit_entries=int(facts["audit"]["entries"]),
        recovery=recovery is not None,
        passphrase=passphrase is not None,
        warnings=tuple(warnings),
    )


def _snapshot_store(ws: Workspace, target: Path) -> None:
    """One consistent, encrypted copy of the store (``VACUUM INTO`` keeps the SQLCipher key)."""
    raw = ws.engine.raw_connection()
    try:
        dbapi = raw.driver_connection
        assert dbapi is not None
        # NOTE: the pooled connections run in autocommit (isolation_level=None), and VACUUM INTO
        # is one read transaction: the copy is a snapshot even if a reader runs meanwhile.
        dbapi.execute("VACUUM INTO ?", (str(target),))
    finally:
        raw.close()
    with open(target, "rb") as fh:
        if fh.read(16) == b"SQLite format 3\x00":  # never let a clear copy leave the store
            target.unlink()
            raise WorkspaceCorrupt("The store copy was not encrypted; no backup was written. Report this to HQ.")


def _stamp_copy(copy: Path, dek: bytes | bytearray, created: datetime) -> None:
    """Records the backup time in the copy too, so a restored workspace knows how old it is."""
    engine, keys = make_engine(copy, dek)
    try:
        with make_sessionmaker(engine).begin() as s:
            s.merge(Meta(key=LAST_BACKUP_KEY, value=created.isoformat(timespec="seconds")))
    finally:
        engine.dispose()
        keys.drop()


def _store_facts(path: Path, dek: bytes | bytearray, workspace_id: str) -> dict[str, Any]:
    """Opens a store file and checks it: page HMACs, SQLite integrity, owner, schema, audit chain."""
    engine, keys = make_engine(path, dek)
    try:
        raw = engine.raw_connection()
        try:
            dbapi = raw.driver_connection
            assert dbapi is not None
            bad_pages = dbapi.execute("PRAGMA cipher_integrity_check").fetchall()
            integrity = dbapi.execute("PRAGMA integrity_check").fetchall()
        finally:
            raw.close()
        if bad_pages or integrity != [("ok",)]:
            raise WorkspaceCorrupt("The data store failed its integrity check.")
        rev = migrate.current_revision(engine)
        migrate.check_revision(rev)
        with make_sessionmaker(engine)() as s:
            owner = s.get(Meta, "workspace_id")
            if owner is None or owner.value != workspace_id:
                raise WorkspaceCorrupt("The data store belongs to another workspace.")
            result = audit.verify(s, workspace_id)
            head = s.get(Meta, audit.HEAD_KEY)
    finally:
        engine.dispose()
        keys.drop()
    return {
        "schema": rev or "-",
        "audit": {
            "ok": result.ok,
            "entries": result.entries,
            "first_bad_seq": result.first_bad_seq,
            "head": head.value if head is not None else "",
        },
    }


def _check_copy(ws: Workspace, copy: Path) -> dict[str, Any]:
    try:
        return _store_facts(copy, ws.dek, ws.workspace_id)
    except (DBAPIError, WorkspaceCorrupt):
        raise WorkspaceCorrupt(
            "The copy of the data store does not verify, so no backup was written. The store may be "
            "damaged: keep this computer as it is and ask HQ for help."
        ) from None


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _tarinfo(name: str, size: int, when: datetime) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = int(when.timestamp())
    info.mode = 0o600
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _write_inner(path: Path, manifest: dict[str, Any], files: dict[str, Path], when: datetime) -> None:
    data = json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8")
    with open(path, "wb") as fh, tarfile.open(fileobj=fh, mode="w", format=_TAR_FORMAT) as tar:
        tar.addfile(_tarinfo(MANIFEST_NAME, len(data), when), io.BytesIO(data))
        for name, p in files.items():
            with open(p, "rb") as src:
                tar.addfile(_tarinfo(name, p.stat().st_size, when), src)


def _write_container(fh: IO[bytes], passkey: bytes | None, sealed: Path, when: datetime) -> None:
    with tarfile.open(fileobj=fh, mode="w", format=_TAR_FORMAT) as tar:
        tar.addfile(_tarinfo(MARKER_NAME, len(MARKER_TEXT), when), io.BytesIO(MARKER_TEXT))
        if passkey is not None:
            tar.addfile(_tarinfo(PASSKEY_NAME, len(passkey), when), io.BytesIO(passkey))
        with open(sealed, "rb") as src:
            tar.addfile(_tarinfo(PAYLOAD_NAME, sealed.stat().st_size, when), src)


@contextmanager
def _atomic_output(path: Path) -> Iterator[IO[bytes]]:
    """Like :func:`crypto.atomic_write`, streaming: temp file beside ``path``, fsync, rename."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        try:
            os.chmod(tmp, 0o600)
        except OSError:  # NOTE: Windows: POSIX modes do not apply; the folder ACL protects it
            pass
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        if path.exists():  # NOTE: os.replace would overwrite; a backup never replaces a file
            raise BackupError(f"{path.name} appeared while the backup was written; nothing was overwritten.")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# --- reading the container ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Member:
    name: str
    offset: int
    size: int


def _corrupt(what: str) -> BackupCorrupt:
    return BackupCorrupt(
        f"This backup file is damaged or was altered ({what}); nothing was restored. Use another copy of the backup."
    )


def _read_container(path: Path) -> dict[str, _Member]:
    """Parses the outer tar and checks that its layout is exactly what :func:`_write_container` makes.

    Every byte outside the members' data is compared with the canonical form (headers, padding,
    the end-of-archive blocks), and the members' data is either fixed (the marker) or
    authenticated by age; so any change to the file is detected.
    """
    try:
        size = path.stat().st_size
        fh = open(path, "rb")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        raise BackupError(f"The backup file {path} does not exist.") from None
    except OSError:
        raise BackupError(f"The backup file {path} cannot be read.") from None
    with fh:
        head = fh.read(_BLOCK)
        if len(head) < _BLOCK or head[:100].rstrip(b"\0") != MARKER_NAME.encode():
            raise BackupCorrupt(f"{path.name} is not a NAP Desktop backup (or its beginning is damaged); nothing was restored.")
        fh.seek(0)
        try:
            tar = tarfile.open(fileobj=fh, mode="r:", format=_TAR_FORMAT)
            infos = tar.getmembers()
        except (tarfile.TarError, EOFError, ValueError):
            raise _corrupt("unreadable structure") from None
        names = [i.name for i in infos]
        if names not in ([MARKER_NAME, PAYLOAD_NAME], [MARKER_NAME, PASSKEY_NAME, PAYLOAD_NAME]):
            raise _corrupt("unexpected contents")
        expected_end = 0
        for info in infos:
            if not info.isreg() or info.offset != expected_end:
                raise _corrupt("unexpected layout")
            canonical = _tarinfo(info.name, info.size, datetime.fromtimestamp(info.mtime, UTC)).tobuf(
                _TAR_FORMAT, tarfile.ENCODING, "surrogateescape"
            )
            fh.seek(info.offset)
            if fh.read(_BLOCK) != canonical:
                raise _corrupt("altered header")
            data_end = info.offset_data + info.size
            padded = -(-data_end // _BLOCK) * _BLOCK
            if data_end > size:
                raise _corrupt("cut off")
            fh.seek(data_end)
            if fh.read(padded - data_end).strip(b"\0"):
                raise _corrupt("altered padding")
            expected_end = padded
        archive_end = expected_end + 2 * _BLOCK
        record = tarfile.RECORDSIZE
        file_end = -(-archive_end // record) * record
        if size != file_end:
            raise _corrupt("cut off" if size < file_end else "extra data at the end")
        fh.seek(expected_end)
        if fh.read(file_end - expected_end).strip(b"\0"):
            raise _corrupt("altered end")
        members = {i.name: _Member(i.name, i.offset_data, i.size) for i in infos}
        marker = members[MARKER_NAME]
        fh.seek(marker.offset)
        if fh.read(marker.size) != MARKER_TEXT:
            raise BackupCorrupt(
                f"{path.name} is not a backup this version of NAP Desktop can read (or it is damaged); nothing was restored."
            )
        if PASSKEY_NAME in members and members[PASSKEY_NAME].size > _MAX_SMALL:
            raise _corrupt("oversized key slot")
    return members


def inspect_backup(path: Path) -> BackupInfo:
    """Checks a backup file's structure (no key needed) and tells whether a passphrase opens it.

    Raises:
        BackupError, BackupCorrupt.
    """
    path = Path(path)
    members = _read_container(path)
    return BackupInfo(path=path, size=path.stat().st_size, passphrase=PASSKEY_NAME in members)


class _Slice(io.RawIOBase):
    """A read-only window on a file: the age payload inside the container."""

    def __init__(self, fh: IO[bytes], offset: int, size: int) -> None:
        super().__init__()
        self._fh, self._left = fh, size
        fh.seek(offset)

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        n = min(len(buf), self._left)
        if n <= 0:
            return 0
        data = self._fh.read(n)
        buf[: len(data)] = data
        self._left -= len(data)
        return len(data)


# --- restore --------------------------------------------------------------------------------------------


def restore_backup(
    file: Path,
    into: Path,
    *,
    identity: str | None = None,
    passphrase: str | None = None,
    username: str | None = None,
    password: str | None = None,
) -> RestoreResult:
    """Restores a backup into a new folder (see :func:`iter_restore`)."""
    return drive(iter_restore(file, into, identity=identity, passphrase=passphrase, username=username, password=password))


def iter_restore(
    file: Path,
    into: Path,
    *,
    identity: str | None = None,
    passphrase: str | None = None,
    username: str | None = None,
    password: str | None = None,
) -> Generator[Progress, None, RestoreResult]:
    """Checks a backup completely, then restores it into ``into``, a new or empty folder.

    Open it either with HQ's recovery ``identity`` (``AGE-SECRET-KEY-1…``; the data key then
    comes from the recovery escrow), or with the backup ``passphrase`` together with the
    ``username`` and ``password`` of one of its accounts.

    Everything is decrypted into a hidden staging folder beside ``into`` and checked (container
    layout, age authentication, manifest hashes, ``workspace.json`` MAC, store page HMACs and
    integrity, schema, audit chain) before the staging folder is renamed to ``into``. On any
    failure the staging folder is removed: nothing is restored and ``into`` is as it was.

    Raises:
        BackupError (target not empty, no way to open it), BackupCorrupt, BackupKeyMismatch,
        SchemaTooNew, StorageFull.
    """
    file, into = Path(file), Path(into).expanduser().absolute()
    if into.exists() and (not into.is_dir() or any(into.iterdir())):
        raise WorkspaceExists(
            f"The folder {into} is not empty. A backup is restored only into a new or empty folder; "
            "nothing was changed."
        )
    if identity is None and passphrase is None:
        raise BackupError("Give HQ's recovery key file, or the backup's passphrase, to open the backup.")
    if identity is None and not (username and password):
        raise BackupError("With the backup passphrase, also give the user name and password of one of its accounts.")
    total = 5
    yield Progress(0, total, "Checking the backup file")
    members = _read_container(file)
    if identity is None and PASSKEY_NAME not in members:
        raise BackupKeyMismatch("This backup has no passphrase: it opens only with HQ's recovery key file.")
    parent = into.parent
    if not parent.is_dir():
        raise BackupError(f"The folder {parent} does not exist; create it first or choose another place.")
    staging = Path(tempfile.mkdtemp(prefix=".nap-restore-", dir=parent))
    try:
        yield Progress(1, total, "Decrypting")
        inner = staging / "payload.tar"
        _decrypt_payload(file, members, inner, identity=identity, passphrase=passphrase)
        yield Progress(2, total, "Checking the contents")
        ws_dir = staging / "workspace"
        ws_dir.mkdir()
        manifest = _unpack_inner(inner, ws_dir)
        inner.unlink()
        yield Progress(3, total, "Checking the data store and the audit chain")
        wf = keyfile.load(ws_dir / config.WORKSPACE_FILE)
        if wf.workspace_id != manifest["workspace_id"]:
            raise _corrupt("the manifest names another workspace")
        if identity is not None:
            try:
                dek = keyfile.recover_dek(wf, identity)
            except (RecoveryError, CryptoError):
                raise BackupKeyMismatch(
                    "The workspace in this backup has no recovery escrow for this key; restore it with the "
                    "backup passphrase and an account's password instead."
                ) from None
        else:
            assert username is not None and password is not None
            try:
                dek = keyfile.unwrap_dek(wf, username, password)
            except WrongPassword:
                raise BackupKeyMismatch(
                    "The user name or password does not open the workspace in this backup (use a password "
                    "that was valid when the backup was made). Nothing was restored."
                ) from None
        try:
            wf.verify(dek)
            check_store(ws_dir / config.STORE_FILE, dek)
            facts = _store_facts(ws_dir / config.STORE_FILE, dek, wf.workspace_id)
        except (DBAPIError, WorkspaceCorrupt):
            raise _corrupt("the data store or its key file does not verify") from None
        finally:
            crypto.wipe(dek)
        if facts["schema"] != manifest["schema"] or facts["audit"] != manifest["audit"]:
            raise _corrupt("the store differs from the manifest")
        warnings: list[str] = []
        if not facts["audit"]["ok"]:
            warnings.append(
                f"The audit chain did not verify when the backup was made (entry {facts['audit']['first_bad_seq']}); "
                "it was restored as it was, for investigation."
            )
        for name in (config.STORE_FILE + "-wal", config.STORE_FILE + "-shm"):
            (ws_dir / name).unlink(missing_ok=True)
        for sub in config.SUBDIRS:
            (ws_dir / sub).mkdir(exist_ok=True)
        try:
            os.chmod(ws_dir, 0o700)
        except OSError:  # NOTE: Windows: the user-profile ACL protects the folder
            pass
        yield Progress(4, total, "Placing the restored workspace")
        _place(ws_dir, into)
    except OSError as exc:
        if getattr(exc, "errno", None) in (errno.ENOSPC, errno.EDQUOT):
            raise StorageFull("The disk is full: nothing was restored. Free some space and try again.") from None
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    logger.info("backup restored (schema %s, %d audit entries)", facts["schema"], facts["audit"]["entries"])
    yield Progress(total, total, "Done")
    return RestoreResult(
        path=into,
        workspace_id=wf.workspace_id,
        site_kind=wf.site_kind,
        unit=wf.unit,
        schema=facts["schema"],
        backup_created_at=str(manifest.get("created_at", "")),
        audit_entries=int(facts["audit"]["entries"]),
        usernames=tuple(sorted(wf.users)),
        warnings=tuple(warnings),
    )


def _decrypt_payload(
    file: Path, members: dict[str, _Member], out: Path, *, identity: str | None, passphrase: str | None
) -> None:
    if identity is not None:
        try:
            ident = pyrage.x25519.Identity.from_str(identity.strip())
        except (pyrage.IdentityError, ValueError):
            raise BackupKeyMismatch("The recovery key file holds no valid age identity (AGE-SECRET-KEY-1…).") from None
        no_match = (
            "HQ's recovery key does not open this backup: it was made for another recovery key "
            "(or only with a passphrase), or its key header is damaged. Nothing was restored."
        )
    else:
        assert passphrase is not None
        slot = members[PASSKEY_NAME]
        with open(file, "rb") as fh:
            fh.seek(slot.offset)
            sealed_identity = fh.read(slot.size)
        try:
            text = crypto.passphrase_decrypt(sealed_identity, passphrase).decode("ascii").strip()
            ident = pyrage.x25519.Identity.from_str(text)
        except CryptoError:
            raise BackupKeyMismatch("Wrong backup passphrase (or the backup file is damaged). Nothing was restored.") from None
        except (pyrage.IdentityError, ValueError, UnicodeDecodeError):
            raise _corrupt("damaged key slot") from None
        no_match = "The passphrase key does not open this backup: its key header is damaged. Nothing was restored."
    payload = members[PAYLOAD_NAME]
    with open(file, "rb") as fh, open(out, "wb") as dst:
        src = io.BufferedReader(_Slice(fh, payload.offset, payload.size), _CHUNK)
        try:
            pyrage.decrypt_io(src, dst, [ident])
        except pyrage.DecryptError as exc:
            if "No matching keys" in str(exc):
                raise BackupKeyMismatch(no_match) from None
            raise _corrupt("the encrypted data does not authenticate") from None
        except OSError as exc:
            if getattr(exc, "errno", None) is not None:
                raise
            raise _corrupt("the encrypted data does not authenticate") from None


def _unpack_inner(inner: Path, ws_dir: Path) -> dict[str, Any]:
    """Reads the decrypted inner tar: manifest first, then exactly the members it lists."""
    try:
        with tarfile.open(inner, mode="r:", format=_TAR_FORMAT) as tar:
            first = tar.next()
            if first is None or first.name != MANIFEST_NAME or not first.isreg() or first.size > _MAX_SMALL:
                raise _corrupt("no manifest")
            fh = tar.extractfile(first)
            assert fh is not None
            manifest = _check_manifest(fh.read())
            expected = manifest["members"]
            seen: set[str] = set()
            while (info := tar.next()) is not None:
                if info.name not in expected or info.name in seen or not info.isreg():
                    raise _corrupt("unexpected member")
                if info.size != expected[info.name]["size"]:
                    raise _corrupt("member size differs from the manifest")
                src = tar.extractfile(info)
                assert src is not None
                h = hashlib.sha256()
                with open(ws_dir / info.name, "wb") as dst:
                    for chunk in iter(lambda: src.read(_CHUNK), b""):  # noqa: B023 - consumed here
                        h.update(chunk)
                        dst.write(chunk)
                if h.hexdigest() != expected[info.name]["sha256"]:
                    raise _corrupt("member hash differs from the manifest")
                seen.add(info.name)
    except (tarfile.TarError, EOFError):
        raise _corrupt("unreadable contents") from None
    if seen != set(expected):
        raise _corrupt("a member is missing")
    return manifest


def _check_manifest(raw: bytes) -> dict[str, Any]:
    try:
        m = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _corrupt("unreadable manifest") from None
    if not isinstance(m, dict) or m.get("format") != PAYLOAD_FORMAT:
        raise BackupCorrupt("This backup was made by a version of NAP Desktop this one cannot read; nothing was restored.")
    members = m.get("members")
    if not isinstance(members, dict) or not set(REQUIRED) <= set(members) or not set(members) <= set(MEMBERS):
        raise _corrupt("manifest lists unexpected members")
    for entry in members.values():
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("size"), int)
            and isinstance(entry.get("sha256"), str)
            and len(entry["sha256"]) == 64
        ):
            raise _corrupt("malformed manifest")
    if not isinstance(m.get("workspace_id"), str) or not isinstance(m.get("schema"), str) or not isinstance(m.get("audit"), dict):
        raise _corrupt("malformed manifest")
    return m


def _place(ws_dir: Path, into: Path) -> None:
    """Moves the checked workspace to ``into`` (a rename on the same disk)."""
    if into.exists():
        # NOTE: Windows cannot rename onto an existing folder; it was checked empty above.
        try:
            into.rmdir()
        except OSError:
            raise WorkspaceExists(f"The folder {into} is no longer empty; nothing was restored.") from None
    os.replace(ws_dir, into)
