# SPDX-License-Identifier: GPL-3.0-or-later
"""Settings and credentials of the network link to HQ (field side), and HQ's server settings.

Kept in the store's ``meta`` table (inside the encrypted store on a field laptop): the server
address, an optional HTTP proxy, an optional CA file for HQ's certificate, how often to look for
HQ, and whether to sync automatically. Administrators set them; any account that may export
bundles uses them.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import select

from nap_desktop.data.meta import get_meta, set_meta
from nap_desktop.data.models import Meta
from nap_desktop.data.sync_models import SyncBundle, SyncKey
from nap_desktop.errors import NotEnrolled, SyncError, ValidationError
from nap_desktop.security.permissions import Perm
from nap_desktop.services import sync
from nap_desktop.services.context import Workspace
from nap_desktop.sync.bundle import SUFFIX
from nap_desktop.sync.minisign import SecretKey

_PREFIX = "link."
DEFAULT_INTERVAL_MINUTES = 15
KEY_SERVER_URL = _PREFIX + "server_url"  # also set by HQ's field settings (services/field_config.py)
KEY_INTERVAL = _PREFIX + "interval_minutes"


@dataclass(frozen=True)
class LinkSettings:
    """Where HQ's intake server is, and how to reach it."""

    server_url: str = ""
    proxy: str = ""
    ca_file: str = ""
    interval_minutes: int = DEFAULT_INTERVAL_MINUTES
    auto: bool = True

    @property
    def configured(self) -> bool:
        return bool(self.server_url)


@dataclass(frozen=True)
class Credentials:
    """What the network phase of a sync needs, read from the store beforehand (no session held)."""

    device_id: str
    unit: str
    key: SecretKey
    registry_version: int
    config_version: int  # HQ's field settings applied here (services/field_config.py)
    awaiting: tuple[str, ...]  # bundles written here, not yet acknowledged by HQ
    files: dict[str, str]  # bundle id -> file name in outbox/ (or outbox/sent/)


def _is_loopback(host: str) -> bool:
    from nap_desktop.sync.server import is_loopback

    return is_loopback(host)


def check_server_url(url: str) -> str:
    """``https://host[:port]`` (``http://`` only for a loopback address), without path or query."""
    u = urllib.parse.urlsplit(url.strip())
    if u.scheme not in ("https", "http") or not u.hostname or u.query or u.fragment or u.path not in ("", "/") or u.username or u.password:
        raise ValidationError(
            "The HQ server address must look like https://hq.example:8443 (no path).", {"server_url": "invalid"},
            fields_ur={"server_url": "ہیڈکوارٹر کے سرور کا پتہ https://hq.example:8443 کی طرح ہو (کوئی راستہ نہیں)۔"},
        )
    if u.scheme == "http" and not _is_loopback(u.hostname):
        raise ValidationError(
            "The HQ server must be reached over https:// (plain http only on this computer, for tests).", {"server_url": "insecure"},
            fields_ur={"server_url": "ہیڈکوارٹر کے سرور سے رابطہ https:// پر ہو (سادہ http صرف اسی کمپیوٹر پر، جانچ کے لیے)۔"},
        )
    return f"{u.scheme}://{u.netloc}"


def check_proxy(url: str) -> str:
    if not url:
        return ""
    u = urllib.parse.urlsplit(url.strip())
    if u.scheme not in ("http", "https") or not u.hostname:
        raise ValidationError(
            "The proxy must look like http://proxy.example:3128.", {"proxy": "invalid"},
            fields_ur={"proxy": "پراکسی http://proxy.example:3128 کی طرح ہو۔"},
        )
    return url.strip()


def get_settings(ws: Workspace) -> LinkSettings:
    ws.require(Perm.WORKSPACE_VIEW)
    with ws.sf() as s:
        values = {m.key[len(_PREFIX) :]: m.value for m in s.scalars(select(Meta).where(Meta.key.like(f"{_PREFIX}%")))}
    return LinkSettings(
        server_url=values.get("server_url", ""),
        proxy=values.get("proxy", ""),
        ca_file=values.get("ca_file", ""),
        interval_minutes=int(values.get("interval_minutes", DEFAULT_INTERVAL_MINUTES)),
        auto=values.get("auto", "1") == "1",
    )


def set_settings(
    ws: Workspace,
    *,
    server_url: str | None = None,
    proxy: str | None = None,
    ca_file: str | None = None,
    interval_minutes: int | None = None,
    auto: bool | None = None,
) -> LinkSettings:
    """Changes the given settings (``""`` clears the server, proxy or CA file). Administrators only.

    Raises:
        ValidationError: a malformed address, proxy or interval, a missing CA file; or (audited)
            HQ's field settings set the server address or the interval on this device and the call
            would change it (``field_config.managed``): then nothing changes.
    """
    ws.require(Perm.SETTINGS_MANAGE)
    values: dict[str, str] = {}
    if server_url is not None:
        values["server_url"] = check_server_url(server_url) if server_url else ""
    if proxy is not None:
        values["proxy"] = check_proxy(proxy)
    if ca_file is not None:
        if ca_file and not Path(ca_file).is_file():
            raise ValidationError(f"The CA file {ca_file} does not exist.", {"ca_file": "missing"})
        values["ca_file"] = str(Path(ca_file).resolve()) if ca_file else ""
    if interval_minutes is not None:
        if not 1 <= interval_minutes <= 1440:
            raise ValidationError(
                "Look for HQ every 1 to 1440 minutes.", {"interval_minutes": "range"},
                fields_ur={"interval_minutes": "ہیڈکوارٹر سے رابطے کا وقفہ 1 سے 1440 منٹ کے درمیان ہو۔"},
            )
        values["interval_minutes"] = str(interval_minutes)
    if auto is not None:
        values["auto"] = "1" if auto else "0"
    from nap_desktop.services import field_config  # it imports this module: imported here, not at the top

    with ws.sf.begin() as s:
        changing = tuple(
            name for key, name in (("server_url", "server_url"), ("interval_minutes", "sync_interval_minutes"))
            if key in values and get_meta(s, _PREFIX + key, "" if key == "server_url" else str(DEFAULT_INTERVAL_MINUTES)) != values[key]
        )
        refusal = field_config.local_change_refusal(ws, s, changing) if changing else None
        if refusal is None:
            for k, v in values.items():
                set_meta(s, _PREFIX + k, v)
            ws.audit(s, "link.settings_changed", detail={k: True for k in values})
    if refusal is not None:
        field_config.refuse_local_change(ws, refusal)
    return get_settings(ws)


def credentials(ws: Workspace) -> Credentials:
    """The device key that signs requests, the registry version, and the bundles HQ has not acknowledged.

    The key is the newest one HQ's registry (as known here) lists and has not revoked: after a key
    rotation that HQ has not approved yet, the previous key still authenticates pickups.
    """
    ws.require(Perm.BUNDLE_EXPORT)
    return _credentials(ws)


def check_credentials(ws: Workspace) -> Credentials | None:
    """What a connection check signs its one request with (``sync.client.check_connection``):
    the device key, and no bundles. Also for an administrator, who sets the link but sends no
    bundles. None on a laptop not enrolled yet (HQ cannot be asked whether it accepts it)."""
    if not ws.can(Perm.BUNDLE_EXPORT):
        ws.require(Perm.SETTINGS_MANAGE)
    try:
        c = _credentials(ws)
    except NotEnrolled:
        return None
    return replace(c, awaiting=(), files={})


def _credentials(ws: Workspace) -> Credentials:
    from nap_desktop.services import field_config  # it sets link settings: imported here, not at the top

    if ws.wf.site_kind == "hq":
        raise SyncError("HQ does not push or pull: it runs the intake server.")
    with ws.sf() as s:
        r = sync.current_registry(ws, s)
        if r is None or r.device(sync.device_id(ws)) is None:
            raise NotEnrolled("This workspace is not enrolled with HQ yet: make an enrolment request (Sync screen ▸ Make enrolment request…) and accept HQ's answer first.")
        listed = {k["key_id"]: k["status"] for k in r.device(sync.device_id(ws))["keys"]}
        rows = list(s.scalars(select(SyncKey).where(SyncKey.purpose == "signing").order_by(SyncKey.created_at.desc())))
        key = next((SecretKey.from_bytes(k.secret) for k in rows if listed.get(k.key_id) in ("active", "retired")), None)
        if key is None:
            raise SyncError("None of this workspace's keys is listed by HQ: import HQ's answer to the enrolment or key rotation.")
        out = list(s.execute(select(SyncBundle.bundle_id, SyncBundle.file_name).where(SyncBundle.direction == "out", SyncBundle.state == "exported").order_by(SyncBundle.seq_from)))
        return Credentials(
            device_id=sync.device_id(ws),
            unit=ws.wf.unit,
            key=key,
            registry_version=r.version,
            config_version=field_config.applied_version(s),
            awaiting=tuple(b for b, _ in out),
            files={b: f for b, f in out},
        )


def pending_work(ws: Workspace) -> tuple[int, int]:
    """(records changed since the last export, posts' bundles waiting to be forwarded) — export if either."""
    st = sync.sync_status(ws)
    relay = ws.path / "inbox" / "relay"
    forwarded = len(list(relay.glob(f"*{SUFFIX}"))) if relay.is_dir() else 0
    return st.pending_records, forwarded


# --- HQ: server settings ------------------------------------------------------------------------

_SERVER = "hq."


@dataclass(frozen=True)
class ServerSettings:
    """``hq serve`` defaults kept in the store (command-line options override them)."""

    listen: str = "127.0.0.1:8443"
    tls_cert: str = ""
    tls_key: str = ""
    inbox: str = ""
    max_bundle_mb: int = 512


def get_server_settings(ws: Workspace) -> ServerSettings:
    ws.require(Perm.WORKSPACE_VIEW)
    with ws.sf() as s:
        v = {m.key[len(_SERVER) :]: m.value for m in s.scalars(select(Meta).where(Meta.key.like(f"{_SERVER}%")))}
    d = ServerSettings()
    return ServerSettings(
        listen=v.get("listen", d.listen),
        tls_cert=v.get("tls_cert", ""),
        tls_key=v.get("tls_key", ""),
        inbox=v.get("inbox", ""),
        max_bundle_mb=int(v.get("max_bundle_mb", d.max_bundle_mb)),
    )


def set_server_settings(ws: Workspace, **changes: str | int | None) -> ServerSettings:
    """Administrators: the listen address (host:port), TLS certificate and key files, inbox, size cap."""
    ws.require(Perm.SETTINGS_MANAGE)
    if ws.wf.site_kind != "hq":
        raise SyncError("Only an HQ workspace runs the intake server.")
    allowed = set(ServerSettings.__dataclass_fields__)
    values: dict[str, str] = {}
    for k, v in changes.items():
        if v is None:
            continue
        if k not in allowed:
            raise ValidationError(f"Unknown server setting {k}.", {k: "unknown"})
        if k in ("tls_cert", "tls_key", "inbox") and v:
            v = str(Path(str(v)).resolve())
            if k != "inbox" and not Path(v).is_file():
                raise ValidationError(f"The file {v} does not exist.", {k: "missing"})
        if k == "listen":
            parse_listen(str(v))
        if k == "max_bundle_mb" and not 1 <= int(v) <= 4096:
            raise ValidationError("The size cap must be 1 to 4096 MB.", {k: "range"})
        values[k] = str(v)
    with ws.sf.begin() as s:
        for k, v in values.items():
            set_meta(s, _SERVER + k, v)
        ws.audit(s, "hq.server_settings_changed", detail={k: True for k in values})
    return get_server_settings(ws)


def parse_listen(text: str) -> tuple[str, int]:
    """``host:port`` or ``[v6]:port``."""
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValidationError("Listen on HOST:PORT, e.g. 0.0.0.0:8443 or 127.0.0.1:8443.", {"listen": "invalid"})
    return host, int(port)
