# SPDX-License-Identifier: GPL-3.0-or-later
"""The dashboard: one tile per objective of the plan with the period's value of each of its
indicators, the change against the previous period, and a small chart of both periods.

The two reports (this period and the previous one) are computed by
``reports.engine.compute_indicators`` on a worker, with progress; a result for a period or scope
that was changed meanwhile is dropped. A click on an indicator code opens it in the explorer.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from nap_desktop.domain.framework import Framework, Indicator, default_framework
from nap_desktop.reports.engine import IndicatorReport, Period, compute_indicators
from nap_desktop.services.progress import Progress
from nap_desktop.ui.charts import Pair, PairedBars
from nap_desktop.ui.errors import user_message
from nap_desktop.ui.i18n import ltr, rtl_mark, tr
from nap_desktop.ui.indicator_labels import change_text, format_value, indicator_label, objective_title, period_label, status_detail, unit_label
from nap_desktop.ui.report_controls import PeriodPicker, ScopeCombo
from nap_desktop.ui.report_export_dialog import ReportExportDialog
from nap_desktop.ui.session import SessionRef
from nap_desktop.ui.widgets import heading
from nap_desktop.ui.workers import Op, run_op

logger = logging.getLogger(__name__)

TILE_STYLE = "#objectiveTile { background: #ffffff; border: 1px solid #d0d7de; border-radius: 6px; }"


def compute_two_periods(ws: Any, period: Period, scope: str, fw: Framework | None = None) -> Iterator[Progress]:
    """Computes every indicator for ``period`` and the period before it (a generator: yields
    progress, returns ``(this, previous)``; runs on a worker)."""
    yield Progress(0, 2, "Computing indicators")
    current = compute_indicators(ws, period=period, scope=scope, framework=fw)
    yield Progress(1, 2, "Computing indicators")
    previous = compute_indicators(ws, period=period.previous(), scope=scope, framework=fw)
    yield Progress(2, 2, "Computing indicators")
    return current, previous


class ObjectiveTile(QFrame):
    """One objective: its indicators' values and changes, and paired bars of its counts."""

    indicator_clicked = Signal(str)

    def __init__(self, fw: Framework, number: int, ref: SessionRef, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("objectiveTile")
        self.setStyleSheet(TILE_STYLE)
        self.number = number
        self.ref = ref
        self.indicators: tuple[Indicator, ...] = fw.of_objective(number)
        obj = next((o for o in fw.objectives if o.number == number), None)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(12, 10, 12, 10)
        title = QLabel(f"{rtl_mark()}<b>{number}. {objective_title(number)}</b>")
        title.setObjectName("tileTitle")
        title.setWordWrap(True)
        if obj is not None:
            title.setToolTip(obj.title)
        lay.addWidget(title)
        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(3)
        grid.setColumnStretch(1, 1)
        self.value_labels: dict[str, QLabel] = {}
        self.change_labels: dict[str, QLabel] = {}
        for row, ind in enumerate(self.indicators):
            code = QLabel(f'<a href="{ind.code}">{ltr(ind.code)}</a>')
            code.setObjectName(f"code_{ind.code}")
            code.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse | Qt.TextInteractionFlag.LinksAccessibleByKeyboard)
            code.setToolTip(tr("Open in the indicator explorer"))
            code.linkActivated.connect(self.indicator_clicked.emit)
            label = QLabel(indicator_label(ind))
            label.setWordWrap(True)
            label.setToolTip(f"{ind.wording}\n\n{unit_label(ind)}")
            value = QLabel("…")
            value.setObjectName(f"value_{ind.code}")
            value.setAlignment(Qt.AlignmentFlag.AlignTrailing | Qt.AlignmentFlag.AlignVCenter)
            f = value.font()
            f.setBold(True)
            value.setFont(f)
            change = QLabel("")
            change.setObjectName(f"change_{ind.code}")
            change.setStyleSheet("color: #555;")
            change.setMinimumWidth(70)
            grid.addWidget(code, row, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(label, row, 1)
            grid.addWidget(value, row, 2, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(change, row, 3, Qt.AlignmentFlag.AlignTop)
            self.value_labels[ind.code] = value
            self.change_labels[ind.code] = change
        lay.addLayout(grid)
        self.chart = PairedBars()
        self.chart.setToolTip(tr("Light: the previous period. Dark: this period."))
        lay.addWidget(self.chart)
        lay.addStretch(1)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

    def show_values(self, current: IndicatorReport, previous: IndicatorReport) -> None:
        pairs = []
        cl = self.ref.codelists
        for ind in self.indicators:
            v = current.values.get(ind.code)
            prev = previous.values.get(ind.code)
            if v is None:
                continue
            text = format_value(v)
            detail = status_detail(v, cl)
            self.value_labels[ind.code].setText(text)
            self.value_labels[ind.code].setToolTip(detail)
            self.change_labels[ind.code].setText(change_text(v, prev) if v.kind != "status" else detail)
            if v.kind == "count":
                pairs.append(Pair(ind.code, float(prev.value or 0) if prev else None, float(v.value or 0)))
        self.chart.set_pairs(pairs)
        self.chart.setVisible(any(p.current or p.previous for p in pairs))

    def clear_values(self) -> None:
        for label in self.value_labels.values():
            label.setText("…")
        for label in self.change_labels.values():
            label.setText("")


class DashboardView(QWidget):
    """Period and scope pickers over the seven objective tiles."""

    indicator_requested = Signal(str, object, str)  # code, Period, scope unit

    def __init__(self, ref: SessionRef, *, today: date | None = None, framework: Framework | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dashboardView")
        self.ref = ref
        self.fw = framework or default_framework()
        self.current: IndicatorReport | None = None
        self.previous: IndicatorReport | None = None
        self.op: Op | None = None
        self._gen = 0
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        top = QHBoxLayout()
        top.addWidget(heading(tr("Dashboard")))
        top.addStretch(1)
        top.addWidget(QLabel(tr("Period:")))
        self.period_picker = PeriodPicker(today=today)
        top.addWidget(self.period_picker)
        top.addSpacing(12)
        top.addWidget(QLabel(tr("Scope:")))
        self.scope_combo = ScopeCombo(ref)
        top.addWidget(self.scope_combo)
        self.refresh_button = QPushButton(tr("Refresh"))
        self.refresh_button.setObjectName("refreshDashboard")
        self.refresh_button.setAutoDefault(False)
        self.refresh_button.clicked.connect(self.refresh)
        top.addWidget(self.refresh_button)
        self.export_button = QPushButton(tr("Export…"))
        self.export_button.setObjectName("exportReport")
        self.export_button.setAutoDefault(False)
        self.export_button.setToolTip(tr("Write this period's indicators as a PDF, Excel, CSV or JSON file"))
        self.export_button.clicked.connect(lambda _c=False: self.export())
        top.addWidget(self.export_button)
        lay.addLayout(top)
        self.status_label = QLabel()
        self.status_label.setObjectName("dashboardStatus")
        self.status_label.setStyleSheet("color: #555;")
        lay.addWidget(self.status_label)

        inner = QWidget()
        inner.setObjectName("tilesPage")
        self.grid = QGridLayout(inner)
        self.grid.setSpacing(10)
        self.tiles: dict[int, ObjectiveTile] = {}
        for i, obj in enumerate(self.fw.objectives):
            tile = ObjectiveTile(self.fw, obj.number, ref)
            tile.indicator_clicked.connect(self._on_indicator_clicked)
            self.grid.addWidget(tile, i // 2, i % 2, Qt.AlignmentFlag.AlignTop)
            self.tiles[obj.number] = tile
        self.grid.setRowStretch(len(self.fw.objectives) // 2 + 1, 1)
        self.grid.setColumnStretch(0, 1)
        self.grid.setColumnStretch(1, 1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(inner)
        lay.addWidget(scroll, 1)

        self.period_picker.changed.connect(lambda _p: self.refresh())
        self.scope_combo.currentIndexChanged.connect(lambda _i: self.refresh())
        self.loaded = False
        self.export_dialog: ReportExportDialog | None = None
        self.last_export: Path | None = None
        self.export_button.setEnabled(self.scope is not None)

    @property
    def period(self) -> Period:
        return self.period_picker.period()

    @property
    def scope(self) -> str | None:
        return self.scope_combo.value()

    def refresh(self) -> Op | None:
        """Computes both periods on a worker and fills the tiles."""
        scope = self.scope
        if scope is None or not self.ref.unlocked:
            self.status_label.setText(tr("Your role has no indicators to show."))
            return None
        self._gen += 1
        gen, period, ws, fw = self._gen, self.period, self.ref.ws, self.fw
        if self.op is not None and not self.op.done:
            self.op.cancel()
        for tile in self.tiles.values():
            tile.clear_values()
        self.status_label.setText(tr("Computing the indicators…"))
        # NOTE: the engine only reads, so it runs beside the writer thread (a computation of
        # several seconds must not hold up saving a record). The scopes offered are those the
        # user may compute, so the service's permission check never has a refusal to record.
        op = run_op(self, lambda _op: compute_two_periods(ws, period, scope, fw), writer=False)
        op.on_success(lambda out: self._on_computed(gen, out)).on_failure(lambda exc: self._on_failed(gen, exc))
        self.op = op.with_progress(tr("Computing the indicators…")).start()
        return self.op

    def _on_computed(self, gen: int, out: tuple[IndicatorReport, IndicatorReport]) -> None:
        if gen != self._gen:
            return
        self.current, self.previous = out
        for tile in self.tiles.values():
            tile.show_values(self.current, self.previous)
        self.status_label.setText(
            tr("{period} compared with {previous} · {scope}").format(
                period=period_label(self.current.period), previous=period_label(self.previous.period), scope=self.scope_combo.currentText().strip()
            )
        )
        self.loaded = True

    def _on_failed(self, gen: int, exc: BaseException) -> None:
        if gen != self._gen:
            return
        from nap_desktop.errors import Cancelled, UserFacingError

        if isinstance(exc, Cancelled):
            return
        if isinstance(exc, UserFacingError):
            self.status_label.setText(user_message(exc))
        else:
            from nap_desktop.ui.errors import show_exception

            self.status_label.setText(tr("The indicators could not be computed."))
            show_exception(parent=self, exc=exc)

    def export(self) -> ReportExportDialog | None:
        """Opens the export dialog for the period and scope shown (modeless, so tests and the
        window stay live); the file's path goes to the status bar when written."""
        scope = self.scope
        if scope is None or not self.ref.unlocked:
            return None
        dlg = ReportExportDialog(self.ref, self.period, scope, self.scope_combo.currentText().strip(), parent=self)
        dlg.accepted.connect(lambda: self._on_exported(dlg))
        dlg.open()
        self.export_dialog = dlg
        return dlg

    def _on_exported(self, dlg: ReportExportDialog) -> None:
        result = dlg.result
        if result is None:
            return
        self.last_export = result.path
        win = self.window()
        if isinstance(win, QMainWindow):
            win.statusBar().showMessage(tr("Report written:") + f" {result.path}", 15000)

    def _on_indicator_clicked(self, code: str) -> None:
        scope = self.scope
        if scope is not None:
            self.indicator_requested.emit(code, self.period, scope)
