# SPDX-License-Identifier: GPL-3.0-or-later
"""The indicator engine: every indicator of the framework for a unit subtree and a period.

What it computes is data (``resources/framework.toml``, :mod:`nap_desktop.domain.framework`):
each indicator names a rule of this module and its parameters. Every rule is a handful of SQL
aggregates (``GROUP BY``) built with SQLAlchemy Core, so the same code runs on SQLite/SQLCipher and
PostgreSQL; no rule loops over records in Python. What comes back from the database is already
aggregated: at most one row per combination of code-list values (sex × age band × citizenship ×
province …, or a set of codes such as the forms of exploitation a person had), which Python only
adds up into the breakdowns.

Conventions every rule shares:

- Records that are deleted (tombstones) or drafts never count. Rows of related tables (case
  events and parties, codes, count matrices) count through their live parent record.
- A record belongs to the scope through its own ``unit`` (the unit and every unit below it). At
  national scope (the root unit) no unit condition is applied at all.
- A record belongs to the period through its date field, compared as a half-open date range
  ``start <= d < end + 1 day`` (never with date functions). Record types without a date of their
  own (providers, coordination bodies, milestones) are "on record at the end of the period":
  created before the end of the period (``created_at`` is UTC; periods are calendar dates).
- People are counted once (``COUNT`` over a per-person ``GROUP BY``) where the plan counts people.
  A person's age is the age on the first event counted in the period, from the date of birth, or
  from the recorded age carried forward from when the person was recorded (the same rule as
  :func:`nap_desktop.services.records._context`). Age groups: 0–17, 18+ and unknown; CTDC bands.
- Breakdowns by the person's sex, age group, age band, citizenship and province add up to the
  value (``IndicatorValue.additive``). Breakdowns by event attributes (type of support, form of
  exploitation, role …) count a person under every value the person had, so they need not add up.

Status indicators read milestones whose ``indicator`` field holds the indicator's code.

Statements are built with the period and the unit list as bound parameters and kept per process
(:meth:`_Ctx.cached`), and their SQL text per dialect and unit set (:meth:`_Ctx.fetch`): building
and compiling the larger ones costs more Python time than running them on a month of one circle.
Indicators that read the same records share one statement: one per-person pass over the services
serves 1.2.a, 1.2.b, 1.2.c, 1.4.a and 6.1.b; one over the screenings 1.3.a and 7.1.a; one
statement counts the cases of 7.3.a, 7.3.b and 7.4.a.

Speed (DESIGN §7, ``bench/bench_indicators.py``): every fact table has covering indexes (all
the columns a rule reads) by (unit, date) and by date, so a unit's month or the nation's year
is one index range; person attributes and record codes are read through indexes on
expressions (:func:`_person_join`, :func:`_codes_join`). Where SQLite could pick a worse index
the statements say so in portable SQL (:class:`_Unindexed`, :func:`_via_record`, outer joins);
table statistics (:mod:`nap_desktop.data.stats`) settle the rest. On PostgreSQL, national
reports of the whole framework read those three per-person passes from report chains
(:mod:`nap_desktop.reports.chains`, :func:`_chain_plan`): derived rows that give each person's
first fact of a period without grouping by person.

Public API: :func:`compute_indicators` and :func:`drill_down` check permissions and open the
session; :func:`evaluate` and :func:`drill` are the same on a given session and unit set (used by
the monthly returns and by the cross-database tests).
"""

from __future__ import annotations

import calendar
import copy
import logging
import queue
import re
import threading
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from time import monotonic
from types import MappingProxyType
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    Integer,
    String,
    Select,
    and_,
    bindparam,
    case,
    cast,
    distinct,
    exists,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
    tuple_,
    union,
    union_all,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from nap_desktop.data.db import BUSY_TIMEOUT_MS, DBAPIError, shrink_memory
from nap_desktop.data.models import UTCDateTime
from nap_desktop.data.record_models import (
    AnalysisNote,
    AwarenessSession,
    Case,
    CaseEvent,
    CaseParty,
    CheckpointLog,
    CoordinationEntity,
    CoordinationGap,
    CoordinationMeeting,
    DataAccess,
    Milestone,
    Person,
    RecordCode,
    RecordCount,
    Screening,
    ServiceProvider,
    ServiceProvision,
    Suspect,
    SurveyResponse,
    Training,
)
from nap_desktop.domain.codelists import CodeLists, default_codelists
from nap_desktop.domain.framework import Framework, Indicator, default_framework
from nap_desktop.errors import ConfigError, NotFound, ValidationError
from nap_desktop.security.permissions import Perm
from nap_desktop.reports import chains
from nap_desktop.services.context import Workspace

logger = logging.getLogger(__name__)

__all__ = [
    "DrillDown",
    "IndicatorReport",
    "IndicatorValue",
    "Period",
    "check_framework",
    "compute_indicators",
    "drill",
    "drill_down",
    "evaluate",
    "evaluate_concurrently",
]

Number = int | float
ZERO_FILL_MAX = 25  # code lists up to this size show every code (zeros too) in a breakdown
NOT_RECORDED = "not_recorded"  # an event with no code of a multi-valued field
NOT_IN_LIST = "not_in_list"  # a stored code the current code list no longer has
ORGANISATION = "organisation"  # a provider counted next to persons
NONE = "none"  # a case with no linked victim / suspect
PERSON_DIMS = ("sex", "age_group", "ctdc_age_band", "citizenship", "location")


# --- periods -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A reporting period: calendar dates ``start`` to ``end``, both included."""

    start: date
    end: date
    kind: str = "custom"  # month / quarter / year / custom

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValidationError("The period ends before it starts.", {"period": "reversed"})
        if self.kind not in ("month", "quarter", "year", "custom"):
            raise ValidationError("A period is a month, a quarter, a year or a date range.", {"period": "kind"})

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        return cls(date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]), "month")

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        if quarter not in (1, 2, 3, 4):
            raise ValidationError("A quarter is 1 to 4.", {"period": "quarter"})
        first = 3 * quarter - 2
        return cls(date(year, first, 1), cls.month(year, first + 2).end, "quarter")

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year, 12, 31), "year")

    @classmethod
    def custom(cls, start: date, end: date) -> Period:
        return cls(start, end, "custom")

    @classmethod
    def parse(cls, text: str) -> Period:
        """``2026-06`` (month), ``2026-Q2`` (quarter), ``2026`` (year), ``2026-01-01..2026-03-31``."""
        t = text.strip()
        try:
            if m := re.fullmatch(r"(\d{4})-(\d{2})", t):
                return cls.month(int(m[1]), int(m[2]))
            if m := re.fullmatch(r"(\d{4})-[Qq]([1-4])", t):
                return cls.quarter(int(m[1]), int(m[2]))
            if m := re.fullmatch(r"(\d{4})", t):
                return cls.year(int(m[1]))
            if m := re.fullmatch(r"(\d{4}-\d{2}-\d{2})\s*\.\.\s*(\d{4}-\d{2}-\d{2})", t):
                return cls.custom(date.fromisoformat(m[1]), date.fromisoformat(m[2]))
        except ValueError:
            pass
        raise ValidationError(
            "Write the period as 2026-06 (month), 2026-Q2 (quarter), 2026 (year) or 2026-01-01..2026-03-31.",
            {"period": "format"},
        )

    @property
    def stop(self) -> date:
        """The day after ``end`` (periods are compared as ``start <= d < stop``)."""
        return self.end + timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month + 2) // 3}"
        if self.kind == "year":
            return str(self.start.year)
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    def previous(self) -> Period:
        """The period of the same kind just before (a custom range: the same number of days)."""
        if self.kind == "month":
            d = self.start - timedelta(days=1)
            return Period.month(d.year, d.month)
        if self.kind == "quarter":
            d = self.start - timedelta(days=1)
            return Period.quarter(d.year, (d.month + 2) // 3)
        if self.kind == "year":
            return Period.year(self.start.year - 1)
        return Period.custom(self.start - timedelta(days=self.days), self.start - timedelta(days=1))


# --- results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorValue:
    """One indicator for one scope and period. Plain data: renderers and returns read it.

    Attributes:
        code: The indicator code (``1.3.a``).
        kind: count / percent / status / change.
        value: The number: a count; a percent (0–100, ``None`` without a denominator); 1 or 0 for a
            status (reached or not); the change against the previous period.
        numerator, denominator: The parts of a percent; for counts and statuses the counted part
            and its base where the definition has one (e.g. functional / in place); else ``None``.
        breakdown: disaggregation → key → number (a percent for percent indicators).
        status: The state in words for status and change indicators.
        fractions: For percents, disaggregation → key → (numerator, denominator).
        previous: The previous period's value, for change indicators and 3.2.a.
        additive: The disaggregations whose keys add up: to the value (counts, changes), or to the
            numerator and the denominator (percents). Empty for statuses.
    """

    code: str
    kind: str
    value: Number | None
    numerator: Number | None = None
    denominator: Number | None = None
    breakdown: Mapping[str, Mapping[str, Number]] = field(default_factory=lambda: MappingProxyType({}))
    status: str | None = None
    fractions: Mapping[str, Mapping[str, tuple[Number, Number]]] = field(default_factory=lambda: MappingProxyType({}))
    previous: Number | None = None
    additive: tuple[str, ...] = ()


@dataclass(frozen=True)
class IndicatorReport:
    """Every computed indicator of one scope and period, in framework order."""

    framework_version: int
    scope: str
    period: Period
    computed_at: datetime
    values: Mapping[str, IndicatorValue]

    def __getitem__(self, code: str) -> IndicatorValue:
        return self.values[code]


@dataclass(frozen=True)
class DrillDown:
    """The records behind a value (or one breakdown key): ids only, by record type."""

    code: str
    disaggregation: str | None
    key: str | None
    records: Mapping[str, tuple[str, ...]]
    person_ids: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.records.values())


# --- SQL helpers -------------------------------------------------------------------------------


class _YearsBetween(FunctionElement[int]):
    """Completed years from date ``a`` to date ``b`` (negative when ``b`` is earlier), as an integer.

    ``(yyyymmdd(b) - yyyymmdd(a)) / 10000`` with integer division truncating toward zero — the same
    as :func:`nap_desktop.domain.validation.age_on` for ``b >= a``. Dialects build ``yyyymmdd``
    their own way; SQLite reads it from the ISO text it stores dates and datetimes as.
    """

    type = Integer()
    name = "years_between"
    inherit_cache = True


@compiles(_YearsBetween)
def _years_between_default(element: _YearsBetween, compiler: Any, **kw: Any) -> str:
    a, b = (compiler.process(c, **kw) for c in element.clauses)

    def ymd(x: str) -> str:
        return f"(CAST(EXTRACT(YEAR FROM {x}) AS INTEGER) * 10000 + CAST(EXTRACT(MONTH FROM {x}) AS INTEGER) * 100 + CAST(EXTRACT(DAY FROM {x}) AS INTEGER))"

    return f"(({ymd(b)} - {ymd(a)}) / 10000)"


@compiles(_YearsBetween, "postgresql")
def _years_between_postgresql(element: _YearsBetween, compiler: Any, **kw: Any) -> str:
    a, b = (compiler.process(c, **kw) for c in element.clauses)

    # NOTE: the same values as EXTRACT (both read a timestamp in the session's time zone), but
    # date_part returns a float where EXTRACT returns a numeric since PostgreSQL 14: half the time.
    def ymd(x: str) -> str:
        return f"(CAST(date_part('year', {x}) AS INTEGER) * 10000 + CAST(date_part('month', {x}) AS INTEGER) * 100 + CAST(date_part('day', {x}) AS INTEGER))"

    return f"(({ymd(b)} - {ymd(a)}) / 10000)"


@compiles(_YearsBetween, "sqlite")
def _years_between_sqlite(element: _YearsBetween, compiler: Any, **kw: Any) -> str:
    a, b = (compiler.process(c, **kw) for c in element.clauses)

    def ymd(x: str) -> str:
        return f"CAST(replace(substr({x}, 1, 10), '-', '') AS INTEGER)"

    return f"(({ymd(b)} - {ymd(a)}) / 10000)"


class _GroupConcat(FunctionElement[str]):
    """The values of a group joined with ``,`` (no order): ``group_concat`` on SQLite,
    ``string_agg`` elsewhere (PostgreSQL)."""

    type = String()
    name = "group_concat"
    inherit_cache = True


@compiles(_GroupConcat)
def _group_concat_default(element: _GroupConcat, compiler: Any, **kw: Any) -> str:
    return f"string_agg({compiler.process(element.clauses, **kw)}, ',')"


@compiles(_GroupConcat, "sqlite")
def _group_concat_sqlite(element: _GroupConcat, compiler: Any, **kw: Any) -> str:
    return f"group_concat({compiler.process(element.clauses, **kw)}, ',')"


def _age_at(person: Any, on: Any) -> ColumnElement[Any]:
    """The person's age in completed years on ``on`` (an SQL date), or NULL when unknown."""
    return case(
        (person.date_of_birth.is_not(None), _YearsBetween(person.date_of_birth, on)),
        (person.age_years.is_not(None), person.age_years + _YearsBetween(person.created_at, on)),
        else_=None,
    )


def _fence(stmt: Select[Any]) -> Select[Any]:
    """The same query with ``OFFSET 0``.

    NOTE: a subquery with an OFFSET is never merged into the query around it (SQLite's flattener,
    rule 14; PostgreSQL's planner likewise), so the CASE expressions it computes run once per
    row instead of once per use in the enclosing aggregate. Standard SQL on every dialect.
    """
    return stmt.offset(0)


def _codes_join(RC: Any, record_id: Any, fieldname: str) -> ColumnElement[bool]:
    """The join from a record (``record_id``, on the outer side) to its ``record_codes`` of one field.

    NOTE: written for the index ``ix_record_codes_lookup`` on ``(field || '', record_id, code)``
    (record_models): ``field || ''`` keeps the primary key (record id first, spread over every
    field of every record) and the (field, code) index out, so the lookups read only the
    field's part of the lookup index; the record side is :class:`_Unindexed` so the join runs
    from the records of the period to their codes, never from all codes of the field.
    """
    return and_(_via_record(RC.field) == fieldname, RC.record_id == _Unindexed(record_id))


def _person_join(P: Any, person_id: Any) -> ColumnElement[bool]:
    """The join from a person id (on the outer side) to the person row.

    NOTE: written for the covering index ``ix_persons_report`` on ``(id || '', sex,
    date_of_birth, age_years, created_at, citizenship, residence_province)``: ``id || ''``
    keeps the primary key index out (it would read every person's table row as well), with or
    without table statistics.
    """
    return _via_record(P.id) == _Unindexed(person_id)


def _materialized(stmt: Select[Any], name: str) -> Any:
    """``stmt`` as a CTE computed once (``AS MATERIALIZED``) however often it is read.

    NOTE: without the keyword SQLite flattens a CTE into every place that reads it and runs it
    again each time (seen with EXPLAIN QUERY PLAN); PostgreSQL (12+) would materialize a CTE
    read twice anyway. Both accept the keyword.
    """
    return stmt.cte(name).prefix_with("MATERIALIZED")


def _via_record(col: Any) -> ColumnElement[str]:
    """``col || ''`` on SQLite: the same value, but only an index on this very expression can
    serve a comparison with it, none on ``col`` itself; the plain column elsewhere.

    NOTE: the count table's ``field`` index lists every training's rows nationwide; comparing
    ``field || ''`` makes SQLite start from the (scoped, dated) trainings and look counts up by
    their primary key (record id) instead. The code table and the persons have indexes on the
    expression itself (see :func:`_codes_join`, :func:`_person_join`). PostgreSQL plans by its
    statistics and gains nothing from the expression: compared there, it kept the planner off
    the primary keys, read every person (a hash of all persons per pass) and every code of a
    field through the expression index (which serves no index-only scan), so there the column
    is compared as it is.
    """
    return _ViaRecord(col)


class _ViaRecord(FunctionElement[Any]):
    """See :func:`_via_record`."""

    name = "via_record"
    inherit_cache = True

    @property
    def type(self) -> Any:  # type: ignore[override]
        return self.clauses.clauses[0].type


@compiles(_ViaRecord)
def _via_record_default(element: _ViaRecord, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.clauses.clauses[0], **kw)


@compiles(_ViaRecord, "sqlite")
def _via_record_sqlite(element: _ViaRecord, compiler: Any, **kw: Any) -> str:
    return f"({compiler.process(element.clauses.clauses[0], **kw)} || '')"


class _Unindexed(FunctionElement[Any]):
    """The same value as its argument, but no index can serve a comparison with it.

    NOTE: on SQLite ``+x`` (the documented way to keep the planner off an index); elsewhere the
    plain column (PostgreSQL plans by its statistics). Used where SQLite would otherwise pick a
    worse plan: the code filters of the fact queries (without table statistics an ``IN`` on an
    indexed code looks selective, and SQLite would read every record of those codes of every
    year instead of the covering date index), ``deleted`` (see :meth:`_Ctx.live`), and the
    outer side of a join (no automatic index on it, so the join runs from it).
    """

    name = "unindexed"
    inherit_cache = True

    @property
    def type(self) -> Any:  # type: ignore[override]
        return self.clauses.clauses[0].type


@compiles(_Unindexed)
def _unindexed_default(element: _Unindexed, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.clauses.clauses[0], **kw)


@compiles(_Unindexed, "sqlite")
def _unindexed_sqlite(element: _Unindexed, compiler: Any, **kw: Any) -> str:
    return f"+{compiler.process(element.clauses.clauses[0], **kw)}"


def unindexed(col: Any) -> ColumnElement[Any]:
    """``col`` such that no index serves a comparison with it on SQLite (see :class:`_Unindexed`)."""
    return _Unindexed(col)


def _flag(cond: ColumnElement[bool]) -> ColumnElement[int]:
    return case((cond, 1), else_=0)


def _sum(expr: ColumnElement[Any]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(expr), 0)


# --- the evaluation context --------------------------------------------------------------------


_STATEMENTS: OrderedDict[tuple[Any, ...], Any] = OrderedDict()  # built statements, see _Ctx.cached
_STATEMENTS_MAX = 512
_SQL: OrderedDict[tuple[Any, ...], Any] = OrderedDict()  # their SQL per dialect and unit set, see _Ctx.fetch
_SQL_MAX = 1024
_PG_DIALECT = postgresql.psycopg.dialect()  # type: ignore[attr-defined]
_PERIOD_PARAMS = frozenset({"p_start", "p_stop", "q_start", "q_stop", "p_stop_dt"})
_CACHE_LOCK = threading.Lock()  # reports run on worker threads; building happens outside the lock


def _pg_literal(value: Any) -> str | None:
    """``value`` as a PostgreSQL literal, or None when it is not written inline."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and "%" not in value and "\\" not in value:
        return "'" + value.replace("'", "''") + "'"
    return None


def _inline_constants(sql: str, slots: list[tuple[str, bool, Any]]) -> tuple[str, list[tuple[str, bool, Any]]]:
    """PostgreSQL: the statement with every parameter other than the period's dates written
    inline (codes, unit codes, numbers), and the slots still bound.

    NOTE: they are fixed for a cached statement and unit set anyway. Bound, they are parameters
    to PostgreSQL: once psycopg prepares a statement (its fifth run) the plan may be generic, in
    which ``col IN ($1, …, $21)`` builds its array again for every row and every member of a
    pass (a third of a per-person pass was spent there); inline they are constants, and an IN
    list of nine or more is a hash lookup.
    """
    kept = []
    for slot in slots:
        name, var, value = slot
        literal_sql = None if var else _pg_literal(value)
        if literal_sql is None:
            kept.append(slot)
        else:
            sql = sql.replace(f"%({name})s", literal_sql)
    return sql, kept


class _Once:
    """A value computed by one thread and read by any number of others (see :meth:`_Ctx.memo`)."""

    def __init__(self) -> None:
        self._done = threading.Event()
        self._value: Any = None
        self._error: BaseException | None = None

    def run(self, fn: Callable[[], Any]) -> Any:
        try:
            self._value = fn()
        except BaseException as e:
            self._error = e
            raise
        finally:
            self._done.set()
        return self._value

    def result(self) -> Any:
        self._done.wait()
        if self._error is not None:
            raise self._error  # the same error the computing thread raised (the report fails with it)
        return self._value


class _Ctx:
    """What every rule needs: the session, the scope, the period, the code lists; a memo so
    indicators that share a query (the four awareness percentages, the trainings) run it once.

    Period bounds and the unit list are bound parameters (``p_start``, ``p_stop``, ``q_start``,
    ``q_stop`` for the previous period, ``p_stop_dt``, ``units``), never literals, so a statement
    built once serves every period and scope of the same shape (:meth:`cached`): building the
    larger statements costs more Python time than running them on a month of data.
    """

    def __init__(self, s: Session, units: Collection[str] | None, period: Period, cl: CodeLists, fw: Framework) -> None:
        self.s = s
        self.national = units is None
        self.period = period
        self.cl = cl
        self.fw = fw
        self.start = bindparam("p_start", type_=Date())
        self.stop = bindparam("p_stop", type_=Date())
        self.prev_start = bindparam("q_start", type_=Date())
        self.prev_stop = bindparam("q_stop", type_=Date())
        self.stop_dt = bindparam("p_stop_dt", type_=UTCDateTime())
        self._units = bindparam("units", expanding=True)
        prev = period.previous()
        self.params: dict[str, Any] = {
            "p_start": period.start,
            "p_stop": period.stop,
            "q_start": prev.start,
            "q_stop": prev.stop,
            "p_stop_dt": datetime.combine(period.stop, time.min, UTC),
        }
        if units is not None:
            self.params["units"] = sorted(units) or [""]
        self.wanted: list[Indicator] = list(fw)  # indicators computed together (shared passes)
        self.chains: dict[str, int] = {}  # signature -> id of the report chains valid in this snapshot (see chains.py)
        self._memo: dict[Any, _Once] = {}
        self._memo_lock = threading.Lock()

    def on(self, s: Session) -> _Ctx:
        """The same context reading through ``s`` (another connection on the same snapshot),
        sharing the memo: what one thread computed, the others read (:func:`_evaluate_concurrently`)."""
        other = copy.copy(self)
        other.s = s
        return other

    def memo(self, key: Any, fn: Callable[[], Any]) -> Any:
        """``fn()`` once per key; a second thread asking while the first computes it waits for it."""
        with self._memo_lock:
            once = self._memo.get(key)
            mine = once is None
            if once is None:
                once = self._memo[key] = _Once()
        return once.run(fn) if mine else once.result()

    def cached(self, key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
        """``build()`` once per process for ``key`` and this context's shape (national or not,
        code lists, framework); ``build`` may only use the context's bound parameters."""
        full = (*key, self.national, id(self.cl), id(self.fw))
        with _CACHE_LOCK:
            hit = _STATEMENTS.get(full)
            if hit is not None and hit[0] is self.cl and hit[1] is self.fw:
                _STATEMENTS.move_to_end(full)
                return hit[2]
        hit = (self.cl, self.fw, build())
        with _CACHE_LOCK:
            _STATEMENTS[full] = hit
            while len(_STATEMENTS) > _STATEMENTS_MAX:
                _STATEMENTS.popitem(last=False)
        return hit[2]

    def live(self, model: Any, *, scoped: bool = True) -> list[ColumnElement[bool]]:
        """Not deleted, not a draft, and (``scoped``) in the unit subtree.

        NOTE: ``deleted`` through :class:`_Unindexed`: the list indexes on (unit, deleted) look
        like two equalities to SQLite and would win over a (unit, date) index.
        """
        conds: list[ColumnElement[bool]] = [_Unindexed(model.deleted).is_(False), model.status == "complete"]
        if scoped and not self.national:
            conds.append(model.unit.in_(self._units))
        return conds

    def in_period(self, col: Any, *, previous: bool = False) -> ColumnElement[bool]:
        if previous:
            return and_(col >= self.prev_start, col < self.prev_stop)
        return and_(col >= self.start, col < self.stop)

    def recorded_by_end(self, model: Any) -> ColumnElement[bool]:
        return model.created_at < self.stop_dt

    def codes(self, list_name: str, *, groups: Iterable[str] | None = None) -> list[str]:
        cl = self.cl[list_name]
        if groups is None:
            return [e.code for e in cl.entries]
        wanted = set(groups)
        return [e.code for e in cl.entries if e.group in wanted]

    def run(self, key: tuple[Any, ...], build: Callable[[], Any]) -> list[Any]:
        """The rows of the statement ``build()`` (built once, see :meth:`cached`)."""
        return self.fetch(self.cached(key, build))

    def fetch(self, stmt: Any) -> list[Any]:
        """The rows of a built statement (one kept by :meth:`cached`), as driver SQL.

        NOTE: executing a SQLAlchemy statement costs Python time on every call (its cache key
        walks the whole expression tree, every IN list is expanded, every parameter processed),
        more than running the larger statements on a month of one circle. The SQL text and its
        processed parameters are therefore made once per statement, dialect and unit set
        (SQLAlchemy's own ``construct_expanded_state``); a call only fills in the period's dates.
        Rows hold what the driver returns (no result processing): the rules read counts, sums
        and codes.
        """
        conn = self.s.connection()
        dialect = conn.dialect
        key = (id(stmt), dialect.name, tuple(self.params.get("units") or ()))
        with _CACHE_LOCK:
            hit = _SQL.get(key)
            if hit is not None and hit[0] is stmt:
                _SQL.move_to_end(key)
            else:
                hit = None
        if hit is None:
            compiled = stmt.compile(dialect=dialect)
            state = compiled.construct_expanded_state(self.params)
            procs = state.processors
            names = list(state.positiontup) if compiled.positional else list(state.parameters)
            slots = []
            for name in names:
                value = state.parameters[name]
                proc = procs.get(name)
                slots.append((name, name in _PERIOD_PARAMS, proc if name in _PERIOD_PARAMS else proc(value) if proc else value))
            sql = state.statement
            if dialect.name == "postgresql":
                sql, slots = _inline_constants(sql, slots)
            hit = (stmt, sql, slots, compiled.positional)
            with _CACHE_LOCK:
                _SQL[key] = hit
                while len(_SQL) > _SQL_MAX:
                    _SQL.popitem(last=False)
        _, sql, slots, positional = hit
        values = [(v(self.params[n]) if v else self.params[n]) if var else v for n, var, v in slots]
        args: Any = tuple(values) if positional else {n: v for (n, _, _), v in zip(slots, values)}
        return list(conn.exec_driver_sql(sql, args).all())

    def execute(self, stmt: Any) -> Any:
        return self.s.execute(stmt, self.params)

    def rows(self, stmt: Any) -> list[Any]:
        return list(self.execute(stmt).all())

    def scalar(self, stmt: Any) -> Any:
        return self.s.scalar(stmt, self.params)

    def scalars(self, stmt: Any) -> list[Any]:
        return list(self.s.scalars(stmt, self.params))


@dataclass
class _Out:
    """What a rule returns; :func:`_finish` turns it into an :class:`IndicatorValue`."""

    value: Number | None
    numerator: Number | None = None
    denominator: Number | None = None
    breakdown: dict[str, dict[str, Number]] = field(default_factory=dict)
    fractions: dict[str, dict[str, tuple[Number, Number]]] = field(default_factory=dict)
    status: str | None = None
    previous: Number | None = None
    additive: tuple[str, ...] = ()


def _pct(num: Number, den: Number) -> float | None:
    return None if not den else 100.0 * num / den


def _percent_out(num: Number, den: Number, fractions: dict[str, dict[str, tuple[Number, Number]]], additive: Iterable[str] = ()) -> _Out:
    breakdown = {d: {k: p for k, (n, m) in keys.items() if (p := _pct(n, m)) is not None} for d, keys in fractions.items()}
    return _Out(_pct(num, den), num, den, breakdown, fractions, additive=tuple(additive))


# --- persons: distinct people with their attributes -------------------------------------------


def _band_expr(ctx: _Ctx, age: Any) -> ColumnElement[str]:
    bands = ctx.cl["ctdc_age_band"].bands()
    whens = [(age < 0, "unknown")] + [(age <= b.max_age, b.code) for b in bands if b.max_age is not None]
    last = next((b.code for b in bands if b.max_age is None), "unknown")
    return case((age.is_(None), "unknown"), *whens, else_=last)


def _group_expr(ctx: _Ctx, age: Any) -> ColumnElement[str]:
    child = ctx.cl["age_group"].find("child")
    limit = child.max_age if child is not None and child.max_age is not None else 17
    return case((age.is_(None), "unknown"), (age < 0, "unknown"), (age <= limit, "child"), else_="adult")


def _band_name(dims: Collection[str]) -> str | None:
    """The age breakdown a per-person pass keeps per person (the finer one wanted), if any."""
    return "ctdc_age_band" if "ctdc_age_band" in dims else "age_group" if "age_group" in dims else None


def _band_of(ctx: _Ctx, band_name: str, age: Any) -> ColumnElement[str]:
    """The code of ``age`` in the breakdown ``band_name`` (see :func:`_band_name`)."""
    return _band_expr(ctx, age) if band_name == "ctdc_age_band" else _group_expr(ctx, age)


def _with_codes(src: Any, rid: Any, dim: str, fieldname: str) -> tuple[Any, Any]:
    """``src`` outer-joined to the codes of field ``fieldname`` of record ``rid`` (a record
    without any: once, with NULL), and the code column (for the breakdown ``dim``)."""
    RC = aliased(RecordCode, name=f"rc_{dim}")
    return src.outerjoin(RC, _codes_join(RC, rid, fieldname)), RC.code


def _band_to_group(ctx: _Ctx) -> dict[str, str]:
    """CTDC band → age group (a band never straddles 18; checked here)."""
    child = ctx.cl["age_group"].find("child")
    limit = child.max_age if child is not None and child.max_age is not None else 17
    out = {"unknown": "unknown"}
    for b in ctx.cl["ctdc_age_band"].bands():
        lo, hi = b.min_age or 0, b.max_age
        if lo <= limit and (hi is None or hi > limit):
            raise ConfigError(f"The CTDC age band {b.code} straddles the child/adult limit.")
        out[b.code] = "child" if lo <= limit else "adult"
    return out


@dataclass(frozen=True)
class _Flags:
    """Event attributes of a fact query counted per person (or per case): column → codes.

    Only the codes listed are counted. ``nullable`` dims also count NULL (as "unknown");
    ``multi`` dims come from an outer-joined code table, where NULL means no code was recorded:
    ``fields`` names their ``record_codes`` field (the per-person passes join it themselves;
    drill-downs read the dim as a column of facts that joined it).
    """

    dims: Mapping[str, tuple[str, ...]]
    nullable: frozenset[str] = frozenset()
    multi: frozenset[str] = frozenset()
    fields: Mapping[str, str] = field(default_factory=dict)


def _flag_conditions(f: Any, flags: _Flags) -> list[tuple[str, str, ColumnElement[bool]]]:
    """(dim, key, condition on a fact row) for every key a flag dimension can take."""
    out: list[tuple[str, str, ColumnElement[bool]]] = []
    for dim, codes in flags.dims.items():
        col = f.c[dim]
        null_key = NOT_RECORDED if dim in flags.multi else "unknown" if dim in flags.nullable else None
        for code in codes:
            out.append((dim, code, or_(col == code, col.is_(None)) if code == null_key else col == code))
        if null_key is not None and null_key not in codes:
            out.append((dim, null_key, col.is_(None)))
    return out


def _age_of(P: Any, on: Any, *, agg: bool = False) -> ColumnElement[Any]:
    """:func:`_age_at`, or its per-group form (``agg``) over a GROUP BY on the person id."""
    if not agg:
        return _age_at(P, on)
    dob, years, created = func.max(P.date_of_birth), func.max(P.age_years), func.max(P.created_at)
    return case(
        (dob.is_not(None), _YearsBetween(dob, on)),
        (years.is_not(None), years + _YearsBetween(created, on)),
        else_=None,
    )


def _person_attr_columns(ctx: _Ctx, P: Any, dims: Collection[str], *, agg: bool) -> dict[str, ColumnElement[Any]]:
    """Sex, citizenship and province of the person (``max()`` of them per group when ``agg``)."""
    def col(c: Any) -> Any:
        return func.max(c) if agg else c

    out: dict[str, ColumnElement[Any]] = {}
    if "sex" in dims:
        out["sex"] = func.coalesce(col(P.sex), "unknown")
    if "citizenship" in dims:
        out["citizenship"] = func.coalesce(col(P.citizenship), "unknown")
    if "location" in dims:
        out["location"] = func.coalesce(col(P.residence_province), "unknown")
    return out


@dataclass(frozen=True)
class _Member:
    """One count made in a shared per-person pass: its key, which fact rows it takes (``where``:
    fact column → the values it counts; all rows when empty) and the event flags it breaks
    down by."""

    key: str
    where: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    flags: _Flags = _Flags({})

    def cond(self, f: Any) -> ColumnElement[bool]:
        """The condition on a row of the facts subquery ``f``."""
        return and_(true(), *(f.c[col].in_(list(values)) for col, values in self.where.items()))


def _narrowing(where: Mapping[str, Iterable[str]], facts: Mapping[str, Iterable[str]]) -> dict[str, tuple[str, ...]]:
    """A member's ``where`` without the columns whose values cover all the facts select anyway
    (``facts``: column → the values the facts query is restricted to): a condition every fact
    row meets costs a test per row and separates nothing."""
    return {col: tuple(values) for col, values in where.items() if col not in facts or not set(facts[col]) <= set(values)}


@dataclass
class _PersonCounts:
    total: int = 0
    breakdown: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    cube: list[tuple[dict[str, str], int]] = field(default_factory=list)  # person attributes → persons


@dataclass(frozen=True)
class _PassPlan:
    """The built statement of a per-person pass and what reading its rows needs (see
    :func:`_person_statement`)."""

    stmt: Any
    keys: list[str]  # member keys
    attrs: list[str]  # person attribute columns
    band_name: str | None
    token_cols: list[str]  # the fact columns (event attributes) in a token, in order
    flag_members: list[int]  # the members that break down by event attributes
    where: list[Mapping[str, tuple[str, ...]]]  # per member: the rows it counts (_Member.where)
    slots: list[int]  # per member: its column of first dates / bands (members with one ``where`` share one)
    flag_keys: list[dict[str, dict[str | None, str]]]  # per member: dim → stored code (None: NULL) → key
    parsed: dict[str | None, list[tuple[int, str, str]]] = field(default_factory=dict, compare=False)  # see _token_keys


_NULL_TOKEN = "~"  # a NULL code in a token; codes are [a-z0-9][a-z0-9_+-]* (domain.codelists)


_Build = Callable[[], tuple[Select[Any], list[_Member], Collection[str]]]


def _person_pass(ctx: _Ctx, key: tuple[Any, ...], build: _Build, *, chained: bool = False) -> dict[str, _PersonCounts]:
    """Runs the statement of :func:`_person_statement` for ``build()``'s facts, members and dims
    (built once per ``key``, see :meth:`_Ctx.cached`) and adds up its rows per member.

    ``chained``: the facts are those of every day cut to the period by their ``on`` column, so
    the report chains (:func:`_chain_plan`) can count them; they do when the context holds a
    valid chain for every member.
    """
    if chained and ctx.chains:
        chain_plan: _ChainPlan = ctx.cached(("chains", *key), lambda: _chain_plan(ctx, *build()))
        if all(spec.signature in ctx.chains for spec in chain_plan.specs):
            return _chain_counts(ctx, chain_plan)
    plan: _PassPlan = ctx.cached(("persons", *key), lambda: _person_statement(ctx, *build()))
    keys, band_name, attrs = plan.keys, plan.band_name, plan.attrs
    out = {k: _PersonCounts() for k in keys}
    band_group = _band_to_group(ctx) if band_name == "ctdc_age_band" else {}
    na, ns = len(attrs), max(plan.slots, default=-1) + 1
    for row in ctx.fetch(plan.stmt):
        values = tuple(row)
        n = int(values[-1])
        if values[0] == 1:  # a set of event attributes: persons who had exactly these
            _add_tokens(plan, out, values[-2], n)
            continue
        marks = values[1 + na : 1 + na + ns]
        cells: dict[int, dict[str, Any]] = {}  # per slot: the cell its members count the persons in
        for i, slot in enumerate(plan.slots):
            mark = marks[slot]
            # mark: the person's age band for this member (NULL: not counted), or 1/0 without bands
            if mark is None or (band_name is None and not mark):
                continue
            cell = cells.get(slot)
            if cell is None:
                cell = cells[slot] = dict(zip(attrs, values[1 : 1 + na]))
                if band_name is not None:
                    cell[band_name] = mark
                    if band_name == "ctdc_age_band":
                        cell["age_group"] = band_group.get(mark, "unknown")
            pc = out[keys[i]]
            pc.total += n
            pc.cube.append((cell, n))
            for name, value in cell.items():
                pc.breakdown[name][value] += n
    return out


def _add_tokens(plan: _PassPlan, out: dict[str, _PersonCounts], tokens: str | None, n: int) -> None:
    """Counts ``n`` persons once under every key of every event attribute their tokens name."""
    for i, dim, key in _token_keys(plan, tokens):
        out[plan.keys[i]].breakdown[dim][key] += n


def _token_keys(plan: _PassPlan, tokens: str | None) -> list[tuple[int, str, str]]:
    """(member, dim, key) once each for a token string (parsed once per plan and string)."""
    cache: dict[str | None, list[tuple[int, str, str]]] = plan.parsed
    hit = cache.get(tokens)
    if hit is not None:
        return hit
    seen: dict[int, dict[str, set[str | None]]] = {i: defaultdict(set) for i in plan.flag_members}
    for token in (tokens or "").split(","):
        codes = token.split("|")
        if len(codes) != len(plan.token_cols):
            continue  # NOTE: only a stored value outside its code list could split otherwise
        row = {col: None if code == _NULL_TOKEN else code for col, code in zip(plan.token_cols, codes)}
        for i in plan.flag_members:
            if all(row[col] in values for col, values in plan.where[i].items()):
                for dim in plan.flag_keys[i]:
                    seen[i][dim].add(row[dim])
    found: list[tuple[int, str, str]] = []
    for i, dims in seen.items():
        for dim, codes in dims.items():
            mapping = plan.flag_keys[i].get(dim)
            if mapping is not None:
                found += [(i, dim, k) for k in sorted({mapping[c] for c in codes if c in mapping})]
    if len(cache) < 100_000:
        cache[tokens] = found
    return found


def _flag_key_map(flags: _Flags) -> dict[str, dict[str | None, str]]:
    """For one member: dim → stored code → breakdown key: only the codes it lists, and NULL as
    "not recorded" (multi-valued) or "unknown" (nullable) — the same key as a listed code of
    that name, so a person with both counts once."""
    keys: dict[str, dict[str | None, str]] = {}
    for dim, codes in flags.dims.items():
        keys[dim] = {c: c for c in codes}
        null_key = NOT_RECORDED if dim in flags.multi else "unknown" if dim in flags.nullable else None
        if null_key is not None:
            keys[dim][None] = null_key
    return keys


def _person_statement(ctx: _Ctx, facts: Select[Any], members: list[_Member], dims: Collection[str]) -> _PassPlan:
    """Distinct persons of ``facts`` (columns ``rid``, ``pid``, ``on`` and the event attributes
    the members break down by) for several counts ("members") at once, in one statement.

    ``per``: the facts grouped by person id (the only pass over the facts): per member
    condition (members with the same ``where`` share it) the date of the person's first event
    (NULL: the person does not count for that member; the date fields are never NULL), and,
    when a member breaks down by event attributes, one token per event row — the codes of the
    columns the members break down by or select on, e.g. ``shelter|victim`` — concatenated;
    Python tells from the codes which members a row counts for (``_Member.where``). Multi-valued attributes come from ``record_codes``
    (``_Flags.fields``), outer-joined: a record without a code gives the NULL code ``~``.

    Two groupings of ``per`` (UNION ALL, ``kind`` 0 and 1): joined once per person to the
    person row (fenced, so the age is computed once per person), GROUP BY the attributes and,
    per member, the age band on the first event (NULL when not counted) — person attributes
    partition each total; and GROUP BY the token string, so each row is the number of persons
    who had one set of codes, which Python splits up (a person counts once under every code
    they had). Rows are combinations of code-list values, never persons.
    """
    f0 = facts.subquery("f0")
    wheres: list[tuple[Any, ...]] = []  # the distinct conditions; members with the same one share its columns
    slots: list[int] = []
    conds: list[ColumnElement[bool]] = []
    for m in members:
        w = tuple(sorted((col, tuple(values)) for col, values in m.where.items()))
        if w not in wheres:
            wheres.append(w)
            conds.append(m.cond(f0))
        slots.append(wheres.index(w))
    key_maps = [_flag_key_map(m.flags) for m in members]
    flagged = [i for i, m in enumerate(members) if m.flags.dims]
    token_cols: list[str] = []
    fields: dict[str, str] = {}
    for i in flagged:
        fields.update(members[i].flags.fields)
        for c in (*members[i].flags.dims, *members[i].where):
            if c not in token_cols:  # a column a member both breaks down and selects by is in the token once
                token_cols.append(c)
    src: Any = f0
    cols: dict[str, Any] = {}
    for dim in token_cols:
        if dim in fields:
            src, cols[dim] = _with_codes(src, f0.c.rid, dim, fields[dim])
        else:
            cols[dim] = f0.c[dim]
    per_cols: list[Any] = [f0.c.pid]
    for i, cond in enumerate(conds):
        per_cols.append(func.min(case((cond, f0.c.on), else_=None)).label(f"on{i}"))
    if flagged:
        token = func.coalesce(cols[token_cols[0]], _NULL_TOKEN)
        for col in token_cols[1:]:
            token = token.op("||")(literal_column("'|'")).op("||")(func.coalesce(cols[col], _NULL_TOKEN))
        per_cols.append(_GroupConcat(token).label("tokens"))
    inner = select(*per_cols).select_from(src).group_by(f0.c.pid)
    per = _materialized(inner, "per") if flagged else inner.subquery("per")
    P = aliased(Person, name="p")
    attrs = _person_attr_columns(ctx, P, dims, agg=False)
    band_name = _band_name(dims)
    cols_p: list[Any] = [*(c.label(n) for n, c in attrs.items())]
    for i in range(len(conds)):
        cols_p.append(per.c[f"on{i}"])
        if band_name:
            cols_p.append(_age_at(P, per.c[f"on{i}"]).label(f"age{i}"))
    ppl = _fence(select(*cols_p).join_from(per, P, _person_join(P, per.c.pid))).subquery("ppl")
    keys: list[Any] = [ppl.c[n] for n in attrs]
    for i in range(len(conds)):
        counted = ppl.c[f"on{i}"].is_not(None)
        if band_name:
            age = ppl.c[f"age{i}"]
            band = _band_of(ctx, band_name, age)
            keys.append(case((counted, band), else_=None).label(f"b{i}"))
        else:
            keys.append(case((counted, 1), else_=0).label(f"b{i}"))
    stmt: Any = select(literal(0, Integer).label("kind"), *keys, literal(None, String).label("tokens"), func.count().label("n")).group_by(*keys)
    if flagged:
        nulls = [literal(None, String).label(n) for n in attrs] + [literal(None, String if band_name else Integer).label(f"b{i}") for i in range(len(conds))]
        sets = select(literal(1, Integer).label("kind"), *nulls, per.c.tokens, func.count().label("n")).where(per.c.tokens.is_not(None)).group_by(per.c.tokens)
        stmt = union_all(stmt, sets)
    return _PassPlan(stmt, [m.key for m in members], list(attrs), band_name, token_cols, flagged, [m.where for m in members], slots, key_maps)


@dataclass(frozen=True)
class _ChainMember:
    """Where one member of a per-person pass reads its counts in the chains of the pass."""

    key: str
    total: str  # signature of its chain of persons
    slots: dict[str, str]  # the event attributes it reads from that chain's key columns: dim -> "k1" / "k2"
    keyed: dict[str, str]  # the other event attributes: dim -> signature of its chain of keys


@dataclass(frozen=True)
class _ChainPlan:
    """The report chains of a per-person pass (see :mod:`chains`) and the statement that reads
    them for a period."""

    specs: list[chains.Spec]  # the distinct chains of the pass
    members: list[_ChainMember]
    stmt: Any  # rows (chain, key, person attributes…, band, k1, k2, grouping, n0, n1, n2); binds ``chain_ids``
    attrs: list[str]
    band_name: str | None


def _chain_plan(ctx: _Ctx, facts: Select[Any], members: list[_Member], dims: Collection[str]) -> _ChainPlan:
    """The chains of a per-person pass.

    Per member, a chain of the fact rows it counts (key ``chains.TOTAL``) with the person's
    attributes and age band on the fact's day, ``prev``: the day of the person's previous row,
    and for up to two single-valued event attributes it breaks down by (a service's type, a
    screening's status), the row's breakdown key (``k1``, ``k2``) with the day of the person's
    previous row of that key (``p1``, ``p2``). Each multi-valued attribute (from
    ``record_codes``: exploitation types, suspect roles) gets a chain of its own, a row per fact
    and key (``key`` = the breakdown key, ``prev`` within the key). Members with the same
    condition share a chain of persons while its two key columns hold all their single-valued
    attributes; chains of keys with the same rows are shared too.

    The statement counts, per chain, the rows of the period whose previous day lies before it
    (each person's first), first by cell (the row's codes, see :data:`chains.CELLS`), then over
    the cells' codes: by person attributes and band (``prev``), by ``k1`` (``p1``), by ``k2``
    (``p2``) — three grouping sets — and by ``key``. The same persons as
    :func:`_person_statement`'s: a person counts for a member when a fact it takes lies in the
    period, under an event attribute's key when such a fact has a code of that key, in the age
    band of their first such fact.
    """
    f0 = facts.subquery("f0")
    specs: dict[str, chains.Spec] = {}
    band_name = _band_name(dims)

    def spec(rows: Select[Any], u: Any) -> str:
        pending = rows.where(u.c.pid.in_(select(chains.pending_persons().subquery().c.person_id)))
        sig = chains.signature(rows, _PG_DIALECT, chains.EVERY_DAY)
        specs.setdefault(sig, chains.Spec(sig, rows, pending, chains.EVERY_DAY))
        return sig

    def keyed_expr(col: Any, mapping: Mapping[str | None, str]) -> ColumnElement[Any]:
        by_key: dict[str, list[str | None]] = defaultdict(list)
        for code, k in mapping.items():
            by_key[k].append(code)
        whens = []
        for k, codes in sorted(by_key.items()):
            listed = [c for c in codes if c is not None]
            whens.append((or_(*([col.in_(listed)] if listed else []), *([col.is_(None)] if None in codes else [])), k))
        return case(*whens, else_=None)

    def lag(u: Any, *by: Any) -> Any:
        return func.lag(u.c.on).over(partition_by=(u.c.pid, *by), order_by=(u.c.on, u.c.rid))

    none = literal(None, String)
    # Members with the same condition share one chain of persons when its two key columns can
    # hold the single-valued event attributes of all of them (with the same keys).
    groups: list[tuple[Any, _Member, dict[str, dict[str | None, str]]]] = []  # (condition, a member, dim -> key map)
    group_of: list[int] = []
    for m in members:
        where = tuple(sorted((col, tuple(values)) for col, values in m.where.items()))
        maps = _flag_key_map(m.flags)
        single = {d: maps[d] for d in maps if d not in m.flags.fields}
        for g, (w, _, slots) in enumerate(groups):
            if w == where and all(slots.get(d, mp) == mp for d, mp in single.items()) and len(slots.keys() | single.keys()) <= 2:
                slots.update(single)
                group_of.append(g)
                break
        else:
            group_of.append(len(groups))
            groups.append((where, m, dict(list(single.items())[:2])))
    persons_chains: list[str] = []
    for _, m, slots in groups:
        cond = m.cond(f0)
        slot_exprs = [keyed_expr(f0.c[d], mp) for d, mp in slots.items()]
        u = select(
            f0.c.rid, f0.c.pid, f0.c.on, *(e.label(f"k{i + 1}") for i, e in enumerate(slot_exprs)), *(none.label(f"k{i + 1}") for i in range(len(slots), 2))
        ).where(cond).subquery("u")
        P = Person
        age = _age_at(P, u.c.on)
        band = none if band_name is None else _band_of(ctx, band_name, age)
        attrs = _person_attr_columns(ctx, P, dims, agg=False)
        slot_cols = []
        for i in (1, 2):
            k = u.c[f"k{i}"]
            slot_cols += [k, case((k.is_(None), None), else_=lag(u, k)) if i <= len(slots) else literal(None, Date)]
        # NOTE: a fact whose person row is missing (only a copy made without foreign keys has
        # one) counts under its event attributes but not as a person, as in _person_statement
        persons_chains.append(
            spec(
                select(
                    bindparam("chain_id", type_=Integer),
                    case((P.id.is_(None), chains.NO_PERSON), else_=chains.TOTAL),
                    u.c.pid,
                    u.c.on,
                    lag(u),
                    band,
                    *(attrs.get(n, none) for n in ("sex", "citizenship", "location")),
                    *slot_cols,
                ).join_from(u, P, P.id == u.c.pid, isouter=True),
                u,
            )
        )
    plan_members = []
    for m, g in zip(members, group_of):
        cond = m.cond(f0)
        maps = _flag_key_map(m.flags)
        slot_names = list(groups[g][2])
        slots = {d: f"k{slot_names.index(d) + 1}" for d in maps if d in slot_names and d not in m.flags.fields}
        keyed = {}
        for dim in (d for d in maps if d not in slots):
            src, col = _with_codes(f0, f0.c.rid, dim, m.flags.fields[dim]) if dim in m.flags.fields else (f0, f0.c[dim])
            k = keyed_expr(col, maps[dim])
            uk = select(f0.c.rid, f0.c.pid, f0.c.on, k.label("key")).select_from(src).where(cond, k.is_not(None)).subquery("u")
            rows = select(bindparam("chain_id", type_=Integer), uk.c.key, uk.c.pid, uk.c.on, lag(uk, uk.c.key), *(none for _ in range(4)), none, literal(None, Date), none, literal(None, Date))
            keyed[dim] = spec(rows, uk)
        plan_members.append(_ChainMember(m.key, persons_chains[g], slots, keyed))
    C, X = chains.ROWS.c, chains.CELLS.c

    def first(prev: Any) -> Any:
        return func.count().filter(or_(prev.is_(None), prev < ctx.start))

    # the period's rows by chain and cell (one integer: cheap to group), then by their codes
    by_cell = (
        select(C.chain, C.cell, first(C.prev).label("n0"), first(C.p1).label("n1"), first(C.p2).label("n2"))
        .where(C.chain.in_(bindparam("chain_ids", expanding=True)), ctx.in_period(C.on))
        .group_by(C.chain, C.cell)
        .subquery("by_cell")
    )
    attrs_c = {n: c for n, c in (("sex", X.sex), ("citizenship", X.citizenship), ("location", X.location)) if n in dims}
    persons_set = [by_cell.c.chain, X.key, *attrs_c.values(), *([X.band] if band_name else [])]
    stmt = (
        select(*persons_set, X.k1, X.k2, func.grouping(X.k1, X.k2).label("g"), *(cast(func.sum(by_cell.c[n]), BigInteger) for n in ("n0", "n1", "n2")))
        .join_from(by_cell, chains.CELLS, X.id == by_cell.c.cell)
        .group_by(func.grouping_sets(tuple_(*persons_set), tuple_(by_cell.c.chain, X.k1), tuple_(by_cell.c.chain, X.k2)))
    )
    return _ChainPlan(list(specs.values()), plan_members, stmt, list(attrs_c), band_name)


def _chain_counts(ctx: _Ctx, plan: _ChainPlan) -> dict[str, _PersonCounts]:
    """A per-person pass read from its report chains (see :func:`_chain_plan`)."""
    ids = {spec.signature: ctx.chains[spec.signature] for spec in plan.specs}
    band_group = _band_to_group(ctx) if plan.band_name == "ctdc_age_band" else {}
    na = len(plan.attrs) + (plan.band_name is not None)
    cells: dict[int, list[tuple[dict[str, Any], int]]] = defaultdict(list)  # chain -> (person cell, persons)
    keyed: dict[tuple[int, str], Counter[str]] = defaultdict(Counter)  # (chain, "key"/"k1"/"k2") -> breakdown key -> persons
    for chain, key, *values in ctx.s.execute(plan.stmt, {**ctx.params, "chain_ids": sorted(set(ids.values()))}):
        k1, k2, g, n0, n1, n2 = values[na:]
        if g == 0b01:  # grouped by k1
            if k1 is not None and n1:
                keyed[chain, "k1"][k1] += n1
        elif g == 0b10:
            if k2 is not None and n2:
                keyed[chain, "k2"][k2] += n2
        elif key == chains.NO_PERSON:
            continue
        elif key != chains.TOTAL:
            keyed[chain, "key"][key] += n0
        elif n0:
            cell = dict(zip(plan.attrs, values[: len(plan.attrs)]))
            if plan.band_name is not None:
                band = values[len(plan.attrs)]
                cell[plan.band_name] = band
                if plan.band_name == "ctdc_age_band":
                    cell["age_group"] = band_group.get(band, "unknown")
            cells[chain].append((cell, n0))
    out = {}
    for m in plan.members:
        pc = out[m.key] = _PersonCounts()
        for cell, n in cells[ids[m.total]]:
            pc.total += n
            pc.cube.append((cell, n))
            for name, value in cell.items():
                pc.breakdown[name][value] += n
        for dim, column in m.slots.items():
            for key, n in keyed[ids[m.total], column].items():
                pc.breakdown[dim][key] += n
        for dim, sig in m.keyed.items():
            for key, n in keyed[ids[sig], "key"].items():
                pc.breakdown[dim][key] += n
    return out


def _persons(
    ctx: _Ctx, key: tuple[Any, ...], facts: Callable[[], Select[Any]], flags: _Flags, dims: Collection[str]
) -> tuple[int, dict[str, Counter[str]]]:
    """Distinct persons of ``facts()`` for one count (see :func:`_person_pass`)."""
    members = [_Member("one", flags=flags)]
    pc = _person_pass(ctx, (*key, tuple(sorted(dims))), lambda: (facts(), members, dims))["one"]
    return pc.total, pc.breakdown


def _wanted_dims(inds: Iterable[Indicator], extra: Iterable[str] = ()) -> set[str]:
    return {d for i in inds for d in i.disaggregations if d in PERSON_DIMS} | set(extra)


def _person_drill(ctx: _Ctx, facts: Select[Any], flags: _Flags, dim: str | None, key: str | None) -> tuple[list[str], list[str]]:
    """(record ids, person ids) of ``facts`` behind a value or one breakdown key."""
    f = facts.subquery("f")
    if dim is None:
        stmt = select(f.c.rid, f.c.pid).distinct()
    elif dim in flags.dims:
        conds = [c for d, k, c in _flag_conditions(f, flags) if d == dim and k == key]
        stmt = select(f.c.rid, f.c.pid).where(conds[0] if conds else false()).distinct()
    elif dim in PERSON_DIMS:
        P = aliased(Person, name="p")
        per = (
            select(f.c.pid, *(c.label(n) for n, c in _person_attr_columns(ctx, P, [dim], agg=True).items()), _age_of(P, func.min(f.c.on), agg=True).label("age"))
            .join_from(f, P, P.id == f.c.pid)
            .group_by(f.c.pid)
            .subquery("per")
        )
        attr = _group_expr(ctx, per.c.age) if dim == "age_group" else _band_expr(ctx, per.c.age) if dim == "ctdc_age_band" else per.c[dim]
        pids = select(per.c.pid).where(attr == key)
        stmt = select(f.c.rid, f.c.pid).where(f.c.pid.in_(pids)).distinct()
    else:
        raise ValidationError(f"This indicator cannot be drilled down by {dim}.", {"disaggregation": "unknown"})
    rows = ctx.rows(stmt)
    return sorted({r.rid for r in rows}), sorted({r.pid for r in rows if r.pid is not None})


def _counters(out: Mapping[str, Counter[str]], dims: Iterable[str]) -> dict[str, dict[str, Number]]:
    return {d: dict(out.get(d, Counter())) for d in dims}


# --- rules: people served, identified, compensated ---------------------------------------------

RULES: dict[str, Callable[[_Ctx, Indicator], _Out]] = {}
DRILLS: dict[str, Callable[[_Ctx, Indicator, str | None, str | None], DrillDown]] = {}
PARAMS: dict[str, Callable[[CodeLists, Indicator], None]] = {}  # checks a rule's parameters


def _rule(name: str) -> Callable[[Callable[[_Ctx, Indicator], _Out]], Callable[[_Ctx, Indicator], _Out]]:
    def deco(fn: Callable[[_Ctx, Indicator], _Out]) -> Callable[[_Ctx, Indicator], _Out]:
        RULES[name] = fn
        return fn

    return deco


def _drill(name: str) -> Callable[[Callable[..., DrillDown]], Callable[..., DrillDown]]:
    def deco(fn: Callable[..., DrillDown]) -> Callable[..., DrillDown]:
        DRILLS[name] = fn
        return fn

    return deco


def _dd(ind: Indicator, dim: str | None, key: str | None, records: Mapping[str, Iterable[str]], persons: Iterable[str] = ()) -> DrillDown:
    return DrillDown(
        ind.code,
        dim,
        key,
        MappingProxyType({t: tuple(sorted(set(ids))) for t, ids in records.items()}),
        tuple(sorted(set(persons))),
    )


def _service_group_expr(ctx: _Ctx, col: Any) -> ColumnElement[str]:
    cl = ctx.cl["service_type"]
    return case(*((col.in_([e.code for e in cl.by_group(g)]), g) for g in cl.groups()), else_=NOT_IN_LIST)


def _served_params(ind: Indicator) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return tuple(ind.param("roles", ())), tuple(ind.param("service_groups", ()))


def _served_scope(ctx: _Ctx, ind: Indicator) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(roles, service types) an indicator counts services of."""
    if ind.rule == "witnesses_providers_supported":
        return ("witness",), tuple(ctx.codes("service_type"))
    roles, groups = _served_params(ind)
    return roles, tuple(ctx.codes("service_type", groups=groups))


def _served_flags(ctx: _Ctx, ind: Indicator) -> _Flags:
    roles, types = _served_scope(ctx, ind)
    groups = tuple(g for g in ctx.cl["service_type"].groups() if any(e.code in types for e in ctx.cl["service_type"].by_group(g)))
    dims = {"support_type": types, "support_group": groups, "beneficiary_role": roles}
    return _Flags({d: codes for d, codes in dims.items() if d in ind.disaggregations})


def _served_facts(ctx: _Ctx, roles: Iterable[str], types: Iterable[str]) -> Select[Any]:
    SP = ServiceProvision
    return select(
        SP.id.label("rid"),
        SP.person_id.label("pid"),
        SP.started_on.label("on"),
        SP.service_type.label("support_type"),
        _service_group_expr(ctx, SP.service_type).label("support_group"),
        SP.beneficiary_role.label("beneficiary_role"),
    ).where(*ctx.live(SP), ctx.in_period(SP.started_on), _Unindexed(SP.beneficiary_role).in_(list(roles)), _Unindexed(SP.service_type).in_(list(types)))


_SERVED_RULES = ("persons_served", "witnesses_providers_supported")


def _services_def(ctx: _Ctx) -> tuple[tuple[Any, ...], _Build]:
    """One per-person pass over the period's services for every wanted indicator that counts
    people served (1.2.a, 1.2.b, 1.2.c witnesses, 1.4.a, 6.1.b)."""

    inds = [i for i in ctx.wanted if i.rule in _SERVED_RULES]

    def build() -> tuple[Select[Any], list[_Member], Collection[str]]:
        scopes = {ind.code: _served_scope(ctx, ind) for ind in inds}
        covered = {
            "beneficiary_role": sorted({r for roles, _ in scopes.values() for r in roles}),
            "support_type": sorted({t for _, types in scopes.values() for t in types}),
        }
        members = []
        for ind in inds:
            roles, types = scopes[ind.code]
            members.append(_Member(ind.code, _narrowing({"beneficiary_role": roles, "support_type": types}, covered), _served_flags(ctx, ind)))
        return _served_facts(ctx, covered["beneficiary_role"], covered["support_type"]), members, _wanted_dims(inds)

    return ("services", *(i.code for i in inds)), build


def _services_pass(ctx: _Ctx) -> dict[str, _PersonCounts]:
    return ctx.memo("services", lambda: _person_pass(ctx, *_services_def(ctx), chained=True))


@_rule("persons_served")
def _r_persons_served(ctx: _Ctx, ind: Indicator) -> _Out:
    pc = _services_pass(ctx)[ind.code]
    return _Out(pc.total, breakdown=_counters(pc.breakdown, ind.disaggregations), additive=_additive_person(ind))


@_drill("persons_served")
def _d_persons_served(ctx: _Ctx, ind: Indicator, dim: str | None, key: str | None) -> DrillDown:
    roles, types = _served_scope(ctx, ind)
    flags = _served_flags(ctx, ind)
    rids, pids = _person_drill(ctx, _served_facts(ctx, roles, types), flags, dim, key)
    return _dd(ind, dim, key, {"service": rids}, pids)


def _check_served(cl: CodeLists, ind: Indicator) -> None:
    roles, groups = _served_params(ind)
    _need_codes(ind, "roles", roles, cl["beneficiary_role"].codes(), required=True)
    _need_codes(ind, "service_groups", groups, set(cl["service_type"].groups()), required=True)


PARAMS["persons_served"] = _check_served


def _additive_person(ind: Indicator) -> tuple[str, ...]:
    return tuple(d for d in ind.disaggregations if d in PERSON_DIMS)


def _screening_facts(ctx: _Ctx, statuses: Iterable[str], *, codes: bool) -> Select[Any]:
    S = Screening
    cols: list[Any] = [
        S.id.label("rid"),
        S.person_id.label("pid"),
        S.screened_on.label("on"),
        S.identification_status.label("identification_status"),
    ]
    where = [*ctx.live(S), ctx.in_period(S.screened_on), _Unindexed(S.identification_status).in_(list(statuses))]
    if not codes:
        return select(*cols).where(*where)
    RC = aliased(RecordCode, name="rc")
    return (
        select(*cols, RC.code.label("exploitation_type"))
        .join_from(S, RC, and_(RC.record_id == S.id, RC.field == "exploitation_types"), isouter=True)
        .where(*where)
    )


def _identified_flags(ctx: _Ctx, ind: Indicator) -> _Flags:
    dims = {"identification_status": tuple(ind.param("statuses", ())), "exploitation_type": tuple(ctx.codes("exploitation_type"))}
    return _Flags({d: c for d, c in dims.items() if d in ind.disaggregations}, multi=frozenset({"exploitation_type"}), fields={"exploitation_type": "exploitation_types"})


def _screenings_def(ctx: _Ctx) -> tuple[tuple[Any, ...], _Build]:
    """One per-person pass over the period's screenings: 1.3.a and the victims of 7.1.a."""

    inds = [i for i in ctx.wanted if i.rule in ("persons_identified", "data_completeness")]

    def build() -> tuple[Select[Any], list[_Member], Collection[str]]:
        members = []
        statuses = {s for ind in inds for s in ind.param("statuses", ())}
        covered = {"identification_status": statuses}
        for ind in inds:
            where = _narrowing({"identification_status": tuple(ind.param("statuses", ()))}, covered)
            if ind.rule == "persons_identified":
                members.append(_Member(ind.code, where, _identified_flags(ctx, ind)))
            else:
                members.append(_Member(f"{ind.code}#victim", where))
        dims = _wanted_dims([i for i in inds if i.rule == "persons_identified"], ("sex", "age_group") if any(i.rule == "data_completeness" for i in inds) else ())
        return _screening_facts(ctx, sorted(statuses), codes=False), members, dims

    return ("screenings", *(i.code for i in inds)), build


def _screenings_pass(ctx: _Ctx) -> dict[str, _PersonCounts]:
    return ctx.memo("screenings", lambda: _person_pass(ctx, *_screenings_def(ctx), chained=True))


@_rule("persons_identified")
def _r_persons_identified(ctx: _Ctx, ind: Indicator) -> _Out:
    pc = _screenings_pass(ctx)[ind.code]
    return _Out(pc.total, breakdown=_counters(pc.breakdown, ind.disaggregations), additive=_additive_person(ind))


@_drill("persons_identified")
def _d_persons_identified(ctx: _Ctx, ind: Indicator, dim: str | None, key: str | None) -> DrillDown:
    flags = _identified_flags(ctx, ind)
    facts = _screening_facts(ctx, ind.param("statuses", ()), codes="exploitation_type" in flags.dims)
    rids, pids = _person_drill(ctx, facts, flags, dim, key)
    return _dd(ind, dim, key, {"screening": rids}, pids)


PARAMS["persons_identified"] = lambda cl, ind: _need_codes(ind, "statuses", ind.param("statuses", ()), cl["identification_status"].codes(), required=True)


def _suspect_facts(ctx: _Ctx, *, codes: bool) -> Select[Any]:
    Su = Suspect
    cols: list[Any] = [Su.id.label("rid"), Su.person_id.label("pid"), Su.identified_on.label("on"), Su.arrest_status.label("arrest_status")]
    where = [*ctx.live(Su), ctx.in_period(Su.identified_on)]
    if not codes:
        return select(*cols).where(*where)
    RC = aliased(RecordCode, name="rc")
    return select(*cols, RC.code.label("suspect_role")).join_from(Su, RC, and_(RC.record_id == Su.id, RC.field == "roles"), isouter=True).where(*where)


def _suspect_flags(ctx: _Ctx, ind: Indicator) -> _Flags:
    dims = {"suspect_role": tuple(ctx.codes("suspect_role")), "arrest_status": tuple(ctx.codes("arrest_status"))}
    return _Flags(
        {d: c for d, c in dims.items() if d in ind.disaggregations},
        nullable=frozenset({"arrest_status"}),
        multi=frozenset({"suspect_role"}),
        fields={"suspect_role": "roles"},
    )


def _suspects_def(ctx: _Ctx) -> tuple[tuple[Any, ...], _Build]:
    """One per-person pass over the period's suspects: 1.3.b and the suspects of 7.1.a."""

    inds = [i for i in ctx.wanted if i.rule in ("suspects_identified", "data_completeness")]

    def build() -> tuple[Select[Any], list[_Member], Collection[str]]:
        members = []
        for ind in inds:
            if ind.rule == "suspects_identified":
                members.append(_Member(ind.code, flags=_suspect_flags(ctx, ind)))
            else:
                members.append(_Member(f"{ind.code}#suspect"))
        dims = _wanted_dims([i for i in inds if i.rule == "suspects_identified"], ("sex", "age_group") if any(i.rule == "data_completeness" for i in inds) else ())
        return _suspect_facts(ctx, codes=False), members, dims

    return ("suspects", *(i.code for i in inds)), build


def _suspects_pass(ctx: _Ctx) -> dict[str, _PersonCounts]:
    return ctx.memo("suspects", lambda: _person_pass(ctx, *_suspects_def(ctx), chained=True))


@_rule("suspects_identified")
def _r_suspects(ctx: _Ctx, ind: Indicator) -> _Out:
    pc = _suspects_pass(ctx)[ind.code]
    return _Out(pc.total, breakdown=_counters(pc.breakdown, ind.disaggregations), additive=_additive_person(ind))


@_drill("suspects_identified")
def _d_suspects(ctx: _Ctx, ind: Indicator, dim: str | None, key: str | None) -> DrillDown:
    flags = _suspect_flags(ctx, ind)
    rids, pids = _person_drill(ctx, _suspect_facts(ctx, codes="suspect_role" in flags.dims), flags, dim, key)
    return _dd(ind, dim, key, {"suspect": rids}, pids)


def _case_dates(ctx: _Ctx, order: tuple[str, ...]) -> Any:
    """Per case (of the scope), the first date of each event in ``order``; ``d`` = the first of
    them that exists."""
    E = CaseEvent
    firsts = [func.min(case((E.event == ev, E.on_date), else_=None)) for ev in order]
    q = select(E.case_id.label("case_id"), func.coalesce(*firsts).label("d")).where(E.event.in_(list(order))).group_by(E.case_id)
    if not ctx.national:
        q = q.where(E.case_id.in_(_scope_cases(ctx)))
    return q.subquery("dates")


_COMPENSATION_DATES = ("compensation_paid", "compensation_ordered", "verdict")
_ASSET_DATES = ("assets_disposed", "assets_confiscated", "verdict")


def _compensated(ctx: _Ctx) -> Select[Any]:
    C, CP = Case, CaseParty
    dates = _case_dates(ctx, _COMPENSATION_DATES)
    return (
        select(
            C.id.label("rid"),
            CP.person_id.label("pid"),
            C.registered_on.label("on"),
            CP.compensation_ordered_pkr.label("ordered"),
            CP.compensation_paid_pkr.label("paid"),
        )
        .join_from(C, CP, CP.case_id == C.id)
        .join(dates, dates.c.case_id == C.id)
        .where(*ctx.live(C), CP.party_role == "victim", CP.compensation_paid_pkr > 0, ctx.in_period(dates.c.d))
    )


def _money_pass(ctx: _Ctx) -> dict[str, _PersonCounts]:
    """One per-person pass for 7.5.a and 7.5.b: victims compensated, offenders whose assets were
    confiscated (and disposed of), over one set of per-case dates (the same facts as
    :func:`_compensated` and :func:`_assets`)."""

    def build() -> tuple[Select[Any], list[_Member], Collection[str]]:
        C, CP, E = Case, CaseParty, CaseEvent

        def first(order: tuple[str, ...]) -> Any:
            return func.coalesce(*(func.min(case((E.event == ev, E.on_date), else_=None)) for ev in order))

        dates = select(E.case_id.label("case_id"), first(_COMPENSATION_DATES).label("d_comp"), first(_ASSET_DATES).label("d_assets")).where(
            E.event.in_(sorted(set(_COMPENSATION_DATES) | set(_ASSET_DATES)))
        )
        if not ctx.national:
            dates = dates.where(E.case_id.in_(_scope_cases(ctx)))
        d = dates.group_by(E.case_id).subquery("dates")
        compensated = and_(CP.party_role == "victim", CP.compensation_paid_pkr > 0, ctx.in_period(d.c.d_comp))
        confiscated = and_(CP.party_role == "suspect", CP.assets_confiscated.is_(True), ctx.in_period(d.c.d_assets))
        facts = (
            select(
                C.id.label("rid"),
                CP.person_id.label("pid"),
                C.registered_on.label("on"),
                case((compensated, "compensated"), else_="confiscated").label("kind"),
                case((CP.assets_disposed.is_(True), "disposed"), else_="kept").label("assets"),
            )
            .join_from(C, CP, CP.case_id == C.id)
            .join(d, d.c.case_id == C.id)
            .where(*ctx.live(C), or_(compensated, confiscated))
        )
        members = [
            _Member("compensated", {"kind": ("compensated",)}),
            _Member("confiscated", {"kind": ("confiscated",)}),
            _Member("disposed", {"kind": ("confiscated",), "assets": ("disposed",)}),
        ]
        inds = [i for i in ctx.wanted if i.rule in ("victims_compensated", "offenders_assets")]
        return facts, members, _wanted_dims(inds)

    return ctx.memo("money", lambda: _person_pass(ctx, ("money", *(i.code for i in ctx.wanted if i.rule in ("victims_compensated", "offenders_assets"))), build))


@_rule("victims_compensated")
def _r_compensated(ctx: _Ctx, ind: Indicator) -> _Out:
    pc = _money_pass(ctx)["compensated"]
    total, out = pc.total, pc.breakdown

    def amounts() -> Any:
        f = _compensated(ctx).subquery("f")
        return select(_sum(f.c.ordered), _sum(f.c.paid))

    ordered, paid = ctx.run(("amounts",), amounts)[0]
    bd = _counters(out, ind.disaggregations)
    if "measure" in ind.disaggregations:
        bd["measure"] = {"compensation_ordered_pkr": int(ordered), "compensation_paid_pkr": int(paid)}
    return _Out(total, breakdown=bd, additive=_additive_person(ind))


@_drill("victims_compensated")
def _d_compensated(ctx: _Ctx, ind: Indicator, dim: str | None, key: str | None) -> DrillDown:
    rids, pids = _person_drill(ctx, _compensated(ctx), _Flags({}), None if dim == "measure" else dim, None if dim == "measure" else key)
    return _dd(ind, dim, key, {"case": rids}, pids)


def _assets(ctx: _Ctx, *, disposed: bool) -> Select[Any]:
    C, CP = Case, CaseParty
    dates = _case_dates(ctx, _ASSET_DATES)
    conds = [*ctx.live(C), CP.party_role == "suspect", CP.assets_confiscated.is_(True), ctx.in_period(dates.c.d)]
    if disposed:
        conds.append(CP.assets_disposed.is_(True))
    return (
        select(C.id.label("rid"), CP.person_id.label("pid"), C.registered_on.label("on"))
        .join_from(C, CP, CP.case_id == C.id)
        .join(dates, dates.c.case_id == C.id)
        .where(*conds)
    )


@_rule("offenders_assets")
def _r_assets(ctx: _Ctx, ind: Indicator) -> _Out:
    money = _money_pass(ctx)
    total = money["disposed"].total
    bd = _counters(money["disposed"].breakdown, ind.disaggregations)
    if "measure" in ind.disaggregations:
        bd["measure"] = {"confiscated": money["confiscated"].total, "confiscated_and_disposed": total}
    return _Out(total, breakdown=bd, additive=_additive_person(ind))


@_drill("offenders_assets")
def _d_assets(ctx: _Ctx, ind: Indicator, dim: str | None, key: str | None) -> DrillDown:
    if dim == "measure":
        rids, pids = _person_drill(ctx, _assets(ctx, disposed=key != "confiscated"), _Flags({}), None, None)
    else:
        rids, pids = _person_drill(ctx, _assets(ctx, disposed=True), _Flags({}), dim, key)
    return _dd(ind, dim, key, {"case": rids}, pids)


# --- rules: cases by the people in them --------------------------------------------------------

_INVESTIGATION_ENDS = ("challan_submitted", "verdict", "case_closed", "case_transferred")
_IN_COURT = ("challan_submitted", "trial_started")
_COURT_ENDS = ("verdict", "case_closed", "case_transferred")


def _stage_dates() -> list[Any]:
    """The aggregates over a case's events (``case_events``) of when its investigation ended,
    when it reached court and when its court phase ended (each the first such event's day)."""
    E = CaseEvent

    def first(events: Iterable[str]) -> Any:
        return func.min(case((E.event.in_(list(events)), E.on_date), else_=None))

    return [first(_INVESTIGATION_ENDS).label("investigation_end"), first(_IN_COURT).label("court_from"), first(_COURT_ENDS).label("court_end")]


def _case_stages(ctx: _Ctx) -> Any:
    """Per case (GROUP BY over case_events, one pass): when it reached court, when its
    investigation or court phase ended, and whether it had a conviction in the period."""
    E = CaseEvent
    convicted = and_(E.event == "verdict", E.verdict == "convicted", ctx.in_period(E.on_date))
    return (
        select(E.case_id.label("case_id"), *_stage_dates(), func.max(_flag(convicted)).label("convicted"))
        .where(true() if ctx.national else E.case_id.in_(_scope_cases(ctx)))
        .group_by(E.case_id)
        .subquery("stages")
    )


def _scoped_case_stages(ctx: _Ctx) -> Any:
    """The cases of a unit scope with their stages (the columns of :func:`_case_stages`, and
    ``rid``, ``case_type``, ``reg``), each case joined to its own events.

    NOTE: for a unit this reads the scope's cases once and looks each one's events up in the
    stages index; :func:`_case_stages` (an IN list of the scope's cases, then the cases again,
    joined through an automatic index) took twice the time for a circle's month.
    """
    C, E = Case, CaseEvent
    convicted = and_(E.event == "verdict", E.verdict == "convicted", ctx.in_period(E.on_date))
    return (
        select(
            C.id.label("rid"),
            C.case_type.label("case_type"),
            C.registered_on.label("reg"),
            *_stage_dates(),
            func.max(_flag(convicted)).label("convicted"),
        )
        .join_from(C, E, E.case_id == C.id, isouter=True)
        .where(*ctx.live(C))
        .group_by(C.id, C.case_type, C.registered_on)
        .subquery("stages")
    )


def _chained_case_stages(ctx: _Ctx, chain: int) -> Any:
    """The stages of every case (the columns of :func:`_case_stages`) from the cases' chain
    (:func:`_case_keys_spec`), with its codes; the convictions in the period from the events."""
    T, E = chains.CASES, CaseEvent
    convicted = select(E.case_id).where(E.event == "verdict", E.verdict == "convicted", ctx.in_period(E.on_date))
    return (
        select(T, _flag(T.c.case_id.in_(convicted)).label("convicted"))
        .where(T.c.chain == literal(chain, Integer))
        .subquery("stages")
    )


def _case_condition(ctx: _Ctx, rule: str, st: Any, registered_on: Any = None) -> list[ColumnElement[bool]]:
    """A case's condition of ``rule`` over its stages ``st`` (and its registration date: the
    case's own column unless given)."""
    reg = Case.registered_on if registered_on is None else registered_on
    if rule == "cases_investigated":
        return [reg < ctx.stop, or_(st.c.investigation_end.is_(None), st.c.investigation_end >= ctx.start)]
    if rule == "cases_prosecuted":
        return [st.c.court_from < ctx.stop, or_(st.c.court_end.is_(None), st.c.court_end >= ctx.start)]
    if rule == "cases_convicted":
        return [st.c.convicted == 1]
    raise ConfigError(f"Unknown case rule {rule}.")  # pragma: no cover


def _people_of_cases(ctx: _Ctx, rule: str) -> Any:
    """(case_id, person_id) of the people the breakdowns describe: victims, or suspects."""
    CP = CaseParty
    if rule != "cases_prosecuted":
        return select(CP.case_id.label("case_id"), CP.person_id.label("person_id")).where(CP.party_role == "victim").subquery("people")
    Su = Suspect
    parties = select(CP.case_id.label("case_id"), CP.person_id.label("person_id")).where(CP.party_role == "suspect")
    suspects = select(Su.case_id, Su.person_id).where(Su.case_id.is_not(None), Su.deleted.is_(False), Su.status == "complete")
    if not ctx.national:  # the union is materialised: keep it to the scope's cases
        parties = parties.where(CP.case_id.in_(_scope_cases(ctx)))
        suspects = suspects.where(Su.case_id.in_(_scope_cases(ctx)))
    return union(parties, suspects).subquery("people")


def _scope_cases(ctx: _Ctx) -> Select[Any]:
    return select(Case.id).where(*ctx.live(Case))


def _cases(ctx: _Ctx, rule: str) -> tuple[Select[Any], _Flags]:
    C = Case
    people = _people_of_cases(ctx, rule)
    st = _case_stages(ctx)
    P = aliased(Person, name="p")
    has = people.c.person_id.is_not(None)
    age = _age_at(P, C.registered_on)
    facts = (
        select(
            C.id.label("rid"),
            C.case_type.label("case_type"),
            case((has, func.coalesce(P.sex, "unknown")), else_=NONE).label("sex"),
            case((has, _group_expr(ctx, age)), else_=NONE).label("age_group"),
            case((has, func.coalesce(P.residence_province, "unknown")), else_=NONE).label("location"),
        )
        .join_from(C, st, st.c.case_id == C.id, isouter=True)
        .join(people, people.c.case_id == C.id, isouter=True)
        .join(P, P.id == people.c.person_id, isouter=True)
        .where(*ctx.live(C), *_case_condition(ctx, rule, st))
    )
    return facts, _case_flags(ctx)


def _case_flags(ctx: _Ctx) -> _Flags:
    return _Flags(
        {
            "case_type": tuple(ctx.codes("case_type")),
            "sex": (*ctx.codes("sex"), NONE),
            "age_group": (*ctx.codes("age_group"), NONE),
            "location": (*ctx.codes("province"), NONE),
        }
    )


_CASE_RULES = ("cases_investigated", "cases_prosecuted", "cases_convicted")


def _case_keys_spec(ctx: _Ctx) -> chains.Spec:
    """The cases' chain (:data:`chains.CASES`): per case, for its victims and for its suspects
    (those with a person), the distinct codes of each breakdown — sex, age group on the day the
    case was registered, province — sorted and joined by commas (a case without victims: the
    "none" keys; without suspects: none), as :func:`_cases_statement` counts them; and the days
    of its stages (:func:`_stage_dates`)."""

    def keys(only: Any = None) -> Select[Any]:
        """The rows of every case, or of the cases in the subquery ``only`` (``case_id``)."""

        def where(case_id: Any) -> list[ColumnElement[bool]]:
            return [] if only is None else [case_id.in_(select(only.c.case_id))]

        C, P, E = Case, aliased(Person, name="p"), CaseEvent
        V, S1, S2 = aliased(CaseParty, name="v"), aliased(CaseParty, name="s1"), aliased(Suspect, name="s2")

        def row(side: str, pid: Any) -> list[Any]:
            return [C.id.label("rid"), C.registered_on.label("reg"), literal(side, String).label("side"), pid.label("pid")]

        # NOTE: the condition in each part, on the case: bringing 1,000 people up to date took
        # 3.6 s with it on the grouped rows (every case's people were read, then most left)
        people = union_all(
            select(*row("v", V.person_id)).join_from(C, V, and_(V.case_id == C.id, V.party_role == "victim"), isouter=True).where(*where(C.id)),
            select(*row("s", S1.person_id)).join_from(C, S1, and_(S1.case_id == C.id, S1.party_role == "suspect")).where(*where(C.id)),
            select(*row("s", S2.person_id)).join_from(C, S2, and_(S2.case_id == C.id, *ctx.live(S2, scoped=False))).where(*where(C.id)),
        ).subquery("people")
        kp = (
            select(people, P.sex.label("sex"), P.residence_province.label("province"), _age_at(P, people.c.reg).label("age"))
            .join_from(people, P, P.id == people.c.pid, isouter=True)
            .subquery("kp")
        )
        codes = _case_codes(ctx, kp)
        on_side = {"v": kp.c.side == "v", "s": and_(kp.c.side == "s", kp.c.pid.is_not(None))}

        def distinct_codes(side: str, dim: str) -> Any:
            code = case((on_side[side], codes[dim]), else_=None)
            return func.string_agg(distinct(code), postgresql.aggregate_order_by(literal_column("','"), code))

        found = [distinct_codes(side, dim).label(column) for side, columns in chains.CASE_KEYS.items() for dim, column in columns.items()]
        per_case = select(kp.c.rid, *found).group_by(kp.c.rid).subquery("per_case")
        stages = select(E.case_id, *_stage_dates()).where(*where(E.case_id)).group_by(E.case_id).subquery("stages")
        return select(
            bindparam("chain_id", type_=Integer),
            per_case.c.rid,
            *(per_case.c[c.name] for c in found),
            *(stages.c[n] for n in chains.CASE_STAGES),
        ).join_from(per_case, stages, stages.c.case_id == per_case.c.rid, isouter=True)

    def build() -> chains.Spec:
        rows = keys()
        # the pending cases once (materialised): each part reads them
        pending = keys(select(chains.pending_cases().c.case_id).cte("pending").prefix_with("MATERIALIZED"))
        return chains.Spec(chains.signature(rows, _PG_DIALECT, {}), rows, pending, {}, chains.CASES)

    spec: chains.Spec = ctx.cached(("case keys",), build)
    return spec


def _case_codes(ctx: _Ctx, kp: Any) -> dict[str, ColumnElement[str]]:
    """Breakdown → the code of a row of a case's people (``none`` without a person)."""
    has = kp.c.pid.is_not(None)
    return {
        "sex": case((has, func.coalesce(kp.c.sex, "unknown")), else_=NONE),
        "age_group": case((has, _group_expr(ctx, kp.c.age)), else_=NONE),
        "location": case((has, func.coalesce(kp.c.province, "unknown")), else_=NONE),
    }


def _case_token(ctx: _Ctx, kp: Any) -> ColumnElement[str]:
    """``side|sex|age group|province`` of a row of a case's people (see :func:`_case_codes`)."""
    token: ColumnElement[str] = kp.c.side
    for code in _case_codes(ctx, kp).values():
        token = token.op("||")(literal_column("'|'")).op("||")(code)
    return token


def _cases_statement(ctx: _Ctx, chain: int | None = None) -> Select[Any]:
    """Every case count (7.3.a, 7.3.b, 7.4.a) in one statement; rows (case_type, r0, r1, r2,
    tokens, n): ``n`` cases of that type, of the rules whose ``r<i>`` is 1 (``_CASE_RULES``),
    whose people are described by ``tokens``.

    ``cb``: the cases of any of the rules, with a flag per rule (over the per-case stages read
    once). The people the breakdowns describe, one row per case and person: victims (side
    ``v``) for investigations and convictions — a case without any once, with the "none" keys —,
    suspects (side ``s``: case parties and suspect records, each outer-joined, so each case
    has a row). A token per person (the age computed once per row, fenced), e.g.
    ``v|female|adult|kp``, concatenated per case (GROUP BY case); then GROUP BY the case type,
    the rule flags and the tokens: a row is the number of cases with one combination of codes,
    which Python splits up (a case counts once under every key its people have).

    With the cases' chain (``chain``, national reports on PostgreSQL: :func:`_case_keys_spec`),
    each case's stages and its codes per side and breakdown are columns of the chain (no pass
    over the events or the people), and the statement counts the cases in grouping sets instead:
    by case type and flags, and by flags and each column of codes (``g``: ``grouping()`` of
    those columns); rows (case_type, r0, r1, r2, v_sex … s_loc, g, n).
    """
    C, P = Case, aliased(Person, name="p")
    if chain is not None:  # stages and the people's codes from the cases' chain
        st = _chained_case_stages(ctx, chain)
        conds = [and_(*_case_condition(ctx, rule, st)) for rule in _CASE_RULES]
        codes = [column for keys in chains.CASE_KEYS.values() for column in keys.values()]
        per_case = (
            select(C.case_type, *(_flag(c).label(f"r{i}") for i, c in enumerate(conds)), *(st.c[column] for column in codes))
            .join_from(C, st, st.c.case_id == C.id, isouter=True)
            .where(*ctx.live(C), or_(*conds))
            .subquery("cb")
        )
        flags = [per_case.c[f"r{i}"] for i in range(len(_CASE_RULES))]
        columns = [per_case.c[column] for column in codes]
        sets = [tuple_(per_case.c.case_type, *flags), *(tuple_(*flags, column) for column in columns)]
        return select(per_case.c.case_type, *flags, *columns, func.grouping(*columns).label("g"), func.count().label("n")).group_by(func.grouping_sets(*sets))
    if ctx.national:
        st = _case_stages(ctx)
        conds = [and_(*_case_condition(ctx, rule, st)) for rule in _CASE_RULES]
        cb = (
            select(C.id.label("rid"), C.case_type.label("case_type"), C.registered_on.label("reg"), *(_flag(c).label(f"r{i}") for i, c in enumerate(conds)))
            .join_from(C, st, st.c.case_id == C.id, isouter=True)
            .where(*ctx.live(C), or_(*conds))
        )
    else:
        st = _scoped_case_stages(ctx)
        conds = [and_(*_case_condition(ctx, rule, st, st.c.reg)) for rule in _CASE_RULES]
        cb = select(st.c.rid, st.c.case_type, st.c.reg, *(_flag(c).label(f"r{i}") for i, c in enumerate(conds))).where(or_(*conds))
    cb = _materialized(cb, "cb")
    flags = [cb.c[f"r{i}"] for i in range(len(_CASE_RULES))]
    V, S1, S2 = aliased(CaseParty, name="v"), aliased(CaseParty, name="s1"), aliased(Suspect, name="s2")
    rid = _Unindexed(cb.c.rid)  # from each case to its people (never all people to the cases)

    def row(side: str | None, pid: Any) -> list[Any]:
        return [cb.c.rid, cb.c.case_type, *flags, cb.c.reg, literal(side, String).label("side"), pid.label("pid")]

    # NOTE: outer joins all three, so SQLite keeps each case the outer loop and looks its
    # people up by case (an inner join let it scan every party nationwide against the cases).
    people = union_all(
        select(*row("v", V.person_id))
        .join_from(cb, V, and_(V.case_id == rid, V.party_role == "victim"), isouter=True)
        .where(or_(cb.c.r0 == 1, cb.c.r2 == 1)),
        select(*row("s", S1.person_id)).join_from(cb, S1, and_(S1.case_id == rid, S1.party_role == "suspect"), isouter=True).where(cb.c.r1 == 1),
        select(*row("s", S2.person_id)).join_from(cb, S2, and_(S2.case_id == rid, *ctx.live(S2, scoped=False)), isouter=True).where(cb.c.r1 == 1),
    ).subquery("people")
    kp = _fence(
        select(people, P.sex.label("sex"), P.residence_province.label("province"), _age_at(P, people.c.reg).label("age")).join_from(
            people, P, _person_join(P, people.c.pid), isouter=True
        )
    ).subquery("kp")
    has = kp.c.pid.is_not(None)
    token = _case_token(ctx, kp)
    per_case = (
        select(
            func.max(kp.c.case_type).label("case_type"),
            *(func.max(kp.c[f"r{i}"]).label(f"r{i}") for i in range(len(_CASE_RULES))),
            # a suspect row without a person only stands for the case (no "none" key: the
            # other source may have suspects; none at all reads as "none" in Python)
            _GroupConcat(case((or_(kp.c.side == "v", has), token), else_=None)).label("tokens"),
        )
        .group_by(kp.c.rid)
        .subquery("per_case")
    )
    keys = [per_case.c.case_type, *(per_case.c[f"r{i}"] for i in range(len(_CASE_RULES))), per_case.c.tokens]
    return select(*keys, func.count().label("n")).group_by(*keys)


@contextmanager
def _pg_planner(ctx: _Ctx, **settings: str) -> Iterator[None]:
    """PostgreSQL: planner settings for the statements run inside, then back as they were
    (``SET LOCAL``: nothing outlives the report's transaction). Nothing on other dialects.

    NOTE: for the national case counts: the planner cannot know how many of the materialised
    cases each rule keeps (it takes 1 %; it is nearly all) and looked every case's parties,
    suspects and persons up one by one (45,000 lookups at 1M records, 0.87 s); joined whole
    (merge and hash joins) it took 0.47-0.59 s. A unit's cases are few, and looked up.
    """
    conn = ctx.s.connection()
    if conn.dialect.name != "postgresql":
        yield
        return
    before = {name: conn.exec_driver_sql(f"SELECT current_setting('{name}')").scalar_one() for name in settings}
    for name, value in settings.items():
        conn.exec_driver_sql(f"SET LOCAL {name} = '{value}'")
    try:
        yield
    finally:
        for name, value in before.items():
            conn.exec_driver_sql(f"SET LOCAL {name} = '{value}'")


def _cases_pass(ctx: _Ctx) -> dict[str, tuple[int, dict[str, Counter[str]]]]:
    """Rule → (cases, breakdowns) for 7.3.a, 7.3.b and 7.4.a (see :func:`_cases_statement`)."""

    def run() -> dict[str, tuple[int, dict[str, Counter[str]]]]:
        listed = {d: set(codes) for d, codes in _case_flags(ctx).dims.items()}
        dims = ("sex", "age_group", "location")
        sides = ("v", "s", "v")  # the people of each rule: victims, suspects, victims
        totals = [0] * len(_CASE_RULES)
        outs: list[dict[str, Counter[str]]] = [defaultdict(Counter) for _ in _CASE_RULES]

        def cases(flags: Iterable[int], case_type: str, n: int) -> None:
            for i, flag in enumerate(flags):
                if flag:
                    totals[i] += n
                    if case_type in listed["case_type"]:
                        outs[i]["case_type"][case_type] += n

        def people(flags: Iterable[int], side: str, dim: str, codes: Collection[str], n: int) -> None:
            """``n`` cases of ``flags`` whose people on ``side`` have ``codes`` (none: the "none" key)."""
            for i, flag in enumerate(flags):
                if flag and sides[i] == side:
                    for code in codes or (NONE,):
                        if code in listed[dim]:
                            outs[i][dim][code] += n

        chain = ctx.chains.get(_case_keys_spec(ctx).signature) if ctx.chains else None
        if chain is not None:  # a grouping set by case type, and one per column of codes
            columns = [(side, dim) for side, keys in chains.CASE_KEYS.items() for dim in keys]
            by_type = (1 << len(columns)) - 1
            for case_type, *rest in ctx.run(("cases", chain), lambda: _cases_statement(ctx, chain)):
                flags, values, (g, n) = rest[: len(_CASE_RULES)], rest[len(_CASE_RULES) : -2], rest[-2:]
                if g == by_type:
                    cases(flags, case_type, int(n))
                    continue
                j = next(j for j in range(len(columns)) if not g >> (len(columns) - 1 - j) & 1)
                people(flags, *columns[j], values[j].split(",") if values[j] else (), int(n))
            return {rule: (totals[i], outs[i]) for i, rule in enumerate(_CASE_RULES)}
        with _pg_planner(ctx, enable_nestloop="off") if ctx.national else nullcontext():
            rows = ctx.run(("cases",), lambda: _cases_statement(ctx))
        parsed: dict[str | None, dict[str, list[set[str]]]] = {}
        for case_type, *rest in rows:
            *flags, tokens, n = rest
            keys = parsed.get(tokens)
            if keys is None:
                keys = parsed[tokens] = {side: [set() for _ in dims] for side in ("v", "s")}
                for token in (tokens or "").split(","):
                    parts = token.split("|")
                    if len(parts) == 1 + len(dims) and parts[0] in keys:
                        for found, code in zip(keys[parts[0]], parts[1:]):
                            found.add(code)
            cases(flags, case_type, int(n))
            for side, found_by_dim in keys.items():
                for dim, found in zip(dims, found_by_dim):
                    people(flags, side, dim, found, int(n))
        return {rule: (totals[i], outs[i]) for i, rule in enumerate(_CASE_RULES)}

    return ctx.memo("cases", run)


def _r_cases(ctx: _Ctx, ind: Indicator) -> _Out:
    total, out = _cases_pass(ctx)[ind.rule]
    bd = _counters(out, ind.disaggregations)
    if ind.rule == "cases_convicted" and "measure" in ind.disaggregations:
        bd["measure"] = {"cases": total, "convicted_persons": int(ctx.run(("convicted_persons",), lambda: _convicted_persons(ctx))[0][0] or 0)}
    return _Out(total, breakdown=bd, additive=("case_type",) if "case_type" in ind.disaggregations else ())


def _convicted_persons(ctx: _Ctx) -> Select[Any]:
    E = CaseEvent
    return (
        select(func.count(func.distinct(E.person_id)))
        .join_from(E, Case, Case.id == E.case_id)
        .where(*ctx.live(Case), E.event == "verdict", E.verdict == "convicted", ctx.in_period(E.on_date))
    )


def _d_cases(ctx: _Ctx, ind: Indicator, dim: str | None, key: str | None) -> DrillDown:
    facts, flags = _cases(ctx, ind.rule)
    f = facts.subquery("f")
    stmt = select(f.c.rid).distinct()
    if dim is not None and dim != "measure":
        if dim not in flags.dims:
            raise ValidationError(f"This indicator cannot be drilled down by {dim}.", {"disaggregation": "unknown"})
        stmt = stmt.where(f.c[dim] == key)
    return _dd(ind, dim, key, {"case": ctx.scalars(stmt)})


for _name in ("cases_investigated", "cases_prosecuted", "cases_convicted"):
    RULES[_name] = _r_cases
    DRILLS[_name] = _d_cases


@_rule("cases_change")
def _r_cases_change(ctx: _Ctx, ind: Indicator) -> _Out:
    C, E = Case, CaseEvent

    def reported_stmt() -> Select[Any]:
        cur_c, prev_c = ctx.in_period(C.registered_on), ctx.in_period(C.registered_on, previous=True)
        return (
            select(C.case_type, _sum(_flag(cur_c)).label("cur"), _sum(_flag(prev_c)).label("prev"))
            .where(*ctx.live(C), C.registered_on >= ctx.prev_start, C.registered_on < ctx.stop)
            .group_by(C.case_type)
        )

    def dealt_stmt() -> Select[Any]:
        stmt = select(
            func.count(func.distinct(case((ctx.in_period(E.on_date), E.case_id), else_=None))),
            func.count(func.distinct(case((ctx.in_period(E.on_date, previous=True), E.case_id), else_=None))),
        ).where(E.event.in_(["challan_submitted", "verdict", "case_closed"]), E.on_date >= ctx.prev_start, E.on_date < ctx.stop)
        if ctx.national:
            return stmt.join_from(E, C, C.id == E.case_id).where(*ctx.live(C))
        return stmt.where(E.case_id.in_(_scope_cases(ctx)))  # the scope's live cases: no case row read

    reported = ctx.run(("cases_reported",), reported_stmt)
    dealt = ctx.run(("cases_dealt_with",), dealt_stmt)[0]
    cur = sum(int(r.cur) for r in reported)
    before = sum(int(r.prev) for r in reported)
    d_cur, d_prev = int(dealt[0]), int(dealt[1])
    bd: dict[str, dict[str, Number]] = {
        "measure": {
            "reported": cur,
            "reported_previous": before,
            "dealt_with": d_cur,
            "dealt_with_previous": d_prev,
            "dealt_with_change": d_cur - d_prev,
        },
        "case_type": {r.case_type: int(r.cur) - int(r.prev) for r in reported},
    }
    status = f"Reported {cur} (previous period {before}, {_signed(cur - before)}); dealt with {d_cur} (previous period {d_prev}, {_signed(d_cur - d_prev)})"
    return _Out(cur - before, cur, before, bd, status=status, previous=before, additive=("case_type",))


@_drill("cases_change")
def _d_cases_change(ctx: _Ctx, ind: Indicator, dim: str | None, key: str | None) -> DrillDown:
    C, E = Case, CaseEvent
    if dim == "measure" and key and key.startswith("dealt_with"):
        stmt = (
            select(E.case_id)
            .join_from(E, C, C.id == E.case_id)
            .where(*ctx.live(C), E.event.in_(["challan_submitted", "verdict", "case_closed"]), ctx.in_period(E.on_date, previous=key == "dealt_with_previous"))
            .distinct()
        )
    else:
        stmt = select(C.id).where(*ctx.live(C), ctx.in_period(C.registered_on, previous=key == "reported_previous"))
        if dim == "case_type":
            stmt = select(C.id).where(*ctx.live(C), C.case_type == key, C.registered_on >= ctx.prev_start, C.registered_on < ctx.stop)
    return _dd(ind, dim, key, {"case": ctx.scalars(stmt)})


def _signed(n: Number) -> str:
    return f"+{n}" if n > 0 else f"{n}" if n < 0 else "no change"


# --- rules: witnesses and providers --------------------------------------------------------------


def _providers_cube(ctx: _Ctx) -> list[Any]:
    SPr = ServiceProvider

    def build() -> Select[Any]:
        return (
            select(
                SPr.provider_type,
                func.count().label("n"),
                _sum(_flag(SPr.uses_sops.is_(True))).label("uses_sops"),
                _sum(_flag(SPr.capacity_strengthened_on < ctx.stop)).label("capacity_strengthened"),
                _sum(_flag(ctx.in_period(SPr.capacity_strengthened_on))).label("strengthened_in_period"),
            )
            .where(*ctx.live(SPr), ctx.recorded_by_end(SPr))
            .group_by(SPr.provider_type)
        )

    return ctx.memo("providers", lambda: ctx.run(("providers",), build))


@_rule("providers_flag")
def _r_providers_flag(ctx: _Ctx, ind: Indicator) -> _Out:
    flag = ind.param("flag")
    rows = _providers_cube(ctx)
    num = sum(int(getattr(r, flag)) for r in rows)
    den = sum(int(r.n) for r in rows)
    bd = {"provider_type": {r.provider_type: int(getattr(r, flag)) for r in rows}}
    return _Out(num, num, den, bd, additive=("provider_type",))


PARAMS["providers_flag"] = lambda cl, ind: _need_codes(ind, "flag", [ind.param("flag")], {"uses_sops", "capacity_strengthened"}, required=True)


@_drill("providers_flag")
def _d_providers_flag(ctx: _Ctx, ind: Indicator, dim: str | None, key: str | None) -> DrillDown:
    SPr = ServiceProvider
    cond = SPr.uses_sops.is_(True) if ind.param("flag") == "uses_sops" else SPr.capacity_strengthened_on < ctx.stop
    stmt = select(SPr.id).where(*ctx.live(SPr), ctx.recorded_by_end(SPr), cond)
    if dim == "provider_type":
        stmt = stmt.where(SPr.provider_type == key)
    return _dd(ind, dim, key, {"service_provider": ctx.scalars(stmt)})


@_rule("witnesses_providers_supported")
def _r_wit_prov_supported(ctx: _Ctx, ind: Indicator) -> _Out:
    pc = _services_pass(ctx)[ind.code]
    witnesses = pc.total
    providers = sum(int(r.strengthened_in_period) for r in _providers_cube(ctx))
    bd = _counters(pc.breakdown, ind.disaggregations)
    bd["component"] = {"witness": witnesses, "service_provider": providers}
    for d in ("sex", "age_group"):
        if d in bd:
            bd[d][ORGANISATION] = providers
    if "support_type" in bd:
        bd["support_type"]["capacity_building"] = providers
    return _Out(witnesses + providers, breakdown=bd, additive=tuple(d for d in ("component", "sex", "age_group") if d in bd))


@_drill("witnesses_providers_supported")
def _d_wit_prov_supported(ctx: _Ctx, ind: Indicator, dim: str | None, key: str | None) -> DrillDown:
    SPr = ServiceProvider
    providers_key = key in (ORGANISATION, "capacity_building", "service_provider")
    records: dict[str, list[str]] = {}
    pids: list[str] = []
    if dim is None or not providers_key:
        roles, types = _served_scope(ctx, ind)
        person_dim = None if dim == "component" else dim
        rids, pids = _person_drill(ctx, _served_facts(ctx, roles, types), _served_flags(ctx, ind), person_dim, None if person_dim is None else key)
        records["service"] = rids
    if dim is None or providers_key:
        records["service_provider"] = list(
            ctx.scalars(select(SPr.id).where(*ctx.live(SPr), ctx.recorded_by_end(SPr), ctx.in_period(SPr.capacity_strengthened_on)))
        )
    return _dd(ind, dim, key, records, pids)


def _witnesses(ctx: _Ctx) -> Select[Any]:
    C, CP = Case, CaseParty
    return (
        select(C.id.label("rid"), CP.person_id.label("pid"), C.registered_on.label("on"))
        .join_from(C, CP, CP.case_id == C.id)
        .where(*ctx.live(C), CP.party_role == "witness", C.registered_on < ctx.stop)
    )


@_rule("witnesses_providers")
def _r_wit_prov(ctx: _Ctx, ind: Indicator) -> _Out:
    witnesses, out = _persons(ctx, ("witnesses",), lambda: _witnesses(ctx), _Flags({}), ind.disaggregations)
    rows = _providers_cube(ctx)
    providers = sum(int(r.n) for r in rows)
    bd = _counters(out, ind.disaggregations)
    bd["component"] = {"witness": witnesses, "service_provider": providers}
    if "sex" in bd:
        bd["sex"][ORGANISATION] = providers
    if "provider_type" in ind.disaggregations:
        bd["provider_type"] = {r.provider_type: int(r.n) for r in rows}
    return _Out(witnesses + providers, breakdown=bd, additive=tuple(d for d in ("component", "sex") if d in bd))


@_drill("witnesses_providers")
def _d_wit_prov(ctx: _Ctx, ind: Indicator, dim: str | None, key: str | None) -> DrillDown:
    SPr = ServiceProvider
    providers_only = dim == "provider_type" or key in (ORGANISATION, "service_provider")
    records: dict[str, list[str]] = {}
    pids: list[str] = []
    if not providers_only:
        rids, pids = _person_drill(ctx, _witnesses(ctx), _Flags({}), dim if dim == "sex" else None, key if dim == "sex" else None)
        records["case"] = rids
    if dim is None or providers_only:
        stmt = select(SPr.id).where(*ctx.live(SPr), ctx.recorded_by_end(SPr))
        if dim == "provider_type":
            stmt = stmt.where(SPr.provider_type == key)
        records["service_provider"] = list(ctx.scalars(stmt))
    return _dd(ind, dim, key, records, pids)


# --- rules: coordination -------------------------------------------------------------------------


def _entity_in_place(ctx: _Ctx) -> list[ColumnElement[bool]]:
    CE = CoordinationEntity
    return [
        *ctx.live(CE),
        or_(CE.established_on < ctx.stop, and_(CE.established_on.is_(None), ctx.recorded_by_end(CE))),
    ]


def _entity_functional(ctx: _Ctx) -> ColumnElement[bool]:
    CE, CM = CoordinationEntity, CoordinationMeeting
    met = exists().where(CM.entity_id == CE.id, *ctx.live(CM, scoped=False), ctx.in_period(CM.held_on))
    return and_(CE.functional.is_(True), met)


def _coordination_cube(ctx: _Ctx) -> list[Any]:
    CE = CoordinationEntity

    def build() -> Select[Any]:
        members = func.coalesce(CE.members_female, 0) + func.coalesce(CE.members_male, 0) + func.coalesce(CE.members_transgender, 0)
        return (
            select(
                CE.level,
                func.count().label("n"),
                _sum(_flag(_entity_functional(ctx))).label("functional"),
                _sum(CE.members_female).label("women"),
                _sum(members).label("members"),
            )
            .where(*_entity_in_place(ctx))
            .group_by(CE.level)
        )

    return ctx.memo("coordination", lambda: ctx.run(("coordination",), build))


@_rule("coordination_status")
def _r_coord_status(ctx: _Ctx, ind: Indicator) -> _Out:
    rows = _coordination_cube(ctx)
    functional = sum(int(r.functional) for r in rows)
    in_place = sum(int(r.n) for r in rows)
    status = "in place and functional" if functional else "in place, not functional" if in_place else "not in place"
    bd = {"level": {r.level: int(r.functional) for r in rows}}
    return _Out(1 if functional else 0, functional, in_place, bd, status=status)


@_rule("coordination_operating")
def _r_coord_operating(ctx: _Ctx, ind: Indicator) -> _Out:
    rows = _coordination_cube(ctx)
    functional = sum(int(r.functional) for r in rows)
    return _Out(functional, functional, sum(int(r.n) for r in rows), {"level": {r.level: int(r.functional) for r in rows}}, additive=("level",))


@_rule("coordination_women")
def _r_coord_women(ctx: _Ctx, ind: Indicator) -> _Out:
    rows = _coordination_cube(ctx)
    women = sum(int(r.women) for r in rows)
    return _Out(women, women, sum(int(r.members) for r in rows), {"level": {r.level: int(r.women) for r in rows}}, additive=("level",))


def _d_coordination(ctx: _Ctx, ind: Indicator, dim: str | None, key: str | None) -> DrillDown:
    CE = CoordinationEntity
    conds = list(_entity_in_place(ctx))
    if ind.rule != "coordination_women":
        conds.append(_entity_functional(ctx))
    if dim == "level":
        conds.append(CE.level == key)
    return _dd(ind, dim, key, {"coordination_entity": ctx.scalars(select(CE.id).where(*conds))})


for _name in ("coordination_status", "coordination_operating", "coordination_women"):
    DRILLS[_name] = _d_coordination


@_rule("coordination_gaps")
def _r_gaps(ctx: _Ctx, ind: Indicator) -> _Out:
    G, CE = CoordinationGap, CoordinationEntity

    def build() -> Select[Any]:
        level = func.coalesce(CE.level, NONE).label("level")
        return (
            select(level, _sum(_flag(ctx.in_period(G.addressed_on))).label("addressed"), func.count().label("open"))
            .join_from(G, CE, CE.id == G.entity_id, isouter=True)
            .where(*ctx.live(G), G.identified_on < ctx.stop, or_(G.addressed_on.is_(None), G.addressed_on >= ctx.start))
            .group_by(level)
        )

    rows = ctx.run(("gaps",), build)
    addressed = sum(int(r.addressed) for r in rows)
    return _Out(addressed, addressed, sum(int(r.open) for r in rows), {"level": {r.level: int(r.addressed) for r in rows}}, additive=("level",))


@_drill("coordination_gaps")
def _d_gaps(ctx: _Ctx, ind: Indicator, dim: str | None, key: str | None) -> DrillDown:
    G, CE = CoordinationGap, CoordinationEntity
    stmt = select(G.id).join_from(G, CE, CE.id == G.entity_id, isouter=True).where(*ctx.live(G), ctx.in_period(G.addressed_on))
    if dim == "level":
        stmt = stmt.where(func.coalesce(CE.level, NONE) == key)
    return _dd(ind, dim, key, {"coordination_gap": ctx.scalars(stmt)})


# --- rules: surveys ------------------------------------------------------------------------------


def _survey_cube(ctx: _Ctx, topic: str, min_sat: int, strengthened_only: bool, previous: bool) -> list[Any]:
    R, SPr = SurveyResponse, ServiceProvider

    def build() -> Select[Any]:
        # NOTE: GROUP BY the very label objects of the SELECT, so both render the same bound
        # parameters (PostgreSQL refuses a GROUP BY whose literals are other parameters).
        keys = [
            func.coalesce(R.sex, "unknown").label("sex"),
            func.coalesce(R.age_group, "unknown").label("age_group"),
            func.coalesce(func.nullif(func.trim(R.district), ""), "unknown").label("district"),
            func.coalesce(SPr.provider_type, NONE).label("provider_type"),
        ]
        stmt = (
            select(*keys, func.count().label("n"), _sum(_flag(R.satisfaction >= min_sat)).label("satisfied"))
            .join_from(R, SPr, SPr.id == R.provider_id, isouter=True)
            .where(*ctx.live(R), R.survey_topic == topic, ctx.in_period(R.responded_on, previous=previous))
            .group_by(*keys)
        )
        if strengthened_only:
            stmt = stmt.where(SPr.deleted.is_(False), SPr.capacity_strengthened_on <= R.responded_on)
        return stmt

    key = ("survey", topic, min_sat, strengthened_only, previous)
    return ctx.memo(key, lambda: ctx.run(key, build))


@_rule("survey_satisfied")
def _r_survey(ctx: _Ctx, ind: Indicator) -> _Out:
    args = (ind.param("topic"), int(ind.param("min_satisfaction", 4)), bool(ind.param("strengthened_providers_only", False)))
    rows = _survey_cube(ctx, *args, False)
    fractions: dict[str, dict[str, tuple[Number, Number]]] = {}
    for d in ind.disaggregations:
        acc: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for r in rows:
            cell = acc[getattr(r, d)]
            cell[0] += int(r.satisfied)
            cell[1] += int(r.n)
        fractions[d] = {k: (a, b) for k, (a, b) in acc.items()}
    num = sum(int(r.satisfied) for r in rows)
    den = sum(int(r.n) for r in rows)
    out = _percent_out(num, den, fractions, ind.disaggregations)
    if ind.param("with_previous", False):
        prev = _survey_cube(ctx, *args, True)
        out.previous = _pct(sum(int(r.satisfied) for r in prev), sum(int(r.n) for r in prev))
        if out.value is not None and out.previous is not None:
            diff = out.value - out.previous
            out.status = f"{'increased' if diff > 0 else 'decreased' if diff < 0 else 'unchanged'} by {abs(diff):.1f} percentage points"
        else:
            out.status = "no comparison: no responses in the " + ("previous period" if out.value is not None else "period")
    return out


PARAMS["survey_satisfied"] = lambda cl, ind: _need_codes(ind, "topic", [ind.param("topic")], cl["survey_topic"].codes(), required=True)


@_drill("survey_satisfied")
def _d_survey(ctx: _Ctx, ind: Indicator, dim: str | None, key: str | None) -> DrillDown:
    R, SPr = SurveyResponse, ServiceProvider
    stmt = (
        select(R.id)
        .join_from(R, SPr, SPr.id == R.provider_id, isouter=True)
        .where(*ctx.live(R), R.survey_topic == ind.param("topic"), ctx.in_period(R.responded_on))
    )
    if ind.param("strengthened_providers_only", False):
        stmt = stmt.where(SPr.deleted.is_(False), SPr.capacity_strengthened_on <= R.responded_on)
    cols = {
        "sex": func.coalesce(R.sex, "unknown"),
        "age_group": func.coalesce(R.age_group, "unknown"),
        "district": func.coalesce(func.nullif(func.trim(R.district), ""), "unknown"),
        "provider_type": func.coalesce(SPr.provider_type, NONE),
    }
    if dim is not None:
        stmt = stmt.where(cols[dim] == key)
    return _dd(ind, dim, key, {"survey_response": ctx.scalars(stmt)})


_AWARENESS_ANSWERS = ("survey_named_forms", "survey_knew_what_to_do", "survey_knew_where_to_report", "survey_acted_on_followup")


def _awareness(ctx: _Ctx) -> tuple[list[Any], list[Any]]:
    A = AwarenessSession
    RC = RecordCode

    def build() -> tuple[Select[Any], Select[Any]]:
        sums = [_sum(A.survey_respondents).label("respondents"), *(_sum(getattr(A, a)).label(a) for a in _AWARENESS_ANSWERS)]
        district = func.coalesce(func.nullif(func.trim(A.district), ""), "unknown").label("district")
        by_venue = select(A.venue_type, district, *sums).where(*ctx.live(A), ctx.in_period(A.held_on)).group_by(A.venue_type, district)
        by_audience = (
            select(RC.code.label("audience_group"), *sums)
            .join_from(A, RC, _codes_join(RC, A.id, "audience_groups"))
            .where(*ctx.live(A), ctx.in_period(A.held_on))
            .group_by(RC.code)
        )
        return by_venue, by_audience

    def run() -> tuple[list[Any], list[Any]]:
        by_venue, by_audience = ctx.cached(("awareness",), build)
        return ctx.fetch(by_venue), ctx.fetch(by_audience)

    return ctx.memo("awareness", run)


@_rule("awareness_survey")
def _r_awareness(ctx: _Ctx, ind: Indicator) -> _Out:
    answer = ind.param("answer")
    by_venue, by_audience = _awareness(ctx)
    fractions: dict[str, dict[str, tuple[Number, Number]]] = {}
    for d, rows in (("venue_type", by_venue), ("district", by_venue), ("audience_group", by_audience)):
        if d not in ind.disaggregations:
            continue
        acc: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for r in rows:
            cell = acc[getattr(r, d)]
            cell[0] += int(getattr(r, answer))
            cell[1] += int(r.respondents)
        fractions[d] = {k: (a, b) for k, (a, b) in acc.items() if b}
    num = sum(int(getattr(r, answer)) for r in by_venue)
    den = sum(int(r.respondents) for r in by_venue)
    return _percent_out(num, den, fractions, additive=[d for d in ("venue_type", "district") if d in fractions])


PARAMS["awareness_survey"] = lambda cl, ind: _need_codes(ind, "answer", [ind.param("answer")], set(_AWARENESS_ANSWERS), required=True)


@_drill("awareness_survey")
def _d_awareness(ctx: _Ctx, ind: Indicator, dim: str | None, key: str | None) -> DrillDown:
    A, RC = AwarenessSession, RecordCode
    stmt = select(A.id).where(*ctx.live(A), ctx.in_period(A.held_on), A.survey_respondents > 0)
    if dim == "venue_type":
        stmt = stmt.where(A.venue_type == key)
    elif dim == "district":
        stmt = stmt.where(func.coalesce(func.nullif(func.trim(A.district), ""), "unknown") == key)
    elif dim == "audience_group":
        stmt = stmt.where(exists().where(RC.record_id == A.id, RC.field == "audience_groups", RC.code == key))
    return _dd(ind, dim, key, {"awareness_session": ctx.scalars(stmt)})


# --- rules: trainings ----------------------------------------------------------------------------


def _training_topics(ctx: _Ctx) -> Any:
    """Live trainings of the period with one flag per training_topic group (GROUP BY training)."""
    T, RC = Training, RecordCode
    groups = ctx.cl["training_topic"].groups()
    flags = [func.max(_flag(RC.code.in_(ctx.codes("training_topic", groups=[g])))).label(f"t_{g}") for g in groups]
    return (
        select(T.id.label("tid"), *flags)
        .join_from(T, RC, _codes_join(RC, T.id, "topics"))
        .where(*ctx.live(T), ctx.in_period(T.held_from))
        .group_by(T.id)
        .subquery("t")
    )


def _trainings(ctx: _Ctx) -> list[Any]:
    N = RecordCount

    def build() -> Select[Any]:
        groups = ctx.cl["training_topic"].groups()
        t = _training_topics(ctx)
        tflags = [t.c[f"t_{g}"] for g in groups]
        return (
            select(N.field, N.dim1.label("institution"), N.dim2.label("sex"), *tflags, _sum(N.n).label("n"))
            .join_from(t, N, N.record_id == t.c.tid)
            .where(_via_record(N.field).in_(["trainees", "increased_knowledge"]))
            .group_by(N.field, N.dim1, N.dim2, *tflags)
        )

    return ctx.memo("trainings", lambda: ctx.run(("trainings",), build))


def _training_rows(ctx: _Ctx, ind: Indicator, fieldname: str) -> list[Any]:
    institutions = set(ctx.codes("trainee_institution", groups=ind.param("institution_groups", ())))
    sexes = set(ind.param("sexes", ())) or None
    topics = ind.param("topic_groups", ())
    return [
        r
        for r in _trainings(ctx)
        if r.field == fieldname
        and r.institution in institutions
        and (sexes is None or r.sex in sexes)
        and any(getattr(r, f"t_{g}") for g in topics)
    ]


@_rule("trainees_increased")
def _r_trainees(ctx: _Ctx, ind: Indicator) -> _Out:
    rows = _training_rows(ctx, ind, "increased_knowledge")
    acc: dict[str, Counter[str]] = {"sex": Counter(), "institution": Counter()}
    for r in rows:
        acc["sex"][r.sex] += int(r.n)
        acc["institution"][r.institution] += int(r.n)
    total = sum(int(r.n) for r in rows)
    return _Out(total, breakdown=_counters(acc, ind.disaggregations), additive=tuple(ind.disaggregations))


@_rule("trainees_increased_share")
def _r_trainees_share(ctx: _Ctx, ind: Indicator) -> _Out:
    num_rows = _training_rows(ctx, ind, "increased_knowledge")
    den_rows = _training_rows(ctx, ind, "trainees")
    acc: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in num_rows:
        acc[r.institution][0] += int(r.n)
    for r in den_rows:
        acc[r.institution][1] += int(r.n)
    fractions = {"institution": {k: (a, b) for k, (a, b) in acc.items()}}
    return _percent_out(sum(int(r.n) for r in num_rows), sum(int(r.n) for r in den_rows), fractions, ("institution",))


def _check_trainings(cl: CodeLists, ind: Indicator) -> None:
    _need_codes(ind, "institution_groups", ind.param("institution_groups", ()), set(cl["trainee_institution"].groups()), required=True)
    _need_codes(ind, "topic_groups", ind.param("topic_groups", ()), set(cl["training_topic"].groups()), required=True)
    _need_codes(ind, "sexes", ind.param("sexes", ()), cl["sex"].codes())


PARAMS["trainees_increased"] = PARAMS["trainees_increased_share"] = _check_trainings


def _d_trainings(ctx: _Ctx, ind: Indicator, dim: str | None, key: str | None) -> DrillDown:
    N = RecordCount
    t = _training_topics(ctx)
    institutions = ctx.codes("trainee_institution", groups=ind.param("institution_groups", ()))
    conds = [N.record_id == t.c.tid, N.field == "increased_knowledge", N.n > 0, N.dim1.in_(institutions)]
    if sexes := ind.param("sexes", ()):
        conds.append(N.dim2.in_(list(sexes)))
    if dim == "sex":
        conds.append(N.dim2 == key)
    elif dim == "institution":
        conds.append(N.dim1 == key)
    stmt = select(t.c.tid).where(or_(*(t.c[f"t_{g}"] == 1 for g in ind.param("topic_groups", ()))), exists().where(*conds))
    return _dd(ind, dim, key, {"training": ctx.scalars(stmt)})


DRILLS["trainees_increased"] = DRILLS["trainees_increased_share"] = _d_trainings


# --- rules: checkpoints, milestones, data use ----------------------------------------------------

_CHECKPOINT_MEASURES = (
    "passengers_screened",
    "referred_second_line",
    "offloaded",
    "fraudulent_documents",
    "intercepted",
    "biometric_checks",
    "biometric_failed",
)


@_rule("checkpoint_monitoring")
def _r_checkpoints(ctx: _Ctx, ind: Indicator) -> _Out:
    L = CheckpointLog
    rows = ctx.run(
        ("checkpoints",),
        lambda: select(
            L.checkpoint_type,
            func.count(func.distinct(L.unit)).label("checkpoints"),
            func.count().label("daily_logs"),
            *(_sum(getattr(L, m)).label(m) for m in _CHECKPOINT_MEASURES),
        )
        .where(*ctx.live(L), ctx.in_period(L.log_date))
        .group_by(L.checkpoint_type),
    )
    total = sum(int(r.checkpoints) for r in rows)
    measures = {m: sum(int(getattr(r, m)) for r in rows) for m in ("daily_logs", *_CHECKPOINT_MEASURES)}
    bd = {"checkpoint_type": {r.checkpoint_type: int(r.checkpoints) for r in rows}, "measure": measures}
    return _Out(total, breakdown=bd, additive=("checkpoint_type",))


@_drill("checkpoint_monitoring")
def _d_checkpoints(ctx: _Ctx, ind: Indicator, dim: str | None, key: str | None) -> DrillDown:
    L = CheckpointLog
    stmt = select(L.id).where(*ctx.live(L), ctx.in_period(L.log_date))
    if dim == "checkpoint_type":
        stmt = stmt.where(L.checkpoint_type == key)
    elif dim == "measure" and key in _CHECKPOINT_MEASURES:
        stmt = stmt.where(getattr(L, key) > 0)
    return _dd(ind, dim, key, {"checkpoint_log": ctx.scalars(stmt)})


_PROGRESS_ORDER = ("achieved", "in_progress", "delayed", "planned", "dropped")


def _milestone_progress(ctx: _Ctx) -> ColumnElement[str]:
    M = Milestone
    achieved_by_end = and_(M.progress == "achieved", or_(M.achieved_on.is_(None), M.achieved_on < ctx.stop))
    return case((achieved_by_end, "achieved"), (M.progress == "achieved", "in_progress"), else_=M.progress)


def _milestones(ctx: _Ctx) -> dict[str, dict[str, int]]:
    M = Milestone

    def build() -> Select[Any]:
        progress = _milestone_progress(ctx)
        return select(M.indicator, progress.label("progress"), func.count().label("n")).where(*ctx.live(M)).group_by(M.indicator, progress)

    def run() -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = defaultdict(dict)
        for r in ctx.run(("milestones",), build):
            out[r.indicator.strip()][r.progress] = out[r.indicator.strip()].get(r.progress, 0) + int(r.n)
        return out

    return ctx.memo("milestones", run)


@_rule("milestone_status")
def _r_milestones(ctx: _Ctx, ind: Indicator) -> _Out:
    counts = _milestones(ctx).get(ind.code, {})
    total = sum(counts.values())
    achieved = counts.get("achieved", 0)
    best = next((p for p in _PROGRESS_ORDER if counts.get(p)), None)
    label = ctx.cl["milestone_progress"]
    status = "no milestone recorded" if best is None else (label.label(best, "en") if best in label else best).lower()
    return _Out(1 if achieved else 0, achieved, total, {"progress": dict(counts)}, status=status)


@_drill("milestone_status")
def _d_milestones(ctx: _Ctx, ind: Indicator, dim: str | None, key: str | None) -> DrillDown:
    M = Milestone
    stmt = select(M.id).where(*ctx.live(M), func.trim(M.indicator) == ind.code)
    if dim == "progress":
        stmt = stmt.where(_milestone_progress(ctx) == key)
    return _dd(ind, dim, key, {"milestone": ctx.scalars(stmt)})


@_rule("analysis_notes")
def _r_notes(ctx: _Ctx, ind: Indicator) -> _Out:
    N = AnalysisNote
    return _Out(int(ctx.run(("notes",), lambda: select(func.count()).where(*ctx.live(N), ctx.in_period(N.written_on)))[0][0] or 0))


@_drill("analysis_notes")
def _d_notes(ctx: _Ctx, ind: Indicator, dim: str | None, key: str | None) -> DrillDown:
    N = AnalysisNote
    return _dd(ind, dim, key, {"analysis_note": ctx.scalars(select(N.id).where(*ctx.live(N), ctx.in_period(N.written_on)))})


def _stakeholder_key() -> ColumnElement[str]:
    return func.lower(func.trim(DataAccess.stakeholder))


@_rule("data_stakeholders")
def _r_stakeholders(ctx: _Ctx, ind: Indicator) -> _Out:
    D = DataAccess
    total = int(ctx.run(("stakeholders",), lambda: select(func.count(func.distinct(_stakeholder_key()))).where(*ctx.live(D), ctx.in_period(D.given_on)))[0][0] or 0)
    bd: dict[str, dict[str, Number]] = {}
    if "stakeholder_type" in ind.disaggregations:
        rows = ctx.run(
            ("stakeholder_types",),
            lambda: select(D.stakeholder_type, func.count(func.distinct(_stakeholder_key())).label("n"))
            .where(*ctx.live(D), ctx.in_period(D.given_on))
            .group_by(D.stakeholder_type),
        )
        bd["stakeholder_type"] = {r.stakeholder_type: int(r.n) for r in rows}
    return _Out(total, breakdown=bd)


@_drill("data_stakeholders")
def _d_stakeholders(ctx: _Ctx, ind: Indicator, dim: str | None, key: str | None) -> DrillDown:
    D = DataAccess
    stmt = select(D.id).where(*ctx.live(D), ctx.in_period(D.given_on))
    if dim == "stakeholder_type":
        stmt = stmt.where(D.stakeholder_type == key)
    return _dd(ind, dim, key, {"data_access": ctx.scalars(stmt)})


@_rule("data_completeness")
def _r_completeness(ctx: _Ctx, ind: Indicator) -> _Out:
    victims = _screenings_pass(ctx)[f"{ind.code}#victim"]
    suspects = _suspects_pass(ctx)[f"{ind.code}#suspect"]
    roles: dict[str, tuple[Number, Number]] = {}
    items = {"sex": [0, 0], "age": [0, 0], "sex_and_age": [0, 0]}
    for role, pc in (("victim", victims), ("suspect", suspects)):
        known = 0
        for cell, n in pc.cube:
            sex, age = cell.get("sex", "unknown") != "unknown", cell.get("age_group", "unknown") != "unknown"
            known += n if sex and age else 0
            for item, ok in (("sex", sex), ("age", age), ("sex_and_age", sex and age)):
                items[item][0] += n if ok else 0
                items[item][1] += n
        roles[role] = (known, pc.total)
    fractions = {"person_role": roles, "data_item": {k: (a, b) for k, (a, b) in items.items()}}
    num, den = items["sex_and_age"]
    return _percent_out(num, den, {d: fractions[d] for d in ind.disaggregations if d in fractions}, ("person_role",))


PARAMS["data_completeness"] = PARAMS["persons_identified"]


@_drill("data_completeness")
def _d_completeness(ctx: _Ctx, ind: Indicator, dim: str | None, key: str | None) -> DrillDown:
    records: dict[str, list[str]] = {}
    pids: set[str] = set()
    if dim != "person_role" or key == "victim":
        rids, p = _person_drill(ctx, _screening_facts(ctx, ind.param("statuses", ()), codes=False), _Flags({}), None, None)
        records["screening"] = rids
        pids |= set(p)
    if dim != "person_role" or key == "suspect":
        rids, p = _person_drill(ctx, _suspect_facts(ctx, codes=False), _Flags({}), None, None)
        records["suspect"] = rids
        pids |= set(p)
    return _dd(ind, dim, key, records, pids)


# --- checks ------------------------------------------------------------------------------------


def _need_codes(ind: Indicator, name: str, values: Iterable[Any], allowed: Collection[str], *, required: bool = False) -> None:
    values = list(values)
    if required and not values:
        raise ConfigError(f"Indicator {ind.code}: the rule needs the parameter '{name}'.")
    bad = [v for v in values if v not in allowed]
    if bad:
        raise ConfigError(f"Indicator {ind.code}: parameter '{name}' holds unknown values {bad}.")


def check_framework(fw: Framework | None = None, cl: CodeLists | None = None) -> None:
    """Checks that every indicator's rule exists here and its parameters name real codes.

    Raises:
        ConfigError: naming the indicator at fault.
    """
    fw = fw or default_framework()
    cl = cl or default_codelists()
    _band_to_group(_bare_ctx(cl, fw))
    for ind in fw:
        if ind.rule not in RULES or ind.rule not in DRILLS:
            raise ConfigError(f"Indicator {ind.code}: the engine has no rule '{ind.rule}'.")
        if ind.rule in PARAMS:
            PARAMS[ind.rule](cl, ind)


def _bare_ctx(cl: CodeLists, fw: Framework) -> _Ctx:
    ctx = _Ctx.__new__(_Ctx)
    ctx.cl, ctx.fw = cl, fw
    return ctx


# --- assembly ----------------------------------------------------------------------------------


def _zero_fill(ctx: _Ctx, ind: Indicator) -> tuple[tuple[str, tuple[str, ...] | None], ...]:
    """Per disaggregation of ``ind``: the codes its breakdown shows even when zero (or None)."""

    def build() -> tuple[tuple[str, tuple[str, ...] | None], ...]:
        out = []
        for dim in ind.disaggregations:
            spec = ctx.fw.disaggregations[dim]
            fill = None
            if ind.kind != "percent" and spec.codelist and len(ctx.cl[spec.codelist]) <= ZERO_FILL_MAX:
                fill = tuple(e.code for e in ctx.cl[spec.codelist].active_entries())
            out.append((dim, fill))
        return tuple(out)

    return ctx.cached(("zero_fill", ind.code, ind.kind, ind.disaggregations), build)


def _finish(ctx: _Ctx, ind: Indicator, out: _Out) -> IndicatorValue:
    breakdown: dict[str, Mapping[str, Number]] = {}
    for dim, fill in _zero_fill(ctx, ind):
        keys = dict(out.breakdown.get(dim, {}))
        if fill is not None:
            filled = {code: keys.pop(code, 0) for code in fill}
            filled.update(keys)
            keys = filled
        breakdown[dim] = MappingProxyType(keys)
    fractions = {d: MappingProxyType(dict(v)) for d, v in out.fractions.items() if d in ind.disaggregations}
    return IndicatorValue(
        code=ind.code,
        kind=ind.kind,
        value=out.value,
        numerator=out.numerator,
        denominator=out.denominator,
        breakdown=MappingProxyType(breakdown),
        status=out.status,
        fractions=MappingProxyType(fractions),
        previous=out.previous,
        additive=tuple(d for d in out.additive if d in ind.disaggregations),
    )


# PostgreSQL settings for the rest of the report's transaction (SET LOCAL: they end with it).
# NOTE: with JIT on (the server default), every statement over about 100k rows was compiled to
# machine code first, which cost more than running it; the per-person passes sort and hash more
# than the default 4 MB of work memory allows, and spilled to disk. At 64 MB the planner still
# split the per-person aggregates into partitions on disk (it reckons several kB of state per
# person for the token lists; they use about 25 MB at 1M records): a pass over the services took
# 1.2-1.3 s there, 0.84-1.03 s at 256 MB. The limit is per sort or hash, on HQ's server.
_PG_SETTINGS = (("jit", "off"), ("work_mem", "256MB"))


def _tune(session: Session) -> None:
    """Sets :data:`_PG_SETTINGS` on ``session``'s transaction (PostgreSQL only)."""
    if session.get_bind().dialect.name == "postgresql":
        conn = session.connection()
        for name, value in _PG_SETTINGS:
            conn.exec_driver_sql(f"SET LOCAL {name} = '{value}'")


def evaluate(
    session: Session,
    *,
    units: Collection[str] | None,
    period: Period,
    codes: Iterable[str] | None = None,
    framework: Framework | None = None,
    codelists: CodeLists | None = None,
) -> dict[str, IndicatorValue]:
    """Computes indicators on ``session`` for records of ``units`` (``None``: every unit).

    No permission check: callers are services that already checked (or tests). The number of
    queries depends on the indicators asked for, never on the number of records.
    """
    fw = framework or default_framework()
    _tune(session)
    ctx = _Ctx(session, units, period, codelists or default_codelists(), fw)
    ctx.wanted = _wanted(fw, codes)
    return {ind.code: _value(ctx, ind) for ind in ctx.wanted}


def _wanted(fw: Framework, codes: Iterable[str] | None) -> list[Indicator]:
    wanted = [fw.indicator(c) for c in codes] if codes is not None else list(fw)
    for ind in wanted:
        if ind.rule not in RULES:
            raise ConfigError(f"Indicator {ind.code}: the engine has no rule '{ind.rule}'.")
    return wanted


def _value(ctx: _Ctx, ind: Indicator) -> IndicatorValue:
    return _finish(ctx, ind, RULES[ind.rule](ctx, ind))


# :func:`compute_indicators` reads through this many connections at once: on PostgreSQL (the
# server's cores), and on SQLite (the computer's: SQLite runs a statement on the calling thread,
# and each connection has a page cache of its own, 64 MiB at most, see data/db.py).
PG_CONNECTIONS = 4
SQLITE_CONNECTIONS = 2
# The rules whose first indicator starts one of the long shared passes (services, cases,
# screenings, suspects): those start first, one per connection; the indicators that read those
# passes too go last (they wait for them), the short independent ones fill in between.
_LONG_FIRST = ("persons_served", "cases_investigated", "persons_identified", "suspects_identified")
_READ_LONG = frozenset({*_SERVED_RULES, *_CASE_RULES, "persons_identified", "suspects_identified", "data_completeness"})


# The per-person passes the report chains serve (see _chain_plan).
_CHAINED_PASSES = (_services_def, _screenings_def, _suspects_def)


# Seconds each indicator took in this process's last report of its kind (engine URL, national or
# not) on several connections: the order of the next one (see _long_first).
_TOOK: dict[tuple[str, bool, str], float] = {}


def _long_first(wanted: list[Indicator], kind: tuple[str, bool] = ("", False)) -> list[Indicator]:
    """The order the indicators of a report on several connections start in: the first of each
    long per-person pass, then the others from the longest to the shortest the last time
    (:data:`_TOOK`; the framework's order the first time), then those that read a long pass.

    NOTE: started in the framework's order, the statements of 60-100 ms (trainings, checkpoint
    logs, case events) were the last to start, and a report at 1M records on PostgreSQL ended
    with one connection busy and the others done.
    """
    lead: dict[str, Indicator] = {}
    for ind in wanted:
        lead.setdefault(ind.rule, ind)
    first = [lead[r] for r in _LONG_FIRST if r in lead]
    rest = [i for i in wanted if all(i is not f for f in first)]
    own = sorted((i for i in rest if i.rule not in _READ_LONG), key=lambda i: -_TOOK.get((*kind, i.code), 0.0))
    return first + own + [i for i in rest if i.rule in _READ_LONG]


def _pg_snapshot_sessions(engine: Engine, n: int, sessions: list[Session]) -> None:
    """``n`` read-only sessions on one PostgreSQL snapshot (appended to ``sessions`` as made)."""
    for i in range(n):
        conn = engine.connect().execution_options(isolation_level="REPEATABLE READ")
        sessions.append(Session(bind=conn))
        if i == 0:
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
        else:
            conn.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")


def _sqlite_snapshot_sessions(engine: Engine, n: int, sessions: list[Session]) -> bool:
    """``n`` sessions whose read transactions see one state of a SQLite (WAL) store; False (with
    one session) when another writer holds the store and they could not be started together.

    NOTE: SQLite has no exported snapshots. A WAL reader's snapshot is taken at its first read,
    so the readers each read once while this function holds the write lock (``BEGIN
    IMMEDIATE``): no commit can fall between them. Writers wait for that moment only.
    """
    guard = engine.raw_connection()
    try:
        cur = guard.cursor()
        cur.execute("PRAGMA busy_timeout = 250")  # a long import holds the lock: do not wait for it
        try:
            cur.execute("BEGIN IMMEDIATE")
        except DBAPIError:  # a writer is at work: one connection, one snapshot
            sessions.append(Session(bind=engine.connect()))
            return False
        try:
            for _ in range(n):
                conn = engine.connect()
                sessions.append(Session(bind=conn))
                conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar_one()  # the snapshot is taken here
        finally:
            cur.execute("ROLLBACK")
        return True
    finally:
        guard.cursor().execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        guard.close()


def evaluate_concurrently(
    engine: Engine,
    *,
    units: Collection[str] | None,
    period: Period,
    codes: Iterable[str] | None = None,
    framework: Framework | None = None,
    codelists: CodeLists | None = None,
    connections: int | None = None,
) -> dict[str, IndicatorValue]:
    """:func:`evaluate` through ``connections`` connections of ``engine`` at once (default: the
    dialect's, :data:`PG_CONNECTIONS` or :data:`SQLITE_CONNECTIONS`).

    The indicators run on a thread pool, each thread on its own connection; the shared passes
    are computed once (:meth:`_Ctx.memo`: a thread that needs a pass another is computing waits
    for it). Every connection reads the same state of the store, so the report is consistent as
    if one transaction had read it all, while bundles go on being imported: on PostgreSQL the
    first exports its snapshot (``pg_export_snapshot``) and the others import it (``SET
    TRANSACTION SNAPSHOT``, read-only, repeatable read); on SQLite they start reading together
    under the write lock (:func:`_sqlite_snapshot_sessions`), or, when a writer holds it, the
    report runs on one connection.

    NOTE: the long per-person passes run side by side on the cores (a connection's statement
    runs on one core); on one connection they ran one after another. At 1M records, all 41
    indicators national: PostgreSQL 3.2 -> 2.1 s (4 connections), SQLCipher 6.5 -> 3.9 s (2); on
    PostgreSQL with the report chains (:func:`_prepare_chains`) 1.4 s, the cases' pass (1.1 s of
    one connection) being the longest part.
    """
    fw = framework or default_framework()
    wanted = _wanted(fw, codes)
    postgres = engine.dialect.name == "postgresql"
    n = max(1, connections or (PG_CONNECTIONS if postgres else SQLITE_CONNECTIONS))
    cl = codelists or default_codelists()
    sessions: list[Session] = []
    try:
        ready = _prepare_chains(engine, units, period, cl, fw, wanted) if postgres and units is None and codes is None else {}
        if postgres:
            _pg_snapshot_sessions(engine, n, sessions)
        elif not _sqlite_snapshot_sessions(engine, n, sessions):
            return evaluate(sessions[0], units=units, period=period, codes=codes, framework=fw, codelists=codelists)
        for s in sessions:
            _tune(s)
        ctx = _Ctx(sessions[0], units, period, cl, fw)
        ctx.wanted = wanted
        ctx.chains = chains.valid(sessions[0], ready)
        free: queue.SimpleQueue[Session] = queue.SimpleQueue()
        for s in sessions:
            free.put(s)
        local = threading.local()

        kind = (engine.url.render_as_string(hide_password=True), units is None)

        def one(ind: Indicator) -> IndicatorValue:
            if not hasattr(local, "ctx"):  # a pool thread's first task: it takes a connection of its own
                local.ctx = ctx.on(free.get_nowait())
            began = monotonic()
            value = _value(local.ctx, ind)
            _TOOK[(*kind, ind.code)] = monotonic() - began
            return value

        with ThreadPoolExecutor(max_workers=len(sessions), thread_name_prefix="nap-indicators") as pool:
            futures = {ind.code: pool.submit(one, ind) for ind in _long_first(wanted, kind)}
            try:
                done = {code: f.result() for code, f in futures.items()}
            except BaseException:
                pool.shutdown(cancel_futures=True)
                raise
        return {ind.code: done[ind.code] for ind in wanted}
    finally:
        for s in sessions:
            _close(s)


def _prepare_chains(
    engine: Engine, units: Collection[str] | None, period: Period, cl: CodeLists, fw: Framework, wanted: list[Indicator], *, read: bool = True
) -> dict[str, int]:
    """Brings the report chains of the wanted indicators' per-person passes up to date (before
    the report takes its snapshot; see :mod:`chains`): signature → chain id."""
    ctx = _Ctx(None, units, period, cl, fw)  # type: ignore[arg-type]  # builds statements only
    ctx.wanted = wanted
    specs: dict[str, chains.Spec] = {}
    for define in _CHAINED_PASSES:
        key, build = define(ctx)
        for spec in ctx.cached(("chains", *key), lambda: _chain_plan(ctx, *build())).specs:
            specs[spec.signature] = spec
    if any(i.rule in _CASE_RULES for i in wanted):
        spec = _case_keys_spec(ctx)
        specs[spec.signature] = spec
    return chains.prepare(engine, specs.values(), _PG_SETTINGS, read=read)


def refresh_report_chains(engine: Engine, *, framework: Framework | None = None, codelists: CodeLists | None = None) -> int:
    """Brings the report chains national reports of the whole framework read up to date, as the
    next such report would (PostgreSQL; nothing on SQLite), so that it does not have to: after
    bundles were imported. Makes none (the first national report does), and does not count as
    a report using them. Returns how many it found."""
    if engine.dialect.name != "postgresql":
        return 0
    fw = framework or default_framework()
    period = Period.year(date.today().year)  # NOTE: the chains hold every day; the period only builds the statements
    return len(_prepare_chains(engine, None, period, codelists or default_codelists(), fw, _wanted(fw, None), read=False))


def _close(session: Session) -> None:
    """Ends a report's session and its connection (back to the pool), whatever state it is in."""
    conn = session.get_bind()
    try:
        _release(session)
    except SQLAlchemyError as e:  # only a cache hint: the connection goes back to the pool regardless
        logger.warning("could not release a report connection's page cache: %s", e)
    finally:
        session.close()
        conn.close()  # type: ignore[union-attr]


def drill(
    session: Session,
    code: str,
    *,
    units: Collection[str] | None,
    period: Period,
    disaggregation: str | None = None,
    key: str | None = None,
    framework: Framework | None = None,
    codelists: CodeLists | None = None,
) -> DrillDown:
    """The records behind one indicator value (or one breakdown key) on ``session``; no permission check."""
    fw = framework or default_framework()
    ind = fw.indicator(code)
    if disaggregation is not None and disaggregation not in ind.disaggregations:
        raise ValidationError(f"Indicator {code} has no breakdown by {disaggregation}.", {"disaggregation": "unknown"})
    if (disaggregation is None) != (key is None):
        raise ValidationError("Give both the breakdown and its key, or neither.", {"key": "missing"})
    _tune(session)
    ctx = _Ctx(session, units, period, codelists or default_codelists(), fw)
    ctx.wanted = [ind]
    return DRILLS[ind.rule](ctx, ind, disaggregation, key)


# --- services ----------------------------------------------------------------------------------


def _scope_units(ws: Workspace, scope: str | None, *, drill_down: bool = False) -> tuple[str, Collection[str] | None]:
    """Checks the permission for ``scope`` and returns it with its unit set (``None``: national)."""
    scope = scope or ws.user.unit_code
    if not ws.unit_exists(scope):
        raise NotFound(f"There is no unit {scope!r}." if re.fullmatch(r"[A-Z0-9\-]{1,24}", scope) else "There is no such unit.")
    national = len(ws.unit_chain(scope)) == 1
    if drill_down:
        ws.require(Perm.RECORD_READ, unit=scope, object_type="indicator")
    if national:
        ws.require(Perm.INDICATORS_NATIONAL, unit=scope, object_type="indicator")
        return scope, None
    ws.require(Perm.RECORD_READ, unit=scope, object_type="indicator")
    return scope, ws.subtree(scope)


def _release(session: Session) -> None:
    if session.get_bind().dialect.name == "sqlite":
        shrink_memory(session)


def compute_indicators(
    ws: Workspace,
    *,
    period: Period,
    scope: str | None = None,
    codes: Iterable[str] | None = None,
    framework: Framework | None = None,
) -> IndicatorReport:
    """Every indicator (or those in ``codes``) for ``scope``'s subtree (default: the user's unit).

    National scope (the root unit) needs :attr:`Perm.INDICATORS_NATIONAL`; a unit below it needs
    :attr:`Perm.RECORD_READ` in that unit.

    Raises:
        PermissionDenied: (audited) the role or scope does not allow it.
        NotFound: no such unit.
    """
    scope, units = _scope_units(ws, scope)
    fw = framework or default_framework()
    values = evaluate_concurrently(ws.engine, units=units, period=period, codes=codes, framework=fw)
    return IndicatorReport(fw.version, scope, period, datetime.now(UTC), MappingProxyType(values))


def drill_down(
    ws: Workspace,
    code: str,
    *,
    period: Period,
    scope: str | None = None,
    disaggregation: str | None = None,
    key: str | None = None,
) -> DrillDown:
    """The ids of the records behind a value, for users who may read the records of ``scope``.

    Raises:
        PermissionDenied: (audited) the user may not read records there (HQ analysts may; so do
            officers and circle heads in their own units).
    """
    scope, units = _scope_units(ws, scope, drill_down=True)
    with ws.sf() as s:
        result = drill(s, code, units=units, period=period, disaggregation=disaggregation, key=key)
        _release(s)
    return result
