# SPDX-License-Identifier: GPL-3.0-or-later
"""Backup and restore in the desktop app: the start page's reminder, Workspace ▸ Back up… and
Workspace ▸ Restore a backup…, run on workers, in English and Urdu."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from nap_desktop.services.workspace import open_workspace
from nap_desktop.ui import i18n
from nap_desktop.ui.backup_dialog import BackupDialog, RestoreDialog
from nap_desktop.ui.main_window import MainWindow
from nap_desktop.ui.session import SessionRef
from tests.ui.conftest import PASSWORDS
from tests.ui.helpers import wait_idle
from tests.ui.test_i18n import english_left, visible_texts

PASSPHRASE = "Backup-Passphrase-2026!"


def _main(qtbot: Any, ws: Any) -> MainWindow:
    main = MainWindow(SessionRef(ws))
    main.backup_quietly = True
    qtbot.addWidget(main)
    main.show()
    qtbot.waitUntil(lambda: main.start_page.loaded)
    return main


def test_reminder_then_backup_from_the_start_page(qtbot: Any, circle_path: Path, open_ws: Any) -> None:
    ws = open_ws(circle_path, "head")
    main = _main(qtbot, ws)
    label = main.start_page.info["backup"]
    assert label.text() == "No backup yet — back up now." and "b00020" in label.styleSheet()
    button = main.start_page.backup_button
    assert button.isVisible()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    dialogs = [d for d in main.findChildren(BackupDialog) if d.isVisible()]
    assert len(dialogs) == 1  # the button opened it
    dlg = dialogs[0]
    # A circle workspace without HQ's recovery key: the passphrase is compulsory.
    assert dlg.passphrase_check.isChecked() and not dlg.passphrase_check.isEnabled()
    assert not dlg.ok_button.isEnabled()
    qtbot.keyClicks(dlg.passphrase_edit, PASSPHRASE)
    qtbot.keyClicks(dlg.confirm_edit, PASSPHRASE[:-1] + "?")
    assert dlg.message.text() == "The two passphrases differ." and not dlg.ok_button.isEnabled()
    dlg.confirm_edit.clear()
    qtbot.keyClicks(dlg.confirm_edit, PASSPHRASE)
    target = Path(dlg.path_edit.text())
    assert target.parent == circle_path / "backups" and target.name.startswith("nap-backup-C-PSH-")
    qtbot.mouseClick(dlg.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dlg.result is not None, timeout=60_000)
    wait_idle(qtbot, 60_000)
    assert not dlg.isVisible() and target.is_file()
    assert main.statusBar().currentMessage() == f"Backup written: {target}"
    qtbot.waitUntil(lambda: "back up now" not in label.text())
    assert label.text() == dlg.result.created_at.strftime("%Y-%m-%d %H:%M") and not button.isVisible()


def test_restore_into_a_new_folder_and_a_refusal_that_keeps_the_dialog_open(
    qtbot: Any, circle_path: Path, open_ws: Any, tmp_path: Path
) -> None:
    from nap_desktop.services.backup import make_backup

    ws = open_ws(circle_path, "head")
    made = make_backup(ws, passphrase=PASSPHRASE)
    main = _main(qtbot, ws)
    dlg = main.restore_backup()
    assert isinstance(dlg, RestoreDialog) and dlg.isVisible()
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("mine")
    dlg.file_edit.setText(str(made.path))
    dlg._inspect()  # what leaving the field does
    qtbot.waitUntil(lambda: dlg.backup_has_passphrase is not None)
    assert dlg.backup_has_passphrase and dlg.pass_radio.isChecked()
    dlg.into_edit.setText(str(busy))
    qtbot.keyClicks(dlg.passphrase_edit, PASSPHRASE)
    qtbot.keyClicks(dlg.user_edit, "head")
    qtbot.keyClicks(dlg.password_edit, PASSWORDS["head"])
    qtbot.mouseClick(dlg.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dlg.message.isVisible(), timeout=60_000)
    assert "is not empty" in dlg.message.text() and dlg.isVisible() and dlg.result is None
    assert [p.name for p in busy.iterdir()] == ["keep.txt"]

    into = tmp_path / "replacement-laptop"
    dlg.into_edit.setText(str(into))
    qtbot.mouseClick(dlg.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dlg.result is not None, timeout=60_000)
    wait_idle(qtbot, 60_000)
    assert not dlg.isVisible() and (into / "store.db").is_file()
    assert str(into) in main.statusBar().currentMessage()
    copy = open_workspace(into, "head", PASSWORDS["head"])
    copy.lock()


def test_an_auditor_cannot_back_up(qtbot: Any, circle_path: Path, open_ws: Any) -> None:
    main = _main(qtbot, open_ws(circle_path, "auditor"))
    assert not main.backup_action.isEnabled() and not main.start_page.backup_button.isVisible()
    assert main.backup() is None
    assert main.restore_action.isEnabled()  # restoring makes a new folder and needs its own keys


def test_the_backup_dialogs_speak_urdu(qtbot: Any, circle_path: Path, open_ws: Any) -> None:
    i18n.set_language("ur")
    main = _main(qtbot, open_ws(circle_path, "head"))
    backup = main.backup()
    restore = main.restore_backup()
    assert backup is not None
    bad = english_left(visible_texts(backup), {str(circle_path)}) + english_left(visible_texts(restore), set())
    assert backup.layoutDirection() == Qt.LayoutDirection.RightToLeft
    assert bad == [] and i18n.missing_translations() == set()
