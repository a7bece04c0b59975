# SPDX-License-Identifier: GPL-3.0-or-later
"""Name search through the word index (issue 4): what a user types in a list's search box finds
persons (and their screenings, services, ...) whose name has a word starting with each typed
word, in any order, without regard to case or accents; the index follows every edit, delete and
bulk import; it still needs the personal-data permission and a refusal is still audited.

One circle workspace is shared by the module; each test makes persons with its own names.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from nap_desktop.data.record_models import PersonIdentity, PersonNameToken
from nap_desktop.errors import PermissionDenied
from nap_desktop.services import records
from nap_desktop.services.records import RecordFilter
from tests.services.records_factories import World, audit_count, create, world_at

_serial = itertools.count(1)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with world_at(tmp_path_factory.mktemp("names") / "ws") as w:
        yield w


def person(world: World, given: str, family: str, **extra: Any) -> str:
    n = next(_serial)
    values = {"given_name": given, "family_name": family, "cnic": f"{61000 + n:05d}{5500000 + n:07d}{n % 10}", **extra}
    return create(world.as_("head"), "person", values=values).id


def found(world: World, text: str, type_name: str = "person", who: str = "head", **flt: Any) -> set[str]:
    page = records.list_records(world.as_(who), type_name, RecordFilter(text=text, **flt), limit=5000)
    assert page.total == len(page.rows) == records.count_records(world.as_(who), type_name, RecordFilter(text=text, **flt))
    return {r.id for r in page.rows}


def index_matches_identities(world: World) -> None:
    """The word index holds exactly the words of the stored names, nothing stale."""
    with world.current().sf() as s:
        want = {(r["token"], r["person_id"]) for r in records.name_token_rows(i._mapping for i in s.execute(select(PersonIdentity.person_id, PersonIdentity.name_key)))}
        have = set(s.execute(select(PersonNameToken.token, PersonNameToken.person_id)).tuples())
    assert have == want


def test_prefixes_of_the_words_in_any_order_with_case_and_accents_ignored(world: World) -> None:
    ayesha = person(world, "Áyesha", "Prefixafridi")
    other = person(world, "Ayeshanoor", "Prefixkhan")
    assert found(world, "prefixafr") == {ayesha}
    assert found(world, "PREFIXAFRIDI") == {ayesha}
    assert found(world, "prefixafridi ay") == {ayesha}  # family name first, given name typed in part
    assert found(world, "  ayesha   PREFIXAF ") == {ayesha}
    assert found(world, "ayesha prefix") == {ayesha, other}  # "Ayeshanoor" starts with "ayesha" too
    assert found(world, "ayeshan prefix") == {other}
    assert found(world, "ayésha prefixk") == {other}
    assert found(world, "prefix") == {ayesha, other}
    # a word is matched from its start only, and every typed word must match
    assert found(world, "refixafridi") == set()
    assert found(world, "prefixafridi zzz") == set()
    index_matches_identities(world)


def test_a_whole_word_finds_the_other_spellings_of_the_name(world: World) -> None:
    """Typed whole, a word also finds the names that sound the same (Mohammad → Muhammad, Mohd;
    Yusuf → Yousaf), in Urdu script across the two keyboards too; typed in part it matches
    prefixes only, so a few letters do not pull in every similar name."""
    muhammad = person(world, "Muhammad", "Yousaf Soundsearch")
    mohd = person(world, "Mohd", "Yusuf Soundsearch")
    urdu = person(world, "محمد", "یوسف")
    imran = person(world, "Imran", "Yousaf Soundsearch")
    assert found(world, "mohammad yusuf") == {muhammad, mohd}
    assert found(world, "Muhammed Soundsearch") == {muhammad, mohd}
    assert found(world, "yousuf soundsearch") == {muhammad, mohd, imran}
    assert found(world, "moham soundsearch") == set()  # "moham" is the start of no word, and no whole name
    assert found(world, "muham soundsearch") == {muhammad}
    assert found(world, "محمد يوسف") == {urdu}  # Arabic yeh for the Urdu one
    index_matches_identities(world)


def test_common_and_rare_names_find_the_same_persons_whichever_way_they_are_looked_up(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """A list looks up a common name by walking its records and a rare one through the persons
    it lists first (records.NAME_WALK_FROM): with the threshold made tiny, every search below
    takes the other way, and finds the same persons."""
    many = {person(world, "Walkname", "Walkfamily") for _ in range(4)}
    mohd = person(world, "Mohd", "Walkfamily")
    few = person(world, "Walkname", "Rarewalk")
    expected = {"walkname": many | {few}, "walkname walkfamily": many, "muhammad walkfamily": {mohd}, "walkfamily": many | {mohd}, "rarewalk walkn": {few}}
    for threshold in (records.NAME_WALK_FROM, 2):
        monkeypatch.setattr(records, "NAME_WALK_FROM", threshold)
        assert {text: found(world, text) for text in expected} == expected, threshold
        assert {text: found(world, text, "person", include_deleted=True) for text in expected} == expected, threshold


def test_the_screenings_of_a_person_are_found_by_the_persons_name(world: World) -> None:
    pid = person(world, "Gul", "Screenedbibi")
    s1 = create(world.as_("head"), "screening", refs={"person_id": pid}).id
    assert found(world, "screenedb gul", "screening") == {s1}
    assert found(world, "gul screenedbi", "screening", include_deleted=True) == {s1}


def test_after_an_edit_the_old_name_no_longer_matches(world: World) -> None:
    pid = person(world, "Renamebefore", "Editkhan")
    assert found(world, "renamebef") == {pid}
    records.update_record(world.as_("head"), pid, {"given_name": "Renameafter", "family_name": "Editmalik"})
    assert found(world, "renamebef") == set()
    assert found(world, "editkhan") == set()
    assert found(world, "renameaft editmal") == {pid}
    records.update_record(world.as_("head"), pid, {"given_name": None})
    assert found(world, "renameaft") == set()
    assert found(world, "editmalik") == {pid}
    index_matches_identities(world)


def test_after_a_delete_nothing_matches(world: World) -> None:
    pid = person(world, "Deletedgul", "Tombstone")
    sid = create(world.as_("head"), "screening", refs={"person_id": pid}).id
    records.delete_record(world.as_("head"), sid)
    records.delete_record(world.as_("head"), pid)
    assert found(world, "deletedgul") == set()
    assert found(world, "deletedgul", "screening") == set()
    # the tombstones themselves, for those who list deleted records
    assert found(world, "deletedgul", include_deleted=True) == {pid}


def test_identity_numbers_still_match_exactly_beside_names(world: World) -> None:
    n = next(_serial)
    cnic = f"{62000 + n:05d}{5600000 + n:07d}{n % 10}"
    pid = create(world.as_("head"), "person", values={"given_name": "Numbered", "family_name": "Person", "cnic": cnic}).id
    assert found(world, f"{cnic[:5]}-{cnic[5:12]}-{cnic[12]}") == {pid}
    assert found(world, cnic[:6]) == set()  # a number is not a prefix search


def test_a_role_without_personal_data_access_is_refused_and_audited(world: World) -> None:
    pid = person(world, "Refusedname", "Hidden")
    denied = audit_count(world.current(), "permission.denied")
    for type_name in ("person", "screening"):
        with pytest.raises(PermissionDenied):
            records.list_records(world.as_("analyst"), type_name, RecordFilter(text="refusedn"))
        with pytest.raises(PermissionDenied):
            records.count_records(world.as_("analyst"), type_name, RecordFilter(text="refusedn"))
    assert audit_count(world.current(), "permission.denied") == denied + 4
    assert found(world, "refusedn", who="analyst_case") == {pid}


def test_listing_found_names_is_audited(world: World) -> None:
    pid = person(world, "Auditedname", "Listed")
    before = audit_count(world.current(), "record.personal_listed")
    assert found(world, "auditedn") == {pid}
    assert audit_count(world.current(), "record.personal_listed") == before + 1


def test_bulk_imported_persons_are_found_by_name(world: World, tmp_path: Any) -> None:
    from nap_desktop.services import bulk_import as bi

    t = bi.write_template("person", tmp_path / "persons.csv")
    with t.open(encoding="utf-8-sig", newline="") as f:
        header = f.readline().strip().split(",")
    rows = [
        {"sex": "female", "citizenship": "pk", "age_years": "30", "given_name": "Importedzara", "family_name": "Bulkbibi"},
        {"sex": "male", "citizenship": "af", "age_years": "41", "given_name": "Importedomar", "family_name": "Bulkkhan"},
    ]
    with t.open("w", encoding="utf-8", newline="") as f:
        f.write(",".join(header) + "\n")
        for r in rows:
            f.write(",".join(r.get(h, "") for h in header) + "\n")
    result = bi.import_file(world.as_("head"), "person", t)
    assert result.imported == 2
    assert found(world, "bulkbi importedz") == {result.ids[0]}
    assert found(world, "imported bulk") == set(result.ids)
    index_matches_identities(world)
