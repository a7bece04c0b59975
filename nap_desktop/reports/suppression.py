# SPDX-License-Identifier: GPL-3.0-or-later
"""Disclosure control for reports that leave HQ: small counts hidden, and hidden for good.

Two layers:

1. :class:`Problem` — a generic cell-suppression solver. Cells are integers (counts, or
   differences of counts); equations are the linear relations a reader knows between published
   numbers (a breakdown adds up to its total, age bands add up to their age group, the change is
   this period minus the previous one …). :meth:`Problem.solve` hides

   - every count of 1–4 (**primary** suppression, shown ``<5``; a difference of -4…4 other than 0,
     where its parts are not published, shown ``x``), and
   - as few further cells as it takes (**complementary** suppression, shown ``x``) until no
     primary cell can be worked out from the published ones: neither exactly by solving the
     equations (the hidden cells' null space is checked with exact rational arithmetic), nor by
     combining the equations with what a reader knows of the hidden cells' ranges (``<5`` is
     1–4; an ``x`` count is 5 or more, since zeros are never hidden and 1–4 would show ``<5``):
     interval propagation over every equation until nothing tightens. A cell that can still be
     pinned down gets a partner: the cheapest non-zero cell of one of its equations (breakdown
     keys before totals, totals before an indicator's main value; numbers repeated from another
     indicator first), smallest first, and the check runs again.

2. :func:`suppress_report` — builds that problem for a whole :class:`IndicatorReport`
   (one problem per report, because indicators share numbers: 7.1.a's victims are 1.3.a's value)
   and returns a :class:`Disclosure`: for every published number, whether it is shown and, if not,
   its marker.

Which indicators are protected: every percent and every count of people or of cases (the
framework's ``unit``), including counts of trainees and of seats held by women. Counts of
organisations, coordination bodies, gaps, milestones, analysis notes and stakeholders, and
statuses, are published as they are; numbers of organisations that also appear inside a protected
indicator (1.2.c / 1.2.d "organisation" keys) are treated as known to the reader.

Percents: the numerators and the denominators are two tables with the same equations; a key's
percent is hidden when its numerator or its denominator is. Breakdowns that do not add up
(a person counted under each type of support received) carry no equation; their small cells are
hidden (primary) and nothing else is needed, because no exact relation ties them to the others.
Money amounts (``*_pkr`` measures) are hidden when the count of people they belong to is hidden.
The previous period's percent (3.2.a) is not published in the external version: its base is not
part of the report.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from nap_desktop.domain.codelists import CodeLists, default_codelists
from nap_desktop.domain.framework import Framework, Indicator, default_framework

__all__ = [
    "HIDDEN",
    "SMALL",
    "SMALL_MAX",
    "UNPROTECTED_UNITS",
    "Disclosure",
    "Problem",
    "Solution",
    "is_protected",
    "suppress_report",
]

SMALL_MAX = 4  # counts 1..SMALL_MAX are hidden
SMALL = "<5"  # marker of a hidden count of 1–4
HIDDEN = "x"  # marker of any other hidden number
BIG = 10**15  # "no upper bound" in interval arithmetic

# Units (framework ``unit``) that count no people and no cases: published as they are.
UNPROTECTED_UNITS = frozenset({"coordination bodies", "gaps", "milestones", "organisations", "analysis notes", "stakeholders"})

CellId = Hashable


# --- the generic solver --------------------------------------------------------------------------


@dataclass
class _Cell:
    value: int
    kind: str  # "count" | "diff"
    small_rule: bool  # the primary rule applies to this cell
    hideable: bool  # False: the reader knows it from elsewhere
    weight: int  # cost of hiding it as a complementary cell: breakdown keys 1, totals 2, main values 3
    order: int


@dataclass(frozen=True)
class Solution:
    """What :meth:`Problem.solve` decided: hidden cells and their markers."""

    markers: Mapping[CellId, str]
    primary: frozenset[CellId]
    secondary: frozenset[CellId]
    unprotectable: frozenset[CellId] = frozenset()

    def hidden(self, cell: CellId) -> bool:
        return cell in self.markers


class _OutOfSteps(Exception):
    """A search of :meth:`Problem._search_determined` ran past its budget."""


class _FirstSolution:
    """A depth-first search for one integer solution of a group of equations (see
    :meth:`Problem._search_determined`), within ``budget`` steps over all its runs.

    Each cell has a range: a "<5" cell 1–4, an "x" cell 0 or 5 up to ``cap``. Every step narrows
    the ranges with every equation until nothing changes — a cell's range is cut to what the
    others' ranges leave for it (bounds consistency) — so a hopeless branch ends at once and most
    cells are computed rather than tried.
    """

    def __init__(self, eqs: list[Any], primary: set[Any], cap: int, order: list[Any], budget: int) -> None:
        self.eqs, self.primary, self.cap, self.order, self.budget = eqs, primary, cap, order, budget
        self.steps = 0

    def span(self, c: Any) -> tuple[int, int]:
        return (1, SMALL_MAX) if c in self.primary else (0, self.cap)

    def _fit(self, c: Any, lo: int, hi: int) -> tuple[int, int] | None:
        """``[lo, hi]`` cut to the values ``c`` can take (an "x" is 0 or more than 4), or None."""
        if c not in self.primary:
            if lo > 0:
                lo = max(lo, SMALL_MAX + 1)
            if hi <= SMALL_MAX:
                hi = 0
        return (lo, hi) if lo <= hi else None

    def _narrow(self, spans: dict[Any, tuple[int, int]]) -> bool:
        """Narrows ``spans`` with every equation until nothing changes; False when a range empties."""
        changed = True
        while changed:
            changed = False
            for eq in self.eqs:
                lo_sum = sum(min(k * spans[c][0], k * spans[c][1]) for c, k in eq)
                hi_sum = sum(max(k * spans[c][0], k * spans[c][1]) for c, k in eq)
                if lo_sum > 0 or hi_sum < 0:
                    return False
                for c, k in eq:
                    a, b = spans[c]
                    # k·x = -(the others): the others span [lo_sum - own_lo, hi_sum - own_hi]
                    own_lo, own_hi = min(k * a, k * b), max(k * a, k * b)
                    others_lo, others_hi = lo_sum - own_lo, hi_sum - own_hi
                    if k > 0:  # x = -others / k
                        lo, hi = -(others_hi // k), (-others_lo) // k  # ceil(-others_hi / k), floor(-others_lo / k)
                    else:  # x = others / -k
                        lo, hi = -((-others_lo) // -k), others_hi // -k  # ceil(others_lo / -k), floor(others_hi / -k)
                    lo, hi = max(a, lo), min(b, hi)
                    if (lo, hi) == (a, b):
                        continue
                    fit = self._fit(c, lo, hi)
                    if fit is None:
                        return False
                    if fit != (a, b):
                        spans[c] = fit
                        changed = True
                        lo_sum += min(k * fit[0], k * fit[1]) - own_lo
                        hi_sum += max(k * fit[0], k * fit[1]) - own_hi
        return True

    def run(self, spans: Mapping[Any, tuple[int, int]]) -> dict[Any, int] | None:
        """A solution within ``spans`` (cell → least and greatest value), or None if there is none.

        Raises:
            _OutOfSteps: the budget ran out first.
        """
        self.steps += 1
        if self.steps > self.budget:
            raise _OutOfSteps
        spans = dict(spans)
        if not self._narrow(spans):
            return None
        c = next((x for x in self.order if spans[x][0] != spans[x][1]), None)
        if c is None:
            return {x: lo for x, (lo, _hi) in spans.items()}
        lo, hi = spans[c]
        for v in range(lo, hi + 1):
            if c not in self.primary and 0 < v <= SMALL_MAX:
                continue
            found = self.run({**spans, c: (v, v)})
            if found is not None:
                return found
        return None


class Problem:
    """Cells and the equations between them; :meth:`solve` chooses what to hide."""

    def __init__(self) -> None:
        self.cells: dict[CellId, _Cell] = {}
        self.equations: list[tuple[tuple[CellId, int], ...]] = []
        self._seen_eq: set[tuple[tuple[CellId, int], ...]] = set()

    def cell(
        self, cid: CellId, value: int, *, kind: str = "count", small_rule: bool = True, hideable: bool = True, total: bool = False, weight: int | None = None
    ) -> CellId:
        """Adds a cell (once; a second call with the same id keeps the first). ``weight`` is the
        cost of hiding it as a complementary cell (default: 2 for a total, 1 for a key)."""
        if cid not in self.cells:
            if kind not in ("count", "diff"):
                raise ValueError(kind)
            w = weight if weight is not None else (2 if total else 1)
            self.cells[cid] = _Cell(int(value), kind, small_rule and hideable, hideable, w, len(self.cells))
        return cid

    def equation(self, terms: Iterable[tuple[CellId, int]]) -> bool:
        """Adds ``sum(coef * cell) == 0`` if it holds on the data (a relation that does not hold
        is no relation a reader could use). Returns whether it was added."""
        merged: dict[CellId, int] = defaultdict(int)
        for cid, coef in terms:
            merged[cid] += coef
        eq = tuple(sorted(((c, k) for c, k in merged.items() if k), key=lambda t: self.cells[t[0]].order))
        if len(eq) < 2 or eq in self._seen_eq:
            return False
        if sum(self.cells[c].value * k for c, k in eq) != 0:
            return False
        self._seen_eq.add(eq)
        self.equations.append(eq)
        return True

    def total_of(self, total: CellId, parts: Iterable[CellId]) -> bool:
        """``total == sum(parts)``."""
        return self.equation([(total, 1), *((p, -1) for p in parts)])

    def same(self, a: CellId, b: CellId) -> bool:
        """Two published numbers that are the same quantity."""
        return self.equation([(a, 1), (b, -1)])

    # --- solving ---------------------------------------------------------------------------------

    def _primary(self, c: _Cell) -> bool:
        if not c.small_rule:
            return False
        return 1 <= abs(c.value) <= SMALL_MAX if c.kind == "diff" else 1 <= c.value <= SMALL_MAX

    def bounds(self, cid: CellId, primary: Iterable[CellId]) -> tuple[int, int]:
        """What a reader knows of a hidden cell from its marker alone."""
        c = self.cells[cid]
        if c.kind == "diff":
            return (-SMALL_MAX, SMALL_MAX) if cid in primary else (-BIG, BIG)
        return (1, SMALL_MAX) if cid in primary else (SMALL_MAX + 1, BIG)

    def solve(self) -> Solution:
        """Primary then complementary suppression until no hidden cell can be worked out."""
        primary = {cid for cid, c in self.cells.items() if self._primary(c)}
        hidden = set(primary)
        by_cell: dict[CellId, list[int]] = defaultdict(list)
        for i, eq in enumerate(self.equations):
            for cid, _ in eq:
                by_cell[cid].append(i)
        exposed: list[CellId] = []
        for _ in range(len(self.cells) + 1):
            exposed = [c for c in self.exposed(hidden, primary) if c in primary]
            if not exposed:
                break
            # the cheapest partner in an equation of an exposed cell; failing that, in an
            # equation of any hidden cell (widens the set of unknowns around them)
            pick = self._partner(exposed, hidden, by_cell)
            if pick is None:
                pick = self._partner(hidden, hidden, by_cell)
            if pick is None:
                break  # NOTE: nothing left to hide next to them; reported as unprotectable
            hidden.add(pick)
        unprotectable = set(exposed)
        markers = {cid: (SMALL if cid in primary and self.cells[cid].kind == "count" else HIDDEN) for cid in hidden}
        return Solution(MappingProxyType(markers), frozenset(primary), frozenset(hidden - primary), frozenset(unprotectable))

    def _partner(self, cells: Iterable[CellId], hidden: set[CellId], by_cell: Mapping[CellId, list[int]]) -> CellId | None:
        """The cheapest cell to hide next to ``cells``: not hidden, hideable, not zero, in one of
        their equations; by weight, then value, then order."""
        best: tuple[Any, ...] | None = None
        pick: CellId | None = None
        for i in sorted({i for cid in cells for i in by_cell.get(cid, [])}):
            for other, _ in self.equations[i]:
                c = self.cells[other]
                if other in hidden or not c.hideable or c.value == 0:
                    continue
                key = (c.weight, abs(c.value), c.order)
                if best is None or key < best:
                    best, pick = key, other
        return pick

    def exposed(self, hidden: set[CellId], primary: Iterable[CellId]) -> list[CellId]:
        """Hidden cells a reader can pin down (exactly, or by interval reasoning)."""
        primary = set(primary)
        found = self._linear_determined(hidden) | self._interval_determined(hidden, primary)
        if not found:
            found = self._search_determined(hidden, primary)
        return sorted(found, key=lambda c: self.cells[c].order)

    def _search_determined(self, hidden: set[CellId], primary: set[CellId], budget: int = 200_000) -> set[CellId]:
        """Hidden "<5" counts that take one value in every integer solution the markers allow.

        Linear algebra and interval reasoning miss some (a few small cells whose only consistent
        integer values are unique). For each group of equations of counts, a reader's solutions are
        searched depth first — "<5" is 1–4, "x" is 0 or 5 up to the group's largest published
        number; the "<5" cells are tried first, the rest computed from the equations — for one
        solution, then, for each "<5" cell, for one in which it has another value. A cell for which
        none exists is pinned down. Each search stops at its first solution, so this takes a few
        hundred steps where listing every solution took millions.

        A search longer than ``budget`` steps proves nothing either way: its "<5" cells then count as
        pinned (they get partners), never as safe.
        """
        out: set[CellId] = set()
        for eqs in self._components(hidden):
            cells = sorted({c for eq in eqs for c, _ in eq if c in hidden}, key=lambda c: self.cells[c].order)
            if any(self.cells[c].kind != "count" for eq in eqs for c, _ in eq):
                continue
            small = [c for c in cells if c in primary]
            if not small:
                continue
            # No part exceeds the largest published number of its group (its total, or a larger one).
            # Were the cap too tight, a cell would only look pinned and get a partner: the error
            # can only hide more, never publish something recoverable.
            cap = max([self.cells[c].value for eq in eqs for c, _ in eq if c not in hidden] or [0]) + SMALL_MAX
            # Try the "<5" cells first (four values each); the equations then compute most others.
            order = sorted(cells, key=lambda c: (c not in primary, self.cells[c].order))
            search = _FirstSolution(eqs, primary, cap, order, budget)
            start = {c: search.span(c) for c in cells} | {c: (self.cells[c].value, self.cells[c].value) for eq in eqs for c, _ in eq if c not in hidden}
            seen: dict[CellId, set[int]] = {c: set() for c in cells}  # values met in solutions found
            try:
                found = search.run(start)
                if found is None:
                    continue  # the markers allow no solution at all: nothing to pin down
                for c in cells:
                    seen[c].add(found[c])
                for c in small:
                    if len(seen[c]) > 1:
                        continue
                    other = next((sol for v in range(1, SMALL_MAX + 1) if v not in seen[c] and (sol := search.run({**start, c: (v, v)})) is not None), None)
                    if other is None:
                        out.add(c)
                        continue
                    for cc in cells:
                        seen[cc].add(other[cc])
            except _OutOfSteps:
                out |= {c for c in small if len(seen[c]) < 2}  # not shown to have two values: not safe
        return out

    def _linear_determined(self, hidden: set[CellId]) -> set[CellId]:
        """Hidden cells whose value the equations fix (the published cells moved to the right).

        Per connected group of equations, the hidden cells' columns are reduced to row echelon
        form; a pivot cell is determined when its row has no free column. Arithmetic is modulo
        a 61-bit prime: the coefficients are small integers, so the rank is the rational one.
        """
        determined: set[CellId] = set()
        for eqs in self._components(hidden):
            cols = sorted({c for eq in eqs for c, _ in eq if c in hidden}, key=lambda c: self.cells[c].order)
            index = {c: j for j, c in enumerate(cols)}
            rows = []
            for eq in eqs:
                row = [0] * len(cols)
                for c, k in eq:
                    if c in index:
                        row[index[c]] = (row[index[c]] + k) % _P
                rows.append(row)
            pivots = _rref(rows, len(cols))
            free = [j for j in range(len(cols)) if j not in pivots]
            for j, r in pivots.items():
                if all(rows[r][f] == 0 for f in free):
                    determined.add(cols[j])
        return determined

    def _components(self, hidden: set[CellId]) -> list[list[tuple[tuple[CellId, int], ...]]]:
        """The equations that hold a hidden cell, grouped by shared hidden cells."""
        eqs = [eq for eq in self.equations if any(c in hidden for c, _ in eq)]
        parent = list(range(len(eqs)))

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        owner: dict[CellId, int] = {}
        for i, eq in enumerate(eqs):
            for c, _ in eq:
                if c in hidden:
                    if c in owner:
                        parent[find(i)] = find(owner[c])
                    else:
                        owner[c] = i
        groups: dict[int, list[tuple[tuple[CellId, int], ...]]] = defaultdict(list)
        for i, eq in enumerate(eqs):
            groups[find(i)].append(eq)
        return list(groups.values())

    def _interval_determined(self, hidden: set[CellId], primary: set[CellId]) -> set[CellId]:
        lo: dict[CellId, int] = {}
        hi: dict[CellId, int] = {}
        for cid, c in self.cells.items():
            if cid in hidden:
                lo[cid], hi[cid] = self.bounds(cid, primary)
            else:
                lo[cid] = hi[cid] = c.value
        relevant = [eq for eq in self.equations if any(c in hidden for c, _ in eq)]
        for _ in range(200):
            changed = False
            for eq in relevant:
                s_lo = sum(k * lo[c] if k > 0 else k * hi[c] for c, k in eq)
                s_hi = sum(k * hi[c] if k > 0 else k * lo[c] for c, k in eq)
                for c, k in eq:
                    if c not in hidden:
                        continue
                    # k*x = -(rest); rest's range is the sum's range without this term
                    r_lo = s_lo - (k * lo[c] if k > 0 else k * hi[c])
                    r_hi = s_hi - (k * hi[c] if k > 0 else k * lo[c])
                    if k > 0:
                        n_lo, n_hi = math.ceil(-r_hi / k), math.floor(-r_lo / k)
                    else:
                        n_lo, n_hi = math.ceil(-r_lo / k), math.floor(-r_hi / k)
                    n_lo, n_hi = max(lo[c], n_lo, -BIG), min(hi[c], n_hi, BIG)
                    if (n_lo, n_hi) != (lo[c], hi[c]) and n_lo <= n_hi:
                        lo[c], hi[c] = n_lo, n_hi
                        changed = True
                        s_lo = sum(kk * lo[cc] if kk > 0 else kk * hi[cc] for cc, kk in eq)
                        s_hi = sum(kk * hi[cc] if kk > 0 else kk * lo[cc] for cc, kk in eq)
            if not changed:
                break
        return {c for c in hidden if lo[c] == hi[c]}


_P = (1 << 61) - 1  # a prime


def _rref(rows: list[list[int]], ncols: int) -> dict[int, int]:
    """Reduces ``rows`` (integers modulo :data:`_P`) in place to reduced row echelon form;
    returns pivot column → row."""
    pivots: dict[int, int] = {}
    r = 0
    for j in range(ncols):
        p = next((i for i in range(r, len(rows)) if rows[i][j]), None)
        if p is None:
            continue
        rows[r], rows[p] = rows[p], rows[r]
        inv = pow(rows[r][j], _P - 2, _P)
        rows[r] = [x * inv % _P for x in rows[r]]
        pivot_row = rows[r]
        for i in range(len(rows)):
            f = rows[i][j]
            if i != r and f:
                rows[i] = [(a - f * b) % _P for a, b in zip(rows[i], pivot_row, strict=True)]
        pivots[j] = r
        r += 1
        if r == len(rows):
            break
    return pivots


# --- a report --------------------------------------------------------------------------------------


def is_protected(ind: Indicator) -> bool:
    """Whether the indicator's numbers go through disclosure control in external outputs."""
    if ind.kind == "status":
        return False
    return ind.kind == "percent" or ind.unit not in UNPROTECTED_UNITS


@dataclass(frozen=True)
class Disclosure:
    """Which published numbers of a report are hidden, by address.

    Addresses: ``(code, part)`` for the value's parts — part ``value``, ``numerator``,
    ``denominator``, ``previous`` —, and ``(code, part, dimension, key)`` for breakdown cells —
    part ``value`` (the key's number or percent), ``numerator``, ``denominator`` (a percent key's
    fraction). :meth:`marker` is ``None`` for a number that is shown.
    """

    external: bool
    markers: Mapping[tuple[str, ...], str] = field(default_factory=lambda: MappingProxyType({}))
    unprotectable: int = 0  # indicators withheld whole (see suppress_report)

    def marker(self, *address: str) -> str | None:
        return self.markers.get(tuple(address)) if self.external else None

    @property
    def hidden_count(self) -> int:
        return len(self.markers)


_ORG_KEYS = {"organisation", "service_provider", "capacity_building"}


def suppress_report(
    values: Mapping[str, Any],
    *,
    external: bool,
    framework: Framework | None = None,
    codelists: CodeLists | None = None,
) -> Disclosure:
    """Disclosure control over every value of a report (``IndicatorReport.values``).

    ``external=False`` hides nothing (the internal version). See the module docstring for what
    is hidden and why.
    """
    if not external:
        return Disclosure(False)
    fw = framework or default_framework()
    cl = codelists or default_codelists()
    pb = Problem()
    derived: list[tuple[tuple[str, ...], list[tuple[str, ...]]]] = []  # address hidden if any source is
    always: list[tuple[str, ...]] = []  # addresses never published externally
    by_rule: dict[str, list[Any]] = defaultdict(list)
    band_group = _band_groups(cl)
    for code, iv in values.items():
        ind = fw.indicator(code)
        by_rule[ind.rule].append(iv)
        if not is_protected(ind):
            continue
        if iv.kind == "percent":
            _add_percent(pb, iv, derived, always, band_group, cheap=ind.rule == "data_completeness")
        elif iv.kind == "change":
            _add_change(pb, iv, derived)
        else:
            _add_count(pb, ind, iv, derived, band_group)
    _link_indicators(pb, fw, values, by_rule)
    sol = pb.solve()
    markers: dict[tuple[str, ...], str] = {}
    for cid, m in sol.markers.items():
        markers[cid] = m
    for addr, sources in derived:
        if any(s in markers for s in sources):
            markers[addr] = HIDDEN
    for addr in always:
        markers[addr] = HIDDEN
    # A percent's numerator is not published over a hidden denominator ("0 of <5" says too much).
    for addr in list(markers):
        if len(addr) >= 2 and addr[1] == "denominator" and values.get(addr[0]) is not None and values[addr[0]].kind == "percent":
            markers.setdefault((addr[0], "numerator", *addr[2:]), HIDDEN)
    # A cell no partner can protect (every cell of a tiny table is 1, say: "<5" everywhere still
    # adds up to only one answer) takes its whole indicator down: every number of it is "x".
    down = {cid[0] for cid in sol.unprotectable}
    for code in down:
        iv = values[code]
        for part in ("value", "numerator", "denominator", "previous"):
            markers[(code, part)] = HIDDEN
        for dim, keys in iv.breakdown.items():
            for key in keys:
                markers[(code, "value", dim, key)] = HIDDEN
        for dim, keys in iv.fractions.items():
            for key in keys:
                markers[(code, "numerator", dim, key)] = markers[(code, "denominator", dim, key)] = HIDDEN
    return Disclosure(True, MappingProxyType(markers), len(down))


def _band_groups(cl: CodeLists) -> dict[str, str]:
    limit = 17
    child = cl["age_group"].find("child")
    if child is not None and child.max_age is not None:
        limit = child.max_age
    out = {"unknown": "unknown"}
    for b in cl["ctdc_age_band"].bands():
        out[b.code] = "child" if (b.min_age or 0) <= limit else "adult"
    return out


def _int(x: Any) -> int | None:
    if x is None:
        return None
    if isinstance(x, float) and not x.is_integer():
        return None
    return int(x)


def _add_count(pb: Problem, ind: Indicator, iv: Any, derived: list[Any], band_group: Mapping[str, str]) -> None:
    code = iv.code
    total = _int(iv.value)
    if total is None:
        return
    tid = pb.cell((code, "value"), total, weight=3)
    if iv.numerator is not None and _int(iv.numerator) == total:
        derived.append(((code, "numerator"), [tid]))
    elif (n := _int(iv.numerator)) is not None:
        pb.cell((code, "numerator"), n)
    if (d := _int(iv.denominator)) is not None:
        pb.cell((code, "denominator"), d, total=True)
    org_rule = ind.rule in ("witnesses_providers_supported", "witnesses_providers")
    for dim, keys in iv.breakdown.items():
        cells = []
        for key, v in keys.items():
            addr = (code, "value", dim, key)
            if dim == "measure" and key.endswith("_pkr"):
                derived.append((addr, [tid]))
                continue
            n = _int(v)
            if n is None:
                continue
            known = org_rule and (key in _ORG_KEYS or dim == "provider_type")
            cells.append(pb.cell(addr, n, hideable=not known))
        if dim in iv.additive:
            pb.total_of(tid, cells)
    _age_hierarchy(pb, code, "value", iv.breakdown, band_group)
    if org_rule:
        comp = (code, "value", "component", "service_provider")
        for dim in ("sex", "age_group"):
            if (code, "value", dim, "organisation") in pb.cells and comp in pb.cells:
                pb.same((code, "value", dim, "organisation"), comp)
        if comp in pb.cells and "provider_type" in iv.breakdown:
            pb.total_of(comp, [(code, "value", "provider_type", k) for k in iv.breakdown["provider_type"]])
    measure = iv.breakdown.get("measure", {})
    for key in ("cases", "confiscated_and_disposed"):
        if key in measure:
            pb.same(tid, (code, "value", "measure", key))


def _age_hierarchy(pb: Problem, code: str, part: str, bd: Mapping[str, Mapping[str, Any]], band_group: Mapping[str, str]) -> None:
    """Age bands add up to their age group (both published for the same people)."""
    if "ctdc_age_band" not in bd or "age_group" not in bd:
        return
    groups: dict[str, list[Any]] = defaultdict(list)
    for band in bd["ctdc_age_band"]:
        groups[band_group.get(band, "unknown")].append((code, part, "ctdc_age_band", band))
    for g, bands in groups.items():
        gid = (code, part, "age_group", g)
        if gid in pb.cells and all(b in pb.cells for b in bands):
            pb.total_of(gid, bands)


def _add_percent(pb: Problem, iv: Any, derived: list[Any], always: list[Any], band_group: Mapping[str, str], *, cheap: bool = False) -> None:
    code = iv.code
    num, den = _int(iv.numerator), _int(iv.denominator)
    if num is None or den is None:
        return
    # 7.1.a repeats numbers of 1.3.a / 1.3.b: its cells are the first to hide as partners
    w_total, w_key = (0, 0) if cheap else (3, None)
    nid = pb.cell((code, "numerator"), num, weight=w_total)
    did = pb.cell((code, "denominator"), den, weight=w_total)
    derived.append(((code, "value"), [nid, did]))
    if iv.previous is not None:
        always.append((code, "previous"))
    for dim, keys in iv.fractions.items():
        ncells, dcells = [], []
        for key, (n, d) in keys.items():
            ni, di = _int(n), _int(d)
            if ni is None or di is None:
                continue
            a, b = pb.cell((code, "numerator", dim, key), ni, weight=w_key), pb.cell((code, "denominator", dim, key), di, weight=w_key)
            ncells.append(a)
            dcells.append(b)
            derived.append(((code, "value", dim, key), [a, b]))
        if dim in iv.additive:
            pb.total_of(nid, ncells)
            pb.total_of(did, dcells)
    # keys of a breakdown with a percent but no fraction (none today) are hidden whole
    for dim, keys in iv.breakdown.items():
        for key in keys:
            if key not in iv.fractions.get(dim, {}):
                always.append((code, "value", dim, key))
    frac_bd = {d: {k: 0 for k in keys} for d, keys in iv.fractions.items()}
    _age_hierarchy(pb, code, "numerator", frac_bd, band_group)
    _age_hierarchy(pb, code, "denominator", frac_bd, band_group)
    items = iv.fractions.get("data_item", {})
    for key in items:
        pb.same(did, (code, "denominator", "data_item", key))
    if "sex_and_age" in items:
        pb.same(nid, (code, "numerator", "data_item", "sex_and_age"))


def _add_change(pb: Problem, iv: Any, derived: list[Any]) -> None:
    code = iv.code
    cur, prev, change = _int(iv.numerator), _int(iv.denominator), _int(iv.value)
    if cur is None or prev is None or change is None:
        return
    cid = pb.cell((code, "numerator"), cur, weight=3)
    pid = pb.cell((code, "denominator"), prev, weight=3)
    vid = pb.cell((code, "value"), change, kind="diff", small_rule=False, weight=3)
    derived.append(((code, "previous"), [pid]))
    pb.equation([(vid, 1), (cid, -1), (pid, 1)])
    measure = iv.breakdown.get("measure", {})
    for key, v in measure.items():
        n = _int(v)
        if n is not None:
            pb.cell((code, "value", "measure", key), n, kind="diff" if key.endswith("_change") else "count", small_rule=not key.endswith("_change"))
    m = lambda k: (code, "value", "measure", k)  # noqa: E731
    if m("reported") in pb.cells:
        pb.same(cid, m("reported"))
    if m("reported_previous") in pb.cells:
        pb.same(pid, m("reported_previous"))
    if all(m(k) in pb.cells for k in ("dealt_with_change", "dealt_with", "dealt_with_previous")):
        pb.equation([(m("dealt_with_change"), 1), (m("dealt_with"), -1), (m("dealt_with_previous"), 1)])
    for dim, keys in iv.breakdown.items():
        if dim == "measure":
            continue
        cells = [pb.cell((code, "value", dim, k), n, kind="diff") for k, v in keys.items() if (n := _int(v)) is not None]
        if dim in iv.additive:
            pb.total_of(vid, cells)


def _link_indicators(pb: Problem, fw: Framework, values: Mapping[str, Any], by_rule: Mapping[str, list[Any]]) -> None:
    """Numbers that two indicators publish for the same people (7.1.a's victims are 1.3.a's)."""
    for iv in by_rule.get("data_completeness", []):
        ind = fw.indicator(iv.code)
        roles = iv.fractions.get("person_role", {})
        for other in by_rule.get("persons_identified", []):
            if tuple(fw.indicator(other.code).param("statuses", ())) == tuple(ind.param("statuses", ())) and "victim" in roles:
                if (other.code, "value") in pb.cells:
                    pb.same((other.code, "value"), (iv.code, "denominator", "person_role", "victim"))
        for other in by_rule.get("suspects_identified", []):
            if "suspect" in roles and (other.code, "value") in pb.cells:
                pb.same((other.code, "value"), (iv.code, "denominator", "person_role", "suspect"))
