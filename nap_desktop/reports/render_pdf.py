# SPDX-License-Identifier: GPL-3.0-or-later
"""PDF rendering of an indicator report (or a monthly return) with reportlab.

Layout (A4 portrait):

- **Cover**: title, unit, period, status, audience, framework version; the case pipeline of a
  monthly return; validation messages (internal version only); a signature block for the
  officer who prepared it and the one who approved it.
- **Per objective**: a table of its indicators (code, the plan's wording with a footnote number,
  value, numerator / denominator of percents, previous period where the kind is a change or the
  definition compares with it), then the breakdowns of each indicator that has any — zero rows
  left out — with a bar chart of the main one; the definitions as numbered notes at the end of
  the objective.
- Every page: the unit, period and audience in the header; "Page X of Y" in the footer.

English (``meta.lang == "en"``) or Urdu (``"ur"``). English text is set in Helvetica
(Windows-1252 characters). An Urdu report is laid out right to left — tables mirrored (the first
column on the right), text right-aligned, page furniture swapped — with its labels in Urdu (the
plan's own wording and definitions stay English, as in the plan) in the bundled Noto Naskh Arabic
font, shaped and ordered by :mod:`nap_desktop.reports.rtl`; numbers, codes and English words
inside Urdu lines stay left to right in Helvetica.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas as rl_canvas
from reportlab.platypus import (
    CondPageBreak,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from nap_desktop.domain.lang import translate
from nap_desktop.reports import rtl
from nap_desktop.reports.render_common import Breakdown, IndicatorRow, RenderMeta, ReportView, Shown, build_view, write_file

__all__ = ["pdf_bytes", "render_pdf"]

PAGE_W, PAGE_H = A4
MARGIN = 1.8 * cm
BODY_W = PAGE_W - 2 * MARGIN
NAVY = colors.HexColor("#1F4E79")
LIGHT = colors.HexColor("#DDEBF7")
GRID = colors.HexColor("#9DB3C8")
BAR = colors.HexColor("#2E75B6")
# Which breakdown gets a chart, in order of preference.
CHART_DIMS = ("sex", "age_group", "case_type", "support_type", "level", "checkpoint_type", "provider_type", "institution", "audience_group", "person_role", "component")

_SS = getSampleStyleSheet()
S_BODY = ParagraphStyle("body", parent=_SS["BodyText"], fontName="Helvetica", fontSize=9, leading=11.5)
S_SMALL = ParagraphStyle("small", parent=S_BODY, fontSize=7.5, leading=9.5)
S_CELL = ParagraphStyle("cell", parent=S_BODY, fontSize=8.5, leading=10.5)
S_CELL_R = ParagraphStyle("cellr", parent=S_CELL, alignment=2)
S_HEAD = ParagraphStyle("head", parent=S_CELL, fontName="Helvetica-Bold", textColor=colors.white)
S_H1 = ParagraphStyle("h1", parent=_SS["Heading1"], fontName="Helvetica-Bold", fontSize=15, leading=19, textColor=NAVY, spaceAfter=6)
S_H2 = ParagraphStyle("h2", parent=_SS["Heading2"], fontName="Helvetica-Bold", fontSize=11, leading=14, textColor=NAVY, spaceBefore=8, spaceAfter=4)
S_H3 = ParagraphStyle("h3", parent=_SS["Heading3"], fontName="Helvetica-Bold", fontSize=9.5, leading=12, spaceBefore=8, spaceAfter=3)
S_TITLE = ParagraphStyle("title", parent=S_H1, fontSize=24, leading=30, alignment=TA_CENTER, spaceAfter=14)
S_COVER = ParagraphStyle("cover", parent=S_BODY, fontSize=12, leading=17, alignment=TA_CENTER)


def _t(text: Any) -> str:
    """Text for a Paragraph: escaped, and only characters Helvetica has."""
    s = "" if text is None else str(text)
    s = s.replace("\u2212", "-").replace("\u2264", "<=").replace("\u2265", ">=")
    s = s.encode("cp1252", "replace").decode("cp1252")
    return escape(s)


def _p(text: Any, style: ParagraphStyle = S_CELL) -> Paragraph:
    return Paragraph(_t(text), style)


class _Typo:
    """How text and tables are set in the report's language: English as it always was; Urdu
    right to left (see the module's docstring). Every renderer function takes one."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.ur = lang == "ur"
        if self.ur:
            rtl.register_fonts()

    def l(self, text: str) -> str:  # noqa: E743 - short on purpose: every label goes through it
        """A label of the PDF (English) in the report's language."""
        return translate(text, self.lang)

    def p(self, text: Any, style: ParagraphStyle = S_CELL) -> Any:
        """A paragraph of plain text."""
        if self.ur:
            return rtl.RtlParagraph("" if text is None else str(text), style)
        return _p(text, style)

    def rich(self, markup: str, plain: str, style: ParagraphStyle = S_CELL) -> Any:
        """A paragraph: ``markup`` (escaped, with inline tags) in English, ``plain`` in Urdu."""
        return rtl.RtlParagraph(plain, style) if self.ur else Paragraph(markup, style)

    def ltr(self, text: str) -> str:
        """``text`` kept left to right as a whole inside an Urdu line (a code, a date)."""
        return rtl.ltr(text) if self.ur else text

    def table(self, data: list[list[Any]], widths: list[float], **kwargs: Any) -> Table:
        """A table; in Urdu its columns are mirrored (style commands included)."""
        if not self.ur:
            return _table(data, widths, **kwargs)
        n = len(widths)
        style = [_mirror_cmd(c, n) for c in kwargs.pop("style", None) or []]
        return _table([row[::-1] for row in data], widths[::-1], style=style, **kwargs)


def _mirror_cmd(cmd: tuple[Any, ...], n: int) -> tuple[Any, ...]:
    """A TableStyle command for the table with its ``n`` columns in the opposite order."""
    name, (c0, r0), (c1, r1), *rest = cmd
    c0, c1 = (c0 % n, c1 % n)
    if name == "ALIGN":
        rest = [{"RIGHT": "LEFT", "LEFT": "RIGHT"}.get(rest[0], rest[0]), *rest[1:]]
    return (name, (n - 1 - c1, r0), (n - 1 - c0, r1), *rest)


class _NumberedCanvas(rl_canvas.Canvas):
    """Draws "Page X of Y" once the number of pages is known (pages are kept until save)."""

    def __init__(self, *args: Any, header: str = "", typo: _Typo | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []
        self._header = header
        self._typo = typo or _Typo("en")

    def showPage(self) -> None:  # noqa: N802 - reportlab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self._decorate(total)
            super().showPage()
        super().save()

    def _decorate(self, total: int) -> None:
        self.saveState()
        self.setFont("Helvetica", 7.5)
        self.setFillColor(colors.HexColor("#555555"))
        ty = self._typo
        page = ty.l("Page {n} of {total}").format(n=self._pageNumber, total=total)
        if self._pageNumber > 1:
            if ty.ur:
                rtl.draw_line(self, PAGE_W - MARGIN, PAGE_H - 1.1 * cm, self._header, 7.5)
            else:
                self.drawString(MARGIN, PAGE_H - 1.1 * cm, self._header)
            self.setStrokeColor(GRID)
            self.line(MARGIN, PAGE_H - 1.25 * cm, PAGE_W - MARGIN, PAGE_H - 1.25 * cm)
        if ty.ur:
            rtl.draw_line(self, MARGIN, 1.0 * cm, page, 7.5, anchor="start")
            self.setFont("Helvetica", 7.5)
            self.drawRightString(PAGE_W - MARGIN, 1.0 * cm, "NAP Desktop")
        else:
            self.drawRightString(PAGE_W - MARGIN, 1.0 * cm, page)
            self.drawString(MARGIN, 1.0 * cm, "NAP Desktop")
        self.restoreState()


def _table(data: list[list[Any]], widths: list[float], *, header_rows: int = 1, total_rows: tuple[int, ...] = (), style: list[Any] | None = None) -> Table:
    t = Table(data, colWidths=widths, repeatRows=header_rows)
    cmds: list[Any] = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("GRID", (0, 0), (-1, -1), 0.4, GRID),
        ("BACKGROUND", (0, 0), (-1, header_rows - 1), NAVY),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 3.5),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3.5),
    ]
    for r in total_rows:
        cmds.append(("BACKGROUND", (0, r), (-1, r), LIGHT))
    t.setStyle(TableStyle(cmds + (style or [])))
    return t


def _num(ty: _Typo, s: Shown | None) -> Any:
    return ty.p("" if s is None else s.text, S_CELL_R)


# --- cover -------------------------------------------------------------------------------------------


def _cover(ty: _Typo, view: ReportView) -> list[Any]:
    meta = view.meta
    out: list[Any] = [Spacer(1, 3.2 * cm), ty.p(meta.heading, S_TITLE)]
    name = meta.unit_name
    unit = f"{name} ({ty.ltr(view.scope)})" if name else view.scope
    s_unit = ParagraphStyle("u", parent=S_COVER, fontSize=15, leading=20, fontName="Helvetica-Bold")
    out.append(ty.p(unit, s_unit))
    out.append(Spacer(1, 0.3 * cm))
    period, status = ty.l("Period"), ty.l("Status")
    out.append(ty.rich(f"{period}: <b>{_t(view.period_text)}</b> ({_t(view.period_label)})", f"{period}: {view.period_text} ({ty.ltr(view.period_label)})", S_COVER))
    out.append(ty.rich(f"{status}: <b>{_t(meta.status_text)}</b>", f"{status}: {meta.status_text}", S_COVER))
    out.append(Spacer(1, 0.5 * cm))
    banner = ty.l(
        "EXTERNAL VERSION: counts of 1 to 4 are shown as <5 and further numbers are hidden (x) so that they cannot be worked out."
        if meta.external
        else "INTERNAL VERSION: contains small counts. Not for release outside FIA; use the external version for partners."
    )
    b = Table([[ty.p(banner, ParagraphStyle("b", parent=S_BODY, alignment=TA_CENTER, textColor=colors.white, fontName="Helvetica-Bold"))]], colWidths=[BODY_W * 0.85])
    b.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#2E7D32") if meta.external else colors.HexColor("#B23B3B")), ("TOPPADDING", (0, 0), (-1, -1), 6), ("BOTTOMPADDING", (0, 0), (-1, -1), 6)]))
    out += [b, Spacer(1, 0.5 * cm)]
    computed = ty.l("{title} (framework version {version}). Computed {at} UTC.").format(title=view.framework_title, version=view.framework_version, at=ty.ltr(f"{view.computed_at:%Y-%m-%d %H:%M}"))
    out.append(ty.p(computed, ParagraphStyle("f", parent=S_SMALL, alignment=TA_CENTER)))
    if view.pipeline:
        out += [Spacer(1, 0.6 * cm), ty.p(ty.l("Case pipeline"), S_H2)]
        rows = [[ty.p(ty.l("Stage"), S_HEAD), ty.p(ty.l("Count"), S_HEAD)]] + [[ty.p(label), _num(ty, s)] for label, s in view.pipeline]
        out.append(ty.table(rows, [BODY_W * 0.5, BODY_W * 0.2]))
    if view.validation:
        out += [Spacer(1, 0.4 * cm), ty.p(ty.l("Validation messages"), S_H2)]
        out += [ty.rich(f"&bull; {_t(m)}", f"• {m}", S_BODY) for m in view.validation]
    out += [Spacer(1, 0.8 * cm), ty.p(ty.l("Signatures"), S_H2), _signatures(ty, meta)]
    out.append(PageBreak())
    return out


def _signatures(ty: _Typo, meta: RenderMeta) -> Table:
    line = "_" * 34
    rows = [
        [ty.p("", S_HEAD), ty.p(ty.l("Prepared by"), S_HEAD), ty.p(ty.l("Approved by"), S_HEAD)],
        [ty.p(ty.l("Name")), ty.p(meta.prepared_by or line), ty.p(meta.approved_by or line)],
        [ty.p(ty.l("Designation")), ty.p(line), ty.p(line)],
        [ty.p(ty.l("Signature")), ty.p(""), ty.p("")],
        [ty.p(ty.l("Date")), ty.p(line), ty.p(line)],
    ]
    t = ty.table(rows, [BODY_W * 0.2, BODY_W * 0.4, BODY_W * 0.4], style=[("ROWHEIGHT", (0, 3), (-1, 3), 1.4 * cm)])
    t._argH[3] = 1.4 * cm  # room to sign
    return t


# --- objectives --------------------------------------------------------------------------------------


def _fraction(ty: _Typo, r: IndicatorRow) -> str:
    if r.kind == "percent" and r.numerator is not None and r.denominator is not None:
        return f"{r.numerator.text} / {r.denominator.text}"
    if r.kind == "change" and r.numerator is not None:
        return ty.l("this period {n}").format(n=r.numerator.text)
    if r.kind == "status" and r.numerator is not None and r.denominator is not None:
        return ty.l("{a} of {b}").format(a=r.numerator.text, b=r.denominator.text)
    if r.denominator is not None:
        return ty.l("out of {n}").format(n=r.denominator.text)
    return ""


def _summary_table(ty: _Typo, rows: tuple[IndicatorRow, ...]) -> Table:
    head = [ty.p(ty.l(h), S_HEAD) for h in ("Code", "Indicator", "Value", "Numerator / denominator", "Previous period")]
    data = [head]
    comment_word = ty.l("Comment")
    for i, r in enumerate(rows, start=1):
        if ty.ur:
            # The plan's wording is English: the Urdu report names the indicator by its Urdu
            # short name, the footnote number after it (the definitions list it in English).
            lines = [f"{r.short} ({i})"]
            if r.status and r.kind in ("status", "change", "percent"):
                lines.append(r.status)
            if r.comment:
                lines.append(f"{comment_word}: {r.comment}")
            wording: Any = ty.p("\n".join(lines))
        else:
            markup = f"{_t(r.wording)}<super size=\"6\" rise=\"2.5\">{i}</super>"
            if r.status and r.kind in ("status", "change", "percent"):
                markup += f"<br/><font size=7.5 color='#444444'>{_t(r.status)}</font>"
            if r.comment:
                markup += f"<br/><font size=7.5 color='#7A4A00'>{comment_word}: {_t(r.comment)}</font>"
            wording = Paragraph(markup, S_CELL)
        value = r.value.text if r.kind != "status" else ty.l("Yes" if r.value.number else "No")
        prev = r.previous.text if r.previous is not None else ""
        data.append([ty.p(r.code), wording, ty.p(value, S_CELL_R), ty.p(_fraction(ty, r), S_CELL_R), ty.p(prev, S_CELL_R)])
    return ty.table(data, [1.3 * cm, BODY_W - 1.3 * cm - 2.0 * cm - 3.0 * cm - 2.2 * cm, 2.0 * cm, 3.0 * cm, 2.2 * cm])


def _plain(text: Any) -> str:
    """Text for a plain (unwrapped) table cell: only characters Helvetica has."""
    s = "" if text is None else str(text)
    return s.replace("\u2212", "-").encode("cp1252", "replace").decode("cp1252")


def _fit(ty: _Typo, text: Any, width: float, style: ParagraphStyle = S_CELL) -> Any:
    """A plain string when it fits the column (fast to lay out), else a wrapping Paragraph; Urdu
    text is always a paragraph (it needs its two fonts)."""
    if ty.ur:
        return ty.p(text, style)
    s = _plain(text)
    if stringWidth(s, style.fontName, style.fontSize) <= width - 8:
        return s
    return Paragraph(escape(s), style)


def _breakdown_table(ty: _Typo, ind: IndicatorRow) -> Table | None:
    percent = ind.kind == "percent"
    widths = [4.0 * cm, 6.6 * cm, 2.2 * cm, 2.2 * cm, 2.4 * cm] if percent else [4.6 * cm, 8.0 * cm, 2.6 * cm]  # at most the 17.4 cm of the page body
    head: list[Any] = [ty.l(h) for h in (("Breakdown", "Key", "Percent", "Numerator", "Denominator") if percent else ("Breakdown", "Key", "Value"))]
    if ty.ur:
        head = [ty.p(h, S_HEAD) for h in head]
    data: list[list[Any]] = [head]
    cmds: list[Any] = [
        ("FONT", (0, 0), (-1, -1), "Helvetica", S_CELL.fontSize),
        ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", S_CELL.fontSize),
        ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
        ("ALIGN", (2, 1), (-1, -1), "RIGHT"),
    ]
    for b in ind.breakdowns:
        rows = b.nonzero
        if not rows:
            continue
        start = len(data)
        label = b.label + ("" if b.additive or ind.kind == "status" else " *")
        for i, k in enumerate(rows):
            cells = [_fit(ty, label, widths[0]) if i == 0 else "", _fit(ty, k.label, widths[1]), _plain(k.value.text)]
            if percent:
                cells += [_plain(k.numerator.text if k.numerator else ""), _plain(k.denominator.text if k.denominator else "")]
            data.append(cells)
        if len(rows) > 1:
            cmds.append(("SPAN", (0, start), (0, len(data) - 1)))
    if len(data) == 1:
        return None
    return ty.table(data, widths, style=cmds)


def _chart(ty: _Typo, ind: IndicatorRow) -> Drawing | None:
    """A horizontal bar chart of the main breakdown (shown numbers only), or None."""
    if ind.kind not in ("count", "percent"):
        return None
    b: Breakdown | None = next((x for d in CHART_DIMS for x in ind.breakdowns if x.dim == d), None)
    if b is None:
        return None
    rows = [k for k in b.nonzero if not k.value.hidden and k.value.number is not None]
    if len(rows) < 2:
        return None
    rows = rows[:12]
    labels = [_t(k.label)[:38].replace("&amp;", "&") for k in rows][::-1]
    values = [float(k.value.number or 0) for k in rows][::-1]
    bar_h = 13
    height = 30 + bar_h * len(rows)
    width = BODY_W
    d = Drawing(width, height)
    c = HorizontalBarChart()
    c.x, c.y = 6.2 * cm, 14
    c.width, c.height = width - 6.2 * cm - 1.6 * cm, bar_h * len(rows)
    c.data = [values]
    c.bars[0].fillColor = BAR
    c.bars[0].strokeColor = None
    c.barSpacing = 2
    c.categoryAxis.categoryNames = [""] * len(rows) if ty.ur else labels
    c.categoryAxis.labels.fontName = "Helvetica"
    c.categoryAxis.labels.fontSize = 7.5
    c.categoryAxis.labels.boxAnchor = "e"
    c.categoryAxis.labels.dx = -3
    c.categoryAxis.strokeColor = GRID
    top = max(values) or 1
    c.valueAxis.valueMin = 0
    c.valueAxis.valueMax = 100 if b.percent else top * 1.15
    c.valueAxis.labels.fontName = "Helvetica"
    c.valueAxis.labels.fontSize = 7
    c.valueAxis.strokeColor = GRID
    c.valueAxis.visibleGrid = True
    c.valueAxis.gridStrokeColor = colors.HexColor("#E3E9EF")
    c.valueAxis.labelTextFormat = "%d%%" if b.percent else _axis_format
    c.barLabelFormat = "%.1f%%" if b.percent else "%d"
    c.barLabels.fontName = "Helvetica"
    c.barLabels.fontSize = 7
    c.barLabels.boxAnchor = "w"
    c.barLabels.dx = 3
    d.add(c)
    hidden = sum(1 for k in b.nonzero if k.value.hidden)
    grey = colors.HexColor("#444444")
    if ty.ur:
        # Category names in Urdu: drawn here, each right-aligned against the axis like Helvetica's.
        for i, k in enumerate(rows[::-1]):
            y = c.y + bar_h * i + bar_h / 2 - 2.5
            for shape in rtl.drawing_strings(c.x - 3, y, k.label[:38], 7.5):
                d.add(shape)
        note = b.label + (" " + ty.l("({n} hidden values not drawn)").format(n=hidden) if hidden else "")
        for shape in rtl.drawing_strings(c.x + c.width, height - 10, note, 7.5, fill=grey):
            d.add(shape)
        return d
    note = f"{b.label}" + (f" ({hidden} hidden value{'s' if hidden > 1 else ''} not drawn)" if hidden else "")
    d.add(String(6.2 * cm, height - 10, note, fontName="Helvetica-Oblique", fontSize=7.5, fillColor=grey))
    return d


def _axis_format(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else ""


def _objective(ty: _Typo, number: int, title: str, rows: tuple[IndicatorRow, ...], external: bool) -> list[Any]:
    out: list[Any] = [ty.p(ty.l("Objective {n}").format(n=number), S_H1), ty.p(title, S_BODY), Spacer(1, 0.3 * cm), _summary_table(ty, rows)]
    tables = {r.code: t for r in rows if (t := _breakdown_table(ty, r)) is not None}
    details = [r for r in rows if r.code in tables]
    if details:
        out.append(ty.p(ty.l("Breakdowns"), S_H2))
        out.append(ty.p(ty.l("Keys with no count are left out. * marks a breakdown whose keys need not add up (one person can count under several keys)."), S_SMALL))
    for r in details:
        block: list[Any] = [ty.p(f"{ty.ltr(r.code)} {r.short}", S_H3), tables[r.code]]
        chart = _chart(ty, r)
        if chart is not None:
            block += [Spacer(1, 0.15 * cm), chart]
        out.append(CondPageBreak(4 * cm))
        out.append(KeepTogether(block) if sum(len(b.nonzero) for b in r.breakdowns) < 30 else block[0])
        if sum(len(b.nonzero) for b in r.breakdowns) >= 30:
            out += block[1:]
    out.append(Spacer(1, 0.4 * cm))
    # The definitions are the plan's, in English in both versions (an Urdu heading says so).
    notes: list[Any] = [ty.p(ty.l("Definitions (the plan's own words, in English)") if ty.ur else "Definitions", S_H2)]
    for i, r in enumerate(rows, start=1):
        unit = "" if ty.ur else f" ({_t(r.unit)})"  # an Urdu word has no place in this English line
        notes.append(Paragraph(f"<super size=\"5.5\" rise=\"2\">{i}</super> <b>{_t(r.code)}</b>{unit}: {_t(r.definition)}", S_SMALL))
    if external and any(r.protected for r in rows):
        notes.append(Spacer(1, 0.15 * cm))
        notes.append(ty.p(ty.l("<5: a count between 1 and 4, not shown. x: not shown, so that a count below 5 cannot be worked out from the totals."), S_SMALL))
    out.append(KeepTogether(notes[:3]))
    out += notes[3:]
    out.append(PageBreak())
    return out


def pdf_bytes(view: ReportView) -> bytes:
    """The PDF of a view, as bytes."""
    buf = io.BytesIO()
    meta = view.meta
    ty = _Typo(meta.lang)
    audience = ty.l("external") if meta.external else ty.l("INTERNAL")
    header = f"{meta.heading} - {ty.ltr(view.scope)} - {view.period_text} - {audience}"
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=f"{meta.heading} {view.scope} {view.period_label}",
        author="NAP Desktop",
        subject=view.framework_title,
        lang="ur-PK" if ty.ur else "en",
    )
    story = _cover(ty, view)
    for number, title, rows in view.objectives:
        story += _objective(ty, number, title, rows, meta.external)
    if story and isinstance(story[-1], PageBreak):
        story.pop()
    header_text = header if ty.ur else _t(header).replace("&amp;", "&")
    doc.build(story, canvasmaker=lambda *a, **k: _NumberedCanvas(*a, header=header_text, typo=ty, **k))
    return buf.getvalue()


def render_pdf(report: Any, meta: RenderMeta, path: Path | str) -> Path:
    """Writes ``report`` as a PDF to ``path`` (atomically), suppressed for an external audience.

    Raises:
        StorageFull, ExportError: nothing was written.
    """
    return write_file(Path(path), pdf_bytes(build_view(report, meta)))
