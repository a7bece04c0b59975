# SPDX-License-Identifier: GPL-3.0-or-later
"""Disclosure control: small counts hidden, and no hidden cell can be worked out again.

The attacker here is written independently of the solver: it takes what is published (numbers
shown, markers) and the relations a reader knows (breakdowns add up to their total, rows and
columns of a table add up, age bands add up to their age group), and tries to get back a count
hidden because it was 1–4 (a complementary cell, 5 or more, may be worked out: it protects, it
is not itself protected):

- solves the linear equations exactly (rational Gaussian elimination) for each hidden cell, and
- on small tables, searches every integer assignment of the hidden cells that agrees with the
  markers ("<5" is 1–4, "x" is 0 or 5 and more) and the equations, to see whether a hidden cell
  takes only one value in all of them.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from nap_desktop.domain.codelists import default_codelists
from nap_desktop.domain.framework import default_framework
from nap_desktop.reports import engine
from nap_desktop.reports.suppression import HIDDEN, SMALL, Problem, is_protected, suppress_report
from tests.reports.builders import JUNE, Builder, ReportsWorld
from tests.reports.report_fixtures import small_month

Eq = Sequence[tuple[Any, int]]


# --- the attacker ----------------------------------------------------------------------------------


def linear_recoverable(published: Mapping[Any, int | None], equations: Iterable[Eq]) -> set[Any]:
    """Hidden cells (value ``None`` in ``published``) that the equations determine exactly."""
    hidden = sorted({c for eq in equations for c, _ in eq if published[c] is None}, key=repr)
    if not hidden:
        return set()
    idx = {c: i for i, c in enumerate(hidden)}
    rows: list[list[Fraction]] = []
    for eq in equations:
        row = [Fraction(0)] * (len(hidden) + 1)
        for c, k in eq:
            if published[c] is None:
                row[idx[c]] += k
            else:
                row[-1] -= k * published[c]
        if any(row[:-1]):
            rows.append(row)
    # reduced row echelon form
    pivots: dict[int, int] = {}
    r = 0
    for j in range(len(hidden)):
        p = next((i for i in range(r, len(rows)) if rows[i][j] != 0), None)
        if p is None:
            continue
        rows[r], rows[p] = rows[p], rows[r]
        rows[r] = [x / rows[r][j] for x in rows[r]]
        for i in range(len(rows)):
            if i != r and rows[i][j] != 0:
                f = rows[i][j]
                rows[i] = [a - f * b for a, b in zip(rows[i], rows[r], strict=True)]
        pivots[j] = r
        r += 1
    free = [j for j in range(len(hidden)) if j not in pivots]
    return {hidden[j] for j, row in pivots.items() if all(rows[row][f] == 0 for f in free)}


def search_recoverable(published: Mapping[Any, int | None], markers: Mapping[Any, str], equations: Sequence[Eq], cap: int) -> set[Any]:
    """Hidden cells that take a single value over every integer solution consistent with the
    markers. Depth-first over the hidden cells; a cell that is the last unknown of an equation
    is computed from it instead of tried."""
    hidden = [c for c in published if published[c] is None]
    domains = {c: set(range(1, 5)) if markers[c] == SMALL else {0, *range(5, cap + 1)} for c in hidden}
    eqs = [eq for eq in equations if any(published[c] is None for c, _ in eq)]
    seen: dict[Any, set[int]] = defaultdict(set)

    def dfs(full: dict[Any, int | None]) -> None:
        changed = True
        forced: list[Any] = []
        while changed:  # fill in cells that are the last unknown of an equation
            changed = False
            for eq in eqs:
                unknown = [(c, k) for c, k in eq if full[c] is None]
                if len(unknown) == 1:
                    c, k = unknown[0]
                    rest = sum(kk * full[cc] for cc, kk in eq if cc != c)
                    if rest % k:
                        return _undo(full, forced)
                    v = -rest // k
                    if v not in domains[c]:
                        return _undo(full, forced)
                    full[c] = v
                    forced.append(c)
                    changed = True
                elif not unknown and sum(k * full[c] for c, k in eq) != 0:
                    return _undo(full, forced)
        todo = [c for c in hidden if full[c] is None]
        if not todo:
            for c in hidden:
                seen[c].add(full[c])
        else:
            c = todo[0]
            for v in sorted(domains[c]):
                full[c] = v
                dfs(full)
            full[c] = None
        _undo(full, forced)

    dfs(dict(published))
    return {c for c in hidden if len(seen[c]) <= 1}


def _undo(full: dict[Any, int | None], cells: list[Any]) -> None:
    for c in cells:
        full[c] = None


def table_problem(table: Sequence[Sequence[int]]) -> tuple[Problem, list[Eq], dict[Any, int]]:
    """A table with row totals, column totals and a grand total, as the solver and as the attacker sees it."""
    pb = Problem()
    truth: dict[Any, int] = {}
    eqs: list[Eq] = []
    nr, nc = len(table), len(table[0])
    for i in range(nr):
        for j in range(nc):
            truth[("c", i, j)] = table[i][j]
    for i in range(nr):
        truth[("r", i)] = sum(table[i])
    for j in range(nc):
        truth[("k", j)] = sum(table[i][j] for i in range(nr))
    truth[("t",)] = sum(truth[("r", i)] for i in range(nr))
    for cid, v in truth.items():
        pb.cell(cid, v, total=cid[0] != "c")
    for i in range(nr):
        eqs.append([(("r", i), 1), *((("c", i, j), -1) for j in range(nc))])
    for j in range(nc):
        eqs.append([(("k", j), 1), *((("c", i, j), -1) for i in range(nr))])
    eqs.append([(("t",), 1), *((("r", i), -1) for i in range(nr))])
    eqs.append([(("t",), 1), *((("k", j), -1) for j in range(nc))])
    for eq in eqs:
        pb.equation(eq)
    return pb, eqs, truth


# --- the solver on tables ----------------------------------------------------------------------------


def test_one_small_cell_gets_a_partner() -> None:
    pb = Problem()
    pb.cell("total", 20, total=True)
    for key, n in (("female", 3), ("male", 10), ("transgender", 7), ("unknown", 0)):
        pb.cell(key, n)
    pb.total_of("total", ["female", "male", "transgender", "unknown"])
    sol = pb.solve()
    assert sol.markers == {"female": SMALL, "transgender": HIDDEN}  # the next smallest non-zero cell
    published = {c: (None if c in sol.markers else pb.cells[c].value) for c in pb.cells}
    assert not linear_recoverable(published, pb.equations)
    assert not search_recoverable(published, sol.markers, pb.equations, cap=25)


def test_two_small_cells_alone_are_not_enough_when_their_sum_pins_them() -> None:
    """4 + 4 = 8 with every other cell shown: both would be known to be 4. The total goes too."""
    pb = Problem()
    pb.cell("t", 8, total=True)
    pb.cell("a", 4)
    pb.cell("b", 4)
    pb.total_of("t", ["a", "b"])
    sol = pb.solve()
    assert set(sol.markers) == {"a", "b", "t"}
    published = {c: (None if c in sol.markers else pb.cells[c].value) for c in pb.cells}
    assert not search_recoverable(published, sol.markers, pb.equations, cap=20) & {"a", "b"}


def test_interval_attack_is_blocked() -> None:
    """1 + 5 = 6: "<5" and "x" (5 or more) would leave only 1 and 5. The solver sees it."""
    pb = Problem()
    pb.cell("t", 6, total=True)
    pb.cell("a", 1)
    pb.cell("b", 5)
    pb.cell("c", 0)
    pb.total_of("t", ["a", "b", "c"])
    sol = pb.solve()
    published = {c: (None if c in sol.markers else pb.cells[c].value) for c in pb.cells}
    assert "a" in sol.markers and "a" not in search_recoverable(published, sol.markers, pb.equations, cap=20)


# A 5 × 5 table, some of it hidden, whose "<5" at (3, 3) only integer reasoning pins down (to 3).
BIG_TABLE = [[4, 2, 0, 0, 6], [0, 5, 8, 2, 5], [4, 8, 0, 6, 5], [6, 0, 0, 3, 5], [1, 12, 0, 4, 2]]
BIG_HIDDEN = [("c", 0, 4), ("c", 1, 4), ("c", 2, 1), ("c", 2, 3), ("c", 4, 1), ("k", 0), ("k", 1), ("k", 3), ("r", 0), ("r", 4)]


def test_the_integer_search_pins_a_cell_in_a_group_with_millions_of_solutions() -> None:
    """Listing every solution ran out of steps here and let the cell through as safe; looking
    for one solution per other value of each "<5" cell finishes in a few hundred steps."""
    pb, _eqs, _truth = table_problem(BIG_TABLE)
    primary = {cid for cid, c in pb.cells.items() if 1 <= c.value <= 4}
    hidden = primary | set(BIG_HIDDEN)
    assert pb._search_determined(hidden, primary) == {("c", 3, 3)}


def test_a_search_that_runs_out_of_steps_counts_its_small_cells_as_pinned() -> None:
    """Never "safe" for want of time: the cells get partners instead."""
    pb, _eqs, _truth = table_problem(BIG_TABLE)
    primary = {cid for cid, c in pb.cells.items() if 1 <= c.value <= 4}
    hidden = primary | set(BIG_HIDDEN)
    assert pb._search_determined(hidden, primary, budget=3) >= {("c", 3, 3), ("c", 0, 1)}
    assert pb._search_determined(hidden, primary, budget=3) <= primary


def test_narrowing_settles_a_table_of_many_small_cells_in_few_steps() -> None:
    """Listing solutions needed over 400,000 steps for this table's final check (and ran out, so
    more was hidden than needed); narrowing each cell's range with every equation settles it in
    under a thousand: nothing is left pinned, without running out."""
    pb, eqs, truth = table_problem([[0, 12, 2, 1, 6, 20], [3, 3, 4, 5, 2, 0], [0, 1, 6, 1, 1, 1], [1, 0, 0, 12, 20, 1]])
    sol = pb.solve()
    assert not sol.unprotectable
    assert pb._search_determined(set(sol.markers), set(sol.primary), budget=1000) == set()
    published = {c: (None if c in sol.markers else v) for c, v in truth.items()}
    assert not linear_recoverable(published, eqs) & set(sol.primary)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Found by this test in CI: only an integer search showed its hidden cells had one solution.
@example(table=[[0, 1, 1], [0, 4, 0], [2, 0, 3]])
@example(table=[[0, 1, 0], [0, 2, 4], [1, 5, 2]])
@given(
    st.integers(2, 3).flatmap(
        lambda nr: st.integers(2, 3).flatmap(
            lambda nc: st.lists(st.lists(st.sampled_from([0, 0, 1, 2, 3, 4, 5, 6, 8]), min_size=nc, max_size=nc), min_size=nr, max_size=nr)
        )
    )
)
def test_random_tables_attacker_fails(table: list[list[int]]) -> None:
    """Property: on any small table with its margins, every count of 1–4 is hidden, and no hidden
    cell can be recovered — exactly, or by trying every assignment the markers allow."""
    pb, eqs, truth = table_problem(table)
    sol = pb.solve()
    if sol.unprotectable:
        # only when every non-zero cell is already hidden (e.g. all cells 1: "<5" everywhere
        # still adds up to one answer); the report layer then withholds the table whole
        assert all(c in sol.markers for c, v in truth.items() if v), table
        return
    for cid, v in truth.items():
        if 1 <= v <= 4:
            assert sol.markers.get(cid) == SMALL, (table, cid)
        if cid in sol.markers and sol.markers[cid] == HIDDEN:
            assert v >= 5, (table, cid)  # complementary cells are never 0 or small
    published = {c: (None if c in sol.markers else v) for c, v in truth.items()}
    small = {c for c, m in sol.markers.items() if m == SMALL}
    assert not linear_recoverable(published, eqs) & small, table
    if len(sol.markers) <= 10:  # the exhaustive search stays quick (larger sets: the exact check above)
        cap = truth[("t",)] + 8  # the reader knows no upper bound; one above the truth
        assert not search_recoverable(published, sol.markers, eqs, cap=cap) & small, (table, dict(sol.markers))


def test_nothing_hidden_without_small_counts() -> None:
    pb, _, truth = table_problem([[5, 6], [7, 0]])
    assert pb.solve().markers == {}


# --- a real report -----------------------------------------------------------------------------------


def report_equations(values: Mapping[str, Any]) -> tuple[dict[Any, int | None], dict[Any, int], list[Eq]]:
    """What a reader of an external report knows: every published count, and the relations
    the framework states (additive breakdowns, age bands within age groups, percents' parts)."""
    fw, cl = default_framework(), default_codelists()
    truth: dict[Any, int] = {}
    eqs: list[Eq] = []
    band_group = {b.code: ("child" if (b.max_age or 99) <= 17 else "adult") for b in cl["ctdc_age_band"].bands()}
    band_group["unknown"] = "unknown"
    for code, iv in values.items():
        ind = fw.indicator(code)
        if not is_protected(ind) or iv.kind == "change":
            continue
        parts = [("numerator", iv.numerator, iv.fractions)] * 0
        if iv.kind == "percent":
            parts = [("numerator", iv.numerator, {d: {k: f[0] for k, f in keys.items()} for d, keys in iv.fractions.items()}), ("denominator", iv.denominator, {d: {k: f[1] for k, f in keys.items()} for d, keys in iv.fractions.items()})]
        else:
            parts = [("value", iv.value, {d: dict(k) for d, k in iv.breakdown.items() if d != "measure"})]
        for part, total, bd in parts:
            truth[(code, part)] = int(total)
            for dim, keys in bd.items():
                for key, n in keys.items():
                    truth[(code, part, dim, key)] = int(n)
                if dim in iv.additive:
                    eqs.append([((code, part), 1), *(((code, part, dim, k), -1) for k in keys)])
            if "ctdc_age_band" in bd and "age_group" in bd:
                for g in ("child", "adult", "unknown"):
                    bands = [b for b in bd["ctdc_age_band"] if band_group.get(b) == g]
                    if (code, part, "age_group", g) in truth:
                        eqs.append([((code, part, "age_group", g), 1), *(((code, part, "ctdc_age_band", b), -1) for b in bands)])
    return {}, truth, eqs


def test_report_external_attacker_fails(world: ReportsWorld, b: Builder) -> None:
    small_month(b)
    report = engine.compute_indicators(world.as_("head"), period=JUNE)
    dc = suppress_report(report.values, external=True)
    _, truth, eqs = report_equations(report.values)
    published = {c: (None if dc.markers.get(c) else v) for c, v in truth.items()}
    # every count of 1–4 of a protected indicator is hidden
    small = [c for c, v in truth.items() if 1 <= v <= 4]
    assert small and all(published[c] is None for c in small), [c for c in small if published[c] is not None]
    assert dc.hidden_count > len(small) // 2
    assert not linear_recoverable(published, eqs) & set(small)
    # what a user sees: 1.3.a counts 10 victims, women "<5"? no — 6 women, 4 men: men hidden
    assert report["1.3.a"].value == 10 and dc.marker("1.3.a", "value") is None
    assert dc.marker("1.3.a", "value", "sex", "male") == SMALL
    assert dc.marker("1.3.a", "value", "sex", "female") == HIDDEN  # its partner
    # percents: 2.1.b has 2 of 3 satisfied: both parts small, the percent hidden
    assert dc.marker("2.1.b", "value") == HIDDEN and dc.marker("2.1.b", "denominator") == SMALL
    # a count of organisations is not protected
    assert dc.marker("1.3.c", "denominator") is None


def test_internal_hides_nothing(world: ReportsWorld, b: Builder) -> None:
    small_month(b)
    report = engine.compute_indicators(world.as_("head"), period=JUNE)
    assert suppress_report(report.values, external=False).hidden_count == 0


def test_shared_numbers_across_indicators(world: ReportsWorld, b: Builder) -> None:
    """7.1.a publishes 1.3.a's and 1.3.b's counts again (victims and suspects with sex and age
    known): they are hidden together, so 7.1.a cannot give away a number 1.3.a hides."""
    small_month(b)
    report = engine.compute_indicators(world.as_("head"), period=JUNE)
    dc = suppress_report(report.values, external=True)
    assert report["7.1.a"].fractions["person_role"]["suspect"][1] == report["1.3.b"].value == 3
    assert dc.marker("1.3.b", "value") == SMALL
    assert dc.marker("7.1.a", "denominator", "person_role", "suspect") == SMALL
    # the partner is taken from 7.1.a (numbers repeated from elsewhere), not 1.3.a's 10 victims
    assert dc.marker("1.3.a", "value") is None
    assert dc.marker("7.1.a", "denominator", "person_role", "victim") == HIDDEN


def test_change_indicator_hides_small_parts(world: ReportsWorld, b: Builder) -> None:
    small_month(b)  # one case in June, none in May: the change is +1
    report = engine.compute_indicators(world.as_("head"), period=JUNE)
    dc = suppress_report(report.values, external=True)
    iv = report["6.1.a"]
    assert (iv.numerator, iv.denominator, iv.value) == (1, 0, 1)
    assert dc.marker("6.1.a", "numerator") == SMALL and dc.marker("6.1.a", "value") == HIDDEN
