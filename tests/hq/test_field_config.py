# SPDX-License-Identifier: GPL-3.0-or-later
"""HQ's field settings in config bundles: written by HQ, taken by devices by USB stick or from the server."""

from __future__ import annotations

import base64
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from nap_desktop.data.meta import get_meta, set_meta
from nap_desktop.data.models import AuditEntry
from nap_desktop.errors import BundleDamaged, BundleRejected, ConfigRefused, PermissionDenied, ValidationError
from nap_desktop.services import field_config, link, settings, sync
from nap_desktop.services.context import Workspace
from nap_desktop.sync.client import SyncClient
from tests.hq.netutil import ADMIN, Net, ServerProcess, make_net, view


@pytest.fixture
def net(tmp_path: Path) -> Iterator[Net]:
    n = make_net(tmp_path, 2)
    yield n
    n.close()


def _publish(net: Net, out: Path, **values: object) -> field_config.PublishResult:
    admin = net.hq_ws(ADMIN)
    try:
        field_config.set_field_config(admin, **values)
        return field_config.publish_field_config(admin, out)
    finally:
        admin.lock()


def _for(result: field_config.PublishResult, ws: Workspace) -> Path:
    (path,) = [p for p in result.paths if p.name.endswith(f"-{ws.workspace_id[:8]}.napb")]
    return path


def _field_state(ws: Workspace) -> tuple[int, int, str, int]:
    s = link.get_settings(ws)
    return sync.sync_status(ws).retention_days, settings.idle_lock_minutes(ws), s.server_url, s.interval_minutes


def _applied_entries(ws: Workspace) -> int:
    with ws.sf() as s:
        return int(s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "sync.config_applied")) or 0)


def test_a_device_takes_hqs_settings_from_a_config_bundle_once(net: Net, tmp_path: Path) -> None:
    post = net.posts[0]
    assert _field_state(post)[:2] == (sync.DEFAULT_RETENTION_DAYS, settings.DEFAULT_IDLE_MINUTES)
    r = _publish(net, tmp_path / "usb", retention_days=30, idle_lock_minutes=5, server_url="https://hq.example:8443", sync_interval_minutes=45)
    assert r.version == 1 and r.new_version and len(r.paths) == 2  # one per enrolled post
    (summary,) = sync.import_files(post, [_for(r, post)])
    assert isinstance(summary, sync.ImportSummary) and (summary.kind, summary.outcome, summary.config_version) == ("config", "applied", 1)
    assert _field_state(post) == (30, 5, "https://hq.example:8443", 45)
    assert _applied_entries(post) == 1
    (again,) = sync.import_files(post, [_for(r, post)])
    assert isinstance(again, sync.ImportSummary) and again.outcome == "already applied"
    assert _applied_entries(post) == 1
    assert _field_state(net.posts[1])[:2] == (sync.DEFAULT_RETENTION_DAYS, settings.DEFAULT_IDLE_MINUTES)  # not imported there


def test_an_older_config_bundle_is_refused_and_changes_nothing(net: Net, tmp_path: Path) -> None:
    post = net.posts[0]
    v1 = _publish(net, tmp_path / "v1", retention_days=30, idle_lock_minutes=5)
    v2 = _publish(net, tmp_path / "v2", retention_days=60)  # the draft keeps the idle lock: v2 = 60 days, 5 minutes
    assert (v1.version, v2.version) == (1, 2)
    assert isinstance(sync.import_files(post, [_for(v2, post)])[0], sync.ImportSummary)
    before = (_field_state(post), _applied_entries(post))
    with pytest.raises(ConfigRefused, match="version 1, older than version 2"):
        sync.import_bundle(post, _for(v1, post))
    assert (_field_state(post), _applied_entries(post)) == before
    assert before[0][:2] == (60, 5)


def test_a_republication_without_changes_keeps_its_version(net: Net, tmp_path: Path) -> None:
    first = _publish(net, tmp_path / "a", retention_days=30)
    admin = net.hq_ws(ADMIN)
    try:
        again = field_config.publish_field_config(admin, tmp_path / "b")
        st = field_config.get_field_config(admin)
    finally:
        admin.lock()
    assert (first.version, again.version, again.new_version) == (1, 1, False)
    assert st.published is not None and st.published.settings == st.draft == field_config.FieldSettings(retention_days=30)
    sync.import_bundle(net.posts[0], _for(first, net.posts[0]))
    assert sync.import_bundle(net.posts[0], _for(again, net.posts[0])).outcome == "already applied"  # the same document


def test_a_config_bundle_not_signed_by_hq_is_refused_and_changes_nothing(net: Net, tmp_path: Path) -> None:
    other, post = net.posts  # the post enrolled last knows the other one (registry version 3)
    real = _publish(net, tmp_path / "real", retention_days=30)
    before = (_field_state(post), _applied_entries(post))
    # a bundle of kind config for this post, made and signed by another enrolled post's key
    doc = field_config.FieldConfig(9, "2026-01-01T00:00:00+00:00", field_config.FieldSettings(retention_days=3650)).document()
    with post.sf() as s:
        r = sync.require_registry(post, s)  # lists both posts' keys
    with other.sf() as s:
        forged = sync.write_hq_bundle(
            other, s, r, post.workspace_id, kind="config", lines=[{"t": "_registry", "text": r.text}, {"t": "_config", "config": doc}],
            folder=tmp_path / "forged", name="config-v9",
        )
    assert forged is not None
    with pytest.raises(BundleRejected, match="must come from HQ"):
        sync.import_bundle(post, forged)
    # HQ's real bundle with its signature altered
    bad = tmp_path / "bad.napb"
    with zipfile.ZipFile(_for(real, post)) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "manifest.json.minisig":
                lines = data.split(b"\n")
                raw = bytearray(base64.b64decode(lines[1]))
                raw[20] ^= 0x01
                lines[1] = base64.b64encode(bytes(raw))
                data = b"\n".join(lines)
            dst.writestr(info.filename, data)
    with pytest.raises((BundleRejected, BundleDamaged), match="signature"):
        sync.import_bundle(post, bad)
    assert (_field_state(post), _applied_entries(post)) == before


def test_hq_refuses_invalid_settings_and_other_roles(net: Net, tmp_path: Path) -> None:
    admin = net.hq_ws(ADMIN)
    try:
        for bad in ({"retention_days": 3}, {"idle_lock_minutes": 500}, {"server_url": "http://hq.example:8443"}, {"sync_interval_minutes": 0}):
            with pytest.raises(ValidationError):
                field_config.set_field_config(admin, **bad)
        assert field_config.get_field_config(admin).draft == field_config.FieldSettings()
        with pytest.raises(Exception, match="set nothing"):
            field_config.publish_field_config(admin, tmp_path / "none")
        analyst = view(admin, "ana.hq")
        with pytest.raises(PermissionDenied):
            field_config.set_field_config(analyst, retention_days=30)
        assert field_config.get_field_config(admin).published is None
    finally:
        admin.lock()
    assert not (tmp_path / "none").exists() or list((tmp_path / "none").iterdir()) == []


def test_a_device_pulls_hqs_settings_from_the_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("http_proxy", "HTTP_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(var, raising=False)
    net = make_net(tmp_path, 1)
    server = ServerProcess(net.hq)
    try:
        _publish(net, tmp_path / "usb", retention_days=45, idle_lock_minutes=3)
        officer = net.officers[0]
        link.set_settings(net.posts[0], server_url=server.url)
        server.start()
        report = SyncClient(officer).sync_once()
        assert report.config_updated and "field settings applied" in report.line()
        assert _field_state(officer)[:3] == (45, 3, server.url)  # the server address was not among HQ's settings
        assert link.credentials(officer).config_version == 1
        again = SyncClient(officer).sync_once()
        assert not again.config_updated and again.problems == ()
        assert _applied_entries(officer) == 1
        assert list((officer.path / "inbox" / "download").glob("*.napb")) == []
    finally:
        server.stop()
        net.close()


def test_the_cli_sets_shows_and_publishes_the_field_settings(tmp_path: Path) -> None:
    from tests.cli.test_cli import nap, ok, user_error
    from tests.conftest import ADMIN_PW

    net = make_net(tmp_path, 1)
    try:
        base = ("--workspace", str(net.hq), "--user", ADMIN, "--password-stdin")
        pw = ADMIN_PW + "\n"
        user_error(nap("hq", "field-config", "set", *base, "--retention-days", "3", stdin=pw), "retention")
        ok(nap("hq", "field-config", "set", *base, "--retention-days", "30", "--idle-lock-minutes", "4", stdin=pw))
        shown = json.loads(ok(nap("hq", "field-config", "show", *base, "--json", stdin=pw)))
        assert shown["draft"] == {"retention_days": 30, "idle_lock_minutes": 4, "server_url": None, "sync_interval_minutes": None}
        assert shown["published"] is None
        out = ok(nap("hq", "field-config", "publish", *base, "--out", str(tmp_path / "usb"), stdin=pw))
        assert "Published version 1: 1 config bundle(s) written." in out
        post = net.posts[0]
        (bundle,) = (tmp_path / "usb").glob("config-v1-*.napb")
        assert sync.import_bundle(post, bundle).outcome == "applied"
        assert _field_state(post)[:2] == (30, 4)
    finally:
        net.close()


def test_a_config_bundle_older_than_the_registry_in_use_still_applies_its_settings(net: Net, tmp_path: Path) -> None:
    post, other = net.posts
    r = _publish(net, tmp_path / "usb", retention_days=30)
    admin = net.hq_ws(ADMIN)
    try:
        sync.revoke_key(admin, device_id=other.workspace_id, reason="lost")  # a newer registry, sent to the post
        newer = [p for p in sync.write_registry_bundles(admin, tmp_path / "reg") if p.name.endswith(f"-{post.workspace_id[:8]}.napb")]
    finally:
        admin.lock()
    sync.import_bundle(post, newer[0])
    version = sync.sync_status(post).registry_version
    assert sync.import_bundle(post, _for(r, post)).outcome == "applied"
    assert sync.sync_status(post).registry_version == version  # the config bundle's older registry was left aside
    assert _field_state(post)[0] == 30


# --- what HQ set is HQ's on the device -------------------------------------------------------------


def _refusals(ws: Workspace) -> list[tuple[str, str, dict[str, object]]]:
    with ws.sf() as s:
        rows = s.execute(select(AuditEntry.actor, AuditEntry.object_id, AuditEntry.detail).where(AuditEntry.action == "settings.change_refused").order_by(AuditEntry.seq)).all()
    return [(actor, oid, json.loads(detail)) for actor, oid, detail in rows]


def test_a_device_refuses_a_local_change_of_what_hq_set_and_keeps_the_rest_editable(net: Net, tmp_path: Path) -> None:
    post = net.posts[0]
    link.set_settings(post, proxy="http://proxy.example:3128")
    r = _publish(net, tmp_path / "usb", retention_days=30, idle_lock_minutes=5, server_url="https://hq.example:8443")
    sync.import_bundle(post, _for(r, post))
    assert field_config.managed(post) == {"retention_days": 1, "idle_lock_minutes": 1, "server_url": 1}
    before = (_field_state(post), link.get_settings(post).proxy)

    with pytest.raises(ValidationError) as idle:
        settings.set_idle_lock_minutes(post, 7)
    assert idle.value.message == "HQ sets the idle lock time for every field laptop (field settings version 1); ask HQ to change it."
    assert idle.value.fields_ur["idle_lock_minutes"].startswith("ہیڈکوارٹر ہر فیلڈ لیپ ٹاپ کے لیے لاک ہونے کا وقت طے کرتا ہے (فیلڈ ترتیبات کا ورژن 1)")
    with pytest.raises(ValidationError, match=r"^HQ sets how many days personal data stays after HQ's receipt on every field laptop \(field settings version 1\)"):
        sync.set_retention(post, 90)
    with pytest.raises(ValidationError, match=r"^HQ sets the HQ server address for every field laptop \(field settings version 1\); ask HQ to change it\.$"):
        link.set_settings(post, server_url="https://other.example:8443", proxy="")  # the proxy is not cleared either
    with pytest.raises(ValidationError, match="HQ server address"):
        link.set_settings(post, server_url="")
    assert (_field_state(post), link.get_settings(post).proxy) == before == ((30, 5, "https://hq.example:8443", 15), "http://proxy.example:3128")
    assert _refusals(post) == [
        ("admin", "idle_lock_minutes", {"reason": "hq_managed", "version": 1}),
        ("admin", "retention_days", {"reason": "hq_managed", "version": 1}),
        ("admin", "server_url", {"reason": "hq_managed", "version": 1}),
        ("admin", "server_url", {"reason": "hq_managed", "version": 1}),
    ]

    # what HQ left to the device stays the device's own; HQ's own value again changes nothing
    link.set_settings(post, interval_minutes=30, proxy="", server_url="https://hq.example:8443")
    settings.set_idle_lock_minutes(post, 5)
    sync.set_retention(post, 30)
    assert _field_state(post) == (30, 5, "https://hq.example:8443", 30) and link.get_settings(post).proxy == ""
    assert len(_refusals(post)) == 4

    admin = net.hq_ws(ADMIN)
    try:
        assert field_config.managed(admin) == {}  # HQ decides; nothing is decided for it
        link.set_server_settings(admin, max_bundle_mb=100)
    finally:
        admin.lock()


def test_a_newer_version_that_leaves_a_setting_out_makes_it_editable_again(net: Net, tmp_path: Path) -> None:
    post = net.posts[0]
    v1 = _publish(net, tmp_path / "v1", retention_days=30, idle_lock_minutes=5)
    sync.import_bundle(post, _for(v1, post))
    with pytest.raises(ValidationError, match="idle lock time"):
        settings.set_idle_lock_minutes(post, 8)
    admin = net.hq_ws(ADMIN)
    try:
        field_config.set_field_config(admin, clear=("idle_lock_minutes",))
        v2 = field_config.publish_field_config(admin, tmp_path / "v2")
    finally:
        admin.lock()
    assert v2.version == 2
    sync.import_bundle(post, _for(v2, post))
    assert field_config.managed(post) == {"retention_days": 2}
    assert settings.set_idle_lock_minutes(post, 8) == 8
    assert settings.idle_lock_minutes(post) == 8
    with pytest.raises(ValidationError, match=r"\(field settings version 2\)"):
        sync.set_retention(post, 60)
    assert sync.sync_status(post).retention_days == 30


def test_a_device_that_applied_hqs_settings_before_they_were_kept_reads_them_from_its_audit_log(net: Net, tmp_path: Path) -> None:
    post = net.posts[0]
    r = _publish(net, tmp_path / "usb", idle_lock_minutes=5)
    sync.import_bundle(post, _for(r, post))
    with post.sf.begin() as s:  # the row as the previous release wrote it: version and hash only
        row = json.loads(get_meta(s, field_config.META_APPLIED))
        set_meta(s, field_config.META_APPLIED, json.dumps({"version": row["version"], "sha256": row["sha256"]}))
    assert field_config.managed(post) == {"idle_lock_minutes": 1}  # from the sync.config_applied entry of version 1
    with pytest.raises(ValidationError, match="idle lock time"):
        settings.set_idle_lock_minutes(post, 9)
    assert sync.set_retention(post, 60) is None and sync.sync_status(post).retention_days == 60
    with post.sf.begin() as s:  # a version whose applying left no audit entry: every setting counts as HQ's
        set_meta(s, field_config.META_APPLIED, json.dumps({"version": 7, "sha256": row["sha256"]}))
    assert field_config.managed(post) == dict.fromkeys(field_config.SETTING_NAMES, 7)
    with pytest.raises(ValidationError, match=r"version 7"):
        sync.set_retention(post, 90)


def test_the_cli_shows_what_hq_set_and_refuses_to_change_it(tmp_path: Path) -> None:
    from tests.cli.test_cli import nap, ok, user_error
    from tests.conftest import ADMIN_PW

    net = make_net(tmp_path, 1)
    try:
        post = net.posts[0]
        r = _publish(net, tmp_path / "usb", retention_days=30, server_url="https://hq.example:8443")
        sync.import_bundle(post, _for(r, post))
    finally:
        net.close()
    base = ("--workspace", str(post.path), "--user", ADMIN, "--password-stdin")
    pw = ADMIN_PW + "\n"
    shown = ok(nap("sync", "link", *base, stdin=pw))
    assert "server_url is set by HQ (field settings version 1): ask HQ to change it." in shown
    assert "interval_minutes is set by HQ" not in shown
    assert json.loads(ok(nap("sync", "link", *base, "--json", stdin=pw)))["set_by_hq"] == {"server_url": 1}
    user_error(nap("sync", "link", *base, "--server", "https://other.example", stdin=pw), "HQ sets the HQ server address for every field laptop (field settings version 1)")
    ok(nap("sync", "link", *base, "--interval-minutes", "20", stdin=pw))
    status = ok(nap("sync", "status", *base, stdin=pw))
    assert "Personal data kept 30 days after HQ's receipt (set by HQ, field settings version 1)." in status
    user_error(nap("sync", "purge", *base, "--retention-days", "90", stdin=pw), "HQ sets how many days personal data stays")
