# SPDX-License-Identifier: GPL-3.0-or-later
"""Settings: the UI language (each user's choice on this computer) and the idle-lock minutes
(administrators only)."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QFormLayout, QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

from nap_desktop.security.permissions import Perm
from nap_desktop.ui import preferences
from nap_desktop.ui.i18n import LANGUAGE_NAMES, language, tr
from nap_desktop.ui.session import SessionRef
from nap_desktop.ui.widgets import CodeComboBox, heading, primary_button


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
        form = QFormLayout()
        self.language_combo = CodeComboBox(None, blank="", entries=list(LANGUAGE_NAMES.items()))
        self.language_combo.removeItem(0)
        self.language_combo.setObjectName("languageCombo")
        self.language_combo.set_value(language())
        form.addRow(tr("Language:"), self.language_combo)
        self.idle_spin = QSpinBox()
        self.idle_spin.setObjectName("idleSpin")
        self.idle_spin.setRange(preferences.MIN_IDLE_MINUTES, preferences.MAX_IDLE_MINUTES)
        self.idle_spin.setValue(preferences.idle_minutes(ws.workspace_id))
        self.idle_spin.setSuffix(" " + tr("minutes"))
        self.may_manage = ws.can(Perm.SETTINGS_MANAGE)
        self.idle_spin.setEnabled(self.may_manage)
        form.addRow(tr("Lock after no use for:"), self.idle_spin)
        lay.addLayout(form)
        if not self.may_manage:
            note = QLabel(tr("Only an administrator can change the lock time."))
            note.setWordWrap(True)
            lay.addWidget(note)
        row = QHBoxLayout()
        row.addStretch(1)
        cancel = QPushButton(tr("Cancel"))
        cancel.setAutoDefault(False)
        cancel.clicked.connect(self.reject)
        ok = primary_button(tr("Save"))
        ok.setObjectName("saveSettings")
        ok.clicked.connect(self.accept)
        row.addWidget(cancel)
        row.addWidget(ok)
        lay.addLayout(row)
        self._ws_id = ws.workspace_id

    @property
    def language(self) -> str:
        return self.language_combo.value() or "en"

    @property
    def idle_minutes(self) -> int:
        return self.idle_spin.value()

    def accept(self) -> None:  # noqa: D102
        preferences.set_language(self.language)
        if self.may_manage:
            preferences.set_idle_minutes(self._ws_id, self.idle_minutes)
        super().accept()
