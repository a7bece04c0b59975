# SPDX-License-Identifier: GPL-3.0-or-later
"""Urdu text for reportlab: shaping, right-to-left order, two fonts, line breaking.

reportlab draws the characters of a string left to right, one glyph each, in one font. Urdu needs
three things more, done here before reportlab sees the text:

- **Shaping**: each Arabic-script letter takes its joined form (initial, medial, final) —
  ``arabic_reshaper`` maps the letters to the presentation forms that the bundled Noto Naskh
  Arabic font holds glyphs for (752 of them, ے ڑ ٹ ں included).
- **Order**: the Unicode bidirectional algorithm (``python-bidi``) turns a logical line into the
  order it is drawn in, right to left, with unit codes, numbers and English words kept left to
  right inside it and brackets mirrored.
- **Tokens**: an indicator code (2.1.b), a unit code, a date, a period or a percentage inside an
  Urdu line is kept left to right as a whole (the algorithm alone would draw "b.1.2").
- **Two fonts**: the Naskh font has no Latin letters, brackets or percent sign, so a drawn line is
  cut into runs: Arabic-script runs in Naskh, the rest in Helvetica.

Lines are broken in logical order (a word's width does not depend on its neighbours: Arabic
letters never join across a space) and each line is then put in drawing order: a paragraph of
several lines reads from its first line down, each line right to left. :class:`RtlParagraph` does
that at layout time, when the width of its frame or table cell is known.

This module never imports Qt.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from arabic_reshaper import ArabicReshaper
# NOTE: python-bidi's pure-Python algorithm, not its Rust ``bidi.get_display``: only this one
# mirrors brackets in right-to-left runs (the Rust one draws "(C-PSH)" as ")C-PSH(").
from bidi.algorithm import get_display
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, Paragraph

from nap_desktop import config

__all__ = ["NASKH", "NASKH_BOLD", "RtlParagraph", "draw_line", "drawing_strings", "fonts_for", "line_runs", "line_width", "ltr", "register_fonts", "wrap_lines"]

NASKH = "NotoNaskhArabic"
NASKH_BOLD = "NotoNaskhArabic-Bold"
_FILES = {NASKH: "NotoNaskhArabic-Regular.ttf", NASKH_BOLD: "NotoNaskhArabic-Bold.ttf"}

# Letters of the Arabic script (Urdu's included), their presentation forms, and the Arabic
# punctuation (، ؛ ؟ ۔) that the Naskh font holds.
_ARABIC = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
# Latin letters and digits joined by . - / : (an indicator code 2.1.b, a unit code C-PSH, a date
# 2026-11-29, a period 2026-Q3, a time 21:25, an age range 0–17 or 18+) and a percentage (50.5%): kept left to right as a whole inside an Urdu line,
# where the bidirectional algorithm alone would draw "b.1.2".
_TOKEN = re.compile(r"(?<![\w\u202a])(?:\d+(?:[.,]\d+)*%|[0-9A-Za-z]+(?:[.\-/:\u2013][0-9A-Za-z]+)+\+?|\d+\+)")
_RESHAPER = ArabicReshaper(configuration={"delete_harakat": False, "support_ligatures": True})
# Latin text in Helvetica takes Windows-1252 characters only (what _latin replaces).
_LATIN_SUBST = {"\u202a": "", "\u202b": "", "\u202c": "", "\u202d": "", "\u202e": "", "\u2212": "-", "\u2264": "<=", "\u2265": ">=", "\u2066": "", "\u2067": "", "\u2068": "", "\u2069": "", "\u200e": "", "\u200f": "", "\u2060": ""}


@cache
def register_fonts() -> None:
    """Registers the bundled Naskh fonts with reportlab (once)."""
    folder: Path = config.resources_dir() / "fonts"
    for name, file in _FILES.items():
        pdfmetrics.registerFont(TTFont(name, str(folder / file), shapable=False))


def fonts_for(latin_font: str) -> tuple[str, str]:
    """(Arabic-script font, Latin font) that go with a Helvetica style font."""
    bold = latin_font.endswith("Bold")
    return (NASKH_BOLD if bold else NASKH), ("Helvetica-Bold" if bold else "Helvetica")


def _latin(text: str) -> str:
    for a, b in _LATIN_SUBST.items():
        text = text.replace(a, b)
    return text.encode("cp1252", "replace").decode("cp1252")


@dataclass(frozen=True)
class Run:
    text: str
    arabic: bool


def ltr(text: str) -> str:
    """``text`` kept left to right inside an Urdu line, as a whole: an indicator code (1.1.a, not
    a.1.1), a date (2026-11-29), a period (2026-Q3)."""
    return f"\u202a{text}\u202c"


@lru_cache(maxsize=20_000)
def line_runs(line: str) -> tuple[Run, ...]:
    """One logical line in drawing order (left to right), cut into runs of one font each.
    Spaces and digits go with the run they stand in. (Cached: a report repeats its labels, and
    line breaking measures every word.)"""
    if not _ARABIC.search(line):
        return (Run(_latin(line), False),)  # nothing to shape or turn round: a code, a number
    line = _TOKEN.sub(lambda m: ltr(m.group(0)), line)
    drawn = get_display(_RESHAPER.reshape(line), base_dir="R")
    runs: list[Run] = []
    for ch in drawn:
        arabic = bool(_ARABIC.match(ch))
        if runs and (runs[-1].arabic == arabic or ch == " "):
            runs[-1] = Run(runs[-1].text + ch, runs[-1].arabic)
        else:
            runs.append(Run(ch, arabic))
    return tuple(r if r.arabic else Run(_latin(r.text), False) for r in runs)


def line_width(line: str, size: float, latin_font: str = "Helvetica") -> float:
    """The drawn width of one logical line."""
    arabic_font, latin = fonts_for(latin_font)
    return sum(stringWidth(r.text, arabic_font if r.arabic else latin, size) for r in line_runs(line))


def wrap_lines(text: str, width: float, size: float, latin_font: str = "Helvetica") -> list[str]:
    """``text`` broken into logical lines no wider than ``width`` (a word longer than the line
    stands alone on its line); hard line breaks are kept."""
    register_fonts()
    space = stringWidth(" ", fonts_for(latin_font)[0], size)
    out: list[str] = []
    for para in text.split("\n"):
        words = para.split()
        line: list[str] = []
        used = 0.0
        for word in words:
            w = line_width(word, size, latin_font)
            if line and used + space + w > width:
                out.append(" ".join(line))
                line, used = [], 0.0
            used += (space if line else 0.0) + w
            line.append(word)
        out.append(" ".join(line))
    return out


def _markup(line: str, latin_font: str) -> str:
    arabic_font, latin = fonts_for(latin_font)
    return "".join(f'<font face="{arabic_font if r.arabic else latin}">{escape(r.text)}</font>' for r in line_runs(line))


def _placed(x: float, line: str, size: float, latin_font: str, anchor: str) -> Iterator[tuple[float, str, str]]:
    """(left x, text, font) of each run of one logical line whose right end (``anchor="end"``)
    or left end (``"start"``) is at ``x``."""
    register_fonts()
    arabic_font, latin = fonts_for(latin_font)
    runs = [(r.text, arabic_font if r.arabic else latin) for r in line_runs(line)]
    cx = x - sum(stringWidth(text, font, size) for text, font in runs) if anchor == "end" else x
    for text, font in runs:
        yield cx, text, font
        cx += stringWidth(text, font, size)


def draw_line(canvas: Any, x: float, y: float, line: str, size: float, *, latin_font: str = "Helvetica", anchor: str = "end") -> None:
    """Draws one logical line on a canvas, its right end (``anchor="end"``) or left end
    (``"start"``) at ``x``."""
    for cx, text, font in _placed(x, line, size, latin_font, anchor):
        canvas.setFont(font, size)
        canvas.drawString(cx, y, text)


def drawing_strings(x: float, y: float, line: str, size: float, *, fill: Any = None, latin_font: str = "Helvetica", anchor: str = "end") -> Iterator[Any]:
    """The runs of one logical line as reportlab graphics ``String`` shapes (for charts), its
    right end (``anchor="end"``) or left end (``"start"``) at ``x``."""
    from reportlab.graphics.shapes import String

    kwargs = {"fillColor": fill} if fill is not None else {}
    for cx, text, font in _placed(x, line, size, latin_font, anchor):
        yield String(cx, y, text, fontName=font, fontSize=size, **kwargs)


class RtlParagraph(Flowable):
    """A paragraph of Urdu (with English words and numbers in it) that breaks its lines when its
    width is known, then lays them out as a reportlab Paragraph, right-aligned unless the style
    centres it. ``style`` is an English (Helvetica) style; its size, leading and colour apply."""

    def __init__(self, text: str, style: ParagraphStyle) -> None:
        super().__init__()
        register_fonts()
        self.text = text
        self.style = style
        self._para: Paragraph | None = None
        self._width: float | None = None

    def _build(self, width: float) -> Paragraph:
        if self._para is not None and self._width == width:
            return self._para  # a table asks its cells' size more than once
        self._width = width
        st = self.style
        inner = max(width - st.leftIndent - st.rightIndent, 1.0)
        lines = wrap_lines(self.text, inner, st.fontSize, st.fontName)
        align = TA_CENTER if st.alignment == TA_CENTER else TA_LEFT if st.alignment == TA_RIGHT else TA_RIGHT
        # The Naskh letters reach far above and below the line: room for them.
        rtl_style = ParagraphStyle(f"{st.name}-ur", parent=st, alignment=align, leading=max(st.leading, st.fontSize * 1.55))
        self._para = Paragraph("<br/>".join(_markup(line, st.fontName) for line in lines), rtl_style)
        return self._para

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803 - reportlab's names
        w, h = self._build(availWidth).wrap(availWidth, availHeight)
        self.width, self.height = w, h
        return w, h

    def split(self, availWidth: float, availHeight: float) -> list[Any]:  # noqa: N803
        para = self._para or self._build(availWidth)
        return para.split(availWidth, availHeight)

    def draw(self) -> None:
        assert self._para is not None, "wrap() comes first"
        self._para.drawOn(self.canv, 0, 0)

    def getSpaceBefore(self) -> float:  # noqa: N802
        return float(self.style.spaceBefore)

    def getSpaceAfter(self) -> float:  # noqa: N802
        return float(self.style.spaceAfter)
