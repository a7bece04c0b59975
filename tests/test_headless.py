# SPDX-License-Identifier: GPL-3.0-or-later
"""The core never loads Qt: the CLI, services and sync run on a machine without a display."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "nap_desktop"
CORE = ["nap_desktop.services", "nap_desktop.data", "nap_desktop.security", "nap_desktop.domain", "nap_desktop.cli"]


def test_importing_the_core_loads_no_pyside6_module() -> None:
    modules = [p.relative_to(PACKAGE.parent).with_suffix("").as_posix().replace("/", ".") for p in PACKAGE.rglob("*.py")]
    core = [
        m.removesuffix(".__init__")
        for m in modules
        if not m.startswith(("nap_desktop.ui", "nap_desktop.app")) and ".migrations." not in m and not m.endswith("__main__")
    ]
    code = (
        "import importlib, sys\n"
        f"for m in {core + CORE!r}: importlib.import_module(m)\n"
        "qt = sorted(m for m in sys.modules if m.startswith('PySide6'))\n"
        "print(len(sys.modules)); print(','.join(qt))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()
    assert int(out[0]) > 50  # the modules really were imported
    assert out[1] == "", f"the core imported Qt modules: {out[1]}"


def test_no_source_file_outside_ui_imports_pyside6() -> None:
    offenders = [
        str(p.relative_to(PACKAGE.parent))
        for p in PACKAGE.rglob("*.py")
        if not (p.is_relative_to(PACKAGE / "ui") or p == PACKAGE / "app.py")
        and re.search(r"^\s*(from|import)\s+PySide6", p.read_text("utf-8"), re.M)
    ]
    assert offenders == []
