# SPDX-License-Identifier: GPL-3.0-or-later
"""XLSX rendering of an indicator report with openpyxl.

Sheets:

- **Summary** — unit, period, status, audience, who prepared / approved, the case pipeline,
  validation messages (internal only), the suppression legend (external only).
- **Objective 1 … 7** — one row per indicator total, then one per breakdown key, with the plan's
  wording; a frozen header, number formats (counts ``#,##0``, percents ``0.0"%"`` on 0–100
  values, changes with a sign), wrapped wording, fixed column widths.
- **Data** — the long format of the CSV (indicator, disaggregation, key, value, numerator,
  denominator …), as numbers, for pivot tables.
- **Definitions** — every indicator's definition.

Hidden numbers are the text ``<5`` or ``x`` in their cell.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from nap_desktop.reports.render_common import LONG_COLUMNS, IndicatorRow, RenderMeta, ReportView, Shown, build_view, write_file

__all__ = ["render_xlsx", "xlsx_bytes"]

FMT_COUNT = "#,##0"
FMT_PCT = '0.0"%"'
FMT_CHANGE = "+#,##0;-#,##0;0"
HEAD_FONT = Font(bold=True, color="FFFFFF")
HEAD_FILL = PatternFill("solid", fgColor="1F4E79")
TOTAL_FILL = PatternFill("solid", fgColor="DDEBF7")
WRAP = Alignment(wrap_text=True, vertical="top")
TOP = Alignment(vertical="top")
RIGHT = Alignment(horizontal="right", vertical="top")


def _header(ws: Worksheet, columns: list[tuple[str, float]]) -> None:
    for i, (name, width) in enumerate(columns, start=1):
        c = ws.cell(row=1, column=i, value=name)
        c.font, c.fill, c.alignment = HEAD_FONT, HEAD_FILL, Alignment(wrap_text=True, vertical="center")
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}1"
    if any(len(name) > width for name, width in columns):
        ws.row_dimensions[1].height = 30


def _fit_rows(ws: Worksheet, widths: dict[int, float], *, first: int = 1) -> None:
    """Row heights for wrapped text (spreadsheet programs do not grow rows written by a library),
    and a print layout: landscape, one page wide, the header row repeated."""
    cols = sorted(widths)
    for row in ws.iter_rows(min_row=first, min_col=cols[0], max_col=cols[-1]) if cols else ():
        lines = 1
        for c in row:
            w = widths.get(c.column)
            if w and isinstance(c.value, str) and len(c.value) > w and c.alignment.wrap_text:
                per_line = max(int(w * 1.15) - 1, 1)  # characters per line at the default font
                n = sum(max(1, -(-len(part) // per_line)) for part in c.value.split("\n"))
                lines = max(lines, n)
        if lines > 1:
            ws.row_dimensions[row[0].row].height = 15 * lines
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _put(ws: Worksheet, row: int, col: int, s: Shown | None, fmt: str) -> None:
    if s is None:
        return
    c = ws.cell(row=row, column=col, value=s.cell)
    if s.hidden:
        c.alignment = RIGHT
    else:
        c.number_format = fmt
        c.alignment = TOP


def _value_fmt(kind: str) -> str:
    return {"percent": FMT_PCT, "change": FMT_CHANGE}.get(kind, FMT_COUNT)


def _summary(wb: Workbook, view: ReportView) -> None:
    ws = wb.active
    ws.title = "Summary"
    meta = view.meta
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 70
    rows: list[tuple[str, Any]] = [
        (meta.heading, None),
        ("Unit", f"{meta.unit_name_en} ({view.scope})" if meta.unit_name_en else view.scope),
        ("Period", f"{view.period_text} ({view.period_label})"),
        ("Status", meta.status),
        ("Audience", "External: small counts suppressed" if meta.external else "Internal: contains small counts; not for release outside FIA"),
        ("Prepared by", meta.prepared_by or ""),
        ("Approved by", meta.approved_by or ""),
        ("Framework", f"{view.framework_title}, version {view.framework_version}"),
        ("Computed at (UTC)", view.computed_at.strftime("%Y-%m-%d %H:%M")),
    ]
    for r, (k, v) in enumerate(rows, start=1):
        ws.cell(row=r, column=1, value=k).font = Font(bold=True, size=14 if r == 1 else 11)
        if v is not None:
            ws.cell(row=r, column=2, value=v).alignment = WRAP
    r = len(rows) + 2
    if view.pipeline:
        ws.cell(row=r, column=1, value="Case pipeline").font = Font(bold=True)
        r += 1
        for label, s in view.pipeline:
            ws.cell(row=r, column=1, value=label)
            _put(ws, r, 2, s, FMT_COUNT)
            ws.cell(row=r, column=2).alignment = Alignment(horizontal="left")
            r += 1
        r += 1
    if view.validation:
        ws.cell(row=r, column=1, value="Validation messages").font = Font(bold=True)
        r += 1
        for msg in view.validation:
            ws.cell(row=r, column=2, value=msg).alignment = WRAP
            r += 1
        r += 1
    for line in view.legend:
        ws.cell(row=r, column=1, value="Note").font = Font(bold=True)
        ws.cell(row=r, column=2, value=line).alignment = WRAP
        r += 1
    _fit_rows(ws, {1: 30, 2: 70})


_OBJ_COLUMNS = [
    ("Code", 8),
    ("Indicator", 58),
    ("Breakdown", 22),
    ("Key", 26),
    ("Value", 12),
    ("Numerator / this period", 14),
    ("Denominator", 13),
    ("Previous period", 12),
    ("Status / note", 40),
]


def _objective(wb: Workbook, number: int, title: str, rows: tuple[IndicatorRow, ...]) -> None:
    ws = wb.create_sheet(f"Objective {number}")
    _header(ws, _OBJ_COLUMNS)
    r = 2
    for ind in rows:
        fmt = _value_fmt(ind.kind)
        c = ws.cell(row=r, column=1, value=ind.code)
        c.font, c.alignment = Font(bold=True), TOP
        ws.cell(row=r, column=2, value=ind.wording).alignment = WRAP
        ws.cell(row=r, column=3, value="Total").alignment = TOP
        if ind.kind == "status":
            ws.cell(row=r, column=5, value=ind.value.number).alignment = TOP
        else:
            _put(ws, r, 5, ind.value, fmt)
        _put(ws, r, 6, ind.numerator, FMT_COUNT)
        _put(ws, r, 7, ind.denominator, FMT_COUNT)
        _put(ws, r, 8, ind.previous, FMT_PCT if ind.kind == "percent" else FMT_COUNT)
        note = ind.status or ""
        if ind.comment:
            note = f"{note}\nComment: {ind.comment}".strip()
        ws.cell(row=r, column=9, value=note or None).alignment = WRAP
        for col in range(1, 10):
            ws.cell(row=r, column=col).fill = TOTAL_FILL
        r += 1
        for b in ind.breakdowns:
            kfmt = FMT_PCT if b.percent else (FMT_CHANGE if ind.kind == "change" and b.dim != "measure" else FMT_COUNT)
            for k in b.rows:
                ws.cell(row=r, column=1, value=ind.code).alignment = TOP
                ws.cell(row=r, column=3, value=b.label).alignment = WRAP
                ws.cell(row=r, column=4, value=k.label).alignment = WRAP
                _put(ws, r, 5, k.value, kfmt)
                _put(ws, r, 6, k.numerator, FMT_COUNT)
                _put(ws, r, 7, k.denominator, FMT_COUNT)
                r += 1
    ws.cell(row=r + 1, column=1, value=f"Objective {number}: {title}").font = Font(italic=True)
    _fit_rows(ws, {i: w for i, (_, w) in enumerate(_OBJ_COLUMNS, start=1) if i in (2, 3, 4, 9)}, first=2)
    ws.print_title_rows = "1:1"


def _data(wb: Workbook, view: ReportView) -> None:
    ws = wb.create_sheet("Data")
    widths = {"unit": 12, "period": 12, "indicator": 10, "kind": 9, "disaggregation": 20, "key": 24, "label": 34, "status": 40}
    _header(ws, [(c, widths.get(c, 13)) for c in LONG_COLUMNS])
    kinds_col = LONG_COLUMNS.index("kind")
    dis_col = LONG_COLUMNS.index("disaggregation")
    for r, row in enumerate(view.long_rows(), start=2):
        kind, dim = row[kinds_col], row[dis_col]
        for c, v in enumerate(row, start=1):
            cell = ws.cell(row=r, column=c, value=v)
            name = LONG_COLUMNS[c - 1]
            if isinstance(v, int | float) and not isinstance(v, bool):
                if name == "value":
                    cell.number_format = FMT_PCT if kind == "percent" else FMT_CHANGE if kind == "change" and dim != "measure" else FMT_COUNT
                elif name == "previous" and kind == "percent":
                    cell.number_format = FMT_PCT
                else:
                    cell.number_format = FMT_COUNT
            elif isinstance(v, str) and v in ("<5", "x"):
                cell.alignment = Alignment(horizontal="right")
    _fit_rows(ws, {}, first=2)
    ws.print_title_rows = "1:1"


def _definitions(wb: Workbook, view: ReportView) -> None:
    ws = wb.create_sheet("Definitions")
    _header(ws, [("Code", 8), ("Indicator (plan wording)", 50), ("Kind", 9), ("Counted", 18), ("Definition", 90)])
    for r, ind in enumerate(view.indicators, start=2):
        for c, v in enumerate((ind.code, ind.wording, ind.kind, ind.unit, ind.definition), start=1):
            ws.cell(row=r, column=c, value=v).alignment = WRAP
    _fit_rows(ws, {1: 8, 2: 50, 3: 9, 4: 18, 5: 90}, first=2)
    ws.print_title_rows = "1:1"


def xlsx_bytes(view: ReportView) -> bytes:
    """The workbook of a view, as bytes."""
    wb = Workbook()
    _summary(wb, view)
    for number, title, rows in view.objectives:
        _objective(wb, number, title, rows)
    _data(wb, view)
    _definitions(wb, view)
    wb.properties.title = f"{view.meta.heading} {view.scope} {view.period_label}"
    wb.properties.creator = "NAP Desktop"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def render_xlsx(report: Any, meta: RenderMeta, path: Path | str) -> Path:
    """Writes ``report`` as an XLSX workbook to ``path`` (atomically), suppressed for an external audience.

    Raises:
        StorageFull, ExportError: nothing was written.
    """
    return write_file(Path(path), xlsx_bytes(build_view(report, meta)))
