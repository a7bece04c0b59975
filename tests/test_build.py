# SPDX-License-Identifier: GPL-3.0-or-later
"""The PyInstaller build (``build.spec``) gives a folder that works on a machine without Python.

Slow: the build takes minutes. It runs in every CI run (``make test`` runs the whole suite); a
build newer than every source file is reused, so a second run on a workstation is quick.
The built programs run with a clean environment (no virtual environment, no display).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from tests.conftest import missing_peer

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "dist" / "nap-desktop"
EXE_SUFFIX = ".exe" if sys.platform == "win32" else ""
CLI = DIST / f"nap-desktop{EXE_SUFFIX}"
GUI = DIST / f"nap-desktop-gui{EXE_SUFFIX}"
INPUTS = ("nap_desktop", "resources", "packaging", "build.spec", "pyproject.toml")

pytestmark = pytest.mark.slow


def _newest_input() -> float:
    newest = 0.0
    for name in INPUTS:
        p = ROOT / name
        files = [p] if p.is_file() else [f for f in p.rglob("*") if f.is_file() and "__pycache__" not in f.parts]
        newest = max([newest, *(f.stat().st_mtime for f in files)])
    return newest


@pytest.fixture(scope="module")
def built() -> Path:
    """``dist/nap-desktop``, built now unless a build newer than every source is there."""
    if CLI.is_file() and GUI.is_file() and CLI.stat().st_mtime > _newest_input():
        return DIST
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        missing_peer("PyInstaller is not installed (pip install -e '.[build]'; make test installs it)")
    done = subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN", str(ROOT / "build.spec")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert CLI.is_file() and GUI.is_file()
    return DIST


def _clean_env(tmp_path: Path) -> dict[str, str]:
    """No virtual environment, no Python path, no display; home and data folders in tmp_path."""
    env = {
        "PATH": os.defpath,
        "HOME": str(tmp_path / "home"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "TMPDIR": str(tmp_path / "tmp"),
        "QT_QPA_PLATFORM": "offscreen",
        "LANG": "C.UTF-8",
    }
    if sys.platform == "win32":  # NOTE: Windows programs need these to start at all
        for key in ("SYSTEMROOT", "WINDIR", "TEMP", "TMP", "APPDATA", "LOCALAPPDATA", "USERPROFILE"):
            if key in os.environ:
                env[key] = os.environ[key]
    for key in ("HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME", "TMPDIR"):
        Path(env[key]).mkdir(parents=True, exist_ok=True)
    return env


def test_the_built_program_reports_its_version(built: Path, tmp_path: Path) -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["version"]
    done = subprocess.run([str(CLI), "--version"], env=_clean_env(tmp_path), capture_output=True, text=True, timeout=120, check=False)
    assert (done.returncode, done.stdout.strip()) == (0, f"nap-desktop {version}"), done.stderr


def test_the_built_program_passes_its_selftest_offscreen(built: Path, tmp_path: Path) -> None:
    done = subprocess.run([str(CLI), "selftest"], env=_clean_env(tmp_path), capture_output=True, text=True, timeout=1800, check=False)
    lines = done.stdout.splitlines()
    assert done.returncode == 0, done.stdout + done.stderr
    steps = [line.split()[1] for line in lines if line.startswith("ok  ")]
    assert steps == [
        "create-workspace", "write-records", "read-records", "compute-indicators", "render-pdf", "render-xlsx",
        "backup", "restore", "sync-bundle", "audit-chain",
    ], done.stdout
    assert list((tmp_path / "tmp").iterdir()) == []  # the temporary workspaces are gone


def test_the_build_holds_every_resource_and_migration_and_no_unused_qt(built: Path) -> None:
    internal = built / "_internal"
    res = internal / "resources"
    for rel in ("framework.toml", "units.toml", "i18n/ur.json", "fonts/NotoNaskhArabic-Regular.ttf", "icons/nap-desktop.png"):
        assert (res / rel).is_file(), rel
    assert sorted(p.name for p in (res / "codelists").glob("*.toml")) == sorted(p.name for p in (ROOT / "resources" / "codelists").glob("*.toml"))
    versions = ROOT / "nap_desktop" / "data" / "migrations" / "versions"
    assert sorted(p.name for p in (internal / "nap_desktop" / "data" / "migrations" / "versions").glob("*.py")) == sorted(
        p.name for p in versions.glob("[0-9]*.py")
    )
    names = {p.name for p in internal.rglob("*")}
    for unused in ("QtQml", "QtQuick", "QtWebEngineCore", "Qt3DCore", "QtMultimedia", "QtPdf"):
        assert not any(unused in n for n in names), unused
    assert not any(n.startswith(("pytest", "_pytest", "hypothesis")) for n in names)


def test_the_built_desktop_app_starts_offscreen(built: Path, tmp_path: Path) -> None:
    """The windowed program loads Qt and its plugins and stays up on the first-run screen."""
    env = _clean_env(tmp_path)
    proc = subprocess.Popen([str(GUI), "--workspace", str(tmp_path / "new-workspace")], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        assert proc.poll() is None, proc.communicate(timeout=10)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)
    assert not (tmp_path / "new-workspace" / "workspace.json").exists()  # nothing is made before the wizard finishes


def test_no_leftover_build_folder_is_needed_to_run(built: Path, tmp_path: Path) -> None:
    """The folder is self-contained: a copy elsewhere runs as well (what a USB install does)."""
    copy = tmp_path / "usb" / "nap-desktop"
    shutil.copytree(built, copy, symlinks=True)
    done = subprocess.run([str(copy / CLI.name), "codelist", "list"], env=_clean_env(tmp_path), capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "sex" in done.stdout and "exploitation_type" in done.stdout
