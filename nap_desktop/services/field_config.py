# SPDX-License-Identifier: GPL-3.0-or-later
"""HQ's settings for the field, sent to devices in signed config bundles (DESIGN §6, bundle kind ``config``).

HQ decides a few settings for every field laptop: how many days personal data stays after HQ
acknowledged it (retention), the idle auto-lock, the intake server's address and how often to look
for it. An HQ administrator sets them (``hq field-config set``, a draft) and publishes them
(``hq field-config publish``): each publication that changes something is a new version, and a
config bundle is written for every enrolled device. The bundle is signed with HQ's key, encrypted
to the device, and carries HQ's current registry besides the settings.

A device takes a config bundle from a USB stick (``sync import``) or from the intake server
(``sync pull``: the pickup answer includes one when HQ has published a version newer than the
device's) through the same import as receipts and registries (registries, then receipts, then
config, then changes). A version older than the one applied is refused, as is another document
under the version applied; the same version again changes nothing. Applying is audited.

What the applied version sets is HQ-managed on the device (:func:`managed`): the local setters
(``settings.set_idle_lock_minutes``, ``sync.set_retention``, ``link.set_settings``) refuse to change
it, with a :class:`~nap_desktop.errors.ValidationError` in English and Urdu, and audit the refusal
(``settings.change_refused``). A setting HQ leaves out (``None``) stays the device's own, also when
a newer version leaves out a setting an older one set. An HQ workspace manages nothing this way.

``META_APPLIED`` holds ``{"version", "sha256", "settings"}`` (the settings applied, by name). A row
written before ``settings`` was kept has only the version and hash: which settings that version set
is then read from the audit entry that recorded applying it (``sync.config_applied``, written in the
same transaction, its detail naming each setting set); if that entry cannot be found, every field
setting counts as set by HQ (a refusal the next version lifts, rather than a setting HQ decided left
open to local change).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nap_desktop.data.meta import get_meta, lock_meta, set_meta
from nap_desktop.data.models import AuditEntry
from nap_desktop.errors import BundleRejected, ConfigRefused, SyncError, ValidationError
from nap_desktop.security.permissions import Perm
from nap_desktop.services import link, settings, sync
from nap_desktop.services.context import Workspace
from nap_desktop.sync import registry as reg

FORMAT = "nap-config/1"
META_DRAFT = "hq.field_config.draft"  # HQ: the settings the next publication carries (JSON)
META_PUBLISHED = "hq.field_config.published"  # HQ: the last published document (JSON)
META_APPLIED = "sync.field_config"  # device: {"version", "sha256", "settings"} of the document applied here
MIN_RETENTION_DAYS, MAX_RETENTION_DAYS = 7, 3650
MIN_INTERVAL, MAX_INTERVAL = 1, 1440


@dataclass(frozen=True)
class FieldSettings:
    """Settings HQ decides for every field device; ``None``: left as each device has it."""

    retention_days: int | None = None
    idle_lock_minutes: int | None = None
    server_url: str | None = None
    sync_interval_minutes: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


SETTING_NAMES = tuple(f.name for f in fields(FieldSettings))


@dataclass(frozen=True)
class FieldConfig:
    """One published version of the field settings."""

    version: int
    issued_at: str
    settings: FieldSettings

    def document(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": self.version, "issued_at": self.issued_at, "settings": self.settings.as_dict()}

    @property
    def sha256(self) -> str:
        return hashlib.sha256(reg.canonical(self.document())).hexdigest()


@dataclass(frozen=True)
class FieldConfigStatus:
    """HQ: the draft (what the next publication carries) and the version last published."""

    draft: FieldSettings
    published: FieldConfig | None


@dataclass(frozen=True)
class PublishResult:
    version: int
    new_version: bool
    paths: tuple[Path, ...]


# --- checks ---------------------------------------------------------------------------------------


_WHAT_UR = {
    "retention_days": "ذاتی ڈیٹا رکھنے کی مدت (دن)",
    "idle_lock_minutes": "لاک ہونے کا وقت (منٹ)",
    "sync_interval_minutes": "ہیڈکوارٹر سے رابطے کا وقفہ (منٹ)",
}


def _whole(value: object, name: str, lo: int, hi: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ValidationError(
            f"{what} must be a whole number from {lo} to {hi}.", {name: "range"}, fields_ur={name: f"{_WHAT_UR[name]} {lo} سے {hi} تک کا پورا عدد ہو۔"}
        )
    return value


def check_settings(values: dict[str, Any]) -> FieldSettings:
    """Validates field settings (unknown names, ranges, the server address).

    Raises:
        ValidationError: a value out of range, an address that is not ``https://host[:port]``, an unknown name.
    """
    unknown = set(values) - set(SETTING_NAMES)
    if unknown:
        raise ValidationError(f"Unknown field setting {sorted(unknown)[0]}.", {sorted(unknown)[0]: "unknown"})
    out: dict[str, Any] = {}
    if values.get("retention_days") is not None:
        out["retention_days"] = _whole(values["retention_days"], "retention_days", MIN_RETENTION_DAYS, MAX_RETENTION_DAYS, "The retention period in days")
    if values.get("idle_lock_minutes") is not None:
        out["idle_lock_minutes"] = _whole(
            values["idle_lock_minutes"], "idle_lock_minutes", settings.MIN_IDLE_MINUTES, settings.MAX_IDLE_MINUTES, "The idle lock time in minutes"
        )
    if values.get("sync_interval_minutes") is not None:
        out["sync_interval_minutes"] = _whole(values["sync_interval_minutes"], "sync_interval_minutes", MIN_INTERVAL, MAX_INTERVAL, "The sync interval in minutes")
    if values.get("server_url") is not None:
        if not isinstance(values["server_url"], str):
            raise ValidationError("The HQ server address must be text.", {"server_url": "invalid"}, fields_ur={"server_url": "ہیڈکوارٹر کے سرور کا پتہ متن ہو۔"})
        out["server_url"] = link.check_server_url(values["server_url"])
    return FieldSettings(**out)


def _parse(doc: object) -> FieldConfig:
    """A config document as it travels; refused unless well formed with valid settings."""
    if not isinstance(doc, dict) or set(doc) != {"format", "version", "issued_at", "settings"} or doc["format"] != FORMAT:
        raise BundleRejected("HQ's config bundle does not hold a field settings document this version can read.")
    version, issued_at, values = doc["version"], doc["issued_at"], doc["settings"]
    if isinstance(version, bool) or not isinstance(version, int) or version < 1 or not isinstance(issued_at, str) or not isinstance(values, dict):
        raise BundleRejected("HQ's field settings document is malformed.")
    try:
        return FieldConfig(version, issued_at, check_settings(values))
    except ValidationError as exc:
        raise BundleRejected(f"HQ's field settings cannot be used here: {exc.message}") from None


def _require_hq(ws: Workspace) -> None:
    if ws.wf.site_kind != "hq":
        raise SyncError("Only HQ decides the field settings.")


# --- HQ -------------------------------------------------------------------------------------------


def _draft(s: Session) -> FieldSettings:
    text = get_meta(s, META_DRAFT)
    return FieldSettings(**json.loads(text)) if text else FieldSettings()


def published(s: Session) -> FieldConfig | None:
    """HQ: the version last published (``None`` before the first)."""
    text = get_meta(s, META_PUBLISHED)
    return _parse(json.loads(text)) if text else None


def get_field_config(ws: Workspace) -> FieldConfigStatus:
    ws.require(Perm.WORKSPACE_VIEW)
    _require_hq(ws)
    with ws.sf() as s:
        return FieldConfigStatus(_draft(s), published(s))


def set_field_config(ws: Workspace, *, clear: tuple[str, ...] = (), **changes: Any) -> FieldConfigStatus:
    """HQ administrators: changes the draft (``None`` leaves a setting; ``clear`` names settings to
    leave to each device again). Devices see nothing until :func:`publish_field_config`. Audited.

    Raises:
        ValidationError: see :func:`check_settings`.
    """
    ws.require(Perm.SETTINGS_MANAGE, object_type="setting", object_id="field_config")
    _require_hq(ws)
    unknown = (set(changes) | set(clear)) - set(SETTING_NAMES)
    if unknown:
        raise ValidationError(f"Unknown field setting {sorted(unknown)[0]}.", {sorted(unknown)[0]: "unknown"})
    given = check_settings({k: v for k, v in changes.items() if v is not None})
    with ws.sf.begin() as s:
        row = lock_meta(s, META_DRAFT, "{}")
        values = {k: v for k, v in json.loads(row.value or "{}").items() if k not in clear}
        values.update(given.as_dict())
        draft = check_settings(values)
        row.value = json.dumps(draft.as_dict(), sort_keys=True)
        ws.audit(s, "hq.field_config_set", object_type="setting", object_id="field_config", detail={**{k: True for k in given.as_dict()}, **{k: False for k in clear}})
        return FieldConfigStatus(draft, published(s))


def config_bundle(ws: Workspace, s: Session, r: reg.Registry, device_id: str, folder: Path, config: FieldConfig) -> Path | None:
    """HQ: the field settings ``config`` and the registry ``r`` as a bundle for one device."""
    lines = [{"t": "_registry", "text": r.text}, {"t": "_config", "config": config.document()}]
    return sync.write_hq_bundle(ws, s, r, device_id, kind="config", lines=lines, folder=folder, name=f"config-v{config.version}")


def publish_field_config(ws: Workspace, out_dir: Path | None = None) -> PublishResult:
    """HQ administrators: publishes the draft and writes a config bundle for every enrolled device.

    A draft that differs from the last publication becomes the next version; an unchanged one
    writes the bundles of the last version again (for devices enrolled since, or a lost stick).
    The intake server hands the newest version to each device that asks. Audited.

    Raises:
        SyncError: the draft sets nothing.
    """
    ws.require(Perm.SETTINGS_MANAGE, object_type="setting", object_id="field_config")
    _require_hq(ws)
    folder = Path(out_dir) if out_dir else ws.path / "outbox"
    with ws.sf.begin() as s:
        draft = _draft(s)
        if not draft.as_dict():
            raise SyncError("The field settings set nothing yet: set them first (hq field-config set).")
        row = lock_meta(s, META_PUBLISHED, "")  # one publication at a time: versions never repeat
        last = _parse(json.loads(row.value)) if row.value else None
        new = last is None or last.settings != draft
        config = FieldConfig(last.version + 1 if last else 1, datetime.now(UTC).isoformat(timespec="seconds"), draft) if new else last
        assert config is not None
        row.value = json.dumps(config.document(), sort_keys=True)
        r = sync.require_registry(ws, s)
        paths = []
        for d in r.devices():
            if d["device_id"] != r.hq_device:
                path = config_bundle(ws, s, r, d["device_id"], folder, config)
                if path is not None:
                    paths.append(path)
        ws.audit(
            s, "hq.field_config_published", object_type="setting", object_id="field_config",
            detail={"version": config.version, "new_version": new, "bundles": len(paths)},
        )
    return PublishResult(config.version, new, tuple(paths))


# --- field devices --------------------------------------------------------------------------------


def applied_version(s: Session) -> int:
    """Device: the version of HQ's field settings applied here (0: none yet)."""
    text = get_meta(s, META_APPLIED)
    return int(json.loads(text)["version"]) if text else 0


def applied_settings(s: Session) -> tuple[int, frozenset[str]]:
    """Device: the version of HQ's field settings applied here (0: none) and the settings it set.

    A row from before the applied settings were kept names no settings: they are read from the
    audit entry that recorded applying that version, or, without one, taken to be all of them.
    """
    text = get_meta(s, META_APPLIED)
    if not text:
        return 0, frozenset()
    doc = json.loads(text)
    version = int(doc["version"])
    if isinstance(doc.get("settings"), dict):
        return version, frozenset(doc["settings"]) & frozenset(SETTING_NAMES)
    q = select(AuditEntry.detail).where(AuditEntry.action == "sync.config_applied").order_by(AuditEntry.seq.desc())
    for detail in s.scalars(q):
        values = json.loads(detail or "{}")
        if values.get("version") == version:
            return version, frozenset(values) & frozenset(SETTING_NAMES)
    return version, frozenset(SETTING_NAMES)  # NOTE: unknown: refuse local changes until HQ's next version


def managed(ws: Workspace) -> dict[str, int]:
    """The settings HQ's field settings set on this device: setting name -> field settings version.

    Empty at HQ and on a device that applied none. Any signed-in user may read it (the GUI and CLI
    show which settings HQ decides).
    """
    ws.require(Perm.WORKSPACE_VIEW)
    if ws.wf.site_kind == "hq":
        return {}
    with ws.sf() as s:
        version, names = applied_settings(s)
    return {name: version for name in SETTING_NAMES if name in names}


_MANAGED_EN = {
    "retention_days": "how many days personal data stays after HQ's receipt on every field laptop",
    "idle_lock_minutes": "the idle lock time for every field laptop",
    "server_url": "the HQ server address for every field laptop",
    "sync_interval_minutes": "how often every field laptop looks for HQ",
}
_MANAGED_UR = {
    "retention_days": "ہیڈکوارٹر ہر فیلڈ لیپ ٹاپ کے لیے طے کرتا ہے کہ ہیڈکوارٹر کی رسید کے بعد ذاتی ڈیٹا کتنے دن رہے",
    "idle_lock_minutes": "ہیڈکوارٹر ہر فیلڈ لیپ ٹاپ کے لیے لاک ہونے کا وقت طے کرتا ہے",
    "server_url": "ہیڈکوارٹر ہر فیلڈ لیپ ٹاپ کے لیے ہیڈکوارٹر کے سرور کا پتہ طے کرتا ہے",
    "sync_interval_minutes": "ہیڈکوارٹر طے کرتا ہے کہ ہر فیلڈ لیپ ٹاپ کتنی دیر بعد ہیڈکوارٹر سے رابطہ کرے",
}


def local_change_refusal(ws: Workspace, s: Session, changing: tuple[str, ...]) -> ValidationError | None:
    """Device: the refusal of a local change to settings HQ sets (``None``: the change may go on).

    ``changing`` names the field settings (:data:`SETTING_NAMES`) whose value the caller is about
    to change. Called inside the caller's write transaction, so that a config bundle applied
    meanwhile cannot slip between the check and the write. The caller leaves the transaction and
    hands the refusal to :func:`refuse_local_change`.
    """
    if ws.wf.site_kind == "hq":
        return None
    version, names = applied_settings(s)
    hit = [n for n in changing if n in names]
    if not hit:
        return None
    name = hit[0]
    return ValidationError(
        f"HQ sets {_MANAGED_EN[name]} (field settings version {version}); ask HQ to change it.",
        {name: "hq_managed"},
        fields_ur={name: f"{_MANAGED_UR[name]} (فیلڈ ترتیبات کا ورژن {version})؛ اسے بدلوانے کے لیے ہیڈکوارٹر سے کہیں۔"},
    )


def refuse_local_change(ws: Workspace, refusal: ValidationError) -> None:
    """Audits a refusal from :func:`local_change_refusal` in a transaction of its own, then raises it."""
    (name,) = refusal.fields
    with ws.sf() as s:
        version, _ = applied_settings(s)
    with ws.sf.begin() as s:
        ws.audit(s, "settings.change_refused", object_type="setting", object_id=name, detail={"reason": "hq_managed", "version": version})
    raise refusal


def check(s: Session, doc: object) -> FieldConfig:
    """Device: reads a config document from HQ's bundle; refused if it may not replace the one applied.

    Raises:
        BundleRejected: not a valid field settings document.
        ConfigRefused: older than the version applied here, or another document under that version.
    """
    config = _parse(doc)
    text = get_meta(s, META_APPLIED)
    if text:
        applied = json.loads(text)
        if config.version < applied["version"]:
            raise ConfigRefused(
                f"HQ's field settings in this bundle are version {config.version}, older than version {applied['version']} applied here; nothing was changed."
            )
        if config.version == applied["version"] and config.sha256 != applied["sha256"]:
            raise ConfigRefused(f"Two different field settings documents carry version {config.version}; the new one was refused and nothing was changed. Tell HQ.")
    return config


def apply(ws: Workspace, s: Session, config: FieldConfig) -> bool:
    """Device: applies checked field settings inside the import's transaction; ``False`` if already applied."""
    row = lock_meta(s, META_APPLIED, "")
    if row.value and json.loads(row.value)["version"] == config.version:
        return False
    values = config.settings
    if values.retention_days is not None:
        set_meta(s, sync.META_RETENTION, str(values.retention_days))
    if values.idle_lock_minutes is not None:
        set_meta(s, settings.IDLE_LOCK_KEY, str(values.idle_lock_minutes))
    if values.server_url is not None:
        set_meta(s, link.KEY_SERVER_URL, values.server_url)
    if values.sync_interval_minutes is not None:
        set_meta(s, link.KEY_INTERVAL, str(values.sync_interval_minutes))
    row.value = json.dumps({"version": config.version, "sha256": config.sha256, "settings": values.as_dict()}, sort_keys=True)
    detail: dict[str, Any] = {"version": config.version}
    detail.update({k: (v if isinstance(v, int) else True) for k, v in values.as_dict().items()})
    ws.audit(s, "sync.config_applied", object_type="setting", object_id="field_config", unit=ws.wf.unit, detail=detail)
    return True
