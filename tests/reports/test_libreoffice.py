# SPDX-License-Identifier: GPL-3.0-or-later
"""The XLSX and the PDF open cleanly in LibreOffice (headless ``soffice --convert-to``).

The XLSX is converted to CSV (Calc reads the Data sheet: the numbers come back); the PDF is
opened by Draw's PDF import and written out again as PDF, whose text still shows the codes.
"""

from __future__ import annotations

import csv
import io
import subprocess
from pathlib import Path

from nap_desktop.reports import engine
from nap_desktop.reports.render_common import RenderMeta
from nap_desktop.reports.render_pdf import render_pdf
from nap_desktop.reports.render_xlsx import render_xlsx
from tests.conftest import require_program
from tests.reports.builders import JUNE, Builder, ReportsWorld
from tests.reports.report_fixtures import small_month


def soffice(exe: str, tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp / "lo-profile"  # a private profile: no clash with a running LibreOffice
    done = subprocess.run(
        [exe, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore", *args],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, (done.stdout, done.stderr)
    return done


def test_libreoffice_opens_xlsx_and_pdf(world: ReportsWorld, b: Builder, tmp_path: Path) -> None:
    exe = require_program("soffice")
    small_month(b)
    report = engine.compute_indicators(world.as_("head"), period=JUNE)
    meta = RenderMeta(unit_code="C-PSH", unit_name_en="Peshawar Circle", audience="external")
    xlsx = render_xlsx(report, meta, tmp_path / "june.xlsx")
    pdf = render_pdf(report, meta, tmp_path / "june.pdf")
    out = tmp_path / "converted"
    out.mkdir()

    # XLSX → CSV of the Data sheet (sheet 9: Summary, Objective 1–7, Data)
    soffice(exe, tmp_path, "--convert-to", 'csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,9', "--outdir", str(out), str(xlsx))
    produced = sorted(out.glob("june*.csv"))
    assert produced, list(out.iterdir())
    rows = list(csv.reader(io.StringIO(produced[0].read_text("utf-8"))))
    assert rows[0][:4] == ["unit", "period", "indicator", "kind"]
    by = {(r[2], r[4], r[5]): r[7] for r in rows[1:]}
    assert by[("1.3.a", "total", "total")] == "10"
    assert by[("1.3.a", "sex", "male")] == "<5"

    # PDF → Draw (pdf import) → PDF
    soffice(exe, tmp_path, "--infilter=draw_pdf_import", "--convert-to", "pdf:draw_pdf_Export", "--outdir", str(out), str(pdf))
    again = out / "june.pdf"
    assert again.is_file() and again.stat().st_size > 1000
    text = subprocess.run([require_program("pdftotext"), str(again), "-"], capture_output=True, text=True, check=True).stdout
    assert "Monthly return" in text or "Indicator report" in text
    assert "Peshawar Circle" in text
