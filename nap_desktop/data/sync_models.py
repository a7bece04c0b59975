# SPDX-License-Identifier: GPL-3.0-or-later
"""Tables of sync (DESIGN §6): keys, bundles in and out, peers, conflicts, enrolment requests.

Secrets (signing seeds, age identities, the match-token key) live here, inside the encrypted
store, never in ``workspace.json``. Conflicting versions keep the incoming record whole, so a
person can compare and choose; they too stay inside the encrypted store.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from nap_desktop.data.models import Base, new_id, utcnow


class SyncKey(Base):
    """A key of this workspace: its device signing key, its age identity, HQ's root key, the match key."""

    __tablename__ = "sync_keys"

    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))  # signing / age / root / match
    secret: Mapped[bytes] = mapped_column(LargeBinary)
    public: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="active")  # active / retired / revoked
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column()


class SyncBundle(Base):
    """A bundle this workspace wrote (``out``) or read (``in``), with what became of it."""

    __tablename__ = "sync_bundles"

    bundle_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    direction: Mapped[str] = mapped_column(String(4))
    kind: Mapped[str] = mapped_column(String(16))
    device_id: Mapped[str] = mapped_column(String(36), default="")
    source_unit: Mapped[str] = mapped_column(String(24), default="")
    key_id: Mapped[str] = mapped_column(String(16), default="")
    seq_from: Mapped[int] = mapped_column(Integer, default=0)
    seq_to: Mapped[int] = mapped_column(Integer, default=0)
    manifest_sha256: Mapped[str] = mapped_column(String(64), index=True)
    prev_sha256: Mapped[str] = mapped_column(String(64), default="")
    # out: exported / acknowledged; in: imported / held / rejected / relayed
    state: Mapped[str] = mapped_column(String(16))
    counts: Mapped[str] = mapped_column(Text, default="{}")
    summary: Mapped[str] = mapped_column(Text, default="{}")
    note: Mapped[str] = mapped_column(Text, default="")
    file_name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (Index("ix_sync_bundles_device", "device_id", "seq_to"),)


class SyncPeer(Base):
    """What this workspace has applied from one device: the highest contiguous seq and the chain head."""

    __tablename__ = "sync_peers"

    device_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    unit: Mapped[str] = mapped_column(String(24))
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_manifest_sha256: Mapped[str] = mapped_column(String(64), default="")
    last_audit_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_audit_hash: Mapped[str] = mapped_column(String(64), default="")
    last_import_at: Mapped[datetime | None] = mapped_column()


class SyncConflict(Base):
    """An incoming edit that did not build on the version here: both kept until a person decides."""

    __tablename__ = "sync_conflicts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    record_type: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[str] = mapped_column(String(36), index=True)
    bundle_id: Mapped[str] = mapped_column(String(36))
    source_unit: Mapped[str] = mapped_column(String(24))
    local_version: Mapped[int] = mapped_column(Integer)
    local_hash: Mapped[str] = mapped_column(String(64))
    incoming_version: Mapped[int] = mapped_column(Integer)
    incoming_base_version: Mapped[int] = mapped_column(Integer)
    incoming: Mapped[str] = mapped_column(Text)  # the whole incoming record line (JSON)
    state: Mapped[str] = mapped_column(String(16), default="open")  # open / resolved
    resolution: Mapped[str] = mapped_column(String(16), default="")  # local / incoming
    resolved_by: Mapped[str] = mapped_column(String(32), default="")
    resolved_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EnrolRequest(Base):
    """A device's request to join, as HQ received it."""

    __tablename__ = "enrol_requests"

    request_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(36), index=True)
    unit: Mapped[str] = mapped_column(String(24))
    site_kind: Mapped[str] = mapped_column(String(8))
    signing_public: Mapped[str] = mapped_column(Text)
    age_recipient: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending / approved / rejected
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column()
    decided_by: Mapped[str] = mapped_column(String(32), default="")


class RemoteAudit(Base):
    """Audit entries received from a device, kept with their own hash chain (checked on import)."""

    __tablename__ = "remote_audit"

    device_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(48))
    object_type: Mapped[str] = mapped_column(String(32), default="")
    object_id: Mapped[str] = mapped_column(String(64), default="")
    unit: Mapped[str] = mapped_column(String(24), default="")
    detail: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class MatchToken(Base):
    """Keyed tokens of a person's identity (HMAC): equal tokens mean a probable duplicate."""

    __tablename__ = "match_tokens"

    person_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # id / nd (name + date of birth)
    token: Mapped[str] = mapped_column(String(64), index=True)
    unit: Mapped[str] = mapped_column(String(24))


class PurgedRecord(Base):
    """A record whose personal fields were purged here after HQ acknowledged it."""

    __tablename__ = "purged_records"

    record_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    record_type: Mapped[str] = mapped_column(String(32))
    purged_at: Mapped[datetime] = mapped_column(default=utcnow)


class RecordMerge(Base):
    """A version made by resolving a conflict: besides its base it supersedes this other version.

    Travels with the record (``merged`` in its line), so the site above applies the decision
    cleanly whichever of the two conflicting versions it holds.
    """

    __tablename__ = "record_merges"

    record_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    other_hash: Mapped[str] = mapped_column(String(64))


class RequestNonce(Base):
    """A nonce of a signed request to the intake server, kept until its time window has passed.

    Shared by every intake server on one store: a request replayed to another server finds its
    nonce here (the insert conflicts) and is refused. ``expires_at`` is in Unix seconds.
    """

    __tablename__ = "request_nonces"

    device_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(32), primary_key=True)
    expires_at: Mapped[int] = mapped_column(Integer, index=True)
