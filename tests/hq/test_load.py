# SPDX-License-Identifier: GPL-3.0-or-later
"""HQ on PostgreSQL under load: many devices at once, a server killed mid-way, importers racing.

Counts bound the work (10 devices × 5 bundles per round) and every wait has a deadline. "Exactly
once" is read from the store itself: one ``sync_bundles`` row and one ``sync.imported`` audit entry
per bundle id, as many records as were sent, and every device holding HQ's receipt for each of
its bundles.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, func, select

from nap_desktop.data.models import AuditEntry
from nap_desktop.data.record_models import MODEL_BY_TYPE
from nap_desktop.data.sync_models import SyncBundle
from nap_desktop.services import link, sync
from nap_desktop.services.link import LinkSettings
from nap_desktop.sync.bundle import SUFFIX
from nap_desktop.sync.client import AutoSync, Backoff
from tests.hq.netutil import ANALYST, ANALYST_PW, Net, ServerProcess, make_net
from tests.services.records_factories import create

DEVICES = 10
BUNDLES = 5


@dataclass
class Load:
    net: Net
    pg: Engine
    root: Path
    sent: dict[str, int]  # bundle id -> records in it

    def imported(self) -> dict[str, int]:
        """Bundle id -> how many ``sync.imported`` audit entries HQ wrote for it."""
        with self.pg.connect() as c:
            rows = c.execute(select(AuditEntry.object_id, func.count()).where(AuditEntry.action == "sync.imported").group_by(AuditEntry.object_id)).all()
        return {bid: n for bid, n in rows}

    def hq_rows(self) -> dict[str, str]:
        with self.pg.connect() as c:
            return dict(c.execute(select(SyncBundle.bundle_id, SyncBundle.state).where(SyncBundle.direction == "in")).tuples().all())

    def hq_records(self) -> int:
        with self.pg.connect() as c:
            return sum(c.scalar(select(func.count()).select_from(m)) or 0 for m in MODEL_BY_TYPE.values())

    def make_bundles(self, per_device: int = BUNDLES) -> None:
        """``per_device`` changes bundles in each device's outbox (one record each)."""
        for officer in self.net.officers:
            for _ in range(per_device):
                create(officer, "person")
                r = sync.export_changes(officer)
                self.sent[r.bundle_id] = r.records

    def wait_until(self, done: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            time.sleep(0.25)

    def assert_exactly_once(self) -> None:
        imported = self.imported()
        assert set(imported) == set(self.sent), "every bundle imported"
        assert set(imported.values()) == {1}, "no bundle imported twice"
        rows = self.hq_rows()
        assert {b for b, s in rows.items() if s == "imported"} == set(self.sent)
        assert self.hq_records() == sum(self.sent.values())


@pytest.fixture
def load(tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Load]:
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(var, raising=False)
    net = make_net(tmp_path, DEVICES, db_url=pg_url)
    pg = create_engine(pg_url)
    try:
        yield Load(net, pg, tmp_path, {})
    finally:
        pg.dispose()
        net.close()


def _autosyncs(load: Load, url: str) -> list[AutoSync]:
    settings = LinkSettings(server_url=url, interval_minutes=60)
    autos = [AutoSync(officer, settings=settings, backoff=Backoff(base_s=0.2, max_s=1.0), timeout_s=20) for officer in load.net.officers]
    for a in autos:
        a.start()
        a.trigger()
    return autos


_last_trigger = [0.0]


def _trigger(autos: list[AutoSync]) -> bool:
    """Asks every client to sync again (after a success each would wait an hour), every 2 s at most."""
    if time.monotonic() - _last_trigger[0] > 2.0:
        _last_trigger[0] = time.monotonic()
        for a in autos:
            a.trigger()
    return False


def _all_acknowledged(load: Load, autos: list[AutoSync]) -> bool:
    _trigger(autos)
    return all(sync.sync_status(o).unacknowledged == () for o in load.net.officers)


def test_many_devices_push_at_once_and_each_bundle_is_imported_exactly_once(load: Load) -> None:
    load.make_bundles()
    server = ServerProcess(load.net.hq).start()
    autos = _autosyncs(load, server.url)
    try:
        load.wait_until(lambda: _all_acknowledged(load, autos), 240, "every device's receipts")
    finally:
        for a in autos:
            a.stop()
        server.stop()
    load.assert_exactly_once()
    assert all(list((o.path / "outbox").glob(f"*{SUFFIX}")) == [] for o in load.net.officers)
    assert all(a.status().state == "ok" for a in autos), [a.status() for a in autos]


def test_a_server_killed_in_the_middle_loses_and_doubles_nothing(load: Load) -> None:
    load.make_bundles()
    server = ServerProcess(load.net.hq).start()
    restarted: ServerProcess | None = None
    autos = _autosyncs(load, server.url)
    try:
        load.wait_until(lambda: len(load.imported()) >= 3, 120, "the first imports")
        server.kill()  # SIGKILL: uploads, imports and pickups in flight die with it
        killed_at = len(load.imported())
        load.wait_until(lambda: _trigger(autos) or any(a.status().state == "offline" for a in autos), 60, "a client to find HQ unreachable")
        time.sleep(1.0)  # a few retries against the dead port
        restarted = ServerProcess(load.net.hq, port=server.port).start()
        load.wait_until(lambda: _all_acknowledged(load, autos), 240, "every device's receipts after the restart")
    finally:
        for a in autos:
            a.stop()
        server.kill()
        if restarted is not None:
            restarted.stop()
    assert killed_at < len(load.sent), "the kill came before the end of the load"
    assert max(a.status().failures for a in autos) == 0 and sum(a.runs for a in autos) > DEVICES
    load.assert_exactly_once()


def _importer(ws: Path, inbox: Path) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "nap_desktop", "hq", "import-inbox", "--workspace", str(ws), "--user", ANALYST, "--password-stdin", "--inbox", str(inbox), "--watch", "--interval", "0.3", "--no-receipts"]
    log = open(ws.parent / f"importer-{ws.name}-{inbox.name}.log", "ab")  # noqa: SIM115 - closed with the process
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT)
    assert p.stdin is not None
    p.stdin.write(ANALYST_PW.encode() + b"\n")
    p.stdin.close()
    return p


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        p.wait(60)


def _second_node(hq: Path) -> Path:
    """Another HQ node on the same PostgreSQL store: a copy of the workspace folder (keys, store.json)."""
    node = hq.parent / "hq-node2"
    shutil.copytree(hq, node, ignore=shutil.ignore_patterns(".lock", "logs", "inbox", "outbox", "backups"))
    return node


def test_two_importers_on_one_database_apply_each_bundle_once(load: Load) -> None:
    """Two HQ nodes (two workspace folders, one PostgreSQL store) import at once.

    First both read one shared inbox (each file is claimed by one of them); then each reads an
    inbox of its own holding copies of the same bundles (both try to apply every one). Bundles of
    a device arrive split between the two phases, so later ones wait ("held") on one node until
    the other imports the missing one.
    """
    load.make_bundles()
    files = [f for o in load.net.officers for f in sorted((o.path / "outbox").glob(f"*{SUFFIX}"))]
    assert len(files) == DEVICES * BUNDLES
    node1, node2 = load.net.hq, _second_node(load.net.hq)
    shared, own1, own2 = load.root / "shared-inbox", load.root / "inbox-1", load.root / "inbox-2"
    for d in (shared, own1, own2):
        d.mkdir()
    for i, f in enumerate(files):
        if i % 2 == 0:
            shutil.copy(f, shared / f.name)
        else:
            shutil.copy(f, own1 / f.name)
            shutil.copy(f, own2 / f.name)
    procs = [_importer(node1, shared), _importer(node2, shared)]
    try:
        load.wait_until(lambda: _drained(shared), 180, "the shared inbox")
        _stop(procs)
        procs = [_importer(node1, own1), _importer(node2, own2)]
        load.wait_until(lambda: len(load.imported()) == len(files) and _drained(own1, own2), 240, "every bundle")
    finally:
        _stop(procs)
    load.assert_exactly_once()
    assert [p for d in (shared, own1, own2) for p in (d / "rejected").glob("*")] == []


def _drained(*inboxes: Path) -> bool:
    return all(not any(p.name.endswith(SUFFIX) or ".claim-" in p.name for p in d.iterdir() if p.is_file()) for d in inboxes)


def test_the_link_settings_refuse_plain_http_off_this_computer(load: Load) -> None:
    from nap_desktop.errors import ValidationError

    with pytest.raises(ValidationError, match="https"):
        link.set_settings(load.net.posts[0], server_url="http://hq.example:8443")
    assert link.set_settings(load.net.posts[0], server_url="https://hq.example:8443/").server_url == "https://hq.example:8443"
