# SPDX-License-Identifier: GPL-3.0-or-later
"""Indicators from cases: 6.1.a, 7.3.a, 7.3.b, 7.4.a, 7.5.a and 7.5.b (June 2026, C-PSH).

Expected values are worked out by hand in the comments. Case events must keep the stage order
the record service checks (registration ≤ challan ≤ trial ≤ verdict).
"""

from __future__ import annotations

import pytest

from nap_desktop.reports import engine
from tests.reports.builders import JUNE, Builder, ReportsWorld, nonzero, value


def test_6_1_a_change_in_cases_reported_and_dealt_with(world: ReportsWorld, b: Builder) -> None:
    # Reported in June: c1 (TIP internal), c2 and c3 (SOM); in May: c4 (SOM).
    c1 = b.case("2026-06-05", "tip_internal", events=[("challan_submitted", "2026-06-10"), ("verdict", "2026-06-25", "convicted")])
    b.case("2026-06-20", "som")
    b.case("2026-06-30", "som")
    c4 = b.case("2026-05-10", "som", events=[("challan_submitted", "2026-06-02")])
    # Dealt with in May: c8 (registered in April, closed on 15 May).
    b.case("2026-04-01", "document_fraud", events=[("case_closed", "2026-05-15")])
    # Not counted: a draft, a deleted case, another circle.
    b.case("2026-06-07", "som", draft=True)
    b.delete(b.case("2026-06-08", "som"))
    Builder(world.as_("head_lhr")).case("2026-06-09", "som")
    v = value(world.as_("head"), "6.1.a")
    assert v.kind == "change"
    assert (v.value, v.numerator, v.denominator, v.previous) == (2, 3, 1, 1)  # 3 − 1
    assert v.breakdown["measure"] == {
        "reported": 3,
        "reported_previous": 1,
        "dealt_with": 2,  # c4 (challan 2 June), c1 (challan and verdict: once)
        "dealt_with_previous": 1,  # c8
        "dealt_with_change": 1,
    }
    assert nonzero(v.breakdown["case_type"]) == {"tip_internal": 1, "som": 1}  # +1 each; other types 0
    assert sum(v.breakdown["case_type"].values()) == v.value
    assert v.status == "Reported 3 (previous period 1, +2); dealt with 2 (previous period 1, +1)"
    dealt = engine.drill_down(world.as_("head"), "6.1.a", period=JUNE, disaggregation="measure", key="dealt_with")
    assert set(dealt.records["case"]) == {c1, c4}


def test_7_3_a_investigations_by_victims(world: ReportsWorld, b: Builder) -> None:
    woman, boy, woman2 = b.person("female", province="kp"), b.person("male", dob="2012-01-01", province="punjab"), b.person("female", province="sindh")
    # Under investigation at some time in June:
    i1 = b.case("2026-03-01", "tip_internal", parties=[{"person_id": woman, "party_role": "victim"}, {"person_id": boy, "party_role": "victim"}])
    i3 = b.case("2026-05-01", "som", events=[("challan_submitted", "2026-06-10")], parties=[{"person_id": woman2, "party_role": "victim"}])
    i5 = b.case("2026-06-15", "som")  # no victim linked yet
    # Not: challaned before June; closed on 31 May; registered in July.
    b.case("2026-04-01", "som", events=[("challan_submitted", "2026-05-20")], parties=[{"person_id": woman, "party_role": "victim"}])
    b.case("2026-02-01", "som", events=[("case_closed", "2026-05-31")])
    b.case("2026-07-02", "som")
    v = value(world.as_("head"), "7.3.a")
    assert v.value == 3
    # Cases with at least one victim of each kind (i1 counts as female and as male).
    assert nonzero(v.breakdown["sex"]) == {"female": 2, "male": 1, "none": 1}
    assert nonzero(v.breakdown["age_group"]) == {"adult": 2, "child": 1, "none": 1}
    assert nonzero(v.breakdown["location"]) == {"kp": 1, "punjab": 1, "sindh": 1, "none": 1}
    assert nonzero(v.breakdown["case_type"]) == {"tip_internal": 1, "som": 2}
    assert v.additive == ("case_type",)
    dd = engine.drill_down(world.as_("head"), "7.3.a", period=JUNE)
    assert set(dd.records["case"]) == {i1, i3, i5}
    female = engine.drill_down(world.as_("head"), "7.3.a", period=JUNE, disaggregation="sex", key="female")
    assert set(female.records["case"]) == {i1, i3}


def test_7_3_b_prosecutions_by_offenders(world: ReportsWorld, b: Builder) -> None:
    m1, f1, m2 = b.person("male", province="kp"), b.person("female", province="punjab"), b.person("male", province="kp")
    # In court at some time in June:
    b.case("2026-01-10", events=[("challan_submitted", "2026-03-01")], parties=[{"person_id": m1, "party_role": "suspect"}])
    p3 = b.case("2026-02-01", events=[("challan_submitted", "2026-06-20")])
    b.suspect(f1, "2026-02-01", case=p3)  # offender linked through a suspect record only
    p5 = b.case(
        "2026-01-10",
        events=[("challan_submitted", "2026-02-01"), ("verdict", "2026-06-15", "convicted")],
        parties=[{"person_id": m2, "party_role": "suspect"}],
    )
    b.suspect(m2, "2026-01-10", case=p5)  # the same offender twice: counted once
    # Not: verdict in May; not yet challaned.
    b.case("2026-01-10", events=[("challan_submitted", "2026-02-01"), ("verdict", "2026-05-30", "acquitted")], parties=[{"person_id": m1, "party_role": "suspect"}])
    b.case("2026-06-01")
    v = value(world.as_("head"), "7.3.b")
    assert v.value == 3
    assert nonzero(v.breakdown["sex"]) == {"male": 2, "female": 1}
    assert nonzero(v.breakdown["location"]) == {"kp": 2, "punjab": 1}
    assert nonzero(v.breakdown["age_group"]) == {"adult": 3}


def test_7_4_a_convictions_by_victims(world: ReportsWorld, b: Builder) -> None:
    girl, man, acc1, acc2 = b.person("female", dob="2011-01-01"), b.person("male"), b.person("male"), b.person("male")
    b.case(
        "2026-01-10",
        events=[("challan_submitted", "2026-02-01"), ("verdict", "2026-06-15", "convicted")],
        parties=[{"person_id": girl, "party_role": "victim"}],
    )
    b.case(
        "2026-01-10",
        "som",
        events=[("verdict", "2026-06-30", "convicted", acc1), ("verdict", "2026-06-30", "convicted", acc2)],
        parties=[{"person_id": man, "party_role": "victim"}],
    )
    b.case("2026-01-10", events=[("verdict", "2026-06-20", "acquitted")], parties=[{"person_id": man, "party_role": "victim"}])
    b.case("2026-01-10", events=[("verdict", "2026-07-01", "convicted")])
    v = value(world.as_("head"), "7.4.a")
    assert v.value == 2
    assert nonzero(v.breakdown["sex"]) == {"female": 1, "male": 1}
    assert nonzero(v.breakdown["age_group"]) == {"child": 1, "adult": 1}  # age when the case was registered
    assert nonzero(v.breakdown["case_type"]) == {"tip_internal": 1, "som": 1}
    assert v.breakdown["measure"] == {"cases": 2, "convicted_persons": 2}  # the accused named in the verdicts


def test_7_5_a_victims_compensated(world: ReportsWorld, b: Builder) -> None:
    a, bb = b.person("female", province="kp"), b.person("male", province="sindh")
    c, dd, e = b.person("male", dob="2010-02-02", province="punjab"), b.person("female"), b.person("female")
    # k1: paid on 10 June; A paid, B ordered only → A.
    b.case(
        "2026-01-10",
        events=[("compensation_paid", "2026-06-10")],
        parties=[
            {"person_id": a, "party_role": "victim", "compensation_ordered_pkr": 100_000, "compensation_paid_pkr": 50_000},
            {"person_id": bb, "party_role": "victim", "compensation_ordered_pkr": 100_000},
        ],
    )
    # k2: no compensation events: dated by the verdict of 20 June → C.
    b.case(
        "2026-01-10",
        events=[("verdict", "2026-06-20", "convicted")],
        parties=[{"person_id": c, "party_role": "victim", "compensation_ordered_pkr": 20_000, "compensation_paid_pkr": 20_000}],
    )
    # k3: paid in May; k4: ordered in June but paid in July → neither.
    b.case("2026-01-10", events=[("compensation_paid", "2026-05-05")], parties=[{"person_id": dd, "party_role": "victim", "compensation_paid_pkr": 10_000}])
    b.case(
        "2026-01-10",
        events=[("compensation_ordered", "2026-06-01"), ("compensation_paid", "2026-07-10")],
        parties=[{"person_id": e, "party_role": "victim", "compensation_ordered_pkr": 5_000, "compensation_paid_pkr": 5_000}],
    )
    # k5: A again, paid in June: one person.
    b.case(
        "2026-02-10",
        events=[("compensation_paid", "2026-06-11")],
        parties=[{"person_id": a, "party_role": "victim", "compensation_ordered_pkr": 30_000, "compensation_paid_pkr": 30_000}],
    )
    v = value(world.as_("head"), "7.5.a")
    assert v.value == 2  # A, C
    assert nonzero(v.breakdown["sex"]) == {"female": 1, "male": 1}
    assert nonzero(v.breakdown["age_group"]) == {"adult": 1, "child": 1}
    assert nonzero(v.breakdown["location"]) == {"kp": 1, "punjab": 1}
    assert v.breakdown["measure"] == {"compensation_ordered_pkr": 150_000, "compensation_paid_pkr": 100_000}
    assert set(engine.drill_down(world.as_("head"), "7.5.a", period=JUNE).person_ids) == {a, c}


def test_7_5_b_offenders_assets(world: ReportsWorld, b: Builder) -> None:
    x, y, z = b.person("male"), b.person("female"), b.person("male")
    b.case(
        "2026-01-10",
        events=[("assets_disposed", "2026-06-12")],
        parties=[{"person_id": x, "party_role": "suspect", "assets_confiscated": True, "assets_disposed": True}],
    )
    b.case("2026-01-10", events=[("assets_confiscated", "2026-06-05")], parties=[{"person_id": y, "party_role": "suspect", "assets_confiscated": True}])
    b.case(
        "2026-01-10",
        events=[("verdict", "2026-05-10", "convicted")],
        parties=[{"person_id": z, "party_role": "suspect", "assets_confiscated": True, "assets_disposed": True}],
    )
    v = value(world.as_("head"), "7.5.b")
    assert v.value == 1  # X (Y's assets are not disposed; Z's date is May)
    assert nonzero(v.breakdown["sex"]) == {"male": 1}
    assert v.breakdown["measure"] == {"confiscated": 2, "confiscated_and_disposed": 1}
    assert engine.drill_down(world.as_("head"), "7.5.b", period=JUNE).person_ids == (x,)


@pytest.mark.parametrize("code", ["6.1.a", "7.3.a", "7.3.b", "7.4.a", "7.5.a", "7.5.b"])
def test_case_indicators_empty(world: ReportsWorld, code: str) -> None:
    v = value(world.as_("head"), code)
    assert v.value == 0
