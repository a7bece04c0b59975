# SPDX-License-Identifier: GPL-3.0-or-later
"""The application's flow: first-run wizard → sign-in → main window ⇄ locked, and language changes.

Locking (Ctrl+L or idle) waits for running operations, hides every window, drops the data key
(``Workspace.lock``) and shows the sign-in window. If the same user signs in again the hidden
windows come back as they were (an unsaved form survives a coffee break); if another user signs
in, they are closed unsaved and a fresh main window is built.

The idle-lock minutes are read at sign-in and again whenever the workspace's settings may have
changed (``SessionRef.settings_changed``: HQ's field settings imported or pulled by the automatic
sync, an administrator's change in the settings dialog), so the running app uses a new lock time
without a new sign-in.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from nap_desktop import config
from nap_desktop.ui import i18n, preferences
from nap_desktop.ui.idle import IdleWatcher
from nap_desktop.ui.login_dialog import LoginDialog
from nap_desktop.ui import workers

if TYPE_CHECKING:
    from nap_desktop.security.crypto import KdfParams
    from nap_desktop.services.context import Workspace
    from nap_desktop.ui.first_run_wizard import FirstRunWizard
    from nap_desktop.ui.main_window import MainWindow
    from nap_desktop.ui.session import SessionRef

# NOTE: the wizard, the main window, their forms and the whole data core (SQLAlchemy, Alembic,
# the record models) are imported when first needed, so that the sign-in window appears sooner
# after start; the sign-in window loads them in the background while the password is typed
# (``login_dialog.preload_core``). bench/bench_gui.py measures it.

logger = logging.getLogger(__name__)


def _alive(w: QWidget | None) -> bool:
    return w is not None and shiboken6.isValid(w)


class AppController(QObject):
    """Owns the open workspace and the top-level windows."""

    main_window_shown = Signal(object)
    locked = Signal()
    finished = Signal()

    def __init__(
        self,
        workspace_dir: Path,
        *,
        user: str | None = None,
        kdf: KdfParams | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.path = Path(workspace_dir)
        self.preselect = user
        self.kdf = kdf
        self.ref: SessionRef | None = None
        self.main: MainWindow | None = None
        self.login: LoginDialog | None = None
        self.wizard: FirstRunWizard | None = None
        self._hidden: list[QWidget] = []
        self.idle = IdleWatcher(preferences.DEFAULT_IDLE_MINUTES, clock=clock, parent=self)
        self.idle.timed_out.connect(lambda: self.lock(reason="idle"))
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self.idle)

    # -- flow ---------------------------------------------------------------------------------------

    def start(self) -> None:
        """Shows the wizard (no workspace in the folder) or the sign-in window."""
        if (self.path / config.WORKSPACE_FILE).exists():
            self.show_login()
        else:
            self.show_wizard()

    def show_wizard(self) -> FirstRunWizard:
        from nap_desktop.ui.first_run_wizard import FirstRunWizard

        self.wizard = FirstRunWizard(self.path, kdf=self.kdf)
        self.wizard.language_change_requested.connect(self.set_language)
        self.wizard.accepted.connect(self._on_wizard_accepted)
        self.wizard.rejected.connect(self._on_wizard_rejected)
        self.wizard.show()
        return self.wizard

    def _on_wizard_accepted(self) -> None:
        wiz = self.wizard
        if wiz is None:
            return
        if wiz.workspace is not None:
            self._on_unlocked(wiz.workspace)
        elif wiz.opened_path is not None:
            self.path = wiz.opened_path
            self.show_login()
        self.wizard = None
        wiz.deleteLater()

    def _on_wizard_rejected(self) -> None:
        if getattr(self, "_rebuilding", False):
            return
        self.wizard = None
        self.quit()

    def show_login(self, *, locked: bool = False) -> LoginDialog:
        user = self.preselect
        if locked and self.ref is not None and self._last_user:
            user = self._last_user
        dlg = LoginDialog(self.path, user=user, locked=locked)
        dlg.unlocked.connect(self._on_unlocked)
        dlg.language_change_requested.connect(self.set_language)
        dlg.quit_requested.connect(self.quit)
        dlg.rejected.connect(lambda d=dlg: self._on_login_rejected(d))
        self.login = dlg
        dlg.show()
        dlg.raise_()
        dlg.activateWindow()
        return dlg

    def _on_login_rejected(self, dlg: LoginDialog) -> None:
        if getattr(self, "_rebuilding", False) or dlg is not self.login:
            return
        self.quit()

    _last_user: str | None = None

    def _on_unlocked(self, ws: Workspace) -> None:
        if self.login is not None:
            self.login.deleteLater()
            self.login = None
        from nap_desktop.ui.session import SessionRef

        same_user = self.main is not None and _alive(self.main) and self._last_user == ws.user.username
        if self.ref is None:
            self.ref = SessionRef(ws)
            self.ref.settings_changed.connect(self.reload_idle_minutes)
        else:
            self.ref.set_workspace(ws)
        if same_user:
            for w in self._hidden:
                if _alive(w):
                    w.show()
            self._hidden = []
        else:
            if self.main is not None and _alive(self.main):
                self.main.discard_all()
                self.main._quitting = True  # noqa: SLF001
                self.main.close()
                self.main.deleteLater()
            for w in self._hidden:
                if _alive(w):
                    w.close()
            self._hidden = []
            self._build_main()
        self._last_user = ws.user.username
        self.reload_idle_minutes()
        self.idle.start()
        if ws.user.must_change_password:
            from nap_desktop.ui.change_password_dialog import ChangePasswordDialog

            dlg = ChangePasswordDialog(ws, forced=True, parent=self.main)
            dlg.open()

    def _build_main(self) -> MainWindow:
        from nap_desktop.ui.main_window import MainWindow

        assert self.ref is not None
        main = MainWindow(self.ref)
        main.lock_requested.connect(lambda: self.lock(reason="manual"))
        main.language_change_requested.connect(self.set_language)
        main.quit_requested.connect(self.quit)
        self.main = main
        main.show()
        self.main_window_shown.emit(main)
        return main

    def reload_idle_minutes(self) -> None:
        """Reads the workspace's idle-lock minutes (one small read of the store) into the watcher."""
        if self.ref is None or not self.ref.unlocked:
            return
        from nap_desktop.services.settings import idle_lock_minutes

        try:
            minutes = idle_lock_minutes(self.ref.ws)
        except Exception as exc:  # noqa: BLE001 - keep the lock time in force rather than break the window
            logger.warning("could not read the idle-lock minutes (%s); the lock time stays %.0f min", type(exc).__name__, self.idle.limit_s / 60)
            return
        self.idle.set_minutes(minutes)

    # -- lock -----------------------------------------------------------------------------------------

    @property
    def is_locked(self) -> bool:
        return self.ref is None or not self.ref.unlocked

    def lock(self, *, reason: str = "manual") -> None:
        """Hides every window, drops the data key, shows the sign-in window."""
        if self.ref is None or not self.ref.unlocked:
            return
        if reason == "idle" and workers.busy():
            # NOTE: a long operation (an import) is running and the user is waiting for it: the
            # idle time counts from when it ends, rather than cancelling it half-way.
            self.idle.start()
            return
        logger.info("locking the workspace (%s)", reason)
        self.idle.stop()
        workers.cancel_all()
        workers.wait_for_workers(30_000)
        login = self.login
        self._hidden = [w for w in QApplication.topLevelWidgets() if w.isVisible() and w is not login]
        for w in self._hidden:
            w.hide()
        ws = self.ref.ws
        self.ref.set_workspace(None)
        ws.lock()
        self.locked.emit()
        self.show_login(locked=True)

    # -- language -------------------------------------------------------------------------------------

    def set_language(self, lang: str) -> None:
        """Switches the UI language and rebuilds the visible windows in it."""
        if lang == i18n.language():
            return
        if self.main is not None and _alive(self.main) and self.ref is not None and self.ref.unlocked:
            open_forms = [f for f in self.main.forms if _alive(f) and f.isVisible()]
            for f in open_forms:
                f.close()
            if any(_alive(f) and f.isVisible() for f in open_forms):
                QMessageBox.information(self.main, i18n.tr("Language"), i18n.tr("Close the open records first, then change the language."))
                return
        preferences.set_language(lang)
        i18n.set_language(lang)
        self._rebuilding = True
        try:
            if self.wizard is not None and _alive(self.wizard):
                old = self.wizard
                old.hide()
                old.deleteLater()
                self.show_wizard()
            if self.login is not None and _alive(self.login):
                old_login = self.login
                locked = old_login.locked_mode
                old_login.hide()
                old_login.deleteLater()
                self.show_login(locked=locked)
            if self.main is not None and _alive(self.main):
                old_main = self.main
                visible = old_main.isVisible()
                old_main._quitting = True  # noqa: SLF001
                old_main.close()
                old_main.deleteLater()
                if self.ref is not None and self.ref.unlocked:
                    self._build_main()
                    if not visible:
                        self.main.hide()  # type: ignore[union-attr]
                else:
                    self.main = None
        finally:
            self._rebuilding = False

    # -- end ------------------------------------------------------------------------------------------

    def quit(self) -> None:
        """Locks (dropping the key) and ends the event loop."""
        self.shutdown()
        self.finished.emit()
        app = QApplication.instance()
        if app is not None:
            app.quit()

    def shutdown(self) -> None:
        self.idle.stop()
        workers.cancel_all()
        workers.wait_for_workers(30_000)
        if self.main is not None and _alive(self.main):
            self.main.discard_all()
            self.main._quitting = True  # noqa: SLF001
            self.main.close()
        if self.ref is not None and self.ref.unlocked:
            ws = self.ref.ws
            self.ref.set_workspace(None)
            ws.lock()
