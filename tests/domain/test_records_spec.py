# SPDX-License-Identifier: GPL-3.0-or-later
"""The record specs agree with the code lists and the tables they describe."""

from __future__ import annotations

import pytest

from nap_desktop.data.record_models import MODEL_BY_TYPE
from nap_desktop.domain.codelists import default_codelists
from nap_desktop.domain.records import RECORD_TYPES, RecordType

TYPES = list(RECORD_TYPES.values())


def test_every_type_of_the_design_is_there() -> None:
    # DESIGN §4: person … data access; coordination is three record types.
    assert set(RECORD_TYPES) == {
        "person", "screening", "suspect", "case", "referral", "service", "service_provider", "awareness_session",
        "training", "checkpoint_log", "coordination_entity", "coordination_meeting", "coordination_gap",
        "survey_response", "milestone", "analysis_note", "data_access",
    }
    assert set(MODEL_BY_TYPE) == set(RECORD_TYPES)


@pytest.mark.parametrize("rt", TYPES, ids=lambda rt: rt.name)
def test_fields_name_existing_code_lists_refs_and_columns(rt: RecordType) -> None:
    lists = default_codelists()
    columns = set(MODEL_BY_TYPE[rt.name].__table__.columns.keys())
    for f in rt.fields:
        for name in ([f.codelist] if f.codelist else []) + list(f.dims or ()):
            assert name in lists, f"{rt.name}.{f.name} names a missing code list {name}"
        if f.kind == "ref":
            assert f.ref in RECORD_TYPES
        if f.storage == "column":
            assert f.name in columns, f"{rt.name}.{f.name} has no column"
        assert f.label_en and any("\u0600" <= c <= "\u06ff" for c in f.label_ur), f"{rt.name}.{f.name} needs an Urdu label"
    assert rt.date_field == "created_on" or rt.date_field in columns
    assert set(rt.summary) <= columns


def test_personal_fields_are_the_identity_and_the_narrative() -> None:
    personal = {(rt.name, f) for rt in TYPES for f in rt.personal_fields}
    assert personal == {
        ("person", f) for f in ("given_name", "family_name", "father_or_husband_name", "cnic", "passport_no", "other_id", "phone", "address")
    } | {("screening", "narrative")}


@pytest.mark.parametrize("rt", TYPES, ids=lambda rt: rt.name)
def test_a_draft_may_leave_empty_every_column_it_does_not_require(rt: RecordType) -> None:
    """A NOT NULL column without a default must be required even for a draft, or a draft save crashes."""
    columns = MODEL_BY_TYPE[rt.name].__table__.columns
    for f in rt.fields:
        if f.storage == "column" and not f.required_for_draft:
            col = columns[f.name]
            assert col.nullable or col.default is not None, f"{rt.name}.{f.name}: a draft without it cannot be stored"


@pytest.mark.parametrize("rt", TYPES, ids=lambda rt: rt.name)
def test_columns_are_wide_enough_for_every_code_and_text(rt: RecordType) -> None:
    """PostgreSQL refuses a value longer than its column (SQLite does not): check them here."""
    lists = default_codelists()
    columns = MODEL_BY_TYPE[rt.name].__table__.columns
    for f in rt.fields:
        if f.storage != "column":
            continue
        length = getattr(columns[f.name].type, "length", None)
        if length is None:
            continue
        if f.kind == "code":
            assert length >= max(len(c) for c in lists[f.codelist].codes()), f"{rt.name}.{f.name}"
        if f.kind == "text":
            assert length >= f.max_length, f"{rt.name}.{f.name}"
