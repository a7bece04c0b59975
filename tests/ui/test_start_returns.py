# SPDX-License-Identifier: GPL-3.0-or-later
"""The start page tells a circle head which recent monthly returns are still to be submitted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nap_desktop.reports import returns
from tests.ui.test_backup_ui import _main


def test_the_start_page_lists_returns_due_and_drops_them_once_submitted(qtbot: Any, circle_path: Path, open_ws: Any) -> None:
    ws = open_ws(circle_path, "head")
    due = returns.due_returns(ws)
    assert len(due) == 3 and all(d.state == "missing" for d in due)
    main = _main(qtbot, ws)
    label = main.start_page.info["returns"]
    qtbot.waitUntil(lambda: label.text() != "…")
    for d in due:
        assert f"{d.month} (missing)" in label.text()
    assert ("overdue since" in label.text()) == any(d.overdue for d in due)

    for d in due:
        returns.compile_return(ws, "C-PSH", d.month)
        returns.submit_return(ws, "C-PSH", d.month)
    main.start_page.refresh()
    qtbot.waitUntil(lambda: label.text().startswith("None"))
    assert label.text() == "None: every recent return is submitted."
