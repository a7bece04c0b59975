# SPDX-License-Identifier: GPL-3.0-or-later
"""No leaks (issue 2, "Must show"): without the key, ``store.db`` and its WAL are unreadable; a
canary written through the services appears in no file of the workspace, its logs or the temp
directory, in no error message and in no audit entry."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from nap_desktop.errors import UserFacingError, ValidationError
from nap_desktop.security.crypto import generate_age_keypair
from nap_desktop.services import audit_log, units, users
from nap_desktop.services import workspace as wsvc
from tests.conftest import ADMIN, ADMIN_PW, PASSWORDS

CANARY = "CANARY-7f3a9c-Zainab-Bibi"
CANARY_UR = "کینری-زینب-بی-بی-7f3a9c"
OFFICER = "off.canary"
AUDITOR = "aud.psh"


def _forms(text: str) -> list[bytes]:
    return [text.encode("utf-8"), text.encode("utf-16-le")]


def _find_canaries(root: Path) -> list[str]:
    """Every file under ``root`` (hidden ones too) whose bytes hold a canary."""
    hits = []
    needles = _forms(CANARY) + _forms(CANARY_UR) + _forms("Zainab-Bibi")
    for f in sorted(root.rglob("*")):
        if f.is_file() and not f.is_symlink():
            data = f.read_bytes()
            hits += [f"{f.relative_to(root)}: {n!r}" for n in needles if n in data]
    return hits


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temp directory of our own, so that anything written to "the temp directory" is seen."""
    tmp = tmp_path / "tmpdir"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setenv("SQLITE_TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    return tmp


def _assert_store_unreadable_without_key(path: Path) -> None:
    store = path / "store.db"
    head = store.read_bytes()[:16]
    assert head != b"SQLite format 3\x00", "store.db is a plain SQLite file"
    conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="not a database"):
            conn.execute("SELECT name FROM sqlite_master").fetchall()
    finally:
        conn.close()


def test_canary_written_through_the_services_is_in_no_file(
    make_workspace: Callable[..., Path], tmp_path: Path, private_tmp: Path
) -> None:
    path = make_workspace(recovery_recipient=generate_age_keypair().recipient)
    ws = wsvc.open_workspace(path, ADMIN, ADMIN_PW)
    try:
        users.add_user(ws, username=AUDITOR, full_name="Audit Person", role="auditor", unit="C-PSH", password=PASSWORDS["auditor"])
        # Keep a reader open so that the next write stays in the WAL, then look at the WAL too.
        with ws.engine.connect() as reader:
            reader.exec_driver_sql("SELECT count(*) FROM users").scalar()
            users.add_user(ws, username=OFFICER, full_name=CANARY, role="officer", unit="P-TORKHAM", password=PASSWORDS["officer"])
            units.add_unit(
                ws, code="P-CANARY", kind="post", parent="C-PSH", name_en=CANARY, name_ur=CANARY_UR, province="kp", post_type="airport"
            )
            wal = path / "store.db-wal"
            assert wal.exists() and wal.stat().st_size > 0, "the write did not go to the WAL"
            assert _find_canaries(path) == [], "canary in clear while the workspace is open"
        # Errors about the canary's records do not repeat it.
        for bad in (
            lambda: users.add_user(ws, username=OFFICER, full_name=CANARY, role="officer", unit="P-TORKHAM", password=PASSWORDS["officer"]),
            lambda: units.add_unit(ws, code="P-CANARY", kind="post", parent="C-PSH", name_en=CANARY, name_ur=CANARY_UR, province="kp", post_type="airport"),
            lambda: units.add_unit(ws, code="bad code", kind="post", parent="C-PSH", name_en=CANARY, name_ur=CANARY_UR, province="kp", post_type="airport"),
        ):
            with pytest.raises(ValidationError) as exc:
                bad()
            assert CANARY not in str(exc.value) and CANARY_UR not in str(exc.value)
            assert all(CANARY not in v for v in exc.value.fields.values())
        # Several ordinary operations.
        assert CANARY in {u.full_name for u in users.list_users(ws)}
        assert {(u.name_en, u.name_ur) for u in units.list_units(ws) if u.code == "P-CANARY"} == {(CANARY, CANARY_UR)}
        assert wsvc.workspace_info(ws).users == 3
        assert audit_log.verify_audit(ws).ok
        wsvc.upgrade_db(ws)
        wsvc.rekey(ws)
    finally:
        ws.lock()
    with wsvc.unlocked(path, OFFICER, PASSWORDS["officer"]) as ws:
        assert ws.user.full_name == CANARY  # the canary really is in the store
    with pytest.raises(UserFacingError) as exc:
        wsvc.open_workspace(path, OFFICER, "Wrong-Password-11!")
    assert CANARY not in str(exc.value)
    with wsvc.unlocked(path, AUDITOR, PASSWORDS["auditor"]) as ws:
        entries = audit_log.list_audit(ws, limit=10_000)
        assert entries
        for e in entries:
            assert CANARY not in repr(e) and CANARY_UR not in repr(e) and "Zainab" not in repr(e), e
        assert OFFICER in {e.object_id for e in entries}  # the account is named by its id, not its name

    # Locked: grep every byte of the workspace, its logs, its backups and the temp directory.
    assert any((path / "logs").iterdir()), "no log was written: the grep would prove nothing"
    assert _find_canaries(tmp_path) == []
    _assert_store_unreadable_without_key(path)


def _cli(path: Path, env: dict[str, str], *args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nap_desktop", *args, "--workspace", str(path), "--user", ADMIN, "--password-stdin"],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_canary_through_the_cli_is_in_no_file(make_workspace: Callable[..., Path], tmp_path: Path, private_tmp: Path) -> None:
    path = make_workspace()
    env = dict(os.environ)  # TMPDIR/SQLITE_TMPDIR point at private_tmp, XDG dirs into tmp_path
    pw = ADMIN_PW + "\n"
    done = _cli(
        path, env, "user", "add", OFFICER, "--role", "officer", "--full-name", CANARY, "--unit", "P-TORKHAM",
        stdin=pw + PASSWORDS["officer"] + "\n",
    )
    assert done.returncode == 0, done.stderr
    assert CANARY not in done.stdout + done.stderr
    done = _cli(
        path, env, "unit", "add", "P-CANARY", "--kind", "post", "--parent", "C-PSH", "--name-en", CANARY, "--name-ur", CANARY_UR,
        "--province", "kp", "--post-type", "airport", stdin=pw,
    )
    assert done.returncode == 0, done.stderr
    # The same again fails (taken): the error does not repeat the canary.
    again = _cli(
        path, env, "user", "add", OFFICER, "--role", "officer", "--full-name", CANARY, "--unit", "P-TORKHAM",
        stdin=pw + PASSWORDS["officer"] + "\n",
    )
    assert again.returncode == 1 and CANARY not in again.stderr
    done = _cli(path, env, "rekey", stdin=pw)
    assert done.returncode == 0, done.stderr
    with wsvc.unlocked(path, OFFICER, PASSWORDS["officer"]) as ws:
        assert ws.user.full_name == CANARY  # stored for real, readable with the key
    assert _find_canaries(tmp_path) == []
    _assert_store_unreadable_without_key(path)


def test_plain_sqlite_cannot_read_a_fresh_store(workspace: Path) -> None:
    _assert_store_unreadable_without_key(workspace)
