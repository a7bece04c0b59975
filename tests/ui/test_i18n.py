# SPDX-License-Identifier: GPL-3.0-or-later
"""Urdu: every UI string translated, right-to-left layout, the bundled font, no English left."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase, QFontInfo, QFontMetrics
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QComboBox,
    QGroupBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QMainWindow,
    QTabWidget,
    QWidget,
    QWizardPage,
)

from nap_desktop.domain.validation import HTCDS_CONSENT
from nap_desktop.services.records import create_record
from nap_desktop.ui import i18n
from nap_desktop.ui.first_run_wizard import FirstRunWizard
from nap_desktop.ui.login_dialog import LoginDialog
from nap_desktop.ui.main_window import MainWindow
from nap_desktop.ui.session import SessionRef
from nap_desktop.ui.settings_dialog import SettingsDialog
from tests.ui.helpers import wait_idle, wait_list

UI = Path(i18n.__file__).parent
LITERAL = re.compile(r'\b(?:tr|N_)\(\s*"((?:[^"\\]|\\.)*)"\s*\)')
# Tokens that stay Latin in an Urdu UI: shortcut keys, file names, key prefixes, unit codes, dates.
ALLOWED = re.compile(r"Ctrl\+\w+|Esc\b|F5\b|age1\w*|workspace\.json|\b[A-Z]{1,2}-[A-Z]{2,}\b|\(?\b[A-Z]{2,}\b\)?|\d")


def ui_literals() -> set[str]:
    out: set[str] = set()
    for path in UI.glob("*.py"):
        for m in LITERAL.finditer(path.read_text("utf-8")):
            text = m.group(1).encode().decode("unicode_escape") if "\\" in m.group(1) else m.group(1)
            if re.search(r"[A-Za-z]", text):
                out.add(text)
    return out


def test_every_ui_string_has_an_urdu_entry() -> None:
    table = json.loads((i18n.i18n_dir() / "ur.json").read_text("utf-8"))
    missing = sorted(ui_literals() - set(table))
    assert missing == []
    for key, value in table.items():
        if key.startswith("@"):
            continue
        assert set(re.findall(r"\{\w+\}", key)) == set(re.findall(r"\{\w+\}", value)), f"placeholders differ: {key}"


def visible_texts(root: QWidget) -> list[str]:
    """Every text a user can read on ``root`` (labels, buttons, titles, headers, menus, lists)."""
    texts: list[str] = []
    widgets = [root, *root.findChildren(QWidget)]
    for w in widgets:
        if not w.isVisibleTo(root) and w is not root:
            continue
        if w.isWindow():
            texts.append(w.windowTitle())
        if isinstance(w, QLabel):
            texts.append(re.sub(r"<[^>]+>", " ", w.text()))
        elif isinstance(w, QAbstractButton):
            texts.append(w.text())
        elif isinstance(w, QLineEdit):
            texts.append(w.placeholderText())
        elif isinstance(w, QComboBox):
            texts.extend(w.itemText(i) for i in range(w.count()))
        elif isinstance(w, QGroupBox):
            texts.append(w.title())
        elif isinstance(w, QTabWidget):
            texts.extend(w.tabText(i) for i in range(w.count()))
        elif isinstance(w, QWizardPage):
            texts.extend([w.title(), w.subTitle()])
        if isinstance(w, QListWidget):
            texts.extend(w.item(i).text() for i in range(w.count()))
        elif isinstance(w, QAbstractItemView) and w.model() is not None:
            m = w.model()
            texts.extend(str(m.headerData(c, Qt.Orientation.Horizontal) or "") for c in range(m.columnCount()))
        if isinstance(w, QMainWindow):
            texts.extend(a.text() for a in w.menuBar().actions())
            for a in w.menuBar().actions():
                if a.menu() is not None:
                    texts.extend(x.text() for x in a.menu().actions())
    return [t for t in texts if t]


def english_left(texts: list[str], data: set[str]) -> list[str]:
    bad = []
    for t in texts:
        s = t
        for d in sorted(data, key=len, reverse=True):
            s = s.replace(d, " ")
        s = ALLOWED.sub(" ", s)
        if re.search(r"[A-Za-z]{2,}", s):
            bad.append(t)
    return sorted(set(bad))


def test_the_urdu_ui_is_right_to_left_in_the_bundled_font_with_no_english_left(qtbot: Any, circle_path: Path, open_ws: Any) -> None:
    i18n.set_language("ur")
    app = QApplication.instance()
    assert app.layoutDirection() == Qt.LayoutDirection.RightToLeft
    font = app.font()
    assert font.families()[0] == i18n.URDU_FONT_FAMILY
    assert i18n.URDU_FONT_FAMILY in QFontDatabase.families()
    assert QFontInfo(font).family() == i18n.URDU_FONT_FAMILY, "the bundled font is the one in use"
    assert all(QFontMetrics(font).inFontUcs4(ord(ch)) for ch in "ےڑںھٹڈ"), "Urdu letters have glyphs"
    # Data, not UI text: account and person names, the folder, and the language switch, which is
    # rightly labelled "English" in the Urdu UI.
    data = {"admin", "head", "officer", "auditor", "Circle Head", "Zainab", "Afridi", str(circle_path.parent / "new"), "English"}

    wizard = FirstRunWizard(circle_path.parent / "new")
    qtbot.addWidget(wizard)
    wizard.show()
    bad = english_left(visible_texts(wizard), data)
    wizard.next()
    bad += english_left(visible_texts(wizard), data)
    assert wizard.layoutDirection() == Qt.LayoutDirection.RightToLeft
    wizard.hide()

    login = LoginDialog(circle_path, user="head")
    qtbot.addWidget(login)
    login.show()
    bad += english_left(visible_texts(login), data)
    assert login.layoutDirection() == Qt.LayoutDirection.RightToLeft
    login.hide()

    ws = open_ws(circle_path, "head")
    person = create_record(ws, "person", {"given_name": "Zainab", "family_name": "Afridi", "sex": "female", "age_years": 24, "citizenship": "pk"})
    scr = create_record(ws, "screening", {"person_id": person.id, "screened_on": "2025-02-01", "location_type": "airport", "consent": {c: "yes" for c in HTCDS_CONSENT}, "identification_status": "not_a_victim", "decided_by": "fia"})
    main = MainWindow(SessionRef(ws))
    main.show()
    qtbot.waitUntil(lambda: main.start_page.loaded)
    assert main.layoutDirection() == Qt.LayoutDirection.RightToLeft
    bad += english_left(visible_texts(main), data)
    view = main.show_type("screening")
    wait_list(qtbot, view)
    bad += english_left(visible_texts(main), data)
    form = main.open_record("screening", scr.id)
    qtbot.waitUntil(lambda: form.dto is not None)
    wait_idle(qtbot)
    for i in range(form.tabs.count()):
        form.tabs.setCurrentIndex(i)
        wait_idle(qtbot)
        bad += english_left(visible_texts(form), data)
    session = main.open_record("awareness_session", None)
    bad += english_left(visible_texts(session), data)
    settings = SettingsDialog(main.ref, parent=main)
    bad += english_left(visible_texts(settings), data)
    assert sorted(set(bad)) == []
    assert i18n.missing_translations() == set()


def test_switching_the_language_rebuilds_the_windows(qtbot: Any, circle_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from nap_desktop.ui import preferences
    from nap_desktop.ui.controller import AppController
    from tests.ui.conftest import PASSWORDS

    c = AppController(circle_path, user="head")
    try:
        c.start()
        c.login.language_button.click()
        assert i18n.language() == "ur" and c.login.layoutDirection() == Qt.LayoutDirection.RightToLeft
        assert c.login.unlock_button.text() == "کھولیں"
        assert preferences.language() == "ur"
        c.login.password_edit.setText(PASSWORDS["head"])
        c.login.try_unlock()
        wait_idle(qtbot)
        assert c.main.nav.item(0).text() == "آغاز"
        old = c.main
        c.set_language("en")
        assert c.main is not old and c.main.nav.item(0).text() == "Start"
        assert c.main.isVisible()
    finally:
        c.shutdown()
        QApplication.instance().removeEventFilter(c.idle)


def test_admin_sets_the_idle_minutes(qtbot: Any, circle_path: Path, open_ws: Any) -> None:
    from sqlalchemy import select

    from nap_desktop.data.models import AuditEntry
    from nap_desktop.services.settings import idle_lock_minutes

    ws = open_ws(circle_path, "admin")
    dlg = SettingsDialog(SessionRef(ws))
    qtbot.addWidget(dlg)
    assert dlg.idle_spin.isEnabled() and dlg.idle_spin.value() == 10
    dlg.idle_spin.setValue(3)
    with qtbot.waitSignal(dlg.accepted, timeout=20_000):
        dlg.accept()
    assert idle_lock_minutes(ws) == 3, "stored in the workspace"
    with ws.sf() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "settings.changed")).one()
    assert (entry.actor, entry.object_id) == ("admin", "idle_lock_minutes")
    ws.lock()
    ws = open_ws(circle_path, "officer")
    dlg = SettingsDialog(SessionRef(ws))
    qtbot.addWidget(dlg)
    assert not dlg.idle_spin.isEnabled() and dlg.idle_spin.value() == 3


def test_in_urdu_every_banner_and_field_error_line_starts_right_to_left(qtbot: Any) -> None:
    """Qt lays a wrapped line out from its first letter: a message starting with a unit code or a
    path would sit at the left edge of an Urdu screen. Banners and field errors guard every line."""
    from nap_desktop.ui.widgets import Banner, ErrorLabel

    banner, error = Banner(), ErrorLabel()
    qtbot.addWidget(banner)
    qtbot.addWidget(error)
    banner.show_message("info", "P-TORKHAM: 3\nE:/usb")
    error.set_error("2026-13-01")
    assert banner.text() == "P-TORKHAM: 3\nE:/usb" and error.text() == "2026-13-01", "English: text as given"
    i18n.set_language("ur")
    banner.show_message("info", "P-TORKHAM: 3\nE:/usb")
    error.set_error("2026-13-01")
    assert banner.text() == "\u200fP-TORKHAM: 3\n\u200fE:/usb" and error.text() == "\u200f2026-13-01"


def test_a_core_message_without_an_urdu_entry_reads_as_one_left_to_right_run_in_urdu() -> None:
    detail = "HQ's server cannot be reached (connection refused)."
    known = "Connection to HQ saved. Without a server address this laptop syncs by USB stick only."
    assert i18n.core_text(detail) == detail
    i18n.set_language("ur")
    try:
        assert i18n.core_text(detail) == f"\u2066{detail}\u2069", "its full stop stays at its end"
        assert i18n.core_text(known) == i18n.tr_known(known) != known, "a translated message is Urdu, not isolated"
    finally:
        i18n.set_language("en")
