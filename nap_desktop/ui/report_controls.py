# SPDX-License-Identifier: GPL-3.0-or-later
"""Pickers shared by the indicator screens: the reporting period and the scope (a unit subtree)."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QWidget

from nap_desktop.reports.engine import Period
from nap_desktop.security.permissions import Perm
from nap_desktop.ui.i18n import N_, tr
from nap_desktop.ui.indicator_labels import period_label
from nap_desktop.ui.session import SessionRef

PERIOD_KINDS = (("month", N_("Month")), ("quarter", N_("Quarter")), ("year", N_("Year")))
HOW_MANY = {"month": 24, "quarter": 12, "year": 6}


def recent_periods(kind: str, today: date, count: int) -> list[Period]:
    """The ``count`` periods of ``kind`` up to the one holding ``today``, newest first."""
    if kind == "month":
        p = Period.month(today.year, today.month)
    elif kind == "quarter":
        p = Period.quarter(today.year, (today.month + 2) // 3)
    else:
        p = Period.year(today.year)
    out = [p]
    while len(out) < count:
        out.append(out[-1].previous())
    return out


class PeriodPicker(QWidget):
    """Kind (month, quarter, year) and which one. Emits :attr:`changed` with the new :class:`Period`."""

    changed = Signal(object)

    def __init__(self, *, today: date | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.today = today or date.today()
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.kind_combo = QComboBox()
        self.kind_combo.setObjectName("periodKind")
        for key, label in PERIOD_KINDS:
            self.kind_combo.addItem(tr(label), key)
        self.period_combo = QComboBox()
        self.period_combo.setObjectName("periodCombo")
        self.period_combo.setMinimumContentsLength(16)
        lay.addWidget(self.kind_combo)
        lay.addWidget(self.period_combo, 1)
        self._periods: list[Period] = []
        self.kind_combo.currentIndexChanged.connect(self._on_kind_changed)
        self.period_combo.currentIndexChanged.connect(lambda _i: self.changed.emit(self.period()))
        self._fill("month")
        # The last complete month: what a monthly return covers, and what has all its records.
        self.period_combo.setCurrentIndex(1)

    def _fill(self, kind: str) -> None:
        self._periods = recent_periods(kind, self.today, HOW_MANY[kind])
        self.period_combo.blockSignals(True)
        self.period_combo.clear()
        for p in self._periods:
            self.period_combo.addItem(period_label(p), p.label)
        self.period_combo.blockSignals(False)

    def _on_kind_changed(self, _index: int) -> None:
        kind = str(self.kind_combo.currentData())
        self._fill(kind)
        self.period_combo.setCurrentIndex(1 if kind == "month" else 0)
        self.changed.emit(self.period())

    def period(self) -> Period:
        i = max(0, self.period_combo.currentIndex())
        return self._periods[i]

    def set_period(self, p: Period) -> None:
        """Selects ``p`` (its kind first); periods outside the list are added to it."""
        kind = p.kind if p.kind in HOW_MANY else "month"
        self.kind_combo.blockSignals(True)
        self.kind_combo.setCurrentIndex([k for k, _ in PERIOD_KINDS].index(kind))
        self.kind_combo.blockSignals(False)
        self._fill(kind)
        if p not in self._periods:
            self._periods.append(p)
            self.period_combo.addItem(period_label(p), p.label)
        self.period_combo.setCurrentIndex(self._periods.index(p))


def indicator_scopes(ref: SessionRef) -> list[str]:
    """The units whose indicators the user may compute: the user's unit and those below it;
    at HQ the national scope needs the national-indicators permission."""
    ws = ref.ws
    own = ws.user.unit_code
    units = ref.units()

    def depth(code: str) -> int:
        return len(ws.unit_chain(code))

    codes = sorted(ws.subtree(), key=lambda c: (depth(c), c))
    out = []
    for code in codes:
        national = depth(code) == 1
        if national and not ws.can(Perm.INDICATORS_NATIONAL, unit=code):
            continue
        if not national and not ws.can(Perm.RECORD_READ, unit=code):
            continue
        if code in units and not units[code].active and code != own:
            continue
        out.append(code)
    return out


class ScopeCombo(QComboBox):
    """The unit whose subtree the indicators cover. ``value()`` is the unit code."""

    def __init__(self, ref: SessionRef, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("scopeCombo")
        ws = ref.ws
        for code in indicator_scopes(ref):
            national = len(ws.unit_chain(code)) == 1
            text = tr("National") if national else ref.unit_name(code)
            indent = "    " * max(0, len(ws.unit_chain(code)) - len(ws.unit_chain(ws.user.unit_code)))
            self.addItem(f"{indent}{text}", code)
        self.setCurrentIndex(0)

    def value(self) -> str | None:
        data = self.currentData()
        return str(data) if data else None

    def set_value(self, code: str) -> None:
        i = self.findData(code)
        if i >= 0:
            self.setCurrentIndex(i)
