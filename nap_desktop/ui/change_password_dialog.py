# SPDX-License-Identifier: GPL-3.0-or-later
"""Change the signed-in user's password (also forced after an administrator's reset)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from nap_desktop.errors import UserFacingError, WrongPassword
from nap_desktop.services.context import Workspace
from nap_desktop.services.workspace import change_password
from nap_desktop.ui.errors import show_exception, user_message
from nap_desktop.ui.i18n import tr
from nap_desktop.ui.widgets import ERROR_STYLE, PasswordStrengthMeter, button_row, heading, primary_button
from nap_desktop.ui.workers import run_op


def _password_edit(name: str) -> QLineEdit:
    edit = QLineEdit()
    edit.setObjectName(name)
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    edit.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
    return edit


class ChangePasswordDialog(QDialog):
    """Old password, new password twice, a strength meter; the change runs on the writer thread."""

    def __init__(self, ws: Workspace, *, forced: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("changePasswordDialog")
        self.ws = ws
        self.forced = forced
        self.setWindowTitle(tr("Change password"))
        self.setMinimumWidth(440)
        lay = QVBoxLayout(self)
        lay.addWidget(heading(tr("Change password")))
        if forced:
            note = QLabel(tr("An administrator set your password. Choose your own password now."))
            note.setWordWrap(True)
            lay.addWidget(note)
        form = QFormLayout()
        self.old_edit = _password_edit("oldPassword")
        self.new_edit = _password_edit("newPassword")
        self.confirm_edit = _password_edit("confirmPassword")
        form.addRow(tr("Current password:"), self.old_edit)
        form.addRow(tr("New password:"), self.new_edit)
        self.meter = PasswordStrengthMeter()
        form.addRow("", self.meter)
        form.addRow(tr("New password again:"), self.confirm_edit)
        lay.addLayout(form)
        self.message = QLabel()
        self.message.setObjectName("passwordMessage")
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.setWordWrap(True)
        self.message.hide()
        lay.addWidget(self.message)
        self.ok_button = primary_button(tr("Change password"))
        self.ok_button.setObjectName("changeButton")
        self.ok_button.clicked.connect(self._on_ok_clicked)
        row, self.cancel_button = button_row(self, self.ok_button)
        lay.addLayout(row)
        self._busy = False
        self._error = ""
        for e in (self.old_edit, self.new_edit, self.confirm_edit):
            e.textChanged.connect(self._on_text_changed)
        self._update()

    def _on_text_changed(self) -> None:
        self._error = ""
        self._update()

    def _update(self) -> None:
        self.meter.update_for(self.new_edit.text(), self.ws.user.username)
        match = self.new_edit.text() == self.confirm_edit.text()
        if self.confirm_edit.text() and not match:
            self._say(tr("The two new passwords differ."))
        else:
            self._say(self._error)
        self.ok_button.setEnabled(not self._busy and bool(self.old_edit.text()) and self.meter.acceptable and match)

    def _say(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def _on_ok_clicked(self) -> None:
        if not self.ok_button.isEnabled():
            return
        old, new = self.old_edit.text(), self.new_edit.text()
        self._busy = True
        self._update()
        run_op(self, lambda _op: change_password(self.ws, old, new)).on_success(lambda _r: self.accept()).on_failure(
            self._on_failed
        ).on_finished(self._on_finished).with_progress(tr("Changing the password…"), cancellable=False).start()

    def _on_finished(self) -> None:
        self._busy = False
        self._update()

    def _on_failed(self, exc: BaseException) -> None:
        if isinstance(exc, WrongPassword):
            self.old_edit.clear()
            self.old_edit.setFocus()
            self._error = tr("The current password is wrong.")
        elif isinstance(exc, UserFacingError):
            self._error = user_message(exc)
        else:
            show_exception(parent=self, exc=exc)
        self._update()

    def reject(self) -> None:  # noqa: D102
        if self._busy:
            return
        super().reject()
