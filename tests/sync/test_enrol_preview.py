# SPDX-License-Identifier: GPL-3.0-or-later
"""What the GUI shows before an enrolment decision, and revocation reasons (services only)."""

from __future__ import annotations

import json

import pytest

from nap_desktop.errors import BundleDamaged, EnrolmentError, PermissionDenied, SyncError
from nap_desktop.services import sync
from tests.services.records_factories import audit_count
from tests.sync.conftest import Network
from tests.sync.helpers import row_counts


def test_hq_reads_a_request_before_approving_it_and_nothing_changes(network: Network) -> None:
    req = sync.enrol_request(network.post.ws, network.root / "usb")
    before = row_counts(network.hq.ws)
    info = sync.read_enrol_request(network.hq.ws, req.path)
    assert (info.unit, info.site_kind, info.device_id) == ("P-TORKHAM", "post", network.post.ws.wf.workspace_id)
    assert info.key_id == req.key_id and info.key_fingerprint.replace(" ", "") == req.key_id
    assert info.unit_known and not info.rotation and not info.already_enrolled
    assert row_counts(network.hq.ws) == before, "reading a request writes nothing"
    sync.enrol_approve(network.hq.ws, req.path, out_dir=network.root / "usb")
    assert sync.read_enrol_request(network.hq.ws, req.path).already_enrolled


def test_a_tampered_request_is_refused_when_read(network: Network) -> None:
    req = sync.enrol_request(network.post.ws, network.root / "usb")
    doc = json.loads(req.path.read_text())
    doc["request"]["unit"] = "P-WAGAH"
    req.path.write_text(json.dumps(doc))
    with pytest.raises(EnrolmentError, match="do not check"):
        sync.read_enrol_request(network.hq.ws, req.path)


def test_a_device_reads_hqs_fingerprint_before_accepting(network: Network) -> None:
    req = sync.enrol_request(network.post.ws, network.root / "usb")
    resp = sync.enrol_approve(network.hq.ws, req.path, out_dir=network.root / "usb")
    before = row_counts(network.post.ws)
    info = sync.read_enrol_response(network.post.ws, resp.path)
    assert info.root_fingerprint == resp.root_fingerprint and info.unit == "P-TORKHAM"
    assert row_counts(network.post.ws) == before
    assert not sync.sync_status(network.post.ws).enrolled
    with pytest.raises(EnrolmentError, match="another workspace"):
        sync.read_enrol_response(network.circle.ws, resp.path)


def test_revocation_records_a_reason_code_and_the_admin_lists_devices(enrolled: Network) -> None:
    hq = enrolled.hq.ws
    devices = sync.list_devices(hq)  # the HQ admin (keys.manage) sees the list it revokes from
    assert {d.unit for d in devices} == {"HQ", "C-PSH", "P-TORKHAM"}
    with pytest.raises(SyncError, match="reason"):
        sync.revoke_key(hq, device_id=enrolled.post.ws.wf.workspace_id, reason="because I said so")
    r = sync.revoke_key(hq, device_id=enrolled.post.ws.wf.workspace_id, reason="stolen")
    assert audit_count(hq, "sync.key_revoked", object_id=enrolled.post.ws.wf.workspace_id) == 1
    post = next(d for d in sync.list_devices(hq) if d.unit == "P-TORKHAM")
    assert {status for _k, status in post.keys} == {"revoked"} and r.version == sync.sync_status(hq).registry_version
    with pytest.raises(PermissionDenied):
        sync.list_devices(enrolled.post.as_("off.torkham"))


def test_import_each_names_the_file_of_every_refusal(enrolled: Network) -> None:
    from tests.services.records_factories import create

    off = enrolled.post.as_("off.torkham")
    create(off, "person")
    good = sync.export_changes(off, enrolled.root / "usb").path
    bad = enrolled.root / "usb" / "half-copied.napb"
    bad.write_bytes(good.read_bytes()[:200])
    seen: list[str] = []
    results = sync.import_each(enrolled.hq.as_("ana.hq"), [bad, good], dry_run=True, on_file=lambda i, p: seen.append(f"{i}:{p.name}"))
    by_name = {p.name: r for p, r in results}
    assert isinstance(by_name["half-copied.napb"], BundleDamaged)
    assert by_name[good.name].new == 1 and by_name[good.name].outcome == "dry run"
    assert seen == [f"0:{good.name}", "1:half-copied.napb"], "changes first, unreadable files last"
