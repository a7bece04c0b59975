# SPDX-License-Identifier: GPL-3.0-or-later
"""Failed-login throttling: five free attempts, then growing delays; failures reach the audit log
at the next successful unlock; a success resets the counter (issue 2, Build 4).

The throttle's clock is replaced by a settable one: no test sleeps."""

from __future__ import annotations

import json
import shutil
import re
from pathlib import Path

import pytest

from nap_desktop.errors import AccountDisabled, LoginThrottled, WrongPassword
from nap_desktop.security import throttle
from nap_desktop.security.throttle import AuthState, delay_after
from nap_desktop.services import audit_log, users
from nap_desktop.services import workspace as wsvc
from tests.conftest import ADMIN, ADMIN_PW, FAST_KDF, PASSWORDS

AUDITOR = "aud.psh"
OFFICER = "off.torkham"
BAD_PW = "Guessing-Wrong-11!"


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


class FakeClock:
    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(throttle, "clock", fake)
    return fake


@pytest.fixture
def ws_with_auditor(workspace: Path) -> Path:
    with wsvc.unlocked(workspace, ADMIN, ADMIN_PW) as ws:
        users.add_user(ws, username=AUDITOR, full_name="Audit Person", role="auditor", unit="C-PSH", password=PASSWORDS["auditor"])
        users.add_user(ws, username=OFFICER, full_name="Post Officer", role="officer", unit="P-TORKHAM", password=PASSWORDS["officer"])
    return workspace


def _wrong(path: Path, user: str = ADMIN) -> None:
    with pytest.raises(WrongPassword):
        wsvc.open_workspace(path, user, BAD_PW)


def _throttled(path: Path, user: str = ADMIN, password: str = ADMIN_PW) -> LoginThrottled:
    with pytest.raises(LoginThrottled) as exc:
        wsvc.open_workspace(path, user, password)
    return exc.value


def _said_wait(exc: LoginThrottled) -> int:
    """The whole seconds the message tells the user to wait; never less than the real delay."""
    m = re.fullmatch(r"Too many failed attempts\. Wait (\d+) seconds before trying again\.", str(exc))
    assert m, str(exc)
    assert int(m.group(1)) >= exc.retry_after
    return int(m.group(1))


def test_delay_table() -> None:
    assert [delay_after(n) for n in range(5)] == [0.0] * 5
    assert [delay_after(n) for n in (5, 6, 7, 8)] == [15.0, 30.0, 60.0, 120.0]
    assert delay_after(50) == 3600.0  # capped at an hour


def test_five_free_then_growing_delays_then_audited_and_reset(ws_with_auditor: Path, clock: FakeClock) -> None:
    path = ws_with_auditor
    state = AuthState(path / "auth_state.json")
    ws_json = (path / "workspace.json").read_bytes()

    for _ in range(5):
        _wrong(path)  # five wrong passwords cost nothing but the KDF
    assert state.failures(ADMIN) == 5

    # The sixth attempt must wait, even with the right password.
    first = _throttled(path)
    assert 14 < first.retry_after <= 15
    assert _said_wait(first) in (15, 16)
    assert "\n" not in str(first)
    clock.advance(10)
    still = _throttled(path)
    assert 4 < still.retry_after <= 5
    assert _said_wait(still) in (5, 6)

    # Once the delay has passed, one more attempt is accepted; failing it doubles the delay.
    clock.advance(5.5)
    _wrong(path)
    second = _throttled(path)
    assert 29 < second.retry_after <= 30
    clock.advance(30.5)
    _wrong(path)
    third = _throttled(path)
    assert 59 < third.retry_after <= 60
    assert first.retry_after < second.retry_after < third.retry_after
    assert state.failures(ADMIN) == 7

    # Throttling is per account: another user is not slowed down.
    with wsvc.unlocked(path, OFFICER, PASSWORDS["officer"]) as ws:
        assert ws.user.username == OFFICER

    clock.advance(60.5)
    with wsvc.unlocked(path, ADMIN, ADMIN_PW) as ws:
        assert ws.user.username == ADMIN
    assert state.failures(ADMIN) == 0, "a successful unlock must reset the counter"
    assert (path / "workspace.json").read_bytes() == ws_json

    # The failures are in the audit chain, in order, for the auditor to read.
    with wsvc.unlocked(path, AUDITOR, PASSWORDS["auditor"]) as ws:
        failed = audit_log.list_audit(ws, action="auth.login_failed")
        assert audit_log.verify_audit(ws).ok
    failed.reverse()  # list_audit returns newest first
    assert [e.object_id for e in failed] == [ADMIN] * 7
    assert [json.loads(e.detail)["in_a_row"] for e in failed] == [1, 2, 3, 4, 5, 6, 7]
    assert BAD_PW not in "".join(e.detail for e in failed)

    # After the reset, the next wrong password is free again (no delay).
    _wrong(path)
    with wsvc.unlocked(path, ADMIN, ADMIN_PW) as ws:
        assert ws.user.username == ADMIN


def test_throttle_file_holds_names_and_times_only(ws_with_auditor: Path, clock: FakeClock) -> None:
    path = ws_with_auditor
    for _ in range(3):
        _wrong(path)
    raw = (path / "auth_state.json").read_bytes()
    assert BAD_PW.encode() not in raw
    assert ADMIN_PW.encode() not in raw
    data = json.loads(raw)
    assert data["users"][ADMIN]["failures"] == 3
    assert len(data["pending"]) == 3


def test_unknown_user_names_are_throttled_too(ws_with_auditor: Path, clock: FakeClock) -> None:
    path = ws_with_auditor
    for _ in range(5):
        _wrong(path, "ghost.user")
    exc = _throttled(path, "ghost.user", "Whatever-Pass-99!")
    assert exc.retry_after > 0
    with wsvc.unlocked(path, ADMIN, ADMIN_PW):
        pass
    with wsvc.unlocked(path, AUDITOR, PASSWORDS["auditor"]) as ws:
        failed = audit_log.list_audit(ws, action="auth.login_failed")
    assert {e.object_id for e in failed} == {"ghost.user"}
    assert len(failed) == 5


def test_disabled_account_attempts_are_counted_and_audited(ws_with_auditor: Path, clock: FakeClock) -> None:
    path = ws_with_auditor
    with wsvc.unlocked(path, ADMIN, ADMIN_PW) as ws:
        users.disable_user(ws, OFFICER)
    for _ in range(5):
        with pytest.raises(AccountDisabled):
            wsvc.open_workspace(path, OFFICER, PASSWORDS["officer"])
    assert _throttled(path, OFFICER, PASSWORDS["officer"]).retry_after > 0
    with wsvc.unlocked(path, AUDITOR, PASSWORDS["auditor"]) as ws:
        attempts = audit_log.list_audit(ws, action="auth.disabled_attempt")
    assert len(attempts) == 5 and {e.object_id for e in attempts} == {OFFICER}


def test_damaged_throttle_file_locks_nobody_out_and_is_audited(ws_with_auditor: Path, clock: FakeClock) -> None:
    path = ws_with_auditor
    for _ in range(6):
        try:
            wsvc.open_workspace(path, ADMIN, BAD_PW)
        except (WrongPassword, LoginThrottled):
            pass
    _throttled(path)
    (path / "auth_state.json").write_bytes(b"\x00garbage{")
    with wsvc.unlocked(path, ADMIN, ADMIN_PW) as ws:
        assert ws.user.username == ADMIN
    with wsvc.unlocked(path, AUDITOR, PASSWORDS["auditor"]) as ws:
        resets = audit_log.list_audit(ws, action="auth.state_reset")
    assert len(resets) == 1
    rewritten = json.loads((path / "auth_state.json").read_text("utf-8"))  # valid again
    assert rewritten == {"pending": [], "users": {}}
