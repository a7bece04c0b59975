# SPDX-License-Identifier: GPL-3.0-or-later
"""Record lists: a lazily paged table model, its sort proxy, and the filter bar.

:class:`RecordTableModel` shows the pages of ``services.records.list_records`` (newest first).
It loads the first page (with the total) when the filter changes and further pages when the
view scrolls near the end (``canFetchMore``/``fetchMore``), so a 100k-row list costs one page
of rows at a time. Pages load on the writer thread (listing names writes an audit entry), and an
answer for an old filter is dropped. Columns come from the record type: its date, its
``summary`` fields, then the person's name, sex, age and citizenship for person-linked types;
a name the user may not see shows as "•••".

The first page comes without its total: counting can read every record of the type (a second
or more at 100k rows), the page only its own rows. The count follows on a reader thread and
is kept per filter until the list is refreshed (records changed), so going back to a filter shows
its total at once.

Sorting by a column the service can order by (``services.records.sort_keys``) reloads the list
in that order (:meth:`RecordTableModel.set_order`); other columns (the name, the age) are sorted
by :class:`RecordSortProxyModel` on the loaded rows, which the list view loads in full first when
there are at most :data:`FETCH_ALL_LIMIT`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QComboBox, QGridLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from nap_desktop.domain.codelists import CodeList
from nap_desktop.domain.records import RECORD_TYPES, FieldSpec, RecordType
from nap_desktop.security.permissions import Perm
from nap_desktop.services.records import OUTCOME_FIELD, Page, RecordFilter, RecordRow, count_records, list_records, sort_keys
from nap_desktop.ui.i18n import N_, fmt_int, pick, tr
from nap_desktop.ui.session import SessionRef
from nap_desktop.ui.widgets import CodeComboBox, DateField, code_label
from nap_desktop.ui.workers import run_op

logger = logging.getLogger(__name__)

SortRole = Qt.ItemDataRole.UserRole + 1
RowRole = Qt.ItemDataRole.UserRole + 2
IdRole = Qt.ItemDataRole.UserRole + 3

PAGE_SIZE = 100
COUNT_DELAY_MS = 50
FETCH_ALL_LIMIT = 5000
MASK = "•••"

_Index = QModelIndex | QPersistentModelIndex

CASE_STAGES = {
    "registered": N_("Registered"),
    "enquiry": N_("Enquiry"),
    "investigation": N_("Investigation"),
    "challaned": N_("Challan submitted"),
    "trial": N_("Trial"),
    "decided": N_("Decided"),
    "appeal": N_("Appeal"),
    "closed": N_("Closed"),
}
STATUS_LABELS = {"draft": N_("Draft"), "complete": N_("Complete")}


def has_person(rt: RecordType) -> bool:
    """Whether lists of ``rt`` can show and filter by a person (sex, age, citizenship)."""
    return rt.name == "person" or rt.person_field is not None


def text_search_kind(rt: RecordType) -> str | None:
    """What the free-text search of ``rt`` looks in: "case", "title", "person" or ``None``."""
    if rt.name == "case":
        return "case"
    if any(n in rt.field_names for n in ("name", "title", "stakeholder")):
        return "title"
    if has_person(rt):
        return "person"
    return None


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    spec: FieldSpec | None = None


def columns_for(rt: RecordType) -> list[Column]:
    """The columns of a list of ``rt``."""
    cols: list[Column] = []
    if rt.date_field == "created_on":
        cols.append(Column("date", tr("Created on")))
    else:
        f = rt.field(rt.date_field)
        cols.append(Column("date", pick(f.label_en, f.label_ur), f))
    person_cols = ("sex", "age_years", "citizenship")
    if has_person(rt):
        cols.append(Column("name", tr("Name")))
    for name in rt.summary:
        if name == rt.date_field or (rt.name == "person" and name in person_cols):
            continue
        f = rt.field(name)
        cols.append(Column(f"summary.{name}", pick(f.label_en, f.label_ur), f))
    if has_person(rt):
        cols.append(Column("sex", tr("Sex")))
        cols.append(Column("age_years", tr("Age")))
        cols.append(Column("citizenship", tr("Citizenship")))
    cols.append(Column("status", tr("Status")))
    cols.append(Column("unit", tr("Unit")))
    return cols


class RecordTableModel(QAbstractTableModel):
    """The rows of one record type under a filter, fetched page by page."""

    loading_changed = Signal(bool)
    total_changed = Signal(object)
    load_failed = Signal(object)
    page_loaded = Signal()

    def __init__(self, ref: SessionRef, type_name: str, *, page_size: int = PAGE_SIZE, sync: bool = False, parent: Any = None) -> None:
        super().__init__(parent)
        self.ref = ref
        self.rt = RECORD_TYPES[type_name]
        self.page_size = page_size
        self.sync = sync  # NOTE: run pages on the calling thread (benchmarks, model tests)
        self.columns = columns_for(self.rt)
        self._cl = ref.codelists
        self._rows: list[RecordRow] = []
        # The shown texts of each row, made once (rows only grow): for a page of at most page_size
        # rows on the pool thread with the page, else when the row is first painted.
        self._texts: list[list[str] | None] = []
        self._total: int | None = None
        self._filter = RecordFilter()
        self._order: tuple[str, bool] = ("date", True)
        self._sortable = frozenset(sort_keys(type_name))
        self._counts: dict[RecordFilter, int] = {}
        self._gen = 0
        self._loading = False
        self._started = False
        self._first_done = False
        self._failed = False
        self._exhausted = False
        self._after_load: list[Callable[[], None]] = []

    # -- public API ------------------------------------------------------------------------------

    @property
    def filter(self) -> RecordFilter:
        return self._filter

    @property
    def total(self) -> int | None:
        return self._total

    @property
    def loading(self) -> bool:
        return self._loading

    @property
    def fully_loaded(self) -> bool:
        return self._exhausted or (self._total is not None and len(self._rows) >= self._total)

    @property
    def first_page_loaded(self) -> bool:
        """Whether the first page of the current filter and order is in (the total may follow)."""
        return self._first_done

    @property
    def order(self) -> tuple[str, bool]:
        """The service-side order: (sort key, descending)."""
        return self._order

    def sort_key_of(self, column: int) -> str | None:
        """The service's sort key for a column, or ``None`` if only loaded rows can be sorted."""
        if not 0 <= column < len(self.columns):
            return None
        key = self.columns[column].key
        key = key[8:] if key.startswith("summary.") else key
        return key if key in self._sortable else None

    def set_filter(self, flt: RecordFilter) -> None:
        self._filter = flt
        self._restart()

    def set_order(self, key: str, *, descending: bool) -> None:
        """Reloads the list ordered by the service (``key`` from :meth:`sort_key_of`)."""
        if key not in self._sortable:
            raise ValueError(f"cannot order by {key!r}")
        if (key, descending) != self._order:
            self._order = (key, descending)
            self._restart()

    def reload(self) -> None:
        """Drops the loaded rows and the remembered totals, and loads the first page again."""
        self._counts.clear()
        self._restart()

    def _restart(self) -> None:
        self._gen += 1
        self.beginResetModel()
        self._rows = []
        self._texts = []
        self._total = None
        self._exhausted = False
        self._started = False
        self._first_done = False
        self._failed = False
        self.endResetModel()
        self._load(first=True)

    def row_at(self, row: int) -> RecordRow:
        return self._rows[row]

    def rows(self) -> list[RecordRow]:
        return list(self._rows)

    def row_of(self, record_id: str) -> int:
        for i, r in enumerate(self._rows):
            if r.id == record_id:
                return i
        return -1

    def fetch_all(self, then: Callable[[], None] | None = None) -> None:
        """Loads every remaining row (one request), then calls ``then``."""
        if self.fully_loaded:
            if then:
                then()
            return
        if then:
            self._after_load.append(then)
        if not self._loading:
            remaining = (self._total or FETCH_ALL_LIMIT) - len(self._rows)
            self._load(first=False, limit=max(1, min(FETCH_ALL_LIMIT, remaining)))

    # -- loading --------------------------------------------------------------------------------

    def _set_loading(self, on: bool) -> None:
        if self._loading != on:
            self._loading = on
            self.loading_changed.emit(on)

    def _load(self, *, first: bool, limit: int | None = None) -> None:
        if not self.ref.unlocked:
            return
        gen = self._gen
        ws = self.ref.ws
        type_name, flt, offset = self.rt.name, self._filter, len(self._rows)
        lim = limit or self.page_size
        order_by, descending = self._order
        self._started = True

        def fetch(_op: object = None) -> tuple[Page, list[list[str]]]:
            page = list_records(ws, type_name, flt, offset=offset, limit=lim, with_total=False, order_by=order_by, descending=descending)
            # NOTE: the texts of a page are made here, off the GUI thread, which then only shows them.
            return page, [self._row_texts(r) for r in page.rows] if len(page.rows) <= self.page_size else []

        self._set_loading(True)
        if self.sync:
            try:
                got = fetch()
            except Exception as exc:  # noqa: BLE001 - reported through load_failed
                self._on_failed(gen, exc)
            else:
                self._on_page(gen, got)
                if first:
                    self._count(gen)
            self._set_loading(False)
            return
        op = run_op(None, fetch).on_success(lambda got: self._on_page(gen, got)).on_failure(lambda exc: self._on_failed(gen, exc))
        op.on_finished(lambda: self._on_finished(gen))
        if first:
            op.on_finished(lambda: self._count(gen))
        op.start()

    def _count(self, gen: int) -> None:
        """Sets the total of the current filter: remembered, known from a short first page, or
        counted on a reader thread (never the writer: a page waiting behind a count would stall)."""
        if gen != self._gen or self._total is not None or self._failed or not self.ref.unlocked:
            return
        flt = self._filter
        known = self._counts.get(flt)
        if known is None and self._exhausted:
            known = len(self._rows)
        if known is not None:
            self._set_total(known)
            return
        ws, type_name = self.ref.ws, self.rt.name
        if self.sync:
            try:
                self._on_counted(gen, flt, count_records(ws, type_name, flt))
            except Exception as exc:  # noqa: BLE001 - reported through load_failed
                self._on_failed(gen, exc)
            return

        def start() -> None:
            if gen != self._gen or not self.ref.unlocked:
                return
            run_op(None, lambda _op: count_records(ws, type_name, flt), writer=False).on_success(
                lambda n: self._on_counted(gen, flt, n)
            ).on_failure(lambda exc: self._on_failed(gen, exc)).start()

        # NOTE: a little after the page, which is painted first (counting a 100k list takes its
        # share of the machine for up to a second).
        QTimer.singleShot(COUNT_DELAY_MS, start)

    def _on_counted(self, gen: int, flt: RecordFilter, n: int) -> None:
        self._counts[flt] = n
        if gen == self._gen:
            self._set_total(n)

    def _set_total(self, n: int) -> None:
        self._total = n
        self.total_changed.emit(n)

    def _on_finished(self, gen: int) -> None:
        if gen == self._gen:
            self._set_loading(False)
            callbacks, self._after_load = self._after_load, []
            for cb in callbacks:
                cb()

    def _on_page(self, gen: int, got: tuple[Page, list[list[str]]]) -> None:
        if gen != self._gen:
            return
        page, texts = got
        if page.total is not None:
            self._set_total(page.total)
        self._first_done = True
        if len(page.rows) < page.limit:
            self._exhausted = True
        if page.rows:
            start = len(self._rows)
            self.beginInsertRows(QModelIndex(), start, start + len(page.rows) - 1)
            self._rows.extend(page.rows)
            self._texts.extend(texts or [None] * len(page.rows))
            self.endInsertRows()
        self.page_loaded.emit()

    def _on_failed(self, gen: int, exc: BaseException) -> None:
        if gen != self._gen:
            return
        self._exhausted = True
        self._failed = True
        self._first_done = True
        self.load_failed.emit(exc)

    # -- Qt model API -----------------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.columns)

    def canFetchMore(self, parent: _Index = QModelIndex()) -> bool:  # noqa: N802, B008
        if parent.isValid() or self._loading or not self._started:
            return False
        return not self.fully_loaded

    def fetchMore(self, parent: _Index = QModelIndex()) -> None:  # noqa: N802, B008
        if self.canFetchMore(parent):
            self._load(first=False)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.columns):
            if role == Qt.ItemDataRole.DisplayRole:
                return self.columns[section].header
            return None
        if orientation == Qt.Orientation.Vertical and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(self._rows):
            return str(section + 1)
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        return _FLAGS if index.isValid() else Qt.ItemFlag.NoItemFlags

    def _raw(self, row: RecordRow, col: Column) -> Any:
        if col.key == "date":
            return row.date
        if col.key.startswith("summary."):
            return row.summary.get(col.key[8:])
        return getattr(row, col.key, None)

    def _masked(self, row: RecordRow) -> bool:
        return not self.ref.can(Perm.PERSONAL_VIEW, unit=row.unit)

    def _display(self, row: RecordRow, col: Column) -> str:
        value = self._raw(row, col)
        if col.key == "name":
            if value:
                return str(value)
            return MASK if self._masked(row) else ""
        if value is None or value == "":
            return ""
        if col.key == "status":
            return tr(STATUS_LABELS.get(str(value), str(value)))
        if col.key == "sex":
            return code_label(self._cl.get("sex"), value)
        if col.key == "citizenship":
            return code_label(self._cl.get("citizenship"), value)
        if isinstance(value, date):
            return value.isoformat()
        spec = col.spec
        if spec is not None:
            if spec.kind == "code" and spec.codelist:
                return code_label(self._cl.get(spec.codelist), value)
            if spec.kind == "bool":
                return tr("Yes") if value else tr("No")
            if spec.kind == "int" and isinstance(value, int):
                return fmt_int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return fmt_int(value)
        return str(value)

    def _sort_key(self, row: RecordRow, col: Column) -> Any:
        value = self._raw(row, col)
        if col.key == "name" and not value:
            return ""
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int | float):
            return float(value)
        if value is None:
            return "" if col.key not in ("age_years",) and not (col.spec and col.spec.kind == "int") else float("-inf")
        if isinstance(value, date):
            return value.isoformat()
        return self._display(row, col).casefold()

    def _row_texts(self, row: RecordRow) -> list[str]:
        return [self._display(row, col) for col in self.columns]

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in _ROLES:
            return None  # NOTE: painting asks for several roles per cell; most have nothing here
        r, c = index.row(), index.column()  # an invalid index has -1, -1
        if not (0 <= r < len(self._rows)) or not (0 <= c < len(self.columns)):
            return None
        if role == _DISPLAY:
            texts = self._texts[r]
            if texts is None:
                texts = self._texts[r] = self._row_texts(self._rows[r])
            return texts[c]
        row = self._rows[r]
        col = self.columns[c]
        if role == SortRole:
            return self._sort_key(row, col)
        if role == RowRole:
            return row
        if role == IdRole:
            return row.id
        if role == Qt.ItemDataRole.TextAlignmentRole:
            value = self._raw(row, col)
            return _RIGHT if isinstance(value, int) and not isinstance(value, bool) else None
        if role == Qt.ItemDataRole.ForegroundRole and row.status == "draft" and col.key == "status":
            return QBrush(QColor("#8a5a00"))
        if role == Qt.ItemDataRole.ToolTipRole and col.key == "name" and not row.name and self._masked(row):
            return tr("Hidden: your role does not give access to personal data.")
        return None


_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
_ROLES = frozenset(
    int(r)
    for r in (
        Qt.ItemDataRole.DisplayRole,
        SortRole,
        RowRole,
        IdRole,
        Qt.ItemDataRole.TextAlignmentRole,
        Qt.ItemDataRole.ForegroundRole,
        Qt.ItemDataRole.ToolTipRole,
    )
)


class RecordSortProxyModel(QSortFilterProxyModel):
    """Sorts loaded rows by :data:`SortRole`."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setSortRole(SortRole)
        self.setDynamicSortFilter(True)

    def lessThan(self, left: _Index, right: _Index) -> bool:  # noqa: N802
        a = left.data(SortRole)
        b = right.data(SortRole)
        if type(a) is not type(b):
            return str(a) < str(b)
        try:
            return bool(a < b)
        except TypeError:
            return str(a) < str(b)


class RecordFilterBar(QWidget):
    """Date range, status, sex, age group, citizenship, outcome and free-text search for a type.

    Emits :attr:`filter_changed` with a ``RecordFilter`` (text after a short pause in typing).
    """

    filter_changed = Signal(object)

    def __init__(self, ref: SessionRef, type_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ref = ref
        self.rt = RECORD_TYPES[type_name]
        cl = ref.codelists
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(4)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(250)
        self._debounce.timeout.connect(self._emit)

        self.search_edit = QLineEdit()
        self.search_edit.setObjectName("searchEdit")
        self.search_edit.setClearButtonEnabled(True)
        kind = text_search_kind(self.rt)
        if kind == "case":
            self.search_edit.setPlaceholderText(tr("Search FIR or enquiry number (Ctrl+F)"))
        elif kind == "title":
            self.search_edit.setPlaceholderText(tr("Search by name or title (Ctrl+F)"))
        elif kind == "person":
            if ref.can(Perm.PERSONAL_VIEW):
                self.search_edit.setPlaceholderText(tr("Search name, CNIC or passport number (Ctrl+F)"))
            else:
                self.search_edit.setPlaceholderText(tr("Searching by name needs access to personal data"))
                self.search_edit.setEnabled(False)
        else:
            self.search_edit.setPlaceholderText(tr("No text search for this record type"))
            self.search_edit.setEnabled(False)
        self.search_edit.textChanged.connect(lambda _t: self._debounce.start())

        self.status_combo = CodeComboBox(None, blank=tr("Any status"), entries=[(k, tr(v)) for k, v in STATUS_LABELS.items()], min_chars=11)
        self.status_combo.setObjectName("statusFilter")
        self.status_combo.changed.connect(self._emit)

        person = has_person(self.rt)
        self.sex_combo: CodeComboBox | None = None
        self.age_combo: CodeComboBox | None = None
        self.citizenship_combo: CodeComboBox | None = None
        if person or self.rt.name == "survey_response":
            self.sex_combo = CodeComboBox(cl["sex"], blank=tr("Any sex"), min_chars=11)
            self.sex_combo.setObjectName("sexFilter")
            self.sex_combo.changed.connect(self._emit)
        if person:
            self.age_combo = CodeComboBox(cl["age_group"], blank=tr("Any age"), min_chars=11)
            self.age_combo.setObjectName("ageFilter")
            self.age_combo.changed.connect(self._emit)
            self.citizenship_combo = CodeComboBox(cl["citizenship"], blank=tr("Any citizenship"), min_chars=11)
            self.citizenship_combo.setObjectName("citizenshipFilter")
            self.citizenship_combo.lineEdit().setPlaceholderText(tr("Any citizenship"))
            self.citizenship_combo.changed.connect(self._emit)
        self.outcome_combo: CodeComboBox | None = None
        ofield = OUTCOME_FIELD.get(self.rt.name)
        if ofield:
            if self.rt.name == "case":
                entries = [(k, tr(v)) for k, v in CASE_STAGES.items()]
                self.outcome_combo = CodeComboBox(None, blank=tr("Any stage"), entries=entries, min_chars=11)
            else:
                spec = self.rt.field(ofield)
                codelist: CodeList | None = cl.get(spec.codelist) if spec.codelist else None
                self.outcome_combo = CodeComboBox(codelist, blank=tr("Any outcome"), min_chars=11)
            self.outcome_combo.setObjectName("outcomeFilter")
            self.outcome_combo.changed.connect(self._emit)
        self.date_from = DateField()
        self.date_from.setObjectName("dateFrom")
        self.date_from.today_button.hide()
        self.date_to = DateField()
        self.date_to.setObjectName("dateTo")
        self.date_to.today_button.hide()
        self.date_from.changed.connect(self._on_date_changed)
        self.date_to.changed.connect(self._on_date_changed)
        self.clear_button = QPushButton(tr("Clear filters"))
        self.clear_button.setObjectName("clearFilters")
        self.clear_button.setAutoDefault(False)
        self.clear_button.clicked.connect(self.clear)

        row1 = QHBoxLayout()
        self.search_edit.setMinimumWidth(160)
        row1.addWidget(self.search_edit, 3)
        for w in (self.status_combo, self.sex_combo, self.age_combo, self.citizenship_combo, self.outcome_combo):
            if w is not None:
                row1.addWidget(w, 1)
        row2 = QHBoxLayout()
        row2.addWidget(QLabel(tr("From:")))
        row2.addWidget(self.date_from)
        row2.addSpacing(12)
        row2.addWidget(QLabel(tr("To:")))
        row2.addWidget(self.date_to)
        row2.addStretch(1)
        row2.addWidget(self.clear_button)
        grid.addLayout(row1, 0, 0)
        grid.addLayout(row2, 1, 0)
        self._last: RecordFilter | None = RecordFilter()

    def _on_date_changed(self) -> None:
        for f in (self.date_from, self.date_to):
            v = f.value()
            if v is not None and f.date_value() is None:
                return  # still typing
        self._emit()

    def current_filter(self) -> RecordFilter:
        def val(w: QComboBox | None) -> str | None:
            return w.value() if isinstance(w, CodeComboBox) else None

        text = self.search_edit.text().strip() if self.search_edit.isEnabled() else ""
        return RecordFilter(
            date_from=self.date_from.date_value(),
            date_to=self.date_to.date_value(),
            status=val(self.status_combo),
            sex=val(self.sex_combo),
            age_group=val(self.age_combo),
            citizenship=val(self.citizenship_combo),
            outcome=val(self.outcome_combo),
            text=text or None,
        )

    def _emit(self) -> None:
        flt = self.current_filter()
        if flt != self._last:
            self._last = flt
            self.filter_changed.emit(flt)

    def clear(self) -> None:
        widgets = [self.status_combo, self.sex_combo, self.age_combo, self.citizenship_combo, self.outcome_combo]
        for w in widgets:
            if w is not None:
                w.blockSignals(True)
                w.set_value(None)
                w.blockSignals(False)
        for f in (self.date_from, self.date_to, self.search_edit):
            f.blockSignals(True)
        self.date_from.set_value(None)
        self.date_to.set_value(None)
        self.search_edit.clear()
        for f in (self.date_from, self.date_to, self.search_edit):
            f.blockSignals(False)
        self._emit()

    def focus_search(self) -> None:
        if self.search_edit.isEnabled():
            self.search_edit.setFocus()
            self.search_edit.selectAll()
