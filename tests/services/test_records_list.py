# SPDX-License-Identifier: GPL-3.0-or-later
"""Lists and search: every filter that applies to each record type, paging, tombstones
(issue 3, Build 6, "Must show" 1).

The module builds one data set (four records per type, one of them deleted) in a shared
workspace and only reads it afterwards: each test compares a list with what a plain Python
filter over the data set says it should hold, so no test depends on another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from nap_desktop.domain.records import RECORD_TYPES
from nap_desktop.errors import ValidationError
from nap_desktop.services import records
from nap_desktop.services.records import OUTCOME_FIELD, RecordFilter, RecordRow
from tests.services.records_factories import (
    ALL_TYPES,
    CONSENT_ALL_YES,
    CREATED_ON_TYPES,
    PERSON_LINKED,
    World,
    create,
    world_at,
)

UNITS = ("P-TORKHAM", "C-PSH", "C-PSH", "C-PSH")
DATES = (date(2026, 3, 10), date(2026, 6, 15), date(2026, 9, 20), date(2026, 6, 16))
STATUSES = ("complete", "draft", "complete", "complete")
DELETED = (False, False, False, True)
PERSON_OF = ("child", "adult", "unknown", "adult")

PERSONS: dict[str, dict[str, Any]] = {
    "child": {"given_name": "Zainab", "family_name": "Listchild", "sex": "female", "date_of_birth": "2012-03-01", "age_years": 14,
              "citizenship": "pk", "cnic": "4210112345671", "passport_no": None, "other_id": None},
    "adult": {"given_name": "Gul", "family_name": "Listadult", "sex": "male", "date_of_birth": "1990-01-01", "age_years": 36,
              "citizenship": "af", "cnic": None, "passport_no": "AF1234567", "other_id": None},
    "unknown": {"given_name": "Noor", "family_name": "Listunknown", "sex": "transgender", "date_of_birth": None, "age_years": None,
                "citizenship": "unknown", "cnic": None, "passport_no": None, "other_id": "UNHCR-55-1234"},
}
AGE_GROUP = {"child": "child", "adult": "adult", "unknown": "unknown"}

# Per-type variations by index (0..3): the outcome field and what text search finds.
OUTCOMES: dict[str, tuple[Any, ...]] = {
    "screening": ("presumed_victim", "possible_victim", "smuggled_migrant", "presumed_victim"),
    "referral": ("accepted", "declined", None, "accepted"),
    "suspect": ("arrested", "on_bail", "absconding", "arrested"),
    "case": ("registered", "challaned", "decided", "registered"),
    "service": ("shelter", "medical", "legal_aid", "shelter"),
    "milestone": ("achieved", "in_progress", "planned", "achieved"),
}
EXPLOITATION = (["forced_labour"], ["sexual_exploitation"], ["forced_labour", "forced_begging"], ["forced_labour"])
TITLES = ("Alpha torkham", "Bravo peshawar", "Charlie khyber", "Delta deleted")
TITLE_FIELD = {
    "service_provider": "name",
    "coordination_entity": "name",
    "training": "title",
    "milestone": "title",
    "analysis_note": "title",
    "data_access": "stakeholder",
}
SURVEY = (("female", "child"), ("male", "adult"), ("female", "unknown"), ("female", "adult"))


@dataclass
class Rec:
    id: str
    type: str
    i: int
    unit: str
    on: date
    sort: Any
    status: str
    deleted: bool
    person: str | None = None
    outcome: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Data:
    world: World
    recs: dict[str, list[Rec]]
    created_on: date  # the (real) creation date of created_on types
    person_ids: dict[str, str]


def _values(type_name: str, i: int, refs: dict[str, str]) -> dict[str, Any]:
    v: dict[str, Any] = {}
    if type_name == "screening":
        v = {"identification_status": OUTCOMES["screening"][i], "exploitation_types": EXPLOITATION[i],
             "consent": {**CONSENT_ALL_YES, "guardian_present": "yes"}}
    elif type_name == "referral":
        v = {"outcome": OUTCOMES["referral"][i], "provider_id": refs["provider"]}
    elif type_name == "suspect":
        v = {"arrest_status": OUTCOMES["suspect"][i]}
    elif type_name == "case":
        on = DATES[i].isoformat()
        stages = (["case_registered"], ["case_registered", "challan_submitted"], ["case_registered", "challan_submitted", "verdict"],
                  ["case_registered"])[i]
        v = {"registered_on": on,
             "events": [{"event": e, "on_date": on, **({"verdict": "convicted"} if e == "verdict" else {})} for e in stages],
             "fir_number": ("FIR-101/2026", "FIR-202/2026", None, "FIR-404/2026")[i],
             "enquiry_number": (None, None, "ENQ-303/2026", None)[i]}
    elif type_name == "service":
        v = {"service_type": OUTCOMES["service"][i]}
    elif type_name == "milestone":
        v = {"progress": OUTCOMES["milestone"][i], "achieved_on": DATES[i].isoformat() if i in (0, 3) else None}
    elif type_name == "survey_response":
        v = {"sex": SURVEY[i][0], "age_group": SURVEY[i][1]}
    elif type_name == "coordination_meeting":
        v = {"entity_id": refs["entity"]}
    if type_name in TITLE_FIELD:
        v[TITLE_FIELD[type_name]] = TITLES[i]
    date_field = RECORD_TYPES[type_name].date_field
    if date_field != "created_on":
        v[date_field] = DATES[i].isoformat()
    return v


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Data]:
    with world_at(tmp_path_factory.mktemp("lists") / "ws") as world:
        ws = world.as_("head")
        recs: dict[str, list[Rec]] = {t: [] for t in ALL_TYPES}
        person_ids: dict[str, str] = {}
        refs: dict[str, str] = {}
        # persons first (index i = the person kind), then providers and bodies others refer to
        order = ["person", "service_provider", "coordination_entity"] + [t for t in ALL_TYPES if t not in ("person", "service_provider", "coordination_entity")]
        for type_name in order:
            for i in range(4):
                unit, on, status = UNITS[i], DATES[i], STATUSES[i]
                person_key = None
                if type_name == "person":
                    person_key = ("child", "adult", "unknown", "adult")[i]
                    vals = {**PERSONS[person_key], "given_name": PERSONS[person_key]["given_name"] + ("Gone" if i == 3 else "")}
                    if i == 3:
                        vals.update(cnic=None, passport_no=None)
                    dto = create(ws, "person", unit=unit, status=status, values=vals, fill="complete")
                    if i < 3:
                        person_ids[person_key] = dto.id
                else:
                    r: dict[str, str] = {}
                    if RECORD_TYPES[type_name].person_field:
                        person_key = PERSON_OF[i]
                        r["person_id"] = person_ids[person_key]
                    dto = create(ws, type_name, unit=unit, status=status, on=on, refs=r, values=_values(type_name, i, refs), fill="complete")
                if type_name == "service_provider" and i == 1:
                    refs["provider"] = dto.id
                if type_name == "coordination_entity" and i == 1:
                    refs["entity"] = dto.id
                got_on = dto.created_at.date() if type_name in CREATED_ON_TYPES else on
                sort = (dto.created_at.replace(tzinfo=None) if type_name in CREATED_ON_TYPES else on, dto.id)
                outcome = OUTCOMES.get(type_name, (None,) * 4)[i]
                extra = {"title": TITLES[i]} if type_name in TITLE_FIELD else {}
                if type_name == "survey_response":
                    extra.update(sex=SURVEY[i][0], age_group=SURVEY[i][1])
                if type_name == "screening":
                    extra["exploitation"] = EXPLOITATION[i]
                if type_name == "case":
                    extra["text"] = ("FIR-101/2026", "FIR-202/2026", "ENQ-303/2026", "FIR-404/2026")[i]
                recs[type_name].append(Rec(dto.id, type_name, i, unit, got_on, sort, status, DELETED[i], person_key, outcome, extra))
        for type_name in ALL_TYPES:  # tombstones last, so nothing refers to a deleted record
            records.delete_record(ws, recs[type_name][3].id)
        created_on = recs["person"][0].on
        yield Data(world, recs, created_on, person_ids)


@pytest.fixture
def ws(data: Data) -> Any:
    return data.world.as_("head")


def listed(ws: Any, type_name: str, **flt: Any) -> set[str]:
    page = records.list_records(ws, type_name, RecordFilter(**flt), limit=5000)
    assert page.total == len(page.rows)
    return {r.id for r in page.rows}


def expected(data: Data, type_name: str, pred: Callable[[Rec], bool], *, include_deleted: bool = False) -> set[str]:
    return {r.id for r in data.recs[type_name] if (include_deleted or not r.deleted) and pred(r)}


def person_age_group(data: Data, r: Rec) -> str:
    return AGE_GROUP[r.person] if r.person else "unknown"


# --- plain lists, tombstones, unit, status, dates ----------------------------------------------------


@pytest.mark.parametrize("type_name", ALL_TYPES)
def test_list_without_filters_shows_the_live_records_of_the_scope(data: Data, ws: Any, type_name: str) -> None:
    page = records.list_records(ws, type_name)
    assert page.total == 3 and {r.id for r in page.rows} == expected(data, type_name, lambda r: True)
    for row in page.rows:
        assert isinstance(row, RecordRow) and not hasattr(row, "_sa_instance_state")
        assert row.type == type_name and row.deleted is False
    assert listed(ws, type_name, include_deleted=True) == expected(data, type_name, lambda r: True, include_deleted=True)


@pytest.mark.parametrize("type_name", ALL_TYPES)
def test_filter_by_unit_takes_the_unit_and_the_units_below_it(data: Data, ws: Any, type_name: str) -> None:
    assert listed(ws, type_name, unit="P-TORKHAM") == expected(data, type_name, lambda r: r.unit == "P-TORKHAM")
    assert listed(ws, type_name, unit="C-LHR") == set()  # outside the circle head's scope


def test_unit_scope_of_an_officer_and_an_hq_analyst(data: Data) -> None:
    officer = data.world.as_("officer")
    for type_name in ALL_TYPES:
        assert listed(officer, type_name) == expected(data, type_name, lambda r: r.unit == "P-TORKHAM"), type_name
    assert listed(officer, "screening", unit="C-PSH") == set()  # above the officer's post: nothing
    analyst = data.world.as_("analyst")
    for type_name in ALL_TYPES:
        assert listed(analyst, type_name, unit="Z-KP") == expected(data, type_name, lambda r: True), type_name


@pytest.mark.parametrize("type_name", ALL_TYPES)
def test_filter_by_status(data: Data, ws: Any, type_name: str) -> None:
    for status in ("draft", "complete"):
        assert listed(ws, type_name, status=status) == expected(data, type_name, lambda r: r.status == status)


@pytest.mark.parametrize("type_name", ALL_TYPES)
def test_filter_by_date_range(data: Data, ws: Any, type_name: str) -> None:
    if type_name in CREATED_ON_TYPES:  # dated by creation: all made today
        day = data.created_on
        assert listed(ws, type_name, date_from=day, date_to=day) == expected(data, type_name, lambda r: True)
        assert listed(ws, type_name, date_to=day - timedelta(days=1)) == set()
        return
    june = (date(2026, 6, 1), date(2026, 6, 15))  # both ends included
    assert listed(ws, type_name, date_from=june[0], date_to=june[1]) == expected(data, type_name, lambda r: june[0] <= r.on <= june[1])
    assert listed(ws, type_name, date_from=date(2026, 6, 15)) == expected(data, type_name, lambda r: r.on >= date(2026, 6, 15))


# --- person filters: sex, age group, citizenship -----------------------------------------------------------


def _sex_of(r: Rec) -> str | None:
    if r.type == "survey_response":
        return r.extra["sex"]
    return PERSONS[r.person]["sex"] if r.person else None


@pytest.mark.parametrize("type_name", [*PERSON_LINKED, "survey_response"])
def test_filter_by_sex(data: Data, ws: Any, type_name: str) -> None:
    for sex in ("female", "male", "transgender"):
        assert listed(ws, type_name, sex=sex) == expected(data, type_name, lambda r: _sex_of(r) == sex), sex


@pytest.mark.parametrize("type_name", PERSON_LINKED)
def test_filter_by_age_group_child_adult_unknown(data: Data, ws: Any, type_name: str) -> None:
    got = {g: listed(ws, type_name, age_group=g) for g in ("child", "adult", "unknown")}
    want = {g: expected(data, type_name, lambda r: person_age_group(data, r) == g) for g in ("child", "adult", "unknown")}
    assert got == want


def test_age_groups_split_screenings_without_overlap(data: Data, ws: Any) -> None:
    groups = [listed(ws, "screening", age_group=g) for g in ("child", "adult", "unknown")]
    assert sum(len(g) for g in groups) == len(set().union(*groups)) == 3, "a screening is in exactly one age group"


def test_survey_responses_filter_by_their_own_age_group(data: Data, ws: Any) -> None:
    """A survey response records sex and age group itself (no person): both filters apply."""
    for g in ("child", "adult", "unknown"):
        assert listed(ws, "survey_response", age_group=g) == expected(data, "survey_response", lambda r: r.extra["age_group"] == g)
    both = listed(ws, "survey_response", sex="female", age_group="child")
    assert both == expected(data, "survey_response", lambda r: r.extra == {"sex": "female", "age_group": "child"})


@pytest.mark.parametrize("type_name", PERSON_LINKED)
def test_filter_by_citizenship(data: Data, ws: Any, type_name: str) -> None:
    for c in ("pk", "af", "unknown"):
        assert listed(ws, type_name, citizenship=c) == expected(data, type_name, lambda r: r.person is not None and PERSONS[r.person]["citizenship"] == c)


@pytest.mark.parametrize("type_name", [t for t in ALL_TYPES if t not in PERSON_LINKED])
def test_person_filters_on_a_type_without_a_person_are_a_validation_error(ws: Any, type_name: str) -> None:
    bad: list[dict[str, str]] = [{"citizenship": "pk"}]
    if type_name != "survey_response":
        bad += [{"sex": "female"}, {"age_group": "child"}]
    for flt in bad:
        with pytest.raises(ValidationError):
            records.list_records(ws, type_name, RecordFilter(**flt))


def test_rows_of_person_linked_types_carry_the_persons_sex_age_and_citizenship(data: Data, ws: Any) -> None:
    for type_name in PERSON_LINKED:
        by_id = {r.id: r for r in data.recs[type_name]}
        for row in records.list_records(ws, type_name).rows:
            p = PERSONS[by_id[row.id].person]
            assert (row.sex, row.age_years, row.citizenship) == (p["sex"], p["age_years"], p["citizenship"]), type_name


# --- outcome, exploitation type -------------------------------------------------------------------------------


@pytest.mark.parametrize("type_name", list(OUTCOME_FIELD))
def test_filter_by_outcome(data: Data, ws: Any, type_name: str) -> None:
    for outcome in {o for o in OUTCOMES[type_name] if o}:
        assert listed(ws, type_name, outcome=outcome) == expected(data, type_name, lambda r: r.outcome == outcome), outcome


@pytest.mark.parametrize("type_name", [t for t in ALL_TYPES if t not in OUTCOME_FIELD])
def test_outcome_filter_on_a_type_without_outcome_is_a_validation_error(ws: Any, type_name: str) -> None:
    with pytest.raises(ValidationError):
        records.list_records(ws, type_name, RecordFilter(outcome="accepted"))


def test_filter_screenings_by_exploitation_type(data: Data, ws: Any) -> None:
    for code in ("forced_labour", "sexual_exploitation", "forced_begging", "organ_removal"):
        assert listed(ws, "screening", exploitation_type=code) == expected(data, "screening", lambda r: code in r.extra["exploitation"])
    assert listed(ws, "screening", exploitation_type="forced_labour", age_group="child", status="complete") == expected(
        data, "screening", lambda r: r.i == 0
    )


@pytest.mark.parametrize("type_name", [t for t in ALL_TYPES if t != "screening"])
def test_exploitation_filter_on_other_types_is_a_validation_error(ws: Any, type_name: str) -> None:
    with pytest.raises(ValidationError):
        records.list_records(ws, type_name, RecordFilter(exploitation_type="forced_labour"))


# --- text search ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("type_name", PERSON_LINKED)
def test_search_by_name(data: Data, ws: Any, type_name: str) -> None:
    assert listed(ws, type_name, text="  ZAINAB  listchild ") == expected(data, type_name, lambda r: r.person == "child")
    assert listed(ws, type_name, text="noor") == expected(data, type_name, lambda r: r.person == "unknown")
    if type_name == "person":
        assert listed(ws, type_name, text="listchild") == expected(data, type_name, lambda r: r.person == "child")
        assert listed(ws, type_name, text="nobody-by-that-name") == set()


@pytest.mark.parametrize("type_name", PERSON_LINKED)
def test_search_by_cnic_or_passport_in_any_format(data: Data, ws: Any, type_name: str) -> None:
    child = expected(data, type_name, lambda r: r.person == "child")
    for typed in ("42101-1234567-1", "4210112345671", "42101 1234567 1")[: 3 if type_name == "person" else 2]:
        assert listed(ws, type_name, text=typed) == child, typed
    adult = expected(data, type_name, lambda r: r.person == "adult")
    for typed in ("af-1234567", "AF1234567", "af 1234567")[: 3 if type_name == "person" else 1]:
        assert listed(ws, type_name, text=typed) == adult, typed
    assert listed(ws, type_name, text="unhcr 55 1234") == expected(data, type_name, lambda r: r.person == "unknown")


def test_search_cases_by_fir_or_enquiry_number(data: Data, ws: Any) -> None:
    """A FIR number is not personal: any reader may search by it (see the privacy tests)."""
    assert listed(ws, "case", text="FIR-202/2026") == expected(data, "case", lambda r: r.i == 1)
    assert listed(ws, "case", text="101/2026") == expected(data, "case", lambda r: r.i == 0)
    assert listed(ws, "case", text="ENQ-303") == expected(data, "case", lambda r: r.i == 2)
    assert listed(ws, "case", text="FIR-") == expected(data, "case", lambda r: "FIR-" in r.extra["text"])


@pytest.mark.parametrize("type_name", list(TITLE_FIELD))
def test_search_by_name_or_title(data: Data, ws: Any, type_name: str) -> None:
    assert listed(ws, type_name, text="bravo") == expected(data, type_name, lambda r: r.i == 1)
    assert listed(ws, type_name, text="KHYBER") == expected(data, type_name, lambda r: r.i == 2)
    assert listed(ws, type_name, text="deleted") == set()


@pytest.mark.parametrize("type_name", [t for t in ALL_TYPES if t not in PERSON_LINKED and t not in TITLE_FIELD and t != "case"])
def test_text_search_on_a_type_without_text_is_a_validation_error(ws: Any, type_name: str) -> None:
    with pytest.raises(ValidationError):
        records.list_records(ws, type_name, RecordFilter(text="anything"))


def test_search_text_with_like_wildcards_matches_literally(data: Data, ws: Any) -> None:
    assert listed(ws, "analysis_note", text="%") == set()
    assert listed(ws, "analysis_note", text="_") == set()


# --- paging -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("type_name", ALL_TYPES)
def test_paging_newest_first_with_offset_limit_and_total(data: Data, ws: Any, type_name: str) -> None:
    live = sorted((r for r in data.recs[type_name] if not r.deleted), key=lambda r: r.sort, reverse=True)
    want = [r.id for r in live]
    first = records.list_records(ws, type_name, offset=0, limit=2)
    second = records.list_records(ws, type_name, offset=2, limit=2)
    assert (first.offset, first.limit, first.total) == (0, 2, 3)
    assert (second.offset, second.limit, second.total) == (2, 2, 3)
    assert [r.id for r in first.rows] + [r.id for r in second.rows] == want
    for row, rec in zip(first.rows + second.rows, live, strict=True):
        if type_name in CREATED_ON_TYPES:
            assert row.date == rec.on
        else:
            assert row.date == rec.on and isinstance(row.date, date) and not isinstance(row.date, datetime)


def test_paging_beyond_the_end_without_total_and_clamped_limits(ws: Any) -> None:
    beyond = records.list_records(ws, "screening", offset=10, limit=2)
    assert beyond.rows == [] and beyond.total == 3
    assert records.list_records(ws, "screening", limit=2, with_total=False).total is None
    assert records.list_records(ws, "person", limit=0).limit == 1
    assert records.list_records(ws, "person", limit=10**9).limit == 5000
    page = records.list_records(ws, "person", RecordFilter(citizenship="pk"), offset=0, limit=1)
    assert page.total == 1 and len(page.rows) == 1


def test_age_group_boundary_at_the_end_of_a_month(data: Data, monkeypatch: pytest.MonkeyPatch) -> None:
    """On 2026-05-31 a person born 2008-05-30 is 18 (an adult) and one born 2008-06-01 is 17.
    Made in C-LHR (outside the circle head's lists), so the shared data set is untouched."""
    ws = data.world.as_("officer_lhr")
    adult = create(ws, "person", values={"date_of_birth": "2008-05-30", "age_years": 18, "cnic": None, "passport_no": None, "other_id": None}).id
    child = create(ws, "person", values={"date_of_birth": "2008-06-01", "age_years": 18, "cnic": None, "passport_no": None, "other_id": None}).id
    monkeypatch.setattr(records, "today", lambda: date(2026, 5, 31))
    assert {adult, child} & listed(ws, "person", age_group="adult") == {adult}
    assert {adult, child} & listed(ws, "person", age_group="child") == {child}
