# SPDX-License-Identifier: GPL-3.0-or-later
"""Surveys (2.1.b, 3.2.a, 4.1.b), awareness sessions (3.1.a–d), trainings (4.2.a–e),
checkpoint logs (5.1.a) and data use (7.2.a, 7.2.b). June 2026, C-PSH; hand-worked values."""

from __future__ import annotations

import pytest

from nap_desktop.reports import engine
from tests.reports.builders import JUNE, Builder, ReportsWorld, nonzero, value

COORD = "stakeholder_satisfaction_coordination"
PUBLIC = "public_satisfaction_controls"
CARE = "victim_satisfaction_care"


def test_2_1_b_stakeholders_satisfied(world: ReportsWorld, b: Builder) -> None:
    b.survey(COORD, "2026-06-02", 5, sex="female")
    b.survey(COORD, "2026-06-03", 4, sex="male")
    b.survey(COORD, "2026-06-04", 2, sex="female")
    b.survey(COORD, "2026-06-05", 3, sex="male", age_group="child")
    b.survey(COORD, "2026-05-31", 5)  # May
    b.survey(PUBLIC, "2026-06-05", 5)  # another survey
    v = value(world.as_("head"), "2.1.b")
    assert v.kind == "percent" and (v.numerator, v.denominator) == (2, 4) and v.value == 50.0
    assert v.fractions["sex"] == {"female": (1, 2), "male": (1, 2)}
    assert v.breakdown["age_group"] == {"adult": pytest.approx(200 / 3), "child": 0.0}


def test_3_2_a_public_satisfaction_with_previous_period(world: ReportsWorld, b: Builder) -> None:
    b.survey(PUBLIC, "2026-06-02", 5, district="Peshawar")
    b.survey(PUBLIC, "2026-06-03", 4, district=" Peshawar ")
    b.survey(PUBLIC, "2026-06-04", 1, district="Khyber", sex="male")
    b.survey(PUBLIC, "2026-05-10", 4)  # previous month: 1 of 2
    b.survey(PUBLIC, "2026-05-11", 2)
    v = value(world.as_("head"), "3.2.a")
    assert v.value == pytest.approx(200 / 3) and v.previous == 50.0
    assert v.status == "increased by 16.7 percentage points"
    assert v.breakdown["district"] == {"Peshawar": 100.0, "Khyber": 0.0}
    assert v.fractions["sex"] == {"female": (2, 2), "male": (0, 1)}
    empty = value(world.as_("head"), "3.2.a", engine.Period.month(2026, 4))
    assert empty.value is None and empty.status == "no comparison: no responses in the period"


def test_4_1_b_victims_satisfied_with_strengthened_providers(world: ReportsWorld, b: Builder) -> None:
    p1 = b.provider("ngo", strengthened="2026-03-01")
    p2 = b.provider("ngo")  # never strengthened
    p3 = b.provider("dar_ul_aman", strengthened="2026-06-20")
    r1 = b.survey(CARE, "2026-06-05", 5, provider=p1)
    r2 = b.survey(CARE, "2026-06-06", 2, provider=p1, sex="male")
    b.survey(CARE, "2026-06-07", 5, provider=p2)
    b.survey(CARE, "2026-06-10", 4, provider=p3)  # before p3 was strengthened
    r5 = b.survey(CARE, "2026-06-25", 4, provider=p3)
    b.survey(CARE, "2026-06-25", 5)  # no provider named
    v = value(world.as_("head"), "4.1.b")
    assert (v.numerator, v.denominator) == (2, 3) and v.value == pytest.approx(200 / 3)
    assert v.fractions["provider_type"] == {"ngo": (1, 2), "dar_ul_aman": (1, 1)}
    assert v.breakdown["sex"] == {"female": 100.0, "male": 0.0}
    assert set(engine.drill_down(world.as_("head"), "4.1.b", period=JUNE).records["survey_response"]) == {r1, r2, r5}


@pytest.fixture
def sessions(b: Builder) -> None:
    b.session("2026-06-05", respondents=20, named=10, what=8, where=12, acted=2, audiences=["students", "youth"], venue="school", district="Khyber")
    b.session("2026-06-20", respondents=10, named=9, what=1, where=3, acted=0, audiences=["women"], venue="community", district="Peshawar")
    b.session("2026-05-31", respondents=50, named=50, what=50, where=50, acted=50)  # May
    b.session("2026-06-10", respondents=0)  # no survey


@pytest.mark.parametrize(
    ("code", "num"),
    [("3.1.a", 19), ("3.1.b", 9), ("3.1.c", 15), ("3.1.d", 2)],
)
def test_3_1_knowledge_surveys(world: ReportsWorld, sessions: None, code: str, num: int) -> None:
    v = value(world.as_("head"), code)
    assert (v.numerator, v.denominator) == (num, 30)  # pooled over the two June sessions
    assert v.value == pytest.approx(100 * num / 30)


def test_3_1_a_breakdowns(world: ReportsWorld, sessions: None) -> None:
    v = value(world.as_("head"), "3.1.a")
    # Session 1 (10 of 20) counts for students and youth; session 2 (9 of 10) for women.
    assert v.fractions["audience_group"] == {"students": (10, 20), "youth": (10, 20), "women": (9, 10)}
    assert v.breakdown["venue_type"] == {"school": 50.0, "community": 90.0}
    assert v.breakdown["district"] == {"Khyber": 50.0, "Peshawar": 90.0}
    assert set(v.additive) == {"venue_type", "district"}


@pytest.fixture
def trainings(b: Builder) -> dict[str, str]:
    t1 = b.training(
        "2026-06-05",
        topics=["victim_identification", "investigation"],  # detection + investigation groups
        trainees={"fia_immigration": {"female": 4, "male": 10}, "judiciary": {"female": 2, "male": 3}},
        increased={"fia_immigration": {"female": 3, "male": 6}, "judiciary": {"female": 1, "male": 2}},
    )
    t2 = b.training(
        "2026-06-20",
        topics=["prosecution", "financial_investigation"],  # prosecution + investigation groups
        trainees={"prosecution": {"female": 5, "male": 5}, "provincial_police": {"male": 8}},
        increased={"prosecution": {"female": 4, "male": 3}, "provincial_police": {"male": 5}},
    )
    b.training("2026-05-20", topics=["detection"], trainees={"fia_ahtc": {"male": 10}}, increased={"fia_ahtc": {"male": 10}})
    return {"t1": t1, "t2": t2}


def test_4_2_a_detection(world: ReportsWorld, trainings: dict[str, str]) -> None:
    v = value(world.as_("head"), "4.2.a")
    assert v.value == 9  # t1 only has a detection topic: FIA immigration 3 + 6 (judiciary is not LE)
    assert nonzero(v.breakdown["sex"]) == {"female": 3, "male": 6}
    assert nonzero(v.breakdown["institution"]) == {"fia_immigration": 9}


def test_4_2_c_investigation(world: ReportsWorld, trainings: dict[str, str]) -> None:
    v = value(world.as_("head"), "4.2.c")
    assert v.value == 14  # t1: FIA immigration 9; t2: provincial police 5
    assert nonzero(v.breakdown["sex"]) == {"female": 3, "male": 11}
    assert nonzero(v.breakdown["institution"]) == {"fia_immigration": 9, "provincial_police": 5}
    dd = engine.drill_down(world.as_("head"), "4.2.c", period=JUNE, disaggregation="institution", key="provincial_police")
    assert dd.records["training"] == (trainings["t2"],)


def test_4_2_b_women_law_enforcement_share(world: ReportsWorld, trainings: dict[str, str]) -> None:
    v = value(world.as_("head"), "4.2.b")
    assert (v.numerator, v.denominator, v.value) == (3, 4, 75.0)  # FIA immigration women: 3 of 4
    assert v.fractions["institution"] == {"fia_immigration": (3, 4)}


def test_4_2_d_and_e_judiciary_and_prosecutors(world: ReportsWorld, trainings: dict[str, str]) -> None:
    v = value(world.as_("head"), "4.2.d")
    assert v.value == 7  # t2 (prosecution topic): prosecutors 4 + 3; t1's judges had no prosecution topic
    assert nonzero(v.breakdown["sex"]) == {"female": 4, "male": 3}
    assert nonzero(v.breakdown["institution"]) == {"prosecution": 7}
    e = value(world.as_("head"), "4.2.e")
    assert e.value == 4 and nonzero(e.breakdown["institution"]) == {"prosecution": 4}


def test_5_1_a_transit_points(world: ReportsWorld, b: Builder) -> None:
    b.checkpoint("2026-06-01", "land_crossing", unit="P-TORKHAM", passengers_screened=1000, referred_second_line=10, offloaded=5, fraudulent_documents=2, intercepted=3)
    b.checkpoint("2026-06-02", "land_crossing", unit="P-TORKHAM", passengers_screened=800, offloaded=1)
    b.checkpoint("2026-06-15", "airport", passengers_screened=500, fraudulent_documents=1)
    b.checkpoint("2026-07-01", "airport", unit="P-TORKHAM", passengers_screened=999)
    Builder(world.as_("head_lhr")).checkpoint("2026-06-15", "airport", passengers_screened=999)
    v = value(world.as_("head"), "5.1.a")
    assert v.value == 2  # Torkham land crossing, Peshawar airport
    assert nonzero(v.breakdown["checkpoint_type"]) == {"land_crossing": 1, "airport": 1}
    m = v.breakdown["measure"]
    assert (m["daily_logs"], m["passengers_screened"], m["offloaded"], m["fraudulent_documents"], m["intercepted"], m["referred_second_line"]) == (
        3,
        2300,
        6,
        3,
        3,
        10,
    )
    assert value(world.as_("officer"), "5.1.a").value == 1


def test_7_2_a_and_b_data_use(world: ReportsWorld, b: Builder) -> None:
    b.note("2026-06-01")
    b.note("2026-06-30")
    b.note("2026-05-31")
    b.delete(b.note("2026-06-15"))
    assert value(world.as_("head"), "7.2.a").value == 2
    b.access("2026-06-02", "IOM Pakistan", "international_organisation")
    b.access("2026-06-20", " iom pakistan ", "international_organisation")  # the same stakeholder
    b.access("2026-06-21", "Provincial Task Force", "local_government")
    b.access("2026-07-01", "Someone else")
    v = value(world.as_("head"), "7.2.b")
    assert v.value == 2
    assert nonzero(v.breakdown["stakeholder_type"]) == {"international_organisation": 1, "local_government": 1}
