# SPDX-License-Identifier: GPL-3.0-or-later
"""Create, read, edit, delete for each of the 17 record types (issue 3, "Must show" 1).

One HQ workspace is shared by the module (accounts made once); every test makes its own records
and only compares against them, so the order of the tests does not matter.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from nap_desktop.data.record_models import MODEL_BY_TYPE
from nap_desktop.domain.records import RECORD_TYPES
from nap_desktop.errors import NotFound, PermissionDenied, ValidationError, VersionConflict
from nap_desktop.services import records
from nap_desktop.services.records import HistoryEntry, Page, RecordDTO, RecordFilter, RecordRow
from tests.services.records_factories import (
    ALL_TYPES,
    DEFAULT_ON,
    EDITS,
    World,
    complete_values,
    create,
    draft_values,
    normalised,
    world_at,
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with world_at(tmp_path_factory.mktemp("crud") / "ws") as w:
        yield w


@pytest.fixture
def head(world: World) -> Any:
    """The circle head of C-PSH: may capture every type, cases included."""
    return world.as_("head")


# --- helpers ---------------------------------------------------------------------------------------


def assert_plain_dto(obj: Any) -> None:
    """A dataclass instance, not an ORM object, holding only plain values (recursively)."""
    assert dataclasses.is_dataclass(obj) and not isinstance(obj, type), f"{type(obj).__name__} is not a dataclass instance"
    assert not hasattr(obj, "_sa_instance_state"), f"{type(obj).__name__} is a SQLAlchemy object"
    for f in dataclasses.fields(obj):
        _assert_plain(getattr(obj, f.name))


def _assert_plain(v: Any) -> None:
    assert not hasattr(v, "_sa_instance_state"), f"an ORM object leaked out of a service: {v!r}"
    if isinstance(v, dict):
        for x in v.values():
            _assert_plain(x)
    elif isinstance(v, list | tuple):
        for x in v:
            _assert_plain(x)
    elif dataclasses.is_dataclass(v) and not isinstance(v, type):
        assert_plain_dto(v)
    else:
        assert v is None or isinstance(v, str | int | float | bool | date | datetime), f"unexpected value type {type(v)}"


def assert_dates_are_iso_strings(dto: RecordDTO) -> None:
    rt = RECORD_TYPES[dto.type]
    for f in rt.fields:
        v = dto.values.get(f.name)
        if f.kind == "date" and v is not None:
            assert isinstance(v, str) and date.fromisoformat(v), f"{f.name} is {v!r}, not an ISO date string"
        if f.kind == "events" and v:
            assert all(isinstance(e["on_date"], str) for e in v)


def ids_of(page: Page) -> set[str]:
    return {r.id for r in page.rows}


# --- create and read ---------------------------------------------------------------------------------


@pytest.mark.parametrize("type_name", ALL_TYPES)
def test_create_complete_and_read_back_every_field(head: Any, type_name: str) -> None:
    dto = create(head, type_name, full=True)
    assert_plain_dto(dto)
    assert (dto.type, dto.status, dto.unit, dto.version, dto.base_version, dto.deleted) == (type_name, "complete", "C-PSH", 1, 0, False)
    assert dto.created_by == dto.updated_by == "circ.psh"
    assert set(dto.values) == set(RECORD_TYPES[type_name].field_names)

    got = records.get_record(head, dto.id)
    assert_plain_dto(got)
    assert_dates_are_iso_strings(got)
    assert got.masked == ()
    assert got.values == dto.values  # create returns what a read returns
    given = complete_values(type_name, {k: v for k, v in got.values.items() if k.endswith("_id")})
    if type_name == "case":
        given["parties"] = [{**p} for p in got.values["parties"]]  # the factory's victim, made by create()
    expected = normalised(type_name, given)
    mismatches = {k: (got.values.get(k), v) for k, v in expected.items() if got.values.get(k) != v}
    assert mismatches == {}, f"read back differs from what was written (got, expected): {mismatches}"
    # typed id refs really are there (full=True made every referenced record)
    for f in RECORD_TYPES[type_name].fields:
        if f.kind == "ref":
            assert got.values[f.name], f"{f.name} was not stored"
    # get_record with the type given finds it too; with the wrong type it does not
    assert records.get_record(head, dto.id, type_name=type_name).id == dto.id
    other = "analysis_note" if type_name != "analysis_note" else "data_access"
    with pytest.raises(NotFound):
        records.get_record(head, dto.id, type_name=other)


class _Lazy(dict):  # type: ignore[type-arg]
    """A dict that makes a missing value on first use (so no test depends on another's order)."""

    def __init__(self, make: Any) -> None:
        super().__init__()
        self._make = make

    def __missing__(self, key: str) -> Any:
        self[key] = value = self._make(key)
        return value


@pytest.fixture(scope="module")
def drafts(world: World) -> dict[str, RecordDTO]:
    """One draft per type, made on first use and then only read."""
    return _Lazy(lambda t: create(world.as_("head"), t, status="draft"))


@pytest.mark.parametrize("type_name", ALL_TYPES)
def test_create_draft_with_only_the_draft_fields(head: Any, drafts: dict[str, RecordDTO], type_name: str) -> None:
    dto = drafts[type_name]
    assert (dto.status, dto.version, dto.base_version) == ("draft", 1, 0)
    got = records.get_record(head, dto.id)
    assert_plain_dto(got)
    assert_dates_are_iso_strings(got)
    given = draft_values(type_name, {k: v for k, v in got.values.items() if k.endswith("_id") and v})
    expected = normalised(type_name, given)
    assert {k: got.values.get(k) for k in expected} == expected


@pytest.mark.parametrize("type_name", ALL_TYPES)
def test_fields_not_given_read_back_empty_not_invented(drafts: dict[str, RecordDTO], type_name: str) -> None:
    """A draft leaves fields empty: they must not come back as a code, a True or an empty string
    ("unknown", "not_asked" and "not_arrested" are answers somebody gave; absent means nothing
    was recorded — codelists docs and standards §7.7.4)."""
    dto = drafts[type_name]
    given = set(draft_values(type_name))
    rt = RECORD_TYPES[type_name]
    invented = {
        f.name: dto.values[f.name]
        for f in rt.fields
        if f.name not in given and f.kind != "ref" and dto.values[f.name] not in (None, False, 0)
    }
    assert invented == {}, f"fields never given read back with values: {invented}"


def test_completing_a_draft_asks_for_every_required_field(head: Any) -> None:
    """A referral draft holds no direction and no consent: completing it must ask for them,
    not take a stored default ("outgoing", "not_asked") for an answer."""
    person = create(head, "person")
    draft = create(head, "referral", status="draft", refs={"person_id": person.id})
    with pytest.raises(ValidationError) as err:
        records.update_record(head, draft.id, {}, status="complete")
    assert set(err.value.fields) == {"direction", "provider_id", "reasons", "consent"}
    assert set(err.value.fields.values()) == {"Required."}


def test_a_draft_can_be_completed_and_the_status_change_is_in_the_history(head: Any) -> None:
    person = create(head, "person")
    provider = create(head, "service_provider")
    draft = create(head, "referral", status="draft", refs={"person_id": person.id})
    rest = {k: v for k, v in complete_values("referral", {"provider_id": provider.id}).items() if k not in draft_values("referral")}
    rest["direction"] = "incoming"  # (not the column default, so the history shows it whatever that default)
    done = records.update_record(head, draft.id, rest, status="complete", expected_version=1)
    assert (done.status, done.version, done.base_version) == ("complete", 2, 1)
    fields = {h.field: (h.old, h.new) for h in records.record_history(head, draft.id)}
    assert fields["status"] == ("draft", "complete")
    assert set(fields) == set(rest) | {"status"}


# --- edit ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["complete", "draft"])
@pytest.mark.parametrize("type_name", ALL_TYPES)
def test_edit_bumps_the_version_and_records_from_to_per_changed_field(head: Any, type_name: str, status: str) -> None:
    dto = create(head, type_name, status=status)
    before = dto.values  # create returns what a read returns (checked above)
    changes = EDITS[type_name]
    after = records.update_record(head, dto.id, changes, expected_version=1)
    assert_plain_dto(after)
    assert (after.version, after.base_version, after.status) == (2, 1, status)
    assert after.updated_by == "circ.psh"
    want = normalised(type_name, changes)
    assert {k: after.values[k] for k in changes} == want
    assert records.get_record(head, dto.id).values == after.values
    # unchanged fields are unchanged
    assert {k: v for k, v in after.values.items() if k not in changes} == {k: v for k, v in before.items() if k not in changes}

    history = records.record_history(head, dto.id)
    for h in history:
        assert isinstance(h, HistoryEntry)
        assert_plain_dto(h)
    got = {h.field: (h.old, h.new) for h in history}
    assert set(got) == set(changes), f"history should list exactly the changed fields, got {sorted(got)}"
    for name, (old, new) in got.items():
        assert old == before[name] and new == want[name]
    assert {(h.version, h.changed_by) for h in history} == {(2, "circ.psh")}


def test_second_edit_is_version_3_and_history_is_newest_first(head: Any) -> None:
    dto = create(head, "analysis_note")
    records.update_record(head, dto.id, {"title": "First edit"}, expected_version=1)
    v3 = records.update_record(head, dto.id, {"title": "Second edit"}, expected_version=2)
    assert (v3.version, v3.base_version) == (3, 2)
    history = records.record_history(head, dto.id)
    assert [(h.version, h.old, h.new) for h in history] == [
        (3, "First edit", "Second edit"),
        (2, "Routes through Torkham", "First edit"),
    ]


def test_an_edit_that_changes_nothing_keeps_the_version(head: Any) -> None:
    dto = create(head, "checkpoint_log")
    same = records.update_record(head, dto.id, {"offloaded": 12}, expected_version=1)
    assert (same.version, same.base_version) == (1, 0)
    assert records.record_history(head, dto.id) == []


def test_an_edit_with_none_clears_a_field(head: Any) -> None:
    dto = create(head, "training")
    after = records.update_record(head, dto.id, {"partner": None})
    assert after.values["partner"] is None
    assert [(h.field, h.old, h.new) for h in records.record_history(head, dto.id)] == [("partner", "IOM", None)]


def test_a_stale_version_is_refused_on_edit_and_delete(head: Any) -> None:
    dto = create(head, "coordination_meeting")
    records.update_record(head, dto.id, {"attendees": 20}, expected_version=1)
    with pytest.raises(VersionConflict):
        records.update_record(head, dto.id, {"attendees": 30}, expected_version=1)
    with pytest.raises(VersionConflict):
        records.delete_record(head, dto.id, expected_version=1)
    assert records.get_record(head, dto.id).values["attendees"] == 20


def test_sync_bookkeeping_columns_follow_each_change(head: Any) -> None:
    dto = create(head, "awareness_session")
    model = MODEL_BY_TYPE["awareness_session"]

    def row() -> tuple[int, int, int, str, str, bool]:
        with head.sf() as s:
            r = s.scalars(select(model).where(model.id == dto.id)).one()
            return r.version, r.base_version, r.seq, r.content_hash, r.origin_unit, r.deleted

    v1 = row()
    assert v1[0:2] == (1, 0) and v1[2] > 0 and len(v1[3]) == 64 and v1[4] == "HQ"
    records.update_record(head, dto.id, {"district": "Bajaur"})
    v2 = row()
    assert v2[0:2] == (2, 1) and v2[2] > v1[2] and v2[3] != v1[3]
    records.delete_record(head, dto.id)
    v3 = row()
    assert v3[0:2] == (3, 2) and v3[2] > v2[2] and v3[5] is True


# --- delete ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("type_name", ALL_TYPES)
def test_delete_leaves_a_tombstone_gone_from_lists_and_counts(head: Any, type_name: str) -> None:
    dto = create(head, type_name)
    counts_before = records.counts_by_type(head)

    gone = records.delete_record(head, dto.id, expected_version=1)
    assert_plain_dto(gone)
    assert (gone.deleted, gone.version, gone.base_version) == (True, 2, 1)

    assert dto.id not in ids_of(records.list_records(head, type_name, RecordFilter(date_from=DEFAULT_ON), limit=5000))
    counts_after = records.counts_by_type(head)
    assert counts_after[type_name] == counts_before[type_name] - 1
    assert {k: v for k, v in counts_after.items() if k != type_name} == {k: v for k, v in counts_before.items() if k != type_name}

    still = records.get_record(head, dto.id)
    assert still.deleted and still.version == 2
    assert still.values == dto.values
    assert [(h.field, h.old, h.new) for h in records.record_history(head, dto.id)][0] == ("deleted", False, True)
    with pytest.raises(NotFound):
        records.update_record(head, dto.id, EDITS[type_name])


def test_deleting_twice_changes_nothing_and_tombstones_list_on_request(head: Any) -> None:
    dto = create(head, "coordination_gap")
    records.delete_record(head, dto.id)
    assert records.delete_record(head, dto.id).version == 2
    assert dto.id in ids_of(records.list_records(head, "coordination_gap", RecordFilter(include_deleted=True), limit=5000))


def test_a_deleted_record_can_no_longer_be_referred_to(head: Any) -> None:
    person = create(head, "person")
    records.delete_record(head, person.id)
    with pytest.raises(ValidationError) as err:
        create(head, "screening", refs={"person_id": person.id})
    assert set(err.value.fields) == {"person_id"}
    assert err.value.fields["person_id"] == "Must be the id of a person record."
    assert err.value.fields_ur["person_id"] == "person ریکارڈ کی شناخت ہونی چاہیے۔"


def test_deleting_a_person_does_not_strand_the_records_that_refer_to_them(head: Any) -> None:
    """Either the delete is refused while screenings refer to the person, or those screenings
    stay editable afterwards; today an edit of any field fails on the person reference."""
    person = create(head, "person")
    screening = create(head, "screening", refs={"person_id": person.id})
    try:
        records.delete_record(head, person.id)
    except ValidationError:
        return  # refused while referenced: fine
    after = records.update_record(head, screening.id, {"recruitment_fee_pkr": 1})
    assert after.version == 2


# --- DTOs and permissions -------------------------------------------------------------------------------


def test_every_service_returns_plain_dtos(head: Any) -> None:
    person = create(head, "person", values={"given_name": "Dto", "family_name": "Check", "cnic": "1730112345671"})
    screening = create(head, "screening", refs={"person_id": person.id})
    records.update_record(head, screening.id, {"recruitment_fee_pkr": 1})
    page = records.list_records(head, "screening", limit=3)
    assert isinstance(page, Page)
    assert_plain_dto(page)
    assert page.rows and all(isinstance(r, RecordRow) for r in page.rows)
    for h in records.record_history(head, screening.id):
        assert_plain_dto(h)
    dups = records.find_duplicate_persons(head, cnic="17301-1234567-1")
    assert dups and all(not hasattr(d, "_sa_instance_state") and dataclasses.is_dataclass(d) for d in dups)
    counts = records.counts_by_type(head)
    assert set(counts) == set(ALL_TYPES) and all(isinstance(n, int) for n in counts.values())


def test_unknown_record_type_is_a_validation_error(head: Any) -> None:
    with pytest.raises(ValidationError, match="Unknown record type"):
        records.create_record(head, "victim", {})
    with pytest.raises(ValidationError):
        records.list_records(head, "victim")


def test_roles_without_capture_cannot_create_edit_or_delete(world: World) -> None:
    dto = create(world.as_("head"), "analysis_note")
    for who in ("admin", "auditor", "analyst", "analyst_case"):
        ws = world.as_(who)
        with pytest.raises(PermissionDenied):
            records.create_record(ws, "analysis_note", complete_values("analysis_note"), unit="C-PSH")
        with pytest.raises(PermissionDenied):
            records.update_record(ws, dto.id, {"title": "x"})
        with pytest.raises(PermissionDenied):
            records.delete_record(ws, dto.id)
    assert records.get_record(world.as_("head"), dto.id).version == 1


def test_accounts_signed_in_for_real_capture_and_read_as_their_role(world: World) -> None:
    """The other tests share one unlocked store between accounts (see World); here each account
    signs in through open_workspace, one at a time, as in the application."""
    ws = world.login("officer")
    try:
        mine = create(ws, "checkpoint_log")
        assert (mine.unit, mine.created_by) == ("P-TORKHAM", "off.torkham")
    finally:
        ws.lock()
    ws = world.login("analyst")
    try:
        got = records.get_record(ws, mine.id)
        assert got.values["passengers_screened"] == 1200
        with pytest.raises(PermissionDenied):
            records.update_record(ws, mine.id, {"offloaded": 1})
    finally:
        ws.lock()
    ws = world.login("admin")
    try:
        with pytest.raises(PermissionDenied):
            records.get_record(ws, mine.id)  # administrators manage accounts, not records
    finally:
        ws.lock()


def test_an_officer_captures_in_the_post_but_not_cases_nor_other_units(world: World) -> None:
    ws = world.as_("officer")
    mine = create(ws, "screening")
    assert mine.unit == "P-TORKHAM"
    with pytest.raises(PermissionDenied):
        records.create_record(ws, "case", complete_values("case"))
    with pytest.raises(PermissionDenied):
        create(ws, "analysis_note", unit="C-PSH")
    theirs = create(world.as_("head"), "analysis_note")
    ws = world.as_("officer")
    with pytest.raises(NotFound):
        records.get_record(ws, theirs.id)
    assert theirs.id not in ids_of(records.list_records(ws, "analysis_note", limit=5000))
    with pytest.raises(NotFound):
        records.update_record(ws, theirs.id, {"title": "x"})
