# SPDX-License-Identifier: GPL-3.0-or-later
"""The monthly return's own queries (case pipeline, records of the month, the lock) give the same
answers on SQLite (SQLCipher) and on PostgreSQL (a throwaway cluster, as in test_postgres.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, insert
from sqlalchemy.orm import Session

from nap_desktop.data.return_models import MonthlyReturn
from nap_desktop.reports import returns
from tests.reports.builders import ReportsWorld
from tests.reports.test_postgres import both, pg  # noqa: F401 - fixtures


@pytest.mark.parametrize("month", ["2026-06", "2025-12", "2026-10"])
@pytest.mark.parametrize("scope", ["HQ", "C-PSH"])
def test_pipeline_and_month_counts_are_the_same_on_postgres(both: tuple[ReportsWorld, Engine], month: str, scope: str) -> None:  # noqa: F811
    w, pg_engine = both
    ws = w.as_("analyst")
    units = None if scope == "HQ" else ws.subtree(scope)
    period = returns.parse_month(month)
    with ws.sf() as s:
        lite = (returns._pipeline(s, units, period), returns._record_counts(s, units, period))
    with Session(pg_engine) as s:
        post = (returns._pipeline(s, units, period), returns._record_counts(s, units, period))
    assert lite == post
    assert lite[1]["complete"] > 0 and lite[0]["pending_investigation"] > 0  # the demo data has cases and records then


def test_the_lock_query_runs_on_postgres(both: tuple[ReportsWorld, Engine]) -> None:  # noqa: F811
    _, pg_engine = both
    with Session(pg_engine) as s:
        assert returns.lock_hook(s, "P-TORKHAM", date(2026, 6, 5)) is None
        at = datetime(2026, 7, 4, 9, 0, tzinfo=UTC)
        s.execute(
            insert(MonthlyReturn).values(
                id="r-pg-1", unit="C-PSH", month="2026-06", state="approved", framework_version=1, snapshot="{}", fingerprint="x",
                compiled_at=at, compiled_by="circ.psh", approved_at=at, approved_by="ana.hq", due_on=date(2026, 7, 10),
                version=3, origin_unit="C-PSH", base_version=2, content_hash="", seq=1, created_at=at, updated_at=at, updated_by="ana.hq",
            )
        )
        message = returns.lock_hook(s, "P-TORKHAM", date(2026, 6, 5))
        assert message is not None and "return of C-PSH was approved by ana.hq on 2026-07-04" in message
        assert returns.lock_hook(s, "P-TORKHAM", date(2026, 7, 5)) is None
        assert returns.lock_hook(s, "C-LHR", date(2026, 6, 5)) is None
        s.rollback()
