# SPDX-License-Identifier: GPL-3.0-or-later
"""The intake server as a real process on loopback: what it accepts, and what it refuses cleanly.

"Nothing stored" is checked where it would show: no file in the intake inbox, none left in the
spool, and HQ's own answer for the bundle id (``unknown``: not in the store, not waiting, not
rejected). HQ keeps its store in SQLCipher here; tests/hq/test_load.py runs HQ on PostgreSQL.
"""

from __future__ import annotations

import base64
import http.client
import io
import json
import socket
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from nap_desktop.services import link, sync
from nap_desktop.sync import protocol
from nap_desktop.sync.client import SyncClient
from nap_desktop.sync.minisign import SecretKey
from tests.hq.netutil import ADMIN, ADMIN_PW, Net, ServerProcess, make_net
from tests.services.records_factories import create

CANARY = "Qudsia-Canary-4417"


@dataclass
class World:
    net: Net
    server: ServerProcess
    root: Path

    @property
    def inbox(self) -> Path:
        return self.net.hq / "inbox" / "intake"

    def stored_files(self) -> list[str]:
        return sorted(p.name for p in self.inbox.iterdir() if p.is_file()) + sorted(p.name for p in (self.inbox / ".spool").iterdir())

    def creds(self, i: int) -> link.Credentials:
        return link.credentials(self.net.officers[i])

    def bundle(self, i: int, name: str = "x") -> tuple[Path, str]:
        """A fresh changes bundle of post ``i`` (not in its outbox: tests send it by hand)."""
        create(self.net.officers[i], "person")
        r = sync.export_changes(self.net.officers[i], self.root / f"by-hand-{i}-{name}")
        assert r.path is not None
        return r.path, r.bundle_id


def call(url: str, method: str, path: str, *, headers: dict[str, str] | None = None, body: bytes = b"", timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request(method, path, body=body, headers={"Content-Length": str(len(body)), **(headers or {})})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def signed(w: World, i: int, method: str, path: str, body_hash: str, *, key: SecretKey | None = None, device: str | None = None, now: float | None = None) -> dict[str, str]:
    c = w.creds(i)
    return protocol.sign_request(key or c.key, device or c.device_id, method, path, body_hash, now=now)


def put(w: World, i: int, path: Path, bundle_id: str, *, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    data = path.read_bytes()
    h = headers if headers is not None else signed(w, i, "PUT", protocol.PATH_BUNDLES + bundle_id, protocol.UNSIGNED)
    return call(w.server.url, "PUT", protocol.PATH_BUNDLES + bundle_id, headers=h, body=data)


def pickup_state(w: World, i: int, bundle_id: str) -> str:
    body = json.dumps({"awaiting": [bundle_id], "registry_version": 10**6}).encode()
    status, _, data = call(w.server.url, "POST", protocol.PATH_PICKUP, headers=signed(w, i, "POST", protocol.PATH_PICKUP, protocol.body_sha256(body)), body=body)
    assert status == 200, data
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        index = json.loads(zf.read("index.json"))
    return {x["bundle_id"]: x["state"] for x in index["items"]}[bundle_id]


def error_code(data: bytes) -> str:
    return str(json.loads(data)["error"])


def rewrite(path: Path, out: Path, member: str, change: object) -> Path:
    """A copy of a bundle with one member changed (``change(bytes) -> bytes``) or dropped (``None``)."""
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == member:
                if change is None:
                    continue
                data = change(data)  # type: ignore[operator]
            dst.writestr(zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0)), data)
    return out


def wait_until_imported(world: World, device: int, bid: str) -> None:
    """Waits (30 s at most) until the server's importer has taken a stored bundle out of the inbox."""
    deadline = time.monotonic() + 30
    while pickup_state(world, device, bid) != "imported" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert pickup_state(world, device, bid) == "imported"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("intake")
    net = make_net(root, 3)
    server = ServerProcess(net.hq, args=("--max-bundle-mb", "1", "--read-timeout", "1.5", "--header-timeout", "2", "--upload-deadline", "20"))
    for ws in net.posts:
        link.set_settings(ws, server_url=server.url)
    server.start()
    try:
        yield World(net, server, root)
    finally:
        server.stop()
        net.close()


# --- accepted --------------------------------------------------------------------------------


def test_health_needs_no_key_and_names_the_protocol(world: World) -> None:
    status, _, data = call(world.server.url, "GET", protocol.PATH_HEALTH)
    doc = json.loads(data)
    assert status == 200 and doc["status"] == "ok" and doc["protocol"] == "nap-link/1" and doc["max_bundle_bytes"] == 1024 * 1024


def test_a_signed_bundle_is_stored_once_imported_and_acknowledged(world: World) -> None:
    path, bid = world.bundle(0, "once")
    status, _, data = put(world, 0, path, bid)
    assert status == 201 and json.loads(data)["status"] == "stored"
    status, _, data = put(world, 0, path, bid)  # a retry after a lost answer: new nonce, same bundle
    assert status == 200 and json.loads(data)["status"] in ("already received", "already imported")
    wait_until_imported(world, 0, bid)
    assert not any(n.startswith(bid) for n in world.stored_files())


def test_the_client_pushes_pulls_and_sees_its_receipts(world: World) -> None:
    officer = world.net.officers[1]
    create(officer, "person", values={"given_name": CANARY})
    create(officer, "screening", full=True)
    first = SyncClient(officer).sync_once()
    assert first.exported_records >= 3 and first.pushed == 1
    deadline = time.monotonic() + 30
    report = first
    while sync.sync_status(officer).unacknowledged and time.monotonic() < deadline:
        time.sleep(0.3)
        report = SyncClient(officer).sync_once()
    assert sync.sync_status(officer).unacknowledged == ()
    assert report.acknowledged + first.acknowledged >= 1
    assert list((officer.path / "outbox" / "sent").glob("*.napb")) == []  # acknowledged: tidied away


# --- refused, nothing stored -------------------------------------------------------------------


def test_a_request_without_signature_headers_is_refused(world: World) -> None:
    path, bid = world.bundle(0, "nosig")
    status, _, data = put(world, 0, path, bid, headers={})
    assert (status, error_code(data)) == (401, "auth")
    assert world.stored_files() == [] and pickup_state(world, 0, bid) == "unknown"


def test_a_bundle_whose_signature_was_tampered_with_is_refused(world: World) -> None:
    path, bid = world.bundle(0, "badsig")

    def flip(sig: bytes) -> bytes:
        lines = sig.split(b"\n")
        raw = bytearray(base64.b64decode(lines[1]))
        raw[20] ^= 0x01
        lines[1] = base64.b64encode(bytes(raw))
        return b"\n".join(lines)

    bad = rewrite(path, world.root / "badsig.napb", "manifest.json.minisig", flip)
    status, _, data = put(world, 0, bad, bid)
    assert (status, error_code(data)) == (403, "rejected")
    assert b"signature" in data
    assert world.stored_files() == [] and pickup_state(world, 0, bid) == "unknown"


def test_a_bundle_without_its_signature_member_is_refused(world: World) -> None:
    path, bid = world.bundle(0, "nomember")
    bad = rewrite(path, world.root / "nomember.napb", "manifest.json.minisig", None)
    status, _, data = put(world, 0, bad, bid)
    assert (status, error_code(data)) == (422, "damaged")
    assert world.stored_files() == [] and pickup_state(world, 0, bid) == "unknown"


def test_a_manifest_that_is_not_json_is_refused(world: World) -> None:
    path, bid = world.bundle(0, "badjson")
    bad = rewrite(path, world.root / "badjson.napb", "manifest.json", lambda b: b"{not json" + b[9:])
    status, _, data = put(world, 0, bad, bid)
    assert (status, error_code(data)) == (422, "damaged")
    assert world.stored_files() == [] and pickup_state(world, 0, bid) == "unknown"


def test_a_pickup_body_that_is_not_the_expected_json_is_refused(world: World) -> None:
    for body in (b"not json at all", b'{"awaiting": "x", "registry_version": 1}', b'{"awaiting": []}', b"[1,2]"):
        h = signed(world, 0, "POST", protocol.PATH_PICKUP, protocol.body_sha256(body))
        status, _, data = call(world.server.url, "POST", protocol.PATH_PICKUP, headers=h, body=body)
        assert (status, error_code(data)) == (400, "malformed"), body


def test_a_device_hq_never_enrolled_is_refused(world: World, tmp_path: Path) -> None:
    from nap_desktop.services.workspace import init_workspace, open_workspace
    from tests.conftest import FAST_KDF

    init_workspace(tmp_path / "stranger", site_kind="post", unit="P-TAFTAN", admin=ADMIN, admin_password=ADMIN_PW, kdf=FAST_KDF)
    stranger = open_workspace(tmp_path / "stranger", ADMIN, ADMIN_PW)
    try:
        sync.enrol_request(stranger, tmp_path)  # makes its keys; HQ never approves
        with stranger.sf() as s:
            key = sync.signing_key(s)
        assert key is not None
        path, bid = world.bundle(0, "stranger")  # a valid bundle, offered by the stranger
        h = protocol.sign_request(key, stranger.workspace_id, "PUT", protocol.PATH_BUNDLES + bid, protocol.UNSIGNED)
        status, _, data = put(world, 0, path, bid, headers=h)
        assert (status, error_code(data)) == (403, "unknown_key")
        assert world.stored_files() == [] and pickup_state(world, 0, bid) == "unknown"
    finally:
        stranger.lock()


def test_a_replayed_request_is_refused(world: World) -> None:
    path, bid = world.bundle(2, "replay")
    h = signed(world, 2, "PUT", protocol.PATH_BUNDLES + bid, protocol.UNSIGNED)
    assert put(world, 2, path, bid, headers=h)[0] == 201
    status, _, data = put(world, 2, path, bid, headers=h)
    assert (status, error_code(data)) == (401, "replay")
    body = json.dumps({"awaiting": [bid], "registry_version": 0}).encode()
    h = signed(world, 2, "POST", protocol.PATH_PICKUP, protocol.body_sha256(body))
    assert call(world.server.url, "POST", protocol.PATH_PICKUP, headers=h, body=body)[0] == 200
    status, _, data = call(world.server.url, "POST", protocol.PATH_PICKUP, headers=h, body=body)
    assert (status, error_code(data)) == (401, "replay")
    wait_until_imported(world, 2, bid)  # the next tests check that nothing is left in the inbox


def test_a_request_signed_for_another_body_or_path_is_refused(world: World) -> None:
    body = json.dumps({"awaiting": [], "registry_version": 0}).encode()
    h = signed(world, 0, "POST", protocol.PATH_PICKUP, protocol.body_sha256(b"something else"))
    status, _, data = call(world.server.url, "POST", protocol.PATH_PICKUP, headers=h, body=body)
    assert (status, error_code(data)) == (401, "signature")
    path, bid = world.bundle(0, "otherpath")
    h = signed(world, 0, "PUT", protocol.PATH_BUNDLES + "00000000-0000-4000-8000-000000000000", protocol.UNSIGNED)
    status, _, data = put(world, 0, path, bid, headers=h)
    assert (status, error_code(data)) == (401, "signature")
    assert world.stored_files() == [] and pickup_state(world, 0, bid) == "unknown"


def test_a_clock_far_off_is_refused_with_the_servers_time(world: World) -> None:
    body = json.dumps({"awaiting": [], "registry_version": 0}).encode()
    h = signed(world, 0, "POST", protocol.PATH_PICKUP, protocol.body_sha256(body), now=time.time() - 3600)
    status, headers, data = call(world.server.url, "POST", protocol.PATH_PICKUP, headers=h, body=body)
    assert (status, error_code(data)) == (401, "clock")
    assert abs(int(headers["x-nap-server-time"]) - time.time()) < 60


def test_an_oversized_upload_is_refused_before_it_is_read(world: World) -> None:
    bid = "11111111-2222-4333-8444-555555555555"
    h = signed(world, 0, "PUT", protocol.PATH_BUNDLES + bid, protocol.UNSIGNED)
    host, port = world.server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        head = f"PUT {protocol.PATH_BUNDLES}{bid} HTTP/1.1\r\nHost: x\r\nContent-Length: {2 * 1024 * 1024}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in h.items()) + "\r\n"
        sock.sendall(head.encode() + b"\0" * 65536)  # the start of a 2 MiB body; the cap is 1 MiB
        answer = _read_until_closed(sock, 10)
    assert answer.startswith(b"HTTP/1.1 413")
    assert b'"too_large"' in answer
    assert world.stored_files() == []
    h = signed(world, 0, "PUT", protocol.PATH_BUNDLES + bid, protocol.UNSIGNED)
    with socket.create_connection((host, int(port)), timeout=10) as sock:  # no length declared: refused too
        head = f"PUT {protocol.PATH_BUNDLES}{bid} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        sock.sendall((head + "".join(f"{k}: {v}\r\n" for k, v in h.items()) + "\r\n").encode() + b"5\r\nhello\r\n0\r\n\r\n")
        answer = _read_until_closed(sock, 10)
    assert answer.startswith(b"HTTP/1.1 411") and world.stored_files() == []


def test_a_stalled_upload_times_out_and_leaves_nothing(world: World) -> None:
    path, bid = world.bundle(0, "stall")
    data = path.read_bytes()
    h = signed(world, 0, "PUT", protocol.PATH_BUNDLES + bid, protocol.UNSIGNED)
    host, port = world.server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=15) as sock:
        head = f"PUT {protocol.PATH_BUNDLES}{bid} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(data)}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in h.items()) + "\r\n"
        sock.sendall(head.encode() + data[: len(data) // 2])  # half the bundle, then silence
        t0 = time.monotonic()
        answer = _read_until_closed(sock, 15)
        waited = time.monotonic() - t0
    assert answer.startswith(b"HTTP/1.1 408") and b'"timeout"' in answer
    assert waited < 10  # the read timeout is 1.5 s: the connection was not held open
    assert world.stored_files() == [] and pickup_state(world, 0, bid) == "unknown"


def test_headers_that_never_finish_are_cut_off(world: World) -> None:
    host, port = world.server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=15) as sock:
        sock.sendall(b"PUT /v1/bundles/x HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
        t0 = time.monotonic()
        assert _read_until_closed(sock, 15) == b""
        assert time.monotonic() - t0 < 10  # the header timeout is 2 s


def test_the_access_log_is_json_lines_without_personal_data(world: World) -> None:
    log = world.net.hq / "logs" / "access.jsonl"
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(entries) > 10
    allowed = {"ts", "method", "route", "status", "ms", "bytes_in", "bytes_out", "device", "unit", "bundle", "error", "outcome"}
    assert all(set(e) <= allowed for e in entries)
    assert {e["status"] for e in entries} >= {200, 201, 401, 403, 408, 413, 422}
    for f in (world.net.hq / "logs").iterdir():
        assert CANARY not in f.read_text(errors="replace"), f.name


def test_after_hq_changes_its_root_key_a_device_follows_on_its_next_sync(world: World) -> None:
    """The new registry comes down with the next pickup; the device then trusts the new root and
    its bundles still go up."""
    from nap_desktop.services.workspace import open_workspace

    world.server.stop()
    admin = open_workspace(world.net.hq, ADMIN, ADMIN_PW)
    try:
        new_root = sync.rotate_root(admin).registry.root.id_hex
    finally:
        admin.lock()
    world.server.start()
    officer = world.net.officers[0]
    create(officer, "person")
    report = SyncClient(officer).sync_once()
    assert report.registry_updated and report.pushed == 1
    assert json.loads(sync.registry_text(officer))["signed"]["root"]["key_id"] == new_root


def test_a_revoked_device_is_refused_at_once(world: World) -> None:
    """Runs last in this module: HQ revokes post 2 (the server is restarted to let the admin in)."""
    from nap_desktop.services.workspace import open_workspace

    path, bid = world.bundle(2, "revoked")
    world.server.stop()
    admin = open_workspace(world.net.hq, ADMIN, ADMIN_PW)
    try:
        sync.revoke_key(admin, device_id=world.creds(2).device_id)
    finally:
        admin.lock()
    world.server.start()
    status, _, data = put(world, 2, path, bid)
    assert (status, error_code(data)) == (403, "revoked")
    body = json.dumps({"awaiting": [bid], "registry_version": 0}).encode()
    status, _, data = call(world.server.url, "POST", protocol.PATH_PICKUP, headers=signed(world, 2, "POST", protocol.PATH_PICKUP, protocol.body_sha256(body)), body=body)
    assert (status, error_code(data)) == (403, "revoked")
    assert world.stored_files() == [] and pickup_state(world, 0, bid) == "unknown"


def _read_until_closed(sock: socket.socket, timeout: float) -> bytes:
    sock.settimeout(timeout)
    out = b""
    try:
        while chunk := sock.recv(65536):
            out += chunk
    except (ConnectionResetError, TimeoutError, socket.timeout):
        pass
    return out
