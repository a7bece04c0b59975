# SPDX-License-Identifier: GPL-3.0-or-later
"""Sync use cases (DESIGN §6): keys, enrolment, export, import, receipts, conflicts, purge.

The flow, for a post::

    post:   enrol_request ──file──▶ HQ: enrol_approve ──file──▶ post: enrol_accept
    post:   export_changes ──.napb (USB / circle / link)──▶ circle: import_bundle (relay) ──▶ HQ: import_bundle
    HQ:     receipt .napb ──▶ post: import_bundle (acknowledged; personal data purged after retention)

Every bundle is applied whole or not at all, in one transaction. Nothing is decided by clocks:
order comes from each device's change sequence, and an edit that does not build on the version
here goes to the conflict queue for a person to resolve.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyrage
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from nap_desktop.data.meta import get_meta, set_meta, xact_lock
from nap_desktop.data.migrate import head_revision
from nap_desktop.data.stats import refresh_statistics
from nap_desktop.data.models import AuditEntry, Meta, Unit, utcnow
from nap_desktop.data.record_models import MODEL_BY_TYPE, Person, PersonIdentity, RecordHistory, SyncMixin
from nap_desktop.data.sync_models import (
    EnrolRequest,
    MatchToken,
    PurgedRecord,
    RecordMerge,
    RemoteAudit,
    SyncBundle,
    SyncConflict,
    SyncKey,
    SyncPeer,
)
from nap_desktop.domain.codelists import CodeLists, default_codelists
from nap_desktop.domain.records import RECORD_TYPES
from nap_desktop.domain.validation import age_on, validate
from nap_desktop.errors import (
    BundleDamaged,
    BundleRejected,
    EnrolmentError,
    NotEnrolled,
    NotFound,
    RecordLocked,
    RegistryError,
    SyncError,
    ValidationError,
)
from nap_desktop.security import audit as audit_chain
from nap_desktop.security.crypto import atomic_write
from nap_desktop.security.permissions import Perm
from nap_desktop.services.context import Workspace
from nap_desktop.sync import registry as reg
from nap_desktop.sync.bundle import SUFFIX, Manifest, OpenedBundle, open_bundle, write_bundle
from nap_desktop.sync.minisign import PublicKey, SecretKey, SignatureError
from nap_desktop.sync.payload import (
    AUDIT_COLUMNS,
    TYPE_ORDER,
    UNIT_COLUMNS,
    Applier,
    LineError,
    RecordLine,
    codec,
    conflict_row,
    decode_record,
    dumps,
    apply_return,
    export_records,
    export_returns,
    values_of,
)

META_REGISTRY = "sync.registry"
META_ROOT = "sync.root_public"
META_EXPORTED = "sync.exported_seq"
META_ACKED = "sync.acked_seq"
META_LAST_OUT = "sync.last_out_sha256"
META_AUDIT_OUT = "sync.exported_audit_seq"
META_RETENTION = "sync.retention_days"
DEFAULT_RETENTION_DAYS = 90
REQUEST_FORMAT = "nap-enrol-request/1"
RESPONSE_FORMAT = "nap-enrol-response/1"
REQUEST_SUFFIX = ".napreq"
RESPONSE_SUFFIX = ".napresp"
MAX_SMALL_FILE = 8 * 1024 * 1024
_BATCH = 500

ProgressFn = Callable[[int, str], None]


# --- DTOs --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportResult:
    path: Path | None
    bundle_id: str
    seq_from: int
    seq_to: int
    records: int
    audit_entries: int
    relayed: tuple[Path, ...] = ()


@dataclass(frozen=True)
class ImportSummary:
    """What an import did (or, for a dry run, would do). No personal data."""

    file: str
    bundle_id: str
    kind: str
    source_unit: str
    outcome: str  # imported / already imported / held / dry run / acknowledged
    new: int = 0
    updated: int = 0
    identical: int = 0
    conflicts: int = 0
    rejected: int = 0
    problems: tuple[str, ...] = ()
    audit_entries: int = 0
    missing: tuple[int, int] | None = None
    receipt: Path | None = None
    acknowledged: int = 0
    purged: int = 0
    config_version: int | None = None  # HQ's field settings in a config bundle

    def line(self) -> str:
        if self.outcome == "held":
            why = f"missing changes {self.missing[0]}–{self.missing[1]}" if self.missing else (self.problems[0] if self.problems else "")
            return f"{self.file}: held ({why}); it is imported automatically once the missing bundle arrives"
        if self.outcome == "already imported":
            return f"{self.file}: already imported, nothing changed"
        if self.kind == "config":
            done = "would apply" if self.outcome == "dry run" else "already applied" if self.outcome == "already applied" else "applied"
            return f"{self.file}: HQ's field settings version {self.config_version}: {done}"
        if self.kind in ("receipt", "registry"):
            return f"{self.file}: {self.outcome}: {self.acknowledged} bundle(s) acknowledged, {self.purged} record(s) purged after retention"
        head = "would import" if self.outcome == "dry run" else "imported"
        return (
            f"{self.file}: {head} from {self.source_unit}: {self.new} new, {self.updated} updated, {self.identical} identical, "
            f"{self.conflicts} conflicts, {self.rejected} rejected, {self.audit_entries} audit entries"
        )


@dataclass(frozen=True)
class SyncStatus:
    enrolled: bool
    site_kind: str
    device_id: str
    unit: str
    registry_version: int | None
    registry_expires: datetime | None
    root_fingerprint: str
    key_id: str
    pending_records: int
    exported_seq: int
    acked_seq: int
    unacknowledged: tuple[str, ...]
    held: tuple[tuple[str, str, str], ...]  # bundle id, unit, note
    open_conflicts: int
    pending_requests: int
    retention_days: int


@dataclass(frozen=True)
class BundleInfo:
    bundle_id: str
    direction: str
    kind: str
    source_unit: str
    seq_from: int
    seq_to: int
    state: str
    created_at: datetime
    processed_at: datetime | None
    summary: dict[str, Any]
    note: str


@dataclass(frozen=True)
class ConflictInfo:
    id: str
    record_type: str
    record_id: str
    source_unit: str
    local_version: int
    incoming_version: int
    state: str
    resolution: str
    created_at: datetime
    #: ``edited``: both sides changed the record; ``locked``: the incoming change builds on the
    #: version here (or is a new record) but is dated in a month whose return is approved.
    reason: str = "edited"


@dataclass(frozen=True)
class ConflictDetail:
    info: ConflictInfo
    local: dict[str, Any]  # empty for a new record (nothing here yet)
    incoming: dict[str, Any]
    differing: tuple[str, ...]
    masked: tuple[str, ...]
    locked: str = ""  # what must be unlocked before the incoming version can be taken


@dataclass(frozen=True)
class EnrolResult:
    path: Path
    device_id: str
    unit: str
    key_id: str
    root_fingerprint: str
    registry_version: int


@dataclass(frozen=True)
class DeviceInfo:
    device_id: str
    unit: str
    site_kind: str
    keys: tuple[tuple[str, str], ...]  # key id, status
    last_seq: int
    last_import_at: datetime | None


# --- small helpers -------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


def _meta(s: Session, key: str, default: str = "") -> str:
    return get_meta(s, key, default)


def _set_meta(s: Session, key: str, value: str) -> None:
    set_meta(s, key, value)  # an insert racing another process's does not collide (data/meta.py)


def _device_id(ws: Workspace) -> str:
    return ws.wf.workspace_id


def _is_hq(ws: Workspace) -> bool:
    return ws.wf.site_kind == "hq"


def _read_small(path: Path, what: str) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_SMALL_FILE:
            raise EnrolmentError(f"The {what} file {path.name} is too large.")
        return path.read_bytes()
    except OSError as exc:
        raise EnrolmentError(f"The {what} file {path.name} cannot be read.") from exc


# --- keys --------------------------------------------------------------------------------------


def _keys(s: Session, purpose: str, statuses: Iterable[str] = ("active",)) -> list[SyncKey]:
    return list(s.scalars(select(SyncKey).where(SyncKey.purpose == purpose, SyncKey.status.in_(list(statuses))).order_by(SyncKey.created_at)))


def _signing_key(s: Session) -> SecretKey | None:
    rows = _keys(s, "signing")
    return SecretKey.from_bytes(rows[-1].secret) if rows else None


def _age_identities(s: Session) -> list[Any]:
    """Every age identity this workspace may still receive with (retired ones read older bundles)."""
    return [pyrage.x25519.Identity.from_str(k.secret.decode()) for k in _keys(s, "age", ("active", "retired", "pending"))]


def _age_recipient(s: Session) -> str:
    rows = _keys(s, "age")
    if not rows:
        raise SyncError("This workspace has no sync keys yet.")
    return rows[-1].public


def _new_device_keys(s: Session, status: str = "active") -> tuple[SecretKey, pyrage.x25519.Identity]:
    sk = SecretKey.generate()
    ident = pyrage.x25519.Identity.generate()
    s.add(SyncKey(key_id=sk.public.id_hex, purpose="signing", secret=sk.to_bytes(), public=sk.public.to_base64(), status=status))
    s.add(SyncKey(key_id=f"age:{sk.public.id_hex}", purpose="age", secret=str(ident).encode(), public=str(ident.to_public()), status=status))
    s.flush()
    return sk, ident


def _ensure_device_keys(s: Session) -> SecretKey:
    sk = _signing_key(s)
    if sk is None:
        sk, _ = _new_device_keys(s)
    return sk


def _trusted_root(ws: Workspace, s: Session) -> PublicKey | None:
    if _is_hq(ws):
        # HQ trusts its own root keys: the one that signed the registry it holds (the previous one
        # while a rotation is being issued), else the newest.
        rows = _keys(s, "root", ("active", "retired"))
        if not rows:
            return None
        try:
            signer = json.loads(_meta(s, META_REGISTRY) or "{}").get("signed", {}).get("root", {}).get("key_id")
        except (ValueError, AttributeError):
            signer = None
        own = next((k for k in rows if k.key_id == f"root:{signer}"), None)
        active = [k for k in rows if k.status == "active"]
        row = own or (active or rows)[-1]
        return SecretKey.from_bytes(row.secret).public
    text = _meta(s, META_ROOT)
    return PublicKey.from_base64(text) if text else None


def _registry(ws: Workspace, s: Session, *, fresh: bool = False) -> reg.Registry | None:
    """The registry in use; ``fresh``: re-read from the store (another process may have issued one)."""
    if fresh:
        s.flush()
        row = s.get(Meta, META_REGISTRY, populate_existing=True)
        text = row.value if row is not None else ""
    else:
        text = _meta(s, META_REGISTRY)
    if not text:
        return None
    return reg.parse(text, trusted_root=_trusted_root(ws, s))


_REGISTRY_LOCK = ("registry", "issue")


def _lock_registry(s: Session) -> None:
    """HQ: one process at a time makes keys or issues a registry (several share a PostgreSQL store).

    Without it two intake servers renewing at once would issue two different registries with the
    same version, and two first uses of a new store would each make a root key. The lock is held
    until the commit; whoever waited then reads what the other issued (``_registry(fresh=True)``).
    """
    xact_lock(s, *_REGISTRY_LOCK)


def _require_registry(ws: Workspace, s: Session) -> reg.Registry:
    r = _registry(ws, s)
    if r is not None and _is_hq(ws) and registry_due_for_renewal(r):
        _lock_registry(s)
        r = _registry(ws, s, fresh=True)
        if r is not None and registry_due_for_renewal(r):
            r = _issue_registry(ws, s, lambda devices: None, what="renewal")
    if r is None:
        if _is_hq(ws):
            r = _ensure_hq(ws, s)
        else:
            raise NotEnrolled("This workspace is not enrolled with HQ yet: make an enrolment request (Sync screen ▸ Make enrolment request…) and accept HQ's answer.")
    return r


def _ensure_hq(ws: Workspace, s: Session) -> reg.Registry:
    """Creates HQ's root key, its own device keys, the match key and registry version 1, once."""
    current = _registry(ws, s)
    if current is not None:
        return current
    _lock_registry(s)
    current = _registry(ws, s, fresh=True)  # made by another process while this one waited
    if current is not None:
        return current
    root = SecretKey.generate()
    s.add(SyncKey(key_id=f"root:{root.public.id_hex}", purpose="root", secret=root.to_bytes(), public=root.public.to_base64()))
    match_key = os.urandom(32)
    s.add(SyncKey(key_id="match", purpose="match", secret=match_key, public=""))
    sk = _ensure_device_keys(s)
    entry = _device_entry(_device_id(ws), ws.wf.unit, "hq", sk.public, _age_recipient(s), match_key, now=_now())
    recovery = ws.wf.recovery.recipient if ws.wf.recovery else ""
    body = reg.new_body(version=1, root=root.public, hq_device=_device_id(ws), recovery_recipient=recovery, devices=[entry], now=_now())
    r = reg.sign(body, root)
    _set_meta(s, META_REGISTRY, r.text)
    ws.audit(s, "sync.registry_issued", object_type="registry", object_id=str(r.version), detail={"version": r.version, "devices": 1})
    return r


def _device_entry(device_id: str, unit: str, site_kind: str, pub: PublicKey, age: str, match_key: bytes, *, now: datetime) -> dict[str, Any]:
    return {
        "device_id": device_id,
        "unit": unit,
        "site_kind": site_kind,
        "keys": [{"key_id": pub.id_hex, "public": pub.to_base64(), "age": age, "status": "active", "retired_after_seq": None, "since": now.isoformat(timespec="seconds")}],
        "match_key": _wrap_match_key(match_key, [age]),
    }


def _wrap_match_key(key: bytes, recipients: list[str]) -> str:
    return reg.b64(pyrage.encrypt(key, [pyrage.x25519.Recipient.from_str(r) for r in recipients]))


def _match_key(ws: Workspace, s: Session, r: reg.Registry | None) -> bytes | None:
    if _is_hq(ws):
        rows = _keys(s, "match")
        return rows[-1].secret if rows else None
    if r is None:
        return None
    d = r.device(_device_id(ws))
    if d is None:
        return None
    try:
        return pyrage.decrypt(reg.unb64(d["match_key"]), _age_identities(s))
    except Exception:  # noqa: BLE001 - a key rotated before HQ rewrapped: tokens are optional
        return None


def _issue_registry(ws: Workspace, s: Session, change: Callable[[list[dict[str, Any]]], None], *, what: str) -> reg.Registry:
    """HQ: the next registry version with ``change`` applied to the device list, signed and stored."""
    _lock_registry(s)
    current = _registry(ws, s, fresh=True) or _ensure_hq(ws, s)
    devices = json.loads(json.dumps(current.body["devices"]))
    change(devices)
    root = SecretKey.from_bytes(_keys(s, "root")[-1].secret)
    recovery = ws.wf.recovery.recipient if ws.wf.recovery else ""
    chain = list(current.body.get("root_chain", []))
    if root.public.key_id != current.root.key_id:  # the root was rotated: hand over from the one in use
        old = next((SecretKey.from_bytes(k.secret) for k in _keys(s, "root", ("active", "retired")) if k.key_id == f"root:{current.root.id_hex}"), None)
        if old is None:
            raise RegistryError("HQ's previous root key is missing from the store: the devices could not follow the change.")
        chain.append(reg.handover(old, root.public, at_version=current.version + 1))
    body = reg.new_body(
        version=current.version + 1, root=root.public, hq_device=current.hq_device, recovery_recipient=recovery, devices=devices, now=_now(), root_chain=chain
    )
    r = reg.sign(body, root)
    _set_meta(s, META_REGISTRY, r.text)
    ws.audit(s, "sync.registry_issued", object_type="registry", object_id=str(r.version), detail={"version": r.version, "devices": len(devices), "change": what})
    return r


def _accept_registry(ws: Workspace, s: Session, new: reg.Registry) -> bool:
    """A device takes a newer registry; keys HQ has now listed become active here."""
    current = _registry(ws, s)
    if not reg.check_newer(current, new, now=_now()):
        return False
    d = new.device(_device_id(ws))
    if d is None:
        raise RegistryError("The key registry does not list this workspace: it was not enrolled, or it was removed by HQ.")
    listed = {k["key_id"]: k["status"] for k in d["keys"]}
    for k in s.scalars(select(SyncKey).where(SyncKey.purpose.in_(["signing", "age"]))):
        key_id = k.key_id.removeprefix("age:")
        status = listed.get(key_id)
        if status == "active" and k.status == "pending":
            k.status = "active"
        elif status in ("retired", "revoked") and k.status != status:
            k.status = status
            k.retired_at = utcnow()
    _set_meta(s, META_REGISTRY, new.text)
    _set_meta(s, META_ROOT, new.root.to_base64())
    ws.audit(s, "sync.registry_accepted", object_type="registry", object_id=str(new.version), detail={"version": new.version})
    return True


# --- enrolment ----------------------------------------------------------------------------------


def _request_body(ws: Workspace, s: Session, sk: SecretKey, age: str, *, rotation: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "format": REQUEST_FORMAT,
        "request_id": str(uuid.uuid4()),
        "device_id": _device_id(ws),
        "unit": ws.wf.unit,
        "site_kind": ws.wf.site_kind,
        "key_id": sk.public.id_hex,
        "public": sk.public.to_base64(),
        "age": age,
        "created_at": _now().isoformat(timespec="seconds"),
        "rotation": rotation,
    }


def _write_request(folder: Path, ws: Workspace, body: dict[str, Any], signatures: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"enrol-{ws.wf.unit}-{body['device_id'][:8]}-{body['request_id'][:8]}{REQUEST_SUFFIX}"
    atomic_write(path, json.dumps({"request": body, "signatures": signatures}, indent=1, sort_keys=True).encode(), mode=0o644)
    return path


def enrol_request(ws: Workspace, out_dir: Path | None = None) -> EnrolResult:
    """Field workspace: makes its device keys (once) and writes an enrolment request for HQ."""
    ws.require(Perm.KEYS_MANAGE)
    if _is_hq(ws):
        raise EnrolmentError("HQ does not enrol: it issues the key registry. Approve field requests instead.")
    with ws.sf.begin() as s:
        sk = _ensure_device_keys(s)
        body = _request_body(ws, s, sk, _age_recipient(s))
        sig = sk.sign(reg.canonical(body), f"{REQUEST_FORMAT} id={body['request_id']}", "nap-desktop enrolment request")
        path = _write_request(out_dir or ws.path / "outbox", ws, body, {"new": sig})
        ws.audit(s, "sync.enrol_requested", object_type="device", object_id=body["device_id"], unit=ws.wf.unit, detail={"key_id": sk.public.id_hex})
        r = _registry(ws, s)
    return EnrolResult(path, body["device_id"], ws.wf.unit, sk.public.id_hex, r.fingerprint() if r else "", r.version if r else 0)


def rotate_keys(ws: Workspace, out_dir: Path | None = None) -> EnrolResult:
    """Field workspace: makes new device keys now and writes a rotation request (signed by old and new).

    Bundles from now on are signed with the new key; the old key stays valid at HQ for the changes
    already exported (up to the current exported sequence), and is retired once HQ approves.
    """
    ws.require(Perm.KEYS_MANAGE)
    if _is_hq(ws):
        raise EnrolmentError("HQ's own keys rotate with a new registry; this command is for field workspaces.")
    with ws.sf.begin() as s:
        _require_registry(ws, s)
        old = _signing_key(s)
        if old is None:
            raise SyncError("This workspace has no sync keys to rotate; enrol it first.")
        exported = int(_meta(s, META_EXPORTED, "0"))
        for k in _keys(s, "signing") + _keys(s, "age"):
            k.status, k.retired_at = "retired", utcnow()
        new, ident = _new_device_keys(s)
        rotation = {"old_key_id": old.public.id_hex, "retired_after_seq": exported}
        body = _request_body(ws, s, new, str(ident.to_public()), rotation=rotation)
        msg = reg.canonical(body)
        comment = f"{REQUEST_FORMAT} id={body['request_id']}"
        sigs = {"new": new.sign(msg, comment), "old": old.sign(msg, comment)}
        path = _write_request(out_dir or ws.path / "outbox", ws, body, sigs)
        ws.audit(s, "sync.keys_rotated", object_type="device", object_id=body["device_id"], unit=ws.wf.unit, detail={"old": old.public.id_hex, "new": new.public.id_hex})
        r = _registry(ws, s)
    return EnrolResult(path, body["device_id"], ws.wf.unit, new.public.id_hex, r.fingerprint() if r else "", r.version if r else 0)


def _parse_request(raw: bytes) -> tuple[dict[str, Any], dict[str, str]]:
    try:
        doc = json.loads(raw.decode("utf-8"))
        body, sigs = doc["request"], doc["signatures"]
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise EnrolmentError("This is not an enrolment request file (or it is damaged).") from exc
    need = {"format", "request_id", "device_id", "unit", "site_kind", "key_id", "public", "age", "created_at", "rotation"}
    if not isinstance(body, dict) or set(body) != need or body["format"] != REQUEST_FORMAT or not isinstance(sigs, dict):
        raise EnrolmentError("This is not an enrolment request file (or it is damaged).")
    if not all(isinstance(body[k], str) for k in need - {"rotation"}) or body["site_kind"] not in ("post", "circle"):
        raise EnrolmentError("The enrolment request is malformed.")
    try:
        pub = PublicKey.from_base64(body["public"])
        pyrage.x25519.Recipient.from_str(body["age"])
        pub.verify(reg.canonical(body), sigs.get("new", ""))
    except (SignatureError, Exception) as exc:  # noqa: BLE001 - pyrage raises its own types
        raise EnrolmentError("The enrolment request's keys or signature do not check: the file was altered or damaged.") from exc
    if pub.id_hex != body["key_id"]:
        raise EnrolmentError("The enrolment request's key id does not match its key.")
    return body, sigs


def enrol_approve(ws: Workspace, request_file: Path, *, unit: str | None = None, out_dir: Path | None = None) -> EnrolResult:
    """HQ: checks a request (or a key rotation), adds the device to the registry, writes the answer."""
    ws.require(Perm.KEYS_MANAGE)
    if not _is_hq(ws):
        raise EnrolmentError("Only an HQ workspace approves enrolment requests.")
    body, sigs = _parse_request(_read_small(Path(request_file), "enrolment request"))
    assigned = unit or body["unit"]
    if assigned != body["unit"]:
        raise EnrolmentError(
            f"The device was set up for unit {body['unit']}, not {assigned}. Set the device up again for the right unit, then send a new request."
        )
    with ws.sf.begin() as s:
        u = s.get(Unit, assigned)
        if u is None or not u.active:
            raise EnrolmentError(f"Unit {assigned} is not an active unit at HQ. Add it first (Units), then approve the request.")
        if u.kind != body["site_kind"]:
            raise EnrolmentError(f"Unit {assigned} is a {u.kind}, but the device was set up as a {body['site_kind']}.")
        current = _ensure_hq(ws, s)
        rotation = body["rotation"]
        existing = current.device(body["device_id"])
        if rotation is not None:
            if existing is None:
                raise EnrolmentError("This key rotation is for a device HQ has not enrolled.")
            old = current.key(str(rotation.get("old_key_id")))
            if old is None or old.device_id != body["device_id"] or old.status == "revoked":
                raise EnrolmentError("The rotation is not signed by a live key of this device.")
            try:
                old.public.verify(reg.canonical(body), sigs.get("old", ""))
            except SignatureError as exc:
                raise EnrolmentError("The rotation request is not signed by the device's current key: it was refused.") from exc
        elif existing is not None and any(k["key_id"] != body["key_id"] and k["status"] == "active" for k in existing["keys"]):
            raise EnrolmentError("This device is already enrolled with other keys. Rotate its keys from the device instead.")
        match_key = _keys(s, "match")[-1].secret

        def change(devices: list[dict[str, Any]]) -> None:
            for d in devices:
                if d["device_id"] != body["device_id"]:
                    continue
                if any(k["key_id"] == body["key_id"] for k in d["keys"]):
                    return
                for k in d["keys"]:
                    if rotation is not None and k["key_id"] == rotation["old_key_id"]:
                        k["status"], k["retired_after_seq"] = "retired", int(rotation["retired_after_seq"])
                d["keys"].append(_device_entry(body["device_id"], assigned, body["site_kind"], PublicKey.from_base64(body["public"]), body["age"], match_key, now=_now())["keys"][0])
                d["match_key"] = _wrap_match_key(match_key, [k["age"] for k in d["keys"] if k["status"] == "active"])
                return
            devices.append(_device_entry(body["device_id"], assigned, body["site_kind"], PublicKey.from_base64(body["public"]), body["age"], match_key, now=_now()))

        already = existing is not None and any(k["key_id"] == body["key_id"] for k in existing["keys"])
        r = current if already else _issue_registry(ws, s, change, what="rotation" if rotation else "enrolment")
        req = s.get(EnrolRequest, body["request_id"])
        if req is None:
            s.add(
                EnrolRequest(
                    request_id=body["request_id"], device_id=body["device_id"], unit=assigned, site_kind=body["site_kind"],
                    signing_public=body["public"], age_recipient=body["age"], state="approved", decided_at=utcnow(), decided_by=ws.user.username,
                )
            )
        else:
            req.state, req.decided_at, req.decided_by = "approved", utcnow(), ws.user.username
        folder = out_dir or ws.path / "outbox"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"enrol-{assigned}-{body['device_id'][:8]}-{body['request_id'][:8]}{RESPONSE_SUFFIX}"
        response = {"format": RESPONSE_FORMAT, "device_id": body["device_id"], "request_id": body["request_id"], "registry": r.text}
        atomic_write(path, json.dumps(response, indent=1, sort_keys=True).encode(), mode=0o644)
        ws.audit(s, "sync.enrol_approved", object_type="device", object_id=body["device_id"], unit=assigned, detail={"key_id": body["key_id"], "rotation": rotation is not None})
    return EnrolResult(path, body["device_id"], assigned, body["key_id"], r.fingerprint(), r.version)


def _read_response(ws: Workspace, path: Path) -> tuple[str, str]:
    """HQ's answer file: its registry text and the device it is for (this workspace, or refused)."""
    raw = _read_small(path, "enrolment response")
    try:
        doc = json.loads(raw.decode("utf-8"))
        text, device_id = doc["registry"], doc["device_id"]
        if doc.get("format") != RESPONSE_FORMAT or not isinstance(text, str):
            raise ValueError
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise EnrolmentError("This is not an enrolment response file (or it is damaged).") from exc
    if device_id != _device_id(ws):
        raise EnrolmentError("This enrolment response is for another workspace.")
    return text, device_id


def enrol_accept(ws: Workspace, response_file: Path, *, expected_fingerprint: str | None = None) -> EnrolResult:
    """Field workspace: takes HQ's answer (the signed registry listing this device)."""
    ws.require(Perm.KEYS_MANAGE)
    text, device_id = _read_response(ws, Path(response_file))
    with ws.sf.begin() as s:
        trusted = _trusted_root(ws, s)
        new = reg.parse(text, trusted_root=trusted)
        if expected_fingerprint is not None and _norm_fp(expected_fingerprint) != _norm_fp(new.fingerprint()):
            raise EnrolmentError(
                f"HQ's key fingerprint in this file is {new.fingerprint()}, not the one you were given. Do not use this file; ask HQ."
            )
        d = new.device(device_id)
        own = {k.key_id for k in _keys(s, "signing", ("active", "pending", "retired"))}
        if d is None or not any(k["key_id"] in own for k in d["keys"]):
            raise EnrolmentError("HQ's answer does not list this workspace's keys: it answers another request.")
        if d["unit"] != ws.wf.unit:
            raise EnrolmentError(f"HQ enrolled this device for unit {d['unit']}, but the workspace is for {ws.wf.unit}.")
        changed = _accept_registry(ws, s, new)
        ws.audit(s, "sync.enrolled", object_type="device", object_id=device_id, unit=ws.wf.unit, detail={"registry": new.version, "changed": changed})
        sk = _signing_key(s)
    return EnrolResult(Path(response_file), device_id, ws.wf.unit, sk.public.id_hex if sk else "", new.fingerprint(), new.version)


def _norm_fp(text: str) -> str:
    return "".join(text.split()).upper()


@dataclass(frozen=True)
class EnrolRequestInfo:
    """What an enrolment (or key rotation) request asks for, shown before HQ approves it."""

    path: Path
    device_id: str
    unit: str
    site_kind: str
    key_id: str
    key_fingerprint: str
    rotation: bool
    unit_known: bool
    already_enrolled: bool


@dataclass(frozen=True)
class EnrolResponseInfo:
    """HQ's answer as read before a device accepts it: the root fingerprint to confirm."""

    path: Path
    device_id: str
    unit: str
    root_fingerprint: str
    registry_version: int


def read_enrol_request(ws: Workspace, request_file: Path) -> EnrolRequestInfo:
    """HQ: checks a request file (format, keys, signature) and says what it asks for. Writes nothing."""
    ws.require(Perm.KEYS_MANAGE)
    if not _is_hq(ws):
        raise EnrolmentError("Only an HQ workspace approves enrolment requests.")
    body, _sigs = _parse_request(_read_small(Path(request_file), "enrolment request"))
    with ws.sf.begin() as s:
        u = s.get(Unit, body["unit"])
        r = _registry(ws, s)
        d = r.device(body["device_id"]) if r else None
    return EnrolRequestInfo(
        Path(request_file), body["device_id"], body["unit"], body["site_kind"], body["key_id"],
        " ".join(body["key_id"][i : i + 4] for i in range(0, len(body["key_id"]), 4)),
        body["rotation"] is not None, u is not None and u.active, d is not None,
    )


def read_enrol_response(ws: Workspace, response_file: Path) -> EnrolResponseInfo:
    """Field workspace: reads HQ's answer and its root key fingerprint without accepting it."""
    ws.require(Perm.KEYS_MANAGE)
    text, device_id = _read_response(ws, Path(response_file))
    with ws.sf.begin() as s:
        r = reg.parse(text, trusted_root=_trusted_root(ws, s))
    d = r.device(device_id)
    return EnrolResponseInfo(Path(response_file), device_id, d["unit"] if d else "", r.fingerprint(), r.version)


REVOKE_REASONS = ("lost", "stolen", "replaced", "retired", "other")


@dataclass(frozen=True)
class RootRotation:
    registry: reg.Registry
    old_fingerprint: str
    new_fingerprint: str


def rotate_root(ws: Workspace) -> RootRotation:
    """HQ: a new root key signs the registry from now on (staff change, a replaced HQ machine, key
    hygiene). The next registry version carries the old key's signed hand-over to the new one, so
    every enrolled device follows the change when that registry reaches it (sync, or a registry
    bundle on a USB stick), with nobody re-enrolling; from then on it refuses registries signed by
    the old key. The old secret key stays in the store, retired, and signs nothing more.

    NOTE: a hand-over protects a planned change. If the old root key was *stolen*, whoever holds it
    can hand over to a key of their own for devices that have not followed yet: re-enrol those.
    """
    ws.require(Perm.KEYS_MANAGE)
    if not _is_hq(ws):
        raise EnrolmentError("Only HQ changes the root key.")
    with ws.sf.begin() as s:
        current = _ensure_hq(ws, s)
        _lock_registry(s)
        current = _registry(ws, s, fresh=True) or current
        old_row = next(k for k in _keys(s, "root") if k.key_id == f"root:{current.root.id_hex}")
        new = SecretKey.generate()
        s.add(SyncKey(key_id=f"root:{new.public.id_hex}", purpose="root", secret=new.to_bytes(), public=new.public.to_base64(), created_at=utcnow()))
        old_row.status = "retired"
        old_row.retired_at = utcnow()
        s.flush()
        r = _issue_registry(ws, s, lambda devices: None, what="root_rotation")
        ws.audit(
            s, "sync.root_rotated", object_type="registry", object_id=str(r.version),
            detail={"version": r.version, "old_key": current.root.id_hex, "new_key": new.public.id_hex},
        )
    return RootRotation(r, current.fingerprint(), r.fingerprint())


def revoke_key(ws: Workspace, *, key_id: str | None = None, device_id: str | None = None, reason: str = "other") -> reg.Registry:
    """HQ: revokes one key, or every key of a device (a stolen laptop). Nothing it signs is accepted.

    ``reason`` is one of :data:`REVOKE_REASONS` (a code, so the audit entry holds no free text).
    """
    ws.require(Perm.KEYS_MANAGE)
    if not _is_hq(ws):
        raise EnrolmentError("Only HQ revokes keys.")
    if reason not in REVOKE_REASONS:
        raise SyncError(f"Give the reason for the revocation: one of {', '.join(REVOKE_REASONS)}.")
    with ws.sf.begin() as s:
        current = _ensure_hq(ws, s)
        hit = [k for d in current.devices() for k in d["keys"] if k["key_id"] == key_id or (device_id and d["device_id"] == device_id)]
        if not hit:
            raise NotFound("No such key or device in the registry.")
        if any(d["device_id"] == current.hq_device for d in current.devices() if any(k in d["keys"] for k in hit)):
            raise EnrolmentError("HQ's own key cannot be revoked here.")

        def change(devices: list[dict[str, Any]]) -> None:
            for d in devices:
                for k in d["keys"]:
                    if k["key_id"] == key_id or (device_id and d["device_id"] == device_id):
                        k["status"] = "revoked"

        r = _issue_registry(ws, s, change, what="revocation")
        ws.audit(s, "sync.key_revoked", object_type="device", object_id=device_id or key_id or "", detail={"reason": reason, "keys": len(hit), "registry": r.version})
        return r


def registry_text(ws: Workspace) -> str:
    ws.require(Perm.WORKSPACE_VIEW)
    with ws.sf.begin() as s:
        r = _require_registry(ws, s)
        return r.text


def list_devices(ws: Workspace) -> list[DeviceInfo]:
    if not ws.can(Perm.KEYS_MANAGE):  # the HQ admin revokes from this list; analysts see who sends
        ws.require(Perm.BUNDLE_IMPORT)
    with ws.sf.begin() as s:
        r = _require_registry(ws, s)
        peers = {p.device_id: p for p in s.scalars(select(SyncPeer))}
        out = []
        for d in r.devices():
            p = peers.get(d["device_id"])
            out.append(DeviceInfo(d["device_id"], d["unit"], d["site_kind"], tuple((k["key_id"], k["status"]) for k in d["keys"]), p.last_seq if p else 0, p.last_import_at if p else None))
        return out


# --- export ------------------------------------------------------------------------------------


def _recipients(ws: Workspace, r: reg.Registry) -> list[str]:
    """HQ's recipients, plus the parent circle's for a post."""
    out = list(r.recipients(r.hq_device))
    if ws.wf.site_kind == "post":
        parent = ws.unit_chain(ws.wf.unit)[1] if len(ws.unit_chain(ws.wf.unit)) > 1 else None
        for device in r.devices_of_unit(parent) if parent else []:
            out += r.recipients(device)
    return sorted(set(out))


def _unit_lines(ws: Workspace, s: Session) -> Iterator[dict[str, Any]]:
    c = codec("_unit")
    area = ws.subtree(ws.wf.unit)
    rows = s.execute(select(Unit.__table__).where(Unit.code.in_(sorted(area)))).all()
    by_code = {r._mapping["code"]: r for r in rows}
    done: set[str] = set()

    def emit(code: str) -> Iterator[dict[str, Any]]:
        if code in done or code not in by_code:
            return
        parent = by_code[code]._mapping["parent_code"]
        if parent in by_code:
            yield from emit(parent)
        done.add(code)
        yield {"t": "_unit", **c.encode(by_code[code])}

    for code in sorted(by_code):
        yield from emit(code)


def export_changes(ws: Workspace, out_dir: Path | None = None, *, resend: bool = False, progress: ProgressFn | None = None) -> ExportResult:
    """Writes every change since the last export (``resend``: since the last acknowledged one) as a bundle.

    The bundle goes into ``out_dir`` (default: the workspace's ``outbox/``), written under a temporary
    name and renamed when complete. A circle also copies its posts' bundles there, unchanged.
    """
    ws.require(Perm.BUNDLE_EXPORT, unit=ws.wf.unit)
    if _is_hq(ws):
        raise SyncError("HQ does not export changes; it writes receipts and registry updates for devices.")
    folder = Path(out_dir) if out_dir else ws.path / "outbox"
    with ws.sf.begin() as s:
        r = _require_registry(ws, s)
        sk = _signing_key(s)
        if sk is None or r.key(sk.public.id_hex) is None:
            raise SyncError("HQ has not approved this workspace's current key yet; import HQ's answer to the key rotation first.")
        base = int(_meta(s, META_ACKED if resend else META_EXPORTED, "0"))
        seq_to = max(int(_meta(s, "change_seq", "0")), base)
        seq_from = base + 1 if seq_to > base else seq_to  # an empty range: only audit entries
        audit_from = 0 if resend else int(_meta(s, META_AUDIT_OUT, "0"))
        audit_to = s.scalar(select(func.max(AuditEntry.seq))) or 0
        prev = _meta(s, META_LAST_OUT)
        match_key = _match_key(ws, s, r)
        bundle_id = str(uuid.uuid4())
        counts: dict[str, int] = {}
        written = [0]

        def lines() -> Iterator[bytes]:
            for line in _unit_lines(ws, s):
                counts["_unit"] = counts.get("_unit", 0) + 1
                yield dumps(line)
            if seq_to > base:
                for type_name, line in export_records(s, seq_from=seq_from, seq_to=seq_to, match_key=match_key):
                    counts[type_name] = counts.get(type_name, 0) + 1
                    written[0] += 1
                    if progress and written[0] % 2000 == 0:
                        progress(written[0], f"{written[0]} records written")
                    yield dumps(line)
            if seq_to > base:
                for line in export_returns(s, seq_from=seq_from, seq_to=seq_to):
                    counts["_return"] = counts.get("_return", 0) + 1
                    yield dumps(line)
            ac = codec("_audit")
            for row in s.execute(select(AuditEntry.__table__).where(AuditEntry.seq > audit_from, AuditEntry.seq <= audit_to).order_by(AuditEntry.seq)):
                counts["_audit"] = counts.get("_audit", 0) + 1
                yield dumps({"t": "_audit", **ac.encode(row)})

        def manifest(sha: str, size: int, plain: int) -> Manifest:
            return Manifest(
                bundle_id=bundle_id, kind="changes", device_id=_device_id(ws), source_unit=ws.wf.unit, key_id=sk.public.id_hex,
                created_at=_now().isoformat(timespec="seconds"), schema_version=head_revision(), recipients=tuple(_recipients(ws, r)),
                payload_sha256=sha, payload_size=size, plain_size=plain, seq_from=seq_from, seq_to=seq_to, prev_sha256=prev, counts=dict(counts),
            )

        name = f"{ws.wf.unit}-{seq_to:08d}-{bundle_id[:8]}{SUFFIX}"
        path, m = write_bundle(folder, name, manifest, lines(), _recipients(ws, r), sk)
        s.add(
            SyncBundle(
                bundle_id=bundle_id, direction="out", kind="changes", device_id=_device_id(ws), source_unit=ws.wf.unit, key_id=sk.public.id_hex,
                seq_from=m.seq_from, seq_to=m.seq_to, manifest_sha256=m.sha256, prev_sha256=prev, state="exported", counts=json.dumps(m.counts), file_name=path.name,
            )
        )
        _set_meta(s, META_EXPORTED, str(max(seq_to, int(_meta(s, META_EXPORTED, "0")))))
        _set_meta(s, META_AUDIT_OUT, str(max(audit_to, int(_meta(s, META_AUDIT_OUT, "0")))))
        _set_meta(s, META_LAST_OUT, m.sha256)
        ws.audit(s, "sync.exported", object_type="bundle", object_id=bundle_id, unit=ws.wf.unit, detail={"seq_from": m.seq_from, "seq_to": m.seq_to, "records": written[0], "resend": resend})
    relayed = _relay_out(ws, folder)
    return ExportResult(path, bundle_id, m.seq_from, m.seq_to, written[0], m.counts.get("_audit", 0), relayed)


def _relay_dir(ws: Workspace) -> Path:
    return ws.path / "inbox" / "relay"


def _relay_out(ws: Workspace, folder: Path) -> tuple[Path, ...]:
    """A circle forwards its posts' original bundles to HQ unchanged."""
    src = _relay_dir(ws)
    if not src.is_dir():
        return ()
    out = []
    sent = src / "sent"
    for f in sorted(src.glob(f"*{SUFFIX}")):
        target = folder / f.name
        if Path(folder).resolve() != src.resolve():
            shutil.copyfile(f, folder / f".{f.name}.partial")
            os.replace(folder / f".{f.name}.partial", target)
        sent.mkdir(exist_ok=True)
        os.replace(f, sent / f.name)
        out.append(target)
    return tuple(out)


# --- import -----------------------------------------------------------------------------------


class _Hold(Exception):
    def __init__(self, note: str) -> None:
        super().__init__(note)
        self.note = note


class _DryRun(Exception):
    def __init__(self, summary: ImportSummary) -> None:
        super().__init__("dry run")
        self.summary = summary


@dataclass
class _DryPlan:
    """A dry run of several files: what the files before this one would have done.

    Nothing is written in a dry run, so without this each file would be judged against the store
    as it is: a post's second bundle would show as held (its first one "missing"), a record
    referring to one in an earlier file as waiting for it.
    """

    last_seq: dict[str, int] = dataclasses.field(default_factory=dict)  # device -> last seq the earlier files bring
    ids: dict[str, set[str]] = dataclasses.field(default_factory=dict)  # record type -> ids the earlier files bring
    bundles: set[str] = dataclasses.field(default_factory=set)
    audit: dict[str, tuple[int, str]] = dataclasses.field(default_factory=dict)  # device -> where its audit chain would stand


def _signer(ws: Workspace, r: reg.Registry, m: Manifest) -> reg.DeviceKey:
    key = r.key(m.key_id)
    if key is None:
        raise BundleRejected(
            f"The bundle is signed by key {m.key_id}, which is not in this workspace's key registry (version {r.version}): "
            "the device is not enrolled, or this workspace needs HQ's newer registry."
        )
    if key.status == "revoked":
        raise BundleRejected(f"The bundle is signed by key {m.key_id}, which HQ has revoked (lost or stolen device). Nothing was imported; tell HQ.")
    if key.status == "retired" and (key.retired_after_seq is None or m.seq_to > key.retired_after_seq):
        raise BundleRejected(f"The bundle is signed by key {m.key_id}, which was rotated out before these changes were made. Nothing was imported.")
    if key.device_id != m.device_id or key.unit != m.source_unit:
        raise BundleRejected("The bundle's manifest names a device or unit that does not match its signing key.")
    if m.device_id == _device_id(ws):
        raise BundleRejected("This bundle was written by this workspace itself.")
    return key


def import_bundle(
    ws: Workspace, path: Path, *, dry_run: bool = False, progress: ProgressFn | None = None, _retry_held: bool = True, _plan: _DryPlan | None = None
) -> ImportSummary:
    """Checks and imports one bundle file: changes (HQ, circles), or receipts and registries (devices).

    Raises:
        BundleDamaged: incomplete, malformed or altered file.
        BundleRejected: untrusted signer, not addressed to us, invalid records.
        RegistryError: the registry in use is expired, or a registry offered is older or forged.
    """
    path = Path(path)
    ob = open_bundle(path)
    m = ob.manifest
    with ws.sf.begin() as s:
        r = _require_registry(ws, s)
        if not _is_hq(ws) and r.expires_at <= _now():
            raise RegistryError(f"This workspace's key registry expired on {r.expires_at:%Y-%m-%d}; ask HQ for a fresh one before importing.")
        key = _signer(ws, r, m)
    ob.verify_signature(key.public)
    if m.kind == "changes":
        summary = _import_changes(ws, ob, key, dry_run=dry_run, progress=progress, plan=_plan if dry_run else None)
        if summary.outcome == "imported" and _retry_held:
            _retry_held_bundles(ws, m.device_id)
        return summary
    if key.device_id != r.hq_device:
        raise BundleRejected(f"A {m.kind} bundle must come from HQ; this one is signed by unit {key.unit}.")
    return _import_from_hq(ws, ob, dry_run=dry_run)


def import_files(ws: Workspace, paths: Iterable[Path], *, dry_run: bool = False, progress: ProgressFn | None = None) -> list[ImportSummary | Exception]:
    """Imports several files in a sensible order (registries, then changes by device and sequence)."""
    return [r for _p, r in import_each(ws, paths, dry_run=dry_run, progress=progress)]


def _import_order(ws: Workspace, p: Path) -> tuple[int, int, str, int]:
    """Registries and receipts first; then changes, posts before circles (a circle's decisions
    build on what its posts sent), each device's bundles in sequence."""
    try:
        m = open_bundle(p).manifest
    except Exception:  # noqa: BLE001 - reported when imported
        return (9, 0, "", 0)
    return ({"registry": 0, "receipt": 1, "config": 2, "changes": 3}[m.kind], -len(ws.unit_chain(m.source_unit)), m.device_id, m.seq_from)


def import_each(
    ws: Workspace, paths: Iterable[Path], *, dry_run: bool = False, progress: ProgressFn | None = None, on_file: Callable[[int, Path], None] | None = None
) -> list[tuple[Path, ImportSummary | Exception]]:
    """Like :func:`import_files`, each result (or refusal) paired with its file.

    ``on_file(index, path)`` is called before each file, in import order (the GUI's progress uses it).
    """
    out: list[tuple[Path, ImportSummary | Exception]] = []
    plan = _DryPlan() if dry_run else None
    for i, p in enumerate(sorted(paths, key=lambda p: _import_order(ws, p))):
        if on_file is not None:
            on_file(i, p)
        try:
            out.append((p, import_bundle(ws, p, dry_run=dry_run, progress=progress, _plan=plan)))
        except (BundleDamaged, BundleRejected, RegistryError, SyncError) as exc:
            out.append((p, exc))
    return out


def _import_changes(
    ws: Workspace, ob: OpenedBundle, key: reg.DeviceKey, *, dry_run: bool, progress: ProgressFn | None, plan: _DryPlan | None = None
) -> ImportSummary:
    m = ob.manifest
    ws.require(Perm.BUNDLE_IMPORT, unit=m.source_unit if ws.in_scope(m.source_unit) else None)
    if not _is_hq(ws) and not (ws.in_scope(m.source_unit) and m.source_unit != ws.wf.unit):
        raise BundleRejected(f"This bundle comes from unit {m.source_unit}, which is not one of this circle's posts.")
    file = ob.path.name
    with ws.sf.begin() as s:
        seen = s.get(SyncBundle, m.bundle_id)
        if seen is not None and seen.direction == "in" and seen.state == "imported":
            if seen.manifest_sha256 != ob.manifest_sha256:
                raise BundleRejected("A different bundle with the same id was imported before: this one was refused.")
            receipt = None if dry_run or not _is_hq(ws) else _write_receipt(ws, s, seen)
            return ImportSummary(file, m.bundle_id, m.kind, m.source_unit, "already imported", receipt=receipt)
        if plan is not None and m.bundle_id in plan.bundles:
            return ImportSummary(file, m.bundle_id, m.kind, m.source_unit, "already imported", problems=("an earlier file of this selection brings it",))
        peer = s.get(SyncPeer, m.device_id)
        last = max(peer.last_seq if peer else 0, plan.last_seq.get(m.device_id, 0) if plan is not None else 0)
    if m.seq_from > last + 1:
        note = f"changes {last + 1}–{m.seq_from - 1} of unit {m.source_unit} have not arrived yet"
        if not dry_run:
            _hold(ws, ob, note)
        return ImportSummary(file, m.bundle_id, m.kind, m.source_unit, "held", missing=(last + 1, m.seq_from - 1), problems=(note,))
    ob.verify_payload()
    try:
        summary = _apply(ws, ob, key, dry_run=dry_run, progress=progress, plan=plan)
    except _DryRun as dr:
        return dr.summary
    except _Hold as h:
        if dry_run:
            return ImportSummary(file, m.bundle_id, m.kind, m.source_unit, "held", problems=(h.note,))
        _hold(ws, ob, h.note)
        return ImportSummary(file, m.bundle_id, m.kind, m.source_unit, "held", problems=(h.note,))
    _keep_for_relay(ws, ob)
    return summary


def _hold(ws: Workspace, ob: OpenedBundle, note: str) -> None:
    m = ob.manifest
    held = ws.path / "inbox" / "held"
    held.mkdir(parents=True, exist_ok=True)
    target = held / f"{m.source_unit}-{m.seq_from:08d}-{m.bundle_id[:8]}{SUFFIX}"
    if ob.path.resolve() != target.resolve():
        shutil.copyfile(ob.path, held / f".{target.name}.partial")
        os.replace(held / f".{target.name}.partial", target)
    with ws.sf.begin() as s:
        row = s.get(SyncBundle, m.bundle_id)
        if row is None:
            s.add(
                SyncBundle(
                    bundle_id=m.bundle_id, direction="in", kind=m.kind, device_id=m.device_id, source_unit=m.source_unit, key_id=m.key_id,
                    seq_from=m.seq_from, seq_to=m.seq_to, manifest_sha256=ob.manifest_sha256, prev_sha256=m.prev_sha256, state="held",
                    counts=json.dumps(m.counts), note=note, file_name=target.name,
                )
            )
        else:
            row.note, row.file_name = note, target.name
        ws.audit(s, "sync.held", object_type="bundle", object_id=m.bundle_id, unit=m.source_unit, detail={"seq_from": m.seq_from, "seq_to": m.seq_to})


def _keep_for_relay(ws: Workspace, ob: OpenedBundle) -> None:
    """A circle keeps a post's original bundle to forward it to HQ unchanged with its next export."""
    if _is_hq(ws):
        return
    relay = _relay_dir(ws)
    relay.mkdir(parents=True, exist_ok=True)
    target = relay / ob.path.name
    if not target.exists():
        shutil.copyfile(ob.path, relay / f".{target.name}.partial")
        os.replace(relay / f".{target.name}.partial", target)


def _retry_held_bundles(ws: Workspace, device_id: str) -> None:
    """Imports held bundles of ``device_id`` that the last import made contiguous, in order."""
    tried: set[str] = set()
    while True:
        with ws.sf.begin() as s:
            peer = s.get(SyncPeer, device_id)
            last = peer.last_seq if peer else 0
            nxt = s.scalars(
                select(SyncBundle).where(
                    SyncBundle.device_id == device_id, SyncBundle.state == "held", SyncBundle.seq_from <= last + 1, SyncBundle.bundle_id.not_in(tried)
                ).order_by(SyncBundle.seq_from)
            ).first()
            if nxt is None:
                return
            tried.add(nxt.bundle_id)
            f = ws.path / "inbox" / "held" / nxt.file_name
        if not f.exists():
            continue
        try:
            result = import_bundle(ws, f, _retry_held=False)
        except (BundleDamaged, BundleRejected, SyncError):
            continue
        if result.outcome == "imported":
            f.unlink(missing_ok=True)


def _parents_map(s: Session) -> dict[str, str | None]:
    return dict(s.execute(select(Unit.code, Unit.parent_code)).tuples().all())


def _within(parents: dict[str, str | None], unit: str, area_root: str) -> bool:
    seen = set()
    code: str | None = unit
    while code is not None and code not in seen:
        if code == area_root:
            return True
        seen.add(code)
        code = parents.get(code)
    return False


_REF_FIELDS = {name: tuple((f.name, f.ref) for f in rt.fields if f.kind == "ref" and f.ref) for name, rt in RECORD_TYPES.items()}


#: Records written by one import after which table statistics are refreshed (as bulk import does).
_REFRESH_STATS_AFTER = 5000


def _date_column(type_name: str) -> str:
    """The column that dates a record for the monthly returns (their lock): its date field, or
    when it was created for the types without one (as services.records does)."""
    field = RECORD_TYPES[type_name].date_field
    return "created_at" if field == "created_on" else field


def _day(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


def _ref_targets(rl: RecordLine) -> list[tuple[str, str]]:
    """The records ``rl`` points to, as (type, id); worked out once per line."""
    if rl.refs is None:
        row = rl.row
        out = [(ref, row[name]) for name, ref in _REF_FIELDS[rl.type_name] if row.get(name)]
        out += [("person", e["person_id"]) for e in rl.events if e.get("person_id")]
        out += [("person", p["person_id"]) for p in rl.parties if p.get("person_id")]
        rl.refs = out
    return rl.refs


def _apply(
    ws: Workspace, ob: OpenedBundle, key: reg.DeviceKey, *, dry_run: bool, progress: ProgressFn | None, plan: _DryPlan | None = None
) -> ImportSummary:
    """Validates and applies the payload in one transaction; raises _DryRun / _Hold to roll back.

    ``plan`` (a dry run of several files): records of the files before count as present, and
    this file's own are added to it when it would import."""
    from nap_desktop.services import records as records_service

    m = ob.manifest
    cl = default_codelists()
    counts: dict[str, int] = {}
    tally = {"new": 0, "updated": 0, "identical": 0, "conflicts": 0}
    problems: list[str] = []
    rejected = 0
    audit_n = 0
    with ws.sf.begin() as s:
        identities = _age_identities(s)
        parents = _parents_map(s)
        peer = s.get(SyncPeer, m.device_id) or SyncPeer(device_id=m.device_id, unit=m.source_unit, last_seq=0, last_audit_seq=0, last_audit_hash="")
        audit_seq, audit_hash = peer.last_audit_seq, peer.last_audit_hash or audit_chain.genesis_hash(m.device_id)
        if plan is not None and m.device_id in plan.audit:
            audit_seq, audit_hash = plan.audit[m.device_id]
        base_ctx = records_service._context(ws, s)  # the capture rules' context, with two facts replaced below
        seen: dict[str, set[str]] = {}
        rejected_ids: set[str] = set()

        def note(problem: str) -> None:
            if len(problems) < 1000:  # the first ones say what is wrong; a hostile bundle cannot fill memory
                problems.append(problem)
        missing: list[str] = []

        # Facts the validator asks for, answered from this bundle and from one query per batch
        # (a query per record would cost more than everything else together).
        ages: dict[str, tuple[date | None, int | None, date]] = {}
        live: dict[str, set[str]] = {}

        def person_age_on(pid: str, on: date) -> int | None:
            got = ages.get(pid)
            if got is None:
                return None
            dob, years, base = got
            if dob is not None:
                return age_on(dob, on)
            if years is None:
                return None
            return years + max(0, age_on(base, on)) if on >= base else years - age_on(on, base)

        earlier: dict[str, set[str]] = plan.ids if plan is not None else {}
        brought: dict[str, set[str]] = {}  # this file's record ids, for the files after it (dry run of several)

        def ref_exists(type_name: str, rid: str) -> bool:
            return rid in seen.get(type_name, ()) or rid in live.get(type_name, ()) or rid in earlier.get(type_name, ())

        def prefetch(batch: list[RecordLine]) -> None:
            wanted: dict[str, set[str]] = {}
            for rl in batch:
                for ref_type, rid in _ref_targets(rl):
                    if rid not in seen.get(ref_type, ()):
                        wanted.setdefault(ref_type, set()).add(rid)
            for ref_type, ids in wanted.items():
                t = MODEL_BY_TYPE[ref_type].__table__  # type: ignore[attr-defined]
                found = s.execute(select(t.c.id, t.c.deleted).where(t.c.id.in_(sorted(ids)))).all()
                live.setdefault(ref_type, set()).update(i for i, deleted in found if not deleted)
                known.setdefault(ref_type, set()).update(i for i, _ in found)
            pids = {rid for rl in batch for ref_type, rid in _ref_targets(rl) if ref_type == "person"} - ages.keys()
            if pids:
                for pid, dob, years, created in s.execute(
                    select(Person.id, Person.date_of_birth, Person.age_years, Person.created_at).where(Person.id.in_(sorted(pids)))
                ):
                    ages[pid] = (dob, years, created.date() if created else date.today())

        known: dict[str, set[str]] = {}
        ctx = dataclasses.replace(base_ctx, today=base_ctx.today + timedelta(days=1), ref_exists=ref_exists, person_age_on=person_age_on)
        applier = Applier(s)
        buffer: list[RecordLine] = []
        area: dict[str, bool] = {}

        def in_area(unit: str) -> bool:
            if unit not in area:
                area[unit] = _within(parents, unit, m.source_unit)
            return area[unit]

        # Approved months are locked (DESIGN §5): a change dated in one is not applied at import
        # either, but queued for a person (who must unlock that month's return to take it). One
        # answer per (unit, month): the lock hooks ask the store, and a bundle holds few of those.
        locks: dict[tuple[str, str], str | None] = {}

        def locked(unit: str, on: date | None) -> str | None:
            if on is None or not records_service.LOCK_HOOKS:
                return None
            k = (unit, f"{on:%Y-%m}")
            if k not in locks:
                locks[k] = next((msg for hook in records_service.LOCK_HOOKS if (msg := hook(s, unit, on))), None)
            return locks[k]

        def settle() -> None:
            """Writes the batch; what follows finds these records in the store, so the per-batch
            caches are dropped (memory stays flat however large the bundle)."""
            applier.flush()
            for cache in (seen, live, known, ages):
                cache.clear()

        def process(batch: list[RecordLine]) -> None:
            nonlocal rejected
            if not batch:
                return
            type_name = batch[0].type_name
            table = MODEL_BY_TYPE[type_name].__table__  # type: ignore[attr-defined]
            date_col = _date_column(type_name)
            prefetch(batch)
            current = {
                row.id: row
                for row in s.execute(
                    select(
                        table.c.id, table.c.version, table.c.content_hash, table.c.base_version, table.c.base_hash, table.c.deleted, table.c.unit,
                        table.c[date_col].label("on"),
                    ).where(table.c.id.in_([rl.id for rl in batch]))
                )
            }
            batch_ids: set[str] = set()
            merged_here = {
                (m.record_id, m.version): m.other_hash for m in s.scalars(select(RecordMerge).where(RecordMerge.record_id.in_([rl.id for rl in batch])))
            }
            open_conflicts = {
                (c.record_id, c.incoming_version): c
                for c in s.scalars(select(SyncConflict).where(SyncConflict.record_id.in_([rl.id for rl in batch]), SyncConflict.state == "open"))
            }
            for rl in batch:
                row = rl.row
                cur = current.get(rl.id)
                if rl.id in seen.get(type_name, ()) or rl.id in batch_ids:
                    rejected += 1
                    note(f"{type_name} {rl.id}: appears twice in the bundle")
                    continue
                batch_ids.add(rl.id)
                if not in_area(row["unit"]) or (cur is not None and not in_area(cur.unit)):
                    rejected += 1
                    rejected_ids.add(rl.id)
                    note(f"{type_name} {rl.id}: belongs to a unit outside {m.source_unit}'s area")
                    continue
                refs = _ref_targets(rl)
                if any(rid in rejected_ids for _, rid in refs):
                    rejected += 1
                    rejected_ids.add(rl.id)
                    note(f"{type_name} {rl.id}: refers to a record rejected above")
                    continue
                for ref_type, rid in refs:
                    if rid not in seen.get(ref_type, ()) and rid not in known.get(ref_type, ()) and rid not in earlier.get(ref_type, ()):
                        missing.append(f"{type_name} {rl.id} refers to a {ref_type} not received yet")
                if missing and not rejected:
                    raise _Hold(f"{len(missing)} record(s) refer to records not received yet (first: {missing[0]}); import the other unit's bundles first")
                values: dict[str, Any] = {}
                if not row["deleted"]:
                    try:
                        values = values_of(rl)
                        if rl.purged and cur is not None:
                            _fill_personal(s, rl, values)
                        validate(RECORD_TYPES[type_name], values, status=row["status"], codelists=cl, context=ctx)
                    except ValidationError as exc:
                        rejected += 1
                        rejected_ids.add(rl.id)
                        note(f"{type_name} {rl.id}: {', '.join(sorted(exc.fields)) or 'invalid'}")
                        continue
                    except LineError as exc:
                        rejected += 1
                        rejected_ids.add(rl.id)
                        note(f"{type_name} {rl.id}: {exc}")
                        continue
                seen.setdefault(type_name, set()).add(rl.id)
                if plan is not None:
                    brought.setdefault(type_name, set()).add(rl.id)
                if type_name == "person":
                    created = row["created_at"]
                    ages[rl.id] = (row["date_of_birth"], row["age_years"], created.date() if created else date.today())
                row["seq"] = 0
                identical = cur is not None and cur.version == row["version"] and cur.content_hash == row["content_hash"] and cur.deleted == row["deleted"]
                lock = None
                if not identical:  # the month it moves into, then the month it leaves
                    lock = (None if row["deleted"] else locked(row["unit"], _day(values.get(date_col, row.get(date_col))))) or (
                        locked(cur.unit, _day(cur.on)) if cur is not None else None
                    )
                if lock is not None and (rl.id, row["version"]) in open_conflicts:
                    tally["identical"] += 1  # already waiting in the queue
                elif lock is not None:
                    tally["conflicts"] += 1
                    note(f"{type_name} {rl.id}: dated in an approved month, queued for a decision ({lock})")
                    s.add(SyncConflict(**conflict_row(rl, bundle_id=m.bundle_id, source_unit=m.source_unit,
                                                      local_version=cur.version if cur is not None else 0, local_hash=cur.content_hash if cur is not None else "")))
                elif cur is None and rl.id in earlier.get(type_name, ()):
                    tally["updated"] += 1  # new here, but an earlier file of this dry run brings it first
                elif cur is None:
                    tally["new"] += 1
                    applier.insert(rl)
                elif identical:
                    tally["identical"] += 1
                elif (row["base_version"] == cur.version and row["base_hash"] in ("", cur.content_hash)) or (
                    rl.merged and rl.merged == cur.content_hash and row["version"] > cur.version
                ):
                    # It builds on the version here (or is a person's decision between it and another).
                    tally["updated"] += 1
                    applier.replace(rl, keep_personal=rl.purged)
                elif row["version"] < cur.version and row["content_hash"] in (cur.base_hash, merged_here.get((rl.id, cur.version))):
                    tally["identical"] += 1  # an older version this store has already moved past
                elif (rl.id, row["version"]) in open_conflicts and open_conflicts[(rl.id, row["version"])].incoming == json.dumps(rl.raw, ensure_ascii=False, separators=(",", ":")):
                    tally["identical"] += 1
                else:
                    tally["conflicts"] += 1
                    s.add(SyncConflict(**conflict_row(rl, bundle_id=m.bundle_id, source_unit=m.source_unit, local_version=cur.version, local_hash=cur.content_hash)))

        n = 0
        for raw in ob.iter_lines(identities):
            n += 1
            try:
                line = json.loads(raw)
            except ValueError as exc:
                raise BundleDamaged(f"Line {n} of the bundle is not valid JSON: the bundle is damaged.") from exc
            if not isinstance(line, dict) or not isinstance(line.get("t"), str):
                raise BundleRejected(f"Line {n} of the bundle is not a record.")
            t = line["t"]
            counts[t] = counts.get(t, 0) + 1
            if t in RECORD_TYPES:
                try:
                    rl = decode_record(line)
                except LineError as exc:
                    rejected += 1
                    row_id = line.get("row", {}).get("id") if isinstance(line.get("row"), dict) else None
                    if isinstance(row_id, str):
                        rejected_ids.add(row_id)
                    note(f"line {n}: {exc}")
                    continue
                if buffer and (buffer[0].type_name != t or len(buffer) >= _BATCH):
                    process(buffer)
                    buffer = []
                    settle()
                buffer.append(rl)
            else:
                process(buffer)
                buffer = []
                settle()
                if t == "_unit":
                    _apply_unit(s, line, parents, m.source_unit, problems)
                elif t == "_return":
                    try:
                        outcome, problem = apply_return(s, line, lambda unit: _within(parents, unit, m.source_unit))
                    except LineError as exc:
                        rejected += 1
                        note(f"line {n}: {exc}")
                        continue
                    tally["new" if outcome == "new" else "updated" if outcome == "updated" else "identical"] += 1
                    if problem:
                        note(problem)
                elif t == "_audit":
                    audit_seq, audit_hash, added = _apply_audit(s, line, m.device_id, audit_seq, audit_hash)
                    audit_n += added
                else:
                    raise BundleRejected(f"Line {n} of the bundle has an unknown kind.")
            if progress and n % 5000 == 0:
                progress(n, f"{n} lines checked")
        process(buffer)
        settle()
        if counts != m.counts:
            raise BundleDamaged("The bundle holds other numbers of records than its manifest says: it was altered or damaged. Nothing was imported.")
        summary = ImportSummary(
            ob.path.name, m.bundle_id, m.kind, m.source_unit, "dry run" if dry_run else "imported",
            rejected=rejected, problems=tuple(problems[:20]), audit_entries=audit_n, **tally,
        )
        if dry_run:
            if plan is not None and not rejected:
                plan.last_seq[m.device_id] = max(plan.last_seq.get(m.device_id, 0), m.seq_to)
                plan.bundles.add(m.bundle_id)
                plan.audit[m.device_id] = (audit_seq, audit_hash)
                for t, ids in brought.items():
                    plan.ids.setdefault(t, set()).update(ids)
            raise _DryRun(summary)
        if rejected:
            raise BundleRejected(
                f"{rejected} record(s) in this bundle fail the checks (first: {problems[0]}). Nothing was imported; run a dry run for the list and tell the sending unit."
            )
        peer.unit, peer.last_seq = m.source_unit, max(peer.last_seq or 0, m.seq_to)
        peer.last_manifest_sha256, peer.last_import_at = ob.manifest_sha256, utcnow()
        peer.last_audit_seq, peer.last_audit_hash = audit_seq, audit_hash
        s.merge(peer)
        row = s.get(SyncBundle, m.bundle_id)
        if row is None:
            row = SyncBundle(bundle_id=m.bundle_id, direction="in")
            s.add(row)
        row.kind, row.device_id, row.source_unit, row.key_id = m.kind, m.device_id, m.source_unit, m.key_id
        row.seq_from, row.seq_to, row.manifest_sha256, row.prev_sha256 = m.seq_from, m.seq_to, ob.manifest_sha256, m.prev_sha256
        row.state, row.counts, row.processed_at, row.file_name, row.note = "imported", json.dumps(m.counts), utcnow(), ob.path.name, ""
        row.summary = json.dumps({**tally, "audit_entries": audit_n})
        ws.audit(s, "sync.imported", object_type="bundle", object_id=m.bundle_id, unit=m.source_unit, detail={**tally, "seq_to": m.seq_to})
    ws.reload_units()
    if tally["new"] + tally["updated"] >= _REFRESH_STATS_AFTER:
        refresh_statistics(ws.engine)  # the tables grew a lot: let the query planner know (data/stats.py)
    # NOTE: the receipt is written only after the commit: a device purges what HQ acknowledged.
    receipt = None
    if _is_hq(ws):
        with ws.sf.begin() as s:
            receipt = _write_receipt(ws, s, s.get(SyncBundle, m.bundle_id))
    return dataclasses.replace(summary, receipt=receipt)


def _fill_personal(s: Session, rl: RecordLine, values: dict[str, Any]) -> None:
    """A purged record's personal fields are not sent; validate it with the ones kept here."""
    from nap_desktop.services.records import _load_values

    rt = RECORD_TYPES[rl.type_name]
    row = s.get(MODEL_BY_TYPE[rl.type_name], rl.id)
    if row is None:
        return
    here = _load_values(s, rt, row)
    for f in rt.personal_fields:
        if here.get(f) is not None:
            values[f] = here[f]


def _apply_unit(s: Session, line: dict[str, Any], parents: dict[str, str | None], source_unit: str, problems: list[str]) -> None:
    try:
        data = codec("_unit").decode({k: v for k, v in line.items() if k != "t"}, where="unit")
    except LineError as exc:
        raise BundleRejected(f"A unit line of the bundle is malformed ({exc}).") from exc
    code = data["code"]
    if code in parents:
        return  # this workspace's own record of a unit wins
    parent = data["parent_code"]
    if parent not in parents or not (parent == source_unit or _within(parents, parent, source_unit)):
        raise BundleRejected(f"The bundle adds unit {code} outside the sending unit's area.")
    s.add(Unit(**data))
    s.flush()
    parents[code] = parent


def _apply_audit(s: Session, line: dict[str, Any], device_id: str, last_seq: int, last_hash: str) -> tuple[int, str, int]:
    try:
        e = codec("_audit").decode({k: v for k, v in line.items() if k != "t"}, where="audit entry")
    except LineError as exc:
        raise BundleRejected(f"An audit entry of the bundle is malformed ({exc}).") from exc
    if e["seq"] <= last_seq:
        return last_seq, last_hash, 0
    fields = [e["seq"], e["at"], e["actor"], e["action"], e["object_type"], e["object_id"], e["unit"], e["detail"]]
    if e["seq"] != last_seq + 1 or e["prev_hash"] != last_hash or audit_chain.entry_hash(e["prev_hash"], fields) != e["hash"]:
        raise BundleRejected(
            f"The sender's audit log does not chain at entry {e['seq']}: entries were removed or altered on the device. Nothing was imported; tell HQ."
        )
    s.add(RemoteAudit(device_id=device_id, **{k: e[k] for k in AUDIT_COLUMNS}))
    return e["seq"], e["hash"], 1


# --- receipts -------------------------------------------------------------------------------


def _write_receipt(ws: Workspace, s: Session, row: SyncBundle, folder: Path | None = None) -> Path:
    """HQ: a signed receipt for the device that sent ``row`` (into ``folder``, default outbox/, with the current registry).

    ``folder``: the intake server writes receipts on demand into a private folder (services/hq.py).
    """
    r = _require_registry(ws, s)
    recipients = r.recipients(row.device_id)
    if not recipients:
        raise SyncError(f"Unit {row.source_unit}'s device has no live key to receive a receipt.")
    sk = _signing_key(s)
    assert sk is not None
    rid = str(uuid.uuid4())
    lines = [
        dumps({"t": "_receipt", "bundle_id": row.bundle_id, "manifest_sha256": row.manifest_sha256, "seq_from": row.seq_from, "seq_to": row.seq_to, "summary": json.loads(row.summary or "{}")}),
        dumps({"t": "_registry", "text": r.text}),
    ]

    def manifest(sha: str, size: int, plain: int) -> Manifest:
        return Manifest(
            bundle_id=rid, kind="receipt", device_id=_device_id(ws), source_unit=ws.wf.unit, key_id=sk.public.id_hex,
            created_at=_now().isoformat(timespec="seconds"), schema_version=head_revision(), recipients=tuple(recipients),
            payload_sha256=sha, payload_size=size, plain_size=plain, counts={"_receipt": 1, "_registry": 1}, target_device=row.device_id,
        )

    path, _ = write_bundle(folder or ws.path / "outbox", f"receipt-{row.source_unit}-{row.seq_to:08d}-{row.bundle_id[:8]}{SUFFIX}", manifest, lines, recipients, sk)
    return path


def write_registry_bundles(ws: Workspace, out_dir: Path | None = None) -> list[Path]:
    """HQ: one registry bundle per enrolled device (revocations and rotations travel this way)."""
    ws.require(Perm.KEYS_MANAGE)
    if not _is_hq(ws):
        raise SyncError("Only HQ issues the key registry.")
    out = []
    with ws.sf.begin() as s:
        r = _require_registry(ws, s)
        for d in r.devices():
            if d["device_id"] == r.hq_device:
                continue
            path = registry_bundle(ws, s, r, d["device_id"], Path(out_dir) if out_dir else ws.path / "outbox")
            if path is not None:
                out.append(path)
        ws.audit(s, "sync.registry_exported", object_type="registry", object_id=str(r.version), detail={"bundles": len(out)})
    return out


def write_hq_bundle(
    ws: Workspace, s: Session, r: reg.Registry, target_device: str, *, kind: str, lines: list[dict[str, Any]], folder: Path, name: str
) -> Path | None:
    """HQ: a bundle of ``kind`` (registry, config) for one device, signed with HQ's key; ``None`` if
    the device has no live key to read it. The file is ``<name>-<unit>-<device>.napb`` in ``folder``."""
    recipients = r.recipients(target_device)
    if not recipients:
        return None
    sk = _signing_key(s)
    if sk is None:
        raise SyncError("HQ has no signing key yet.")
    bid = str(uuid.uuid4())
    counts: dict[str, int] = {}
    for line in lines:
        counts[line["t"]] = counts.get(line["t"], 0) + 1
    d = r.device(target_device)
    unit = d["unit"] if d else "unknown"

    def manifest(sha: str, size: int, plain: int) -> Manifest:
        return Manifest(
            bundle_id=bid, kind=kind, device_id=_device_id(ws), source_unit=ws.wf.unit, key_id=sk.public.id_hex,
            created_at=_now().isoformat(timespec="seconds"), schema_version=head_revision(), recipients=tuple(recipients),
            payload_sha256=sha, payload_size=size, plain_size=plain, counts=counts, target_device=target_device,
        )

    path, _ = write_bundle(folder, f"{name}-{unit}-{target_device[:8]}{SUFFIX}", manifest, [dumps(line) for line in lines], recipients, sk)
    return path


def registry_bundle(ws: Workspace, s: Session, r: reg.Registry, target_device: str, folder: Path) -> Path | None:
    """HQ: the registry ``r`` as a bundle for one device (``registry export``, and the intake server's pickups)."""
    return write_hq_bundle(ws, s, r, target_device, kind="registry", lines=[{"t": "_registry", "text": r.text}], folder=folder, name=f"registry-v{r.version}")


# --- for HQ's intake server and the network link (services/hq.py, link.py, field_config.py) ------


def device_id(ws: Workspace) -> str:
    """This workspace's device id (the id HQ's registry lists it under)."""
    return _device_id(ws)


def current_registry(ws: Workspace, s: Session) -> reg.Registry | None:
    """The registry in use here, checked against the trusted root; ``None`` before enrolment."""
    return _registry(ws, s)


def require_registry(ws: Workspace, s: Session) -> reg.Registry:
    """The registry in use. HQ: made on first use, renewed when due (one process at a time).

    Raises:
        SyncError: a field workspace not enrolled yet.
    """
    return _require_registry(ws, s)


def registry_due_for_renewal(r: reg.Registry) -> bool:
    """HQ renews its registry in the last sixth of its lifetime."""
    return r.expires_at - _now() < reg.LIFETIME / 6


def signing_key(s: Session) -> SecretKey | None:
    """This workspace's current device signing key (``None`` before it made its keys)."""
    return _signing_key(s)


def check_signer(ws: Workspace, r: reg.Registry, m: Manifest) -> reg.DeviceKey:
    """The registry's key that signed a bundle's manifest (the signature itself is checked by the caller).

    Raises:
        BundleRejected: unknown, revoked or rotated-out key; a device or unit the key does not
            belong to; a bundle of this workspace itself.
    """
    return _signer(ws, r, m)


def write_receipt(ws: Workspace, s: Session, row: SyncBundle, folder: Path | None = None) -> Path:
    """HQ: a signed receipt of an imported bundle for the device that sent it (see :func:`_write_receipt`)."""
    return _write_receipt(ws, s, row, folder)


def _import_from_hq(ws: Workspace, ob: OpenedBundle, *, dry_run: bool) -> ImportSummary:
    """A device takes HQ's receipts and registry updates; acknowledged data past retention is purged."""
    m = ob.manifest
    if not (ws.can(Perm.BUNDLE_EXPORT) or ws.can(Perm.BUNDLE_IMPORT) or (m.kind == "registry" and ws.can(Perm.KEYS_MANAGE)) or (m.kind == "config" and ws.can(Perm.SETTINGS_MANAGE))):
        ws.require(Perm.BUNDLE_EXPORT)
    if m.target_device != _device_id(ws):
        raise BundleRejected(f"This {m.kind} bundle is for another device (unit {_unit_of_device(ws, m.target_device)}). Give it to that unit.")
    ob.verify_payload()
    acked = 0
    with ws.sf.begin() as s:
        counts: dict[str, int] = {}
        new_registry: reg.Registry | None = None
        config_doc: object = None
        for raw in ob.iter_lines(_age_identities(s)):
            try:
                line = json.loads(raw)
            except ValueError as exc:
                raise BundleDamaged("A line of the bundle is not valid JSON: the bundle is damaged.") from exc
            t = line.get("t") if isinstance(line, dict) else None
            counts[str(t)] = counts.get(str(t), 0) + 1
            if t == "_receipt":
                row = s.get(SyncBundle, str(line.get("bundle_id")))
                if row is not None and row.direction == "out" and row.manifest_sha256 == line.get("manifest_sha256"):
                    if row.state != "acknowledged":
                        row.state, row.processed_at = "acknowledged", utcnow()
                        row.summary = json.dumps(line.get("summary") or {})
                        acked += 1
            elif t == "_registry":
                new_registry = reg.parse(str(line.get("text", "")), trusted_root=_trusted_root(ws, s))
            elif t == "_config" and m.kind == "config":
                config_doc = line.get("config")
            else:
                raise BundleRejected("HQ's bundle holds a line of an unknown kind.")
        if counts != m.counts:
            raise BundleDamaged("The bundle holds other numbers of lines than its manifest says: it was altered or damaged.")
        config = None
        if m.kind == "config":
            from nap_desktop.services import field_config

            if counts.get("_config") != 1:
                raise BundleRejected("HQ's config bundle holds no settings.")
            config = field_config.check(s, config_doc)  # refused if older than the one applied here
        if dry_run:
            s.rollback()
            return ImportSummary(ob.path.name, m.bundle_id, m.kind, m.source_unit, "dry run", acknowledged=acked, config_version=config.version if config else None)
        current = _registry(ws, s)
        if new_registry is not None and not (config is not None and current is not None and new_registry.version < current.version):
            # NOTE: a config bundle carries the registry of its day; settings kept on a stick
            # while HQ issued newer registries are still applied, the registry in use kept
            _accept_registry(ws, s, new_registry)
        if config is not None:
            applied = field_config.apply(ws, s, config)
            return ImportSummary(ob.path.name, m.bundle_id, m.kind, m.source_unit, "applied" if applied else "already applied", config_version=config.version)
        _advance_acked(s)
        ws.audit(s, "sync.receipts_imported", object_type="bundle", object_id=m.bundle_id, unit=ws.wf.unit, detail={"acknowledged": acked})
    purged = purge_acknowledged(ws) if acked else 0
    return ImportSummary(ob.path.name, m.bundle_id, m.kind, m.source_unit, "acknowledged" if acked else "imported", acknowledged=acked, purged=purged)


def _unit_of_device(ws: Workspace, device_id: str) -> str:
    with ws.sf.begin() as s:
        r = _registry(ws, s)
        d = r.device(device_id) if r else None
        return d["unit"] if d else "unknown"


def _advance_acked(s: Session) -> None:
    """The acknowledged sequence: as far as acknowledged bundles cover it without a gap."""
    acked = int(_meta(s, META_ACKED, "0"))
    for b in s.scalars(select(SyncBundle).where(SyncBundle.direction == "out", SyncBundle.state == "acknowledged").order_by(SyncBundle.seq_from)):
        if b.seq_from <= acked + 1:
            acked = max(acked, b.seq_to)
    _set_meta(s, META_ACKED, str(acked))


# --- retention -------------------------------------------------------------------------------


def set_retention(ws: Workspace, days: int) -> None:
    """Administrators: days personal data stays after HQ's receipt. Audited.

    Raises:
        SyncError: not 7 to 3650 days.
        ValidationError: (audited) HQ's field settings set the retention on this device and
            ``days`` differs (``field_config.managed``).
    """
    from nap_desktop.services import field_config

    ws.require(Perm.SETTINGS_MANAGE)
    if not 7 <= days <= 3650:
        raise SyncError("The retention period must be between 7 and 3650 days.")
    with ws.sf.begin() as s:
        old = _meta(s, META_RETENTION, str(DEFAULT_RETENTION_DAYS))
        refusal = field_config.local_change_refusal(ws, s, ("retention_days",)) if old != str(days) else None
        if refusal is None:
            _set_meta(s, META_RETENTION, str(days))
            ws.audit(s, "sync.retention_set", detail={"days": days})
    if refusal is not None:
        field_config.refuse_local_change(ws, refusal)


def purge_acknowledged(ws: Workspace, *, now: datetime | None = None) -> int:
    """Blanks the personal fields of records HQ acknowledged and nobody touched for the retention period.

    Aggregatable fields stay (indicators and returns still count them). Audited with counts only.
    """
    from nap_desktop.services.records import refresh_name_tokens

    now = now or _now()
    total = 0
    with ws.sf.begin() as s:
        if _is_hq(ws):
            return 0
        acked = int(_meta(s, META_ACKED, "0"))
        days = int(_meta(s, META_RETENTION, str(DEFAULT_RETENTION_DAYS)))
        cutoff = now - timedelta(days=days)
        already = select(PurgedRecord.record_id)
        per_type: dict[str, int] = {}
        for rt in RECORD_TYPES.values():
            if not rt.personal_fields:
                continue
            model = MODEL_BY_TYPE[rt.name]
            ids = list(s.scalars(select(model.id).where(model.seq > 0, model.seq <= acked, model.updated_at < cutoff, model.id.not_in(already))))
            if not ids:
                continue
            for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
                if rt.name == "person":
                    s.execute(
                        update(PersonIdentity).where(PersonIdentity.person_id.in_(chunk)).values(
                            {**{f: "" for f in rt.personal_fields}, "name_key": "", "id_key": "", "passport_key": "", "other_id_key": ""}
                        )
                    )
                    s.execute(delete(MatchToken).where(MatchToken.person_id.in_(chunk)))
                    refresh_name_tokens(s, chunk)  # the names are gone: so are their search words
                else:
                    table_cols = model.__table__.columns  # type: ignore[attr-defined]
                    cols = {f: (None if table_cols[f].nullable else "") for f in rt.personal_fields if f in table_cols}
                    if cols:
                        s.execute(update(model).where(model.id.in_(chunk)).values(cols))
                s.add_all(PurgedRecord(record_id=i, record_type=rt.name, purged_at=now) for i in chunk)
                s.execute(delete(RecordHistory).where(RecordHistory.record_id.in_(chunk), RecordHistory.field.in_(list(rt.personal_fields))))
            per_type[rt.name] = len(ids)
            total += len(ids)
        if total:
            ws.audit(s, "sync.purged", detail={**per_type, "retention_days": days})
    return total


# --- conflicts --------------------------------------------------------------------------------


def _conflict_info(c: SyncConflict) -> ConflictInfo:
    base_hash = json.loads(c.incoming).get("row", {}).get("base_hash", "")
    builds_on_here = c.local_version == 0 or (c.incoming_base_version == c.local_version and base_hash in ("", c.local_hash))
    reason = "locked" if builds_on_here else "edited"
    return ConflictInfo(c.id, c.record_type, c.record_id, c.source_unit, c.local_version, c.incoming_version, c.state, c.resolution, c.created_at, reason)


def _conflict_lock(s: Session, c: SyncConflict, row: SyncMixin | None) -> str:
    """The lock message that stops the incoming version from being taken now ("" if none)."""
    from nap_desktop.services.records import LOCK_HOOKS

    incoming = decode_record(json.loads(c.incoming)).row
    col = _date_column(c.record_type)
    dated = [(incoming["unit"], _day(incoming.get(col)))]
    if row is not None:
        dated.append((row.unit, _day(getattr(row, col))))
    for unit, on in dated:
        for hook in LOCK_HOOKS if on is not None else ():
            message = hook(s, unit, on)
            if message:
                return message
    return ""


def list_conflicts(ws: Workspace, *, state: str | None = "open") -> list[ConflictInfo]:
    ws.require(Perm.BUNDLE_IMPORT)
    with ws.sf.begin() as s:
        q = select(SyncConflict).order_by(SyncConflict.created_at)
        if state:
            q = q.where(SyncConflict.state == state)
        return [_conflict_info(c) for c in s.scalars(q)]


def show_conflict(ws: Workspace, conflict_id: str) -> ConflictDetail:
    """Both versions side by side; personal fields masked for roles without access (views audited)."""
    from nap_desktop.services.records import _jsonable, _load_values

    ws.require(Perm.BUNDLE_IMPORT)
    with ws.sf.begin() as s:
        c = s.get(SyncConflict, conflict_id)
        if c is None:
            raise NotFound("No such conflict.")
        rt = RECORD_TYPES[c.record_type]
        row = s.get(MODEL_BY_TYPE[c.record_type], c.record_id)
        incoming_rl = decode_record(json.loads(c.incoming))
        unit = row.unit if row is not None else incoming_rl.row["unit"]
        if (row is None and c.local_version != 0) or not ws.in_scope(unit):
            raise NotFound("No such conflict in your units.")
        local = _jsonable(_load_values(s, rt, row)) if row is not None else {}
        incoming = _jsonable(values_of(incoming_rl))  # both sides in one form, or every date would "differ"
        for v in (local, incoming):
            for k in [k for k, x in v.items() if x is None]:
                del v[k]
        masked: tuple[str, ...] = ()
        if ws.can(Perm.PERSONAL_VIEW, unit=unit):
            ws.audit(s, "record.personal_viewed", object_type=rt.name, object_id=c.record_id, unit=unit, detail={"conflict": 1})
        else:
            masked = rt.personal_fields
            for v in (local, incoming):
                for f in masked:
                    v.pop(f, None)
        differing = tuple(f for f in rt.field_names if local.get(f) != incoming.get(f))
        locked = _conflict_lock(s, c, row) if c.state == "open" else ""
        return ConflictDetail(_conflict_info(c), local, incoming, differing, masked, locked)


def resolve_conflict(ws: Workspace, conflict_id: str, *, keep: str) -> ConflictInfo:
    """A person decides: keep the version here (``local``) or take the incoming one (``incoming``).

    Either way a new version is written here, built on both, so the decision itself travels on
    (to HQ, from a circle) and supersedes the two versions wherever they are.
    """
    from nap_desktop.services.records import _next_seq

    if keep not in ("local", "incoming"):
        raise SyncError("Choose which version to keep: local or incoming.")
    with ws.sf.begin() as s:
        c = s.get(SyncConflict, conflict_id)
        if c is None:
            raise NotFound("No such conflict.")
        model = MODEL_BY_TYPE[c.record_type]
        row = s.get(model, c.record_id)
        if row is None and c.local_version == 0:
            return _take_new_record(ws, s, c, keep)
        if row is None:
            raise NotFound("The record of this conflict no longer exists.")
        ws.require(Perm.BUNDLE_IMPORT, unit=row.unit, object_type=c.record_type, object_id=c.record_id)
        if c.state != "open":
            raise SyncError("This conflict was already resolved.")
        if keep == "incoming" and (message := _conflict_lock(s, c, row)):
            raise RecordLocked(message)
        local_version, local_hash = row.version, row.content_hash
        new_version = max(row.version, c.incoming_version) + 1
        if keep == "incoming":
            rl = decode_record(json.loads(c.incoming))
            s.expunge(row)
            Applier(s).replace(rl, keep_personal=rl.purged)
            row = s.get(model, c.record_id)
            assert row is not None
        row.version, row.base_version, row.base_hash = new_version, local_version, local_hash
        row.updated_at, row.updated_by = utcnow(), ws.user.username
        row.seq = _next_seq(s)
        incoming_hash = json.loads(c.incoming)["row"]["content_hash"]
        s.merge(RecordMerge(record_id=c.record_id, version=new_version, other_hash=incoming_hash))
        s.add(RecordHistory(record_type=c.record_type, record_id=c.record_id, version=new_version, field="sync_conflict", old=json.dumps(local_version), new=json.dumps(keep), changed_by=ws.user.username))
        c.state, c.resolution, c.resolved_by, c.resolved_at = "resolved", keep, ws.user.username, utcnow()
        ws.audit(s, "sync.conflict_resolved", object_type=c.record_type, object_id=c.record_id, unit=row.unit, detail={"keep": keep, "version": new_version})
        s.flush()
        return _conflict_info(c)


def _take_new_record(ws: Workspace, s: Session, c: SyncConflict, keep: str) -> ConflictInfo:
    """A record new here, queued because its month's return is approved: it can only be taken
    (after that return is unlocked), since there is no version here to keep instead."""
    rl = decode_record(json.loads(c.incoming))
    ws.require(Perm.BUNDLE_IMPORT, unit=rl.row["unit"], object_type=c.record_type, object_id=c.record_id)
    if c.state != "open":
        raise SyncError("This conflict was already resolved.")
    if keep != "incoming":
        raise SyncError(
            "This record is new here: there is no version here to keep instead. Take the incoming record once its month's return "
            "is unlocked, or leave it in the queue."
        )
    if message := _conflict_lock(s, c, None):
        raise RecordLocked(message)
    rl.row["seq"] = 0
    applier = Applier(s)
    applier.insert(rl)
    applier.flush()
    c.state, c.resolution, c.resolved_by, c.resolved_at = "resolved", keep, ws.user.username, utcnow()
    ws.audit(s, "sync.conflict_resolved", object_type=c.record_type, object_id=c.record_id, unit=rl.row["unit"], detail={"keep": keep, "version": rl.row["version"]})
    s.flush()
    return _conflict_info(c)


# --- status and lists --------------------------------------------------------------------------


def sync_status(ws: Workspace) -> SyncStatus:
    ws.require(Perm.WORKSPACE_VIEW)
    with ws.sf.begin() as s:
        try:
            r = _registry(ws, s)
        except RegistryError:
            r = None
        sk = _signing_key(s)
        exported = int(_meta(s, META_EXPORTED, "0"))
        pending = 0
        for model in MODEL_BY_TYPE.values():
            pending += s.scalar(select(func.count()).select_from(model).where(model.seq > exported)) or 0
        unacked = tuple(s.scalars(select(SyncBundle.bundle_id).where(SyncBundle.direction == "out", SyncBundle.state == "exported")))
        held = tuple((b.bundle_id, b.source_unit, b.note) for b in s.scalars(select(SyncBundle).where(SyncBundle.state == "held")))
        conflicts = s.scalar(select(func.count()).select_from(SyncConflict).where(SyncConflict.state == "open")) or 0
        requests = s.scalar(select(func.count()).select_from(EnrolRequest).where(EnrolRequest.state == "pending")) or 0
        return SyncStatus(
            enrolled=r is not None and r.device(_device_id(ws)) is not None,
            site_kind=ws.wf.site_kind,
            device_id=_device_id(ws),
            unit=ws.wf.unit,
            registry_version=r.version if r else None,
            registry_expires=r.expires_at if r else None,
            root_fingerprint=r.fingerprint() if r else "",
            key_id=sk.public.id_hex if sk else "",
            pending_records=0 if _is_hq(ws) else pending,
            exported_seq=exported,
            acked_seq=int(_meta(s, META_ACKED, "0")),
            unacknowledged=unacked,
            held=held,
            open_conflicts=conflicts,
            pending_requests=requests,
            retention_days=int(_meta(s, META_RETENTION, str(DEFAULT_RETENTION_DAYS))),
        )


def list_bundles(ws: Workspace, *, direction: str | None = None) -> list[BundleInfo]:
    ws.require(Perm.WORKSPACE_VIEW)
    with ws.sf.begin() as s:
        q = select(SyncBundle).order_by(SyncBundle.created_at)
        if direction:
            q = q.where(SyncBundle.direction == direction)
        return [
            BundleInfo(b.bundle_id, b.direction, b.kind, b.source_unit, b.seq_from, b.seq_to, b.state, b.created_at, b.processed_at, json.loads(b.summary or "{}"), b.note)
            for b in s.scalars(q)
        ]


def probable_duplicates(ws: Workspace) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    """Persons of different units whose keyed identity tokens match: (kind, ((person id, unit), …)).

    Only ids and units are shown; nobody compares identity numbers in clear.
    """
    ws.require(Perm.RECORD_READ)
    with ws.sf.begin() as s:
        groups = s.execute(
            select(MatchToken.kind, MatchToken.token).group_by(MatchToken.kind, MatchToken.token).having(func.count(func.distinct(MatchToken.unit)) > 1)
        ).all()
        out = []
        for kind, token in groups:
            members = s.execute(select(MatchToken.person_id, MatchToken.unit).where(MatchToken.token == token, MatchToken.kind == kind)).tuples().all()
            members = [(pid, unit) for pid, unit in members if ws.in_scope(unit)]
            if len({u for _, u in members}) > 1:
                out.append((kind, tuple(sorted(members))))
        return out


def unit_person_tokens(ws: Workspace) -> int:
    """HQ: (re)computes the match tokens of the persons captured here (HQ's own records)."""
    with ws.sf.begin() as s:
        key = _match_key(ws, s, _registry(ws, s))
        if key is None:
            return 0
        from nap_desktop.sync.payload import match_tokens

        n = 0
        rows = s.execute(select(Person.id, Person.unit, Person.date_of_birth, PersonIdentity).join(PersonIdentity, PersonIdentity.person_id == Person.id)).all()
        for pid, unit, dob, ident in rows:
            toks = match_tokens(key, {f: getattr(ident, f) for f in ("cnic", "passport_no", "given_name", "family_name")}, dob.isoformat() if isinstance(dob, date) else None)
            s.execute(delete(MatchToken).where(MatchToken.person_id == pid))
            for k, v in toks.items():
                s.add(MatchToken(person_id=pid, kind=k, token=v, unit=unit))
                n += 1
        return n
