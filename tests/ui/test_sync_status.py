# SPDX-License-Identifier: GPL-3.0-or-later
"""The sync indicator of the main window and "Sync now", against a real intake server on loopback."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from nap_desktop.services import link, sync
from nap_desktop.services.workspace import open_workspace
from nap_desktop.sync.client import Backoff
from nap_desktop.sync.server import ServerConfig, serve
from nap_desktop.ui import sync_status
from nap_desktop.ui.main_window import MainWindow
from nap_desktop.ui.session import SessionRef
from tests.hq.netutil import ANALYST, ANALYST_PW, make_net, wait_healthy
from tests.pgcluster import free_port
from tests.services.records_factories import create
from tests.ui.helpers import network_threads


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(var, raising=False)


def test_the_indicator_shows_hq_unreachable_then_syncs_on_sync_now(qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sync_status, "BACKOFF", Backoff(base_s=0.3, max_s=1.0))
    calls = network_threads(monkeypatch)  # True: the network was used on the GUI thread
    net = make_net(tmp_path, 1)
    port = free_port()
    link.set_settings(net.posts[0], server_url=f"http://127.0.0.1:{port}")  # nothing listens there yet
    officer = net.officers[0]
    create(officer, "person")
    main = MainWindow(SessionRef(officer))
    qtbot.addWidget(main)
    main.show()
    widget = main.sync_status
    assert widget.isVisible() and widget.button.text() == "Sync now"

    qtbot.mouseClick(widget.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "not reachable" in widget.label.text(), timeout=30_000)
    assert "cannot be reached" in widget.label.toolTip()

    hq = open_workspace(net.hq, ANALYST, ANALYST_PW)
    stop = threading.Event()
    server = threading.Thread(target=serve, args=(hq, ServerConfig(port=port, import_interval_s=0.3)), kwargs={"stop": stop}, daemon=True)
    server.start()
    try:
        wait_healthy(f"http://127.0.0.1:{port}", 60)
        last = [0.0]

        def acknowledged() -> bool:
            if time.monotonic() - last[0] > 1.5:  # press Sync now again until HQ's receipt is back
                last[0] = time.monotonic()
                qtbot.mouseClick(widget.button, Qt.MouseButton.LeftButton)
            return sync.sync_status(officer).unacknowledged == () and "up to date" in widget.label.text()

        qtbot.waitUntil(acknowledged, timeout=90_000)
        assert "acknowledged by HQ" in widget.label.toolTip()
    finally:
        stop.set()
        server.join(60)
        for w in QApplication.topLevelWidgets():
            w.close()
        if widget.auto is not None:
            widget.auto.stop()
        hq.lock()
        net.close()
    assert calls and not any(calls), "every request ran off the GUI thread"


def test_the_indicator_is_hidden_at_hq_and_says_not_set_up_without_an_address(qtbot: Any, tmp_path: Path) -> None:
    net = make_net(tmp_path, 1)
    try:
        officer = net.officers[0]
        main = MainWindow(SessionRef(officer))
        qtbot.addWidget(main)
        main.show()
        assert main.sync_status.isVisible() and main.sync_status.label.text() == "Sync: not set up"
        assert main.sync_status.auto is None  # nothing runs in the background without an address
        main.close()
        hq = open_workspace(net.hq, ANALYST, ANALYST_PW)
        try:
            hq_main = MainWindow(SessionRef(hq))
            qtbot.addWidget(hq_main)
            hq_main.show()
            assert not hq_main.sync_status.isVisible()
            hq_main.close()
        finally:
            hq.lock()
    finally:
        net.close()
