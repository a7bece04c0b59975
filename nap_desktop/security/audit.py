# SPDX-License-Identifier: GPL-3.0-or-later
"""The audit chain: append-only, hash-chained, free of personal data (DESIGN §3).

``hash = SHA-256(prev_hash || canonical entry)``, where the canonical entry is the JSON array of
``seq, at, actor, action, object_type, object_id, unit, detail``. The first entry chains to a
genesis hash derived from the workspace id. The newest ``seq:hash`` is also kept in ``meta``
(written in the same transaction), so removing entries from the end is detected too.

What this does and does not prove: anyone editing the store with SQL tools but without
recomputing the chain is caught, naming the first entry that no longer verifies. Somebody who
holds the data key and rewrites the whole chain is caught only against a copy held elsewhere:
that is why audit entries travel to HQ in sync bundles.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nap_desktop.data.meta import lock_meta
from nap_desktop.data.models import AuditEntry, Meta

HEAD_KEY = "audit_head"
DetailValue = str | int | bool | None
_MAX_DETAIL_STR = 64


def genesis_hash(workspace_id: str) -> str:
    return hashlib.sha256(f"nap-audit-genesis|{workspace_id}".encode()).hexdigest()


def entry_hash(prev_hash: str, fields: list[object]) -> str:
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(prev_hash.encode("ascii") + canonical.encode("utf-8")).hexdigest()


def _fields(e: AuditEntry) -> list[object]:
    return [e.seq, e.at, e.actor, e.action, e.object_type, e.object_id, e.unit, e.detail]


def _check_detail(detail: Mapping[str, DetailValue]) -> str:
    """Serialises a detail mapping, refusing anything that could carry personal data.

    Details hold ids, codes, counts and flags. Strings are limited to short code-like values;
    free text (names, narratives) has no place in the audit log.
    """
    for key, value in detail.items():
        if not isinstance(value, str | int | bool | type(None)):
            raise TypeError(f"audit detail {key!r} must be a code, a number or a flag")
        if isinstance(value, str) and (len(value) > _MAX_DETAIL_STR or any(c.isspace() for c in value)):
            raise ValueError(f"audit detail {key!r} looks like free text; audit details hold codes only")
    return json.dumps(dict(detail), sort_keys=True, separators=(",", ":"))


def append(
    session: Session,
    *,
    workspace_id: str,
    actor: str,
    action: str,
    object_type: str = "",
    object_id: str = "",
    unit: str = "",
    detail: Mapping[str, DetailValue] | None = None,
) -> AuditEntry:
    """Appends an entry inside the caller's transaction (never commits)."""
    # NOTE: several intake servers and importers may write to one PostgreSQL store at once: the
    # head row is made race-free if missing and locked until the commit, so appends queue up
    # instead of forking the chain (SQLite has one writer at a time anyway). "" = no entry yet.
    head = lock_meta(session, HEAD_KEY, "")
    if not head.value:
        last_seq, prev = 0, genesis_hash(workspace_id)
    else:
        head_seq, prev = head.value.split(":", 1)
        last_seq = int(head_seq)
    # NOTE: a row forged after the head must not block every later write (and so the unlock);
    # the new entry goes after it and still links to the last honest hash, so verify() names it.
    last_seq = max(last_seq, session.scalar(select(func.max(AuditEntry.seq))) or 0)
    seq = last_seq + 1
    entry = AuditEntry(
        seq=seq,
        at=datetime.now(UTC).isoformat(timespec="milliseconds"),
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        unit=unit,
        detail=_check_detail(detail or {}),
        prev_hash=prev,
    )
    entry.hash = entry_hash(prev, _fields(entry))
    session.add(entry)
    head.value = f"{seq}:{entry.hash}"
    session.flush()
    return entry


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of :func:`verify`. ``first_bad_seq`` is ``None`` when the chain is intact."""

    ok: bool
    entries: int
    first_bad_seq: int | None = None
    problem: str = ""


def verify(session: Session, workspace_id: str, *, batch: int = 5000) -> VerifyResult:
    """Walks the chain in ``seq`` order and reports the first entry that does not verify."""
    if session.get_bind().dialect.name == "postgresql" and not session.in_transaction():
        # NOTE: one snapshot for the walk and the head: importers may append meanwhile.
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    expected_prev = genesis_hash(workspace_id)
    expected_seq = 1
    count = 0
    for e in _iter_entries(session, batch):
        if e.seq == 1 and e.action != "workspace.created":
            return VerifyResult(False, 0, 1, "the log does not begin with the creation of the workspace")
        if e.seq != expected_seq:
            return VerifyResult(False, count, expected_seq, f"entry {expected_seq} is missing (next is {e.seq})")
        if e.prev_hash != expected_prev:
            return VerifyResult(False, count, e.seq, f"entry {e.seq} does not link to entry {e.seq - 1}")
        if entry_hash(e.prev_hash, _fields(e)) != e.hash:
            return VerifyResult(False, count, e.seq, f"entry {e.seq} was altered")
        expected_prev = e.hash
        expected_seq += 1
        count += 1
    head = session.get(Meta, HEAD_KEY)
    if head is None:
        if count:
            return VerifyResult(False, count, count, "the chain head record is missing")
        return VerifyResult(False, 0, 1, "the log is empty: every workspace's log begins with its creation")
    head_seq, head_hash = head.value.split(":", 1)
    if int(head_seq) != count or head_hash != expected_prev:
        missing_from = count + 1 if int(head_seq) > count else int(head_seq)
        return VerifyResult(False, count, missing_from, f"entries after {count} were removed or the head was changed")
    return VerifyResult(True, count)


def _iter_entries(session: Session, batch: int) -> Iterator[AuditEntry]:
    last = 0
    while True:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.seq > last).order_by(AuditEntry.seq).limit(batch)).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq
        session.expunge_all()
