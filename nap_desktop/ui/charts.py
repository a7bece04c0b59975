# SPDX-License-Identifier: GPL-3.0-or-later
"""Small charts drawn with QPainter (no plotting library): horizontal bars with labels, and the
paired bars (previous period, this period) of a dashboard tile. Both follow the layout direction,
so bars grow from the right in Urdu."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

BAR = QColor("#2f6f9f")
BAR_PREVIOUS = QColor("#b7cde0")
TEXT = QColor("#222222")
MUTED = QColor("#666666")
GRID = QColor("#dddddd")


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # the value as shown (formatted, e.g. "54.5%")


class BarChart(QWidget):
    """Horizontal bars, one per row: label, bar, value. Empty: a short note."""

    ROW = 24

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("barChart")
        self.bars: list[Bar] = []
        self.maximum: float | None = None
        self.empty_text = ""
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)

    def set_bars(self, bars: Sequence[Bar], *, maximum: float | None = None, empty_text: str = "") -> None:
        """Shows ``bars``; ``maximum`` fixes the scale (100 for percents), else the largest value."""
        self.bars = list(bars)
        self.maximum = maximum
        self.empty_text = empty_text
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt virtual
        return QSize(420, max(40, 12 + self.ROW * len(self.bars)))

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt virtual
        return QSize(200, self.sizeHint().height())

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 - Qt virtual
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        rtl = self.layoutDirection() == Qt.LayoutDirection.RightToLeft
        fm = QFontMetrics(self.font())
        w = self.width()
        if not self.bars:
            p.setPen(MUTED)
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.empty_text)
            return
        label_w = min(int(w * 0.38), max(fm.horizontalAdvance(b.label) for b in self.bars) + 12)
        value_w = max(fm.horizontalAdvance(b.text) for b in self.bars) + 12
        bar_w = max(20, w - label_w - value_w - 8)
        top = max((b.value for b in self.bars), default=0)
        scale = self.maximum if self.maximum else top
        for i, b in enumerate(self.bars):
            y = 6 + i * self.ROW
            length = 0.0 if not scale or b.value <= 0 else bar_w * min(1.0, b.value / scale)
            label = fm.elidedText(b.label, Qt.TextElideMode.ElideRight, label_w - 8)
            if rtl:
                label_rect = QRectF(w - label_w, y, label_w - 4, self.ROW - 6)
                bar_rect = QRectF(w - label_w - length, y + 3, length, self.ROW - 12)
                value_rect = QRectF(w - label_w - length - value_w, y, value_w - 4, self.ROW - 6)
                label_align = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                value_align = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
            else:
                label_rect = QRectF(4, y, label_w - 4, self.ROW - 6)
                bar_rect = QRectF(label_w, y + 3, length, self.ROW - 12)
                value_rect = QRectF(label_w + length + 4, y, value_w, self.ROW - 6)
                label_align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
                value_align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
            p.setPen(TEXT)
            p.drawText(label_rect, label_align, label)
            p.fillRect(bar_rect, BAR)
            p.setPen(MUTED)
            p.drawText(value_rect, value_align, b.text)
        p.end()


@dataclass(frozen=True)
class Pair:
    label: str
    previous: float | None
    current: float | None


class PairedBars(QWidget):
    """Vertical bar pairs (previous period light, this period dark) with a label under each pair;
    each pair is scaled to its own larger value, since the indicators count different things."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pairedBars")
        self.pairs: list[Pair] = []
        self.setMinimumHeight(64)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_pairs(self, pairs: Sequence[Pair]) -> None:
        self.pairs = list(pairs)
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt virtual
        return QSize(max(120, 44 * len(self.pairs)), 64)

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 - Qt virtual
        if not self.pairs:
            return
        p = QPainter(self)
        rtl = self.layoutDirection() == Qt.LayoutDirection.RightToLeft
        fm = QFontMetrics(self.font())
        label_h = fm.height() + 2
        h = self.height() - label_h - 2
        slot = min(56.0, self.width() / len(self.pairs))
        p.setPen(QPen(GRID, 1))
        p.drawLine(0, h, self.width(), h)
        for i, pair in enumerate(self.pairs):
            x0 = self.width() - (i + 1) * slot if rtl else i * slot
            top = max(pair.previous or 0, pair.current or 0)
            bw = slot * 0.3
            for j, (val, color) in enumerate(((pair.previous, BAR_PREVIOUS), (pair.current, BAR))):
                if not val or not top or val <= 0:
                    continue
                bh = max(2.0, (h - 4) * val / top)
                order = (1 - j) if rtl else j  # the current period is always nearer the reading end
                x = x0 + slot * 0.18 + order * (bw + 2)
                p.fillRect(QRectF(x, h - bh, bw, bh), color)
            p.setPen(MUTED)
            p.setLayoutDirection(Qt.LayoutDirection.LeftToRight)  # indicator codes read left to right
            p.drawText(QRectF(x0, h + 1, slot, label_h), Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, pair.label)
        p.end()
