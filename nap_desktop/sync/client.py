# SPDX-License-Identifier: GPL-3.0-or-later
"""The field client of HQ's intake server: push pending bundles, pull receipts and registry updates.

A sync run has three phases, so that a GUI can keep its single store writer and never wait on the
network on its own thread:

1. **prepare** (store): export the changes made since the last export (and a circle's posts'
   bundles waiting to be forwarded), and read the credentials (device key, registry version,
   bundles HQ has not acknowledged);
2. **transfer** (network and files only): upload every changes bundle in ``outbox/`` (moved to
   ``outbox/sent/`` once HQ has it), ask HQ about the unacknowledged ones, download receipts, a
   newer registry and newer field settings into ``inbox/download/``;
3. **finish** (store): import what was downloaded (receipts, registries, HQ's field settings)
   with the same import as a USB stick
   (:func:`nap_desktop.services.sync.import_files`), remove sent bundles HQ acknowledged.

:class:`AutoSync` runs this on its own thread when HQ is reachable: it checks HQ's health
periodically, with exponential backoff while HQ is unreachable (the delay is capped, the number of
attempts never is). The USB path is unchanged: ``sync export`` / ``sync import`` work as before,
and whatever a person copies by hand is imported the same way.

Only the standard library speaks HTTP here (``urllib``): a field install does not need the HQ
extra. Plain ``http://`` is accepted only for a loopback address (tests); HQ's certificate is
checked against the system's CAs or the CA file in the link settings; an HTTP proxy may be set.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import os
import random
import shutil
import socket
import ssl
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from nap_desktop.errors import BundleDamaged, HqUnreachable, LinkError, NotEnrolled, UserFacingError, WorkspaceLocked
from nap_desktop.services import link as link_service
from nap_desktop.services import sync
from nap_desktop.services.context import Workspace
from nap_desktop.services.link import Credentials, LinkSettings
from nap_desktop.sync import protocol
from nap_desktop.sync.bundle import SUFFIX, open_bundle

logger = logging.getLogger(__name__)

T = TypeVar("T")
MAX_PICKUP_BYTES = 256 * 1024**2
MAX_PICKUP_ROUNDS = 20
MAX_ARCHIVE_MEMBERS = 128  # index + at most 50 receipts + a registry bundle per answer (services/hq.py)
DOWNLOAD = "download"
SENT = "sent"
REFUSED = "refused"


# --- HTTP ----------------------------------------------------------------------------------------


class HttpLink:
    """Requests to one intake server, signed with the device key."""

    def __init__(self, settings: LinkSettings, *, timeout_s: float = 60.0) -> None:
        if not settings.server_url:
            raise LinkError("No HQ server is set: set its address first (Sync screen ▸ Connection to HQ…, or `nap-desktop sync link --server URL`).")
        self.base = link_service.check_server_url(settings.server_url)
        self.route = (self.base, settings.proxy, settings.ca_file)  # a change of any of them needs a new link
        self.timeout = timeout_s
        handlers: list[Any] = []
        if settings.proxy:
            handlers.append(urllib.request.ProxyHandler({"http": settings.proxy, "https": settings.proxy}))
        ctx = ssl.create_default_context(cafile=settings.ca_file or None)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        handlers.append(urllib.request.HTTPSHandler(context=ctx))
        self.opener = urllib.request.build_opener(*handlers)
        self.clock_offset = 0.0
        self.max_bundle_bytes: int | None = None

    # -- plumbing -------------------------------------------------------------------------------

    def _open(self, req: urllib.request.Request) -> Any:
        try:
            return self.opener.open(req, timeout=self.timeout)
        except urllib.error.HTTPError:
            raise
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, ssl.SSLCertVerificationError):
                raise LinkError(
                    "HQ's server certificate is not trusted by this computer. Set HQ's CA file in the link settings, or ask HQ."
                ) from None
            raise HqUnreachable(f"HQ's server cannot be reached ({_reason(exc.reason)}).") from None
        except (TimeoutError, socket.timeout):
            raise HqUnreachable("HQ's server did not answer in time.") from None
        except (ConnectionError, http.client.HTTPException, OSError) as exc:
            raise HqUnreachable(f"The connection to HQ's server broke ({type(exc).__name__}).") from None

    def _signed(self, creds: Credentials, method: str, path: str, body_hash: str, data: Any, length: int, content_type: str) -> Any:
        """Sends a signed request; corrects the clock offset once if the server says the clock is off."""
        for attempt in (1, 2):
            headers = protocol.sign_request(creds.key, creds.device_id, method, path, body_hash, now=time.time() + self.clock_offset)
            headers.update({"Content-Length": str(length), "Content-Type": content_type})
            if hasattr(data, "seek"):
                data.seek(0)
            req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
            try:
                return self._open(req)
            except urllib.error.HTTPError as exc:
                err = _error_body(exc)
                if exc.code == 401 and err.get("error") == "clock" and attempt == 1:
                    server_time = exc.headers.get("x-nap-server-time", "")
                    if server_time.isdigit():
                        self.clock_offset = int(server_time) - time.time()
                        logger.info("corrected the clock offset to HQ by %.0f s", self.clock_offset)
                        continue
                raise _link_error(exc.code, err) from None
        raise LinkError("HQ's server refused the request's time twice.")

    # -- endpoints ------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """HQ's health check; raises :class:`HqUnreachable` unless it answers ``ok``."""
        req = urllib.request.Request(self.base + protocol.PATH_HEALTH, method="GET")
        try:
            with self._open(req) as resp:
                doc = json.loads(resp.read(64 * 1024))
        except urllib.error.HTTPError as exc:
            raise HqUnreachable(f"HQ's server is not ready (HTTP {exc.code}).") from None
        except ValueError:
            raise LinkError("The address answers, but not as a NAP intake server.") from None
        if not isinstance(doc, dict) or doc.get("protocol") != protocol.PROTOCOL:
            raise LinkError("The address answers, but not as a NAP intake server (another protocol).")
        if doc.get("status") != "ok":
            raise HqUnreachable("HQ's server is up but not ready.")
        if isinstance(doc.get("max_bundle_bytes"), int):
            self.max_bundle_bytes = doc["max_bundle_bytes"]
        if isinstance(doc.get("time"), int) and abs(doc["time"] - time.time()) > 30:
            self.clock_offset = doc["time"] - time.time()  # a device clock far off: sign with HQ's time
        return doc

    def put_bundle(self, creds: Credentials, path: Path, bundle_id: str) -> str:
        """Uploads one bundle; returns HQ's status (stored / already received / already imported)."""
        size = path.stat().st_size
        if self.max_bundle_bytes is not None and size > self.max_bundle_bytes:
            raise LinkError(f"The bundle {path.name} is larger than HQ's server accepts; send it on a USB stick.")
        with open(path, "rb") as fh:
            with self._signed(creds, "PUT", protocol.PATH_BUNDLES + bundle_id, protocol.UNSIGNED, fh, size, "application/octet-stream") as resp:
                doc = json.loads(resp.read(64 * 1024))
        return str(doc.get("status", ""))

    def pickup(
        self, creds: Credentials, awaiting: list[str], registry_version: int, dest: Path, *, config_version: int = 0
    ) -> tuple[dict[str, Any], list[Path]]:
        """Asks for receipts, a newer registry and newer field settings; saves the bundles in ``dest``; returns HQ's index."""
        body = json.dumps({"awaiting": awaiting, "registry_version": registry_version, "config_version": config_version}).encode()
        dest.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=".pickup-", suffix=".zip", dir=dest)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out, self._signed(creds, "POST", protocol.PATH_PICKUP, protocol.body_sha256(body), body, len(body), "application/json") as resp:
                total = 0
                while chunk := resp.read(256 * 1024):
                    total += len(chunk)
                    if total > MAX_PICKUP_BYTES:
                        raise LinkError("HQ's answer is larger than expected; nothing was taken from it.")
                    out.write(chunk)
            return _unpack_pickup(tmp, dest)
        except (TimeoutError, socket.timeout, ConnectionError, http.client.HTTPException) as exc:
            raise HqUnreachable(f"The connection to HQ's server broke during the download ({type(exc).__name__}).") from None
        finally:
            tmp.unlink(missing_ok=True)


@dataclass(frozen=True)
class ConnectionCheck:
    """What a connection test found (:func:`check_connection`). No personal data."""

    ok: bool
    message: str  # English, from the core: what happened and what to do
    server_url: str
    via_proxy: bool
    clock_offset_s: float = 0.0  # HQ's clock minus this computer's, when HQ answered
    max_bundle_bytes: int | None = None
    key_accepted: bool | None = None  # HQ accepted this device's signed request (None: not asked)


CLOCK_WARN_S = 120.0  # a clock further off than this is worth telling the user about


def check_connection(settings: LinkSettings, *, creds: Credentials | None = None, timeout_s: float = 15.0) -> ConnectionCheck:
    """Asks HQ's intake server whether it is ready (its health endpoint), the way an automatic
    sync would reach it: the same address, proxy and CA file; with ``creds``
    (:func:`nap_desktop.services.link.check_credentials`) also whether HQ accepts this device's
    key, by one signed pickup that asks for nothing (what HQ would send anyway is dropped).

    Touches no store and sends no bundle, so an administrator can try an address before saving
    it. Network trouble is a result (``ok`` False, with what to do), not an exception; an address
    that is not a server address raises :class:`~nap_desktop.errors.ValidationError`.
    """
    base = link_service.check_server_url(settings.server_url)
    via_proxy = bool(settings.proxy)

    def failed(message: str) -> ConnectionCheck:
        return ConnectionCheck(False, message, base, via_proxy)

    try:
        http_link = HttpLink(settings, timeout_s=timeout_s)
    except OSError:  # a missing or unreadable CA file, or one that is no PEM (ssl.SSLError)
        return failed("The CA file set for HQ's server cannot be read as a certificate file. Set the right file, or ask HQ.")
    try:
        http_link.health()
    except HqUnreachable as exc:
        hint = " Check the proxy address, or try without the proxy." if via_proxy else " Check the address and this laptop's network; ask HQ whether the server is running."
        return failed(exc.message + hint)
    except LinkError as exc:
        return failed(exc.message)
    if creds is None:
        message = "HQ's server answered. This laptop is not enrolled yet: whether HQ accepts it shows once HQ's answer to the enrolment is accepted here."
    else:
        try:
            with tempfile.TemporaryDirectory(prefix="nap-check-") as tmp:
                http_link.pickup(creds, [], creds.registry_version, Path(tmp), config_version=creds.config_version)
        except HqUnreachable as exc:
            return failed(exc.message)
        except LinkError as exc:  # HQ does not know or has revoked this device's key
            return replace(failed("HQ's server answered, but refused this laptop's signed request. " + exc.message), key_accepted=False)
        message = "HQ's server answered and accepts this laptop's key: it is ready to receive this laptop's bundles."
    offset = http_link.clock_offset
    if abs(offset) > CLOCK_WARN_S:
        message += f" This computer's clock is {abs(offset) / 60:.0f} minutes {'behind' if offset > 0 else 'ahead of'} HQ's; sync allows for it, but please set the clock right."
    return ConnectionCheck(True, message, base, via_proxy, offset, http_link.max_bundle_bytes, True if creds is not None else None)


def _reason(reason: object) -> str:
    if isinstance(reason, socket.gaierror):
        return "the name does not resolve"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return "timed out"
    return type(reason).__name__


def _error_body(exc: urllib.error.HTTPError) -> dict[str, Any]:
    try:
        doc = json.loads(exc.read(64 * 1024) or b"{}")
    except (ValueError, OSError):
        return {}
    return doc if isinstance(doc, dict) else {}


class BundleRefused(LinkError):
    """HQ refused one bundle for good (damaged, untrusted, too large); other bundles go on."""


def _link_error(status: int, err: dict[str, Any]) -> LinkError:
    code, message = str(err.get("error", "")), str(err.get("message", ""))[:300]
    if status in (502, 503, 504) or code in ("busy", "timeout", "disconnected", "incomplete"):
        return HqUnreachable(f"HQ's server is busy or the transfer broke (HTTP {status}); it will be tried again.")
    if status in (413, 422) or code == "rejected":
        return BundleRefused(f"HQ refused the bundle: {message or code}")
    if code in ("unknown_key", "revoked"):
        return LinkError(f"HQ does not accept this device's key ({message}). Ask HQ; the bundles stay here and can go on a USB stick.")
    return LinkError(f"HQ's server refused the request (HTTP {status}{': ' + message if message else ''}).")


def _unpack_pickup(archive: Path, dest: Path) -> tuple[dict[str, Any], list[Path]]:
    try:
        with zipfile.ZipFile(archive) as zf:
            names = zf.namelist()
            if "index.json" not in names or len(names) > MAX_ARCHIVE_MEMBERS:
                raise LinkError("HQ's answer is not a pickup archive.")
            index = json.loads(zf.read("index.json"))
            files = []
            for name in names:
                if name == "index.json":
                    continue
                if "/" in name or "\\" in name or name.startswith(".") or not name.endswith(SUFFIX) or len(name) > 200:
                    raise LinkError("HQ's answer holds an unexpected file; nothing was taken from it.")
                target = dest / name
                with zf.open(name) as src, open(dest / f".{name}.partial", "wb") as out:
                    shutil.copyfileobj(src, out)
                os.replace(dest / f".{name}.partial", target)
                files.append(target)
    except (zipfile.BadZipFile, ValueError, KeyError):
        raise LinkError("HQ's answer is damaged; it will be asked for again.") from None
    if not isinstance(index, dict) or not isinstance(index.get("items"), list):
        raise LinkError("HQ's answer has no readable index.")
    return index, files


# --- one run -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    creds: Credentials
    exported: str  # bundle id of a bundle exported now, or ""
    exported_records: int
    to_push: tuple[tuple[Path, str], ...]  # (file, bundle id)


@dataclass(frozen=True)
class Transfer:
    pushed: tuple[tuple[str, str], ...]  # (bundle id, HQ's status)
    refused: tuple[tuple[str, str], ...]  # (file name, reason)
    states: tuple[tuple[str, str, str], ...]  # (bundle id, state, note)
    downloaded: tuple[Path, ...]
    requeued: tuple[str, ...]


@dataclass(frozen=True)
class SyncReport:
    """What one run did. No personal data (ids, counts and PII-free messages only)."""

    exported_records: int = 0
    pushed: int = 0
    already: int = 0
    refused: tuple[tuple[str, str], ...] = ()
    acknowledged: int = 0
    registry_updated: bool = False
    config_updated: bool = False
    held: tuple[tuple[str, str], ...] = ()
    rejected: tuple[tuple[str, str], ...] = ()
    waiting: int = 0
    problems: tuple[str, ...] = ()

    def line(self) -> str:
        parts = [f"{self.pushed} bundle(s) sent" + (f" ({self.already} HQ already had)" if self.already else "")]
        if self.exported_records:
            parts.insert(0, f"{self.exported_records} changed record(s) exported")
        parts.append(f"{self.acknowledged} acknowledged by HQ")
        if self.waiting:
            parts.append(f"{self.waiting} waiting at HQ")
        if self.registry_updated:
            parts.append("key registry updated")
        if self.config_updated:
            parts.append("HQ's field settings applied")
        return "; ".join(parts) + "."


class SyncClient:
    """One device's link to HQ. ``ws`` may be a callable returning the current workspace (the GUI's)."""

    def __init__(self, ws: Workspace | Callable[[], Workspace], settings: LinkSettings | None = None, *, timeout_s: float = 60.0) -> None:
        self._ws = ws
        self._settings = settings
        self._timeout = timeout_s
        self._link: HttpLink | None = None

    @property
    def ws(self) -> Workspace:
        return self._ws() if callable(self._ws) else self._ws

    def settings(self) -> LinkSettings:
        return self._settings or link_service.get_settings(self.ws)

    def link(self) -> HttpLink:
        s = self.settings()
        if self._link is None or self._link.route != (link_service.check_server_url(s.server_url or "https://unset"), s.proxy, s.ca_file):
            self._link = HttpLink(s, timeout_s=self._timeout)
        return self._link

    # -- phases ---------------------------------------------------------------------------------

    def prepare(self, *, export: bool = True) -> Plan:
        """Store phase: export pending changes (if any), read the credentials, list what to push."""
        ws = self.ws
        exported, n = "", 0
        if export:
            pending, forward = link_service.pending_work(ws)
            if pending or forward:
                r = sync.export_changes(ws)
                exported, n = r.bundle_id, r.records
        creds = link_service.credentials(ws)
        to_push = []
        for f in sorted((ws.path / "outbox").glob(f"*{SUFFIX}")):
            try:
                m = open_bundle(f).manifest
            except BundleDamaged:
                continue  # still being written by hand, or broken: left for a person
            if m.kind == "changes":
                to_push.append((f, m.bundle_id))
        return Plan(creds, exported, n, tuple(to_push))

    def transfer(self, plan: Plan, *, push: bool = True, pull: bool = True) -> Transfer:
        """Network phase: no store access (files in outbox/ and inbox/download/ only)."""
        ws_path = self.ws.path
        link = self.link()
        link.health()
        pushed: list[tuple[str, str]] = []
        refused: list[tuple[str, str]] = []
        if push:
            sent = ws_path / "outbox" / SENT
            sent.mkdir(parents=True, exist_ok=True)
            for f, bid in plan.to_push:
                try:
                    status = link.put_bundle(plan.creds, f, bid)
                except BundleRefused as exc:
                    refused.append((f.name, exc.message))
                    _move(f, ws_path / "outbox" / REFUSED)
                    (ws_path / "outbox" / REFUSED / f"{f.name}.txt").write_text(exc.message + "\n", "utf-8")
                    continue
                pushed.append((bid, status))
                _move(f, sent)
        states: list[tuple[str, str, str]] = []
        downloaded: list[Path] = []
        requeued: list[str] = []
        if pull:
            dest = ws_path / "inbox" / DOWNLOAD
            awaiting = list(plan.creds.awaiting) + [b for b, _ in pushed if b not in plan.creds.awaiting]
            version, config_version = plan.creds.registry_version, plan.creds.config_version
            for _ in range(MAX_PICKUP_ROUNDS):
                index, files = link.pickup(plan.creds, awaiting[:500], version, dest, config_version=config_version)
                downloaded += files
                got = {i.get("bundle_id") for i in index["items"] if isinstance(i, dict) and i.get("state") == "imported"}
                for i in index["items"]:
                    if isinstance(i, dict):
                        states.append((str(i.get("bundle_id", "")), str(i.get("state", "")), str(i.get("note", ""))[:300]))
                awaiting = [b for b in awaiting if b not in got]
                if isinstance(index.get("registry_version"), int):
                    version = max(version, index["registry_version"])
                if isinstance(index.get("config_version"), int):
                    config_version = max(config_version, index["config_version"])
                if not index.get("more"):
                    break
            for bid, state, _ in states:
                if state == "unknown" and bid in plan.creds.files:
                    if _move(ws_path / "outbox" / SENT / plan.creds.files[bid], ws_path / "outbox"):
                        requeued.append(bid)
        return Transfer(tuple(pushed), tuple(refused), tuple(states), tuple(downloaded), tuple(requeued))

    def finish(self, plan: Plan, t: Transfer) -> SyncReport:
        """Store phase: import the downloaded receipts and registries; tidy outbox/sent/."""
        ws = self.ws
        acked, registry, config, problems = 0, False, False, []
        for result in sync.import_files(ws, list(t.downloaded)):
            if isinstance(result, Exception):
                problems.append(str(result))
                continue
            acked += result.acknowledged
            registry = registry or result.kind == "registry"
            config = config or (result.kind == "config" and result.outcome == "applied")
        for f in t.downloaded:
            f.unlink(missing_ok=True)
        _tidy_sent(ws)
        last = {bid: (state, note) for bid, state, note in t.states}
        return SyncReport(
            exported_records=plan.exported_records,
            pushed=sum(1 for _, s in t.pushed if s == "stored"),
            already=sum(1 for _, s in t.pushed if s != "stored"),
            refused=t.refused,
            acknowledged=acked,
            registry_updated=registry,
            config_updated=config,
            held=tuple((b, n) for b, (s, n) in last.items() if s == "held"),
            rejected=tuple((b, n) for b, (s, n) in last.items() if s == "rejected"),
            waiting=sum(1 for s, _ in last.values() if s in ("received", "held")),
            problems=tuple(problems),
        )

    def sync_once(self, *, push: bool = True, pull: bool = True, export: bool = True, run_db: Callable[[Callable[[], T]], T] | None = None) -> SyncReport:
        """Export, push, pull, import. ``run_db`` runs the store phases elsewhere (the GUI's writer)."""
        run = run_db or (lambda fn: fn())
        plan = run(lambda: self.prepare(export=export and push))
        t = self.transfer(plan, push=push, pull=pull)
        return run(lambda: self.finish(plan, t))


def _move(src: Path, folder: Path) -> bool:
    folder.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(src, folder / src.name)
    except FileNotFoundError:
        return False
    return True


def _tidy_sent(ws: Workspace) -> None:
    """Removes sent bundles HQ has acknowledged (they hold nothing this device can still use)."""
    sent = ws.path / "outbox" / SENT
    if not sent.is_dir():
        return
    keep = {b.bundle_id for b in sync.list_bundles(ws, direction="out") if b.state != "acknowledged"}
    for f in sent.glob(f"*{SUFFIX}"):
        try:
            bid = open_bundle(f).manifest.bundle_id
        except BundleDamaged:
            continue
        if bid not in keep:
            f.unlink(missing_ok=True)


# --- automatic sync ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Backoff:
    """Delays between attempts while HQ is unreachable: doubling, capped, with jitter; never giving up."""

    base_s: float = 30.0
    max_s: float = 30 * 60.0
    jitter: float = 0.2

    def delay(self, failures: int, rnd: Callable[[], float] = random.random) -> float:
        d = min(self.max_s, self.base_s * 2 ** max(0, failures - 1))
        return d * (1 - self.jitter + 2 * self.jitter * rnd())


@dataclass(frozen=True)
class SyncState:
    """What the status indicator shows. ``state``: off / waiting / offline / syncing / ok /
    not_enrolled (HQ's answer to the enrolment request is not accepted here yet) / error."""

    state: str = "off"
    message: str = ""
    last_success: datetime | None = None
    last_attempt: datetime | None = None
    next_attempt_in_s: float | None = None
    failures: int = 0
    report: SyncReport | None = None


class AutoSync:
    """Syncs in the background whenever HQ is reachable; :meth:`trigger` asks for a run now.

    ``run_db`` runs the store phases (the GUI passes its single-writer pool); the network phase
    runs on this object's own thread. ``on_change`` is called (on that thread) with each new
    :class:`SyncState`.
    """

    def __init__(
        self,
        ws: Workspace | Callable[[], Workspace],
        *,
        run_db: Callable[[Callable[[], Any]], Any] | None = None,
        on_change: Callable[[SyncState], None] | None = None,
        backoff: Backoff = Backoff(),
        settings: LinkSettings | None = None,
        timeout_s: float = 60.0,
    ) -> None:
        self.client = SyncClient(ws, settings, timeout_s=timeout_s)
        self._settings = settings
        self._run_db = run_db or (lambda fn: fn())
        self._on_change = on_change
        self.backoff = backoff
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._now_requested = False
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._state = SyncState()
        self.runs = 0

    # -- control --------------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="nap-autosync", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> bool:
        """Stops the thread (after the current step); returns whether it ended within ``timeout``."""
        self._stop.set()
        self._wake.set()
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def trigger(self) -> None:
        """Sync now (as soon as the current step ends), whatever the schedule."""
        with self._lock:
            self._now_requested = True
        self._wake.set()

    def reload(self) -> None:
        """Reads the link settings again now (a new address or interval counts at once); unlike
        :meth:`trigger`, with automatic sync off it still waits for Sync now."""
        self._wake.set()

    def status(self) -> SyncState:
        with self._lock:
            return self._state

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- the loop -------------------------------------------------------------------------------

    def _set(self, **changes: Any) -> None:
        with self._lock:
            self._state = replace(self._state, **changes)
            state = self._state
        if self._on_change is not None:
            with contextlib.suppress(Exception):
                self._on_change(state)

    def _loop(self) -> None:
        failures = 0
        while not self._stop.is_set():
            with self._lock:
                now_requested, self._now_requested = self._now_requested, False
            try:
                settings = self._settings or self._run_db(lambda: link_service.get_settings(self.client.ws))
            except WorkspaceLocked:
                self._set(state="off", message="The workspace is locked.", next_attempt_in_s=None)
                return
            except Exception as exc:  # noqa: BLE001 - the store is busy: try again shortly
                settings, wait = None, self.backoff.delay(failures + 1)
                self._set(state="error", message=_safe(exc), next_attempt_in_s=wait)
                self._sleep(wait)
                continue
            if not settings.configured:
                self._set(state="off", message="No HQ server is set.", next_attempt_in_s=None)
                self._sleep(300.0)
                continue
            if not settings.auto and not now_requested:
                self._set(state="waiting", message="Automatic sync is off; use Sync now.", next_attempt_in_s=None)
                self._sleep(300.0)
                continue
            self.client._settings = settings
            self._set(state="syncing", message="", last_attempt=datetime.now(UTC), next_attempt_in_s=None)
            self.runs += 1
            try:
                report = self.client.sync_once(run_db=self._run_db)
            except HqUnreachable as exc:
                failures += 1
                wait = self.backoff.delay(failures)
                self._set(state="offline", message=exc.message, failures=failures, next_attempt_in_s=wait)
                self._sleep(wait)
                continue
            except WorkspaceLocked:
                self._set(state="off", message="The workspace is locked.", next_attempt_in_s=None)
                return
            except NotEnrolled as exc:  # not an error of the link: waits (Sync now, or a new setting, wakes it)
                self._set(state="not_enrolled", message=exc.message, failures=0, next_attempt_in_s=None)
                self._sleep(300.0)
                continue
            except Exception as exc:  # noqa: BLE001 - shown in the status; tried again later
                failures += 1
                wait = self.backoff.delay(failures)
                if not isinstance(exc, UserFacingError):
                    from nap_desktop.log import safe_traceback

                    logger.error("automatic sync failed\n%s", safe_traceback(exc))
                self._set(state="error", message=_safe(exc), failures=failures, next_attempt_in_s=wait)
                self._sleep(wait)
                continue
            failures = 0
            wait = settings.interval_minutes * 60.0
            msg = report.line()
            if report.refused or report.rejected or report.problems:
                msg += " " + "; ".join([r for _, r in report.refused] + [n for _, n in report.rejected] + list(report.problems))[:400]
            self._set(state="ok", message=msg, last_success=datetime.now(UTC), failures=0, next_attempt_in_s=wait, report=report)
            self._sleep(wait)

    def _sleep(self, seconds: float) -> None:
        self._wake.wait(seconds)
        self._wake.clear()


def _safe(exc: BaseException) -> str:
    return exc.message if isinstance(exc, UserFacingError) else f"An unexpected problem stopped the sync ({type(exc).__name__}); see the log."
