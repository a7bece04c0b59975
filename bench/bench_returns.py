# SPDX-License-Identifier: GPL-3.0-or-later
"""Monthly-return budget (DESIGN §7, issue 5): compiling the return of one unit for one month.

The store holds N demo records (1M with NAP_BENCH_FULL=1, 200k by default; any N with
NAP_BENCH_RETURN_RECORDS): 50k of them belong to one circle (C-PSH and its posts, as at a circle
after its posts synced), the rest are spread over every other circle (as at HQ). The demo data
runs over the two years before 1 November 2026, so the circle's month (October 2026) holds about
1/24 of its 50k.

Budgeted line: ``returns.compile_return`` of C-PSH for October 2026 — the 41 indicators, the
case pipeline, the month's record counts, the checks, and saving the draft — ≤ 0.2 s. As in the
other benchmarks, the budget is written as a ratio against a baseline measured in the same run: a
raw ``GROUP BY`` over the circle's screenings of that month (the cheapest query a return needs).
Two lines without a budget put it in context: the engine alone on the same unit-month, and the
same compile against one raw ``GROUP BY`` scan of the whole screenings table. Each time is the
median of 5 runs after one warm-up run (which also compiles the SQL).

With NAP_BENCH_CACHE=DIR the generated workspace is kept in DIR/returns-<N> and reused.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from sqlalchemy import select, text

from bench.common import Result, cached_workspace
from nap_desktop.data.models import Unit
from nap_desktop.reports import engine, returns
from nap_desktop.security import crypto
from nap_desktop.security.crypto import KdfParams
from nap_desktop.services.demo_data import generate_demo_records
from nap_desktop.services.users import add_user
from nap_desktop.services.workspace import init_workspace, open_workspace

PW = "Bench-Pass-2026!"
AS_OF = date(2026, 11, 1)
MONTH = "2026-10"
UNIT = "C-PSH"
UNIT_RECORDS = 50_000
BUDGET_S = 0.2


def _records() -> int:
    if n := os.environ.get("NAP_BENCH_RETURN_RECORDS"):
        return max(int(n), UNIT_RECORDS)
    return 1_000_000 if os.environ.get("NAP_BENCH_FULL") == "1" else 200_000


def _median(fn: Callable[[], object], runs: int = 5) -> float:
    fn()  # warm-up: page cache, compiled SQL
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _workspace(tmp: Path, records: int) -> Path:
    path = tmp / "returns"
    init_workspace(
        path,
        site_kind="hq",
        unit="HQ",
        admin="admin",
        admin_password=PW,
        kdf=KdfParams(8192, 1, 1),
        recovery_recipient=crypto.generate_age_keypair().recipient,
    )
    ws = open_workspace(path, "admin", PW)
    try:
        with ws.sf() as s:
            circles = list(s.scalars(select(Unit.code).where(Unit.kind == "circle").order_by(Unit.code)))
        for code in circles:
            add_user(ws, username=f"head.{code.lower()}", full_name=f"Head {code}", role="circle_head", unit=code, password=PW, must_change_password=False)
    finally:
        ws.lock()
    others = [c for c in circles if c != UNIT]
    plan = [(UNIT, UNIT_RECORDS)] + [(c, (records - UNIT_RECORDS) // len(others)) for c in others]
    for i, (code, n) in enumerate(plan):
        if n <= 0:
            continue
        ws = open_workspace(path, f"head.{code.lower()}", PW)
        try:
            for _ in generate_demo_records(ws, n, seed=71 + i, as_of=AS_OF):
                pass
        finally:
            ws.lock()
    return path


def run() -> list[Result]:
    records = _records()
    label = f"{records // 1000}k" if records < 1_000_000 else f"{records / 1_000_000:g}M"
    cache = os.environ.get("NAP_BENCH_CACHE")
    period = returns.parse_month(MONTH)
    with tempfile.TemporaryDirectory(prefix="nap-bench-") as d:
        path = cached_workspace(Path(cache), f"returns-{records}", lambda folder: _workspace(folder, records)) if cache else _workspace(Path(d), records)
        ws = open_workspace(path, f"head.{UNIT.lower()}", PW)
        try:
            units = sorted(ws.subtree(UNIT))
            marks = ", ".join(f"'{u}'" for u in units)  # unit codes: [A-Z0-9-] only
            month_sql = (
                f"SELECT location_type, count(*) FROM screenings WHERE unit IN ({marks}) AND deleted = 0 AND status = 'complete' "
                f"AND screened_on >= '{period.start.isoformat()}' AND screened_on < '{period.stop.isoformat()}' GROUP BY location_type"
            )
            scan_sql = "SELECT location_type, count(*) FROM screenings WHERE deleted = 0 AND status = 'complete' GROUP BY location_type"

            def raw(sql: str) -> Callable[[], object]:
                def go() -> object:
                    with ws.engine.connect() as c:
                        return c.execute(text(sql)).all()

                return go

            with ws.sf() as s:
                in_unit = sum(
                    s.scalar(text(f"SELECT count(*) FROM {t} WHERE unit IN ({marks})")) or 0
                    for t in ("persons", "screenings", "suspects", "cases", "referrals", "service_providers", "service_provisions", "awareness_sessions", "trainings", "checkpoint_logs", "coordination_entities", "coordination_meetings", "coordination_gaps", "survey_responses", "milestones", "analysis_notes", "data_accesses")
                )
            month_raw = _median(raw(month_sql))
            scan_raw = _median(raw(scan_sql))
            compile_s = _median(lambda: returns.compile_return(ws, UNIT, MONTH))
            engine_s = _median(lambda: engine.compute_indicators(ws, period=period, scope=UNIT))
            ret = returns.get_return(ws, UNIT, MONTH)
        finally:
            ws.lock()
    name = f"monthly return, {UNIT} {MONTH} ({in_unit // 1000}k of {label})"
    return [
        Result(f"{name} (≤ {BUDGET_S} s)", compile_s, "raw GROUP BY, the unit-month", month_raw, BUDGET_S / month_raw),
        Result(f"{name}: engine alone", engine_s, "raw GROUP BY, the unit-month", month_raw, None),
        Result(f"{name} [{ret.records_in_month} records in month]", compile_s, f"raw GROUP BY scan of screenings ({label})", scan_raw, None),
    ]


if __name__ == "__main__":
    for result in run():
        print(result.line(), flush=True)
