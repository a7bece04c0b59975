# SPDX-License-Identifier: GPL-3.0-or-later
"""Coordination bodies (1.1.a–c, 2.1.a), service providers (1.3.c, 4.1.a) and the status
indicators kept as milestones (1.2.e, 1.5.a, 4.2.f, 4.2.g, 6.2.a). June 2026, C-PSH."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from nap_desktop.reports import engine
from tests.reports.builders import JUNE, Builder, ReportsWorld, nonzero, value


@pytest.fixture
def bodies(b: Builder) -> dict[str, str]:
    ids = {}
    # e1: district body since 2025, functional, met on 10 June → in place and functional.
    ids["e1"] = e1 = b.entity("district", women=3, men=9, transgender=1)
    b.meeting(e1, "2026-06-10")
    # e2: provincial, established 20 June, functional, but met only in May → in place, not functional.
    ids["e2"] = e2 = b.entity("provincial", established="2026-06-20", women=2, men=5)
    b.meeting(e2, "2026-05-20")
    # e3: established in July → not in place.
    b.entity("national", established="2026-07-05", women=7, men=7)
    # e4: no date (recorded in January), marked not functional though it met → in place only.
    ids["e4"] = e4 = b.entity("district", established=None, functional=False, women=1)
    b.meeting(e4, "2026-06-11")
    # e5: deleted.
    b.delete(b.entity("district", women=10, men=10))
    return ids


def test_1_1_a_structure_in_place_and_functional(world: ReportsWorld, bodies: dict[str, str]) -> None:
    v = value(world.as_("head"), "1.1.a")
    assert v.kind == "status" and v.status == "in place and functional"
    assert (v.value, v.numerator, v.denominator) == (1, 1, 3)  # e1 functional of e1, e2, e4
    assert nonzero(v.breakdown["level"]) == {"district": 1}
    dd = engine.drill_down(world.as_("head"), "1.1.a", period=JUNE)
    assert dd.records["coordination_entity"] == (bodies["e1"],)


def test_1_1_a_states(world: ReportsWorld, b: Builder) -> None:
    ws = world.as_("head")
    v = value(ws, "1.1.a")
    assert (v.value, v.status) == (0, "not in place")
    b.entity("district")  # no meeting
    v = value(ws, "1.1.a")
    assert (v.value, v.status, v.numerator, v.denominator) == (0, "in place, not functional", 0, 1)


def test_1_1_b_entities_operating(world: ReportsWorld, bodies: dict[str, str]) -> None:
    v = value(world.as_("head"), "1.1.b")
    assert (v.value, v.numerator, v.denominator) == (1, 1, 3)
    assert v.breakdown["level"] == {"national": 0, "provincial": 0, "district": 1, "international": 0}


def test_1_1_c_women_in_structures(world: ReportsWorld, bodies: dict[str, str]) -> None:
    v = value(world.as_("head"), "1.1.c")
    assert v.value == 6  # 3 (e1) + 2 (e2) + 1 (e4)
    assert v.denominator == 21  # 13 + 7 + 1 members
    assert nonzero(v.breakdown["level"]) == {"district": 4, "provincial": 2}
    assert sum(v.breakdown["level"].values()) == v.value


def test_2_1_a_gaps_addressed(world: ReportsWorld, b: Builder, bodies: dict[str, str]) -> None:
    g1 = b.gap("2026-05-01", "2026-06-10", entity=bodies["e1"])  # addressed in June
    b.gap("2026-06-05")  # open
    b.gap("2026-03-01", "2026-05-30")  # addressed before June: not open in June
    b.gap("2026-07-02")  # identified after June
    g5 = b.gap("2026-06-01", "2026-06-30")  # addressed on the last day, no body
    v = value(world.as_("head"), "2.1.a")
    assert (v.value, v.numerator, v.denominator) == (2, 2, 3)
    assert nonzero(v.breakdown["level"]) == {"district": 1, "none": 1}
    assert set(engine.drill_down(world.as_("head"), "2.1.a", period=JUNE).records["coordination_gap"]) == {g1, g5}


@pytest.fixture
def providers(b: Builder) -> dict[str, str]:
    return {
        "p1": b.provider("ngo", uses_sops=True, strengthened="2026-03-01"),
        "p2": b.provider("dar_ul_aman", strengthened="2026-06-30"),
        "p3": b.provider("ngo", uses_sops=True, strengthened="2026-07-01"),
        # recorded after June: not on record at the end of June
        "p4": b.provider("ngo", uses_sops=True, strengthened="2026-02-01", created=datetime(2026, 7, 15, tzinfo=UTC)),
    }


def test_1_3_c_stakeholders_using_sops(world: ReportsWorld, b: Builder, providers: dict[str, str]) -> None:
    b.delete(b.provider("ngo", uses_sops=True))
    v = value(world.as_("head"), "1.3.c")
    assert (v.value, v.numerator, v.denominator) == (2, 2, 3)  # p1, p3 of p1–p3
    assert nonzero(v.breakdown["provider_type"]) == {"ngo": 2}


def test_4_1_a_providers_with_capacity(world: ReportsWorld, providers: dict[str, str]) -> None:
    v = value(world.as_("head"), "4.1.a")
    assert (v.value, v.denominator) == (2, 3)  # p1 (March), p2 (30 June); p3 in July
    assert nonzero(v.breakdown["provider_type"]) == {"ngo": 1, "dar_ul_aman": 1}
    dd = engine.drill_down(world.as_("head"), "4.1.a", period=JUNE, disaggregation="provider_type", key="dar_ul_aman")
    assert dd.records["service_provider"] == (providers["p2"],)


def test_milestone_statuses(world: ReportsWorld, b: Builder) -> None:
    b.milestone("1.2.e", "achieved", "2026-05-10")
    b.milestone("1.5.a", "achieved", "2026-07-10")  # achieved after June: in progress at its end
    b.milestone("1.5.a", "planned")
    b.milestone("4.2.f", "delayed")
    Builder(world.as_("head_lhr")).milestone("4.2.g", "achieved", "2026-06-01")
    ws = world.as_("head")
    v = value(ws, "1.2.e")
    assert (v.value, v.status, v.numerator, v.denominator) == (1, "achieved", 1, 1)
    v = value(ws, "1.5.a")
    assert (v.value, v.status, v.numerator, v.denominator) == (0, "in progress", 0, 2)
    assert nonzero(v.breakdown["progress"]) == {"in_progress": 1, "planned": 1}
    assert value(ws, "1.5.a", engine.Period.month(2026, 7)).status == "achieved"
    assert value(ws, "4.2.f").status == "delayed"
    assert (value(ws, "4.2.g").value, value(ws, "4.2.g").status) == (0, "no milestone recorded")  # C-LHR's
    assert value(world.as_("analyst"), "4.2.g", scope="HQ").status == "achieved"
    assert value(ws, "6.2.a").status == "no milestone recorded"
