# SPDX-License-Identifier: GPL-3.0-or-later
"""Table models of the sync screen: bundle history, conflict queue, devices, import results,
and the side-by-side comparison of a conflict's two versions.

Each model holds a plain list of the service's DTOs (``services.sync``), replaced as a whole by
:meth:`DtoTableModel.set_rows` after a background read; no model touches the store itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from nap_desktop.domain.codelists import CodeLists
from nap_desktop.domain.records import RECORD_TYPES, FieldSpec
from nap_desktop.errors import UserFacingError
from nap_desktop.services.sync import BundleInfo, ConflictDetail, ConflictInfo, DeviceInfo, EnrolResult, ImportSummary
from nap_desktop.ui.i18n import N_, fmt_int, latin, ltr, pick, rtl_safe, tr
from nap_desktop.ui.widgets import code_label

RowRole = Qt.ItemDataRole.UserRole + 2
MASK = "•••"
DIFF_BRUSH = QBrush(QColor("#fff1c2"))
ERROR_BRUSH = QBrush(QColor("#b00020"))

_Index = QModelIndex | QPersistentModelIndex

DIRECTIONS = {"in": N_("Received"), "out": N_("Sent")}
KINDS = {"changes": N_("Changes"), "receipt": N_("Receipt"), "registry": N_("Key registry"), "config": N_("Settings")}
STATES = {
    "exported": N_("Sent, awaiting HQ's receipt"),
    "acknowledged": N_("Acknowledged by HQ"),
    "imported": N_("Imported"),
    "held": N_("Held"),
}
OUTCOMES = {
    "dry run": N_("Ready to import"),
    "imported": N_("Imported"),
    "already imported": N_("Already imported, nothing changes"),
    "held": N_("Held until the missing changes arrive"),
    "acknowledged": N_("Receipt: bundles acknowledged"),
}
KEY_STATUSES = {"active": N_("active"), "retired": N_("retired"), "revoked": N_("revoked"), "pending": N_("pending")}
SITE_KINDS = {"post": N_("Border post"), "circle": N_("Circle"), "hq": N_("Headquarters")}
REVOKE_REASONS = {
    "lost": N_("Lost"),
    "stolen": N_("Stolen"),
    "replaced": N_("Replaced by another computer"),
    "retired": N_("Taken out of service"),
    "other": N_("Other"),
}


def when(value: datetime | None) -> str:
    """A timestamp as the officer reads it (local time, minutes)."""
    if value is None:
        return ""
    return ltr(value.astimezone().strftime("%Y-%m-%d %H:%M"))


def seq_range(seq_from: int, seq_to: int) -> str:
    """``"3–7"`` (a change range), ``"—"`` when the bundle carries no record changes."""
    if seq_to <= 0 or seq_to < seq_from:
        return "—"
    return ltr(str(seq_from) if seq_from == seq_to else f"{seq_from}–{seq_to}")


def counts_text(new: int, updated: int, identical: int, conflicts: int) -> str:
    """The four numbers of an import in one line."""
    return tr("new: {new} · updated: {updated} · identical: {identical} · conflicts: {conflicts}").format(
        new=fmt_int(new), updated=fmt_int(updated), identical=fmt_int(identical), conflicts=fmt_int(conflicts)
    )


def error_text(exc: BaseException) -> str:
    """A refusal in the UI language (user-facing errors only carry safe messages)."""
    from nap_desktop.ui.errors import user_message

    if isinstance(exc, UserFacingError):
        return user_message(exc)
    return tr("Unexpected error; see the log.")


class DtoTableModel(QAbstractTableModel):
    """A read-only table of DTOs; subclasses name the columns and say how a cell reads."""

    columns: tuple[tuple[str, str], ...] = ()  # (key, English header)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[Any] = []

    def set_rows(self, rows: Sequence[Any]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def rows(self) -> list[Any]:
        return list(self._rows)

    def row_at(self, row: int) -> Any:
        return self._rows[row]

    def column_of(self, key: str) -> int:
        return [k for k, _ in self.columns].index(key)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.columns):
            return tr(self.columns[section][1])
        if orientation == Qt.Orientation.Vertical and 0 <= section < len(self._rows):
            return str(section + 1)
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def display(self, row: Any, key: str) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    def extra(self, row: Any, key: str, role: int) -> Any:
        """Other roles of a cell (colour, tooltip, alignment); ``None`` by default."""
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self._rows)) or not (0 <= index.column() < len(self.columns)):
            return None
        row = self._rows[index.row()]
        key = self.columns[index.column()][0]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.display(row, key)
        if role == RowRole:
            return row
        return self.extra(row, key, role)


_NUMERIC = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


class BundleTableModel(DtoTableModel):
    """Bundles sent and received (``sync.list_bundles``), newest first."""

    columns = (
        ("direction", N_("Direction")),
        ("kind", N_("Kind")),
        ("unit", N_("Unit")),
        ("range", N_("Changes")),
        ("state", N_("State")),
        ("date", N_("Date")),
        ("summary", N_("Summary")),
    )

    def set_rows(self, rows: Sequence[BundleInfo]) -> None:
        super().set_rows(sorted(rows, key=lambda b: (b.processed_at or b.created_at), reverse=True))

    def display(self, b: BundleInfo, key: str) -> str:
        if key == "direction":
            return tr(DIRECTIONS.get(b.direction, b.direction))
        if key == "kind":
            return tr(KINDS.get(b.kind, b.kind))
        if key == "unit":
            return b.source_unit
        if key == "range":
            return seq_range(b.seq_from, b.seq_to)
        if key == "state":
            return tr(STATES.get(b.state, b.state))
        if key == "date":
            return when(b.processed_at or b.created_at)
        if key == "summary":
            s = b.summary or {}
            if b.state == "held":
                return tr("Waiting for earlier changes of this unit")
            if not s:
                return ""
            return counts_text(int(s.get("new", 0)), int(s.get("updated", 0)), int(s.get("identical", 0)), int(s.get("conflicts", 0)))
        return ""

    def extra(self, b: BundleInfo, key: str, role: int) -> Any:
        if role == Qt.ItemDataRole.ForegroundRole and key == "state" and b.state in ("held", "exported"):
            return QBrush(QColor("#8a5a00"))
        if role == Qt.ItemDataRole.ToolTipRole and key == "state" and b.note:
            from nap_desktop.ui.i18n import tr_known

            return tr_known(b.note)
        return None


class ConflictTableModel(DtoTableModel):
    """Open conflicts (``sync.list_conflicts``): an edit that did not build on the version here."""

    columns = (
        ("type", N_("Record type")),
        ("record", N_("Record")),
        ("unit", N_("From unit")),
        ("local", N_("Version here")),
        ("incoming", N_("Incoming version")),
        ("reason", N_("Why")),
        ("date", N_("Received")),
    )

    def display(self, c: ConflictInfo, key: str) -> str:
        if key == "type":
            rt = RECORD_TYPES.get(c.record_type)
            return pick(rt.label_en, rt.label_ur) if rt else c.record_type
        if key == "record":
            return ltr(c.record_id[:8])
        if key == "unit":
            return c.source_unit
        if key == "local":
            return fmt_int(c.local_version) if c.local_version else tr("none (new record)")
        if key == "reason":
            return tr("Month approved") if c.reason == "locked" else tr("Edited on both sides")
        if key == "incoming":
            return fmt_int(c.incoming_version)
        if key == "date":
            return when(c.created_at)
        return ""

    def extra(self, c: ConflictInfo, key: str, role: int) -> Any:
        if role == Qt.ItemDataRole.TextAlignmentRole and key in ("local", "incoming"):
            return _NUMERIC
        if role == Qt.ItemDataRole.ToolTipRole and key == "record":
            return c.record_id
        return None


class DeviceTableModel(DtoTableModel):
    """Enrolled devices and their keys (``sync.list_devices``, HQ)."""

    columns = (
        ("unit", N_("Unit")),
        ("kind", N_("Site kind")),
        ("device", N_("Device")),
        ("keys", N_("Keys")),
        ("seq", N_("Last change received")),
        ("date", N_("Last import")),
    )

    def display(self, d: DeviceInfo, key: str) -> str:
        if key == "unit":
            return d.unit
        if key == "kind":
            return tr(SITE_KINDS.get(d.site_kind, d.site_kind))
        if key == "device":
            return ltr(d.device_id[:8])
        if key == "keys":
            return ", ".join(f"{ltr(group4(k))} ({tr(KEY_STATUSES.get(s, s))})" for k, s in d.keys)
        if key == "seq":
            return fmt_int(d.last_seq) if d.last_seq else "—"
        if key == "date":
            return when(d.last_import_at)
        return ""

    def extra(self, d: DeviceInfo, key: str, role: int) -> Any:
        if role == Qt.ItemDataRole.TextAlignmentRole and key == "seq":
            return _NUMERIC
        if role == Qt.ItemDataRole.ForegroundRole and key == "keys" and d.keys and all(s == "revoked" for _k, s in d.keys):
            return ERROR_BRUSH
        if role == Qt.ItemDataRole.ToolTipRole and key == "device":
            return d.device_id
        return None

    @staticmethod
    def revoked(d: DeviceInfo) -> bool:
        return bool(d.keys) and all(s == "revoked" for _k, s in d.keys)


class ImportResultModel(DtoTableModel):
    """One row per file of an import (or its dry run): the numbers, or why it was refused."""

    columns = (
        ("file", N_("File")),
        ("unit", N_("From")),
        ("result", N_("Result")),
        ("new", N_("New")),
        ("updated", N_("Updated")),
        ("identical", N_("Identical")),
        ("conflicts", N_("Conflicts")),
        ("rejected", N_("Rejected")),
        ("problems", N_("Problems")),
    )
    _NUMBERS = ("new", "updated", "identical", "conflicts", "rejected")

    def display(self, row: tuple[str, ImportSummary | BaseException], key: str) -> str:
        name, r = row
        if key == "file":
            return ltr(name)
        if isinstance(r, BaseException):
            if key == "result":
                return tr("Refused")
            if key == "problems":
                return error_text(r)
            return ""
        if key == "unit":
            return r.source_unit
        if key == "result":
            if r.kind in ("receipt", "registry") and r.outcome in ("dry run", "imported", "acknowledged"):
                n = fmt_int(r.acknowledged)
                return tr("Key registry update") if r.kind == "registry" else tr("Receipt for {n} bundle(s)").format(n=n)
            if r.outcome == "held" and r.missing:
                a, b = r.missing
                return tr("Held: change {a} has not arrived").format(a=a) if a == b else tr("Held: changes {a}–{b} have not arrived").format(a=a, b=b)
            return tr(OUTCOMES.get(r.outcome, r.outcome))
        if key in self._NUMBERS:
            if r.kind != "changes" or r.outcome in ("held", "already imported"):
                return ""
            return fmt_int(getattr(r, key))
        if key == "problems":
            from nap_desktop.ui.i18n import tr_known

            return "\n".join(tr_known(p) for p in r.problems) if r.outcome != "held" or not r.missing else ""
        return ""

    def extra(self, row: tuple[str, ImportSummary | BaseException], key: str, role: int) -> Any:
        _name, r = row
        bad = isinstance(r, BaseException) or (not isinstance(r, BaseException) and r.rejected > 0)
        if role == Qt.ItemDataRole.TextAlignmentRole and key in self._NUMBERS:
            return _NUMERIC
        if role == Qt.ItemDataRole.ForegroundRole and bad and key in ("result", "rejected", "problems"):
            return ERROR_BRUSH
        if role == Qt.ItemDataRole.ToolTipRole and key in ("problems", "file", "result"):
            return self.display(row, key) or None
        return None

    def totals(self) -> dict[str, int]:
        """Sums over the files that were (or would be) imported; ``refused`` counts the others."""
        out = {k: 0 for k in self._NUMBERS}
        out["refused"] = 0
        for _name, r in self._rows:
            if isinstance(r, BaseException):
                out["refused"] += 1
                continue
            for k in self._NUMBERS:
                out[k] += getattr(r, k)
        return out


def format_value(spec: FieldSpec, value: Any, cl: CodeLists) -> str:
    """One field's value as text, with code labels in the UI language."""
    if value is None or value == "" or value == [] or value == {}:
        return ""
    kind = spec.kind
    if kind == "code" and spec.codelist:
        return code_label(cl.get(spec.codelist), value)
    if kind == "codes" and spec.codelist:
        return ", ".join(code_label(cl.get(spec.codelist), v) for v in value)
    if kind == "bool":
        return tr("Yes") if value else tr("No")
    if kind == "int" and isinstance(value, int):
        return fmt_int(value)
    if kind == "date":
        return ltr(str(value))
    if kind == "ref":
        return ltr(str(value)[:8])
    if kind == "answers" and isinstance(value, dict):
        questions = cl.get(spec.codelist) if spec.codelist else None
        answers = cl.get(questions.answered_with or "answer") if questions is not None else None
        return "; ".join(f"{code_label(questions, q)}: {code_label(answers, a)}" for q, a in sorted(value.items()))
    if kind == "matrix" and isinstance(value, dict) and spec.dims:
        a, b = (cl.get(d) for d in spec.dims)
        bits = []
        for k1, inner in sorted(value.items()):
            for k2, n in sorted((inner or {}).items()):
                bits.append(f"{code_label(a, k1)} / {code_label(b, k2)}: {fmt_int(n)}")
        return "; ".join(bits)
    if isinstance(value, list):
        return "; ".join(_item_text(v, cl) for v in value)
    text = str(value)
    return ltr(text) if latin(text) else text  # a phone number or a Latin name stays in one piece


_ITEM_LISTS = {"type": "route_event_type", "country": "citizenship", "event": "stage_event"}


def _item_text(item: Any, cl: CodeLists) -> str:
    if not isinstance(item, dict):
        return str(item)
    bits = []
    for k, v in item.items():
        if v in (None, ""):
            continue
        if k in _ITEM_LISTS:
            bits.append(code_label(cl.get(_ITEM_LISTS[k]), v))
        elif k.endswith("_id"):
            bits.append(ltr(str(v)[:8]))
        else:
            bits.append(ltr(str(v)) if k.endswith("date") else str(v))
    return ", ".join(bits)


class CompareModel(DtoTableModel):
    """A conflict's two versions side by side: one row per field, differing rows highlighted,
    personal fields the user may not see shown as masked."""

    columns = (("field", N_("Field")), ("local", N_("This workspace")), ("incoming", N_("Incoming")))

    def __init__(self, codelists: CodeLists, parent: Any = None) -> None:
        super().__init__(parent)
        self.cl = codelists
        self.detail: ConflictDetail | None = None

    def set_detail(self, detail: ConflictDetail) -> None:
        """Shows every field either version fills, plus every masked one."""
        self.detail = detail
        rt = RECORD_TYPES[detail.info.record_type]
        shown = [f for f in rt.fields if f.name in detail.masked or f.name in detail.local or f.name in detail.incoming]
        self.set_rows(shown)

    def differs(self, spec: FieldSpec) -> bool:
        return self.detail is not None and spec.name in self.detail.differing

    def masked(self, spec: FieldSpec) -> bool:
        return self.detail is not None and spec.name in self.detail.masked

    def display(self, spec: FieldSpec, key: str) -> str:
        if key == "field":
            return pick(spec.label_en, spec.label_ur)
        if self.detail is None:
            return ""
        if self.masked(spec):
            return MASK
        values = self.detail.local if key == "local" else self.detail.incoming
        return format_value(spec, values.get(spec.name), self.cl)

    def extra(self, spec: FieldSpec, key: str, role: int) -> Any:
        if role == Qt.ItemDataRole.BackgroundRole and self.differs(spec):
            return DIFF_BRUSH
        if role == Qt.ItemDataRole.FontRole and self.differs(spec) and key == "field":
            f = QFont()
            f.setBold(True)
            return f
        if role == Qt.ItemDataRole.ToolTipRole:
            if self.masked(spec) and key != "field":
                return tr("Hidden: your role does not give access to personal data.")
            if self.differs(spec):
                return tr("The two versions differ in this field.")
        return None


def group4(text: str) -> str:
    """A key id in groups of four, as read aloud on the phone."""
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def request_written_text(r: EnrolResult) -> str:
    """What to do with a request file just written (shown by the sync screen and the wizard)."""
    return (
        tr("Enrolment request written to:")
        + f"\n{ltr(str(r.path))}\n"
        + tr("Send this file to HQ (on a USB stick or to the HQ administrator). When HQ calls, read out this computer's key fingerprint:")
        + f"\n{group4(r.key_id)}\n"
        + tr("HQ sends back an answer file (.napresp): open Sync ▸ Accept HQ's answer… and check HQ's fingerprint before accepting it.")
    )
