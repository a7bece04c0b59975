# SPDX-License-Identifier: GPL-3.0-or-later
"""First run: the wizard creates a workspace (post, circle, HQ) or opens an existing one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWizard

from nap_desktop import config
from nap_desktop.security.crypto import generate_age_keypair
from nap_desktop.services.workspace import list_usernames, load_workspace_file, workspace_info
from nap_desktop.ui.first_run_wizard import PAGE_ADMIN, PAGE_CREATE, PAGE_OPEN, PAGE_RECOVERY, PAGE_SITE, FirstRunWizard
from tests.conftest import FAST_KDF
from tests.ui.helpers import click_box

PASSWORD = "Border-Post-Admin-26!"


def _click(qtbot: Any, wiz: FirstRunWizard, which: QWizard.WizardButton) -> None:
    button = wiz.button(which)
    assert button.isEnabled(), f"{which} is disabled on page {wiz.currentId()}"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def _fill_admin(qtbot: Any, wiz: FirstRunWizard, password: str = PASSWORD) -> None:
    page = wiz.admin_page
    page.user_edit.clear()
    qtbot.keyClicks(page.user_edit, "station.admin")
    qtbot.keyClicks(page.name_edit, "Station Administrator")
    qtbot.keyClicks(page.password_edit, password)
    qtbot.keyClicks(page.confirm_edit, password)


def test_create_a_post_workspace_and_land_unlocked(qtbot: Any, tmp_path: Path) -> None:
    target = tmp_path / "torkham"
    wiz = FirstRunWizard(target, kdf=FAST_KDF)
    qtbot.addWidget(wiz)
    wiz.show()
    assert wiz.start_page.join_radio.isEnabled() and not wiz.start_page.join_radio.isChecked()
    assert wiz.start_page.create_radio.isChecked()
    _click(qtbot, wiz, QWizard.WizardButton.NextButton)
    assert wiz.currentId() == PAGE_SITE
    click_box(qtbot, wiz.site_page.kind_radios["post"])
    codes = [wiz.site_page.unit_combo.itemData(i) for i in range(wiz.site_page.unit_combo.count())]
    assert "P-TORKHAM" in codes and "C-PSH" not in codes, "only posts are offered for a post"
    wiz.site_page.unit_combo.set_value("P-TORKHAM")
    _click(qtbot, wiz, QWizard.WizardButton.NextButton)
    assert wiz.currentId() == PAGE_ADMIN
    # A weak password keeps Next disabled and says why.
    page = wiz.admin_page
    qtbot.keyClicks(page.password_edit, "pakistan123")
    qtbot.keyClicks(page.confirm_edit, "pakistan123")
    assert not wiz.button(QWizard.WizardButton.NextButton).isEnabled()
    assert page.meter.problems.isVisible()
    page.password_edit.clear()
    page.confirm_edit.clear()
    _fill_admin(qtbot, wiz)
    assert page.meter.score >= 2
    _click(qtbot, wiz, QWizard.WizardButton.NextButton)
    assert wiz.currentId() == PAGE_RECOVERY
    assert not wiz.button(QWizard.WizardButton.NextButton).isEnabled(), "no recovery key needs an explicit acknowledgement"
    click_box(qtbot, wiz.recovery_page.no_recovery_check)
    _click(qtbot, wiz, QWizard.WizardButton.NextButton)
    assert wiz.currentId() == PAGE_CREATE
    assert "P-TORKHAM" in wiz.create_page.summary.text()
    with qtbot.waitSignal(wiz.workspace_created, timeout=30_000):
        _click(qtbot, wiz, QWizard.WizardButton.FinishButton)
    ws = wiz.workspace
    try:
        assert (target / config.WORKSPACE_FILE).exists()
        assert list_usernames(target) == ["station.admin"]
        assert ws.user.role == "admin" and ws.user.full_name == "Station Administrator"
        info = workspace_info(ws)
        assert (info.site_kind, info.unit, info.recovery_set) == ("post", "P-TORKHAM", False)
    finally:
        ws.lock()
    assert wiz.result() == QWizard.DialogCode.Accepted


def test_create_a_circle_workspace_with_hq_recovery_key(qtbot: Any, tmp_path: Path) -> None:
    target = tmp_path / "peshawar"
    wiz = FirstRunWizard(target, kdf=FAST_KDF)
    qtbot.addWidget(wiz)
    wiz.show()
    wiz.next()
    wiz.site_page.kind_radios["circle"].setChecked(True)
    wiz.site_page.unit_combo.set_value("C-PSH")
    wiz.next()
    _fill_admin(qtbot, wiz)
    wiz.next()
    recipient = generate_age_keypair().recipient
    qtbot.keyClicks(wiz.recovery_page.recipient_edit, recipient)
    assert wiz.button(QWizard.WizardButton.NextButton).isEnabled()
    wiz.next()
    with qtbot.waitSignal(wiz.workspace_created, timeout=30_000):
        _click(qtbot, wiz, QWizard.WizardButton.FinishButton)
    wiz.workspace.lock()
    assert load_workspace_file(target).recovery is not None


def test_create_an_hq_workspace_writes_the_recovery_key_file(qtbot: Any, tmp_path: Path) -> None:
    target = tmp_path / "hq"
    key_file = tmp_path / "national-recovery.age"
    wiz = FirstRunWizard(target, kdf=FAST_KDF)
    qtbot.addWidget(wiz)
    wiz.show()
    wiz.next()
    wiz.site_page.kind_radios["hq"].setChecked(True)
    assert wiz.site_page.unit_combo.value() == "HQ"
    wiz.next()
    _fill_admin(qtbot, wiz)
    wiz.next()
    rec = wiz.recovery_page
    assert rec.hq_box.isVisibleTo(wiz) and not rec.recipient_box.isVisibleTo(wiz)
    rec.file_edit.setText(str(key_file))
    qtbot.keyClicks(rec.pass_edit, "National-Recovery-2026")
    qtbot.keyClicks(rec.pass_confirm, "National-Recovery-2026")
    wiz.next()
    with qtbot.waitSignal(wiz.workspace_created, timeout=30_000):
        _click(qtbot, wiz, QWizard.WizardButton.FinishButton)
    wiz.workspace.lock()
    assert key_file.read_bytes().startswith(b"age-encryption.org/")


def test_a_refusal_from_the_service_is_shown_on_the_last_page(qtbot: Any, tmp_path: Path) -> None:
    target = tmp_path / "busy"
    target.mkdir()
    (target / "something.txt").write_text("not empty")
    wiz = FirstRunWizard(target, kdf=FAST_KDF)
    qtbot.addWidget(wiz)
    wiz.show()
    wiz.next()
    wiz.site_page.unit_combo.set_value("P-TORKHAM")
    wiz.next()
    _fill_admin(qtbot, wiz)
    wiz.next()
    wiz.recovery_page.no_recovery_check.setChecked(True)
    wiz.next()
    _click(qtbot, wiz, QWizard.WizardButton.FinishButton)
    qtbot.waitUntil(lambda: wiz.create_page.error.isVisible(), timeout=10_000)
    assert "not empty" in wiz.create_page.error.text()
    assert wiz.workspace is None and wiz.isVisible()
    assert (target / "something.txt").exists()


def test_open_an_existing_workspace_folder(qtbot: Any, circle_path: Path, tmp_path: Path) -> None:
    wiz = FirstRunWizard(tmp_path / "elsewhere", kdf=FAST_KDF)
    qtbot.addWidget(wiz)
    wiz.show()
    click_box(qtbot, wiz.start_page.open_radio)
    wiz.next()
    assert wiz.currentId() == PAGE_OPEN
    qtbot.keyClicks(wiz.open_page.folder_edit, str(tmp_path / "nothing-here"))
    _click(qtbot, wiz, QWizard.WizardButton.FinishButton)
    assert wiz.open_page.error.isVisible() and wiz.isVisible()
    wiz.open_page.folder_edit.setText(str(circle_path))
    _click(qtbot, wiz, QWizard.WizardButton.FinishButton)
    assert wiz.result() == QWizard.DialogCode.Accepted
    assert wiz.opened_path == circle_path
