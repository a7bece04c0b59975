# SPDX-License-Identifier: GPL-3.0-or-later
"""The monthly-return screen: pick a unit and a month, compile, review, submit, approve, export.

Everything it does goes through :mod:`nap_desktop.reports.returns` (the CLI calls the same
functions): compiling runs on the writer thread with a progress dialog; the buttons are enabled
from :func:`~nap_desktop.reports.returns.allowed_actions` (the services check again). The review
tab lists every value (the 41 indicators, then the case pipeline) with its checks and comments;
selecting a value shows its definition, its checks and its comments, and lets the user add one.
The completeness tab shows which units reporting to the chosen unit have submitted, on time or
late. Send back and unlock ask for a reason; export asks for a file.

Threading: service calls run in :func:`~nap_desktop.ui.workers.run_op` workers; the widgets are
touched only in the success callbacks, on the GUI thread.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from enum import IntEnum
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPushButton,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from nap_desktop.domain.framework import default_framework
from nap_desktop.reports import returns as rsvc
from nap_desktop.reports.returns import MonthlyReturnDTO, ValueLine
from nap_desktop.security.permissions import Perm
from nap_desktop.ui.errors import show_exception
from nap_desktop.ui.i18n import N_, language, ltr, pick, tr
from nap_desktop.ui.session import SessionRef
from nap_desktop.ui.widgets import Banner, heading
from nap_desktop.ui.workers import Op, run_op

logger = logging.getLogger(__name__)

STATE_LABELS = {
    "draft": N_("Draft"),
    "submitted": N_("Submitted"),
    "approved": N_("Approved"),
    "returned": N_("Sent back"),
    "missing": N_("Not compiled"),
}
LEVEL_LABELS = {"error": N_("Error"), "warning": N_("Warning"), "info": N_("Note")}
LEVEL_COLOURS = {"error": "#fdecea", "warning": "#fff4e5"}
MONTHS_SHOWN = 24
LineRole = Qt.ItemDataRole.UserRole + 1


def recent_months(today: datetime | None = None, n: int = MONTHS_SHOWN) -> list[str]:
    """``YYYY-MM`` of this month (Pakistan time) and the ``n - 1`` before it, newest first."""
    d = (today or rsvc.now()).astimezone(rsvc.REPORTING_TZ)
    y, m = d.year, d.month
    out = []
    for _ in range(n):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return out


_LTR_TOKEN = re.compile(r"\d+\.\d+\.[a-z]|\d{4}-\d{2}(?:-\d{2})?(?: \d{2}:\d{2})?|[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+|[-+]?\d[\d,.]*%?")


def bidi(text: str) -> str:
    """In Urdu, keeps indicator codes, dates, unit codes and numbers in one left-to-right piece."""
    return _LTR_TOKEN.sub(lambda m: ltr(m[0]), text)


def _fmt(n: Any) -> str:
    if n is None:
        return "–"
    if isinstance(n, float) and not n.is_integer():
        return f"{n:.1f}"
    return f"{int(n):,}"


def display_value(line: ValueLine) -> str:
    """A value as the review table shows it, in the UI language (percentages with their parts)."""
    if line.kind == "percent":
        if not line.denominator:
            return tr("n/a (no denominator)")
        return ltr(f"{_fmt(line.value)}%") + " (" + tr("{num} of {den}").format(num=ltr(_fmt(line.numerator)), den=ltr(_fmt(line.denominator))) + ")"
    if line.kind == "status":
        return tr("Reached") if line.value else tr("Not reached")
    if line.kind == "change":
        sign = "+" if (line.value or 0) > 0 else ""
        return ltr(f"{sign}{_fmt(line.value)}")
    return ltr(_fmt(line.value))


def _when(d: datetime | None) -> str:
    return "" if d is None else f"{d.astimezone(rsvc.REPORTING_TZ):%Y-%m-%d %H:%M}"


class Column(IntEnum):
    CODE = 0
    LABEL = 1
    VALUE = 2
    CHECKS = 3
    COMMENTS = 4


_HEADERS = (N_("Code"), N_("Indicator or count"), N_("Value"), N_("Checks"), N_("Comments"))


class ReturnValuesTableModel(QAbstractTableModel):
    """The values of one return: the indicators in framework order, then the case pipeline."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.ret: MonthlyReturnDTO | None = None
        self.lines: list[ValueLine] = []

    def set_return(self, ret: MonthlyReturnDTO | None) -> None:
        self.beginResetModel()
        self.ret = ret
        self.lines = rsvc.value_lines(ret) if ret is not None else []
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.lines)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(Column)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal and 0 <= section < len(_HEADERS):
            return tr(_HEADERS[section])
        return None

    def line(self, row: int) -> ValueLine | None:
        return self.lines[row] if 0 <= row < len(self.lines) else None

    def row_of(self, key: str) -> int:
        return next((i for i, line in enumerate(self.lines) if line.key == key), -1)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self.ret is None or not 0 <= index.row() < len(self.lines):
            return None
        line = self.lines[index.row()]
        col = index.column()
        msgs = self.ret.messages_on(line.key)
        if role == Qt.ItemDataRole.DisplayRole:
            if col == Column.CODE:
                return ltr(line.key) if line.group == "indicator" else ""
            if col == Column.LABEL:
                return pick(line.label_en, line.label_ur)
            if col == Column.VALUE:
                return display_value(line)
            if col == Column.CHECKS:
                worst = next((lvl for lvl in ("error", "warning") if any(m.level == lvl for m in msgs)), None)
                return tr(LEVEL_LABELS[worst]) if worst else ""
            if col == Column.COMMENTS:
                n = len(self.ret.comments_on(line.key))
                return str(n) if n else ""
        if role == Qt.ItemDataRole.BackgroundRole:
            for lvl in ("error", "warning"):
                if any(m.level == lvl for m in msgs):
                    return QBrush(QColor(LEVEL_COLOURS[lvl]))
        if role == Qt.ItemDataRole.ToolTipRole and col == Column.LABEL:
            return line.definition
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (Column.VALUE, Column.COMMENTS):
            return int(Qt.AlignmentFlag.AlignTrailing | Qt.AlignmentFlag.AlignVCenter)
        if role == LineRole:
            return line
        return None


class ReturnsView(QWidget):
    """The monthly-return page of the main window."""

    return_loaded = Signal(object)  # MonthlyReturnDTO or None
    action_finished = Signal(str)  # compile / submit / approve / send_back / unlock / comment / export

    def __init__(self, ref: SessionRef, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("returnsView")
        self.ref = ref
        self.ret: MonthlyReturnDTO | None = None
        self.allowed: frozenset[str] = frozenset()
        self._fw = default_framework()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(12, 12, 12, 12)
        lay.addWidget(heading(tr("Monthly returns")))

        bar = QHBoxLayout()
        bar.addWidget(QLabel(tr("Unit:")))
        self.unit_combo = QComboBox()
        self.unit_combo.setObjectName("returnUnit")
        ws = ref.ws
        units = ref.units()
        for code in sorted(units, key=lambda c: (len(ws.unit_chain(c)), c)):
            if ws.in_scope(code):
                u = units[code]
                self.unit_combo.addItem(f"{ltr(code)} — {pick(u.name_en, u.name_ur)}", code)
        own = self.unit_combo.findData(ws.user.unit_code)
        self.unit_combo.setCurrentIndex(max(own, 0))
        bar.addWidget(self.unit_combo, 2)
        bar.addWidget(QLabel(tr("Month:")))
        self.month_combo = QComboBox()
        self.month_combo.setObjectName("returnMonth")
        months = recent_months()
        for m in months:
            self.month_combo.addItem(m, m)
        self.month_combo.setCurrentIndex(1 if len(months) > 1 else 0)  # last month: the one usually due
        bar.addWidget(self.month_combo)
        self.compile_button = QPushButton(tr("Compile"))
        self.compile_button.setObjectName("compileButton")
        bar.addWidget(self.compile_button)
        bar.addStretch(1)
        lay.addLayout(bar)

        self.state_label = QLabel()
        self.state_label.setObjectName("returnState")
        self.state_label.setWordWrap(True)
        lay.addWidget(self.state_label)
        self.banner = Banner()
        self.banner.setObjectName("returnBanner")
        lay.addWidget(self.banner)

        self.tabs = QTabWidget()
        lay.addWidget(self.tabs, 1)

        # Review tab: values on the left, details of the selected value on the right.
        review = QWidget()
        rl = QVBoxLayout(review)
        rl.setContentsMargins(0, 6, 0, 0)
        self.messages = QListWidget()
        self.messages.setObjectName("returnMessages")
        self.messages.setMaximumHeight(120)
        rl.addWidget(self.messages)
        split = QSplitter()
        self.model = ReturnValuesTableModel(self)
        self.table = QTableView()
        self.table.setObjectName("returnValues")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(Column.LABEL, QHeaderView.ResizeMode.Stretch)
        for c in (Column.CODE, Column.VALUE, Column.CHECKS, Column.COMMENTS):
            hh.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        split.addWidget(self.table)
        side = QWidget()
        sl = QVBoxLayout(side)
        sl.setContentsMargins(6, 0, 0, 0)
        self.detail_title = QLabel()
        self.detail_title.setWordWrap(True)
        self.detail_title.setObjectName("valueTitle")
        sl.addWidget(self.detail_title)
        self.detail_text = QLabel()
        self.detail_text.setWordWrap(True)
        self.detail_text.setObjectName("valueDetail")
        self.detail_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        sl.addWidget(self.detail_text)
        sl.addWidget(QLabel(tr("Comments on this value:")))
        self.comment_list = QListWidget()
        self.comment_list.setObjectName("valueComments")
        sl.addWidget(self.comment_list, 1)
        row = QHBoxLayout()
        self.comment_edit = QLineEdit()
        self.comment_edit.setObjectName("commentEdit")
        self.comment_edit.setPlaceholderText(tr("Write a comment on the selected value"))
        self.comment_button = QPushButton(tr("Add comment"))
        self.comment_button.setObjectName("commentButton")
        row.addWidget(self.comment_edit, 1)
        row.addWidget(self.comment_button)
        sl.addLayout(row)
        split.addWidget(side)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        rl.addWidget(split, 1)
        self.tabs.addTab(review, tr("Review"))

        # Completeness tab.
        comp = QWidget()
        cl = QVBoxLayout(comp)
        self.completeness_label = QLabel()
        self.completeness_label.setObjectName("completenessSummary")
        self.completeness_label.setWordWrap(True)
        cl.addWidget(self.completeness_label)
        self.completeness_table = QTableWidget(0, 4)
        self.completeness_table.setObjectName("completenessTable")
        self.completeness_table.setHorizontalHeaderLabels([tr("Unit"), tr("State"), tr("First submitted"), tr("Timeliness")])
        self.completeness_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.completeness_table.verticalHeader().setVisible(False)
        self.completeness_table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        cl.addWidget(self.completeness_table, 1)
        self.tabs.addTab(comp, tr("Completeness"))

        actions = QHBoxLayout()
        self.submit_button = QPushButton(tr("Submit"))
        self.approve_button = QPushButton(tr("Approve"))
        self.send_back_button = QPushButton(tr("Send back…"))
        self.unlock_button = QPushButton(tr("Unlock…"))
        self.export_button = QPushButton(tr("Export…"))
        for name, b in (
            ("submitButton", self.submit_button),
            ("approveButton", self.approve_button),
            ("sendBackButton", self.send_back_button),
            ("unlockButton", self.unlock_button),
            ("exportButton", self.export_button),
        ):
            b.setObjectName(name)
            actions.addWidget(b)
        actions.addStretch(1)
        lay.addLayout(actions)

        self.compile_button.clicked.connect(lambda _c=False: self.compile())
        self.submit_button.clicked.connect(lambda _c=False: self.submit())
        self.approve_button.clicked.connect(lambda _c=False: self.approve())
        self.send_back_button.clicked.connect(lambda _c=False: self.send_back())
        self.unlock_button.clicked.connect(lambda _c=False: self.unlock())
        self.export_button.clicked.connect(lambda _c=False: self.export())
        self.comment_button.clicked.connect(lambda _c=False: self.add_comment())
        self.comment_edit.returnPressed.connect(self.add_comment)
        self.unit_combo.currentIndexChanged.connect(lambda _i: self.load())
        self.month_combo.currentIndexChanged.connect(lambda _i: self.load())
        self.table.selectionModel().currentRowChanged.connect(lambda cur, _prev: self._show_line(cur.row()))
        self.messages.itemActivated.connect(self._on_message_activated)
        self.messages.itemClicked.connect(self._on_message_activated)
        self._apply_allowed()
        self.loaded = False
        self.last_export: Path | None = None

    # -- selection ------------------------------------------------------------------------------------

    @property
    def unit(self) -> str:
        return str(self.unit_combo.currentData())

    @property
    def month(self) -> str:
        return str(self.month_combo.currentData())

    def select(self, unit: str, month: str) -> None:
        """Chooses a unit and month (adding the month to the list if older) and loads the return."""
        self.unit_combo.blockSignals(True)
        self.month_combo.blockSignals(True)
        try:
            i = self.unit_combo.findData(unit)
            if i >= 0:
                self.unit_combo.setCurrentIndex(i)
            j = self.month_combo.findData(month)
            if j < 0:
                self.month_combo.addItem(month, month)
                j = self.month_combo.count() - 1
            self.month_combo.setCurrentIndex(j)
        finally:
            self.unit_combo.blockSignals(False)
            self.month_combo.blockSignals(False)
        self.load()

    # -- loading ----------------------------------------------------------------------------------------

    def load(self) -> Op | None:
        """Reads the return of the chosen unit and month (if compiled), what the user may do with it,
        and the completeness of the units reporting to it."""
        if not self.ref.unlocked:
            return None
        ws, unit, month = self.ref.ws, self.unit, self.month

        def work(_op: Any) -> tuple[MonthlyReturnDTO | None, frozenset[str], Any]:
            from nap_desktop.errors import NotFound

            try:
                ret = rsvc.get_return(ws, unit, month)
            except NotFound:
                ret = None
            return ret, rsvc.allowed_actions(ws, unit, month), rsvc.completeness(ws, unit, month)

        op = run_op(self, work)
        op.on_success(lambda out: self._show(unit, month, *out)).on_failure(lambda exc: show_exception(parent=self, exc=exc)).start()
        return op

    def _show(self, unit: str, month: str, ret: MonthlyReturnDTO | None, allowed: frozenset[str], comp: Any) -> None:
        if (unit, month) != (self.unit, self.month):
            return  # an answer for an earlier choice
        self.ret, self.allowed = ret, allowed
        self.model.set_return(ret)
        self.messages.clear()
        self.banner.clear_message()
        if ret is None:
            self.state_label.setText(bidi(tr("No return of {unit} for {month} yet.").format(unit=unit, month=month) + " " + tr("Due by {date}.").format(date=rsvc.due_date(month).isoformat())))
        else:
            parts = [
                tr("State: {state}").format(state=tr(STATE_LABELS[ret.state])),
                tr("version {n}").format(n=ret.version),
                tr("compiled {when} by {who}").format(when=_when(ret.compiled_at), who=ret.compiled_by),
                tr("Due by {date}.").format(date=ret.due_on.isoformat()),
            ]
            if ret.first_submitted_at is not None:
                parts.append(tr("Submitted on time.") if ret.on_time else tr("Submitted late."))
            if ret.approved_by:
                parts.append(tr("Approved by {who} on {when}.").format(who=ret.approved_by, when=_when(ret.approved_at)))
            self.state_label.setText(bidi(" · ".join(parts)))
            if ret.state == "returned" and ret.returned_reason:
                self.banner.show_message("warning", bidi(tr("Sent back by {who}:").format(who=ret.returned_by or "")) + " " + ret.returned_reason)
            elif ret.state == "approved":
                self.banner.show_message("ok", tr("Approved: the records of this unit and month are locked."))
            elif ret.errors:
                self.banner.show_message("error", tr("Errors to correct in the records before the return can be submitted: {n}.").format(n=len(ret.errors)))
            for m in ret.messages:
                if m.level == "info":
                    continue
                it = QListWidgetItem(f"{tr(LEVEL_LABELS[m.level])}: {bidi(pick(m.text_en, m.text_ur))}")
                it.setData(Qt.ItemDataRole.UserRole, m.key)
                it.setBackground(QBrush(QColor(LEVEL_COLOURS[m.level])))
                self.messages.addItem(it)
        self.messages.setVisible(self.messages.count() > 0)
        self._show_completeness(comp)
        self._apply_allowed()
        if ret is not None and self.model.rowCount() and not self.table.currentIndex().isValid():
            self.table.selectRow(0)
        self._show_line(self.table.currentIndex().row() if ret is not None else -1)
        self.loaded = True
        self.return_loaded.emit(ret)

    def _show_completeness(self, comp: Any) -> None:
        rows = comp.rows
        self.completeness_table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            timing = "" if r.on_time is None else (tr("On time") if r.on_time else tr("Late"))
            if r.overdue:
                timing = tr("Overdue")
            cells = [f"{ltr(r.unit)} — {pick(r.name_en, r.name_ur)}", tr(STATE_LABELS.get(r.state, r.state)), ltr(_when(r.first_submitted_at)), timing]
            for c, text in enumerate(cells):
                self.completeness_table.setItem(i, c, QTableWidgetItem(text))
        if rows:
            self.completeness_label.setText(
                bidi(tr("{sub} of {n} units submitted ({late} late); {missing} missing. Due by {date}.").format(
                    sub=len(comp.submitted), n=comp.expected, late=len(comp.late), missing=len(comp.missing), date=comp.due_on.isoformat()
                ))
            )
        else:
            self.completeness_label.setText(tr("No units report to this unit."))

    def _apply_allowed(self) -> None:
        a = self.allowed
        self.compile_button.setEnabled("compile" in a)
        self.submit_button.setEnabled("submit" in a)
        self.approve_button.setEnabled("approve" in a)
        self.send_back_button.setEnabled("send_back" in a)
        self.unlock_button.setEnabled("unlock" in a)
        self.export_button.setEnabled("export" in a)
        selected = self.model.line(self.table.currentIndex().row()) is not None
        self.comment_edit.setEnabled("comment" in a and selected)
        self.comment_button.setEnabled("comment" in a and selected)

    def _show_line(self, row: int) -> None:
        line = self.model.line(row)
        self.comment_list.clear()
        if line is None or self.ret is None:
            self.detail_title.setText("")
            self.detail_text.setText("")
            self._apply_allowed()
            return
        title = f"{ltr(line.key)} — {pick(line.label_en, line.label_ur)}" if line.group == "indicator" else pick(line.label_en, line.label_ur)
        self.detail_title.setText(f"<b>{title}</b>: {display_value(line)}")
        notes = [f"{tr(LEVEL_LABELS[m.level])}: {bidi(pick(m.text_en, m.text_ur))}" for m in self.ret.messages_on(line.key)]
        self.detail_text.setText("\n\n".join([line.definition, *notes]))
        for c in self.ret.comments_on(line.key):
            self.comment_list.addItem(f"{c.author} ({_when(c.at)}): {c.body}")
        self._apply_allowed()

    def _on_message_activated(self, item: QListWidgetItem) -> None:
        row = self.model.row_of(str(item.data(Qt.ItemDataRole.UserRole)))
        if row >= 0:
            self.table.selectRow(row)

    # -- actions ------------------------------------------------------------------------------------------

    def _run(self, action: str, fn: Any, progress: str | None = None) -> Op:
        op = run_op(self, fn)
        op.on_success(lambda _r: self._after(action)).on_failure(lambda exc: self._failed(exc))
        if progress:
            op.with_progress(progress)
        return op.start()

    def _after(self, action: str) -> None:
        self.action_finished.emit(action)
        self.load()

    def _failed(self, exc: BaseException) -> None:
        show_exception(parent=self, exc=exc)
        self.load()

    def compile(self) -> Op:
        """Compiles the return on the writer thread, with a progress dialog."""
        ws, unit, month = self.ref.ws, self.unit, self.month
        expected = self.ret.version if self.ret is not None and (self.ret.unit, self.ret.month) == (unit, month) else None
        return self._run("compile", lambda _op: rsvc.iter_compile(ws, unit, month, expected_version=expected), tr("Compiling the return…"))

    def _version(self) -> int | None:
        return self.ret.version if self.ret is not None else None

    def submit(self) -> Op:
        ws, unit, month, v = self.ref.ws, self.unit, self.month, self._version()
        return self._run("submit", lambda _op: rsvc.submit_return(ws, unit, month, expected_version=v), tr("Checking and submitting the return…"))

    def approve(self) -> Op:
        ws, unit, month, v = self.ref.ws, self.unit, self.month, self._version()
        return self._run("approve", lambda _op: rsvc.approve_return(ws, unit, month, expected_version=v))

    def send_back(self, reason: str | None = None) -> Op | None:
        """Sends the return back; asks for the reason unless given."""
        if reason is None:
            reason, ok = QInputDialog.getMultiLineText(self, tr("Send the return back"), tr("Why is the return sent back? The unit sees this."))
            if not ok:
                return None
        ws, unit, month, v = self.ref.ws, self.unit, self.month, self._version()
        return self._run("send_back", lambda _op: rsvc.send_back_return(ws, unit, month, reason or "", expected_version=v))

    def unlock(self, reason: str | None = None, to_state: str = "draft") -> Op | None:
        """Administrators reopen an approved return; asks for the reason unless given."""
        if reason is None:
            reason, ok = QInputDialog.getMultiLineText(self, tr("Unlock the return"), tr("Why is the approved return unlocked? This is recorded."))
            if not ok:
                return None
        ws, unit, month, v = self.ref.ws, self.unit, self.month, self._version()
        return self._run("unlock", lambda _op: rsvc.unlock_return(ws, unit, month, reason or "", to_state=to_state, expected_version=v))

    def add_comment(self, text: str | None = None) -> Op | None:
        """Adds the comment typed (or ``text``) on the selected value."""
        line = self.model.line(self.table.currentIndex().row())
        body = self.comment_edit.text() if text is None else text
        if line is None or not body.strip():
            return None
        ws, unit, month, key = self.ref.ws, self.unit, self.month, line.key
        self.comment_edit.clear()
        return self._run("comment", lambda _op: rsvc.add_comment(ws, unit, month, key, body))

    def export(self, fmt: str | None = None, path: Path | None = None, *, external: bool | None = None, lang: str | None = None) -> Op | None:
        """Writes the return as PDF (English or Urdu), XLSX or CSV; asks for the file unless given
        (a PDF's language is the file type chosen, the screen's by default). Users who may not see
        small counts (``report.internal``) get the external version (disclosure control)."""
        if external is None:
            external = not self.ref.can(Perm.REPORT_INTERNAL, unit=self.unit)
        if path is None:
            default = f"return-{self.unit}-{self.month}.pdf"
            pdf_en, pdf_ur = tr("PDF in English (*.pdf)"), tr("PDF in Urdu (*.pdf)")
            filters = ";;".join((pdf_en, pdf_ur, tr("Excel workbook (*.xlsx)"), tr("CSV (*.csv)")))
            name, chosen = QFileDialog.getSaveFileName(self, tr("Export the return"), default, filters, pdf_ur if language() == "ur" else pdf_en)
            if not name:
                return None
            path = Path(name)
            fmt = fmt or {"xlsx": "xlsx", "csv": "csv"}.get(path.suffix.lower().lstrip("."), "pdf")
            if path.suffix.lower() != f".{fmt}":
                path = path.with_suffix(f".{fmt}")
            lang = lang or ("ur" if chosen == pdf_ur else "en" if chosen == pdf_en else None)
        fmt = fmt or "pdf"
        lang = lang or language()  # a PDF in the language of the screen unless chosen
        ws, unit, month, out = self.ref.ws, self.unit, self.month, path

        def done(result: Any) -> None:
            self.last_export = result.path
            win = self.window()
            if isinstance(win, QMainWindow):
                win.statusBar().showMessage(tr("Return written:") + f" {result.path}", 15000)
            self.action_finished.emit("export")

        op = run_op(self, lambda _op: rsvc.iter_export_return(ws, unit, month, fmt=fmt, out=out, external=external, lang=lang), writer=True)
        op.on_success(done).on_failure(lambda exc: show_exception(parent=self, exc=exc)).with_progress(tr("Writing the return…"))
        return op.start()
