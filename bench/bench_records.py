# SPDX-License-Identifier: GPL-3.0-or-later
"""Records budgets (issue 3, DESIGN §7).

1. Saving a screening through the service (validation, history, audit, sync columns): p50 / p95,
   against a raw INSERT of a screening row in its own transaction on the same store. Budget:
   p95 ≤ 50 ms.
2. A filtered list page over N records (100k; 1M with NAP_BENCH_FULL=1), against a raw indexed
   SELECT of the same page. Budget: ≤ 100 ms at 100k.
3. Demo generation rate (records/s), against a raw executemany of as many person rows.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import text

from bench.common import Result
from nap_desktop.security.crypto import KdfParams
from nap_desktop.services import records as R
from nap_desktop.services.demo_data import generate_demo_records
from nap_desktop.services.users import add_user
from nap_desktop.services.workspace import init_workspace, open_workspace

PW = "Bench-Pass-2026!"
AS_OF = date(2026, 11, 1)
CONSENT = {c: "yes" for c in (
    "consents_to_interview", "informed_of_purpose", "informed_of_data_use", "informed_of_research_use",
    "informed_of_right_to_request_data", "informed_of_retention_period", "informed_of_withdrawal",
)}


def _workspace(tmp: Path, name: str) -> Path:
    path = tmp / name
    init_workspace(path, site_kind="circle", unit="C-PSH", admin="admin", admin_password=PW, kdf=KdfParams(8192, 1, 1))
    ws = open_workspace(path, "admin", PW)
    add_user(ws, username="head", full_name="Bench Head", role="circle_head", unit="C-PSH", password=PW, must_change_password=False)
    ws.lock()
    return path


def _pct(values: list[float], p: float) -> float:
    return sorted(values)[min(len(values) - 1, int(len(values) * p))]


def bench_save(path: Path, n: int = 200) -> list[Result]:
    ws = open_workspace(path, "head", PW)
    try:
        person = R.create_record(ws, "person", {"given_name": "Bench", "sex": "female", "age_years": 24, "citizenship": "pk"})
        values = {
            "person_id": person.id, "screened_on": "2026-10-01", "location_type": "airport",
            "identification_status": "presumed_victim", "decided_by": "fia", "consent": CONSENT,
            "palermo_act": ["recruitment"], "palermo_means": ["deception"], "palermo_purpose": ["forced_labour_or_services"],
            "exploitation_types": ["forced_labour"], "means_of_control": ["debt_bondage", "withholds_documents"],
        }
        service: list[float] = []
        for _ in range(n):
            t0 = time.perf_counter()
            R.create_record(ws, "screening", values)
            service.append(time.perf_counter() - t0)
        raw: list[float] = []
        for _ in range(n):
            t0 = time.perf_counter()
            with ws.engine.begin() as c:
                c.execute(
                    text(
                        "INSERT INTO screenings (id, origin_unit, unit, version, base_version, content_hash, seq, created_at, created_by,"
                        " updated_at, updated_by, deleted, status, person_id, screened_on, location_type, screener, is_child, route_json, narrative)"
                        " VALUES (:id, 'C-PSH', 'C-PSH', 1, 0, '', 0, '2026-10-01 00:00:00', 'head', '2026-10-01 00:00:00', 'head', 0,"
                        " 'complete', :pid, '2026-10-01', 'airport', 'head', 0, '[]', '')"
                    ),
                    {"id": str(uuid.uuid4()), "pid": person.id},
                )
            raw.append(time.perf_counter() - t0)
    finally:
        ws.lock()
    return [
        Result("save screening via service, p50", statistics.median(service), "raw INSERT + commit, p50", statistics.median(raw), None),
        Result("save screening via service, p95 (≤ 50 ms)", _pct(service, 0.95), "raw INSERT + commit, p95", _pct(raw, 0.95), 0.050 / _pct(raw, 0.95)),
    ]


def bench_list(path: Path, records: int) -> tuple[list[Result], float]:
    ws = open_workspace(path, "head", PW)
    try:
        t0 = time.perf_counter()
        for _ in generate_demo_records(ws, records, seed=11, as_of=AS_OF):
            pass
        gen_s = time.perf_counter() - t0
        flt = R.RecordFilter(date_from=AS_OF - timedelta(days=180), date_to=AS_OF, unit="P-TORKHAM", sex="female", age_group="child")

        def service_page() -> object:
            return R.list_records(ws, "screening", flt, limit=100, with_total=False)

        def raw_page() -> object:
            with ws.engine.connect() as c:
                return c.execute(
                    text(
                        "SELECT s.* FROM screenings s JOIN persons p ON p.id = s.person_id WHERE s.unit = 'P-TORKHAM'"
                        " AND s.deleted = 0 AND s.screened_on BETWEEN :a AND :b AND p.sex = 'female' AND s.is_child = 1"
                        " ORDER BY s.screened_on DESC, s.id DESC LIMIT 100"
                    ),
                    {"a": (AS_OF - timedelta(days=180)).isoformat(), "b": AS_OF.isoformat()},
                ).all()

        service_page(), raw_page()  # warm the page cache for both alike
        svc = statistics.median(_times(service_page, 9))
        raw = statistics.median(_times(raw_page, 9))
        budget = 0.100 / raw if records <= 100_000 else None
        label = f"{records // 1000}k"
        return [Result(f"filtered list page over {label} records (≤ 100 ms)", svc, "raw indexed SELECT of the page", raw, budget)], gen_s
    finally:
        ws.lock()


def _times(fn: object, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        out.append(time.perf_counter() - t0)
    return out


def bench_raw_insert_rate(path: Path, n: int) -> float:
    ws = open_workspace(path, "head", PW)
    try:
        rows = [
            {"id": str(uuid.uuid4()), "sex": "female", "cit": "pk"}
            for _ in range(n)
        ]
        t0 = time.perf_counter()
        for i in range(0, n, 5000):
            with ws.engine.begin() as c:
                c.execute(
                    text(
                        "INSERT INTO persons (id, origin_unit, unit, version, base_version, content_hash, seq, created_at, created_by,"
                        " updated_at, updated_by, deleted, status, sex, age_estimated, citizenship) VALUES (:id, 'C-PSH', 'C-PSH', 1, 0, '',"
                        " 0, '2026-10-01 00:00:00', 'x', '2026-10-01 00:00:00', 'x', 0, 'complete', :sex, 0, :cit)"
                    ),
                    rows[i : i + 5000],
                )
        return time.perf_counter() - t0
    finally:
        ws.lock()


def run() -> list[Result]:
    sizes = [100_000] + ([1_000_000] if os.environ.get("NAP_BENCH_FULL") == "1" else [])
    out: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="nap-bench-") as d:
        tmp = Path(d)
        out += bench_save(_workspace(tmp, "save"))
        for size in sizes:
            path = _workspace(tmp, f"list{size}")
            results, gen_s = bench_list(path, size)
            out += results
            raw_s = bench_raw_insert_rate(_workspace(tmp, f"raw{size}"), size)
            out.append(Result(f"demo generation of {size // 1000}k records ({size / gen_s:,.0f}/s)", gen_s, f"raw executemany of {size // 1000}k person rows", raw_s, None))
    return out
