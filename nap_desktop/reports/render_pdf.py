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

English only: the Urdu unit name is not printed (the bundled Naskh font needs Arabic shaping,
which the PDF layer here does not do). Text is set in Helvetica (Windows-1252 characters).
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


class _NumberedCanvas(rl_canvas.Canvas):
    """Draws "Page X of Y" once the number of pages is known (pages are kept until save)."""

    def __init__(self, *args: Any, header: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []
        self._header = header

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
        if self._pageNumber > 1:
            self.drawString(MARGIN, PAGE_H - 1.1 * cm, self._header)
            self.setStrokeColor(GRID)
            self.line(MARGIN, PAGE_H - 1.25 * cm, PAGE_W - MARGIN, PAGE_H - 1.25 * cm)
        self.drawRightString(PAGE_W - MARGIN, 1.0 * cm, f"Page {self._pageNumber} of {total}")
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


def _num(s: Shown | None) -> Paragraph:
    return _p("" if s is None else s.text, S_CELL_R)


# --- cover -------------------------------------------------------------------------------------------


def _cover(view: ReportView) -> list[Any]:
    meta = view.meta
    out: list[Any] = [Spacer(1, 3.2 * cm), Paragraph(_t(meta.heading), S_TITLE)]
    unit = f"{meta.unit_name_en} ({view.scope})" if meta.unit_name_en else view.scope
    out.append(Paragraph(f"<b>{_t(unit)}</b>", ParagraphStyle("u", parent=S_COVER, fontSize=15, leading=20)))
    out.append(Spacer(1, 0.3 * cm))
    out.append(Paragraph(f"Period: <b>{_t(view.period_text)}</b> ({_t(view.period_label)})", S_COVER))
    out.append(Paragraph(f"Status: <b>{_t(meta.status)}</b>", S_COVER))
    out.append(Spacer(1, 0.5 * cm))
    banner = (
        "EXTERNAL VERSION: counts of 1 to 4 are shown as &lt;5 and further numbers are hidden (x) so that they cannot be worked out."
        if meta.external
        else "INTERNAL VERSION: contains small counts. Not for release outside FIA; use the external version for partners."
    )
    b = Table([[Paragraph(banner, ParagraphStyle("b", parent=S_BODY, alignment=TA_CENTER, textColor=colors.white, fontName="Helvetica-Bold"))]], colWidths=[BODY_W * 0.85])
    b.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#2E7D32") if meta.external else colors.HexColor("#B23B3B")), ("TOPPADDING", (0, 0), (-1, -1), 6), ("BOTTOMPADDING", (0, 0), (-1, -1), 6)]))
    out += [b, Spacer(1, 0.5 * cm)]
    out.append(Paragraph(_t(f"{view.framework_title} (framework version {view.framework_version}). Computed {view.computed_at:%Y-%m-%d %H:%M} UTC."), ParagraphStyle("f", parent=S_SMALL, alignment=TA_CENTER)))
    if view.pipeline:
        out += [Spacer(1, 0.6 * cm), Paragraph("Case pipeline", S_H2)]
        rows = [[_p("Stage", S_HEAD), _p("Count", S_HEAD)]] + [[_p(label), _num(s)] for label, s in view.pipeline]
        out.append(_table(rows, [BODY_W * 0.5, BODY_W * 0.2]))
    if view.validation:
        out += [Spacer(1, 0.4 * cm), Paragraph("Validation messages", S_H2)]
        out += [Paragraph(f"&bull; {_t(m)}", S_BODY) for m in view.validation]
    out += [Spacer(1, 0.8 * cm), Paragraph("Signatures", S_H2), _signatures(meta)]
    out.append(PageBreak())
    return out


def _signatures(meta: RenderMeta) -> Table:
    line = "_" * 34
    rows = [
        [_p("", S_HEAD), _p("Prepared by", S_HEAD), _p("Approved by", S_HEAD)],
        [_p("Name"), _p(meta.prepared_by or line), _p(meta.approved_by or line)],
        [_p("Designation"), _p(line), _p(line)],
        [_p("Signature"), _p(""), _p("")],
        [_p("Date"), _p(line), _p(line)],
    ]
    t = _table(rows, [BODY_W * 0.2, BODY_W * 0.4, BODY_W * 0.4], style=[("ROWHEIGHT", (0, 3), (-1, 3), 1.4 * cm)])
    t._argH[3] = 1.4 * cm  # room to sign
    return t


# --- objectives --------------------------------------------------------------------------------------


def _summary_table(rows: tuple[IndicatorRow, ...]) -> Table:
    head = [_p(h, S_HEAD) for h in ("Code", "Indicator", "Value", "Numerator / denominator", "Previous period")]
    data = [head]
    for i, r in enumerate(rows, start=1):
        wording = f"{_t(r.wording)}<super size=\"6\" rise=\"2.5\">{i}</super>"
        if r.status and r.kind in ("status", "change", "percent"):
            wording += f"<br/><font size=7.5 color='#444444'>{_t(r.status)}</font>"
        if r.comment:
            wording += f"<br/><font size=7.5 color='#7A4A00'>Comment: {_t(r.comment)}</font>"
        if r.kind == "percent" and r.numerator is not None and r.denominator is not None:
            fraction = f"{r.numerator.text} / {r.denominator.text}"
        elif r.kind == "change" and r.numerator is not None:
            fraction = f"this period {r.numerator.text}"
        elif r.kind == "status" and r.numerator is not None and r.denominator is not None:
            fraction = f"{r.numerator.text} of {r.denominator.text}"
        elif r.denominator is not None:
            fraction = f"out of {r.denominator.text}"
        else:
            fraction = ""
        value = r.value.text if r.kind != "status" else ("Yes" if r.value.number else "No")
        prev = r.previous.text if r.previous is not None else ""
        data.append([_p(r.code), Paragraph(wording, S_CELL), _p(value, S_CELL_R), _p(fraction, S_CELL_R), _p(prev, S_CELL_R)])
    return _table(data, [1.3 * cm, BODY_W - 1.3 * cm - 2.0 * cm - 3.0 * cm - 2.2 * cm, 2.0 * cm, 3.0 * cm, 2.2 * cm])


def _plain(text: Any) -> str:
    """Text for a plain (unwrapped) table cell: only characters Helvetica has."""
    s = "" if text is None else str(text)
    return s.replace("\u2212", "-").encode("cp1252", "replace").decode("cp1252")


def _fit(text: Any, width: float, style: ParagraphStyle = S_CELL) -> Any:
    """A plain string when it fits the column (fast to lay out), else a wrapping Paragraph."""
    s = _plain(text)
    if stringWidth(s, style.fontName, style.fontSize) <= width - 8:
        return s
    return Paragraph(escape(s), style)


def _breakdown_table(ind: IndicatorRow) -> Table | None:
    percent = ind.kind == "percent"
    widths = [4.0 * cm, 6.6 * cm, 2.2 * cm, 2.2 * cm, 2.4 * cm] if percent else [4.6 * cm, 8.0 * cm, 2.6 * cm]  # at most the 17.4 cm of the page body
    head = list(("Breakdown", "Key", "Percent", "Numerator", "Denominator") if percent else ("Breakdown", "Key", "Value"))
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
            cells = [_fit(label, widths[0]) if i == 0 else "", _fit(k.label, widths[1]), _plain(k.value.text)]
            if percent:
                cells += [_plain(k.numerator.text if k.numerator else ""), _plain(k.denominator.text if k.denominator else "")]
            data.append(cells)
        if len(rows) > 1:
            cmds.append(("SPAN", (0, start), (0, len(data) - 1)))
    if len(data) == 1:
        return None
    return _table(data, widths, style=cmds)


def _chart(ind: IndicatorRow) -> Drawing | None:
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
    c.categoryAxis.categoryNames = labels
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
    note = f"{b.label}" + (f" ({hidden} hidden value{'s' if hidden > 1 else ''} not drawn)" if hidden else "")
    d.add(String(6.2 * cm, height - 10, note, fontName="Helvetica-Oblique", fontSize=7.5, fillColor=colors.HexColor("#444444")))
    return d


def _axis_format(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else ""


def _objective(number: int, title: str, rows: tuple[IndicatorRow, ...], external: bool) -> list[Any]:
    out: list[Any] = [Paragraph(f"Objective {number}", S_H1), Paragraph(_t(title), S_BODY), Spacer(1, 0.3 * cm), _summary_table(rows)]
    tables = {r.code: t for r in rows if (t := _breakdown_table(r)) is not None}
    details = [r for r in rows if r.code in tables]
    if details:
        out.append(Paragraph("Breakdowns", S_H2))
        out.append(Paragraph("Keys with no count are left out. * marks a breakdown whose keys need not add up (one person can count under several keys).", S_SMALL))
    for r in details:
        block: list[Any] = [Paragraph(f"{_t(r.code)} {_t(r.short)}", S_H3), tables[r.code]]
        chart = _chart(r)
        if chart is not None:
            block += [Spacer(1, 0.15 * cm), chart]
        out.append(CondPageBreak(4 * cm))
        out.append(KeepTogether(block) if sum(len(b.nonzero) for b in r.breakdowns) < 30 else block[0])
        if sum(len(b.nonzero) for b in r.breakdowns) >= 30:
            out += block[1:]
    out.append(Spacer(1, 0.4 * cm))
    notes: list[Any] = [Paragraph("Definitions", S_H2)]
    for i, r in enumerate(rows, start=1):
        notes.append(Paragraph(f"<super size=\"5.5\" rise=\"2\">{i}</super> <b>{_t(r.code)}</b> ({_t(r.unit)}): {_t(r.definition)}", S_SMALL))
    if external and any(r.protected for r in rows):
        notes.append(Spacer(1, 0.15 * cm))
        notes.append(Paragraph("&lt;5: a count between 1 and 4, not shown. x: not shown, so that a count below 5 cannot be worked out from the totals.", S_SMALL))
    out.append(KeepTogether(notes[:3]))
    out += notes[3:]
    out.append(PageBreak())
    return out


def pdf_bytes(view: ReportView) -> bytes:
    """The PDF of a view, as bytes."""
    buf = io.BytesIO()
    meta = view.meta
    header = f"{meta.heading} - {view.scope} - {view.period_text} - {'external' if meta.external else 'INTERNAL'}"
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
    )
    story = _cover(view)
    for number, title, rows in view.objectives:
        story += _objective(number, title, rows, meta.external)
    if story and isinstance(story[-1], PageBreak):
        story.pop()
    doc.build(story, canvasmaker=lambda *a, **k: _NumberedCanvas(*a, header=_t(header).replace("&amp;", "&"), **k))
    return buf.getvalue()


def render_pdf(report: Any, meta: RenderMeta, path: Path | str) -> Path:
    """Writes ``report`` as a PDF to ``path`` (atomically), suppressed for an external audience.

    Raises:
        StorageFull, ExportError: nothing was written.
    """
    return write_file(Path(path), pdf_bytes(build_view(report, meta)))
