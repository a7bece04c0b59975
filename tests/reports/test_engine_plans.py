# SPDX-License-Identifier: GPL-3.0-or-later
"""The indicator engine reads the indexes written for it, with or without table statistics.

Speed itself is measured in ``bench/bench_indicators.py`` (DESIGN §7), never here. What these
tests hold is how SQLite runs the engine's statements (EXPLAIN QUERY PLAN): a national year and
one circle's month read the screenings, services and suspects of the period through their
covering indexes (never the tables), persons and record codes through the lookup indexes on
expressions (never a person row, never the primary key of every code), on a store that has
table statistics (after demo generation or an import) and on one that has none (a store filled
by captures and synced records until statistics are refreshed).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from nap_desktop.reports import engine, returns
from nap_desktop.reports.engine import Period
from nap_desktop.services.context import Workspace
from nap_desktop.services.demo_data import generate_demo_records
from tests.reports.builders import ReportsWorld, demo_world
from tests.services.records_factories import pin_today

FACTS = ("screenings", "service_provisions", "suspects")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReportsWorld]:
    with demo_world(tmp_path_factory.mktemp("plans") / "ws", 1500, seed=11) as w:
        yield w


def _set_statistics(ws: Workspace, present: bool) -> None:
    with ws.engine.begin() as conn:
        if present:
            conn.exec_driver_sql("PRAGMA analysis_limit = 1000")
            conn.exec_driver_sql("ANALYZE")
        else:
            conn.exec_driver_sql("DROP TABLE IF EXISTS sqlite_stat1")
    with ws.engine.connect() as conn:
        count = conn.exec_driver_sql("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'").scalar()
    assert bool(count) == present


def _plans(ws: Workspace, period: Period, scope: str) -> list[str]:
    """The query plan lines of every statement computing all indicators for ``scope``."""
    seen: list[tuple[str, Any]] = []

    def listen(conn: object, cursor: object, statement: str, parameters: Any, *args: object) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append((statement, parameters))

    event.listen(ws.engine, "before_cursor_execute", listen)
    try:
        engine.compute_indicators(ws, period=period, scope=scope)
    finally:
        event.remove(ws.engine, "before_cursor_execute", listen)
    lines: list[str] = []
    with ws.engine.connect() as conn:
        for statement, parameters in seen:
            lines += [str(r[3]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
    return lines


@pytest.mark.parametrize("statistics", [False, True], ids=["no statistics", "statistics"])
@pytest.mark.parametrize(
    ("period", "scope", "index"),
    [(Period.year(2026), "HQ", "period"), (Period.month(2026, 10), "C-PSH", "unit_date")],
    ids=["national year", "circle month"],
)
def test_facts_persons_and_codes_are_read_through_their_indexes(
    store: ReportsWorld, statistics: bool, period: Period, scope: str, index: str
) -> None:
    ws = store.as_("analyst")
    _set_statistics(ws, statistics)
    lines = _plans(ws, period, scope)
    for table in FACTS:
        mine = [line for line in lines if re.match(rf"(SCAN|SEARCH) {table}\b", line)]
        assert mine, table
        for line in mine:
            assert f"USING COVERING INDEX ix_{table}_{index} " in line, line
    persons = [line for line in lines if re.match(r"(SCAN|SEARCH) (p|persons)\b", line)]
    assert persons and all("USING COVERING INDEX ix_persons_report" in line for line in persons), persons
    codes = [line for line in lines if re.match(r"(SCAN|SEARCH) (rc\w*|record_codes)\b", line)]
    assert codes and all("USING COVERING INDEX ix_record_codes_lookup" in line for line in codes), codes


def test_the_upgrade_makes_the_expression_indexes(store: ReportsWorld) -> None:
    # Alembic cannot compare indexes on expressions with the models; this says they exist as
    # the engine's joins need them (the store was made by the migrations).
    with store.as_("analyst").engine.connect() as conn:
        sql = dict(conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name IN ('ix_persons_report', 'ix_record_codes_lookup')").all())
    assert "ON persons ((id || ''), sex, date_of_birth, age_years, created_at, citizenship, residence_province)" in sql["ix_persons_report"]
    assert "ON record_codes ((field || ''), record_id, code)" in sql["ix_record_codes_lookup"]


def test_demo_generation_leaves_table_statistics(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pin_today(monkeypatch)
    w = ReportsWorld(tmp_path / "ws")
    try:
        ws = w.as_("head")
        for _ in generate_demo_records(ws, 300, seed=3, as_of=date(2026, 11, 1)):
            pass
        with ws.engine.connect() as conn:
            analysed = {r[0] for r in conn.exec_driver_sql("SELECT DISTINCT tbl FROM sqlite_stat1")}
        assert {"persons", "screenings", "service_provisions", "record_codes"} <= analysed
    finally:
        w.close()


def _counts_plan(ws: Workspace) -> list[str]:
    """The plan lines that read a table, of a unit's count of the month's records (returns)."""
    stmt = returns._counts_statement(False)
    params = returns._params(ws.subtree("C-PSH"), Period.month(2026, 10))
    with ws.engine.connect() as conn:
        state = stmt.compile(dialect=conn.dialect).construct_expanded_state(params)
        procs = state.processors
        args = tuple(procs[n](state.parameters[n]) if n in procs else state.parameters[n] for n in state.positiontup or ())
        lines = [str(r[3]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + state.statement, args)]
    reads = [line for line in lines if line.startswith(("SCAN", "SEARCH"))]
    assert len(reads) == len(returns._COUNTED_TYPES), lines
    return reads


def test_without_statistics_a_units_return_never_reads_referrals_by_date(store: ReportsWorld) -> None:
    # At HQ the date index of referrals lists the month's referrals of every unit, and without
    # statistics it looks narrower than the unit's: a unit's return compares the date unindexed
    # where a table has no (unit, date) index (with statistics of a large store the unit index
    # is read; a store as small as this one is scanned).
    ws = store.as_("analyst")
    _set_statistics(ws, False)
    reads = _counts_plan(ws)
    referrals = [line for line in reads if re.match(r"(SCAN|SEARCH) referrals\b", line)]
    assert referrals and all("ix_referrals_list" not in line for line in referrals), referrals
