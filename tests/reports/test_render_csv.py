# SPDX-License-Identifier: GPL-3.0-or-later
"""The CSV long format read back: UTF-8 with BOM, one row per published number, equal to the engine."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from nap_desktop.domain.framework import default_framework
from nap_desktop.reports import engine
from nap_desktop.reports.render_common import LONG_COLUMNS, RenderMeta
from nap_desktop.reports.render_csv import render_csv
from tests.reports.builders import JUNE, Builder, ReportsWorld
from tests.reports.report_fixtures import CANARIES, small_month


def _num(text: str) -> int | float | str | None:
    if text == "":
        return None
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def test_csv_reads_back_equal(world: ReportsWorld, b: Builder, tmp_path: Path) -> None:
    small_month(b)
    report = engine.compute_indicators(world.as_("head"), period=JUNE)
    out = render_csv(report, RenderMeta(unit_code="C-PSH"), tmp_path / "june.csv")
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert tuple(rows[0]) == LONG_COLUMNS
    totals = {r["indicator"]: r for r in rows if r["disaggregation"] == "total"}
    assert list(totals) == list(default_framework().codes)
    for code, iv in report.values.items():
        t = totals[code]
        assert (t["unit"], t["period"]) == ("C-PSH", "2026-06")
        assert _num(t["value"]) == iv.value and _num(t["numerator"]) == iv.numerator, code
        for dim, keys in iv.breakdown.items():
            got = {r["key"]: _num(r["value"]) for r in rows if r["indicator"] == code and r["disaggregation"] == dim}
            assert got == dict(keys), (code, dim)
    text = raw.decode("utf-8-sig")
    for canary in CANARIES:
        assert canary not in text


def test_external_csv(world: ReportsWorld, b: Builder, tmp_path: Path) -> None:
    small_month(b)
    report = engine.compute_indicators(world.as_("head"), period=JUNE)
    out = render_csv(report, RenderMeta(unit_code="C-PSH", audience="external"), tmp_path / "june-ext.csv")
    rows = list(csv.DictReader(io.StringIO(out.read_text("utf-8-sig"))))
    by = {(r["indicator"], r["disaggregation"], r["key"]): r for r in rows}
    assert by[("1.3.a", "total", "total")]["value"] == "10"
    assert by[("1.3.a", "sex", "male")]["value"] == "<5" and by[("1.3.a", "sex", "female")]["value"] == "x"
    assert by[("1.3.b", "total", "total")]["value"] == "<5"
