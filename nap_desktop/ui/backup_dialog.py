# SPDX-License-Identifier: GPL-3.0-or-later
"""Back up the open workspace, and restore a backup into a new folder.

Both dialogs only collect choices; the work is ``services.backup.iter_backup`` /
``iter_restore`` (the same generators the CLI drives), run on a worker with a progress dialog.
A restore never touches the open workspace: it makes a new folder, which is then opened like any
other workspace (``--workspace FOLDER``).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from nap_desktop.errors import UserFacingError
from nap_desktop.services.backup import SUFFIX, BackupResult, RestoreResult, default_backup_path, inspect_backup, iter_backup, iter_restore
from nap_desktop.services.workspace import read_recovery_identity
from nap_desktop.ui.errors import show_exception, user_message
from nap_desktop.ui.i18n import tr
from nap_desktop.ui.session import SessionRef
from nap_desktop.ui.widgets import ERROR_STYLE, PasswordStrengthMeter, button_row, heading, path_edit, primary_button, with_choose_button
from nap_desktop.ui.workers import Op, run_op


def _secret_edit(name: str) -> QLineEdit:
    edit = QLineEdit()
    edit.setObjectName(name)
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    edit.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
    return edit


class _Dialog(QDialog):
    """Shared parts: a message line, Cancel / OK, a busy state while the worker runs."""

    def _finish_layout(self, lay: QVBoxLayout, ok_text: str, ok_name: str) -> None:
        self.message = QLabel()
        self.message.setObjectName("backupMessage")
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.setWordWrap(True)
        self.message.hide()
        lay.addWidget(self.message)
        self.ok_button = primary_button(ok_text)
        self.ok_button.setObjectName(ok_name)
        self.ok_button.clicked.connect(self._on_ok_clicked)
        row, self.cancel_button = button_row(self, self.ok_button)
        lay.addLayout(row)
        self._busy = False
        self._error = ""
        self.op: Op | None = None

    def _say(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def _on_failed(self, exc: BaseException) -> None:
        if isinstance(exc, UserFacingError):
            self._error = user_message(exc)
        else:
            show_exception(parent=self, exc=exc)
        self._update()

    def _on_finished(self) -> None:
        self._busy = False
        self._update()

    def _on_ok_clicked(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _update(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def reject(self) -> None:  # noqa: D102
        if self._busy:
            return
        super().reject()


class BackupDialog(_Dialog):
    """Where to write the backup and whether to add a passphrase. After ``accepted``,
    :attr:`result` holds the :class:`BackupResult`."""

    def __init__(self, ref: SessionRef, *, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("backupDialog")
        self.setWindowTitle(tr("Back up the workspace"))
        self.setMinimumWidth(520)
        self.ref = ref
        self.result: BackupResult | None = None
        ws = ref.ws
        self.has_recovery = ws.wf.recovery is not None
        lay = QVBoxLayout(self)
        lay.addWidget(heading(tr("Back up the workspace")))
        intro = QLabel(
            tr("The backup is one encrypted file holding all records, accounts and the audit log of this workspace. Keep it on a USB stick in a safe place, away from this computer.")
        )
        intro.setWordWrap(True)
        lay.addWidget(intro)
        form = QFormLayout()
        self.path_edit = path_edit("backupPath", str(default_backup_path(ws)))
        self.path_edit.textChanged.connect(self._on_text_changed)
        form.addRow(tr("Backup file:"), with_choose_button(self.path_edit, self._choose_file))
        lay.addLayout(form)
        self.recovery_note = QLabel(
            tr("HQ's recovery key can open this backup.")
            if self.has_recovery
            else tr("This workspace has no HQ recovery key, so the backup must be protected by a passphrase.")
        )
        self.recovery_note.setObjectName("recoveryNote")
        self.recovery_note.setWordWrap(True)
        lay.addWidget(self.recovery_note)
        self.passphrase_check = QCheckBox(tr("Also protect it with a passphrase (needed to restore it without HQ)"))
        self.passphrase_check.setObjectName("passphraseCheck")
        self.passphrase_check.setChecked(not self.has_recovery)
        self.passphrase_check.setEnabled(self.has_recovery)
        self.passphrase_check.toggled.connect(self._on_text_changed)
        lay.addWidget(self.passphrase_check)
        pform = QFormLayout()
        self.passphrase_edit = _secret_edit("backupPassphrase")
        self.confirm_edit = _secret_edit("backupPassphraseAgain")
        self.meter = PasswordStrengthMeter()
        pform.addRow(tr("Passphrase:"), self.passphrase_edit)
        pform.addRow("", self.meter)
        pform.addRow(tr("Passphrase again:"), self.confirm_edit)
        self.passphrase_box = QWidget()
        self.passphrase_box.setLayout(pform)
        lay.addWidget(self.passphrase_box)
        for e in (self.passphrase_edit, self.confirm_edit):
            e.textChanged.connect(self._on_text_changed)
        self._finish_layout(lay, tr("Back up"), "backupButton")
        self._update()

    def _choose_file(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, tr("Backup file"), self.path_edit.text(), tr("NAP Desktop backups (*.napbak)"))
        if name:
            self.path_edit.setText(name if name.endswith(SUFFIX) else name + SUFFIX)

    def _on_text_changed(self) -> None:
        self._error = ""
        self._update()

    def _update(self) -> None:
        want = self.passphrase_check.isChecked()
        self.passphrase_box.setVisible(want)
        ok = bool(self.path_edit.text().strip())
        if want:
            self.meter.update_for(self.passphrase_edit.text())
            match = self.passphrase_edit.text() == self.confirm_edit.text()
            ok = ok and self.meter.acceptable and match
            self._say(tr("The two passphrases differ.") if self.confirm_edit.text() and not match else self._error)
        else:
            self._say(self._error)
        self.ok_button.setEnabled(not self._busy and ok)

    def _on_ok_clicked(self) -> None:
        if not self.ok_button.isEnabled():
            return
        ws = self.ref.ws
        out = Path(self.path_edit.text().strip())
        passphrase = self.passphrase_edit.text() if self.passphrase_check.isChecked() else None
        self._busy = True
        self._update()
        self.op = (
            run_op(self, lambda _op: iter_backup(ws, out=out, passphrase=passphrase))
            .on_success(self._on_done)
            .on_failure(self._on_failed)
            .on_finished(self._on_finished)
            .with_progress(tr("Backing up the workspace…"))
            .start()
        )

    def _on_done(self, result: BackupResult) -> None:
        self.result = result
        self.accept()


class RestoreDialog(_Dialog):
    """A backup file, a new folder, and how to open it. After ``accepted``, :attr:`result`
    holds the :class:`RestoreResult`."""

    def __init__(self, *, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("restoreDialog")
        self.setWindowTitle(tr("Restore a backup"))
        self.setMinimumWidth(560)
        self.result: RestoreResult | None = None
        self.backup_has_passphrase: bool | None = None
        lay = QVBoxLayout(self)
        lay.addWidget(heading(tr("Restore a backup")))
        intro = QLabel(
            tr("The backup is checked completely, then restored into a new, empty folder. The open workspace is not changed. Use the restored copy instead of the old one, never beside it.")
        )
        intro.setWordWrap(True)
        lay.addWidget(intro)
        form = QFormLayout()
        self.file_edit = path_edit("restoreFile")
        self.file_edit.editingFinished.connect(self._inspect)
        self.file_edit.textChanged.connect(self._on_text_changed)
        form.addRow(tr("Backup file:"), with_choose_button(self.file_edit, self._choose_file))
        self.into_edit = path_edit("restoreInto")
        self.into_edit.textChanged.connect(self._on_text_changed)
        form.addRow(tr("Restore into (new folder):"), with_choose_button(self.into_edit, self._choose_folder))
        lay.addLayout(form)

        self.key_radio = QRadioButton(tr("Open it with HQ's recovery key file"))
        self.key_radio.setObjectName("useRecoveryKey")
        self.pass_radio = QRadioButton(tr("Open it with the backup passphrase and an account's password"))
        self.pass_radio.setObjectName("usePassphrase")
        self.mode = QButtonGroup(self)
        self.mode.addButton(self.key_radio)
        self.mode.addButton(self.pass_radio)
        self.pass_radio.setChecked(True)
        for r in (self.key_radio, self.pass_radio):
            r.toggled.connect(self._on_text_changed)

        lay.addWidget(self.key_radio)
        kform = QFormLayout()
        self.key_edit = path_edit("recoveryKeyFile")
        self.key_edit.textChanged.connect(self._on_text_changed)
        kform.addRow(tr("Recovery key file:"), with_choose_button(self.key_edit, self._choose_key))
        self.key_pass_edit = _secret_edit("recoveryKeyPassphrase")
        kform.addRow(tr("Its passphrase (if it has one):"), self.key_pass_edit)
        self.key_box = QWidget()
        self.key_box.setLayout(kform)
        lay.addWidget(self.key_box)

        lay.addWidget(self.pass_radio)
        pform = QFormLayout()
        self.passphrase_edit = _secret_edit("restorePassphrase")
        self.user_edit = path_edit("restoreUser")
        self.password_edit = _secret_edit("restorePassword")
        pform.addRow(tr("Backup passphrase:"), self.passphrase_edit)
        pform.addRow(tr("User name:"), self.user_edit)
        pform.addRow(tr("Password (as it was when the backup was made):"), self.password_edit)
        self.pass_box = QWidget()
        self.pass_box.setLayout(pform)
        lay.addWidget(self.pass_box)
        for e in (self.passphrase_edit, self.user_edit, self.password_edit):
            e.textChanged.connect(self._on_text_changed)
        self._finish_layout(lay, tr("Restore"), "restoreButton")
        self._update()

    def _choose_file(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, tr("Backup file"), "", tr("NAP Desktop backups (*.napbak)"))
        if name:
            self.file_edit.setText(name)
            self._inspect()

    def _choose_folder(self) -> None:
        name = QFileDialog.getExistingDirectory(self, tr("Restore into (new folder):"))
        if name:
            self.into_edit.setText(name)

    def _choose_key(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, tr("Recovery key file:"))
        if name:
            self.key_edit.setText(name)

    def _inspect(self) -> None:
        """Reads the backup's structure (no key) to tell whether a passphrase can open it."""
        text = self.file_edit.text().strip()
        if not text:
            return
        path = Path(text)
        run_op(self, lambda _op: inspect_backup(path), writer=False).on_success(self._on_inspected).on_failure(self._on_failed).start()

    def _on_inspected(self, info: object) -> None:
        self.backup_has_passphrase = bool(getattr(info, "passphrase", False))
        if not self.backup_has_passphrase:
            self.key_radio.setChecked(True)
        self._update()

    def _on_text_changed(self) -> None:
        self._error = ""
        self._update()

    def _update(self) -> None:
        by_key = self.key_radio.isChecked()
        self.key_box.setVisible(by_key)
        self.pass_box.setVisible(not by_key)
        self.pass_radio.setEnabled(self.backup_has_passphrase is not False)
        ok = bool(self.file_edit.text().strip() and self.into_edit.text().strip())
        if by_key:
            ok = ok and bool(self.key_edit.text().strip())
        else:
            ok = ok and bool(self.passphrase_edit.text() and self.user_edit.text().strip() and self.password_edit.text())
        self._say(self._error)
        self.ok_button.setEnabled(not self._busy and ok)

    def _on_ok_clicked(self) -> None:
        if not self.ok_button.isEnabled():
            return
        file, into = Path(self.file_edit.text().strip()), Path(self.into_edit.text().strip())
        if self.key_radio.isChecked():
            key_file, key_pass = Path(self.key_edit.text().strip()), self.key_pass_edit.text() or None

            def work(_op: object) -> object:
                identity = read_recovery_identity(key_file, key_pass)
                return iter_restore(file, into, identity=identity)
        else:
            passphrase, user, password = self.passphrase_edit.text(), self.user_edit.text().strip(), self.password_edit.text()

            def work(_op: object) -> object:
                return iter_restore(file, into, passphrase=passphrase, username=user, password=password)

        self._busy = True
        self._update()
        # NOTE: a restore writes only its new folder, never the open workspace: the global pool.
        self.op = (
            run_op(self, work, writer=False)
            .on_success(self._on_done)
            .on_failure(self._on_failed)
            .on_finished(self._on_finished)
            .with_progress(tr("Checking and restoring the backup…"))
            .start()
        )

    def _on_done(self, result: RestoreResult) -> None:
        self.result = result
        self.accept()
