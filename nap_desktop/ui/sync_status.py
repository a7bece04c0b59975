# SPDX-License-Identifier: GPL-3.0-or-later
"""The sync indicator of the status bar and its "Sync now" button (issue 7).

On a field workspace it runs :class:`nap_desktop.sync.client.AutoSync`: the network on AutoSync's
own thread, the store phases on the single writer pool (:func:`run_on_writer`), so the GUI thread
never waits for HQ and the store keeps one writer. The label is refreshed from AutoSync's state by
a timer; "Sync now" only wakes AutoSync. One AutoSync runs per unlocked workspace: a rebuilt main
window (language change) takes over the running one; a lock stops it (its next store step would
find the workspace locked anyway).

The tooltip names HQ's server address. When the link settings change (the administrator's
"Connection to HQ…" on the sync screen, or HQ's field settings arriving: ``SessionRef.settings_changed``)
the widget reads them again at once: it starts AutoSync once an address is set, and wakes a running
one so that a new address or interval counts now rather than after the old interval. An automatic
sync that applied HQ's field settings emits ``settings_changed`` itself (the idle lock re-reads its
minutes, the sync screen refreshes); any other finished run emits ``synced``, so that an open sync
screen shows the bundles it sent and the receipts it brought.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import QRunnable, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

from nap_desktop.security.permissions import Perm
from nap_desktop.sync.client import AutoSync, Backoff, SyncReport, SyncState
from nap_desktop.ui.i18n import ltr, tr
from nap_desktop.ui.session import SessionRef
from nap_desktop.ui.workers import writer_pool

T = TypeVar("T")

BACKOFF = Backoff()  # tests use a shorter one
_running: dict[int, AutoSync] = {}  # id() of the unlocked Workspace object -> its AutoSync


class _Call(QRunnable):
    def __init__(self, fn: Callable[[], Any]) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self.fn = fn
        self.done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:  # noqa: D102 - Qt virtual
        try:
            self.result = self.fn()
        except BaseException as exc:  # noqa: BLE001 - handed back to the calling thread
            self.error = exc
        finally:
            self.done.set()


def run_on_writer(fn: Callable[[], T]) -> T:
    """Runs ``fn`` on the GUI's single store writer and waits for it (never call on the GUI thread)."""
    call = _Call(fn)
    writer_pool().start(call)
    call.done.wait()
    if call.error is not None:
        raise call.error
    return call.result  # type: ignore[no-any-return]


class SyncStatusWidget(QWidget):
    """"Sync: up to date (10:42)" and a Sync now button; hidden at HQ and for roles that do not sync."""

    def __init__(self, ref: SessionRef, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("syncStatus")
        self.ref = ref
        self.label = QLabel()
        self.label.setObjectName("syncStatusLabel")
        self.button = QToolButton()
        self.button.setObjectName("syncNowButton")
        self.button.setText(tr("Sync now"))
        self.button.setToolTip(tr("Send what is waiting to HQ and fetch HQ's receipts now."))
        self.button.clicked.connect(self.sync_now)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.label)
        lay.addWidget(self.button)
        self.auto: AutoSync | None = None
        self.link: Any = None  # the LinkSettings last read (services/link.py)
        self._last_report: SyncReport | None = None
        self._checks = 0
        self.timer = QTimer(self)
        self.timer.setInterval(1000)
        self.timer.timeout.connect(self.refresh)
        ref.workspace_changed.connect(self._on_workspace_changed)
        ref.settings_changed.connect(self._on_settings_changed)
        self._on_workspace_changed()

    def _applies(self) -> bool:
        return self.ref.unlocked and self.ref.ws.wf.site_kind != "hq" and self.ref.can(Perm.BUNDLE_EXPORT)

    def _configured(self) -> bool:
        from nap_desktop.services.link import get_settings

        try:
            self.link = get_settings(self.ref.ws)  # one small read of the store
        except Exception:  # noqa: BLE001 - the indicator must never break the window
            return False
        return bool(self.link.configured)

    def _on_settings_changed(self) -> None:
        """The link settings (or the enrolment) may have changed: read them again; a running
        AutoSync uses them now, and one waiting for the enrolment tries at once."""
        if not self._applies():
            return
        before = self.link
        if self.auto is None:
            self._start_if_configured()
        else:
            self._configured()
            if self.link != before:
                self.auto.reload()
            elif self.auto.status().state == "not_enrolled":
                self.auto.trigger()
        self.refresh()

    def _on_workspace_changed(self) -> None:
        for key in [k for k, a in _running.items() if not self.ref.unlocked or k != id(self.ref.ws)]:
            _running.pop(key).stop(timeout=0)  # NOTE: never join on the GUI thread (a request may be in flight)
        self.auto = None
        self._checks = 0
        if not self._applies():
            self.setVisible(False)
            self.timer.stop()
            return
        self.setVisible(True)
        self.timer.start()
        self._start_if_configured()
        self.refresh()

    def _start_if_configured(self) -> bool:
        """Starts (or takes over) this workspace's AutoSync once HQ's server address is set."""
        if self.auto is not None:
            return True
        if not self._applies() or not self._configured():
            self.label.setText(tr("Sync: not set up"))
            self.label.setToolTip(tr("No HQ server address is set. An administrator sets it on the Sync screen with the Connection to HQ… button."))
            return False
        ws = self.ref.ws  # captured: after a lock its store refuses every step, and the thread ends
        auto = _running.get(id(ws))
        if auto is None or not auto.running:
            auto = AutoSync(ws, run_db=run_on_writer, backoff=BACKOFF)
            _running[id(ws)] = auto
            auto.start()
        self.auto = auto
        self._last_report = auto.status().report  # a report from before (a rebuilt window) is not news
        return True

    def sync_now(self) -> None:
        """Wakes AutoSync (starting it if the address was set meanwhile); returns at once."""
        if self._start_if_configured() and self.auto is not None:
            self.auto.trigger()
            self.label.setText(tr("Sync: sending and receiving…"))

    def refresh(self) -> None:
        if self.auto is None:
            self._checks += 1
            if self._checks % 60 == 0:  # the address may have been set on the Sync screen
                self._start_if_configured()
            return
        st = self.auto.status()
        text, tip = describe(st)
        if self.link is not None and self.link.server_url:
            tip = (tip + "\n" if tip else "") + tr("HQ server: {address}").format(address=ltr(self.link.server_url))
        self.label.setText(text)
        self.label.setToolTip(tip)
        if st.report is not None and st.report is not self._last_report:
            self._last_report = st.report
            if st.report.config_updated:  # HQ's field settings came with this sync
                self.ref.settings_changed.emit()
            else:
                self.ref.synced.emit()  # (settings_changed reloads the sync screen too)


def describe(st: SyncState) -> tuple[str, str]:
    """The label and tooltip for a state (the tooltip carries the core's English detail)."""
    if st.state == "off" and not st.message and st.last_attempt is None:
        return tr("Sync: starting…"), ""  # just started (an address was just set): its first step is on the way
    if st.state == "off":
        return tr("Sync: not set up"), st.message
    if st.state == "waiting":
        return tr("Sync: automatic sync is off"), st.message
    if st.state == "syncing":
        return tr("Sync: sending and receiving…"), ""
    if st.state == "not_enrolled":
        return tr("Sync: waiting for enrolment with HQ"), st.message
    if st.state == "offline":
        minutes = max(1, round((st.next_attempt_in_s or 60) / 60))
        return tr("Sync: HQ not reachable; next try in {m} min").format(m=minutes), st.message
    if st.state == "ok":
        when = st.last_success.astimezone().strftime("%H:%M") if st.last_success else ""
        return tr("Sync: up to date ({time})").format(time=when), st.message
    return tr("Sync: a problem; point here for details"), st.message
