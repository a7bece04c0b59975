# SPDX-License-Identifier: GPL-3.0-or-later
"""A role without personal-data access sees masked columns and cannot open identity fields."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nap_desktop.domain.records import RECORD_TYPES
from nap_desktop.domain.validation import HTCDS_CONSENT
from nap_desktop.services.records import create_record
from nap_desktop.ui.field_editors import TextEditor
from nap_desktop.ui.main_window import MainWindow
from nap_desktop.ui.record_table_model import MASK
from nap_desktop.ui.session import SessionRef
from tests.ui.helpers import wait_idle, wait_list


def _seed(hq_path: Path, open_ws: Any) -> dict[str, str]:
    head = open_ws(hq_path, "head")
    p = create_record(head, "person", {"given_name": "Shabnam", "family_name": "Rind", "cnic": "42101-1234567-8", "sex": "female", "age_years": 22, "citizenship": "pk"}, unit="C-PSH")
    s = create_record(
        head,
        "screening",
        {"person_id": p.id, "screened_on": "2025-01-05", "location_type": "airport", "consent": {c: "yes" for c in HTCDS_CONSENT}, "identification_status": "not_a_victim", "decided_by": "fia", "narrative": "Said the agent kept her passport."},
        unit="C-PSH",
    )
    head.lock()
    return {"person": p.id, "screening": s.id}


def test_analyst_sees_masked_names_and_locked_identity_fields(qtbot: Any, hq_path: Path, open_ws: Any) -> None:
    ids = _seed(hq_path, open_ws)
    ws = open_ws(hq_path, "analyst")
    main = MainWindow(SessionRef(ws))
    main.show()
    view = main.show_type("screening")
    wait_list(qtbot, view)
    names = [view.model.index(r, 1).data() for r in range(view.model.rowCount())]
    assert names == [MASK]
    assert not view.filter_bar.search_edit.isEnabled(), "no searching by name without access"
    assert view.new_button.isHidden() and view.delete_button.isHidden(), "analysts do not capture"

    form = main.open_record("person", ids["person"])
    qtbot.waitUntil(lambda: form.dto is not None)
    wait_idle(qtbot)
    personal = RECORD_TYPES["person"].personal_fields
    for name in personal:
        editor = form.editors[name]
        assert editor.masked and editor.read_only
        if isinstance(editor, TextEditor):
            assert editor.edit.text() in (MASK, "") and not editor.edit.isEnabled()
    assert form.editors["cnic"].edit.text() == MASK
    assert "42101" not in form.windowTitle() and "Shabnam" not in form.windowTitle()
    assert form.editors["sex"].value() == "female", "non-identity fields stay visible"
    assert form.complete_button.isHidden() and form.draft_button.isHidden()
    assert form.banner.isVisible() and "hidden" in form.banner.text()

    scr = main.open_record("screening", ids["screening"])
    qtbot.waitUntil(lambda: scr.dto is not None)
    wait_idle(qtbot)
    assert scr.editors["narrative"].masked
    assert MASK in scr.editors["person_id"].label.text()
    # The history does not reveal identity values either.
    form.tabs.setCurrentWidget(form.history_table)
    wait_idle(qtbot)
    texts = {form.history_table.item(r, c).text() for r in range(form.history_table.rowCount()) for c in range(6)}
    assert not any("Shabnam" in t or "42101" in t for t in texts)


def test_head_sees_the_names(qtbot: Any, hq_path: Path, open_ws: Any) -> None:
    ids = _seed(hq_path, open_ws)
    ws = open_ws(hq_path, "head")
    main = MainWindow(SessionRef(ws))
    view = main.show_type("person")
    wait_list(qtbot, view)
    assert [view.model.index(r, 1).data() for r in range(view.model.rowCount())] == ["Shabnam Rind"]
    form = main.open_record("person", ids["person"])
    qtbot.waitUntil(lambda: form.dto is not None)
    assert form.editors["cnic"].value() == "42101-1234567-8" and not form.editors["cnic"].read_only
