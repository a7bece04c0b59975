# SPDX-License-Identifier: GPL-3.0-or-later
"""Each validation rule with its English and Urdu message; the consent gate, the child rule and
the lock hook through the service (issue 3, "Must show" 2).

Most rules are checked on :func:`validation.validate` directly (no database, fast); the rules that
need facts from the store (the person's age, references, the lock hook, versions) go through the
record service on a workspace shared by the module.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

import pytest

from nap_desktop.domain.codelists import default_codelists
from nap_desktop.domain.records import RECORD_TYPES
from nap_desktop.domain.validation import HTCDS_CONSENT, MSG, Context, validate
from nap_desktop.errors import RecordLocked, ValidationError
from nap_desktop.services import records
from tests.services.records_factories import (
    ALL_TYPES,
    CONSENT_ALL_YES,
    TODAY,
    World,
    complete_values,
    create,
    draft_values,
    world_at,
)

CL = default_codelists()
PID = "11111111-1111-4111-8111-111111111111"  # a well-formed id; validate() alone assumes refs exist
PROVIDER = "22222222-2222-4222-8222-222222222222"
ENTITY = "33333333-3333-4333-8333-333333333333"
REFS = {"person_id": PID, "provider_id": PROVIDER, "entity_id": ENTITY}
TOMORROW = date.fromordinal(TODAY.toordinal() + 1)


def ctx(age: int | None = None, **kw: Any) -> Context:
    """A context where ``today`` is TODAY and the linked person is ``age`` on any date."""
    return Context(today=TODAY, person_age_on=lambda _pid, _d: age, **kw)


def ok(type_name: str, values: Mapping[str, Any], status: str = "complete", context: Context | None = None) -> dict[str, Any]:
    return validate(RECORD_TYPES[type_name], values, status=status, codelists=CL, context=context or ctx(30))


def refused(type_name: str, values: Mapping[str, Any], status: str = "complete", context: Context | None = None) -> ValidationError:
    with pytest.raises(ValidationError) as err:
        ok(type_name, values, status, context)
    e = err.value
    assert set(e.fields) == set(e.fields_ur), "every English message needs its Urdu one"
    assert all(_has_urdu(m) for m in e.fields_ur.values()), e.fields_ur
    assert "\n" not in str(e)
    return e


def _has_urdu(text: str) -> bool:
    return any("\u0600" <= c <= "\u06ff" for c in text)


def msg(key: str, *, ur: dict[str, Any] | None = None, **fmt: Any) -> tuple[str, str]:
    """The (English, Urdu) message ``key`` with its placeholders filled (``ur`` overrides for Urdu)."""
    en_text, ur_text = MSG[key]
    return en_text.format(**fmt), ur_text.format(**{**fmt, **(ur or {})})


def label(type_name: str, field_name: str) -> dict[str, Any]:
    """The placeholder of a message naming another field: its English and Urdu labels."""
    spec = RECORD_TYPES[type_name].field(field_name)
    return {"other": spec.label_en.lower(), "ur": {"other": spec.label_ur}}


def stage(code: str, day: str) -> dict[str, Any]:
    """The placeholder naming a case stage: its code-list labels and the date."""
    stages = CL["stage_event"]
    return {"other": f"{stages.label(code, 'en')} ({day})", "ur": {"other": f"{stages.label(code, 'ur')} ({day})"}}


def only(e: ValidationError, field: str) -> tuple[str, str]:
    """The (English, Urdu) message of the one field refused."""
    assert set(e.fields) == {field}, f"expected only {field} refused, got {e.fields}"
    return e.fields[field], e.fields_ur[field]


def values(type_name: str, **changes: Any) -> dict[str, Any]:
    v = complete_values(type_name, REFS)
    v = {k: val for k, val in v.items() if k in RECORD_TYPES[type_name].field_names}
    v.update(changes)
    return v


# --- every type validates; required per status ------------------------------------------------------


@pytest.mark.parametrize("type_name", ALL_TYPES)
def test_factory_values_are_valid_complete_and_draft(type_name: str) -> None:
    ok(type_name, values(type_name))
    ok(type_name, draft_values(type_name, REFS), status="draft")


@pytest.mark.parametrize("type_name", ALL_TYPES)
def test_a_draft_is_not_complete_until_the_required_fields_are_given(type_name: str) -> None:
    rt = RECORD_TYPES[type_name]
    needed = {f.name for f in rt.fields if f.required and not f.required_for_draft}
    draft = draft_values(type_name, REFS)
    if not needed:
        ok(type_name, draft)
        return
    e = refused(type_name, draft)
    assert set(e.fields) == needed
    assert set(e.fields.values()) == {"Required."}
    assert set(e.fields_ur.values()) == {"یہ خانہ لازمی ہے۔"}


@pytest.mark.parametrize(
    "type_name, field",
    [(t, f.name) for t, rt in RECORD_TYPES.items() for f in rt.fields if f.required_for_draft],
)
def test_draft_fields_are_required_even_for_a_draft(type_name: str, field: str) -> None:
    draft = draft_values(type_name, REFS)
    draft[field] = None
    e = refused(type_name, draft, status="draft")
    assert only(e, field) == msg("required")
    draft.pop(field)
    assert only(refused(type_name, draft, status="draft"), field) == msg("required")


def test_status_must_be_draft_or_complete() -> None:
    e = refused("analysis_note", values("analysis_note"), status="final")
    assert only(e, "status") == msg("bad_status")


def test_unknown_field_is_refused() -> None:
    e = refused("person", {**values("person"), "favourite_colour": "blue"})
    assert only(e, "favourite_colour") == ("Not a field of this record.", "یہ اس ریکارڈ کا خانہ نہیں۔")


# --- dates ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "type_name, field",
    [(t, f.name) for t, rt in RECORD_TYPES.items() for f in rt.fields if f.kind == "date"],
)
def test_no_date_in_the_future(type_name: str, field: str) -> None:
    e = refused(type_name, values(type_name, **{field: TOMORROW.isoformat()}))
    assert only(e, field) == ("Cannot be in the future.", "مستقبل کی تاریخ نہیں ہو سکتی۔")


def test_today_is_not_the_future() -> None:
    ok("analysis_note", values("analysis_note", written_on=TODAY.isoformat()))


@pytest.mark.parametrize("bad", ["2026-02-30", "15/06/2026", "2026-6-1", "yesterday", 20260615, ["2026-06-15"]],
                         ids=["feb30", "dmy", "unpadded", "word", "int", "list"])
def test_a_date_must_be_an_iso_date(bad: Any) -> None:
    e = refused("analysis_note", values("analysis_note", written_on=bad))
    assert only(e, "written_on") == ("Must be a date (YYYY-MM-DD).", "تاریخ ہونی چاہیے (YYYY-MM-DD)۔")


def test_future_events_and_route_dates_are_refused() -> None:
    ev = [{"event": "case_registered", "on_date": TOMORROW.isoformat()}]
    assert only(refused("case", values("case", events=ev)), "events") == msg("future")
    route = [{"type": "transit", "date": TOMORROW.isoformat(), "country": "ir"}]
    assert only(refused("screening", values("screening", route=route)), "route") == msg("bad_route")


# --- codes ---------------------------------------------------------------------------------------------


def test_a_code_must_come_from_its_list() -> None:
    e = refused("person", values("person", sex="robot"))
    assert only(e, "sex") == ("'robot' is not in the list sex.", "'robot' فہرست sex میں نہیں۔")


def test_a_multi_code_field_takes_only_listed_codes_and_dedups() -> None:
    e = refused("screening", values("screening", exploitation_types=["forced_labour", "space_piracy"]))
    assert only(e, "exploitation_types") == ("'space_piracy' is not in the list exploitation_type.", "'space_piracy' فہرست exploitation_type میں نہیں۔")
    out = ok("screening", values("screening", exploitation_types="forced_labour; forced_begging;forced_labour"))
    assert out["exploitation_types"] == ["forced_begging", "forced_labour"]
    e = refused("screening", values("screening", exploitation_types=7))
    assert only(e, "exploitation_types") == msg("not_list")


def test_checklist_answers_are_yes_no_unknown_or_not_asked() -> None:
    e = refused("screening", values("screening", ilo_indicators={"deception": "maybe"}))
    assert only(e, "ilo_indicators") == msg("not_answers")
    e = refused("screening", values("screening", ilo_indicators={"telepathy": "yes"}))
    assert only(e, "ilo_indicators") == msg("not_code", v="'telepathy'", l="ilo_forced_labour_indicator")
    out = ok("screening", values("screening", ilo_indicators="deception=yes;isolation=not_asked"))
    assert out["ilo_indicators"] == {"deception": "yes", "isolation": "not_asked"}
    e = refused("screening", values("screening", consent="consents_to_interview"))
    assert only(e, "consent") == msg("not_answers")


def test_unknown_and_not_asked_are_kept_apart() -> None:
    out = ok("screening", values("screening", ilo_indicators={"deception": "unknown", "isolation": "not_asked"}))
    assert out["ilo_indicators"] == {"deception": "unknown", "isolation": "not_asked"}


def test_count_matrices_take_whole_numbers_by_both_lists() -> None:
    for bad in ({"female": {"elderly": 3}}, {"female": {"adult": -1}}, {"female": {"adult": True}}, {"female": 3}, [1, 2]):
        e = refused("awareness_session", values("awareness_session", participants=bad, survey_respondents=0, survey_named_forms=0,
                                                survey_knew_what_to_do=0, survey_knew_where_to_report=0, survey_acted_on_followup=0))
        assert only(e, "participants") == msg("not_matrix", a="sex", b="age_group")


def test_a_reference_must_be_an_id_of_an_existing_record() -> None:
    e = refused("screening", values("screening", person_id="Ayesha"))
    assert only(e, "person_id") == ("Must be the id of a person record.", "person ریکارڈ کی شناخت ہونی چاہیے۔")
    gone = Context(today=TODAY, ref_exists=lambda _t, _id: False)
    e = refused("coordination_meeting", values("coordination_meeting"), context=gone)
    assert only(e, "entity_id") == msg("not_ref", t="coordination entity")


# --- numbers, text, flags --------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["abc", "12.5", True, 3.5, [3], "1e3"])
def test_an_int_must_be_a_whole_number(bad: Any) -> None:
    e = refused("person", values("person", age_years=bad))
    assert only(e, "age_years") == ("Must be a whole number.", "مکمل عدد ہونا چاہیے۔")


def test_ints_accept_thousands_separators_and_whole_floats() -> None:
    assert ok("screening", values("screening", recruitment_fee_pkr="350,000"))["recruitment_fee_pkr"] == 350_000
    assert ok("person", values("person", age_years=31.0))["age_years"] == 31


def test_ints_have_a_minimum_and_a_maximum() -> None:
    assert only(refused("person", values("person", age_years=-1)), "age_years") == ("Must be at least 0.", "کم از کم 0 ہونا چاہیے۔")
    assert only(refused("person", values("person", age_years=121, date_of_birth=None)), "age_years") == (
        "Must be at most 120.",
        "زیادہ سے زیادہ 120 ہونا چاہیے۔",
    )
    assert only(refused("survey_response", values("survey_response", satisfaction=0)), "satisfaction") == msg("too_small", n=1)
    assert only(refused("survey_response", values("survey_response", satisfaction=6)), "satisfaction") == msg("too_big", n=5)


def test_text_must_be_text_and_not_too_long() -> None:
    assert only(refused("analysis_note", values("analysis_note", title=42)), "title") == ("Must be text.", "متن ہونا چاہیے۔")
    e = refused("analysis_note", values("analysis_note", title="x" * 201))
    assert only(e, "title") == ("Too long (at most 200 characters).", "بہت طویل ہے (زیادہ سے زیادہ 200 حروف)۔")
    assert ok("analysis_note", values("analysis_note", title="  Padded  "))["title"] == "Padded"


def test_a_phone_number_must_look_like_one() -> None:
    assert only(refused("person", values("person", phone="call me")), "phone") == ("Not a phone number.", "فون نمبر درست نہیں۔")
    assert ok("person", values("person", phone="0300-1234567"))["phone"] == "0300-1234567"


@pytest.mark.parametrize("raw, want", [("yes", True), ("ہاں", True), ("N", False), ("نہیں", False), (1, True), (0, False)])
def test_flags_take_yes_and_no_in_both_languages(raw: Any, want: bool) -> None:
    assert ok("suspect", values("suspect", organised_group=raw))["organised_group"] is want


def test_a_flag_is_refused_when_not_yes_or_no() -> None:
    assert only(refused("suspect", values("suspect", organised_group="maybe")), "organised_group") == msg("not_bool")


# --- CNIC ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["3520212345671", "35202-1234567-1", " 35202 1234567 1 ", "35202.1234567.1"], ids=["digits", "dashed", "spaced", "dotted"])
def test_a_cnic_is_normalised_to_the_dashed_form(raw: str) -> None:
    assert ok("person", values("person", cnic=raw))["cnic"] == "35202-1234567-1"


@pytest.mark.parametrize("raw", ["352021234567", "35202-1234567-12", "CNIC"])
def test_a_cnic_of_the_wrong_length_is_refused(raw: str) -> None:
    e = refused("person", values("person", cnic=raw))
    assert only(e, "cnic") == ("A CNIC has 13 digits (e.g. 35202-1234567-1).", "شناختی کارڈ نمبر 13 ہندسوں کا ہوتا ہے۔")


# --- person: date of birth and age ---------------------------------------------------------------------------


def test_date_of_birth_and_age_must_agree_within_a_year() -> None:
    e = refused("person", values("person", date_of_birth="2000-01-01", age_years=30))
    assert only(e, "age_years") == ("Date of birth and age do not agree.", "تاریخ پیدائش اور عمر میں مطابقت نہیں۔")
    for age in (25, 26, 27):  # 26 on TODAY, an estimate may be a year off
        ok("person", values("person", date_of_birth="2000-01-01", age_years=age))
    ok("person", values("person", date_of_birth=None, age_years=30))
    ok("person", values("person", date_of_birth="2000-01-01", age_years=None))


# --- screening: the consent gate, guardian, Palermo and the child rule ---------------------------------------------


def _consent_labels(codes: list[str], lang: str) -> str:
    sep = ", " if lang == "en" else "، "
    return sep.join(CL["consent_check"].label(c, lang) for c in codes)


def test_a_screening_is_not_completed_without_the_seven_consent_checks() -> None:
    given = {"consents_to_interview": "yes", "informed_of_purpose": "yes", "informed_of_data_use": "no"}
    missing = [c for c in HTCDS_CONSENT if given.get(c) != "yes"]
    e = refused("screening", values("screening", consent=given))
    en, ur = only(e, "consent")
    assert en == f"Complete the consent checks first: {_consent_labels(missing, 'en')}."
    assert ur == f"پہلے رضامندی کی جانچ مکمل کریں: {_consent_labels(missing, 'ur')}۔"
    for c in ("consents_to_interview", "informed_of_purpose"):
        assert CL["consent_check"].label(c, "en") not in en  # only what is missing is listed
    assert "informed_of_data_use" in missing  # "no" is not consent
    ok("screening", values("screening", consent=given), status="draft")


def test_no_consent_at_all_lists_all_seven_checks() -> None:
    e = refused("screening", values("screening", consent=None))
    assert only(e, "consent")[0] == f"Complete the consent checks first: {_consent_labels(list(HTCDS_CONSENT), 'en')}."
    ok("screening", values("screening", consent=None), status="draft")


def test_a_child_is_interviewed_only_with_a_guardian_present() -> None:
    e = refused("screening", values("screening", consent=CONSENT_ALL_YES), context=ctx(15))
    assert only(e, "consent") == (
        "A child is interviewed only with a guardian present.",
        "بچے سے انٹرویو صرف سرپرست کی موجودگی میں۔",
    )
    ok("screening", values("screening", consent={**CONSENT_ALL_YES, "guardian_present": "yes"}), context=ctx(15))
    ok("screening", values("screening", consent=CONSENT_ALL_YES), context=ctx(18))
    ok("screening", values("screening", consent=CONSENT_ALL_YES), status="draft", context=ctx(15))


def test_an_adult_identified_victim_needs_act_means_and_purpose() -> None:
    e = refused("screening", values("screening", palermo_means=None), context=ctx(30))
    assert only(e, "palermo_means") == (
        "An identified victim needs at least one means.",
        "شناخت شدہ متاثرہ کے لیے کم از کم ایک ذریعہ درکار ہے۔",
    )
    e = refused("screening", values("screening", palermo_act=None, palermo_means=None, palermo_purpose=None), context=ctx(30))
    assert e.fields == {f: f"An identified victim needs at least one {w}." for f, w in
                        (("palermo_act", "act"), ("palermo_means", "means"), ("palermo_purpose", "purpose"))}
    assert e.fields_ur["palermo_act"] == "شناخت شدہ متاثرہ کے لیے کم از کم ایک عمل درکار ہے۔"
    assert e.fields_ur["palermo_purpose"] == "شناخت شدہ متاثرہ کے لیے کم از کم ایک مقصد درکار ہے۔"
    # confirmed victims too; a possible victim or a smuggled migrant needs none
    refused("screening", values("screening", palermo_means=None, identification_status="confirmed_victim"))
    for status in ("possible_victim", "smuggled_migrant", "not_a_victim"):
        ok("screening", values("screening", palermo_act=None, palermo_means=None, palermo_purpose=None, identification_status=status))


def test_the_child_rule_a_16_year_old_victim_needs_no_means() -> None:
    child = values("screening", palermo_means=None, consent={**CONSENT_ALL_YES, "guardian_present": "yes"})
    out = ok("screening", child, context=ctx(16))
    assert out["is_child"] is True
    e = refused("screening", {**child, "palermo_act": None}, context=ctx(16))
    assert set(e.fields) == {"palermo_act"}  # act and purpose are still needed
    assert ok("screening", values("screening"), context=ctx(None))["is_child"] is False  # unknown age: not presumed a child


# --- referral, service, suspect, gap, milestone ---------------------------------------------------------------


@pytest.mark.parametrize("consent", ["no", "unknown", "not_asked"])
def test_a_referral_needs_consent_yes_unless_draft(consent: str) -> None:
    e = refused("referral", values("referral", consent=consent))
    assert only(e, "consent") == ("A referral needs the person's consent (yes).", "ریفرل کے لیے فرد کی رضامندی (ہاں) ضروری ہے۔")
    ok("referral", values("referral", consent=consent), status="draft")


def test_referral_feedback_not_before_the_referral() -> None:
    e = refused("referral", values("referral", referred_on="2026-06-15", feedback_on="2026-06-14"))
    assert only(e, "feedback_on") == msg("order", **label("referral", "referred_on"))


def test_a_service_does_not_end_before_it_started() -> None:
    e = refused("service", values("service", started_on="2026-06-15", ended_on="2026-06-01"))
    assert only(e, "ended_on") == ("Must not be before started on.", "آغاز کی تاریخ سے پہلے نہیں ہو سکتی۔")
    ok("service", values("service", started_on="2026-06-15", ended_on="2026-06-15"))


def test_a_gap_is_not_addressed_before_it_was_identified() -> None:
    e = refused("coordination_gap", values("coordination_gap", identified_on="2026-06-15", addressed_on="2026-06-01"))
    assert only(e, "addressed_on") == msg("order", **label("coordination_gap", "identified_on"))


def test_a_suspect_is_not_arrested_before_being_identified() -> None:
    e = refused("suspect", values("suspect", identified_on="2026-06-15", arrested_on="2026-06-01"))
    assert only(e, "arrested_on") == msg("order", **label("suspect", "identified_on"))


def test_training_does_not_end_before_it_starts() -> None:
    e = refused("training", values("training", held_from="2026-06-15", held_to="2026-06-14"))
    assert only(e, "held_to") == msg("order", **label("training", "held_from"))


def test_a_milestone_with_an_achievement_date_is_achieved() -> None:
    e = refused("milestone", values("milestone", progress="in_progress"))
    assert set(e.fields) == {"progress"}


# --- case: stage order, verdicts, compensation --------------------------------------------------------------------


def _case(*events: tuple[str, str], verdict: str | None = None, registered_on: str = "2026-03-01") -> dict[str, Any]:
    evs = [{"event": e, "on_date": d, **({"verdict": verdict} if e == "verdict" and verdict else {})} for e, d in events]
    return values("case", registered_on=registered_on, events=evs)


def test_an_arrest_may_come_before_the_case_is_registered() -> None:
    ok("case", _case(("arrest", "2026-02-01"), ("challan_submitted", "2026-04-01")))


def test_a_challan_before_registration_is_refused() -> None:
    e = refused("case", _case(("challan_submitted", "2026-02-01")))
    assert only(e, "events") == ("Must not be before registered on (2026-03-01).", "اندراج کی تاریخ (2026-03-01) سے پہلے نہیں ہو سکتی۔")


def test_a_challan_before_registration_is_refused_even_after_an_earlier_arrest() -> None:
    """An arrest before registration must not lower the bar for the challan: the challan still
    cannot precede the registration (issue 3, Build 4: dates in order)."""
    e = refused("case", _case(("arrest", "2026-01-10"), ("challan_submitted", "2026-02-01")))
    assert set(e.fields) == {"events"}


def test_a_challan_before_the_arrest_is_refused() -> None:
    """Issue 3, Build 4: "arrest before challan before verdict"."""
    e = refused("case", _case(("challan_submitted", "2026-04-01"), ("arrest", "2026-05-01")))
    assert only(e, "events") == msg("order", **stage("arrest", "2026-05-01"))


def test_a_verdict_before_the_challan_is_refused() -> None:
    e = refused("case", _case(("challan_submitted", "2026-05-01"), ("verdict", "2026-04-01"), verdict="convicted"))
    assert only(e, "events") == msg("order", **stage("challan_submitted", "2026-05-01"))
    ok("case", _case(("arrest", "2026-03-05"), ("challan_submitted", "2026-04-01"), ("verdict", "2026-05-01"), verdict="convicted"))


def test_a_verdict_event_needs_the_verdict() -> None:
    e = refused("case", _case(("verdict", "2026-05-01")))
    assert only(e, "events") == ("A verdict event needs the verdict.", "فیصلے کے مرحلے کے لیے فیصلہ درکار ہے۔")
    e = refused("case", _case(("verdict", "2026-05-01"), verdict="hanged"))
    assert only(e, "events") == msg("not_code", v="'hanged'", l="verdict")


@pytest.mark.parametrize(
    "bad",
    [
        [{"event": "coffee_break", "on_date": "2026-05-01"}],
        [{"event": "arrest"}],
        [{"event": "arrest", "on_date": "2026-05-01", "fine_pkr": -5}],
        [{"event": "arrest", "on_date": "2026-05-01", "sentence_months": "ten"}],
        {"event": "arrest"},
    ],
)
def test_malformed_events_are_refused(bad: Any) -> None:
    assert only(refused("case", values("case", events=bad)), "events") == msg("bad_event")


def test_compensation_paid_cannot_exceed_compensation_ordered() -> None:
    party = {"person_id": PID, "party_role": "victim", "compensation_ordered_pkr": 100, "compensation_paid_pkr": 150}
    e = refused("case", values("case", parties=[party]))
    assert only(e, "parties") == ("Cannot be more than compensation ordered (100).", "حکم کردہ معاوضہ (100) سے زیادہ نہیں ہو سکتا۔")
    ok("case", values("case", parties=[{**party, "compensation_paid_pkr": 100}]))


def test_malformed_parties_are_refused() -> None:
    for bad in ([{"person_id": PID, "party_role": "judge"}], [{"person_id": PID, "party_role": "victim", "compensation_paid_pkr": -1}], "x"):
        assert only(refused("case", values("case", parties=bad)), "parties") == msg("bad_party")


# --- totals: survey, training, checkpoint -----------------------------------------------------------------------


def test_survey_respondents_cannot_exceed_participants() -> None:
    # participants in the factory: 10 + 5 + 7 = 22
    e = refused("awareness_session", values("awareness_session", survey_respondents=23))
    assert only(e, "survey_respondents") == ("Cannot be more than participants (22).", "شرکاء (22) سے زیادہ نہیں ہو سکتا۔")
    ok("awareness_session", values("awareness_session", survey_respondents=22))


@pytest.mark.parametrize("field", ["survey_named_forms", "survey_knew_what_to_do", "survey_knew_where_to_report", "survey_acted_on_followup"])
def test_survey_answers_cannot_exceed_respondents(field: str) -> None:
    e = refused("awareness_session", values("awareness_session", survey_respondents=20, **{field: 21}))
    assert only(e, field) == msg("le_total", n=20, **label("awareness_session", "survey_respondents"))


def test_trainees_with_increased_knowledge_cannot_exceed_the_trainees_of_the_cell() -> None:
    e = refused("training", values("training", increased_knowledge={"fia_immigration": {"female": 4}}))
    assert only(e, "increased_knowledge") == (
        "Cannot exceed trainees in fia_immigration × female (3).",
        "fia_immigration × female میں تربیت پانے والوں (3) سے زیادہ نہیں ہو سکتا۔",
    )
    e = refused("training", values("training", increased_knowledge={"judiciary": {"male": 1}}))  # nobody trained there
    assert only(e, "increased_knowledge") == msg("le_cell", cell="judiciary × male", n=0)


@pytest.mark.parametrize("field", ["offloaded", "referred_second_line", "intercepted"])
def test_checkpoint_counts_cannot_exceed_passengers_screened(field: str) -> None:
    counts = {"referred_second_line": 0, "offloaded": 0, "intercepted": 0, field: 11}
    e = refused("checkpoint_log", values("checkpoint_log", passengers_screened=10, **counts))
    assert only(e, field) == ("Cannot be more than passengers screened (10).", "جانچے گئے مسافر (10) سے زیادہ نہیں ہو سکتا۔")


def test_failed_biometric_checks_cannot_exceed_checks() -> None:
    e = refused("checkpoint_log", values("checkpoint_log", biometric_checks=3, biometric_failed=4))
    assert only(e, "biometric_failed") == msg("le_total", n=3, **label("checkpoint_log", "biometric_checks"))


def test_urdu_messages_name_the_other_field_in_urdu() -> None:
    """An officer reading Urdu must not get an English field name inside the Urdu message: the
    rules that compare two fields should name the other one by its Urdu label (as the Palermo
    rule already does)."""
    cases = {
        "service.ended_on": refused("service", values("service", started_on="2026-06-15", ended_on="2026-06-01")).fields_ur["ended_on"],
        "gap.addressed_on": refused("coordination_gap", values("coordination_gap", identified_on="2026-06-15", addressed_on="2026-06-01")).fields_ur["addressed_on"],
        "session.survey_respondents": refused("awareness_session", values("awareness_session", survey_respondents=99)).fields_ur["survey_respondents"],
        "checkpoint.offloaded": refused("checkpoint_log", values("checkpoint_log", passengers_screened=1, offloaded=2)).fields_ur["offloaded"],
        "case.events": refused("case", _case(("challan_submitted", "2026-02-01"))).fields_ur["events"],
        "case.parties": refused("case", values("case", parties=[{"person_id": PID, "party_role": "victim", "compensation_ordered_pkr": 1, "compensation_paid_pkr": 2}])).fields_ur["parties"],
    }
    english = {k: v for k, v in cases.items() if re.search(r"[A-Za-z]{3,}", v)}
    assert english == {}, f"Urdu messages with English words in them: {english}"


# --- through the service: child rule with the stored person, consent gate, lock hook ---------------------------------


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with world_at(tmp_path_factory.mktemp("rules") / "ws") as w:
        yield w


@pytest.fixture
def head(world: World) -> Any:
    return world.as_("head")


def test_service_consent_gate_refuses_completion_but_saves_a_draft(head: Any) -> None:
    person = create(head, "person")
    vals = complete_values("screening", {"person_id": person.id})
    vals["consent"] = {"consents_to_interview": "yes"}
    with pytest.raises(ValidationError) as err:
        records.create_record(head, "screening", vals)
    assert set(err.value.fields) == {"consent"}
    assert "Informed of how to withdraw consent" in err.value.fields["consent"]
    draft = records.create_record(head, "screening", vals, status="draft")
    assert draft.status == "draft"
    with pytest.raises(ValidationError):
        records.update_record(head, draft.id, {}, status="complete")
    done = records.update_record(head, draft.id, {"consent": CONSENT_ALL_YES}, status="complete")
    assert (done.status, done.version) == ("complete", 2)


def test_service_referral_consent_gate(head: Any) -> None:
    person = create(head, "person")
    provider = create(head, "service_provider")
    vals = complete_values("referral", {"person_id": person.id, "provider_id": provider.id})
    with pytest.raises(ValidationError) as err:
        records.create_record(head, "referral", {**vals, "consent": "no"})
    assert set(err.value.fields) == {"consent"}
    saved = records.create_record(head, "referral", {**vals, "consent": "no"}, status="draft")
    assert saved.values["consent"] == "no"


def test_service_child_rule_date_of_birth_wins_on_the_screening_date(head: Any) -> None:
    """Born 2008-06-01: 18 on TODAY (age_years 19 is within the tolerated year), but 17 on a
    screening of 2026-03-01 — a child then, whatever age_years says: no means needed, a guardian
    needed. Screened on 2026-07-01 the same person is an adult."""
    person = create(head, "person", values={"date_of_birth": "2008-06-01", "age_years": 19})
    base = complete_values("screening", {"person_id": person.id}, on=date(2026, 3, 1))
    base["palermo_means"] = None
    with pytest.raises(ValidationError) as err:
        records.create_record(head, "screening", base)
    assert only(err.value, "consent")[0] == "A child is interviewed only with a guardian present."
    child = records.create_record(head, "screening", {**base, "consent": {**CONSENT_ALL_YES, "guardian_present": "yes"}})
    assert child.status == "complete"
    from nap_desktop.data.record_models import Screening

    with head.sf() as s:
        assert s.get(Screening, child.id).is_child is True
    later = {**base, "screened_on": "2026-07-01", "consent": {**CONSENT_ALL_YES, "guardian_present": "yes"}}
    with pytest.raises(ValidationError) as err:
        records.create_record(head, "screening", later)
    assert set(err.value.fields) == {"palermo_means"}  # an adult victim needs the means


def test_service_a_person_17_by_birth_date_cannot_claim_to_be_30(head: Any) -> None:
    with pytest.raises(ValidationError) as err:
        create(head, "person", values={"date_of_birth": "2009-06-01", "age_years": 30})
    assert only(err.value, "age_years") == msg("dob_age")


def test_service_child_by_age_only(head: Any) -> None:
    """Without a date of birth the age given at capture counts (16 → a child)."""
    person = create(head, "person", values={"date_of_birth": None, "age_years": 16})
    vals = complete_values("screening", {"person_id": person.id}, on=date(2026, 11, 1))
    vals.update(palermo_means=None, consent={**CONSENT_ALL_YES, "guardian_present": "yes"})
    assert records.create_record(head, "screening", vals).status == "complete"


def test_service_cnic_is_stored_normalised_and_unknown_fields_refused(head: Any) -> None:
    p = create(head, "person", values={"cnic": "1730112345679"})
    assert records.get_record(head, p.id).values["cnic"] == "17301-1234567-9"
    with pytest.raises(ValidationError) as err:
        create(head, "person", values={"cnic": "1730112345"})
    assert only(err.value, "cnic")[0].startswith("A CNIC has 13 digits")
    with pytest.raises(ValidationError) as err:
        records.update_record(head, p.id, {"nickname": "x"})
    assert only(err.value, "nickname") == msg("unknown_field")


# --- the lock hook ---------------------------------------------------------------------------------------------


LOCK_MESSAGE = "The return of C-PSH for 2026-10 was approved; ask for it to be unlocked first."


def lock_october(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, date]]:
    """Appends a hook that locks unit C-PSH for October 2026 (as the returns module will when
    that month's return is approved); returns the (unit, date) calls it saw."""
    calls: list[tuple[str, date]] = []

    def hook(session: Any, unit: str, on: date) -> str | None:
        calls.append((unit, on))
        return LOCK_MESSAGE if unit == "C-PSH" and (on.year, on.month) == (2026, 10) else None

    monkeypatch.setattr(records, "LOCK_HOOKS", [*records.LOCK_HOOKS, hook])
    return calls


def test_lock_hook_refuses_create_in_a_locked_month(head: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    person = create(head, "person")
    calls = lock_october(monkeypatch)
    with pytest.raises(RecordLocked) as err:
        create(head, "screening", refs={"person_id": person.id}, on=date(2026, 10, 15))
    assert str(err.value) == LOCK_MESSAGE
    assert ("C-PSH", date(2026, 10, 15)) in calls
    for fine in (date(2026, 9, 30), date(2026, 11, 1)):
        create(head, "screening", refs={"person_id": person.id}, on=fine)
    create(head, "checkpoint_log", on=date(2026, 10, 15), unit="P-TORKHAM")  # another unit: the hook's business


def test_lock_hook_refuses_edit_and_delete_of_a_record_in_the_locked_month(head: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    october = create(head, "checkpoint_log", on=date(2026, 10, 10))  # made before the month was locked
    november = create(head, "checkpoint_log", on=date(2026, 11, 10))
    lock_october(monkeypatch)
    with pytest.raises(RecordLocked) as err:
        records.update_record(head, october.id, {"offloaded": 1})
    assert str(err.value) == LOCK_MESSAGE
    with pytest.raises(RecordLocked) as err:
        records.delete_record(head, october.id)
    assert str(err.value) == LOCK_MESSAGE
    with pytest.raises(RecordLocked):  # moving a record out of the locked month changes it too
        records.update_record(head, october.id, {"log_date": "2026-11-01"})
    with pytest.raises(RecordLocked):  # … and moving one into it
        records.update_record(head, november.id, {"log_date": "2026-10-31"})
    got = records.get_record(head, october.id)
    assert (got.version, got.deleted, got.values["offloaded"]) == (1, False, 12)
    records.update_record(head, november.id, {"offloaded": 2})  # other months: fine
    assert records.delete_record(head, november.id).deleted
    monkeypatch.setattr(records, "LOCK_HOOKS", [])
    assert records.update_record(head, october.id, {"offloaded": 1}).version == 2
