# SPDX-License-Identifier: GPL-3.0-or-later
"""Standard exports for international reporting: UNODC GLOTIP table, CTDC victim-level file,
DHIS2 dataValueSets.

None of them holds a name, an identity number, a phone number, free text, a record or person
id, or an exact date: persons appear as counts (GLOTIP, DHIS2) or as de-identified rows of coded
values with the year only (CTDC).

- :func:`glotip_table` — detected victims (presumed and confirmed victims of trafficking,
  screened in the period), persons brought into formal contact (suspects identified in the
  period), persons prosecuted (suspects of cases whose challan was submitted or trial started in
  the period), persons convicted (accused named in a conviction dated in the period); each as a
  sex × age table (0–17 / 18+ / unknown) with its margins, by form of exploitation (victims) and
  by citizenship. Counts of 1–4 are "<5" with complementary suppression
  (:mod:`nap_desktop.reports.suppression`).
- :func:`ctdc_rows` — one row per victim identified in the period, in the CTDC layout (year of
  registration, gender, ageBroad, majority status, citizenship ISO-3, exploitation flags, country
  of exploitation), made k-anonymous (default k = 11) over all its columns: rows in groups smaller
  than k are generalised step by step (age band → 0--17 / 18+; citizenship and country of
  exploitation → PAK / OTH; exploitation flags → not specified; gender → not specified) and what
  is still below k is dropped. The counts are reported.
- :func:`dhis2_payload` — a dataValueSets document of an :class:`IndicatorReport` for a unit and
  a month (quarter, year): dataElement = indicator code, categoryOptionCombo = ``default`` for the
  total or ``<disaggregation>_<key>`` (upper case), orgUnit = unit code, period ``YYYYMM``. Codes,
  not UIDs: import with ``idScheme=CODE``. Percents as two elements ``<code>_NUM`` and
  ``<code>_DEN`` (a DHIS2 indicator divides them). Hidden values are left out.

This module never imports Qt.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from sqlalchemy import and_, case, func, literal, select, union
from sqlalchemy.orm import Session, aliased

from nap_desktop.data.record_models import Case, CaseEvent, CaseParty, Person, RecordCode, Screening, Suspect
from nap_desktop.domain.codelists import CodeLists, ctdc_age_band_for, default_codelists
from nap_desktop.errors import ValidationError
from nap_desktop.reports.engine import Period, _age_at  # noqa: PLC2701 - the engine's age rule, shared on purpose
from nap_desktop.reports.suppression import HIDDEN, SMALL, Disclosure, Problem

__all__ = [
    "CTDC_COLUMNS",
    "GLOTIP_COLUMNS",
    "VICTIM_STATUSES",
    "CtdcResult",
    "GlotipTable",
    "ctdc_csv",
    "ctdc_rows",
    "dhis2_payload",
    "dhis2_period",
    "glotip_csv",
    "glotip_table",
    "glotip_xlsx",
]

VICTIM_STATUSES = ("presumed_victim", "confirmed_victim")  # GLOTIP/CTDC count victims of trafficking
COUNTRY_ISO3, COUNTRY_NAME = "PAK", "Pakistan"
SEXES = ("Female", "Male", "Transgender", "Unknown")
AGES = ("0 to 17 years", "18 years or over", "Unknown")
TOTAL = "Total"
GLOTIP_INDICATORS = (
    "Detected trafficking victims",
    "Persons brought into formal contact",
    "Persons prosecuted",
    "Persons convicted",
)
GLOTIP_COLUMNS = ("Iso3_code", "Country", "Indicator", "Dimension", "Category", "Sex", "Age", "Period", "Unit of measurement", "Value", "Source")
CTDC_FLAGS = ("isForcedLabour", "isSexualExploit", "isOtherExploit", "isForcedMarriage", "isForcedMilitary", "isOrganRemoval", "isSlaveryAndPractices")
CTDC_COLUMNS = (
    "yearOfRegistration",
    "Datasource",
    "gender",
    "ageBroad",
    "majorityStatus",
    "citizenship",
    *CTDC_FLAGS,
    "typeOfExploitConcatenated",
    "CountryOfExploitation",
)
_SEX_LABEL = {"female": "Female", "male": "Male", "transgender": "Transgender"}


def _live(model: Any, units: Collection[str] | None) -> list[Any]:
    conds = [model.deleted.is_(False), model.status == "complete"]
    if units is not None:
        conds.append(model.unit.in_(sorted(units)))
    return conds


def _in(col: Any, period: Period) -> Any:
    return and_(col >= period.start, col < period.stop)


def _age_label(age: int | None) -> str:
    if age is None or age < 0:
        return AGES[2]
    return AGES[0] if age <= 17 else AGES[1]


# --- GLOTIP ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GlotipTable:
    """The GLOTIP table: rows of :data:`GLOTIP_COLUMNS` (values as int, or "<5" / "x")."""

    period: str
    rows: tuple[tuple[Any, ...], ...]
    hidden: int


def _persons_facts(session: Session, units: Collection[str] | None, period: Period) -> dict[str, Any]:
    """Per indicator, a subquery of distinct persons (``pid``) with the date (``on``) their age is taken on."""
    S, Su, C, E, CP = Screening, Suspect, Case, CaseEvent, CaseParty
    victims = (
        select(S.person_id.label("pid"), func.min(S.screened_on).label("on"))
        .where(*_live(S, units), _in(S.screened_on, period), S.identification_status.in_(VICTIM_STATUSES))
        .group_by(S.person_id)
    )
    contact = select(Su.person_id.label("pid"), func.min(Su.identified_on).label("on")).where(*_live(Su, units), _in(Su.identified_on, period)).group_by(Su.person_id)
    court = (
        select(E.case_id.label("case_id"), func.min(E.on_date).label("on"))
        .join_from(E, C, C.id == E.case_id)
        .where(*_live(C, units), E.event.in_(["challan_submitted", "trial_started"]), _in(E.on_date, period))
        .group_by(E.case_id)
        .subquery("court")
    )
    accused = union(
        select(CP.case_id.label("case_id"), CP.person_id.label("person_id")).where(CP.party_role == "suspect"),
        select(Su.case_id.label("case_id"), Su.person_id.label("person_id")).where(Su.case_id.is_not(None), Su.deleted.is_(False), Su.status == "complete"),
    ).subquery("accused")
    prosecuted = select(accused.c.person_id.label("pid"), func.min(court.c.on).label("on")).join_from(court, accused, accused.c.case_id == court.c.case_id).group_by(accused.c.person_id)
    convicted = (
        select(E.person_id.label("pid"), func.min(E.on_date).label("on"))
        .join_from(E, C, C.id == E.case_id)
        .where(*_live(C, units), E.event == "verdict", E.verdict == "convicted", E.person_id.is_not(None), _in(E.on_date, period))
        .group_by(E.person_id)
    )
    return dict(zip(GLOTIP_INDICATORS, (victims, contact, prosecuted, convicted), strict=True))


def _cube(session: Session, facts: Any) -> list[Any]:
    f = facts.subquery("f")
    P = aliased(Person, name="p")
    age = _age_at(P, f.c.on).label("age")
    keys = [func.coalesce(P.sex, "unknown").label("sex"), age, func.coalesce(P.citizenship, "unknown").label("citizenship")]
    return list(session.execute(select(*keys, func.count().label("n")).join_from(f, P, P.id == f.c.pid).group_by(*keys)).all())


def _exploitation(session: Session, units: Collection[str] | None, period: Period, cl: CodeLists) -> dict[str, int]:
    S, RC = Screening, aliased(RecordCode, name="rc")
    labels = {e.code: (e.mapping("unodc") or "Other purposes") for e in cl["exploitation_type"]}
    label = case(*((RC.code == c, literal(lab)) for c, lab in labels.items()), else_=literal("Other purposes"))
    rows = session.execute(
        select(label.label("form"), func.count(func.distinct(S.person_id)).label("n"))
        .join_from(S, RC, and_(RC.record_id == S.id, RC.field == "exploitation_types"))
        .where(*_live(S, units), _in(S.screened_on, period), S.identification_status.in_(VICTIM_STATUSES), RC.code != "unknown")
        .group_by(label)
    ).all()
    return {r.form: int(r.n) for r in rows}


def glotip_table(session: Session, *, units: Collection[str] | None, period: Period, codelists: CodeLists | None = None, suppress: bool = True) -> GlotipTable:
    """The GLOTIP-style table for the records of ``units`` (``None``: all) in ``period``."""
    cl = codelists or default_codelists()
    out: list[tuple[Any, ...]] = []
    hidden = 0
    for indicator, facts in _persons_facts(session, units, period).items():
        grid: Counter[tuple[str, str]] = Counter()
        citizenship: Counter[str] = Counter()
        for r in _cube(session, facts):
            n = int(r.n)
            grid[(_SEX_LABEL.get(r.sex, "Unknown"), _age_label(None if r.age is None else int(r.age)))] += n
            citizenship[r.citizenship] += n
        forms = _exploitation(session, units, period, cl) if indicator == GLOTIP_INDICATORS[0] else None
        pb = Problem()
        total = pb.cell(("total",), sum(grid.values()), total=True)
        for s in SEXES:
            pb.cell(("sex", s), sum(grid[(s, a)] for a in AGES), total=True)
        for a in AGES:
            pb.cell(("age", a), sum(grid[(s, a)] for s in SEXES), total=True)
        for s in SEXES:
            for a in AGES:
                pb.cell(("grid", s, a), grid[(s, a)])
            pb.total_of(("sex", s), [("grid", s, a) for a in AGES])
        for a in AGES:
            pb.total_of(("age", a), [("grid", s, a) for s in SEXES])
        pb.total_of(total, [("sex", s) for s in SEXES])
        pb.total_of(total, [("age", a) for a in AGES])
        cit_cells = [pb.cell(("cit", c), n) for c, n in sorted(citizenship.items())]
        pb.total_of(total, cit_cells)
        for form, n in sorted((forms or {}).items()):
            pb.cell(("form", form), n)
        sol = pb.solve() if suppress else None
        markers = dict(sol.markers) if sol else {}
        if sol is not None and sol.unprotectable:  # a tiny table that "<5" cannot hide: withhold it whole
            markers = {cid: HIDDEN for cid, c in pb.cells.items() if c.value}
        hidden += len(markers)

        def v(cid: Any) -> Any:
            return markers.get(cid, pb.cells[cid].value)

        def row(dimension: str, category: str, sex: str, age: str, cid: Any) -> None:
            out.append((COUNTRY_ISO3, COUNTRY_NAME, indicator, dimension, category, sex, age, period.label, "Counts", v(cid), "FIA (NAP Desktop)"))

        row("Total", TOTAL, TOTAL, TOTAL, total)
        for s in SEXES:
            row("Total", TOTAL, s, TOTAL, ("sex", s))
        for a in AGES:
            row("Total", TOTAL, TOTAL, a, ("age", a))
        for s in SEXES:
            for a in AGES:
                row("Total", TOTAL, s, a, ("grid", s, a))
        if forms is not None:
            for form in sorted(forms):
                row("by form of exploitation", form, TOTAL, TOTAL, ("form", form))
        for c, _ in sorted(citizenship.items()):
            name = cl["citizenship"].label(c, "en") if c in cl["citizenship"] else "Unknown"
            row("by citizenship", name, TOTAL, TOTAL, ("cit", c))
    return GlotipTable(period.label, tuple(out), hidden)


def glotip_csv(table: GlotipTable) -> bytes:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(GLOTIP_COLUMNS)
    w.writerows(table.rows)
    return buf.getvalue().encode("utf-8-sig")


def glotip_xlsx(table: GlotipTable) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "GLOTIP"
    widths = (9, 11, 34, 24, 30, 12, 18, 10, 12, 9, 18)
    for i, (name, width) in enumerate(zip(GLOTIP_COLUMNS, widths, strict=True), start=1):
        c = ws.cell(row=1, column=i, value=name)
        c.font, c.fill = Font(bold=True, color="FFFFFF"), PatternFill("solid", fgColor="1F4E79")
        ws.column_dimensions[c.column_letter].width = width
    for r, row in enumerate(table.rows, start=2):
        for i, value in enumerate(row, start=1):
            c = ws.cell(row=r, column=i, value=value)
            if isinstance(value, int):
                c.number_format = "#,##0"
            elif value in (SMALL, HIDDEN):
                c.alignment = Alignment(horizontal="right")
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:K{len(table.rows) + 1}"
    note = wb.create_sheet("Notes")
    note.column_dimensions["A"].width = 110
    for i, text in enumerate(
        (
            f"Period: {table.period}. Source: FIA records in NAP Desktop.",
            "<5: a count between 1 and 4, not shown. x: not shown, so that a count below 5 cannot be worked out from the totals.",
            "Detected trafficking victims: presumed and confirmed victims of trafficking screened in the period (distinct persons).",
            "Persons brought into formal contact: suspects identified in the period. Persons prosecuted: suspects of cases whose challan was submitted or trial started in the period. Persons convicted: accused named in a conviction dated in the period.",
            "Age: on the first counted event of the period. A victim with several forms of exploitation counts under each.",
        ),
        start=1,
    ):
        note.cell(row=i, column=1, value=text).alignment = Alignment(wrap_text=True)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# --- CTDC ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CtdcResult:
    """The de-identified rows (in :data:`CTDC_COLUMNS` order) and what k-anonymity did."""

    rows: tuple[tuple[str, ...], ...]
    k: int
    victims: int
    generalised: Mapping[str, int]
    dropped: int

    @property
    def smallest_group(self) -> int:
        return min(Counter(self.rows).values()) if self.rows else 0


def _victim_rows(session: Session, units: Collection[str] | None, period: Period, cl: CodeLists) -> list[dict[str, str]]:
    S, RC = Screening, aliased(RecordCode, name="rc")
    where = [*_live(S, units), _in(S.screened_on, period), S.identification_status.in_(VICTIM_STATUSES)]
    first = select(S.person_id.label("pid"), func.min(S.screened_on).label("on"), func.min(S.country_of_exploitation).label("coe")).where(*where).group_by(S.person_id).subquery("v")
    P = aliased(Person, name="p")
    people = session.execute(select(first.c.pid, first.c.on, first.c.coe, P.sex, P.citizenship, _age_at(P, first.c.on).label("age")).join_from(first, P, P.id == first.c.pid)).all()
    codes: dict[str, set[str]] = defaultdict(set)
    for pid, code in session.execute(select(S.person_id, RC.code).join_from(S, RC, and_(RC.record_id == S.id, RC.field == "exploitation_types")).where(*where).distinct()):
        codes[pid].add(code)
    flag_of = {e.code: e.mapping("ctdc") for e in cl["exploitation_type"]}
    sex_of = {e.code: (e.mapping("ctdc") or "") for e in cl["sex"]}
    iso3 = {e.code: (e.mapping("ctdc") or e.iso3 or "") for e in cl["citizenship"]}
    bands = {e.code: (e.mapping("ctdc") or e.code) for e in cl["ctdc_age_band"]}
    out = []
    for r in people:
        age = None if r.age is None or int(r.age) < 0 else int(r.age)
        band = ctdc_age_band_for(age, cl) if age is not None else "unknown"
        flags = sorted({f for c in codes.get(r.pid, ()) if (f := flag_of.get(c))})
        row = {
            "yearOfRegistration": str(r.on.year),
            "Datasource": "Case Management",
            "gender": sex_of.get(r.sex or "unknown", ""),
            "ageBroad": bands.get(band, "") if band != "unknown" else "",
            "majorityStatus": "" if age is None else ("Minor" if age <= 17 else "Adult"),
            "citizenship": iso3.get(r.citizenship or "unknown", ""),
            **{f: ("1" if f in flags else "") for f in CTDC_FLAGS},
            "typeOfExploitConcatenated": ";".join(flags),
            "CountryOfExploitation": iso3.get(r.coe, "") if r.coe else "",
        }
        out.append(row)
    return out


def _broad_age(row: dict[str, str]) -> None:
    if row["ageBroad"]:
        row["ageBroad"] = "0--17" if row["majorityStatus"] == "Minor" else "18+"


def _region(row: dict[str, str]) -> None:
    for col in ("citizenship", "CountryOfExploitation"):
        if row[col] and row[col] != COUNTRY_ISO3:
            row[col] = "OTH"


def _no_exploitation(row: dict[str, str]) -> None:
    for f in CTDC_FLAGS:
        row[f] = ""
    row["typeOfExploitConcatenated"] = ""


def _no_gender(row: dict[str, str]) -> None:
    row["gender"] = ""


_STEPS = (("age_band", _broad_age), ("citizenship_region", _region), ("exploitation", _no_exploitation), ("gender", _no_gender))


def _key(row: Mapping[str, str]) -> tuple[str, ...]:
    return tuple(row[c] for c in CTDC_COLUMNS)


def k_anonymise(rows: list[dict[str, str]], k: int) -> tuple[list[dict[str, str]], dict[str, int], int]:
    """Generalises rows of groups smaller than ``k`` step by step, then drops what is left.

    Every column is a quasi-identifier (as CTDC does). A step applies to the rows of the small
    groups and to the rows they would merge with (those whose generalised values equal a small
    group's), so a generalised row joins the larger group instead of forming a new small one;
    other rows keep their detail. Returns (rows, rows changed per step, rows dropped).
    """
    generalised: dict[str, int] = {}
    for name, step in _STEPS:
        sizes = Counter(_key(r) for r in rows)
        if all(sizes[_key(r)] >= k for r in rows):
            break
        after = []
        for r in rows:
            g = dict(r)
            step(g)
            after.append(g)
        targets = {_key(g) for r, g in zip(rows, after, strict=True) if sizes[_key(r)] < k}
        changed = 0
        for i, (r, g) in enumerate(zip(rows, after, strict=True)):
            if _key(g) in targets and _key(g) != _key(r):
                rows[i] = g
                changed += 1
        if changed:
            generalised[name] = changed
    sizes = Counter(_key(r) for r in rows)
    kept = [r for r in rows if sizes[_key(r)] >= k]
    return kept, generalised, len(rows) - len(kept)


def ctdc_rows(session: Session, *, units: Collection[str] | None, period: Period, k: int = 11, codelists: CodeLists | None = None) -> CtdcResult:
    """The CTDC-style victim-level rows of the period, k-anonymous over all columns."""
    if k < 2:
        raise ValidationError("k must be at least 2 (CTDC uses 11).", {"k": "too_small"})
    cl = codelists or default_codelists()
    rows = _victim_rows(session, units, period, cl)
    victims = len(rows)
    kept, generalised, dropped = k_anonymise(rows, k)
    ordered = sorted(_key(r) for r in kept)  # sorted: the order tells nothing about the records
    return CtdcResult(tuple(ordered), k, victims, generalised, dropped)


def ctdc_csv(result: CtdcResult) -> bytes:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(CTDC_COLUMNS)
    w.writerows(result.rows)
    return buf.getvalue().encode("utf-8")


# --- DHIS2 -----------------------------------------------------------------------------------------

_COC_RE = re.compile(r"[^A-Z0-9]+")


def dhis2_period(period: Period) -> str:
    """DHIS2 ISO period: ``202606`` (month), ``2026Q2`` (quarter), ``2026`` (year)."""
    if period.kind == "month":
        return f"{period.start:%Y%m}"
    if period.kind == "quarter":
        return f"{period.start.year}Q{(period.start.month + 2) // 3}"
    if period.kind == "year":
        return str(period.start.year)
    raise ValidationError("DHIS2 takes a month, a quarter or a year, not a date range.", {"period": "kind"})


def _coc(dim: str, key: str) -> str:
    return _COC_RE.sub("_", f"{dim}_{key}".upper()).strip("_")[:50]


def _num(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4f}".rstrip("0").rstrip(".") if not v.is_integer() else str(int(v))
    return str(int(v))


def dhis2_payload(report: Any, disclosure: Disclosure | None = None, *, data_set: str = "NAP_HTMS") -> dict[str, Any]:
    """The dataValueSets document of ``report`` (hidden values of ``disclosure`` left out)."""
    dc = disclosure or Disclosure(False)
    values: list[dict[str, str]] = []

    def add(element: str, coc: str, v: Any, *address: str) -> None:
        if v is None or dc.marker(*address) is not None:
            return
        values.append({"dataElement": element, "categoryOptionCombo": coc, "value": _num(v)})

    for code, iv in report.values.items():
        if iv.kind == "percent":
            add(f"{code}_NUM", "default", iv.numerator, code, "numerator")
            add(f"{code}_DEN", "default", iv.denominator, code, "denominator")
            for dim, keys in iv.fractions.items():
                for key, (n, d) in keys.items():
                    add(f"{code}_NUM", _coc(dim, key), n, code, "numerator", dim, key)
                    add(f"{code}_DEN", _coc(dim, key), d, code, "denominator", dim, key)
            continue
        add(code, "default", iv.value, code, "value")
        for dim, keys in iv.breakdown.items():
            for key, v in keys.items():
                add(code, _coc(dim, key), v, code, "value", dim, key)
    return {
        "dataSet": data_set,
        "period": dhis2_period(report.period),
        "orgUnit": report.scope,
        "dataValues": values,
    }


def dhis2_json(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, indent=2, ensure_ascii=False).encode("utf-8")


def hidden_in(rows: Iterable[Sequence[Any]]) -> int:
    """How many values of a table are suppression markers."""
    return sum(1 for r in rows for v in r if v in (SMALL, HIDDEN))
