# SPDX-License-Identifier: GPL-3.0-or-later
"""One editor per field kind of ``domain.records`` (text, int, date, bool, code, codes,
answers, matrix, ref, route, events, parties), built from the field's spec.

Every editor has the same small interface: ``value()`` returns what the services accept (ISO
dates as text, codes, dicts), ``set_value()`` shows a stored value, ``set_read_only()`` and
``set_masked()`` (identity data the user may not see), and the ``changed`` signal.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from PySide6.QtCore import QRegularExpression, Qt, Signal
from PySide6.QtGui import QFont, QRegularExpressionValidator
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QStyledItemDelegate,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from nap_desktop.domain.codelists import CodeLists
from nap_desktop.domain.records import PARTY_ROLES, FieldSpec
from nap_desktop.ui.i18n import N_, fmt_int, ltr, pick, tr
from nap_desktop.ui.labels import MASK
from nap_desktop.ui.widgets import CheckList, CodeComboBox, DateField, code_label

PARTY_ROLE_LABELS = {"victim": N_("Victim"), "suspect": N_("Suspect"), "witness": N_("Witness")}
_DIGITS = QRegularExpression(r"\d{0,15}")


def _int_or_none(text: str) -> int | str | None:
    t = text.strip().replace(",", "")
    if not t:
        return None
    return int(t) if t.isdigit() else t


class FieldEditor(QWidget):
    """Base of the editors."""

    changed = Signal()

    def __init__(self, spec: FieldSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.masked = False
        self.read_only = False

    def value(self) -> Any:
        raise NotImplementedError

    def set_value(self, value: Any) -> None:
        raise NotImplementedError

    def set_read_only(self, ro: bool) -> None:
        self.read_only = ro

    def set_masked(self) -> None:
        """Shows the field as hidden and not editable."""
        self.masked = True
        self.set_read_only(True)

    @property
    def wide(self) -> bool:
        """Whether the editor takes the full width of the form, under its label."""
        return False


class TextEditor(FieldEditor):
    def __init__(self, spec: FieldSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.multiline = spec.max_length > 500
        if self.multiline:
            self.edit: QLineEdit | QPlainTextEdit = QPlainTextEdit()
            self.edit.setTabChangesFocus(True)
            self.edit.setFixedHeight(self.fontMetrics().lineSpacing() * 5 + 12)
            self.edit.textChanged.connect(self.changed.emit)
        else:
            self.edit = QLineEdit()
            self.edit.setMaxLength(spec.max_length)
            self.edit.textChanged.connect(lambda _t: self.changed.emit())
            if spec.name in ("cnic", "passport_no", "phone", "other_id", "fir_number", "enquiry_number", "indicator"):
                self.edit.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
                self.edit.setMaximumWidth(260)
            if spec.name == "cnic":
                self.edit.setPlaceholderText("35202-1234567-1")
        self.edit.setObjectName(f"edit_{spec.name}")
        lay.addWidget(self.edit)
        self.setFocusProxy(self.edit)

    def _text(self) -> str:
        return self.edit.toPlainText() if isinstance(self.edit, QPlainTextEdit) else self.edit.text()

    def value(self) -> str | None:
        if self.masked:
            return None
        return self._text().strip() or None

    def set_value(self, value: Any) -> None:
        text = "" if value is None else str(value)
        if isinstance(self.edit, QPlainTextEdit):
            self.edit.setPlainText(text)
        else:
            self.edit.setText(text)

    def set_read_only(self, ro: bool) -> None:
        super().set_read_only(ro)
        self.edit.setReadOnly(ro)

    def set_masked(self) -> None:
        super().set_masked()
        self.set_value(MASK)
        self.edit.setEnabled(False)
        self.edit.setToolTip(tr("Hidden: your role does not give access to personal data."))

    @property
    def wide(self) -> bool:
        return self.multiline


class IntEditor(FieldEditor):
    def __init__(self, spec: FieldSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit()
        self.edit.setObjectName(f"edit_{spec.name}")
        self.edit.setValidator(QRegularExpressionValidator(_DIGITS, self.edit))
        self.edit.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        self.edit.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.edit.setMaximumWidth(160)
        self.edit.textChanged.connect(lambda _t: self.changed.emit())
        lay.addWidget(self.edit)
        lay.addStretch(1)
        self.setFocusProxy(self.edit)

    def value(self) -> int | str | None:
        return _int_or_none(self.edit.text())

    def set_value(self, value: Any) -> None:
        self.edit.setText("" if value is None else str(value))

    def set_read_only(self, ro: bool) -> None:
        super().set_read_only(ro)
        self.edit.setReadOnly(ro)


class DateEditor(FieldEditor):
    def __init__(self, spec: FieldSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.field = DateField()
        self.field.edit.setObjectName(f"edit_{spec.name}")
        self.field.changed.connect(self.changed.emit)
        lay.addWidget(self.field)
        self.setFocusProxy(self.field)

    def value(self) -> str | None:
        return self.field.value()

    def set_value(self, value: Any) -> None:
        self.field.set_value(value)

    def set_read_only(self, ro: bool) -> None:
        super().set_read_only(ro)
        self.field.set_read_only(ro)


class BoolEditor(FieldEditor):
    def __init__(self, spec: FieldSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.combo = CodeComboBox(None, blank="—", entries=[("yes", tr("Yes")), ("no", tr("No"))])
        self.combo.setObjectName(f"edit_{spec.name}")
        self.combo.changed.connect(self.changed.emit)
        lay.addWidget(self.combo)
        lay.addStretch(1)
        self.setFocusProxy(self.combo)

    def value(self) -> bool | None:
        v = self.combo.value()
        return None if v is None else v == "yes"

    def set_value(self, value: Any) -> None:
        self.combo.set_value(None if value is None else ("yes" if value else "no"))

    def set_read_only(self, ro: bool) -> None:
        super().set_read_only(ro)
        self.combo.setEnabled(not ro)


class CodeEditor(FieldEditor):
    def __init__(self, spec: FieldSpec, codelists: CodeLists, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        assert spec.codelist
        self.combo = CodeComboBox(codelists[spec.codelist], blank="—")
        self.combo.setObjectName(f"edit_{spec.name}")
        self.combo.changed.connect(self.changed.emit)
        lay.addWidget(self.combo)
        lay.addStretch(1)
        self.setFocusProxy(self.combo)

    def value(self) -> str | None:
        return self.combo.value()

    def set_value(self, value: Any) -> None:
        self.combo.set_value(value)

    def set_read_only(self, ro: bool) -> None:
        super().set_read_only(ro)
        self.combo.setEnabled(not ro)


class CodesEditor(FieldEditor):
    def __init__(self, spec: FieldSpec, codelists: CodeLists, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        assert spec.codelist
        cl = codelists[spec.codelist]
        self.checks = CheckList(cl)
        self.checks.setObjectName(f"edit_{spec.name}")
        self.checks.changed.connect(self.changed.emit)
        lay.addWidget(self.checks)

    def value(self) -> list[str] | None:
        return self.checks.value()

    def set_value(self, value: Any) -> None:
        self.checks.set_value(value or [])

    def set_read_only(self, ro: bool) -> None:
        super().set_read_only(ro)
        self.checks.set_read_only(ro)

    @property
    def wide(self) -> bool:
        return True


class AnswersEditor(FieldEditor):
    """Each item of a question list answered yes / no / unknown / not asked (radio buttons)."""

    def __init__(self, spec: FieldSpec, codelists: CodeLists, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        assert spec.codelist
        questions = codelists[spec.codelist]
        answers = codelists[questions.answered_with or "answer"]
        self.answer_codes = [e.code for e in answers.active_entries()]
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(2)
        for j, e in enumerate(answers.active_entries()):
            h = QLabel(pick(e.label_en, e.label_ur))
            h.setAlignment(Qt.AlignmentFlag.AlignCenter)
            h.setWordWrap(True)
            h.setMaximumWidth(110)
            f = h.font()
            f.setBold(True)
            h.setFont(f)
            grid.addWidget(h, 0, j + 1)
        self.groups: dict[str, QButtonGroup] = {}
        self.buttons: dict[tuple[str, str], QRadioButton] = {}
        for i, q in enumerate(questions.active_entries()):
            label = QLabel(pick(q.label_en, q.label_ur))
            label.setWordWrap(True)
            grid.addWidget(label, i + 1, 0)
            group = QButtonGroup(self)
            group.setExclusive(True)
            for j, a in enumerate(self.answer_codes):
                rb = QRadioButton()
                rb.setObjectName(f"answer_{spec.name}_{q.code}_{a}")
                rb.setToolTip(f"{pick(q.label_en, q.label_ur)}: {code_label(answers, a)}")
                group.addButton(rb)
                self.buttons[(q.code, a)] = rb
                grid.addWidget(rb, i + 1, j + 1, alignment=Qt.AlignmentFlag.AlignCenter)
            group.buttonToggled.connect(lambda _b, on: on and self.changed.emit())
            self.groups[q.code] = group
        grid.setColumnStretch(0, 1)
        for j in range(len(self.answer_codes)):
            grid.setColumnMinimumWidth(j + 1, 64)

    def value(self) -> dict[str, str] | None:
        out = {}
        for (q, a), rb in self.buttons.items():
            if rb.isChecked():
                out[q] = a
        return out or None

    def answer(self, item: str, answer: str) -> None:
        """Ticks one answer (keyboard users tick with Space; tests call this)."""
        self.buttons[(item, answer)].setChecked(True)

    def set_value(self, value: Any) -> None:
        value = dict(value or {})
        for q, group in self.groups.items():
            group.setExclusive(False)
            for a in self.answer_codes:
                rb = self.buttons[(q, a)]
                rb.blockSignals(True)
                rb.setChecked(value.get(q) == a)
                rb.blockSignals(False)
            group.setExclusive(True)
        self.changed.emit()

    def set_read_only(self, ro: bool) -> None:
        super().set_read_only(ro)
        for rb in self.buttons.values():
            rb.setEnabled(not ro)

    @property
    def wide(self) -> bool:
        return True


class _IntDelegate(QStyledItemDelegate):
    def createEditor(self, parent: QWidget, option: Any, index: Any) -> QWidget:  # noqa: N802
        e = QLineEdit(parent)
        e.setValidator(QRegularExpressionValidator(QRegularExpression(r"\d{0,7}"), e))
        e.setAlignment(Qt.AlignmentFlag.AlignRight)
        return e


class MatrixEditor(FieldEditor):
    """Counts by two code lists (e.g. participants by sex × age group), with row and column totals."""

    def __init__(self, spec: FieldSpec, codelists: CodeLists, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        assert spec.dims
        a, b = spec.dims
        self.rows = [(e.code, pick(e.label_en, e.label_ur)) for e in codelists[a].active_entries()]
        self.cols = [(e.code, pick(e.label_en, e.label_ur)) for e in codelists[b].active_entries()]
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.table = QTableWidget(len(self.rows) + 1, len(self.cols) + 1)
        self.table.setObjectName(f"edit_{spec.name}")
        self.table.setItemDelegate(_IntDelegate(self.table))
        self.table.setHorizontalHeaderLabels([c[1] for c in self.cols] + [tr("Total")])
        self.table.setVerticalHeaderLabels([r[1] for r in self.rows] + [tr("Total")])
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.AnyKeyPressed | QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.table.setTabKeyNavigation(False)
        bold = QFont(self.table.font())
        bold.setBold(True)
        for i in range(len(self.rows) + 1):
            for j in range(len(self.cols) + 1):
                item = QTableWidgetItem("")
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if i == len(self.rows) or j == len(self.cols):
                    item.setFlags(Qt.ItemFlag.ItemIsEnabled)
                    item.setFont(bold)
                    item.setBackground(self.palette().alternateBase())
                self.table.setItem(i, j, item)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemChanged.connect(self._on_item_changed)
        lay.addWidget(self.table)
        self._fit()
        self._recompute()

    def _fit(self) -> None:
        self.table.resizeRowsToContents()
        h = self.table.horizontalHeader().sizeHint().height() + 4
        h += sum(self.table.rowHeight(i) for i in range(self.table.rowCount()))
        self.table.setFixedHeight(h + 2 * self.table.frameWidth())

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if item.row() >= len(self.rows) or item.column() >= len(self.cols):
            return
        text = item.text().strip()
        if text and not text.isdigit():
            self.table.blockSignals(True)
            item.setText("")
            self.table.blockSignals(False)
        self._recompute()
        self.changed.emit()

    def cell(self, r: int, c: int) -> int:
        text = self.table.item(r, c).text().strip()
        return int(text) if text.isdigit() else 0

    def _recompute(self) -> None:
        self.table.blockSignals(True)
        nr, nc = len(self.rows), len(self.cols)
        grand = 0
        for i in range(nr):
            s = sum(self.cell(i, j) for j in range(nc))
            self.table.item(i, nc).setText(fmt_int(s))
            grand += s
        for j in range(nc):
            self.table.item(nr, j).setText(fmt_int(sum(self.cell(i, j) for i in range(nr))))
        self.table.item(nr, nc).setText(fmt_int(grand))
        self.table.blockSignals(False)
        self.total = grand

    def set_cell(self, row_code: str, col_code: str, n: int | None) -> None:
        i = [r[0] for r in self.rows].index(row_code)
        j = [c[0] for c in self.cols].index(col_code)
        self.table.item(i, j).setText("" if not n else str(n))

    def value(self) -> dict[str, dict[str, int]] | None:
        out: dict[str, dict[str, int]] = {}
        for i, (rc, _) in enumerate(self.rows):
            for j, (cc, _) in enumerate(self.cols):
                n = self.cell(i, j)
                if n:
                    out.setdefault(rc, {})[cc] = n
        return out or None

    def set_value(self, value: Any) -> None:
        value = value or {}
        self.table.blockSignals(True)
        for i, (rc, _) in enumerate(self.rows):
            for j, (cc, _) in enumerate(self.cols):
                n = (value.get(rc) or {}).get(cc)
                self.table.item(i, j).setText(str(n) if n else "")
        self.table.blockSignals(False)
        self._recompute()
        self.changed.emit()

    def set_read_only(self, ro: bool) -> None:
        super().set_read_only(ro)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers if ro else QAbstractItemView.EditTrigger.AnyKeyPressed | QAbstractItemView.EditTrigger.DoubleClicked)

    @property
    def wide(self) -> bool:
        return True


class RefEditor(FieldEditor):
    """A link to another record: its label, and Choose / New / Open / Clear buttons.

    The form supplies ``choose`` (opens a picker, returns ``(id, label)`` or ``None``), ``create``
    (opens a new form of the linked type; calls back with ``(id, label)`` once saved) and
    ``open_record``.
    """

    def __init__(
        self,
        spec: FieldSpec,
        *,
        choose: Callable[[str], tuple[str, str] | None],
        create: Callable[[str, Callable[[str, str], None]], None] | None,
        open_record: Callable[[str, str], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(spec, parent)
        assert spec.ref
        self.ref_type = spec.ref
        self._id: str | None = None
        self._choose = choose
        self._create = create
        self._open = open_record
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel(tr("(none)"))
        self.label.setObjectName(f"ref_{spec.name}")
        self.label.setMinimumWidth(120)
        self.label.setWordWrap(True)
        self.choose_button = QPushButton(tr("Choose…"))
        self.choose_button.setObjectName(f"choose_{spec.name}")
        self.choose_button.setAutoDefault(False)
        self.choose_button.clicked.connect(self._on_choose)
        self.new_button = QPushButton(tr("New…"))
        self.new_button.setObjectName(f"new_{spec.name}")
        self.new_button.setAutoDefault(False)
        self.new_button.clicked.connect(self._on_new)
        self.new_button.setVisible(create is not None)
        self.open_button = QPushButton(tr("Open"))
        self.open_button.setObjectName(f"open_{spec.name}")
        self.open_button.setAutoDefault(False)
        self.open_button.clicked.connect(lambda: self._id and self._open(self.ref_type, self._id))
        self.clear_button = QPushButton("×")
        self.clear_button.setToolTip(tr("Clear"))
        self.clear_button.setAutoDefault(False)
        self.clear_button.setMaximumWidth(32)
        self.clear_button.clicked.connect(lambda: self.set_ref(None, ""))
        lay.addWidget(self.label, 1)
        for b in (self.choose_button, self.new_button, self.open_button, self.clear_button):
            lay.addWidget(b)
        self.setFocusProxy(self.choose_button)
        self._update()

    def _update(self) -> None:
        self.open_button.setEnabled(self._id is not None)
        self.clear_button.setVisible(self._id is not None and not self.read_only)
        self.choose_button.setVisible(not self.read_only)
        self.new_button.setVisible(self._create is not None and not self.read_only)

    def _on_choose(self) -> None:
        picked = self._choose(self.ref_type)
        if picked:
            self.set_ref(*picked)

    def _on_new(self) -> None:
        if self._create is not None:
            self._create(self.ref_type, lambda rid, label: self.set_ref(rid, label))

    def set_ref(self, record_id: str | None, label: str) -> None:
        self._id = record_id
        self.label.setText(label if record_id else tr("(none)"))
        self._update()
        self.changed.emit()

    def value(self) -> str | None:
        return self._id

    def set_value(self, value: Any) -> None:
        self._id = value or None
        self.label.setText(str(value)[:8] + "…" if value else tr("(none)"))
        self._update()

    def set_label(self, label: str) -> None:
        if self._id:
            self.label.setText(label)

    def set_read_only(self, ro: bool) -> None:
        super().set_read_only(ro)
        self._update()


class _ListTableEditor(FieldEditor):
    """Base of the editors of small lists of structured items (route, events, parties)."""

    headers: list[str] = []

    def __init__(self, spec: FieldSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.table = QTableWidget(0, len(self.headers))
        self.table.setObjectName(f"edit_{spec.name}")
        self.table.setHorizontalHeaderLabels(self.headers)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setMinimumSectionSize(60)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.table.setMinimumWidth(200)
        lay.addWidget(self.table)
        row = QHBoxLayout()
        self.add_button = QPushButton(tr("Add row"))
        self.add_button.setObjectName(f"add_{spec.name}")
        self.add_button.setAutoDefault(False)
        self.add_button.clicked.connect(lambda: (self.add_row({}), self.changed.emit()))
        self.remove_button = QPushButton(tr("Remove row"))
        self.remove_button.setAutoDefault(False)
        self.remove_button.clicked.connect(self._remove_current)
        row.addWidget(self.add_button)
        row.addWidget(self.remove_button)
        self.extra_buttons = row
        row.addStretch(1)
        lay.addLayout(row)
        self._extra: list[dict[str, Any]] = []  # hidden per-row values kept as they were
        self._fit()

    def _remove_current(self) -> None:
        r = self.table.currentRow()
        if r >= 0:
            self.table.removeRow(r)
            del self._extra[r]
            self._fit()
            self.changed.emit()

    # Column widths: a stretching first column, the others sized to their header and content.
    stretch_column = 0

    def add_row(self, item: dict[str, Any]) -> int:
        r = self.table.rowCount()
        self.table.insertRow(r)
        self._extra.append(dict(item))
        self.fill_row(r, item)
        self.table.resizeRowToContents(r)
        self._fit()
        return r

    def _fit(self) -> None:
        """Shows every row (no inner scrolling) and sizes the columns."""
        hh = self.table.horizontalHeader()
        for c in range(self.table.columnCount()):
            mode = QHeaderView.ResizeMode.Stretch if c == self.stretch_column else QHeaderView.ResizeMode.ResizeToContents
            hh.setSectionResizeMode(c, mode)
        n = self.table.rowCount()
        default = self.table.verticalHeader().defaultSectionSize()
        body = sum(self.table.rowHeight(r) for r in range(n)) + max(0, 2 - n) * default
        h = hh.sizeHint().height() + body + 2 * self.table.frameWidth() + 8
        if self.table.horizontalScrollBar().isVisible():
            h += self.table.horizontalScrollBar().sizeHint().height()
        self.table.setFixedHeight(h)

    def fill_row(self, r: int, item: dict[str, Any]) -> None:
        raise NotImplementedError

    def read_row(self, r: int) -> dict[str, Any] | None:
        raise NotImplementedError

    def value(self) -> list[dict[str, Any]] | None:
        items = [x for x in (self.read_row(r) for r in range(self.table.rowCount())) if x]
        return items or None

    def set_value(self, value: Any) -> None:
        self.table.setRowCount(0)
        self._extra = []
        for item in value or []:
            self.add_row(item)
        self.changed.emit()

    def set_read_only(self, ro: bool) -> None:
        super().set_read_only(ro)
        self.add_button.setVisible(not ro)
        self.remove_button.setVisible(not ro)
        for r in range(self.table.rowCount()):
            for c in range(self.table.columnCount()):
                w = self.table.cellWidget(r, c)
                if w is not None:
                    w.setEnabled(not ro)

    @property
    def wide(self) -> bool:
        return True

    def _combo(self, r: int, c: int, combo: CodeComboBox, value: Any) -> None:
        combo.setMinimumContentsLength(8)
        combo.set_value(value)
        combo.changed.connect(self.changed.emit)
        self.table.setCellWidget(r, c, combo)

    def _line(self, r: int, c: int, value: Any, *, digits: bool = False, date_mask: bool = False) -> None:
        e = QLineEdit("" if value is None else str(value))
        if digits:
            e.setValidator(QRegularExpressionValidator(_DIGITS, e))
            e.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        if date_mask:
            e.setValidator(QRegularExpressionValidator(QRegularExpression(r"[0-9]{0,4}-?[0-9]{0,2}-?[0-9]{0,2}"), e))
            e.setPlaceholderText(tr("YYYY-MM-DD"))
            e.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        e.textChanged.connect(lambda _t: self.changed.emit())
        self.table.setCellWidget(r, c, e)

    def _text(self, r: int, c: int) -> str:
        w = self.table.cellWidget(r, c)
        return w.text().strip() if isinstance(w, QLineEdit) else ""

    def _date(self, r: int, c: int) -> str | None:
        t = self._text(r, c)
        if t.replace("-", "").strip() == "":
            return None
        try:
            return date.fromisoformat(t).isoformat()
        except ValueError:
            return t

    def _code(self, r: int, c: int) -> str | None:
        w = self.table.cellWidget(r, c)
        return w.value() if isinstance(w, CodeComboBox) else None


class RouteEditor(_ListTableEditor):
    stretch_column = 3

    def __init__(self, spec: FieldSpec, codelists: CodeLists, parent: QWidget | None = None) -> None:
        self.cl = codelists
        self.headers = [tr("Event"), tr("Date"), tr("Country"), tr("Place")]
        super().__init__(spec, parent)

    def fill_row(self, r: int, item: dict[str, Any]) -> None:
        self._combo(r, 0, CodeComboBox(self.cl["route_event_type"], blank="—"), item.get("type"))
        self._line(r, 1, item.get("date"), date_mask=True)
        self._combo(r, 2, CodeComboBox(self.cl["citizenship"], blank="—"), item.get("country"))
        self._line(r, 3, item.get("place"))

    def read_row(self, r: int) -> dict[str, Any] | None:
        kind = self._code(r, 0)
        if kind is None:
            return None
        return {"type": kind, "date": self._date(r, 1), "country": self._code(r, 2), "place": self._text(r, 3)}


class EventsEditor(_ListTableEditor):
    """Stage events of a case; below the table, the case's timeline in date order."""

    def __init__(self, spec: FieldSpec, codelists: CodeLists, parent: QWidget | None = None) -> None:
        self.cl = codelists
        self.headers = [tr("Stage event"), tr("Date"), tr("Verdict"), tr("Sentence (months)"), tr("Fine (PKR)")]
        super().__init__(spec, parent)
        self.timeline = QLabel()
        self.timeline.setObjectName("caseTimeline")
        self.timeline.setWordWrap(True)
        self.layout().addWidget(self.timeline)  # type: ignore[union-attr]
        self.changed.connect(self._update_timeline)
        self._update_timeline()

    def fill_row(self, r: int, item: dict[str, Any]) -> None:
        self._combo(r, 0, CodeComboBox(self.cl["stage_event"], blank="—"), item.get("event"))
        self._line(r, 1, item.get("on_date"), date_mask=True)
        self._combo(r, 2, CodeComboBox(self.cl["verdict"], blank="—"), item.get("verdict"))
        self._line(r, 3, item.get("sentence_months"), digits=True)
        self._line(r, 4, item.get("fine_pkr"), digits=True)

    def read_row(self, r: int) -> dict[str, Any] | None:
        ev = self._code(r, 0)
        if ev is None:
            return None
        return {
            "event": ev,
            "on_date": self._date(r, 1),
            "verdict": self._code(r, 2),
            "sentence_months": _int_or_none(self._text(r, 3)),
            "fine_pkr": _int_or_none(self._text(r, 4)),
            "person_id": self._extra[r].get("person_id") if r < len(self._extra) else None,
        }

    def _update_timeline(self) -> None:
        events = sorted((e for e in (self.value() or []) if e.get("on_date")), key=lambda e: (str(e["on_date"]), e["event"]))
        if not events:
            self.timeline.setText(tr("Timeline: no stage events yet."))
            return
        steps = [f"{code_label(self.cl['stage_event'], e['event'])} ({ltr(str(e['on_date']))})" for e in events]
        arrow = " ← " if self.layoutDirection() == Qt.LayoutDirection.RightToLeft else " → "
        self.timeline.setText(tr("Timeline:") + " " + arrow.join(steps))


class PartiesEditor(_ListTableEditor):
    """Victims, suspects and witnesses of a case: a person (picked), a role, compensation."""

    def __init__(
        self,
        spec: FieldSpec,
        *,
        choose: Callable[[str], tuple[str, str] | None],
        open_record: Callable[[str, str], None],
        parent: QWidget | None = None,
    ) -> None:
        self._choose = choose
        self._open = open_record
        self.headers = [tr("Person"), tr("Role"), tr("Compensation ordered (PKR)"), tr("Compensation paid (PKR)"), tr("Assets confiscated"), tr("Assets disposed")]
        super().__init__(spec, parent)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.open_button = QPushButton(tr("Open person"))
        self.open_button.setObjectName("openParty")
        self.open_button.setAutoDefault(False)
        self.open_button.clicked.connect(self._open_current)
        self.extra_buttons.insertWidget(2, self.open_button)
        self.labels: dict[str, str] = {}

    def add_row(self, item: dict[str, Any]) -> int:
        if not item.get("person_id"):
            picked = self._choose("person")
            if not picked:
                return -1
            item = {"party_role": "victim", **item, "person_id": picked[0]}
            self.labels[picked[0]] = picked[1]
        return super().add_row(item)

    def fill_row(self, r: int, item: dict[str, Any]) -> None:
        pid = item.get("person_id")
        label = QLabel(self.labels.get(pid, str(pid)[:8] + "…") if pid else "")
        self.table.setCellWidget(r, 0, label)
        roles = [(k, tr(PARTY_ROLE_LABELS[k])) for k in PARTY_ROLES]
        self._combo(r, 1, CodeComboBox(None, blank="—", entries=roles), item.get("party_role"))
        self._line(r, 2, item.get("compensation_ordered_pkr"), digits=True)
        self._line(r, 3, item.get("compensation_paid_pkr"), digits=True)
        for c, key in ((4, "assets_confiscated"), (5, "assets_disposed")):
            box = QCheckBox()
            box.setChecked(bool(item.get(key)))
            box.toggled.connect(lambda _on: self.changed.emit())
            self.table.setCellWidget(r, c, box)

    def read_row(self, r: int) -> dict[str, Any] | None:
        pid = self._extra[r].get("person_id") if r < len(self._extra) else None
        role = self._code(r, 1)
        if not pid or not role:
            return None
        boxes = [self.table.cellWidget(r, c) for c in (4, 5)]
        return {
            "person_id": pid,
            "party_role": role,
            "compensation_ordered_pkr": _int_or_none(self._text(r, 2)),
            "compensation_paid_pkr": _int_or_none(self._text(r, 3)),
            "assets_confiscated": bool(isinstance(boxes[0], QCheckBox) and boxes[0].isChecked()),
            "assets_disposed": bool(isinstance(boxes[1], QCheckBox) and boxes[1].isChecked()),
        }

    def set_labels(self, labels: dict[str, str]) -> None:
        self.labels.update(labels)
        for r, extra in enumerate(self._extra):
            w = self.table.cellWidget(r, 0)
            pid = extra.get("person_id")
            if isinstance(w, QLabel) and pid in labels:
                w.setText(labels[pid])

    def person_ids(self) -> list[str]:
        return [str(e["person_id"]) for e in self._extra if e.get("person_id")]

    def _open_current(self) -> None:
        r = self.table.currentRow()
        if 0 <= r < len(self._extra) and self._extra[r].get("person_id"):
            self._open("person", str(self._extra[r]["person_id"]))


def make_editor(
    spec: FieldSpec,
    codelists: CodeLists,
    *,
    choose: Callable[[str], tuple[str, str] | None],
    create: Callable[[str, Callable[[str, str], None]], None] | None,
    open_record: Callable[[str, str], None],
) -> FieldEditor:
    """The editor for a field spec."""
    kind = spec.kind
    if kind == "text":
        return TextEditor(spec)
    if kind == "int":
        return IntEditor(spec)
    if kind == "date":
        return DateEditor(spec)
    if kind == "bool":
        return BoolEditor(spec)
    if kind == "code":
        return CodeEditor(spec, codelists)
    if kind == "codes":
        return CodesEditor(spec, codelists)
    if kind == "answers":
        return AnswersEditor(spec, codelists)
    if kind == "matrix":
        return MatrixEditor(spec, codelists)
    if kind == "ref":
        return RefEditor(spec, choose=choose, create=create if spec.ref in ("person", "service_provider", "coordination_entity") else None, open_record=open_record)
    if kind == "route":
        return RouteEditor(spec, codelists)
    if kind == "events":
        return EventsEditor(spec, codelists)
    if kind == "parties":
        return PartiesEditor(spec, choose=choose, open_record=open_record)
    raise ValueError(f"no editor for field kind {kind!r}")

