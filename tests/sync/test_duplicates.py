# SPDX-License-Identifier: GPL-3.0-or-later
"""HQ flags probable duplicate persons between units by keyed tokens, never by comparing numbers in clear."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from nap_desktop.data.sync_models import MatchToken
from nap_desktop.services import sync
from tests.services.records_factories import create
from tests.sync.conftest import Network


def test_the_same_person_seen_at_a_post_and_a_circle_is_flagged(enrolled: Network, tmp_path: Path) -> None:
    officer, head, analyst = enrolled.post.as_("off.torkham"), enrolled.circle.as_("circ.psh"), enrolled.hq.as_("ana.hq")
    cnic = "17301-7654321-9"
    at_post = create(officer, "person", values={"cnic": cnic, "given_name": "Gul", "family_name": "Bibi"})
    at_circle = create(head, "person", values={"cnic": "1730176543219", "given_name": "Gul", "family_name": "Bibi"})
    create(officer, "person", values={"cnic": "35202-1111111-1", "given_name": "Other", "family_name": "Person"})
    post_bundle = sync.export_changes(officer, tmp_path / "p").path
    circle_bundle = sync.export_changes(head, tmp_path / "c").path
    for f in (post_bundle, circle_bundle):
        assert sync.import_bundle(analyst, f).outcome == "imported"  # type: ignore[arg-type]

    groups = sync.probable_duplicates(analyst)
    by_id = [g for g in groups if g[0] == "id"]
    assert by_id == [("id", tuple(sorted([(at_post.id, "P-TORKHAM"), (at_circle.id, "C-PSH")])))]
    with analyst.sf() as s:
        tokens = [t.token for t in s.scalars(select(MatchToken))]
    assert tokens and all("1730176543219" not in t and "7654321" not in t for t in tokens)
    # The tokens are keyed: without HQ's key, the same number gives another token.
    from nap_desktop.sync.payload import match_tokens

    assert match_tokens(b"k" * 32, {"cnic": cnic}, None)["id"] not in tokens
