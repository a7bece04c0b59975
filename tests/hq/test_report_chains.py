# SPDX-License-Identifier: GPL-3.0-or-later
"""Report chains on an HQ store in PostgreSQL (issue 7): national reports read the per-person
counts from derived rows kept up to date with every write, and give the same figures as
counting the long way, whatever was written before or during the report."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, insert, inspect, select, text

from nap_desktop.data import migrate
from nap_desktop.data.db import make_pg_engine
from nap_desktop.data.models import Base
from nap_desktop.reports import chains, engine
from nap_desktop.reports.engine import Period
from nap_desktop.services.demo_data import generate_demo_records
from tests.pgcluster import PgCluster
from tests.reports.builders import ReportsWorld
from tests.services.records_factories import pin_today

YEAR = Period.year(2026)


@pytest.fixture(scope="module")
def pg(pg_cluster: PgCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A store made by the migrations with 3,000 demo records copied in."""
    mp = pytest.MonkeyPatch()
    pin_today(mp)
    w = ReportsWorld(tmp_path_factory.mktemp("chains") / "ws")
    eng, _ = make_pg_engine(pg_cluster.create_database("chains"), pool_size=6)
    try:
        for _ in generate_demo_records(w.as_("head"), 3000, seed=7, as_of=date(2026, 11, 1)):
            pass
        migrate.upgrade(eng)
        with w.as_("head").engine.connect() as src, eng.begin() as dst:
            dst.execute(text("SET LOCAL session_replication_role = replica"))  # rows in table order, FKs as they come
            for table in Base.metadata.sorted_tables:
                rows = [dict(r._mapping) for r in src.execute(select(table))]
                if rows:
                    dst.execute(insert(table), rows)
        yield eng
    finally:
        eng.dispose()
        w.close()
        mp.undo()


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The member keys of every per-person pass read from chains, and "cases" when the case
    counts read their people from the cases' chain."""
    read: list[str] = []
    original, run = engine._chain_counts, engine._Ctx.run

    def counting(ctx: Any, plan: Any) -> Any:
        out = original(ctx, plan)
        read.extend(out)
        return out

    def running(self: Any, key: tuple[Any, ...], build: Any) -> Any:
        if key[0] == "cases" and len(key) == 2:  # ("cases", chain id)
            read.append("cases")
        return run(self, key, build)

    monkeypatch.setattr(engine, "_chain_counts", counting)
    monkeypatch.setattr(engine._Ctx, "run", running)
    return read


def _long_way(pg: Engine, period: Period, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    with monkeypatch.context() as m:
        m.setattr(engine, "_prepare_chains", lambda *a, **k: {})
        return engine.evaluate_concurrently(pg, units=None, period=period)


def _scalar(pg: Engine, sql: str, **params: Any) -> Any:
    with pg.connect() as c:
        return c.execute(text(sql), params).scalar()


@pytest.mark.parametrize("period", [YEAR, Period.month(2026, 6), Period.quarter(2025, 4), Period.custom(date(2024, 11, 1), date(2026, 11, 1))])
def test_national_figures_from_chains_are_those_counted_the_long_way(pg: Engine, spy: list[str], period: Period, monkeypatch: pytest.MonkeyPatch) -> None:
    chained = engine.evaluate_concurrently(pg, units=None, period=period)
    assert {"1.2.a", "1.3.a", "1.3.b", "7.1.a#victim", "7.1.a#suspect", "cases"} <= set(spy)  # the passes read the chains
    expected = _long_way(pg, period, monkeypatch)
    assert chained["1.3.a"].value > 0 and chained["1.2.a"].value > 0
    for code in expected:
        assert chained[code] == expected[code], code


def test_every_kind_of_write_after_the_chains_were_made_is_counted(pg: Engine, spy: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    engine.evaluate_concurrently(pg, units=None, period=YEAR)  # the chains exist
    with pg.begin() as c:
        victim = c.execute(text("SELECT person_id FROM screenings WHERE NOT deleted AND screened_on >= '2026-03-01' ORDER BY id LIMIT 1")).scalar_one()
        # a screening of theirs moved to early January: their first day (and age band) in the year moves
        sid = c.execute(text("SELECT id FROM screenings WHERE person_id = :p AND NOT deleted ORDER BY id LIMIT 1"), {"p": victim}).scalar_one()
        c.execute(text("UPDATE screenings SET screened_on = '2026-01-02' WHERE id = :i"), {"i": sid})
        c.execute(text("UPDATE persons SET sex = CASE WHEN sex = 'female' THEN 'male' ELSE 'female' END WHERE id = :p"), {"p": victim})
        c.execute(text("UPDATE service_provisions SET deleted = true WHERE id IN (SELECT id FROM service_provisions WHERE NOT deleted ORDER BY id LIMIT 40)"))
        other = c.execute(text("SELECT id FROM persons WHERE id <> :p ORDER BY id DESC LIMIT 1"), {"p": victim}).scalar_one()
        c.execute(text("UPDATE suspects SET person_id = :o WHERE id = (SELECT id FROM suspects WHERE person_id IS NOT NULL ORDER BY id LIMIT 1)"), {"o": other})
        c.execute(text("DELETE FROM record_codes WHERE record_id = :i"), {"i": sid})  # with its record, as every writer does
        # cases: one registered a year earlier (its people's ages), a victim dropped from another,
        # a suspect record moved to a third case, and a person of a case's parties changing sex
        cases = list(c.execute(text("SELECT DISTINCT case_id FROM case_parties WHERE party_role = 'victim' ORDER BY case_id LIMIT 4")).scalars())
        c.execute(text("UPDATE cases SET registered_on = registered_on - 365 WHERE id = :c"), {"c": cases[0]})
        c.execute(text("DELETE FROM case_parties WHERE case_id = :c AND party_role = 'victim'"), {"c": cases[1]})
        c.execute(text("UPDATE suspects SET case_id = :c WHERE id = (SELECT id FROM suspects WHERE case_id IS NOT NULL AND case_id <> :c ORDER BY id LIMIT 1)"), {"c": cases[2]})
        c.execute(
            text("UPDATE persons SET sex = CASE WHEN sex = 'female' THEN 'male' ELSE 'female' END WHERE id IN (SELECT person_id FROM case_parties WHERE case_id = :c)"),
            {"c": cases[3]},
        )
        # and their stages: cases under investigation closed before the year (events written
        # alone), a court phase whose start is forgotten
        c.execute(
            text(
                "INSERT INTO case_events (id, case_id, event, on_date) SELECT 'closed-' || left(id, 29), id, 'case_closed', DATE '2025-06-01' "
                "FROM cases WHERE NOT deleted AND registered_on < '2025-06-01' AND NOT EXISTS "
                "(SELECT 1 FROM case_events e WHERE e.case_id = cases.id AND e.event IN ('challan_submitted', 'verdict', 'case_closed', 'case_transferred')) "
                "ORDER BY id LIMIT 5"
            )
        )
        c.execute(text("DELETE FROM case_events WHERE id = (SELECT id FROM case_events WHERE event = 'challan_submitted' AND on_date < '2026-06-01' ORDER BY id LIMIT 1)"))
    assert _scalar(pg, "SELECT count(*) FROM case_events WHERE id LIKE 'closed-%'") == 5
    assert _scalar(pg, "SELECT count(DISTINCT person_id) FROM report_touched") >= 40
    spy.clear()
    chained = engine.evaluate_concurrently(pg, units=None, period=YEAR)
    assert "1.3.a" in spy and "1.2.a" in spy and "cases" in spy
    assert _scalar(pg, "SELECT count(*) FROM report_touched") == 0  # every chain has seen them
    expected = _long_way(pg, YEAR, monkeypatch)
    for code in expected:
        assert chained[code] == expected[code], code


def test_a_write_between_the_refresh_and_the_report_makes_the_counts_go_the_long_way(pg: Engine, spy: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    prepare = chains.prepare

    def then_a_write(*args: Any, **kwargs: Any) -> dict[str, int]:
        ids = prepare(*args, **kwargs)
        with pg.begin() as c:  # committed after the chains were brought up to date, before the report's snapshot
            c.execute(text("UPDATE screenings SET deleted = NOT deleted WHERE id = (SELECT id FROM screenings WHERE screened_on >= '2026-02-01' ORDER BY id LIMIT 1)"))
        return ids

    monkeypatch.setattr(chains, "prepare", then_a_write)
    chained = engine.evaluate_concurrently(pg, units=None, period=YEAR)
    monkeypatch.setattr(chains, "prepare", prepare)
    # the write touched a person: no chain held for the report's snapshot (the person may have
    # records in any of them)
    assert spy == []
    expected = _long_way(pg, YEAR, monkeypatch)
    for code in expected:
        assert chained[code] == expected[code], code


def test_a_deleted_person_leaves_no_derived_row_behind(pg: Engine) -> None:
    engine.evaluate_concurrently(pg, units=None, period=YEAR)
    person = _scalar(
        pg, "SELECT r.person_id FROM report_chain_rows r JOIN report_cells c ON c.id = r.cell WHERE c.key = '' ORDER BY r.person_id LIMIT 1"
    )
    assert _scalar(pg, "SELECT count(*) FROM report_chain_rows WHERE person_id = :p", p=person) > 0
    with pg.begin() as c:
        c.execute(text("SET session_replication_role = replica"))  # their records stay (foreign keys off): only the person row goes
        c.execute(text("DELETE FROM person_identities WHERE person_id = :p"), {"p": person})
        c.execute(text("SET session_replication_role = DEFAULT"))
        c.execute(text("ALTER TABLE persons DISABLE TRIGGER ALL"))
        c.execute(text("ALTER TABLE persons ENABLE TRIGGER report_forget_persons"))
        c.execute(text("DELETE FROM persons WHERE id = :p"), {"p": person})
        c.execute(text("ALTER TABLE persons ENABLE TRIGGER ALL"))
    assert _scalar(pg, "SELECT count(*) FROM report_chain_rows WHERE person_id = :p", p=person) == 0  # before any report ran


def test_combinations_of_codes_no_row_counts_under_go_with_the_next_report_after_a_write(pg: Engine) -> None:
    engine.evaluate_concurrently(pg, units=None, period=YEAR)
    with pg.begin() as c:  # as if the only person counted under these codes had been deleted
        c.execute(text("INSERT INTO report_cells (cell, key, band, sex, citizenship, location) VALUES ('left', '', 'adult', 'female', 'AF', 'balochistan')"))
    engine.evaluate_concurrently(pg, units=None, period=YEAR)
    assert _scalar(pg, "SELECT count(*) FROM report_cells WHERE cell = 'left'") == 1  # nothing written since: nothing looked at
    with pg.begin() as c:
        c.execute(text("UPDATE persons SET sex = sex WHERE id IN (SELECT id FROM persons ORDER BY id LIMIT 3)"))
    engine.evaluate_concurrently(pg, units=None, period=YEAR)
    assert _scalar(pg, "SELECT count(*) FROM report_cells WHERE cell = 'left'") == 0
    assert _scalar(pg, "SELECT count(*) FROM report_cells c WHERE NOT EXISTS (SELECT 1 FROM report_chain_rows r WHERE r.cell = c.id)") == 0
    assert _scalar(pg, "SELECT count(*) FROM report_chain_rows r WHERE NOT EXISTS (SELECT 1 FROM report_cells c WHERE c.id = r.cell)") == 0


def test_chains_from_another_cluster_are_made_anew(pg: Engine, spy: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """A dump restored into a new cluster brings chain snapshots whose transaction ids this
    cluster has not reached: they cannot tell its writes apart, so every chain is made again."""
    engine.evaluate_concurrently(pg, units=None, period=YEAR)
    before = set(pg.connect().execute(text("SELECT id FROM report_chains")).scalars())
    with pg.begin() as c:
        c.execute(text("UPDATE report_chains SET snap = '4000000000:4000000000:'"))
    with pg.begin() as c:  # a write those snapshots would take for one they have seen
        c.execute(text("UPDATE screenings SET deleted = NOT deleted WHERE id IN (SELECT id FROM screenings WHERE screened_on >= '2026-01-01' ORDER BY id LIMIT 20)"))
    chained = engine.evaluate_concurrently(pg, units=None, period=YEAR)
    after = set(pg.connect().execute(text("SELECT id FROM report_chains")).scalars())
    assert after and not after & before
    assert "1.3.a" in spy
    expected = _long_way(pg, YEAR, monkeypatch)
    assert chained == expected


def test_reports_of_part_of_the_framework_or_of_a_circle_do_not_make_chains(pg_cluster: PgCluster) -> None:
    eng, _ = make_pg_engine(pg_cluster.create_database("nochains"))
    try:
        migrate.upgrade(eng)
        engine.evaluate_concurrently(eng, units=None, period=YEAR, codes=["1.3.a"])
        engine.evaluate_concurrently(eng, units=["C-PSH"], period=YEAR)
        assert _scalar(eng, "SELECT count(*) FROM report_chains") == 0
        engine.evaluate_concurrently(eng, units=None, period=YEAR)
        assert _scalar(eng, "SELECT count(*) FROM report_chains") > 0
    finally:
        eng.dispose()


def test_the_chain_tables_go_with_a_downgrade_and_come_back(pg_cluster: PgCluster) -> None:
    eng, _ = make_pg_engine(pg_cluster.create_database("down"))
    try:
        migrate.upgrade(eng)
        engine.evaluate_concurrently(eng, units=None, period=YEAR)
        cfg = migrate._config()  # noqa: SLF001 - the test steps the schema back
        with eng.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0011")
        assert _scalar(eng, "SELECT to_regclass('report_chains') IS NULL")
        assert _scalar(eng, "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'report_%'") == 0
        migrate.upgrade(eng)
        assert _scalar(eng, "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'report_%'") == 7 * 3 + 1
    finally:
        eng.dispose()


def test_chains_kept_in_the_old_form_go_with_the_upgrade_and_are_made_again(pg_cluster: PgCluster) -> None:
    """0013 keeps chain rows with a cell for their codes and the cases' codes per breakdown: the
    chains a store kept before are dropped (they are derived), and the next report makes them."""
    eng, _ = make_pg_engine(pg_cluster.create_database("from12"))
    try:
        cfg = migrate._config()  # noqa: SLF001 - the test stops the schema at 0012
        with eng.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0012")
        with eng.begin() as c:
            c.execute(text("INSERT INTO report_chains (id, signature, snap) VALUES (1, 'made-by-0012', '1:1:')"))
            c.execute(text("INSERT INTO report_chain_rows (chain, key, person_id, \"on\", sex) VALUES (1, '', 'p-1', DATE '2026-01-05', 'female')"))
            c.execute(text("INSERT INTO report_case_tokens (chain, case_id, victims) VALUES (1, 'c-1', 'v|female|adult|punjab')"))
        migrate.upgrade(eng)
        assert _scalar(eng, "SELECT count(*) FROM report_chains") == 0
        assert _scalar(eng, "SELECT to_regclass('report_case_tokens') IS NULL")
        columns = {c["name"] for c in inspect(eng).get_columns("report_chain_rows")}
        assert "cell" in columns and "sex" not in columns
        engine.evaluate_concurrently(eng, units=None, period=YEAR)
        assert _scalar(eng, "SELECT count(*) FROM report_chains") > 0
    finally:
        eng.dispose()


def test_an_import_into_postgresql_brings_the_chains_up_to_date_before_the_next_report(
    pg_url: str, tmp_path: Path, spy: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The importer brings the chains up to date after it imported bundles: the next national
    report reads them at once. That is not a use of them: a chain no report reads still expires."""
    import shutil

    from nap_desktop.services import hq, sync
    from tests.hq.netutil import make_net
    from tests.services.records_factories import create

    net = make_net(tmp_path, 1, db_url=pg_url)
    ws = net.hq_ws()

    def carried() -> list[str]:
        made = sync.export_changes(net.officers[0], tmp_path / "usb")
        assert made.path is not None
        shutil.copy(made.path, hq.intake_dir(ws) / made.path.name)
        return [o.outcome for o in hq.import_inbox(ws)]

    try:
        create(net.officers[0], "person")
        assert carried() == ["imported"]
        assert _scalar(ws.engine, "SELECT count(*) FROM report_chains") == 0  # the importer makes none
        engine.evaluate_concurrently(ws.engine, units=None, period=YEAR)  # the first national report does
        used = {i: u for i, u in ws.engine.connect().execute(text("SELECT id, used_at FROM report_chains"))}
        assert used
        assert _scalar(ws.engine, "SELECT count(*) FROM report_touched") == 0
        create(net.officers[0], "screening", on=date(2026, 3, 2))  # a victim screened at the post, with their person
        assert carried() == ["imported"]
        assert _scalar(ws.engine, "SELECT count(*) FROM screenings") == 1
        assert _scalar(ws.engine, "SELECT count(*) FROM report_touched") == 0  # every chain has seen the import
        assert {i: u for i, u in ws.engine.connect().execute(text("SELECT id, used_at FROM report_chains"))} == used
        rewritten: list[Any] = []
        real = chains._insert
        monkeypatch.setattr(chains, "_insert", lambda table, rows: (rewritten.append(table), real(table, rows))[1])
        spy.clear()
        chained = engine.evaluate_concurrently(ws.engine, units=None, period=YEAR)
        assert rewritten == [] and "1.3.a" in spy  # nothing left to bring up to date: read at once
        assert chained["1.3.a"].value == 1
        assert chained == _long_way(ws.engine, YEAR, monkeypatch)
    finally:
        ws.lock()
        net.close()


@pytest.mark.parametrize("conflicts", [1, 2])
def test_a_conflicting_write_during_the_refresh_is_tried_again_then_left_to_the_long_way(
    pg: Engine, spy: list[str], monkeypatch: pytest.MonkeyPatch, conflicts: int
) -> None:
    """PostgreSQL refuses the refresh's repeatable-read transaction when a person it rewrites was
    deleted meanwhile (SQLSTATE 40001): once is tried again; twice, the report counts the long way."""
    import psycopg
    from sqlalchemy.exc import OperationalError

    original = chains._bring_up_to_date
    calls: list[int] = []

    def conflicting(*args: Any) -> Any:
        calls.append(1)
        if len(calls) <= conflicts:
            raise OperationalError("DELETE FROM report_chain_rows …", {}, psycopg.errors.SerializationFailure("could not serialize access due to concurrent delete"))
        return original(*args)

    monkeypatch.setattr(chains, "_bring_up_to_date", conflicting)
    chained = engine.evaluate_concurrently(pg, units=None, period=YEAR)
    monkeypatch.setattr(chains, "_bring_up_to_date", original)
    assert len(calls) == 2
    assert ("1.3.a" in spy) == (conflicts == 1)
    assert chained == _long_way(pg, YEAR, monkeypatch)
