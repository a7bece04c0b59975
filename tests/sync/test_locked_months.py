# SPDX-License-Identifier: GPL-3.0-or-later
"""Records dated in a month whose return is approved arrive late: they wait for a person.

Approval locks the month's records (DESIGN §5). A post that was offline sends records of a month
its circle has already approved: importing must neither change the approved figures silently nor
lose the records. They go to the conflict queue as ``locked``; they can be taken once an
administrator unlocks the return.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from nap_desktop.data.record_models import Screening
from nap_desktop.errors import RecordLocked, SyncError
from nap_desktop.reports import returns
from nap_desktop.services import records, sync
from tests.services.records_factories import EDITS, create
from tests.sync.conftest import Network


def _approved_at_circle(net: Network, tmp_path: Path) -> None:
    """June's return of the post is submitted at the post and approved at the circle."""
    officer, head = net.post.as_("off.torkham"), net.circle.as_("circ.psh")
    returns.compile_return(officer, "P-TORKHAM", "2026-06")
    returns.submit_return(officer, "P-TORKHAM", "2026-06")
    first = sync.export_changes(officer, tmp_path / "p1").path
    assert sync.import_bundle(head, first).outcome == "imported"  # type: ignore[arg-type]
    returns.approve_return(head, "P-TORKHAM", "2026-06")


def _screenings_at(site_ws, unit: str = "P-TORKHAM") -> set[str]:  # type: ignore[no-untyped-def]
    with site_ws.sf.begin() as s:
        return {r.id for r in s.query(Screening).filter(Screening.unit == unit)}


def test_a_late_record_of_an_approved_month_waits_for_the_unlock(enrolled: Network, tmp_path: Path) -> None:
    officer, head = enrolled.post.as_("off.torkham"), enrolled.circle.as_("circ.psh")
    on_time = create(officer, "screening", full=True)
    _approved_at_circle(enrolled, tmp_path)
    assert on_time.id in _screenings_at(enrolled.circle.ws)

    late = create(officer, "screening", full=True)  # the post's copy is only submitted: it can still capture
    bundle = sync.export_changes(officer, tmp_path / "p2").path
    dry = sync.import_bundle(head, bundle, dry_run=True)  # type: ignore[arg-type]
    assert dry.outcome == "dry run" and dry.conflicts == 1
    summary = sync.import_bundle(head, bundle)  # type: ignore[arg-type]
    assert summary.outcome == "imported" and summary.conflicts == 1
    assert any("approved month" in p for p in summary.problems)
    # The approved month is as it was; the new screening's person (dated today) came in.
    assert late.id not in _screenings_at(enrolled.circle.ws)

    queued = [c for c in sync.list_conflicts(head) if c.record_id == late.id]
    assert len(queued) == 1 and queued[0].reason == "locked" and queued[0].local_version == 0
    detail = sync.show_conflict(head, queued[0].id)
    assert detail.local == {} and detail.incoming["screened_on"] == "2026-06-15"
    assert "are locked" in detail.locked and "unlock" in detail.locked

    with pytest.raises(SyncError, match="new here"):
        sync.resolve_conflict(head, queued[0].id, keep="local")
    with pytest.raises(RecordLocked, match="unlock"):
        sync.resolve_conflict(head, queued[0].id, keep="incoming")
    assert late.id not in _screenings_at(enrolled.circle.ws)

    # The same bundle again changes nothing and queues nothing twice.
    again = sync.export_changes(officer, tmp_path / "p3", resend=True).path
    sync.import_bundle(head, again)  # type: ignore[arg-type]
    assert len([c for c in sync.list_conflicts(head) if c.record_id == late.id]) == 1

    returns.unlock_return(enrolled.circle.ws, "P-TORKHAM", "2026-06", "late records from the post")
    assert sync.show_conflict(head, queued[0].id).locked == ""
    done = sync.resolve_conflict(head, queued[0].id, keep="incoming")
    assert done.state == "resolved" and done.resolution == "incoming"
    assert late.id in _screenings_at(enrolled.circle.ws)
    assert records.get_record(head, late.id).values["screened_on"] == late.values["screened_on"]


def test_an_edit_into_an_approved_month_is_queued_not_applied(enrolled: Network, tmp_path: Path) -> None:
    officer, head = enrolled.post.as_("off.torkham"), enrolled.circle.as_("circ.psh")
    rec = create(officer, "screening", full=True)
    _approved_at_circle(enrolled, tmp_path)
    before = records.get_record(head, rec.id)

    # The post's return is only submitted: an officer there may still correct June's screening.
    records.update_record(officer, rec.id, EDITS["screening"], expected_version=rec.version)
    bundle = sync.export_changes(officer, tmp_path / "p2").path
    summary = sync.import_bundle(head, bundle)  # type: ignore[arg-type]
    assert summary.outcome == "imported" and summary.conflicts == 1 and summary.updated == 0

    after = records.get_record(head, rec.id)
    assert after.version == before.version and after.values == before.values
    (c,) = [c for c in sync.list_conflicts(head) if c.record_id == rec.id]
    assert c.reason == "locked" and c.local_version == before.version
    # Keeping the approved version needs no unlock: the decision is written as a new version.
    kept = sync.resolve_conflict(head, c.id, keep="local")
    assert kept.resolution == "local"


def _screening_stats(ws) -> list[str]:  # type: ignore[no-untyped-def]
    with ws.engine.connect() as conn:
        return [r[0] for r in conn.exec_driver_sql("SELECT stat FROM sqlite_stat1 WHERE tbl = 'screenings' AND stat NOT LIKE '0%'")]


def test_a_large_import_refreshes_the_query_planners_statistics(enrolled: Network, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After a big import the indicator queries must plan with the new table sizes (as after a bulk import)."""
    officer, head = enrolled.post.as_("off.torkham"), enrolled.circle.as_("circ.psh")
    create(officer, "screening", full=True)
    small = sync.import_bundle(head, sync.export_changes(officer, tmp_path / "a").path)  # type: ignore[arg-type]
    assert small.new >= 2 and _screening_stats(enrolled.circle.ws) == [], "a small import leaves the statistics alone"
    monkeypatch.setattr(sync, "_REFRESH_STATS_AFTER", 2)
    for _ in range(3):
        create(officer, "screening", full=True)
    big = sync.import_bundle(head, sync.export_changes(officer, tmp_path / "b").path)  # type: ignore[arg-type]
    assert big.new >= 6
    stats = _screening_stats(enrolled.circle.ws)
    assert stats and int(stats[0].split()[0]) == 4, stats
