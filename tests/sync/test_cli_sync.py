# SPDX-License-Identifier: GPL-3.0-or-later
"""The sync commands as an operator types them: enrol, export, dry run, import, receipts, conflicts."""

from __future__ import annotations

from pathlib import Path

from nap_desktop.services import records
from tests.cli.test_cli import nap, ok, user_error
from tests.conftest import ADMIN, ADMIN_PW, PASSWORDS
from tests.services.records_factories import create
from tests.sync.conftest import Network


def _w(site_path: Path, user: str) -> list[str]:
    return ["--workspace", str(site_path), "--user", user, "--password-stdin"]


def test_enrol_export_import_and_receipts_from_the_command_line(network: Network, tmp_path: Path) -> None:
    net = network
    usb = tmp_path / "usb"
    # Sites must not be open in this process while the CLI works on them (one writer per workspace).
    officer_record = create(net.post.as_("off.torkham"), "screening", full=True)
    for site in (net.hq, net.post):
        site.ws.lock()

    out = ok(nap("enrol", "request", "--out", str(usb), *_w(net.post.path, ADMIN), stdin=ADMIN_PW + "\n"))
    request = next(usb.glob("*.napreq"))
    assert "Wrote the enrolment request" in out
    out = ok(nap("enrol", "approve", str(request), "--out", str(usb), *_w(net.hq.path, ADMIN), stdin=ADMIN_PW + "\n"))
    fingerprint = out.strip().rsplit("fingerprint: ", 1)[1]
    response = next(usb.glob("*.napresp"))
    user_error(nap("enrol", "accept", str(response), "--fingerprint", "0000 0000 0000 0000", *_w(net.post.path, ADMIN), stdin=ADMIN_PW + "\n"), "not the one you were given")
    ok(nap("enrol", "accept", str(response), "--fingerprint", fingerprint, *_w(net.post.path, ADMIN), stdin=ADMIN_PW + "\n"))

    officer = _w(net.post.path, "off.torkham")
    status = ok(nap("sync", "status", *officer, stdin=PASSWORDS["officer"] + "\n"))
    assert "Enrolled: registry version" in status and "Changes not yet exported: 2 records" in status
    out = ok(nap("sync", "export", "--out", str(usb), *officer, stdin=PASSWORDS["officer"] + "\n"))
    bundle = next(usb.glob("P-TORKHAM-*.napb"))
    assert str(bundle) in out and "2 records" in out

    analyst = _w(net.hq.path, "ana.hq")
    dry = ok(nap("sync", "import", "--dry-run", str(bundle), *analyst, stdin=PASSWORDS["analyst"] + "\n"))
    assert "would import from P-TORKHAM: 2 new" in dry
    done = ok(nap("sync", "import", str(bundle), *analyst, stdin=PASSWORDS["analyst"] + "\n"))
    assert "imported from P-TORKHAM: 2 new" in done and "receipt for the unit:" in done
    receipt = Path(done.split("receipt for the unit: ", 1)[1].split()[0])
    again = ok(nap("sync", "import", str(bundle), *analyst, stdin=PASSWORDS["analyst"] + "\n"))
    assert "already imported, nothing changed" in again

    back = ok(nap("sync", "import", str(receipt), *officer, stdin=PASSWORDS["officer"] + "\n"))
    assert "1 bundle(s) acknowledged" in back
    listing = ok(nap("sync", "receipts", *officer, stdin=PASSWORDS["officer"] + "\n"))
    assert "acknowledged" in listing

    truncated = tmp_path / "cut.napb"
    truncated.write_bytes(bundle.read_bytes()[:500])
    user_error(nap("sync", "import", str(truncated), *analyst, stdin=PASSWORDS["analyst"] + "\n"), "incomplete")
    assert ok(nap("conflicts", "list", *analyst, stdin=PASSWORDS["analyst"] + "\n")).strip() == "No conflicts."
    assert officer_record.id


def test_conflicts_are_listed_shown_and_resolved_from_the_command_line(enrolled: Network, tmp_path: Path) -> None:
    from nap_desktop.services import sync

    net = enrolled
    officer, head, analyst = net.post.as_("off.torkham"), net.circle.as_("circ.psh"), net.hq.as_("ana.hq")
    person = create(officer, "person")
    b1 = sync.export_changes(officer, tmp_path / "a").path
    sync.import_bundle(head, b1)  # type: ignore[arg-type]
    # The circle corrects the district while the post, unaware, records the marital status.
    records.update_record(head, person.id, {"residence_district": "Kohat"})
    circle = sync.export_changes(head, tmp_path / "c")
    records.update_record(officer, person.id, {"marital_status": "married"})
    b2 = sync.export_changes(officer, tmp_path / "b").path
    for f in [*circle.relayed, circle.path]:
        sync.import_bundle(analyst, f)  # type: ignore[arg-type]
    assert sync.import_bundle(analyst, b2).conflicts == 1  # type: ignore[arg-type]
    net.hq.ws.lock()
    w = _w(net.hq.path, "ana.hq")
    listing = ok(nap("conflicts", "list", *w, stdin=PASSWORDS["analyst"] + "\n"))
    cid = listing.split()[0]
    assert "person" in listing and "here v2 / incoming v2 (edited on both sides)" in listing
    shown = ok(nap("conflicts", "show", cid, *w, stdin=PASSWORDS["analyst"] + "\n"))
    assert "* marital_status" in shown and "* residence_district" in shown and "Kohat" in shown
    done = ok(nap("conflicts", "resolve", cid, "--keep", "incoming", *w, stdin=PASSWORDS["analyst"] + "\n"))
    assert "kept the incoming version" in done
    assert ok(nap("conflicts", "list", *w, stdin=PASSWORDS["analyst"] + "\n")).strip() == "No conflicts."
