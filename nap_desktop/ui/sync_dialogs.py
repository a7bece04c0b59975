# SPDX-License-Identifier: GPL-3.0-or-later
"""Dialogs of the sync screen: import (dry run first), a conflict side by side, and the key
decisions — approving a device's request (HQ), accepting HQ's answer (field), revoking a device.

Every service call runs on the writer thread (``ui.workers.run_op``); a dialog only shows what the
service returned. Refusals are shown through ``ui.errors.show_exception``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from nap_desktop.errors import Cancelled
from nap_desktop.services import sync
from nap_desktop.ui.errors import show_exception
from nap_desktop.ui.i18n import fmt_int, ltr, pick, rtl_safe, tr, tr_known, unbroken
from nap_desktop.ui.session import SessionRef
from nap_desktop.ui.sync_models import (
    REVOKE_REASONS,
    SITE_KINDS,
    CompareModel,
    ImportResultModel,
    counts_text,
)
from nap_desktop.ui.widgets import Banner, button_row, heading, primary_button
from nap_desktop.ui.workers import Op, OpContext, run_op

logger = logging.getLogger(__name__)


def set_ltr(label: QLabel, text: str) -> None:
    """Shows an id, a fingerprint or a path in one left-to-right piece, at the UI's reading edge."""
    label.setText(rtl_safe(ltr(text)))


def mono(text: str, size: float = 1.0) -> QLabel:
    """A label in a fixed-width font (fingerprints, key ids); fill it with :func:`set_ltr`."""
    label = QLabel(text)
    f = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    f.setPointSizeF(f.pointSizeF() * size)
    label.setFont(f)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setWordWrap(True)
    return label


def table_view(name: str) -> QTableView:
    """A read-only, row-selecting table with stretching last column."""
    view = QTableView()
    view.setObjectName(name)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setWordWrap(True)
    view.verticalHeader().setVisible(False)
    view.horizontalHeader().setStretchLastSection(True)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    return view


def unit_text(ref: SessionRef, code: str) -> str:
    """``Torkham (P-TORKHAM)``: the unit's name in the UI language and its code (never split
    over two lines: a wrapped label used to show "(C-" above "PSH)")."""
    name = ref.unit_name(code)
    return f"{name} ({unbroken(code)})" if name != code else unbroken(code)


class _WorkDialog(QDialog):
    """A dialog that runs one service call at a time and refuses to close meanwhile."""

    def __init__(self, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.busy = False
        self.op: Op | None = None

    def _run(self, fn: Any, done: Any, *, progress: str | None = None, cancellable: bool = False, failed: Any = None) -> Op:
        self.busy = True
        self._update()
        op = run_op(self, fn).on_success(done).on_finished(self._finished)
        if failed is not None:
            op.on_failure(failed)
        if progress is not None:
            op.with_progress(progress, cancellable=cancellable)
        self.op = op.start()
        return self.op

    def _finished(self) -> None:
        self.busy = False
        self._update()

    def _update(self) -> None:
        """Enables the buttons for the current state (subclasses)."""

    def reject(self) -> None:  # noqa: D102
        if self.busy:
            return
        super().reject()


# --- import ------------------------------------------------------------------------------------


def _line_totals(paths: list[Path]) -> dict[Path, int]:
    """Lines per bundle from each manifest (for the progress bar; unreadable files count 0)."""
    from nap_desktop.sync.bundle import open_bundle

    out = {}
    for p in paths:
        try:
            out[p] = sum(open_bundle(p).manifest.counts.values())
        except Exception:  # noqa: BLE001 - the import itself reports the file
            out[p] = 0
    return out


def import_work(ws: Any, paths: list[Path], *, dry_run: bool) -> Any:
    """The worker function of an import: ``sync.import_each`` with progress over all files and cancel."""

    def fn(op: OpContext) -> list[tuple[str, Any]]:
        totals = _line_totals(paths)
        grand = sum(totals.values())
        base = [0, 0]  # lines of the files before the current one, and its own total

        def on_file(_i: int, p: Path) -> None:
            op.check_cancelled()
            base[0] += base[1]
            base[1] = totals.get(p, 0)
            op.progress(base[0], grand, "")

        def progress(n: int, _label: str) -> None:
            op.check_cancelled()
            op.progress(base[0] + min(n, base[1] or n), grand, "")

        results = sync.import_each(ws, paths, dry_run=dry_run, progress=progress, on_file=on_file)
        return [(p.name, r) for p, r in results]

    return fn


class ImportDialog(_WorkDialog):
    """Import several bundle files: first a dry run (nothing changes), then "Import" to apply.

    The table shows, per file, what would be (or was) imported: new, updated, identical,
    conflicts, rejected, with the problems; refused files say why.
    """

    imported = Signal()

    def __init__(self, ref: SessionRef, paths: list[Path], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("importDialog")
        self.setWindowTitle(tr("Import bundles"))
        self.resize(1120, 520)
        self.ref = ref
        self.paths = [Path(p) for p in paths]
        self.applied = False
        self.results: list[tuple[str, Any]] = []
        lay = QVBoxLayout(self)
        lay.addWidget(heading(tr("Import bundles")))
        self.intro = QLabel(tr("First a check of every file: nothing is changed until you press Import."))
        self.intro.setWordWrap(True)
        lay.addWidget(self.intro)
        self.model = ImportResultModel(self)
        self.table = table_view("importTable")
        self.table.setModel(self.model)
        lay.addWidget(self.table, 1)
        self.totals_label = QLabel()
        self.totals_label.setObjectName("importTotals")
        self.totals_label.setWordWrap(True)
        lay.addWidget(self.totals_label)
        self.banner = Banner()
        self.banner.setObjectName("importBanner")
        lay.addWidget(self.banner)
        self.import_button = primary_button(tr("Import"))
        self.import_button.setObjectName("importApplyButton")
        self.import_button.clicked.connect(self.apply)
        row, self.close_button = button_row(self, self.import_button, cancel_text=tr("Close"))
        self.close_button.setObjectName("importCloseButton")
        lay.addLayout(row)
        self._update()

    def start(self) -> Op:
        """Runs the dry run (called once the dialog is shown)."""
        return self._run(
            import_work(self.ref.ws, self.paths, dry_run=True), self._on_checked, progress=tr("Checking the bundles…"), cancellable=True, failed=self._on_check_failed
        )

    def _on_check_failed(self, exc: BaseException) -> None:
        if isinstance(exc, Cancelled):
            self.banner.show_message("warning", tr("Check cancelled; nothing was imported."))
            return
        show_exception(parent=self, exc=exc)

    def _show_results(self, results: list[tuple[str, Any]]) -> None:
        self.results = results
        self.model.set_rows(results)
        self.table.resizeColumnsToContents()
        for key in ("file", "result"):  # the problems column gets the room; full names in tooltips
            col = self.model.column_of(key)
            self.table.setColumnWidth(col, min(self.table.columnWidth(col), 230))
        self.table.resizeRowsToContents()
        t = self.model.totals()
        text = counts_text(t["new"], t["updated"], t["identical"], t["conflicts"])
        text += " · " + tr("rejected: {n}").format(n=fmt_int(t["rejected"]))
        if t["refused"]:
            text += " · " + tr("files refused: {n}").format(n=fmt_int(t["refused"]))
        self.totals_label.setText(text)

    def importable(self) -> bool:
        """Whether applying would do anything: some file passed the check with no rejected record."""
        return any(not isinstance(r, BaseException) and r.rejected == 0 and r.outcome != "already imported" for _n, r in self.results)

    def _on_checked(self, results: list[tuple[str, Any]]) -> None:
        self._show_results(results)
        if not self.importable():
            self.banner.show_message("warning", tr("Nothing here can be imported. The table says why."))
        elif any(isinstance(r, BaseException) or r.rejected for _n, r in results):
            self.banner.show_message("warning", tr("Some files will not be imported (see the table). Import applies the others."))
        else:
            self.banner.show_message("info", tr("The check found no problem. Press Import to apply."))

    def apply(self) -> Op | None:
        """Imports for real (each bundle whole or not at all)."""
        if self.busy or self.applied or not self.importable():
            return None
        return self._run(import_work(self.ref.ws, self.paths, dry_run=False), self._on_applied, progress=tr("Importing the bundles…"), cancellable=True, failed=self._on_apply_failed)

    def _on_applied(self, results: list[tuple[str, Any]]) -> None:
        self.applied = True
        self._show_results(results)
        self.intro.setText(tr("Import finished."))
        receipts = [r.receipt for _n, r in results if not isinstance(r, BaseException) and r.receipt]
        text = tr("Imported. Each bundle was applied whole or not at all.")
        if receipts:
            folders = sorted({str(p.parent) for p in receipts})
            text += "\n" + tr("{n} receipt(s) for the sending units were written to:").format(n=fmt_int(len(receipts))) + "\n" + "\n".join(ltr(f) for f in folders)
            text += "\n" + tr("Send each unit its receipt (the file name starts with the unit's code) with the next bundle going out to it.")
        self.banner.show_message("ok", text)
        self.imported.emit()
        refused = [r for _n, r in results if isinstance(r, BaseException)]
        if refused:
            show_exception(parent=self, exc=refused[0])

    def _on_apply_failed(self, exc: BaseException) -> None:
        if isinstance(exc, Cancelled):
            self.banner.show_message("warning", tr("Import cancelled. A bundle is applied whole or not at all; the history shows which ones were imported."))
            self.imported.emit()
            return
        show_exception(parent=self, exc=exc)

    def _update(self) -> None:
        self.import_button.setEnabled(not self.busy and not self.applied and self.importable())
        self.import_button.setVisible(not self.applied)
        self.close_button.setEnabled(not self.busy)


# --- conflicts ---------------------------------------------------------------------------------


class ConflictDialog(_WorkDialog):
    """Both versions of a record side by side; a person decides which one stays."""

    resolved = Signal(str)

    def __init__(self, ref: SessionRef, conflict_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("conflictDialog")
        self.setWindowTitle(tr("Conflict"))
        self.resize(900, 620)
        self.ref = ref
        self.conflict_id = conflict_id
        self.detail: sync.ConflictDetail | None = None
        self.outcome: str | None = None
        lay = QVBoxLayout(self)
        self.title = heading(tr("Conflict"))
        lay.addWidget(self.title)
        self.explain = QLabel(
            tr("This record was changed here and at the sending unit, each from the same earlier version. Nothing was overwritten: decide which version stays. The decision is sent on with the next bundle.")
        )
        self.explain.setWordWrap(True)
        lay.addWidget(self.explain)
        self.meta = QLabel()
        self.meta.setObjectName("conflictMeta")
        self.meta.setWordWrap(True)
        for label in (self.explain, self.meta):  # wrapped text keeps its lines; the table gives way
            label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        lay.addWidget(self.meta)
        self.model = CompareModel(ref.codelists, self)
        self.table = table_view("compareTable")
        self.table.setModel(self.model)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        lay.addWidget(self.table, 1)
        self.legend = QLabel(tr("Fields that differ are highlighted."))
        self.legend.setStyleSheet("color: #555;")
        lay.addWidget(self.legend)
        self.banner = Banner()
        lay.addWidget(self.banner)
        row = QHBoxLayout()
        self.close_button = QPushButton(tr("Close"))
        self.close_button.setAutoDefault(False)
        self.close_button.clicked.connect(self.reject)
        self.keep_button = QPushButton(tr("Keep this workspace's version"))
        self.keep_button.setObjectName("keepLocalButton")
        self.keep_button.setAutoDefault(False)
        self.keep_button.clicked.connect(lambda: self.resolve("local"))
        self.take_button = QPushButton(tr("Take the incoming version"))
        self.take_button.setObjectName("takeIncomingButton")
        self.take_button.setAutoDefault(False)
        self.take_button.clicked.connect(lambda: self.resolve("incoming"))
        row.addWidget(self.close_button)
        row.addStretch(1)
        row.addWidget(self.keep_button)
        row.addWidget(self.take_button)
        lay.addLayout(row)
        self._update()

    def start(self) -> Op:
        ws, cid = self.ref.ws, self.conflict_id
        return self._run(lambda _op: sync.show_conflict(ws, cid), self._on_loaded)

    def _on_loaded(self, detail: sync.ConflictDetail) -> None:
        self.detail = detail
        self.model.set_detail(detail)
        self.table.resizeColumnToContents(0)
        width = max(200, (self.table.viewport().width() - self.table.columnWidth(0)) // 2)
        self.table.setColumnWidth(1, width)
        self.table.resizeRowsToContents()
        from nap_desktop.domain.records import RECORD_TYPES

        rt = RECORD_TYPES[detail.info.record_type]
        info = detail.info
        self.title.setText(tr("Conflict: {what}").format(what=pick(rt.label_en, rt.label_ur)))
        self.meta.setText(rtl_safe(
            tr("Record {id} · version here {local} · incoming version {incoming} from {unit}").format(
                id=ltr(info.record_id[:8]), local=info.local_version, incoming=info.incoming_version, unit=unit_text(self.ref, info.source_unit)
            )
        ))
        if info.reason == "locked":
            self.explain.setText(
                tr("This change is dated in a month whose monthly return is approved, so it was not applied: the approved figures stay as they are. Nothing was lost; the incoming version waits here.")
            )
            if detail.locked:
                self.banner.show_message("info", tr_known(detail.locked))
        self.keep_button.setVisible(info.local_version != 0)  # a new record has no version here to keep
        self.take_button.setToolTip(tr("The month's return must be unlocked first.") if detail.locked else "")
        if detail.masked:
            self.legend.setText(tr("Fields that differ are highlighted.") + " " + tr("Personal fields are hidden (•••) for your role; they are decided with the rest of the record."))

    def resolve(self, keep: str) -> Op | None:
        """Keeps ``local`` or takes ``incoming`` (on the writer thread)."""
        if self.busy or self.detail is None or self.outcome is not None:
            return None
        ws, cid = self.ref.ws, self.conflict_id
        return self._run(lambda _op: sync.resolve_conflict(ws, cid, keep=keep), lambda _info: self._on_resolved(keep))

    def _on_resolved(self, keep: str) -> None:
        self.outcome = keep
        self.banner.show_message(
            "ok", tr("Resolved: this workspace's version stays.") if keep == "local" else tr("Resolved: the incoming version was taken.")
        )
        self.resolved.emit(keep)
        if self.detail is not None:
            self.ref.records_changed.emit(self.detail.info.record_type)

    def _update(self) -> None:
        ready = not self.busy and self.detail is not None and self.outcome is None
        self.keep_button.setEnabled(ready)
        self.take_button.setEnabled(ready and not (self.detail is not None and self.detail.locked))
        self.close_button.setEnabled(not self.busy)


# --- enrolment: HQ approves ------------------------------------------------------------------------


class ApproveDialog(_WorkDialog):
    """HQ: shows what a request asks for (unit, device, key fingerprint), then writes the answer."""

    approved = Signal(object)

    def __init__(self, ref: SessionRef, request: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("approveDialog")
        self.setWindowTitle(tr("Approve an enrolment request"))
        self.setMinimumWidth(640)
        self.ref = ref
        self.request = Path(request)
        self.info: sync.EnrolRequestInfo | None = None
        self.result: sync.EnrolResult | None = None
        lay = QVBoxLayout(self)
        lay.addWidget(heading(tr("Approve an enrolment request")))
        self.explain = QLabel(tr("Check that this request comes from the unit it names: call the unit and compare the key fingerprint with the one on their screen."))
        self.explain.setWordWrap(True)
        lay.addWidget(self.explain)
        form = QFormLayout()
        self.fields: dict[str, QLabel] = {}
        for key, label in (
            ("kind", tr("Request:")),
            ("unit", tr("Unit:")),
            ("site", tr("Site kind:")),
            ("device", tr("Device:")),
            ("key", tr("Key fingerprint:")),
        ):
            value = mono("…", 1.2) if key == "key" else QLabel("…")
            value.setObjectName(f"approve_{key}")
            value.setWordWrap(True)
            self.fields[key] = value
            form.addRow(label, value)
        self.folder_edit = QLineEdit(str(self.request.parent))
        self.folder_edit.setObjectName("answerFolderEdit")
        self.folder_edit.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        choose = QPushButton(tr("Choose…"))
        choose.setAutoDefault(False)
        choose.clicked.connect(self._choose_folder)
        box = QWidget()
        r = QHBoxLayout(box)
        r.setContentsMargins(0, 0, 0, 0)
        r.addWidget(self.folder_edit, 1)
        r.addWidget(choose)
        form.addRow(tr("Write the answer to:"), box)
        lay.addLayout(form)
        self.banner = Banner()
        self.banner.setObjectName("approveBanner")
        lay.addWidget(self.banner)
        self.approve_button = primary_button(tr("Approve and write the answer"))
        self.approve_button.setObjectName("approveButton")
        self.approve_button.clicked.connect(self.approve)
        row, self.close_button = button_row(self, self.approve_button)
        lay.addLayout(row)
        self._update()

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, tr("Folder for HQ's answer"), self.folder_edit.text())
        if folder:
            self.folder_edit.setText(folder)

    def start(self) -> Op:
        ws, path = self.ref.ws, self.request
        return self._run(lambda _op: sync.read_enrol_request(ws, path), self._on_read, failed=self._on_read_failed)

    def _on_read(self, info: sync.EnrolRequestInfo) -> None:
        self.info = info
        self.fields["kind"].setText(tr("Key rotation of an enrolled device") if info.rotation else tr("New device"))
        self.fields["unit"].setText(rtl_safe(unit_text(self.ref, info.unit)))
        self.fields["site"].setText(tr(SITE_KINDS.get(info.site_kind, info.site_kind)))
        set_ltr(self.fields["device"], info.device_id)
        set_ltr(self.fields["key"], info.key_fingerprint)
        if not info.unit_known:
            self.banner.show_message("error", tr("Unit {unit} is not an active unit here. Add it under Units first.").format(unit=info.unit))
        elif info.already_enrolled and not info.rotation:
            self.banner.show_message("warning", tr("This device is already enrolled. Approving again writes the same answer once more."))

    def _on_read_failed(self, exc: BaseException) -> None:
        show_exception(parent=self, exc=exc)
        self.banner.show_message("error", tr("This request cannot be used."))

    def approve(self) -> Op | None:
        if self.busy or self.info is None or self.result is not None or not self.info.unit_known:
            return None
        ws, path, folder = self.ref.ws, self.request, Path(self.folder_edit.text().strip() or str(self.request.parent))
        return self._run(lambda _op: sync.enrol_approve(ws, path, out_dir=folder), self._on_approved)

    def _on_approved(self, result: sync.EnrolResult) -> None:
        self.result = result
        self.banner.show_message(
            "ok",
            tr("Approved. HQ's answer was written to:")
            + f"\n{ltr(str(result.path))}\n"
            + tr("Give this file to the unit. Tell them HQ's key fingerprint by phone, so that they can check the file:")
            + f"\n{result.root_fingerprint}",
        )
        self.close_button.setText(tr("Close"))
        self.approved.emit(result)

    def _update(self) -> None:
        ok = not self.busy and self.info is not None and self.result is None and self.info.unit_known
        self.approve_button.setEnabled(ok)
        self.approve_button.setVisible(self.result is None)
        self.close_button.setEnabled(not self.busy)


# --- enrolment: the device accepts -------------------------------------------------------------------


def norm_fingerprint(text: str) -> str:
    """A fingerprint as typed (spaces, lower case) compared by its letters only."""
    return "".join(text.split()).upper()


class AcceptDialog(_WorkDialog):
    """Field: shows HQ's root key fingerprint from the answer file and asks the officer to type the
    one HQ gave them by phone; only a match may be accepted (the service checks it again)."""

    accepted_answer = Signal(object)

    def __init__(self, ref: SessionRef, response: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("acceptDialog")
        self.setWindowTitle(tr("Accept HQ's answer"))
        self.setMinimumWidth(620)
        self.ref = ref
        self.response = Path(response)
        self.info: sync.EnrolResponseInfo | None = None
        self.result: sync.EnrolResult | None = None
        lay = QVBoxLayout(self)
        lay.addWidget(heading(tr("Accept HQ's answer")))
        explain = QLabel(
            tr("A forged answer would let someone else read this workspace's bundles. HQ tells you its key fingerprint by phone or in person: type it below. It must match the one in the file.")
        )
        explain.setWordWrap(True)
        lay.addWidget(explain)
        form = QFormLayout()
        self.file_fp = mono("…", 1.3)
        self.file_fp.setObjectName("fileFingerprint")
        form.addRow(tr("HQ's key fingerprint in this file:"), self.file_fp)
        self.typed = QLineEdit()
        self.typed.setObjectName("typedFingerprint")
        self.typed.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        self.typed.setPlaceholderText("XXXX XXXX XXXX XXXX")
        f = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.typed.setFont(f)
        self.typed.textChanged.connect(lambda _t: self._update())
        form.addRow(tr("Fingerprint HQ gave you:"), self.typed)
        self.match_label = QLabel()
        self.match_label.setObjectName("matchLabel")
        self.match_label.setWordWrap(True)
        form.addRow("", self.match_label)
        lay.addLayout(form)
        self.banner = Banner()
        self.banner.setObjectName("acceptBanner")
        lay.addWidget(self.banner)
        self.accept_button = primary_button(tr("The fingerprints match: accept"))
        self.accept_button.setObjectName("acceptAnswerButton")
        self.accept_button.clicked.connect(self.accept_answer)
        row, self.close_button = button_row(self, self.accept_button)
        lay.addLayout(row)
        self._update()

    def start(self) -> Op:
        ws, path = self.ref.ws, self.response
        return self._run(lambda _op: sync.read_enrol_response(ws, path), self._on_read, failed=self._on_read_failed)

    def _on_read(self, info: sync.EnrolResponseInfo) -> None:
        self.info = info
        set_ltr(self.file_fp, info.root_fingerprint)
        self.typed.setFocus()
        self._update()

    def _on_read_failed(self, exc: BaseException) -> None:
        show_exception(parent=self, exc=exc)
        self.banner.show_message("error", tr("This answer cannot be used."))

    def matches(self) -> bool:
        return self.info is not None and norm_fingerprint(self.typed.text()) == norm_fingerprint(self.info.root_fingerprint)

    def accept_answer(self) -> Op | None:
        if self.busy or not self.matches() or self.result is not None:
            return None
        ws, path, typed = self.ref.ws, self.response, self.typed.text()
        return self._run(lambda _op: sync.enrol_accept(ws, path, expected_fingerprint=typed), self._on_accepted)

    def _on_accepted(self, result: sync.EnrolResult) -> None:
        self.result = result
        self.banner.show_message(
            "ok",
            tr("Accepted. This workspace is enrolled with HQ for unit {unit} (key registry version {version}). Its bundles can now be exported.").format(
                unit=result.unit, version=result.registry_version
            ),
        )
        self.close_button.setText(tr("Close"))
        self.accepted_answer.emit(result)

    def _update(self) -> None:
        typed = self.typed.text().strip()
        if self.info is None or not typed:
            self.match_label.setText("")
        elif self.matches():
            self.match_label.setText(tr("Matches."))
            self.match_label.setStyleSheet("color: #1e5b2b;")
        elif len(norm_fingerprint(typed)) >= len(norm_fingerprint(self.info.root_fingerprint)):
            self.match_label.setText(tr("Does not match. Do not accept this file: call HQ."))
            self.match_label.setStyleSheet("color: #b00020;")
        else:
            self.match_label.setText("")
        self.accept_button.setEnabled(not self.busy and self.matches() and self.result is None)
        self.accept_button.setVisible(self.result is None)
        self.close_button.setEnabled(not self.busy)


# --- revocation ------------------------------------------------------------------------------------------


class RevokeDialog(_WorkDialog):
    """HQ: revokes every key of a device, with a reason; nothing it signs is accepted afterwards."""

    revoked = Signal(object)

    def __init__(self, ref: SessionRef, device: sync.DeviceInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("revokeDialog")
        self.setWindowTitle(tr("Revoke a device"))
        self.setMinimumWidth(560)
        self.ref = ref
        self.device = device
        self.registry_version: int | None = None
        lay = QVBoxLayout(self)
        lay.addWidget(heading(tr("Revoke a device")))
        explain = QLabel(
            tr("After revocation HQ and the circles refuse every bundle this device signs, also bundles already on their way. Use it for a lost or stolen laptop. It cannot be undone: the unit enrols again with a new request.")
        )
        explain.setWordWrap(True)
        lay.addWidget(explain)
        form = QFormLayout()
        form.addRow(tr("Unit:"), QLabel(rtl_safe(unit_text(ref, device.unit))))
        device_label, keys_label = mono(""), mono("")
        set_ltr(device_label, device.device_id)
        set_ltr(keys_label, ", ".join(k for k, _s in device.keys))
        form.addRow(tr("Device:"), device_label)
        form.addRow(tr("Keys:"), keys_label)
        self.reason = QComboBox()
        self.reason.setObjectName("revokeReason")
        self.reason.addItem(tr("— choose —"), None)
        for code, label in REVOKE_REASONS.items():
            self.reason.addItem(tr(label), code)
        self.reason.currentIndexChanged.connect(lambda _i: self._update())
        form.addRow(tr("Reason:"), self.reason)
        lay.addLayout(form)
        self.banner = Banner()
        self.banner.setObjectName("revokeBanner")
        lay.addWidget(self.banner)
        self.revoke_button = QPushButton(tr("Revoke"))
        self.revoke_button.setObjectName("revokeButton")
        self.revoke_button.setStyleSheet("QPushButton:enabled { color: #b00020; font-weight: bold; }")
        self.revoke_button.clicked.connect(self.revoke)
        row, self.close_button = button_row(self, self.revoke_button)
        lay.addLayout(row)
        self._update()

    def revoke(self) -> Op | None:
        code = self.reason.currentData()
        if self.busy or code is None or self.registry_version is not None:
            return None
        ws, device_id = self.ref.ws, self.device.device_id
        return self._run(lambda _op: sync.revoke_key(ws, device_id=device_id, reason=code), self._on_revoked)

    def _on_revoked(self, registry: Any) -> None:
        self.registry_version = registry.version
        self.banner.show_message(
            "ok",
            tr("Revoked (key registry version {version}). Write the registry bundles and send them to the other units, so that they refuse this device too.").format(
                version=registry.version
            ),
        )
        self.close_button.setText(tr("Close"))
        self.revoked.emit(registry)

    def _update(self) -> None:
        done = self.registry_version is not None
        self.revoke_button.setEnabled(not self.busy and self.reason.currentData() is not None and not done)
        self.revoke_button.setVisible(not done)
        self.reason.setEnabled(not done)
        self.close_button.setEnabled(not self.busy)



# --- HQ's root key ----------------------------------------------------------------------------------


class RootRotationDialog(_WorkDialog):
    """HQ: a new root key signs the key registry; enrolled devices follow the signed hand-over."""

    rotated = Signal(object)

    def __init__(self, ref: SessionRef, current_fingerprint: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("rootRotationDialog")
        self.setWindowTitle(tr("Change HQ's root key"))
        self.setMinimumWidth(600)
        self.ref = ref
        self.result: sync.RootRotation | None = None
        lay = QVBoxLayout(self)
        lay.addWidget(heading(tr("Change HQ's root key")))
        explain = QLabel(
            tr(
                "A new root key will sign the key registry from now on. The next registry carries the old key's signed hand-over to the new one: every enrolled device follows it when the registry reaches it (network sync, or registry bundles on a USB stick), and then refuses the old key. Nobody enrols again."
            )
        )
        explain.setWordWrap(True)
        lay.addWidget(explain)
        warn = QLabel(
            tr("If the old key was stolen, this does not protect devices that have not followed yet: enrol those again. Every device must run this version of NAP Desktop first.")
        )
        warn.setObjectName("rootRotationWarning")
        warn.setWordWrap(True)
        warn.setStyleSheet("color: #7a4a00;")
        lay.addWidget(warn)
        form = QFormLayout()
        self.old_fp = mono("")
        set_ltr(self.old_fp, current_fingerprint or "—")
        form.addRow(tr("Current fingerprint:"), self.old_fp)
        self.new_fp = mono("")
        self.new_fp_label = QLabel(tr("New fingerprint:"))
        form.addRow(self.new_fp_label, self.new_fp)
        lay.addLayout(form)
        self.banner = Banner()
        self.banner.setObjectName("rootRotationBanner")
        lay.addWidget(self.banner)
        self.rotate_button = QPushButton(tr("Change the root key"))
        self.rotate_button.setObjectName("rotateRootButton")
        self.rotate_button.setStyleSheet("QPushButton:enabled { color: #b00020; font-weight: bold; }")
        self.rotate_button.clicked.connect(self.rotate)
        row, self.close_button = button_row(self, self.rotate_button)
        lay.addLayout(row)
        self._update()

    def rotate(self) -> Op | None:
        if self.busy or self.result is not None:
            return None
        ws = self.ref.ws
        return self._run(lambda _op: sync.rotate_root(ws), self._on_rotated)

    def _on_rotated(self, result: sync.RootRotation) -> None:
        self.result = result
        set_ltr(self.new_fp, result.new_fingerprint)
        self.banner.show_message(
            "ok",
            tr("Changed (key registry version {version}). Write the registry bundles for units that do not sync over the network, and read the new fingerprint to units that enrol from now on.").format(
                version=result.registry.version
            ),
        )
        self.close_button.setText(tr("Close"))
        self.adjustSize()  # room for the message and the new fingerprint
        self.rotated.emit(result)

    def _update(self) -> None:
        done = self.result is not None
        self.rotate_button.setEnabled(not self.busy and not done)
        self.rotate_button.setVisible(not done)
        self.new_fp.setVisible(done)
        self.new_fp_label.setVisible(done)
        self.close_button.setEnabled(not self.busy)
