# SPDX-License-Identifier: GPL-3.0-or-later
"""kill -9 in the middle of writing (issue 2, "Must show"): a writer process adds units in a loop
and is killed with SIGKILL at a random point, many times; each time the store reopens (the OS
released the dead writer's lock), passes ``PRAGMA integrity_check``, holds every unit the writer
reported as committed, holds no half-written unit, and its audit chain verifies.

The writer script imports NAP Desktop once and forks one writer per trial, so that the trials
do not each pay for Python's start-up; each writer is a separate process that opens the
workspace itself and is killed with SIGKILL while it writes."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import select

from nap_desktop.data.models import AuditEntry, Unit
from nap_desktop.services import audit_log
from nap_desktop.services import workspace as wsvc
from tests.conftest import ADMIN, ADMIN_PW

TRIALS = 8

WRITER = textwrap.dedent(
    """
    import os, sys
    from nap_desktop.services.units import add_unit
    from nap_desktop.services.workspace import open_workspace

    path = sys.argv[1]
    password = sys.stdin.readline().rstrip("\\n")
    for command in sys.stdin:
        trial = command.strip()
        pid = os.fork()
        if pid:
            print(f"pid {pid}", flush=True)
            os.waitpid(pid, 0)  # the parent test kills it
            print("reaped", flush=True)
            continue
        try:
            ws = open_workspace(path, "admin", password)
            n = 0
            while True:
                code = f"P-CRASH-{trial}-{n}"
                add_unit(ws, code=code, kind="post", parent="C-PSH", name_en=f"Crash post {n}",
                         name_ur="چوکی", province="kp", post_type="airport")
                print(code, flush=True)
                n += 1
        except BaseException as exc:
            print(f"writer failed: {type(exc).__name__}: {exc}", flush=True)
        finally:
            os._exit(1)
    """
)


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL") or not hasattr(os, "fork"), reason="POSIX kill -9 and fork")
def test_kill_9_during_writes_loses_nothing_committed(workspace: Path, tmp_path: Path) -> None:
    script = tmp_path / "writer.py"
    script.write_text(WRITER, "utf-8")
    rng = random.Random(20261129)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(workspace)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(ADMIN_PW + "\n")
        for trial in range(TRIALS):
            stop_after = rng.randint(3, 40)
            proc.stdin.write(f"{trial}\n")
            proc.stdin.flush()
            first = proc.stdout.readline()
            assert first.startswith("pid "), first
            pid = int(first.split()[1])
            committed: list[str] = []
            try:
                while len(committed) < stop_after:
                    line = proc.stdout.readline().strip()
                    assert line.startswith("P-CRASH-"), f"trial {trial}: {line or (proc.stderr.read() if proc.stderr else '')}"
                    committed.append(line)
            finally:
                os.kill(pid, signal.SIGKILL)
            # Lines the writer printed between our last read and its death are committed too.
            while (line := proc.stdout.readline().strip()) != "reaped":
                assert line.startswith("P-CRASH-"), line
                committed.append(line)

            ws = wsvc.open_workspace(workspace, ADMIN, ADMIN_PW)  # the dead writer's lock is gone
            try:
                with ws.engine.connect() as conn:
                    assert conn.exec_driver_sql("PRAGMA integrity_check").scalars().all() == ["ok"]
                    assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
                prefix = f"P-CRASH-{trial}-"
                with ws.sf() as s:
                    stored = set(s.scalars(select(Unit.code).where(Unit.code.startswith(prefix))))
                    audited = set(
                        s.scalars(
                            select(AuditEntry.object_id).where(AuditEntry.action == "unit.added", AuditEntry.object_id.startswith(prefix))
                        )
                    )
                missing = [c for c in committed if c not in stored]
                assert missing == [], f"trial {trial}: committed units lost: {missing}"
                # Nothing half-done: the units form an unbroken run 0..m, each with its audit entry.
                numbers = sorted(int(c.rsplit("-", 1)[1]) for c in stored)
                assert numbers == list(range(len(numbers)))
                assert len(numbers) >= stop_after
                assert audited == stored, f"trial {trial}: a unit and its audit entry were not written together"
                assert audit_log.verify_audit(ws).ok
            finally:
                ws.lock()
    finally:
        proc.stdin.close()
        proc.wait(timeout=60)
        proc.stdout.close()
        if proc.stderr:
            proc.stderr.close()
    assert proc.returncode == 0
