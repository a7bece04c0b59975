# SPDX-License-Identifier: GPL-3.0-or-later
"""A dry run of several files says what importing them together will do.

Nothing is written in a dry run, so each file is judged after the files before it in the
selection: a post's second bundle is not "held" waiting for its first one, a record referring
to one in an earlier file is not "waiting for records not received yet".
"""

from __future__ import annotations

import shutil
from pathlib import Path

from nap_desktop.services import records, sync
from tests.services.records_factories import create
from tests.sync.conftest import Network


def test_a_dry_run_of_a_posts_bundles_matches_the_import_that_follows(enrolled: Network, tmp_path: Path) -> None:
    officer, analyst = enrolled.post.as_("off.torkham"), enrolled.hq.as_("ana.hq")
    person = create(officer, "person")
    first = sync.export_changes(officer, tmp_path / "1").path
    create(officer, "screening", refs={"person": person.id})  # refers to the person of the first bundle
    records.update_record(officer, person.id, {"residence_district": "Mardan"})
    second = sync.export_changes(officer, tmp_path / "2").path
    usb = tmp_path / "stick"
    usb.mkdir()
    files = [Path(shutil.copy(p, usb)) for p in (second, first)]  # picked in any order
    copy = Path(shutil.copy(first, usb / "copy-of-first.napb"))

    dry = sync.import_files(analyst, [*files, copy], dry_run=True)
    outcomes = [r.outcome for r in dry if isinstance(r, sync.ImportSummary)]
    assert len(outcomes) == 3 and outcomes.count("dry run") == 2 and outcomes.count("already imported") == 1, dry
    planned = [r for r in dry if isinstance(r, sync.ImportSummary) and r.outcome == "dry run"]
    assert all(r.missing is None and r.rejected == 0 for r in planned)
    assert planned[0].new == 1 and planned[1].new >= 1 and [r.updated for r in planned] == [0, 1], "the person edit builds on the first file"

    done = sync.import_files(analyst, files)
    real = [r for r in done if isinstance(r, sync.ImportSummary)]
    assert [r.outcome for r in real] == ["imported", "imported"]
    assert [(r.new, r.updated) for r in real] == [(r.new, r.updated) for r in planned]
