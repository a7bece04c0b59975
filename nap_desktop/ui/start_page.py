# SPDX-License-Identifier: GPL-3.0-or-later
"""The start page: who is signed in where, the records per type, the last backup, what comes next."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QGroupBox, QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget

from nap_desktop.domain.records import RECORD_TYPES
from nap_desktop.security.permissions import ROLE_LABELS, Perm, Role
from nap_desktop.services.backup import REMINDER_DAYS, backup_due
from nap_desktop.services.records import counts_by_type
from nap_desktop.services.workspace import WorkspaceInfo, workspace_info
from nap_desktop.ui.i18n import N_, fmt_int, pick, tr
from nap_desktop.ui.session import SessionRef
from nap_desktop.ui.widgets import heading
from nap_desktop.ui.workers import run_op

SITE_KINDS = {"post": N_("Border post"), "circle": N_("Circle"), "hq": N_("Headquarters")}


class StartPage(QWidget):
    """Status of the workspace; each record count opens its list."""

    type_requested = Signal(str)
    backup_requested = Signal()
    sync_requested = Signal()

    def __init__(self, ref: SessionRef, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("startPage")
        self.ref = ref
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        outer.addWidget(scroll)
        inner = QWidget()
        scroll.setWidget(inner)
        lay = QVBoxLayout(inner)
        lay.setContentsMargins(16, 16, 16, 16)
        lay.setSpacing(14)
        user = ref.ws.user
        self.welcome = heading(tr("Welcome, {name}").format(name=user.full_name or user.username), 1.6)
        lay.addWidget(self.welcome)

        box = QGroupBox(tr("This workspace"))
        self.info_grid = QGridLayout(box)
        self.info_grid.setColumnStretch(1, 1)
        self.info: dict[str, QLabel] = {}
        rows = [
            ("unit", tr("Unit:")),
            ("user", tr("Signed in as:")),
            ("backup", tr("Last backup:")),
            ("recovery", tr("HQ recovery key:")),
            ("sync", tr("Pending sync:")),
            ("returns", tr("Returns due:")),
        ]
        for i, (key, label) in enumerate(rows):
            name = QLabel(label)
            value = QLabel("…")
            value.setObjectName(f"info_{key}")
            value.setWordWrap(True)
            self.info_grid.addWidget(name, i, 0, Qt.AlignmentFlag.AlignTop)
            self.info_grid.addWidget(value, i, 1)
            self.info[key] = value
        self.backup_button = QPushButton(tr("Back up now"))
        self.backup_button.setObjectName("backupNowButton")
        self.backup_button.clicked.connect(lambda _c=False: self.backup_requested.emit())
        self.backup_button.hide()
        self.info_grid.addWidget(self.backup_button, [k for k, _ in rows].index("backup"), 2, Qt.AlignmentFlag.AlignTop)
        self.info["returns"].setText("…")
        self.sync_button = QPushButton(tr("Open Sync"))
        self.sync_button.setObjectName("openSyncButton")
        self.sync_button.clicked.connect(lambda _c=False: self.sync_requested.emit())
        self.sync_button.setVisible(any(ref.can(p) for p in (Perm.BUNDLE_EXPORT, Perm.BUNDLE_IMPORT, Perm.KEYS_MANAGE)))
        self.info_grid.addWidget(self.sync_button, [k for k, _ in rows].index("sync"), 2, Qt.AlignmentFlag.AlignTop)
        self.sync_status: Any = None
        role = Role(user.role)
        self.info["user"].setText(f"{user.username} — {pick(*ROLE_LABELS[role])}")
        lay.addWidget(box)

        self.records_box = QGroupBox(tr("Records"))
        self.records_grid = QGridLayout(self.records_box)
        self.count_buttons: dict[str, QPushButton] = {}
        if ref.can(Perm.RECORD_READ):
            for i, (name, rt) in enumerate(RECORD_TYPES.items()):
                b = QPushButton(pick(rt.label_en, rt.label_ur))
                b.setObjectName(f"count_{name}")
                b.setMinimumHeight(40)
                b.setStyleSheet("text-align: left; padding: 6px 10px;" if not _rtl() else "text-align: right; padding: 6px 10px;")
                b.clicked.connect(lambda _c=False, n=name: self.type_requested.emit(n))
                self.records_grid.addWidget(b, i // 3, i % 3)
                self.count_buttons[name] = b
        else:
            note = QLabel(tr("Your role does not work with records. Use the menus for your tasks."))
            note.setObjectName("noRecordsNote")
            note.setWordWrap(True)
            self.records_grid.addWidget(note, 0, 0)
        lay.addWidget(self.records_box)
        tips = QLabel(tr("Keyboard: Ctrl+N new record · Ctrl+F find · Ctrl+S save · Esc close · Ctrl+L lock"))
        tips.setObjectName("keyboardTips")
        tips.setStyleSheet("color: #555;")
        tips.setWordWrap(True)
        lay.addWidget(tips)
        lay.addStretch(1)
        self.counts: dict[str, int] = {}
        self.loaded = False

    def refresh(self) -> None:
        """Reloads the status and counts (pure reads, on a pool thread)."""
        if not self.ref.unlocked:
            return
        ws = self.ref.ws
        read = self.ref.can(Perm.RECORD_READ)

        def work(_op: object) -> tuple[WorkspaceInfo, dict[str, int]]:
            return workspace_info(ws), counts_by_type(ws) if read else {}

        run_op(self, work, writer=False).on_success(self._show).start()
        run_op(self, lambda _op: _sync_status(ws), writer=False).on_success(self._show_sync).on_failure(self._sync_failed).start()
        run_op(self, lambda _op: _due_returns(ws), writer=False).on_success(self._show_returns).start()

    def _show_returns(self, due: list[Any]) -> None:
        """The unit's returns of the last three months not yet with the unit above."""
        label = self.info["returns"]
        if not due:
            label.setText(tr("None: every recent return is submitted."))
            label.setStyleSheet("")
            return
        parts = [f"{d.month} ({tr(d.state)})" for d in due]
        overdue = [d for d in due if d.overdue]
        text = ", ".join(parts)
        if overdue:
            text += " — " + tr("overdue since {date}").format(date=overdue[0].due_on.isoformat())
        label.setText(text)
        label.setStyleSheet("color: #b00020;" if overdue else "")

    def _sync_failed(self, _exc: BaseException) -> None:
        # NOTE: a status line only; the sync screen shows the error itself when opened.
        self.info["sync"].setText(tr("Not available; open Sync for details."))

    def _show_sync(self, st: Any) -> None:
        """Pending sync: changes not yet sent, bundles awaiting HQ's receipt, open conflicts."""
        self.sync_status = st
        label = self.info["sync"]
        if st.site_kind != "hq" and not st.enrolled:
            label.setText(tr("Not enrolled with HQ yet."))
            label.setStyleSheet("color: #b00020;")
            return
        bits = []
        if st.site_kind != "hq":
            bits.append(tr("changes not yet sent: {n}").format(n=fmt_int(st.pending_records)))
            bits.append(tr("bundles awaiting HQ's receipt: {n}").format(n=fmt_int(len(st.unacknowledged))))
        bits.append(tr("open conflicts: {n}").format(n=fmt_int(st.open_conflicts)))
        if st.held:
            bits.append(tr("bundles held: {n}").format(n=fmt_int(len(st.held))))
        label.setText(" · ".join(bits))
        label.setStyleSheet("color: #b00020;" if st.open_conflicts or st.held else "")

    def _show(self, out: tuple[WorkspaceInfo, dict[str, int]]) -> Any:
        info, counts = out
        self.counts = counts
        self.info["unit"].setText(f"{pick(info.unit_name_en, info.unit_name_ur)} ({info.unit}) · {tr(SITE_KINDS.get(info.site_kind, info.site_kind))}")
        due = backup_due(info.last_backup)
        if info.last_backup is None:
            when = tr("No backup yet") + " — " + tr("back up now.")
        else:
            when = info.last_backup.strftime("%Y-%m-%d %H:%M")
            if due:
                when += " — " + tr("more than {n} days ago: back up now.").format(n=REMINDER_DAYS)
        self.info["backup"].setText(when)
        self.info["backup"].setStyleSheet("color: #b00020;" if due else "")
        self.backup_button.setVisible(due and self.ref.can(Perm.WORKSPACE_BACKUP))
        if info.recovery_set:
            self.info["recovery"].setText(tr("Set — HQ can recover this workspace if every password is lost."))
            self.info["recovery"].setStyleSheet("")
        else:
            self.info["recovery"].setText(tr("Not set — if every password is lost, the data cannot be recovered. Ask HQ for its recovery key."))
            self.info["recovery"].setStyleSheet("color: #b00020;")
        for name, b in self.count_buttons.items():
            rt = RECORD_TYPES[name]
            b.setText(f"{pick(rt.label_en, rt.label_ur)}   {fmt_int(counts.get(name, 0))}")
        self.loaded = True


def _sync_status(ws: Any) -> Any:
    from nap_desktop.services.sync import sync_status

    return sync_status(ws)


def _rtl() -> bool:
    from nap_desktop.ui.i18n import is_rtl

    return is_rtl()


def _due_returns(ws: Any) -> list[Any]:
    from nap_desktop.reports.returns import due_returns  # NOTE: loaded on the pool thread, off the start path

    return due_returns(ws)
