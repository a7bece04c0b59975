# SPDX-License-Identifier: GPL-3.0-or-later
"""The sign-in window: pick an account of the workspace, type the password, unlock.

Unlocking (Argon2id, store checks, migrations) runs on the writer thread. A wrong password is
said inline; after five failures the core makes each attempt wait longer and the window counts
the wait down with the Unlock button disabled. The same window, in "locked" mode, hides all
data after an idle or manual lock (the key is already dropped when it shows).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from nap_desktop import config
from nap_desktop.domain.units_seed import default_units_path, load_units_seed
from nap_desktop.errors import AccountDisabled, LoginThrottled, UserFacingError, WorkspaceNotFound, WrongPassword
from nap_desktop.ui.errors import show_exception, user_message
from nap_desktop.ui.i18n import N_, LANGUAGE_NAMES, language, pick, tr
from nap_desktop.ui.widgets import ERROR_STYLE, heading, primary_button
from nap_desktop.ui.workers import run_op

logger = logging.getLogger(__name__)

clock: Callable[[], float] = time.monotonic  # NOTE: tests replace it to step through waits

SITE_KINDS = {"post": N_("Border post"), "circle": N_("Circle"), "hq": N_("Headquarters")}


@cache
def _seed_names() -> dict[str, tuple[str, str]]:
    try:
        return {u.code: (u.name_en, u.name_ur) for u in load_units_seed(default_units_path())}
    except UserFacingError:
        return {}


@dataclass(frozen=True)
class WorkspaceSummary:
    """What the sign-in window shows of ``workspace.json``."""

    unit: str
    site_kind: str
    users: tuple[str, ...]


def read_workspace_file(path: Path) -> WorkspaceSummary:
    """The unit, site kind and account names of the workspace at ``path``.

    NOTE: read as plain JSON, so that the window comes up without the cryptography libraries
    (~0.1 s). A file that is not what it should be is checked by ``security.keyfile``, which
    raises the error that says so; unlocking checks the whole file again in any case.
    """
    ws_file = Path(path) / config.WORKSPACE_FILE
    if not Path(path).is_dir() or not ws_file.exists():
        raise WorkspaceNotFound(f"No workspace in {path}. Create one with 'nap-desktop init', or choose the right folder.")
    try:
        data = json.loads(ws_file.read_text("utf-8"))
        users = tuple(sorted(str(u) for u in data["users"]))
        return WorkspaceSummary(str(data["unit"]), str(data["site_kind"]), users)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        from nap_desktop.security import keyfile

        wf = keyfile.load(ws_file)  # raises WorkspaceCorrupt naming the problem
        return WorkspaceSummary(wf.unit, wf.site_kind, tuple(sorted(wf.users)))


def preload_core() -> None:
    """Imports the data core (SQLAlchemy, Alembic, the record models, the services the main
    window needs) on the writer thread, while the user types the password.

    NOTE: the sign-in window is shown before any of it is loaded (about a second of imports);
    the unlock that follows runs on the same single writer thread, so it simply starts after
    this has finished, and it never runs an import concurrently with it.
    """

    def work(_op: object) -> None:
        import nap_desktop.reports.engine  # noqa: F401
        import nap_desktop.services.records  # noqa: F401
        import nap_desktop.services.units  # noqa: F401
        import nap_desktop.services.workspace  # noqa: F401

    global _preloaded
    if _preloaded:
        return
    _preloaded = True
    from nap_desktop.ui.qt_compat import GuiThreadGarbageCollector

    GuiThreadGarbageCollector.pause()  # see settle(): no collection pauses the window meanwhile
    run_op(None, work).on_failure(lambda _e: None).on_finished(GuiThreadGarbageCollector.settle).start()


_preloaded = False


def unit_display(code: str) -> str:
    """``Name (CODE)`` of a unit from the seed, in the UI language."""
    names = _seed_names().get(code)
    return f"{pick(*names)} ({code})" if names else code


class LoginDialog(QDialog):
    """Sign in to the workspace at ``path``. Emits :attr:`unlocked` with the open ``Workspace``."""

    unlocked = Signal(object)
    language_change_requested = Signal(str)
    quit_requested = Signal()

    def __init__(self, path: Path, *, user: str | None = None, locked: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("loginDialog")
        self.path = Path(path)
        self.locked_mode = locked
        self.workspace = None
        self._deadline: float | None = None
        self._busy = False
        self._quitting = False
        self.setWindowTitle(tr("NAP Desktop — sign in"))
        self.setMinimumWidth(520)

        wf = read_workspace_file(self.path)
        lay = QVBoxLayout(self)
        lay.setSpacing(10)
        top = QHBoxLayout()
        top.addWidget(heading(tr("Workspace locked") if locked else tr("Sign in"), 1.5), 1)
        other = "en" if language() == "ur" else "ur"
        self.language_button = QPushButton(LANGUAGE_NAMES[other])
        self.language_button.setObjectName("languageButton")
        self.language_button.setToolTip(tr("Switch the language of the application"))
        self.language_button.setAutoDefault(False)
        self.language_button.clicked.connect(lambda: self.language_change_requested.emit(other))
        top.addWidget(self.language_button, 0, Qt.AlignmentFlag.AlignTop)
        lay.addLayout(top)

        sub = QLabel(
            tr("The workspace was locked to protect the data. Sign in again to continue.")
            if locked
            else tr("National Action Plan against Human Trafficking and Migrant Smuggling — FIA")
        )
        sub.setWordWrap(True)
        lay.addWidget(sub)

        site = QLabel(f"<b>{unit_display(wf.unit)}</b> · {tr(SITE_KINDS.get(wf.site_kind, wf.site_kind))}")
        site.setObjectName("workspaceLabel")
        site.setWordWrap(True)
        lay.addWidget(site)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.user_combo = QComboBox()
        self.user_combo.setObjectName("userCombo")
        self.user_combo.setEditable(False)
        for name in wf.users:
            self.user_combo.addItem(name)
        if user:
            idx = self.user_combo.findText(user)
            if idx >= 0:
                self.user_combo.setCurrentIndex(idx)
        form.addRow(tr("User:"), self.user_combo)
        self.password_edit = QLineEdit()
        self.password_edit.setObjectName("passwordEdit")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        self.password_edit.textChanged.connect(self._update_buttons)
        form.addRow(tr("Password:"), self.password_edit)
        lay.addLayout(form)

        self.message = QLabel()
        self.message.setObjectName("loginMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.hide()
        lay.addWidget(self.message)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.quit_button = QPushButton(tr("Quit"))
        self.quit_button.setObjectName("quitButton")
        self.quit_button.setAutoDefault(False)
        self.quit_button.clicked.connect(self._on_quit_clicked)
        self.unlock_button = primary_button(tr("Unlock"))
        self.unlock_button.setObjectName("unlockButton")
        self.unlock_button.clicked.connect(self.try_unlock)
        buttons.addWidget(self.quit_button)
        buttons.addWidget(self.unlock_button)
        lay.addLayout(buttons)

        self._timer = QTimer(self)
        self._timer.setInterval(500)
        self._timer.timeout.connect(self._tick)
        self._update_buttons()
        (self.password_edit if self.user_combo.count() else self.user_combo).setFocus()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt virtual
        super().paintEvent(event)
        if not _preloaded:
            # The window is on screen: now load the rest in the background (see preload_core).
            QTimer.singleShot(0, preload_core)

    # -- behaviour -------------------------------------------------------------------------------

    def _update_buttons(self) -> None:
        waiting = self._deadline is not None
        self.unlock_button.setEnabled(not self._busy and not waiting and bool(self.password_edit.text()) and self.user_combo.count() > 0)
        self.password_edit.setEnabled(not self._busy)
        self.user_combo.setEnabled(not self._busy)

    def _say(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def try_unlock(self) -> None:
        """Starts the unlock with the typed password (Enter or the Unlock button)."""
        if not self.unlock_button.isEnabled():
            return
        user = self.user_combo.currentText()
        password = self.password_edit.text()
        self._busy = True
        self._say("")
        self._update_buttons()
        path = self.path

        def unlock(_op: object) -> object:
            from nap_desktop.services.workspace import open_workspace

            return open_workspace(path, user, password)

        run_op(self, unlock).on_success(self._on_unlocked).on_failure(
            self._on_failed
        ).on_finished(self._on_finished).with_progress(tr("Unlocking…"), cancellable=False).start()

    def _on_finished(self) -> None:
        self._busy = False
        self._update_buttons()

    def _on_unlocked(self, ws: object) -> None:
        self.password_edit.clear()
        self.workspace = ws
        logger.info("unlocked from the sign-in window")
        self.unlocked.emit(ws)
        self.accept()

    def _on_failed(self, exc: BaseException) -> None:
        self.password_edit.clear()
        self.password_edit.setFocus()
        if isinstance(exc, WrongPassword):
            self._say(tr("The user name or password is wrong. Check the keyboard language (Urdu/English) and Caps Lock."))
        elif isinstance(exc, LoginThrottled):
            self._deadline = clock() + exc.retry_after
            self._timer.start()
            self._tick()
        elif isinstance(exc, AccountDisabled):
            self._say(tr("This account is disabled. Ask your administrator to set a new password for you."))
        elif isinstance(exc, UserFacingError):
            self._say(user_message(exc))
        else:
            show_exception(parent=self, exc=exc)

    def _tick(self) -> None:
        if self._deadline is None:
            self._timer.stop()
            return
        remaining = self._deadline - clock()
        if remaining <= 0:
            self._deadline = None
            self._timer.stop()
            self._say(tr("You can try again now."))
        else:
            self._say(tr("Too many failed attempts. Wait {n} seconds before trying again.").format(n=int(remaining) + 1))
        self._update_buttons()

    @property
    def waiting(self) -> bool:
        """Whether the window is counting down a throttle wait."""
        return self._deadline is not None

    def _on_quit_clicked(self) -> None:
        self._quitting = True
        self.quit_requested.emit()
        super().reject()

    def reject(self) -> None:  # noqa: D102 - Esc on the sign-in window
        if self._busy:
            return
        if self.locked_mode and not self._quitting:
            return  # NOTE: Esc must not reveal the hidden main window: only Quit or unlocking leaves
        super().reject()
