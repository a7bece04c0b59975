# SPDX-License-Identifier: GPL-3.0-or-later
"""The name search after sync (issue 4): a person who arrives in a bundle is found by name where
the bundle is imported; at the post, once the person's personal data is purged after retention,
the name finds nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from nap_desktop.data.record_models import PersonNameToken
from nap_desktop.services import records, sync
from nap_desktop.services.context import Workspace
from nap_desktop.services.records import RecordFilter
from tests.services.records_factories import create
from tests.sync.conftest import Network

OFFICER, HEAD = "off.torkham", "circ.psh"


def found(ws: Workspace, text: str, type_name: str = "person") -> set[str]:
    return {r.id for r in records.list_records(ws, type_name, RecordFilter(text=text), limit=5000).rows}


def tokens_of(ws: Workspace, person_id: str) -> set[str]:
    with ws.sf() as s:
        return set(s.scalars(select(PersonNameToken.token).where(PersonNameToken.person_id == person_id)))


def test_imported_person_is_found_and_a_purged_one_is_not(enrolled: Network, tmp_path: Path) -> None:
    net = enrolled
    officer, head = net.post.as_(OFFICER), net.circle.as_(HEAD)
    pid = create(officer, "person", values={"given_name": "Synczarmina", "family_name": "Roundtripbibi"}).id
    sid = create(officer, "screening", refs={"person_id": pid}).id
    bundle = sync.export_changes(officer, tmp_path / "b1").path
    assert found(head, "synczar") == set()
    assert sync.import_bundle(head, bundle).outcome == "imported"  # type: ignore[arg-type]
    assert found(head, "roundtripb synczarmina") == {pid}
    assert found(head, "synczarmina", "screening") == {sid}

    # An edit at the post travels: at the circle the old name no longer matches.
    records.update_record(officer, pid, {"given_name": "Syncrenamed"})
    assert sync.import_bundle(head, sync.export_changes(officer, tmp_path / "b2").path).updated == 1  # type: ignore[arg-type]
    assert found(head, "synczar") == set()
    assert found(head, "syncrenamed roundtrip") == {pid}

    # The circle forwards to HQ, HQ's receipt comes back to the post, and after retention the
    # post's copy loses the name: the search finds nothing there (the circle keeps its copy).
    circle_out = sync.export_changes(head, tmp_path / "circle")
    files = [p for p in (circle_out.path, *circle_out.relayed) if p is not None]
    results = sync.import_files(net.hq.as_("ana.hq"), files)
    receipts = [r.receipt for r in results if isinstance(r, sync.ImportSummary) and r.source_unit == "P-TORKHAM"]
    assert sum(sync.import_bundle(officer, r).acknowledged for r in receipts) >= 1  # type: ignore[arg-type]
    assert found(officer, "syncrenamed") == {pid}
    later = datetime.now(UTC) + timedelta(days=sync.DEFAULT_RETENTION_DAYS + 1)
    assert sync.purge_acknowledged(net.post.ws, now=later) >= 1
    assert found(officer, "syncrenamed") == set()
    assert found(officer, "roundtripbibi", "screening") == set()
    assert tokens_of(net.post.ws, pid) == set()
    assert found(head, "syncrenamed") == {pid}
