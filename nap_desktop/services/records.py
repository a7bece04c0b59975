# SPDX-License-Identifier: GPL-3.0-or-later
"""Record use cases: create, read, edit, delete (tombstone), list and search, duplicates.

One set of functions serves every record type of :mod:`nap_desktop.domain.records`. Each
function owns its transaction, checks the permission for the record's unit, validates through
:mod:`nap_desktop.domain.validation`, keeps the sync bookkeeping (version, base version, seq,
content hash), writes a from→to history per field (inside the encrypted store), audits what
happened without personal values, and returns DTOs.

Personal data (a person's identity, a screening's narrative) is returned only to users who may
see personal data of the record's unit; every such view is audited. Records of a unit-month
whose return was approved are locked through :data:`LOCK_HOOKS` (the returns module adds its
hook there).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from operator import attrgetter, itemgetter
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Select, and_, delete, exists, false, func, insert, or_, select
from sqlalchemy.orm import Session, aliased

from nap_desktop.data.db import shrink_memory
from nap_desktop.data.meta import lock_meta
from nap_desktop.data.models import utcnow
from nap_desktop.data.sync_models import PurgedRecord
from nap_desktop.data.record_models import (
    MODEL_BY_TYPE,
    CaseEvent,
    CaseParty,
    Person,
    PersonIdentity,
    PersonNameToken,
    RecordCode,
    RecordCount,
    RecordHistory,
    Screening,
    SyncMixin,
)
from nap_desktop.domain.codelists import CodeLists, default_codelists
from nap_desktop.domain.names import sound_words
from nap_desktop.domain.records import RECORD_TYPES, RecordType
from nap_desktop.domain.validation import Context, age_on, parse_date, validate
from nap_desktop.errors import NotFound, PermissionDenied, RecordLocked, ValidationError, VersionConflict
from nap_desktop.security.permissions import Perm
from nap_desktop.services.context import Workspace

logger = logging.getLogger(__name__)

# Hooks that may refuse a change to a record of ``unit`` dated ``on``: return a message to refuse.
LockHook = Callable[[Session, str, date], str | None]
LOCK_HOOKS: list[LockHook] = []

today: Callable[[], date] = lambda: datetime.now(UTC).date()  # noqa: E731 - replaced in tests

CHANGE_SEQ_KEY = "change_seq"
# The field used by the "outcome" filter of each type.
OUTCOME_FIELD = {
    "screening": "identification_status",
    "referral": "outcome",
    "suspect": "arrest_status",
    "case": "stage",
    "service": "service_type",
    "milestone": "progress",
}


@dataclass(frozen=True)
class RecordDTO:
    """A record as the services return it. Dates are ISO strings; personal fields may be masked."""

    type: str
    id: str
    unit: str
    status: str
    version: int
    base_version: int
    deleted: bool
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str
    values: dict[str, Any]
    masked: tuple[str, ...] = ()


@dataclass(frozen=True)
class RecordRow:
    """One line of a list: what a table view shows."""

    id: str
    type: str
    unit: str
    status: str
    date: date | None
    summary: dict[str, Any]
    sex: str | None = None
    age_years: int | None = None
    citizenship: str | None = None
    name: str | None = None  # None when masked or not a person-linked type
    deleted: bool = False


@dataclass(frozen=True)
class RecordFilter:
    """Filters of :func:`list_records`. Every field is optional."""

    date_from: date | None = None
    date_to: date | None = None
    unit: str | None = None  # this unit and those below it
    status: str | None = None
    sex: str | None = None
    age_group: str | None = None  # child / adult / unknown
    citizenship: str | None = None
    outcome: str | None = None
    exploitation_type: str | None = None
    text: str | None = None  # name or identity number (personal: needs the permission), or FIR number
    include_deleted: bool = False


@dataclass(frozen=True)
class Page:
    rows: list[RecordRow]
    total: int | None
    offset: int
    limit: int


@dataclass(frozen=True)
class HistoryEntry:
    version: int
    field: str
    old: Any
    new: Any
    changed_at: datetime
    changed_by: str


@dataclass(frozen=True)
class DuplicateCandidate:
    person_id: str
    reason: str  # "identity_number", "name_and_birth_date" or "similar_name_and_birth_date"
    unit: str


@dataclass
class _Changes:
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)


# --- helpers ---------------------------------------------------------------------------------


def record_type(name: str) -> RecordType:
    """The record type called ``name``, or a :class:`ValidationError` listing the known ones."""
    rt = RECORD_TYPES.get(name)
    if rt is None:
        raise ValidationError(f"Unknown record type {name!r}. Known: {', '.join(RECORD_TYPES)}.", {"type": "unknown"})
    return rt


def _capture_perm(rt: RecordType) -> Perm:
    return Perm.CASE_MANAGE if rt.name == "case" else Perm.RECORD_CAPTURE


def normalise_name(*parts: str) -> str:
    """Lower-case, accents and punctuation removed, single spaces: for duplicate and name search."""
    text = " ".join(p for p in parts if p)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"[^\w\s]", " ", text.lower())
    return " ".join(text.split())


# The name search looks up at most this many words of what was typed, each cut to the token length.
NAME_TOKEN_LENGTH = 40
NAME_QUERY_WORDS = 8
# Above every character: ``prefix + TOP`` bounds the strings that start with ``prefix`` (binary order).
TOP = "\U0010ffff"


# A sound key in ``person_name_tokens`` starts with this (a normalised word never does: it is
# letters, digits and "_"), so a prefix of a typed word never reaches the keys.
SOUND_MARK = "~"


def name_tokens(name_key: str) -> list[str]:
    """The distinct words of a normalised name (:func:`normalise_name`), as the name search indexes them."""
    return list(dict.fromkeys(t[:NAME_TOKEN_LENGTH] for t in name_key.split()))


def sound_tokens(name_key: str) -> list[str]:
    """The distinct sound keys of a normalised name's words (:func:`domain.names.sound_words`),
    marked, as ``person_name_tokens`` holds them beside the words."""
    return list(dict.fromkeys((SOUND_MARK + k)[:NAME_TOKEN_LENGTH] for k in sound_words(name_key)))


def name_token_rows(identities: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Rows of ``person_name_tokens`` for identity rows (``person_id`` and ``name_key``): the
    name's words and their sound keys."""
    rows = []
    for i in identities:
        key = i["name_key"] or ""
        rows += [{"token": t, "person_id": i["person_id"]} for t in (*name_tokens(key), *sound_tokens(key))]
    return rows


def refresh_name_tokens(s: Session | Connection, person_ids: Iterable[str]) -> None:
    """Rewrites the name-search tokens of these persons from their identities as stored now (none
    for a person without an identity or whose name was blanked). Writers of identities call it
    (or write :func:`name_token_rows` with them) in the same transaction."""
    ids = sorted(set(person_ids))
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        s.execute(delete(PersonNameToken).where(PersonNameToken.person_id.in_(chunk)))
        found = s.execute(select(PersonIdentity.person_id, PersonIdentity.name_key).where(PersonIdentity.person_id.in_(chunk)))
        rows = name_token_rows(r._mapping for r in found)
        if rows:
            s.execute(insert(PersonNameToken), rows)


# A list looks for a name that this many persons or more have by walking its date index (a page
# is found within the first few thousand records); a rarer one through its persons' records.
NAME_WALK_FROM = 3000


def _name_condition(s: Session, person_col: Any, key_name: str, *, walk: bool) -> Any:
    """Persons with, for each word of ``key_name`` (in any order), a name word that starts with
    it or sounds the same as the whole word (:func:`sound_tokens`: "Mohammad" finds "Muhammad"),
    through the word index: one index range and one key per word.

    ``walk``: the list walks its date index (SQLite, newest first). Session ``s`` then counts the
    persons of each word and lists those of all the words (each at most :data:`NAME_WALK_FROM`):
    if the name is common, each walked record's person is checked in the index (``person_id,
    token``), and the page is full after a few thousand records at most; otherwise the persons
    listed (of the rarest word, with the other words too) are the condition, a list of ids.
    """
    words = name_tokens(key_name)[:NAME_QUERY_WORDS]
    if not words:
        return false()
    T = PersonNameToken

    def word(token: Any, w: str) -> Any:
        sounds = sound_tokens(w)
        starts = and_(token >= w, token < w + TOP)
        return or_(starts, token == sounds[0]) if sounds else starts

    def has(col: Any, w: str) -> Any:
        t = aliased(PersonNameToken)
        return exists().where(t.person_id == col, word(t.token, w))

    def persons(of: list[str]) -> Any:
        return select(T.person_id).where(word(T.token, of[0]), *(has(T.person_id, w) for w in of[1:]))

    def how_many(q: Any) -> int:
        return s.scalar(select(func.count()).select_from(q.limit(NAME_WALK_FROM).subquery())) or 0

    if walk:
        common = {w: how_many(persons([w])) for w in words}
        words.sort(key=common.__getitem__)
        if common[words[0]] >= NAME_WALK_FROM and len(words) == 1:
            return has(person_col, words[0])
        # NOTE: the persons found are listed once, here, and the list's page and count read them
        # as a list of ids: as a subquery, each of the two ran the word lookups again.
        found = set(s.scalars(persons(words).limit(NAME_WALK_FROM)))
        if len(found) >= NAME_WALK_FROM:
            return and_(*(has(person_col, w) for w in words))
        return person_col.in_(sorted(found))
    return person_col.in_(persons(words))


def normalise_id(value: str) -> str:
    """Identity numbers compared without dashes, spaces or case."""
    return re.sub(r"[^0-9A-Za-z]", "", value or "").upper()


def _next_seq(s: Session) -> int:
    meta = lock_meta(s, CHANGE_SEQ_KEY, "0")  # writers on one PostgreSQL store take turns: no sequence number twice
    value = int(meta.value) + 1
    meta.value = str(value)
    return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def _content_hash(rt: RecordType, values: Mapping[str, Any], status: str) -> str:
    public = {k: _jsonable(v) for k, v in values.items() if k not in rt.personal_fields}
    public["__status"] = status
    return hashlib.sha256(json.dumps(public, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


def _record_date(rt: RecordType, row: SyncMixin, values: Mapping[str, Any]) -> date:
    if rt.date_field == "created_on":
        return row.created_at.date() if row.created_at else today()
    d = values.get(rt.date_field)
    return d if isinstance(d, date) else today()


def _check_locks(s: Session, unit: str, on: date) -> None:
    for hook in LOCK_HOOKS:
        message = hook(s, unit, on)
        if message:
            raise RecordLocked(message)


def _context(ws: Workspace, s: Session, keep: frozenset[str] = frozenset()) -> Context:
    """Facts for validation. Ids in ``keep`` (references an edit leaves unchanged) always pass."""
    def person_age_on(pid: str, on: date) -> int | None:
        p = s.get(Person, pid)
        if p is None:
            return None
        if p.date_of_birth is not None:
            return age_on(p.date_of_birth, on)
        if p.age_years is not None:
            base = p.created_at.date() if p.created_at else on
            return p.age_years + max(0, age_on(base, on)) if on >= base else p.age_years - age_on(on, base)
        return None

    def ref_exists(type_name: str, rid: str) -> bool:
        if rid in keep:
            return True
        model = MODEL_BY_TYPE[type_name]
        row = s.get(model, rid)
        return row is not None and not row.deleted and ws.in_scope(row.unit)

    return Context(today=today(), person_age_on=person_age_on, ref_exists=ref_exists)


# --- load and store values --------------------------------------------------------------------


def _load_values(s: Session, rt: RecordType, row: SyncMixin) -> dict[str, Any]:
    values: dict[str, Any] = {}
    identity = s.get(PersonIdentity, row.id) if rt.name == "person" else None
    codes: dict[str, list[RecordCode]] = {}
    counts: dict[str, list[RecordCount]] = {}
    if any(f.storage == "codes" for f in rt.fields):
        for c in s.scalars(select(RecordCode).where(RecordCode.record_id == row.id)):
            codes.setdefault(c.field, []).append(c)
    if any(f.storage == "counts" for f in rt.fields):
        for c in s.scalars(select(RecordCount).where(RecordCount.record_id == row.id)):
            counts.setdefault(c.field, []).append(c)
    for f in rt.fields:
        if f.storage == "column":
            v = getattr(row, f.name)
            values[f.name] = None if v == "" else v
        elif f.storage == "identity":
            values[f.name] = (getattr(identity, f.name) or None) if identity else None
        elif f.storage == "codes":
            items = codes.get(f.name, [])
            if f.kind == "answers":
                values[f.name] = {c.code: c.answer for c in sorted(items, key=lambda c: c.code)} or None
            else:
                values[f.name] = sorted(c.code for c in items) or None
        elif f.storage == "counts":
            matrix: dict[str, dict[str, int]] = {}
            for c in counts.get(f.name, []):
                matrix.setdefault(c.dim1, {})[c.dim2] = c.n
            values[f.name] = matrix or None
        elif f.storage == "route":
            values[f.name] = json.loads(getattr(row, "route_json") or "[]") or None
        elif f.storage == "events":
            evs = s.scalars(select(CaseEvent).where(CaseEvent.case_id == row.id).order_by(CaseEvent.on_date, CaseEvent.event))
            values[f.name] = [
                {
                    "event": e.event,
                    "on_date": e.on_date,
                    "verdict": e.verdict,
                    "sentence_months": e.sentence_months,
                    "fine_pkr": e.fine_pkr,
                    "person_id": e.person_id,
                }
                for e in evs
            ] or None
        elif f.storage == "parties":
            ps = s.scalars(select(CaseParty).where(CaseParty.case_id == row.id).order_by(CaseParty.party_role, CaseParty.person_id))
            values[f.name] = [
                {
                    "person_id": p.person_id,
                    "party_role": p.party_role,
                    "compensation_ordered_pkr": p.compensation_ordered_pkr,
                    "compensation_paid_pkr": p.compensation_paid_pkr,
                    "assets_confiscated": p.assets_confiscated,
                    "assets_disposed": p.assets_disposed,
                }
                for p in ps
            ] or None
    return values


def _store_values(
    s: Session, rt: RecordType, row: SyncMixin, values: Mapping[str, Any], only: Iterable[str], *, fresh: bool = False
) -> None:
    """Writes the fields named in ``only``: plain columns first, then the rows of other tables.

    The record row must already be in the session (flushed) when related rows are written.
    ``fresh`` (a new record) skips removing old related rows: there are none.
    """
    only = set(only)
    _store_columns(rt, row, values, only)
    specs = [f for f in rt.fields if f.name in only and f.storage != "column"]
    if not fresh:
        code_fields = [f.name for f in specs if f.storage == "codes"]
        count_fields = [f.name for f in specs if f.storage == "counts"]
        if code_fields:
            s.execute(delete(RecordCode).where(RecordCode.record_id == row.id, RecordCode.field.in_(code_fields)))
        if count_fields:
            s.execute(delete(RecordCount).where(RecordCount.record_id == row.id, RecordCount.field.in_(count_fields)))
        if any(f.storage == "events" for f in specs):
            s.execute(delete(CaseEvent).where(CaseEvent.case_id == row.id))
        if any(f.storage == "parties" for f in specs):
            s.execute(delete(CaseParty).where(CaseParty.case_id == row.id))
    identity: PersonIdentity | None = None
    related: list[Any] = []
    for f in specs:
        v = values.get(f.name)
        if f.storage == "identity":
            if identity is None:
                identity = (None if fresh else s.get(PersonIdentity, row.id)) or PersonIdentity(person_id=row.id)
                s.add(identity)
            setattr(identity, f.name, v or "")
        elif f.storage == "codes" and v:
            if f.kind == "answers":
                related += [RecordCode(record_id=row.id, field=f.name, code=k, answer=a) for k, a in v.items()]
            else:
                related += [RecordCode(record_id=row.id, field=f.name, code=c) for c in v]
        elif f.storage == "counts":
            for d1, cells in (v or {}).items():
                related += [RecordCount(record_id=row.id, field=f.name, dim1=d1, dim2=d2, n=n) for d2, n in cells.items()]
        elif f.storage == "route":
            row.route_json = json.dumps(v or [], ensure_ascii=False)  # type: ignore[attr-defined]
        elif f.storage == "events":
            related += [CaseEvent(case_id=row.id, **e) for e in (v or [])]
        elif f.storage == "parties":
            related += [CaseParty(case_id=row.id, **p) for p in (v or [])]
    s.add_all(related)
    if identity is not None:
        identity.name_key = normalise_name(identity.given_name, identity.family_name)
        identity.id_key = normalise_id(identity.cnic)
        identity.passport_key = normalise_id(identity.passport_no)
        identity.other_id_key = normalise_id(identity.other_id)
        s.execute(delete(PersonNameToken).where(PersonNameToken.person_id == row.id))
        s.add_all(PersonNameToken(**r) for r in name_token_rows([{"person_id": row.id, "name_key": identity.name_key}]))
    if rt.name == "case":
        _derive_case_stage(row, values)


def _store_columns(rt: RecordType, row: SyncMixin, values: Mapping[str, Any], only: Iterable[str]) -> None:
    for f in rt.fields:
        if f.name in only and f.storage == "column":
            v = values.get(f.name)
            setattr(row, f.name, v if v is not None else _empty_value(row, f.name))
    if rt.name == "screening" and "is_child" in values:
        row.is_child = bool(values["is_child"])  # type: ignore[attr-defined]


def _empty_value(row: SyncMixin, name: str) -> Any:
    """What an emptied field stores: NULL where the column allows it, else its default (0, '', False)."""
    col = row.__table__.columns[name]  # type: ignore[attr-defined]
    if col.nullable:
        return None
    default = col.default.arg if col.default is not None and not callable(col.default.arg) else None
    return default


_STAGE_OF_EVENT = {
    "case_registered": "registered",
    "enquiry_registered": "enquiry",
    "investigation_started": "investigation",
    "arrest": "investigation",
    "challan_submitted": "challaned",
    "trial_started": "trial",
    "verdict": "decided",
    "sentence": "decided",
    "appeal_filed": "appeal",
    "appeal_decided": "decided",
    "case_closed": "closed",
}


def _derive_case_stage(row: Any, values: Mapping[str, Any]) -> None:
    stage = "registered"
    for ev in values.get("events") or []:
        stage = _STAGE_OF_EVENT.get(ev["event"], stage)
    row.stage = stage


# --- masking and DTOs -------------------------------------------------------------------------


def _may_see_personal(ws: Workspace, unit: str) -> bool:
    return ws.can(Perm.PERSONAL_VIEW, unit=unit)


def _dto(ws: Workspace, s: Session, rt: RecordType, row: SyncMixin, *, audit_view: bool) -> RecordDTO:
    values = _load_values(s, rt, row)
    masked: tuple[str, ...] = ()
    personal_present = [f for f in rt.personal_fields if values.get(f) not in (None, "")]
    if personal_present:
        if _may_see_personal(ws, row.unit):
            if audit_view:
                ws.audit(s, "record.personal_viewed", object_type=rt.name, object_id=row.id, unit=row.unit, detail={"fields": len(personal_present)})
        else:
            masked = tuple(personal_present)
            for f in masked:
                values[f] = None
    return RecordDTO(
        type=rt.name,
        id=row.id,
        unit=row.unit,
        status=row.status,
        version=row.version,
        base_version=row.base_version,
        deleted=row.deleted,
        created_at=row.created_at,
        created_by=row.created_by,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
        values=_jsonable(values),
        masked=masked,
    )


# --- use cases --------------------------------------------------------------------------------


def create_record(
    ws: Workspace,
    type_name: str,
    values: Mapping[str, Any],
    *,
    status: str = "complete",
    unit: str | None = None,
    record_id: str | None = None,
    codelists: CodeLists | None = None,
) -> RecordDTO:
    """Creates a record. ``unit`` defaults to the user's unit; ``status`` "draft" relaxes required fields."""
    rt = record_type(type_name)
    unit = unit or ws.user.unit_code
    ws.require(_capture_perm(rt), unit=unit, object_type=rt.name)
    cl = codelists or default_codelists()
    model = MODEL_BY_TYPE[rt.name]
    with ws.sf.begin() as s:
        clean = validate(rt, values, status=status, codelists=cl, context=_context(ws, s))
        row = model(id=record_id) if record_id else model()
        if record_id is None:
            from nap_desktop.data.models import new_id

            row.id = new_id()
        row.unit = unit
        row.origin_unit = ws.wf.unit
        row.status = status
        row.created_at = row.updated_at = utcnow()
        row.created_by = row.updated_by = ws.user.username
        row.version, row.base_version = 1, 0
        if rt.name == "screening":
            row.screener = ws.user.username  # type: ignore[attr-defined]
        _check_locks(s, unit, _record_date(rt, row, clean))
        _store_columns(rt, row, clean, rt.field_names)
        s.add(row)
        s.flush()
        _store_values(s, rt, row, clean, rt.field_names, fresh=True)
        row.seq = _next_seq(s)
        row.content_hash = _content_hash(rt, clean, status)
        ws.audit(s, "record.created", object_type=rt.name, object_id=row.id, unit=unit, detail={"status": status})
        s.flush()
        return _dto(ws, s, rt, row, audit_view=False)


def _get_row(ws: Workspace, s: Session, record_id: str, type_name: str | None = None) -> tuple[RecordType, SyncMixin]:
    types = [record_type(type_name)] if type_name else list(RECORD_TYPES.values())
    for rt in types:
        row = s.get(MODEL_BY_TYPE[rt.name], record_id)
        if row is not None:
            if not ws.in_scope(row.unit):
                break
            return rt, row
    raise NotFound("No such record in your units.")


def get_record(ws: Workspace, record_id: str, *, type_name: str | None = None) -> RecordDTO:
    """Reads one record (tombstones too). Personal fields are masked without the permission; views are audited."""
    ws.require(Perm.RECORD_READ)
    with ws.sf.begin() as s:
        rt, row = _get_row(ws, s, record_id, type_name)
        ws.require(Perm.RECORD_READ, unit=row.unit, object_type=rt.name, object_id=row.id)
        return _dto(ws, s, rt, row, audit_view=True)


def update_record(
    ws: Workspace,
    record_id: str,
    changes: Mapping[str, Any],
    *,
    expected_version: int | None = None,
    status: str | None = None,
    codelists: CodeLists | None = None,
) -> RecordDTO:
    """Edits a record: only the fields in ``changes`` (``None`` clears one). Bumps the version.

    Raises:
        VersionConflict: ``expected_version`` is given and the record has moved on.
        RecordLocked: the record (its old or new date) falls in an approved month.
    """
    cl = codelists or default_codelists()
    with ws.sf.begin() as s:
        rt, row = _get_row(ws, s, record_id)
        ws.require(_capture_perm(rt), unit=row.unit, object_type=rt.name, object_id=row.id)
        if row.deleted:
            raise NotFound("This record was deleted; it cannot be edited.")
        if expected_version is not None and row.version != expected_version:
            raise VersionConflict(
                f"This record was changed by {row.updated_by} (now version {row.version}). Reload it and make your change again."
            )
        if any(f in changes for f in rt.personal_fields) and not _may_see_personal(ws, row.unit):
            raise PermissionDenied("Your role cannot change personal data of this unit.")
        old = _load_values(s, rt, row)
        merged = {k: v for k, v in old.items() if v is not None}
        merged.update(changes)
        merged = {k: v for k, v in merged.items() if v is not None}
        new_status = status or row.status
        kept_refs = frozenset(_ref_ids(rt, old)) - frozenset(_ref_ids(rt, {k: v for k, v in changes.items() if v is not None}))
        clean = validate(rt, _jsonable(merged), status=new_status, codelists=cl, context=_context(ws, s, kept_refs))
        _check_locks(s, row.unit, _record_date(rt, row, old))
        _check_locks(s, row.unit, _record_date(rt, row, clean))
        diff = {f: (old.get(f), clean.get(f)) for f in rt.field_names if _jsonable(old.get(f)) != _jsonable(clean.get(f))}
        if not diff and new_status == row.status:
            return _dto(ws, s, rt, row, audit_view=False)
        _store_values(s, rt, row, clean, diff.keys())
        if set(diff) & set(rt.personal_fields):
            # New personal data after a retention purge travels to HQ again.
            s.execute(delete(PurgedRecord).where(PurgedRecord.record_id == row.id))
        if rt.name == "screening":
            row.is_child = bool(clean.get("is_child"))  # type: ignore[attr-defined]
        new_version = row.version + 1
        for fname, (a, b) in diff.items():
            s.add(
                RecordHistory(
                    record_type=rt.name,
                    record_id=row.id,
                    version=new_version,
                    field=fname,
                    old=json.dumps(_jsonable(a), ensure_ascii=False),
                    new=json.dumps(_jsonable(b), ensure_ascii=False),
                    changed_by=ws.user.username,
                )
            )
        if new_status != row.status:
            s.add(RecordHistory(record_type=rt.name, record_id=row.id, version=new_version, field="status", old=json.dumps(row.status), new=json.dumps(new_status), changed_by=ws.user.username))
        row.base_version, row.base_hash = row.version, row.content_hash
        row.version = new_version
        row.status = new_status
        row.updated_at = utcnow()
        row.updated_by = ws.user.username
        row.seq = _next_seq(s)
        row.content_hash = _content_hash(rt, clean, new_status)
        if rt.name == "person" and {"date_of_birth", "age_years"} & diff.keys():
            _refresh_child_flags(ws, s, row.id)
        ws.audit(
            s,
            "record.updated",
            object_type=rt.name,
            object_id=row.id,
            unit=row.unit,
            detail={"version": new_version, "fields": len(diff), "status": new_status},
        )
        s.flush()
        return _dto(ws, s, rt, row, audit_view=True)


def delete_record(ws: Workspace, record_id: str, *, expected_version: int | None = None) -> RecordDTO:
    """Deletes a record as a tombstone: it stays (for sync and history) but leaves every list and count."""
    with ws.sf.begin() as s:
        rt, row = _get_row(ws, s, record_id)
        ws.require(_capture_perm(rt), unit=row.unit, object_type=rt.name, object_id=row.id)
        if row.deleted:
            return _dto(ws, s, rt, row, audit_view=False)
        if expected_version is not None and row.version != expected_version:
            raise VersionConflict(f"This record was changed by {row.updated_by}. Reload it before deleting.")
        _check_locks(s, row.unit, _record_date(rt, row, _load_values(s, rt, row)))
        if rt.name == "person":
            _refuse_if_referenced(s, row.id)
        new_version = row.version + 1
        s.add(RecordHistory(record_type=rt.name, record_id=row.id, version=new_version, field="deleted", old="false", new="true", changed_by=ws.user.username))
        row.deleted = True
        row.base_version, row.base_hash, row.version = row.version, row.content_hash, new_version
        row.updated_at, row.updated_by = utcnow(), ws.user.username
        row.seq = _next_seq(s)
        ws.audit(s, "record.deleted", object_type=rt.name, object_id=row.id, unit=row.unit, detail={"version": new_version})
        s.flush()
        return _dto(ws, s, rt, row, audit_view=False)


def _ref_ids(rt: RecordType, values: Mapping[str, Any]) -> list[str]:
    """Ids of other records that ``values`` point to (refs, case parties and events)."""
    out: list[str] = []
    for f in rt.fields:
        v = values.get(f.name)
        if not v:
            continue
        if f.kind == "ref":
            out.append(str(v))
        elif f.kind in ("parties", "events"):
            out += [str(item["person_id"]) for item in v if item.get("person_id")]
    return out


_PERSON_LINKS = (
    ("screening", Screening.person_id),
    ("suspect", MODEL_BY_TYPE["suspect"].person_id),  # type: ignore[attr-defined]
    ("referral", MODEL_BY_TYPE["referral"].person_id),  # type: ignore[attr-defined]
    ("service", MODEL_BY_TYPE["service"].person_id),  # type: ignore[attr-defined]
)


def _refuse_if_referenced(s: Session, person_id: str) -> None:
    """A person still linked to live records is not deleted: those records would point nowhere."""
    linked: dict[str, int] = {}
    for name, col in _PERSON_LINKS:
        model = MODEL_BY_TYPE[name]
        n = s.scalar(select(func.count()).select_from(model).where(col == person_id, model.deleted.is_(False))) or 0
        if n:
            linked[name] = n
    cases = s.scalar(
        select(func.count(func.distinct(CaseParty.case_id)))
        .join(MODEL_BY_TYPE["case"], MODEL_BY_TYPE["case"].id == CaseParty.case_id)
        .where(CaseParty.person_id == person_id, MODEL_BY_TYPE["case"].deleted.is_(False))
    ) or 0
    if cases:
        linked["case"] = cases
    if linked:
        what = ", ".join(f"{n} {RECORD_TYPES[t].label_en.lower()}{'s' if n > 1 else ''}" for t, n in linked.items())
        raise ValidationError(f"This person is linked to {what}. Delete or relink those first.", {"person": "linked"})


def _refresh_child_flags(ws: Workspace, s: Session, person_id: str) -> None:
    """A changed date of birth or age changes whether the person's screenings are of a child."""
    ctx = _context(ws, s)
    for sc in s.scalars(select(Screening).where(Screening.person_id == person_id)):
        age = ctx.person_age_on(person_id, sc.screened_on)
        sc.is_child = age is not None and age < 18


def record_history(ws: Workspace, record_id: str) -> list[HistoryEntry]:
    """From→to changes of a record, newest first. Personal fields are masked without the permission."""
    ws.require(Perm.RECORD_READ)
    with ws.sf.begin() as s:
        rt, row = _get_row(ws, s, record_id)
        see = _may_see_personal(ws, row.unit)
        entries = s.scalars(select(RecordHistory).where(RecordHistory.record_id == row.id).order_by(RecordHistory.id.desc())).all()
        out = []
        shown_personal = False
        for h in entries:
            personal = h.field in rt.personal_fields
            shown_personal |= personal and see
            hide = personal and not see
            out.append(
                HistoryEntry(
                    h.version,
                    h.field,
                    None if hide else json.loads(h.old) if h.old else None,
                    None if hide else json.loads(h.new) if h.new else None,
                    h.changed_at,
                    h.changed_by,
                )
            )
        if shown_personal:
            ws.audit(s, "record.personal_viewed", object_type=rt.name, object_id=row.id, unit=row.unit, detail={"history": True})
        return out


# --- lists and search -------------------------------------------------------------------------


def _date_column(rt: RecordType, model: Any) -> Any:
    return model.created_at if rt.date_field == "created_on" else getattr(model, rt.date_field)


def _age_cond(group: str, person: Any, ref: date) -> Any:
    try:
        cutoff = ref.replace(year=ref.year - 18)
    except ValueError:  # 29 February
        cutoff = ref.replace(year=ref.year - 18, day=28)
    child = or_(person.date_of_birth > cutoff, and_(person.date_of_birth.is_(None), person.age_years < 18))
    adult = or_(person.date_of_birth <= cutoff, and_(person.date_of_birth.is_(None), person.age_years >= 18))
    if group == "child":
        return child
    if group == "adult":
        return adult
    return and_(person.date_of_birth.is_(None), person.age_years.is_(None))


def _build_query(
    ws: Workspace, rt: RecordType, flt: RecordFilter, s: Session, *, walk_dates: bool = False
) -> tuple[Select[Any], bool]:
    """The filtered query; returns it and whether it joins the person (for its columns).

    ``walk_dates``: the query is for a page in date order. On SQLite the unit condition is then
    written so that it cannot use the unit index (``unit || ''``): SQLite otherwise reads every
    record of the units through that index and sorts them (a user's units usually hold most of
    the store), where walking the date index reads only the rows of the page. A name or number
    search looks up the numbers and how common the name is in session ``s`` first.
    """
    model = MODEL_BY_TYPE[rt.name]
    units = ws.subtree(flt.unit) if flt.unit else ws.subtree()
    if flt.unit and not ws.in_scope(flt.unit):
        units = set()
    q: Select[Any] = select(model)
    walk = walk_dates and ws.engine.dialect.name == "sqlite"
    unit_col = model.unit.concat("") if walk else model.unit
    conds: list[Any] = [unit_col.in_(units)]
    if not flt.include_deleted:
        conds.append(model.deleted.is_(False))
    dcol = _date_column(rt, model)
    if flt.date_from:
        conds.append(dcol >= (flt.date_from if rt.date_field != "created_on" else datetime.combine(flt.date_from, datetime.min.time(), UTC)))
    if flt.date_to:
        conds.append(dcol <= (flt.date_to if rt.date_field != "created_on" else datetime.combine(flt.date_to, datetime.max.time(), UTC)))
    if flt.status:
        conds.append(model.status == flt.status)
    person: Any = None
    if rt.name == "person":
        person = model
    elif rt.person_field and (flt.sex or flt.age_group or flt.citizenship):
        person = Person
        q = q.join(Person, Person.id == getattr(model, rt.person_field))
    elif rt.name == "survey_response" and not flt.citizenship:
        if flt.sex:
            conds.append(model.sex == flt.sex)
        if flt.age_group:
            conds.append(model.age_group == flt.age_group)
    elif flt.sex or flt.age_group or flt.citizenship:
        raise ValidationError(f"{rt.label_en} records have no person to filter by sex, age or citizenship.", {"filter": "person"})
    if person is not None:
        if flt.sex:
            conds.append(person.sex == flt.sex)
        if flt.citizenship:
            conds.append(person.citizenship == flt.citizenship)
        if flt.age_group:
            if rt.name == "screening" and flt.age_group == "child":
                conds.append(model.is_child.is_(True))
            elif rt.name == "screening" and flt.age_group == "adult":
                conds.append(and_(model.is_child.is_(False), or_(person.date_of_birth.is_not(None), person.age_years.is_not(None))))
            else:
                conds.append(_age_cond(flt.age_group, person, today()))
    if flt.outcome:
        ofield = OUTCOME_FIELD.get(rt.name)
        if ofield is None:
            raise ValidationError(f"{rt.label_en} records have no outcome to filter by.", {"filter": "outcome"})
        conds.append(getattr(model, ofield) == flt.outcome)
    if flt.exploitation_type:
        if rt.name != "screening":
            raise ValidationError("Only screenings record exploitation types.", {"filter": "exploitation_type"})
        conds.append(
            exists().where(
                RecordCode.record_id == model.id,
                RecordCode.field == "exploitation_types",
                RecordCode.code == flt.exploitation_type,
            )
        )
    if flt.text:
        conds.append(_text_condition(ws, s, rt, model, flt.text, walk=walk))
    return q.where(*conds), person is not None


def _text_condition(ws: Workspace, s: Session, rt: RecordType, model: Any, text: str, *, walk: bool) -> Any:
    text = text.strip()
    if rt.name == "case":
        return or_(model.fir_number.contains(text, autoescape=True), model.enquiry_number.contains(text, autoescape=True))
    for col in ("name", "title", "stakeholder"):
        if hasattr(model, col):
            return getattr(model, col).contains(text, autoescape=True)
    person_col = model.id if rt.name == "person" else getattr(model, rt.person_field) if rt.person_field else None
    if person_col is None:
        raise ValidationError(f"{rt.label_en} records cannot be searched by text.", {"filter": "text"})
    ws.require(Perm.PERSONAL_VIEW, object_type=rt.name)  # a refused name search is audited too
    key_id = normalise_id(text)
    key_name = normalise_name(text)
    # NOTE: the persons of a number are looked up first (a few at most), so that the list's
    # statement has no OR of two lookups, which SQLite plans poorly.
    I = PersonIdentity  # noqa: E741
    numbered = (
        list(s.scalars(select(I.person_id).where(or_(I.id_key == key_id, I.passport_key == key_id, I.other_id_key == key_id))))
        if len(key_id) >= 5
        else []
    )
    # NOTE: names through the word index (each typed word a prefix of a word of the name, in any
    # order): a substring search read every identity of the store.
    by_name = _name_condition(s, person_col, key_name, walk=walk)
    return or_(person_col.in_(numbered), by_name) if numbered else by_name


PERSON_SORT_KEYS = ("sex", "citizenship")


def sort_keys(type_name: str) -> tuple[str, ...]:
    """What :func:`list_records` can order a type's lists by (besides the default, ``date``):
    ``status``, ``unit``, the record's plain fields, and the person's sex and citizenship."""
    rt = record_type(type_name)
    model = MODEL_BY_TYPE[rt.name]
    own = tuple(
        f.name for f in rt.fields if f.storage == "column" and not f.personal and f.kind in ("text", "int", "date", "code", "bool") and hasattr(model, f.name)
    )
    person = PERSON_SORT_KEYS if rt.name == "person" or rt.person_field else ()
    return tuple(dict.fromkeys(("date", "status", "unit", *own, *person)))


def _ordered(rt: RecordType, q: Select[Any], person_joined: bool, order_by: str, descending: bool) -> Select[Any]:
    model = MODEL_BY_TYPE[rt.name]
    if order_by not in sort_keys(rt.name):
        raise ValidationError(f"{rt.label_en} lists cannot be sorted by {order_by!r}.", {"order_by": "unknown"})
    if order_by == "date":
        col: Any = _date_column(rt, model)
    elif order_by in PERSON_SORT_KEYS and rt.name != "person":
        if not person_joined:
            q = q.join(Person, Person.id == getattr(model, rt.person_field))  # type: ignore[arg-type]
        col = getattr(Person, order_by)
    else:
        col = getattr(model, order_by)
    if descending:
        return q.order_by(col.desc(), model.id.desc())
    return q.order_by(col.asc(), model.id.asc())


def count_records(ws: Workspace, type_name: str, flt: RecordFilter | None = None) -> int:
    """How many records :func:`list_records` would list with the filters (no rows, no audit).

    Reads only, so the GUI runs it apart from the page (a count can read every record of the
    type; the page needs only its own rows).
    """
    rt = record_type(type_name)
    ws.require(Perm.RECORD_READ)
    with ws.sf() as s:
        q, _ = _build_query(ws, rt, flt or RecordFilter(), s)
        return int(s.scalar(select(func.count()).select_from(q.order_by(None).subquery())) or 0)


def list_records(
    ws: Workspace,
    type_name: str,
    flt: RecordFilter | None = None,
    *,
    offset: int = 0,
    limit: int = 100,
    with_total: bool = True,
    order_by: str = "date",
    descending: bool = True,
) -> Page:
    """A page of records with the filters applied, newest first (or by ``order_by``, one of
    :func:`sort_keys`; ties by id). Rows are plain DTOs. Listing names is audited."""
    rt = record_type(type_name)
    ws.require(Perm.RECORD_READ)
    flt = flt or RecordFilter()
    limit = max(1, min(limit, 5000))
    with ws.sf.begin() as s:
        q, joined = _build_query(ws, rt, flt, s, walk_dates=order_by == "date")
        total = s.scalar(select(func.count()).select_from(q.order_by(None).subquery())) if with_total else None
        # NOTE: the columns a list shows, not whole records: loading 100 records with their
        # narratives and routes through the ORM cost more than finding them.
        q = q.with_only_columns(*_list_columns(rt))
        rows = s.execute(_ordered(rt, q, joined, order_by, descending).offset(offset).limit(limit)).all()
        out, shown = _record_rows(ws, s, rt, rows)
        if shown:
            ws.audit(s, "record.personal_listed", object_type=rt.name, detail={"rows": shown})
        return Page(rows=out, total=total, offset=offset, limit=limit)


def _list_columns(rt: RecordType) -> list[Any]:
    """The columns :func:`_record_rows` reads from a record of ``rt``."""
    model = MODEL_BY_TYPE[rt.name]
    table_cols = model.__table__.columns  # type: ignore[attr-defined]
    names = ["id", "unit", "status", "deleted", "created_at"]
    names += [n for n in (rt.date_field, rt.person_field, *rt.summary) if n and n in table_cols and n not in names]
    return [getattr(model, n) for n in names]


def _record_rows(ws: Workspace, s: Session, rt: RecordType, rows: Iterable[Any]) -> tuple[list[RecordRow], int]:
    """List rows of records of ``rt`` (result rows of :func:`_list_columns`, or records), with the
    person's name where the user may see it.

    Returns the rows and how many names they show (the caller audits that)."""
    rows = list(rows)
    if not rows:
        return [], 0
    # NOTE: result rows are read as plain tuples: reading a result row's attributes cost more
    # than the rest of this function.
    fields = getattr(rows[0], "_fields", None)
    if fields is not None:
        where = {f: i for i, f in enumerate(fields)}
        rows = [tuple(r) for r in rows]

        def get(name: str) -> Callable[[Any], Any] | None:
            return itemgetter(where[name]) if name in where else None
    else:

        def get(name: str) -> Callable[[Any], Any] | None:
            return attrgetter(name) if hasattr(rows[0], name) else None

    id_of, unit_of, status_of, deleted_of = (get(n) for n in ("id", "unit", "status", "deleted"))
    assert id_of and unit_of and status_of and deleted_of
    person_of = id_of if rt.name == "person" else get(rt.person_field) if rt.person_field else None
    date_of = get("created_at") if rt.date_field == "created_on" else get(rt.date_field)
    summary = [(c, g) for c in rt.summary if (g := get(c)) is not None]
    units = {unit_of(r) for r in rows}
    see_units = {u for u in units if _may_see_personal(ws, u)}
    # NOTE: one statement for the persons and, where they may be seen, their names.
    persons: dict[str, tuple[Any, ...]] = {}
    names: dict[str, str] = {}
    person_ids = {person_of(r) for r in rows} - {None} if person_of is not None else set()
    if person_ids:
        P, I = Person, PersonIdentity  # noqa: E741
        q = select(P.id, P.sex, P.date_of_birth, P.age_years, P.citizenship)
        if see_units:
            q = q.add_columns(I.given_name, I.family_name).outerjoin(I, I.person_id == P.id)
        ref = today()
        for p in s.execute(q.where(P.id.in_(person_ids))):
            pid, sex, dob, age, cit = p[:5]
            persons[pid] = (sex, age_on(dob, ref) if dob is not None else age, cit)  # today's age
            if see_units and (p[5] or p[6]):
                names[pid] = " ".join(x for x in (p[5], p[6]) if x)
    out = []
    shown = 0
    none3 = (None, None, None)
    for r in rows:
        pid = person_of(r) if person_of is not None else None
        sex, age, cit = persons.get(pid, none3) if pid else none3
        unit = unit_of(r)
        name = names.get(pid) if pid and unit in see_units else None
        shown += name is not None
        values = {}
        for c, g in summary:
            v = g(r)
            values[c] = v.isoformat() if isinstance(v, date) else _jsonable(v) if isinstance(v, list | dict) else v
        d = date_of(r) if date_of is not None else None
        out.append(
            RecordRow(
                id=id_of(r),
                type=rt.name,
                unit=unit,
                status=status_of(r),
                date=d.date() if isinstance(d, datetime) else d,
                summary=values,
                sex=sex,
                age_years=age,
                citizenship=cit,
                name=name,
                deleted=deleted_of(r),
            )
        )
    return out, shown


def rows_by_id(ws: Workspace, type_name: str, ids: Iterable[str], *, limit: int = 1000) -> list[RecordRow]:
    """List rows of the given records of a type (e.g. the records behind an indicator value),
    newest first, at most ``limit``; records outside the user's units are left out. Names as in
    lists (audited)."""
    rt = record_type(type_name)
    ws.require(Perm.RECORD_READ)
    wanted = list(dict.fromkeys(ids))
    model = MODEL_BY_TYPE[rt.name]
    rows: list[Any] = []
    with ws.sf.begin() as s:
        for i in range(0, len(wanted), 500):
            rows += s.scalars(select(model).where(model.id.in_(wanted[i : i + 500]), model.unit.in_(ws.subtree()))).all()
        rows.sort(key=lambda r: (_record_date(rt, r, {rt.date_field: getattr(r, rt.date_field, None)}), r.id), reverse=True)
        out, shown = _record_rows(ws, s, rt, rows[: max(1, limit)])
        if shown:
            ws.audit(s, "record.personal_listed", object_type=rt.name, detail={"rows": shown})
        return out


# --- linked records ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkedRecord:
    """A record linked to another one.

    Attributes:
        direction: "to" (the record points to it: its person, its case …) or "from" (it points to
            the record: the screenings of a person, the suspects of a case …).
        field: The linking field (``person_id``, ``case_id`` …, or ``parties`` for case parties).
        role: For case parties, the person's role in the case (victim / suspect / witness).
        row: The linked record as a list row (the name only where the user may see it).
    """

    direction: str
    field: str
    role: str | None
    row: RecordRow


@dataclass(frozen=True)
class Links:
    """What :func:`linked_records` returns."""

    items: tuple[LinkedRecord, ...]
    omitted: int = 0  # records pointing here beyond the limit per field (newest are listed)
    hidden: int = 0  # records this one points to that lie outside the user's units


def _incoming_refs(type_name: str) -> list[tuple[str, str]]:
    """(type, field) of every reference field of any record type that points to ``type_name``."""
    return [(o.name, f.name) for o in RECORD_TYPES.values() for f in o.fields if f.kind == "ref" and f.ref == type_name and f.storage == "column"]


def linked_records(ws: Workspace, record_id: str, *, limit: int = 50) -> Links:
    """The records linked to a record, both ways: victims ↔ case ↔ suspects ↔ referrals ↔
    services (and providers, coordination bodies …), for a "Links" panel that opens them.

    Lists records in the user's units only; records pointing to this one are live (not deleted),
    newest first, at most ``limit`` per linking field. Names are shown as in lists (audited).
    """
    ws.require(Perm.RECORD_READ)
    limit = max(1, min(limit, 500))
    with ws.sf.begin() as s:
        rt, row = _get_row(ws, s, record_id)
        ws.require(Perm.RECORD_READ, unit=row.unit, object_type=rt.name, object_id=row.id)
        scope = ws.subtree()
        wanted: list[tuple[str, str, str | None, str, str]] = []  # direction, field, role, type, id
        for f in rt.fields:
            if f.kind == "ref" and f.storage == "column" and f.ref and getattr(row, f.name, None):
                wanted.append(("to", f.name, None, f.ref, getattr(row, f.name)))
        if rt.name == "case":
            for p in s.scalars(select(CaseParty).where(CaseParty.case_id == row.id).order_by(CaseParty.party_role, CaseParty.person_id)):
                wanted.append(("to", "parties", p.party_role, "person", p.person_id))
        omitted = 0
        for other_name, field_name in _incoming_refs(rt.name):
            other = RECORD_TYPES[other_name]
            model = MODEL_BY_TYPE[other_name]
            where = (getattr(model, field_name) == row.id, model.deleted.is_(False), model.unit.in_(scope))
            ids = s.scalars(select(model.id).where(*where).order_by(_date_column(other, model).desc(), model.id.desc()).limit(limit + 1)).all()
            if len(ids) > limit:
                omitted += int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0) - limit
            wanted += [("from", field_name, None, other_name, i) for i in ids[:limit]]
        if rt.name == "person":
            Case = MODEL_BY_TYPE["case"]
            parties = s.execute(
                select(CaseParty.case_id, CaseParty.party_role)
                .join(Case, Case.id == CaseParty.case_id)
                .where(CaseParty.person_id == row.id, Case.deleted.is_(False), Case.unit.in_(scope))
                .order_by(Case.registered_on.desc(), Case.id.desc())
                .limit(limit)
            ).all()
            wanted += [("from", "parties", role, "case", cid) for cid, role in parties]
        by_type: dict[str, set[str]] = {}
        for _d, _f, _r, t, i in wanted:
            by_type.setdefault(t, set()).add(i)
        found: dict[str, RecordRow] = {}
        shown = 0
        for t, ids in by_type.items():
            model = MODEL_BY_TYPE[t]
            rows = s.scalars(select(model).where(model.id.in_(ids), model.unit.in_(scope))).all()
            out, n = _record_rows(ws, s, RECORD_TYPES[t], rows)
            shown += n
            found.update((r.id, r) for r in out)
        items = tuple(LinkedRecord(d, f, r, found[i]) for d, f, r, _t, i in wanted if i in found)
        hidden = sum(1 for d, _f, _r, _t, i in wanted if d == "to" and i not in found)
        if shown:
            ws.audit(s, "record.personal_listed", object_type=rt.name, object_id=row.id, unit=row.unit, detail={"rows": shown, "links": True})
        return Links(items=items, omitted=omitted, hidden=hidden)


def find_duplicate_persons(
    ws: Workspace,
    *,
    cnic: str = "",
    passport_no: str = "",
    other_id: str = "",
    given_name: str = "",
    family_name: str = "",
    date_of_birth: date | str | None = None,
    exclude_id: str | None = None,
) -> list[DuplicateCandidate]:
    """Persons of the workspace that may be the same person: same identity number, same
    normalised name and date of birth, or a name that sounds the same (every word's sound key,
    :func:`sound_tokens`: "Mohammad Yousaf" and "Muhammad Yusuf") and the same date of birth.
    Shown as a warning at capture; needs personal-data access."""
    ws.require(Perm.PERSONAL_VIEW)
    ids = [k for k in (normalise_id(cnic), normalise_id(passport_no), normalise_id(other_id)) if len(k) >= 5]
    name_key = normalise_name(given_name, family_name)
    dob = parse_date(date_of_birth) if date_of_birth else None
    if date_of_birth and dob is None:
        raise ValidationError("The date of birth must be a date (YYYY-MM-DD).", {"date_of_birth": "not_date"})
    found: dict[str, DuplicateCandidate] = {}
    with ws.sf.begin() as s:
        if ids:
            q = select(PersonIdentity.person_id, Person.unit).join(Person, Person.id == PersonIdentity.person_id).where(
                or_(PersonIdentity.id_key.in_(ids), PersonIdentity.passport_key.in_(ids), PersonIdentity.other_id_key.in_(ids)),
                Person.deleted.is_(False),
            )
            for pid, unit in s.execute(q):
                found[pid] = DuplicateCandidate(pid, "identity_number", unit)
        if name_key and dob:
            q = select(PersonIdentity.person_id, Person.unit).join(Person, Person.id == PersonIdentity.person_id).where(
                PersonIdentity.name_key == name_key, Person.date_of_birth == dob, Person.deleted.is_(False)
            )
            for pid, unit in s.execute(q):
                found.setdefault(pid, DuplicateCandidate(pid, "name_and_birth_date", unit))
            sounds = set(sound_tokens(name_key))
            for p in born_on(s, [dob]).get(dob, ()) if sounds else ():
                if sounds <= p.sounds:
                    found.setdefault(p.person_id, DuplicateCandidate(p.person_id, "similar_name_and_birth_date", p.unit))
        result = [c for c in found.values() if c.person_id != exclude_id and ws.in_scope(c.unit)]
        if result:
            ws.audit(s, "person.duplicates_checked", object_type="person", detail={"candidates": len(result)})
        return result


@dataclass(frozen=True)
class BornOn:
    person_id: str
    unit: str
    sounds: frozenset[str]  # the sound keys of the person's name (sound_tokens)


def born_on(s: Session, births: Iterable[date]) -> dict[date, list[BornOn]]:
    """Live persons born on these dates, with their names' sound keys: the persons of one birth
    date are few (ix_persons_birth). The duplicate rule "a name that sounds the same and the same
    date of birth" is ``sound_tokens(name) <= p.sounds`` (capture and bulk import)."""
    T = PersonNameToken
    q = select(Person.id, Person.date_of_birth, Person.unit, T.token).join(T, T.person_id == Person.id)
    q = q.where(Person.date_of_birth.in_(list(births)), Person.deleted.is_(False), T.token >= SOUND_MARK, T.token < SOUND_MARK + TOP)
    keys: dict[tuple[date, str, str], set[str]] = defaultdict(set)
    for pid, dob, unit, token in s.execute(q):
        keys[(dob, pid, unit)].add(token)
    out: dict[date, list[BornOn]] = defaultdict(list)
    for (dob, pid, unit), sounds in keys.items():
        out[dob].append(BornOn(pid, unit, frozenset(sounds)))
    return dict(out)


def counts_by_type(ws: Workspace) -> dict[str, int]:
    """Live (not deleted) records per type in the user's scope, for the start page."""
    ws.require(Perm.RECORD_READ)
    units = ws.subtree()
    out: dict[str, int] = {}
    with ws.sf() as s:
        for name, model in MODEL_BY_TYPE.items():
            out[name] = s.scalar(select(func.count()).select_from(model).where(model.deleted.is_(False), model.unit.in_(units))) or 0
        shrink_memory(s)
    return out


__all__ = [
    "LOCK_HOOKS",
    "DuplicateCandidate",
    "HistoryEntry",
    "Page",
    "RecordDTO",
    "RecordFilter",
    "RecordRow",
    "LinkedRecord",
    "Links",
    "count_records",
    "counts_by_type",
    "create_record",
    "delete_record",
    "find_duplicate_persons",
    "get_record",
    "linked_records",
    "list_records",
    "normalise_id",
    "normalise_name",
    "record_history",
    "record_type",
    "rows_by_id",
    "sort_keys",
    "update_record",
]


# --- milestone evidence -----------------------------------------------------------------------

MAX_EVIDENCE_BYTES = 20 * 1024 * 1024


def attach_evidence(ws: Workspace, milestone_id: str, file_name: str, data: bytes) -> RecordDTO:
    """Stores an evidence file (a PDF, a photo of a signed SOP) inside the encrypted store.

    The file never exists on disk outside ``store.db``; only its name is shown in lists.
    """
    if len(data) > MAX_EVIDENCE_BYTES:
        raise ValidationError(f"The evidence file is larger than {MAX_EVIDENCE_BYTES // (1024 * 1024)} MB.", {"evidence": "too_big"})
    name = re.sub(r"[\\/:*?\"<>|\x00-\x1f]", "_", file_name).strip()[:200] or "evidence"
    with ws.sf.begin() as s:
        rt, row = _get_row(ws, s, milestone_id, "milestone")
        ws.require(Perm.RECORD_CAPTURE, unit=row.unit, object_type=rt.name, object_id=row.id)
        if row.deleted:
            raise NotFound("This milestone was deleted.")
        old_name = row.evidence_name  # type: ignore[attr-defined]
        row.evidence = data  # type: ignore[attr-defined]
        row.evidence_name = name  # type: ignore[attr-defined]
        new_version = row.version + 1
        s.add(RecordHistory(record_type=rt.name, record_id=row.id, version=new_version, field="evidence_name", old=json.dumps(old_name), new=json.dumps(name), changed_by=ws.user.username))
        row.base_version, row.base_hash, row.version = row.version, row.content_hash, new_version
        row.updated_at, row.updated_by = utcnow(), ws.user.username
        row.seq = _next_seq(s)
        row.content_hash = hashlib.sha256(row.content_hash.encode() + hashlib.sha256(data).digest()).hexdigest()
        ws.audit(s, "milestone.evidence_attached", object_type=rt.name, object_id=row.id, unit=row.unit, detail={"bytes": len(data)})
        s.flush()
        return _dto(ws, s, rt, row, audit_view=False)


def get_evidence(ws: Workspace, milestone_id: str) -> tuple[str, bytes]:
    """Returns the evidence file's name and bytes (to save where the user chooses)."""
    ws.require(Perm.RECORD_READ)
    with ws.sf.begin() as s:
        rt, row = _get_row(ws, s, milestone_id, "milestone")
        ws.require(Perm.RECORD_READ, unit=row.unit, object_type=rt.name, object_id=row.id)
        data = row.evidence  # type: ignore[attr-defined]
        if data is None:
            raise NotFound("This milestone has no evidence file.")
        ws.audit(s, "milestone.evidence_read", object_type=rt.name, object_id=row.id, unit=row.unit)
        return row.evidence_name or "evidence", data  # type: ignore[attr-defined]


# NOTE: imported last: the monthly returns register their lock (approved months) in LOCK_HOOKS, and
# must do so before any record is changed, whichever module was imported first.
from nap_desktop.reports import returns as _returns  # noqa: E402, F401
