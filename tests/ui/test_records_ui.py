# SPDX-License-Identifier: GPL-3.0-or-later
"""Every record type through the real widgets: create, edit, search, delete — checked in the store."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from nap_desktop.domain.records import RECORD_TYPES
from nap_desktop.domain.validation import HTCDS_CONSENT
from nap_desktop.services.records import RecordFilter, create_record, get_record, list_records, record_history
from nap_desktop.ui import record_form
from nap_desktop.ui.field_editors import (
    AnswersEditor,
    CodeEditor,
    DateEditor,
    IntEditor,
    MatrixEditor,
    RefEditor,
    TextEditor,
)
from nap_desktop.ui.main_window import MainWindow
from nap_desktop.ui.record_form import RecordFormDialog
from nap_desktop.ui.record_table_model import text_search_kind
from nap_desktop.ui.session import SessionRef
from tests.ui.helpers import click_box, closed, wait_idle, wait_list

TODAY = date.today()
D1 = (TODAY - timedelta(days=3)).isoformat()
D2 = (TODAY - timedelta(days=1)).isoformat()


def refs(ws: Any) -> dict[str, str]:
    """Records other records link to, made through the service."""
    person = create_record(ws, "person", {"given_name": "Zainab", "family_name": "Afridi", "sex": "female", "age_years": 24, "citizenship": "pk"})
    provider = create_record(ws, "service_provider", {"name": "Dar ul Aman Peshawar", "provider_type": "ngo"})
    body = create_record(ws, "coordination_entity", {"name": "District Task Force Khyber", "level": "district"})
    return {"person": person.id, "service_provider": provider.id, "coordination_entity": body.id}


# Complete, valid values for each type (refs by type name), one field to edit, and a text to search.
CASES: dict[str, tuple[dict[str, Any], tuple[str, Any], str | None]] = {
    "person": ({"given_name": "Gul", "family_name": "Bibi", "sex": "female", "age_years": "30", "citizenship": "pk"}, ("residence_district", "Khyber"), "Gul Bibi"),
    "screening": (
        {"person_id": "@person", "screened_on": D1, "location_type": "land_border", "consent": "@consent", "identification_status": "not_a_victim", "decided_by": "fia"},
        ("checkpoint_type", "land_crossing"),
        "Zainab",
    ),
    "suspect": ({"person_id": "@person", "identified_on": D1, "roles": ["recruiter_or_intermediary"], "arrest_status": "arrested"}, ("arrested_on", D2), "Zainab"),
    "case": ({"fir_number": "FIR 77/2026", "registered_on": D1, "case_type": "som", "offences": ["psma_2018_s3"]}, ("enquiry_number", "ENQ-9"), "77/2026"),
    "service_provider": ({"name": "Shelter Home Landi Kotal", "provider_type": "ngo"}, ("district", "Khyber"), "Landi"),
    "referral": (
        {"person_id": "@person", "beneficiary_role": "victim", "referred_on": D1, "direction": "outgoing", "provider_id": "@service_provider", "reasons": ["safety"], "consent": "yes"},
        ("outcome", "accepted"),
        "Zainab",
    ),
    "service": ({"person_id": "@person", "beneficiary_role": "victim", "service_type": "shelter", "started_on": D1, "consent": "yes"}, ("ended_on", D2), "Zainab"),
    "awareness_session": (
        {"held_on": D1, "venue_type": "school", "audience_groups": ["students"], "participants": {"female": {"adult": 3, "child": 2}}, "topics": ["human_trafficking"]},
        ("materials_distributed", "25"),
        None,
    ),
    "training": (
        {"held_from": D1, "held_to": D2, "title": "Victim identification ToT", "topics": ["detection"], "trainees": {"fia_immigration": {"male": 5}}},
        ("hours", "12"),
        "Victim identification",
    ),
    "checkpoint_log": ({"log_date": D1, "checkpoint_type": "land_crossing", "passengers_screened": "1200"}, ("offloaded", "3"), None),
    "coordination_entity": ({"name": "Provincial Task Force KP", "level": "provincial"}, ("members_female", "4"), "Provincial"),
    "coordination_meeting": ({"entity_id": "@coordination_entity", "held_on": D1}, ("attendees", "14"), None),
    "coordination_gap": ({"identified_on": D1, "description": "No shelter for boys in the district"}, ("addressed_on", D2), None),
    "survey_response": ({"survey_topic": "victim_satisfaction_care", "responded_on": D1, "sex": "female", "age_group": "adult", "satisfaction": "4"}, ("district", "Khyber"), None),
    "milestone": ({"indicator": "1.2.e", "title": "SOPs for victim assistance", "progress": "planned"}, ("progress", "in_progress"), "SOPs"),
    "analysis_note": ({"written_on": D1, "title": "Shift to the Iran route", "lessons": "More screening at Taftan."}, ("lessons", "Screen at Taftan and Torkham."), "Iran route"),
    "data_access": ({"given_on": D1, "stakeholder": "Provincial Task Force", "stakeholder_type": "local_government"}, ("purpose", "Quarterly review"), "Provincial"),
}


def test_every_record_type_has_a_ui_case() -> None:
    assert set(CASES) == set(RECORD_TYPES)


def fill(qtbot: Any, form: RecordFormDialog, values: dict[str, Any], ids: dict[str, str]) -> None:
    """Types and clicks the values into the form's widgets."""
    for name, value in values.items():
        editor = form.editors[name]
        if value == "@consent":
            assert isinstance(editor, AnswersEditor)
            for item in HTCDS_CONSENT:
                click_box(qtbot, editor.buttons[(item, "yes")])
        elif isinstance(value, str) and value.startswith("@"):
            assert isinstance(editor, RefEditor)
            editor.set_ref(ids[value[1:]], value[1:])  # what the picker returns
        elif isinstance(editor, TextEditor | IntEditor):
            editor.edit.clear()
            qtbot.keyClicks(editor.edit, value)
        elif isinstance(editor, DateEditor):
            editor.field.edit.clear()
            qtbot.keyClicks(editor.field.edit, value.replace("-", ""))
            editor.field._normalise()  # noqa: SLF001 - what leaving the field does
        elif isinstance(editor, CodeEditor):
            combo = editor.combo
            combo.setCurrentIndex(combo.findData(value))
            assert combo.value() == value
        elif isinstance(editor, MatrixEditor):
            for r, row in value.items():
                for c, n in row.items():
                    editor.set_cell(r, c, n)
        elif hasattr(editor, "checks"):
            for code in value:
                click_box(qtbot, editor.checks.boxes[code])
        else:
            editor.set_value(value)


@pytest.fixture
def head_main(qtbot: Any, circle_path: Path, open_ws: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[MainWindow, Any, dict[str, str]]:
    ws = open_ws(circle_path, "head")
    ids = refs(ws)
    main = MainWindow(SessionRef(ws))  # NOTE: closed by the autouse fixture, which discards open forms first
    main.show()
    wait_idle(qtbot)
    monkeypatch.setattr(record_form, "confirm_delete", lambda _p, _w: True)
    import nap_desktop.ui.main_window as mw

    monkeypatch.setattr(mw, "confirm_delete", lambda _p, _w: True)
    return main, ws, ids


def _form_for(main: MainWindow) -> RecordFormDialog:
    forms = [f for f in main.forms if not closed(f)]
    assert len(forms) == 1
    return forms[0]


@pytest.mark.parametrize("type_name", list(CASES))
def test_create_edit_search_delete(qtbot: Any, head_main: Any, type_name: str) -> None:
    main, ws, ids = head_main
    values, (edit_field, edit_value), search = CASES[type_name]
    before = list_records(ws, type_name).total or 0
    view = main.show_type(type_name)
    wait_list(qtbot, view)
    assert view.new_button.isVisible()

    # Create: New, fill, Complete.
    qtbot.mouseClick(view.new_button, Qt.MouseButton.LeftButton)
    form = _form_for(main)
    fill(qtbot, form, values, ids)
    assert form.dirty
    assert form.complete_button.isEnabled()
    qtbot.mouseClick(form.complete_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot)
    assert form.banner.kind != "error", form.banner.text() + str({n: e.text() for n, e in form.errors.items() if e.text()})
    qtbot.waitUntil(lambda: closed(form), timeout=5000)
    page = list_records(ws, type_name)
    assert page.total == before + 1
    wait_list(qtbot, view)
    assert view.model.total == before + 1
    new_id = next(r.id for r in page.rows if r.id not in ids.values())
    dto = get_record(ws, new_id)
    assert dto.status == "complete" and dto.version == 1 and dto.unit == "C-PSH"

    # Edit: select the row, Open, change one field, Ctrl+S.
    assert view.select_id(new_id)
    qtbot.mouseClick(view.open_button, Qt.MouseButton.LeftButton)
    form = _form_for(main)
    qtbot.waitUntil(lambda: form.dto is not None, timeout=5000)
    wait_idle(qtbot)
    assert not form.dirty
    fill(qtbot, form, {edit_field: edit_value}, ids)
    assert form.dirty
    form.activateWindow()
    qtbot.keyClick(form, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot)
    qtbot.waitUntil(lambda: closed(form), timeout=5000)
    dto = get_record(ws, new_id)
    assert dto.version == 2
    expected = int(edit_value) if RECORD_TYPES[type_name].field(edit_field).kind == "int" else edit_value
    assert dto.values[edit_field] == expected
    assert any(h.field == edit_field for h in record_history(ws, new_id))

    # Search / filter through the filter bar.
    wait_list(qtbot, view)
    if search and text_search_kind(RECORD_TYPES[type_name]) and view.filter_bar.search_edit.isEnabled():
        qtbot.keyClicks(view.filter_bar.search_edit, search)
        qtbot.waitUntil(lambda: view.model.filter.text == search, timeout=3000)
        wait_list(qtbot, view)
        assert new_id in [r.id for r in view.model.rows()]
        view.filter_bar.search_edit.clear()
        qtbot.keyClicks(view.filter_bar.search_edit, "zzz-no-such-thing")
        qtbot.waitUntil(lambda: view.model.filter.text == "zzz-no-such-thing", timeout=3000)
        wait_list(qtbot, view)
        assert view.model.total == 0 and view.empty_label.isVisible()
        view.filter_bar.clear()
    else:
        combo = view.filter_bar.status_combo
        combo.setCurrentIndex(combo.findData("draft"))
        wait_list(qtbot, view)
        assert new_id not in [r.id for r in view.model.rows()]
        combo.setCurrentIndex(combo.findData("complete"))
        wait_list(qtbot, view)
        assert new_id in [r.id for r in view.model.rows()]
        view.filter_bar.clear()
    wait_list(qtbot, view)

    # Delete from the list (Delete key on the table), confirmed.
    assert view.select_id(new_id)
    view.table.setFocus()
    qtbot.keyClick(view.table, Qt.Key.Key_Delete)
    wait_idle(qtbot)
    wait_list(qtbot, view)
    assert get_record(ws, new_id).deleted
    assert (list_records(ws, type_name).total or 0) == before
    assert new_id not in [r.id for r in view.model.rows()]


def test_a_draft_can_be_saved_before_consent_and_completing_needs_it(qtbot: Any, head_main: Any) -> None:
    main, ws, ids = head_main
    form = main.open_record("screening", None)
    fill(qtbot, form, {"person_id": "@person", "location_type": "airport"}, ids)
    assert not form.complete_button.isEnabled(), "completion waits for the consent step"
    assert "consent" in form.gate_label.text()
    qtbot.mouseClick(form.draft_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot)
    drafts = list_records(ws, "screening", RecordFilter(status="draft")).rows
    assert len(drafts) == 1
    form = main.open_record("screening", drafts[0].id)
    qtbot.waitUntil(lambda: form.dto is not None)
    wait_idle(qtbot)
    consent = form.editors["consent"]
    assert isinstance(consent, AnswersEditor)
    for item in HTCDS_CONSENT[:-1]:
        click_box(qtbot, consent.buttons[(item, "yes")])
    assert not form.complete_button.isEnabled()
    click_box(qtbot, consent.buttons[(HTCDS_CONSENT[-1], "yes")])
    assert form.complete_button.isEnabled()
    # Completing without the outcome: the service's messages appear under the fields.
    qtbot.mouseClick(form.complete_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot)
    assert form.isVisible()
    assert form.errors["identification_status"].isVisible()
    assert form.errors["identification_status"].text() == "Required."
    assert form.banner.kind == "error"
    assert get_record(ws, drafts[0].id).status == "draft"


def test_validation_messages_are_in_urdu_in_the_urdu_ui(qtbot: Any, head_main: Any) -> None:
    from nap_desktop.ui import i18n

    main, ws, _ids = head_main
    i18n.set_language("ur")
    form = RecordFormDialog(main.ref, "checkpoint_log", None, parent=main)
    form.show()
    fill(qtbot, form, {"checkpoint_type": "airport", "passengers_screened": "5", "offloaded": "9"}, {})
    qtbot.mouseClick(form.complete_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot)
    text = form.errors["offloaded"].text()
    assert text and "سے زیادہ نہیں" in text


def test_unsaved_changes_are_guarded_on_esc(qtbot: Any, head_main: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    main, ws, _ids = head_main
    answers: list[str] = []

    def ask(_parent: Any) -> str:
        return answers.pop(0)

    monkeypatch.setattr(record_form, "ask_unsaved", ask)
    view = main.show_type("coordination_gap")
    wait_list(qtbot, view)
    with qtbot.waitActive(main):
        main.activateWindow()
    qtbot.keyClick(main.nav, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    form = _form_for(main)
    qtbot.keyClicks(form.editors["description"].edit, "Half typed")
    answers.append("cancel")
    qtbot.keyClick(form, Qt.Key.Key_Escape)
    assert form.isVisible() and answers == []
    answers.append("discard")
    qtbot.keyClick(form, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: closed(form))
    assert list_records(ws, "coordination_gap").total == 0
    # "Save" from the guard saves, then closes.
    with qtbot.waitActive(main):
        main.activateWindow()
    qtbot.keyClick(main.nav, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    form = _form_for(main)
    qtbot.keyClicks(form.editors["description"].edit, "Kept")
    answers.append("save")
    form.close()
    wait_idle(qtbot)
    qtbot.waitUntil(lambda: closed(form))
    assert list_records(ws, "coordination_gap").total == 1


def test_a_closed_form_without_changes_does_not_ask(qtbot: Any, head_main: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    main, _ws, _ids = head_main
    monkeypatch.setattr(record_form, "ask_unsaved", lambda _p: pytest.fail("asked without changes"))
    form = main.open_record("case", None)
    qtbot.keyClick(form, Qt.Key.Key_Escape)
    assert closed(form)


def test_duplicate_person_warning_while_typing(qtbot: Any, head_main: Any) -> None:
    main, ws, _ids = head_main
    create_record(ws, "person", {"given_name": "Nargis", "family_name": "Durrani", "cnic": "17301-7654321-4", "sex": "female", "citizenship": "pk"})
    form = main.open_record("person", None)
    qtbot.keyClicks(form.editors["cnic"].edit, "1730176543214")
    qtbot.waitUntil(lambda: form.duplicate_box.isVisible(), timeout=5000)
    assert "identity number" in form.duplicate_label.text()
    dup = form.duplicates[0].person_id
    qtbot.mouseClick(form.duplicate_open, Qt.MouseButton.LeftButton)
    other = [f for f in main.forms if f.record_id == dup]
    assert other, "the existing person opens"


def test_the_unit_box_shows_the_whole_name_and_code_of_the_unit(qtbot: Any, head_main: Any) -> None:
    """A circle head picks the unit of a new record: its name is not cut, so the code at the end
    (what tells two circles of one city apart) is seen."""
    main, _ws, _ids = head_main
    form = main.open_record("person", None)
    combo = form.unit_combo
    assert combo is not None and combo.currentText().endswith("(C-PSH)")
    assert combo.sizeHint().width() >= combo.fontMetrics().horizontalAdvance(combo.currentText())
    form.close()


def test_duplicate_warning_for_a_name_spelt_another_way(qtbot: Any, head_main: Any) -> None:
    """Known as "Muhammad Yousaf", typed as "Mohd Yusuf" with the same birth date: the warning
    says a name that sounds the same is there."""
    main, ws, _ids = head_main
    create_record(ws, "person", {"given_name": "Muhammad", "family_name": "Yousaf", "date_of_birth": "1991-03-04", "sex": "male", "citizenship": "pk"})
    form = main.open_record("person", None)
    form.editors["date_of_birth"].set_value("1991-03-04")
    qtbot.keyClicks(form.editors["given_name"].edit, "Mohd")
    qtbot.keyClicks(form.editors["family_name"].edit, "Yusuf")
    qtbot.waitUntil(lambda: form.duplicate_box.isVisible(), timeout=5000)
    assert "sounds the same" in form.duplicate_label.text()
    assert [c.reason for c in form.duplicates] == ["similar_name_and_birth_date"]


def test_links_open_the_linked_record_and_start_the_next_one(qtbot: Any, head_main: Any) -> None:
    main, ws, ids = head_main
    consent = {c: "yes" for c in HTCDS_CONSENT}
    scr = create_record(ws, "screening", {"person_id": ids["person"], "screened_on": D1, "location_type": "airport", "consent": consent, "identification_status": "not_a_victim", "decided_by": "fia"})
    form = main.open_record("screening", scr.id)
    qtbot.waitUntil(lambda: form.dto is not None)
    wait_idle(qtbot)
    assert "Zainab Afridi" in form.editors["person_id"].label.text()
    form.tabs.setCurrentIndex(2)
    wait_idle(qtbot)
    link = form.links_page.findChild(type(form.delete_button), "link_person_id")
    assert link is not None and "Zainab Afridi" in link.text()
    qtbot.mouseClick(link, Qt.MouseButton.LeftButton)
    person_form = [f for f in main.forms if f.record_id == ids["person"]][0]
    qtbot.waitUntil(lambda: person_form.dto is not None)
    # And back: the person's Links tab lists the screening that refers to her.
    person_form.tabs.setCurrentIndex(2)
    wait_idle(qtbot)
    back = person_form.links_page.findChild(type(form.delete_button), "backlink_screening")
    assert back is not None and D1 in back.text()
    qtbot.mouseClick(back, Qt.MouseButton.LeftButton)
    assert [f for f in main.forms if f.record_id == scr.id][0] is form, "the open screening is raised, not opened twice"
    follow = form.links_page.findChild(type(form.delete_button), "follow_referral")
    qtbot.mouseClick(follow, Qt.MouseButton.LeftButton)
    referral = [f for f in main.forms if f.rt.name == "referral"][0]
    assert referral.editors["person_id"].value() == ids["person"]
    assert referral.editors["screening_id"].value() == scr.id


def test_history_tab_shows_from_and_to(qtbot: Any, head_main: Any) -> None:
    from nap_desktop.services.records import update_record

    main, ws, ids = head_main
    update_record(ws, ids["service_provider"], {"district": "Peshawar"})
    form = main.open_record("service_provider", ids["service_provider"])
    qtbot.waitUntil(lambda: form.dto is not None)
    form.tabs.setCurrentWidget(form.history_table)
    wait_idle(qtbot)
    t = form.history_table
    rows = [[t.item(r, c).text() for c in range(t.columnCount())] for r in range(t.rowCount())]
    assert ["2", "District", "—", "Peshawar"] == rows[0][:4]
    assert rows[0][5] == "head"


def test_matrix_editor_totals(qtbot: Any, head_main: Any) -> None:
    main, _ws, _ids = head_main
    form = main.open_record("awareness_session", None)
    m = form.editors["participants"]
    assert isinstance(m, MatrixEditor)
    m.set_cell("female", "adult", 4)
    m.set_cell("male", "adult", 6)
    m.set_cell("female", "child", 2)
    nr, nc = len(m.rows), len(m.cols)
    assert m.table.item(nr, nc).text() == "12"
    assert m.value() == {"female": {"adult": 4, "child": 2}, "male": {"adult": 6}}
    # Typing into a cell with the keyboard.
    m.table.setCurrentCell(0, 0)
    m.table.setFocus()
    qtbot.keyClicks(m.table, "7")
    qtbot.keyClick(m.table.viewport().focusWidget() or m.table, Qt.Key.Key_Return)
    QApplication.processEvents()
    assert m.table.item(nr, nc).text() == str(12 - 2 + 7)


def test_roles_hide_what_they_cannot_do(qtbot: Any, circle_path: Path, open_ws: Any) -> None:
    ws = open_ws(circle_path, "officer")
    officer = MainWindow(SessionRef(ws))
    qtbot.addWidget(officer)
    assert officer.show_type("case").new_button.isHidden(), "officers do not manage cases"
    assert not officer.new_action.isEnabled()
    assert not officer.show_type("screening").new_button.isHidden()
    assert officer.new_action.isEnabled()
    ws.lock()  # one unlocked workspace per process (the write lock)
    auditor = MainWindow(SessionRef(open_ws(circle_path, "auditor")))
    qtbot.addWidget(auditor)
    assert auditor.nav.count() == 1, "no record lists for an auditor"
    assert not auditor.new_action.isEnabled()
    assert auditor.start_page.findChild(type(auditor.user_label), "noRecordsNote") is not None


def test_the_person_picker_finds_and_links_a_person(qtbot: Any, head_main: Any) -> None:
    from PySide6.QtCore import QTimer

    from nap_desktop.ui.record_list_view import RecordPickerDialog

    main, ws, ids = head_main
    create_record(ws, "person", {"given_name": "Imran", "family_name": "Akhtar", "sex": "male", "age_years": 33, "citizenship": "pk"})
    form = main.open_record("referral", None)
    editor = form.editors["person_id"]
    assert isinstance(editor, RefEditor)

    def drive() -> None:
        dlg = [w for w in QApplication.topLevelWidgets() if isinstance(w, RecordPickerDialog) and w.isVisible()][0]
        qtbot.keyClicks(dlg.view.filter_bar.search_edit, "Zainab")
        qtbot.waitUntil(lambda: dlg.view.model.filter.text == "Zainab" and not dlg.view.model.loading and dlg.view.model.rowCount() == 1)
        qtbot.mouseClick(dlg.choose_button, Qt.MouseButton.LeftButton)

    QTimer.singleShot(0, drive)
    qtbot.mouseClick(editor.choose_button, Qt.MouseButton.LeftButton)
    assert editor.value() == ids["person"]
    assert "Zainab Afridi" in editor.label.text()
    assert editor.open_button.isEnabled()


def test_import_a_file_on_the_writer_thread_with_the_list_refreshed(qtbot: Any, head_main: Any, tmp_path: Path) -> None:
    main, ws, _ids = head_main
    view = main.show_type("checkpoint_log")
    wait_list(qtbot, view)
    template = tmp_path / "template.csv"
    main.save_template(template)
    wait_idle(qtbot)
    assert template.read_text("utf-8-sig").splitlines()[0].startswith("log_date")
    src = tmp_path / "logs.csv"
    src.write_text("log_date,checkpoint_type,passengers_screened\n" + "".join(f"{D1},airport,{100 + i}\n" for i in range(3)), "utf-8")
    main.import_quietly = True
    op = main.import_records(src)
    assert op is not None
    qtbot.waitUntil(lambda: op.done, timeout=20_000)
    wait_list(qtbot, view)
    assert op.exception is None
    assert op.context.thread_id is not None
    assert list_records(ws, "checkpoint_log").total == 3
    assert view.model.total == 3
    assert "3 records imported" in main.statusBar().currentMessage()


def test_a_rejected_import_imports_nothing_and_says_why(qtbot: Any, head_main: Any, tmp_path: Path, shown_boxes: list[Any]) -> None:
    main, ws, _ids = head_main
    main.show_type("checkpoint_log")
    src = tmp_path / "bad.csv"
    src.write_text(f"log_date,checkpoint_type,passengers_screened\n{D1},airport,10\n{D1},no-such-place,5\n", "utf-8")
    op = main.import_records(src)
    qtbot.waitUntil(lambda: op.done, timeout=20_000)
    assert list_records(ws, "checkpoint_log").total == 0
    assert shown_boxes and "no-such-place" in shown_boxes[-1].text()


def test_links_go_both_ways_along_victim_case_suspect_referral_service(qtbot: Any, head_main: Any) -> None:
    main, ws, ids = head_main
    suspect_person = create_record(ws, "person", {"given_name": "Rafiq", "family_name": "Shinwari", "sex": "male", "citizenship": "pk", "age_years": 40})
    case = create_record(ws, "case", {"registered_on": D1, "case_type": "tip_transnational", "offences": ["ptpa_2018_s3"], "fir_number": "FIR 7/2026",
                                      "parties": [{"person_id": ids["person"], "party_role": "victim"}]})
    suspect = create_record(ws, "suspect", {"person_id": suspect_person.id, "case_id": case.id, "identified_on": D1, "roles": ["recruiter_or_intermediary"], "arrest_status": "arrested"})

    def links_of(type_name: str, rid: str) -> dict[str, str]:
        form = main.open_record(type_name, rid)
        qtbot.waitUntil(lambda: form.dto is not None)
        form.tabs.setCurrentWidget(form.links_scroll)
        wait_idle(qtbot)
        buttons = form.links_page.findChildren(type(form.delete_button))
        return {b.objectName(): b.text() for b in buttons if b.objectName().startswith(("link_", "backlink_"))}

    case_links = links_of("case", case.id)
    assert "Victim: Zainab Afridi" in case_links["link_parties"]
    assert "Rafiq Shinwari" in case_links["backlink_suspect"]
    person_links = links_of("person", ids["person"])
    assert "FIR 7/2026" in person_links["backlink_case"]
    suspect_links = links_of("suspect", suspect.id)
    assert set(suspect_links) >= {"link_person_id", "link_case_id"}
    # A link opens the record's own form.
    form = [f for f in main.forms if f.record_id == suspect.id][0]
    qtbot.mouseClick(form.links_page.findChild(type(form.delete_button), "link_case_id"), Qt.MouseButton.LeftButton)
    assert [f for f in main.forms if f.record_id == case.id and f.isVisible()]


def test_milestone_evidence_is_attached_into_the_store_and_saved_as_a_copy(qtbot: Any, head_main: Any, tmp_path: Path) -> None:
    from nap_desktop.services.records import get_evidence

    main, ws, _ids = head_main
    new = main.open_record("milestone", None)
    assert not new.attach_button.isEnabled() and "Save the milestone first" in new.evidence_hint.text()
    new._discard = True  # noqa: SLF001
    new.close()
    ms = create_record(ws, "milestone", {"indicator": "2.1.a", "title": "Victim assistance SOPs notified", "progress": "achieved"})
    form = main.open_record("milestone", ms.id)
    qtbot.waitUntil(lambda: form.dto is not None)
    wait_idle(qtbot)
    assert form.attach_button.isEnabled() and not form.save_evidence_button.isEnabled()
    assert form.editors["evidence_name"].read_only, "the file name is set by attaching, not typed"
    src = tmp_path / "SOP notification.pdf"
    src.write_bytes(b"%PDF-1.4 signed notification")
    form.attach_evidence(src)
    wait_idle(qtbot)
    assert get_evidence(ws, ms.id) == ("SOP notification.pdf", b"%PDF-1.4 signed notification")
    assert form.editors["evidence_name"].value() == "SOP notification.pdf"
    assert form.dto.version == 2 and not form.dirty
    assert form.save_evidence_button.isEnabled()
    form.attach_evidence(tmp_path / "missing.pdf")
    wait_idle(qtbot)
    assert "cannot be read" in form.banner.text()
    out = tmp_path / "copy" / "evidence.pdf"
    out.parent.mkdir()
    form.save_evidence(out)
    wait_idle(qtbot)
    assert out.read_bytes() == b"%PDF-1.4 signed notification"
    # The form still saves: the attach moved the version on, and the form knows it.
    form.editors["title"].set_value("Victim assistance SOPs notified and printed")
    form.save("complete")
    wait_idle(qtbot)
    assert get_record(ws, ms.id).values["title"] == "Victim assistance SOPs notified and printed"
