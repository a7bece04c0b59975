# SPDX-License-Identifier: GPL-3.0-or-later
"""The list page of one record type (filter bar, table, New/Open/Delete) and the record picker."""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QItemSelectionModel, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from nap_desktop.domain.records import RECORD_TYPES
from nap_desktop.errors import UserFacingError
from nap_desktop.security.permissions import Perm
from nap_desktop.services.records import RecordFilter, RecordRow
from nap_desktop.ui.errors import user_message
from nap_desktop.ui.i18n import fmt_int, pick, tr
from nap_desktop.ui.record_table_model import (
    FETCH_ALL_LIMIT,
    RecordFilterBar,
    RecordSortProxyModel,
    RecordTableModel,
    RowRole,
)
from nap_desktop.ui.session import SessionRef
from nap_desktop.ui.widgets import button_row, heading, primary_button

logger = logging.getLogger(__name__)


def capture_perm(type_name: str) -> Perm:
    """The permission to create or edit records of a type (cases need case management)."""
    return Perm.CASE_MANAGE if type_name == "case" else Perm.RECORD_CAPTURE


class RecordListView(QWidget):
    """Filter bar + lazily loaded table of one record type."""

    open_requested = Signal(str, str)
    new_requested = Signal(str)
    delete_requested = Signal(str, str, int)  # type, id, row (for the confirmation)

    def __init__(self, ref: SessionRef, type_name: str, *, picker: bool = False, sync: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"list_{type_name}")
        self.ref = ref
        self.rt = RECORD_TYPES[type_name]
        self.picker = picker
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0 if picker else 8, 0 if picker else 8, 0 if picker else 8, 0 if picker else 8)
        top = QHBoxLayout()
        if not picker:
            top.addWidget(heading(pick(self.rt.label_en, self.rt.label_ur)))
        top.addStretch(1)
        may_capture = ref.can(capture_perm(type_name))
        self.may_capture = may_capture
        self.new_button = QPushButton(tr("New") + " (Ctrl+N)")
        self.new_button.setObjectName("newButton")
        self.new_button.setAutoDefault(False)
        self.new_button.clicked.connect(lambda: self.new_requested.emit(self.rt.name))
        self.new_button.setVisible(may_capture)
        self.open_button = QPushButton(tr("Open"))
        self.open_button.setObjectName("openButton")
        self.open_button.setAutoDefault(False)
        self.open_button.clicked.connect(self.open_current)
        self.open_button.setVisible(not picker)
        self.delete_button = QPushButton(tr("Delete"))
        self.delete_button.setObjectName("deleteButton")
        self.delete_button.setAutoDefault(False)
        self.delete_button.clicked.connect(self.delete_current)
        self.delete_button.setVisible(may_capture and not picker)
        for b in (self.new_button, self.open_button, self.delete_button):
            top.addWidget(b)
        lay.addLayout(top)

        self.filter_bar = RecordFilterBar(ref, type_name)
        lay.addWidget(self.filter_bar)

        self.model = RecordTableModel(ref, type_name, sync=sync, parent=self)
        self.proxy = RecordSortProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setObjectName("recordTable")
        # NOTE: the table shows the model itself, and the proxy only while the loaded rows are
        # sorted by a column the service cannot order by: painting through a proxy costs twice.
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 10)
        hh = self.table.horizontalHeader()
        hh.setSectionsClickable(True)
        hh.setSortIndicatorShown(True)
        hh.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        hh.setStretchLastSection(True)
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        hh.sortIndicatorChanged.connect(self._on_sort_changed)
        self.table.doubleClicked.connect(lambda _i: self.open_current())
        lay.addWidget(self.table, 1)

        self.empty_label = QLabel()
        self.empty_label.setObjectName("emptyLabel")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.setStyleSheet("color: #555; padding: 24px;")
        self.empty_label.hide()
        lay.addWidget(self.empty_label)
        self.status_label = QLabel()
        self.status_label.setObjectName("listStatus")
        lay.addWidget(self.status_label)

        self.filter_bar.filter_changed.connect(self.model.set_filter)
        self.model.loading_changed.connect(lambda _on: self._update_status())
        self.model.page_loaded.connect(self._on_page_loaded)
        self.model.load_failed.connect(self._on_load_failed)
        self.model.total_changed.connect(lambda _t: self._update_status())
        self._error = ""
        self._sized = False

        self.table.installEventFilter(self)
        self.model.reload()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt virtual
        """Enter opens the current record, Delete deletes it (keyboard-first lists)."""
        if obj is self.table and event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not event.modifiers():
                self.open_current()
                return True
            if event.key() == Qt.Key.Key_Delete and not event.modifiers():
                self.delete_current()
                return True
        return super().eventFilter(obj, event)

    # -- behaviour -------------------------------------------------------------------------------

    def _on_page_loaded(self) -> None:
        self._error = ""
        if not self._sized and self.model.rowCount():
            self.table.resizeColumnsToContents()
            for c, col in enumerate(self.model.columns):
                cap = 120 if col.key in ("sex", "age_years", "status", "unit") else 220
                self.table.setColumnWidth(c, min(max(self.table.columnWidth(c), 70), cap))
            self._sized = True
        shown = self.table.model()
        if self.table.currentIndex().row() < 0 and shown.rowCount():
            self.table.selectionModel().setCurrentIndex(
                shown.index(0, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
            )
        self._update_status()

    def _on_load_failed(self, exc: object) -> None:
        self._error = user_message(exc) if isinstance(exc, UserFacingError) else tr("The list could not be loaded.")
        if not isinstance(exc, UserFacingError):
            from nap_desktop.ui.errors import show_exception

            show_exception(parent=self, exc=exc if isinstance(exc, BaseException) else RuntimeError("list"))
        self._update_status()

    def _update_status(self) -> None:
        m = self.model
        total = m.total
        if self._error:
            self.status_label.setText(self._error)
        elif not m.first_page_loaded:
            self.status_label.setText(tr("Loading…"))
        elif total is not None:
            self.status_label.setText(
                tr("{shown} of {total} records shown").format(shown=fmt_int(m.rowCount()), total=fmt_int(total))
            )
        else:
            self.status_label.setText(tr("{shown} records shown; counting…").format(shown=fmt_int(m.rowCount())))
        empty = m.first_page_loaded and m.rowCount() == 0 and m.fully_loaded and not self._error
        if empty:
            filtered = m.filter != RecordFilter()
            if filtered:
                self.empty_label.setText(tr("No records match the filter."))
            elif self.may_capture and not self.picker:
                self.empty_label.setText(tr("No records yet. Press Ctrl+N to add the first one."))
            else:
                self.empty_label.setText(tr("No records yet."))
        self.empty_label.setVisible(empty)

    def _show_sorted(self, column: int, order: Qt.SortOrder) -> None:
        """Shows the loaded rows sorted by ``column`` (through the proxy), or, with -1, the
        model itself in the service's order."""
        if column >= 0:
            self.proxy.sort(column, order)
        else:
            self.proxy.sort(-1)  # the model's order (a descending -1 would turn it round)
        shown = self.proxy if column >= 0 else self.model
        if self.table.model() is shown:
            return
        row = self.current_row()
        hh = self.table.horizontalHeader()
        widths = [self.table.columnWidth(c) for c in range(self.model.columnCount())]
        indicator = (hh.sortIndicatorSection(), hh.sortIndicatorOrder())
        old = self.table.selectionModel()
        hh.blockSignals(True)
        try:
            self.table.setModel(shown)
            for c, w in enumerate(widths):
                self.table.setColumnWidth(c, w)
            hh.setSortIndicator(*indicator)
        finally:
            hh.blockSignals(False)
        old.deleteLater()
        if row is not None:
            self.select_id(row.id)

    def _on_sort_changed(self, column: int, order: Qt.SortOrder) -> None:
        m = self.model
        if column < 0:
            self._show_sorted(-1, order)
            if m.order != ("date", True):
                m.set_order("date", descending=True)
            return
        key = m.sort_key_of(column)
        if key is not None:
            # The service sorts: every record in order, not only the loaded pages.
            self._show_sorted(-1, order)
            m.set_order(key, descending=order == Qt.SortOrder.DescendingOrder)
            return
        if not m.fully_loaded and (m.total or 0) <= FETCH_ALL_LIMIT:
            m.fetch_all(then=lambda: self._show_sorted(column, order))
        else:
            self._show_sorted(column, order)
            if not m.fully_loaded:
                self.status_label.setText(tr("Sorted the rows loaded so far; narrow the filter to sort them all."))

    def current_row(self) -> RecordRow | None:
        idx = self.table.currentIndex()
        if not idx.isValid():
            return None
        row = idx.data(RowRole)
        return row if isinstance(row, RecordRow) else None

    def select_id(self, record_id: str) -> bool:
        src = self.model.row_of(record_id)
        if src < 0:
            return False
        idx = self.model.index(src, 0)
        if self.table.model() is self.proxy:
            idx = self.proxy.mapFromSource(idx)
        self.table.selectionModel().setCurrentIndex(idx, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self.table.scrollTo(idx)
        return True

    def open_current(self) -> None:
        row = self.current_row()
        if row is not None:
            self.open_requested.emit(row.type, row.id)

    def delete_current(self) -> None:
        row = self.current_row()
        if row is not None and self.may_capture and not self.picker:
            self.delete_requested.emit(row.type, row.id, self.table.currentIndex().row())

    def refresh(self) -> None:
        self.model.reload()

    def focus_search(self) -> None:
        self.filter_bar.focus_search()


class RecordPickerDialog(QDialog):
    """Choose a record of a type (persons, cases, providers …) for a linked field."""

    def __init__(self, ref: SessionRef, type_name: str, *, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"picker_{type_name}")
        rt = RECORD_TYPES[type_name]
        self.setWindowTitle(tr("Choose: {what}").format(what=pick(rt.label_en, rt.label_ur)))
        self.resize(820, 520)
        self.selected: RecordRow | None = None
        self.create_new = False
        lay = QVBoxLayout(self)
        self.view = RecordListView(ref, type_name, picker=True)
        self.view.new_button.setText(tr("New") + "…")
        self.view.new_requested.connect(self._on_new)
        self.view.open_requested.connect(lambda _t, _i: self.accept())
        lay.addWidget(self.view, 1)
        self.choose_button = primary_button(tr("Choose"))
        self.choose_button.setObjectName("chooseButton")
        self.choose_button.clicked.connect(self.accept)
        row, _cancel = button_row(self, self.choose_button)
        lay.addLayout(row)
        self.view.focus_search()

    def _on_new(self, _type: str) -> None:
        self.create_new = True
        super().accept()

    def accept(self) -> None:  # noqa: D102
        self.selected = self.view.current_row()
        if self.selected is None:
            return
        super().accept()

