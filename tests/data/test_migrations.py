# SPDX-License-Identifier: GPL-3.0-or-later
"""Every released schema's committed fixture workspace opens and upgrades; models match migrations."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from nap_desktop.data import migrate
from nap_desktop.data.models import Base
from nap_desktop.errors import WrongPassword
from nap_desktop.services.audit_log import verify_audit
from nap_desktop.services.units import list_units
from nap_desktop.services.users import list_users
from nap_desktop.services.workspace import open_workspace
from tests.fixtures.make_schema_fixture import FIXTURE_PASSWORD, FIXTURES

SCHEMA_FIXTURES = sorted(FIXTURES.glob("schema_*"))


def test_there_is_a_fixture_for_the_newest_schema() -> None:
    assert FIXTURES / f"schema_{migrate.head_revision()}" in SCHEMA_FIXTURES, (
        "a new schema revision needs its fixture: python -m tests.fixtures.make_schema_fixture"
    )


@pytest.mark.parametrize("fixture", SCHEMA_FIXTURES, ids=lambda p: p.name)
def test_released_schema_opens_and_upgrades_to_head(fixture: Path, tmp_path: Path) -> None:
    ws_dir = tmp_path / fixture.name
    shutil.copytree(fixture, ws_dir)
    old_rev = fixture.name.removeprefix("schema_")
    ws = open_workspace(ws_dir, "admin", FIXTURE_PASSWORD)
    try:
        assert migrate.current_revision(ws.engine) == migrate.head_revision()
        assert {u.username for u in list_users(ws)} == {"admin", "officer"}
        assert "P-FIXTURE" in {u.code for u in list_units(ws)}
        assert verify_audit(ws).ok
        backups = list((ws_dir / "backups").glob("store-pre-upgrade-*.db"))
        # An older schema is backed up before it is changed; the newest needs no upgrade.
        assert bool(backups) == (old_rev != migrate.head_revision())
    finally:
        ws.lock()


@pytest.mark.parametrize("fixture", SCHEMA_FIXTURES, ids=lambda p: p.name)
def test_released_schema_with_wrong_password_is_refused_unchanged(fixture: Path, tmp_path: Path) -> None:
    ws_dir = tmp_path / fixture.name
    shutil.copytree(fixture, ws_dir)
    before = (ws_dir / "store.db").read_bytes()
    with pytest.raises(WrongPassword, match="user name or password is wrong"):
        open_workspace(ws_dir, "admin", "Not-The-Password-1")
    assert (ws_dir / "store.db").read_bytes() == before


def test_migrations_create_exactly_the_models(admin_ws: object) -> None:
    from nap_desktop.services.context import Workspace

    assert isinstance(admin_ws, Workspace)
    with admin_ws.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == [], f"models and migrations differ; write a migration: {diff}"


def test_revisions_are_numbered_in_order() -> None:
    revs = migrate.known_revisions()
    assert revs == sorted(revs) and all(r.isdigit() and len(r) == 4 for r in revs)
