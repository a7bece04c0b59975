# SPDX-License-Identifier: GPL-3.0-or-later
"""The monthly-return screen, driven as a user would: pick the unit and month, compile (on a
worker), review the values with their checks, comment, submit; HQ sends it back and later
approves it; the administrator unlocks it; export. Buttons follow the signed-in role. Also: the
main window's navigation entry and the Urdu screen.

Records are dated October 2026 and the returns' clock is the real one (the month is over)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from nap_desktop.domain.framework import default_framework
from nap_desktop.services.records import create_record
from nap_desktop.ui import i18n
from nap_desktop.ui.main_window import MainWindow
from nap_desktop.ui.returns_view import Column, ReturnsView
from nap_desktop.ui.session import SessionRef
from tests.services.records_factories import complete_values
from tests.reports.test_render_pdf_urdu import fonts, read_back
from tests.ui.helpers import wait_idle
from tests.ui.test_i18n import english_left, visible_texts

MONTH = "2026-10"


def add_victim(ws: Any, on: str, unit: str = "C-PSH") -> str:
    person = create_record(ws, "person", {"given_name": "Zainab", "family_name": "Afridi", "sex": "female", "age_years": 24, "citizenship": "pk"}, unit=unit)
    values = complete_values("screening", {"person_id": person.id}, on=date.fromisoformat(on))
    return create_record(ws, "screening", values, unit=unit).id


def open_view(qtbot: Any, ws: Any, unit: str = "C-PSH", month: str = MONTH) -> ReturnsView:
    view = ReturnsView(SessionRef(ws))
    qtbot.addWidget(view)
    view.show()
    view.select(unit, month)
    wait_idle(qtbot)
    qtbot.waitUntil(lambda: view.loaded)
    return view


def buttons(view: ReturnsView) -> dict[str, bool]:
    return {
        name: b.isEnabled()
        for name, b in (
            ("compile", view.compile_button),
            ("submit", view.submit_button),
            ("approve", view.approve_button),
            ("send_back", view.send_back_button),
            ("unlock", view.unlock_button),
            ("export", view.export_button),
        )
    }


def cell(view: ReturnsView, key: str, col: Column) -> str:
    row = view.model.row_of(key)
    return str(view.model.index(row, col).data())


def test_compile_review_submit_send_back_approve_unlock_export(qtbot: Any, hq_path: Path, open_ws: Any, tmp_path: Path, shown_boxes: list[Any], qtmodeltester: Any) -> None:
    head = open_ws(hq_path, "head")
    add_victim(head, "2026-10-05")
    add_victim(head, "2026-10-06")
    view = open_view(qtbot, head)
    assert view.state_label.text().startswith("No return of C-PSH for 2026-10 yet.")
    assert buttons(view) == {"compile": True, "submit": False, "approve": False, "send_back": False, "unlock": False, "export": False}

    qtbot.mouseClick(view.compile_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot)
    qtbot.waitUntil(lambda: view.ret is not None)
    qtmodeltester.check(view.model)
    assert view.model.rowCount() == 41 + 8  # the indicators, then the case pipeline
    assert cell(view, "1.3.a", Column.VALUE) == "2"
    assert cell(view, "3.1.a", Column.VALUE) == "n/a (no denominator)"
    assert cell(view, "3.1.a", Column.CHECKS) == "Warning"
    assert view.messages.count() >= 1 and any("3.1.a has no denominator" in view.messages.item(i).text() for i in range(view.messages.count()))
    assert "State: Draft" in view.state_label.text()
    assert buttons(view) == {"compile": True, "submit": True, "approve": False, "send_back": False, "unlock": False, "export": True}

    # A comment on 1.3.a, typed into the side panel.
    view.table.selectRow(view.model.row_of("1.3.a"))
    assert view.detail_title.text().startswith("<b>1.3.a")
    qtbot.keyClicks(view.comment_edit, "Both at Peshawar airport")
    qtbot.mouseClick(view.comment_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot)
    qtbot.waitUntil(lambda: view.ret is not None and len(view.ret.comments) == 1)
    assert cell(view, "1.3.a", Column.COMMENTS) == "1"

    qtbot.mouseClick(view.submit_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot)
    qtbot.waitUntil(lambda: view.ret is not None and view.ret.state == "submitted")
    assert "Submitted late." in view.state_label.text()  # due 10 November 2026
    assert buttons(view)["approve"] is False  # a circle's return goes to HQ
    head.lock()

    analyst = open_ws(hq_path, "analyst")
    hq_view = open_view(qtbot, analyst)
    assert buttons(hq_view) == {"compile": False, "submit": False, "approve": True, "send_back": True, "unlock": False, "export": True}
    hq_view.send_back("Add the October trainings")
    wait_idle(qtbot)
    qtbot.waitUntil(lambda: hq_view.ret is not None and hq_view.ret.state == "returned")
    assert hq_view.banner.isVisible() and "Add the October trainings" in hq_view.banner.text()
    analyst.lock()

    head = open_ws(hq_path, "head")
    view = open_view(qtbot, head)
    assert "Add the October trainings" in view.banner.text()
    view.compile()
    wait_idle(qtbot)
    view.submit()
    wait_idle(qtbot)
    qtbot.waitUntil(lambda: view.ret is not None and view.ret.state == "submitted")
    head.lock()

    analyst = open_ws(hq_path, "analyst")
    hq_view = open_view(qtbot, analyst)
    qtbot.mouseClick(hq_view.approve_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot)
    qtbot.waitUntil(lambda: hq_view.ret is not None and hq_view.ret.state == "approved")
    assert hq_view.banner.text() == "Approved: the records of this unit and month are locked."
    assert buttons(hq_view) == {"compile": False, "submit": False, "approve": False, "send_back": False, "unlock": False, "export": True}
    hq_view.export("csv", tmp_path / "return.csv")
    wait_idle(qtbot)
    qtbot.waitUntil(lambda: hq_view.last_export is not None)
    assert "1.3.a" in (tmp_path / "return.csv").read_text("utf-8")
    analyst.lock()

    admin = open_ws(hq_path, "admin")
    admin_view = open_view(qtbot, admin)
    assert buttons(admin_view)["unlock"] is True
    admin_view.unlock("Correction of a screening")
    wait_idle(qtbot)
    qtbot.waitUntil(lambda: admin_view.ret is not None and admin_view.ret.state == "draft")
    assert [h.action for h in admin_view.ret.history][-1] == "unlock"
    assert shown_boxes == []  # no error along the way


def test_an_error_is_shown_and_blocks_submission(qtbot: Any, hq_path: Path, open_ws: Any, shown_boxes: list[Any]) -> None:
    head = open_ws(hq_path, "head")
    create_record(head, "case", {"registered_on": "2026-09-01", "case_type": "tip_internal", "offences": ["ptpa_2018_s3"], "events": [{"event": "case_registered", "on_date": "2026-09-01"}, {"event": "verdict", "on_date": "2026-10-10", "verdict": "convicted"}]})
    view = open_view(qtbot, head)
    view.compile()
    wait_idle(qtbot)
    qtbot.waitUntil(lambda: view.ret is not None)
    assert view.banner.text() == "Errors to correct in the records before the return can be submitted: 1."
    assert cell(view, "pipeline.convicted", Column.CHECKS) == "Error"
    view.submit()
    wait_idle(qtbot)
    qtbot.waitUntil(lambda: len(shown_boxes) == 1)
    assert "The return has 1 error; it cannot be submitted." in shown_boxes[0].text()
    assert view.ret is not None and view.ret.state == "draft"


def test_main_window_has_the_monthly_return_page(qtbot: Any, hq_path: Path, open_ws: Any) -> None:
    ws = open_ws(hq_path, "head")
    main = MainWindow(SessionRef(ws))
    qtbot.addWidget(main)
    labels = [main.nav.item(i).text() for i in range(main.nav.count())]
    assert "Monthly returns" in labels
    page = main.show_returns()
    assert isinstance(page, ReturnsView) and main.stack.currentWidget() is page
    assert main.current_type() is None and not main.new_action.isEnabled()
    wait_idle(qtbot)
    qtbot.waitUntil(lambda: page.loaded)
    assert page.unit == "C-PSH"


def compiled_in_urdu(qtbot: Any, hq_path: Path, open_ws: Any) -> ReturnsView:
    """The circle head's Monthly returns screen in Urdu, with the month's return compiled."""
    i18n.set_language("ur")
    head = open_ws(hq_path, "head")
    add_victim(head, "2026-10-05")
    view = open_view(qtbot, head)
    view.compile()
    wait_idle(qtbot)
    qtbot.waitUntil(lambda: view.ret is not None)
    return view


def test_the_urdu_screen_has_no_english_left(qtbot: Any, hq_path: Path, open_ws: Any) -> None:
    view = compiled_in_urdu(qtbot, hq_path, open_ws)
    assert view.layoutDirection() == Qt.LayoutDirection.RightToLeft
    fw = default_framework()
    data = {"head", "Peshawar", "n/a"} | {i.short_en for i in fw} | {i.definition for i in fw}
    assert english_left(visible_texts(view), data) == []
    assert "حیثیت: مسودہ" in view.state_label.text()
    assert i18n.missing_translations() == set()


def test_on_the_urdu_screen_the_exported_pdf_is_in_urdu(qtbot: Any, hq_path: Path, open_ws: Any, tmp_path: Path) -> None:
    view = compiled_in_urdu(qtbot, hq_path, open_ws)
    view.export("pdf", tmp_path / "return.pdf")
    wait_idle(qtbot)
    qtbot.waitUntil(lambda: view.last_export is not None)
    text = read_back(tmp_path / "return.pdf")
    assert "ماہانہ گوشوارہ" in text and "مسودہ" in text and "Monthly return" not in text
    assert "NotoNaskhArabic" in fonts(tmp_path / "return.pdf")


def test_the_file_type_chosen_decides_the_language_of_the_pdf(qtbot: Any, hq_path: Path, open_ws: Any, tmp_path: Path, monkeypatch: Any) -> None:
    from PySide6.QtWidgets import QFileDialog

    view = compiled_in_urdu(qtbot, hq_path, open_ws)
    asked: list[tuple[str, str]] = []

    def save_as(_parent: Any, _title: str, _default: str, filters: str, selected: str) -> tuple[str, str]:
        asked.append((filters, selected))
        return str(tmp_path / "for-hq"), filters.split(";;")[0]  # "PDF in English"

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_as)
    view.export()
    wait_idle(qtbot)
    qtbot.waitUntil(lambda: view.last_export is not None)
    filters, selected = asked[0]
    assert selected == i18n.tr("PDF in Urdu (*.pdf)"), "the screen's language is offered first"
    assert view.last_export == tmp_path / "for-hq.pdf"
    assert "Naskh" not in fonts(view.last_export) and "Monthly return" in read_back(view.last_export)
