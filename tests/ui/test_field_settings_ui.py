# SPDX-License-Identifier: GPL-3.0-or-later
"""HQ's field settings in the GUI: HQ's administrator edits and publishes them in the settings
dialog; on a field laptop that took them, the editors of what HQ set are disabled with a note.

Sites come from tests/sync/conftest.py (HQ, the Peshawar circle and its Torkham post, enrolled).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from nap_desktop.services import field_config, settings, sync
from nap_desktop.ui import i18n
from nap_desktop.ui.session import SessionRef
from nap_desktop.ui.settings_dialog import SettingsDialog
from nap_desktop.ui.sync_view import SyncView
from tests.sync.conftest import Network, enrolled, network  # noqa: F401 - fixtures
from tests.ui.helpers import close_all_windows, sync_view_for, click_box, wait_idle
from tests.ui.test_i18n import english_left, visible_texts


@pytest.fixture(autouse=True)
def _windows_close_before_the_sites_lock(network: Network, qapp: QApplication) -> Any:
    """Windows and their workers end while the sites' workspaces are still open."""
    yield
    close_all_windows(qapp)


def hq_publishes(net: Network, out: Path, **values: object) -> field_config.PublishResult:
    field_config.set_field_config(net.hq.ws, **values)
    return field_config.publish_field_config(net.hq.ws, out)


def take(net: Network, result: field_config.PublishResult) -> None:
    """The post imports its config bundle (as from a USB stick)."""
    (path,) = [p for p in result.paths if p.name.endswith(f"-{net.post.ws.workspace_id[:8]}.napb")]
    assert sync.import_bundle(net.post.ws, path).outcome == "applied"


def settings_dialog(qtbot: Any, ws: Any) -> SettingsDialog:
    dlg = SettingsDialog(SessionRef(ws))
    qtbot.addWidget(dlg)
    dlg.show()
    return dlg


def test_a_field_laptop_shows_what_hq_set_as_not_editable(qtbot: Any, enrolled: Network, tmp_path: Path) -> None:
    take(enrolled, hq_publishes(enrolled, tmp_path / "usb", retention_days=45, idle_lock_minutes=5))
    dlg = settings_dialog(qtbot, enrolled.post.ws)
    assert dlg.idle_spin.value() == 5 and not dlg.idle_spin.isEnabled()
    assert dlg.idle_note.isVisible() and dlg.idle_note.text() == "Set by HQ (version 1)"
    assert dlg.tabs is None, "no field settings page on a field laptop"
    view = SyncView(SessionRef(enrolled.post.ws))
    qtbot.addWidget(view)
    view.resize(1200, 760)
    view.show()
    view.refresh()
    wait_idle(qtbot)
    assert view.info["retention"].text() == "45 days"
    assert view.retention_button.isVisible() and not view.retention_button.isEnabled()
    assert view.retention_note.isVisible() and view.retention_note.text() == "Set by HQ (version 1)"
    assert view.retention_button.toolTip() == "HQ decides this for every field laptop; ask HQ to change it."

    i18n.set_language("ur")
    dlg = settings_dialog(qtbot, enrolled.post.ws)
    assert dlg.idle_note.text() == "\u200fہیڈکوارٹر نے طے کیا ہے (ورژن 1)" and not dlg.idle_spin.isEnabled()
    assert english_left(visible_texts(dlg), {"admin", "English"}) == []


def test_a_setting_hq_left_out_stays_editable_on_the_laptop(qtbot: Any, enrolled: Network, tmp_path: Path) -> None:
    take(enrolled, hq_publishes(enrolled, tmp_path / "v1", idle_lock_minutes=5))
    field_config.set_field_config(enrolled.hq.ws, retention_days=60, clear=("idle_lock_minutes",))
    take(enrolled, field_config.publish_field_config(enrolled.hq.ws, tmp_path / "v2"))
    dlg = settings_dialog(qtbot, enrolled.post.ws)
    assert dlg.idle_spin.isEnabled() and not dlg.idle_note.isVisible()
    dlg.idle_spin.setValue(7)
    with qtbot.waitSignal(dlg.accepted, timeout=20_000):
        qtbot.mouseClick(dlg.findChild(type(dlg._ok), "saveSettings"), Qt.MouseButton.LeftButton)
    assert settings.idle_lock_minutes(enrolled.post.ws) == 7
    view = SyncView(SessionRef(enrolled.post.ws))
    qtbot.addWidget(view)
    view.show()
    view.refresh()
    wait_idle(qtbot)
    assert not view.retention_button.isEnabled() and view.retention_note.text() == "Set by HQ (version 2)"


def test_a_refused_change_shows_hqs_message(qtbot: Any, enrolled: Network, tmp_path: Path, shown_boxes: list[Any]) -> None:
    """HQ's settings arrive while the sync screen is open: the change is refused with HQ's reason."""
    view = SyncView(SessionRef(enrolled.post.ws))
    qtbot.addWidget(view)
    view.show()
    view.refresh()
    wait_idle(qtbot)
    assert view.retention_button.isEnabled() and not view.retention_note.isVisible()
    take(enrolled, hq_publishes(enrolled, tmp_path / "usb", retention_days=45))
    view.change_retention(90)
    wait_idle(qtbot)
    assert [b.text() for b in shown_boxes] == [
        "HQ sets how many days personal data stays after HQ's receipt on every field laptop (field settings version 1); ask HQ to change it."
    ]
    assert view.info["retention"].text() == "45 days" and view.retention_note.text() == "Set by HQ (version 1)"
    assert sync.sync_status(enrolled.post.ws).retention_days == 45


def test_hq_saves_a_draft_and_publishes_it_for_every_device(qtbot: Any, enrolled: Network, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dlg = settings_dialog(qtbot, enrolled.hq.ws)
    assert dlg.tabs is not None and dlg.tabs.tabText(1) == "Field settings"
    dlg.tabs.setCurrentIndex(1)
    page = dlg.field_page
    assert page is not None and page.isVisible()
    assert page.published_label.text() == "Published: nothing yet. Devices keep their own settings."
    assert page.draft_note.text() == "The draft sets nothing yet."
    assert all(e.leave.isChecked() and not e.value_widget.isEnabled() for e in page.editors.values())

    retention, idle = page.editors["retention_days"], page.editors["idle_lock_minutes"]
    click_box(qtbot, retention.leave)
    assert retention.value_widget.isEnabled()
    retention.spin.setValue(45)  # type: ignore[union-attr]
    click_box(qtbot, idle.leave)
    idle.spin.setValue(5)  # type: ignore[union-attr]
    qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot)
    assert page.banner.text() == "Draft saved. Devices get it once it is published."
    assert page.draft_note.text() == "The saved draft differs from the published version: publish it to send it to the devices."
    assert field_config.get_field_config(enrolled.hq.ws).draft == field_config.FieldSettings(retention_days=45, idle_lock_minutes=5)
    assert field_config.get_field_config(enrolled.hq.ws).published is None

    asked: list[str] = []
    monkeypatch.setattr(page, "ask", lambda title, _text: asked.append(title) or True)
    usb = tmp_path / "config-out"
    page.publish(usb)
    wait_idle(qtbot)
    bundles = sorted(usb.glob("config-v1-*.napb"))
    assert len(bundles) == 2, "one for the circle, one for the post"
    assert asked == ["Publish the field settings"]
    assert page.banner.kind == "ok"
    assert page.banner.text().startswith(f"Published version 1: 2 config bundle(s) written to:\n{usb}\n")
    assert page.published_label.text().startswith("Published: version 1, ")
    assert page.published_values["retention_days"].text() == "45 days"
    assert page.published_values["idle_lock_minutes"].text() == "5 minutes"
    assert page.published_values["server_url"].text() == "each device's own"
    assert page.draft_note.text() == "The saved draft is the published version."
    take(enrolled, page.last_result)  # type: ignore[arg-type]
    assert settings.idle_lock_minutes(enrolled.post.ws) == 5 and sync.sync_status(enrolled.post.ws).retention_days == 45


def test_hq_sees_a_bad_value_under_its_field_and_nothing_is_saved(qtbot: Any, enrolled: Network, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dlg = settings_dialog(qtbot, enrolled.hq.ws)
    dlg.tabs.setCurrentIndex(1)  # type: ignore[union-attr]
    page = dlg.field_page
    assert page is not None
    server = page.editors["server_url"]
    click_box(qtbot, server.leave)
    qtbot.keyClicks(server.edit, "http://hq.example:8443")
    qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot)
    assert server.error.isVisible()
    assert server.error.text() == "The HQ server must be reached over https:// (plain http only on this computer, for tests)."
    assert page.banner.kind == "error" and page.banner.text() == "The draft was not saved. Please correct the marked fields."
    assert field_config.get_field_config(enrolled.hq.ws).draft == field_config.FieldSettings()

    monkeypatch.setattr(page, "ask", lambda _t, _x: True)
    page.publish(tmp_path / "out")  # the same address: nothing published either
    wait_idle(qtbot)
    assert server.error.isVisible() and page.banner.text() == "Nothing was published. Please correct the marked fields."
    assert not (tmp_path / "out").exists()

    i18n.set_language("ur")
    dlg = settings_dialog(qtbot, enrolled.hq.ws)
    dlg.tabs.setCurrentIndex(1)  # type: ignore[union-attr]
    page = dlg.field_page
    assert page is not None
    server = page.editors["server_url"]
    click_box(qtbot, server.leave)
    qtbot.keyClicks(server.edit, "https://hq.example/path")
    page.save_draft()
    wait_idle(qtbot)
    assert server.error.text() == "\u200fہیڈکوارٹر کے سرور کا پتہ https://hq.example:8443 کی طرح ہو (کوئی راستہ نہیں)۔"
    assert page.banner.text() == "\u200fمسودہ محفوظ نہیں ہوا۔ براہ کرم نشان زدہ خانے درست کریں۔"
    assert english_left(visible_texts(dlg), {"admin", "English", "https://hq.example/path", "https://hq.example:8443"}) == []
    assert i18n.missing_translations() == set()


def test_publishing_a_draft_that_sets_nothing_is_refused_on_the_page(qtbot: Any, enrolled: Network, tmp_path: Path) -> None:
    dlg = settings_dialog(qtbot, enrolled.hq.ws)
    page = dlg.field_page
    assert page is not None
    assert page.publish(tmp_path / "usb") is None
    assert page.banner.text() == "Set at least one setting before publishing; the draft leaves every setting to the devices."
    assert field_config.get_field_config(enrolled.hq.ws).published is None


def test_the_field_settings_page_is_for_hq_administrators_only(qtbot: Any, enrolled: Network) -> None:
    analyst = settings_dialog(qtbot, enrolled.hq.as_("ana.hq"))
    assert analyst.tabs is None and analyst.field_page is None
    circle = settings_dialog(qtbot, enrolled.circle.ws)
    assert circle.tabs is None and circle.field_page is None
    assert visible_texts(circle).count("Field settings") == 0
