# SPDX-License-Identifier: GPL-3.0-or-later
"""HQ: the field settings page of the settings dialog (``services/field_config.py``).

An HQ administrator sees the version last published and its values, edits the draft (each of the
four settings set to a value, or left as each device has it), saves the draft, and publishes it:
``publish_field_config`` writes a config bundle for every enrolled device into a folder, on the
writer thread. Shown only in an HQ workspace, to accounts that may manage settings (the permission
``field_config.set_field_config`` checks). Errors show on the page, under the field they concern.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from nap_desktop.errors import UserFacingError, ValidationError
from nap_desktop.services import field_config, link, sync
from nap_desktop.services import settings as ws_settings
from nap_desktop.ui.errors import show_exception, user_message
from nap_desktop.ui.i18n import N_, fmt_int, language, ltr, rtl_safe, tr
from nap_desktop.ui.session import SessionRef
from nap_desktop.ui.widgets import Banner, ErrorLabel, ask_yes_no
from nap_desktop.ui.workers import Op, OpContext, run_op

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Row:
    name: str
    label: str
    unit: str = ""  # "days" / "minutes"; empty: the server address (text)
    lo: int = 0
    hi: int = 0


ROWS = (
    _Row("retention_days", N_("Personal data kept after HQ's receipt:"), N_("days"), field_config.MIN_RETENTION_DAYS, field_config.MAX_RETENTION_DAYS),
    _Row("idle_lock_minutes", N_("Lock after no use for:"), N_("minutes"), ws_settings.MIN_IDLE_MINUTES, ws_settings.MAX_IDLE_MINUTES),
    _Row("server_url", N_("HQ server address:")),
    _Row("sync_interval_minutes", N_("Look for HQ every:"), N_("minutes"), field_config.MIN_INTERVAL, field_config.MAX_INTERVAL),
)
# what an editor starts from when the draft leaves the setting to the devices: the devices' default
DEFAULTS = {
    "retention_days": sync.DEFAULT_RETENTION_DAYS,
    "idle_lock_minutes": ws_settings.DEFAULT_IDLE_MINUTES,
    "sync_interval_minutes": link.DEFAULT_INTERVAL_MINUTES,
}


def value_text(row: _Row, value: object) -> str:
    """A setting's value as shown: "30 days", an address, or "each device's own"."""
    if value is None:
        return tr("each device's own")
    if row.unit:
        return f"{fmt_int(int(value))} {tr(row.unit)}"  # type: ignore[call-overload]
    return ltr(str(value))


def issued_text(issued_at: str) -> str:
    """When a version was published, to the minute, in UTC ("2026-11-29 15:25 UTC")."""
    try:
        when = datetime.fromisoformat(issued_at).astimezone(UTC)
    except ValueError:
        return ltr(issued_at)
    return ltr(f"{when:%Y-%m-%d %H:%M} UTC")


class _Editor:
    """One setting's editor: a value (spin box or address) and "leave as each device has it"."""

    def __init__(self, row: _Row) -> None:
        self.row = row
        self.widget = QWidget()
        lay = QHBoxLayout(self.widget)
        lay.setContentsMargins(0, 0, 0, 0)
        self.spin: QSpinBox | None = None
        self.edit: QLineEdit | None = None
        if row.unit:
            self.spin = QSpinBox()
            self.spin.setObjectName(f"draft_{row.name}")
            self.spin.setRange(row.lo, row.hi)
            self.spin.setSuffix(" " + tr(row.unit))
            self.spin.setMinimumWidth(110)
            lay.addWidget(self.spin)
        else:
            self.edit = QLineEdit()
            self.edit.setObjectName(f"draft_{row.name}")
            self.edit.setPlaceholderText("https://hq.example:8443")
            self.edit.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
            self.edit.setMinimumWidth(200)
            lay.addWidget(self.edit, 1)
        self.leave = QCheckBox(tr("Leave as each device has it"))
        self.leave.setObjectName(f"leave_{row.name}")
        self.leave.toggled.connect(self._on_leave_toggled)
        lay.addWidget(self.leave)
        if self.spin is not None:
            lay.addStretch(1)
        self.error = ErrorLabel()
        self.error.setObjectName(f"error_{row.name}")

    @property
    def value_widget(self) -> QWidget:
        assert self.spin is not None or self.edit is not None
        return self.spin if self.spin is not None else self.edit  # type: ignore[return-value]

    def _on_leave_toggled(self, on: bool) -> None:
        self.value_widget.setEnabled(not on)
        self.error.set_error(None)

    def set_value(self, value: object) -> None:
        self.leave.setChecked(value is None)
        self._on_leave_toggled(value is None)
        if self.spin is not None:
            self.spin.setValue(int(value) if value is not None else DEFAULTS[self.row.name])  # type: ignore[call-overload]
        elif self.edit is not None:
            self.edit.setText(str(value) if value is not None else "")

    def value(self) -> object:
        """The draft's value, ``None`` when left to each device."""
        if self.leave.isChecked():
            return None
        if self.spin is not None:
            return self.spin.value()
        assert self.edit is not None
        return self.edit.text().strip()


class FieldSettingsPage(QWidget):
    """HQ administrators: view, edit and publish the settings HQ decides for every field laptop."""

    published = Signal(object)  # field_config.PublishResult

    def __init__(self, ref: SessionRef, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("fieldSettingsPage")
        self.ref = ref
        self.status: field_config.FieldConfigStatus | None = None
        self.last_result: field_config.PublishResult | None = None
        outer = QVBoxLayout(self)
        # NOTE: in a scroll area: a banner or an error that appears (wrapped, in Urdu taller) would
        # otherwise squeeze the rows of a dialog that does not grow with it.
        scroll = QScrollArea()
        scroll.setObjectName("fieldConfigScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        body = QWidget()
        body.setObjectName("fieldConfigBody")
        scroll.setStyleSheet("#fieldConfigScroll, #fieldConfigScroll > QWidget, #fieldConfigBody { background: transparent; }")  # the tab's own colour
        scroll.setWidget(body)
        outer.addWidget(scroll, 1)
        lay = QVBoxLayout(body)
        lay.setContentsMargins(0, 0, 0, 0)
        intro = QLabel(
            rtl_safe(
                tr(
                    "HQ decides these settings for every field laptop; on the laptops they cannot be changed. Save a draft, then publish it: "
                    "each publication that changes something is a new version, with a config bundle for every enrolled device."
                )
            )
        )
        intro.setWordWrap(True)
        lay.addWidget(intro)
        self.banner = Banner()
        self.banner.setObjectName("fieldConfigBanner")
        lay.addWidget(self.banner)
        self.published_label = QLabel()
        self.published_label.setObjectName("fieldConfigPublished")
        self.published_label.setWordWrap(True)
        lay.addWidget(self.published_label)

        grid = QGridLayout()
        grid.setColumnStretch(2, 1)
        grid.setHorizontalSpacing(12)
        for col, text in enumerate((tr("Setting"), tr("Published"), tr("Draft"))):
            head = QLabel(f"<b>{text}</b>")
            grid.addWidget(head, 0, col)
        self.editors: dict[str, _Editor] = {}
        self.published_values: dict[str, QLabel] = {}
        for i, row in enumerate(ROWS):
            r = 1 + 2 * i
            grid.addWidget(QLabel(tr(row.label)), r, 0)
            shown = QLabel()
            shown.setObjectName(f"published_{row.name}")
            grid.addWidget(shown, r, 1)
            editor = _Editor(row)
            grid.addWidget(editor.widget, r, 2)
            grid.addWidget(editor.error, r + 1, 2)
            self.editors[row.name] = editor
            self.published_values[row.name] = shown
        lay.addLayout(grid)
        self.draft_note = QLabel()
        self.draft_note.setObjectName("fieldConfigDraftNote")
        self.draft_note.setWordWrap(True)
        lay.addWidget(self.draft_note)
        lay.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.save_button = QPushButton(tr("Save draft"))
        self.save_button.setObjectName("saveFieldConfig")
        self.save_button.setAutoDefault(False)
        self.save_button.clicked.connect(lambda: self.save_draft())
        self.publish_button = QPushButton(tr("Publish…"))
        self.publish_button.setObjectName("publishFieldConfig")
        self.publish_button.setAutoDefault(False)
        self.publish_button.clicked.connect(lambda: self.publish())
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.publish_button)
        outer.addLayout(buttons)
        self._show(field_config.get_field_config(ref.ws))

    # -- showing ---------------------------------------------------------------------------------

    def _show(self, st: field_config.FieldConfigStatus) -> None:
        self.status = st
        p = st.published
        if p is None:
            self.published_label.setText(rtl_safe(tr("Published: nothing yet. Devices keep their own settings.")))
        else:
            self.published_label.setText(rtl_safe(tr("Published: version {version}, {date}").format(version=p.version, date=issued_text(p.issued_at))))
        for row in ROWS:
            self.published_values[row.name].setText(value_text(row, getattr(p.settings, row.name)) if p else "—")
            self.editors[row.name].set_value(getattr(st.draft, row.name))
        self._show_draft_note()

    def _show_draft_note(self) -> None:
        st = self.status
        if st is None:
            return
        if not st.draft.as_dict():
            text, style = tr("The draft sets nothing yet."), "color: #555;"
        elif st.published is not None and st.published.settings == st.draft:
            text, style = tr("The saved draft is the published version."), "color: #1e5b2b;"
        else:
            text, style = tr("The saved draft differs from the published version: publish it to send it to the devices."), "color: #8a5a00;"
        self.draft_note.setText(rtl_safe(text))
        self.draft_note.setStyleSheet(style)

    def _clear_errors(self) -> None:
        self.banner.clear_message()
        for e in self.editors.values():
            e.error.set_error(None)

    def _draft(self) -> tuple[dict[str, Any], tuple[str, ...]]:
        values = {name: e.value() for name, e in self.editors.items()}
        return {k: v for k, v in values.items() if v is not None}, tuple(k for k, v in values.items() if v is None)

    def _on_failed(self, exc: BaseException, what: str) -> None:
        if isinstance(exc, ValidationError) and any(name in self.editors for name in exc.fields):
            for name in exc.fields:
                if name in self.editors:
                    text = exc.fields_ur.get(name) if language() == "ur" else None
                    self.editors[name].error.set_error(text or exc.message)
            self.banner.show_message("error", what + " " + tr("Please correct the marked fields."))
        elif isinstance(exc, UserFacingError):
            self.banner.show_message("error", what + "\n" + user_message(exc))
        else:
            show_exception(parent=self, exc=exc)

    def _busy(self, on: bool) -> None:
        self.save_button.setEnabled(not on)
        self.publish_button.setEnabled(not on)

    # -- actions ---------------------------------------------------------------------------------

    def save_draft(self) -> Op:
        """Saves the draft as edited (devices see nothing until it is published)."""
        self._clear_errors()
        ws, (changes, clear) = self.ref.ws, self._draft()
        self._busy(True)
        return (
            run_op(self, lambda _op: field_config.set_field_config(ws, clear=clear, **changes))
            .on_success(self._on_saved)
            .on_failure(lambda exc: self._on_failed(exc, tr("The draft was not saved.")))
            .on_finished(lambda: self._busy(False))
            .start()
        )

    def _on_saved(self, st: field_config.FieldConfigStatus) -> None:
        self._show(st)
        self.banner.show_message("ok", tr("Draft saved. Devices get it once it is published."))

    def ask(self, title: str, text: str) -> bool:
        """A yes/no question (tests replace it)."""
        return ask_yes_no(self, title, text)

    def publish(self, folder: Path | None = None) -> Op | None:
        """Saves the draft as shown, publishes it and writes the config bundles into ``folder``
        (asked for if not given), on the writer thread."""
        self._clear_errors()
        changes, clear = self._draft()
        if not changes:
            self.banner.show_message("error", tr("Set at least one setting before publishing; the draft leaves every setting to the devices."))
            return None
        if not self.ask(tr("Publish the field settings"), tr("Every field laptop takes these settings when it receives them, and its users can no longer change them. Publish?")):
            return None
        if folder is None:
            name = QFileDialog.getExistingDirectory(self, tr("Folder for the config bundles"), str(self.ref.ws.path / "outbox"))
            if not name:
                return None
            folder = Path(name)
        ws, out = self.ref.ws, folder

        def work(_op: OpContext) -> tuple[field_config.PublishResult, field_config.FieldConfigStatus]:
            field_config.set_field_config(ws, clear=clear, **changes)
            result = field_config.publish_field_config(ws, out)
            return result, field_config.get_field_config(ws)

        self._busy(True)
        return (
            run_op(self, work)
            .on_success(lambda r: self._on_published(out, *r))
            .on_failure(lambda exc: self._on_failed(exc, tr("Nothing was published.")))
            .on_finished(lambda: self._busy(False))
            .with_progress(tr("Writing the config bundles…"), cancellable=False)
            .start()
        )

    def _on_published(self, folder: Path, result: field_config.PublishResult, st: field_config.FieldConfigStatus) -> None:
        self.last_result = result
        self._show(st)
        n = fmt_int(len(result.paths))
        if result.new_version:
            text = tr("Published version {version}: {n} config bundle(s) written to:").format(version=result.version, n=n)
        else:
            text = tr("Nothing changed since version {version}: its {n} config bundle(s) were written again to:").format(version=result.version, n=n)
        text += f"\n{ltr(str(folder))}\n" + tr("Give each unit the file with its code in the name; they import it with Import….")
        text += "\n" + tr("Devices that reach HQ's server fetch the new version there.")
        self.banner.show_message("ok", text)
        self.published.emit(result)
