# SPDX-License-Identifier: GPL-3.0-or-later
"""Monthly returns travel up the approval chain in bundles: a post submits, its circle approves, HQ sees it."""

from __future__ import annotations

from pathlib import Path

from nap_desktop.reports import returns
from nap_desktop.services import sync
from tests.services.records_factories import create
from tests.sync.conftest import Network


def test_a_post_return_is_approved_by_its_circle_and_reaches_hq(enrolled: Network, tmp_path: Path) -> None:
    officer, head, analyst = enrolled.post.as_("off.torkham"), enrolled.circle.as_("circ.psh"), enrolled.hq.as_("ana.hq")
    create(officer, "screening", full=True)
    returns.compile_return(officer, "P-TORKHAM", "2026-06")
    returns.submit_return(officer, "P-TORKHAM", "2026-06")
    post_bundle = sync.export_changes(officer, tmp_path / "p").path
    at_circle = sync.import_bundle(head, post_bundle)  # type: ignore[arg-type]
    assert at_circle.outcome == "imported" and at_circle.problems == ()
    assert returns.get_return(head, "P-TORKHAM", "2026-06").state == "submitted"

    returns.approve_return(head, "P-TORKHAM", "2026-06")
    circle = sync.export_changes(head, tmp_path / "c")
    for f in sync.import_files(analyst, [circle.path, *circle.relayed]):  # type: ignore[list-item]
        assert isinstance(f, sync.ImportSummary) and f.outcome == "imported", f
    at_hq = returns.get_return(analyst, "P-TORKHAM", "2026-06")
    assert at_hq.state == "approved" and at_hq.approved_by == "circ.psh"

    # A later copy from the post (still "submitted" there) does not undo the approval.
    again = sync.export_changes(officer, tmp_path / "p2", resend=True).path
    summary = sync.import_bundle(head, again)  # type: ignore[arg-type]
    assert returns.get_return(head, "P-TORKHAM", "2026-06").state == "approved"
    assert summary.outcome == "imported"
