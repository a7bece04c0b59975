# SPDX-License-Identifier: GPL-3.0-or-later
"""Indicator engine budget (issue 5, DESIGN §7).

All 41 indicators of the framework, national scope, over a store of N demo records (100k by
default; 1M with NAP_BENCH_FULL=1; any N with NAP_BENCH_INDICATOR_RECORDS), against one raw
GROUP BY scan over the screenings table in the same run. Budget: ≤ 6×.

The budgeted line is the national report of one calendar year (2026; the demo data runs from
November 2024 to November 2026, so the year holds about 10/24 of it). Two more lines are printed
without a budget: the whole two years (every record in the period), and one circle for one month
(the size of a monthly return). Each time is the median of 5 runs after one warm-up run (the
first run also compiles the SQL).

Generating the store takes long (about 15 minutes for 1M records on two cores). With
NAP_BENCH_CACHE=DIR the generated workspace is kept in DIR/indicators-<N> and reused by later
runs (a workspace whose generation did not finish is made again); without it, a temporary
directory is used and removed.
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
from nap_desktop.reports import engine
from nap_desktop.reports.engine import Period
from nap_desktop.security import crypto
from nap_desktop.security.crypto import KdfParams
from nap_desktop.services.demo_data import generate_demo_records
from nap_desktop.services.users import add_user
from nap_desktop.services.workspace import init_workspace, open_workspace

PW = "Bench-Pass-2026!"
AS_OF = date(2026, 11, 1)
BASELINE_SQL = "SELECT location_type, count(*) FROM screenings WHERE deleted = 0 AND status = 'complete' GROUP BY location_type"


def _records() -> int:
    if n := os.environ.get("NAP_BENCH_INDICATOR_RECORDS"):
        return int(n)
    return 1_000_000 if os.environ.get("NAP_BENCH_FULL") == "1" else 100_000


def _median(fn: Callable[[], object], runs: int = 5) -> float:
    fn()  # warm-up: page cache, compiled SQL
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _workspace(tmp: Path, records: int) -> Path:
    path = tmp / "indicators"
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
        add_user(ws, username="analyst", full_name="Bench analyst", role="hq_analyst", unit="HQ", password=PW, must_change_password=False)
        with ws.sf() as s:
            circles = list(s.scalars(select(Unit.code).where(Unit.kind == "circle").order_by(Unit.code)))
        for i, code in enumerate(circles):
            add_user(ws, username=f"head{i}", full_name=f"Head {code}", role="circle_head", unit=code, password=PW, must_change_password=False)
    finally:
        ws.lock()
    # Records spread over every circle (and its posts), as at HQ after every unit has synced.
    for i, _ in enumerate(circles):
        ws = open_workspace(path, f"head{i}", PW)
        try:
            for _ in generate_demo_records(ws, records // len(circles), seed=41 + i, as_of=AS_OF):
                pass
        finally:
            ws.lock()
    return path


def workspace(tmp: Path, records: int) -> Path:
    """The benchmark's workspace of ``records`` records: made in ``tmp``, or once in ``NAP_BENCH_CACHE``."""
    if cache := os.environ.get("NAP_BENCH_CACHE"):
        return cached_workspace(Path(cache), f"indicators-{records}", lambda folder: _workspace(folder, records))
    return _workspace(tmp, records)


def run() -> list[Result]:
    records = _records()
    label = f"{records // 1000}k" if records < 1_000_000 else f"{records / 1_000_000:g}M"
    with tempfile.TemporaryDirectory(prefix="nap-bench-") as d:
        path = workspace(Path(d), records)
        ws = open_workspace(path, "analyst", PW)
        try:

            def baseline() -> object:
                with ws.engine.connect() as c:
                    return c.execute(text(BASELINE_SQL)).all()

            def national(period: Period) -> Callable[[], object]:
                return lambda: engine.compute_indicators(ws, period=period, scope="HQ")

            circle = "C-PSH" if ws.unit_exists("C-PSH") else sorted(ws.subtree("HQ"))[-1]
            raw = _median(baseline)
            year = _median(national(Period.year(2026)))
            everything = _median(national(Period.custom(date(2024, 11, 1), AS_OF)))
            month = _median(lambda: engine.compute_indicators(ws, period=Period.month(2026, 10), scope=circle))
        finally:
            ws.lock()
    base = f"raw GROUP BY scan of screenings ({label})"
    return [
        Result(f"41 indicators, national, year, {label} (≤ 6×)", year, base, raw, 6.0),
        Result(f"41 indicators, national, all 2 years, {label}", everything, base, raw, None),
        Result(f"41 indicators, one circle, one month, {label}", month, base, raw, None),
    ]


if __name__ == "__main__":
    for result in run():
        print(result.line(), flush=True)
