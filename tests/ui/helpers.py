# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers shared by the GUI tests."""

from __future__ import annotations

from typing import Any


def wait_idle(qtbot: Any, timeout: int = 20_000) -> None:
    """Waits until no background operation runs and their callbacks have been delivered."""
    from nap_desktop.ui import workers

    qtbot.waitUntil(lambda: not workers.busy(), timeout=timeout)


def wait_list(qtbot: Any, view: Any, timeout: int = 20_000) -> None:
    """Waits until a list view's model has loaded its first page."""
    qtbot.waitUntil(lambda: view.model.total is not None and not view.model.loading, timeout=timeout)
    wait_idle(qtbot, timeout)


def click_box(qtbot: Any, box: Any) -> None:
    """Clicks a check box or radio button on its indicator (its centre may lie past the text)."""
    from PySide6.QtCore import QPoint, Qt

    x = 8 if box.layoutDirection() == Qt.LayoutDirection.LeftToRight else box.width() - 8
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(x, box.height() // 2))


def closed(widget: Any) -> bool:
    """Whether a window was closed (forms delete themselves on close)."""
    import shiboken6

    return not shiboken6.isValid(widget) or not widget.isVisible()


def close_all_windows(qapp: Any) -> None:
    """Closes every top-level window and waits for the background work they started.

    For fixtures whose windows hold workspaces that the fixture closes next.
    """
    from PySide6.QtWidgets import QApplication

    from nap_desktop.ui import workers

    for w in QApplication.topLevelWidgets():
        w.close()
    for _ in range(3):
        qapp.processEvents()
        workers.wait_for_workers(30_000)
    qapp.processEvents()


def sync_view_for(qtbot: Any, ws: Any) -> Any:
    """The Sync screen of ``ws``, shown at 1200×760 and loaded."""
    from nap_desktop.ui.session import SessionRef
    from nap_desktop.ui.sync_view import SyncView

    view = SyncView(SessionRef(ws))
    qtbot.addWidget(view)
    view.resize(1200, 760)
    view.show()
    view.refresh()
    wait_idle(qtbot)
    assert view.loaded
    return view


def network_threads(monkeypatch: Any) -> list[bool]:
    """Records, for every request the sync client opens, whether it ran on the GUI thread (True)."""
    import threading

    from nap_desktop.sync import client as client_module

    calls: list[bool] = []
    real_open = client_module.HttpLink._open

    def spying_open(self: Any, req: Any) -> Any:
        calls.append(threading.current_thread() is threading.main_thread())
        return real_open(self, req)

    monkeypatch.setattr(client_module.HttpLink, "_open", spying_open)
    return calls
