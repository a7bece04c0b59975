# SPDX-License-Identifier: GPL-3.0-or-later
"""``nap-desktop report indicators`` and ``nap-desktop export …`` run as a user would."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from tests.cli.test_cli import nap, ok, user_error
from tests.conftest import PASSWORDS
from tests.reports.builders import Builder, ReportsWorld
from tests.reports.report_fixtures import small_month


def test_report_and_exports_from_the_command_line(world: ReportsWorld, b: Builder, tmp_path: Path) -> None:
    small_month(b)
    world.close()
    ws = ["--workspace", str(world.path), "--password-stdin"]
    head = [*ws, "--user", "circ.psh"]
    analyst = [*ws, "--user", "ana.hq"]
    out = tmp_path / "out"
    out.mkdir()

    text = ok(nap("report", "indicators", *head, "--period", "2026-06", "--format", "csv", "--out", str(out / "june.csv"), stdin=PASSWORDS["head"] + "\n"))
    assert "internal indicator report of C-PSH for 2026-06 (CSV)" in text
    rows = list(csv.DictReader(io.StringIO((out / "june.csv").read_text("utf-8-sig"))))
    assert next(r for r in rows if r["indicator"] == "1.3.b" and r["disaggregation"] == "total")["value"] == "3"

    text = ok(nap("report", "indicators", *head, "--period", "2026-Q2", "--format", "json", "--external", "--out", str(out / "q2.json"), stdin=PASSWORDS["head"] + "\n"))
    assert "external" in text and "numbers hidden" in text
    doc = json.loads((out / "q2.json").read_text())
    assert doc["period"] == "2026-Q2" and doc["audience"] == "external"
    b13 = next(i for i in doc["indicators"] if i["code"] == "1.3.b")
    assert b13["value"] == "<5"

    ok(nap("report", "indicators", *analyst, "--period", "2026-01-01..2026-06-30", "--scope", "HQ", "--format", "pdf", "--out", str(out / "h1.pdf"), stdin=PASSWORDS["analyst"] + "\n"))
    assert (out / "h1.pdf").read_bytes().startswith(b"%PDF")

    # The same in Urdu (right to left, in the bundled Naskh font).
    ok(nap("report", "indicators", *analyst, "--period", "2026-06", "--scope", "HQ", "--format", "pdf", "--lang", "ur", "--out", str(out / "ur.pdf"), stdin=PASSWORDS["analyst"] + "\n"))
    assert b"NotoNaskhArabic" in (out / "ur.pdf").read_bytes() and b"NotoNaskhArabic" not in (out / "h1.pdf").read_bytes()

    # refusals: one "error:" line, nothing written
    user_error(nap("report", "indicators", *head, "--period", "2026-06", "--scope", "HQ", "--out", str(out / "no.pdf"), stdin=PASSWORDS["head"] + "\n"), "outside your unit")
    user_error(nap("report", "indicators", *head, "--period", "June", "--out", str(out / "no.pdf"), stdin=PASSWORDS["head"] + "\n"), "Write the period as")
    user_error(nap("report", "indicators", *head, "--period", "2026-06", "--out", str(out / "missing" / "no.pdf"), stdin=PASSWORDS["head"] + "\n"), "does not exist")
    user_error(nap("export", "ctdc", *head, "--period", "2026", "--out", str(out / "no.csv"), stdin=PASSWORDS["head"] + "\n"), "does not allow")
    assert not list(out.glob("no.*"))

    text = ok(nap("export", "ctdc", *analyst, "--period", "2026", "--scope", "HQ", "--k", "3", "--out", str(out / "ctdc.csv"), stdin=PASSWORDS["analyst"] + "\n"))
    assert "3-anonymous" in text and "rows dropped" in text
    text = ok(nap("export", "glotip", *analyst, "--period", "2026", "--scope", "HQ", "--out", str(out / "glotip.xlsx"), stdin=PASSWORDS["analyst"] + "\n"))
    assert "GLOTIP export of HQ for 2026" in text
    ok(nap("export", "dhis2", *analyst, "--period", "2026-06", "--scope", "C-PSH", "--external", "--out", str(out / "dhis2.json"), stdin=PASSWORDS["analyst"] + "\n"))
    assert json.loads((out / "dhis2.json").read_text())["period"] == "202606"
    user_error(nap("export", "dhis2", *analyst, "--period", "2026-06-01..2026-06-10", "--scope", "C-PSH", "--out", str(out / "no.json"), stdin=PASSWORDS["analyst"] + "\n"), "not a date range")
