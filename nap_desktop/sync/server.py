# SPDX-License-Identifier: GPL-3.0-or-later
"""HQ's intake server, ``nap-desktop hq serve`` (DESIGN §6; protocol in :mod:`nap_desktop.sync.protocol`).

Starlette on Uvicorn. What it guarantees:

- **Nothing untrusted is kept.** A request is signed with an enrolled, non-revoked device key
  (time window and nonce against replay; seen nonces are kept in the store, so a request replayed
  to another server on the same database is refused too) before its body is read; an upload streams into a spool
  file under a size cap enforced while reading, and the bundle's own signature is checked against
  HQ's registry before the file moves (fsync, atomic rename) into the inbox. Every refusal removes
  the spool file.
- **Slow or partial uploads cannot tie it up.** Request headers must arrive within
  ``header_timeout_s``; each body read must arrive within ``read_timeout_s`` and the whole upload
  within ``upload_deadline_s`` (else 408 and the connection is closed); at most ``max_uploads``
  uploads at once (503 with Retry-After) and ``max_connections`` connections.
- **Each bundle once.** Uploads are idempotent by bundle id; the importer thread applies inbox files
  through :func:`nap_desktop.services.sync.import_bundle` (see :mod:`nap_desktop.services.hq` for the
  locks that keep several servers on one PostgreSQL store from applying a bundle twice).
- **A structured access log** (``logs/access.jsonl``, JSON Lines): time, method, route, status,
  bytes, milliseconds, device id, unit, bundle id, error code. No IP addresses, no user names, no
  file contents, no personal data.

Plain HTTP is refused unless the server listens on a loopback address (tests, or behind a local
TLS proxy); otherwise a TLS certificate and key are required.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import logging.handlers
import os
import shutil
import ssl
import tempfile
import threading
import time
import uuid
import zipfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.exc import OperationalError

from nap_desktop.errors import BundleDamaged, BundleRejected, RegistryError, ServerConfigError, UserFacingError
from nap_desktop.services import hq
from nap_desktop.services.context import Workspace
from nap_desktop.sync import protocol

logger = logging.getLogger(__name__)

ACCESS_LOG = "access.jsonl"


@dataclass(frozen=True)
class ServerConfig:
    """How ``hq serve`` listens and what it accepts. Sizes in bytes, times in seconds."""

    host: str = "127.0.0.1"
    port: int = 8443
    tls_cert: Path | None = None
    tls_key: Path | None = None
    inbox: Path | None = None
    max_bundle_bytes: int = 512 * 1024**2
    max_request_bytes: int = 64 * 1024
    header_timeout_s: float = 15.0
    read_timeout_s: float = 30.0
    upload_deadline_s: float = 900.0
    keep_alive_s: int = 5
    max_uploads: int = 32
    max_connections: int = 512
    importer: bool = True
    import_interval_s: float = 10.0
    access_log: Path | None = None

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_config(cfg: ServerConfig) -> None:
    """Refuses a configuration that would serve insecurely or cannot start.

    Raises:
        ServerConfigError: plain HTTP off loopback, a certificate without key (or the reverse),
            unreadable or mismatched TLS files, impossible limits.
    """
    if (cfg.tls_cert is None) != (cfg.tls_key is None):
        raise ServerConfigError("Give both the TLS certificate and its key (--tls-cert and --tls-key), or neither.")
    if not cfg.tls and not is_loopback(cfg.host):
        raise ServerConfigError(
            f"Plain HTTP is allowed only on a loopback address (127.0.0.1 or ::1), not on {cfg.host}. "
            "Give a TLS certificate and key (--tls-cert, --tls-key) to listen on the network."
        )
    if cfg.tls:
        assert cfg.tls_cert is not None and cfg.tls_key is not None
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        try:
            ctx.load_cert_chain(str(cfg.tls_cert), str(cfg.tls_key))
        except FileNotFoundError:
            raise ServerConfigError("The TLS certificate or key file does not exist.") from None
        except (ssl.SSLError, OSError):
            raise ServerConfigError("The TLS certificate and key cannot be used together (unreadable, not PEM, or not a pair).") from None
    if not 0 < cfg.port < 65536:
        raise ServerConfigError("The port must be between 1 and 65535.")
    if cfg.max_bundle_bytes <= 0 or cfg.read_timeout_s <= 0 or cfg.upload_deadline_s <= 0 or cfg.max_uploads <= 0:
        raise ServerConfigError("Sizes, timeouts and limits must be positive.")


# --- errors and the access log ------------------------------------------------------------------


class HttpError(Exception):
    """An answer other than success; ``close`` drops the connection after it (a body left unread)."""

    def __init__(self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


class AccessLog:
    """One JSON line per request, written by a logger of its own (never to the console)."""

    def __init__(self, path: Path | None) -> None:
        self.logger = logging.getLogger("nap_desktop.access")
        self.logger.propagate = False
        self.logger.setLevel(logging.INFO)
        self._handler: logging.Handler | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            handler = logging.handlers.RotatingFileHandler(path, maxBytes=20_000_000, backupCount=10, encoding="utf-8")
            handler.setFormatter(logging.Formatter("%(message)s"))
            self.logger.addHandler(handler)
            self._handler = handler
            with contextlib.suppress(OSError):
                os.chmod(path, 0o600)

    def write(self, entry: dict[str, Any]) -> None:
        self.logger.info(json.dumps(entry, sort_keys=True, separators=(",", ":")))

    def close(self) -> None:
        if self._handler is not None:
            self.logger.removeHandler(self._handler)
            self._handler.close()
            self._handler = None


class _AccessMiddleware:
    """Counts bytes and times every request; handlers add fields to ``scope["nap.log"]``."""

    def __init__(self, app: Any, log: AccessLog) -> None:
        self.app = app
        self.log = log

    async def __call__(self, scope: dict[str, Any], receive: Callable[[], Awaitable[Any]], send: Callable[[Any], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        fields: dict[str, Any] = {}
        scope["nap.log"] = fields
        state = {"status": 0, "out": 0, "in": 0}

        async def counting_receive() -> Any:
            message = await receive()
            if message.get("type") == "http.request":
                state["in"] += len(message.get("body", b""))
            return message

        async def counting_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
            elif message["type"] == "http.response.body":
                state["out"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, counting_receive, counting_send)
        finally:
            entry = {
                "ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "method": scope.get("method", ""),
                "route": fields.pop("route", "other"),
                "status": state["status"] or 499,
                "ms": round((time.perf_counter() - start) * 1000, 1),
                "bytes_in": state["in"],
                "bytes_out": state["out"],
            }
            entry.update({k: v for k, v in fields.items() if v not in (None, "")})
            self.log.write(entry)


# --- the application -------------------------------------------------------------------------------


@dataclass
class Intake:
    """The Starlette application of one server process, with its caches and counters."""

    ws: Workspace
    cfg: ServerConfig
    wake: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.inbox = hq.intake_dir(self.ws, self.cfg.inbox)
        self.cache = hq.RegistryCache()
        self.uploads = 0
        self.pickup_root = self.ws.path / "outbox" / ".pickup"
        self.pickup_root.mkdir(parents=True, exist_ok=True)
        self.log = AccessLog(self.cfg.access_log or self.ws.path / "logs" / ACCESS_LOG)

    def app(self) -> Any:
        from starlette.applications import Starlette
        from starlette.routing import Route

        routes = [
            Route(protocol.PATH_HEALTH, self._wrap("health", self.health), methods=["GET"]),
            Route(protocol.PATH_BUNDLES + "{bundle_id}", self._wrap("bundle", self.put_bundle), methods=["PUT"]),
            Route(protocol.PATH_PICKUP, self._wrap("pickup", self.pickup), methods=["POST"]),
        ]
        return _AccessMiddleware(Starlette(routes=routes), self.log)

    def _wrap(self, route: str, handler: Callable[[Any], Awaitable[Any]]) -> Callable[[Any], Awaitable[Any]]:
        from starlette.responses import JSONResponse

        async def endpoint(request: Any) -> Any:
            fields = request.scope.setdefault("nap.log", {})
            fields["route"] = route
            try:
                return await handler(request)
            except HttpError as exc:
                fields["error"] = exc.code
                return JSONResponse({"error": exc.code, "message": exc.message}, status_code=exc.status, headers=exc.headers)

        return endpoint

    # -- helpers -----------------------------------------------------------------------------------

    async def _read(self, request: Any, sink: Callable[[bytes], object], limit: int) -> int:
        """Reads the body into ``sink`` under the size cap and the timeouts; returns its size."""
        from starlette.requests import ClientDisconnect

        declared = request.headers.get("content-length")
        if declared is None or not declared.isdigit():
            raise HttpError(411, "length", "Send the body with a Content-Length header.")
        expected = int(declared)
        if expected > limit:
            raise HttpError(413, "too_large", f"The body is larger than this server accepts ({limit} bytes).")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.cfg.upload_deadline_s
        size = 0
        stream = request.stream().__aiter__()
        while True:
            left = deadline - loop.time()
            if left <= 0:
                raise HttpError(408, "timeout", "The upload took too long; it was dropped.")
            try:
                chunk = await asyncio.wait_for(stream.__anext__(), min(self.cfg.read_timeout_s, left))
            except StopAsyncIteration:
                break
            except TimeoutError:
                raise HttpError(408, "timeout", "The upload stalled; it was dropped.") from None
            except ClientDisconnect:
                raise HttpError(400, "disconnected", "The client went away before the body was complete.") from None
            if chunk:
                size += len(chunk)
                if size > expected:
                    raise HttpError(413, "too_large", "The body is longer than its Content-Length.")
                sink(chunk)
        if size != expected:
            raise HttpError(400, "incomplete", "The body is shorter than its Content-Length.")
        return size

    async def _authenticate(self, request: Any, body_hash: str) -> hq.RequestKey:
        from starlette.concurrency import run_in_threadpool

        fields = request.scope["nap.log"]
        try:
            auth = protocol.parse_headers(request.headers)
            fields["device"] = auth.device_id
            protocol.check_time(auth)
        except protocol.AuthError as exc:
            headers = {"x-nap-server-time": str(int(time.time()))}
            raise HttpError(401, exc.code, exc.message, headers=headers) from None
        try:
            key = await run_in_threadpool(hq.request_key, self.ws, self.cache, auth.key_id, auth.device_id)
        except BundleRejected as exc:
            raise HttpError(403, "revoked" if "revoked" in exc.message else "unknown_key", exc.message) from None
        fields["unit"] = key.unit
        try:
            protocol.verify(auth, key.public, request.method, request.url.path, body_hash)  # type: ignore[arg-type]
        except protocol.AuthError as exc:
            raise HttpError(401, exc.code, exc.message) from None
        # only after the signature (junk cannot fill the table); in the store, so that every
        # server sharing it refuses a request another one has already seen
        try:
            fresh = await run_in_threadpool(hq.remember_nonce, self.ws, auth.device_id, auth.nonce, window_s=protocol.CLOCK_WINDOW)
        except OperationalError:  # the store is busy (SQLite: a long import holds the write lock) or away
            raise HttpError(503, "busy", "The server cannot check the request now; try again shortly.", headers={"retry-after": "5"}) from None
        if not fresh:
            raise HttpError(401, "replay", "This request was seen before (a replay); it was refused.")
        return key

    # -- endpoints ---------------------------------------------------------------------------------

    async def health(self, request: Any) -> Any:
        from starlette.concurrency import run_in_threadpool
        from starlette.responses import JSONResponse

        def probe() -> bool:
            from sqlalchemy import text

            try:
                with self.ws.engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
                return True
            except Exception:  # noqa: BLE001 - reported as unavailable
                return False

        ok = await run_in_threadpool(probe)
        body = {"status": "ok" if ok else "unavailable", "protocol": protocol.PROTOCOL, "time": int(time.time()), "max_bundle_bytes": self.cfg.max_bundle_bytes}
        return JSONResponse(body, status_code=200 if ok else 503)

    async def put_bundle(self, request: Any) -> Any:
        from starlette.concurrency import run_in_threadpool
        from starlette.responses import JSONResponse

        bundle_id = request.path_params["bundle_id"]
        if not hq.valid_bundle_id(bundle_id):
            raise HttpError(404, "not_found", "No such address.")
        fields = request.scope["nap.log"]
        fields["bundle"] = bundle_id
        await self._authenticate(request, protocol.UNSIGNED)
        if self.uploads >= self.cfg.max_uploads:
            raise HttpError(503, "busy", "Too many uploads at once; try again shortly.", headers={"retry-after": "30"})
        self.uploads += 1
        spool = hq.spool_dir(self.inbox) / f"{uuid.uuid4().hex}.part"
        try:
            with open(spool, "wb") as fh:
                await self._read(request, fh.write, self.cfg.max_bundle_bytes)
            try:
                result = await run_in_threadpool(hq.store_upload, self.ws, self.cache, spool, bundle_id, self.inbox)
            except BundleDamaged as exc:
                raise HttpError(422, "damaged", exc.message) from None
            except (BundleRejected, RegistryError) as exc:
                raise HttpError(403, "rejected", exc.message) from None
        finally:
            self.uploads -= 1
            spool.unlink(missing_ok=True)
        fields["outcome"] = result.status
        fields["unit"] = result.unit
        if result.status == "stored":
            self.wake.set()
        body = {"status": result.status, "bundle_id": result.bundle_id, "records": result.records}
        return JSONResponse(body, status_code=201 if result.status == "stored" else 200)

    async def pickup(self, request: Any) -> Any:
        from starlette.background import BackgroundTask
        from starlette.concurrency import run_in_threadpool
        from starlette.responses import FileResponse

        body = bytearray()
        await self._read(request, body.extend, self.cfg.max_request_bytes)
        key = await self._authenticate(request, protocol.body_sha256(bytes(body)))
        try:
            doc = json.loads(bytes(body).decode("utf-8"))
            awaiting, version = doc["awaiting"], doc["registry_version"]
            if not isinstance(awaiting, list) or not all(isinstance(b, str) for b in awaiting) or len(awaiting) > hq.MAX_AWAITING:
                raise ValueError
            if not isinstance(version, int) or isinstance(version, bool) or version < 0:
                raise ValueError
            config_version = doc.get("config_version")  # absent: the device does not take HQ's field settings
            if config_version is not None and (not isinstance(config_version, int) or isinstance(config_version, bool) or config_version < 0):
                raise ValueError
        except (UnicodeDecodeError, ValueError, KeyError, TypeError):
            raise HttpError(400, "malformed", "The pickup request is not the JSON this server expects.") from None
        folder = Path(tempfile.mkdtemp(prefix="p-", dir=self.pickup_root))
        try:
            result = await run_in_threadpool(
                hq.pickup, self.ws, self.cache, key.device_id, awaiting, version, inbox=self.inbox, folder=folder, config_version=config_version
            )
            archive = folder / "pickup.zip"
            await run_in_threadpool(_write_archive, archive, result)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        request.scope["nap.log"]["outcome"] = f"{sum(1 for i in result.items if i.state == 'imported')} receipts"
        return FileResponse(archive, media_type="application/zip", background=BackgroundTask(shutil.rmtree, folder, True))


def _write_archive(path: Path, p: hq.Pickup) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("index.json", hq.pickup_index(p))
        for f in p.files:
            zf.write(f, f.name)


# --- the importer thread ---------------------------------------------------------------------------


class ImporterThread(threading.Thread):
    """Applies inbox files while the server runs: woken by each stored upload, and every interval."""

    def __init__(self, ws: Workspace, inbox: Path, *, wake: threading.Event, interval_s: float, pickup_root: Path | None = None) -> None:
        super().__init__(name="nap-importer", daemon=True)
        self.ws, self.inbox, self.wake, self.interval = ws, inbox, wake, interval_s
        self.pickup_root = pickup_root
        self.stop_event = threading.Event()
        self.stats = hq.ImporterStats()

    def run(self) -> None:
        failures = 0
        while not self.stop_event.is_set():
            try:
                outcomes = hq.import_inbox(self.ws, self.inbox, keep_receipts=False, stop=self.stop_event)
                self.stats.add(outcomes)
                for o in outcomes:
                    logger.info("inbox: bundle %s of unit %s: %s", o.bundle_id, o.unit or "?", o.outcome)
                failures = 0
                hq.clean_spool(self.inbox)
                if self.pickup_root is not None:
                    hq.clean_old(self.pickup_root, 3600.0)  # answers a client broke off before the end
            except UserFacingError as exc:
                failures += 1
                self.stats.errors += 1
                self.stats.last_error = exc.message
                logger.warning("importer: %s", exc.message)
            except Exception as exc:  # noqa: BLE001 - keep serving; the next pass tries again
                failures += 1
                self.stats.errors += 1
                self.stats.last_error = type(exc).__name__
                from nap_desktop.log import safe_traceback

                logger.error("importer pass failed\n%s", safe_traceback(exc))
            wait = self.interval if failures == 0 else min(self.interval * 2 ** min(failures, 6), 300.0)
            self.wake.wait(wait)
            self.wake.clear()

    def stop(self, timeout: float = 60.0) -> None:
        self.stop_event.set()
        self.wake.set()
        self.join(timeout)


# --- Uvicorn -------------------------------------------------------------------------------------


def _protocol_class(header_timeout_s: float) -> type:
    """Uvicorn's h11 protocol, plus a deadline for request headers and no reading of refused bodies.

    NOTE: Uvicorn has no timeout for a request whose headers trickle in (slowloris), and after an
    early answer (413, 408) it keeps reading and discarding the rest of the body: this closes such
    connections instead.
    """
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class TimedH11Protocol(H11Protocol):  # type: ignore[misc]
        _header_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()

        def _arm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
            self._header_timer = self.loop.call_later(header_timeout_s, self._headers_late, self.cycle)

        def _headers_late(self, cycle: Any) -> None:
            if self.cycle is cycle and not self.transport.is_closing() and (cycle is None or cycle.response_complete):
                self.transport.close()  # no complete request line and headers in time

        def on_response_complete(self) -> None:
            if self.conn.their_state is h11.SEND_BODY and not self.transport.is_closing():
                self.server_state.total_requests += 1
                self.transport.close()  # answered before the body was read: do not read the rest
                return
            super().on_response_complete()
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
            super().connection_lost(exc)

    return TimedH11Protocol


def serve(
    ws: Workspace, cfg: ServerConfig, *, on_started: Callable[[str], None] | None = None, stop: threading.Event | None = None
) -> hq.ImporterStats | None:
    """Runs the server until SIGINT/SIGTERM (or ``stop`` is set). The workspace stays unlocked meanwhile.

    A stop lets running requests finish (up to 30 s) and the importer end its current bundle.

    Raises:
        ServerConfigError: see :func:`check_config`; PermissionDenied: the account cannot import.
    """
    import signal

    import uvicorn

    check_config(cfg)
    hq.check_server_user(ws)
    intake = Intake(ws, cfg)
    importer: ImporterThread | None = None
    if cfg.importer:
        importer = ImporterThread(ws, intake.inbox, wake=intake.wake, interval_s=cfg.import_interval_s, pickup_root=intake.pickup_root)
        importer.start()
    config = uvicorn.Config(
        intake.app(),
        host=cfg.host,
        port=cfg.port,
        ssl_certfile=str(cfg.tls_cert) if cfg.tls_cert else None,
        ssl_keyfile=str(cfg.tls_key) if cfg.tls_key else None,
        http=_protocol_class(cfg.header_timeout_s),
        lifespan="off",
        log_config=None,
        access_log=False,
        server_header=False,
        limit_concurrency=cfg.max_connections,
        timeout_keep_alive=cfg.keep_alive_s,
        timeout_graceful_shutdown=30,
    )

    class Server(uvicorn.Server):  # type: ignore[misc]
        @contextlib.contextmanager
        def capture_signals(self) -> Any:
            # NOTE: Uvicorn re-raises the signal after its shutdown, which would end the process
            # before the importer stops; the signals are handled below instead.
            yield

    server = Server(config)
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)

    def on_signal(sig: int, _frame: object) -> None:
        if server.should_exit and sig == signal.SIGINT:
            server.force_exit = True
        server.should_exit = True

    async def main() -> None:
        task = asyncio.create_task(server.serve())
        while not server.started and not task.done():
            await asyncio.sleep(0.05)
        if server.started and on_started is not None:
            on_started(cfg.url)
        while not task.done():
            if stop is not None and stop.is_set():
                server.should_exit = True
            await asyncio.wait({task}, timeout=0.2)
        await task

    previous = {}
    if threading.current_thread() is threading.main_thread():
        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        asyncio.run(main())
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if importer is not None:
            importer.stop()
        intake.log.close()
    if not server.started:
        raise ServerConfigError(f"The server could not listen on {cfg.host}:{cfg.port} (the port is in use, or not allowed).")
    return importer.stats if importer else None
