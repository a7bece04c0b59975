# SPDX-License-Identifier: GPL-3.0-or-later
"""Sign-in, wrong passwords, the throttle, idle and manual lock, change of password."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from nap_desktop.security import throttle
from nap_desktop.services.settings import idle_lock_minutes, set_idle_lock_minutes
from nap_desktop.services.users import add_user
from nap_desktop.services.workspace import open_workspace
from nap_desktop.ui import login_dialog, preferences
from nap_desktop.ui.change_password_dialog import ChangePasswordDialog
from nap_desktop.ui.controller import AppController
from nap_desktop.ui.login_dialog import LoginDialog
from nap_desktop.ui.main_window import MainWindow
from tests.conftest import ADMIN, ADMIN_PW
from tests.ui.conftest import PASSWORDS
from tests.ui.helpers import wait_idle


class FakeClock:
    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _sign_in(qtbot: Any, dlg: LoginDialog, user: str, password: str) -> None:
    dlg.user_combo.setCurrentText(user)
    dlg.password_edit.clear()
    qtbot.keyClicks(dlg.password_edit, password)
    qtbot.keyClick(dlg.password_edit, Qt.Key.Key_Return)
    wait_idle(qtbot)


def test_accounts_are_listed_and_the_user_preselected(qtbot: Any, circle_path: Path) -> None:
    dlg = LoginDialog(circle_path, user="officer")
    qtbot.addWidget(dlg)
    names = [dlg.user_combo.itemText(i) for i in range(dlg.user_combo.count())]
    assert names == sorted([ADMIN, "auditor", "head", "officer"])
    assert dlg.user_combo.currentText() == "officer"
    assert "C-PSH" in dlg.findChild(type(dlg.message), "workspaceLabel").text()
    assert not dlg.unlock_button.isEnabled(), "nothing to unlock with an empty password"


def test_wrong_password_is_said_inline_then_the_right_one_unlocks(qtbot: Any, circle_path: Path) -> None:
    dlg = LoginDialog(circle_path, user="officer")
    qtbot.addWidget(dlg)
    dlg.show()
    _sign_in(qtbot, dlg, "officer", "not-the-password")
    assert dlg.workspace is None
    assert dlg.message.isVisible() and "wrong" in dlg.message.text()
    assert dlg.password_edit.text() == "", "the wrong password is not left in the field"
    with qtbot.waitSignal(dlg.unlocked, timeout=10_000) as sig:
        _sign_in(qtbot, dlg, "officer", PASSWORDS["officer"])
    ws = sig.args[0]
    try:
        assert ws.user.username == "officer" and not ws.locked
    finally:
        ws.lock()


def test_after_five_failures_the_window_counts_the_wait_down(qtbot: Any, circle_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    monkeypatch.setattr(throttle, "clock", clock)
    monkeypatch.setattr(login_dialog, "clock", clock)
    dlg = LoginDialog(circle_path, user="head")
    qtbot.addWidget(dlg)
    dlg.show()
    for _ in range(throttle.FREE_ATTEMPTS):
        _sign_in(qtbot, dlg, "head", "guess-guess-guess")
        assert not dlg.waiting
    _sign_in(qtbot, dlg, "head", "one-more-guess")
    assert dlg.waiting
    assert "Wait" in dlg.message.text()
    qtbot.keyClicks(dlg.password_edit, PASSWORDS["head"])
    assert not dlg.unlock_button.isEnabled(), "locked out: Unlock stays disabled during the wait"
    clock.advance(throttle.BASE_DELAY_S + 1)
    dlg._tick()  # noqa: SLF001 - the one-second timer's slot
    assert not dlg.waiting and dlg.unlock_button.isEnabled()
    with qtbot.waitSignal(dlg.unlocked, timeout=10_000) as sig:
        qtbot.mouseClick(dlg.unlock_button, Qt.MouseButton.LeftButton)
    sig.args[0].lock()


def test_a_disabled_account_cannot_sign_in(qtbot: Any, circle_path: Path) -> None:
    from nap_desktop.services.users import disable_user

    dlg = LoginDialog(circle_path, user="officer")  # the list was read before the account was disabled
    qtbot.addWidget(dlg)
    dlg.show()
    ws = open_workspace(circle_path, ADMIN, ADMIN_PW)
    disable_user(ws, "officer")
    ws.lock()
    _sign_in(qtbot, dlg, "officer", PASSWORDS["officer"])
    assert dlg.workspace is None and "disabled" in dlg.message.text()


@pytest.fixture
def controller(qtbot: Any, circle_path: Path) -> Any:
    clock = FakeClock()
    c = AppController(circle_path, user="head", clock=clock)
    c.test_clock = clock  # type: ignore[attr-defined]
    yield c
    c.shutdown()
    QApplication.instance().removeEventFilter(c.idle)


def test_idle_lock_hides_everything_drops_the_key_and_unlock_restores(qtbot: Any, controller: Any) -> None:
    c = controller
    c.start()
    assert c.login is not None and c.login.isVisible()
    _sign_in(qtbot, c.login, "head", PASSWORDS["head"])
    main: MainWindow = c.main
    assert main is not None and main.isVisible()
    ws = c.ref.ws
    form = main.open_record("person", None)
    qtbot.keyClicks(form.editors["given_name"].edit, "Unsaved")
    assert idle_lock_minutes(ws) == preferences.DEFAULT_IDLE_MINUTES == 10
    # Input keeps it unlocked; ten quiet minutes lock it.
    c.test_clock.advance(9 * 60)
    qtbot.keyClick(main.nav, Qt.Key.Key_Down)
    c.test_clock.advance(5 * 60)
    c.idle.check()
    assert not c.is_locked
    wait_idle(qtbot)  # (a running operation postpones the idle lock; see the next test)
    c.test_clock.advance(10 * 60 + 1)
    c.idle.check()
    assert c.is_locked
    assert ws.locked, "the data key was dropped"
    with pytest.raises(Exception, match="locked"):
        _ = ws.sf
    visible = [w for w in QApplication.topLevelWidgets() if w.isVisible()]
    assert visible == [c.login], "only the sign-in window shows while locked"
    assert c.login.locked_mode and c.login.user_combo.currentText() == "head"
    c.login.reject()  # Esc does not reveal the data
    assert c.login.isVisible()
    _sign_in(qtbot, c.login, "head", PASSWORDS["head"])
    assert not c.is_locked
    assert c.main is main and main.isVisible(), "the same user gets the same windows back"
    assert form.isVisible() and form.editors["given_name"].value() == "Unsaved"
    assert c.ref.ws is not ws and not c.ref.ws.locked


def test_ctrl_l_locks_and_another_user_gets_fresh_windows(qtbot: Any, controller: Any) -> None:
    c = controller
    c.start()
    _sign_in(qtbot, c.login, "head", PASSWORDS["head"])
    main = c.main
    form = main.open_record("person", None)
    qtbot.keyClicks(form.editors["given_name"].edit, "Someone")
    main.activateWindow()
    qtbot.keyClick(main, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert c.is_locked and not main.isVisible() and not form.isVisible()
    _sign_in(qtbot, c.login, "officer", PASSWORDS["officer"])
    assert c.main is not main and c.main.isVisible()
    assert c.ref.ws.user.username == "officer"
    assert all(f.editors["given_name"].value() != "Someone" for f in c.main.forms)


def test_first_start_without_a_workspace_shows_the_wizard(qtbot: Any, tmp_path: Path) -> None:
    c = AppController(tmp_path / "new")
    c.start()
    try:
        assert c.wizard is not None and c.wizard.isVisible() and c.login is None
    finally:
        c.wizard.hide()
        QApplication.instance().removeEventFilter(c.idle)


def test_change_password(qtbot: Any, circle_path: Path, open_ws: Any) -> None:
    ws = open_ws(circle_path, "officer")
    dlg = ChangePasswordDialog(ws)
    qtbot.addWidget(dlg)
    qtbot.keyClicks(dlg.old_edit, "wrong-old-password")
    qtbot.keyClicks(dlg.new_edit, "Khyber-Pass-Duty-27")
    qtbot.keyClicks(dlg.confirm_edit, "Khyber-Pass-Duty-2")
    assert not dlg.ok_button.isEnabled() and "differ" in dlg.message.text()
    qtbot.keyClicks(dlg.confirm_edit, "7")
    assert dlg.ok_button.isEnabled()
    qtbot.mouseClick(dlg.ok_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot)
    assert "wrong" in dlg.message.text() and dlg.result() != dlg.DialogCode.Accepted
    qtbot.keyClicks(dlg.old_edit, PASSWORDS["officer"])
    qtbot.mouseClick(dlg.ok_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot)
    assert dlg.result() == dlg.DialogCode.Accepted
    ws.lock()
    open_workspace(circle_path, "officer", "Khyber-Pass-Duty-27").lock()


def test_a_reset_password_must_be_changed_at_sign_in(qtbot: Any, controller: Any, circle_path: Path) -> None:
    ws = open_workspace(circle_path, ADMIN, ADMIN_PW)
    add_user(ws, username="newbie", full_name="New Officer", role="officer", unit="P-TORKHAM", password="First-Password-2026", must_change_password=True)
    ws.lock()
    c = controller
    c.start()
    _sign_in(qtbot, c.login, "newbie", "First-Password-2026")
    dialogs = [w for w in QApplication.topLevelWidgets() if isinstance(w, ChangePasswordDialog) and w.isVisible()]
    assert len(dialogs) == 1 and dialogs[0].forced


def test_idle_lock_waits_for_a_running_operation(qtbot: Any, controller: Any) -> None:
    import threading

    from nap_desktop.ui.workers import run_op

    c = controller
    c.start()
    _sign_in(qtbot, c.login, "head", PASSWORDS["head"])
    wait_idle(qtbot)
    release = threading.Event()
    op = run_op(c.main, lambda _op: release.wait(10)).start()
    c.test_clock.advance(11 * 60)
    c.idle.check()
    assert not c.is_locked, "an import in progress is not cut off by the idle lock"
    release.set()
    qtbot.waitUntil(lambda: op.done)
    wait_idle(qtbot)
    c.test_clock.advance(11 * 60)
    c.idle.check()
    assert c.is_locked


def test_the_lock_time_an_administrator_set_applies_to_every_user(qtbot: Any, controller: Any, circle_path: Path) -> None:
    ws = open_workspace(circle_path, ADMIN, ADMIN_PW)
    set_idle_lock_minutes(ws, 3)
    ws.lock()
    c = controller
    c.start()
    _sign_in(qtbot, c.login, "head", PASSWORDS["head"])
    wait_idle(qtbot)
    c.test_clock.advance(2 * 60 + 50)
    c.idle.check()
    assert not c.is_locked
    c.test_clock.advance(11)
    c.idle.check()
    assert c.is_locked and c.login.locked_mode
