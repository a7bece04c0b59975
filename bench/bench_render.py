# SPDX-License-Identifier: GPL-3.0-or-later
"""Render time of a monthly return (issue 5, DESIGN §7): PDF and XLSX, internal and external.

One circle (C-PSH) for one month of demo data (20k records in the store by default; any N with
NAP_BENCH_RENDER_RECORDS). The indicators are computed once; what is timed is the rendering
only, each against a baseline of the same numbers written in the same run:

- PDF against a minimal reportlab document: the same long-format rows in one plain table;
- XLSX against a minimal openpyxl workbook: the same rows on one sheet, no formatting;
- the external versions also pay for disclosure control (:mod:`nap_desktop.reports.suppression`),
  against the internal render of the same format;
- the Urdu PDF (shaping, right-to-left order and line breaking in Python, :mod:`nap_desktop.reports.rtl`)
  against the English PDF of the same numbers.

No budget is set in the issue; the lines are printed to be looked at. Medians of 5 runs after a
warm-up.
"""

from __future__ import annotations

import io
import os
import tempfile
from datetime import date
from pathlib import Path

from openpyxl import Workbook
from reportlab.lib.pagesizes import A4
from reportlab.platypus import SimpleDocTemplate, Table

from bench.common import Result, median_time
from nap_desktop.reports import engine, rtl
from nap_desktop.reports.engine import Period
from nap_desktop.reports.render_common import RenderMeta, build_view
from nap_desktop.reports.render_csv import csv_bytes
from nap_desktop.reports.render_pdf import pdf_bytes
from nap_desktop.reports.render_xlsx import xlsx_bytes
from nap_desktop.security.crypto import KdfParams
from nap_desktop.services.demo_data import generate_demo_records
from nap_desktop.services.users import add_user
from nap_desktop.services.workspace import init_workspace, open_workspace

PW = "Bench-Pass-2026!"
AS_OF = date(2026, 11, 1)


def _records() -> int:
    return int(os.environ.get("NAP_BENCH_RENDER_RECORDS", "20000"))


def _report(tmp: Path, records: int) -> engine.IndicatorReport:
    path = tmp / "render"
    init_workspace(path, site_kind="circle", unit="C-PSH", admin="admin", admin_password=PW, kdf=KdfParams(8192, 1, 1))
    ws = open_workspace(path, "admin", PW)
    try:
        add_user(ws, username="head", full_name="Bench head", role="circle_head", unit="C-PSH", password=PW, must_change_password=False)
    finally:
        ws.lock()
    ws = open_workspace(path, "head", PW)
    try:
        for _ in generate_demo_records(ws, records, seed=5, as_of=AS_OF):
            pass
        return engine.compute_indicators(ws, period=Period.month(2026, 10), scope="C-PSH")
    finally:
        ws.lock()


def _plain_pdf(rows: list[tuple[object, ...]]) -> bytes:
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4).build([Table([[("" if v is None else str(v)) for v in r] for r in rows], repeatRows=1)])
    return buf.getvalue()


def _plain_xlsx(rows: list[tuple[object, ...]]) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Data")
    for r in rows:
        ws.append(list(r))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def run() -> list[Result]:
    records = _records()
    label = f"{records // 1000}k records"
    with tempfile.TemporaryDirectory(prefix="nap-bench-") as d:
        report = _report(Path(d), records)
    internal = RenderMeta(unit_code="C-PSH", unit_name_en="Peshawar Circle", status="draft")
    external = RenderMeta(unit_code="C-PSH", unit_name_en="Peshawar Circle", status="draft", audience="external")
    urdu = RenderMeta(unit_code="C-PSH", unit_name_en="Peshawar Circle", unit_name_ur="پشاور سرکل", status="draft", lang="ur")
    rows = build_view(report, internal).long_rows()
    short = [(r[2], r[4], r[5], r[7], r[8], r[9]) for r in rows]  # indicator, breakdown, key, value, numerator, denominator

    def pdf(meta: RenderMeta) -> object:
        return pdf_bytes(build_view(report, meta))

    def xlsx(meta: RenderMeta) -> object:
        return xlsx_bytes(build_view(report, meta))

    def warm(fn: object) -> float:
        fn()  # type: ignore[operator]
        return median_time(fn)  # type: ignore[arg-type]

    plain_pdf = warm(lambda: _plain_pdf(short))
    plain_xlsx = warm(lambda: _plain_xlsx(short))
    plain_csv = warm(lambda: csv_bytes(build_view(report, internal)))
    pdf_int = warm(lambda: pdf(internal))
    pdf_ext = warm(lambda: pdf(external))

    def pdf_urdu_cold() -> object:
        rtl.line_runs.cache_clear()  # as the first Urdu PDF after starting the app: nothing shaped yet
        return pdf(urdu)

    pdf_ur = warm(pdf_urdu_cold)
    xlsx_int = warm(lambda: xlsx(internal))
    xlsx_ext = warm(lambda: xlsx(external))
    base_pdf = f"plain reportlab table ({len(short)} rows)"
    base_xlsx = f"plain openpyxl sheet ({len(short)} rows)"
    return [
        Result(f"monthly return PDF, internal ({label})", pdf_int, base_pdf, plain_pdf, None),
        Result(f"monthly return PDF, external ({label})", pdf_ext, "the internal PDF", pdf_int, None),
        Result(f"monthly return PDF in Urdu, internal ({label})", pdf_ur, "the English PDF", pdf_int, None),
        Result(f"monthly return XLSX, internal ({label})", xlsx_int, base_xlsx, plain_xlsx, None),
        Result(f"monthly return XLSX, external ({label})", xlsx_ext, "the internal XLSX", xlsx_int, None),
        Result(f"monthly return CSV, internal ({label})", plain_csv, base_xlsx, plain_xlsx, None),
    ]


if __name__ == "__main__":
    for result in run():
        print(result.line(), flush=True)
