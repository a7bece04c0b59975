# SPDX-License-Identifier: GPL-3.0-or-later
"""Export the indicators of the dashboard's period and scope as a file: the indicator report, or
(for roles that publish, ``report.publish``) one of the standard exports — the UNODC GLOTIP table,
the CTDC victim-level file (k-anonymous) — and the DHIS2 data values.

The dialog only collects choices — what, format, version (internal or external), the language of
a PDF, the k of CTDC, where to write it; the work is ``reports.publish.iter_indicator_report`` /
``iter_standard_export`` (the generators ``nap-desktop report indicators`` and ``nap-desktop
export`` drive), run on a worker with a progress dialog. They audit the export and write the file
atomically, so a cancelled or failed export leaves no file behind.

Users who may not see small counts (no ``report.internal`` in the scope) get the external version
only: the internal choice is shown, disabled, with the reason. GLOTIP and CTDC are always
protected (suppression, k-anonymity), so they have no version to choose.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QButtonGroup, QComboBox, QDialog, QFileDialog, QFormLayout, QLabel, QRadioButton, QSpinBox, QVBoxLayout, QWidget

from nap_desktop.errors import UserFacingError
from nap_desktop.reports.engine import Period
from nap_desktop.reports.publish import ExportResult, iter_indicator_report, iter_standard_export
from nap_desktop.reports.render_common import safe_file_stem
from nap_desktop.security.permissions import Perm
from nap_desktop.ui.errors import show_exception, user_message
from nap_desktop.ui.i18n import LANGUAGE_NAMES, N_, language, rtl_safe, tr
from nap_desktop.ui.indicator_labels import period_label
from nap_desktop.ui.session import SessionRef
from nap_desktop.ui.widgets import ERROR_STYLE, button_row, heading, path_edit, primary_button, with_choose_button
from nap_desktop.ui.workers import Op, run_op

# (format, label, file filter)
FORMATS = (
    ("pdf", N_("PDF (to print or send)"), N_("PDF (*.pdf)")),
    ("xlsx", N_("Excel workbook"), N_("Excel workbook (*.xlsx)")),
    ("csv", N_("CSV (one row per value)"), N_("CSV (*.csv)")),
    ("json", N_("JSON (for other systems)"), N_("JSON (*.json)")),
)
# (what, label, formats, file name stem, has a version to choose)
WHATS = (
    ("indicators", N_("Indicator report (all indicators)"), ("pdf", "xlsx", "csv", "json"), "indicators", True),
    ("glotip", N_("UNODC GLOTIP table (always protected)"), ("xlsx", "csv"), "glotip", False),
    ("ctdc", N_("CTDC victim-level file (k-anonymous)"), ("csv",), "ctdc", False),
    ("dhis2", N_("DHIS2 data values"), ("json",), "dhis2", True),
)


class ReportExportDialog(QDialog):
    """Format, version, language and file of the indicator report of ``period`` and ``scope``.
    After ``accepted``, :attr:`result` holds the :class:`ExportResult`."""

    def __init__(self, ref: SessionRef, period: Period, scope: str, scope_text: str, *, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reportExportDialog")
        self.setWindowTitle(tr("Export the indicators"))
        self.setMinimumWidth(560)
        self.ref, self.period, self.scope = ref, period, scope
        self.result: ExportResult | None = None
        self.op: Op | None = None
        self._busy = False
        self._error = ""
        lay = QVBoxLayout(self)
        lay.addWidget(heading(tr("Export the indicators")))
        what = QLabel(tr("All indicators of {scope} for {period}.").format(scope=scope_text, period=period_label(period)))
        what.setObjectName("exportSummary")
        what.setWordWrap(True)
        lay.addWidget(what)

        form = QFormLayout()
        self.what_combo = QComboBox()
        self.what_combo.setObjectName("exportWhat")
        publish = ref.can(Perm.REPORT_PUBLISH, unit=scope)
        for key, label, *_ in WHATS:
            if key in ("glotip", "ctdc") and not publish:
                continue
            self.what_combo.addItem(tr(label), key)
        form.addRow(tr("Export:"), self.what_combo)
        self.format_combo = QComboBox()
        self.format_combo.setObjectName("exportFormat")
        form.addRow(tr("Format:"), self.format_combo)
        self._fill_formats()

        self.internal_radio = QRadioButton(tr("Internal: every count, for FIA only"))
        self.internal_radio.setObjectName("exportInternal")
        self.external_radio = QRadioButton(tr("External: counts of 1 to 4 hidden, for partners and the public"))
        self.external_radio.setObjectName("exportExternal")
        group = QButtonGroup(self)
        group.addButton(self.internal_radio)
        group.addButton(self.external_radio)
        versions = QWidget()
        vlay = QVBoxLayout(versions)
        vlay.setContentsMargins(0, 0, 0, 0)
        vlay.addWidget(self.internal_radio)
        vlay.addWidget(self.external_radio)
        self.may_internal = ref.can(Perm.REPORT_INTERNAL, unit=scope)
        if self.may_internal:
            self.internal_radio.setChecked(True)
        else:
            self.internal_radio.setEnabled(False)
            self.external_radio.setChecked(True)
            note = QLabel(tr("Your role may give out the external version only."))
            note.setObjectName("exportInternalNote")
            note.setStyleSheet("color: #555;")
            vlay.addWidget(note)
        self.version_label = QLabel(tr("Version:"))
        form.addRow(self.version_label, versions)
        self.versions = versions

        self.lang_combo = QComboBox()
        self.lang_combo.setObjectName("exportLanguage")
        for code in ("en", "ur"):
            self.lang_combo.addItem(LANGUAGE_NAMES[code], code)
        self.lang_combo.setCurrentIndex(self.lang_combo.findData(language()))
        self.lang_label = QLabel(rtl_safe(tr("Language of the PDF:")))  # starts with "PDF": right to left all the same
        form.addRow(self.lang_label, self.lang_combo)

        self.k_spin = QSpinBox()
        self.k_spin.setObjectName("exportK")
        self.k_spin.setRange(2, 100)
        self.k_spin.setValue(11)
        self.k_spin.setToolTip(tr("Every row is the same, in every column, as at least k − 1 other rows; rarer rows are generalised or left out."))
        self.k_label = QLabel(tr("k (rows alike):"))
        form.addRow(self.k_label, self.k_spin)

        self.path_edit = path_edit("exportPath")
        form.addRow(tr("File:"), with_choose_button(self.path_edit, self._choose_file))
        lay.addLayout(form)

        self.message = QLabel()
        self.message.setObjectName("exportMessage")
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.setWordWrap(True)
        self.message.hide()
        lay.addWidget(self.message)
        self.ok_button = primary_button(tr("Export"))
        self.ok_button.setObjectName("exportButton")
        self.ok_button.clicked.connect(self._on_ok_clicked)
        row, self.cancel_button = button_row(self, self.ok_button)
        lay.addLayout(row)

        self._default = ""
        self._set_default_path()
        self.what_combo.currentIndexChanged.connect(self._on_what_changed)
        self.format_combo.currentIndexChanged.connect(self._on_choice_changed)
        self.external_radio.toggled.connect(self._on_choice_changed)
        self.path_edit.textChanged.connect(self._on_path_changed)
        self._update()

    # --- choices ---

    @property
    def what(self) -> str:
        return str(self.what_combo.currentData())

    @property
    def fmt(self) -> str:
        return str(self.format_combo.currentData())

    @property
    def external(self) -> bool:
        return self.external_radio.isChecked()

    def _spec(self) -> tuple[str, str, tuple[str, ...], str, bool]:
        return next(w for w in WHATS if w[0] == self.what)

    def _fill_formats(self) -> None:
        formats = self._spec()[2]
        self.format_combo.blockSignals(True)
        self.format_combo.clear()
        for key, label, _filter in FORMATS:
            if key in formats:
                self.format_combo.addItem(tr(label), key)
        self.format_combo.blockSignals(False)

    def _default_path(self) -> Path:
        """``<workspace>/exports/<what>-<scope>-<period>[-external].<format>``."""
        _key, _label, _formats, stem, versioned = self._spec()
        suffix = "-external" if versioned and self.external else ""
        name = f"{stem}-{safe_file_stem(self.scope)}-{safe_file_stem(self.period.label)}{suffix}.{self.fmt}"
        return self.ref.ws.path / "exports" / name

    def _on_what_changed(self) -> None:
        self._fill_formats()
        self._on_choice_changed()

    def _set_default_path(self) -> None:
        self._default = str(self._default_path())
        self.path_edit.setText(self._default)

    def _on_choice_changed(self) -> None:
        text = self.path_edit.text().strip()
        if text == self._default:
            self._set_default_path()  # the suggested name follows the choices
        elif text:
            self.path_edit.setText(str(Path(text).with_suffix(f".{self.fmt}")))  # a name of one's own keeps its name
        self._error = ""
        self._update()

    def _on_path_changed(self) -> None:
        self._error = ""
        self._update()

    def _choose_file(self) -> None:
        filters = ";;".join(tr(f) for key, _label, f in FORMATS if key == self.fmt)
        name, _ = QFileDialog.getSaveFileName(self, tr("Export the indicators"), self.path_edit.text(), filters)
        if name:
            self.path_edit.setText(str(Path(name).with_suffix(f".{self.fmt}")))

    def _update(self) -> None:
        pdf = self.fmt == "pdf"
        self.lang_combo.setEnabled(pdf)
        self.lang_label.setEnabled(pdf)
        versioned = self._spec()[4]
        self.versions.setVisible(versioned)
        self.version_label.setVisible(versioned)
        ctdc = self.what == "ctdc"
        self.k_spin.setVisible(ctdc)
        self.k_label.setVisible(ctdc)
        self.message.setText(self._error)
        self.message.setVisible(bool(self._error))
        self.ok_button.setEnabled(not self._busy and bool(self.path_edit.text().strip()))
        for w in (self.what_combo, self.format_combo, self.path_edit, self.external_radio, self.k_spin):
            w.setEnabled(not self._busy)
        self.internal_radio.setEnabled(not self._busy and self.may_internal)

    # --- export ---

    def _on_ok_clicked(self) -> None:
        if not self.ok_button.isEnabled():
            return
        out = Path(self.path_edit.text().strip())
        if out.suffix.lower() != f".{self.fmt}":
            out = out.with_suffix(f".{self.fmt}")
        ws, period, scope, fmt, external, what, k = self.ref.ws, self.period, self.scope, self.fmt, self.external, self.what, self.k_spin.value()
        lang = str(self.lang_combo.currentData()) if fmt == "pdf" else "en"
        self._busy = True
        self._update()

        def work(_op: Op) -> Any:
            if what == "indicators":
                return iter_indicator_report(ws, period=period, scope=scope, fmt=fmt, out=out, external=external, lang=lang)
            return iter_standard_export(ws, what, period=period, scope=scope, out=out, k=k, external=external)

        # NOTE: a writer: the export is audited (report.export) in the store.
        self.op = (
            run_op(self, work, writer=True)
            .on_success(self._on_done)
            .on_failure(self._on_failed)
            .on_finished(self._on_finished)
            .with_progress(tr("Writing the report…"))
            .start()
        )

    def _on_done(self, result: ExportResult) -> None:
        self.result = result
        self.accept()

    def _on_failed(self, exc: BaseException) -> None:
        if isinstance(exc, UserFacingError):
            self._error = user_message(exc)
        else:
            show_exception(parent=self, exc=exc)

    def _on_finished(self) -> None:
        self._busy = False
        self._update()

    def reject(self) -> None:  # noqa: D102
        if self._busy:
            return
        super().reject()
