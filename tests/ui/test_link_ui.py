# SPDX-License-Identifier: GPL-3.0-or-later
"""Connection to HQ in the GUI: a field laptop's administrator sets HQ's server address, the check
interval and the proxy on the sync screen; what HQ's field settings set is shown read-only; the
sync indicator and the idle lock follow new settings without a new sign-in.

Sites come from tests/sync/conftest.py (HQ, the Peshawar circle and its Torkham post, enrolled).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from nap_desktop.services import field_config, link, sync
from nap_desktop.sync.client import Backoff, SyncReport, SyncState
from nap_desktop.ui import i18n, sync_status
from nap_desktop.ui.controller import AppController
from nap_desktop.ui.link_dialog import LinkDialog
from nap_desktop.ui.main_window import MainWindow
from nap_desktop.ui.session import SessionRef
from nap_desktop.ui.settings_dialog import SettingsDialog
from nap_desktop.ui.sync_dialogs import ImportDialog
from nap_desktop.ui.sync_view import SyncView
from tests.conftest import ADMIN, ADMIN_PW, PASSWORDS
from tests.pgcluster import free_port
from tests.sync.conftest import Network, enrolled, network  # noqa: F401 - fixtures
from tests.services.records_factories import create
from tests.ui.helpers import click_box, closed, network_threads, sync_view_for, wait_idle
from tests.ui.test_i18n import english_left, visible_texts

OLD = "https://hq-old.fia.example:8443"
NEW = "https://hq.fia.example:8443"
BAD_ADDRESS_EN = "The HQ server address must look like https://hq.example:8443 (no path)."
BAD_ADDRESS_UR = "\u200fہیڈکوارٹر کے سرور کا پتہ https://hq.example:8443 کی طرح ہو (کوئی راستہ نہیں)۔"


@pytest.fixture(autouse=True)
def _windows_close_before_the_sites_lock(network: Network, qapp: QApplication, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Windows, their workers and any automatic sync end while the sites' workspaces are still open."""
    from nap_desktop.ui import workers

    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(sync_status, "BACKOFF", Backoff(base_s=0.3, max_s=1.0))
    yield
    for w in QApplication.topLevelWidgets():
        w.close()
    for key in list(sync_status._running):  # noqa: SLF001
        sync_status._running.pop(key).stop()  # noqa: SLF001
    for _ in range(3):
        qapp.processEvents()
        workers.wait_for_workers(30_000)
    qapp.processEvents()


view_for = sync_view_for


def open_link_dialog(qtbot: Any, view: SyncView) -> LinkDialog:
    qtbot.mouseClick(view.link_button, Qt.MouseButton.LeftButton)
    dlg = view.dialog
    assert isinstance(dlg, LinkDialog) and dlg.isVisible()
    return dlg


def type_into(qtbot: Any, edit: Any, text: str) -> None:
    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key.Key_Delete)
    qtbot.keyClicks(edit, text)


def save(qtbot: Any, dlg: LinkDialog) -> None:
    qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot)


POST_ID: dict[Path, str] = {}  # the post's workspace id by path (its store may be locked when HQ publishes)


def hq_publishes(net: Network, out: Path, **values: object) -> Path:
    """HQ publishes field settings; the post's config bundle (for a USB stick) is returned."""
    post_id = POST_ID.get(net.post.path) or net.post.ws.workspace_id
    field_config.set_field_config(net.hq.ws, **values)
    result = field_config.publish_field_config(net.hq.ws, out)
    (path,) = [p for p in result.paths if p.name.endswith(f"-{post_id[:8]}.napb")]
    return path


def test_the_administrator_sees_the_connection_and_changes_it(qtbot: Any, enrolled: Network) -> None:
    link.set_settings(enrolled.post.ws, server_url=OLD, interval_minutes=20, proxy="http://proxy.torkham:3128")
    view = view_for(qtbot, enrolled.post.ws)
    assert view.info["server"].text() == OLD
    assert view.info["interval"].text() == "20 minutes"
    assert view.info["proxy"].text() == "http://proxy.torkham:3128"
    assert view.link_button.isVisible() and view.link_button.isEnabled() and view.link_button.text() == "Connection to HQ…"

    dlg = open_link_dialog(qtbot, view)
    assert dlg.windowTitle() == "Connection to HQ"
    assert dlg.server_edit.text() == OLD and not dlg.server_edit.isReadOnly()
    assert dlg.interval_spin.value() == 20 and not dlg.interval_spin.isReadOnly()
    assert not dlg.no_proxy.isChecked() and dlg.proxy_edit.isEnabled() and dlg.proxy_edit.text() == "http://proxy.torkham:3128"
    assert not any(n.isVisible() for n in dlg.notes.values()), "HQ sets none of them here"
    type_into(qtbot, dlg.server_edit, NEW)
    dlg.interval_spin.setValue(30)
    click_box(qtbot, dlg.no_proxy)
    assert not dlg.proxy_edit.isEnabled()
    save(qtbot, dlg)

    assert closed(dlg)
    stored = link.get_settings(enrolled.post.ws)
    assert (stored.server_url, stored.interval_minutes, stored.proxy) == (NEW, 30, "")
    assert view.info["server"].text() == NEW
    assert view.info["interval"].text() == "30 minutes"
    assert view.info["proxy"].text() == "none (connects directly)"
    assert view.banner.text() == f"Connection to HQ saved. This laptop sends its bundles to:\n{NEW}"


def test_a_proxy_with_a_password_is_shown_without_it(qtbot: Any, enrolled: Network) -> None:
    link.set_settings(enrolled.post.ws, proxy="http://fia:s3cret@proxy.torkham:3128")
    view = view_for(qtbot, enrolled.post.as_("off.torkham"))
    assert view.info["proxy"].text() == "http://proxy.torkham:3128"
    assert view.info["server"].text() == "not set: this laptop syncs by USB stick only"


def test_a_bad_address_shows_under_its_field_and_nothing_changes(qtbot: Any, enrolled: Network) -> None:
    link.set_settings(enrolled.post.ws, server_url=OLD)
    view = view_for(qtbot, enrolled.post.ws)
    dlg = open_link_dialog(qtbot, view)
    type_into(qtbot, dlg.server_edit, "ftp://hq.fia.example/intake")
    save(qtbot, dlg)
    assert dlg.isVisible(), "the dialog stays open for the correction"
    assert dlg.errors["server_url"].isVisible() and dlg.errors["server_url"].text() == BAD_ADDRESS_EN
    assert dlg.banner.text() == "Nothing was saved. Please correct the marked fields."
    assert link.get_settings(enrolled.post.ws).server_url == OLD
    click_box(qtbot, dlg.no_proxy)
    type_into(qtbot, dlg.server_edit, NEW)
    type_into(qtbot, dlg.proxy_edit, "proxy.torkham")
    save(qtbot, dlg)
    assert not dlg.errors["server_url"].isVisible()
    assert dlg.errors["proxy"].isVisible() and dlg.errors["proxy"].text() == "The proxy must look like http://proxy.example:3128."
    assert (link.get_settings(enrolled.post.ws).server_url, link.get_settings(enrolled.post.ws).proxy) == (OLD, ""), "nothing changed"
    type_into(qtbot, dlg.server_edit, "hq.fia.example")
    save(qtbot, dlg)
    assert dlg.errors["server_url"].text() == BAD_ADDRESS_EN and dlg.errors["proxy"].isVisible(), "every bad field is marked at once"
    assert link.get_settings(enrolled.post.ws).server_url == OLD
    dlg.reject()
    assert view.info["server"].text() == OLD

    i18n.set_language("ur")
    view = view_for(qtbot, enrolled.post.ws)
    dlg = open_link_dialog(qtbot, view)
    assert dlg.layoutDirection() == Qt.LayoutDirection.RightToLeft
    assert dlg.server_edit.layoutDirection() == Qt.LayoutDirection.LeftToRight, "an address reads left to right"
    type_into(qtbot, dlg.server_edit, "ftp://hq.fia.example/intake")
    save(qtbot, dlg)
    assert dlg.errors["server_url"].text() == BAD_ADDRESS_UR
    assert dlg.banner.text() == "\u200fکچھ محفوظ نہیں ہوا۔ براہ کرم نشان زدہ خانے درست کریں۔"
    assert link.get_settings(enrolled.post.ws).server_url == OLD
    assert english_left(visible_texts(dlg), {BAD_ADDRESS_UR, "https://hq.example:8443", "http://proxy.example:3128"}) == []
    assert i18n.missing_translations() == set()


def test_what_hq_sets_is_read_only_with_the_note(qtbot: Any, enrolled: Network, tmp_path: Path) -> None:
    link.set_settings(enrolled.post.ws, server_url=OLD)
    assert sync.import_bundle(enrolled.post.ws, hq_publishes(enrolled, tmp_path / "usb", server_url=NEW, sync_interval_minutes=45)).outcome == "applied"
    view = view_for(qtbot, enrolled.post.ws)
    assert view.info["server"].text() == f"{NEW} · Set by HQ (version 1)"
    assert view.info["interval"].text() == "45 minutes · Set by HQ (version 1)"
    dlg = open_link_dialog(qtbot, view)
    assert dlg.server_edit.text() == NEW and dlg.server_edit.isReadOnly()
    assert dlg.interval_spin.value() == 45 and dlg.interval_spin.isReadOnly()
    assert dlg.notes["server_url"].isVisible() and dlg.notes["server_url"].text() == "Set by HQ (version 1)"
    assert dlg.notes["interval_minutes"].isVisible() and dlg.notes["interval_minutes"].text() == "Set by HQ (version 1)"
    assert dlg.server_edit.toolTip() == "HQ decides this for every field laptop; ask HQ to change it."
    assert not dlg.notes["proxy"].isVisible()
    click_box(qtbot, dlg.no_proxy)  # the proxy stays the laptop's own
    type_into(qtbot, dlg.proxy_edit, "http://proxy.torkham:3128")
    save(qtbot, dlg)
    assert closed(dlg)
    stored = link.get_settings(enrolled.post.ws)
    assert (stored.server_url, stored.interval_minutes, stored.proxy) == (NEW, 45, "http://proxy.torkham:3128")
    assert view.info["proxy"].text() == "http://proxy.torkham:3128"

    i18n.set_language("ur")
    view = view_for(qtbot, enrolled.post.ws)
    dlg = open_link_dialog(qtbot, view)
    assert dlg.notes["server_url"].text() == "\u200fہیڈکوارٹر نے طے کیا ہے (ورژن 1)"
    assert view.info["server"].text() == f"\u200f\u2066{NEW}\u2069 · ہیڈکوارٹر نے طے کیا ہے (ورژن 1)"


def test_settings_hq_sends_while_the_dialog_is_open_are_refused_under_the_field(qtbot: Any, enrolled: Network, tmp_path: Path) -> None:
    link.set_settings(enrolled.post.ws, server_url=OLD)
    view = view_for(qtbot, enrolled.post.ws)
    dlg = open_link_dialog(qtbot, view)
    sync.import_bundle(enrolled.post.ws, hq_publishes(enrolled, tmp_path / "usb", server_url=NEW))
    type_into(qtbot, dlg.server_edit, "https://elsewhere.example")
    save(qtbot, dlg)
    assert dlg.isVisible()
    assert dlg.errors["server_url"].text() == "HQ sets the HQ server address for every field laptop (field settings version 1); ask HQ to change it."
    assert link.get_settings(enrolled.post.ws).server_url == NEW


def test_the_action_is_for_field_administrators_only(qtbot: Any, enrolled: Network) -> None:
    link.set_settings(enrolled.post.ws, server_url=OLD)
    officer = view_for(qtbot, enrolled.post.as_("off.torkham"))
    assert not officer.link_button.isVisible()
    assert officer.edit_link() is None and officer.dialog is None
    assert officer.info["server"].text() == OLD, "an officer sees where the bundles go"
    hq = view_for(qtbot, enrolled.hq.ws)
    assert not hq.link_button.isVisible() and "server" not in hq.info, "HQ runs the intake server; it has no link to HQ"


def import_through_the_screen(qtbot: Any, view: SyncView, path: Path) -> None:
    """Import… on the sync screen: the check, then Import."""
    dlg = view.import_files([path])
    assert isinstance(dlg, ImportDialog)
    wait_idle(qtbot)
    qtbot.mouseClick(dlg.import_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot)
    assert dlg.applied, dlg.banner.text()
    dlg.close()


def test_the_sync_indicator_follows_the_address_hq_sends_at_once(qtbot: Any, enrolled: Network, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The officer's running app: HQ's field settings set the address; the indicator uses it without waiting."""
    monkeypatch.setattr(sync_status, "BACKOFF", Backoff(base_s=600.0, max_s=600.0, jitter=0.0))  # after a failure: the next try in 10 min
    main = MainWindow(SessionRef(enrolled.post.as_("off.torkham")))
    qtbot.addWidget(main)
    main.show()
    widget = main.sync_status
    assert widget.isVisible() and widget.label.text() == "Sync: not set up"
    assert widget.label.toolTip() == "No HQ server address is set. An administrator sets it on the Sync screen with the Connection to HQ… button."
    assert widget.auto is None
    view = main.show_sync()
    wait_idle(qtbot)
    first = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    import_through_the_screen(qtbot, view, hq_publishes(enrolled, tmp_path / "v1", server_url=first))
    assert widget.auto is not None, "the automatic sync starts without waiting for the next check"
    qtbot.waitUntil(lambda: "not reachable" in widget.label.text(), timeout=30_000)
    assert widget.label.text() == "Sync: HQ not reachable; next try in 10 min"
    assert f"HQ server: {first}" in widget.label.toolTip()
    assert widget.auto.runs == 1
    assert view.info["server"].text() == f"{first} · Set by HQ (version 1)"

    second = f"http://127.0.0.1:{free_port()}"
    import_through_the_screen(qtbot, view, hq_publishes(enrolled, tmp_path / "v2", server_url=second))
    assert f"HQ server: {second}" in widget.label.toolTip()
    qtbot.waitUntil(lambda: widget.auto.runs == 2, timeout=30_000)  # tried at once, not after 10 min
    assert view.info["server"].text() == f"{second} · Set by HQ (version 2)"


@pytest.fixture
def sign_in(qtbot: Any, enrolled: Network) -> Any:
    """Signs a post account in through the application controller (with a stepped clock)."""
    made: list[AppController] = []

    class Clock:
        now = 1_000_000.0

        def __call__(self) -> float:
            return self.now

    def _sign_in(user: str, password: str) -> AppController:
        POST_ID[enrolled.post.path] = enrolled.post.ws.workspace_id
        enrolled.post.ws.lock()  # one unlocked store per workspace: the app signs in instead
        clock = Clock()
        c = AppController(enrolled.post.path, user=user, clock=clock)
        made.append(c)
        c.test_clock = clock  # type: ignore[attr-defined]
        c.start()
        c.login.password_edit.clear()
        qtbot.keyClicks(c.login.password_edit, password)
        qtbot.keyClick(c.login.password_edit, Qt.Key.Key_Return)
        wait_idle(qtbot)
        assert c.main is not None and c.main.isVisible() and c.idle.limit_s == 10 * 60
        return c

    yield _sign_in
    for c in made:
        c.shutdown()
        QApplication.instance().removeEventFilter(c.idle)
    POST_ID.pop(enrolled.post.path, None)


def locks_after(qtbot: Any, c: Any, minutes: int) -> bool:
    """Whether the running app locks after ``minutes`` without input, and not before."""
    wait_idle(qtbot)  # (a running operation postpones the idle lock)
    c.idle.start()
    c.test_clock.now += minutes * 60 - 5
    c.idle.check()
    if c.is_locked:
        return False
    c.test_clock.now += 6
    c.idle.check()
    return c.is_locked


def test_the_idle_lock_follows_hqs_settings_imported_from_a_usb_stick(qtbot: Any, enrolled: Network, sign_in: Any, tmp_path: Path) -> None:
    c = sign_in("off.torkham", PASSWORDS["officer"])
    view = c.main.show_sync()
    wait_idle(qtbot)
    import_through_the_screen(qtbot, view, hq_publishes(enrolled, tmp_path / "usb", idle_lock_minutes=3))
    assert c.idle.limit_s == 3 * 60
    assert locks_after(qtbot, c, 3) and c.login.locked_mode


def test_the_idle_lock_follows_hqs_settings_an_automatic_sync_pulled(qtbot: Any, enrolled: Network, sign_in: Any, tmp_path: Path) -> None:
    c = sign_in("off.torkham", PASSWORDS["officer"])
    widget = c.main.sync_status
    # HQ's config bundle applied on AutoSync's thread (as a pickup does); the indicator sees its report
    assert sync.import_bundle(c.ref.ws, hq_publishes(enrolled, tmp_path / "pull", idle_lock_minutes=4)).outcome == "applied"
    assert c.idle.limit_s == 10 * 60, "not read yet: the app learns of it from the sync's report"

    class Pulled:
        running = True
        state = SyncState(state="ok", message="0 bundle(s) sent; 0 acknowledged by HQ; HQ's field settings applied.", report=SyncReport(config_updated=True))

        def status(self) -> SyncState:
            return self.state

    widget.auto = Pulled()  # type: ignore[assignment]
    widget.refresh()
    assert "up to date" in widget.label.text()
    assert c.idle.limit_s == 4 * 60
    assert locks_after(qtbot, c, 4)


def test_an_open_sync_screen_shows_what_an_automatic_sync_sent(qtbot: Any, enrolled: Network, sign_in: Any, tmp_path: Path) -> None:
    c = sign_in("off.torkham", PASSWORDS["officer"])
    view = c.main.show_sync()
    wait_idle(qtbot)
    before = len(view.bundle_model.rows())
    widget = c.main.sync_status
    create(c.ref.ws, "person")
    sent = sync.export_changes(c.ref.ws, tmp_path / "pushed")  # what AutoSync does on its thread before pushing

    class Pushed:
        running = True
        state = SyncState(state="ok", message="1 bundle(s) sent; 0 acknowledged by HQ.", report=SyncReport(exported_records=1, pushed=1))

        def status(self) -> SyncState:
            return self.state

    widget.auto = Pushed()  # type: ignore[assignment]
    widget.refresh()
    wait_idle(qtbot)
    rows = view.bundle_model.rows()
    assert len(rows) == before + 1, "the History tab shows the bundle the automatic sync sent, without pressing Refresh"
    assert (view.bundle_model.index(0, 0).data(), view.bundle_model.index(0, 4).data()) == ("Sent", "Sent, awaiting HQ's receipt")
    assert rows[0].bundle_id == sent.bundle_id
    with qtbot.assertNotEmitted(c.ref.synced):
        widget.refresh()  # the same report again: nothing new, no second reload


def test_the_administrator_tests_the_connection_before_saving_it(qtbot: Any, enrolled: Network, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from nap_desktop.sync import client as client_module
    from nap_desktop.sync.server import ServerConfig, serve

    calls = network_threads(monkeypatch)  # True: the network was used on the GUI thread
    view = view_for(qtbot, enrolled.post.ws)
    dlg = open_link_dialog(qtbot, view)
    assert dlg.test_button.text() == "Test connection" and dlg.test_button.isEnabled()
    qtbot.mouseClick(dlg.test_button, Qt.MouseButton.LeftButton)
    assert dlg.errors["server_url"].text() == "Type HQ's server address first." and not calls

    port = free_port()
    type_into(qtbot, dlg.server_edit, f"http://127.0.0.1:{port}")  # nothing listens there yet
    qtbot.mouseClick(dlg.test_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot)
    assert dlg.banner.kind == "error"
    assert dlg.banner.text().startswith("This laptop cannot reach HQ's server with these settings.\nHQ's server cannot be reached (connection refused).")

    stop = threading.Event()
    server = threading.Thread(target=serve, args=(enrolled.hq.as_("ana.hq"), ServerConfig(port=port)), kwargs={"stop": stop}, daemon=True)
    server.start()
    try:
        qtbot.waitUntil(lambda: client_module.check_connection(link.LinkSettings(server_url=f"http://127.0.0.1:{port}")).ok, timeout=60_000)
        calls.clear()
        qtbot.mouseClick(dlg.test_button, Qt.MouseButton.LeftButton)
        wait_idle(qtbot)
        assert (dlg.banner.kind, dlg.banner.text()) == ("ok", "HQ's server answered and accepts this laptop: it can send its bundles.")
        assert calls == [False, False], "the health check and the signed request ran off the GUI thread"
        assert dlg.isVisible() and link.get_settings(enrolled.post.ws).server_url == "", "testing saves nothing"
        i18n.set_language("ur")
        dlg.test_connection()
        wait_idle(qtbot)
        assert dlg.banner.text() == "\u200fہیڈکوارٹر کے سرور نے جواب دیا اور اس لیپ ٹاپ کو قبول کرتا ہے: یہ اپنے بنڈل بھیج سکتا ہے۔"
    finally:
        i18n.set_language("en")
        stop.set()
        server.join(60)


def test_the_indicator_waits_for_the_enrolment_and_tries_at_once_when_it_is_accepted(qtbot: Any, network: Network) -> None:
    link.set_settings(network.post.ws, server_url=f"http://127.0.0.1:{free_port()}")  # nothing listens there
    main = MainWindow(SessionRef(network.post.as_("off.torkham")))
    qtbot.addWidget(main)
    main.show()
    widget = main.sync_status
    qtbot.waitUntil(lambda: widget.auto is not None and widget.auto.status().state == "not_enrolled", timeout=30_000)
    widget.refresh()
    assert widget.label.text() == "Sync: waiting for enrolment with HQ", "not 'a problem': nothing is wrong, a step is missing"
    assert "make an enrolment request (Sync screen ▸ Make enrolment request…)" in widget.label.toolTip()
    assert widget.auto.status().failures == 0 and widget.auto.status().next_attempt_in_s is None
    runs = widget.auto.runs
    network.enrol(network.post)  # HQ's answer accepted on this laptop
    main.ref.settings_changed.emit()  # what accepting it on the sync screen emits
    qtbot.waitUntil(lambda: widget.auto.runs > runs and widget.auto.status().state == "offline", timeout=30_000)
    widget.refresh()
    assert "HQ not reachable" in widget.label.text(), "enrolled now: it went ahead at once and found HQ's server down"


def test_the_idle_lock_follows_the_administrators_change_at_once(qtbot: Any, sign_in: Any) -> None:
    c = sign_in(ADMIN, ADMIN_PW)
    dlg = SettingsDialog(c.ref, parent=c.main)
    dlg.show()
    dlg.idle_spin.setValue(2)
    with qtbot.waitSignal(dlg.accepted, timeout=20_000):
        qtbot.mouseClick(dlg._ok, Qt.MouseButton.LeftButton)  # noqa: SLF001
    assert c.idle.limit_s == 2 * 60
    assert locks_after(qtbot, c, 2)
