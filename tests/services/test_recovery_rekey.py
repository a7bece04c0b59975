# SPDX-License-Identifier: GPL-3.0-or-later
"""Recovery escrow (with the real ``age`` program), recovery after a lost password, the HQ
recovery identity file, key rotation (rekey) including interrupted rotations, password change."""

from __future__ import annotations

import base64
import json
import pathlib
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from nap_desktop.data.db import check_store
from nap_desktop.data.models import AuditEntry
from nap_desktop.errors import RecoveryError, WeakPassword, WorkspaceCorrupt, WrongPassword
from nap_desktop.security import crypto, keyfile
from nap_desktop.services import audit_log, users
from nap_desktop.services import workspace as wsvc
from tests.conftest import ADMIN, ADMIN_PW, FAST_KDF, PASSWORDS, require_program

OFFICER = "off.torkham"
NEW_PW = "Fresh-Secret-77#"
HQ_PASSPHRASE = "Vault-Under-The-Stairs-2026"


def _wf(path: Path) -> keyfile.WorkspaceFile:
    return keyfile.load(path / "workspace.json")


def _dek(path: Path, user: str = ADMIN, password: str = ADMIN_PW) -> bytearray:
    return keyfile.unwrap_dek(_wf(path), user, password)


def _actions(ws: wsvc.Workspace) -> list[tuple[str, str]]:
    with ws.sf() as s:
        return [(e.action, e.object_id) for e in s.scalars(select(AuditEntry).order_by(AuditEntry.seq))]


def _add_officer(path: Path) -> None:
    with wsvc.unlocked(path, ADMIN, ADMIN_PW) as ws:
        users.add_user(ws, username=OFFICER, full_name="Post Officer", role="officer", unit="P-TORKHAM", password=PASSWORDS["officer"])


@pytest.fixture
def recoverable(make_workspace: Callable[..., Path], tmp_path: Path) -> tuple[Path, crypto.AgeKeypair]:
    pair = crypto.generate_age_keypair()
    path = make_workspace(recovery_recipient=pair.recipient)
    _add_officer(path)
    return path, pair


def _age_decrypt_escrow(path: Path, identity: str, tmp_path: Path) -> dict[str, str]:
    """Opens the escrow of workspace.json with the real ``age`` program."""
    age = require_program("age")
    ident_file = tmp_path / "identity.txt"
    ident_file.write_text(f"# HQ recovery identity (test)\n{identity}\n", "ascii")
    ident_file.chmod(0o600)
    escrow_file = tmp_path / "escrow.age"
    escrow_file.write_bytes(base64.b64decode(json.loads((path / "workspace.json").read_text("utf-8"))["recovery"]["escrow"]))
    done = subprocess.run([age, "-d", "-i", str(ident_file), str(escrow_file)], capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return json.loads(done.stdout)


# --- escrow and the real age program -------------------------------------------------------------


def test_escrow_opens_with_the_real_age_program(recoverable: tuple[Path, crypto.AgeKeypair], tmp_path: Path) -> None:
    path, pair = recoverable
    escrow = _age_decrypt_escrow(path, pair.identity, tmp_path)
    assert escrow["format"] == "nap-escrow/1"
    assert escrow["workspace_id"] == _wf(path).workspace_id
    assert bytes.fromhex(escrow["dek"]) == bytes(_dek(path))
    assert bytes.fromhex(escrow["dek"]) == bytes(_dek(path, OFFICER, PASSWORDS["officer"]))


def test_escrow_does_not_open_with_another_identity(recoverable: tuple[Path, crypto.AgeKeypair], tmp_path: Path) -> None:
    path, _ = recoverable
    age = require_program("age")
    ident_file = tmp_path / "other.txt"
    ident_file.write_text(crypto.generate_age_keypair().identity + "\n", "ascii")
    escrow_file = tmp_path / "escrow.age"
    escrow_file.write_bytes(base64.b64decode(json.loads((path / "workspace.json").read_text("utf-8"))["recovery"]["escrow"]))
    done = subprocess.run([age, "-d", "-i", str(ident_file), str(escrow_file)], capture_output=True, timeout=60, check=False)
    assert done.returncode != 0 and done.stdout == b""


def test_recover_after_the_password_is_lost(recoverable: tuple[Path, crypto.AgeKeypair]) -> None:
    path, pair = recoverable
    data_key = _dek(path)
    ws = wsvc.recover(path, pair.identity, ADMIN, NEW_PW)
    try:
        assert ws.user.username == ADMIN and ws.user.role == "admin"
        assert ws.dek == data_key  # recovery regains the same key: no data is lost
        assert {u.username for u in users.list_users(ws)} == {ADMIN, OFFICER}
        assert ("auth.recovered", ADMIN) in _actions(ws)
        assert audit_log.verify_audit(ws).ok
    finally:
        ws.lock()
    with pytest.raises(WrongPassword):
        wsvc.open_workspace(path, ADMIN, ADMIN_PW)  # the lost password is replaced
    with wsvc.unlocked(path, ADMIN, NEW_PW) as ws:
        assert ws.user.username == ADMIN
    with wsvc.unlocked(path, OFFICER, PASSWORDS["officer"]) as ws:  # other users keep theirs
        assert ws.user.username == OFFICER


def test_recover_refuses_bad_input_and_changes_nothing(recoverable: tuple[Path, crypto.AgeKeypair]) -> None:
    path, pair = recoverable
    before = (path / "workspace.json").read_bytes()
    with pytest.raises(RecoveryError, match="does not belong"):
        wsvc.recover(path, crypto.generate_age_keypair().identity, ADMIN, NEW_PW)
    with pytest.raises(RecoveryError, match="not a valid age secret key"):
        wsvc.recover(path, "AGE-SECRET-KEY-1GARBAGE", ADMIN, NEW_PW)
    with pytest.raises(RecoveryError, match="no active account"):
        wsvc.recover(path, pair.identity, "no.such", NEW_PW)
    with pytest.raises(WeakPassword):
        wsvc.recover(path, pair.identity, ADMIN, "weak")
    assert (path / "workspace.json").read_bytes() == before
    with wsvc.unlocked(path, ADMIN, ADMIN_PW) as ws:
        users.disable_user(ws, OFFICER)
    with pytest.raises(RecoveryError, match="no active account"):
        wsvc.recover(path, pair.identity, OFFICER, NEW_PW)


def test_hq_workspace_writes_a_passphrase_protected_identity_that_recovers(
    make_workspace: Callable[..., Path], tmp_path: Path
) -> None:
    ident_file = tmp_path / "hq-recovery.age"
    path = make_workspace(site_kind="hq", unit="HQ", recovery_identity_out=ident_file, recovery_passphrase=HQ_PASSPHRASE)
    raw = ident_file.read_bytes()
    assert raw.startswith(b"age-encryption.org/")
    assert b"AGE-SECRET-KEY" not in raw
    assert (ident_file.stat().st_mode & 0o777) == 0o600
    identity = wsvc.read_recovery_identity(ident_file, HQ_PASSPHRASE)
    assert identity.startswith("AGE-SECRET-KEY-1")
    assert _wf(path).recovery is not None
    with pytest.raises(RecoveryError, match="Wrong passphrase"):
        wsvc.read_recovery_identity(ident_file, "Not-The-Passphrase-1")
    with pytest.raises(RecoveryError, match="passphrase"):
        wsvc.read_recovery_identity(ident_file, None)
    escrow = _age_decrypt_escrow(path, identity, tmp_path)
    assert bytes.fromhex(escrow["dek"]) == bytes(_dek(path))
    with wsvc.recover(path, identity, ADMIN, NEW_PW) as ws:
        assert ws.user.unit_code == "HQ"
    with wsvc.unlocked(path, ADMIN, NEW_PW) as ws:
        assert ws.wf.site_kind == "hq"


def test_hq_workspace_needs_a_new_identity_file_and_a_passphrase(tmp_path: Path) -> None:
    args = dict(site_kind="hq", unit="HQ", admin=ADMIN, admin_password=ADMIN_PW, kdf=FAST_KDF)
    with pytest.raises(RecoveryError, match="passphrase"):
        wsvc.init_workspace(tmp_path / "a", recovery_identity_out=tmp_path / "id.age", **args)  # type: ignore[arg-type]
    existing = tmp_path / "existing.age"
    existing.write_bytes(b"keep me")
    with pytest.raises(RecoveryError, match="already exists"):
        wsvc.init_workspace(tmp_path / "b", recovery_identity_out=existing, recovery_passphrase=HQ_PASSPHRASE, **args)  # type: ignore[arg-type]
    assert existing.read_bytes() == b"keep me"
    with pytest.raises(WeakPassword):
        wsvc.init_workspace(tmp_path / "c", recovery_identity_out=tmp_path / "id.age", recovery_passphrase="short", **args)  # type: ignore[arg-type]
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists() and not (tmp_path / "c").exists()
    assert not (tmp_path / "id.age").exists()


def test_plain_identity_file_is_read_too(tmp_path: Path) -> None:
    pair = crypto.generate_age_keypair()
    f = tmp_path / "plain.txt"
    f.write_text(f"# created: today\n# public key: {pair.recipient}\n{pair.identity}\n", "ascii")
    assert wsvc.read_recovery_identity(f, None) == pair.identity
    f.write_text("no key here\n", "ascii")
    with pytest.raises(RecoveryError, match="no age recovery identity"):
        wsvc.read_recovery_identity(f, None)
    with pytest.raises(RecoveryError, match="Cannot read"):
        wsvc.read_recovery_identity(tmp_path / "missing.txt", None)


def test_workspace_without_recipient_warns_and_cannot_recover_until_one_is_set(tmp_path: Path) -> None:
    path = tmp_path / "norec"
    result = wsvc.init_workspace(path, site_kind="post", unit="P-TORKHAM", admin=ADMIN, admin_password=ADMIN_PW, kdf=FAST_KDF)
    assert result.recovery_recipient is None and result.recovery_identity_file is None
    assert len(result.warnings) == 1 and "No recovery key" in result.warnings[0]
    pair = crypto.generate_age_keypair()
    with pytest.raises(RecoveryError, match="no recovery key"):
        wsvc.recover(path, pair.identity, ADMIN, NEW_PW)
    with wsvc.unlocked(path, ADMIN, ADMIN_PW) as ws:
        assert wsvc.workspace_info(ws).recovery_set is False
        wsvc.set_recovery(ws, pair.recipient)
        assert wsvc.workspace_info(ws).recovery_set is True
        assert ("recovery.set", ws.workspace_id) in _actions(ws)
    with wsvc.recover(path, pair.identity, ADMIN, NEW_PW) as ws:
        assert ws.user.username == ADMIN
    with wsvc.unlocked(path, ADMIN, NEW_PW):
        pass


def test_set_recovery_refuses_a_non_age_recipient(admin_ws: wsvc.Workspace, workspace: Path) -> None:
    before = (workspace / "workspace.json").read_bytes()
    with pytest.raises(RecoveryError, match="age1"):
        wsvc.set_recovery(admin_ws, "ssh-rsa AAAAB3Nza")
    assert (workspace / "workspace.json").read_bytes() == before


# --- rekey ---------------------------------------------------------------------------------------


def test_rekey_rotates_the_key_and_everyone_keeps_their_password(
    recoverable: tuple[Path, crypto.AgeKeypair], tmp_path: Path
) -> None:
    path, pair = recoverable
    old = bytes(_dek(path))
    with wsvc.unlocked(path, ADMIN, ADMIN_PW) as ws:
        wsvc.rekey(ws)
        assert bytes(ws.dek) != old
        # The live workspace goes on working with the new key.
        assert {u.username for u in users.list_users(ws)} == {ADMIN, OFFICER}
        assert ("workspace.rekeyed", ws.workspace_id) in _actions(ws)
    new = bytes(_dek(path))
    assert new != old
    assert bytes(_dek(path, OFFICER, PASSWORDS["officer"])) == new
    assert not (path / "workspace.json.rekey").exists()
    with pytest.raises(WorkspaceCorrupt):
        check_store(path / "store.db", old)  # the old key no longer opens the store
    check_store(path / "store.db", new)
    assert bytes.fromhex(_age_decrypt_escrow(path, pair.identity, tmp_path)["dek"]) == new
    for user, pw in ((ADMIN, ADMIN_PW), (OFFICER, PASSWORDS["officer"])):
        with wsvc.unlocked(path, user, pw) as ws:
            assert ws.user.username == user
    with wsvc.unlocked(path, ADMIN, ADMIN_PW) as ws:
        assert {u.username for u in users.list_users(ws)} == {ADMIN, OFFICER}
        assert audit_log.verify_audit(ws).ok
    with wsvc.recover(path, pair.identity, OFFICER, NEW_PW) as ws:
        assert bytes(ws.dek) == new


def _crash_before_replace(monkeypatch: pytest.MonkeyPatch) -> None:
    """Makes the final step of rekey (staged file → workspace.json) fail as a crash would."""
    real = pathlib.Path.replace

    def replace(self: pathlib.Path, target: object) -> pathlib.Path:
        if self.name == "workspace.json.rekey":
            raise OSError("simulated crash before the staged file replaced workspace.json")
        return real(self, target)  # type: ignore[arg-type]

    monkeypatch.setattr(pathlib.Path, "replace", replace)


def test_rekey_interrupted_after_the_store_was_rekeyed_completes_at_next_unlock(
    recoverable: tuple[Path, crypto.AgeKeypair], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _ = recoverable
    old = bytes(_dek(path))
    ws = wsvc.open_workspace(path, ADMIN, ADMIN_PW)
    with monkeypatch.context() as m:
        _crash_before_replace(m)
        with pytest.raises(OSError, match="simulated crash"):
            wsvc.rekey(ws)
    ws.lock()  # the process "dies": its lock goes away
    assert (path / "workspace.json.rekey").exists()
    with pytest.raises(WorkspaceCorrupt):
        check_store(path / "store.db", old)  # the store already has the new key

    with wsvc.unlocked(path, OFFICER, PASSWORDS["officer"]) as ws:
        assert ws.user.username == OFFICER
    assert not (path / "workspace.json.rekey").exists()
    new = bytes(_dek(path))
    assert new != old
    check_store(path / "store.db", new)
    with wsvc.unlocked(path, ADMIN, ADMIN_PW) as ws:
        assert audit_log.verify_audit(ws).ok
        assert ("workspace.rekeyed", ws.workspace_id) in _actions(ws)


def test_rekey_interrupted_after_the_store_was_rekeyed_can_be_recovered(
    recoverable: tuple[Path, crypto.AgeKeypair], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, pair = recoverable
    ws = wsvc.open_workspace(path, ADMIN, ADMIN_PW)
    with monkeypatch.context() as m:
        _crash_before_replace(m)
        with pytest.raises(OSError):
            wsvc.rekey(ws)
    ws.lock()
    with wsvc.recover(path, pair.identity, ADMIN, NEW_PW) as ws:
        assert {u.username for u in users.list_users(ws)} == {ADMIN, OFFICER}
    assert not (path / "workspace.json.rekey").exists()
    with wsvc.unlocked(path, OFFICER, PASSWORDS["officer"]):
        pass


def test_rekey_interrupted_before_the_store_was_rekeyed_is_discarded(recoverable: tuple[Path, crypto.AgeKeypair]) -> None:
    """Crash right after the staged file was written: the store still has the old key."""
    path, _ = recoverable
    old = _dek(path)
    wf = _wf(path)
    new = crypto.random_key()
    staged = keyfile.rewrap_all(wf, new).signed(new)
    crypto.atomic_write(path / "workspace.json.rekey", staged.to_bytes())
    before = (path / "workspace.json").read_bytes()

    with wsvc.unlocked(path, ADMIN, ADMIN_PW) as ws:
        assert ws.dek == old
        assert {u.username for u in users.list_users(ws)} == {ADMIN, OFFICER}
    assert not (path / "workspace.json.rekey").exists()
    assert (path / "workspace.json").read_bytes() == before
    check_store(path / "store.db", old)
    with wsvc.unlocked(path, OFFICER, PASSWORDS["officer"]):
        pass


def test_a_forged_staged_file_cannot_replace_the_key_file(recoverable: tuple[Path, crypto.AgeKeypair]) -> None:
    """A staged file that does not fit the store is discarded, never promoted."""
    path, _ = recoverable
    wf = _wf(path)
    stranger = crypto.random_key()
    forged = keyfile.rewrap_all(wf, stranger).signed(stranger)
    crypto.atomic_write(path / "workspace.json.rekey", forged.to_bytes())
    before = (path / "workspace.json").read_bytes()
    with wsvc.unlocked(path, ADMIN, ADMIN_PW):
        pass
    assert (path / "workspace.json").read_bytes() == before
    assert not (path / "workspace.json.rekey").exists()


# --- password change -----------------------------------------------------------------------------


def test_password_change_rewraps_only(recoverable: tuple[Path, crypto.AgeKeypair]) -> None:
    path, _ = recoverable
    old_key = bytes(_dek(path))
    old_wrap = _wf(path).users[ADMIN]
    officer_wrap = _wf(path).users[OFFICER]
    with wsvc.unlocked(path, ADMIN, ADMIN_PW) as ws:
        wsvc.change_password(ws, ADMIN_PW, NEW_PW)
        assert ("user.password_changed", ADMIN) in _actions(ws)
    with pytest.raises(WrongPassword):
        wsvc.open_workspace(path, ADMIN, ADMIN_PW)
    with wsvc.unlocked(path, ADMIN, NEW_PW) as ws:
        assert ws.dek == old_key  # the store was not rekeyed
    assert bytes(_dek(path, ADMIN, NEW_PW)) == old_key
    check_store(path / "store.db", old_key)
    with wsvc.unlocked(path, OFFICER, PASSWORDS["officer"]) as ws:  # other users are not affected
        assert ws.user.username == OFFICER
    new_wrap = _wf(path).users[ADMIN]
    # Only the seal of the admin's identity changed: same age identity, new salt; others untouched.
    assert new_wrap.recipient == old_wrap.recipient
    assert new_wrap.salt != old_wrap.salt and new_wrap.identity_sealed != old_wrap.identity_sealed
    assert _wf(path).users[OFFICER] == officer_wrap


def test_password_change_refuses_wrong_old_weak_or_same_new(admin_ws: wsvc.Workspace, workspace: Path) -> None:
    before = (workspace / "workspace.json").read_bytes()
    with pytest.raises(WrongPassword):
        wsvc.change_password(admin_ws, "Not-The-Password-1!", NEW_PW)
    with pytest.raises(WeakPassword):
        wsvc.change_password(admin_ws, ADMIN_PW, "weak")
    with pytest.raises(WeakPassword, match="differ"):
        wsvc.change_password(admin_ws, ADMIN_PW, ADMIN_PW)
    assert (workspace / "workspace.json").read_bytes() == before
    admin_ws.lock()
    with wsvc.unlocked(workspace, ADMIN, ADMIN_PW):
        pass
