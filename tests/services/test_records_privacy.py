# SPDX-License-Identifier: GPL-3.0-or-later
"""Personal data: hidden from roles without access, shown to those with it, every view audited,
never in the audit log or any file in the clear; duplicate persons (issue 3, Build 3 and 7,
"Must show" 3 and the canary test extended to every personal field).

Personal fields: a person's identity (names, CNIC, passport, other id, phone, address) and a
screening's narrative. One HQ workspace is shared by the module; each test makes its own
records with its own names and numbers.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from nap_desktop.domain.records import RECORD_TYPES
from nap_desktop.errors import NotFound, PermissionDenied, UserFacingError, ValidationError
from nap_desktop.security import permissions
from nap_desktop.security.permissions import Perm, Role
from nap_desktop.services import records
from nap_desktop.services.records import RecordFilter
from tests.services.records_factories import World, audit_count, audit_rows, complete_values, create, world_at

PERSON_PERSONAL = RECORD_TYPES["person"].personal_fields
_serial = itertools.count(1)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with world_at(tmp_path_factory.mktemp("privacy") / "ws") as w:
        yield w


def identity(tag: str) -> dict[str, str]:
    """Distinct personal values for one test (digits derived from a serial number)."""
    n = next(_serial)
    digits = f"{71000 + n:05d}{4400000 + n:07d}{n % 10}"
    return {
        "given_name": f"Canary{tag}",
        "family_name": f"Qx{tag}Bibi",
        "father_or_husband_name": f"Father{tag}Khan",
        "cnic": digits,
        "passport_no": f"QP{9100000 + n}",
        "other_id": f"POC{tag}{n}",
        "phone": f"+92 333 {7000000 + n}",
        "address": f"House {n}, Lane {tag}, Landi Kotal",
    }


def make_person(world: World, tag: str, *, unit: str = "C-PSH", **extra: Any) -> tuple[str, dict[str, str]]:
    ident = identity(tag)
    dto = create(world.as_("head"), "person", unit=unit, values={**ident, **extra})
    return dto.id, ident


def make_screening(world: World, person_id: str, narrative: str, *, unit: str = "C-PSH") -> str:
    return create(world.as_("head"), "screening", unit=unit, refs={"person_id": person_id}, values={"narrative": narrative}).id


def viewed(world: World, object_id: str | None = None) -> int:
    return audit_count(world.current(), "record.personal_viewed", object_id=object_id)


# --- masking by role ------------------------------------------------------------------------------------


def test_hq_analyst_without_case_access_sees_no_personal_field(world: World) -> None:
    pid, ident = make_person(world, "Mask")
    sid = make_screening(world, pid, "NarrativeMask: sold to a brick kiln")
    before = viewed(world)
    ws = world.as_("analyst")
    person = records.get_record(ws, pid)
    assert set(person.masked) == set(PERSON_PERSONAL)
    assert all(person.values[f] is None for f in PERSON_PERSONAL)
    assert (person.values["sex"], person.values["citizenship"]) == ("female", "pk")  # the rest is there
    screening = records.get_record(ws, sid)
    assert screening.masked == ("narrative",) and screening.values["narrative"] is None
    assert screening.values["identification_status"] == "presumed_victim"
    assert viewed(world) == before, "a masked view is not a view of personal data"


def test_hq_analyst_with_case_access_sees_personal_fields_and_each_view_is_audited(world: World) -> None:
    pid, ident = make_person(world, "Case")
    sid = make_screening(world, pid, "NarrativeCase")
    ws = world.as_("analyst_case")
    for expected in (1, 2):
        person = records.get_record(ws, pid)
        assert person.masked == ()
        assert person.values["given_name"] == ident["given_name"]
        assert person.values["cnic"] == f"{ident['cnic'][:5]}-{ident['cnic'][5:12]}-{ident['cnic'][12]}"
        assert viewed(world, pid) == expected
    assert records.get_record(ws, sid).values["narrative"] == "NarrativeCase"
    assert viewed(world, sid) == 1


def test_an_officer_sees_the_personal_data_of_the_post_only(world: World) -> None:
    own, ident = make_person(world, "Post", unit="P-TORKHAM")
    other, _ = make_person(world, "Circle", unit="C-PSH")
    ws = world.as_("officer")
    dto = records.get_record(ws, own)
    assert dto.masked == () and dto.values["family_name"] == ident["family_name"]
    assert viewed(world, own) == 1
    with pytest.raises(NotFound):
        records.get_record(ws, other)
    rows = records.list_records(ws, "person", limit=5000).rows
    assert own in {r.id for r in rows} and other not in {r.id for r in rows}


def test_the_circle_head_sees_the_posts_of_the_circle(world: World) -> None:
    pid, ident = make_person(world, "Sub", unit="P-TORKHAM")
    dto = records.get_record(world.as_("head"), pid)
    assert dto.values["given_name"] == ident["given_name"] and dto.masked == ()


def test_an_officer_of_another_circle_sees_nothing(world: World) -> None:
    pid, ident = make_person(world, "Far")
    ws = world.as_("officer_lhr")
    with pytest.raises(NotFound):
        records.get_record(ws, pid)
    assert pid not in {r.id for r in records.list_records(ws, "person", limit=5000).rows}
    assert records.find_duplicate_persons(ws, cnic=ident["cnic"]) == []


def test_a_screening_without_a_narrative_is_not_a_personal_view(world: World) -> None:
    pid, _ = make_person(world, "NoNarr")
    sid = create(world.as_("head"), "screening", refs={"person_id": pid}, values={"narrative": None}).id
    records.get_record(world.as_("head"), sid)
    assert viewed(world, sid) == 0


# --- lists and search -------------------------------------------------------------------------------------


def test_list_shows_names_only_to_allowed_roles_and_audits_the_listing(world: World) -> None:
    pid, ident = make_person(world, "List")
    sid = make_screening(world, pid, "NarrativeList")
    full_name = f"{ident['given_name']} {ident['family_name']}"

    def row(who: str, type_name: str, rid: str) -> Any:
        page = records.list_records(world.as_(who), type_name, RecordFilter(date_from=date(2026, 1, 1)), limit=5000)
        return next(r for r in page.rows if r.id == rid)

    listed = audit_count(world.current(), "record.personal_listed")
    assert row("analyst", "person", pid).name is None
    assert row("analyst", "screening", sid).name is None
    assert audit_count(world.current(), "record.personal_listed") == listed
    assert row("analyst_case", "person", pid).name == full_name
    assert row("head", "screening", sid).name == full_name
    assert audit_count(world.current(), "record.personal_listed") == listed + 2
    r = row("analyst", "person", pid)
    assert (r.sex, r.citizenship, r.age_years) == ("female", "pk", 31)  # not personal: shown to all


def test_search_by_name_or_identity_number_needs_personal_access(world: World) -> None:
    pid, ident = make_person(world, "Find")
    case = create(world.as_("head"), "case", values={"fir_number": "FIR-991/2026"})
    with pytest.raises(PermissionDenied):
        records.list_records(world.as_("analyst"), "person", RecordFilter(text=ident["given_name"]))
    with pytest.raises(PermissionDenied):
        records.list_records(world.as_("analyst"), "screening", RecordFilter(text=ident["cnic"]))
    # a FIR number is not personal
    assert [r.id for r in records.list_records(world.as_("analyst"), "case", RecordFilter(text="991/2026")).rows] == [case.id]
    ws = world.as_("analyst_case")
    assert [r.id for r in records.list_records(ws, "person", RecordFilter(text=ident["given_name"].lower())).rows] == [pid]


def test_a_refused_name_search_is_audited_like_every_refusal(world: World) -> None:
    """Foundation (issue 2, Must show): a refused operation raises *and* writes an audit entry."""
    _, ident = make_person(world, "Refuse")
    denied = audit_count(world.current(), "permission.denied")
    with pytest.raises(PermissionDenied):
        records.list_records(world.as_("analyst"), "person", RecordFilter(text=ident["given_name"]))
    assert audit_count(world.current(), "permission.denied") == denied + 1


# --- edits and history --------------------------------------------------------------------------------------


def test_changing_a_personal_field_needs_personal_access(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    pid, _ = make_person(world, "Edit", unit="P-TORKHAM")
    for who in ("analyst", "analyst_case"):  # HQ analysts never capture
        with pytest.raises(PermissionDenied):
            records.update_record(world.as_(who), pid, {"given_name": "Changed"})
    # a capture role without the personal-data permission (the table may change; the service must hold)
    monkeypatch.setitem(permissions.PERMISSIONS, Role.OFFICER, permissions.PERMISSIONS[Role.OFFICER] - {Perm.PERSONAL_VIEW})
    ws = world.as_("officer")
    with pytest.raises(PermissionDenied):
        records.update_record(ws, pid, {"given_name": "Changed"})
    with pytest.raises(PermissionDenied):
        records.update_record(ws, pid, {"phone": None})
    after = records.update_record(ws, pid, {"residence_district": "Khyber"})  # non-personal: fine
    assert after.version == 2 and set(after.masked) == set(PERSON_PERSONAL)
    assert all(after.values[f] is None for f in PERSON_PERSONAL)
    with pytest.raises(PermissionDenied):
        records.list_records(ws, "person", RecordFilter(text="Canary"))
    got = records.get_record(world.as_("head"), pid)
    assert got.values["given_name"] == "CanaryEdit"  # the edit kept the hidden values


def test_history_hides_personal_old_and_new_values_without_access(world: World) -> None:
    pid, ident = make_person(world, "Hist")
    records.update_record(world.as_("head"), pid, {"given_name": "RenamedHist", "marital_status": "married"})
    sid = make_screening(world, pid, "NarrativeHistOld")
    records.update_record(world.as_("head"), sid, {"narrative": "NarrativeHistNew"})
    # The editor saw what they saved: each edit returned the personal values, and was audited as a view.
    before_pid, before_sid = viewed(world, pid), viewed(world, sid)

    hidden = {h.field: (h.old, h.new) for h in records.record_history(world.as_("analyst"), pid)}
    assert hidden == {"given_name": (None, None), "marital_status": ("single", "married")}
    assert {h.field: (h.old, h.new) for h in records.record_history(world.as_("analyst"), sid)} == {"narrative": (None, None)}
    assert viewed(world, pid) == before_pid and viewed(world, sid) == before_sid

    shown = {h.field: (h.old, h.new) for h in records.record_history(world.as_("analyst_case"), pid)}
    assert shown["given_name"] == (ident["given_name"], "RenamedHist")
    assert viewed(world, pid) == before_pid + 1


# --- the audit log and the files hold no personal value ------------------------------------------------------------


def test_no_personal_value_reaches_the_audit_log_or_any_file(world: World) -> None:
    pid, ident = make_person(world, "Zq", unit="P-TORKHAM")
    narrative = "NarrativeZqCanary: recruited in Khyber, sold in Oman"
    sid = make_screening(world, pid, narrative, unit="P-TORKHAM")
    renamed = {"given_name": "RenamedZqCanary", "address": "Moved to Jamrud ZqCanary Street"}
    head = world.as_("head")
    records.update_record(head, pid, renamed)
    records.update_record(head, sid, {"narrative": narrative + " (revised)"})
    for who in ("head", "officer", "analyst_case", "analyst"):
        ws = world.as_(who)
        records.get_record(ws, pid)
        records.get_record(ws, sid)
        records.record_history(ws, pid)
        records.list_records(ws, "person", limit=5000)
        records.list_records(ws, "screening", limit=5000)
    ws = world.as_("analyst_case")
    records.list_records(ws, "person", RecordFilter(text=renamed["given_name"]))
    records.list_records(ws, "screening", RecordFilter(text=ident["cnic"]))
    records.find_duplicate_persons(ws, cnic=ident["cnic"], given_name=renamed["given_name"], family_name=ident["family_name"], date_of_birth="1995-04-12")
    records.delete_record(world.as_("officer"), sid)

    canaries = {**ident, **{f"new_{k}": v for k, v in renamed.items()}, "narrative": narrative}
    canaries["cnic_dashed"] = f"{ident['cnic'][:5]}-{ident['cnic'][5:12]}-{ident['cnic'][12]}"
    rows = audit_rows(world.as_("auditor"))
    assert any(r[3] == "record.personal_viewed" for r in rows)
    leaks = {k: [r[3] for r in rows if v in "|".join(r)] for k, v in canaries.items()}
    assert {k: v for k, v in leaks.items() if v} == {}, "personal values found in audit entries"
    for r in rows:
        json.loads(r[7])  # details are JSON of codes and counts

    world.close()  # flush and release everything before reading the bytes
    found = {}
    for f in sorted(p for p in world.path.rglob("*") if p.is_file()):
        data = f.read_bytes()
        hits = [k for k, v in canaries.items() if v.encode("utf-8") in data]
        if hits:
            found[str(f.relative_to(world.path))] = hits
    assert found == {}, f"personal values in the clear in workspace files: {found}"


# A personal value typed into a field that takes a code (a name in "sex", a CNIC in
# "citizenship", …): the message must describe the mistake without repeating the value.
WRONG_FIELD_ENTRIES = [
    ("person", "sex", "Ayesha Bibi"),
    ("person", "citizenship", "35202-1234567-1"),
    ("person", "marital_status", "married to Imran Khan"),
    ("screening", "exploitation_types", ["forced_labour", "Ayesha Bibi"]),
    ("screening", "ilo_indicators", {"Ayesha Bibi": "yes"}),
]


def test_validation_messages_never_repeat_a_personal_value_typed_in_the_wrong_field() -> None:
    """errors.UserFacingError: a message "never holds personal data" (it is shown and logged).
    Code lists already describe a non-code by its type (codelists._safe_repr); validation must too."""
    from nap_desktop.domain.codelists import default_codelists
    from nap_desktop.domain.validation import Context, validate
    from tests.services.records_factories import TODAY

    leaks = {}
    for type_name, field, typed in WRONG_FIELD_ENTRIES:
        vals = complete_values(type_name, {"person_id": "11111111-1111-4111-8111-111111111111"})
        vals[field] = typed
        with pytest.raises(ValidationError) as err:
            validate(RECORD_TYPES[type_name], vals, status="complete", codelists=default_codelists(), context=Context(today=TODAY))
        assert set(err.value.fields) == {field}
        text = " | ".join([str(err.value), *err.value.fields.values(), *err.value.fields_ur.values()])
        if any(secret in text for secret in ("Ayesha", "Imran", "1234567")):
            leaks[f"{type_name}.{field}"] = err.value.fields[field]
    assert leaks == {}, f"messages repeating what was typed: {leaks}"


# --- duplicate persons ----------------------------------------------------------------------------------------------


def dup_ids(world: World, who: str = "head", **kw: Any) -> dict[str, str]:
    return {c.person_id: c.reason for c in records.find_duplicate_persons(world.as_(who), **kw)}


def test_duplicates_by_cnic_whatever_the_formatting(world: World) -> None:
    pid, ident = make_person(world, "DupCnic")
    raw = ident["cnic"]
    for typed in (raw, f"{raw[:5]}-{raw[5:12]}-{raw[12]}", f" {raw[:5]} {raw[5:12]} {raw[12]} "):
        assert dup_ids(world, cnic=typed) == {pid: "identity_number"}
    assert dup_ids(world, cnic=raw[:-1] + str((int(raw[-1]) + 1) % 10)) == {}


def test_duplicates_by_passport(world: World) -> None:
    pid, ident = make_person(world, "DupPass", cnic=None, other_id=None)
    assert dup_ids(world, passport_no=ident["passport_no"].lower()) == {pid: "identity_number"}
    assert dup_ids(world, passport_no=f"{ident['passport_no'][:2]} {ident['passport_no'][2:]}") == {pid: "identity_number"}


def test_duplicates_by_passport_of_a_person_who_also_has_a_cnic(world: World) -> None:
    """A person is recorded with CNIC and passport; later the same person shows only the
    passport (e.g. a deportee at the airport). The check must still find them."""
    pid, ident = make_person(world, "DupBoth")
    assert dup_ids(world, passport_no=ident["passport_no"]) == {pid: "identity_number"}
    assert dup_ids(world, other_id=ident["other_id"]) == {pid: "identity_number"}


def test_search_by_passport_of_a_person_who_also_has_a_cnic(world: World) -> None:
    pid, ident = make_person(world, "FindBoth")
    rows = records.list_records(world.as_("head"), "person", RecordFilter(text=ident["passport_no"])).rows
    assert [r.id for r in rows] == [pid]


def test_duplicates_by_normalised_name_and_date_of_birth(world: World) -> None:
    pid, _ = make_person(world, "", given_name="Zarmeena", family_name="Gul  Afridi", date_of_birth="2001-02-03", age_years=25, cnic=None, passport_no=None, other_id=None)
    for given, family in (("ZARMEENA", "gul afridi"), (" zarméena ", "Gül   Afrídi"), ("Zarmeena", "Gul-Afridi")):
        assert dup_ids(world, given_name=given, family_name=family, date_of_birth="2001-02-03") == {pid: "name_and_birth_date"}
    assert dup_ids(world, given_name="Zarmeena", family_name="Gul Afridi", date_of_birth=date(2001, 2, 3)) == {pid: "name_and_birth_date"}
    assert dup_ids(world, given_name="Zarmeena", family_name="Gul Afridi", date_of_birth="2001-02-04") == {}
    assert dup_ids(world, given_name="Zarmeena", family_name="Gul Afridi") == {}  # a name alone is not enough


def test_duplicates_by_a_name_spelt_another_way_and_the_same_date_of_birth(world: World) -> None:
    """Recorded at one post as "Muhammad Yousaf Chaudhry", the same man is typed at another as
    "Mohd Yusuf Choudhry", or from an Arabic keyboard in Urdu script: the warning says a name
    that sounds the same is there. An exact spelling keeps the stronger reason; another date of
    birth or another name (Imran) finds nobody."""
    no_ids = {"cnic": None, "passport_no": None, "other_id": None}
    latin, _ = make_person(world, "", given_name="Muhammad Yousaf", family_name="Chaudhry", date_of_birth="1988-07-14", age_years=38, **no_ids)
    urdu, _ = make_person(world, "", given_name="محمد یوسف", family_name="", date_of_birth="1990-01-02", age_years=36, **no_ids)
    for given, family in (("Mohd Yusuf", "Choudhry"), ("Mohammad", "Yousuf Chaudhary"), ("Chowdhury Mohammed", "Yusuf")):
        assert dup_ids(world, given_name=given, family_name=family, date_of_birth="1988-07-14") == {latin: "similar_name_and_birth_date"}
    assert dup_ids(world, given_name="Muhammad Yousaf", family_name="Chaudhry", date_of_birth="1988-07-14") == {latin: "name_and_birth_date"}
    assert dup_ids(world, given_name="Mohd Yusuf", family_name="Choudhry", date_of_birth="1988-07-15") == {}
    assert dup_ids(world, given_name="Imran Yusuf", family_name="Choudhry", date_of_birth="1988-07-14") == {}
    # Arabic yeh (ي) where the Urdu keyboard wrote ی
    assert dup_ids(world, given_name="محمد يوسف", family_name="", date_of_birth="1990-01-02") == {urdu: "similar_name_and_birth_date"}


def test_duplicates_exclude_deleted_persons_and_the_person_being_edited(world: World) -> None:
    keep, ident = make_person(world, "DupKeep")
    gone = create(world.as_("head"), "person", values={**ident, "given_name": "Other"}).id  # same CNIC
    assert set(dup_ids(world, cnic=ident["cnic"])) == {keep, gone}
    assert set(dup_ids(world, cnic=ident["cnic"], exclude_id=keep)) == {gone}
    records.delete_record(world.as_("head"), gone)
    assert set(dup_ids(world, cnic=ident["cnic"])) == {keep}
    assert dup_ids(world, cnic=ident["cnic"], exclude_id=keep) == {}


def test_duplicate_check_needs_personal_access(world: World) -> None:
    _, ident = make_person(world, "DupPerm")
    with pytest.raises(PermissionDenied):
        records.find_duplicate_persons(world.as_("analyst"), cnic=ident["cnic"])
    assert len(records.find_duplicate_persons(world.as_("analyst_case"), cnic=ident["cnic"])) == 1


def test_duplicate_check_with_a_malformed_birth_date_is_a_typed_error(world: World) -> None:
    """errors.py: anything that is not a UserFacingError is a bug (the GUI passes what was typed)."""
    with pytest.raises(UserFacingError):
        records.find_duplicate_persons(world.as_("head"), given_name="A", family_name="B", date_of_birth="03/02/2001")
