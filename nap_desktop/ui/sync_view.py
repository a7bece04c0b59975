# SPDX-License-Identifier: GPL-3.0-or-later
"""The sync screen: where this workspace stands with HQ, and every sync action its user may take.

- Status: enrolled or not, unit, key registry (version, expiry), HQ's key fingerprint, this
  computer's key, changes not yet sent, bundles awaiting HQ's receipt, held bundles and the
  changes they wait for, open conflicts, how long personal data stays after HQ's receipt (not
  editable, "Set by HQ (version N)", when HQ's field settings decide it: ``field_config.managed``);
  in the field also where the automatic sync sends the bundles (HQ's server address, how often it
  looks for HQ, the proxy), which the administrator sets with "Connection to HQ…"
  (``link_dialog.LinkDialog``).
- Actions by site and role (``ws.can``): export to a folder / USB stick (a circle also forwards its
  posts' bundles), import several files (dry run first, ``sync_dialogs.ImportDialog``); at HQ the
  administrator approves enrolment requests, revokes devices and writes registry bundles; in the
  field the administrator makes the enrolment request, accepts HQ's answer and rotates keys.
- History of bundles sent and received, the conflict queue (side-by-side view), and at HQ the
  enrolled devices.

Every service call runs on the writer thread; export and import show progress and can be cancelled.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from nap_desktop.errors import Cancelled
from nap_desktop.security.permissions import Perm
from nap_desktop.services import field_config, hq, link, sync
from nap_desktop.ui.errors import show_exception
from nap_desktop.ui.i18n import core_text, fmt_int, ltr, tr
from nap_desktop.ui.link_dialog import LinkDialog, link_lines
from nap_desktop.ui.session import SessionRef
from nap_desktop.ui.settings_dialog import set_by_hq_text
from nap_desktop.ui.sync_dialogs import AcceptDialog, ApproveDialog, ConflictDialog, ImportDialog, RevokeDialog, RootRotationDialog, mono, table_view, unit_text
from nap_desktop.ui.sync_models import SITE_KINDS, BundleTableModel, ConflictTableModel, DeviceTableModel, group4, request_written_text, rtl_safe, when
from nap_desktop.ui.widgets import Banner, heading, ask_yes_no
from nap_desktop.ui.workers import Op, OpContext, run_op

logger = logging.getLogger(__name__)

BUNDLE_FILTER = "*.napb"


@dataclass(frozen=True)
class SyncSnapshot:
    """Everything the screen shows, read in one background call."""

    status: sync.SyncStatus
    bundles: list[sync.BundleInfo]
    conflicts: list[sync.ConflictInfo] | None
    devices: list[sync.DeviceInfo] | None
    managed: dict[str, int]  # settings HQ's field settings decide here -> version (field_config.managed)
    link: link.LinkSettings | None = None  # field: where the automatic sync sends the bundles
    inbox: hq.InboxState | None = None  # HQ (analysts): the intake server's inbox on this computer


def held_lines(bundles: list[sync.BundleInfo]) -> list[str]:
    """One line per held bundle: the unit and the changes it waits for."""
    last: dict[str, int] = {}
    for b in bundles:
        if b.direction == "in" and b.kind == "changes" and b.state == "imported":
            last[b.source_unit] = max(last.get(b.source_unit, 0), b.seq_to)
    out = []
    for b in sorted((b for b in bundles if b.state == "held"), key=lambda b: (b.source_unit, b.seq_from)):
        before = last.get(b.source_unit, 0)
        if b.seq_from == before + 2:
            out.append(tr("From {unit}: change {a} has not arrived yet").format(unit=b.source_unit, a=before + 1))
        elif b.seq_from > before + 2:
            out.append(tr("From {unit}: changes {a}–{b} have not arrived yet").format(unit=b.source_unit, a=before + 1, b=b.seq_from - 1))
        else:
            out.append(tr("From {unit}: waits for records of another unit's bundle").format(unit=b.source_unit))
    return out


class SyncView(QWidget):
    """The sync page of the main window."""

    status_loaded = Signal(object)

    def __init__(self, ref: SessionRef, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("syncView")
        self.ref = ref
        ws = ref.ws
        self.field = ws.wf.site_kind != "hq"
        self.may_export = self.field and ref.can(Perm.BUNDLE_EXPORT)
        self.may_import = ref.can(Perm.BUNDLE_IMPORT) or (self.field and ref.can(Perm.BUNDLE_EXPORT))
        self.hq_keys = not self.field and ref.can(Perm.KEYS_MANAGE)
        self.field_keys = self.field and ref.can(Perm.KEYS_MANAGE)
        self.may_conflicts = ref.can(Perm.BUNDLE_IMPORT)
        self.may_devices = not self.field and (ref.can(Perm.BUNDLE_IMPORT) or ref.can(Perm.KEYS_MANAGE))
        self.may_inbox = not self.field and ref.can(Perm.BUNDLE_IMPORT)
        self.may_retention = self.field and ref.can(Perm.SETTINGS_MANAGE)
        self.may_link = self.field and ref.can(Perm.SETTINGS_MANAGE)  # the permission link.set_settings requires
        self.snapshot: SyncSnapshot | None = None
        self.dialog: QWidget | None = None
        self.loaded = False
        self.last_export: sync.ExportResult | None = None

        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        top = QHBoxLayout()
        top.addWidget(heading(tr("Synchronisation with HQ")))
        top.addStretch(1)
        self.refresh_button = QPushButton(tr("Refresh"))
        self.refresh_button.setObjectName("syncRefreshButton")
        self.refresh_button.setAutoDefault(False)
        self.refresh_button.clicked.connect(self.refresh)
        top.addWidget(self.refresh_button)
        lay.addLayout(top)
        self.banner = Banner()
        self.banner.setObjectName("syncBanner")
        lay.addWidget(self.banner)

        upper = QHBoxLayout()
        self.status_box = self._build_status()
        upper.addWidget(self.status_box, 3)
        upper.addWidget(self._build_actions(), 2)
        lay.addLayout(upper)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("syncTabs")
        self.bundle_model = BundleTableModel(self)
        self.bundle_table = table_view("bundleTable")
        self.bundle_table.setModel(self.bundle_model)
        self.tabs.addTab(self.bundle_table, tr("History"))
        self.conflict_model = ConflictTableModel(self)
        self.conflict_table = table_view("conflictTable")
        self.conflict_table.setModel(self.conflict_model)
        self.conflict_table.doubleClicked.connect(lambda idx: self.open_conflict(idx.row()))
        self.conflict_table.selectionModel().selectionChanged.connect(lambda *_a: self._update_buttons())
        conflicts_page = QWidget()
        cl = QVBoxLayout(conflicts_page)
        cl.setContentsMargins(0, 4, 0, 0)
        note = QLabel(tr("An edit made elsewhere that does not build on the version here waits in this queue. Nothing is decided by clocks: open each one and choose."))
        note.setWordWrap(True)
        cl.addWidget(note)
        cl.addWidget(self.conflict_table, 1)
        crow = QHBoxLayout()
        crow.addStretch(1)
        self.compare_button = QPushButton(tr("Compare and decide…"))
        self.compare_button.setObjectName("compareButton")
        self.compare_button.setAutoDefault(False)
        self.compare_button.clicked.connect(lambda: self.open_conflict())
        crow.addWidget(self.compare_button)
        cl.addLayout(crow)
        self.conflicts_tab = self.tabs.addTab(conflicts_page, tr("Conflicts"))
        self.tabs.setTabVisible(self.conflicts_tab, self.may_conflicts)
        self.device_model = DeviceTableModel(self)
        self.device_table = table_view("deviceTable")
        self.device_table.setModel(self.device_model)
        self.device_table.selectionModel().selectionChanged.connect(lambda *_a: self._update_buttons())
        devices_page = QWidget()
        dl = QVBoxLayout(devices_page)
        dl.setContentsMargins(0, 4, 0, 0)
        dl.addWidget(self.device_table, 1)
        drow = QHBoxLayout()
        self.root_button = QPushButton(tr("Change HQ's root key…"))
        self.root_button.setObjectName("rotateRootOpenButton")
        self.root_button.setAutoDefault(False)
        self.root_button.clicked.connect(lambda: self.rotate_root())
        self.root_button.setVisible(self.hq_keys)
        drow.addWidget(self.root_button)
        drow.addStretch(1)
        self.revoke_button = QPushButton(tr("Revoke…"))
        self.revoke_button.setObjectName("revokeDeviceButton")
        self.revoke_button.setAutoDefault(False)
        self.revoke_button.clicked.connect(lambda: self.revoke_device())
        self.revoke_button.setVisible(self.hq_keys)
        drow.addWidget(self.revoke_button)
        dl.addLayout(drow)
        self.devices_tab = self.tabs.addTab(devices_page, tr("Devices"))
        self.tabs.setTabVisible(self.devices_tab, self.may_devices)
        lay.addWidget(self.tabs, 1)
        self._update_buttons()
        ref.settings_changed.connect(self._reload_if_loaded)
        ref.synced.connect(self._reload_if_loaded)  # an automatic sync sent bundles or brought receipts

    # -- layout ---------------------------------------------------------------------------------

    def _build_status(self) -> QGroupBox:
        box = QGroupBox(tr("Status"))
        grid = QGridLayout(box)
        grid.setColumnStretch(1, 1)
        grid.setVerticalSpacing(2)  # NOTE: thirteen rows in the field; in Urdu's taller lines they must fit a laptop screen
        self.info: dict[str, QLabel] = {}
        rows = [
            ("enrolment", tr("Enrolment:")),
            ("unit", tr("Unit:")),
            ("registry", tr("Key registry:")),
            ("root", tr("HQ's key fingerprint:")),
            ("key", tr("This computer's key:")),
        ]
        if self.field:
            rows += [("server", tr("HQ server address:")), ("interval", tr("Look for HQ every:")), ("proxy", tr("Proxy:"))]
            rows += [("pending", tr("Changes not yet sent:")), ("unacked", tr("Bundles awaiting HQ's receipt:"))]
        rows += [("held", tr("Held bundles:")), ("conflicts", tr("Open conflicts:"))]
        if self.may_inbox:
            rows.append(("inbox", tr("Intake server's inbox:")))
        if self.field:
            rows.append(("retention", tr("Personal data kept after HQ's receipt:")))
        for i, (key, label) in enumerate(rows):
            name = QLabel(label)
            value = mono("…") if key in ("root", "key") else QLabel("…")
            value.setObjectName(f"sync_{key}")
            value.setWordWrap(True)
            if key in ("server", "proxy"):
                value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            grid.addWidget(name, i, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(value, i, 1)
            self.info[key] = value
        self.retention_button = QPushButton(tr("Change…"))
        self.retention_button.setObjectName("retentionButton")
        self.retention_button.setAutoDefault(False)
        self.retention_button.clicked.connect(lambda: self.change_retention())
        self.retention_note = QLabel()
        self.retention_note.setObjectName("retentionNote")
        self.retention_note.setStyleSheet("color: #555;")
        self.retention_note.hide()
        if self.field:
            grid.addWidget(self.retention_note, len(rows), 1)
        if self.may_retention:
            grid.addWidget(self.retention_button, len(rows) - 1, 2, Qt.AlignmentFlag.AlignTop)
        else:
            self.retention_button.hide()
        return box

    def _button(self, text: str, name: str, slot: Any, visible: bool) -> QPushButton:
        b = QPushButton(text)
        b.setObjectName(name)
        b.setAutoDefault(False)
        b.clicked.connect(lambda _c=False: slot())
        b.setVisible(visible)
        return b

    def _build_actions(self) -> QGroupBox:
        box = QGroupBox(tr("Actions"))
        v = QVBoxLayout(box)
        self.export_button = self._button(tr("Export to folder / USB…"), "exportButton", self.export_to, self.may_export)
        self.resend_check = QCheckBox(tr("Also send again what HQ has not acknowledged"))
        self.resend_check.setObjectName("resendCheck")
        self.resend_check.setVisible(self.may_export)
        self.import_button = self._button(tr("Import…"), "importButton", self.import_files, self.may_import)
        self.approve_button = self._button(tr("Approve request…"), "approveRequestButton", self.approve_request, self.hq_keys)
        self.registry_button = self._button(tr("Write registry bundles…"), "registryButton", self.write_registry, self.hq_keys)
        self.request_button = self._button(tr("Make enrolment request…"), "requestButton", self.make_request, self.field_keys)
        self.accept_button = self._button(tr("Accept HQ's answer…"), "acceptButton", self.accept_answer, self.field_keys)
        self.rotate_button = self._button(tr("Rotate keys…"), "rotateButton", self.rotate_keys, self.field_keys)
        self.link_button = self._button(tr("Connection to HQ…"), "linkButton", self.edit_link, self.may_link)
        for w in (
            self.export_button,
            self.resend_check,
            self.import_button,
            self.approve_button,
            self.registry_button,
            self.request_button,
            self.accept_button,
            self.rotate_button,
            self.link_button,
        ):
            v.addWidget(w)
        self.no_actions = QLabel(tr("Your role has no sync actions here; the status and history are shown for information."))
        self.no_actions.setObjectName("noSyncActions")
        self.no_actions.setWordWrap(True)
        self.no_actions.setStyleSheet("color: #555;")
        self.no_actions.setVisible(not (self.may_export or self.may_import or self.hq_keys or self.field_keys or self.may_link))
        v.addWidget(self.no_actions)
        v.addStretch(1)
        return box

    # -- loading --------------------------------------------------------------------------------

    def refresh(self) -> Op | None:
        """Reloads the status, history, conflicts and devices (one background call)."""
        if not self.ref.unlocked:
            return None
        ws = self.ref.ws
        conflicts, devices, field, inbox = self.may_conflicts, self.may_devices, self.field, self.may_inbox

        def load(_op: OpContext) -> SyncSnapshot:
            return SyncSnapshot(
                sync.sync_status(ws),
                sync.list_bundles(ws),
                sync.list_conflicts(ws) if conflicts else None,
                sync.list_devices(ws) if devices else None,
                field_config.managed(ws),
                link.get_settings(ws) if field else None,
                hq.inbox_state(ws) if inbox else None,
            )

        return run_op(self, load).on_success(self._show).start()

    def _show(self, snap: SyncSnapshot) -> None:
        self.snapshot = snap
        st = snap.status
        if not self.field:
            self._set("enrolment", tr("This is HQ: it issues the key registry and approves the other units' computers."))
            self.info["enrolment"].setStyleSheet("")
        elif st.enrolled:
            self._set("enrolment", tr("Enrolled with HQ."))
            self.info["enrolment"].setStyleSheet("color: #1e5b2b;")
        else:
            self._set("enrolment", tr("Not enrolled yet. The administrator makes an enrolment request, sends it to HQ, and accepts HQ's answer here."))
            self.info["enrolment"].setStyleSheet("color: #b00020;")
        self._set("unit", f"{unit_text(self.ref, st.unit)} · {tr(SITE_KINDS.get(st.site_kind, st.site_kind))}")
        if st.registry_version is not None and st.registry_expires is not None:
            self._set("registry", tr("version {version}, valid until {date}").format(version=st.registry_version, date=ltr(st.registry_expires.strftime("%Y-%m-%d"))))
        else:
            self._set("registry", tr("none yet"))
        self._set("root", ltr(st.root_fingerprint) if st.root_fingerprint else "—")
        self._set("key", ltr(group4(st.key_id)) if st.key_id else "—")
        if self.field:
            self._set("pending", fmt_int(st.pending_records))
            self._set("unacked", fmt_int(len(st.unacknowledged)))
            self._set("retention", tr("{n} days").format(n=fmt_int(st.retention_days)))
            hq_version = snap.managed.get("retention_days")
            self.retention_note.setText(rtl_safe(set_by_hq_text(hq_version)) if hq_version is not None else "")
            self.retention_note.setVisible(hq_version is not None)
            if snap.link is not None:
                for key, text in link_lines(snap.link, snap.managed).items():
                    self._set(key, text)
        held = held_lines(snap.bundles)
        self._set("held", "\n".join(held) if held else tr("none"))
        self.info["held"].setStyleSheet("color: #8a5a00;" if held else "")
        self._set("conflicts", fmt_int(st.open_conflicts))
        self.info["conflicts"].setStyleSheet("color: #b00020; font-weight: bold;" if st.open_conflicts else "")
        if snap.inbox is not None:
            self._show_inbox(snap.inbox)
        self.bundle_model.set_rows(snap.bundles)
        self.bundle_table.resizeColumnsToContents()
        if snap.conflicts is not None:
            self.conflict_model.set_rows(snap.conflicts)
            self.conflict_table.resizeColumnsToContents()
            self.tabs.setTabText(self.conflicts_tab, tr("Conflicts ({n})").format(n=fmt_int(len(snap.conflicts))) if snap.conflicts else tr("Conflicts"))
        if snap.devices is not None:
            self.device_model.set_rows(snap.devices)
            self.device_table.resizeColumnsToContents()
        self.loaded = True
        self._update_buttons()
        self._fit_status()
        self.status_loaded.emit(st)

    def _fit_status(self) -> None:
        """Keeps the status box as tall as its wrapped lines need at its width.

        NOTE: a word-wrapped label inside a page's layout gets the height of its unwrapped
        text; in Urdu the unit's name wraps at laptop widths and its second line was drawn
        over the next row. The history table below gives up the height.
        """
        box = self.status_box
        need = box.heightForWidth(box.width())
        if need > 0:
            box.setMinimumHeight(need)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._fit_status()

    def _selected(self, view: Any) -> int | None:
        rows = view.selectionModel().selectedRows()
        return rows[0].row() if rows else None

    def _update_buttons(self) -> None:
        st = self.snapshot.status if self.snapshot else None
        enrolled = bool(st and st.enrolled)
        ready = st is not None
        self.export_button.setEnabled(ready and enrolled)
        self.resend_check.setEnabled(ready and enrolled)
        self.import_button.setEnabled(ready and (enrolled or not self.field))
        self.request_button.setEnabled(ready and not enrolled)
        self.request_button.setToolTip(tr("Already enrolled; to change this computer's keys use Rotate keys.") if enrolled else "")
        self.rotate_button.setEnabled(ready and enrolled)
        self.accept_button.setEnabled(ready)
        self.approve_button.setEnabled(ready)
        self.registry_button.setEnabled(ready)
        self.link_button.setEnabled(ready)
        hq_retention = self.snapshot.managed.get("retention_days") if self.snapshot else None
        self.retention_button.setEnabled(ready and hq_retention is None)
        self.retention_button.setToolTip(tr("HQ decides this for every field laptop; ask HQ to change it.") if hq_retention is not None else "")
        for b, why in ((self.export_button, tr("Enrol this workspace with HQ first.")), (self.import_button, tr("Enrol this workspace with HQ first."))):
            b.setToolTip("" if b.isEnabled() or not ready else why)
        self.compare_button.setEnabled(self._selected(self.conflict_table) is not None)
        d = self._selected(self.device_table)
        dev = self.device_model.row_at(d) if d is not None else None
        hq_device = dev is not None and dev.site_kind == "hq"
        self.revoke_button.setEnabled(dev is not None and not hq_device and not DeviceTableModel.revoked(dev))

    # -- helpers -------------------------------------------------------------------------------------

    def say(self, kind: str, text: str) -> None:
        """Shows the outcome of the last action above the status."""
        self.banner.show_message(kind, rtl_safe(text))

    def _set(self, key: str, text: str) -> None:
        self.info[key].setText(rtl_safe(text))

    def ask(self, title: str, text: str) -> bool:
        """A yes/no question (tests replace it)."""
        return ask_yes_no(self, title, text)

    def _pick_folder(self, title: str) -> Path | None:
        folder = QFileDialog.getExistingDirectory(self, title, str(Path.home()))
        return Path(folder) if folder else None

    def _open(self, dialog: Any, *, start: bool = True) -> Any:
        """Shows ``dialog`` (window-modal, deleted on close) and, unless ``start`` is False, starts
        its first piece of work."""
        self.dialog = dialog
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dialog.open()
        if start:
            dialog.start()
        return dialog

    # -- export ------------------------------------------------------------------------------------------

    def export_to(self, folder: Path | None = None) -> Op | None:
        """Writes every change not yet sent into ``folder`` (asked for if not given), with progress."""
        if not self.may_export:
            return None
        if folder is None:
            folder = self._pick_folder(tr("Export to a folder or USB stick"))
            if folder is None:
                return None
        ws, resend = self.ref.ws, self.resend_check.isChecked()

        def work(op: OpContext) -> sync.ExportResult:
            total = sync.sync_status(ws).pending_records

            def progress(n: int, _label: str) -> None:
                op.check_cancelled()
                op.progress(n, max(total, n), "")

            try:
                return sync.export_changes(ws, folder, resend=resend, progress=progress)
            except Exception:
                if op.cancelled:  # NOTE: raised inside the encryption stream it may come back wrapped
                    raise Cancelled("Cancelled.") from None
                raise

        self.export_button.setEnabled(False)
        return (
            run_op(self, work)
            .on_success(self._on_exported)
            .on_failure(self._on_export_failed)
            .on_finished(self.refresh)
            .with_progress(tr("Writing the bundle…"), cancellable=True)
            .start()
        )

    def _on_exported(self, r: sync.ExportResult) -> None:
        self.last_export = r
        text = tr("Bundle written to:") + f"\n{ltr(str(r.path))}\n"
        if r.records:
            text += tr("{n} changed records (changes {a}–{b}) and {m} audit entries.").format(
                n=fmt_int(r.records), a=r.seq_from, b=r.seq_to, m=fmt_int(r.audit_entries)
            )
        else:
            text += tr("No changed records; {m} audit entries.").format(m=fmt_int(r.audit_entries))
        if r.relayed:
            text += "\n" + tr("Forwarded unchanged, for HQ, from this circle's posts:") + "\n" + "\n".join(ltr(p.name) for p in r.relayed)
        text += "\n" + tr("Take the folder's files to HQ. The bundle counts as sent once HQ's receipt is imported here.")
        self.say("ok", text)

    def _on_export_failed(self, exc: BaseException) -> None:
        if isinstance(exc, Cancelled):
            self.say("warning", tr("Export cancelled; nothing was written."))
            return
        show_exception(parent=self, exc=exc)

    # -- import ------------------------------------------------------------------------------------------

    def import_files(self, paths: list[Path] | None = None) -> ImportDialog | None:
        """Asks for bundle files and opens the import dialog, which starts with a dry run."""
        if not self.may_import:
            return None
        if paths is None:
            names, _ = QFileDialog.getOpenFileNames(self, tr("Import bundles"), str(Path.home()), tr("Sync bundles") + f" ({BUNDLE_FILTER})")
            if not names:
                return None
            paths = [Path(n) for n in names]
        dlg = ImportDialog(self.ref, paths, parent=self)
        dlg.imported.connect(self.ref.settings_changed)  # HQ's field settings may have come: this screen refreshes too
        return self._open(dlg)

    # -- conflicts ---------------------------------------------------------------------------------------

    def open_conflict(self, row: int | None = None) -> ConflictDialog | None:
        """Opens the side-by-side view of the selected (or given) conflict."""
        if row is None:
            row = self._selected(self.conflict_table)
        if row is None or not (0 <= row < self.conflict_model.rowCount()):
            return None
        c = self.conflict_model.row_at(row)
        dlg = ConflictDialog(self.ref, c.id, parent=self)
        dlg.resolved.connect(lambda _k: self.refresh())
        return self._open(dlg)

    # -- HQ: enrolment, devices, registry -----------------------------------------------------------------

    def approve_request(self, path: Path | None = None) -> ApproveDialog | None:
        if not self.hq_keys:
            return None
        if path is None:
            name, _ = QFileDialog.getOpenFileName(self, tr("Enrolment request"), str(Path.home()), tr("Enrolment requests") + " (*.napreq)")
            if not name:
                return None
            path = Path(name)
        dlg = ApproveDialog(self.ref, path, parent=self)
        dlg.approved.connect(lambda _r: self.refresh())
        return self._open(dlg)

    def revoke_device(self, row: int | None = None) -> RevokeDialog | None:
        if not self.hq_keys:
            return None
        if row is None:
            row = self._selected(self.device_table)
        if row is None or not (0 <= row < self.device_model.rowCount()):
            return None
        dev = self.device_model.row_at(row)
        if dev.site_kind == "hq" or DeviceTableModel.revoked(dev):
            return None
        dlg = RevokeDialog(self.ref, dev, parent=self)
        dlg.revoked.connect(lambda _r: self.refresh())
        return self._open(dlg, start=False)

    def rotate_root(self) -> RootRotationDialog | None:
        """HQ administrators: the dialog that changes HQ's root key (see ``sync.rotate_root``)."""
        if not self.hq_keys:
            return None
        dlg = RootRotationDialog(self.ref, self.snapshot.status.root_fingerprint if self.snapshot is not None else "", parent=self)
        dlg.rotated.connect(lambda _r: self.refresh())
        return self._open(dlg, start=False)

    def write_registry(self, folder: Path | None = None) -> Op | None:
        """HQ: one registry bundle per enrolled device into ``folder`` (revocations travel this way)."""
        if not self.hq_keys:
            return None
        if folder is None:
            folder = self._pick_folder(tr("Folder for the registry bundles"))
            if folder is None:
                return None
        ws = self.ref.ws
        return run_op(self, lambda _op: sync.write_registry_bundles(ws, folder)).on_success(lambda paths: self._on_registry(folder, paths)).on_finished(self.refresh).start()

    def _on_registry(self, folder: Path, paths: list[Path]) -> None:
        text = tr("{n} registry bundle(s) written to:").format(n=fmt_int(len(paths))) + f"\n{ltr(str(folder))}\n"
        text += "\n".join(ltr(p.name) for p in paths)
        text += "\n" + tr("Give each unit the file with its code in the name; they import it with Import….")
        self.say("ok", text)

    # -- field: enrolment, keys, retention ----------------------------------------------------------------

    def make_request(self, folder: Path | None = None) -> Op | None:
        """Field: writes the enrolment request file (and this computer's keys, once)."""
        if not self.field_keys:
            return None
        if folder is None:
            folder = self._pick_folder(tr("Folder for the enrolment request"))
            if folder is None:
                return None
        ws = self.ref.ws
        return run_op(self, lambda _op: sync.enrol_request(ws, folder)).on_success(self._on_request).on_finished(self.refresh).start()

    def _on_request(self, r: sync.EnrolResult) -> None:
        self.say("ok", request_written_text(r))

    def accept_answer(self, path: Path | None = None) -> AcceptDialog | None:
        if not self.field_keys:
            return None
        if path is None:
            name, _ = QFileDialog.getOpenFileName(self, tr("HQ's answer"), str(Path.home()), tr("HQ's answers") + " (*.napresp)")
            if not name:
                return None
            path = Path(name)
        dlg = AcceptDialog(self.ref, path, parent=self)
        # the laptop is enrolled now: this screen reloads, and an automatic sync waiting for it goes ahead
        dlg.accepted_answer.connect(lambda _r: self.ref.settings_changed.emit())
        return self._open(dlg)

    def rotate_keys(self, folder: Path | None = None) -> Op | None:
        """Field: new keys now; the request goes to HQ, whose answer is accepted like an enrolment."""
        if not self.field_keys:
            return None
        if not self.ask(
            tr("Rotate keys"),
            tr("This computer makes new keys now. Exports wait until HQ approves the new key and its answer is accepted here. Continue?"),
        ):
            return None
        if folder is None:
            folder = self._pick_folder(tr("Folder for the key rotation request"))
            if folder is None:
                return None
        ws = self.ref.ws
        return run_op(self, lambda _op: sync.rotate_keys(ws, folder)).on_success(self._on_request).on_finished(self.refresh).start()

    def edit_link(self) -> LinkDialog | None:
        """Field administrators: the Connection to HQ dialog (server address, interval, proxy)."""
        if not self.may_link or self.snapshot is None or self.snapshot.link is None:
            return None
        dlg = LinkDialog(self.ref, self.snapshot.link, self.snapshot.managed, parent=self)
        dlg.saved.connect(self._on_link_saved)
        return self._open(dlg, start=False)

    def _on_link_saved(self, settings: link.LinkSettings) -> None:
        if settings.server_url:
            self.say("ok", tr("Connection to HQ saved. This laptop sends its bundles to:") + f"\n{ltr(settings.server_url)}")
        else:
            self.say("ok", tr("Connection to HQ saved. Without a server address this laptop syncs by USB stick only."))
        self.ref.settings_changed.emit()  # the sync indicator, and this screen, read the new address

    def _show_inbox(self, box: hq.InboxState) -> None:
        """HQ: bundles the intake server received and the importer has not applied yet, and the
        ones it refused, with why (the latest in the tooltip)."""
        counts = tr("{waiting} waiting · {claimed} being imported · {rejected} refused")
        self._set("inbox", counts.format(waiting=fmt_int(box.waiting), claimed=fmt_int(box.claimed), rejected=fmt_int(box.rejected)))
        label = self.info["inbox"]
        label.setStyleSheet("color: #b00020;" if box.rejected else "")
        if box.reasons:
            lines = [f"{when(at)}: {core_text(why)}" for at, why in box.reasons]
            label.setToolTip(tr("Latest refusals (the files are in {folder}):").format(folder=ltr("inbox/intake/rejected")) + "\n" + "\n".join(lines))
        else:
            label.setToolTip("")

    def _reload_if_loaded(self) -> None:
        if self.loaded:
            self.refresh()

    def change_retention(self, days: int | None = None) -> Op | None:
        if not self.may_retention:
            return None
        if days is None:
            current = self.snapshot.status.retention_days if self.snapshot else sync.DEFAULT_RETENTION_DAYS
            days, ok = QInputDialog.getInt(
                self, tr("Retention"), tr("Days personal data stays on this computer after HQ's receipt (7–3650):"), current, 7, 3650, 1
            )
            if not ok:
                return None
        ws, n = self.ref.ws, days
        return run_op(self, lambda _op: sync.set_retention(ws, n)).on_finished(self.refresh).start()

