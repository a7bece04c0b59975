# SPDX-License-Identifier: GPL-3.0-or-later
"""The entry point: arguments, language, first window; the excepthook."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from nap_desktop import app
from nap_desktop.ui import errors, i18n
from nap_desktop.ui.first_run_wizard import FirstRunWizard
from nap_desktop.ui.login_dialog import LoginDialog


def _run_main(monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> tuple[int, list[Any]]:
    seen: list[Any] = []

    def fake_exec(self: QApplication) -> int:
        seen.extend(w for w in QApplication.topLevelWidgets() if w.isVisible())
        return 0

    monkeypatch.setattr(QApplication, "exec", fake_exec)
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    return app.main(argv), seen


def test_main_opens_the_sign_in_window_in_urdu(monkeypatch: pytest.MonkeyPatch, circle_path: Path) -> None:
    rc, seen = _run_main(monkeypatch, ["--workspace", str(circle_path), "--user", "officer", "--lang", "ur"])
    assert rc == 0
    logins = [w for w in seen if isinstance(w, LoginDialog)]
    assert len(logins) == 1 and logins[0].user_combo.currentText() == "officer"
    assert QApplication.layoutDirection() == Qt.LayoutDirection.RightToLeft
    assert i18n.language() == "ur"


def test_main_on_an_empty_folder_shows_the_wizard(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    rc, seen = _run_main(monkeypatch, ["--workspace", str(tmp_path / "fresh")])
    assert rc == 0 and any(isinstance(w, FirstRunWizard) for w in seen)


def test_the_excepthook_shows_uncaught_errors(monkeypatch: pytest.MonkeyPatch, shown_boxes: list[QMessageBox]) -> None:
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    errors.install_excepthook()
    assert sys.excepthook is errors._excepthook  # noqa: SLF001
    try:
        raise KeyError("17301-1234567-2")
    except KeyError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    assert shown_boxes[-1].objectName() == "internalErrorBox"
    assert "17301" not in shown_boxes[-1].text() + shown_boxes[-1].detailedText()


def test_the_pyside_6_12_reference_count_work_around() -> None:
    from PySide6.QtWidgets import QLabel

    from nap_desktop.ui import qt_compat

    assert qt_compat.affected("6.12.0", (3, 11))
    assert not qt_compat.affected("6.11.3", (3, 11))
    assert not qt_compat.affected("6.12.0", (3, 12))
    label = QLabel()
    for i in range(50_000):  # far more calls returning nothing than None has references
        label.setText("x" if i % 2 else "y")
    assert sys.getrefcount(None) > 1000


def test_garbage_is_collected_on_the_gui_thread_only(monkeypatch: pytest.MonkeyPatch, circle_path: Path) -> None:
    import gc

    assert not gc.isenabled(), "the GUI tests run like the application: no collection on worker threads"
    _run_main(monkeypatch, ["--workspace", str(circle_path)])
    assert not gc.isenabled(), "leaving main() does not switch automatic collection back on"
