# SPDX-License-Identifier: GPL-3.0-or-later
"""Small reusable widgets: date field with an empty state, code pickers, check lists, banners,
the password strength meter. Layout and behaviour only; no store access here."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import TYPE_CHECKING

from PySide6.QtCore import QDate, QPoint, QRegularExpression, Qt, Signal
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QCalendarWidget,
    QCheckBox,
    QComboBox,
    QCompleter,
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from nap_desktop.security.passwords import password_problems, strength_score
from nap_desktop.ui.i18n import N_, pick, rtl_safe, tr, tr_known

if TYPE_CHECKING:
    from nap_desktop.domain.codelists import CodeList

LONG_LIST = 15  # code lists longer than this get a searchable picker

ERROR_STYLE = "color: #b00020;"
_BANNER_STYLES = {
    "error": "background: #fdecea; color: #8a1c1c; border: 1px solid #f5c2c0; border-radius: 4px; padding: 6px;",
    "warning": "background: #fff4e5; color: #7a4a00; border: 1px solid #ffd59e; border-radius: 4px; padding: 6px;",
    "info": "background: #e8f1fb; color: #0b3d6e; border: 1px solid #b8d4f0; border-radius: 4px; padding: 6px;",
    "ok": "background: #e9f6ec; color: #1e5b2b; border: 1px solid #b9e0c2; border-radius: 4px; padding: 6px;",
}


def code_entries(cl: CodeList, current: Iterable[str] = ()) -> list[tuple[str, str]]:
    """``(code, label)`` pairs to offer: active entries, plus deprecated ones already in use."""
    keep = set(current)
    return [(e.code, pick(e.label_en, e.label_ur)) for e in cl.entries if not e.deprecated or e.code in keep]


def code_label(cl: CodeList | None, code: str | None) -> str:
    """The label of ``code`` in the UI language (the code itself if unknown)."""
    if code is None or code == "":
        return ""
    if cl is None:
        return str(code)
    entry = cl.find(str(code))
    return pick(entry.label_en, entry.label_ur) if entry else str(code)


class Banner(QLabel):
    """A coloured message strip above a form or page; hidden when empty. In Urdu each of its lines
    starts right to left, whatever its first letter (:func:`rtl_safe`)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.kind = ""
        self.hide()

    def show_message(self, kind: str, text: str) -> None:
        self.kind = kind
        self.setStyleSheet(_BANNER_STYLES[kind])
        self.setText(rtl_safe(text))
        self.setVisible(bool(text))

    def clear_message(self) -> None:
        self.kind = ""
        self.setText("")
        self.hide()


class ErrorLabel(QLabel):
    """The inline validation message under a field."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setStyleSheet(ERROR_STYLE)
        self.setWordWrap(True)
        self.hide()

    def set_error(self, text: str | None) -> None:
        self.setText(rtl_safe(text or ""))
        self.setVisible(bool(text))


class DateField(QWidget):
    """A date typed as YYYY-MM-DD (dashes are added while typing) or picked from a calendar.

    ``value()`` is the ISO text, ``None`` when empty, or the raw text when incomplete (so the
    service's validation names the problem).
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        self.edit = QLineEdit()
        self.edit.setValidator(QRegularExpressionValidator(QRegularExpression(r"[0-9]{0,4}-?[0-9]{0,2}-?[0-9]{0,2}"), self.edit))
        self.edit.setPlaceholderText(tr("YYYY-MM-DD"))
        # NOTE: digits and dashes read left to right in Urdu too.
        self.edit.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        self.edit.setFixedWidth(self.edit.fontMetrics().horizontalAdvance("0000-00-00") + 24)
        self._prev = ""
        self.edit.textEdited.connect(self._on_edited)
        self.edit.textChanged.connect(lambda _t: self.changed.emit())
        self.edit.editingFinished.connect(self._normalise)
        self.pick_button = QToolButton()
        self.pick_button.setText("▾")
        self.pick_button.setToolTip(tr("Pick a date"))
        self.pick_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.pick_button.clicked.connect(self._show_calendar)
        self.today_button = QToolButton()
        self.today_button.setText(tr("Today"))
        self.today_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.today_button.clicked.connect(lambda: self.set_value(date.today()))
        self.clear_button = QToolButton()
        self.clear_button.setText("×")
        self.clear_button.setToolTip(tr("Clear"))
        self.clear_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.clear_button.clicked.connect(lambda: self.set_value(None))
        lay.addWidget(self.edit)
        lay.addWidget(self.pick_button)
        lay.addWidget(self.today_button)
        lay.addWidget(self.clear_button)
        lay.addStretch(1)
        self.setFocusProxy(self.edit)
        self._calendar: QCalendarWidget | None = None

    def _on_edited(self, text: str) -> None:
        grew = len(text) > len(self._prev)
        self._prev = text
        if grew and (len(text) == 4 or len(text) == 7) and text.replace("-", "").isdigit():
            self.edit.setText(text + "-")
            self._prev = self.edit.text()

    def _normalise(self) -> None:
        digits = self.edit.text().replace("-", "")
        if len(digits) == 8 and digits.isdigit():
            self.edit.setText(f"{digits[:4]}-{digits[4:6]}-{digits[6:]}")

    def _raw(self) -> str:
        return self.edit.text().strip()

    def value(self) -> str | None:
        text = self._raw()
        if text.replace("-", "").strip() == "":
            return None
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            return text

    def date_value(self) -> date | None:
        v = self.value()
        try:
            return date.fromisoformat(v) if v else None
        except ValueError:
            return None

    def set_value(self, value: date | str | None) -> None:
        if isinstance(value, date):
            value = value.isoformat()
        self.edit.setText(value or "")
        self._prev = self.edit.text()

    def set_read_only(self, ro: bool) -> None:
        self.edit.setReadOnly(ro)
        for b in (self.pick_button, self.today_button, self.clear_button):
            b.setVisible(not ro)

    def _show_calendar(self) -> None:
        cal = QCalendarWidget(self, Qt.WindowType.Popup)
        cal.setGridVisible(True)
        current = self.date_value() or date.today()
        cal.setSelectedDate(QDate(current.year, current.month, current.day))
        cal.clicked.connect(lambda d: (self.set_value(date(d.year(), d.month(), d.day())), cal.close()))
        cal.activated.connect(lambda d: (self.set_value(date(d.year(), d.month(), d.day())), cal.close()))
        cal.adjustSize()
        pos = self.edit.mapToGlobal(QPoint(0, self.edit.height()))
        cal.move(pos)
        cal.show()
        self._calendar = cal


class CodeComboBox(QComboBox):
    """Picks one code of a list; labels in the UI language; searchable (type to filter) when long."""

    changed = Signal()

    def __init__(
        self,
        cl: CodeList | None,
        *,
        blank: str = "",
        entries: Sequence[tuple[str, str]] | None = None,
        min_chars: int | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.cl = cl
        pairs = list(entries) if entries is not None else code_entries(cl) if cl is not None else []
        self.addItem(blank, None)
        for code, label in pairs:
            self.addItem(label, code)
        self.setMaxVisibleItems(20)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        longest = max((len(lbl) for _c, lbl in [("", blank), *pairs]), default=8)
        self.setMinimumContentsLength(min_chars if min_chars is not None else min(28, longest))
        # NOTE: the popup shows whole labels even when the closed box is narrow.
        self.view().setMinimumWidth(min(560, self.fontMetrics().horizontalAdvance("x" * min(longest, 70)) + 40))
        self.searchable = len(pairs) > LONG_LIST
        if self.searchable:
            self.setEditable(True)
            self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
            comp = self.completer()
            comp.setFilterMode(Qt.MatchFlag.MatchContains)
            comp.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
            comp.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
            self.lineEdit().setPlaceholderText(tr("Type to search…"))
            self.lineEdit().editingFinished.connect(self._snap_to_item)
        self.currentIndexChanged.connect(lambda _i: self.changed.emit())

    def _snap_to_item(self) -> None:
        text = self.currentText().strip()
        idx = self.findText(text, Qt.MatchFlag.MatchFixedString)
        if text == "":
            self.setCurrentIndex(0)
        elif idx >= 0:
            self.setCurrentIndex(idx)
        else:
            self.setEditText(self.itemText(self.currentIndex()))

    def value(self) -> str | None:
        data = self.currentData()
        return str(data) if data is not None else None

    def set_entries(self, entries: Sequence[tuple[str, str]], *, blank: str = "") -> None:
        """Replaces the offered codes (keeps the blank first entry)."""
        self.blockSignals(True)
        self.clear()
        self.addItem(blank, None)
        for code, label in entries:
            self.addItem(label, code)
        self.blockSignals(False)
        self.setCurrentIndex(0)
        self.changed.emit()

    def set_value(self, code: str | None) -> None:
        if code is None:
            self.setCurrentIndex(0)
            return
        idx = self.findData(code)
        if idx < 0:  # a code no longer offered: keep it visible rather than lose it
            self.addItem(code_label(self.cl, code), code)
            idx = self.count() - 1
        self.setCurrentIndex(idx)


class CheckList(QWidget):
    """Several codes of a list as check boxes in columns; exclusive codes stand alone."""

    changed = Signal()

    def __init__(self, cl: CodeList, *, columns: int | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cl = cl
        self.boxes: dict[str, QCheckBox] = {}
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(16)
        grid.setVerticalSpacing(2)
        entries = code_entries(cl)
        if columns is None:
            longest = max((len(lbl) for _c, lbl in entries), default=10)
            columns = 3 if longest <= 34 else 2 if longest <= 52 else 1
            columns = max(1, min(columns, len(entries)))
        rows = (len(entries) + columns - 1) // columns
        for i, (code, label) in enumerate(entries):
            box = QCheckBox(label)
            box.setProperty("code", code)
            box.toggled.connect(lambda on, c=code: self._on_toggled(c, on))
            self.boxes[code] = box
            grid.addWidget(box, i % rows, i // rows)
        for c in range(columns):
            grid.setColumnStretch(c, 1)

    def _on_toggled(self, code: str, on: bool) -> None:
        if on:
            entry = self.cl.find(code)
            exclusive = bool(entry and entry.exclusive)
            for other, box in self.boxes.items():
                if other == code or not box.isChecked():
                    continue
                other_entry = self.cl.find(other)
                if exclusive or (other_entry and other_entry.exclusive):
                    box.setChecked(False)
        self.changed.emit()

    def value(self) -> list[str] | None:
        codes = sorted(c for c, b in self.boxes.items() if b.isChecked())
        return codes or None

    def set_value(self, codes: Iterable[str] | None) -> None:
        wanted = set(codes or ())
        for c in wanted - set(self.boxes):  # deprecated code in an old record
            box = QCheckBox(code_label(self.cl, c))
            self.boxes[c] = box
            self.layout().addWidget(box)  # type: ignore[union-attr]
        for c, box in self.boxes.items():
            box.blockSignals(True)
            box.setChecked(c in wanted)
            box.blockSignals(False)
        self.changed.emit()

    def set_read_only(self, ro: bool) -> None:
        for box in self.boxes.values():
            box.setEnabled(not ro)


class PasswordStrengthMeter(QWidget):
    """A bar (0–4) and the problems of a new password, from the core's rules."""

    LABELS = (N_("Too weak"), N_("Weak"), N_("Good"), N_("Strong"), N_("Very strong"))

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.bar = QProgressBar()
        self.bar.setRange(0, 4)
        self.bar.setTextVisible(False)
        self.bar.setMaximumHeight(10)
        self.label = QLabel()
        row.addWidget(self.bar, 1)
        row.addWidget(self.label)
        lay.addLayout(row)
        self.problems = QLabel()
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet("color: #7a4a00;")
        lay.addWidget(self.problems)
        self.score = 0
        self.update_for("", "")

    def update_for(self, password: str, username: str = "") -> None:
        self.score = strength_score(password, username) if password else 0
        self.bar.setValue(self.score)
        colour = ("#c62828", "#ef6c00", "#9e9d24", "#2e7d32", "#1b5e20")[self.score]
        self.bar.setStyleSheet(f"QProgressBar::chunk {{ background: {colour}; }}")
        self.label.setText(tr(self.LABELS[self.score]) if password else "")
        problems = password_problems(password, username) if password else []
        self.problems.setText("\n".join("• " + tr_known(p) for p in problems))
        self.problems.setVisible(bool(problems))

    @property
    def acceptable(self) -> bool:
        return self.score >= 2


def hline() -> QFrame:
    line = QFrame()
    line.setFrameShape(QFrame.Shape.HLine)
    line.setFrameShadow(QFrame.Shadow.Sunken)
    return line


def heading(text: str, size: float = 1.3) -> QLabel:
    label = QLabel(text)
    f = label.font()
    f.setPointSizeF(f.pointSizeF() * size)
    f.setBold(True)
    label.setFont(f)
    return label


def primary_button(text: str) -> QPushButton:
    b = QPushButton(text)
    b.setDefault(True)
    b.setAutoDefault(True)
    return b


def button_row(dialog: QDialog, primary: QPushButton, *, cancel_text: str = "", lead: Sequence[QWidget] = ()) -> tuple[QHBoxLayout, QPushButton]:
    """A dialog's bottom row: ``lead`` (e.g. "Test connection") at the start, then Cancel, which
    rejects the dialog and is never the Enter key's button, and ``primary`` at the end.

    Returns the row (for the caller's layout) and the Cancel button (``cancel_text``: another
    label, e.g. "Close").
    """
    row = QHBoxLayout()
    for widget in lead:
        row.addWidget(widget)
    row.addStretch(1)
    cancel = QPushButton(cancel_text or tr("Cancel"))
    cancel.setAutoDefault(False)
    cancel.clicked.connect(dialog.reject)
    row.addWidget(cancel)
    row.addWidget(primary)
    return row, cancel


def path_edit(name: str, text: str = "") -> QLineEdit:
    """A field for a file path (left to right in Urdu too)."""
    edit = QLineEdit(text)
    edit.setObjectName(name)
    edit.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
    return edit


def with_choose_button(edit: QLineEdit, on_click: Callable[[], object]) -> QWidget:
    """``edit`` with a "Choose…" button after it that calls ``on_click``."""
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(edit, 1)
    b = QPushButton(tr("Choose…"))
    b.setAutoDefault(False)
    b.clicked.connect(lambda _c=False: on_click())
    row.addWidget(b)
    return box


def expanding(widget: QWidget) -> QWidget:
    widget.setSizePolicy(QSizePolicy.Policy.Expanding, widget.sizePolicy().verticalPolicy())
    return widget


def ask_yes_no(parent: QWidget, title: str, text: str) -> bool:
    """A yes/no question with translated buttons (QMessageBox's own are not); True for Yes."""
    box = QMessageBox(QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.NoButton, parent)
    yes = box.addButton(tr("Yes"), QMessageBox.ButtonRole.YesRole)
    box.addButton(tr("No"), QMessageBox.ButtonRole.NoRole)
    box.exec()
    return box.clickedButton() is yes
