# SPDX-License-Identifier: GPL-3.0-or-later
"""Settings: the UI language (each user's choice on this computer) and the workspace's idle-lock
minutes (administrators only; stored in the workspace and audited by ``services.settings``; once
stored, ``SessionRef.settings_changed`` tells the running app, whose idle lock uses it at once).

On a field device whose idle lock HQ's field settings set (``field_config.managed``), the lock
time is shown but not editable, with a note naming HQ's version. In an HQ workspace an
administrator also gets the Field settings page (``field_settings_page``): what HQ decides for
every field laptop, its draft and its publication.
"""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QFormLayout, QLabel, QSpinBox, QTabWidget, QVBoxLayout, QWidget

from nap_desktop.security.permissions import Perm
from nap_desktop.services import field_config
from nap_desktop.services import settings as ws_settings
from nap_desktop.ui import preferences
from nap_desktop.ui.i18n import LANGUAGE_NAMES, language, rtl_safe, tr
from nap_desktop.ui.session import SessionRef
from nap_desktop.ui.widgets import CodeComboBox, button_row, heading, primary_button
from nap_desktop.ui.workers import run_op


def set_by_hq_text(version: int) -> str:
    """The note beside an editor HQ's field settings decide."""
    return tr("Set by HQ (version {version})").format(version=version)


class SettingsDialog(QDialog):
    """After ``accepted``: :attr:`language` and :attr:`idle_minutes` hold the choices."""

    def __init__(self, ref: SessionRef, *, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle(tr("Settings"))
        self.setMinimumWidth(420)
        ws = ref.ws
        lay = QVBoxLayout(self)
        lay.addWidget(heading(tr("Settings")))
        general = QWidget()
        glay = QVBoxLayout(general)
        form = QFormLayout()
        self.language_combo = CodeComboBox(None, blank="", entries=list(LANGUAGE_NAMES.items()))
        self.language_combo.removeItem(0)
        self.language_combo.setObjectName("languageCombo")
        self.language_combo.set_value(language())
        form.addRow(tr("Language:"), self.language_combo)
        self.idle_spin = QSpinBox()
        self.idle_spin.setObjectName("idleSpin")
        self.idle_spin.setRange(ws_settings.MIN_IDLE_MINUTES, ws_settings.MAX_IDLE_MINUTES)
        self.idle_spin.setValue(ws_settings.idle_lock_minutes(ws))
        self._initial_minutes = self.idle_spin.value()
        self.idle_spin.setSuffix(" " + tr("minutes"))
        self.hq_version = field_config.managed(ws).get("idle_lock_minutes")
        self.may_manage = ws.can(Perm.SETTINGS_MANAGE) and self.hq_version is None
        self.idle_spin.setEnabled(self.may_manage)
        form.addRow(tr("Lock after no use for:"), self.idle_spin)
        glay.addLayout(form)
        self.idle_note = QLabel()
        self.idle_note.setObjectName("idleNote")
        self.idle_note.setWordWrap(True)
        if self.hq_version is not None:
            self.idle_note.setText(rtl_safe(set_by_hq_text(self.hq_version)))
            self.idle_note.setStyleSheet("color: #555;")
        elif not self.may_manage:
            self.idle_note.setText(tr("Only an administrator can change the lock time."))
        self.idle_note.setVisible(bool(self.idle_note.text()))
        glay.addWidget(self.idle_note)
        glay.addStretch(1)

        self.field_page = None
        self.tabs: QTabWidget | None = None
        if ws.wf.site_kind == "hq" and ws.can(Perm.SETTINGS_MANAGE):
            from nap_desktop.ui.field_settings_page import FieldSettingsPage

            self.setMinimumWidth(940)
            self.resize(940, 600)
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)  # not stretched across the wide dialog
            self.tabs = QTabWidget()
            self.tabs.setObjectName("settingsTabs")
            self.tabs.addTab(general, tr("General"))
            self.field_page = FieldSettingsPage(ref)
            self.tabs.addTab(self.field_page, tr("Field settings"))
            lay.addWidget(self.tabs, 1)
        else:
            glay.setContentsMargins(0, 0, 0, 0)
            lay.addWidget(general)
        ok = primary_button(tr("Save"))
        ok.setObjectName("saveSettings")
        ok.clicked.connect(self.accept)
        row, _cancel = button_row(self, ok)
        lay.addLayout(row)
        self._ref = ref
        self._ok = ok
        if self.tabs is not None:
            # NOTE: Enter in the field settings page must not close the dialog (and lose the edits)
            self.tabs.currentChanged.connect(lambda i: ok.setDefault(i == 0))

    @property
    def language(self) -> str:
        return self.language_combo.value() or "en"

    @property
    def idle_minutes(self) -> int:
        return self.idle_spin.value()

    def accept(self) -> None:  # noqa: D102
        preferences.set_language(self.language)
        minutes = self.idle_minutes
        if not self.may_manage or minutes == self._initial_minutes:
            super().accept()
            return
        ws = self._ref.ws
        self._ok.setEnabled(False)
        run_op(self, lambda _op: ws_settings.set_idle_lock_minutes(ws, minutes)).on_success(self._on_saved).on_finished(lambda: self._ok.setEnabled(True)).start()

    def _on_saved(self, _minutes: int) -> None:
        self._ref.settings_changed.emit()  # the running app's idle lock reads the new minutes (controller)
        super().accept()
