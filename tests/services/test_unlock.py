# SPDX-License-Identifier: GPL-3.0-or-later
"""Unlocking a workspace: the right password works; every way it can fail says so in one line,
with the right typed error, and changes nothing on disk (issue 2, "Must show" 1)."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from nap_desktop.data.db import KeyHolder, make_engine
from nap_desktop.data.models import AuditEntry, User
from nap_desktop.errors import (
    AccountDisabled,
    SchemaTooNew,
    UserFacingError,
    WorkspaceBusy,
    WorkspaceCorrupt,
    WorkspaceLocked,
    WorkspaceNotFound,
    WrongPassword,
)
from nap_desktop.security import keyfile
from nap_desktop.services import audit_log, units, users
from nap_desktop.services import workspace as wsvc
from nap_desktop.services.context import UserDTO
from tests.conftest import ADMIN, ADMIN_PW, FAST_KDF, PASSWORDS

OFFICER = "off.torkham"
NEW_PW = "Fresh-Secret-77#"  # contains no user name used here


@pytest.fixture(scope="module")
def _template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "ws"
    wsvc.init_workspace(path, site_kind="circle", unit="C-PSH", admin=ADMIN, admin_password=ADMIN_PW, kdf=FAST_KDF)
    return path


@pytest.fixture
def workspace(_template: Path, tmp_path: Path) -> Path:
    """Like conftest's fixture (a circle workspace, fast KDF, only its admin), copied from one made per module."""
    path = tmp_path / "ws"
    shutil.copytree(_template, path)
    return path


# --- helpers -------------------------------------------------------------------------------------


def _snapshot(path: Path) -> dict[str, str | None]:
    """SHA-256 of the files an unlock must never change (None when absent)."""
    out: dict[str, str | None] = {}
    for name in ("workspace.json", "store.db", "store.db-wal", "workspace.json.rekey"):
        f = path / name
        out[name] = hashlib.sha256(f.read_bytes()).hexdigest() if f.exists() else None
    return out


def _assert_one_line(exc: UserFacingError) -> None:
    msg = str(exc)
    assert msg and "\n" not in msg, f"not a one-line message: {msg!r}"
    assert "Traceback" not in msg


def _raw_engine(path: Path, user: str = ADMIN, password: str = ADMIN_PW) -> tuple[Engine, KeyHolder]:
    """The store opened with the data key a user's password yields, bypassing the services."""
    wf = keyfile.load(path / "workspace.json")
    dek = keyfile.unwrap_dek(wf, user, password)
    engine, holder = make_engine(path / "store.db", dek)
    return engine, holder


def _add_officer(path: Path) -> None:
    with wsvc.unlocked(path, ADMIN, ADMIN_PW) as ws:
        users.add_user(
            ws, username=OFFICER, full_name="Test Officer", role="officer", unit="P-TORKHAM", password=PASSWORDS["officer"]
        )


# --- success -------------------------------------------------------------------------------------


def test_unlock_with_right_password_returns_the_user_and_role(workspace: Path) -> None:
    ws = wsvc.open_workspace(workspace, ADMIN, ADMIN_PW)
    try:
        assert isinstance(ws.user, UserDTO)
        assert ws.user.username == ADMIN
        assert ws.user.role == "admin"
        assert ws.user.unit_code == "C-PSH"
        assert ws.user.disabled is False
        assert ws.user.last_login_at is None  # the DTO was read before this login was stamped
        assert not ws.locked
        with ws.sf() as s:
            last = s.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
            assert (last.action, last.actor, last.object_id) == ("auth.unlocked", ADMIN, ADMIN)
            stamped = s.scalars(select(User.last_login_at).where(User.username == ADMIN)).one()
            assert stamped is not None
    finally:
        ws.lock()
    assert ws.locked


def test_officer_unlocks_with_own_password_and_gets_own_role(workspace: Path) -> None:
    _add_officer(workspace)
    with wsvc.unlocked(workspace, OFFICER, PASSWORDS["officer"]) as ws:
        assert (ws.user.username, ws.user.role, ws.user.unit_code) == (OFFICER, "officer", "P-TORKHAM")
        assert ws.user.must_change_password is True


def test_unlock_with_production_kdf(tmp_path: Path) -> None:
    """One realistic workspace: the default Argon2id cost is stored and used."""
    path = tmp_path / "real"
    wsvc.init_workspace(path, site_kind="post", unit="P-TORKHAM", admin=ADMIN, admin_password=ADMIN_PW)
    data = json.loads((path / "workspace.json").read_text("utf-8"))
    assert data["kdf"] == {"alg": "argon2id", "m": 32 * 1024, "t": 3, "p": 4}
    assert data["users"][ADMIN]["kdf"] == data["kdf"]
    with pytest.raises(WrongPassword):
        wsvc.open_workspace(path, ADMIN, ADMIN_PW + "x")
    with wsvc.unlocked(path, ADMIN, ADMIN_PW) as ws:
        assert ws.user.role == "admin"
        assert ws.wf.site_kind == "post" and ws.wf.unit == "P-TORKHAM"


def test_workspace_files_are_private(workspace: Path) -> None:
    """Only the owner may list the folder or read the key file."""
    assert (workspace.stat().st_mode & 0o777) == 0o700
    assert ((workspace / "workspace.json").stat().st_mode & 0o777) == 0o600


# --- failures that change nothing -----------------------------------------------------------------


def test_wrong_password_is_refused_and_changes_nothing(workspace: Path) -> None:
    before = _snapshot(workspace)
    with pytest.raises(WrongPassword) as exc:
        wsvc.open_workspace(workspace, ADMIN, "Not-The-Password-1!")
    assert str(exc.value) == "The user name or password is wrong."
    _assert_one_line(exc.value)
    assert _snapshot(workspace) == before


def test_unknown_user_gets_the_same_message_as_a_wrong_password(workspace: Path) -> None:
    before = _snapshot(workspace)
    with pytest.raises(WrongPassword) as wrong_pw:
        wsvc.open_workspace(workspace, ADMIN, "Not-The-Password-1!")
    with pytest.raises(WrongPassword) as unknown:
        wsvc.open_workspace(workspace, "nobody.here", ADMIN_PW)
    assert str(unknown.value) == str(wrong_pw.value)
    assert "nobody" not in str(unknown.value)
    assert _snapshot(workspace) == before


def test_disabled_user_cannot_unlock_and_nothing_changes(workspace: Path) -> None:
    _add_officer(workspace)
    with wsvc.unlocked(workspace, ADMIN, ADMIN_PW) as ws:
        users.disable_user(ws, OFFICER)
    before = _snapshot(workspace)
    with pytest.raises(AccountDisabled) as exc:
        wsvc.open_workspace(workspace, OFFICER, PASSWORDS["officer"])
    assert "disabled" in str(exc.value)
    _assert_one_line(exc.value)
    assert _snapshot(workspace) == before
    # The key entry is gone too: even with the password, no data key comes out of the file.
    wf = keyfile.load(workspace / "workspace.json")
    assert OFFICER in wf.disabled and OFFICER not in wf.users
    with pytest.raises(WrongPassword):
        keyfile.unwrap_dek(wf, OFFICER, PASSWORDS["officer"])


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda raw: raw[: len(raw) // 2], id="truncated"),
        pytest.param(lambda raw: b"", id="empty"),
        pytest.param(lambda raw: raw.replace(b"{", b"[", 1), id="invalid-json"),
        pytest.param(lambda raw: b"\xff\xfe" + raw, id="not-utf8"),
        pytest.param(lambda raw: b"[]", id="not-an-object"),
    ],
)
def test_corrupted_workspace_json_is_refused_and_left_as_is(workspace: Path, damage: Callable[[bytes], bytes]) -> None:
    ws_file = workspace / "workspace.json"
    ws_file.write_bytes(damage(ws_file.read_bytes()))
    before = _snapshot(workspace)
    with pytest.raises(WorkspaceCorrupt) as exc:
        wsvc.open_workspace(workspace, ADMIN, ADMIN_PW)
    assert "workspace.json" in str(exc.value)
    _assert_one_line(exc.value)
    assert _snapshot(workspace) == before


@pytest.mark.parametrize(("field", "value"), [("unit", "C-LHR"), ("site_kind", "post"), ("created_at", "2020-01-01T00:00:00+00:00")])
def test_hand_edited_workspace_json_is_detected_after_the_key(workspace: Path, field: str, value: str) -> None:
    ws_file = workspace / "workspace.json"
    data = json.loads(ws_file.read_text("utf-8"))
    assert data[field] != value
    data[field] = value
    ws_file.write_text(json.dumps(data, indent=2), "utf-8")
    keyfile.load(ws_file)  # the shape is still valid: only the MAC can tell
    before = _snapshot(workspace)
    with pytest.raises(WorkspaceCorrupt) as exc:
        wsvc.open_workspace(workspace, ADMIN, ADMIN_PW)
    assert "changed outside NAP Desktop" in str(exc.value)
    _assert_one_line(exc.value)
    assert _snapshot(workspace) == before


def test_hand_edit_that_drops_the_recovery_escrow_is_detected(make_workspace: Callable[..., Path]) -> None:
    from nap_desktop.security.crypto import generate_age_keypair

    path = make_workspace(recovery_recipient=generate_age_keypair().recipient)
    ws_file = path / "workspace.json"
    data = json.loads(ws_file.read_text("utf-8"))
    data["recovery"] = None
    ws_file.write_text(json.dumps(data), "utf-8")
    before = _snapshot(path)
    with pytest.raises(WorkspaceCorrupt, match="changed outside NAP Desktop"):
        wsvc.open_workspace(path, ADMIN, ADMIN_PW)
    assert _snapshot(path) == before


def test_missing_store_is_refused_and_not_recreated(workspace: Path) -> None:
    (workspace / "store.db").unlink()
    before = _snapshot(workspace)
    with pytest.raises(WorkspaceCorrupt) as exc:
        wsvc.open_workspace(workspace, ADMIN, ADMIN_PW)
    assert "missing" in str(exc.value)
    _assert_one_line(exc.value)
    assert not (workspace / "store.db").exists()
    assert _snapshot(workspace) == before


def test_store_from_a_newer_schema_is_refused_and_left_unchanged(workspace: Path) -> None:
    engine, holder = _raw_engine(workspace)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    holder.drop()
    before = _snapshot(workspace)
    backups_before = sorted(p.name for p in (workspace / "backups").iterdir())
    with pytest.raises(SchemaTooNew) as exc:
        wsvc.open_workspace(workspace, ADMIN, ADMIN_PW)
    assert "newer version" in str(exc.value) and "9999" in str(exc.value)
    _assert_one_line(exc.value)
    assert _snapshot(workspace) == before
    assert sorted(p.name for p in (workspace / "backups").iterdir()) == backups_before
    engine, holder = _raw_engine(workspace)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "9999"
        # No login was recorded: the refused unlock wrote nothing to the store.
        assert conn.execute(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "auth.unlocked")).scalar() == 0
    engine.dispose()
    holder.drop()


def test_unknown_non_numeric_schema_is_reported_as_damage(workspace: Path) -> None:
    engine, holder = _raw_engine(workspace)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'zz-bogus'"))
    engine.dispose()
    holder.drop()
    before = _snapshot(workspace)
    with pytest.raises(WorkspaceCorrupt, match="unknown schema version"):
        wsvc.open_workspace(workspace, ADMIN, ADMIN_PW)
    assert _snapshot(workspace) == before


def test_store_of_another_workspace_copied_in_is_refused(make_workspace: Callable[..., Path]) -> None:
    mine, other = make_workspace(), make_workspace()
    shutil.copyfile(other / "store.db", mine / "store.db")
    before = _snapshot(mine)
    with pytest.raises(WorkspaceCorrupt) as exc:
        wsvc.open_workspace(mine, ADMIN, ADMIN_PW)
    assert "another workspace" in str(exc.value)
    _assert_one_line(exc.value)
    assert _snapshot(mine) == before
    # The workspace is not left busy: with its own store back, it opens again.
    with wsvc.unlocked(other, ADMIN, ADMIN_PW) as ws:
        assert ws.user.username == ADMIN


def test_no_workspace_at_the_path(tmp_path: Path) -> None:
    for path in (tmp_path / "does-not-exist", tmp_path):
        with pytest.raises(WorkspaceNotFound) as exc:
            wsvc.open_workspace(path, ADMIN, ADMIN_PW)
        assert "No workspace" in str(exc.value)
        _assert_one_line(exc.value)
    assert not (tmp_path / "does-not-exist").exists()


def test_init_refuses_an_existing_workspace_or_a_non_empty_folder(workspace: Path, tmp_path: Path) -> None:
    from nap_desktop.errors import WorkspaceExists

    before = _snapshot(workspace)
    with pytest.raises(WorkspaceExists, match="already exists"):
        wsvc.init_workspace(workspace, site_kind="circle", unit="C-PSH", admin=ADMIN, admin_password=ADMIN_PW, kdf=FAST_KDF)
    assert _snapshot(workspace) == before
    folder = tmp_path / "papers"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep", "utf-8")
    with pytest.raises(WorkspaceExists, match="not empty"):
        wsvc.init_workspace(folder, site_kind="circle", unit="C-PSH", admin=ADMIN, admin_password=ADMIN_PW, kdf=FAST_KDF)
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]


# --- locked and busy ------------------------------------------------------------------------------


def _locked_calls() -> list[tuple[str, Callable[..., object]]]:
    from nap_desktop.security.crypto import generate_age_keypair

    recipient = generate_age_keypair().recipient
    return [
        ("workspace_info", lambda ws: wsvc.workspace_info(ws)),
        ("list_users", lambda ws: users.list_users(ws)),
        (
            "add_user",
            lambda ws: users.add_user(
                ws, username="new.user", full_name="New User", role="officer", unit="P-TORKHAM", password=PASSWORDS["officer"]
            ),
        ),
        ("reset_password", lambda ws: users.reset_password(ws, ADMIN, NEW_PW)),
        ("disable_user", lambda ws: users.disable_user(ws, ADMIN)),
        ("list_units", lambda ws: units.list_units(ws)),
        (
            "add_unit",
            lambda ws: units.add_unit(
                ws, code="P-LOCKED", kind="post", parent="C-PSH", name_en="X", name_ur="ایکس", province="kp", post_type="airport"
            ),
        ),
        ("verify_audit", lambda ws: audit_log.verify_audit(ws)),
        ("list_audit", lambda ws: audit_log.list_audit(ws)),
        ("upgrade_db", lambda ws: wsvc.upgrade_db(ws)),
        ("rekey", lambda ws: wsvc.rekey(ws)),
        ("set_recovery", lambda ws: wsvc.set_recovery(ws, recipient)),
        ("change_password", lambda ws: wsvc.change_password(ws, ADMIN_PW, NEW_PW)),
    ]


@pytest.mark.parametrize(("name", "call"), _locked_calls(), ids=[n for n, _ in _locked_calls()])
def test_every_service_refuses_a_locked_workspace_and_writes_nothing(
    workspace: Path, name: str, call: Callable[..., object]
) -> None:
    ws = wsvc.open_workspace(workspace, ADMIN, ADMIN_PW)
    ws.lock()
    before = _snapshot(workspace)
    with pytest.raises(WorkspaceLocked) as exc:
        call(ws)
    assert "locked" in str(exc.value)
    _assert_one_line(exc.value)
    assert _snapshot(workspace) == before, f"{name} on a locked workspace changed files"
    # The lock released the write lock: the workspace opens again.
    with wsvc.unlocked(workspace, ADMIN, ADMIN_PW) as again:
        assert again.user.username == ADMIN


def test_lock_drops_the_key_from_memory(admin_ws: wsvc.Workspace) -> None:
    dek = admin_ws.dek
    assert any(dek)
    admin_ws.lock()
    assert admin_ws.locked
    assert not any(dek), "the data key buffer was not wiped"
    with pytest.raises(WorkspaceLocked):
        _ = admin_ws.dek
    with pytest.raises(WorkspaceLocked):
        _ = admin_ws.engine


def test_second_open_while_the_first_holds_the_lock_is_busy(workspace: Path) -> None:
    _add_officer(workspace)
    first = wsvc.open_workspace(workspace, ADMIN, ADMIN_PW)
    try:
        before = _snapshot(workspace)
        for user, pw in ((ADMIN, ADMIN_PW), (OFFICER, PASSWORDS["officer"])):
            with pytest.raises(WorkspaceBusy) as exc:
                wsvc.open_workspace(workspace, user, pw)
            assert "in use" in str(exc.value)
            _assert_one_line(exc.value)
        assert _snapshot(workspace) == before
        assert users.list_users(first)  # the first session is unaffected
    finally:
        first.lock()
    with wsvc.unlocked(workspace, OFFICER, PASSWORDS["officer"]) as ws:
        assert ws.user.username == OFFICER


def test_a_failure_while_recording_the_login_does_not_leave_the_workspace_busy(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last step of an unlock (moving queued failures into the audit) can fail, e.g. on a full
    disk: the error is the typed one, and the half-opened workspace does not keep the lock."""
    from nap_desktop.errors import StorageFull
    from nap_desktop.security.throttle import AuthState

    def full_disk(self: AuthState, username: str) -> list[dict[str, object]]:
        raise StorageFull("The disk is full: auth_state.json was not changed. Free some space and try again.")

    with monkeypatch.context() as m:
        m.setattr(AuthState, "take_pending", full_disk)
        with pytest.raises(StorageFull) as failed:
            wsvc.open_workspace(workspace, ADMIN, ADMIN_PW)
    # The caller still holds the error (a GUI shows it; a log keeps it): the workspace must have
    # been locked by the failed unlock itself, not by the garbage collector.
    with wsvc.unlocked(workspace, ADMIN, ADMIN_PW) as ws:  # not WorkspaceBusy
        assert ws.user.username == ADMIN
    assert "disk is full" in str(failed.value)


def test_failed_unlocks_do_not_leave_the_workspace_busy(workspace: Path) -> None:
    data = json.loads((workspace / "workspace.json").read_text("utf-8"))
    original = (workspace / "workspace.json").read_bytes()
    data["unit"] = "C-LHR"
    (workspace / "workspace.json").write_text(json.dumps(data), "utf-8")
    with pytest.raises(WorkspaceCorrupt):
        wsvc.open_workspace(workspace, ADMIN, ADMIN_PW)
    (workspace / "workspace.json").write_bytes(original)
    with wsvc.unlocked(workspace, ADMIN, ADMIN_PW) as ws:
        assert ws.wf.unit == "C-PSH"
