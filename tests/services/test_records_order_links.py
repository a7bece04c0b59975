# SPDX-License-Identifier: GPL-3.0-or-later
"""Lists in any order the service can sort by, counts without rows, and linked records both ways
(victims ↔ case ↔ suspects ↔ referrals ↔ services), for the GUI's lists and Links panel."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from nap_desktop.data.models import AuditEntry
from nap_desktop.errors import ValidationError
from nap_desktop.services import records
from nap_desktop.services.records import RecordFilter
from tests.services.records_factories import World, create, world_at


@dataclass
class Chain:
    world: World
    victim: str
    suspect_person: str
    screening: str
    case: str
    suspect: str
    referral: str
    service: str
    provider: str
    other_unit_person: str
    screening_of_other: str


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    with world_at(tmp_path_factory.mktemp("links") / "ws") as world:
        ws = world.as_("head")
        victim = create(ws, "person", unit="C-PSH", values={"given_name": "Shazia", "family_name": "Linkvictim"}).id
        suspect_person = create(ws, "person", unit="C-PSH", values={"given_name": "Rafiq", "family_name": "Linksuspect", "sex": "male"}).id
        screening = create(ws, "screening", unit="C-PSH", refs={"person_id": victim}, on=date(2026, 5, 2)).id
        case = create(ws, "case", unit="C-PSH", refs={"party_person": victim}, on=date(2026, 5, 20)).id
        suspect = create(ws, "suspect", unit="C-PSH", refs={"person_id": suspect_person, "case_id": case, "screening_id": screening}).id
        provider = create(ws, "service_provider", unit="C-PSH").id
        referral = create(ws, "referral", unit="C-PSH", refs={"person_id": victim, "screening_id": screening, "provider_id": provider}).id
        service = create(ws, "service", unit="C-PSH", refs={"person_id": victim, "referral_id": referral, "provider_id": provider}).id
        # A deleted service of the victim is not listed as a link.
        records.delete_record(ws, create(ws, "service", unit="C-PSH", refs={"person_id": victim}).id)
        # Lahore's records are outside the Peshawar head's units.
        lhr = world.as_("officer_lhr")
        other = create(lhr, "person", unit="C-LHR").id
        screening_of_other = create(lhr, "screening", unit="C-LHR", refs={"person_id": other}).id
        yield Chain(world, victim, suspect_person, screening, case, suspect, referral, service, provider, other, screening_of_other)


def _links(ws: Any, rid: str) -> set[tuple[str, str, str | None, str, str]]:
    return {(i.direction, i.field, i.role, i.row.type, i.row.id) for i in records.linked_records(ws, rid).items}


def test_a_victim_links_to_her_screening_case_referral_and_service(chain: Chain) -> None:
    ws = chain.world.as_("head")
    links = _links(ws, chain.victim)
    assert links == {
        ("from", "person_id", None, "screening", chain.screening),
        ("from", "parties", "victim", "case", chain.case),
        ("from", "person_id", None, "referral", chain.referral),
        ("from", "person_id", None, "service", chain.service),
    }


def test_a_case_links_to_its_parties_and_suspects_and_back(chain: Chain) -> None:
    ws = chain.world.as_("head")
    assert _links(ws, chain.case) == {("to", "parties", "victim", "person", chain.victim), ("from", "case_id", None, "suspect", chain.suspect)}
    assert ("to", "case_id", None, "case", chain.case) in _links(ws, chain.suspect)
    assert ("to", "person_id", None, "person", chain.suspect_person) in _links(ws, chain.suspect)


def test_a_screening_a_referral_and_a_provider_link_both_ways(chain: Chain) -> None:
    ws = chain.world.as_("head")
    assert _links(ws, chain.screening) == {
        ("to", "person_id", None, "person", chain.victim),
        ("from", "screening_id", None, "suspect", chain.suspect),
        ("from", "screening_id", None, "referral", chain.referral),
    }
    assert ("from", "referral_id", None, "service", chain.service) in _links(ws, chain.referral)
    assert ("to", "referral_id", None, "referral", chain.referral) in _links(ws, chain.service)
    assert {(d, t) for d, _f, _r, t, _i in _links(ws, chain.provider)} == {("from", "referral"), ("from", "service")}


def test_linked_persons_show_names_only_to_who_may_see_them_and_that_is_audited(chain: Chain) -> None:
    head = chain.world.as_("head")

    def listed() -> int:
        with head.sf() as s:
            return s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "record.personal_listed")) or 0

    before = listed()
    person = [i.row for i in records.linked_records(head, chain.case).items if i.row.type == "person"]
    assert [p.name for p in person] == ["Shazia Linkvictim"]
    assert listed() == before + 1
    analyst = chain.world.as_("analyst")  # HQ analyst without case access
    rows = [i.row for i in records.linked_records(analyst, chain.case).items if i.row.type == "person"]
    assert rows and all(r.name is None for r in rows), "an HQ analyst sees the link, not the name"
    assert rows[0].sex is not None


def test_links_outside_the_users_units_are_not_shown(chain: Chain) -> None:
    officer = chain.world.as_("officer_lhr")
    assert _links(officer, chain.other_unit_person) == {("from", "person_id", None, "screening", chain.screening_of_other)}
    head = chain.world.as_("head")
    with pytest.raises(records.NotFound):
        records.linked_records(head, chain.other_unit_person)


def test_lists_sort_by_a_field_and_by_the_persons_sex_both_ways(chain: Chain) -> None:
    ws = chain.world.as_("head")
    assert "identification_status" in records.sort_keys("screening") and "sex" in records.sort_keys("screening")
    assert "given_name" not in records.sort_keys("person"), "never sortable by personal data"
    people = records.list_records(ws, "person", order_by="sex", descending=False, limit=500).rows
    sexes = [r.sex for r in people]
    assert sexes == sorted(sexes) and len(set(sexes)) > 1
    down = records.list_records(ws, "person", order_by="sex", descending=True, limit=500).rows
    assert [r.id for r in down] == [r.id for r in sorted(people, key=lambda r: (r.sex, r.id), reverse=True)]
    provs = records.list_records(ws, "service", order_by="service_type", descending=False).rows
    types = [r.summary["service_type"] for r in provs]
    assert types == sorted(types)
    with pytest.raises(ValidationError):
        records.list_records(ws, "person", order_by="given_name")


def test_count_records_is_the_number_of_rows_listed(chain: Chain) -> None:
    ws = chain.world.as_("head")
    for type_name, flt in (("person", RecordFilter()), ("service", RecordFilter()), ("person", RecordFilter(sex="male")), ("screening", RecordFilter(date_from=date(2026, 5, 1)))):
        rows = records.list_records(ws, type_name, flt, limit=5000, with_total=False).rows
        assert records.count_records(ws, type_name, flt) == len(rows) > 0
