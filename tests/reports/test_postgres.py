# SPDX-License-Identifier: GPL-3.0-or-later
"""The same engine gives the same results on SQLite (SQLCipher) and on PostgreSQL.

A throwaway PostgreSQL cluster is started with ``initdb`` / ``pg_ctl`` (as the ``postgres`` user
when the tests run as root), the schema is created from the models, every row of a demo
workspace is copied into it, and all 41 indicators (and some drill-downs) are compared.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from typing import Any
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, MetaData, String, create_engine, event, insert, select, text
from sqlalchemy.orm import Session

from nap_desktop.data.models import Base
from nap_desktop.reports import engine
from nap_desktop.reports.engine import Period
from nap_desktop.services.demo_data import generate_demo_records
from tests.conftest import require_program
from tests.reports.builders import ReportsWorld
from tests.services.records_factories import pin_today


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        runuser = require_program("runuser")  # root must start PostgreSQL as the postgres user
        return [runuser, "-u", "postgres", "--", *cmd]
    return cmd


@pytest.fixture(scope="module")
def pg() -> Iterator[Engine]:
    initdb, pg_ctl = require_program("initdb"), require_program("pg_ctl")
    root = Path(tempfile.mkdtemp(prefix="nap-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sock, "postgres")
    port = _free_port()
    subprocess.run(_as_postgres([initdb, "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync"]), check=True, capture_output=True)
    opts = f"-p {port} -k {sock} -c listen_addresses='' -c fsync=off"
    subprocess.run(_as_postgres([pg_ctl, "-D", str(data), "-o", opts, "-w", "-l", str(root / "log"), "start"]), check=True, capture_output=True)
    eng = create_engine(f"postgresql+psycopg://postgres@/postgres?host={sock}&port={port}")
    try:
        yield eng
    finally:
        eng.dispose()
        subprocess.run(_as_postgres([pg_ctl, "-D", str(data), "-m", "immediate", "stop"]), capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def both(pg: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ReportsWorld, Engine]]:
    mp = pytest.MonkeyPatch()
    pin_today(mp)
    w = ReportsWorld(tmp_path_factory.mktemp("pgdemo") / "ws")
    try:
        for _ in generate_demo_records(w.as_("head"), 3000, seed=5, as_of=date(2026, 11, 1)):
            pass
        # NOTE: a copy of the schema with unbounded VARCHARs: SQLite ignores lengths, PostgreSQL
        # does not, and screenings.labour_sector (16) and survey_responses.survey_topic (32) are
        # shorter than codes of their lists (reported; they need a migration).
        meta = MetaData()
        for table in Base.metadata.sorted_tables:
            copy = table.to_metadata(meta)
            for col in copy.columns:
                if isinstance(col.type, String) and col.type.length:
                    col.type = String()
        meta.create_all(pg)
        with w.as_("head").engine.connect() as src, pg.begin() as dst:
            dst.execute(text("SET session_replication_role = replica"))  # copy in any order
            for table in Base.metadata.sorted_tables:
                rows = [dict(r._mapping) for r in src.execute(select(table))]
                if rows:
                    dst.execute(insert(meta.tables[table.name]), rows)
        yield w, pg
    finally:
        w.close()
        mp.undo()


@pytest.mark.parametrize("period", [Period.year(2026), Period.month(2026, 6), Period.quarter(2025, 4)])
@pytest.mark.parametrize("scope", ["HQ", "C-PSH"])
def test_same_results_on_sqlite_and_postgres(both: tuple[ReportsWorld, Engine], period: Period, scope: str) -> None:
    w, pg = both
    ws = w.as_("analyst")
    units = None if scope == "HQ" else ws.subtree(scope)
    with ws.sf() as s:
        lite = engine.evaluate(s, units=units, period=period)
    with Session(pg) as s:
        post = engine.evaluate(s, units=units, period=period)
    side_by_side = engine.evaluate_concurrently(pg, units=units, period=period, connections=3)
    assert list(lite) == list(post) == list(side_by_side)
    for code in lite:
        assert lite[code] == post[code] == side_by_side[code], code


def test_a_report_on_several_connections_reads_one_snapshot(both: tuple[ReportsWorld, Engine], monkeypatch: pytest.MonkeyPatch) -> None:
    """Records deleted after the report began are still counted by every part of it: each
    connection reads the snapshot the first one exported, not what was committed since."""
    _, pg = both
    year = Period.year(2026)
    before = engine.evaluate_concurrently(pg, units=None, period=year, connections=3)
    assert before["1.3.a"].value and before["1.2.a"].value
    start = engine._long_first

    def delete_everything_then_start(wanted: list[Any], *kind: Any) -> list[Any]:
        with pg.begin() as c:  # committed after the snapshot was taken, before any part ran
            c.execute(text("UPDATE screenings SET deleted = true WHERE NOT deleted"))
            c.execute(text("UPDATE service_provisions SET deleted = true WHERE NOT deleted"))
        return start(wanted, *kind)

    monkeypatch.setattr(engine, "_long_first", delete_everything_then_start)
    try:
        during = engine.evaluate_concurrently(pg, units=None, period=year, connections=3)
        monkeypatch.setattr(engine, "_long_first", start)
        after = engine.evaluate_concurrently(pg, units=None, period=year, connections=3)
    finally:
        with pg.begin() as c:
            c.execute(text("UPDATE screenings SET deleted = false"))
            c.execute(text("UPDATE service_provisions SET deleted = false"))
    assert during == before
    assert after["1.3.a"].value == 0 and after["1.2.a"].value == 0


def test_a_failing_part_of_a_report_on_several_connections_fails_it_and_frees_every_connection(
    both: tuple[ReportsWorld, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, pg = both

    def broken(ctx: Any, ind: Any) -> Any:
        raise engine.ConfigError("The services part is broken.")

    monkeypatch.setitem(engine.RULES, "persons_served", broken)
    with pytest.raises(engine.ConfigError, match="services part is broken"):
        engine.evaluate_concurrently(pg, units=None, period=Period.year(2026), connections=3)
    assert pg.pool.checkedout() == 0
    with pg.connect() as c:  # no transaction of the report is left open on the server
        open_tx = c.execute(text("SELECT count(*) FROM pg_stat_activity WHERE state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()")).scalar()
    assert open_tx == 0


def test_same_drill_downs_on_sqlite_and_postgres(both: tuple[ReportsWorld, Engine]) -> None:
    w, pg = both
    ws = w.as_("analyst")
    year = Period.year(2026)
    cases = [("1.3.a", None, None), ("1.3.a", "age_group", "child"), ("1.2.a", "support_type", "shelter"), ("7.3.b", "sex", "male"), ("4.2.c", "institution", "provincial_police")]
    for code, dim, key in cases:
        with ws.sf() as s:
            lite = engine.drill(s, code, units=None, period=year, disaggregation=dim, key=key)
        with Session(pg) as s:
            post = engine.drill(s, code, units=None, period=year, disaggregation=dim, key=key)
        assert lite == post and lite.count > 0, (code, dim, key)


def test_a_report_on_postgres_runs_without_jit_and_with_its_codes_written_inline(both: tuple[ReportsWorld, Engine]) -> None:
    _, pg = both
    sent: list[Any] = []

    def seen(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        sent.append(parameters)

    with Session(pg) as s:
        jit_before = s.execute(text("SHOW jit")).scalar()
        event.listen(pg, "before_cursor_execute", seen)
        try:
            engine.evaluate(s, units=None, period=Period.year(2026))
        finally:
            event.remove(pg, "before_cursor_execute", seen)
        assert s.execute(text("SHOW jit")).scalar() == "off"
        assert s.execute(text("SHOW work_mem")).scalar() == "256MB"
        s.rollback()  # SET LOCAL: the settings end with the report's transaction
        assert s.execute(text("SHOW jit")).scalar() == jit_before
    # only the period's dates travel as parameters; codes, numbers and units are in the SQL text
    bound = {name for params in sent if isinstance(params, dict) for name in params}
    assert bound and bound <= {"p_start", "p_stop", "q_start", "q_stop", "p_stop_dt"}


@pytest.mark.parametrize("value", ["plain", "o'brien", "", 0, 17, None, True, False])
def test_values_written_inline_read_back_unchanged_on_postgres(pg: Engine, value: Any) -> None:
    sql, kept = engine._inline_constants("SELECT %(v)s AS v", [("v", False, value)])
    assert kept == []
    with pg.connect() as c:
        assert c.exec_driver_sql(sql).scalar() == value


def test_a_value_with_a_percent_sign_stays_a_parameter() -> None:
    sql, kept = engine._inline_constants("SELECT %(v)s AS v", [("v", False, "100%")])
    assert sql == "SELECT %(v)s AS v" and kept == [("v", False, "100%")]
