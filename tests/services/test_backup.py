# SPDX-License-Identifier: GPL-3.0-or-later
"""Backup and restore (issue 8): what a circle head sees when backing up a laptop and restoring it.

- A round trip gives the same records and the same audit chain, in a new folder that opens with
  the same passwords.
- A tampered (any flipped bit) or truncated backup is refused with a typed error and restores
  nothing: no folder, no staging left-overs.
- A non-empty target folder, a wrong passphrase, a wrong password or a foreign recovery key are
  refused the same way.
- No personal data is readable in the backup file; the standard ``age`` program opens a
  passphrase-less backup with HQ's recovery identity.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyrage
import pytest
from sqlalchemy import select

from nap_desktop.data.models import Meta
from nap_desktop.errors import (
    BackupCorrupt,
    BackupError,
    BackupKeyMismatch,
    PermissionDenied,
    WeakPassword,
    WorkspaceExists,
)
from nap_desktop.security.crypto import AgeKeypair, generate_age_keypair
from nap_desktop.services import backup as B
from nap_desktop.services import records as R
from nap_desktop.services.context import Workspace
from nap_desktop.services.users import add_user
from nap_desktop.services.workspace import open_workspace, workspace_info
from tests.conftest import ADMIN, ADMIN_PW, PASSWORDS, require_program
from tests.services.records_factories import audit_count, audit_rows, create, pin_today

PASSPHRASE = "Backup-Passphrase-2026!"
CANARY = "QZ9CANARY"


@pytest.fixture
def hq_key() -> AgeKeypair:
    """HQ's recovery keypair (the identity stays at HQ, offline)."""
    return generate_age_keypair()


@pytest.fixture
def ws(make_workspace: Callable[..., Path], hq_key: AgeKeypair, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    """A circle workspace with HQ's recovery key and a few records of several types."""
    pin_today(monkeypatch)
    path = make_workspace(recovery_recipient=hq_key.recipient)
    w = open_workspace(path, ADMIN, ADMIN_PW)
    add_user(w, username="head.psh", full_name="Circle Head", role="circle_head", unit="C-PSH", password=PASSWORDS["head"])
    w.lock()
    w = open_workspace(path, "head.psh", PASSWORDS["head"])
    for t in ("screening", "suspect", "awareness_session", "checkpoint_log"):
        create(w, t)
    create(w, "person", values={"given_name": f"{CANARY}-given", "family_name": f"{CANARY}-family", "cnic": "71234-7654321-9"})
    yield w
    w.lock()


def _all_records(w: Workspace) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    for t in ("person", "screening", "suspect", "awareness_session", "checkpoint_log"):
        for row in R.list_records(w, t, R.RecordFilter(), limit=1000).rows:
            out[row.id] = dict(R.get_record(w, row.id).values)
    return out


def _nothing_restored(into: Path) -> None:
    assert not into.exists()
    assert [p.name for p in into.parent.iterdir() if p.name.startswith(".nap-restore-")] == []


# --- round trip ------------------------------------------------------------------------------------


def test_round_trip_with_the_recovery_key_gives_the_same_records_and_audit_chain(
    ws: Workspace, hq_key: AgeKeypair, tmp_path: Path
) -> None:
    records_before = _all_records(ws)
    chain_before = audit_rows(ws)  # the backup's snapshot is taken before it audits itself
    result = B.make_backup(ws)
    assert result.path.parent == ws.path / "backups" and result.path.suffix == ".napbak"
    assert result.recovery and not result.passphrase and result.audit_entries == len(chain_before)
    assert sorted(p.name for p in (ws.path / "backups").iterdir()) == [result.path.name]  # no staging left
    ws.lock()

    restored = B.restore_backup(result.path, tmp_path / "laptop2", identity=hq_key.identity)
    assert restored.path == tmp_path / "laptop2" and restored.unit == "C-PSH"
    assert restored.usernames == (ADMIN, "head.psh") and restored.audit_entries == len(chain_before)
    assert sorted(p.name for p in restored.path.iterdir()) == sorted(
        ["store.db", "workspace.json", "outbox", "inbox", "exports", "backups", "logs"]
    )
    copy = open_workspace(restored.path, "head.psh", PASSWORDS["head"])
    try:
        chain_after = audit_rows(copy)  # read before the records (reading them is audited)
        assert chain_after[: len(chain_before)] == chain_before
        assert [r[3] for r in chain_after[len(chain_before) :]] == ["auth.unlocked"]  # only this sign-in
        assert _all_records(copy) == records_before
        info = workspace_info(copy)
        assert info.workspace_id == ws.workspace_id and info.last_backup == result.created_at
    finally:
        copy.lock()


def test_round_trip_with_a_passphrase_and_an_account_password(make_workspace: Callable[..., Path], tmp_path: Path) -> None:
    path = make_workspace()  # no HQ recovery key: the passphrase is the only way in
    (tmp_path / "usb").mkdir()
    w = open_workspace(path, ADMIN, ADMIN_PW)
    try:
        chain = audit_rows(w)
        result = B.make_backup(w, out=tmp_path / "usb" / "psh.napbak", passphrase=PASSPHRASE)
    finally:
        w.lock()
    assert result.path == tmp_path / "usb" / "psh.napbak" and result.passphrase and not result.recovery
    assert B.inspect_backup(result.path).passphrase
    restored = B.restore_backup(result.path, tmp_path / "back", passphrase=PASSPHRASE, username=ADMIN, password=ADMIN_PW)
    copy = open_workspace(restored.path, ADMIN, ADMIN_PW)
    try:
        assert audit_rows(copy)[: len(chain)] == chain
    finally:
        copy.lock()


def test_a_backup_with_both_protections_opens_with_either(ws: Workspace, hq_key: AgeKeypair, tmp_path: Path) -> None:
    result = B.make_backup(ws, passphrase=PASSPHRASE)
    ws.lock()
    assert result.recovery and result.passphrase
    B.restore_backup(result.path, tmp_path / "a", identity=hq_key.identity)
    B.restore_backup(result.path, tmp_path / "b", passphrase=PASSPHRASE, username="head.psh", password=PASSWORDS["head"])
    assert (tmp_path / "a" / "store.db").is_file() and (tmp_path / "b" / "store.db").is_file()


def test_restore_into_an_existing_empty_folder_is_allowed(ws: Workspace, hq_key: AgeKeypair, tmp_path: Path) -> None:
    result = B.make_backup(ws)
    ws.lock()
    (tmp_path / "empty").mkdir()
    B.restore_backup(result.path, tmp_path / "empty", identity=hq_key.identity)
    assert (tmp_path / "empty" / "workspace.json").is_file()


# --- last backup, reminder, permission ---------------------------------------------------------------------


def test_the_last_backup_time_is_recorded_audited_and_shown(ws: Workspace) -> None:
    assert workspace_info(ws).last_backup is None
    (ws.path / "backups" / "store-pre-upgrade-0001.db").write_bytes(b"x")  # migration copies do not count
    assert workspace_info(ws).last_backup is None and B.backup_due(None)
    result = B.make_backup(ws)
    info = workspace_info(ws)
    assert info.last_backup == result.created_at
    with ws.sf() as s:
        assert s.scalar(select(Meta.value).where(Meta.key == B.LAST_BACKUP_KEY)) == result.created_at.isoformat(timespec="seconds")
    assert audit_count(ws, "workspace.backup", object_id=ws.workspace_id) == 1
    now = result.created_at
    assert not B.backup_due(info.last_backup, now=now + timedelta(days=B.REMINDER_DAYS))
    assert B.backup_due(info.last_backup, now=now + timedelta(days=B.REMINDER_DAYS, minutes=1))


def test_an_auditor_may_not_back_up(ws: Workspace, tmp_path: Path) -> None:
    path = ws.path
    ws.lock()
    admin = open_workspace(path, ADMIN, ADMIN_PW)
    add_user(admin, username="aud.psh", full_name="Auditor", role="auditor", unit="C-PSH", password=PASSWORDS["auditor"])
    admin.lock()
    aud = open_workspace(path, "aud.psh", PASSWORDS["auditor"])
    try:
        with pytest.raises(PermissionDenied):
            B.make_backup(aud, out=tmp_path / "x.napbak")
        assert audit_count(aud, "permission.denied") == 1
    finally:
        aud.lock()
    assert not (tmp_path / "x.napbak").exists()


def test_without_recovery_key_a_passphrase_is_required(make_workspace: Callable[..., Path]) -> None:
    w = open_workspace(make_workspace(), ADMIN, ADMIN_PW)
    try:
        with pytest.raises(BackupError, match="no HQ recovery key.*passphrase"):
            B.make_backup(w)
        with pytest.raises(WeakPassword):
            B.make_backup(w, passphrase="short")
        assert list((w.path / "backups").iterdir()) == []
        assert B.last_backup(w) is None
    finally:
        w.lock()


def test_what_a_killed_backup_left_is_cleaned_up_by_the_next_one(ws: Workspace) -> None:
    backups = ws.path / "backups"
    (backups / ".backup-k1ll3d").mkdir()
    (backups / ".backup-k1ll3d" / "store.db").write_bytes(b"half a copy")
    (backups / ".nap-backup-C-PSH-20260101T000000Z.napbak.x1y2.tmp").write_bytes(b"half a file")
    result = B.make_backup(ws)
    assert sorted(p.name for p in backups.iterdir()) == [result.path.name]


def test_an_existing_file_is_never_overwritten(ws: Workspace, tmp_path: Path) -> None:
    target = tmp_path / "b.napbak"
    target.write_bytes(b"keep me")
    with pytest.raises(BackupError, match="already exists"):
        B.make_backup(ws, out=target)
    assert target.read_bytes() == b"keep me"
    with pytest.raises(BackupError, match="does not exist"):
        B.make_backup(ws, out=tmp_path / "no-such-folder" / "b.napbak")


# --- refusals: nothing restored ----------------------------------------------------------------------------


@pytest.fixture
def made(ws: Workspace) -> Path:
    """A passphrase-less backup of ``ws`` (recovery key only); the workspace is locked after."""
    result = B.make_backup(ws)
    ws.lock()
    return result.path


def _flip(data: bytes, pos: int) -> bytes:
    return data[:pos] + bytes([data[pos] ^ 0x04]) + data[pos + 1 :]


def test_a_flipped_bit_anywhere_is_refused_and_restores_nothing(made: Path, hq_key: AgeKeypair, tmp_path: Path) -> None:
    data = made.read_bytes()
    tar = tarfile.open(made)
    payload = tar.getmember("payload.age")
    marker = tar.getmember("nap-backup.txt")
    positions = {
        0, 100, 148, 157, 300, 511,  # the first tar header: name, mode, checksum, type, magic
        marker.offset_data + 3,  # the marker text
        payload.offset + 124,  # payload header: size field
        payload.offset_data + 30,  # age header (recipient stanza)
        payload.offset_data + 2000,  # age payload body
        payload.offset_data + payload.size // 2,
        payload.offset_data + payload.size - 1,  # the last byte (the final chunk's tag)
        payload.offset_data + payload.size + 1,  # tar padding after the payload
        len(data) - 1,  # end-of-archive zeros
    }
    for i, pos in enumerate(sorted(positions)):
        bad = tmp_path / f"bad{i}.napbak"
        bad.write_bytes(_flip(data, pos))
        into = tmp_path / f"into{i}"
        with pytest.raises(BackupError) as exc:
            B.restore_backup(bad, into, identity=hq_key.identity)
        assert "nothing was restored" in str(exc.value).lower() or "not a nap desktop backup" in str(exc.value), (pos, exc.value)
        if pos >= payload.offset_data + 2000:  # inside the encrypted body: age's authentication
            assert isinstance(exc.value, BackupCorrupt), (pos, exc.value)
        _nothing_restored(into)


def test_a_truncated_backup_is_refused_and_restores_nothing(made: Path, hq_key: AgeKeypair, tmp_path: Path) -> None:
    data = made.read_bytes()
    for i, keep in enumerate((len(data) - 1, len(data) - 512, len(data) // 2, 700, 100)):
        bad = tmp_path / f"cut{i}.napbak"
        bad.write_bytes(data[:keep])
        into = tmp_path / f"into{i}"
        with pytest.raises(BackupCorrupt):
            B.restore_backup(bad, into, identity=hq_key.identity)
        _nothing_restored(into)


def test_a_restore_into_a_non_empty_folder_is_refused(made: Path, hq_key: AgeKeypair, tmp_path: Path) -> None:
    target = tmp_path / "old-workspace"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    with pytest.raises(WorkspaceExists, match="not empty"):
        B.restore_backup(made, target, identity=hq_key.identity)
    assert [p.name for p in target.iterdir()] == ["notes.txt"]
    file_target = tmp_path / "a-file"
    file_target.write_text("x")
    with pytest.raises(WorkspaceExists):
        B.restore_backup(made, file_target, identity=hq_key.identity)


def test_wrong_passphrase_wrong_password_or_foreign_key_restores_nothing(ws: Workspace, tmp_path: Path) -> None:
    result = B.make_backup(ws, passphrase=PASSPHRASE)
    ws.lock()
    into = tmp_path / "into"
    with pytest.raises(BackupKeyMismatch, match="Wrong backup passphrase"):
        B.restore_backup(result.path, into, passphrase="Not-The-Passphrase-1!", username="head.psh", password=PASSWORDS["head"])
    _nothing_restored(into)
    with pytest.raises(BackupKeyMismatch, match="user name or password"):
        B.restore_backup(result.path, into, passphrase=PASSPHRASE, username="head.psh", password="Wrong-Password-99!")
    _nothing_restored(into)
    with pytest.raises(BackupKeyMismatch, match="recovery key does not open"):
        B.restore_backup(result.path, into, identity=generate_age_keypair().identity)
    _nothing_restored(into)


def test_a_passphrase_cannot_open_a_recovery_only_backup(made: Path, tmp_path: Path) -> None:
    assert not B.inspect_backup(made).passphrase
    with pytest.raises(BackupKeyMismatch, match="no passphrase"):
        B.restore_backup(made, tmp_path / "x", passphrase=PASSPHRASE, username="head.psh", password=PASSWORDS["head"])
    _nothing_restored(tmp_path / "x")


def test_a_file_that_is_not_a_backup_is_refused(tmp_path: Path, hq_key: AgeKeypair) -> None:
    other = tmp_path / "photo.napbak"
    other.write_bytes(b"\x89PNG" + b"\0" * 4000)
    with pytest.raises(BackupCorrupt, match="not a NAP Desktop backup"):
        B.restore_backup(other, tmp_path / "x", identity=hq_key.identity)
    with pytest.raises(BackupError, match="does not exist"):
        B.restore_backup(tmp_path / "missing.napbak", tmp_path / "x", identity=hq_key.identity)
    _nothing_restored(tmp_path / "x")


# --- confidentiality and interoperability ----------------------------------------------------------------


def test_no_personal_data_in_clear_in_the_backup_or_its_decrypted_payload(ws: Workspace, hq_key: AgeKeypair) -> None:
    """The canary person's name and CNIC are nowhere in the file, nor in the decrypted payload
    (the store inside stays SQLCipher-encrypted), nor in any file left in the workspace."""
    result = B.make_backup(ws, passphrase=PASSPHRASE)
    ws.lock()
    needles = [CANARY.encode(), b"7654321"]
    data = result.path.read_bytes()
    assert [n for n in needles if n in data] == []
    payload = tarfile.open(result.path).extractfile("payload.age")
    assert payload is not None
    inner = pyrage.decrypt(payload.read(), [pyrage.x25519.Identity.from_str(hq_key.identity)])
    assert [n for n in needles if n in inner] == []
    store = tarfile.open(fileobj=io.BytesIO(inner)).extractfile("store.db")
    assert store is not None and not store.read(16).startswith(b"SQLite format 3")
    for f in ws.path.rglob("*"):
        if f.is_file():
            assert [n for n in needles if n in f.read_bytes()] == [], f


def test_the_age_program_opens_a_passphrase_less_backup_with_the_recovery_identity(
    made: Path, hq_key: AgeKeypair, tmp_path: Path
) -> None:
    age = require_program("age")
    (tmp_path / "hq-recovery.txt").write_text(hq_key.identity + "\n")
    with tarfile.open(made) as tar:
        assert tar.getnames() == ["nap-backup.txt", "payload.age"]
        tar.extract("payload.age", tmp_path, filter="data")
    done = subprocess.run(
        [age, "-d", "-i", str(tmp_path / "hq-recovery.txt"), "-o", str(tmp_path / "payload.tar"), str(tmp_path / "payload.age")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    with tarfile.open(tmp_path / "payload.tar") as inner:
        assert inner.getnames()[:3] == ["manifest.json", "store.db", "workspace.json"]
        manifest = inner.extractfile("manifest.json")
        assert manifest is not None and b'"format": "nap-backup-payload/1"' in manifest.read()


def test_backup_progress_steps_are_reported_in_order(ws: Workspace) -> None:
    gen = B.iter_backup(ws)
    steps = []
    try:
        while True:
            steps.append(next(gen))
    except StopIteration as stop:
        result = stop.value
    assert [p.done for p in steps] == [0, 1, 2, 3, 4, 5] and steps[-1].total == 5
    assert result.path.is_file() and result.created_at <= datetime.now(UTC)
