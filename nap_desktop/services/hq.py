# SPDX-License-Identifier: GPL-3.0-or-later
"""HQ's side of the network link (issue 7): intake, the inbox importer, pickups for devices.

The intake server (:mod:`nap_desktop.sync.server`) and ``nap-desktop hq import-inbox`` call these
functions; they hold no HTTP. The flow of a bundle::

    device ──PUT──▶ spool file (size-capped while streaming)
                    │ open_bundle + signature against HQ's registry (enrolled, not revoked)
                    ▼  nothing is kept if either fails
    inbox/intake/<bundle id>.napb   (fsync, atomic rename; the same id again: "already received")
                    │ importer: claim (rename) → device lock → services.sync.import_bundle
                    ▼
    imported / held (inbox/held, retried when the gap closes) / rejected (inbox/intake/rejected)
    device ──POST pickup──▶ receipts made on demand from the store, and the registry if newer

Several intake servers and importers may share one PostgreSQL store (each with its own workspace
folder, the inbox possibly shared): a file is claimed by an atomic rename, and every import of a
device's bundles runs under a PostgreSQL advisory lock on the device id, so a bundle is never
applied twice (the second importer finds it "already imported") and a held bundle is never
stranded by two imports racing over the gap. On SQLite (one process per workspace) the device
lock is a thread lock.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import delete, select, text
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

from nap_desktop.data.meta import advisory_key, insert_ignore
from nap_desktop.data.models import Meta
from nap_desktop.data.sync_models import RequestNonce, SyncBundle, SyncPeer
from nap_desktop.errors import (
    BundleDamaged,
    BundleRejected,
    PermissionDenied,
    RegistryError,
    SyncError,
    UserFacingError,
    WorkspaceLocked,
)
from nap_desktop.security.permissions import Perm
from nap_desktop.services import field_config, sync
from nap_desktop.services.context import Workspace
from nap_desktop.sync import registry as reg
from nap_desktop.sync.bundle import SUFFIX, Manifest, open_bundle

logger = logging.getLogger(__name__)

INTAKE = "intake"
REJECTED = "rejected"
SPOOL = ".spool"
CLAIM = ".claim-"
STALE_CLAIM_S = 3600.0
MAX_AWAITING = 500
MAX_RECEIPTS_PER_PICKUP = 50
_ID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def valid_bundle_id(value: object) -> bool:
    return isinstance(value, str) and bool(_ID_RE.fullmatch(value))


# --- DTOs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IntakeResult:
    """What became of an upload. ``status``: stored / already received / already imported."""

    bundle_id: str
    status: str
    device_id: str
    unit: str
    seq_from: int
    seq_to: int
    records: int


@dataclass(frozen=True)
class InboxOutcome:
    """One inbox file after an importer pass. ``outcome``: imported / already imported / held / rejected / retry."""

    bundle_id: str
    device_id: str
    unit: str
    outcome: str
    note: str = ""


@dataclass(frozen=True)
class PickupItem:
    """One bundle a device waits for: imported (receipt attached) / held / received / rejected / unknown."""

    bundle_id: str
    state: str
    note: str = ""
    file: str = ""


@dataclass(frozen=True)
class Pickup:
    items: tuple[PickupItem, ...]
    files: tuple[Path, ...]
    registry_version: int
    more: bool
    config_version: int = 0  # HQ's field settings last published (0: none)


@dataclass(frozen=True)
class RequestKey:
    """An enrolled, non-revoked device key that may sign requests to the server."""

    device_id: str
    unit: str
    key_id: str
    public: object  # minisign.PublicKey


# --- folders -------------------------------------------------------------------------------------


def intake_dir(ws: Workspace, override: Path | None = None) -> Path:
    """The folder uploads are stored in (``inbox/intake`` of the workspace unless given)."""
    d = Path(override) if override else ws.path / "inbox" / INTAKE
    (d / SPOOL).mkdir(parents=True, exist_ok=True)
    (d / REJECTED).mkdir(exist_ok=True)
    return d


def spool_dir(inbox: Path) -> Path:
    return Path(inbox) / SPOOL


def node_name(ws: Workspace) -> str:
    """This node's name in claim files: the host and its workspace folder, file-name safe.

    One process at a time holds a workspace folder (its lock file), so the name is unique while
    it runs, and the same after a restart: a node that died mid-import takes its claims back at
    once. Claims of a node that never comes back are taken over after :data:`STALE_CLAIM_S`.
    """
    host = re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname())[:32] or "host"
    folder = hashlib.sha256(str(Path(ws.path).resolve()).encode()).hexdigest()[:10]
    return f"{host}-{folder}"


def _require_hq(ws: Workspace) -> None:
    if ws.wf.site_kind != "hq":
        raise SyncError("This is not an HQ workspace: only HQ runs the intake server and imports its inbox.")


def check_server_user(ws: Workspace) -> None:
    """The account running the server must be allowed to import bundles (an HQ analyst)."""
    _require_hq(ws)
    ws.require(Perm.BUNDLE_IMPORT)


# --- the registry, cached ----------------------------------------------------------------------


class RegistryCache:
    """HQ's current registry, parsed once per version (the signed text is re-read, cheaply, each time)."""

    def __init__(self, ttl_s: float = 2.0) -> None:
        self._lock = threading.Lock()
        self._text = ""
        self._registry: reg.Registry | None = None
        self._checked = 0.0
        self._ttl = ttl_s

    def get(self, ws: Workspace) -> reg.Registry:
        now = time.monotonic()
        with self._lock:
            if self._registry is not None and now - self._checked < self._ttl:
                return self._registry
        with ws.sf() as s:
            row = s.get(Meta, sync.META_REGISTRY)
            current = row.value if row is not None else ""
        with self._lock:
            if self._registry is not None and current == self._text and not sync.registry_due_for_renewal(self._registry):
                self._checked = now
                return self._registry
        with ws.sf.begin() as s:
            r = sync.require_registry(ws, s)  # renews (and, the first time, creates) HQ's registry, one node at a time
        with self._lock:
            self._registry, self._text, self._checked = r, r.text, now
        return r

    def invalidate(self) -> None:
        with self._lock:
            self._checked = 0.0


def request_key(ws: Workspace, cache: RegistryCache, key_id: str, device_id: str) -> RequestKey:
    """The key a request claims to be signed with; refused unless enrolled and not revoked.

    Raises:
        BundleRejected: unknown key, revoked key, or a key of another device.
    """
    r = cache.get(ws)
    key = r.key(key_id)
    if key is None:
        cache.invalidate()  # a device enrolled a moment ago: look again next time
        raise BundleRejected(f"Key {key_id} is not enrolled at HQ.")
    if key.status == "revoked":
        raise BundleRejected(f"Key {key_id} was revoked by HQ.")
    if key.device_id != device_id:
        raise BundleRejected("The request names another device than its key's.")
    if key.device_id == r.hq_device:
        raise BundleRejected("HQ's own key does not sign requests to HQ.")
    return RequestKey(key.device_id, key.unit, key.key_id, key.public)


# --- replay protection ---------------------------------------------------------------------------

NONCE_PURGE_S = 60.0
_nonce_purge = {"at": 0.0}
_nonce_purge_lock = threading.Lock()


def remember_nonce(ws: Workspace, device_id: str, nonce: str, *, window_s: int, now: float | None = None) -> bool:
    """Records a signed request's nonce in the store; ``False`` if it was seen before (a replay).

    The store, not the process, remembers: every intake server sharing one database refuses a
    request another one has already accepted (the insert of a nonce already there does nothing).
    A nonce is kept for twice the time window (a request is accepted up to the window either side
    of a server's clock); expired ones are removed, at most once a minute per process.
    """
    now = time.time() if now is None else now
    with _nonce_purge_lock:
        purge = now - _nonce_purge["at"] > NONCE_PURGE_S
        if purge:
            _nonce_purge["at"] = now
    if purge:
        with ws.sf.begin() as s:
            s.execute(delete(RequestNonce).where(RequestNonce.expires_at < int(now)))
    with ws.sf.begin() as s:
        return insert_ignore(s, RequestNonce.__table__, {"device_id": device_id, "nonce": nonce, "expires_at": int(now) + 2 * window_s})


# --- intake --------------------------------------------------------------------------------------


def _record_count(m: Manifest) -> int:
    return sum(v for k, v in m.counts.items() if not k.startswith("_"))


def _inbox_copies(inbox: Path, bundle_id: str) -> list[Path]:
    """The inbox file of a bundle id, and any claimed copies of it (an importer is at work)."""
    name = f"{bundle_id}{SUFFIX}"
    return [p for p in Path(inbox).glob(f"{name}*") if p.name == name or p.name.startswith(name + CLAIM)]


def store_upload(ws: Workspace, cache: RegistryCache, spool: Path, bundle_id: str, inbox: Path) -> IntakeResult:
    """Checks an uploaded file and stores it in the inbox: signature first, nothing kept if it fails.

    The caller removes ``spool`` afterwards in every case (it is moved away when stored).

    Raises:
        BundleDamaged: not a complete bundle.
        BundleRejected: not a changes bundle, another id than the upload's, an untrusted signer, or a
            different bundle under an id already received.
    """
    ob = open_bundle(spool)
    m = ob.manifest
    if m.bundle_id != bundle_id:
        raise BundleRejected("The uploaded bundle has another id than the upload address names.")
    if m.kind != "changes":
        raise BundleRejected(f"Only changes bundles are uploaded to HQ; this is a {m.kind} bundle.")
    r = cache.get(ws)
    if r.key(m.key_id) is None:  # enrolled a moment ago? look at the store, not the cache
        cache.invalidate()
        r = cache.get(ws)
    key = sync.check_signer(ws, r, m)  # enrolled; not revoked; retired keys only for what they covered
    ob.verify_signature(key.public)
    hq_recipients = set(r.recipients(r.hq_device))
    if hq_recipients and not hq_recipients & set(m.recipients):
        raise BundleRejected("The bundle is not encrypted to HQ's current key: the device needs HQ's newer registry.")
    result = IntakeResult(m.bundle_id, "stored", m.device_id, m.source_unit, m.seq_from, m.seq_to, _record_count(m))
    with ws.sf() as s:
        seen = s.get(SyncBundle, m.bundle_id)
        if seen is not None and seen.direction == "in":
            if seen.manifest_sha256 != ob.manifest_sha256:
                raise BundleRejected("A different bundle with the same id was received before: this one was refused.")
            if seen.state == "imported":
                return _replace(result, "already imported")
            return _replace(result, "already received")
    for other in _inbox_copies(inbox, m.bundle_id):
        try:
            same = open_bundle(other).manifest_sha256 == ob.manifest_sha256
        except (BundleDamaged, OSError):
            continue  # being moved by an importer right now; the new copy is as good
        if not same:
            raise BundleRejected("A different bundle with the same id is waiting in the inbox: this one was refused.")
        return _replace(result, "already received")
    target = Path(inbox) / f"{m.bundle_id}{SUFFIX}"
    with open(spool, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(spool, target)
    _fsync_dir(target.parent)
    return result


def _replace(r: IntakeResult, status: str) -> IntakeResult:
    from dataclasses import replace

    return replace(r, status=status)


def _fsync_dir(folder: Path) -> None:
    if os.name == "nt":  # pragma: no cover - NTFS has no directory fsync
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- device locks --------------------------------------------------------------------------------

_thread_locks: dict[str, threading.Lock] = {}
_thread_locks_guard = threading.Lock()


@contextlib.contextmanager
def device_lock(ws: Workspace, device_id: str) -> Iterator[None]:
    """Serialises imports of one device's bundles: across processes on PostgreSQL, across threads here.

    On PostgreSQL a session-level advisory lock is held on a connection of its own for the whole
    import (several transactions: the replay check, the apply, the receipt, held retries); if the
    process dies, PostgreSQL drops the lock with the connection.
    """
    with _thread_locks_guard:
        tl = _thread_locks.setdefault(device_id, threading.Lock())
    with tl:
        if ws.engine.dialect.name != "postgresql":
            yield
            return
        key = advisory_key("device-import", device_id)
        with ws.engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()


# --- the importer --------------------------------------------------------------------------------


def _claim(path: Path, node: str) -> Path | None:
    """Renames an inbox file to this node's claim name; ``None`` if another importer was first."""
    base = path.name.split(CLAIM)[0]
    target = path.with_name(f"{base}{CLAIM}{node}")
    try:
        if path.name != target.name:
            os.replace(path, target)
        os.utime(target)  # the claim's age counts from now (a rename keeps the old time)
    except FileNotFoundError:
        return None
    return target


def _base_name(path: Path) -> str:
    return path.name.split(CLAIM)[0]


def _pending_files(inbox: Path, node: str) -> list[Path]:
    """Unclaimed files, this node's own claims (a restart), and claims left stale by a dead node."""
    out = []
    now = time.time()
    for p in Path(inbox).iterdir():
        if p.name.startswith(".") or not p.is_file():
            continue
        if p.name.endswith(SUFFIX):
            out.append(p)
        elif CLAIM in p.name and p.name.split(CLAIM)[0].endswith(SUFFIX):
            owner = p.name.split(CLAIM, 1)[1]
            try:
                age = now - p.stat().st_mtime
            except FileNotFoundError:
                continue
            if owner == node or age > STALE_CLAIM_S:
                out.append(p)
    return out


def _order(paths: list[Path]) -> list[tuple[Path, Manifest | None]]:
    def key(item: tuple[Path, Manifest | None]) -> tuple[int, str, int]:
        m = item[1]
        return (1, "", 0) if m is None else (0, m.device_id, m.seq_from)

    items: list[tuple[Path, Manifest | None]] = []
    for p in paths:
        try:
            items.append((p, open_bundle(p).manifest))
        except BundleDamaged:
            items.append((p, None))
        except OSError:
            continue
    return sorted(items, key=key)


def _reject(ws: Workspace, inbox: Path, claimed: Path, m: Manifest | None, exc: Exception) -> None:
    rejected = Path(inbox) / REJECTED
    rejected.mkdir(exist_ok=True)
    name = _base_name(claimed)
    try:
        os.replace(claimed, rejected / name)
    except FileNotFoundError:
        return
    message = exc.message if isinstance(exc, UserFacingError) else type(exc).__name__
    (rejected / f"{name}.txt").write_text(message + "\n", "utf-8")
    with ws.sf.begin() as s:
        ws.audit(
            s, "hq.bundle_rejected", object_type="bundle", object_id=(m.bundle_id if m else name[:36]), unit=(m.source_unit if m else ""),
            detail={"reason": type(exc).__name__},
        )


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, (OperationalError, DBAPIError, OSError, TimeoutError)) and not isinstance(exc, FileNotFoundError)


def import_inbox(
    ws: Workspace, inbox: Path | None = None, *, node: str | None = None, keep_receipts: bool = True, stop: threading.Event | None = None
) -> list[InboxOutcome]:
    """One pass of the importer over the inbox, then over held bundles whose gap has closed.

    Each file goes through :func:`nap_desktop.services.sync.import_bundle` (one transaction per
    bundle) under the device's lock. Rejected files move to ``rejected/`` with the reason beside
    them; files that failed for a passing reason (the database away, a deadlock) go back for the
    next pass. ``keep_receipts=False`` (the server) removes the receipt files the import writes to
    ``outbox/``: the server makes receipts on demand from the store. When bundles were imported
    into a store on PostgreSQL, the report chains national reports read are then brought up to
    date (:func:`nap_desktop.reports.engine.refresh_report_chains`).
    """
    check_server_user(ws)
    inbox = intake_dir(ws, inbox)
    node = node or node_name(ws)
    out: list[InboxOutcome] = []
    for path, m in _order(_pending_files(inbox, node)):
        if stop is not None and stop.is_set():
            break
        claimed = _claim(path, node)
        if claimed is None:
            continue
        if m is None:
            try:
                open_bundle(claimed)
            except BundleDamaged as exc:
                _reject(ws, inbox, claimed, None, exc)
                out.append(InboxOutcome(_base_name(claimed)[:36], "", "", "rejected", exc.message))
                continue
        out.append(_import_one(ws, inbox, claimed, m, keep_receipts=keep_receipts))
    out += retry_held(ws, keep_receipts=keep_receipts)
    if any(o.outcome == "imported" for o in out) and not (stop is not None and stop.is_set()):
        _refresh_report_chains(ws)
    return out


def _refresh_report_chains(ws: Workspace) -> None:
    """After bundles were imported into HQ's store on PostgreSQL: the report chains brought up to
    date now, so the next national report reads them at once (about 1 s at 1M records after
    1,000 people were written). A failure leaves that to the report."""
    from nap_desktop.reports import engine as indicators

    try:
        n = indicators.refresh_report_chains(ws.engine)
    except SQLAlchemyError as exc:
        logger.warning("report chains left to the next report after the import: %s", type(exc).__name__)
        return
    if n:
        logger.info("report chains: %d brought up to date after the import", n)


def _import_one(ws: Workspace, inbox: Path, claimed: Path, m: Manifest | None, *, keep_receipts: bool) -> InboxOutcome:
    if m is None:
        m = open_bundle(claimed).manifest
    try:
        with device_lock(ws, m.device_id):
            summary = sync.import_bundle(ws, claimed)
    except (BundleDamaged, BundleRejected, RegistryError) as exc:
        _reject(ws, inbox, claimed, m, exc)
        return InboxOutcome(m.bundle_id, m.device_id, m.source_unit, "rejected", exc.message)
    except (PermissionDenied, WorkspaceLocked):
        _unclaim(claimed)
        raise
    except SyncError as exc:
        _reject(ws, inbox, claimed, m, exc)
        return InboxOutcome(m.bundle_id, m.device_id, m.source_unit, "rejected", exc.message)
    except Exception as exc:
        if not _transient(exc):
            _unclaim(claimed)
            raise
        logger.warning("import of bundle %s deferred (%s)", m.bundle_id, type(exc).__name__)
        _unclaim(claimed)
        return InboxOutcome(m.bundle_id, m.device_id, m.source_unit, "retry", type(exc).__name__)
    if summary.receipt is not None and not keep_receipts:
        summary.receipt.unlink(missing_ok=True)
    claimed.unlink(missing_ok=True)  # held bundles were copied to inbox/held by the import
    return InboxOutcome(m.bundle_id, m.device_id, m.source_unit, summary.outcome, summary.problems[0] if summary.problems else "")


def _unclaim(claimed: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.replace(claimed, claimed.with_name(_base_name(claimed)))


def retry_held(ws: Workspace, *, keep_receipts: bool = True) -> list[InboxOutcome]:
    """Imports held bundles (of this workspace folder) whose missing changes have arrived since.

    With several importers, the bundle that closes a gap may be imported by another node than the
    one holding the later bundle; each node's pass picks up its own held files this way.
    """
    held_dir = ws.path / "inbox" / "held"
    if not held_dir.is_dir():
        return []
    with ws.sf() as s:
        rows = list(s.scalars(select(SyncBundle).where(SyncBundle.state == "held", SyncBundle.direction == "in").order_by(SyncBundle.device_id, SyncBundle.seq_from)))
        last = {p.device_id: p.last_seq for p in s.scalars(select(SyncPeer).where(SyncPeer.device_id.in_({r.device_id for r in rows})))}
    out = []
    for row in rows:
        f = held_dir / row.file_name
        if not f.exists() or row.seq_from > last.get(row.device_id, 0) + 1:
            continue
        try:
            with device_lock(ws, row.device_id):
                summary = sync.import_bundle(ws, f)
        except (BundleDamaged, BundleRejected, RegistryError, SyncError) as exc:
            out.append(InboxOutcome(row.bundle_id, row.device_id, row.source_unit, "rejected", exc.message))
            continue
        except Exception as exc:
            if not _transient(exc):
                raise
            out.append(InboxOutcome(row.bundle_id, row.device_id, row.source_unit, "retry", type(exc).__name__))
            continue
        if summary.receipt is not None and not keep_receipts:
            summary.receipt.unlink(missing_ok=True)
        if summary.outcome in ("imported", "already imported"):
            f.unlink(missing_ok=True)
            last[row.device_id] = max(last.get(row.device_id, 0), row.seq_to)
        out.append(InboxOutcome(row.bundle_id, row.device_id, row.source_unit, summary.outcome))
    return out


# --- pickup --------------------------------------------------------------------------------------


def pickup(
    ws: Workspace,
    cache: RegistryCache,
    device_id: str,
    awaiting: list[str],
    registry_version: int,
    *,
    inbox: Path,
    folder: Path,
    config_version: int | None = None,
) -> Pickup:
    """What a device may take home: receipts of its imported bundles, states of the others, a newer
    registry, and HQ's field settings if published after the version the device has (``config_version``;
    ``None``: the device did not say, none is sent).

    Receipts are written on demand into ``folder`` (the caller sends and removes them), so any of
    several intake servers on one store can answer. At most :data:`MAX_RECEIPTS_PER_PICKUP` receipts
    per call (``more`` tells the device to ask again).
    """
    ids = [b for b in dict.fromkeys(awaiting) if valid_bundle_id(b)][:MAX_AWAITING]
    r = cache.get(ws)
    items: list[PickupItem] = []
    files: list[Path] = []
    more = False
    with ws.sf() as s:
        rows = {b.bundle_id: b for b in s.scalars(select(SyncBundle).where(SyncBundle.bundle_id.in_(ids), SyncBundle.direction == "in"))}
    for bid in ids:
        row = rows.get(bid)
        if row is not None and row.device_id != device_id:
            items.append(PickupItem(bid, "unknown"))  # another device's bundle: nothing to say
            continue
        if row is not None and row.state == "imported":
            if len(files) >= MAX_RECEIPTS_PER_PICKUP:
                more = True
                continue
            with ws.sf.begin() as s:
                path = sync.write_receipt(ws, s, s.get(SyncBundle, bid), folder=folder)
            files.append(path)
            items.append(PickupItem(bid, "imported", file=path.name))
        elif row is not None and row.state == "held":
            items.append(PickupItem(bid, "held", row.note))
        elif _inbox_copies(inbox, bid):
            items.append(PickupItem(bid, "received"))
        elif (Path(inbox) / REJECTED / f"{bid}{SUFFIX}").exists():
            reason = Path(inbox) / REJECTED / f"{bid}{SUFFIX}.txt"
            items.append(PickupItem(bid, "rejected", reason.read_text("utf-8").strip()[:500] if reason.exists() else ""))
        else:
            items.append(PickupItem(bid, "unknown"))
    published = 0
    with ws.sf() as s:
        if registry_version < r.version:
            path = sync.registry_bundle(ws, s, r, device_id, folder)
            if path is not None:
                files.append(path)
        config = field_config.published(s)
        if config is not None:
            published = config.version
            if config_version is not None and config_version < config.version:
                path = field_config.config_bundle(ws, s, r, device_id, folder, config)
                if path is not None:
                    files.append(path)
    return Pickup(tuple(items), tuple(files), r.version, more, published)


def pickup_index(p: Pickup) -> bytes:
    """The ``index.json`` member of a pickup archive."""
    return json.dumps(
        {
            "items": [{"bundle_id": i.bundle_id, "state": i.state, "note": i.note, "file": i.file} for i in p.items],
            "registry_version": p.registry_version,
            "config_version": p.config_version,
            "more": p.more,
        },
        sort_keys=True,
    ).encode()


# --- housekeeping --------------------------------------------------------------------------------


def inbox_counts(ws: Workspace, inbox: Path | None = None) -> dict[str, int]:
    """Files waiting, claimed and rejected in the inbox (for ``hq status`` and the health check)."""
    d = intake_dir(ws, inbox)
    waiting = claimed = 0
    for p in d.iterdir():
        if p.is_file() and p.name.endswith(SUFFIX):
            waiting += 1
        elif p.is_file() and CLAIM in p.name:
            claimed += 1
    rejected = sum(1 for p in (d / REJECTED).glob(f"*{SUFFIX}"))
    return {"waiting": waiting, "claimed": claimed, "rejected": rejected}


@dataclass(frozen=True)
class InboxState:
    """The intake inbox as HQ's sync screen shows it: counts, and why the latest bundles were
    refused (the importer's messages: no personal data)."""

    waiting: int
    claimed: int
    rejected: int
    reasons: tuple[tuple[datetime, str], ...]  # (when refused, why), newest first


def inbox_state(ws: Workspace, inbox: Path | None = None, *, reasons: int = 5) -> InboxState:
    """:func:`inbox_counts` and the reasons of the ``reasons`` latest refusals (HQ analysts)."""
    _require_hq(ws)
    ws.require(Perm.BUNDLE_IMPORT)
    counts = inbox_counts(ws, inbox)
    found: list[tuple[datetime, str]] = []
    for note in (intake_dir(ws, inbox) / REJECTED).glob(f"*{SUFFIX}.txt"):
        with contextlib.suppress(OSError):
            found.append((datetime.fromtimestamp(note.stat().st_mtime, UTC), note.read_text("utf-8", errors="replace").strip()[:300]))
    found.sort(reverse=True)
    return InboxState(counts["waiting"], counts["claimed"], counts["rejected"], tuple(found[:reasons]))


def clean_spool(inbox: Path, older_than_s: float = 3600.0) -> int:
    """Removes spool files left by a server that died mid-upload (older than any upload may last)."""
    return clean_old(spool_dir(inbox), older_than_s)


def clean_old(folder: Path, older_than_s: float) -> int:
    """Removes the files and folders directly in ``folder`` not touched for ``older_than_s``."""
    n = 0
    now = time.time()
    if not Path(folder).is_dir():
        return 0
    for p in Path(folder).iterdir():
        with contextlib.suppress(FileNotFoundError):
            if now - p.stat().st_mtime > older_than_s:
                if p.is_dir():
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    p.unlink()
                n += 1
    return n


@dataclass
class ImporterStats:
    passes: int = 0
    imported: int = 0
    held: int = 0
    rejected: int = 0
    retries: int = 0
    errors: int = 0
    last_error: str = ""

    def add(self, outcomes: list[InboxOutcome]) -> None:
        self.passes += 1
        for o in outcomes:
            if o.outcome == "imported":
                self.imported += 1
            elif o.outcome == "held":
                self.held += 1
            elif o.outcome == "rejected":
                self.rejected += 1
            elif o.outcome == "retry":
                self.retries += 1
