# SPDX-License-Identifier: GPL-3.0-or-later
"""``nap-desktop selftest``: one line per step, exit 0 only when every step passed.

The full run is what an FIA IT officer sees after installing; the failure tests break one
service with a monkeypatch (no test-only switch in the product) and check that the command
says which step failed and exits non-zero.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest

from nap_desktop import cli
from nap_desktop.services import selftest

LINE_OK = re.compile(r"^ok  [a-z-]+  \d+ ms$")


@pytest.fixture
def temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The system temporary folder, redirected so the test sees what the selftest leaves there."""
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    return temp


def test_the_full_selftest_passes_and_leaves_nothing_behind(temp_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["selftest"]) == 0
    out = capsys.readouterr().out.splitlines()
    names = [s.name for s in selftest.STEPS]
    assert names == [
        "create-workspace", "write-records", "read-records", "compute-indicators", "render-pdf", "render-xlsx",
        "backup", "restore", "sync-bundle", "audit-chain",
    ]
    assert len(out) == len(names) + 1
    for name, line in zip(names, out, strict=False):
        assert LINE_OK.match(line) and line.split()[1] == name, line
    assert out[-1].startswith(f"selftest passed: {len(names)} steps")
    assert list(temp_dir.iterdir()) == []


@pytest.fixture
def quick_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the steps these failure tests need (the full run is tested above)."""
    keep = {"create-workspace", "write-records", "read-records", "audit-chain"}
    monkeypatch.setattr(selftest, "STEPS", tuple(s for s in selftest.STEPS if s.name in keep))
    monkeypatch.setattr(selftest, "DEMO_RECORDS", 40)


def test_a_failing_step_prints_FAIL_and_exits_non_zero(
    quick_steps: None, temp_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from nap_desktop.services import records

    real = records.list_records

    def lying_list(*args: object, **kwargs: object) -> object:
        page = real(*args, **kwargs)  # type: ignore[arg-type]
        return type(page)(**{**page.__dict__, "total": page.total + 1})

    monkeypatch.setattr(records, "list_records", lying_list)
    assert cli.main(["selftest"]) == 1
    captured = capsys.readouterr()
    out = captured.out.splitlines()
    assert LINE_OK.match(out[0]) and LINE_OK.match(out[1]) and LINE_OK.match(out[3])
    assert re.fullmatch(r"FAIL read-records: \w+: the list holds \d+, \d+ were written", out[2]), out[2]
    assert captured.err.startswith("selftest FAILED: 1 of 4 steps")
    assert list(temp_dir.iterdir()) == []


def test_steps_after_a_failed_prerequisite_are_reported_not_run(
    quick_steps: None, temp_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nap_desktop.services import demo_data

    def broken(*_a: object, **_k: object) -> object:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(demo_data, "generate_demo_records", broken)
    lines: list[str] = []
    results = selftest.run_selftest(echo=lines.append)
    assert [r.ok for r in results] == [True, False, False, True]
    assert lines[1] == "FAIL write-records: OSError: [Errno 28] No space left on device"
    assert lines[2] == "FAIL read-records: not run (write-records failed)" and not results[2].ran


def test_keep_runs_in_a_new_folder_and_keeps_it(quick_steps: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "support"
    assert cli.main(["selftest", "--keep", str(target)]) == 0
    assert (target / "circle" / "workspace.json").is_file()
    capsys.readouterr()
