# SPDX-License-Identifier: GPL-3.0-or-later
"""Indicators that count people: 1.3.a, 1.3.b, 1.2.a–d, 1.4.a, 6.1.b and 7.1.a.

Each test builds its records by hand and writes the expected numbers worked out by hand in the
comments: who counts, under which key, and why the others do not. Period: June 2026, scope: the
Peshawar circle (C-PSH, with its post P-TORKHAM) unless said otherwise.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from nap_desktop.reports import engine
from tests.reports.builders import JUNE, Builder, ReportsWorld, nonzero, value


@pytest.fixture
def identified(world: ReportsWorld, b: Builder) -> dict[str, str]:
    """Screenings for 1.3.a. Counted in C-PSH, June: A, B, C, J (4 persons)."""
    ids: dict[str, str] = {}
    # A: girl, 15 on 10 June. Screened twice in June: presumed (forced labour), then confirmed
    # (sexual exploitation). One person; under both outcomes and both forms.
    a = b.person("female", dob="2010-06-20", province="kp")
    ids["a1"] = b.screening(a, "2026-06-10", "presumed_victim", exploitation=["forced_labour"])
    ids["a2"] = b.screening(a, "2026-06-25", "confirmed_victim", exploitation=["sexual_exploitation"])
    # B: Afghan man, 36, no province; vulnerable smuggled migrant on 1 June (first day), no form.
    bb = b.person("male", dob="1990-01-01", citizenship="af", province=None)
    ids["b"] = b.screening(bb, "2026-06-01", "vulnerable_smuggled_migrant", exploitation=[])
    # C: woman, 26, screened at the post P-TORKHAM on 30 June (last day).
    c = b.person("female", dob="2000-03-01", unit="P-TORKHAM")
    ids["c"] = b.screening(c, "2026-06-30", unit="P-TORKHAM")
    # J: boy who turns 18 on 20 June, screened on 10 and 25 June: 17 at his first screening.
    j = b.person("male", dob="2008-06-20")
    ids["j1"] = b.screening(j, "2026-06-10")
    ids["j2"] = b.screening(j, "2026-06-25")
    # Not counted: before / after the period, not yet identified, a draft, a deleted screening.
    b.screening(b.person("male"), "2026-05-31")
    b.screening(b.person("female"), "2026-07-01")
    b.screening(b.person("female"), "2026-06-15", "possible_victim")
    b.screening(b.person("female"), "2026-06-15", "smuggled_migrant", exploitation=[])
    b.screening(b.person("female"), "2026-06-15", draft=True)
    b.delete(b.screening(b.person("female"), "2026-06-15"))
    # I: another circle (C-LHR): counted nationally only.
    lhr = Builder(world.as_("head_lhr"))
    ids["i"] = lhr.screening(lhr.person("male", dob="1985-05-05", province="punjab"), "2026-06-15")
    ids.update(a=a, b_person=bb, c_person=c, j=j)
    return ids


def test_1_3_a_victims_identified(world: ReportsWorld, identified: dict[str, str]) -> None:
    v = value(world.as_("head"), "1.3.a")
    assert v.kind == "count" and v.value == 4  # A, B, C, J — A and J screened twice count once
    assert nonzero(v.breakdown["identification_status"]) == {"presumed_victim": 3, "confirmed_victim": 1, "vulnerable_smuggled_migrant": 1}
    assert nonzero(v.breakdown["sex"]) == {"female": 2, "male": 2}
    # Ages on the first screening of the period: A 15, J 17 (not 18), B 36, C 26.
    assert nonzero(v.breakdown["age_group"]) == {"child": 2, "adult": 2}
    assert nonzero(v.breakdown["ctdc_age_band"]) == {"9-17": 2, "30-38": 1, "24-26": 1}
    assert v.breakdown["citizenship"] == {"pk": 3, "af": 1}
    assert nonzero(v.breakdown["location"]) == {"kp": 3, "unknown": 1}
    assert nonzero(v.breakdown["exploitation_type"]) == {"forced_labour": 3, "sexual_exploitation": 1, "not_recorded": 1}
    assert set(v.additive) == {"sex", "age_group", "ctdc_age_band", "citizenship", "location"}
    for dim in v.additive:
        assert sum(v.breakdown[dim].values()) == v.value


def test_1_3_a_scope_subtree_and_national(world: ReportsWorld, identified: dict[str, str]) -> None:
    assert value(world.as_("officer"), "1.3.a").value == 1  # P-TORKHAM: C only
    assert value(world.as_("head_lhr"), "1.3.a").value == 1  # C-LHR: I only
    national = value(world.as_("analyst"), "1.3.a", scope="HQ")
    assert national.value == 5
    assert nonzero(national.breakdown["location"]) == {"kp": 3, "unknown": 1, "punjab": 1}


def test_1_3_a_period_boundaries(world: ReportsWorld, identified: dict[str, str]) -> None:
    ws = world.as_("head")
    assert value(ws, "1.3.a", engine.Period.custom(date(2026, 6, 1), date(2026, 6, 1))).value == 1  # B
    assert value(ws, "1.3.a", engine.Period.custom(date(2026, 6, 30), date(2026, 6, 30))).value == 1  # C
    assert value(ws, "1.3.a", engine.Period.month(2026, 5)).value == 1  # the man of 31 May
    assert value(ws, "1.3.a", engine.Period.quarter(2026, 3)).value == 1  # the woman of 1 July
    assert value(ws, "1.3.a", engine.Period.year(2026)).value == 6


def test_1_3_a_drill_down(world: ReportsWorld, identified: dict[str, str]) -> None:
    ws = world.as_("head")
    dd = engine.drill_down(ws, "1.3.a", period=JUNE)
    ids = identified
    assert set(dd.records["screening"]) == {ids["a1"], ids["a2"], ids["b"], ids["c"], ids["j1"], ids["j2"]}
    assert set(dd.person_ids) == {ids["a"], ids["b_person"], ids["c_person"], ids["j"]}
    girls = engine.drill_down(ws, "1.3.a", period=JUNE, disaggregation="age_group", key="child")
    assert set(girls.person_ids) == {ids["a"], ids["j"]}
    female = engine.drill_down(ws, "1.3.a", period=JUNE, disaggregation="sex", key="female")
    assert set(female.person_ids) == {ids["a"], ids["c_person"]}
    sexual = engine.drill_down(ws, "1.3.a", period=JUNE, disaggregation="exploitation_type", key="sexual_exploitation")
    assert sexual.records["screening"] == (ids["a2"],)
    none = engine.drill_down(ws, "1.3.a", period=JUNE, disaggregation="exploitation_type", key="not_recorded")
    assert none.records["screening"] == (ids["b"],)


def test_age_from_recorded_age_is_carried_forward(world: ReportsWorld, b: Builder) -> None:
    # Ages recorded without a date of birth are ages on the day the person was recorded.
    # P: 17 when recorded on 1 Dec 2025 → still 17 on 15 June 2026 → child.
    # Q: 17 when recorded on 1 June 2025 → 18 by 15 June 2026 → adult.
    p = b.person("female", dob=None, age=17, created=datetime(2025, 12, 1, 8, tzinfo=UTC))
    q = b.person("male", dob=None, age=17, created=datetime(2025, 6, 1, 8, tzinfo=UTC))
    r = b.person("male", dob=None, age=None)  # no age at all
    for pid in (p, q, r):
        b.screening(pid, "2026-06-15")
    v = value(world.as_("head"), "1.3.a")
    assert v.value == 3
    assert nonzero(v.breakdown["age_group"]) == {"child": 1, "adult": 1, "unknown": 1}
    assert nonzero(v.breakdown["ctdc_age_band"]) == {"9-17": 1, "18-20": 1, "unknown": 1}


def test_1_3_b_offenders_identified(world: ReportsWorld, b: Builder) -> None:
    # S1: man identified twice in June (smuggler + transporter, arrested; then recruiter, on bail).
    s1 = b.person("male", dob="1980-01-01", province="punjab")
    b.suspect(s1, "2026-06-05", roles=["smuggler", "transporter"], arrest="arrested")
    b.suspect(s1, "2026-06-20", roles=["recruiter_or_intermediary"], arrest="on_bail")
    # S2: girl of 17, exploiter, not arrested.
    s2 = b.person("female", dob="2009-01-01", citizenship="af", province=None)
    b.suspect(s2, "2026-06-10", roles=["exploiter"], arrest="not_arrested")
    # Not counted: July; deleted.
    b.suspect(b.person("male"), "2026-07-01")
    b.delete(b.suspect(b.person("male"), "2026-06-11"))
    v = value(world.as_("head"), "1.3.b")
    assert v.value == 2
    assert nonzero(v.breakdown["sex"]) == {"male": 1, "female": 1}
    assert nonzero(v.breakdown["age_group"]) == {"adult": 1, "child": 1}
    assert v.breakdown["citizenship"] == {"pk": 1, "af": 1}
    assert nonzero(v.breakdown["location"]) == {"punjab": 1, "unknown": 1}
    assert nonzero(v.breakdown["suspect_role"]) == {"smuggler": 1, "transporter": 1, "recruiter_or_intermediary": 1, "exploiter": 1}
    assert nonzero(v.breakdown["arrest_status"]) == {"arrested": 1, "on_bail": 1, "not_arrested": 1}
    dd = engine.drill_down(world.as_("head"), "1.3.b", period=JUNE, disaggregation="suspect_role", key="exploiter")
    assert dd.person_ids == (s2,)


@pytest.fixture
def served(world: ReportsWorld, b: Builder) -> dict[str, str]:
    """Services for 1.2.a, 1.2.b, 1.2.c, 1.4.a and 6.1.b (June, C-PSH)."""
    ids: dict[str, str] = {}
    # V1: girl of 14; shelter, medical and legal aid as a victim.
    ids["v1"] = v1 = b.person("female", dob="2012-01-01")
    b.service(v1, "2026-06-03", "shelter")
    b.service(v1, "2026-06-10", "medical")
    b.service(v1, "2026-06-12", "legal_aid")
    # V2: man; repatriation and protective custody as a vulnerable migrant.
    ids["v2"] = v2 = b.person("male", dob="1980-01-01")
    b.service(v2, "2026-06-15", "repatriation", "vulnerable_migrant")
    b.service(v2, "2026-06-16", "protective_custody", "vulnerable_migrant")
    # V3: services on 31 May and 1 July only: not counted.
    v3 = b.person("female")
    b.service(v3, "2026-05-31", "shelter")
    b.service(v3, "2026-07-01", "psychosocial")
    # W1: man, witness: witness protection and legal aid.
    ids["w1"] = w1 = b.person("male", dob="1975-01-01")
    b.service(w1, "2026-06-05", "witness_protection", "witness")
    b.service(w1, "2026-06-06", "legal_aid", "witness")
    # V4: a draft and a deleted service: not counted.
    v4 = b.person("female")
    b.service(v4, "2026-06-10", "medical", draft=True)
    b.delete(b.service(v4, "2026-06-11", "shelter"))
    # V5: another circle.
    lhr = Builder(world.as_("head_lhr"))
    lhr.service(lhr.person("female"), "2026-06-10", "shelter")
    # Providers: one strengthened in June (counted in 1.2.c), one in May (not).
    ids["p1"] = b.provider("ngo", strengthened="2026-06-10")
    b.provider("dar_ul_aman", strengthened="2026-05-01")
    return ids


def test_1_2_a_supported(world: ReportsWorld, served: dict[str, str]) -> None:
    v = value(world.as_("head"), "1.2.a")
    assert v.value == 2  # V1, V2 (W1 is a witness; V3 outside June; V4 draft/deleted)
    assert nonzero(v.breakdown["support_type"]) == {"shelter": 1, "medical": 1, "legal_aid": 1, "repatriation": 1, "protective_custody": 1}
    assert nonzero(v.breakdown["beneficiary_role"]) == {"victim": 1, "vulnerable_migrant": 1}
    assert nonzero(v.breakdown["sex"]) == {"female": 1, "male": 1}
    assert nonzero(v.breakdown["age_group"]) == {"child": 1, "adult": 1}
    assert nonzero(v.breakdown["ctdc_age_band"]) == {"9-17": 1, "39-47": 1}


def test_1_2_b_protected(world: ReportsWorld, served: dict[str, str]) -> None:
    v = value(world.as_("head"), "1.2.b")
    assert v.value == 2  # V1 (shelter), V2 (protective custody); W1's witness protection is as a witness
    assert nonzero(v.breakdown["support_type"]) == {"shelter": 1, "protective_custody": 1}
    assert nonzero(v.breakdown["sex"]) == {"female": 1, "male": 1}
    assert nonzero(v.breakdown["age_group"]) == {"child": 1, "adult": 1}


def test_1_4_a_care_and_support(world: ReportsWorld, served: dict[str, str]) -> None:
    v = value(world.as_("head"), "1.4.a")
    assert v.value == 2  # V1 (medical, legal aid), V2 (repatriation); shelter/custody are protection
    assert nonzero(v.breakdown["support_type"]) == {"medical": 1, "legal_aid": 1, "repatriation": 1}
    assert nonzero(v.breakdown["sex"]) == {"female": 1, "male": 1}


def test_6_1_b_relief(world: ReportsWorld, served: dict[str, str]) -> None:
    v = value(world.as_("head"), "6.1.b")
    assert v.value == 2  # V1 as a victim, W1 as a witness; V2 only as a vulnerable migrant
    assert nonzero(v.breakdown["beneficiary_role"]) == {"victim": 1, "witness": 1}
    assert nonzero(v.breakdown["sex"]) == {"female": 1, "male": 1}
    assert nonzero(v.breakdown["age_group"]) == {"child": 1, "adult": 1}


def test_1_2_c_witnesses_and_providers_supported(world: ReportsWorld, served: dict[str, str]) -> None:
    v = value(world.as_("head"), "1.2.c")
    assert v.value == 2  # W1 + the provider strengthened on 10 June
    assert v.breakdown["component"] == {"witness": 1, "service_provider": 1}
    assert nonzero(v.breakdown["sex"]) == {"male": 1, "organisation": 1}
    assert nonzero(v.breakdown["age_group"]) == {"adult": 1, "organisation": 1}
    assert nonzero(v.breakdown["support_type"]) == {"witness_protection": 1, "legal_aid": 1, "capacity_building": 1}
    dd = engine.drill_down(world.as_("head"), "1.2.c", period=JUNE, disaggregation="component", key="service_provider")
    assert dd.records == {"service_provider": (served["p1"],)}


def test_people_served_together_equal_alone(world: ReportsWorld, served: dict[str, str]) -> None:
    # The five counts share one pass over the services; alone or together they agree.
    ws = world.as_("head")
    codes = ["1.2.a", "1.2.b", "1.2.c", "1.4.a", "6.1.b"]
    together = engine.compute_indicators(ws, period=JUNE, codes=codes)
    for code in codes:
        assert together[code] == value(ws, code)


def test_1_2_d_witnesses_and_providers(world: ReportsWorld, b: Builder) -> None:
    w1, w2, v1 = b.person("male"), b.person("female"), b.person("female")
    b.case("2026-06-01", parties=[{"person_id": w1, "party_role": "witness"}, {"person_id": v1, "party_role": "victim"}])
    b.case("2026-03-01", parties=[{"person_id": w1, "party_role": "witness"}])  # the same witness again
    b.case("2026-07-05", parties=[{"person_id": w2, "party_role": "witness"}])  # registered after June
    b.provider("ngo")
    b.provider("dar_ul_aman")
    b.provider("ngo", created=datetime(2026, 7, 15, tzinfo=UTC))  # recorded after June
    v = value(world.as_("head"), "1.2.d")
    assert v.value == 3  # W1 + 2 providers
    assert v.breakdown["component"] == {"witness": 1, "service_provider": 2}
    assert nonzero(v.breakdown["sex"]) == {"male": 1, "organisation": 2}
    assert nonzero(v.breakdown["provider_type"]) == {"ngo": 1, "dar_ul_aman": 1}


def test_7_1_a_sex_and_age_known(world: ReportsWorld, b: Builder) -> None:
    k1 = b.person("female", dob="1990-01-01")  # victim and suspect: counted once in each role
    k2 = b.person("unknown", dob="1990-01-01")  # victim, sex unknown
    k3 = b.person("male", dob=None, age=None)  # victim, age unknown
    k4 = b.person("male", dob="1980-01-01")  # suspect
    k5 = b.person("female", dob=None, age=30)  # suspect, recorded age only
    for pid in (k1, k2, k3):
        b.screening(pid, "2026-06-10")
    for pid in (k1, k4, k5):
        b.suspect(pid, "2026-06-12")
    v = value(world.as_("head"), "7.1.a")
    # Victims: 1 of 3 with both known (K1); suspects: 3 of 3. Together 4 of 6.
    assert (v.numerator, v.denominator) == (4, 6)
    assert v.value == pytest.approx(100 * 4 / 6)
    assert v.fractions["person_role"] == {"victim": (1, 3), "suspect": (3, 3)}
    assert v.fractions["data_item"] == {"sex": (5, 6), "age": (5, 6), "sex_and_age": (4, 6)}
    assert v.breakdown["person_role"] == {"victim": pytest.approx(100 / 3), "suspect": 100.0}
