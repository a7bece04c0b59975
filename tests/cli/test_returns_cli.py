# SPDX-License-Identifier: GPL-3.0-or-later
"""``nap-desktop return …`` round trip, run as a user would (a subprocess per command): a circle
head compiles, comments and submits October 2026's return, HQ sends it back and then approves it,
the month's records are locked for ``record edit``, an administrator unlocks it, and the return is
exported as PDF, XLSX and CSV. Records are made in-process first (the clock of the subprocesses is
the real one, so the month is a past one)."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import openpyxl
import pytest

from tests.cli.test_cli import nap, ok, user_error
from tests.conftest import ADMIN, ADMIN_PW, PASSWORDS
from tests.reports.builders import Builder, ReportsWorld
from tests.services.records_factories import pin_today

MONTH = "2026-10"


@pytest.fixture
def ws_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, dict[str, str]]:
    """An HQ workspace with two victims identified in October 2026 at C-PSH and P-TORKHAM; closed
    again so that the CLI can open it. Returns its folder and the id of one record."""
    pin_today(monkeypatch)
    world = ReportsWorld(tmp_path / "ws")
    b = Builder(world.as_("head"))
    ids = {
        "screening": b.screening(b.person("female"), "2026-10-05"),
        "post": b.screening(b.person("male"), "2026-10-06", "confirmed_victim", unit="P-TORKHAM"),
    }
    world.close()
    return world.path, ids


def run(path: Path, user: str, password: str, *args: str) -> object:
    env = dict(os.environ, NAP_WORKSPACE=str(path))
    return nap(*args, "--user", user, "--password-stdin", stdin=password + "\n", env=env)


def test_return_round_trip(ws_dir: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    path, ids = ws_dir
    head = ("circ.psh", PASSWORDS["head"])
    analyst = ("ana.hq", PASSWORDS["analyst"])
    admin = (ADMIN, ADMIN_PW)

    out = ok(run(path, *head, "return", "compile", "--month", MONTH))  # --unit defaults to the user's unit
    assert out.startswith("Compiled. Return of C-PSH for 2026-10: draft (version 1); 0 errors,")
    ok(run(path, *head, "return", "comment", "--month", MONTH, "--value", "1.3.a", "--text", "Two victims at Peshawar airport and Torkham"))
    shown = json.loads(ok(run(path, *head, "return", "show", "--month", MONTH, "--json")))
    values = {v["key"]: v for v in shown["values"]}
    assert values["1.3.a"]["value"] == 2 and len(values) == 41 + 8
    assert [c["key"] for c in shown["comments"]] == ["1.3.a"]

    out = ok(run(path, *head, "return", "submit", "--month", MONTH, "--expected-version", "1"))
    assert out.startswith("Submitted (late: due 2026-11-10).")  # the real clock is past 10 November 2026
    line = user_error(run(path, *head, "return", "approve", "--month", MONTH), "goes to HQ for approval")
    assert "C-PSH" in line
    out = ok(run(path, *analyst, "return", "send-back", "--unit", "C-PSH", "--month", MONTH, "--reason", "Add the October trainings"))
    assert out.startswith("Sent back. Return of C-PSH for 2026-10: returned (version 3)")
    user_error(run(path, *head, "return", "submit", "--month", MONTH, "--expected-version", "2"), "was changed by ana.hq")
    ok(run(path, *head, "return", "compile", "--month", MONTH))
    ok(run(path, *head, "return", "submit", "--month", MONTH))
    listed = ok(run(path, *analyst, "return", "list", "--state", "submitted"))
    assert listed.splitlines()[0].split()[:3] == [MONTH, "C-PSH", "submitted"]
    out = ok(run(path, *analyst, "return", "approve", "--unit", "C-PSH", "--month", MONTH))
    assert "records of C-PSH (and the units below it) dated in 2026-10 are now locked" in out

    # A record of the post, dated in the approved month, cannot be edited.
    change = tmp_path / "change.json"
    change.write_text(json.dumps({"identification_status": "presumed_victim"}), "utf-8")
    user_error(run(path, *head, "record", "edit", ids["post"], "--file", str(change)), "are locked", "return unlock --unit C-PSH --month 2026-10")

    # Completeness at HQ: C-PSH approved, late; C-LHR missing.
    rows = {r["unit"]: r for r in json.loads(ok(run(path, *analyst, "return", "completeness", "--unit", "HQ", "--month", MONTH, "--json")))}
    assert (rows["C-PSH"]["state"], rows["C-PSH"]["on_time"]) == ("approved", False)
    assert (rows["C-LHR"]["state"], rows["C-LHR"]["overdue"]) == ("missing", True)

    # Exports of the approved return.
    for fmt in ("pdf", "xlsx", "csv"):
        target = tmp_path / f"return.{fmt}"
        out = ok(run(path, *head, "return", "export", "--month", MONTH, "--format", fmt, "--out", str(target)))
        assert out.startswith(f"Wrote the internal return of C-PSH for 2026-10 ({fmt.upper()}) to ")
        assert target.stat().st_size > 0
    assert (tmp_path / "return.pdf").read_bytes().startswith(b"%PDF")
    with (tmp_path / "return.csv").open(encoding="utf-8") as f:
        long_rows = list(csv.reader(f))
    assert any(r[2:5] == ["1.3.a", "count", "total"] and r[7] == "2" for r in long_rows), long_rows[:3]
    wb = openpyxl.load_workbook(tmp_path / "return.xlsx", read_only=True)
    assert len(wb.sheetnames) >= 3

    # Only an administrator unlocks; afterwards the record can be edited again.
    user_error(run(path, *head, "return", "unlock", "--month", MONTH, "--reason", "Correction"), "does not allow this (return.unlock)")
    out = ok(run(path, *admin, "return", "unlock", "--unit", "C-PSH", "--month", MONTH, "--reason", "Correction of a screening"))
    assert out.startswith("Unlocked (now draft)")
    ok(run(path, *head, "record", "edit", ids["post"], "--file", str(change)))
    history = ok(run(path, *head, "return", "show", "--month", MONTH)).split("History:")[1]
    assert [ln.split()[5] for ln in history.strip().splitlines()] == ["compile", "submit", "send_back", "compile", "submit", "approve", "unlock"]
