# SPDX-License-Identifier: GPL-3.0-or-later
"""Dashboard ▸ Export…: the indicator report of the period and scope on screen written as a file,
off the GUI thread, audited; the internal version only for roles that may see small counts; a
PDF in Urdu; a bad folder named in the dialog, which stays open, with nothing written."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from PySide6.QtCore import Qt

from nap_desktop.ui import i18n
from nap_desktop.ui.dashboard_view import DashboardView
from nap_desktop.ui.report_export_dialog import ReportExportDialog
from nap_desktop.ui.session import SessionRef
from tests.reports.test_render_pdf_urdu import fonts, read_back
from tests.services.records_factories import audit_count
from tests.ui.helpers import wait_idle


def open_dialog(qtbot: Any, ws: Any) -> tuple[DashboardView, ReportExportDialog]:
    view = DashboardView(SessionRef(ws))
    qtbot.addWidget(view)
    view.show()
    wait_idle(qtbot, 60_000)
    dlg = view.export()
    assert dlg is not None
    qtbot.addWidget(dlg)
    return view, dlg


def test_a_circle_head_exports_the_internal_workbook_off_the_gui_thread(qtbot: Any, circle_path: Path, open_ws: Any) -> None:
    ws = open_ws(circle_path, "head")
    view, dlg = open_dialog(qtbot, ws)
    assert dlg.internal_radio.isEnabled() and dlg.internal_radio.isChecked()
    dlg.format_combo.setCurrentIndex(dlg.format_combo.findData("xlsx"))
    path = Path(dlg.path_edit.text())
    assert path.parent == circle_path / "exports" and path.name == f"indicators-C-PSH-{view.period.label}.xlsx"
    assert not dlg.lang_combo.isEnabled(), "the language is the PDF's"
    qtbot.mouseClick(dlg.ok_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, 60_000)
    assert dlg.op is not None and dlg.op.context.thread_id != threading.get_ident(), "written on a worker"
    qtbot.waitUntil(lambda: view.last_export is not None)
    assert dlg.result is not None and dlg.result.audience == "internal" and view.last_export == path
    sheets = load_workbook(path, read_only=True)
    assert any("1.3.a" in str(c) for ws_ in sheets.worksheets for row in ws_.iter_rows(values_only=True) for c in row)
    assert audit_count(ws, "report.export") == 1


def test_an_officer_gets_the_external_version_only(qtbot: Any, circle_path: Path, open_ws: Any) -> None:
    ws = open_ws(circle_path, "officer")
    view, dlg = open_dialog(qtbot, ws)
    assert not dlg.internal_radio.isEnabled() and dlg.external_radio.isChecked()
    assert dlg.findChild(type(dlg.message), "exportInternalNote").text() == "Your role may give out the external version only."
    dlg.format_combo.setCurrentIndex(dlg.format_combo.findData("json"))
    assert dlg.path_edit.text().endswith("-external.json")
    qtbot.mouseClick(dlg.ok_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, 60_000)
    qtbot.waitUntil(lambda: view.last_export is not None)
    doc = json.loads(view.last_export.read_text("utf-8"))
    assert doc["audience"] == "external" and doc["unit"] == view.scope


def test_a_folder_that_does_not_exist_is_named_and_nothing_is_written(qtbot: Any, circle_path: Path, open_ws: Any, tmp_path: Path) -> None:
    ws = open_ws(circle_path, "head")
    view, dlg = open_dialog(qtbot, ws)
    dlg.path_edit.setText(str(tmp_path / "no-such-folder" / "report.pdf"))
    qtbot.mouseClick(dlg.ok_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, 60_000)
    qtbot.waitUntil(lambda: dlg.message.isVisible())
    assert "does not exist" in dlg.message.text() and dlg.isVisible() and dlg.ok_button.isEnabled()
    assert not (tmp_path / "no-such-folder").exists() and view.last_export is None
    # A name of one's own keeps its name when the format changes.
    dlg.format_combo.setCurrentIndex(dlg.format_combo.findData("csv"))
    assert dlg.path_edit.text() == str(tmp_path / "no-such-folder" / "report.csv") and not dlg.message.isVisible()


def test_on_the_urdu_screen_the_pdf_is_in_urdu(qtbot: Any, circle_path: Path, open_ws: Any) -> None:
    i18n.set_language("ur")
    ws = open_ws(circle_path, "head")
    view, dlg = open_dialog(qtbot, ws)
    assert dlg.lang_combo.currentData() == "ur" and dlg.lang_combo.isEnabled()
    qtbot.mouseClick(dlg.ok_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, 60_000)
    qtbot.waitUntil(lambda: view.last_export is not None)
    assert "NotoNaskhArabic" in fonts(view.last_export)
    assert "اشاریوں کی رپورٹ" in read_back(view.last_export)
    assert i18n.missing_translations() == set()


def test_an_analyst_writes_the_standard_exports_a_circle_head_sees_none(qtbot: Any, hq_path: Path, open_ws: Any, circle_path: Path) -> None:
    from nap_desktop.reports.exports import CTDC_COLUMNS

    ws = open_ws(hq_path, "analyst")
    view, dlg = open_dialog(qtbot, ws)
    assert [dlg.what_combo.itemData(i) for i in range(dlg.what_combo.count())] == ["indicators", "glotip", "ctdc", "dhis2"]
    dlg.what_combo.setCurrentIndex(dlg.what_combo.findData("glotip"))
    assert [dlg.format_combo.itemData(i) for i in range(dlg.format_combo.count())] == ["xlsx", "csv"]
    assert dlg.versions.isHidden() and dlg.k_spin.isHidden(), "GLOTIP is always protected"
    assert Path(dlg.path_edit.text()).name == f"glotip-{view.scope}-{view.period.label}.xlsx"
    qtbot.mouseClick(dlg.ok_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, 60_000)
    qtbot.waitUntil(lambda: view.last_export is not None)
    assert dlg.result is not None and dlg.result.what == "glotip" and view.last_export.suffix == ".xlsx"
    load_workbook(view.last_export, read_only=True)  # a workbook Excel opens

    view.last_export = None
    dlg = view.export()
    assert dlg is not None
    qtbot.addWidget(dlg)
    dlg.what_combo.setCurrentIndex(dlg.what_combo.findData("ctdc"))
    assert not dlg.k_spin.isHidden()
    dlg.k_spin.setValue(5)
    qtbot.mouseClick(dlg.ok_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, 60_000)
    qtbot.waitUntil(lambda: view.last_export is not None)
    assert dlg.result is not None and dlg.result.k == 5
    assert view.last_export.read_text("utf-8").splitlines()[0] == ",".join(CTDC_COLUMNS)
    assert audit_count(ws, "report.export") == 2

    head = open_ws(circle_path, "head")
    _view, dlg = open_dialog(qtbot, head)
    assert [dlg.what_combo.itemData(i) for i in range(dlg.what_combo.count())] == ["indicators", "dhis2"]
