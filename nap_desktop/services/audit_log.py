# SPDX-License-Identifier: GPL-3.0-or-later
"""Audit use cases: verify the chain, list entries (auditors)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from nap_desktop.data.models import AuditEntry
from nap_desktop.security import audit
from nap_desktop.security.audit import VerifyResult
from nap_desktop.security.permissions import Perm
from nap_desktop.services.context import Workspace


@dataclass(frozen=True)
class AuditEntryDTO:
    seq: int
    at: str
    actor: str
    action: str
    object_type: str
    object_id: str
    unit: str
    detail: str


def verify_audit(ws: Workspace) -> VerifyResult:
    """Walks the whole chain. The check itself is audited after the walk."""
    ws.require(Perm.AUDIT_VERIFY)
    with ws.sf() as s:
        result = audit.verify(s, ws.workspace_id)
    if result.ok:
        # Appending to a broken chain would hide nothing but would muddle the report; only an
        # intact chain records that it was checked.
        with ws.sf.begin() as s:
            ws.audit(s, "audit.verified", detail={"entries": result.entries})
    return result


def list_audit(
    ws: Workspace,
    *,
    limit: int = 100,
    before_seq: int | None = None,
    actor: str | None = None,
    action: str | None = None,
) -> list[AuditEntryDTO]:
    """Newest entries first, paged by ``before_seq``."""
    ws.require(Perm.AUDIT_READ)
    with ws.sf.begin() as s:
        q = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(max(1, min(limit, 10_000)))
        if before_seq is not None:
            q = q.where(AuditEntry.seq < before_seq)
        if actor:
            q = q.where(AuditEntry.actor == actor)
        if action:
            q = q.where(AuditEntry.action.startswith(action))
        rows = [
            AuditEntryDTO(e.seq, e.at, e.actor, e.action, e.object_type, e.object_id, e.unit, e.detail) for e in s.scalars(q)
        ]
        ws.audit(s, "audit.listed", detail={"rows": len(rows)})
    return rows
