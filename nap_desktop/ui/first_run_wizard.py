# SPDX-License-Identifier: GPL-3.0-or-later
"""First run: create a workspace (site, unit, administrator, recovery) or open an existing one.

"Join HQ with an enrolment file" sets up a post or circle workspace like "Create", then writes its
enrolment request file into a folder the officer chooses (``services.sync.enrol_request``) and
says what comes next: the file goes to HQ, and HQ's answer is accepted on the Sync screen.
Creating runs ``init_workspace`` and then unlocks the new workspace with the administrator's
password (and, when joining, writes the request), all on the writer thread; the wizard ends
holding the open ``Workspace``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from nap_desktop.domain.units_seed import UnitSeed, default_units_path, load_units_seed
from nap_desktop.errors import UserFacingError, ValidationError
from nap_desktop.security.crypto import KdfParams
from nap_desktop.security.keyfile import USERNAME_RE
from nap_desktop.security.passwords import password_problems
from nap_desktop.services.workspace import init_workspace, load_workspace_file, open_workspace
from nap_desktop.ui.errors import show_exception, user_message
from nap_desktop.ui.i18n import N_, LANGUAGE_NAMES, language, pick, tr
from nap_desktop.ui.widgets import ERROR_STYLE, CodeComboBox, PasswordStrengthMeter
from nap_desktop.ui.workers import run_op

logger = logging.getLogger(__name__)

SITE_KIND_LABELS = {"post": N_("Border post"), "circle": N_("Circle"), "hq": N_("Headquarters")}
PAGE_START, PAGE_OPEN, PAGE_SITE, PAGE_ADMIN, PAGE_RECOVERY, PAGE_CREATE, PAGE_ENROL, PAGE_JOINED = range(8)


def _error_label() -> QLabel:
    label = QLabel()
    label.setStyleSheet(ERROR_STYLE)
    label.setWordWrap(True)
    label.hide()
    return label


def _say(label: QLabel, text: str) -> None:
    label.setText(text)
    label.setVisible(bool(text))


def _password_edit(name: str) -> QLineEdit:
    e = QLineEdit()
    e.setObjectName(name)
    e.setEchoMode(QLineEdit.EchoMode.Password)
    e.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
    return e


class StartPage(QWizardPage):
    def __init__(self, wizard: FirstRunWizard) -> None:
        super().__init__()
        self.setTitle(tr("Welcome to NAP Desktop"))
        self.setSubTitle(tr("This computer has no workspace yet. A workspace holds the encrypted records of one site."))
        lay = QVBoxLayout(self)
        self.create_radio = QRadioButton(tr("Create a new workspace on this computer"))
        self.create_radio.setObjectName("createRadio")
        self.open_radio = QRadioButton(tr("Open an existing workspace folder"))
        self.open_radio.setObjectName("openRadio")
        self.join_radio = QRadioButton(tr("Set up a post or circle and join HQ with an enrolment file"))
        self.join_radio.setObjectName("joinRadio")
        group = QButtonGroup(self)
        for r in (self.create_radio, self.open_radio, self.join_radio):
            group.addButton(r)
            lay.addWidget(r)
            if r is self.join_radio:
                note = QLabel(
                    tr("The workspace is created here, then an enrolment request file is written for HQ. HQ answers with a file that connects this computer to the national system.")
                )
                note.setObjectName("joinNote")
                note.setWordWrap(True)
                note.setIndent(24)
                lay.addWidget(note)
        self.create_radio.setChecked(True)
        lay.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        other = "en" if language() == "ur" else "ur"
        self.language_button = QPushButton(LANGUAGE_NAMES[other])
        self.language_button.setObjectName("languageButton")
        self.language_button.clicked.connect(lambda: wizard.language_change_requested.emit(other))
        row.addWidget(self.language_button)
        lay.addLayout(row)

    def nextId(self) -> int:  # noqa: N802 - Qt virtual
        return PAGE_OPEN if self.open_radio.isChecked() else PAGE_SITE


class OpenPage(QWizardPage):
    def __init__(self, wizard: FirstRunWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self.setTitle(tr("Open an existing workspace"))
        self.setSubTitle(tr("Choose the folder that holds workspace.json (for example, one copied from a backup)."))
        lay = QVBoxLayout(self)
        row = QHBoxLayout()
        self.folder_edit = QLineEdit()
        self.folder_edit.setObjectName("openFolderEdit")
        self.folder_edit.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        browse = QPushButton(tr("Browse…"))
        browse.clicked.connect(self._browse)
        row.addWidget(self.folder_edit, 1)
        row.addWidget(browse)
        lay.addLayout(row)
        self.error = _error_label()
        lay.addWidget(self.error)
        lay.addStretch(1)
        self.folder_edit.textChanged.connect(lambda _t: self.completeChanged.emit())

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, tr("Workspace folder"), self.folder_edit.text())
        if folder:
            self.folder_edit.setText(folder)

    def isComplete(self) -> bool:  # noqa: N802
        return bool(self.folder_edit.text().strip())

    def validatePage(self) -> bool:  # noqa: N802
        path = Path(self.folder_edit.text().strip()).expanduser()
        try:
            load_workspace_file(path)
        except UserFacingError as exc:
            _say(self.error, user_message(exc))
            return False
        self._wizard.opened_path = path
        return True

    def nextId(self) -> int:  # noqa: N802
        return -1


class SitePage(QWizardPage):
    def __init__(self, wizard: FirstRunWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self.setTitle(tr("Site and unit"))
        self.setSubTitle(tr("Which FIA unit works on this computer? Records are kept for this unit and sent to the units above it."))
        self.units: list[UnitSeed] = load_units_seed(default_units_path())
        self._names = {u.code: (u.name_en, u.name_ur) for u in self.units}
        form = QFormLayout(self)
        self.kind_group = QButtonGroup(self)
        kinds = QHBoxLayout()
        self.kind_radios: dict[str, QRadioButton] = {}
        for kind in ("post", "circle", "hq"):
            r = QRadioButton(tr(SITE_KIND_LABELS[kind]))
            r.setObjectName(f"kind_{kind}")
            self.kind_radios[kind] = r
            self.kind_group.addButton(r)
            kinds.addWidget(r)
            r.toggled.connect(lambda on, k=kind: on and self._fill_units(k))
        kinds.addStretch(1)
        form.addRow(tr("Site kind:"), kinds)
        self.unit_combo = CodeComboBox(None, entries=[(u.code, u.code) for u in self.units], min_chars=40)
        self.unit_combo.setObjectName("unitCombo")
        self.unit_combo.changed.connect(self.completeChanged.emit)
        form.addRow(tr("Unit:"), self.unit_combo)
        self.folder_label = QLabel(str(wizard.path))
        self.folder_label.setObjectName("folderLabel")
        self.folder_label.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        self.folder_label.setWordWrap(True)
        form.addRow(tr("Folder:"), self.folder_label)
        self.error = _error_label()
        form.addRow("", self.error)
        self.kind_radios["post"].setChecked(True)

    def initializePage(self) -> None:  # noqa: N802
        joining = self._wizard.joining
        self.kind_radios["hq"].setVisible(not joining)
        if joining and self.kind_radios["hq"].isChecked():
            self.kind_radios["post"].setChecked(True)

    def _fill_units(self, kind: str) -> None:
        entries = []
        for u in self.units:
            if u.kind != kind:
                continue
            parent = pick(*self._names[u.parent]) if u.parent in self._names else ""
            label = f"{pick(u.name_en, u.name_ur)} ({u.code})" + (f" — {parent}" if parent else "")
            entries.append((u.code, label))
        self.unit_combo.set_entries(entries)
        if kind == "hq" and entries:
            self.unit_combo.set_value(entries[0][0])
        self.completeChanged.emit()

    @property
    def site_kind(self) -> str:
        return next(k for k, r in self.kind_radios.items() if r.isChecked())

    def isComplete(self) -> bool:  # noqa: N802
        return self.unit_combo.value() is not None

    def nextId(self) -> int:  # noqa: N802
        return PAGE_ADMIN


class AdminPage(QWizardPage):
    def __init__(self, wizard: FirstRunWizard) -> None:
        super().__init__()
        self.setTitle(tr("Administrator account"))
        self.setSubTitle(tr("The administrator adds the officers' accounts. Keep this password safe: it opens the data key."))
        form = QFormLayout(self)
        self.user_edit = QLineEdit("admin")
        self.user_edit.setObjectName("adminUserEdit")
        self.user_edit.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("adminNameEdit")
        self.password_edit = _password_edit("adminPasswordEdit")
        self.confirm_edit = _password_edit("adminConfirmEdit")
        self.meter = PasswordStrengthMeter()
        form.addRow(tr("User name:"), self.user_edit)
        form.addRow(tr("Full name:"), self.name_edit)
        form.addRow(tr("Password:"), self.password_edit)
        form.addRow("", self.meter)
        form.addRow(tr("Password again:"), self.confirm_edit)
        self.error = _error_label()
        form.addRow("", self.error)
        for e in (self.user_edit, self.password_edit, self.confirm_edit):
            e.textChanged.connect(self._update)

    def _update(self) -> None:
        self.meter.update_for(self.password_edit.text(), self.user_edit.text())
        mismatch = bool(self.confirm_edit.text()) and self.confirm_edit.text() != self.password_edit.text()
        _say(self.error, tr("The two passwords differ.") if mismatch else "")
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # noqa: N802
        return (
            bool(USERNAME_RE.fullmatch(self.user_edit.text()))
            and self.meter.acceptable
            and self.password_edit.text() == self.confirm_edit.text()
        )

    def validatePage(self) -> bool:  # noqa: N802
        if not USERNAME_RE.fullmatch(self.user_edit.text()):
            _say(self.error, tr("User names are 3–32 characters: lower-case letters, digits, '.', '_' or '-', starting with a letter."))
            return False
        if password_problems(self.password_edit.text(), self.user_edit.text()):
            return False
        return True

    def nextId(self) -> int:  # noqa: N802
        return PAGE_RECOVERY


class RecoveryPage(QWizardPage):
    def __init__(self, wizard: FirstRunWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self.setTitle(tr("Recovery by HQ"))
        lay = QVBoxLayout(self)
        self.explain = QLabel()
        self.explain.setWordWrap(True)
        lay.addWidget(self.explain)
        # Post / circle: HQ's public recovery key.
        self.recipient_box = QWidget()
        f1 = QFormLayout(self.recipient_box)
        f1.setContentsMargins(0, 0, 0, 0)
        self.recipient_edit = QLineEdit()
        self.recipient_edit.setObjectName("recipientEdit")
        self.recipient_edit.setPlaceholderText("age1…")
        self.recipient_edit.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        f1.addRow(tr("HQ recovery key:"), self.recipient_edit)
        self.no_recovery_check = QCheckBox(tr("I have no HQ recovery key yet. I understand that if every password is lost, the data cannot be recovered."))
        self.no_recovery_check.setObjectName("noRecoveryCheck")
        f1.addRow("", self.no_recovery_check)
        lay.addWidget(self.recipient_box)
        # HQ: the national recovery key is made here and written to a file with a passphrase.
        self.hq_box = QWidget()
        f2 = QFormLayout(self.hq_box)
        f2.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.file_edit = QLineEdit()
        self.file_edit.setObjectName("recoveryFileEdit")
        self.file_edit.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        browse = QPushButton(tr("Save as…"))
        browse.clicked.connect(self._browse)
        row.addWidget(self.file_edit, 1)
        row.addWidget(browse)
        f2.addRow(tr("Recovery key file:"), row)
        self.pass_edit = _password_edit("recoveryPassEdit")
        self.pass_confirm = _password_edit("recoveryPassConfirm")
        self.meter = PasswordStrengthMeter()
        f2.addRow(tr("Passphrase:"), self.pass_edit)
        f2.addRow("", self.meter)
        f2.addRow(tr("Passphrase again:"), self.pass_confirm)
        lay.addWidget(self.hq_box)
        self.error = _error_label()
        lay.addWidget(self.error)
        lay.addStretch(1)
        for w in (self.recipient_edit, self.file_edit, self.pass_edit, self.pass_confirm):
            w.textChanged.connect(self._update)
        self.no_recovery_check.toggled.connect(self._update)

    def initializePage(self) -> None:  # noqa: N802
        hq = self._wizard.site_page.site_kind == "hq"
        self.recipient_box.setVisible(not hq)
        self.hq_box.setVisible(hq)
        if hq:
            self.setSubTitle(tr("This HQ workspace makes the national recovery key."))
            self.explain.setText(
                tr("The recovery key lets HQ open any workspace whose passwords are all lost. It is written once to the file you choose, protected by a passphrase. Keep the file offline, in a safe.")
            )
            if not self.file_edit.text():
                self.file_edit.setText(str(self._wizard.path.parent / "nap-recovery-key.age"))
        else:
            self.setSubTitle(tr("Let HQ recover this workspace if every password is lost."))
            self.explain.setText(tr("Paste HQ's public recovery key (it starts with age1). HQ alone holds the matching secret key."))
        self._update()

    def _browse(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, tr("Recovery key file"), self.file_edit.text())
        if name:
            self.file_edit.setText(name)

    def _update(self) -> None:
        if self._wizard.site_page.site_kind == "hq":
            self.meter.update_for(self.pass_edit.text())
            mismatch = bool(self.pass_confirm.text()) and self.pass_confirm.text() != self.pass_edit.text()
            _say(self.error, tr("The two passphrases differ.") if mismatch else "")
        else:
            _say(self.error, "")
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # noqa: N802
        if self._wizard.site_page.site_kind == "hq":
            return bool(self.file_edit.text().strip()) and self.meter.acceptable and self.pass_edit.text() == self.pass_confirm.text()
        return bool(self.recipient_edit.text().strip()) or self.no_recovery_check.isChecked()

    def nextId(self) -> int:  # noqa: N802
        return PAGE_ENROL if self._wizard.joining else PAGE_CREATE


class EnrolPage(QWizardPage):
    """Joining: where to write the enrolment request file (a USB stick, usually)."""

    def __init__(self, wizard: FirstRunWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self.setTitle(tr("Enrolment request"))
        self.setSubTitle(tr("Choose where to write the request file for HQ, for example a USB stick."))
        lay = QVBoxLayout(self)
        explain = QLabel(
            tr("The request holds this computer's public keys and its unit, signed with its new key. It holds no records and no passwords. HQ checks it and answers with a file you accept on the Sync screen.")
        )
        explain.setWordWrap(True)
        lay.addWidget(explain)
        form = QFormLayout()
        row = QHBoxLayout()
        self.folder_edit = QLineEdit(str(wizard.path.parent))
        self.folder_edit.setObjectName("requestFolderEdit")
        self.folder_edit.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        browse = QPushButton(tr("Browse…"))
        browse.clicked.connect(self._browse)
        row.addWidget(self.folder_edit, 1)
        row.addWidget(browse)
        form.addRow(tr("Folder:"), row)
        lay.addLayout(form)
        lay.addStretch(1)
        self.folder_edit.textChanged.connect(lambda _t: self.completeChanged.emit())

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, tr("Folder for the enrolment request"), self.folder_edit.text())
        if folder:
            self.folder_edit.setText(folder)

    @property
    def folder(self) -> Path:
        return Path(self.folder_edit.text().strip()).expanduser()

    def isComplete(self) -> bool:  # noqa: N802
        return bool(self.folder_edit.text().strip())

    def nextId(self) -> int:  # noqa: N802
        return PAGE_CREATE


class CreatePage(QWizardPage):
    def __init__(self, wizard: FirstRunWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self.setTitle(tr("Create the workspace"))
        self.setSubTitle(tr("Check the details, then press Create."))
        lay = QVBoxLayout(self)
        self.summary = QLabel()
        self.summary.setObjectName("summaryLabel")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(self.summary)
        self.status = QLabel()
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        self.error = _error_label()
        lay.addWidget(self.error)
        lay.addStretch(1)
        self.busy = False

    def initializePage(self) -> None:  # noqa: N802
        w = self._wizard
        site = w.site_page
        code = site.unit_combo.value() or ""
        unit = site._names.get(code, (code, code))
        rec = w.recovery_page
        if site.site_kind == "hq":
            recovery = tr("A new national recovery key, written to:") + f" {rec.file_edit.text()}"
        elif rec.recipient_edit.text().strip():
            recovery = tr("HQ's recovery key is set.")
        else:
            recovery = tr("No recovery key (set it later with HQ).")
        rows = [
            (tr("Site kind:"), tr(SITE_KIND_LABELS[site.site_kind])),
            (tr("Unit:"), f"{pick(*unit)} ({code})"),
            (tr("Administrator:"), w.admin_page.user_edit.text()),
            (tr("Recovery:"), recovery),
            (tr("Folder:"), str(w.path)),
        ]
        if w.joining:
            rows.append((tr("Enrolment request to:"), str(w.enrol_page.folder)))
        self.summary.setText("<table cellspacing=6>" + "".join(f"<tr><td><b>{a}</b></td><td>{b}</td></tr>" for a, b in rows) + "</table>")
        _say(self.error, "")
        w.setButtonText(QWizard.WizardButton.FinishButton, tr("Create"))
        w.setButtonText(QWizard.WizardButton.CommitButton, tr("Create and write the request"))
        self.setCommitPage(w.joining)
        self.setSubTitle(tr("Check the details, then press Create and write the request.") if w.joining else tr("Check the details, then press Create."))

    def nextId(self) -> int:  # noqa: N802
        return PAGE_JOINED if self._wizard.joining else -1

    def validatePage(self) -> bool:  # noqa: N802
        if self._wizard.workspace is not None:
            return True
        if not self.busy:
            self._wizard.create()
        return False


class JoinedPage(QWizardPage):
    """Joining, after creation: where the request file went and what happens next."""

    def __init__(self, wizard: FirstRunWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self.setTitle(tr("Send the request to HQ"))
        self.setSubTitle(tr("The workspace is ready. It joins HQ once HQ's answer is accepted."))
        lay = QVBoxLayout(self)
        self.result_label = QLabel()
        self.result_label.setObjectName("requestResultLabel")
        self.result_label.setWordWrap(True)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.result_label)
        self.error = _error_label()
        lay.addWidget(self.error)
        lay.addStretch(1)

    def initializePage(self) -> None:  # noqa: N802
        w = self._wizard
        w.setButtonText(QWizard.WizardButton.FinishButton, tr("Open the workspace"))
        w.button(QWizard.WizardButton.CancelButton).setEnabled(False)
        r = w.enrol_result
        if isinstance(r, BaseException):
            self.result_label.setText("")
            _say(self.error, user_message(r) if isinstance(r, UserFacingError) else tr("The enrolment request could not be written."))
            _say(self.error, self.error.text() + "\n" + tr("The workspace was created. Make the request later from the Sync screen (Make enrolment request…)."))
        elif r is not None:
            from nap_desktop.ui.i18n import rtl_safe
            from nap_desktop.ui.sync_models import request_written_text

            self.result_label.setText(rtl_safe(request_written_text(r)))
            _say(self.error, "")

    def nextId(self) -> int:  # noqa: N802
        return -1


class FirstRunWizard(QWizard):
    """Creates or opens a workspace. After ``accepted``: :attr:`workspace` (created and unlocked)
    or :attr:`opened_path` (an existing folder, to sign in to)."""

    language_change_requested = Signal(str)
    workspace_created = Signal(object)

    def __init__(self, path: Path, *, kdf: KdfParams | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("firstRunWizard")
        self.path = Path(path)
        self.kdf = kdf
        self.workspace = None
        self.opened_path: Path | None = None
        self.init_result = None
        self.enrol_result: object = None
        self.setWindowTitle(tr("NAP Desktop — first start"))
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, False)
        self.setMinimumSize(680, 520)
        for button, text in (
            (QWizard.WizardButton.BackButton, tr("Back")),
            (QWizard.WizardButton.NextButton, tr("Next")),
            (QWizard.WizardButton.FinishButton, tr("Finish")),
            (QWizard.WizardButton.CancelButton, tr("Cancel")),
        ):
            self.setButtonText(button, text)
        self.start_page = StartPage(self)
        self.open_page = OpenPage(self)
        self.site_page = SitePage(self)
        self.admin_page = AdminPage(self)
        self.recovery_page = RecoveryPage(self)
        self.create_page = CreatePage(self)
        self.enrol_page = EnrolPage(self)
        self.joined_page = JoinedPage(self)
        for pid, page in (
            (PAGE_START, self.start_page),
            (PAGE_OPEN, self.open_page),
            (PAGE_SITE, self.site_page),
            (PAGE_ADMIN, self.admin_page),
            (PAGE_RECOVERY, self.recovery_page),
            (PAGE_CREATE, self.create_page),
            (PAGE_ENROL, self.enrol_page),
            (PAGE_JOINED, self.joined_page),
        ):
            self.setPage(pid, page)
        self.setStartId(PAGE_START)

    @property
    def joining(self) -> bool:
        """Whether the officer chose to join HQ with an enrolment request."""
        return self.start_page.join_radio.isChecked()

    def create(self) -> None:
        """Creates the workspace and unlocks it (writer thread); finishes the wizard on success."""
        page = self.create_page
        site, admin, rec = self.site_page, self.admin_page, self.recovery_page
        hq = site.site_kind == "hq"
        kwargs = {
            "site_kind": site.site_kind,
            "unit": site.unit_combo.value() or "",
            "admin": admin.user_edit.text(),
            "admin_password": admin.password_edit.text(),
            "admin_full_name": admin.name_edit.text().strip(),
            "recovery_recipient": None if hq else (rec.recipient_edit.text().strip() or None),
            "recovery_identity_out": Path(rec.file_edit.text().strip()) if hq else None,
            "recovery_passphrase": rec.pass_edit.text() if hq else None,
            "kdf": self.kdf,
        }
        path = self.path
        request_folder = self.enrol_page.folder if self.joining else None

        def work(_op: object) -> tuple[object, object, object]:
            result = init_workspace(path, **kwargs)  # type: ignore[arg-type]
            ws = open_workspace(path, str(kwargs["admin"]), str(kwargs["admin_password"]))
            request: object = None
            if request_folder is not None:
                from nap_desktop.services.sync import enrol_request

                try:
                    request = enrol_request(ws, request_folder)
                except UserFacingError as exc:  # NOTE: the workspace exists; the request can be made again later
                    request = exc
            return result, ws, request

        page.busy = True
        page.status.setText(tr("Creating the workspace… this takes a few seconds."))
        self.button(QWizard.WizardButton.FinishButton).setEnabled(False)
        self.button(QWizard.WizardButton.BackButton).setEnabled(False)
        run_op(self, work).on_success(self._on_created).on_failure(self._on_failed).on_finished(self._on_finished).with_progress(
            tr("Creating the workspace…"), cancellable=False
        ).start()

    def _on_created(self, out: tuple[object, object, object]) -> None:
        self.init_result, self.workspace, self.enrol_result = out
        logger.info("workspace created from the first-run wizard")
        self.workspace_created.emit(self.workspace)
        if self.joining:
            self.next()  # to the page that says where the request went
        else:
            self.accept()

    def _on_failed(self, exc: BaseException) -> None:
        if isinstance(exc, ValidationError | UserFacingError):
            _say(self.create_page.error, user_message(exc))
        else:
            show_exception(parent=self, exc=exc)

    def _on_finished(self) -> None:
        self.create_page.busy = False
        self.create_page.status.setText("")
        self.button(QWizard.WizardButton.FinishButton).setEnabled(True)
        self.button(QWizard.WizardButton.BackButton).setEnabled(self.workspace is None)  # no way back past creation

    def reject(self) -> None:  # noqa: D102
        if self.create_page.busy:
            return
        if self.workspace is not None:  # NOTE: created and unlocked: closing the wizard opens it
            self.accept()
            return
        super().reject()
