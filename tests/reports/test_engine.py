# SPDX-License-Identifier: GPL-3.0-or-later
"""The engine as a whole: periods, permissions, drill-down rules, all 41 indicators on a demo
workspace, and SQL aggregates only (the number of queries does not grow with the records)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import event

from nap_desktop.domain.framework import default_framework
from nap_desktop.errors import NotFound, PermissionDenied, ValidationError
from nap_desktop.reports import engine
from nap_desktop.reports.engine import Period
from nap_desktop.services.demo_data import generate_demo_records
from tests.reports.builders import JUNE, Builder, ReportsWorld, value
from tests.services.records_factories import audit_count, pin_today

AS_OF = date(2026, 11, 1)


# --- periods -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "end", "label", "previous"),
    [
        ("2026-06", date(2026, 6, 1), date(2026, 6, 30), "2026-06", "2026-05"),
        ("2026-03", date(2026, 3, 1), date(2026, 3, 31), "2026-03", "2026-02"),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29), "2024-02", "2024-01"),
        ("2026-01", date(2026, 1, 1), date(2026, 1, 31), "2026-01", "2025-12"),
        ("2026-Q1", date(2026, 1, 1), date(2026, 3, 31), "2026-Q1", "2025-Q4"),
        ("2026-q3", date(2026, 7, 1), date(2026, 9, 30), "2026-Q3", "2026-Q2"),
        ("2026", date(2026, 1, 1), date(2026, 12, 31), "2026", "2025"),
        ("2026-06-10..2026-06-19", date(2026, 6, 10), date(2026, 6, 19), "2026-06-10..2026-06-19", "2026-05-31..2026-06-09"),
    ],
)
def test_periods(text: str, start: date, end: date, label: str, previous: str) -> None:
    p = Period.parse(text)
    assert (p.start, p.end, p.label) == (start, end, label)
    assert p.previous().label == previous
    assert p.previous().days == p.days or p.kind in ("month", "quarter")


@pytest.mark.parametrize("text", ["2026-13", "June", "2026-Q5", "2026-06-31..2026-07-01", "2026-07-01..2026-06-01", ""])
def test_bad_periods(text: str) -> None:
    with pytest.raises(ValidationError):
        Period.parse(text)


# --- permissions ---------------------------------------------------------------------------------


def test_scopes_and_permissions(world: ReportsWorld, b: Builder) -> None:
    b.screening(b.person(), "2026-06-10")
    assert value(world.as_("head"), "1.3.a").value == 1  # own circle (default scope)
    assert value(world.as_("analyst"), "1.3.a", scope="C-PSH").value == 1  # HQ may look below
    assert value(world.as_("analyst"), "1.3.a", scope="HQ").value == 1
    ws = world.current()
    before = audit_count(ws, "permission.denied")
    with pytest.raises(PermissionDenied, match="outside your unit"):
        value(world.as_("officer"), "1.3.a", scope="C-PSH")
    with pytest.raises(PermissionDenied, match="does not allow"):
        value(world.as_("head"), "1.3.a", scope="HQ")  # national needs indicators.national
    with pytest.raises(PermissionDenied):
        value(world.as_("auditor"), "1.3.a", scope="HQ")
    assert audit_count(ws, "permission.denied") == before + 3
    with pytest.raises(NotFound):
        value(world.as_("analyst"), "1.3.a", scope="C-NOWHERE")


def test_drill_down_rules(world: ReportsWorld, b: Builder) -> None:
    sid = b.screening(b.person(), "2026-06-10")
    assert engine.drill_down(world.as_("analyst"), "1.3.a", period=JUNE, scope="HQ").records["screening"] == (sid,)
    assert engine.drill_down(world.as_("officer"), "1.3.a", period=JUNE).count == 0  # the post has none
    with pytest.raises(PermissionDenied):
        engine.drill_down(world.as_("auditor"), "1.3.a", period=JUNE, scope="HQ")
    with pytest.raises(ValidationError, match="no breakdown"):
        engine.drill_down(world.as_("head"), "1.3.a", period=JUNE, disaggregation="institution", key="x")
    with pytest.raises(ValidationError):
        engine.drill_down(world.as_("head"), "1.3.a", period=JUNE, disaggregation="sex")


def test_every_indicator_on_an_empty_store(world: ReportsWorld) -> None:
    report = engine.compute_indicators(world.as_("analyst"), period=JUNE, scope="HQ")
    assert list(report.values) == list(default_framework().codes)
    for v in report.values.values():
        if v.kind == "percent":
            assert v.value is None and v.denominator == 0
        else:
            assert v.value == 0
    assert report.framework_version == default_framework().version and report.scope == "HQ"


# --- a demo workspace ----------------------------------------------------------------------------


def _demo(path: Path, records: int) -> ReportsWorld:
    w = ReportsWorld(path)
    for _ in generate_demo_records(w.as_("head"), records, seed=7, as_of=AS_OF):
        pass
    return w


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReportsWorld]:
    mp = pytest.MonkeyPatch()
    pin_today(mp)
    w = _demo(tmp_path_factory.mktemp("demo") / "ws", 3000)
    try:
        yield w
    finally:
        w.close()
        mp.undo()


@pytest.mark.parametrize("period", [Period.year(2026), Period.month(2026, 6), Period.parse("2024-11-01..2026-11-01")])
def test_all_41_on_demo_data(demo: ReportsWorld, period: Period) -> None:
    report = engine.compute_indicators(demo.as_("analyst"), period=period, scope="HQ")
    assert len(report.values) == 41
    fw = default_framework()
    for ind in fw:
        v = report[ind.code]
        assert v.kind == ind.kind and set(v.breakdown) == set(ind.disaggregations), ind.code
        if v.kind == "percent":
            assert v.denominator is not None and v.numerator is not None
            assert v.value is None if not v.denominator else 0 <= v.value <= 100, ind.code
        else:
            assert isinstance(v.value, int), ind.code
        for dim in v.additive:
            if v.kind == "percent":
                assert sum(n for n, _ in v.fractions[dim].values()) == v.numerator, (ind.code, dim)
                assert sum(m for _, m in v.fractions[dim].values()) == v.denominator, (ind.code, dim)
            else:
                assert sum(v.breakdown[dim].values()) == v.value, (ind.code, dim)
        if v.kind == "status":
            assert v.status and v.value in (0, 1)
    if period.days > 300:  # the demo has something for most indicators over a year
        assert report["1.3.a"].value > 0 and report["1.2.a"].value > 0 and report["5.1.a"].value > 0


def test_alone_equals_together_on_demo_data(demo: ReportsWorld) -> None:
    ws = demo.as_("analyst")
    together = engine.compute_indicators(ws, period=Period.year(2026), scope="HQ")
    for code, v in together.values.items():
        assert engine.compute_indicators(ws, period=Period.year(2026), scope="HQ", codes=[code])[code] == v, code


def test_circles_add_up_to_the_nation_for_counts_of_records(demo: ReportsWorld) -> None:
    # Record counts (not people: a person may be served in two circles) add up over the circles.
    ws = demo.as_("analyst")
    year = Period.year(2026)
    national = engine.compute_indicators(ws, period=year, scope="HQ", codes=["6.1.a", "7.3.a", "5.1.a", "7.2.a"])
    units = sorted({u for u in ws.subtree("HQ") if len(ws.unit_chain(u)) == 2})  # the zones
    parts = [engine.compute_indicators(ws, period=year, scope=u, codes=["6.1.a", "7.3.a", "5.1.a", "7.2.a"]) for u in units]
    for code in ("6.1.a", "7.3.a", "5.1.a"):
        assert sum(p[code].value for p in parts) == national[code].value, code


def test_drill_down_on_demo_matches_values(demo: ReportsWorld) -> None:
    ws = demo.as_("analyst")
    year = Period.year(2026)
    report = engine.compute_indicators(ws, period=year, scope="HQ")
    for code in ("1.2.a", "1.3.a", "1.3.b", "1.4.a", "6.1.b"):
        v = report[code]
        assert len(engine.drill_down(ws, code, period=year, scope="HQ").person_ids) == v.value
        for key, n in v.breakdown["sex"].items():
            assert len(engine.drill_down(ws, code, period=year, scope="HQ", disaggregation="sex", key=key).person_ids) == n
    for code in ("7.3.a", "7.4.a", "2.1.a"):
        assert engine.drill_down(ws, code, period=year, scope="HQ").count == report[code].value


# --- SQL aggregates only -------------------------------------------------------------------------


def _statements(w: ReportsWorld, period: Period) -> list[str]:
    ws = w.as_("analyst")
    seen: list[str] = []

    def listen(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.append(statement)

    event.listen(ws.engine, "before_cursor_execute", listen)
    try:
        engine.compute_indicators(ws, period=period, scope="HQ")
    finally:
        event.remove(ws.engine, "before_cursor_execute", listen)
    return seen


def test_query_count_does_not_grow_with_records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo: ReportsWorld) -> None:
    pin_today(monkeypatch)
    small = _demo(tmp_path / "small", 200)
    try:
        year = Period.year(2026)
        few, many = _statements(small, year), _statements(demo, year)
        assert len(few) == len(many) <= 45  # about one statement per indicator, shared passes fewer
        # Portable SQL: no SQLite date functions (dates are compared as ranges).
        sql = "\n".join(many).lower()
        for word in ("strftime", "julianday", "date(", "datetime("):
            assert word not in sql
    finally:
        small.close()
