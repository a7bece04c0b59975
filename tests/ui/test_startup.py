# SPDX-License-Identifier: GPL-3.0-or-later
"""Start-up: the sign-in window comes up before the data core is loaded, which then loads in the
background while the password is typed (the time is measured in bench/bench_gui.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = r"""
import sys
from pathlib import Path
from PySide6.QtWidgets import QApplication
app = QApplication([])
from nap_desktop.ui import i18n
from nap_desktop.ui.controller import AppController
i18n.set_language("en")
c = AppController(Path(sys.argv[1]), user="officer")
c.start()
app.processEvents()
heavy = ("sqlalchemy", "alembic", "reportlab", "openpyxl", "nap_desktop.reports.engine", "nap_desktop.services.workspace",
         "nap_desktop.data.record_models", "importlib.metadata", "cryptography", "pyrage", "nap_desktop.security.crypto")
print("visible", c.login is not None and c.login.isVisible(), c.login.user_combo.currentText())
print("before", ",".join(m for m in heavy if m in sys.modules))
from nap_desktop.ui import workers
c.login.repaint()  # the first paint starts the background load
import time
end = time.monotonic() + 60
while "nap_desktop.services.workspace" not in sys.modules or workers.busy():
    app.processEvents()
    time.sleep(0.01)
    if time.monotonic() > end:
        break
print("after", ",".join(m for m in heavy if m in sys.modules))
c.shutdown()
"""


def test_the_sign_in_window_shows_before_the_data_core_is_loaded(circle_path: Path, tmp_path: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "cfg"), XDG_STATE_HOME=str(tmp_path / "state"))
    out = subprocess.run([sys.executable, "-c", PROBE, str(circle_path)], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = dict(line.split(" ", 1) for line in out.stdout.splitlines() if " " in line)
    assert lines["visible"] == "True officer", "the sign-in window is up, with the account preselected"
    assert lines["before"] == "", f"loaded before the window was shown: {lines['before']}"
    loaded = lines["after"].split(",")
    for module in ("sqlalchemy", "alembic", "nap_desktop.services.workspace", "nap_desktop.data.record_models"):
        assert module in loaded, f"{module} was not loaded in the background"


def test_a_damaged_workspace_file_is_reported_by_the_sign_in_window(circle_path: Path) -> None:
    import pytest

    from nap_desktop.errors import WorkspaceCorrupt
    from nap_desktop.ui.login_dialog import LoginDialog

    (circle_path / "workspace.json").write_text('{"users": ', "utf-8")
    with pytest.raises(WorkspaceCorrupt, match="damaged"):
        LoginDialog(circle_path)
