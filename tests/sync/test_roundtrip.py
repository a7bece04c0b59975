# SPDX-License-Identifier: GPL-3.0-or-later
"""Post → circle → HQ with edits on both sides: conflicts queued and decided by a person, receipts
back, personal data purged at the post after retention — and HQ ends with exactly what was captured."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from nap_desktop.data.record_models import MODEL_BY_TYPE, PersonIdentity
from nap_desktop.services import records, sync
from nap_desktop.services.context import Workspace
from tests.services.records_factories import create
from tests.sync.conftest import Network

OFFICER, HEAD, ANALYST = "off.torkham", "circ.psh", "ana.hq"


def _ids(ws: Workspace, *, units: set[str] | None = None) -> set[tuple[str, str, int]]:
    """(type, id, version) of every record in the store (optionally of some units)."""
    out = set()
    with ws.sf() as s:
        for name, model in MODEL_BY_TYPE.items():
            for rid, unit, version in s.execute(select(model.id, model.unit, model.version)):
                if units is None or unit in units:
                    out.add((name, rid, version))
    return out


def test_post_circle_hq_round_trip(enrolled: Network, tmp_path: Path) -> None:
    net = enrolled
    officer, head, analyst = net.post.as_(OFFICER), net.circle.as_(HEAD), net.hq.as_(ANALYST)
    usb = tmp_path / "usb"

    # 1. The post captures and sends to its circle.
    s1 = create(officer, "screening", full=True)
    p1 = s1.values["person_id"]
    create(officer, "person")
    b1 = sync.export_changes(officer, usb / "b1").path
    assert sync.import_bundle(head, b1).outcome == "imported"  # type: ignore[arg-type]

    # 2. Both sides edit the same person from version 1.
    records.update_record(head, p1, {"residence_district": "Mardan"})
    records.update_record(officer, p1, {"marital_status": "married"})
    s2 = create(officer, "screening", full=True)
    b2 = sync.export_changes(officer, usb / "b2").path
    at_circle = sync.import_bundle(head, b2)  # type: ignore[arg-type]
    assert (at_circle.outcome, at_circle.conflicts) == ("imported", 1)

    # 3. The circle head sees both versions and takes the post's.
    [conflict] = sync.list_conflicts(head)
    detail = sync.show_conflict(head, conflict.id)
    assert detail.local["residence_district"] == "Mardan" and detail.incoming["marital_status"] == "married"
    assert {"residence_district", "marital_status"} <= set(detail.differing)
    sync.resolve_conflict(head, conflict.id, keep="incoming")
    assert sync.list_conflicts(head) == []
    at_circle_p1 = records.get_record(head, p1)
    assert at_circle_p1.values["marital_status"] == "married" and at_circle_p1.version == 3

    # 4. The circle opens its own case on the post's victim, exports, and forwards the post's bundles.
    case = create(head, "case", full=True, refs={"party_person": p1})
    circle_out = sync.export_changes(head, usb / "circle")
    assert circle_out.path is not None and len(circle_out.relayed) == 2
    files = [circle_out.path, *circle_out.relayed]

    # 5. HQ imports everything in one go: the post's own signatures are checked, no conflict is left.
    results = sync.import_files(analyst, files)
    assert all(isinstance(r, sync.ImportSummary) and r.outcome == "imported" for r in results), results
    assert sum(r.conflicts for r in results if isinstance(r, sync.ImportSummary)) == 0
    at_hq = records.get_record(analyst, p1)
    assert at_hq.values["marital_status"] == "married" and at_hq.version == 3 and at_hq.unit == "P-TORKHAM"
    assert records.get_record(analyst, case.id).values == records.get_record(head, case.id).values
    assert records.get_record(analyst, s2.id).values == s2.values

    # HQ holds exactly the union of what was captured: every record, at its latest version.
    captured = _ids(officer) | _ids(head)
    latest = {}
    for t, rid, v in captured:
        latest[(t, rid)] = max(v, latest.get((t, rid), 0))
    assert {(t, rid): v for t, rid, v in _ids(analyst)} == latest

    # 6. Receipts back: the post's changes are acknowledged, then purged after retention.
    receipts = [r.receipt for r in results if isinstance(r, sync.ImportSummary) and r.source_unit == "P-TORKHAM"]
    acks = [sync.import_bundle(officer, r) for r in receipts]  # type: ignore[arg-type]
    assert sum(a.acknowledged for a in acks) == 2
    status = sync.sync_status(officer)
    assert status.acked_seq == status.exported_seq and status.unacknowledged == ()
    later = datetime.now(UTC) + timedelta(days=sync.DEFAULT_RETENTION_DAYS + 1)
    purged = sync.purge_acknowledged(net.post.ws, now=later)
    assert purged >= 3
    with net.post.ws.sf() as s:
        names = {i.given_name for i in s.scalars(select(PersonIdentity))}
    assert names == {""}
    # Indicators still count them: the aggregatable fields stay.
    assert records.get_record(officer, p1).values["marital_status"] == "married"

    # 7. An edit after the purge travels without blanking HQ's copy of the identity.
    before = records.get_record(analyst, p1).values["given_name"]
    assert before
    records.update_record(officer, s2.values["person_id"], {"residence_district": "Swat"})
    late = sync.export_changes(officer, usb / "late").path
    assert sync.import_bundle(analyst, late).updated == 1  # type: ignore[arg-type]
    assert records.get_record(analyst, p1).values["given_name"] == before
    assert records.get_record(analyst, s2.values["person_id"]).values["given_name"]
