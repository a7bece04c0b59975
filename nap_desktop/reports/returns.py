# SPDX-License-Identifier: GPL-3.0-or-later
"""Monthly returns (DESIGN §5, issue 5 item 3): compile, check, comment, submit, approve, lock.

A monthly return is one unit's set of values for one calendar month: every indicator of the
framework for the unit's subtree (:func:`nap_desktop.reports.engine.evaluate`) plus the FIA case
pipeline (:data:`PIPELINE`), kept as a JSON snapshot so that what was approved is what is shown
and exported later, whatever happens to the records afterwards.

The approval chain is post → circle → HQ:

- ``compile`` (draft): anyone who may compile returns for the unit (officers, circle heads, HQ
  analysts in their scope). A draft or a returned return can be compiled again.
- ``submit`` (draft / returned → submitted): the circle head for the circle and its posts; the
  officer of a post for the post's own return. Submission compiles the return again and refuses
  when the values changed since the compile that was reviewed (:class:`ReturnOutdated`), and when
  the checks find an error.
- ``approve`` (submitted → approved) and ``send back`` with a reason (submitted → returned): the
  unit that the return goes to — a post's circle, HQ for a circle (and anyone above them).
  Nobody approves the return of their own unit (except at HQ, the top of the chain).
- ``unlock`` with a reason (approved → draft or submitted): an administrator, audited.

Approval locks the month: a record of the unit, or of any unit below it, dated in an approved
month cannot be created, edited or deleted (:func:`lock_hook`, registered in
:data:`nap_desktop.services.records.LOCK_HOOKS`).

Every state change writes a row of ``return_events`` and an audit entry whose details hold codes
and counts only: comments and reasons are free text and stay inside the encrypted store.

Returns are due on day :data:`DUE_DAY` of the following month, Pakistan time
(:data:`REPORTING_TZ`); a return first submitted by then is on time. :func:`completeness` shows,
for a parent unit and month, which of the units reporting to it submitted, on time or late, and
which are missing.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import logging
import re
from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from sqlalchemy import Date, and_, bindparam, case, func, literal, or_, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from nap_desktop.data.models import Meta, Unit, UTCDateTime
from nap_desktop.data.record_models import MODEL_BY_TYPE, Case, CaseEvent, Suspect
from nap_desktop.data.return_models import MonthlyReturn, ReturnComment, ReturnEvent
from nap_desktop.domain.framework import Framework, default_framework
from nap_desktop.domain.lang import translate
from nap_desktop.domain.records import RECORD_TYPES
from nap_desktop.errors import (
    NotFound,
    PermissionDenied,
    ReturnOutdated,
    ReturnStateError,
    ValidationError,
    VersionConflict,
)
from nap_desktop.reports import engine
from nap_desktop.reports.engine import IndicatorReport, IndicatorValue, Period
from nap_desktop.security.permissions import Perm, Role, role_allows
from nap_desktop.services import records as record_service
from nap_desktop.services.context import Workspace
from nap_desktop.services.progress import drive

if TYPE_CHECKING:
    from nap_desktop.services.demo_data import Progress

logger = logging.getLogger(__name__)

__all__ = [
    "DUE_DAY",
    "PIPELINE",
    "REPORTING_TZ",
    "STATES",
    "CommentDTO",
    "Completeness",
    "CompletenessRow",
    "MonthlyReturnDTO",
    "ReturnEventDTO",
    "ReturnSummary",
    "ValidationMessage",
    "ValueLine",
    "add_comment",
    "allowed_actions",
    "approve_return",
    "compile_return",
    "completeness",
    "DueReturn",
    "due_date",
    "due_returns",
    "export_return",
    "get_return",
    "iter_compile",
    "iter_export_return",
    "list_returns",
    "lock_hook",
    "parse_month",
    "send_back_return",
    "submit_return",
    "unlock_return",
    "validate_snapshot",
    "value_lines",
]

DUE_DAY = 10
"""A month's return is due on this day of the following month (Pakistan time)."""

REPORTING_TZ = timezone(timedelta(hours=5), "PKT")
"""Pakistan Standard Time (UTC+5, no daylight saving): the calendar of due dates and months."""

STATES = ("draft", "submitted", "approved", "returned")
SNAPSHOT_FORMAT = 1
MAX_TEXT = 2000  # characters of a comment or a reason
RETURN_KEY = "return"  # the value key of a comment on the whole return

# The FIA case pipeline of the month: key → (English, Urdu) label. Flows count what happened in
# the month; "pending" counts the cases in that stage at the end of the month.
PIPELINE: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "registered": ("Cases registered", "درج شدہ مقدمات"),
        "arrested": ("Persons arrested", "گرفتار افراد"),
        "challaned": ("Cases challaned (charge sheet to court)", "چالان شدہ مقدمات"),
        "convicted": ("Cases with a conviction", "سزا والے مقدمات"),
        "acquitted": ("Cases with an acquittal", "بریت والے مقدمات"),
        "pending_investigation": ("Cases pending investigation (end of month)", "زیرِ تفتیش مقدمات (ماہ کے آخر میں)"),
        "pending_trial": ("Cases pending trial (end of month)", "زیرِ سماعت مقدمات (ماہ کے آخر میں)"),
        "challaned_to_date": ("Cases challaned up to the end of the month", "ماہ کے آخر تک چالان شدہ مقدمات"),
    }
)
PIPELINE_DEFINITIONS: Mapping[str, str] = MappingProxyType(
    {
        "registered": "Complete, not deleted cases of the unit and the units below it whose registration date is in the month.",
        "arrested": "Distinct persons whose suspect record gives an arrest date in the month.",
        "challaned": "Cases with a 'challan submitted' event dated in the month.",
        "convicted": "Cases with a verdict event 'convicted' dated in the month.",
        "acquitted": "Cases with a verdict event 'acquitted' dated in the month.",
        "pending_investigation": "Cases registered by the end of the month with no challan, verdict, closure or transfer by then.",
        "pending_trial": "Cases in court (challan submitted or trial started) by the end of the month with no verdict, closure or transfer by then.",
        "challaned_to_date": "Cases with a 'challan submitted' event on or before the last day of the month.",
    }
)

# Case events that end each phase (the same sets the engine uses for 7.3.a / 7.3.b).
_INVESTIGATION_ENDS = ("challan_submitted", "verdict", "case_closed", "case_transferred")
_IN_COURT = ("challan_submitted", "trial_started")
_COURT_ENDS = ("verdict", "case_closed", "case_transferred")

_ACTIONS = ("compile", "submit", "approve", "send_back", "unlock", "comment", "export")
_VIEW_PERMS = (Perm.RECORD_READ, Perm.RETURN_COMPILE, Perm.RETURN_APPROVE, Perm.RETURN_UNLOCK)

now: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731 - replaced in tests


# --- months and due dates ---------------------------------------------------------------------------


def parse_month(text: str) -> Period:
    """``2026-06`` → the calendar month June 2026, or a :class:`ValidationError`."""
    m = re.fullmatch(r"\s*(\d{4})-(\d{2})\s*", text or "")
    if not m or not 1 <= int(m[2]) <= 12:
        raise ValidationError("Write the month as YYYY-MM, e.g. 2026-06.", {"month": "format"}, fields_ur={"month": "مہینہ YYYY-MM کی صورت میں لکھیں، مثلاً 2026-06۔"})
    return Period.month(int(m[1]), int(m[2]))


def due_date(month: str) -> date:
    """The day a return of ``month`` is due: day :data:`DUE_DAY` of the following month."""
    p = parse_month(month)
    nxt = p.end + timedelta(days=1)
    return date(nxt.year, nxt.month, min(DUE_DAY, calendar.monthrange(nxt.year, nxt.month)[1]))


def _local_day(when: datetime) -> date:
    return when.astimezone(REPORTING_TZ).date()


# --- DTOs -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ValidationMessage:
    """One finding of the checks. ``level``: error (blocks submission), warning, or info."""

    level: str
    key: str  # the value it concerns: an indicator code, "pipeline.<name>" or "return"
    rule: str
    text_en: str
    text_ur: str


@dataclass(frozen=True)
class CommentDTO:
    id: str
    key: str
    body: str
    author: str
    at: datetime


@dataclass(frozen=True)
class ReturnEventDTO:
    action: str
    from_state: str | None
    to_state: str
    actor: str
    at: datetime
    reason: str | None
    version: int


@dataclass(frozen=True)
class ValueLine:
    """One line of a return as a reviewer reads it (indicator or pipeline count)."""

    key: str
    group: str  # "indicator" or "pipeline"
    objective: int | None
    label_en: str
    label_ur: str
    kind: str
    value: float | int | None
    numerator: float | int | None
    denominator: float | int | None
    display: str
    definition: str


@dataclass(frozen=True)
class MonthlyReturnDTO:
    """A return as the services give it: its state, its snapshot, the checks, comments, history."""

    id: str
    unit: str
    month: str
    state: str
    version: int
    framework_version: int
    compiled_at: datetime
    compiled_by: str
    submitted_at: datetime | None
    submitted_by: str | None
    first_submitted_at: datetime | None
    approved_at: datetime | None
    approved_by: str | None
    returned_at: datetime | None
    returned_by: str | None
    returned_reason: str | None
    due_on: date
    on_time: bool | None
    report: IndicatorReport
    pipeline: Mapping[str, int]
    records_in_month: int
    drafts_in_month: int
    messages: tuple[ValidationMessage, ...]
    comments: tuple[CommentDTO, ...]
    history: tuple[ReturnEventDTO, ...]

    @property
    def errors(self) -> tuple[ValidationMessage, ...]:
        return tuple(m for m in self.messages if m.level == "error")

    @property
    def warnings(self) -> tuple[ValidationMessage, ...]:
        return tuple(m for m in self.messages if m.level == "warning")

    @property
    def period(self) -> Period:
        return self.report.period

    def comments_on(self, key: str) -> tuple[CommentDTO, ...]:
        return tuple(c for c in self.comments if c.key == key)

    def messages_on(self, key: str) -> tuple[ValidationMessage, ...]:
        return tuple(m for m in self.messages if m.key == key)


@dataclass(frozen=True)
class ReturnSummary:
    """One line of a list of returns."""

    id: str
    unit: str
    month: str
    state: str
    version: int
    compiled_at: datetime
    compiled_by: str
    submitted_at: datetime | None
    approved_at: datetime | None
    approved_by: str | None
    due_on: date
    on_time: bool | None


@dataclass(frozen=True)
class CompletenessRow:
    """Where one reporting unit stands for the month."""

    unit: str
    name_en: str
    name_ur: str
    kind: str
    state: str  # missing / draft / submitted / approved / returned
    first_submitted_at: datetime | None
    on_time: bool | None
    overdue: bool  # not submitted and the due date has passed


@dataclass(frozen=True)
class Completeness:
    """For a parent unit and month: the units that report to it and their returns."""

    unit: str
    month: str
    due_on: date
    rows: tuple[CompletenessRow, ...]

    @property
    def expected(self) -> int:
        return len(self.rows)

    @property
    def submitted(self) -> tuple[CompletenessRow, ...]:
        """Submitted or approved now."""
        return tuple(r for r in self.rows if r.state in ("submitted", "approved"))

    @property
    def approved(self) -> tuple[CompletenessRow, ...]:
        return tuple(r for r in self.rows if r.state == "approved")

    @property
    def on_time(self) -> tuple[CompletenessRow, ...]:
        return tuple(r for r in self.rows if r.on_time is True)

    @property
    def late(self) -> tuple[CompletenessRow, ...]:
        return tuple(r for r in self.rows if r.on_time is False)

    @property
    def missing(self) -> tuple[CompletenessRow, ...]:
        """Not (or no longer) with the parent: no return, a draft, or sent back."""
        return tuple(r for r in self.rows if r.state not in ("submitted", "approved"))


# --- the snapshot -----------------------------------------------------------------------------------


def _value_json(v: IndicatorValue) -> dict[str, Any]:
    return {
        "kind": v.kind,
        "value": v.value,
        "numerator": v.numerator,
        "denominator": v.denominator,
        "breakdown": {d: dict(keys) for d, keys in v.breakdown.items()},
        "status": v.status,
        "fractions": {d: {k: [a, b] for k, (a, b) in keys.items()} for d, keys in v.fractions.items()},
        "previous": v.previous,
        "additive": list(v.additive),
    }


def _value_from_json(code: str, d: Mapping[str, Any]) -> IndicatorValue:
    return IndicatorValue(
        code=code,
        kind=d["kind"],
        value=d["value"],
        numerator=d.get("numerator"),
        denominator=d.get("denominator"),
        breakdown=MappingProxyType({k: MappingProxyType(dict(v)) for k, v in d.get("breakdown", {}).items()}),
        status=d.get("status"),
        fractions=MappingProxyType({k: MappingProxyType({kk: (a, b) for kk, (a, b) in v.items()}) for k, v in d.get("fractions", {}).items()}),
        previous=d.get("previous"),
        additive=tuple(d.get("additive", ())),
    )


def _canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _fingerprint(snap: Mapping[str, Any]) -> str:
    """SHA-256 of what was compiled (values, pipeline, record counts), not of when or by whom."""
    core = {k: snap[k] for k in ("framework_version", "values", "pipeline", "records")}
    return hashlib.sha256(_canonical(core).encode()).hexdigest()


def _changed_keys(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    keys: list[str] = []
    for code in sorted(set(old.get("values", {})) | set(new.get("values", {}))):
        if _canonical(old.get("values", {}).get(code)) != _canonical(new.get("values", {}).get(code)):
            keys.append(code)
    for k in PIPELINE:
        if old.get("pipeline", {}).get(k) != new.get("pipeline", {}).get(k):
            keys.append(f"pipeline.{k}")
    if _canonical(old.get("records")) != _canonical(new.get("records")):
        keys.append("records")
    return keys


# --- computing --------------------------------------------------------------------------------------


# Statements are built once per shape (national or not) with the month and the units as bound
# parameters, as the engine does: building them costs more Python time than running them.
_P_START, _P_STOP = bindparam("m_start", type_=Date()), bindparam("m_stop", type_=Date())
_P_START_DT, _P_STOP_DT = bindparam("m_start_dt", type_=UTCDateTime()), bindparam("m_stop_dt", type_=UTCDateTime())
_P_UNITS = bindparam("m_units", expanding=True)
_STATEMENTS: dict[tuple[str, bool], Any] = {}


def _params(units: Iterable[str] | None, period: Period) -> dict[str, Any]:
    params: dict[str, Any] = {
        "m_start": period.start,
        "m_stop": period.stop,
        "m_start_dt": datetime.combine(period.start, time.min, UTC),
        "m_stop_dt": datetime.combine(period.stop, time.min, UTC),
    }
    if units is not None:
        params["m_units"] = sorted(units) or [""]
    return params


def _pipeline_statements(national: bool) -> tuple[Any, Any]:
    C, E, Su = Case, CaseEvent, Suspect
    start, stop = _P_START, _P_STOP
    live = [C.deleted.is_(False), C.status == "complete"]
    su_live = [Su.deleted.is_(False), Su.status == "complete"]
    if not national:
        live.append(C.unit.in_(_P_UNITS))
        su_live.append(Su.unit.in_(_P_UNITS))

    def first(events: Iterable[str]) -> Any:
        return func.min(case((E.event.in_(list(events)), E.on_date), else_=None))

    def in_month(cond: Any) -> Any:
        return func.max(case((and_(cond, E.on_date >= start, E.on_date < stop), 1), else_=0))

    per_case = (
        select(
            C.id.label("cid"),
            C.registered_on.label("reg"),
            first(("challan_submitted",)).label("challan"),
            first(_INVESTIGATION_ENDS).label("inv_end"),
            first(_IN_COURT).label("court_from"),
            first(_COURT_ENDS).label("court_end"),
            in_month(E.event == "challan_submitted").label("challaned"),
            in_month(and_(E.event == "verdict", E.verdict == "convicted")).label("convicted"),
            in_month(and_(E.event == "verdict", E.verdict == "acquitted")).label("acquitted"),
        )
        .join_from(C, E, E.case_id == C.id, isouter=True)
        .where(*live, C.registered_on < stop)
        .group_by(C.id, C.registered_on)
        .subquery("per_case")
    )
    pc = per_case.c

    def count(cond: Any) -> Any:
        return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

    cases = select(
        count(pc.reg >= start).label("registered"),
        count(pc.challaned == 1).label("challaned"),
        count(pc.convicted == 1).label("convicted"),
        count(pc.acquitted == 1).label("acquitted"),
        count(or_(pc.inv_end.is_(None), pc.inv_end >= stop)).label("pending_investigation"),
        count(and_(pc.court_from < stop, or_(pc.court_end.is_(None), pc.court_end >= stop))).label("pending_trial"),
        count(pc.challan < stop).label("challaned_to_date"),
    )
    arrested = select(func.count(func.distinct(Su.person_id))).where(*su_live, Su.arrested_on >= start, Su.arrested_on < stop)
    return cases, arrested


def _statement(name: str, national: bool, build: Callable[[bool], Any]) -> Any:
    key = (name, national)
    if key not in _STATEMENTS:
        _STATEMENTS[key] = build(national)
    return _STATEMENTS[key]


def _pipeline(s: Session, units: Iterable[str] | None, period: Period) -> dict[str, int]:
    """The case pipeline of the month, in two aggregate queries (one GROUP BY per case)."""
    cases, arrested = _statement("pipeline", units is None, _pipeline_statements)
    params = _params(units, period)
    row = s.execute(cases, params).one()
    out = {k: int(getattr(row, k)) for k in row._fields}
    out["arrested"] = int(s.scalar(arrested, params) or 0)
    return {k: out[k] for k in PIPELINE}


# Persons are not counted as records of the month: a person is dated by when it was typed in, and
# counts through the screenings, services, suspects and cases that name it. (Their creation times
# have no index by unit, so counting them would read every person of the unit.)
_COUNTED_TYPES = tuple(name for name in RECORD_TYPES if name != "person")


def _unit_date_indexed(model: Any, column: str) -> bool:
    """Whether ``model``'s table has an index that starts with (unit, ``column``)."""
    return any([c.name for c in ix.columns][:2] == ["unit", column] for ix in model.__table__.indexes)


def _counts_statement(national: bool) -> Any:
    parts = []
    for name in _COUNTED_TYPES:
        rt = RECORD_TYPES[name]
        model = MODEL_BY_TYPE[name]
        column = "created_at" if rt.date_field == "created_on" else rt.date_field
        col: Any = getattr(model, column)
        if not national and not _unit_date_indexed(model, column):
            # NOTE: without a (unit, date) index SQLite may pick the date index and read the
            # month's rows of every unit (at HQ, 60 ms for referrals): the unit index is the
            # narrower one there, so the date is compared without its index.
            col = engine.unindexed(col)
        if rt.date_field == "created_on":
            dated = and_(col >= _P_START_DT, col < _P_STOP_DT)
        else:
            dated = and_(col >= _P_START, col < _P_STOP)
        conds = [model.deleted.is_(False), dated]
        if not national:
            conds.append(model.unit.in_(_P_UNITS))
        parts.append(
            select(literal(name).label("type"), model.status.label("status"), func.count().label("n")).where(*conds).group_by(model.status)
        )
    return union_all(*parts)


def _record_counts(s: Session, units: Iterable[str] | None, period: Period) -> dict[str, Any]:
    """Live records dated in the month by type and status (complete / draft), one UNION ALL query."""
    by_type: dict[str, dict[str, int]] = {}
    for r in s.execute(_statement("counts", units is None, _counts_statement), _params(units, period)):
        by_type.setdefault(r.type, {})[r.status] = int(r.n)
    complete = sum(v.get("complete", 0) for v in by_type.values())
    drafts = sum(n for v in by_type.values() for st, n in v.items() if st != "complete")
    return {"complete": complete, "draft": drafts, "by_type": {k: by_type[k] for k in sorted(by_type)}}


def _progress(done: int, total: int, label: str) -> Progress:
    # NOTE: imported when used: demo_data imports the record services, which import this module
    # (for the lock hook), so a module-level import would be circular.
    from nap_desktop.services.demo_data import Progress

    return Progress(done, total, label)


def _compute(s: Session, unit: str, units: Iterable[str] | None, period: Period, fw: Framework) -> Generator[Progress, None, dict[str, Any]]:
    yield _progress(0, 4, "Computing the indicators")
    values = engine.evaluate(s, units=units, period=period, framework=fw)
    yield _progress(1, 4, "Counting the case pipeline")
    pipeline = _pipeline(s, units, period)
    yield _progress(2, 4, "Counting the month's records")
    counts = _record_counts(s, units, period)
    yield _progress(3, 4, "Checking the values")
    return {
        "format": SNAPSHOT_FORMAT,
        "unit": unit,
        "month": period.label,
        "framework_version": fw.version,
        "values": {code: _value_json(v) for code, v in values.items()},
        "pipeline": pipeline,
        "records": counts,
    }


# --- checks -----------------------------------------------------------------------------------------


def _fmt(n: Any) -> str:
    if n is None:
        return "—"
    if isinstance(n, float):
        return f"{n:.1f}".rstrip("0").rstrip(".") if not n.is_integer() else str(int(n))
    return str(n)


def validate_snapshot(snap: Mapping[str, Any], fw: Framework | None = None) -> list[ValidationMessage]:
    """The checks of a compiled return, errors first. Pure: reads only the snapshot.

    Errors (block submission): protected > supported (1.2.b > 1.2.a); verdicts in the month
    (convicted + acquitted) > cases challaned up to the end of the month. Warnings: supported >
    identified this month (1.2.a > 1.3.a: support may continue from earlier months); a percentage
    whose denominator is 0; no records dated in the month at all; drafts dated in the month (not
    counted). Info: every percentage with its numerator and denominator.
    """
    fw = fw or default_framework()
    vals = snap.get("values", {})
    pipe = snap.get("pipeline", {})
    recs = snap.get("records", {})
    out: list[ValidationMessage] = []

    def v(code: str) -> Any:
        return (vals.get(code) or {}).get("value")

    supported, protected, identified = v("1.2.a"), v("1.2.b"), v("1.3.a")
    if isinstance(protected, int | float) and isinstance(supported, int | float) and protected > supported:
        out.append(
            ValidationMessage(
                "error",
                "1.2.b",
                "protected_gt_supported",
                f"Victims and vulnerable migrants protected (1.2.b: {_fmt(protected)}) cannot exceed those supported "
                f"(1.2.a: {_fmt(supported)}): protection is one kind of support. Check the service records of the month.",
                f"تحفظ پانے والے متاثرین اور کمزور تارکینِ وطن (1.2.b: {_fmt(protected)}) معاونت پانے والوں "
                f"(1.2.a: {_fmt(supported)}) سے زیادہ نہیں ہو سکتے: تحفظ معاونت ہی کی ایک قسم ہے۔ اس ماہ کی خدمات کے ریکارڈ دیکھیں۔",
            )
        )
    verdicts = int(pipe.get("convicted", 0)) + int(pipe.get("acquitted", 0))
    challaned = int(pipe.get("challaned_to_date", 0))
    if verdicts > challaned:
        out.append(
            ValidationMessage(
                "error",
                "pipeline.convicted",
                "verdicts_gt_challaned",
                f"Cases with a verdict this month (convicted {pipe.get('convicted', 0)} + acquitted {pipe.get('acquitted', 0)} = "
                f"{verdicts}) exceed the cases challaned up to the end of the month ({challaned}). A case reaches a verdict only "
                "after its challan: add the missing 'challan submitted' events to those cases.",
                f"اس ماہ فیصلے والے مقدمات (سزا {pipe.get('convicted', 0)} + بریت {pipe.get('acquitted', 0)} = {verdicts}) "
                f"ماہ کے آخر تک چالان شدہ مقدمات ({challaned}) سے زیادہ ہیں۔ فیصلہ چالان کے بعد ہی ہوتا ہے: "
                "ان مقدمات میں چالان جمع ہونے کا مرحلہ درج کریں۔",
            )
        )
    if isinstance(supported, int | float) and isinstance(identified, int | float) and supported > identified:
        out.append(
            ValidationMessage(
                "warning",
                "1.2.a",
                "supported_gt_identified",
                f"Victims and vulnerable migrants supported (1.2.a: {_fmt(supported)}) exceed those identified this month "
                f"(1.3.a: {_fmt(identified)}). This is right when support continues for persons identified in earlier months; "
                "say so in a comment.",
                f"معاونت پانے والے متاثرین اور کمزور تارکینِ وطن (1.2.a: {_fmt(supported)}) اس ماہ شناخت شدہ "
                f"(1.3.a: {_fmt(identified)}) سے زیادہ ہیں۔ اگر پچھلے مہینوں میں شناخت شدہ افراد کی معاونت جاری ہے تو "
                "یہ درست ہے؛ تبصرے میں وضاحت کریں۔",
            )
        )
    for ind in fw:
        if ind.kind != "percent" or ind.code not in vals:
            continue
        d = vals[ind.code]
        num, den = d.get("numerator"), d.get("denominator")
        if not den:
            out.append(
                ValidationMessage(
                    "warning",
                    ind.code,
                    "no_denominator",
                    f"{ind.code} has no denominator this month (0 {ind.unit.removeprefix('% of ')}): no percentage can be given. "
                    "It is reported as not available, not as 0%.",
                    f"{ind.code} کا اس ماہ کوئی نسب نما نہیں (0): فیصد نہیں نکالا جا سکتا۔ اسے 0% نہیں بلکہ دستیاب نہیں لکھا جائے گا۔",
                )
            )
        else:
            pct = _fmt(d.get("value"))
            out.append(
                ValidationMessage(
                    "info",
                    ind.code,
                    "percent_denominator",
                    f"{ind.code}: {pct}% = {_fmt(num)} of {_fmt(den)} {ind.unit.removeprefix('% of ')}.",
                    f"{ind.code}: {pct}% = {_fmt(den)} میں سے {_fmt(num)}۔",
                )
            )
    complete, drafts = int(recs.get("complete", 0)), int(recs.get("draft", 0))
    if complete + drafts == 0:
        out.append(
            ValidationMessage(
                "warning",
                RETURN_KEY,
                "no_records",
                f"No records of {snap.get('unit')} or the units below it are dated in {snap.get('month')}. If nothing happened "
                "this month, say so in a comment on the return (a nil return).",
                f"{snap.get('month')} میں {snap.get('unit')} یا اس کے ماتحت یونٹس کا کوئی ریکارڈ درج نہیں۔ اگر اس ماہ کچھ نہیں ہوا "
                "تو ریٹرن پر تبصرے میں یہ لکھیں (صفر ریٹرن)۔",
            )
        )
    if drafts:
        out.append(
            ValidationMessage(
                "warning",
                RETURN_KEY,
                "drafts_not_counted",
                f"{drafts} draft record{'s' if drafts != 1 else ''} dated in {snap.get('month')} {'are' if drafts != 1 else 'is'} "
                "not counted. Complete or delete them, then compile again.",
                f"{snap.get('month')} کے {drafts} نامکمل (ڈرافٹ) ریکارڈ شمار نہیں ہوئے۔ انہیں مکمل یا حذف کریں، پھر دوبارہ مرتب کریں۔",
            )
        )
    order = {"error": 0, "warning": 1, "info": 2}
    return sorted(out, key=lambda m: order[m.level])


# --- display ----------------------------------------------------------------------------------------


def _display(v: IndicatorValue) -> str:
    if v.kind == "percent":
        if not v.denominator:
            return "n/a (no denominator)"
        return f"{_fmt(v.value)}% ({_fmt(v.numerator)} of {_fmt(v.denominator)})"
    if v.kind == "status":
        return f"{'reached' if v.value else 'not reached'} ({v.status})" if v.status else _fmt(v.value)
    if v.kind == "change":
        sign = "+" if (v.value or 0) > 0 else ""
        return f"{sign}{_fmt(v.value)} ({_fmt(v.numerator)} against {_fmt(v.previous)})"
    return _fmt(v.value)


def value_lines(ret: MonthlyReturnDTO, fw: Framework | None = None) -> list[ValueLine]:
    """Every value of a return in framework order, then the case pipeline: what a reviewer reads."""
    fw = fw or default_framework()
    lines: list[ValueLine] = []
    for ind in fw:
        v = ret.report.values.get(ind.code)
        if v is None:
            continue
        lines.append(
            ValueLine(ind.code, "indicator", ind.objective, ind.short_en, ind.short_en, v.kind, v.value, v.numerator, v.denominator, _display(v), ind.definition)
        )
    for k, (en, ur) in PIPELINE.items():
        n = ret.pipeline.get(k, 0)
        lines.append(ValueLine(f"pipeline.{k}", "pipeline", None, en, ur, "count", n, None, None, str(n), PIPELINE_DEFINITIONS[k]))
    return lines


# --- rows, DTOs and history -------------------------------------------------------------------------


def _row(s: Session, unit: str, month: str) -> MonthlyReturn | None:
    return s.scalar(select(MonthlyReturn).where(MonthlyReturn.unit == unit, MonthlyReturn.month == month))


def _existing(s: Session, unit: str, month: str) -> MonthlyReturn:
    row = _row(s, unit, month)
    if row is None:
        raise NotFound(f"There is no return of {unit} for {month} yet. Compile it first.")
    return row


def _dto(s: Session, row: MonthlyReturn, fw: Framework | None = None, *, messages: list[ValidationMessage] | None = None) -> MonthlyReturnDTO:
    """The return as shown; ``messages``: the checks of the snapshot just stored (made again when not given)."""
    snap = json.loads(row.snapshot)
    period = parse_month(row.month)
    values = {code: _value_from_json(code, d) for code, d in snap.get("values", {}).items()}
    report = IndicatorReport(row.framework_version, row.unit, period, row.compiled_at, MappingProxyType(values))
    comments = s.scalars(select(ReturnComment).where(ReturnComment.return_id == row.id).order_by(ReturnComment.ordinal)).all()
    events = s.scalars(select(ReturnEvent).where(ReturnEvent.return_id == row.id).order_by(ReturnEvent.return_version, ReturnEvent.at)).all()
    recs = snap.get("records", {})
    return MonthlyReturnDTO(
        id=row.id,
        unit=row.unit,
        month=row.month,
        state=row.state,
        version=row.version,
        framework_version=row.framework_version,
        compiled_at=row.compiled_at,
        compiled_by=row.compiled_by,
        submitted_at=row.submitted_at,
        submitted_by=row.submitted_by,
        first_submitted_at=row.first_submitted_at,
        approved_at=row.approved_at,
        approved_by=row.approved_by,
        returned_at=row.returned_at,
        returned_by=row.returned_by,
        returned_reason=row.returned_reason,
        due_on=row.due_on,
        on_time=row.on_time,
        report=report,
        pipeline=MappingProxyType({k: int(snap.get("pipeline", {}).get(k, 0)) for k in PIPELINE}),
        records_in_month=int(recs.get("complete", 0)),
        drafts_in_month=int(recs.get("draft", 0)),
        messages=tuple(messages if messages is not None else validate_snapshot(snap, fw if fw and fw.version == row.framework_version else None)),
        comments=tuple(CommentDTO(c.id, c.value_key, c.body, c.author, c.created_at) for c in comments),
        history=tuple(ReturnEventDTO(e.action, e.from_state, e.to_state, e.actor, e.at, e.reason, e.return_version) for e in events),
    )


def _next_seq(s: Session) -> int:
    meta = s.get(Meta, record_service.CHANGE_SEQ_KEY)
    if meta is None:
        meta = Meta(key=record_service.CHANGE_SEQ_KEY, value="0")
        s.add(meta)
    value = int(meta.value) + 1
    meta.value = str(value)
    return value


def _content_hash(row: MonthlyReturn) -> str:
    public = {
        "unit": row.unit,
        "month": row.month,
        "state": row.state,
        "fingerprint": row.fingerprint,
        "submitted_by": row.submitted_by,
        "approved_by": row.approved_by,
        "returned_reason": row.returned_reason,
    }
    return hashlib.sha256(_canonical(public).encode()).hexdigest()


def _step(
    ws: Workspace,
    s: Session,
    row: MonthlyReturn,
    action: str,
    from_state: str | None,
    *,
    reason: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Bumps the version and sync bookkeeping, writes the history row and the audit entry."""
    at = now()
    if from_state is not None:
        row.base_version = row.version
        row.version += 1
    row.updated_at, row.updated_by = at, ws.user.username
    row.seq = _next_seq(s)
    row.content_hash = _content_hash(row)
    s.add(ReturnEvent(return_id=row.id, action=action, from_state=from_state, to_state=row.state, actor=ws.user.username, at=at, reason=reason, return_version=row.version))
    audit_detail: dict[str, Any] = {"month": row.month, "from": from_state, "to": row.state, "version": row.version}
    if reason is not None:
        audit_detail["reason_chars"] = len(reason)
    audit_detail.update(detail or {})
    ws.audit(s, f"return.{_AUDIT_VERB[action]}", object_type="monthly_return", object_id=row.id, unit=row.unit, detail=audit_detail)


_AUDIT_VERB = {"compile": "compiled", "submit": "submitted", "approve": "approved", "send_back": "sent_back", "unlock": "unlocked"}


def _check_version(row: MonthlyReturn | None, expected: int | None) -> None:
    if expected is not None and row is not None and row.version != expected:
        raise VersionConflict(
            f"The return of {row.unit} for {row.month} was changed by {row.updated_by} (now version {row.version}, "
            f"state {row.state}). Reload it and try again."
        )


def _need_state(row: MonthlyReturn, allowed: Iterable[str], doing: str) -> None:
    allowed = tuple(allowed)
    if row.state in allowed:
        return
    hint = {
        "draft": "submit it first",
        "submitted": "it is waiting for approval; it must be sent back before it can change",
        "approved": "it is approved and its month is locked; an administrator must unlock it first",
        "returned": "it was sent back; compile and submit it again",
    }[row.state]
    raise ReturnStateError(f"The return of {row.unit} for {row.month} is {row.state}, so it cannot be {doing}: {hint}.")


def _clean_text(text: str, what: str) -> str:
    t = (text or "").strip()
    if not t:
        raise ValidationError(f"Give a {what}.", {what: "required"}, fields_ur={what: "وجہ یا متن درج کریں۔"})
    if len(t) > MAX_TEXT:
        raise ValidationError(f"The {what} is longer than {MAX_TEXT} characters.", {what: "too_long"}, fields_ur={what: f"متن {MAX_TEXT} حروف سے زیادہ ہے۔"})
    return t


# --- who may do what --------------------------------------------------------------------------------


def _chain(s: Session, unit: str) -> list[Unit]:
    out: list[Unit] = []
    cur: str | None = unit
    while cur is not None and all(u.code != cur for u in out):
        u = s.get(Unit, cur)
        if u is None:
            break
        out.append(u)
        cur = u.parent_code
    return out


def approver_unit(s: Session, unit: str) -> str:
    """The unit a return of ``unit`` goes to: the nearest circle or HQ above it (HQ: itself)."""
    chain = _chain(s, unit)
    for u in chain[1:]:
        if u.kind in ("circle", "hq"):
            return u.code
    return chain[0].code if chain else unit


def _reporting_kind(parent_kind: str) -> str | None:
    return {"circle": "post", "zone": "circle", "hq": "circle"}.get(parent_kind)


def _deny(ws: Workspace, perm: Perm, unit: str, object_id: str, reason: str, message: str) -> PermissionDenied:
    """Audits a refusal (in its own transaction, so it stays) and returns the error to raise."""
    with ws.sf.begin() as s:
        ws.audit(s, "permission.denied", object_type="monthly_return", object_id=object_id, unit=unit, detail={"perm": perm.value, "reason": reason})
    return PermissionDenied(message)


def _role_label(ws: Workspace) -> str:
    return Role(ws.user.role).value.replace("_", " ")


def _submit_refusal(ws: Workspace, s: Session, unit: str) -> tuple[Perm, str, str] | None:
    if ws.can(Perm.RETURN_SUBMIT, unit=unit):
        return None
    u = s.get(Unit, unit)
    if ws.can(Perm.RETURN_SUBMIT_POST, unit=unit) and unit == ws.user.unit_code and u is not None and u.kind == "post":
        return None
    if role_allows(ws.user.role, Perm.RETURN_SUBMIT, case_access=ws.user.case_access):
        return Perm.RETURN_SUBMIT, "scope", f"Unit {unit} is outside your unit ({ws.user.unit_code}); you cannot submit its return."
    if role_allows(ws.user.role, Perm.RETURN_SUBMIT_POST, case_access=ws.user.case_access):
        return (
            Perm.RETURN_SUBMIT_POST,
            "scope",
            f"As an officer you can submit the return of your own post only ({ws.user.unit_code}); the circle head submits that of {unit}.",
        )
    return Perm.RETURN_SUBMIT, "role", f"Your role ({_role_label(ws)}) cannot submit returns; the circle head does."


def _approve_refusal(ws: Workspace, s: Session, unit: str) -> tuple[str, str] | None:
    if not role_allows(ws.user.role, Perm.RETURN_APPROVE, case_access=ws.user.case_access):
        return "role", f"Your role ({_role_label(ws)}) cannot approve or send back returns."
    target = approver_unit(s, unit)
    if ws.user.unit_code not in ws.unit_chain(target):
        return "chain", (
            f"The return of {unit} goes to {target} for approval; your unit ({ws.user.unit_code}) is not {target} or above it, "
            "so you cannot approve it or send it back."
        )
    return None


def _require_view(ws: Workspace, unit: str) -> None:
    if not ws.unit_exists(unit):
        raise NotFound(f"There is no unit {unit!r}." if re.fullmatch(r"[A-Z0-9\-]{1,24}", unit or "") else "There is no such unit.")
    if any(ws.can(p, unit=unit) for p in _VIEW_PERMS):
        return
    ws.require(Perm.RECORD_READ, unit=unit, object_type="monthly_return")


def allowed_actions(ws: Workspace, unit: str, month: str) -> frozenset[str]:
    """What the signed-in user may do now with the return of ``unit`` for ``month`` (for the GUI to
    enable buttons; the services check again). Keys: compile, submit, approve, send_back, unlock,
    comment, export."""
    parse_month(month)
    if not ws.unit_exists(unit):
        return frozenset()
    with ws.sf() as s:
        row = _row(s, unit, month)
        state = row.state if row else None
        out: set[str] = set()
        may_compile = ws.can(Perm.RETURN_COMPILE, unit=unit)
        may_approve = _approve_refusal(ws, s, unit) is None
        if may_compile and state in (None, "draft", "returned"):
            out.add("compile")
        if state in ("draft", "returned") and _submit_refusal(ws, s, unit) is None:
            out.add("submit")
        if state == "submitted" and may_approve:
            out |= {"approve", "send_back"}
        if state == "approved" and ws.can(Perm.RETURN_UNLOCK, unit=unit):
            out.add("unlock")
        if state is not None and state != "approved" and (may_compile or may_approve):
            out.add("comment")
        if state is not None and any(ws.can(p, unit=unit) for p in _VIEW_PERMS):
            out.add("export")
    return frozenset(out)


# --- use cases --------------------------------------------------------------------------------------


def _scope(ws: Workspace, unit: str) -> set[str] | None:
    """The unit set of a return: ``None`` (every unit) for the root unit."""
    return None if len(ws.unit_chain(unit)) == 1 else ws.subtree(unit)


def iter_compile(
    ws: Workspace, unit: str, month: str, *, expected_version: int | None = None, framework: Framework | None = None
) -> Generator[Progress, None, MonthlyReturnDTO]:
    """Compiles (or compiles again) the draft return of ``unit`` for ``month``, yielding progress.

    Raises:
        PermissionDenied: (audited) the user may not compile returns for ``unit``.
        ReturnStateError: the return is submitted or approved.
        VersionConflict: ``expected_version`` is given and the return has moved on.
        ValidationError: the month is malformed or still in the future.
    """
    period = parse_month(month)
    month = period.label
    if not ws.unit_exists(unit):
        raise NotFound(f"There is no unit {unit!r}." if re.fullmatch(r"[A-Z0-9\-]{1,24}", unit or "") else "There is no such unit.")
    ws.require(Perm.RETURN_COMPILE, unit=unit, object_type="monthly_return")
    if period.start > _local_day(now()):
        raise ValidationError(f"{month} has not started yet; a return covers a month that has begun.", {"month": "future"}, fields_ur={"month": "یہ مہینہ ابھی شروع نہیں ہوا۔"})
    fw = framework or default_framework()
    units = _scope(ws, unit)
    with ws.sf.begin() as s:
        row = _row(s, unit, month)
        if row is not None:
            _check_version(row, expected_version)
            _need_state(row, ("draft", "returned"), "compiled again")
        snap = yield from _compute(s, unit, units, period, fw)
        at = now()
        from_state = row.state if row is not None else None
        if row is None:
            row = MonthlyReturn(
                unit=unit,
                month=month,
                state="draft",
                due_on=due_date(month),
                origin_unit=ws.wf.unit,
                version=1,
                base_version=0,
                created_at=at,
            )
            s.add(row)
        row.state = "draft"
        row.framework_version = fw.version
        row.snapshot = _canonical(snap)
        row.fingerprint = _fingerprint(snap)
        row.compiled_at, row.compiled_by = at, ws.user.username
        try:
            s.flush()
        except IntegrityError:  # another session created this unit-month's return meanwhile
            raise VersionConflict(f"The return of {unit} for {month} was just compiled by someone else. Reload it and try again.") from None
        messages = validate_snapshot(snap, fw)
        _step(ws, s, row, "compile", from_state, detail={"errors": sum(m.level == "error" for m in messages)})
        s.flush()
        dto = _dto(s, row, fw, messages=messages)
    yield _progress(4, 4, "Saved")
    return dto


def compile_return(ws: Workspace, unit: str, month: str, *, expected_version: int | None = None) -> MonthlyReturnDTO:
    """:func:`iter_compile` without progress."""
    return drive(iter_compile(ws, unit, month, expected_version=expected_version))


def get_return(ws: Workspace, unit: str, month: str) -> MonthlyReturnDTO:
    """The return of ``unit`` for ``month``.

    Raises:
        NotFound: no such unit, or no return compiled yet.
        PermissionDenied: (audited) the unit is outside the user's scope.
    """
    month = parse_month(month).label
    _require_view(ws, unit)
    with ws.sf() as s:
        return _dto(s, _existing(s, unit, month))


def list_returns(ws: Workspace, *, unit: str | None = None, month: str | None = None, state: str | None = None) -> list[ReturnSummary]:
    """Returns of ``unit`` and the units below it (default: the user's unit), newest month first."""
    root = unit or ws.user.unit_code
    _require_view(ws, root)
    if state is not None and state not in STATES:
        raise ValidationError(f"A return's state is one of {', '.join(STATES)}.", {"state": "unknown"})
    q = select(MonthlyReturn)
    if len(ws.unit_chain(root)) > 1:
        q = q.where(MonthlyReturn.unit.in_(sorted(ws.subtree(root))))
    if month:
        q = q.where(MonthlyReturn.month == parse_month(month).label)
    if state:
        q = q.where(MonthlyReturn.state == state)
    with ws.sf() as s:
        rows = s.scalars(q.order_by(MonthlyReturn.month.desc(), MonthlyReturn.unit)).all()
        return [
            ReturnSummary(r.id, r.unit, r.month, r.state, r.version, r.compiled_at, r.compiled_by, r.submitted_at, r.approved_at, r.approved_by, r.due_on, r.on_time)
            for r in rows
        ]


def submit_return(ws: Workspace, unit: str, month: str, *, expected_version: int | None = None) -> MonthlyReturnDTO:
    """Submits a draft (or returned) return to the unit above, after compiling it again.

    Raises:
        PermissionDenied: (audited) the user may not submit this unit's return.
        ReturnStateError: the return is not a draft or returned.
        ReturnOutdated: the records changed since the reviewed compile (compile and review again).
        ValidationError: the checks found errors (``fields`` maps each value to its message).
    """
    period = parse_month(month)
    month = period.label
    _require_view(ws, unit)
    fw = default_framework()
    with ws.sf.begin() as s:
        row = _existing(s, unit, month)
        refusal = _submit_refusal(ws, s, unit)
        rid = row.id
    if refusal is not None:
        raise _deny(ws, refusal[0], unit, rid, refusal[1], refusal[2])
    with ws.sf.begin() as s:
        row = _existing(s, unit, month)
        _check_version(row, expected_version)
        _need_state(row, ("draft", "returned"), "submitted")
        if row.framework_version != fw.version:
            raise ReturnOutdated(
                f"The return of {unit} for {month} was compiled with framework version {row.framework_version}; this version "
                f"uses {fw.version}. Compile it again, review the values, then submit."
            )
        fresh = drive(_compute(s, unit, _scope(ws, unit), period, fw))
        if _fingerprint(fresh) != row.fingerprint:
            changed = _changed_keys(json.loads(row.snapshot), fresh)
            shown = ", ".join(changed[:8]) + (" …" if len(changed) > 8 else "")
            raise ReturnOutdated(
                f"The records of {unit} for {month} changed since the return was compiled "
                f"({row.compiled_at.astimezone(REPORTING_TZ):%Y-%m-%d %H:%M} PKT): {len(changed)} value"
                f"{'s' if len(changed) != 1 else ''} differ ({shown}). Compile it again, review the new values, then submit."
            )
        errors = [m for m in validate_snapshot(fresh, fw) if m.level == "error"]
        if errors:
            raise ValidationError(
                f"The return has {len(errors)} error{'s' if len(errors) != 1 else ''}; it cannot be submitted. "
                + " ".join(m.text_en for m in errors),
                {m.key: m.text_en for m in errors},
                fields_ur={m.key: m.text_ur for m in errors},
            )
        from_state = row.state
        at = now()
        row.state = "submitted"
        row.submitted_at, row.submitted_by = at, ws.user.username
        if row.first_submitted_at is None:
            row.first_submitted_at = at
            row.on_time = _local_day(at) <= row.due_on
        _step(ws, s, row, "submit", from_state, detail={"on_time": row.on_time})
        s.flush()
        return _dto(s, row, fw)


def approve_return(ws: Workspace, unit: str, month: str, *, expected_version: int | None = None) -> MonthlyReturnDTO:
    """Approves a submitted return: its month's records (of the unit and below) are locked.

    Raises:
        PermissionDenied: (audited) the user is not at the unit the return goes to, or above it.
        ReturnStateError: the return is not submitted.
    """
    return _review(ws, unit, month, "approve", None, expected_version)


def send_back_return(ws: Workspace, unit: str, month: str, reason: str, *, expected_version: int | None = None) -> MonthlyReturnDTO:
    """Sends a submitted return back to its unit with a reason (state "returned").

    Raises:
        PermissionDenied: (audited) as for :func:`approve_return`.
        ReturnStateError: the return is not submitted.
        ValidationError: no reason given.
    """
    return _review(ws, unit, month, "send_back", _clean_text(reason, "reason"), expected_version)


def _review(ws: Workspace, unit: str, month: str, action: str, reason: str | None, expected_version: int | None) -> MonthlyReturnDTO:
    month = parse_month(month).label
    _require_view(ws, unit)
    with ws.sf.begin() as s:
        row = _existing(s, unit, month)
        refusal = _approve_refusal(ws, s, unit)
        rid = row.id
    if refusal is not None:
        raise _deny(ws, Perm.RETURN_APPROVE, unit, rid, refusal[0], refusal[1])
    with ws.sf.begin() as s:
        row = _existing(s, unit, month)
        _check_version(row, expected_version)
        _need_state(row, ("submitted",), "approved" if action == "approve" else "sent back")
        at = now()
        if action == "approve":
            row.state = "approved"
            row.approved_at, row.approved_by = at, ws.user.username
        else:
            row.state = "returned"
            row.returned_at, row.returned_by, row.returned_reason = at, ws.user.username, reason
        _step(ws, s, row, action, "submitted", reason=reason)
        s.flush()
        return _dto(s, row)


def unlock_return(
    ws: Workspace, unit: str, month: str, reason: str, *, to_state: str = "draft", expected_version: int | None = None
) -> MonthlyReturnDTO:
    """An administrator reopens an approved return (back to draft or submitted), with a reason.

    The month's records can be changed again. Audited with the reason's length (not its text).

    Raises:
        PermissionDenied: (audited) not an administrator of this unit.
        ReturnStateError: the return is not approved.
        ValidationError: no reason, or ``to_state`` is not draft / submitted.
    """
    month = parse_month(month).label
    if to_state not in ("draft", "submitted"):
        raise ValidationError("An unlocked return goes back to draft or submitted.", {"to_state": "unknown"})
    reason = _clean_text(reason, "reason")
    if not ws.unit_exists(unit):
        raise NotFound("There is no such unit.")
    ws.require(Perm.RETURN_UNLOCK, unit=unit, object_type="monthly_return")
    with ws.sf.begin() as s:
        row = _existing(s, unit, month)
        _check_version(row, expected_version)
        _need_state(row, ("approved",), "unlocked")
        row.state = to_state
        row.approved_at = row.approved_by = None
        _step(ws, s, row, "unlock", "approved", reason=reason)
        s.flush()
        return _dto(s, row)


def add_comment(ws: Workspace, unit: str, month: str, key: str, body: str) -> CommentDTO:
    """Adds a comment on one value (indicator code, ``pipeline.<name>``) or on the whole return.

    Raises:
        PermissionDenied: (audited) the user neither compiles nor reviews this unit's returns.
        ReturnStateError: the return is approved (unlock it first).
        ValidationError: unknown value key, or an empty or too long comment.
    """
    month = parse_month(month).label
    body = _clean_text(body, "comment")
    _require_view(ws, unit)
    with ws.sf.begin() as s:
        row = _existing(s, unit, month)
        rid = row.id
        allowed = ws.can(Perm.RETURN_COMPILE, unit=unit) or _approve_refusal(ws, s, unit) is None
    if not allowed:
        raise _deny(ws, Perm.RETURN_COMPILE, unit, rid, "role", "Only those who compile or review this unit's returns can comment on them.")
    with ws.sf.begin() as s:
        row = _existing(s, unit, month)
        if row.state == "approved":
            _need_state(row, ("draft", "submitted", "returned"), "commented on")
        snap = json.loads(row.snapshot)
        valid = {RETURN_KEY, *snap.get("values", {}), *(f"pipeline.{k}" for k in PIPELINE)}
        if key not in valid:
            raise ValidationError(
                f"{key[:40]!r} is not a value of this return: give an indicator code (e.g. 1.3.a), pipeline.<name> or 'return'.",
                {"key": "unknown"},
            )
        ordinal = (s.scalar(select(func.max(ReturnComment.ordinal)).where(ReturnComment.return_id == row.id)) or 0) + 1
        c = ReturnComment(return_id=row.id, ordinal=ordinal, value_key=key, body=body, author=ws.user.username, created_at=now())
        s.add(c)
        s.flush()
        ws.audit(s, "return.commented", object_type="monthly_return", object_id=row.id, unit=unit, detail={"month": month, "key": key, "chars": len(body)})
        return CommentDTO(c.id, c.value_key, c.body, c.author, c.created_at)


def completeness(ws: Workspace, unit: str, month: str) -> Completeness:
    """Which units reporting to ``unit`` (a circle's posts; the circles under HQ or a zone) have
    submitted their return of ``month``, on time or late, and which are missing."""
    month = parse_month(month).label
    _require_view(ws, unit)
    due = due_date(month)
    overdue_now = _local_day(now()) > due
    with ws.sf() as s:
        parent = s.get(Unit, unit)
        kind = _reporting_kind(parent.kind) if parent is not None else None
        members = [] if kind is None else s.scalars(
            select(Unit).where(Unit.code.in_(sorted(ws.subtree(unit) - {unit})), Unit.kind == kind, Unit.active.is_(True)).order_by(Unit.code)
        ).all()
        rets = {
            r.unit: r
            for r in s.scalars(select(MonthlyReturn).where(MonthlyReturn.month == month, MonthlyReturn.unit.in_([u.code for u in members])))
        }
        rows = []
        for u in members:
            r = rets.get(u.code)
            state = r.state if r is not None else "missing"
            rows.append(
                CompletenessRow(
                    unit=u.code,
                    name_en=u.name_en,
                    name_ur=u.name_ur,
                    kind=u.kind,
                    state=state,
                    first_submitted_at=r.first_submitted_at if r else None,
                    on_time=r.on_time if r else None,
                    overdue=overdue_now and state not in ("submitted", "approved") and (r is None or r.first_submitted_at is None),
                )
            )
    return Completeness(unit, month, due, tuple(rows))


@dataclass(frozen=True)
class DueReturn:
    """A return of the user's own unit that is still to be submitted (for the start page)."""

    unit: str
    month: str
    state: str  # missing / draft / returned
    due_on: date
    overdue: bool


def due_returns(ws: Workspace, *, months: int = 3) -> list[DueReturn]:
    """The user's unit's returns of the last ``months`` completed months that are not yet with the
    unit above (no return, a draft, or sent back), oldest first. Empty for roles that neither
    compile nor submit returns."""
    unit = ws.user.unit_code
    if not ws.can(Perm.RETURN_COMPILE, unit=unit):
        return []
    today = _local_day(now())
    wanted: list[str] = []
    y, m = today.year, today.month
    for _ in range(months):
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
        wanted.append(f"{y:04d}-{m:02d}")
    with ws.sf() as s:
        states = dict(s.execute(select(MonthlyReturn.month, MonthlyReturn.state).where(MonthlyReturn.unit == unit, MonthlyReturn.month.in_(wanted))).tuples().all())
    out = []
    for month in sorted(wanted):
        state = states.get(month, "missing")
        if state in ("submitted", "approved"):
            continue
        due = due_date(month)
        out.append(DueReturn(unit, month, state, due, today > due))
    return out


# --- export -----------------------------------------------------------------------------------------

EXPORT_FORMATS = ("pdf", "xlsx", "csv", "json")


def iter_export_return(
    ws: Workspace, unit: str, month: str, *, fmt: str, out: Any, external: bool = False, lang: str = "en"
) -> Generator[Progress, None, Any]:
    """Writes the return of ``unit`` for ``month`` as it was compiled (its snapshot) to ``out``:
    PDF (cover with unit, month, state and signature block), XLSX, CSV (long format) or JSON,
    through the report renderers. The internal version carries the case pipeline, the comments
    and the checks; the external one applies disclosure control and leaves free text out. ``lang``
    (``en`` / ``ur``) is the language of a PDF (the other formats are English).

    Returns the renderer's :class:`~nap_desktop.reports.publish.ExportResult`.

    Raises:
        PermissionDenied: (audited) no right to read the return, or to its internal version.
        NotFound: no return compiled yet.
        StorageFull, ExportError: nothing was written.
    """
    # NOTE: imported here: the renderers load reportlab and openpyxl, which the record services
    # (that import this module for the lock) should not pay for.
    from nap_desktop.reports.publish import iter_indicator_report, unit_meta

    if fmt not in EXPORT_FORMATS:
        raise ValidationError(f"The format is one of {', '.join(EXPORT_FORMATS)}.", {"format": "unknown"})
    ret = get_return(ws, unit, month)
    comments: dict[str, list[str]] = {}
    for c in ret.comments:
        comments.setdefault(c.key, []).append(f"{c.body} ({c.author}, {c.at.astimezone(REPORTING_TZ):%Y-%m-%d})")
    lang = lang if fmt == "pdf" else "en"
    ur = lang == "ur"
    validation = [f"{translate(m.level.upper(), lang)}: {m.text_ur if ur else m.text_en}" for m in ret.messages if m.level != "info"]
    codes = set(ret.report.values)

    def about(key: str) -> str:
        if key == RETURN_KEY:
            return translate("the return", lang)
        en, urdu = PIPELINE.get(key.removeprefix("pipeline."), (key, key))
        return urdu if ur else en.lower()

    validation += [translate("Comment on {what}", lang).format(what=about(k)) + f": {text}" for k, v in comments.items() if k not in codes for text in v]
    meta = unit_meta(
        ws,
        unit,
        status=ret.state,
        prepared_by=ret.submitted_by or ret.compiled_by,
        approved_by=ret.approved_by or "",
        audience="external" if external else "internal",
        pipeline={(label_ur if ur else label): ret.pipeline[k] for k, (label, label_ur) in PIPELINE.items()},
        comments={k: " | ".join(v) for k, v in comments.items() if k in codes},
        validation=validation,
    )
    result = yield from iter_indicator_report(ws, period=ret.period, scope=unit, fmt=fmt, out=out, external=external, report=ret.report, meta=meta, lang=lang)
    with ws.sf.begin() as s:
        ws.audit(
            s,
            "return.exported",
            object_type="monthly_return",
            object_id=ret.id,
            unit=unit,
            detail={"month": ret.month, "state": ret.state, "format": fmt, "audience": result.audience, "hidden": result.hidden},
        )
    return result


def export_return(ws: Workspace, unit: str, month: str, *, fmt: str, out: Any, external: bool = False, lang: str = "en") -> Any:
    """:func:`iter_export_return` without progress."""
    return drive(iter_export_return(ws, unit, month, fmt=fmt, out=out, external=external, lang=lang))


# --- the lock ---------------------------------------------------------------------------------------


def lock_hook(s: Session, unit: str, on: date) -> str | None:
    """Refuses a change to a record of ``unit`` dated ``on`` when the return of ``unit`` or of a
    unit above it for that month is approved (a hook of :data:`services.records.LOCK_HOOKS`)."""
    month = f"{on:%Y-%m}"
    approved = s.execute(
        select(MonthlyReturn.unit, MonthlyReturn.approved_by, MonthlyReturn.approved_at).where(
            MonthlyReturn.month == month, MonthlyReturn.state == "approved"
        )
    ).all()
    if not approved:
        return None
    chain = [u.code for u in _chain(s, unit)]
    by_unit = {r.unit: r for r in approved}
    for code in chain:
        r = by_unit.get(code)
        if r is None:
            continue
        when = f" on {r.approved_at.astimezone(REPORTING_TZ):%Y-%m-%d}" if r.approved_at else ""
        return (
            f"Records of {unit} dated in {month} are locked: the {month} return of {code} was approved by {r.approved_by}{when}. "
            f"To change them, an administrator must first unlock that return (nap-desktop return unlock --unit {code} "
            f"--month {month} --reason …)."
        )
    return None


if lock_hook not in record_service.LOCK_HOOKS:
    record_service.LOCK_HOOKS.append(lock_hook)
