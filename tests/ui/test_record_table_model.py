# SPDX-License-Identifier: GPL-3.0-or-later
"""The record list model: lazy pages, columns per type, sorting, masking — and Qt's model tester."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtTest import QAbstractItemModelTester

from nap_desktop.services.records import RecordFilter, create_record
from nap_desktop.ui.record_table_model import MASK, RecordSortProxyModel, RecordTableModel, RowRole, SortRole
from nap_desktop.ui.session import SessionRef
from tests.ui.helpers import wait_idle

N = 130


@pytest.fixture
def logs(circle_path: Path, open_ws: Any) -> Any:
    ws = open_ws(circle_path, "head")
    start = date.today() - timedelta(days=N)
    for i in range(N):
        create_record(ws, "checkpoint_log", {"log_date": (start + timedelta(days=i)).isoformat(), "checkpoint_type": "land_crossing", "passengers_screened": 1000 + i}, status="draft" if i % 10 == 0 else "complete")
    return ws


def _tester(model: Any) -> QAbstractItemModelTester:
    return QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Fatal)


def test_lazy_pages_with_the_model_tester(qtbot: Any, logs: Any) -> None:
    model = RecordTableModel(SessionRef(logs), "checkpoint_log", page_size=50)
    tester = _tester(model)
    model.reload()
    qtbot.waitUntil(lambda: model.total == N and not model.loading)
    wait_idle(qtbot)
    assert model.rowCount() == 50
    assert model.canFetchMore(QModelIndex())
    while model.canFetchMore(QModelIndex()):
        before = model.rowCount()
        model.fetchMore(QModelIndex())
        qtbot.waitUntil(lambda b=before: model.rowCount() > b and not model.loading)
        wait_idle(qtbot)
    assert model.rowCount() == N and model.fully_loaded
    assert not model.canFetchMore(QModelIndex())
    dates = [model.row_at(i).date for i in range(N)]
    assert dates == sorted(dates, reverse=True), "newest first"
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers == ["Date", "Checkpoint", "Passengers screened", "Status", "Unit"]
    assert model.index(0, 1).data() == "Land border crossing" or model.index(0, 1).data()
    assert model.index(0, 2).data() == f"{1000 + N - 1:,}"
    assert model.index(0, 2).data(SortRole) == float(1000 + N - 1)
    assert model.index(0, 0).data(RowRole).type == "checkpoint_log"
    model.set_filter(RecordFilter(status="draft"))
    qtbot.waitUntil(lambda: model.total == N // 10 and not model.loading)
    wait_idle(qtbot)
    assert model.rowCount() == N // 10
    del tester


def test_sync_mode_and_the_sort_proxy_with_the_model_tester(qtbot: Any, logs: Any) -> None:
    model = RecordTableModel(SessionRef(logs), "checkpoint_log", page_size=40, sync=True)
    proxy = RecordSortProxyModel()
    proxy.setSourceModel(model)
    t1, t2 = _tester(model), _tester(proxy)
    model.reload()
    assert model.rowCount() == 40 and model.total == N
    model.fetch_all()
    assert model.rowCount() == N
    proxy.sort(2, Qt.SortOrder.AscendingOrder)
    values = [proxy.index(r, 2).data(SortRole) for r in range(proxy.rowCount())]
    assert values == sorted(values)
    proxy.sort(2, Qt.SortOrder.DescendingOrder)
    assert proxy.index(0, 2).data() == f"{1000 + N - 1:,}"
    del t1, t2


def test_person_columns_are_masked_without_personal_access(qtbot: Any, hq_path: Path, open_ws: Any) -> None:
    head = open_ws(hq_path, "head")
    create_record(head, "person", {"given_name": "Ruksana", "family_name": "Mengal", "sex": "female", "age_years": 17, "citizenship": "pk"}, unit="C-PSH")
    head.lock()
    analyst = open_ws(hq_path, "analyst")
    model = RecordTableModel(SessionRef(analyst), "person", sync=True)
    tester = _tester(model)
    model.reload()
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers[:2] == ["Created on", "Name"]
    row = {headers[c]: model.index(0, c).data() for c in range(model.columnCount())}
    assert row["Name"] == MASK
    assert (row["Sex"], row["Age"], row["Citizenship"]) == ("Female", "17", "Pakistan")
    assert "personal data" in model.index(0, 1).data(Qt.ItemDataRole.ToolTipRole)
    del tester


def test_the_first_page_comes_before_its_count_which_is_kept_per_filter(qtbot: Any, logs: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from nap_desktop.ui import record_table_model as rtm

    counted: list[tuple[RecordFilter, int]] = []
    real = rtm.count_records

    def spy(ws: Any, type_name: str, flt: Any = None) -> int:
        counted.append((flt, threading.get_ident()))
        return real(ws, type_name, flt)

    monkeypatch.setattr(rtm, "count_records", spy)
    model = RecordTableModel(SessionRef(logs), "checkpoint_log", page_size=50)
    tester = _tester(model)
    totals: list[object] = []
    model.total_changed.connect(totals.append)
    model.reload()
    qtbot.waitUntil(lambda: model.total == N and not model.loading)
    wait_idle(qtbot)
    assert model.rowCount() == 50 and totals == [N]
    assert len(counted) == 1 and counted[0][1] != threading.get_ident(), "counted on a worker"
    model.set_filter(RecordFilter(status="draft"))
    qtbot.waitUntil(lambda: model.total == N // 10)
    wait_idle(qtbot)
    assert len(counted) == 1, "a first page shorter than a page is its own count"
    model.set_filter(RecordFilter())
    qtbot.waitUntil(lambda: model.first_page_loaded)
    wait_idle(qtbot)
    assert model.total == N and len(counted) == 1, "the total of a filter seen before is remembered"
    model.reload()  # records changed: counted again
    qtbot.waitUntil(lambda: model.total == N)
    wait_idle(qtbot)
    assert len(counted) == 2
    del tester


def test_sorting_by_a_column_reloads_in_the_services_order(qtbot: Any, logs: Any) -> None:
    from nap_desktop.ui.record_list_view import RecordListView

    view = RecordListView(SessionRef(logs), "checkpoint_log")
    qtbot.addWidget(view)
    tester = _tester(view.model)
    qtbot.waitUntil(lambda: view.model.total == N and not view.model.loading)
    wait_idle(qtbot)
    col = [c.key for c in view.model.columns].index("summary.passengers_screened")
    assert view.model.sort_key_of(col) == "passengers_screened"
    view.table.horizontalHeader().setSortIndicator(col, Qt.SortOrder.AscendingOrder)
    qtbot.waitUntil(lambda: view.model.order == ("passengers_screened", False) and view.model.first_page_loaded)
    wait_idle(qtbot)
    assert view.model.rowCount() == 100 < N, "one page, not every row"
    first = [view.proxy.index(r, col).data(SortRole) for r in range(5)]
    assert first == [1000.0, 1001.0, 1002.0, 1003.0, 1004.0], "the smallest of all records, not of a loaded page"
    view.table.horizontalHeader().setSortIndicator(col, Qt.SortOrder.DescendingOrder)
    qtbot.waitUntil(lambda: view.model.order == ("passengers_screened", True) and view.model.first_page_loaded)
    wait_idle(qtbot)
    assert view.proxy.index(0, col).data(SortRole) == float(1000 + N - 1)
    del tester


def test_sorting_by_name_sorts_the_loaded_rows_and_keeps_the_columns(qtbot: Any, circle_path: Path, open_ws: Any) -> None:
    """The name is not an order of the service: the loaded rows are sorted (through the proxy);
    a column the service orders by shows the model itself again; the column widths stay."""
    from nap_desktop.ui.record_list_view import RecordListView

    ws = open_ws(circle_path, "head")
    for given in ("Zarmina", "Asma", "Moska", "Bibi"):
        create_record(ws, "person", {"given_name": given, "family_name": "Sortkhan", "sex": "female", "age_years": 30, "citizenship": "pk"})
    view = RecordListView(SessionRef(ws), "person")
    qtbot.addWidget(view)
    tester = _tester(view.model)
    qtbot.waitUntil(lambda: view.model.total == 4 and not view.model.loading)
    wait_idle(qtbot)
    assert view.table.model() is view.model, "no proxy in the way while the service orders the list"
    name_col = [c.key for c in view.model.columns].index("name")
    view.table.setColumnWidth(name_col, 333)
    view.table.horizontalHeader().setSortIndicator(name_col, Qt.SortOrder.AscendingOrder)
    qtbot.waitUntil(lambda: view.table.model() is view.proxy)
    shown = view.table.model()
    assert [shown.index(r, name_col).data() for r in range(4)] == [f"{g} Sortkhan" for g in ("Asma", "Bibi", "Moska", "Zarmina")]
    assert view.table.columnWidth(name_col) == 333
    assert view.table.horizontalHeader().sortIndicatorSection() == name_col
    assert view.current_row() is not None
    view.table.horizontalHeader().setSortIndicator(0, Qt.SortOrder.DescendingOrder)  # the date: the service's order
    qtbot.waitUntil(lambda: view.table.model() is view.model and view.model.first_page_loaded)
    wait_idle(qtbot)
    assert view.table.columnWidth(name_col) == 333
    assert view.select_id(view.model.row_at(3).id) and view.current_row() == view.model.row_at(3)
    del tester
