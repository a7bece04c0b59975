# SPDX-License-Identifier: GPL-3.0-or-later
"""The XLSX report read back with openpyxl: the numbers are the engine's, laid out for a reader."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from nap_desktop.domain.framework import default_framework
from nap_desktop.reports import engine
from nap_desktop.reports.render_common import LONG_COLUMNS, RenderMeta
from nap_desktop.reports.render_xlsx import render_xlsx
from tests.reports.builders import JUNE, Builder, ReportsWorld
from tests.reports.report_fixtures import CANARIES, small_month


@pytest.fixture
def month(world: ReportsWorld, b: Builder) -> engine.IndicatorReport:
    small_month(b)
    return engine.compute_indicators(world.as_("head"), period=JUNE)


def data_rows(path: Path) -> list[dict[str, Any]]:
    ws = load_workbook(path)["Data"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == LONG_COLUMNS
    return [dict(zip(LONG_COLUMNS, r, strict=True)) for r in rows[1:]]


def test_xlsx_data_sheet_equals_the_engine(month: engine.IndicatorReport, tmp_path: Path) -> None:
    out = render_xlsx(month, RenderMeta(unit_code="C-PSH", unit_name_en="Peshawar Circle"), tmp_path / "june.xlsx")
    rows = data_rows(out)
    totals = {r["indicator"]: r for r in rows if r["disaggregation"] == "total"}
    assert list(totals) == list(default_framework().codes)
    for code, iv in month.values.items():
        t = totals[code]
        assert t["value"] == iv.value, code
        assert t["numerator"] == iv.numerator, code
        if iv.kind != "change":
            assert t["denominator"] == iv.denominator, code
        assert t["previous"] == iv.previous, code
        keys = {(r["disaggregation"], r["key"]): r for r in rows if r["indicator"] == code and r["disaggregation"] != "total"}
        if iv.kind == "percent":
            for dim, fr in iv.fractions.items():
                for key, (n, d) in fr.items():
                    r = keys[(dim, key)]
                    assert (r["numerator"], r["denominator"]) == (n, d) and r["value"] == iv.breakdown[dim].get(key), (code, dim, key)
        else:
            expected = {(dim, k): v for dim, kv in iv.breakdown.items() for k, v in kv.items()}
            assert {k: r["value"] for k, r in keys.items()} == expected, code
    # hand-checked values of the fixture month
    assert totals["1.3.a"]["value"] == 10 and totals["1.3.b"]["value"] == 3
    female = next(r for r in rows if r["indicator"] == "1.3.a" and r["disaggregation"] == "sex" and r["key"] == "female")
    assert (female["value"], female["label"]) == (6, "Female")


def test_xlsx_layout(month: engine.IndicatorReport, tmp_path: Path) -> None:
    out = render_xlsx(month, RenderMeta(unit_code="C-PSH", unit_name_en="Peshawar Circle", status="approved", approved_by="SP Approver"), tmp_path / "june.xlsx")
    wb = load_workbook(out)
    assert wb.sheetnames == ["Summary", *(f"Objective {n}" for n in range(1, 8)), "Data", "Definitions"]
    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(values_only=True) if r[0]}
    assert summary["Unit"] == "Peshawar Circle (C-PSH)" and summary["Status"] == "approved" and summary["Approved by"] == "SP Approver"
    o3 = wb["Objective 3"]
    assert o3.freeze_panes == "A2" and o3["A1"].value == "Code" and o3.column_dimensions["B"].width >= 50
    rows = list(o3.iter_rows(min_row=2))
    first = next(r for r in rows if r[0].value == "3.1.a" and r[2].value == "Total")
    assert first[4].value == pytest.approx(75.0) and first[4].number_format == '0.0"%"'
    assert first[5].value == 30 and first[6].value == 40 and first[5].number_format == "#,##0"
    assert first[1].alignment.wrap_text
    o1 = wb["Objective 1"]
    total = next(r for r in o1.iter_rows(min_row=2) if r[0].value == "1.3.a" and r[2].value == "Total")
    assert total[4].value == 10 and total[4].number_format == "#,##0"
    defs = {r[0]: r[4] for r in wb["Definitions"].iter_rows(min_row=2, values_only=True)}
    assert "Distinct persons" in defs["1.3.a"]
    cells = " ".join(str(c) for ws in wb for row in ws.iter_rows(values_only=True) for c in row if c is not None)
    for canary in CANARIES:
        assert canary not in cells


def test_external_xlsx_has_markers_not_small_counts(month: engine.IndicatorReport, tmp_path: Path) -> None:
    out = render_xlsx(month, RenderMeta(unit_code="C-PSH", audience="external"), tmp_path / "june-ext.xlsx")
    rows = data_rows(out)
    male = next(r for r in rows if r["indicator"] == "1.3.a" and r["disaggregation"] == "sex" and r["key"] == "male")
    assert male["value"] == "<5"
    b = next(r for r in rows if r["indicator"] == "1.3.b" and r["disaggregation"] == "total")
    assert b["value"] == "<5"
    protected = {i.code for i in default_framework() if i.kind != "status" and (i.kind == "percent" or i.unit not in ("coordination bodies", "gaps", "milestones", "organisations", "analysis notes", "stakeholders"))}
    for r in rows:
        for col in ("value", "numerator", "denominator"):
            v = r[col]
            if r["indicator"] in protected and isinstance(v, int) and not (r["kind"] == "change" and col == "value"):
                assert not 1 <= v <= 4, r
    notes = [r[1] for r in load_workbook(out)["Summary"].iter_rows(values_only=True) if r[0] == "Note"]
    assert any("<5" in n for n in notes)
