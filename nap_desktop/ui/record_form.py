# SPDX-License-Identifier: GPL-3.0-or-later
"""The form of a record, generated from its ``RecordType`` spec (``domain.records``).

One dialog serves every record type: an editor per field (see :mod:`field_editors`), inline
validation messages from the service's ``ValidationError.fields`` / ``fields_ur``, and the
capture rules that matter at a border post:

- the consent step comes first and gates "Complete" (a draft can be saved at any time);
- a possible duplicate person is flagged while the identity is typed (``find_duplicate_persons``);
- identity fields the role may not see are masked and locked;
- unsaved changes are guarded on close and Esc; Ctrl+S saves, Ctrl+Shift+S saves a draft;
- the History tab shows the from→to changes (``record_history``); the Links tab opens the linked
  records and starts the next record of the chain (a referral for this person, a suspect for
  this case …).

Loading, saving, deleting and the history run on the writer thread (reading personal data is
audited, which writes).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from nap_desktop.domain.records import RECORD_TYPES, FieldSpec
from nap_desktop.domain.validation import HTCDS_CONSENT
from nap_desktop.errors import NotFound, UserFacingError, ValidationError
from nap_desktop.security.permissions import Perm
from nap_desktop.security.crypto import atomic_write
from nap_desktop.services.records import (
    DuplicateCandidate,
    HistoryEntry,
    LinkedRecord,
    Links,
    RecordDTO,
    attach_evidence,
    create_record,
    delete_record,
    find_duplicate_persons,
    get_evidence,
    get_record,
    linked_records,
    record_history,
    update_record,
)
from nap_desktop.ui.errors import show_exception, user_message
from nap_desktop.ui.field_editors import (
    AnswersEditor,
    FieldEditor,
    PartiesEditor,
    RefEditor,
    make_editor,
)
from nap_desktop.ui.i18n import N_, language, pick, tr
from nap_desktop.ui.labels import MASK, dto_label, row_label
from nap_desktop.ui.record_list_view import RecordPickerDialog, capture_perm
from nap_desktop.ui.session import SessionRef
from nap_desktop.ui.widgets import Banner, CodeComboBox, ErrorLabel, code_label, heading, primary_button
from nap_desktop.ui.workers import run_op

logger = logging.getLogger(__name__)

PARTY_ROLES = {"victim": N_("Victim"), "suspect": N_("Suspect"), "witness": N_("Witness")}

DUPLICATE_FIELDS = ("cnic", "passport_no", "other_id", "given_name", "family_name", "date_of_birth")

# The next record of the chain, offered on the Links tab: (type, label, prefill from this record).
FOLLOW_UPS: dict[str, list[tuple[str, str, Callable[[RecordDTO], dict[str, Any]]]]] = {
    "person": [
        ("screening", N_("New screening of this person"), lambda d: {"person_id": d.id}),
        ("referral", N_("New referral of this person"), lambda d: {"person_id": d.id}),
        ("service", N_("New service for this person"), lambda d: {"person_id": d.id}),
        ("suspect", N_("Record this person as a suspect"), lambda d: {"person_id": d.id}),
    ],
    "screening": [
        ("referral", N_("New referral from this screening"), lambda d: {"person_id": d.values.get("person_id"), "screening_id": d.id}),
        ("service", N_("New service for this person"), lambda d: {"person_id": d.values.get("person_id")}),
        ("case", N_("New case with this person as victim"), lambda d: {"parties": [{"person_id": d.values.get("person_id"), "party_role": "victim"}]}),
        ("suspect", N_("New suspect from this screening"), lambda d: {"screening_id": d.id}),
    ],
    "case": [("suspect", N_("New suspect in this case"), lambda d: {"case_id": d.id})],
    "referral": [
        ("service", N_("New service from this referral"), lambda d: {"person_id": d.values.get("person_id"), "referral_id": d.id, "provider_id": d.values.get("provider_id")}),
    ],
    "coordination_entity": [
        ("coordination_meeting", N_("New meeting of this body"), lambda d: {"entity_id": d.id}),
        ("coordination_gap", N_("New gap found by this body"), lambda d: {"entity_id": d.id}),
    ],
}


def ask_unsaved(parent: QWidget) -> str:
    """Asks what to do with unsaved changes: "save", "discard" or "cancel". Tests replace it."""
    box = QMessageBox(QMessageBox.Icon.Question, tr("Unsaved changes"), tr("This record has changes that are not saved."), QMessageBox.StandardButton.NoButton, parent)
    save = box.addButton(tr("Save"), QMessageBox.ButtonRole.AcceptRole)
    discard = box.addButton(tr("Discard changes"), QMessageBox.ButtonRole.DestructiveRole)
    box.addButton(tr("Keep editing"), QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(save)
    box.exec()
    clicked = box.clickedButton()
    return "save" if clicked is save else "discard" if clicked is discard else "cancel"


def confirm_delete(parent: QWidget, what: str) -> bool:
    """Asks before deleting. Tests replace it."""
    box = QMessageBox(QMessageBox.Icon.Warning, tr("Delete record"), tr("Delete this record? It leaves every list and count; its history is kept.") + f"\n\n{what}", QMessageBox.StandardButton.NoButton, parent)
    yes = box.addButton(tr("Delete"), QMessageBox.ButtonRole.DestructiveRole)
    box.addButton(tr("Cancel"), QMessageBox.ButtonRole.RejectRole)
    box.exec()
    return box.clickedButton() is yes


def _norm(value: Any) -> Any:
    """Values compared for "changed?": JSON form, empties as ``None``, dates as ISO text."""
    if value in ("", [], {}):
        return None
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | dict):
        return json.dumps(value, sort_keys=True, default=str)
    return value


FormOpener = Callable[[str, str | None, dict[str, Any] | None], "RecordFormDialog"]


class RecordFormDialog(QDialog):
    """Create or edit one record. Non-modal: several forms may be open (linked records)."""

    saved = Signal(object)  # RecordDTO
    deleted = Signal(str, str)
    loaded = Signal()

    def __init__(
        self,
        ref: SessionRef,
        type_name: str,
        record_id: str | None = None,
        *,
        prefill: dict[str, Any] | None = None,
        opener: FormOpener | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName(f"form_{type_name}")
        self.setWindowFlag(Qt.WindowType.Window, True)
        self.ref = ref
        self.rt = RECORD_TYPES[type_name]
        self.record_id = record_id
        self.dto: RecordDTO | None = None
        self.prefill = dict(prefill or {})
        self.opener = opener
        self.editors: dict[str, FieldEditor] = {}
        self.errors: dict[str, ErrorLabel] = {}
        self._baseline: dict[str, Any] = {}
        self._baseline_unit: str | None = None
        self._busy = False
        self._discard = False
        self._close_after_save = False
        self._history_loaded = False
        self._dup_pending: dict[str, Any] | None = None
        self.duplicates: list[DuplicateCandidate] = []
        self.setWindowTitle(self._title())
        self.resize(940, 720)
        self._build()
        self._apply_permissions()
        if record_id is None:
            self._populate_new()
        else:
            self._load()

    # -- construction ------------------------------------------------------------------------------

    def _title(self) -> str:
        label = pick(self.rt.label_en, self.rt.label_ur)
        if self.record_id is None:
            return tr("New record: {type}").format(type=label)
        return label

    def _build(self) -> None:
        lay = QVBoxLayout(self)
        head = QHBoxLayout()
        self.title_label = heading(self._title())
        head.addWidget(self.title_label, 1)
        self.state_label = QLabel()
        self.state_label.setObjectName("stateLabel")
        head.addWidget(self.state_label)
        lay.addLayout(head)

        unit_row = QHBoxLayout()
        unit_row.addWidget(QLabel(tr("Unit:")))
        self.unit_label = QLabel()
        self.unit_combo: CodeComboBox | None = None
        unit_row.addWidget(self.unit_label)
        if self.record_id is None and self.ref.unlocked:
            scope = sorted(self.ref.ws.subtree())
            if len(scope) > 1:
                entries = [(c, f"{self.ref.unit_name(c)} ({c})") for c in scope]
                # wide enough for the whole name and code: the row has room, and a cut name hid the
                # code that tells two circles of one city apart
                self.unit_combo = CodeComboBox(None, blank="", entries=entries, min_chars=min(60, max(len(label) for _c, label in entries)))
                self.unit_combo.setObjectName("unitCombo")
                self.unit_combo.set_value(self.ref.ws.user.unit_code)
                self.unit_combo.changed.connect(self._apply_permissions)
                unit_row.addWidget(self.unit_combo)
                self.unit_label.hide()
            else:
                self.unit_label.setText(f"{self.ref.unit_name(self.ref.ws.user.unit_code)} ({self.ref.ws.user.unit_code})")
        unit_row.addStretch(1)
        lay.addLayout(unit_row)

        self.banner = Banner()
        self.banner.setObjectName("formBanner")
        lay.addWidget(self.banner)
        self.duplicate_box = QFrame()
        self.duplicate_box.setObjectName("duplicateBox")
        self.duplicate_box.setStyleSheet("#duplicateBox { background: #fff4e5; border: 1px solid #ffb74d; border-radius: 4px; }")
        dup_lay = QHBoxLayout(self.duplicate_box)
        self.duplicate_label = QLabel()
        self.duplicate_label.setWordWrap(True)
        dup_lay.addWidget(self.duplicate_label, 1)
        self.duplicate_open = QPushButton(tr("Open the existing person"))
        self.duplicate_open.setObjectName("openDuplicate")
        self.duplicate_open.setAutoDefault(False)
        self.duplicate_open.clicked.connect(self._open_duplicate)
        dup_lay.addWidget(self.duplicate_open)
        self.duplicate_box.hide()
        lay.addWidget(self.duplicate_box)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("formTabs")
        lay.addWidget(self.tabs, 1)
        self.tabs.addTab(self._build_details(), tr("Details"))
        self.history_table = QTableWidget(0, 6)
        self.history_table.setObjectName("historyTable")
        self.history_table.setHorizontalHeaderLabels([tr("Version"), tr("Field"), tr("Before"), tr("After"), tr("Changed at"), tr("By")])
        self.history_table.verticalHeader().hide()
        self.history_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.history_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.history_table.horizontalHeader().setStretchLastSection(True)
        self.links_page = QWidget()
        self.links_page.setObjectName("linksPage")
        self.links_layout = QVBoxLayout(self.links_page)
        self.links: Links | None = None
        if self.record_id is not None:
            self.tabs.addTab(self.history_table, tr("History"))
            self.links_scroll = QScrollArea()
            self.links_scroll.setWidgetResizable(True)
            self.links_scroll.setFrameShape(QFrame.Shape.NoFrame)
            self.links_scroll.setWidget(self.links_page)
            self.tabs.addTab(self.links_scroll, tr("Links"))
        self.tabs.currentChanged.connect(self._on_tab_changed)

        foot = QHBoxLayout()
        self.delete_button = QPushButton(tr("Delete"))
        self.delete_button.setObjectName("deleteRecordButton")
        self.delete_button.setAutoDefault(False)
        self.delete_button.clicked.connect(self.delete)
        self.delete_button.setVisible(self.record_id is not None)
        foot.addWidget(self.delete_button)
        self.gate_label = QLabel()
        self.gate_label.setObjectName("gateLabel")
        self.gate_label.setStyleSheet("color: #7a4a00;")
        self.gate_label.setWordWrap(True)
        foot.addWidget(self.gate_label, 1)
        self.cancel_button = QPushButton(tr("Close"))
        self.cancel_button.setObjectName("closeButton")
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.close)
        self.draft_button = QPushButton(tr("Save as draft"))
        self.draft_button.setObjectName("draftButton")
        self.draft_button.setAutoDefault(False)
        self.draft_button.setToolTip("Ctrl+Shift+S")
        self.draft_button.clicked.connect(lambda: self.save("draft"))
        self.complete_button = primary_button(tr("Complete"))
        self.complete_button.setObjectName("completeButton")
        self.complete_button.setToolTip("Ctrl+S")
        self.complete_button.clicked.connect(lambda: self.save("complete"))
        for b in (self.cancel_button, self.draft_button, self.complete_button):
            foot.addWidget(b)
        lay.addLayout(foot)

        for seq, slot in (
            (QKeySequence.StandardKey.Save, self.save_default),
            (QKeySequence("Ctrl+Shift+S"), lambda: self.save("draft")),
            (QKeySequence("Ctrl+W"), self.close),
        ):
            sc = QShortcut(seq, self)
            sc.activated.connect(slot)

        self._dup_timer = QTimer(self)
        self._dup_timer.setSingleShot(True)
        self._dup_timer.setInterval(400)
        self._dup_timer.timeout.connect(self._check_duplicates)

    def _build_details(self) -> QWidget:
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        inner = QWidget()
        inner.setObjectName("detailsPage")
        outer = QVBoxLayout(inner)
        fields = list(self.rt.fields)
        consent_first = self.rt.name == "screening"
        if consent_first:
            box = QGroupBox(tr("Step 1 — Consent"))
            box.setObjectName("consentStep")
            v = QVBoxLayout(box)
            hint = QLabel(
                tr("Ask each consent question before the interview. All seven HTCDS checks must be 'Yes' to complete the screening; a draft can be saved at any time.")
            )
            hint.setWordWrap(True)
            v.addWidget(hint)
            grid = QGridLayout()
            v.addLayout(grid)
            self._add_field(grid, 0, self.rt.field("consent"))
            outer.addWidget(box)
            fields = [f for f in fields if f.name != "consent"]
            main_box = QGroupBox(tr("Step 2 — Screening"))
        else:
            main_box = QGroupBox()
            main_box.setFlat(True)
        grid = QGridLayout(main_box)
        grid.setColumnStretch(1, 1)
        row = 0
        for spec in fields:
            row = self._add_field(grid, row, spec)
        if self.rt.name == "milestone":
            grid.addLayout(self._build_evidence_row(), row, 1)
        outer.addWidget(main_box)
        outer.addStretch(1)
        scroll.setWidget(inner)
        return scroll

    def _label_for(self, spec: FieldSpec) -> str:
        text = pick(spec.label_en, spec.label_ur)
        if spec.required or spec.required_for_draft:
            text += " *"
        return text

    def _add_field(self, grid: QGridLayout, row: int, spec: FieldSpec) -> int:
        editor = make_editor(
            spec,
            self.ref.codelists,
            choose=self._choose_record,
            create=self._create_linked,
            open_record=self._open_record,
        )
        editor.setObjectName(f"field_{spec.name}")
        editor.changed.connect(lambda name=spec.name: self._on_field_changed(name))
        label = QLabel(self._label_for(spec))
        label.setObjectName(f"label_{spec.name}")
        label.setBuddy(editor)
        label.setWordWrap(True)
        err = ErrorLabel()
        err.setObjectName(f"error_{spec.name}")
        if editor.wide:
            f = label.font()
            f.setBold(True)
            label.setFont(f)
            grid.addWidget(label, row, 0, 1, 2)
            grid.addWidget(editor, row + 1, 0, 1, 2)
            grid.addWidget(err, row + 2, 0, 1, 2)
            row += 3
        else:
            label.setMinimumWidth(170)
            grid.addWidget(label, row, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(editor, row, 1)
            grid.addWidget(err, row + 1, 1)
            row += 2
        self.editors[spec.name] = editor
        self.errors[spec.name] = err
        return row

    # -- milestone evidence --------------------------------------------------------------------------

    def _build_evidence_row(self) -> QHBoxLayout:
        """Attach and save-a-copy buttons under a milestone's evidence file (kept inside the
        encrypted store by ``services.records.attach_evidence``; never opened from a temp file)."""
        row = QHBoxLayout()
        self.attach_button = QPushButton(tr("Attach a file…"))
        self.attach_button.setObjectName("attachEvidence")
        self.attach_button.setAutoDefault(False)
        self.attach_button.clicked.connect(lambda: self.attach_evidence())
        self.save_evidence_button = QPushButton(tr("Save a copy…"))
        self.save_evidence_button.setObjectName("saveEvidence")
        self.save_evidence_button.setAutoDefault(False)
        self.save_evidence_button.clicked.connect(lambda: self.save_evidence())
        self.evidence_hint = QLabel()
        self.evidence_hint.setObjectName("evidenceHint")
        self.evidence_hint.setStyleSheet("color: #555;")
        row.addWidget(self.attach_button)
        row.addWidget(self.save_evidence_button)
        row.addWidget(self.evidence_hint, 1)
        return row

    def _update_evidence(self) -> None:
        if self.rt.name != "milestone":
            return
        saved = self.dto is not None and not self.dto.deleted
        has_file = bool(self.dto is not None and self.dto.values.get("evidence_name"))
        self.attach_button.setEnabled(saved and self.may_edit and not self._busy)
        self.save_evidence_button.setEnabled(has_file and not self._busy)
        self.evidence_hint.setText("" if saved else tr("Save the milestone first, then attach its evidence."))

    def attach_evidence(self, path: Path | None = None) -> None:
        """Stores a file (a signed SOP, a notification …) as the milestone's evidence."""
        if self.dto is None or not self.may_edit or self._busy:
            return
        if path is None:
            name, _ = QFileDialog.getOpenFileName(self, tr("Attach evidence"), "", tr("Documents and pictures (*.pdf *.jpg *.jpeg *.png *.docx *.xlsx);;All files (*)"))
            if not name:
                return
            path = Path(name)
        ws, rid = self.ref.ws, self.dto.id

        def work(_op: object) -> RecordDTO:
            try:
                data = path.read_bytes()
            except OSError:
                raise ValidationError(
                    f"{path.name} cannot be read. Close it in other programs and check its permissions.", {"evidence_name": "unreadable"}
                ) from None
            return attach_evidence(ws, rid, path.name, data)

        self._set_busy(True)
        run_op(self, work).on_success(self._on_evidence_attached).on_failure(self._on_evidence_failed).on_finished(lambda: self._set_busy(False)).with_progress(
            tr("Attaching the file…"), cancellable=False
        ).start()

    def _on_evidence_failed(self, exc: BaseException) -> None:
        if isinstance(exc, UserFacingError):
            self.banner.show_message("error", user_message(exc))
        else:
            show_exception(parent=self, exc=exc)

    def _on_evidence_attached(self, dto: RecordDTO) -> None:
        editor = self.editors["evidence_name"]
        editor.set_value(dto.values.get("evidence_name"))
        self._baseline["evidence_name"] = _norm(editor.value())
        self._set_dto(dto)
        self.ref.records_changed.emit(dto.type)
        self.banner.show_message("info", tr("The file is stored in the workspace."))
        self._update_evidence()

    def save_evidence(self, path: Path | None = None) -> None:
        """Writes a copy of the evidence file where the user chooses."""
        if self.dto is None or self._busy:
            return
        if path is None:
            suggested = str(self.dto.values.get("evidence_name") or "evidence")
            name, _ = QFileDialog.getSaveFileName(self, tr("Save a copy of the evidence"), suggested)
            if not name:
                return
            path = Path(name)
        ws, rid = self.ref.ws, self.dto.id

        def work(_op: object) -> Path:
            _name, data = get_evidence(ws, rid)
            atomic_write(path, data, mode=0o600)
            return path

        run_op(self, work).on_success(lambda p: self.banner.show_message("info", tr("Saved:") + f" {p}")).start()

    # -- permissions and state -----------------------------------------------------------------------

    def _unit(self) -> str | None:
        if self.dto is not None:
            return self.dto.unit
        if self.unit_combo is not None:
            return self.unit_combo.value()
        return self.ref.ws.user.unit_code if self.ref.unlocked else None

    @property
    def may_edit(self) -> bool:
        if not self.ref.unlocked:
            return False
        if self.dto is not None and self.dto.deleted:
            return False
        return self.ref.can(capture_perm(self.rt.name), unit=self._unit())

    @property
    def may_see_personal(self) -> bool:
        return self.ref.can(Perm.PERSONAL_VIEW, unit=self._unit())

    def _apply_permissions(self) -> None:
        edit = self.may_edit and not self._busy
        for name, editor in self.editors.items():
            if editor.masked:
                continue
            personal_locked = self.rt.field(name).personal and not self.may_see_personal
            editor.set_read_only(not edit or personal_locked)
            if personal_locked and self.dto is None:
                editor.set_masked()
        self.draft_button.setVisible(self.may_edit)
        self.complete_button.setVisible(self.may_edit)
        self.delete_button.setVisible(self.may_edit and self.record_id is not None)
        if "evidence_name" in self.editors and self.rt.name == "milestone":
            self.editors["evidence_name"].set_read_only(True)  # set by attaching a file
        self._update_evidence()
        self._update_gate()

    def consent_ok(self) -> bool:
        """Whether the consent step allows completing the record."""
        if self.rt.name == "screening":
            answers = self.editors["consent"].value() or {}
            return all(answers.get(c) == "yes" for c in HTCDS_CONSENT)
        if self.rt.name == "referral":
            return self.editors["consent"].value() == "yes"
        return True

    def _update_gate(self) -> None:
        ok = self.consent_ok()
        self.complete_button.setEnabled(ok and not self._busy and self.may_edit)
        self.draft_button.setEnabled(not self._busy and self.may_edit)
        if self.may_edit and not ok:
            if self.rt.name == "screening":
                self.gate_label.setText(tr("Complete the consent step (all seven checks 'Yes') to finish; you can save a draft now."))
            else:
                self.gate_label.setText(tr("The person's consent ('Yes') is needed to complete; you can save a draft now."))
        else:
            self.gate_label.setText("")

    def _on_field_changed(self, name: str) -> None:
        if name in ("consent",):
            self._update_gate()
        err = self.errors.get(name)
        if err is not None and err.isVisible():
            err.set_error(None)
        if self.rt.name == "person" and name in DUPLICATE_FIELDS:
            self._dup_timer.start()

    @property
    def dirty(self) -> bool:
        return self._collect() != self._baseline or (self.unit_combo is not None and self.record_id is None and self._baseline_unit != self.unit_combo.value())

    def _collect(self) -> dict[str, Any]:
        return {name: _norm(e.value()) for name, e in self.editors.items() if not e.masked}

    def _values(self) -> dict[str, Any]:
        return {name: e.value() for name, e in self.editors.items() if not e.masked}

    def _mark_clean(self) -> None:
        self._baseline = self._collect()
        self._baseline_unit = self.unit_combo.value() if self.unit_combo is not None else None

    # -- loading ------------------------------------------------------------------------------------

    def _populate_new(self) -> None:
        for name, value in self.prefill.items():
            if name in self.editors and value is not None:
                self.editors[name].set_value(value)
        today_fields = [self.rt.date_field] if self.rt.date_field in self.editors else []
        for name in today_fields:
            if self.editors[name].value() is None:
                self.editors[name].set_value(date.today())
        self._mark_clean()
        if any(v is not None for k, v in self.prefill.items() if k in self.editors):
            # Prefilled values are part of the new record: closing without saving asks first.
            self._baseline = {name: None for name in self._baseline}
            self._load_labels_for(self._values())
        self.state_label.setText(tr("New"))
        self._update_gate()
        self._focus_first()

    def _focus_first(self) -> None:
        for name, e in self.editors.items():
            if not e.read_only and name != "consent":
                e.setFocus()
                return

    def _load(self) -> None:
        ws = self.ref.ws
        rid = self.record_id
        assert rid is not None
        cl = self.ref.codelists
        self._set_busy(True)
        self.banner.show_message("info", tr("Loading…"))

        def work(_op: object) -> tuple[RecordDTO, dict[str, str]]:
            dto = get_record(ws, rid)
            return dto, _ref_labels(ws, dto.type, dto.values, cl)

        run_op(self, work).on_success(self._on_loaded).on_failure(self._on_load_failed).on_finished(lambda: self._set_busy(False)).start()

    def _on_loaded(self, out: tuple[RecordDTO, dict[str, str]]) -> None:
        dto, labels = out
        self._set_dto(dto)
        for name, e in self.editors.items():
            if name in dto.masked:
                e.set_masked()
            else:
                e.set_value(dto.values.get(name))
        self._apply_labels(labels)
        self._mark_clean()
        self.banner.clear_message()
        if dto.deleted:
            self.banner.show_message("warning", tr("This record was deleted. It is shown read-only."))
        elif dto.masked:
            self.banner.show_message("info", tr("Identity details are hidden: your role does not give access to personal data."))
        self._apply_permissions()
        if self.tabs.currentWidget() is getattr(self, "links_scroll", None):
            self.load_links()
        self.loaded.emit()

    def _on_load_failed(self, exc: BaseException) -> None:
        if isinstance(exc, UserFacingError):
            self.banner.show_message("error", user_message(exc))
            for e in self.editors.values():
                e.set_read_only(True)
            self.draft_button.hide()
            self.complete_button.hide()
            self.delete_button.hide()
        else:
            show_exception(parent=self, exc=exc)

    def _set_dto(self, dto: RecordDTO) -> None:
        self.dto = dto
        self.record_id = dto.id
        status = tr("Draft") if dto.status == "draft" else tr("Complete")
        self.state_label.setText(tr("{status} · version {v}").format(status=status, v=dto.version))
        self.unit_label.setText(f"{self.ref.unit_name(dto.unit)} ({dto.unit})")
        self.unit_label.show()
        if self.unit_combo is not None:
            self.unit_combo.hide()
        label = pick(self.rt.label_en, self.rt.label_ur)
        self.title_label.setText(label)
        self.setWindowTitle(f"{label} — {dto_label(dto, self.ref.codelists)}")

    def _load_labels_for(self, values: dict[str, Any]) -> None:
        if not self.ref.unlocked:
            return
        ws, cl, type_name = self.ref.ws, self.ref.codelists, self.rt.name
        run_op(self, lambda _op: _ref_labels(ws, type_name, values, cl)).on_success(self._apply_labels).on_failure(lambda _e: None).start()

    def _apply_labels(self, labels: dict[str, str]) -> None:
        for name, e in self.editors.items():
            if isinstance(e, RefEditor) and e.value() in labels:
                e.set_label(labels[str(e.value())])
            elif isinstance(e, PartiesEditor):
                e.set_labels(labels)

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self._apply_permissions()

    # -- saving ---------------------------------------------------------------------------------------

    def save_default(self) -> None:
        """Ctrl+S: complete when the consent step allows it, else save a draft."""
        if not self.may_edit or self._busy:
            return
        self.save("complete" if self.consent_ok() else "draft")

    def save(self, status: str) -> None:
        """Saves on the writer thread; shows the service's per-field messages if it refuses."""
        if not self.may_edit or self._busy:
            return
        if status == "complete" and not self.consent_ok():
            self._update_gate()
            return
        ws = self.ref.ws
        values = self._values()
        type_name = self.rt.name
        if self.dto is None:
            payload = {k: v for k, v in values.items() if v is not None}
            unit = self._unit()

            def work(_op: object) -> RecordDTO:
                return create_record(ws, type_name, payload, status=status, unit=unit)

        else:
            old = self.dto
            changes = {k: v for k, v in values.items() if _norm(v) != _norm(old.values.get(k))}

            def work(_op: object) -> RecordDTO:
                return update_record(ws, old.id, changes, expected_version=old.version, status=status)

        self._clear_errors()
        self._set_busy(True)
        run_op(self, work).on_success(self._on_saved).on_failure(self._on_save_failed).on_finished(lambda: self._set_busy(False)).with_progress(
            tr("Saving…"), cancellable=False
        ).start()

    def _clear_errors(self) -> None:
        for err in self.errors.values():
            err.set_error(None)
        if self.banner.kind == "error":
            self.banner.clear_message()

    def _on_saved(self, dto: RecordDTO) -> None:
        logger.info("record saved (%s, version %d)", dto.type, dto.version)
        self._set_dto(dto)
        self._mark_clean()
        self.saved.emit(dto)
        self.ref.records_changed.emit(dto.type)
        self._discard = True
        self.close()

    def _on_save_failed(self, exc: BaseException) -> None:
        self._close_after_save = False
        if isinstance(exc, ValidationError):
            self.show_validation(exc)
        elif isinstance(exc, UserFacingError):
            self.banner.show_message("error", user_message(exc))
        else:
            show_exception(parent=self, exc=exc)

    def show_validation(self, exc: ValidationError) -> None:
        """Puts each field's message under the field, in the UI language; the rest in the banner."""
        msgs = exc.fields_ur if language() == "ur" and exc.fields_ur else exc.fields
        other: list[str] = []
        first: FieldEditor | None = None
        for name, text in msgs.items():
            err = self.errors.get(name)
            if err is not None:
                err.set_error(text)
                first = first or self.editors[name]
            else:
                other.append(text)
        summary = tr("The record was not saved. Please correct the marked fields.")
        if other:
            summary += "\n" + "\n".join(other)
        self.banner.show_message("error", summary)
        self.tabs.setCurrentIndex(0)
        if first is not None:
            first.setFocus()
            scroll = self.tabs.widget(0)
            if isinstance(scroll, QScrollArea):
                scroll.ensureWidgetVisible(first)

    # -- delete -------------------------------------------------------------------------------------------

    def delete(self) -> None:
        if self.dto is None or not self.may_edit or self._busy:
            return
        if not confirm_delete(self, dto_label(self.dto, self.ref.codelists)):
            return
        ws, dto = self.ref.ws, self.dto
        self._set_busy(True)
        run_op(self, lambda _op: delete_record(ws, dto.id, expected_version=dto.version)).on_success(self._on_deleted).on_finished(
            lambda: self._set_busy(False)
        ).start()

    def _on_deleted(self, dto: RecordDTO) -> None:
        self.deleted.emit(dto.type, dto.id)
        self.ref.records_changed.emit(dto.type)
        self._discard = True
        self.close()

    # -- duplicates -------------------------------------------------------------------------------------

    def _check_duplicates(self) -> None:
        if not self.ref.unlocked or not self.may_see_personal or not self.may_edit:
            return
        v = self._values()
        args = {
            "cnic": v.get("cnic") or "",
            "passport_no": v.get("passport_no") or "",
            "other_id": v.get("other_id") or "",
            "given_name": v.get("given_name") or "",
            "family_name": v.get("family_name") or "",
            "date_of_birth": None,
        }
        dob = v.get("date_of_birth")
        try:
            args["date_of_birth"] = date.fromisoformat(dob) if dob else None
        except ValueError:
            args["date_of_birth"] = None
        if not any(args.values()):
            self._show_duplicates([])
            return
        ws, rid = self.ref.ws, self.record_id
        run_op(self, lambda _op: find_duplicate_persons(ws, exclude_id=rid, **args)).on_success(self._show_duplicates).on_failure(
            lambda _e: None
        ).start()

    def _show_duplicates(self, found: list[DuplicateCandidate]) -> None:
        self.duplicates = list(found)
        if not found:
            self.duplicate_box.hide()
            return
        reasons = {c.reason for c in found}
        if "identity_number" in reasons:
            text = tr("This person may already be recorded: the same identity number is in the workspace.")
        elif "name_and_birth_date" in reasons:
            text = tr("This person may already be recorded: the same name and date of birth are in the workspace.")
        else:
            text = tr("This person may already be recorded: a name that sounds the same, with the same date of birth, is in the workspace.")
        if len(found) > 1:
            text += " " + tr("({n} possible matches)").format(n=len(found))
        self.duplicate_label.setText(text)
        self.duplicate_box.show()

    def _open_duplicate(self) -> None:
        if self.duplicates:
            self._open_record("person", self.duplicates[0].person_id)

    # -- links ----------------------------------------------------------------------------------------------

    def _open_form(self, type_name: str, record_id: str | None, prefill: dict[str, Any] | None = None) -> RecordFormDialog:
        if self.opener is not None:
            return self.opener(type_name, record_id, prefill)
        form = RecordFormDialog(self.ref, type_name, record_id, prefill=prefill, parent=self.parentWidget() or self)
        form.show()
        return form

    def _open_record(self, type_name: str, record_id: str) -> None:
        self._open_form(type_name, record_id)

    def _choose_record(self, type_name: str) -> tuple[str, str] | None:
        dlg = RecordPickerDialog(self.ref, type_name, parent=self)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return None
        if dlg.create_new:
            self._create_linked(type_name, self._picked_new_callback(type_name))
            return None
        row = dlg.selected
        if row is None:
            return None
        masked = not self.ref.can(Perm.PERSONAL_VIEW, unit=row.unit)
        return row.id, row_label(row, self.ref.codelists, masked=masked)

    def _picked_new_callback(self, type_name: str) -> Callable[[str, str], None]:
        def set_first_empty(rid: str, label: str) -> None:
            for e in self.editors.values():
                if isinstance(e, RefEditor) and e.ref_type == type_name and e.value() is None:
                    e.set_ref(rid, label)
                    return

        return set_first_empty

    def _create_linked(self, type_name: str, callback: Callable[[str, str], None]) -> None:
        form = self._open_form(type_name, None, {})
        cl = self.ref.codelists
        form.saved.connect(lambda dto: callback(dto.id, dto_label(dto, cl)))

    def load_links(self) -> None:
        """Loads the linked records, both ways (``services.records.linked_records``), on a worker."""
        if self.record_id is None or not self.ref.unlocked:
            return
        ws, rid = self.ref.ws, self.record_id
        run_op(self, lambda _op: linked_records(ws, rid)).on_success(self._show_links).start()

    def _clear_links(self) -> None:
        while self.links_layout.count():
            item = self.links_layout.takeAt(0)
            w = item.widget()
            if w is not None:
                w.deleteLater()

    def _section(self, text: str) -> None:
        title = QLabel(text)
        f = title.font()
        f.setBold(True)
        title.setFont(f)
        self.links_layout.addWidget(title)

    def _link_text(self, link: LinkedRecord) -> str:
        row = link.row
        masked = not self.ref.can(Perm.PERSONAL_VIEW, unit=row.unit)
        text = row_label(row, self.ref.codelists, masked=masked)
        if link.role:
            text = f"{tr(PARTY_ROLES.get(link.role, link.role))}: {text}"
        if row.deleted:
            text += " — " + tr("deleted")
        return text

    def _show_links(self, links: Links) -> None:
        """Buttons that open every linked record: those this record refers to, then those that
        refer to it; then the next steps of the chain."""
        self._clear_links()
        if self.dto is None:
            return
        dto = self.dto
        self.links = links
        outgoing = [i for i in links.items if i.direction == "to"]
        incoming = [i for i in links.items if i.direction == "from"]
        used: set[str] = set()

        def button(link: LinkedRecord, prefix: str) -> QPushButton:
            name = f"{prefix}_{link.field}" if prefix == "link" else f"{prefix}_{link.row.type}"
            n = 2
            base = name
            while name in used:
                name, n = f"{base}_{n}", n + 1
            used.add(name)
            b = QPushButton(self._link_text(link))
            b.setObjectName(name)
            b.setAutoDefault(False)
            b.setStyleSheet("text-align: left; padding: 4px 8px;")  # NOTE: mirrored in Urdu: the reading start
            b.clicked.connect(lambda _c=False, t=link.row.type, i=link.row.id: self._open_record(t, i))
            return b

        self._section(tr("This record refers to"))
        for link in outgoing:
            self.links_layout.addWidget(button(link, "link"))
        if not outgoing:
            self.links_layout.addWidget(QLabel(tr("No other record.")))
        if links.hidden:
            self.links_layout.addWidget(QLabel(tr("{n} linked records are outside your units.").format(n=links.hidden)))
        self._section(tr("Records that refer to this one"))
        for link in incoming:
            self.links_layout.addWidget(button(link, "backlink"))
        if not incoming:
            self.links_layout.addWidget(QLabel(tr("None yet.")))
        if links.omitted:
            self.links_layout.addWidget(QLabel(tr("… and {n} older ones (open the lists to see them all).").format(n=links.omitted)))
        follow = [(t, lbl, fn) for t, lbl, fn in FOLLOW_UPS.get(dto.type, []) if self.ref.can(capture_perm(t), unit=dto.unit)]
        if follow and not dto.deleted:
            self._section(tr("Next steps"))
            for t, lbl, fn in follow:
                b = QPushButton(tr(lbl))
                b.setObjectName(f"follow_{t}")
                b.setAutoDefault(False)
                b.clicked.connect(lambda _c=False, t=t, fn=fn: self._open_form(t, None, fn(dto)))
                self.links_layout.addWidget(b)
        self.links_layout.addStretch(1)

    # -- history -------------------------------------------------------------------------------------------

    def _on_tab_changed(self, index: int) -> None:
        if self.tabs.widget(index) is self.history_table and not self._history_loaded:
            self.load_history()
        elif self.tabs.widget(index) is getattr(self, "links_scroll", None) and self.dto is not None:
            self.load_links()  # each time: records may have been linked meanwhile

    def load_history(self) -> None:
        if self.record_id is None or not self.ref.unlocked:
            return
        ws, rid = self.ref.ws, self.record_id
        self._history_loaded = True
        run_op(self, lambda _op: record_history(ws, rid)).on_success(self._show_history).start()

    def _show_history(self, entries: list[HistoryEntry]) -> None:
        t = self.history_table
        t.setRowCount(len(entries))
        for r, h in enumerate(entries):
            cells = [
                str(h.version),
                self._field_label(h.field),
                self._history_value(h.field, h.old),
                self._history_value(h.field, h.new),
                h.changed_at.strftime("%Y-%m-%d %H:%M") if h.changed_at else "",
                h.changed_by,
            ]
            for c, text in enumerate(cells):
                t.setItem(r, c, QTableWidgetItem(text))

    def _field_label(self, name: str) -> str:
        if name == "status":
            return tr("Status")
        if name == "deleted":
            return tr("Deleted")
        try:
            f = self.rt.field(name)
        except KeyError:
            return name
        return pick(f.label_en, f.label_ur)

    def _history_value(self, name: str, value: Any) -> str:
        if name in ("status",) and isinstance(value, str):
            return tr("Draft") if value == "draft" else tr("Complete")
        if name == "deleted":
            return tr("Yes") if value in (True, "true") else tr("No")
        try:
            spec = self.rt.field(name)
        except KeyError:
            return "" if value is None else str(value)
        if value is None:
            return MASK if spec.personal and not self.may_see_personal else "—"
        cl = self.ref.codelists.get(spec.codelist) if spec.codelist else None
        if spec.kind == "code":
            return code_label(cl, value)
        if spec.kind == "codes" and isinstance(value, list):
            return ", ".join(code_label(cl, v) for v in value)
        if spec.kind == "answers" and isinstance(value, dict):
            answers = self.ref.codelists.get("answer")
            return "; ".join(f"{code_label(cl, k)}: {code_label(answers, v)}" for k, v in value.items())
        if spec.kind == "bool":
            return tr("Yes") if value else tr("No")
        if isinstance(value, dict | list):
            return json.dumps(value, ensure_ascii=False)[:200]
        return str(value)

    # -- closing --------------------------------------------------------------------------------------------

    def reject(self) -> None:  # noqa: D102 - Esc goes through the unsaved-changes guard
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if self._busy and not self._discard:
            event.ignore()
            return
        if not self._discard and self.may_edit and self.dirty:
            choice = ask_unsaved(self)
            if choice == "cancel":
                event.ignore()
                return
            if choice == "save":
                event.ignore()
                self.save_default()
                return
        event.accept()
        QDialog.done(self, QDialog.DialogCode.Rejected)


def _ref_labels(ws: Any, type_name: str, values: dict[str, Any], cl: Any) -> dict[str, str]:
    """Labels of the records a record links to (runs on the writer thread)."""
    rt = RECORD_TYPES[type_name]
    ids: list[str] = []
    for f in rt.fields:
        v = values.get(f.name)
        if f.kind == "ref" and v:
            ids.append(str(v))
        elif f.kind == "parties" and v:
            ids.extend(str(p.get("person_id")) for p in v if p.get("person_id"))
    labels: dict[str, str] = {}
    for rid in dict.fromkeys(ids):
        try:
            labels[rid] = dto_label(get_record(ws, rid), cl)
        except NotFound:
            labels[rid] = tr("(not visible to you)")
    return labels
