# SPDX-License-Identifier: GPL-3.0-or-later
"""Indicators read through several SQLite (SQLCipher) connections give what one connection gives,
and read one state of the store even when records change while the report runs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from nap_desktop.reports import engine
from nap_desktop.reports.engine import Period
from tests.reports.builders import ReportsWorld, demo_world

YEAR = Period.year(2026)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReportsWorld]:
    with demo_world(tmp_path_factory.mktemp("concurrent") / "ws", 1500, seed=11) as w:
        yield w


def serial(ws: Any, units: Any, period: Period) -> dict[str, Any]:
    with ws.sf() as s:
        return engine.evaluate(s, units=units, period=period)


@pytest.mark.parametrize("scope, period", [("HQ", YEAR), ("C-PSH", Period.month(2026, 6)), ("C-PSH", Period.quarter(2025, 4))])
def test_two_connections_give_what_one_gives(demo: ReportsWorld, scope: str, period: Period) -> None:
    ws = demo.as_("analyst")
    units = None if scope == "HQ" else ws.subtree(scope)
    one = serial(ws, units, period)
    two = engine.evaluate_concurrently(ws.engine, units=units, period=period, connections=2)
    assert list(one) == list(two)
    assert all(one[code] == two[code] for code in one), [code for code in one if one[code] != two[code]]
    assert one["1.3.a"].value, "the demo data has identified victims to count"


def test_a_report_reads_the_store_as_it_was_when_it_began(demo: ReportsWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    """Records deleted after the report began are still counted by every part of it."""
    ws = demo.as_("analyst")
    before = engine.evaluate_concurrently(ws.engine, units=None, period=YEAR, connections=2)
    assert before["1.3.a"].value and before["1.2.a"].value
    with ws.engine.connect() as c:
        live = {t: [r[0] for r in c.execute(text(f"SELECT id FROM {t} WHERE deleted = 0"))] for t in ("screenings", "service_provisions")}
    start = engine._long_first

    def delete_everything_then_start(wanted: list[Any], *kind: Any) -> list[Any]:
        with ws.engine.begin() as c:  # committed after the report's connections began reading
            for table in live:
                c.execute(text(f"UPDATE {table} SET deleted = 1 WHERE deleted = 0"))
        return start(wanted, *kind)

    monkeypatch.setattr(engine, "_long_first", delete_everything_then_start)
    try:
        during = engine.evaluate_concurrently(ws.engine, units=None, period=YEAR, connections=2)
        monkeypatch.setattr(engine, "_long_first", start)
        after = engine.evaluate_concurrently(ws.engine, units=None, period=YEAR, connections=2)
    finally:
        with ws.engine.begin() as c:
            for table, ids in live.items():
                c.execute(text(f"UPDATE {table} SET deleted = 0 WHERE id IN ({','.join(repr(i) for i in ids)})"))
    assert during == before
    assert after["1.3.a"].value == 0 and after["1.2.a"].value == 0


def test_while_another_connection_writes_the_report_runs_on_one_connection(demo: ReportsWorld) -> None:
    """An import holding the write lock: the report does not wait for it, and is the same."""
    ws = demo.as_("analyst")
    expected = serial(ws, None, YEAR)
    writer = ws.engine.raw_connection()
    try:
        writer.cursor().execute("BEGIN IMMEDIATE")
        got = engine.evaluate_concurrently(ws.engine, units=None, period=YEAR, connections=2)
        writer.cursor().execute("ROLLBACK")
    finally:
        writer.close()
    assert got == expected
    assert ws.engine.pool.checkedout() == 0


def test_a_failing_part_fails_the_report_and_returns_every_connection(demo: ReportsWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = demo.as_("analyst")

    def broken(ctx: Any, ind: Any) -> Any:
        raise engine.ConfigError("The services part is broken.")

    monkeypatch.setitem(engine.RULES, "persons_served", broken)
    with pytest.raises(engine.ConfigError, match="services part is broken"):
        engine.evaluate_concurrently(ws.engine, units=None, period=YEAR, connections=2)
    assert ws.engine.pool.checkedout() == 0


def test_a_later_report_starts_the_indicators_that_took_longest_first(demo: ReportsWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    """The connections of a report end together when the long statements start first: the next
    national report on the store starts the indicators in the order of the time they took."""
    ws = demo.as_("analyst")
    fw = engine.default_framework()
    kind = (ws.engine.url.render_as_string(hide_password=True), True)
    engine.evaluate_concurrently(ws.engine, units=None, period=YEAR, connections=2)
    took = {k[2]: t for k, t in engine._TOOK.items() if k[:2] == kind}
    assert set(took) == set(fw.codes)
    started: list[list[str]] = []
    order = engine._long_first

    def recording(wanted: list[Any], *args: Any) -> list[Any]:
        out = order(wanted, *args)
        started.append([i.code for i in out])
        return out

    monkeypatch.setattr(engine, "_long_first", recording)
    monkeypatch.setitem(engine._TOOK, (*kind, "7.5.b"), 99.0)  # as if it had been the longest by far
    engine.evaluate_concurrently(ws.engine, units=None, period=YEAR, connections=2)
    leads = len({i.rule for i in fw if i.rule in engine._LONG_FIRST})
    assert [fw.indicator(c).rule for c in started[0][:leads]] == list(engine._LONG_FIRST)
    assert started[0][leads] == "7.5.b"
    assert sorted(started[0]) == sorted(fw.codes)
