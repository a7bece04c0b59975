# SPDX-License-Identifier: GPL-3.0-or-later
"""An HQ workspace whose store is a real PostgreSQL database (issue 7 §2)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, inspect, select, text

from nap_desktop.data import store_link
from nap_desktop.data.models import AuditEntry
from nap_desktop.data.record_models import MODEL_BY_TYPE
from nap_desktop.data.sync_models import SyncBundle
from nap_desktop.errors import ConfigError, ValidationError, WorkspaceExists, WrongPassword
from nap_desktop.reports import engine as indicators
from nap_desktop.reports.engine import Period
from nap_desktop.security import keyfile
from nap_desktop.services import audit_log, link, sync
from nap_desktop.services.workspace import init_workspace, open_workspace, workspace_info
from tests.conftest import ADMIN, ADMIN_PW, FAST_KDF
from tests.hq.netutil import ANALYST, make_hq, make_net, view
from tests.services.records_factories import create


def test_an_hq_store_in_postgres_lives_in_the_database_not_in_the_folder(tmp_path: Path, pg_url: str) -> None:
    path = make_hq(tmp_path, db_url=pg_url)
    assert not (path / "store.db").exists()
    link_doc = json.loads((path / "store.json").read_text())
    assert link_doc == {"format": "nap-store/1", "url": store_link.check_url(pg_url)}
    eng = create_engine(pg_url)
    try:
        tables = set(inspect(eng).get_table_names())
    finally:
        eng.dispose()
    assert {"audit_log", "users", "units", "sync_bundles", "persons", "screenings", "alembic_version"} <= tables
    with pytest.raises(WrongPassword):
        open_workspace(path, ADMIN, "Not-The-Password-1!")
    ws = open_workspace(path, ADMIN, ADMIN_PW)
    try:
        info = workspace_info(ws)
        assert (info.site_kind, info.unit, info.users) == ("hq", "HQ", 2)
        assert ws.engine.dialect.name == "postgresql"
        assert audit_log.verify_audit(ws).ok
    finally:
        ws.lock()


def test_init_refuses_what_would_not_be_a_clean_postgres_store(tmp_path: Path, pg_url: str) -> None:
    kw = dict(admin=ADMIN, admin_password=ADMIN_PW, kdf=FAST_KDF, recovery_identity_out=tmp_path / "r.age", recovery_passphrase="National-Recovery-2026!")
    with pytest.raises(ConfigError, match="password"):
        init_workspace(tmp_path / "a", site_kind="hq", unit="HQ", db_url=pg_url.replace("postgres@", "postgres:secret@"), **kw)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="PostgreSQL"):
        init_workspace(tmp_path / "b", site_kind="hq", unit="HQ", db_url="sqlite:///x.db", **kw)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="Only an HQ"):
        init_workspace(tmp_path / "c", site_kind="post", unit="P-TORKHAM", admin=ADMIN, admin_password=ADMIN_PW, kdf=FAST_KDF, db_url=pg_url)
    (tmp_path / "first").mkdir()
    make_hq(tmp_path / "first", db_url=pg_url)
    with pytest.raises(WorkspaceExists, match="not empty"):
        init_workspace(tmp_path / "d", site_kind="hq", unit="HQ", db_url=pg_url, **kw)  # type: ignore[arg-type]
    for name in "abcd":
        assert not (tmp_path / name).exists(), name


def test_a_failed_init_leaves_the_database_empty(tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_save(*_a: object, **_k: object) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(keyfile, "save", broken_save)
    with pytest.raises(OSError):
        make_hq(tmp_path, db_url=pg_url)
    eng = create_engine(pg_url)
    try:
        assert inspect(eng).get_table_names() == []
        with eng.connect() as c:  # nor a function of the migrations (the report chains' triggers)
            assert c.execute(text("SELECT count(*) FROM pg_proc WHERE proname LIKE 'report%'")).scalar() == 0
    finally:
        eng.dispose()
    assert not (tmp_path / "hq").exists()
    monkeypatch.undo()
    (tmp_path / "again").mkdir()
    make_hq(tmp_path / "again", db_url=pg_url)  # the same database can be used again


def test_a_post_bundle_imports_into_postgres_once_with_its_receipt(tmp_path: Path, pg_url: str) -> None:
    net = make_net(tmp_path, 1, db_url=pg_url)
    try:
        officer = net.officers[0]
        for t in ("person", "screening", "checkpoint_log"):
            create(officer, t, full=True)
        n_local = sync.sync_status(officer).pending_records
        exported = sync.export_changes(officer, tmp_path / "usb")
        admin = net.hq_ws(ADMIN)
        hq = view(admin, ANALYST)
        try:
            first = sync.import_bundle(hq, exported.path)
            again = sync.import_bundle(hq, exported.path)
            with hq.sf() as s:
                stored = sum(s.scalar(select(func.count()).select_from(m)) or 0 for m in MODEL_BY_TYPE.values())
                imported = s.scalar(select(func.count()).select_from(SyncBundle).where(SyncBundle.state == "imported"))
            report = indicators.compute_indicators(hq, period=Period.year(2026), scope="HQ")
            assert audit_log.verify_audit(admin).ok
        finally:
            admin.lock()
        assert first.outcome == "imported" and first.new == n_local == exported.records
        assert again.outcome == "already imported"
        assert stored == n_local and imported == 1
        assert len(report.values) == 41
        receipt = sync.import_bundle(officer, first.receipt)
        assert receipt.acknowledged == 1
        assert sync.sync_status(officer).unacknowledged == ()
    finally:
        net.close()


def test_concurrent_writers_on_postgres_keep_one_unbroken_audit_chain(tmp_path: Path, pg_url: str) -> None:
    """Eight threads audit at once (as several importers do): the chain neither forks nor loses an entry."""
    make_hq(tmp_path, db_url=pg_url)
    ws = open_workspace(tmp_path / "hq", ADMIN, ADMIN_PW)
    try:
        link.set_settings(ws, interval_minutes=5)  # the setting's row exists: the writers update it
        with ws.sf() as s:
            before = s.scalar(select(func.count()).select_from(AuditEntry)) or 0
        errors: list[BaseException] = []

        def writer(i: int) -> None:
            try:
                for j in range(10):
                    link.set_settings(ws, interval_minutes=1 + (i * 10 + j) % 60)
            except BaseException as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert errors == []
        with ws.sf() as s:
            after = s.scalar(select(func.count()).select_from(AuditEntry)) or 0
        assert after == before + 80
        result = audit_log.verify_audit(ws)
        assert result.ok, result.problem
    finally:
        ws.lock()


def test_store_link_names_no_secret_and_refuses_a_damaged_file(tmp_path: Path, pg_url: str) -> None:
    path = make_hq(tmp_path, db_url=pg_url)
    text = (path / "store.json").read_text()
    assert ":secret" not in text and "password" not in text
    assert store_link.describe("postgresql+psycopg://nap@db.hq:5432/nap?sslmode=verify-full") == "db.hq:5432/nap"  # what messages show
    (path / "store.json").write_text("{not json")
    from nap_desktop.errors import WorkspaceCorrupt

    with pytest.raises(WorkspaceCorrupt, match="store.json"):
        open_workspace(path, ADMIN, ADMIN_PW)
