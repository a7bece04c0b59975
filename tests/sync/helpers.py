# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers of the sync tests: row counts, keys read from a store, forged bundles."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from nap_desktop.data.migrate import head_revision
from nap_desktop.data.models import Base
from nap_desktop.data.sync_models import SyncKey
from nap_desktop.services.context import Workspace
from nap_desktop.sync.bundle import Manifest, write_bundle
from nap_desktop.sync.minisign import SecretKey
from nap_desktop.sync.payload import dumps


def row_counts(ws: Workspace) -> dict[str, int]:
    """Rows of every table of the store (what an import that fails must leave unchanged)."""
    with ws.sf() as s:
        return {t.name: s.scalar(select(func.count()).select_from(t)) or 0 for t in Base.metadata.sorted_tables}


def signing_key(ws: Workspace) -> SecretKey:
    with ws.sf() as s:
        row = s.scalars(select(SyncKey).where(SyncKey.purpose == "signing", SyncKey.status == "active")).one()
        return SecretKey.from_bytes(row.secret)


def age_identity(ws: Workspace) -> str:
    with ws.sf() as s:
        return s.scalars(select(SyncKey).where(SyncKey.purpose == "age", SyncKey.status == "active")).one().secret.decode()


def age_recipient(ws: Workspace) -> str:
    with ws.sf() as s:
        return s.scalars(select(SyncKey).where(SyncKey.purpose == "age", SyncKey.status == "active")).one().public


def forge(
    sender: Workspace,
    folder: Path,
    lines: Iterable[Mapping[str, Any] | bytes],
    *,
    recipients: list[str],
    key: SecretKey | None = None,
    counts: Mapping[str, int] | None = None,
    name: str | None = None,
    **manifest: Any,
) -> Path:
    """A bundle with arbitrary lines, signed by ``sender``'s real key (or ``key``) unless told otherwise."""
    key = key or signing_key(sender)
    raw = [ln if isinstance(ln, bytes) else dumps(ln) for ln in lines]
    if counts is None:
        c: dict[str, int] = {}
        for ln in lines:
            if not isinstance(ln, bytes):
                c[str(ln["t"])] = c.get(str(ln["t"]), 0) + 1
        counts = c
    bid = manifest.pop("bundle_id", str(uuid.uuid4()))

    def make(sha: str, size: int, plain: int) -> Manifest:
        fields: dict[str, Any] = dict(
            bundle_id=bid, kind="changes", device_id=sender.wf.workspace_id, source_unit=sender.wf.unit, key_id=key.public.id_hex,
            created_at="2026-06-15T10:00:00+00:00", schema_version=head_revision(), recipients=tuple(recipients),
            payload_sha256=sha, payload_size=size, plain_size=plain, seq_from=1, seq_to=1, counts=dict(counts),
        )
        fields.update(manifest)
        return Manifest(**fields)

    path, _ = write_bundle(folder, name or f"forged-{bid[:8]}.napb", make, raw, recipients, key)
    return path
