# SPDX-License-Identifier: GPL-3.0-or-later
"""The dashboard and the indicator explorer: values as the engine computes them, the change
against the previous period, breakdown table and chart, drill-down to the records (for roles that
may read them) that opens a record, work on workers with progress, and Urdu."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtTest import QAbstractItemModelTester
from PySide6.QtWidgets import QApplication

from nap_desktop.domain.framework import default_framework
from nap_desktop.reports.engine import compute_indicators, drill_down
from nap_desktop.services.demo_data import generate_demo_records
from nap_desktop.services.workspace import open_workspace
from nap_desktop.ui import i18n
from nap_desktop.ui.dashboard_view import DashboardView
from nap_desktop.ui.indicator_explorer import BreakdownTableModel, DrillTableModel, IndicatorExplorerView, KeyRole
from nap_desktop.ui.indicator_labels import KEYS, OBJECTIVES, change_text, format_value, key_label
from nap_desktop.ui.main_window import MainWindow
from nap_desktop.ui.session import SessionRef
from tests.ui.conftest import PASSWORDS
from tests.ui.helpers import closed, wait_idle


@pytest.fixture(scope="module")
def _demo_master(_masters: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The circle workspace with 800 demo records (two years up to today), built once."""
    path = tmp_path_factory.mktemp("indicators") / "circle"
    shutil.copytree(_masters["circle"], path)
    ws = open_workspace(path, "head", PASSWORDS["head"])
    try:
        for _ in generate_demo_records(ws, 800, seed=5):
            pass
    finally:
        ws.lock()
    return path


@pytest.fixture
def demo_path(_demo_master: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "demo"
    shutil.copytree(_demo_master, dst)
    return dst


def _tester(model: Any) -> QAbstractItemModelTester:
    return QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Fatal)


def test_the_dashboard_shows_each_indicator_and_its_change_computed_off_the_gui_thread(qtbot: Any, demo_path: Path, open_ws: Any) -> None:
    ws = open_ws(demo_path, "head")
    view = DashboardView(SessionRef(ws))
    qtbot.addWidget(view)
    view.resize(1200, 800)
    view.show()
    progress: list[tuple[int, int]] = []
    op = view.refresh()
    assert op is not None
    op.signals.progress.connect(lambda d, t, _l: progress.append((d, t)))
    wait_idle(qtbot, 60_000)
    assert view.loaded
    assert op.context.thread_id is not None and op.context.thread_id != threading.get_ident(), "computed on a worker"
    assert progress and progress[-1] == (2, 2)
    period, scope = view.period, view.scope
    assert scope == "C-PSH"
    current = compute_indicators(ws, period=period, scope=scope)
    previous = compute_indicators(ws, period=period.previous(), scope=scope)
    fw = default_framework()
    assert len(view.tiles) == 7
    for ind in fw:
        tile = view.tiles[ind.objective]
        assert tile.value_labels[ind.code].text() == format_value(current[ind.code])
        if current[ind.code].kind in ("count", "percent"):
            assert tile.change_labels[ind.code].text() == change_text(current[ind.code], previous[ind.code])
    v, p = current["1.3.a"], previous["1.3.a"]
    assert v.value and view.tiles[1].value_labels["1.3.a"].text() == f"{v.value:,}"
    expected = "= same" if v.value == p.value else ("▲ " if v.value > p.value else "▼ ") + f"{abs(v.value - p.value):,}"
    assert view.tiles[1].change_labels["1.3.a"].text() == expected
    pairs = {pair.label: pair for pair in view.tiles[1].chart.pairs}
    assert pairs["1.3.a"].current == v.value and pairs["1.3.a"].previous == p.value
    assert "compared with" in view.status_label.text()


def test_changing_the_period_recomputes_and_a_cancelled_run_shows_nothing(qtbot: Any, demo_path: Path, open_ws: Any) -> None:
    ws = open_ws(demo_path, "head")
    view = DashboardView(SessionRef(ws))
    qtbot.addWidget(view)
    first = view.refresh()
    first.cancel()
    wait_idle(qtbot, 60_000)
    assert not view.loaded and view.tiles[1].value_labels["1.3.a"].text() == "…"
    view.period_picker.kind_combo.setCurrentIndex(2)  # years: recomputes for this year
    wait_idle(qtbot, 60_000)
    assert view.loaded and view.current is not None and view.current.period.kind == "year"
    assert view.tiles[1].value_labels["1.3.a"].text() == format_value(compute_indicators(ws, period=view.period, scope="C-PSH")["1.3.a"])


def test_the_breakdown_model_passes_the_model_tester_and_adds_up(qtbot: Any, demo_path: Path, open_ws: Any) -> None:
    ws = open_ws(demo_path, "head")
    view = IndicatorExplorerView(SessionRef(ws))
    qtbot.addWidget(view)
    tester = _tester(view.model)
    proxy_tester = _tester(view.proxy)
    view.show_indicator("1.3.a")
    wait_idle(qtbot, 60_000)
    value = view.value
    assert value is not None and value.value
    i = view.dim_combo.findData("sex")
    view.dim_combo.setCurrentIndex(i)
    model = view.model
    keys = [model.index(r, 0).data(KeyRole) for r in range(model.rowCount())]
    assert keys == list(value.breakdown["sex"])
    numbers = [value.breakdown["sex"][k] for k in keys]
    assert [model.index(r, 1).data() for r in range(model.rowCount())] == [f"{n:,}" for n in numbers]
    assert sum(numbers) == value.value and model.columnCount() == 3, "sex adds up: the share column shows"
    assert [b.label for b in view.chart.bars] == [model.index(r, 0).data() for r in range(model.rowCount())]
    view.table.sortByColumn(1, Qt.SortOrder.DescendingOrder)
    shown = [view.proxy.index(r, 1).data(Qt.ItemDataRole.UserRole + 2) for r in range(view.proxy.rowCount())]
    assert shown == sorted(shown, reverse=True)
    # A percent indicator: numerator and denominator columns.
    view.show_indicator("7.1.a")
    wait_idle(qtbot, 60_000)
    assert view.model.columnCount() == 4 and view.model.headerData(2, Qt.Orientation.Horizontal) == "Numerator"
    view.dim_combo.setCurrentIndex(0)
    assert view.model.rowCount() == 1 and view.model.index(0, 0).data() == "Total"
    del tester, proxy_tester


def test_drill_down_lists_the_records_behind_a_line_and_opens_one(qtbot: Any, demo_path: Path, open_ws: Any) -> None:
    ws = open_ws(demo_path, "head")
    main = MainWindow(SessionRef(ws))
    main.show()
    wait_idle(qtbot, 60_000)
    view = main.show_indicator("1.3.a")
    wait_idle(qtbot, 60_000)
    assert main.stack.currentWidget() is view and main.current_type() is None
    view.dim_combo.setCurrentIndex(view.dim_combo.findData("sex"))
    key = max(view.value.breakdown["sex"], key=lambda k: view.value.breakdown["sex"][k])
    row = next(r for r in range(view.proxy.rowCount()) if view.proxy.index(r, 0).data(KeyRole) == key)
    view.table.setCurrentIndex(view.proxy.index(row, 0))
    assert view.drill_button.isVisible() and "selected line" in view.drill_button.text()
    tester = _tester(view.drill_model)
    op = view.drill()
    wait_idle(qtbot, 60_000)
    expected = drill_down(ws, "1.3.a", period=view.period_picker.period(), scope="C-PSH", disaggregation="sex", key=key)
    assert view.drill_result is not None and view.drill_result.count == expected.count > 0
    assert {r.id for r in view.drill_result.rows} == set(expected.records["screening"])
    assert op.context.thread_id != threading.get_ident()
    assert all(view.drill_model.index(r, 0).data() == "Screening" for r in range(view.drill_model.rowCount()))
    first = view.drill_proxy.index(0, 0)
    rec = first.data(Qt.ItemDataRole.UserRole + 3)
    view.drill_table.doubleClicked.emit(first)
    form = [f for f in main.forms if f.record_id == rec.id]
    assert form and not closed(form[0])
    del tester


def test_a_national_analyst_sees_masked_names_and_an_auditor_has_no_indicator_pages(qtbot: Any, hq_path: Path, open_ws: Any) -> None:
    from nap_desktop.services.records import RecordRow

    analyst = open_ws(hq_path, "analyst")
    view = IndicatorExplorerView(SessionRef(analyst))
    qtbot.addWidget(view)
    assert view.scope_combo.itemData(0) == "HQ" and view.scope_combo.itemText(0) == "National"
    assert view.may_drill
    model = DrillTableModel(view.ref)
    tester = _tester(model)
    from datetime import date

    model.set_rows([RecordRow(id="x", type="person", unit="C-PSH", status="complete", date=date(2026, 1, 2), summary={}, sex="female", age_years=30, citizenship="pk", name=None)])
    assert model.index(0, 2).data().startswith("•••"), "no access to personal data: the name is masked"
    del tester
    analyst.lock()
    from nap_desktop.services.users import add_user
    from tests.conftest import ADMIN, ADMIN_PW

    admin = open_workspace(hq_path, ADMIN, ADMIN_PW)
    add_user(admin, username="logs", full_name="HQ Auditor", role="auditor", unit="HQ", password=PASSWORDS["auditor"], must_change_password=False)
    admin.lock()
    auditor = open_ws(hq_path, "logs", PASSWORDS["auditor"])
    main = MainWindow(SessionRef(auditor))
    keys = [main.nav.item(i).data(Qt.ItemDataRole.UserRole) for i in range(main.nav.count())]
    assert "__dashboard__" not in keys and "__indicators__" not in keys


def test_every_framework_label_has_urdu_and_the_screens_have_no_english_left(qtbot: Any, demo_path: Path, open_ws: Any) -> None:
    import json

    from tests.ui.test_i18n import english_left, visible_texts

    table = json.loads((i18n.i18n_dir() / "ur.json").read_text("utf-8"))
    fw = default_framework()
    texts = {i.short_en for i in fw} | {i.unit for i in fw} | {d.label_en for d in fw.disaggregations.values()}
    texts |= set(OBJECTIVES.values()) | set(KEYS.values())
    assert sorted(t for t in texts if t not in table) == []
    i18n.set_language("ur")
    ws = open_ws(demo_path, "head")
    ref = SessionRef(ws)
    dash = DashboardView(ref)
    qtbot.addWidget(dash)
    dash.show()
    dash.refresh()
    wait_idle(qtbot, 60_000)
    assert dash.layoutDirection() == Qt.LayoutDirection.RightToLeft
    data = {"1"}  # indicator codes are kept as they are (1.3.a); ALLOWED in english_left covers digits
    codes = {ind.code for ind in fw}
    bad = english_left(visible_texts(dash), data | codes)
    explorer = IndicatorExplorerView(ref)
    qtbot.addWidget(explorer)
    explorer.show()
    explorer.show_indicator("1.3.a")
    wait_idle(qtbot, 60_000)
    for d in range(explorer.dim_combo.count()):
        explorer.dim_combo.setCurrentIndex(d)
        assert not explorer.wording_label.isVisibleTo(explorer), "the plan's English words are a tooltip in Urdu"
        bad += english_left(visible_texts(explorer), codes)
        bad += english_left([explorer.model.index(r, 0).data() for r in range(explorer.model.rowCount())], codes | _free_text_keys(explorer))
    explorer.drill()
    wait_idle(qtbot, 60_000)
    bad += english_left([explorer.drill_model.index(r, c).data() for r in range(min(5, explorer.drill_model.rowCount())) for c in range(4)], _names(explorer))
    assert sorted(set(bad)) == []
    assert i18n.missing_translations() == set()


def _free_text_keys(explorer: IndicatorExplorerView) -> set[str]:
    """Districts are shown as recorded (free text, often in English)."""
    v = explorer.value
    return set(v.breakdown.get("district", {})) if v is not None else set()


def _names(explorer: IndicatorExplorerView) -> set[str]:
    return {r.name for r in explorer.drill_model.rows if r.name}
