# SPDX-License-Identifier: GPL-3.0-or-later
"""First use of a PostgreSQL HQ store by several writers at once (threads with connections of their own).

Each test starts its writers together (a barrier) on rows that do not exist yet, or on a row they
all read and rewrite: HQ's keys and first registry, a registry renewal, settings kept in ``meta``,
the change sequence. Without the locks of data/meta.py and services/sync.py these fail with a
duplicate key, or end with two registries of one version or one sequence number twice.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from nap_desktop.data.models import AuditEntry, Meta
from nap_desktop.data.sync_models import SyncKey
from nap_desktop.services import audit_log, link, settings, sync
from nap_desktop.services.context import Workspace
from nap_desktop.services.records import CHANGE_SEQ_KEY, _next_seq
from nap_desktop.services.workspace import open_workspace
from nap_desktop.sync import registry as reg
from tests.conftest import ADMIN, ADMIN_PW
from tests.hq.netutil import make_hq

WRITERS = 8


@pytest.fixture
def hq(tmp_path: Path, pg_url: str) -> Iterator[Workspace]:
    path = make_hq(tmp_path, db_url=pg_url)
    ws = open_workspace(path, ADMIN, ADMIN_PW)
    try:
        yield ws
    finally:
        ws.lock()


def _together(fn: Callable[[int], Any], n: int = WRITERS) -> list[Any]:
    """Runs ``fn(i)`` on ``n`` threads released at once; returns the results, raises the first error."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(30)
            results[i] = fn(i)
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    if errors:
        raise errors[0]
    return results


def _parse(text: str) -> reg.Registry:
    return reg.parse(text, trusted_root=None)


def _count(ws: Workspace, stmt: Any) -> int:
    with ws.sf() as s:
        return int(s.scalar(stmt) or 0)


def test_hqs_keys_and_first_registry_are_made_once_by_racing_first_uses(hq: Workspace) -> None:
    assert _count(hq, select(func.count()).select_from(SyncKey)) == 0  # nothing made yet: first use below
    texts = _together(lambda _i: sync.registry_text(hq))
    assert len(set(texts)) == 1
    with hq.sf() as s:
        purposes = sorted(s.scalars(select(SyncKey.purpose)))
    assert purposes == ["age", "match", "root", "signing"]
    assert _count(hq, select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "sync.registry_issued")) == 1
    assert _parse(texts[0]).version == 1
    assert audit_log.verify_audit(hq).ok


def test_a_registry_renewal_by_racing_writers_issues_one_version(hq: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _parse(sync.registry_text(hq))
    later = first.expires_at - reg.LIFETIME / 12  # within the last sixth of its life: due for renewal
    monkeypatch.setattr(sync, "_now", lambda: later)
    texts = _together(lambda _i: sync.registry_text(hq))
    assert {_parse(t).version for t in texts} == {2} and len(set(texts)) == 1
    assert _count(hq, select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "sync.registry_issued")) == 2
    assert _parse(sync.registry_text(hq)).expires_at > later + timedelta(days=1)


def test_settings_first_written_by_racing_writers_do_not_collide(hq: Workspace) -> None:
    with hq.sf() as s:
        assert s.get(Meta, "link.interval_minutes") is None and s.get(Meta, settings.IDLE_LOCK_KEY) is None

    def write(i: int) -> None:
        link.set_settings(hq, interval_minutes=10 + i)
        settings.set_idle_lock_minutes(hq, 5 + i)

    _together(write)
    assert link.get_settings(hq).interval_minutes in range(10, 10 + WRITERS)
    assert settings.idle_lock_minutes(hq) in range(5, 5 + WRITERS)
    assert audit_log.verify_audit(hq).ok


def test_the_change_sequence_never_hands_out_a_number_twice(hq: Workspace) -> None:
    with hq.sf() as s:
        assert s.get(Meta, CHANGE_SEQ_KEY) is None

    def take(_i: int) -> list[int]:
        got = []
        for _ in range(10):
            with hq.sf.begin() as s:
                got.append(_next_seq(s))
        return got

    numbers = [n for got in _together(take) for n in got]
    assert sorted(numbers) == list(range(1, WRITERS * 10 + 1))
