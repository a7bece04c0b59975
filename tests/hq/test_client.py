# SPDX-License-Identifier: GPL-3.0-or-later
"""The field client and the CLI of the link: TLS, a proxy, backoff, and the USB path beside it."""

from __future__ import annotations

import datetime as dt
import http.client
import http.server
import ipaddress
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from nap_desktop.errors import HqUnreachable, LinkError, ServerConfigError
from nap_desktop.services import link, sync
from nap_desktop.services.link import LinkSettings
from nap_desktop.sync import protocol
from nap_desktop.sync.client import AutoSync, Backoff, HttpLink, SyncClient, check_connection
from nap_desktop.sync.server import ServerConfig, check_config
from tests.conftest import PASSWORDS
from tests.hq.netutil import ADMIN, ANALYST, ANALYST_PW, Net, ServerProcess, make_net
from tests.pgcluster import free_port
from tests.services.records_factories import create


@pytest.fixture(autouse=True)
def _no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def net(tmp_path: Path) -> Iterator[Net]:
    n = make_net(tmp_path, 1)
    yield n
    n.close()


def _wait_acknowledged(client: SyncClient, officer: object, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while sync.sync_status(officer).unacknowledged:  # type: ignore[arg-type]
        assert time.monotonic() < deadline, "HQ's receipt did not come back"
        time.sleep(0.3)
        client.sync_once()


# --- TLS ---------------------------------------------------------------------------------------


def _tls_files(folder: Path) -> tuple[Path, Path, Path]:
    """A CA, and a server certificate it signed for 127.0.0.1 (PEM files)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "NAP test HQ CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key()).serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])).issuer_name(ca_name)
        .public_key(key.public_key()).serial_number(2).not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, cert_file, key_file = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return ca_file, cert_file, key_file


def test_over_tls_the_client_trusts_hqs_ca_and_nothing_else(net: Net, tmp_path: Path) -> None:
    ca, cert, key = _tls_files(tmp_path)
    server = ServerProcess(net.hq, args=("--tls-cert", str(cert), "--tls-key", str(key)), ca_file=ca).start()
    try:
        officer = net.officers[0]
        create(officer, "person")
        with pytest.raises(LinkError, match="not trusted"):
            SyncClient(officer, LinkSettings(server_url=server.url)).sync_once()
        assert sync.sync_status(officer).unacknowledged != ()  # exported, not sent
        link.set_settings(net.posts[0], server_url=server.url, ca_file=str(ca))
        client = SyncClient(officer)
        assert client.sync_once().pushed == 1
        _wait_acknowledged(client, officer)
    finally:
        server.stop()


def test_the_server_refuses_plain_http_off_loopback_and_bad_tls_files(net: Net, tmp_path: Path) -> None:
    with pytest.raises(ServerConfigError, match="loopback"):
        check_config(ServerConfig(host="0.0.0.0", port=8443))
    ca, cert, key = _tls_files(tmp_path)
    (tmp_path / "other").mkdir()
    other = _tls_files(tmp_path / "other")[2]  # a key of another certificate
    with pytest.raises(ServerConfigError, match="pair"):
        check_config(ServerConfig(host="0.0.0.0", port=8443, tls_cert=cert, tls_key=other))
    with pytest.raises(ServerConfigError, match="both"):
        check_config(ServerConfig(host="127.0.0.1", port=8443, tls_cert=cert))
    check_config(ServerConfig(host="0.0.0.0", port=8443, tls_cert=cert, tls_key=key))
    r = subprocess.run(
        [sys.executable, "-m", "nap_desktop", "hq", "serve", "--workspace", str(net.hq), "--user", ANALYST, "--password-stdin", "--listen", f"0.0.0.0:{free_port()}"],
        input=ANALYST_PW + "\n", capture_output=True, text=True, timeout=120,
    )
    assert r.returncode == 1 and "Plain HTTP is allowed only on a loopback address" in r.stderr


# --- proxy ---------------------------------------------------------------------------------------


class _Proxy(http.server.ThreadingHTTPServer):
    """A forwarding HTTP proxy (absolute-form requests), counting what passes through it."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        super().__init__(("127.0.0.1", 0), _ProxyHandler)


class _ProxyHandler(http.server.BaseHTTPRequestHandler):
    def _forward(self) -> None:
        proxy: _Proxy = self.server  # type: ignore[assignment]
        proxy.seen.append(f"{self.command} {self.path}")
        target = urllib.parse.urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("proxy-connection", "connection", "host")}
        conn.request(self.command, target.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        conn.close()

    do_GET = do_PUT = do_POST = _forward

    def log_message(self, *_a: object) -> None:
        pass


def test_the_client_goes_through_the_http_proxy_set_for_it(net: Net) -> None:
    proxy = _Proxy()
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    server = ServerProcess(net.hq).start()
    try:
        link.set_settings(net.posts[0], server_url=server.url, proxy=f"http://127.0.0.1:{proxy.server_address[1]}")
        officer = net.officers[0]
        create(officer, "person")
        client = SyncClient(officer)
        assert client.sync_once().pushed == 1
        _wait_acknowledged(client, officer)
        methods = {s.split()[0] for s in proxy.seen}
        assert methods == {"GET", "PUT", "POST"} and all(server.url in s for s in proxy.seen)
    finally:
        proxy.shutdown()
        server.stop()


# --- testing a connection before saving it -----------------------------------------------------


class _Answer(http.server.ThreadingHTTPServer):
    """A web server answering every GET with one body: not HQ's intake server, or one whose clock is off."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        super().__init__(("127.0.0.1", 0), _AnswerHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _AnswerHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        body = self.server.body  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_a: object) -> None:
        pass


def test_a_connection_check_says_whether_hq_answers_and_what_to_do_if_not(net: Net, tmp_path: Path) -> None:
    ca, cert, key = _tls_files(tmp_path)
    server = ServerProcess(net.hq, args=("--tls-cert", str(cert), "--tls-key", str(key)), ca_file=ca).start()
    proxy = _Proxy()
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        creds = link.check_credentials(net.posts[0])  # the post's administrator: no bundle rights, but may check the link
        assert creds is not None and creds.awaiting == ()
        r = check_connection(LinkSettings(server_url=server.url, ca_file=str(ca)), creds=creds)
        assert r.ok and r.key_accepted and r.message == "HQ's server answered and accepts this laptop's key: it is ready to receive this laptop's bundles."
        assert r.max_bundle_bytes and r.max_bundle_bytes > 0 and abs(r.clock_offset_s) < 30
        r = check_connection(LinkSettings(server_url=server.url, ca_file=str(ca)))  # a laptop not enrolled yet
        assert r.ok and r.key_accepted is None and "This laptop is not enrolled yet" in r.message

        r = check_connection(LinkSettings(server_url=server.url))
        assert not r.ok and "certificate is not trusted" in r.message and "CA file" in r.message
        r = check_connection(LinkSettings(server_url=server.url, ca_file=str(tmp_path / "missing.pem")))
        assert not r.ok and r.message.startswith("The CA file set for HQ's server cannot be read")
    finally:
        server.stop()
    closed = f"http://127.0.0.1:{free_port()}"
    r = check_connection(LinkSettings(server_url=closed), timeout_s=5)
    assert not r.ok and "cannot be reached (connection refused)" in r.message and "Check the address" in r.message
    r = check_connection(LinkSettings(server_url=closed, proxy=f"http://127.0.0.1:{free_port()}"), timeout_s=5)
    assert not r.ok and r.via_proxy and "Check the proxy address" in r.message
    plain = ServerProcess(net.hq).start()  # the same check through a working proxy reaches HQ
    try:
        r = check_connection(LinkSettings(server_url=plain.url, proxy=f"http://127.0.0.1:{proxy.server_address[1]}"))
        assert r.ok and proxy.seen == [f"GET {plain.url}{protocol.PATH_HEALTH}"]
        plain.stop()
        admin = net.hq_ws(ADMIN)
        try:
            sync.revoke_key(admin, device_id=creds.device_id, reason="stolen")
        finally:
            admin.lock()
        plain.start()
        r = check_connection(LinkSettings(server_url=plain.url), creds=creds)
        assert not r.ok and r.key_accepted is False
        assert r.message.startswith("HQ's server answered, but refused this laptop's signed request. HQ does not accept this device's key")
    finally:
        plain.stop()
        proxy.shutdown()


def test_a_connection_check_names_a_web_server_that_is_not_hqs_and_a_clock_that_is_off() -> None:
    other = _Answer(b"<html>Welcome to nginx!</html>")
    late = _Answer(json.dumps({"protocol": protocol.PROTOCOL, "status": "ok", "time": int(time.time()) + 3600}).encode())
    for srv in (other, late):
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        r = check_connection(LinkSettings(server_url=other.url))
        assert not r.ok and r.message == "The address answers, but not as a NAP intake server."
        r = check_connection(LinkSettings(server_url=late.url))
        assert r.ok and 3590 < r.clock_offset_s < 3610
        assert "This computer's clock is 60 minutes behind HQ's" in r.message
    finally:
        other.shutdown()
        late.shutdown()


# --- backoff ---------------------------------------------------------------------------------------


def test_backoff_doubles_to_its_cap_and_never_gives_up() -> None:
    b = Backoff(base_s=30, max_s=1800, jitter=0.0)
    assert [b.delay(n) for n in (1, 2, 3, 4, 5, 6, 7)] == [30, 60, 120, 240, 480, 960, 1800]
    assert b.delay(10_000) == 1800
    j = Backoff(base_s=100, max_s=1000, jitter=0.2)
    assert j.delay(1, rnd=lambda: 0.0) == pytest.approx(80) and j.delay(1, rnd=lambda: 1.0) == pytest.approx(120)


def test_autosync_keeps_trying_an_unreachable_hq_and_syncs_once_it_appears(net: Net) -> None:
    port = free_port()
    officer = net.officers[0]
    create(officer, "person")
    auto = AutoSync(officer, settings=LinkSettings(server_url=f"http://127.0.0.1:{port}", interval_minutes=60), backoff=Backoff(base_s=0.05, max_s=0.2))
    auto.start()
    server: ServerProcess | None = None
    try:
        deadline = time.monotonic() + 60
        while auto.status().failures < 8:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        st = auto.status()
        assert st.state == "offline" and st.next_attempt_in_s is not None and st.next_attempt_in_s <= 0.2 * 1.2
        assert list((officer.path / "outbox").glob("*.napb")) != []  # exported and kept for later
        server = ServerProcess(net.hq, port=port).start()
        deadline = time.monotonic() + 90
        while sync.sync_status(officer).unacknowledged:
            assert time.monotonic() < deadline, auto.status()
            auto.trigger()
            time.sleep(0.5)
        assert auto.status().state == "ok" and auto.status().failures == 0
    finally:
        auto.stop()
        if server is not None:
            server.stop()


def test_an_unreachable_hq_is_reported_as_such(net: Net) -> None:
    with pytest.raises(HqUnreachable, match="cannot be reached"):
        HttpLink(LinkSettings(server_url=f"http://127.0.0.1:{free_port()}"), timeout_s=5).health()


# --- the USB path beside the link, and the CLI --------------------------------------------------------


def test_usb_bundles_and_pushed_bundles_meet_at_hq_in_order(net: Net, tmp_path: Path) -> None:
    """A bundle carried on a USB stick and the next one pushed over the link: HQ imports both, once."""
    officer = net.officers[0]
    create(officer, "person")
    usb = sync.export_changes(officer, tmp_path / "usb")  # the USB path, unchanged
    create(officer, "person")
    server = ServerProcess(net.hq, args=("--no-importer",)).start()  # HQ imports its inbox later, by hand
    try:
        link.set_settings(net.posts[0], server_url=server.url)
        client = SyncClient(officer)
        report = client.sync_once()  # exports the second change and pushes it
        assert report.pushed == 1 and report.waiting == 1
    finally:
        server.stop()
    hq = net.hq_ws(ANALYST)
    try:
        from nap_desktop.services.hq import import_inbox

        held_or_waiting = import_inbox(hq)  # the pushed bundle waits for the one on the stick
        assert [o.outcome for o in held_or_waiting] == ["held"]
        first = sync.import_bundle(hq, usb.path)  # the stick arrives: imported, and the held one follows
        assert first.outcome == "imported"
        status = sync.list_bundles(hq, direction="in")
        assert sorted(b.state for b in status) == ["imported", "imported"]
        receipt = first.receipt
    finally:
        hq.lock()
    assert receipt is not None
    assert sync.import_bundle(officer, receipt).acknowledged == 1  # the USB receipt, by hand
    server = ServerProcess(net.hq, port=server.port).start()
    try:
        _wait_acknowledged(SyncClient(officer), officer)  # the other receipt over the link
    finally:
        server.stop()


def _cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    return subprocess.run([sys.executable, "-m", "nap_desktop", *args], input=stdin, capture_output=True, text=True, timeout=300, env=env)


def test_cli_sync_link_push_pull_and_hq_status(net: Net) -> None:
    post = net.posts[0].path
    create(net.officers[0], "person")
    net.close()  # the CLI opens the post itself
    server = ServerProcess(net.hq).start()
    try:
        r = _cli("sync", "link", "--workspace", str(post), "--user", "admin", "--password-stdin", "--server", server.url, stdin="Key-Holder-2026!\n")
        assert r.returncode == 0, r.stderr
        assert server.url in r.stdout
        r = _cli("sync", "check", "--workspace", str(post), "--user", "admin", "--password-stdin", stdin="Key-Holder-2026!\n")
        assert r.returncode == 0 and r.stdout.startswith("ok: HQ's server answered"), (r.stdout, r.stderr)
        closed = f"http://127.0.0.1:{free_port()}"
        r = _cli("sync", "check", "--workspace", str(post), "--user", "admin", "--password-stdin", "--server", closed, stdin="Key-Holder-2026!\n")
        assert r.returncode == 1 and "error: HQ's server cannot be reached (connection refused)" in r.stderr, (r.stdout, r.stderr)
        r = _cli("sync", "link", "--workspace", str(post), "--user", "admin", "--password-stdin", "--server", "http://hq.example:80", stdin="Key-Holder-2026!\n")
        assert r.returncode == 1 and "https" in r.stderr
        r = _cli("sync", "push", "--workspace", str(post), "--user", "off.post", "--password-stdin", stdin=PASSWORDS["officer"] + "\n")
        assert r.returncode == 0 and "1 bundle(s) sent" in r.stdout, (r.stdout, r.stderr)
        deadline = time.monotonic() + 60
        while True:
            r = _cli("sync", "pull", "--workspace", str(post), "--user", "off.post", "--password-stdin", stdin=PASSWORDS["officer"] + "\n")
            assert r.returncode == 0, r.stderr
            if "0 acknowledged" not in r.stdout or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert "acknowledged by HQ" in r.stdout and "0 acknowledged" not in r.stdout
    finally:
        server.stop()
    r = _cli("hq", "status", "--workspace", str(net.hq), "--user", ANALYST, "--password-stdin", stdin=ANALYST_PW + "\n")
    assert r.returncode == 0 and "0 waiting" in r.stdout and "0 rejected" in r.stdout


def test_cli_sync_auto_syncs_until_interrupted(net: Net) -> None:
    import signal

    post = net.posts[0].path
    create(net.officers[0], "person")
    server = ServerProcess(net.hq).start()
    try:
        link.set_settings(net.posts[0], server_url=server.url, interval_minutes=1)
        net.close()
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        proc = subprocess.Popen(
            [sys.executable, "-m", "nap_desktop", "sync", "auto", "--workspace", str(post), "--user", "off.post", "--password-stdin"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
        )
        assert proc.stdin is not None
        proc.stdin.write(PASSWORDS["officer"] + "\n")
        proc.stdin.close()
        lines: list[str] = []
        deadline = time.monotonic() + 120
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if "ok: " in line and "1 bundle(s) sent" in line:
                break
        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 0
    finally:
        server.stop()
    assert any("syncing" in line for line in lines) and any("1 bundle(s) sent" in line for line in lines), lines
