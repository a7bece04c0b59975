# SPDX-License-Identifier: GPL-3.0-or-later
"""The main window: navigation (start page + every record type), the lists, and the menus.

Forms open as separate windows (several may be open, e.g. a screening and its person). The
window does not lock itself: it asks the controller (:attr:`lock_requested`), which drops the key
and hides every window behind the sign-in window.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QWidget,
)

from nap_desktop.domain.records import RECORD_TYPES
from nap_desktop.security.permissions import ROLE_LABELS, Perm, Role
from nap_desktop.ui import preferences
from nap_desktop.ui.backup_dialog import BackupDialog, RestoreDialog
from nap_desktop.ui.change_password_dialog import ChangePasswordDialog
from nap_desktop.ui.i18n import fmt_int, pick, tr
from nap_desktop.ui.record_form import RecordFormDialog, confirm_delete
from nap_desktop.ui.record_list_view import RecordListView, capture_perm
from nap_desktop.ui.session import SessionRef
from nap_desktop.ui.settings_dialog import SettingsDialog
from nap_desktop.ui.start_page import StartPage
from nap_desktop.ui.workers import Op, run_op

logger = logging.getLogger(__name__)

START = "__start__"
RETURNS = "__returns__"  # the monthly-return page (ui/returns_view.py)
DASHBOARD = "__dashboard__"  # ui/dashboard_view.py
INDICATORS = "__indicators__"  # ui/indicator_explorer.py
SYNC = "__sync__"


class MainWindow(QMainWindow):
    """Navigation, lists and menus of the signed-in user."""

    lock_requested = Signal()
    language_change_requested = Signal(str)
    quit_requested = Signal()

    def __init__(self, ref: SessionRef, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.ref = ref
        self.forms: list[RecordFormDialog] = []
        self.lists: dict[str, RecordListView] = {}
        self._quitting = False
        ws = ref.ws
        self.setWindowTitle(tr("NAP Desktop") + f" — {ref.unit_name(ws.wf.unit)}")
        self.resize(1280, 760)

        self.nav = QListWidget()
        self.nav.setObjectName("navigation")
        self.nav.setMinimumWidth(200)
        self.nav.setMaximumWidth(280)
        item = QListWidgetItem(tr("Start"))
        item.setData(Qt.ItemDataRole.UserRole, START)
        self.nav.addItem(item)
        self.dashboard_view: Any = None  # built on first use
        self.explorer_view: Any = None
        if _may_see_indicators(ref):
            for key, text in ((DASHBOARD, tr("Dashboard")), (INDICATORS, tr("Indicator explorer"))):
                it = QListWidgetItem(text)
                it.setData(Qt.ItemDataRole.UserRole, key)
                self.nav.addItem(it)
        self.sync_view: Any = None  # built on first use (ui/sync_view.py)
        if any(ref.can(p) for p in (Perm.BUNDLE_EXPORT, Perm.BUNDLE_IMPORT, Perm.KEYS_MANAGE)):
            it = QListWidgetItem(tr("Sync"))
            it.setData(Qt.ItemDataRole.UserRole, SYNC)
            self.nav.addItem(it)
        self.returns_view: Any = None  # built on first use
        if any(ref.can(p) for p in (Perm.RETURN_COMPILE, Perm.RETURN_APPROVE, Perm.RETURN_UNLOCK)):
            it = QListWidgetItem(tr("Monthly returns"))
            it.setData(Qt.ItemDataRole.UserRole, RETURNS)
            self.nav.addItem(it)
        self.may_read = ref.can(Perm.RECORD_READ)
        if self.may_read:
            for name, rt in RECORD_TYPES.items():
                it = QListWidgetItem(pick(rt.label_en, rt.label_ur))
                it.setData(Qt.ItemDataRole.UserRole, name)
                self.nav.addItem(it)
        self.stack = QStackedWidget()
        self.start_page = StartPage(ref)
        self.start_page.type_requested.connect(self.show_type)
        self.start_page.backup_requested.connect(self.backup)
        self.start_page.sync_requested.connect(self.show_sync)
        self.stack.addWidget(self.start_page)
        splitter = QSplitter()
        splitter.addWidget(self.nav)
        splitter.addWidget(self.stack)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        self.setCentralWidget(splitter)
        self._build_menus()
        self.nav.currentItemChanged.connect(self._on_nav_changed)
        self.nav.setCurrentRow(0)
        user = ws.user
        self.user_label = QLabel(f"{user.username} · {pick(*ROLE_LABELS[Role(user.role)])} · {ref.unit_name(user.unit_code)}")
        self.user_label.setObjectName("userStatus")
        self.statusBar().addPermanentWidget(self.user_label)
        from nap_desktop.ui.sync_status import SyncStatusWidget

        self.sync_status = SyncStatusWidget(ref)  # automatic sync with HQ's server, and "Sync now"
        self.statusBar().addPermanentWidget(self.sync_status)
        self.statusBar().showMessage(tr("Ctrl+L locks the workspace when you step away."), 8000)
        ref.records_changed.connect(self._on_records_changed)
        geom = preferences.geometry("main")
        if geom is not None:
            self.restoreGeometry(geom)
        self.start_page.refresh()

    # -- menus ---------------------------------------------------------------------------------------

    def _action(self, text: str, slot: Any, shortcut: QKeySequence | str | None = None, name: str = "") -> QAction:
        a = QAction(text, self)
        if shortcut is not None:
            a.setShortcut(QKeySequence(shortcut))
        a.triggered.connect(lambda _c=False: slot())
        if name:
            a.setObjectName(name)
        self.addAction(a)
        return a

    def _build_menus(self) -> None:
        mb = self.menuBar()
        m = mb.addMenu(tr("&Workspace"))
        self.change_password_action = self._action(tr("Change password…"), self.change_password, name="changePasswordAction")
        self.settings_action = self._action(tr("Settings…"), self.open_settings, name="settingsAction")
        self.lock_action = self._action(tr("Lock"), self.lock_requested.emit, "Ctrl+L", "lockAction")
        self.quit_action = self._action(tr("Quit"), self.request_quit, QKeySequence.StandardKey.Quit, "quitAction")
        for a in (self.change_password_action, self.settings_action):
            m.addAction(a)
        m.addSeparator()
        self.backup_action = self._action(tr("Back up…"), self.backup, name="backupAction")
        self.restore_action = self._action(tr("Restore a backup…"), self.restore_backup, name="restoreAction")
        m.addAction(self.backup_action)
        m.addAction(self.restore_action)
        self.backup_action.setEnabled(self.ref.can(Perm.WORKSPACE_BACKUP))
        m.addSeparator()
        m.addAction(self.lock_action)
        m.addAction(self.quit_action)
        self.change_password_action.setEnabled(self.ref.can(Perm.PASSWORD_CHANGE_OWN))

        r = mb.addMenu(tr("&Records"))
        self.new_action = self._action(tr("New record"), self.new_record, QKeySequence.StandardKey.New, "newAction")
        self.find_action = self._action(tr("Find"), self.find, QKeySequence.StandardKey.Find, "findAction")
        self.refresh_action = self._action(tr("Refresh"), self.refresh, QKeySequence.StandardKey.Refresh, "refreshAction")
        self.import_action = self._action(tr("Import records from a file…"), self.import_records, name="importAction")
        self.template_action = self._action(tr("Save an import template…"), self.save_template, name="templateAction")
        for a in (self.new_action, self.find_action, self.refresh_action):
            r.addAction(a)
        r.addSeparator()
        r.addAction(self.import_action)
        r.addAction(self.template_action)
        r.menuAction().setVisible(self.may_read)

        t = mb.addMenu(tr("&Tools"))
        self.demo_action = self._action(tr("Add demo records…"), self.add_demo_records, name="demoAction")
        t.addAction(self.demo_action)
        self.demo_action.setVisible(self.ref.can(Perm.RECORD_CAPTURE) and _demo_generator() is not None)
        t.menuAction().setVisible(self.demo_action.isVisible())

        h = mb.addMenu(tr("&Help"))
        about = self._action(tr("About NAP Desktop"), self.about, name="aboutAction")
        h.addAction(about)
        self._update_actions()

    def _update_actions(self) -> None:
        t = self.current_type()
        may = t is not None and self.ref.can(capture_perm(t))
        self.new_action.setEnabled(may)
        self.find_action.setEnabled(t is not None)
        self.import_action.setEnabled(may)
        self.template_action.setEnabled(may)

    # -- navigation ----------------------------------------------------------------------------------

    def current_type(self) -> str | None:
        item = self.nav.currentItem()
        key = item.data(Qt.ItemDataRole.UserRole) if item else None
        if key in (RETURNS, DASHBOARD, INDICATORS):
            return None
        return None if key in (None, START, SYNC) else str(key)

    def _on_nav_changed(self, current: QListWidgetItem | None, _prev: QListWidgetItem | None) -> None:
        key = current.data(Qt.ItemDataRole.UserRole) if current else START
        if key == RETURNS:
            self.stack.setCurrentWidget(self.returns_page())
            self._update_actions()
            return
        if key in (DASHBOARD, INDICATORS):
            self.stack.setCurrentWidget(self.dashboard_page() if key == DASHBOARD else self.explorer_page())
            self._update_actions()
            return
        if key == START:
            self.stack.setCurrentWidget(self.start_page)
            if self.start_page.loaded:
                self.start_page.refresh()
        elif key == SYNC:
            self.stack.setCurrentWidget(self.sync_page())
            self.sync_view.refresh()
        else:
            self.stack.setCurrentWidget(self.list_view(str(key)))
        self._update_actions()

    def list_view(self, type_name: str) -> RecordListView:
        """The list page of a type (built on first use)."""
        view = self.lists.get(type_name)
        if view is None:
            view = RecordListView(self.ref, type_name)
            view.open_requested.connect(lambda t, i: self.open_record(t, i))
            view.new_requested.connect(lambda t: self.open_record(t, None))
            view.delete_requested.connect(self._on_delete_requested)
            self.stack.addWidget(view)
            self.lists[type_name] = view
        return view

    def show_type(self, type_name: str) -> RecordListView:
        """Shows the list of a type (the start page's counts link here)."""
        for i in range(self.nav.count()):
            if self.nav.item(i).data(Qt.ItemDataRole.UserRole) == type_name:
                self.nav.setCurrentRow(i)
                break
        return self.list_view(type_name)

    def dashboard_page(self) -> Any:
        """The dashboard (built, and computed, on first use)."""
        if self.dashboard_view is None:
            from nap_desktop.ui.dashboard_view import DashboardView

            self.dashboard_view = DashboardView(self.ref)
            self.dashboard_view.indicator_requested.connect(self.show_indicator)
            self.stack.addWidget(self.dashboard_view)
            self.dashboard_view.refresh()
        return self.dashboard_view

    def explorer_page(self) -> Any:
        """The indicator explorer (built, and its first indicator computed, on first use)."""
        if self.explorer_view is None:
            from nap_desktop.ui.indicator_explorer import IndicatorExplorerView

            self.explorer_view = IndicatorExplorerView(self.ref)
            self.explorer_view.open_record_requested.connect(lambda t, i: self.open_record(t, i))
            self.stack.addWidget(self.explorer_view)
            self.explorer_view.compute()
        return self.explorer_view

    def _select_nav(self, key: str) -> bool:
        for i in range(self.nav.count()):
            if self.nav.item(i).data(Qt.ItemDataRole.UserRole) == key:
                self.nav.setCurrentRow(i)
                return True
        return False

    def show_dashboard(self) -> Any:
        """Shows the dashboard."""
        self._select_nav(DASHBOARD)
        return self.dashboard_view

    def show_indicator(self, code: str, period: Any = None, scope: str | None = None) -> Any:
        """Shows one indicator in the explorer (the dashboard's indicator codes link here)."""
        if self.explorer_view is None:
            from nap_desktop.ui.indicator_explorer import IndicatorExplorerView

            self.explorer_view = IndicatorExplorerView(self.ref)
            self.explorer_view.open_record_requested.connect(lambda t, i: self.open_record(t, i))
            self.stack.addWidget(self.explorer_view)
        self._select_nav(INDICATORS)
        self.explorer_view.show_indicator(code, period, scope)
        return self.explorer_view

    def returns_page(self) -> Any:
        """The monthly-return page (built, and its return loaded, on first use)."""
        if self.returns_view is None:
            from nap_desktop.ui.returns_view import ReturnsView

            self.returns_view = ReturnsView(self.ref)
            self.stack.addWidget(self.returns_view)
            self.returns_view.load()
        return self.returns_view

    def show_returns(self) -> Any:
        """Shows the monthly-return page."""
        for i in range(self.nav.count()):
            if self.nav.item(i).data(Qt.ItemDataRole.UserRole) == RETURNS:
                self.nav.setCurrentRow(i)
                break
        return self.returns_page()

    def show_start(self) -> None:
        self.nav.setCurrentRow(0)

    def sync_page(self) -> Any:
        """The sync screen (built on first use)."""
        if self.sync_view is None:
            from nap_desktop.ui.sync_view import SyncView

            self.sync_view = SyncView(self.ref)
            self.sync_view.status_loaded.connect(lambda _st: self.start_page.refresh() if self.start_page.loaded else None)
            self.stack.addWidget(self.sync_view)
        return self.sync_view

    def show_sync(self) -> Any:
        """Shows the sync screen (the start page's pending-sync line links here)."""
        for i in range(self.nav.count()):
            if self.nav.item(i).data(Qt.ItemDataRole.UserRole) == SYNC:
                self.nav.setCurrentRow(i)
                return self.sync_view
        return None

    # -- records ---------------------------------------------------------------------------------------

    def open_record(self, type_name: str, record_id: str | None, prefill: dict[str, Any] | None = None) -> RecordFormDialog:
        """Opens a record's form (raising it if already open), or a new form."""
        self.forms = [f for f in self.forms if _alive(f)]
        if record_id is not None:
            for f in self.forms:
                if f.record_id == record_id and f.isVisible():
                    f.raise_()
                    f.activateWindow()
                    return f
        form = RecordFormDialog(self.ref, type_name, record_id, prefill=prefill, opener=self.open_record, parent=self)
        form.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        form.destroyed.connect(lambda _o=None, f=form: self._forget_form(f))
        self.forms.append(form)
        form.show()
        return form

    def _forget_form(self, form: RecordFormDialog) -> None:
        self.forms = [f for f in self.forms if f is not form]

    def new_record(self) -> None:
        t = self.current_type()
        if t is not None and self.ref.can(capture_perm(t)):
            self.open_record(t, None)

    def find(self) -> None:
        t = self.current_type()
        if t is not None:
            self.list_view(t).focus_search()

    def refresh(self) -> None:
        t = self.current_type()
        if self.sync_view is not None and self.stack.currentWidget() is self.sync_view:
            self.sync_view.refresh()
        elif t is None:
            self.start_page.refresh()
        else:
            self.list_view(t).refresh()

    def _on_records_changed(self, type_name: str) -> None:
        view = self.lists.get(type_name)
        if view is not None:
            view.refresh()
        self.start_page.refresh()

    def _on_delete_requested(self, type_name: str, record_id: str, _row: int) -> None:
        view = self.lists[type_name]
        row = view.current_row()
        from nap_desktop.ui.labels import row_label

        what = row_label(row, self.ref.codelists, masked=not self.ref.can(Perm.PERSONAL_VIEW, unit=row.unit)) if row else ""
        if not confirm_delete(self, what):
            return
        from nap_desktop.services.records import delete_record

        ws = self.ref.ws
        run_op(self, lambda _op: delete_record(ws, record_id)).on_success(lambda _d: self.ref.records_changed.emit(type_name)).start()

    # -- workspace actions -------------------------------------------------------------------------------

    def change_password(self) -> None:
        ChangePasswordDialog(self.ref.ws, parent=self).exec()

    def open_settings(self) -> None:
        dlg = SettingsDialog(self.ref, parent=self)
        from nap_desktop.ui.i18n import language

        before = language()
        if dlg.exec() == SettingsDialog.DialogCode.Accepted:
            if dlg.language != before:
                self.language_change_requested.emit(dlg.language)

    def backup(self) -> BackupDialog | None:
        """Workspace ▸ Back up…: the dialog runs the backup on the writer thread, with progress."""
        if not self.ref.can(Perm.WORKSPACE_BACKUP):
            return None
        dlg = BackupDialog(self.ref, parent=self)
        dlg.accepted.connect(lambda: self._on_backed_up(dlg))
        dlg.open()
        return dlg

    def _on_backed_up(self, dlg: BackupDialog) -> None:
        result = dlg.result
        if result is None:
            return
        self.start_page.refresh()
        self.statusBar().showMessage(tr("Backup written:") + f" {result.path}", 15000)
        if not self.backup_quietly:
            QMessageBox.information(self, tr("Back up the workspace"), tr("Backup written:") + f"\n{result.path}")

    def restore_backup(self) -> RestoreDialog:
        """Workspace ▸ Restore a backup…: into a new folder; the open workspace is not touched."""
        dlg = RestoreDialog(parent=self)
        dlg.accepted.connect(lambda: self._on_restored(dlg))
        dlg.open()
        return dlg

    def _on_restored(self, dlg: RestoreDialog) -> None:
        result = dlg.result
        if result is None:
            return
        text = tr("The backup was restored into:") + f"\n{result.path}\n" + tr("Open it with NAP Desktop (--workspace FOLDER) and use it instead of the old workspace, never beside it.")
        self.statusBar().showMessage(text.replace("\n", " "), 15000)
        if not self.backup_quietly:
            QMessageBox.information(self, tr("Restore a backup"), text)

    backup_quietly = False  # NOTE: tests read the status bar instead of a modal box

    def add_demo_records(self) -> None:
        gen = _demo_generator()
        if gen is None:
            return
        n, ok = QInputDialog.getInt(self, tr("Add demo records"), tr("How many demo records? (Demo workspaces only: never in a real one.)"), 1000, 100, 200_000, 1000)
        if not ok:
            return
        ws = self.ref.ws
        run_op(self, lambda op: gen(ws, n, cancel=op.cancel_event)).on_success(lambda _r: self._after_bulk()).on_finished(
            self._after_bulk
        ).with_progress(tr("Adding demo records…")).start()

    def import_records(self, path: Path | None = None, *, skip_invalid: bool = False) -> Op | None:
        """Imports a CSV/XLSX file into the current list's type (all rows or none), with progress."""
        from nap_desktop.services.bulk_import import iter_import

        t = self.current_type()
        if t is None or not self.ref.can(capture_perm(t)):
            return None
        if path is None:
            name, _ = QFileDialog.getOpenFileName(self, tr("Import records"), "", tr("Spreadsheets (*.xlsx *.csv)"))
            if not name:
                return None
            path = Path(name)
        ws = self.ref.ws
        op = run_op(self, lambda _op: iter_import(ws, t, path, skip_invalid=skip_invalid))
        op.on_success(lambda result: self._on_imported(t, result)).with_progress(tr("Importing records…")).start()
        return op

    def _on_imported(self, type_name: str, result: Any) -> None:
        self.ref.records_changed.emit(type_name)
        text = tr("{n} records imported.").format(n=fmt_int(result.imported))
        if result.skipped:
            text += "\n" + tr("{n} rows with errors were skipped.").format(n=fmt_int(result.skipped))
        if result.report_path:
            text += "\n" + tr("The problems are listed in:") + f"\n{result.report_path}"
        if result.duplicates:
            text += "\n" + tr("{n} imported persons may already have been recorded; please review them.").format(n=fmt_int(len(result.duplicates)))
        self.statusBar().showMessage(text.replace("\n", " "), 15000)
        if not self.import_quietly:
            QMessageBox.information(self, tr("Import records"), text)

    import_quietly = False  # NOTE: tests read the status bar instead of a modal box

    def save_template(self, path: Path | None = None) -> None:
        """Writes the import template of the current type (XLSX or CSV by the file name)."""
        from nap_desktop.services.bulk_import import write_template
        from nap_desktop.ui.i18n import language

        t = self.current_type()
        if t is None:
            return
        if path is None:
            name, _ = QFileDialog.getSaveFileName(self, tr("Save an import template"), f"{t}-template.xlsx", tr("Spreadsheets (*.xlsx *.csv)"))
            if not name:
                return
            path = Path(name)
        lang = language()
        run_op(self, lambda _op: write_template(t, path, lang=lang, overwrite=True), writer=False).on_success(
            lambda p: self.statusBar().showMessage(tr("Template saved:") + f" {p}", 10000)
        ).start()

    def _after_bulk(self) -> None:
        for t in list(self.lists):
            self.lists[t].refresh()
        self.start_page.refresh()

    def about(self) -> None:
        from nap_desktop import __version__

        QMessageBox.about(
            self,
            tr("About NAP Desktop"),
            tr("NAP Desktop {version}\nData system of FIA's National Action Plan against Human Trafficking and Migrant Smuggling.").format(version=__version__),
        )

    # -- lock support ------------------------------------------------------------------------------------

    def windows(self) -> list[QWidget]:
        """This window and its open forms."""
        return [self, *(f for f in self.forms if _alive(f))]

    def discard_all(self) -> None:
        """Closes every form without asking (another user signs in after a lock)."""
        for f in list(self.forms):
            if _alive(f):
                f._discard = True  # noqa: SLF001 - the controller decides: nothing may survive a user switch
                f.close()
        self.forms = []

    def close_forms(self) -> bool:
        """Closes the open forms through their unsaved-changes guard; False if one stays open."""
        for f in list(self.forms):
            if _alive(f) and f.isVisible():
                f.close()
                if _alive(f) and f.isVisible():
                    return False
        return True

    def request_quit(self) -> None:
        """Quit from the menu or the window's close button: forms are asked first."""
        if self.close_forms():
            self.quit_requested.emit()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        preferences.set_geometry("main", self.saveGeometry())
        if self._quitting:
            event.accept()
            return
        event.ignore()
        self.request_quit()


def _may_see_indicators(ref: SessionRef) -> bool:
    """Whether the user may compute indicators somewhere (records of their units, or national)."""
    return ref.can(Perm.RECORD_READ, unit=ref.ws.user.unit_code) or ref.can(Perm.INDICATORS_NATIONAL)


def _alive(w: QWidget) -> bool:
    import shiboken6

    return shiboken6.isValid(w)


def _demo_generator() -> Any:
    """``services.demo_data.generate_demo_records`` when that module is installed, else ``None``."""
    try:
        from nap_desktop.services.demo_data import generate_demo_records
    except ImportError:
        return None
    return generate_demo_records
