# SPDX-License-Identifier: GPL-3.0-or-later
"""Standard exports: GLOTIP table, CTDC victim-level file (k-anonymous), DHIS2 dataValueSets;
no personal data in any of them (canaries planted in the records are grepped for)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from nap_desktop.errors import PermissionDenied, ValidationError
from nap_desktop.reports import engine
from nap_desktop.reports.engine import Period
from nap_desktop.reports.exports import CTDC_COLUMNS, ctdc_rows, dhis2_payload, glotip_table, k_anonymise
from nap_desktop.reports.publish import iter_indicator_report, iter_standard_export
from nap_desktop.reports.suppression import suppress_report
from nap_desktop.services.demo_data import generate_demo_records
from tests.reports.builders import JUNE, Builder, ReportsWorld
from tests.reports.report_fixtures import CANARIES, small_month
from tests.services.records_factories import audit_count


def drive(gen):  # type: ignore[no-untyped-def]
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value


def glotip_rows(table) -> dict[tuple[str, str, str, str, str], object]:  # type: ignore[no-untyped-def]
    return {(r[2], r[3], r[4], r[5], r[6]): r[9] for r in table.rows}


def test_glotip_hand_worked(world: ReportsWorld, b: Builder) -> None:
    """10 victims (6 women, 4 men; a girl of 14 and a boy of 16 among them), 3 suspects (men),
    one case in court and one conviction in June."""
    small_month(b)
    ws = world.as_("analyst")
    with ws.sf() as s:
        internal = glotip_rows(glotip_table(s, units=None, period=JUNE, suppress=False))
        external = glotip_rows(glotip_table(s, units=None, period=JUNE))
    v = "Detected trafficking victims"
    assert internal[(v, "Total", "Total", "Total", "Total")] == 10
    assert internal[(v, "Total", "Total", "Female", "Total")] == 6
    assert internal[(v, "Total", "Total", "Male", "Total")] == 4
    assert internal[(v, "Total", "Total", "Female", "0 to 17 years")] == 1
    assert internal[(v, "Total", "Total", "Male", "0 to 17 years")] == 1
    assert internal[(v, "Total", "Total", "Total", "18 years or over")] == 8
    assert internal[(v, "by form of exploitation", "Sexual exploitation", "Total", "Total")] == 6
    assert internal[(v, "by form of exploitation", "Forced labour", "Total", "Total")] == 4
    assert internal[(v, "by citizenship", "Pakistan", "Total", "Total")] == 9
    assert internal[(v, "by citizenship", "Afghanistan", "Total", "Total")] == 1
    assert internal[("Persons brought into formal contact", "Total", "Total", "Male", "18 years or over")] == 3
    assert internal[("Persons prosecuted", "Total", "Total", "Total", "Total")] == 1
    assert internal[("Persons convicted", "Total", "Total", "Male", "Total")] == 1
    # external: 1–4 as "<5", and the victims' 10 stays
    assert external[(v, "Total", "Total", "Total", "Total")] == 10
    assert external[(v, "Total", "Total", "Male", "Total")] == "<5"
    assert external[(v, "by citizenship", "Afghanistan", "Total", "Total")] == "<5"
    assert external[(v, "by citizenship", "Pakistan", "Total", "Total")] == "x"
    for key, value in external.items():
        assert not (isinstance(value, int) and 1 <= value <= 4), key


def test_ctdc_k_anonymity_on_generated_data(world: ReportsWorld) -> None:
    for _ in generate_demo_records(world.as_("head"), 2500, seed=11, as_of=date(2026, 11, 1)):
        pass
    ws = world.as_("analyst")
    with ws.sf() as s:
        raw = ctdc_rows(s, units=None, period=Period.year(2026), k=2)  # nearly everything kept
        result = ctdc_rows(s, units=None, period=Period.year(2026), k=11)
        strict = ctdc_rows(s, units=None, period=Period.year(2026), k=25)
    for r in (raw, result, strict):
        assert r.victims == raw.victims > 30
        assert len(r.rows) + r.dropped == r.victims  # every victim is a row, or counted as dropped
        groups = Counter(r.rows)
        assert not r.rows or min(groups.values()) >= r.k  # k-anonymity holds over every column
    assert result.generalised and len(result.rows) > 0
    assert strict.dropped >= result.dropped
    for row in result.rows:
        assert len(row) == len(CTDC_COLUMNS)
        assert re.fullmatch(r"20\d\d", row[0])  # the year, never a date
        assert row[3] in ("", "0--8", "9--17", "18--20", "21--23", "24--26", "27--29", "30--38", "39--47", "48+", "0--17", "18+")


def test_k_anonymise_generalises_before_dropping() -> None:
    def row(age: str, cit: str) -> dict[str, str]:
        return {c: "" for c in CTDC_COLUMNS} | {"yearOfRegistration": "2026", "ageBroad": age, "majorityStatus": "Adult", "citizenship": cit}

    rows = [row("18--20", "PAK") for _ in range(3)] + [row("21--23", "PAK") for _ in range(2)] + [row("24--26", "AFG")]
    kept, generalised, dropped = k_anonymise([dict(r) for r in rows], 3)
    assert generalised["age_band"] == 6  # the 2 + 1 rows in small groups, and the 3 they merge with
    assert generalised["citizenship_region"] == 1  # the Afghan adult, still alone after that
    assert dropped == 1 and len(kept) == 5
    assert Counter(tuple(r.values()) for r in kept).most_common()[-1][1] >= 3


def test_dhis2_payload(world: ReportsWorld, b: Builder) -> None:
    small_month(b)
    report = engine.compute_indicators(world.as_("head"), period=JUNE)
    doc = dhis2_payload(report)
    assert (doc["period"], doc["orgUnit"]) == ("202606", "C-PSH")
    vals = {(v["dataElement"], v["categoryOptionCombo"]): v["value"] for v in doc["dataValues"]}
    assert vals[("1.3.a", "default")] == "10" and vals[("1.3.a", "SEX_FEMALE")] == "6"
    assert vals[("2.1.b_NUM", "default")] == "2" and vals[("2.1.b_DEN", "default")] == "3"
    ext = dhis2_payload(report, suppress_report(report.values, external=True))
    evals = {(v["dataElement"], v["categoryOptionCombo"]) for v in ext["dataValues"]}
    assert ("1.3.a", "default") in evals and ("1.3.a", "SEX_MALE") not in evals and ("1.3.b", "default") not in evals
    with pytest.raises(ValidationError, match="not a date range"):
        dhis2_payload(engine.compute_indicators(world.as_("head"), period=Period.parse("2026-06-01..2026-06-10")))


def test_no_personal_data_in_any_output(world: ReportsWorld, b: Builder, tmp_path: Path) -> None:
    """Canaries (name, father's name, CNIC, passport, phone, address, narrative, FIR number) planted
    in the records appear in none of the files, internal or external."""
    small_month(b)
    ws = world.as_("analyst")
    files: list[Path] = []
    for fmt in ("json", "pdf", "xlsx", "csv"):
        for external in (False, True):
            files.append(drive(iter_indicator_report(ws, period=JUNE, scope="C-PSH", fmt=fmt, out=tmp_path / f"r-{external}.{fmt}", external=external)).path)
    for kind, name in (("glotip", "g.xlsx"), ("glotip", "g.csv"), ("ctdc", "c.csv"), ("dhis2", "d.json")):
        files.append(drive(iter_standard_export(ws, kind, period=JUNE, scope="HQ", out=tmp_path / name, k=2)).path)
    for f in files:
        if f.suffix == ".xlsx":
            text = " ".join(str(c) for sh in load_workbook(f) for row in sh.iter_rows(values_only=True) for c in row if c is not None)
        elif f.suffix == ".pdf":
            import subprocess

            from tests.conftest import require_program

            text = subprocess.run([require_program("pdftotext"), str(f), "-"], capture_output=True, text=True, check=True).stdout
        else:
            text = f.read_text("utf-8-sig")
        for canary in CANARIES:
            assert canary not in text, (f.name, canary)
        assert not re.search(r"\b2026-06-\d\d\b", text), f.name  # no exact dates of records
        assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-", text), f.name  # no record ids
    ctdc = (tmp_path / "c.csv").read_text()
    assert ctdc.splitlines()[0].split(",") == list(CTDC_COLUMNS)
    payload = json.loads((tmp_path / "d.json").read_text())
    assert payload["period"] == "202606"


def test_exports_permissions_and_audit(world: ReportsWorld, b: Builder, tmp_path: Path) -> None:
    small_month(b)
    head, officer, analyst = world.as_("head"), world.as_("officer"), world.as_("analyst")
    before = audit_count(analyst, "report.export")
    denied = audit_count(analyst, "permission.denied")
    # a circle head: internal for the own circle, not nationally; no GLOTIP/CTDC
    drive(iter_indicator_report(head, period=JUNE, scope="C-PSH", fmt="csv", out=tmp_path / "a.csv", external=False))
    with pytest.raises(PermissionDenied):
        drive(iter_indicator_report(head, period=JUNE, scope="HQ", fmt="csv", out=tmp_path / "b.csv", external=True))
    with pytest.raises(PermissionDenied):
        drive(iter_standard_export(head, "ctdc", period=JUNE, scope="C-PSH", out=tmp_path / "c.csv"))
    # an officer: external only
    drive(iter_indicator_report(officer, period=JUNE, scope=None, fmt="json", out=tmp_path / "d.json", external=True))
    with pytest.raises(PermissionDenied, match="does not allow"):
        drive(iter_indicator_report(officer, period=JUNE, scope=None, fmt="json", out=tmp_path / "e.json", external=False))
    assert not (tmp_path / "e.json").exists() and not (tmp_path / "b.csv").exists()
    assert audit_count(analyst, "report.export") == before + 2
    assert audit_count(analyst, "permission.denied") == denied + 3
    with analyst.sf() as s:
        from sqlalchemy import select

        from nap_desktop.data.models import AuditEntry

        last = s.scalars(select(AuditEntry).where(AuditEntry.action == "report.export").order_by(AuditEntry.seq.desc())).first()
    detail = json.loads(last.detail)
    assert (last.actor, last.unit, detail["what"], detail["format"], detail["audience"], detail["period"]) == ("off.torkham", "P-TORKHAM", "indicators", "json", "external", "2026-06")
