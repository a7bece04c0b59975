# SPDX-License-Identifier: GPL-3.0-or-later
"""The indicator explorer: pick an indicator, a period, a scope and a breakdown; see the value,
a table and a bar chart of the breakdown; and, for roles that may read the records, drill down
from the value (or one line of the breakdown) to the records behind it, and open them.

Values come from ``reports.engine.compute_indicators`` and the records behind them from
``reports.engine.drill_down`` + ``services.records.rows_by_id``, all on workers with progress.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from nap_desktop.domain.codelists import CodeLists
from nap_desktop.domain.framework import Framework, Indicator, default_framework
from nap_desktop.domain.records import RECORD_TYPES
from nap_desktop.errors import Cancelled, UserFacingError
from nap_desktop.reports.engine import IndicatorReport, IndicatorValue, Period, compute_indicators, drill_down
from nap_desktop.security.permissions import Perm
from nap_desktop.services.progress import Progress
from nap_desktop.services.records import RecordRow, rows_by_id
from nap_desktop.ui.charts import Bar, BarChart
from nap_desktop.ui.errors import show_exception, user_message
from nap_desktop.ui.i18n import fmt_int, language, ltr, pick, rtl_mark, tr
from nap_desktop.ui.indicator_labels import (
    disaggregation_label,
    format_number,
    format_value,
    indicator_label,
    key_label,
    period_label,
    status_detail,
    unit_label,
)
from nap_desktop.ui.labels import row_details
from nap_desktop.ui.report_controls import PeriodPicker, ScopeCombo
from nap_desktop.ui.session import SessionRef
from nap_desktop.ui.widgets import heading
from nap_desktop.ui.workers import Op, run_op

logger = logging.getLogger(__name__)

KeyRole = Qt.ItemDataRole.UserRole + 1
SortRole = Qt.ItemDataRole.UserRole + 2
RowRole = Qt.ItemDataRole.UserRole + 3
DRILL_LIMIT = 1000

_Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class BreakdownRow:
    key: str | None  # None: the total
    label: str
    value: float | int | None
    numerator: float | int | None = None
    denominator: float | int | None = None


class BreakdownTableModel(QAbstractTableModel):
    """One indicator's breakdown: a line per key (or the total), with its value and, for
    percents, numerator and denominator; for counts that add up, each key's share."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.kind = "count"
        self.rows: list[BreakdownRow] = []
        self.total: float | int | None = None
        self.additive = False

    def set_value(self, fw: Framework, cl: CodeLists, value: IndicatorValue | None, dim: str | None) -> None:
        self.beginResetModel()
        self.rows = []
        self.kind = value.kind if value is not None else "count"
        self.total = value.value if value is not None else None
        self.additive = bool(value is not None and dim in value.additive and value.kind in ("count", "change"))
        if value is not None:
            if dim is None or dim not in value.breakdown:
                self.rows = [BreakdownRow(None, tr("Total"), value.value, value.numerator, value.denominator)]
            else:
                fractions = value.fractions.get(dim, {})
                for key, n in value.breakdown[dim].items():
                    num, den = fractions.get(key, (None, None))
                    self.rows.append(BreakdownRow(key, key_label(fw, cl, dim, key), n, num, den))
        self.endResetModel()

    def _headers(self) -> list[str]:
        if self.kind == "percent":
            return [tr("Breakdown"), tr("Percent"), tr("Numerator"), tr("Denominator")]
        if self.additive:
            return [tr("Breakdown"), tr("Value"), tr("Share")]
        return [tr("Breakdown"), tr("Value")]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._headers())

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(self._headers()):
            return self._headers()[section]
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def _cell(self, row: BreakdownRow, col: int) -> tuple[str, Any]:
        if col == 0:
            return row.label, row.label.casefold()
        if col == 1:
            return format_number(self.kind, row.value), -1e18 if row.value is None else float(row.value)
        if self.kind == "percent":
            n = row.numerator if col == 2 else row.denominator
            return format_number("count", n), -1e18 if n is None else float(n)
        share = None if not self.total or row.value is None else 100.0 * float(row.value) / float(self.total)
        return format_number("percent", share), -1e18 if share is None else share

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows) or not 0 <= index.column() < self.columnCount():
            return None
        row = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._cell(row, index.column())[0]
        if role == SortRole:
            return self._cell(row, index.column())[1]
        if role == KeyRole:
            return row.key
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() > 0:
            return int(Qt.AlignmentFlag.AlignTrailing | Qt.AlignmentFlag.AlignVCenter)
        return None


class DrillTableModel(QAbstractTableModel):
    """The records behind a value: type, date, a one-line label (names only where allowed), unit."""

    def __init__(self, ref: SessionRef, parent: Any = None) -> None:
        super().__init__(parent)
        self.ref = ref
        self.rows: list[RecordRow] = []
        self.headers = [tr("Record"), tr("Date"), tr("Details"), tr("Unit")]

    def set_rows(self, rows: list[RecordRow]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.headers)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(self.headers):
            return self.headers[section]
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def _text(self, row: RecordRow, col: int) -> str:
        rt = RECORD_TYPES[row.type]
        if col == 0:
            return pick(rt.label_en, rt.label_ur)
        if col == 1:
            return row.date.isoformat() if row.date else ""
        if col == 2:
            masked = not self.ref.can(Perm.PERSONAL_VIEW, unit=row.unit)
            return row_details(row, self.ref.codelists, masked=masked)
        return self.ref.unit_name(row.unit)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows) or not 0 <= index.column() < len(self.headers):
            return None
        row = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, index.column())
        if role == SortRole:
            return row.date.isoformat() if index.column() == 1 and row.date else self._text(row, index.column()).casefold()
        if role == RowRole:
            return row
        return None


def compute_one(ws: Any, code: str, period: Period, scope: str, fw: Framework) -> Iterator[Progress]:
    """One indicator for one period and scope (a generator for a worker; returns the value)."""
    yield Progress(0, 1, "Computing")
    report: IndicatorReport = compute_indicators(ws, period=period, scope=scope, codes=[code], framework=fw)
    yield Progress(1, 1, "Computing")
    return report.values[code]


@dataclass(frozen=True)
class DrillResult:
    count: int  # records behind the value
    rows: list[RecordRow]  # the first DRILL_LIMIT of them that the user's units hold


def drill_rows(ws: Any, code: str, period: Period, scope: str, dim: str | None, key: str | None) -> Iterator[Progress]:
    """The records behind a value, as list rows (a generator for a worker)."""
    dd = drill_down(ws, code, period=period, scope=scope, disaggregation=dim, key=key)
    types = [t for t, ids in dd.records.items() if ids]
    yield Progress(0, len(types) + 1, "Finding the records")
    rows: list[RecordRow] = []
    for i, t in enumerate(types, 1):
        if len(rows) < DRILL_LIMIT:
            rows += rows_by_id(ws, t, dd.records[t], limit=DRILL_LIMIT - len(rows))
        yield Progress(i, len(types) + 1, "Finding the records")
    rows.sort(key=lambda r: (r.date or date.min, r.id), reverse=True)
    return DrillResult(dd.count, rows)


class SortProxy(QSortFilterProxyModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setSortRole(SortRole)


class IndicatorExplorerView(QWidget):
    """Indicator, period, scope and breakdown pickers; value, table, bar chart and drill-down."""

    open_record_requested = Signal(str, str)

    def __init__(self, ref: SessionRef, *, today: date | None = None, framework: Framework | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("indicatorExplorer")
        self.ref = ref
        self.fw = framework or default_framework()
        self.value: IndicatorValue | None = None
        self.drill_result: DrillResult | None = None
        self.op: Op | None = None
        self._gen = 0
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        lay.addWidget(heading(tr("Indicator explorer")))

        controls = QGridLayout()
        self.indicator_combo = QComboBox()
        self.indicator_combo.setObjectName("indicatorCombo")
        self.indicator_combo.setMaxVisibleItems(20)
        for ind in self.fw:
            self.indicator_combo.addItem(f"{ltr(ind.code)}  {indicator_label(ind)}", ind.code)
        self.period_picker = PeriodPicker(today=today)
        self.scope_combo = ScopeCombo(ref)
        self.dim_combo = QComboBox()
        self.dim_combo.setObjectName("breakdownCombo")
        controls.addWidget(QLabel(tr("Indicator:")), 0, 0)
        controls.addWidget(self.indicator_combo, 0, 1, 1, 3)
        controls.addWidget(QLabel(tr("Period:")), 1, 0)
        controls.addWidget(self.period_picker, 1, 1)
        controls.addWidget(QLabel(tr("Scope:")), 1, 2)
        controls.addWidget(self.scope_combo, 1, 3)
        controls.addWidget(QLabel(tr("Breakdown:")), 2, 0)
        controls.addWidget(self.dim_combo, 2, 1)
        controls.setColumnStretch(1, 1)
        controls.setColumnStretch(3, 1)
        lay.addLayout(controls)

        self.title_label = QLabel()
        self.title_label.setObjectName("indicatorTitle")
        self.title_label.setWordWrap(True)
        self.wording_label = QLabel()
        self.wording_label.setObjectName("indicatorWording")
        self.wording_label.setWordWrap(True)
        self.wording_label.setStyleSheet("color: #444;")
        self.value_label = QLabel()
        self.value_label.setObjectName("indicatorValue")
        f = self.value_label.font()
        f.setPointSizeF(f.pointSizeF() * 1.4)
        f.setBold(True)
        self.value_label.setFont(f)
        self.detail_label = QLabel()
        self.detail_label.setObjectName("indicatorDetail")
        self.detail_label.setWordWrap(True)
        self.detail_label.setStyleSheet("color: #555;")
        lay.addWidget(self.title_label)
        lay.addWidget(self.wording_label)
        value_row = QHBoxLayout()
        value_row.addWidget(self.value_label)
        value_row.addSpacing(16)
        value_row.addWidget(self.detail_label, 1)
        lay.addLayout(value_row)

        self.model = BreakdownTableModel(self)
        self.proxy = SortProxy(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setObjectName("breakdownTable")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setDefaultSectionSize(110)
        self.table.setAlternatingRowColors(True)
        self.chart = BarChart()
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 8)
        splitter = QSplitter()
        splitter.addWidget(self.table)
        splitter.addWidget(self.chart)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setChildrenCollapsible(False)

        drill_box = QFrame()
        drill_box.setObjectName("drillBox")
        dl = QVBoxLayout(drill_box)
        dl.setContentsMargins(0, 4, 0, 0)
        row = QHBoxLayout()
        self.drill_button = QPushButton(tr("Show the records behind the value"))
        self.drill_button.setObjectName("drillButton")
        self.drill_button.setAutoDefault(False)
        self.drill_button.clicked.connect(lambda: self.drill())
        self.drill_status = QLabel()
        self.drill_status.setObjectName("drillStatus")
        self.drill_status.setWordWrap(True)
        row.addWidget(self.drill_button)
        row.addWidget(self.drill_status, 1)
        dl.addLayout(row)
        self.drill_model = DrillTableModel(ref, self)
        self.drill_proxy = SortProxy(self)
        self.drill_proxy.setSourceModel(self.drill_model)
        self.drill_table = QTableView()
        self.drill_table.setObjectName("drillTable")
        self.drill_table.setModel(self.drill_proxy)
        self.drill_table.setSortingEnabled(True)
        self.drill_table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
        self.drill_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.drill_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.drill_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.drill_table.verticalHeader().hide()
        self.drill_table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.drill_table.doubleClicked.connect(self._on_drill_activated)
        self.drill_table.hide()
        dl.addWidget(self.drill_table, 1)
        self.drill_table.verticalHeader().setDefaultSectionSize(self.drill_table.fontMetrics().height() + 8)
        parts = QSplitter(Qt.Orientation.Vertical)
        parts.addWidget(splitter)
        parts.addWidget(drill_box)
        parts.setStretchFactor(0, 1)
        parts.setStretchFactor(1, 1)
        parts.setSizes([300, 300])  # half each, whatever the size hints say
        parts.setChildrenCollapsible(False)
        lay.addWidget(parts, 1)

        self.indicator_combo.currentIndexChanged.connect(self._on_indicator_changed)
        self.period_picker.changed.connect(lambda _p: self.compute())
        self.scope_combo.currentIndexChanged.connect(lambda _i: self.compute())
        self.dim_combo.currentIndexChanged.connect(lambda _i: self._show_breakdown())
        self.table.selectionModel().currentRowChanged.connect(lambda _c, _p: self._update_drill_button())
        self._fill_dims()
        self._update_drill_button()

    # -- state -------------------------------------------------------------------------------------

    @property
    def indicator(self) -> Indicator:
        return self.fw.indicator(str(self.indicator_combo.currentData()))

    @property
    def dim(self) -> str | None:
        data = self.dim_combo.currentData()
        return str(data) if data else None

    @property
    def may_drill(self) -> bool:
        scope = self.scope_combo.value()
        return scope is not None and self.ref.can(Perm.RECORD_READ, unit=scope)

    def selected_key(self) -> str | None:
        idx = self.table.currentIndex()
        return idx.data(KeyRole) if idx.isValid() else None

    def show_indicator(self, code: str, period: Period | None = None, scope: str | None = None) -> None:
        """Shows ``code`` (from the dashboard), for ``period`` and ``scope`` when given."""
        for w in (self.indicator_combo, self.period_picker, self.scope_combo):
            w.blockSignals(True)
        try:
            i = self.indicator_combo.findData(code)
            if i >= 0:
                self.indicator_combo.setCurrentIndex(i)
            if period is not None:
                self.period_picker.set_period(period)
            if scope is not None:
                self.scope_combo.set_value(scope)
        finally:
            for w in (self.indicator_combo, self.period_picker, self.scope_combo):
                w.blockSignals(False)
        self._fill_dims()
        self.compute()

    def _fill_dims(self) -> None:
        ind = self.indicator
        self.dim_combo.blockSignals(True)
        self.dim_combo.clear()
        self.dim_combo.addItem(tr("No breakdown (total)"), "")
        for d in ind.disaggregations:
            self.dim_combo.addItem(disaggregation_label(self.fw, d), d)
        self.dim_combo.setCurrentIndex(1 if ind.disaggregations else 0)
        self.dim_combo.blockSignals(False)
        self.title_label.setText(f"{rtl_mark()}<b>{ltr(ind.code)}</b> · <b>{indicator_label(ind)}</b> · {unit_label(ind)}")
        # The plan's own words exist in English only: shown in the English UI, a tooltip in Urdu.
        self.wording_label.setText(tr("The plan:") + f" “{ind.wording}”")
        self.wording_label.setToolTip(ind.definition)
        self.wording_label.setVisible(language() != "ur")
        self.title_label.setToolTip(f"“{ind.wording}”\n\n{ind.definition}")

    def _on_indicator_changed(self, _index: int) -> None:
        self._fill_dims()
        self.compute()

    # -- computing -----------------------------------------------------------------------------------

    def compute(self) -> Op | None:
        """Computes the chosen indicator on a worker."""
        scope = self.scope_combo.value()
        self._gen += 1
        self.value = None
        self._clear_drill()
        if scope is None or not self.ref.unlocked:
            self.detail_label.setText(tr("Your role has no indicators to show."))
            return None
        gen, ws, fw, code, period = self._gen, self.ref.ws, self.fw, self.indicator.code, self.period_picker.period()
        self.value_label.setText("…")
        self.detail_label.setText(tr("Computing the indicators…"))
        self.model.set_value(fw, self.ref.codelists, None, None)
        self.chart.set_bars([])
        # NOTE: reads only: beside the writer thread (see DashboardView.refresh).
        op = run_op(self, lambda _op: compute_one(ws, code, period, scope, fw), writer=False)
        op.on_success(lambda v: self._on_computed(gen, v)).on_failure(lambda exc: self._on_failed(gen, exc))
        self.op = op.with_progress(tr("Computing the indicators…")).start()
        return self.op

    def _on_computed(self, gen: int, value: IndicatorValue) -> None:
        if gen != self._gen:
            return
        self.value = value
        self.value_label.setText(format_value(value))
        self.detail_label.setText(self._detail(value))
        self._show_breakdown()

    def _detail(self, v: IndicatorValue) -> str:
        parts = [period_label(self.period_picker.period()), self.scope_combo.currentText().strip()]
        if v.kind == "percent" and v.denominator is not None:
            parts.append(tr("{a} of {b}").format(a=fmt_int(int(v.numerator or 0)), b=fmt_int(int(v.denominator))))
        elif v.kind == "status":
            parts.append(status_detail(v, self.ref.codelists))
        elif v.kind == "change" and v.previous is not None:
            parts.append(tr("previous period: {n}").format(n=format_number("count", v.previous)))
        return " · ".join(p for p in parts if p)

    def _show_breakdown(self) -> None:
        v = self.value
        self._clear_drill()
        self.model.set_value(self.fw, self.ref.codelists, v, self.dim)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        if v is None:
            self.chart.set_bars([])
            return
        bars = [Bar(r.label, float(r.value or 0), format_number(v.kind, r.value)) for r in self.model.rows if r.key is not None]
        self.chart.set_bars(bars, maximum=100.0 if v.kind == "percent" else None, empty_text=tr("Choose a breakdown to see a chart."))
        self._update_drill_button()

    def _on_failed(self, gen: int, exc: BaseException) -> None:
        if gen != self._gen or isinstance(exc, Cancelled):
            return
        self.value_label.setText("—")
        if isinstance(exc, UserFacingError):
            self.detail_label.setText(user_message(exc))
        else:
            self.detail_label.setText(tr("The indicators could not be computed."))
            show_exception(parent=self, exc=exc)

    # -- drill-down ------------------------------------------------------------------------------------

    def _update_drill_button(self) -> None:
        may = self.may_drill
        self.drill_button.setVisible(may)
        self.drill_button.setEnabled(may and self.value is not None)
        key = self.selected_key()
        if key is not None and self.dim is not None:
            self.drill_button.setText(tr("Show the records behind the selected line"))
        else:
            self.drill_button.setText(tr("Show the records behind the value"))
        if not may:
            self.drill_status.setText(tr("Your role does not give access to the records behind the values."))

    def _clear_drill(self) -> None:
        self.drill_result = None
        self.drill_model.set_rows([])
        self.drill_table.hide()
        if self.may_drill:
            self.drill_status.setText("")

    def drill(self) -> Op | None:
        """Lists the records behind the value, or behind the selected line of the breakdown."""
        scope = self.scope_combo.value()
        if self.value is None or scope is None or not self.may_drill:
            return None
        key = self.selected_key()
        dim = self.dim if key is not None else None
        ws, code, period, gen = self.ref.ws, self.indicator.code, self.period_picker.period(), self._gen
        self.drill_status.setText(tr("Finding the records…"))
        # NOTE: on the writer thread: listing names writes an audit entry.
        op = run_op(self, lambda _op: drill_rows(ws, code, period, scope, dim, key))
        op.on_success(lambda r: self._on_drilled(gen, r)).on_failure(lambda exc: self._on_drill_failed(gen, exc))
        self.op = op.with_progress(tr("Finding the records…")).start()
        return self.op

    def _on_drilled(self, gen: int, result: DrillResult) -> None:
        if gen != self._gen:
            return
        self.drill_result = result
        self.drill_model.set_rows(result.rows)
        self.drill_table.setVisible(bool(result.rows))
        self.drill_table.resizeColumnsToContents()
        self.drill_table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        if not result.count:
            text = tr("No records are behind this value.")
        elif len(result.rows) < result.count:
            text = tr("{n} records; the first {shown} are listed. Double-click one to open it.").format(n=fmt_int(result.count), shown=fmt_int(len(result.rows)))
        else:
            text = tr("{n} records. Double-click one to open it.").format(n=fmt_int(result.count))
        self.drill_status.setText(text)

    def _on_drill_failed(self, gen: int, exc: BaseException) -> None:
        if gen != self._gen or isinstance(exc, Cancelled):
            return
        if isinstance(exc, UserFacingError):
            self.drill_status.setText(user_message(exc))
        else:
            self.drill_status.setText("")
            show_exception(parent=self, exc=exc)

    def _on_drill_activated(self, index: QModelIndex) -> None:
        row = index.data(RowRole)
        if isinstance(row, RecordRow):
            self.open_record_requested.emit(row.type, row.id)
