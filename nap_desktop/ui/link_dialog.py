# SPDX-License-Identifier: GPL-3.0-or-later
"""Connection to HQ: a field laptop's administrator sets where the automatic sync sends its
bundles (``services/link.py``): HQ's server address, how often to look for HQ, and an optional
HTTP proxy.

Opened from the sync screen (``SyncView.edit_link``) for accounts that may manage settings (the
permission ``link.set_settings`` checks). What HQ's field settings set on this device
(``field_config.managed``: the address, the interval) is shown read-only with the note
"Set by HQ (version N)". Saving writes a few meta rows on the writer thread; a
:class:`~nap_desktop.errors.ValidationError` shows under the field it concerns, in the UI language,
and nothing changes.

"Test connection" asks HQ's server whether it answers with the address and proxy as typed (the
health check of :func:`nap_desktop.sync.client.check_connection`, on a pool thread: the dialog
never waits for the network), before or without saving them.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from nap_desktop.errors import UserFacingError, ValidationError
from nap_desktop.services import field_config, link
from nap_desktop.sync.client import CLOCK_WARN_S, ConnectionCheck, check_connection
from nap_desktop.ui.errors import show_exception, user_message
from nap_desktop.ui.i18n import core_text, fmt_int, language, ltr, rtl_safe, tr
from nap_desktop.ui.session import SessionRef
from nap_desktop.ui.settings_dialog import set_by_hq_text
from nap_desktop.ui.widgets import Banner, ErrorLabel, button_row, heading, primary_button
from nap_desktop.ui.workers import Op, OpContext, run_op

# the names of link.set_settings' ValidationError fields -> the names field_config.managed uses
MANAGED_NAME = {"server_url": "server_url", "interval_minutes": "sync_interval_minutes"}


def proxy_text(proxy: str) -> str:
    """A proxy as shown to anyone: ``http://host:port``, never a user name or password in it."""
    if not proxy:
        return tr("none (connects directly)")
    u = urllib.parse.urlsplit(proxy)
    host = u.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = f":{u.port}" if u.port else ""
    except ValueError:
        port = ""
    return ltr(f"{u.scheme}://{host}{port}")


def link_lines(settings: link.LinkSettings, managed: dict[str, int]) -> dict[str, str]:
    """The read-only texts of the sync screen's status: ``server``, ``interval``, ``proxy``."""
    server = ltr(settings.server_url) if settings.server_url else tr("not set: this laptop syncs by USB stick only")
    interval = tr("{n} minutes").format(n=fmt_int(settings.interval_minutes))
    if not settings.auto:
        interval += " · " + tr("automatic sync is off; Sync now only")
    if "server_url" in managed:
        server += " · " + set_by_hq_text(managed["server_url"])
    if "sync_interval_minutes" in managed:
        interval += " · " + set_by_hq_text(managed["sync_interval_minutes"])
    return {"server": server, "interval": interval, "proxy": proxy_text(settings.proxy)}


class LinkDialog(QDialog):
    """Connection to HQ: the server address, the check interval and the proxy of this laptop."""

    saved = Signal(object)  # the LinkSettings as stored

    def __init__(self, ref: SessionRef, current: link.LinkSettings, managed: dict[str, int], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("linkDialog")
        self.setWindowTitle(tr("Connection to HQ"))
        self.setMinimumWidth(560)
        self.ref = ref
        self.current = current
        self.managed = dict(managed)
        self.busy = False
        self.op: Op | None = None
        lay = QVBoxLayout(self)
        lay.addWidget(heading(tr("Connection to HQ")))
        intro = QLabel(tr("Where this laptop sends its bundles over the network, and how often it looks for HQ. Without an address it syncs by USB stick only."))
        intro.setWordWrap(True)
        lay.addWidget(intro)
        self.banner = Banner()
        self.banner.setObjectName("linkBanner")
        lay.addWidget(self.banner)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.errors: dict[str, ErrorLabel] = {}
        self.notes: dict[str, QLabel] = {}

        self.server_edit = QLineEdit(current.server_url)
        self.server_edit.setObjectName("serverEdit")
        self.server_edit.setPlaceholderText("https://hq.example:8443")
        self.server_edit.setLayoutDirection(Qt.LayoutDirection.LeftToRight)  # an address reads left to right in Urdu too
        self.server_edit.setMinimumWidth(300)
        form.addRow(tr("HQ server address:"), self._field("server_url", self.server_edit))

        self.interval_spin = QSpinBox()
        self.interval_spin.setObjectName("intervalSpin")
        self.interval_spin.setRange(field_config.MIN_INTERVAL, field_config.MAX_INTERVAL)
        self.interval_spin.setValue(current.interval_minutes)
        self.interval_spin.setSuffix(" " + tr("minutes"))
        self.interval_spin.setMinimumWidth(120)
        spin_row = QWidget()
        srow = QHBoxLayout(spin_row)
        srow.setContentsMargins(0, 0, 0, 0)
        srow.addWidget(self.interval_spin)
        srow.addStretch(1)
        form.addRow(tr("Look for HQ every:"), self._field("interval_minutes", spin_row))

        proxy_row = QWidget()
        prow = QVBoxLayout(proxy_row)
        prow.setContentsMargins(0, 0, 0, 0)
        self.no_proxy = QCheckBox(tr("No proxy: connect directly"))
        self.no_proxy.setObjectName("noProxyCheck")
        self.proxy_edit = QLineEdit(current.proxy)
        self.proxy_edit.setObjectName("proxyEdit")
        self.proxy_edit.setPlaceholderText("http://proxy.example:3128")
        self.proxy_edit.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        prow.addWidget(self.no_proxy)
        prow.addWidget(self.proxy_edit)
        self.no_proxy.toggled.connect(self._on_no_proxy)
        self.no_proxy.setChecked(not current.proxy)
        self._on_no_proxy(not current.proxy)
        form.addRow(tr("Proxy:"), self._field("proxy", proxy_row))
        lay.addLayout(form)

        for name, widget in (("server_url", self.server_edit), ("interval_minutes", self.interval_spin)):
            version = self.managed.get(MANAGED_NAME[name])
            if version is not None:
                widget.setReadOnly(True)
                if isinstance(widget, QSpinBox):
                    widget.setButtonSymbols(QAbstractSpinBox.ButtonSymbols.NoButtons)
                widget.setToolTip(tr("HQ decides this for every field laptop; ask HQ to change it."))
                self.notes[name].setText(rtl_safe(set_by_hq_text(version)))
                self.notes[name].show()

        lay.addStretch(1)
        lay.addSpacing(6)
        self.test_button = QPushButton(tr("Test connection"))
        self.test_button.setObjectName("linkTestButton")
        self.test_button.setAutoDefault(False)
        self.test_button.setToolTip(tr("Ask HQ's server whether this laptop reaches it with the address and proxy above. Nothing is saved or sent."))
        self.test_button.clicked.connect(self.test_connection)
        self.save_button = primary_button(tr("Save"))
        self.save_button.setObjectName("linkSaveButton")
        self.save_button.clicked.connect(self.save)
        row, self.cancel_button = button_row(self, self.save_button, lead=[self.test_button])
        self.cancel_button.setObjectName("linkCancelButton")
        lay.addLayout(row)

    def _field(self, name: str, editor: QWidget) -> QWidget:
        """The editor, the "Set by HQ" note (hidden unless HQ sets it) and the error under it."""
        box = QWidget()
        v = QVBoxLayout(box)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(2)
        v.addWidget(editor)
        note = QLabel()
        note.setObjectName(f"linkNote_{name}")
        note.setStyleSheet("color: #555;")
        note.hide()
        v.addWidget(note)
        err = ErrorLabel()
        err.setObjectName(f"linkError_{name}")
        v.addWidget(err)
        self.notes[name] = note
        self.errors[name] = err
        return box

    def _clear_messages(self) -> None:
        for e in self.errors.values():
            e.set_error(None)
        self.banner.clear_message()

    def _on_no_proxy(self, on: bool) -> None:
        self.proxy_edit.setEnabled(not on)
        if "proxy" in self.errors:
            self.errors["proxy"].set_error(None)

    # -- values ---------------------------------------------------------------------------------

    def typed(self) -> link.LinkSettings:
        """The settings as the dialog shows them now (saved or not)."""
        proxy = "" if self.no_proxy.isChecked() else self.proxy_edit.text().strip()
        return replace(self.current, server_url=self.server_edit.text().strip(), proxy=proxy)

    def _marked(self, values: dict[str, object]) -> bool:
        """Marks every bad address among ``values`` under its field; True when there was one."""
        problems = []
        for name, check in (("server_url", link.check_server_url), ("proxy", link.check_proxy)):
            if values.get(name):
                try:
                    check(str(values[name]))
                except ValidationError as exc:
                    problems.append(exc)
        for exc in problems:
            self._on_failed(exc)
        return bool(problems)

    # -- testing --------------------------------------------------------------------------------

    def test_connection(self) -> Op | None:
        """Asks HQ's server whether it answers with the typed address and proxy (off the GUI thread)."""
        if self.busy:
            return None
        self._clear_messages()
        settings = self.typed()
        if not settings.server_url:
            self.errors["server_url"].set_error(tr("Type HQ's server address first."))
            self._fit()
            return None
        if self._marked({"server_url": settings.server_url, "proxy": settings.proxy}):
            return None
        self._busy(True)
        self.banner.show_message("info", tr("Asking HQ's server…"))
        ws = self.ref.ws

        def check(_op: OpContext) -> ConnectionCheck:
            # a read of the device key, then the network: the global pool, never the store's writer
            return check_connection(settings, creds=link.check_credentials(ws))

        self.op = (
            run_op(self, check, writer=False)
            .on_success(self._on_tested)
            .on_failure(self._on_test_failed)
            .on_finished(lambda: self._busy(False))
            .start()
        )
        return self.op

    def _on_tested(self, r: ConnectionCheck) -> None:
        if r.ok:
            if r.key_accepted:
                text = tr("HQ's server answered and accepts this laptop: it can send its bundles.")
            else:
                text = tr("HQ's server answered. Whether it accepts this laptop shows once the laptop is enrolled.")
            if abs(r.clock_offset_s) > CLOCK_WARN_S:
                text += "\n" + tr("This computer's clock is {n} minutes off HQ's. Sync allows for it, but please set the clock right.").format(
                    n=fmt_int(round(abs(r.clock_offset_s) / 60))
                )
            self.banner.show_message("ok", text)
        elif r.key_accepted is False:
            self.banner.show_message("error", tr("HQ's server answered, but does not accept this laptop.") + "\n" + core_text(r.message))
        else:
            self.banner.show_message("error", tr("This laptop cannot reach HQ's server with these settings.") + "\n" + core_text(r.message))
        self._fit()

    def _on_test_failed(self, exc: BaseException) -> None:
        if isinstance(exc, UserFacingError):  # e.g. none of this laptop's keys is listed by HQ
            self.banner.show_message("error", user_message(exc))
            self._fit()
        else:
            show_exception(parent=self, exc=exc)

    # -- saving ---------------------------------------------------------------------------------

    def changes(self) -> dict[str, object]:
        """What differs from the stored settings (settings HQ sets are never sent)."""
        out: dict[str, object] = {}
        server = self.server_edit.text().strip()
        if "server_url" not in self.managed and server != self.current.server_url:
            out["server_url"] = server
        minutes = self.interval_spin.value()
        if "sync_interval_minutes" not in self.managed and minutes != self.current.interval_minutes:
            out["interval_minutes"] = minutes
        proxy = "" if self.no_proxy.isChecked() else self.proxy_edit.text().strip()
        if proxy != self.current.proxy:
            out["proxy"] = proxy
        return out

    def save(self) -> Op | None:
        """Stores the changes (on the writer thread: a few rows, no network); closes when done."""
        if self.busy:
            return None
        self._clear_messages()
        changes = self.changes()
        # NOTE: the service stops at the first bad value; checked here first, every bad field is marked at once
        if self._marked(changes):
            return None
        if not changes:
            super().accept()
            return None
        ws = self.ref.ws
        self._busy(True)
        self.op = (
            run_op(self, lambda _op: link.set_settings(ws, **changes))  # type: ignore[arg-type]
            .on_success(self._on_saved)
            .on_failure(self._on_failed)
            .on_finished(lambda: self._busy(False))
            .start()
        )
        return self.op

    def _on_saved(self, settings: link.LinkSettings) -> None:
        self.current = settings
        self.saved.emit(settings)
        super().accept()

    def _on_failed(self, exc: BaseException) -> None:
        if isinstance(exc, ValidationError) and any(n in self.errors for n in exc.fields):
            for name in exc.fields:
                if name in self.errors:
                    text = exc.fields_ur.get(name) if language() == "ur" else None
                    self.errors[name].set_error(text or exc.message)
            self.banner.show_message("error", tr("Nothing was saved.") + " " + tr("Please correct the marked fields."))
        elif isinstance(exc, ValidationError) and any(n in MANAGED_NAME.values() for n in exc.fields):
            # HQ's field settings arrived while the dialog was open: the refusal names HQ's setting
            name = next(k for k, v in MANAGED_NAME.items() if v in exc.fields)
            self.errors[name].set_error(user_message(exc))
            self.banner.show_message("error", tr("Nothing was saved.") + " " + tr("Please correct the marked fields."))
        elif isinstance(exc, UserFacingError):
            self.banner.show_message("error", tr("Nothing was saved.") + "\n" + user_message(exc))
        else:
            show_exception(parent=self, exc=exc)
        self._fit()

    def _fit(self) -> None:
        """Grows the dialog to the height its wrapped messages need (Qt does not for a shown window)."""
        lay = self.layout()
        lay.activate()
        need = lay.totalHeightForWidth(self.width()) if lay.hasHeightForWidth() else lay.totalSizeHint().height()
        if need > self.height():
            self.resize(self.width(), need)

    def _busy(self, on: bool) -> None:
        self.busy = on
        self.save_button.setEnabled(not on)
        self.cancel_button.setEnabled(not on)
        self.test_button.setEnabled(not on)

    def accept(self) -> None:  # noqa: D102 - Enter saves, rather than closing unsaved
        self.save()

    def reject(self) -> None:  # noqa: D102
        if self.busy:
            return
        super().reject()
