# SPDX-License-Identifier: GPL-3.0-or-later
"""Replay protection shared by every intake server on one store: the nonces live in the database."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from nap_desktop.data.sync_models import RequestNonce
from nap_desktop.services import hq, link, sync
from nap_desktop.sync import protocol
from tests.hq.netutil import Net, ServerProcess, make_net
from tests.hq.test_server import call, error_code
from tests.services.records_factories import create


@pytest.fixture
def net(tmp_path: Path) -> Iterator[Net]:
    n = make_net(tmp_path, 1)
    yield n
    n.close()


def test_a_nonce_is_accepted_once_and_forgotten_after_its_window(net: Net, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = net.hq_ws()
    try:
        t0 = 1_900_000_000.0
        monkeypatch.setitem(hq._nonce_purge, "at", t0)
        assert hq.remember_nonce(ws, "d1", "a" * 32, window_s=300, now=t0) is True
        assert hq.remember_nonce(ws, "d1", "a" * 32, window_s=300, now=t0 + 1) is False  # replay
        assert hq.remember_nonce(ws, "d2", "a" * 32, window_s=300, now=t0 + 1) is True  # another device's nonce
        assert hq.remember_nonce(ws, "d1", "a" * 32, window_s=300, now=t0 + 599) is False  # still within twice the window
        assert hq.remember_nonce(ws, "d1", "b" * 32, window_s=300, now=t0 + 700) is True  # a purge runs first
        with ws.sf() as s:
            left = set(s.execute(select(RequestNonce.device_id, RequestNonce.nonce)).tuples())
        assert left == {("d1", "b" * 32)}
    finally:
        ws.lock()


def test_a_store_too_busy_to_check_the_nonce_answers_busy_and_keeps_nothing(net: Net, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The server in this process, its nonce check failing as SQLite does while a long import writes."""
    import threading

    from sqlalchemy.exc import OperationalError

    from nap_desktop.sync.server import ServerConfig, serve
    from tests.pgcluster import free_port

    def locked(*_a: object, **_k: object) -> bool:
        raise OperationalError("INSERT INTO request_nonces", {}, Exception("database is locked"))

    monkeypatch.setattr(hq, "remember_nonce", locked)
    officer = net.officers[0]
    create(officer, "person")
    r = sync.export_changes(officer, tmp_path / "by-hand")
    assert r.path is not None
    creds = link.credentials(officer)
    ws = net.hq_ws()
    cfg = ServerConfig(port=free_port(), importer=False)
    started, stop = threading.Event(), threading.Event()
    thread = threading.Thread(target=serve, args=(ws, cfg), kwargs={"on_started": lambda _url: started.set(), "stop": stop}, daemon=True)
    thread.start()
    try:
        assert started.wait(30)
        h = protocol.sign_request(creds.key, creds.device_id, "PUT", protocol.PATH_BUNDLES + r.bundle_id, protocol.UNSIGNED)
        status, headers, body = call(cfg.url, "PUT", protocol.PATH_BUNDLES + r.bundle_id, headers=h, body=r.path.read_bytes())
        assert (status, error_code(body), headers.get("retry-after")) == (503, "busy", "5")
        assert _files(net.hq / "inbox" / "intake") == []
    finally:
        stop.set()
        thread.join(60)
        ws.lock()


def _second_node(hq_path: Path) -> Path:
    node = hq_path.parent / "hq-node2"
    shutil.copytree(hq_path, node, ignore=shutil.ignore_patterns(".lock", "logs", "inbox", "outbox", "backups"))
    return node


def _files(inbox: Path) -> list[str]:
    if not inbox.is_dir():
        return []
    return sorted(p.name for p in inbox.iterdir() if p.is_file()) + sorted(p.name for p in (inbox / ".spool").glob("*"))


def test_a_request_replayed_to_another_server_on_the_same_database_is_refused(tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("http_proxy", "HTTP_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(var, raising=False)
    net = make_net(tmp_path, 1, db_url=pg_url)
    node2 = _second_node(net.hq)
    a = ServerProcess(net.hq, args=("--no-importer",))
    b = ServerProcess(node2, args=("--no-importer",))
    try:
        a.start()
        b.start()
        officer = net.officers[0]
        create(officer, "person")
        r = sync.export_changes(officer, tmp_path / "by-hand")
        assert r.path is not None
        creds = link.credentials(officer)
        data = r.path.read_bytes()
        h = protocol.sign_request(creds.key, creds.device_id, "PUT", protocol.PATH_BUNDLES + r.bundle_id, protocol.UNSIGNED)
        status, _, body = call(a.url, "PUT", protocol.PATH_BUNDLES + r.bundle_id, headers=h, body=data)
        assert status == 201, body
        status, _, body = call(b.url, "PUT", protocol.PATH_BUNDLES + r.bundle_id, headers=h, body=data)
        assert (status, error_code(body)) == (401, "replay")
        assert _files(node2 / "inbox" / "intake") == []  # nothing stored by the second server
        assert _files(net.hq / "inbox" / "intake") == [f"{r.bundle_id}.napb"]

        pickup = json.dumps({"awaiting": [r.bundle_id], "registry_version": 0}).encode()
        h = protocol.sign_request(creds.key, creds.device_id, "POST", protocol.PATH_PICKUP, protocol.body_sha256(pickup))
        assert call(b.url, "POST", protocol.PATH_PICKUP, headers=h, body=pickup)[0] == 200
        status, _, body = call(a.url, "POST", protocol.PATH_PICKUP, headers=h, body=pickup)
        assert (status, error_code(body)) == (401, "replay")

        fresh = protocol.sign_request(creds.key, creds.device_id, "PUT", protocol.PATH_BUNDLES + r.bundle_id, protocol.UNSIGNED)
        status, _, body = call(b.url, "PUT", protocol.PATH_BUNDLES + r.bundle_id, headers=fresh, body=data)
        assert status == 201, body  # the same upload signed anew (a client's retry) is not a replay
    finally:
        a.stop()
        b.stop()
        net.close()
    eng = create_engine(pg_url)
    try:
        with eng.connect() as c:
            assert c.scalar(select(func.count()).select_from(RequestNonce)) == 3
    finally:
        eng.dispose()
