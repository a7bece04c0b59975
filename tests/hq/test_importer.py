# SPDX-License-Identifier: GPL-3.0-or-later
"""The inbox importer without a server: claims, crashes, passing failures, rejections."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from nap_desktop.data.models import AuditEntry
from nap_desktop.services import hq, sync
from nap_desktop.services.context import Workspace
from tests.hq.netutil import Net, make_net
from tests.services.records_factories import create


@pytest.fixture
def net(tmp_path: Path) -> Iterator[Net]:
    n = make_net(tmp_path, 1)
    yield n
    n.close()


def _bundles(net: Net, n: int, folder: Path) -> list[Path]:
    out = []
    for _ in range(n):
        create(net.officers[0], "person")
        r = sync.export_changes(net.officers[0], folder)
        assert r.path is not None
        out.append(r.path)
    return out


def _states(ws: Workspace) -> list[str]:
    return sorted(b.state for b in sync.list_bundles(ws, direction="in"))


def test_a_claim_left_by_this_node_is_taken_back_and_anothers_only_when_stale(net: Net, tmp_path: Path) -> None:
    files = _bundles(net, 3, tmp_path / "made")
    ws = net.hq_ws()
    try:
        inbox = hq.intake_dir(ws)
        me = hq.node_name(ws)
        shutil.copy(files[0], inbox / f"{files[0].name}{hq.CLAIM}{me}")  # this node died while importing it
        other_fresh = inbox / f"{files[1].name}{hq.CLAIM}hq2-0123456789"  # another node is at work on it
        shutil.copy(files[1], other_fresh)
        other_stale = inbox / f"{files[2].name}{hq.CLAIM}hq3-0123456789"  # a node that never came back
        shutil.copy(files[2], other_stale)
        old = time.time() - hq.STALE_CLAIM_S - 60
        os.utime(other_stale, (old, old))
        outcomes = hq.import_inbox(ws)
        assert sorted(o.outcome for o in outcomes) == ["held", "imported"]  # bundle 3 waits for bundle 2
        assert [p.name for p in inbox.iterdir() if p.is_file()] == [other_fresh.name]
        os.utime(other_fresh, (old, old))  # now that node is gone too
        outcomes = hq.import_inbox(ws)
        assert [o.outcome for o in outcomes] == ["imported"]  # bundle 2; the import then takes the held 3 along
        assert _states(ws) == ["imported"] * 3
        assert hq.inbox_counts(ws) == {"waiting": 0, "claimed": 0, "rejected": 0}
    finally:
        ws.lock()


def test_a_passing_failure_puts_the_file_back_for_the_next_pass(net: Net, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (f,) = _bundles(net, 1, tmp_path / "made")
    ws = net.hq_ws()
    try:
        inbox = hq.intake_dir(ws)
        shutil.copy(f, inbox / f.name)
        real = sync.import_bundle

        def database_away(*_a: object, **_k: object) -> None:
            raise OperationalError("SELECT 1", {}, Exception("connection refused"))

        monkeypatch.setattr(sync, "import_bundle", database_away)
        assert [o.outcome for o in hq.import_inbox(ws)] == ["retry"]
        assert [p.name for p in inbox.iterdir() if p.is_file()] == [f.name]
        monkeypatch.setattr(sync, "import_bundle", real)
        assert [o.outcome for o in hq.import_inbox(ws)] == ["imported"]
    finally:
        ws.lock()


def test_a_rejected_file_is_kept_aside_with_its_reason_and_audited(net: Net, tmp_path: Path) -> None:
    (f,) = _bundles(net, 1, tmp_path / "made")
    ws = net.hq_ws()
    try:
        inbox = hq.intake_dir(ws)
        data = bytearray(f.read_bytes())
        data[200] ^= 0xFF  # inside the encrypted payload: the container opens, the payload does not
        (inbox / f.name).write_bytes(bytes(data))
        (o,) = hq.import_inbox(ws)
        assert o.outcome == "rejected" and "damaged" in o.note
        assert (inbox / "rejected" / f.name).exists()
        assert o.note in (inbox / "rejected" / f"{f.name}.txt").read_text()
        with ws.sf() as s:
            assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "hq.bundle_rejected")) == 1
        assert _states(ws) == []
    finally:
        ws.lock()
