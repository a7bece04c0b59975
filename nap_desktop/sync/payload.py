# SPDX-License-Identifier: GPL-3.0-or-later
"""The lines of a changes bundle, and applying them to a store.

A record travels as a **row image**: every column of its table plus its rows in the related tables
(multi-valued codes, count matrices, case events and parties, a person's identity). HQ stores
exactly what was captured (no re-derivation that a version skew could change); the image is
turned back into the record's field values only to validate it with the same rules as capture.

Lines, in the order they are written (a referenced record always comes before its referrers)::

    {"t": "_unit", ...}                          units of the sender's area (new ones are added)
    {"t": "<record type>", "row": {...}, "codes": [...], "counts": [...], "events": [...],
     "parties": [...], "identity": {...} | null, "purged": bool, "match": {"id": .., "nd": ..}}
    {"t": "_audit", ...}                         the sender's audit entries, in chain order

Imported rows get ``seq = 0``: ``seq`` numbers *this* workspace's own changes, which are what it
exports; a circle forwards its posts' bundles unchanged instead of re-exporting their records.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, LargeBinary, Table, delete, insert, select, update
from sqlalchemy.orm import Session

from nap_desktop.data.models import AuditEntry, Unit, UTCDateTime
from nap_desktop.data.return_models import MonthlyReturn, ReturnComment, ReturnEvent
from nap_desktop.data.record_models import MODEL_BY_TYPE, CaseEvent, CaseParty, PersonIdentity, PersonNameToken, RecordCode, RecordCount
from nap_desktop.data.sync_models import MatchToken, PurgedRecord, RecordMerge, SyncConflict
from nap_desktop.domain.records import RECORD_TYPES, RecordType

# A record type comes after every type it refers to (foreign keys, validation of references).
TYPE_ORDER: tuple[str, ...] = (
    "person",
    "case",
    "service_provider",
    "coordination_entity",
    "screening",
    "suspect",
    "referral",
    "service",
    "awareness_session",
    "training",
    "checkpoint_log",
    "coordination_meeting",
    "coordination_gap",
    "survey_response",
    "milestone",
    "analysis_note",
    "data_access",
)
assert set(TYPE_ORDER) == set(RECORD_TYPES), "every record type needs its place in TYPE_ORDER"

UNIT_COLUMNS = ("code", "kind", "parent_code", "name_en", "name_ur", "province", "post_type", "district", "iata", "neighbour_country", "active")
AUDIT_COLUMNS = ("seq", "at", "actor", "action", "object_type", "object_id", "unit", "detail", "prev_hash", "hash")
_EVENT_COLUMNS = ("id", "event", "on_date", "verdict", "sentence_months", "fine_pkr", "person_id")
_PARTY_COLUMNS = ("id", "person_id", "party_role", "compensation_ordered_pkr", "compensation_paid_pkr", "assets_confiscated", "assets_disposed")
_IDENTITY_COLUMNS = tuple(c.name for c in PersonIdentity.__table__.columns if c.name != "person_id")
IDENTITY_FIELDS = ("given_name", "family_name", "father_or_husband_name", "cnic", "passport_no", "other_id", "phone", "address")


# --- encoding of column values ----------------------------------------------------------------


def _encoder(col: Any) -> Any:
    if isinstance(col.type, LargeBinary):
        return lambda v: None if v is None else base64.b64encode(v).decode()
    if isinstance(col.type, (Date, UTCDateTime)) or hasattr(col.type, "impl") and isinstance(col.type, UTCDateTime):
        return lambda v: None if v is None else v.isoformat()
    return lambda v: v


def _identity(v: Any) -> Any:
    return v


def _decoder(col: Any) -> Any:
    if isinstance(col.type, LargeBinary):
        return lambda v: base64.b64decode(v, validate=True)
    if isinstance(col.type, UTCDateTime):
        return _aware_datetime
    if isinstance(col.type, Date):
        return date.fromisoformat
    return _identity


def _aware_datetime(v: str) -> datetime:
    t = datetime.fromisoformat(v)
    if t.tzinfo is None:
        raise ValueError("naive datetime")
    return t


@dataclass
class _TableCodec:
    table: Table
    names: tuple[str, ...]
    enc: tuple[Any, ...]
    dec: dict[str, Any]
    py_types: dict[str, type]

    @classmethod
    def of(cls, table: Table, names: tuple[str, ...] | None = None) -> _TableCodec:
        cols = [table.c[n] for n in names] if names else list(table.columns)
        py: dict[str, type] = {}
        for c in cols:
            try:
                py[c.name] = c.type.python_type
            except NotImplementedError:
                py[c.name] = object
        return cls(table, tuple(c.name for c in cols), tuple(_encoder(c) for c in cols), {c.name: _decoder(c) for c in cols}, py)

    def encode(self, row: Any) -> dict[str, Any]:
        m = row._mapping
        return {n: e(m[n]) for n, e in zip(self.names, self.enc, strict=True)}

    def __post_init__(self) -> None:
        self._names = frozenset(self.names)
        plan = []
        for n in self.names:
            dec = self.dec[n]
            plan.append((n, None if dec.__name__ == "_identity" else dec, self.py_types[n], getattr(self.table.c[n].type, "length", None)))
        self._plan = tuple(plan)

    def decode(self, data: Mapping[str, Any], *, where: str) -> dict[str, Any]:
        """Column values from JSON, checked for shape and type (a wrong type rejects the record)."""
        if not isinstance(data, dict) or data.keys() != self._names:
            raise LineError(f"{where}: columns missing or unknown")
        out: dict[str, Any] = {}
        for n, dec, want, length in self._plan:
            v = data[n]
            if v is None:
                out[n] = None
                continue
            if dec is not None:
                try:
                    v = dec(v)
                except (TypeError, ValueError, AttributeError) as exc:
                    raise LineError(f"{where}: column {n} is malformed") from exc
            t = type(v)
            if want is str:
                if t is not str:
                    raise LineError(f"{where}: column {n} must be text")
                if length is not None and len(v) > length:
                    raise LineError(f"{where}: column {n} is too long")
            elif want is int:
                if t is not int:
                    raise LineError(f"{where}: column {n} must be a whole number")
            elif want is bool and t is not bool:
                raise LineError(f"{where}: column {n} must be true or false")
            out[n] = v
        return out


class LineError(ValueError):
    """A line of a payload is malformed. Its text names the line and column, never a value."""


_CODECS: dict[str, _TableCodec] = {}


def codec(key: str) -> _TableCodec:
    if not _CODECS:
        for name, model in MODEL_BY_TYPE.items():
            _CODECS[name] = _TableCodec.of(model.__table__)  # type: ignore[attr-defined]
        _CODECS["_events"] = _TableCodec.of(CaseEvent.__table__, _EVENT_COLUMNS)  # type: ignore[arg-type]
        _CODECS["_parties"] = _TableCodec.of(CaseParty.__table__, _PARTY_COLUMNS)  # type: ignore[arg-type]
        _CODECS["_identity"] = _TableCodec.of(PersonIdentity.__table__, _IDENTITY_COLUMNS)  # type: ignore[arg-type]
        _CODECS["_unit"] = _TableCodec.of(Unit.__table__, UNIT_COLUMNS)  # type: ignore[arg-type]
        _CODECS["_audit"] = _TableCodec.of(AuditEntry.__table__, AUDIT_COLUMNS)  # type: ignore[arg-type]
        _CODECS["_return"] = _TableCodec.of(MonthlyReturn.__table__)  # type: ignore[arg-type]
        _CODECS["_return_comment"] = _TableCodec.of(ReturnComment.__table__)  # type: ignore[arg-type]
        _CODECS["_return_event"] = _TableCodec.of(ReturnEvent.__table__)  # type: ignore[arg-type]
    return _CODECS[key]


def dumps(line: Mapping[str, Any]) -> bytes:
    return json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


# --- match tokens -----------------------------------------------------------------------------


def match_tokens(key: bytes, identity: Mapping[str, Any] | None, date_of_birth: str | None) -> dict[str, str]:
    """Keyed tokens of a person's identity number and of name + date of birth (HMAC-SHA-256).

    Equal tokens across units mean a probable duplicate; without the key a token reveals nothing,
    and the numbers themselves never need to be compared in clear.
    """
    from nap_desktop.services.records import normalise_id, normalise_name

    out: dict[str, str] = {}
    if not identity:
        return out
    for field_name in ("cnic", "passport_no"):
        number = normalise_id(identity.get(field_name) or "")
        if number:
            out["id"] = hmac.new(key, f"id|{number}".encode(), hashlib.sha256).hexdigest()
            break
    name = normalise_name(identity.get("given_name") or "", identity.get("family_name") or "")
    if name and date_of_birth:
        out["nd"] = hmac.new(key, f"nd|{name}|{date_of_birth}".encode(), hashlib.sha256).hexdigest()
    return out


# --- export ------------------------------------------------------------------------------------


def export_records(
    s: Session, *, seq_from: int, seq_to: int, match_key: bytes | None, chunk: int = 2000
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Row images of every record changed in ``seq_from..seq_to``, type by type in TYPE_ORDER."""
    purged = set(s.scalars(select(PurgedRecord.record_id)))
    merges = {(m.record_id, m.version): m.other_hash for m in s.scalars(select(RecordMerge))}
    for type_name in TYPE_ORDER:
        model = MODEL_BY_TYPE[type_name]
        table: Table = model.__table__  # type: ignore[attr-defined]
        c = codec(type_name)
        last = seq_from - 1
        while True:
            rows = s.execute(
                select(table).where(table.c.seq > last, table.c.seq <= seq_to).order_by(table.c.seq).limit(chunk)
            ).all()
            if not rows:
                break
            last = rows[-1]._mapping["seq"]
            ids = [r._mapping["id"] for r in rows]
            related = _related(s, type_name, ids)
            for r in rows:
                image = c.encode(r)
                rid = image["id"]
                line: dict[str, Any] = {"t": type_name, "row": image}
                line.update({k: v.get(rid, []) for k, v in related.items() if k in ("codes", "counts", "events", "parties")})
                is_purged = rid in purged
                line["purged"] = is_purged
                if (rid, image["version"]) in merges:
                    line["merged"] = merges[(rid, image["version"])]
                if type_name == "person":
                    ident = related["identity"].get(rid)
                    line["identity"] = None if is_purged else ident
                    line["match"] = match_tokens(match_key, ident, image.get("date_of_birth")) if match_key and ident else {}
                if is_purged:
                    for f in RECORD_TYPES[type_name].personal_fields:
                        if f in image:
                            image[f] = None
                yield type_name, line


def export_returns(s: Session, *, seq_from: int, seq_to: int) -> Iterator[dict[str, Any]]:
    """Monthly returns changed in ``seq_from..seq_to``, each with its comments and state history."""
    rc, cc, ec = codec("_return"), codec("_return_comment"), codec("_return_event")
    t = MonthlyReturn.__table__
    for row in s.execute(select(t).where(t.c.seq >= seq_from, t.c.seq <= seq_to).order_by(t.c.seq)):
        rid = row._mapping["id"]
        comments = [cc.encode(r) for r in s.execute(select(ReturnComment.__table__).where(ReturnComment.return_id == rid).order_by(ReturnComment.ordinal))]
        events = [ec.encode(r) for r in s.execute(select(ReturnEvent.__table__).where(ReturnEvent.return_id == rid).order_by(ReturnEvent.at, ReturnEvent.id))]
        yield {"t": "_return", "row": rc.encode(row), "comments": comments, "events": events}


def apply_return(s: Session, line: Mapping[str, Any], within: Any) -> tuple[str, str]:
    """Takes a unit's monthly return: ``(outcome, problem)`` with outcome new / updated / identical / kept.

    A later version replaces an earlier one, except that a return approved here is never
    replaced by a version that is not approved (the unit must ask for it to be unlocked).
    """
    if not isinstance(line, Mapping) or set(line) != {"t", "row", "comments", "events"}:
        raise LineError("monthly return: members missing or unknown")
    row = codec("_return").decode(line["row"], where="monthly return")
    comments = [codec("_return_comment").decode(c, where="return comment") for c in _list(line["comments"], "return")]
    events = [codec("_return_event").decode(e, where="return event") for e in _list(line["events"], "return")]
    if any(c["return_id"] != row["id"] for c in comments) or any(e["return_id"] != row["id"] for e in events):
        raise LineError("monthly return: comments or history of another return")
    if not within(row["unit"]):
        raise LineError(f"monthly return of unit {row['unit']} is outside the sender's area")
    row["seq"] = 0
    conn = s.connection()
    t = MonthlyReturn.__table__
    cur = conn.execute(select(t.c.id, t.c.version, t.c.content_hash, t.c.state).where(t.c.unit == row["unit"], t.c.month == row["month"])).first()
    label = f"return {row['unit']} {row['month']}"
    if cur is not None and cur.id != row["id"]:
        return "kept", f"{label}: this workspace compiled its own return for that month; the unit's was not taken"
    if cur is not None:
        if cur.version == row["version"] and cur.content_hash == row["content_hash"]:
            return "identical", ""
        if cur.state == "approved" and row["state"] != "approved":
            return "kept", f"{label}: approved here; unlock it to take the unit's later version"
        if row["version"] <= cur.version:
            return "identical", ""
        conn.execute(delete(ReturnComment).where(ReturnComment.return_id == row["id"]))
        conn.execute(delete(ReturnEvent).where(ReturnEvent.return_id == row["id"]))
        conn.execute(update(t).where(t.c.id == row["id"]).values({k: v for k, v in row.items() if k != "id"}))
        outcome = "updated"
    else:
        conn.execute(_insert(t), [row])
        outcome = "new"
    if comments:
        conn.execute(_insert(ReturnComment.__table__), comments)  # type: ignore[arg-type]
    if events:
        conn.execute(_insert(ReturnEvent.__table__), events)  # type: ignore[arg-type]
    return outcome, ""


def _related(s: Session, type_name: str, ids: list[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {"codes": {}, "counts": {}}
    for r in s.execute(select(RecordCode.record_id, RecordCode.field, RecordCode.code, RecordCode.answer).where(RecordCode.record_id.in_(ids))):
        out["codes"].setdefault(r[0], []).append([r[1], r[2], r[3]])
    for r in s.execute(
        select(RecordCount.record_id, RecordCount.field, RecordCount.dim1, RecordCount.dim2, RecordCount.n).where(RecordCount.record_id.in_(ids))
    ):
        out["counts"].setdefault(r[0], []).append([r[1], r[2], r[3], r[4]])
    for v in out["codes"].values():
        v.sort()
    for v in out["counts"].values():
        v.sort()
    if type_name == "case":
        ev, pa = codec("_events"), codec("_parties")
        out["events"], out["parties"] = {}, {}
        for r in s.execute(select(CaseEvent.__table__).where(CaseEvent.case_id.in_(ids)).order_by(CaseEvent.id)):
            out["events"].setdefault(r._mapping["case_id"], []).append(ev.encode(r))
        for r in s.execute(select(CaseParty.__table__).where(CaseParty.case_id.in_(ids)).order_by(CaseParty.id)):
            out["parties"].setdefault(r._mapping["case_id"], []).append(pa.encode(r))
    if type_name == "person":
        ic = codec("_identity")
        out["identity"] = {}
        for r in s.execute(select(PersonIdentity.__table__).where(PersonIdentity.person_id.in_(ids))):
            out["identity"][r._mapping["person_id"]] = {k: v for k, v in ic.encode(r).items() if k in IDENTITY_FIELDS}
    return out


# --- import -----------------------------------------------------------------------------------


@dataclass
class RecordLine:
    """A decoded record line: its row, related rows, and the field values to validate."""

    type_name: str
    row: dict[str, Any]
    codes: list[tuple[str, str, str | None]]
    counts: list[tuple[str, str, str, int]]
    events: list[dict[str, Any]]
    parties: list[dict[str, Any]]
    identity: dict[str, Any] | None
    purged: bool
    match: dict[str, str]
    raw: Mapping[str, Any] = field(repr=False, default_factory=dict)
    refs: list[tuple[str, str]] | None = field(repr=False, default=None)
    merged: str = ""  # content hash of the other version a conflict resolution supersedes

    def __post_init__(self) -> None:
        self.id: str = self.row["id"]


def _str(v: Any, limit: int = 200) -> bool:
    return type(v) is str and len(v) <= limit


def decode_record(line: Mapping[str, Any]) -> RecordLine:
    """Checks a record line's shape and types and decodes it.

    Raises:
        LineError: a missing or unknown member, a wrong type, an over-long text.
    """
    t = line.get("t")
    if t not in RECORD_TYPES:
        raise LineError("unknown record type")
    allowed = {"t", "row", "codes", "counts", "purged", "merged"} | ({"events", "parties"} if t == "case" else set()) | ({"identity", "match"} if t == "person" else set())
    if not set(line) <= allowed or not {"t", "row", "purged"} <= set(line):
        raise LineError(f"{t}: members missing or unknown")
    row = codec(t).decode(line["row"], where=t)
    if not row.get("id") or not row.get("unit"):
        raise LineError(f"{t}: id or unit missing")
    codes = line.get("codes") or []
    counts = line.get("counts") or []
    if type(codes) is not list or type(counts) is not list:
        raise LineError(f"{t}: codes or counts malformed")
    for c in codes:
        if type(c) is not list or len(c) != 3 or not (_str(c[0], 40) and _str(c[1], 40) and (c[2] is None or _str(c[2], 12))):
            raise LineError(f"{t}: codes malformed")
    for c in counts:
        if type(c) is not list or len(c) != 4 or not (_str(c[0], 40) and _str(c[1], 40) and _str(c[2], 40) and type(c[3]) is int and c[3] >= 0):
            raise LineError(f"{t}: counts malformed")
    events = [codec("_events").decode(e, where=f"{t} event") for e in _list(line.get("events"), t)]
    parties = [codec("_parties").decode(p, where=f"{t} party") for p in _list(line.get("parties"), t)]
    identity = None
    if t == "person" and line.get("identity") is not None:
        ident = line["identity"]
        if not isinstance(ident, Mapping) or set(ident) != set(IDENTITY_FIELDS):
            raise LineError("person: identity malformed")
        for k, v in ident.items():
            length = getattr(PersonIdentity.__table__.c[k].type, "length", None) or 100_000
            if not isinstance(v, str) or len(v) > length:
                raise LineError(f"person: identity {k} malformed")
        identity = dict(ident)
    match = line.get("match") or {}
    if not isinstance(match, Mapping) or not set(match) <= {"id", "nd"} or not all(_str(v, 64) for v in match.values()):
        raise LineError(f"{t}: match tokens malformed")
    if not isinstance(line["purged"], bool):
        raise LineError(f"{t}: purged flag malformed")
    merged = line.get("merged", "")
    if not _str(merged, 64):
        raise LineError(f"{t}: merged version malformed")
    return RecordLine(t, row, [tuple(c) for c in codes], [tuple(c) for c in counts], events, parties, identity, line["purged"], dict(match), line, merged=merged)  # type: ignore[misc]


def _list(value: Any, t: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise LineError(f"{t}: list expected")
    return value


def values_of(rl: RecordLine) -> dict[str, Any]:
    """The record's field values as capture would give them (JSON-like), for validation."""
    rt: RecordType = RECORD_TYPES[rl.type_name]
    values: dict[str, Any] = {}
    codes: dict[str, list[tuple[str, str | None]]] = {}
    for f_name, code, answer in rl.codes:
        codes.setdefault(f_name, []).append((code, answer))
    counts: dict[str, dict[str, dict[str, int]]] = {}
    for f_name, d1, d2, n in rl.counts:
        counts.setdefault(f_name, {}).setdefault(d1, {})[d2] = n
    for f in rt.fields:
        v: Any
        if f.storage == "column":
            v = rl.row.get(f.name)  # dates stay date objects: the validator takes them as they are
            v = None if v == "" else v
        elif f.storage == "identity":
            v = (rl.identity or {}).get(f.name) or None
        elif f.storage == "codes":
            items = codes.get(f.name, [])
            v = ({c: a for c, a in sorted(items)} if f.kind == "answers" else sorted(c for c, _ in items)) or None
        elif f.storage == "counts":
            v = counts.get(f.name) or None
        elif f.storage == "route":
            try:
                v = json.loads(rl.row.get("route_json") or "[]") or None
            except ValueError as exc:
                raise LineError(f"{rl.type_name}: route malformed") from exc
        elif f.storage == "events":
            v = [{k: e[k] for k in _EVENT_COLUMNS if k != "id"} for e in rl.events] or None
        elif f.storage == "parties":
            v = [{k: p[k] for k in _PARTY_COLUMNS if k != "id"} for p in rl.parties] or None
        else:  # pragma: no cover - every storage kind is listed above
            raise AssertionError(f.storage)
        if v is not None:
            values[f.name] = v
    return values


_INSERTS: dict[str, Any] = {}


def _insert(table: Table) -> Any:
    """One insert construct per table, so SQLAlchemy's statement cache is hit every time."""
    stmt = _INSERTS.get(table.name)
    if stmt is None:
        stmt = _INSERTS[table.name] = insert(table)
    return stmt


class Applier:
    """Writes decoded record lines into a session, in batches, as new rows or replacements."""

    def __init__(self, s: Session, batch: int = 1000) -> None:
        self.s = s
        self.conn = s.connection()
        self.batch = batch
        self._new: dict[str, list[RecordLine]] = {}
        self._pending = 0

    def insert(self, rl: RecordLine) -> None:
        self._new.setdefault(rl.type_name, []).append(rl)
        self._pending += 1
        if self._pending >= self.batch:
            self.flush()

    def flush(self) -> None:
        """Writes the queued new records (main rows first, then their related rows)."""
        if not self._pending:
            return
        for type_name in TYPE_ORDER:
            lines = self._new.pop(type_name, None)
            if not lines:
                continue
            table = MODEL_BY_TYPE[type_name].__table__  # type: ignore[attr-defined]
            self.conn.execute(_insert(table), [rl.row for rl in lines])
            self._related(lines)
        self._pending = 0

    def replace(self, rl: RecordLine, *, keep_personal: bool) -> None:
        """Replaces an existing record's row and related rows with the incoming image."""
        self.flush()
        rid = rl.id
        table = MODEL_BY_TYPE[rl.type_name].__table__  # type: ignore[attr-defined]
        row = dict(rl.row)
        if keep_personal:
            for f in RECORD_TYPES[rl.type_name].personal_fields:
                row.pop(f, None)
        self.s.execute(update(table).where(table.c.id == rid).values({k: v for k, v in row.items() if k != "id"}))
        self.s.execute(delete(RecordCode).where(RecordCode.record_id == rid))
        self.s.execute(delete(RecordCount).where(RecordCount.record_id == rid))
        if rl.type_name == "case":
            self.s.execute(delete(CaseEvent).where(CaseEvent.case_id == rid))
            self.s.execute(delete(CaseParty).where(CaseParty.case_id == rid))
        if rl.type_name == "person" and not keep_personal and rl.identity is not None:
            self.s.execute(delete(PersonIdentity).where(PersonIdentity.person_id == rid))
            self.s.execute(delete(PersonNameToken).where(PersonNameToken.person_id == rid))
        self._related([rl], skip_identity=keep_personal)

    def _related(self, lines: list[RecordLine], *, skip_identity: bool = False) -> None:
        from nap_desktop.services.records import name_token_rows, normalise_id, normalise_name

        codes = [{"record_id": rl.id, "field": f, "code": c, "answer": a} for rl in lines for f, c, a in rl.codes]
        counts = [{"record_id": rl.id, "field": f, "dim1": d1, "dim2": d2, "n": n} for rl in lines for f, d1, d2, n in rl.counts]
        events = [dict(e, case_id=rl.id) for rl in lines for e in rl.events]
        parties = [dict(p, case_id=rl.id) for rl in lines for p in rl.parties]
        idents = []
        tokens = []
        for rl in lines:
            if rl.type_name == "person" and rl.identity is not None and not skip_identity:
                i = rl.identity
                idents.append(
                    dict(
                        i,
                        person_id=rl.id,
                        name_key=normalise_name(i["given_name"], i["family_name"]),
                        id_key=normalise_id(i["cnic"]),
                        passport_key=normalise_id(i["passport_no"]),
                        other_id_key=normalise_id(i["other_id"]),
                    )
                )
            if rl.type_name == "person" and rl.match:
                tokens.append(rl)
        names = name_token_rows(idents)  # the name search's index, with the identities
        for table, rows in ((RecordCode, codes), (RecordCount, counts), (CaseEvent, events), (CaseParty, parties), (PersonIdentity, idents), (PersonNameToken, names)):
            if rows:
                self.conn.execute(_insert(table.__table__), rows)  # type: ignore[attr-defined]
        merges = [{"record_id": rl.id, "version": rl.row["version"], "other_hash": rl.merged} for rl in lines if rl.merged]
        if merges:
            self.conn.execute(delete(RecordMerge).where(RecordMerge.record_id.in_([m["record_id"] for m in merges])))
            self.conn.execute(_insert(RecordMerge.__table__), merges)  # type: ignore[arg-type]
        if tokens:
            self.s.execute(delete(MatchToken).where(MatchToken.person_id.in_([rl.id for rl in tokens])))
            self.s.execute(
                insert(MatchToken.__table__),  # type: ignore[arg-type]
                [{"person_id": rl.id, "kind": k, "token": v, "unit": rl.row["unit"]} for rl in tokens for k, v in rl.match.items()],
            )


def conflict_row(rl: RecordLine, *, bundle_id: str, source_unit: str, local_version: int, local_hash: str) -> dict[str, Any]:
    return {
        "record_type": rl.type_name,
        "record_id": rl.id,
        "bundle_id": bundle_id,
        "source_unit": source_unit,
        "local_version": local_version,
        "local_hash": local_hash,
        "incoming_version": rl.row["version"],
        "incoming_base_version": rl.row["base_version"],
        "incoming": json.dumps(rl.raw, ensure_ascii=False, separators=(",", ":")),
    }


__all__ = [
    "AUDIT_COLUMNS",
    "Applier",
    "LineError",
    "RecordLine",
    "SyncConflict",
    "TYPE_ORDER",
    "UNIT_COLUMNS",
    "codec",
    "conflict_row",
    "decode_record",
    "dumps",
    "export_records",
    "match_tokens",
    "values_of",
]
