# SPDX-License-Identifier: GPL-3.0-or-later
"""Crash safety of import: kill -9 at random points leaves a consistent store with the bundle either
fully applied or not at all, and importing it again completes."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from nap_desktop.data.record_models import Person, Screening
from nap_desktop.data.sync_models import SyncBundle
from nap_desktop.services import sync
from nap_desktop.services.demo_data import generate_demo_records
from nap_desktop.services.workspace import open_workspace
from tests.conftest import ADMIN, ADMIN_PW, PASSWORDS
from tests.services.records_factories import TODAY
from tests.sync.conftest import Network

REPO = Path(__file__).resolve().parents[2]
CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from nap_desktop.services import sync
    from nap_desktop.services.workspace import open_workspace
    ws = open_workspace(Path(sys.argv[1]), "ana.hq", sys.argv[3])
    print("open", flush=True)
    sync.import_bundle(ws, Path(sys.argv[2]))
    ws.lock()
    print("done", flush=True)
    """
)


def _state(path: Path) -> tuple[int, int, int]:
    ws = open_workspace(path, ADMIN, ADMIN_PW)
    try:
        with ws.sf() as s:
            assert s.execute(text("PRAGMA integrity_check")).scalar() == "ok"
            assert s.execute(text("PRAGMA foreign_key_check")).all() == []
            persons = s.scalar(select(func.count()).select_from(Person)) or 0
            screenings = s.scalar(select(func.count()).select_from(Screening)) or 0
            bundles = s.scalar(select(func.count()).select_from(SyncBundle).where(SyncBundle.state == "imported")) or 0
            return persons, screenings, bundles
    finally:
        ws.lock()


@pytest.mark.slow
def test_kill_during_import_applies_all_or_nothing(enrolled: Network, tmp_path: Path) -> None:
    officer = enrolled.post.as_("off.torkham")
    for _ in generate_demo_records(officer, 1000, seed=11, as_of=TODAY):
        pass
    bundle = sync.export_changes(officer, tmp_path / "usb").path
    assert bundle is not None
    enrolled.hq.ws.lock()
    pristine = tmp_path / "hq-pristine"
    shutil.copytree(enrolled.hq.path, pristine)
    env = {**os.environ, "PYTHONPATH": str(REPO)}

    # The full import, uninterrupted, gives the expected end state and how long it takes.
    full_copy = tmp_path / "hq-full"
    shutil.copytree(pristine, full_copy)
    t0 = time.monotonic()
    done = subprocess.run([sys.executable, "-c", CHILD, str(full_copy), str(bundle), PASSWORDS["analyst"]], env=env, capture_output=True, text=True, check=False)
    took = time.monotonic() - t0
    assert done.returncode == 0 and "done" in done.stdout, done.stderr
    full = _state(full_copy)
    assert full[0] > 0 and full[1] > 0 and full[2] == 1

    rnd = random.Random(20261129)
    outcomes = []
    for trial in range(6):
        copy = tmp_path / f"hq-{trial}"
        shutil.copytree(pristine, copy)
        proc = subprocess.Popen([sys.executable, "-c", CHILD, str(copy), str(bundle), PASSWORDS["analyst"]], env=env, stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "open"
        time.sleep(rnd.uniform(0.0, took * 0.9))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        state = _state(copy)
        assert state in ((0, 0, 0), full), f"trial {trial}: half-applied {state} (full is {full})"
        outcomes.append(state == full)
        # Importing again completes.
        ws = open_workspace(copy, "ana.hq", PASSWORDS["analyst"])
        try:
            again = sync.import_bundle(ws, bundle)
        finally:
            ws.lock()
        assert again.outcome in ("imported", "already imported")
        assert _state(copy) == full
    assert not all(outcomes), "every kill came after the commit: the trials did not test a crash mid-import"
