# SPDX-License-Identifier: GPL-3.0-or-later
"""Accounts and units through the services: validation that changes nothing, scope, disabling,
password resets, and the unit hierarchy."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from nap_desktop.data.models import AuditEntry, Unit, User
from nap_desktop.errors import AccountDisabled, NotFound, ValidationError, WeakPassword, WrongPassword
from nap_desktop.security import keyfile
from nap_desktop.security.crypto import generate_age_keypair
from nap_desktop.services import units, users
from nap_desktop.services import workspace as wsvc
from nap_desktop.services.context import Workspace
from tests.conftest import ADMIN, ADMIN_PW, FAST_KDF, PASSWORDS

OFFICER = "off.torkham"
NEW_PW = "Fresh-Secret-77#"


@pytest.fixture(scope="module")
def _template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "ws"
    wsvc.init_workspace(path, site_kind="circle", unit="C-PSH", admin=ADMIN, admin_password=ADMIN_PW, kdf=FAST_KDF)
    with wsvc.unlocked(path, ADMIN, ADMIN_PW) as ws:
        users.add_user(ws, username=OFFICER, full_name="Post Officer", role="officer", unit="P-TORKHAM", password=PASSWORDS["officer"])
    return path


@pytest.fixture
def ws_path(_template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "ws"
    shutil.copytree(_template, path)
    return path


@pytest.fixture
def admin(ws_path: Path) -> Iterator[Workspace]:
    ws = wsvc.open_workspace(ws_path, ADMIN, ADMIN_PW)
    yield ws
    ws.lock()


def _counts(ws: Workspace) -> tuple[int, int, int]:
    with ws.sf() as s:
        return (
            s.scalar(select(func.count()).select_from(User)) or 0,
            s.scalar(select(func.count()).select_from(Unit)) or 0,
            s.scalar(select(func.count()).select_from(AuditEntry)) or 0,
        )


# --- adding accounts -----------------------------------------------------------------------------


def test_add_user_makes_an_account_that_unlocks(admin: Workspace, ws_path: Path) -> None:
    dto = users.add_user(admin, username="off.two", full_name="  Second Officer ", role="officer", unit="P-TORKHAM", password=NEW_PW)
    assert (dto.username, dto.full_name, dto.role, dto.unit_code) == ("off.two", "Second Officer", "officer", "P-TORKHAM")
    assert dto.must_change_password and not dto.disabled and not dto.case_access
    assert "off.two" in keyfile.load(ws_path / "workspace.json").users
    with admin.sf() as s:
        entry = s.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
    assert (entry.action, entry.object_id, entry.unit) == ("user.added", "off.two", "P-TORKHAM")
    assert json.loads(entry.detail) == {"case_access": False, "role": "officer"}
    admin.lock()
    with wsvc.unlocked(ws_path, "off.two", NEW_PW) as ws:
        assert ws.user.full_name == "Second Officer"


BAD_USERS: list[tuple[str, dict[str, Any], str]] = [
    ("bad-username", {"username": "Bad Name"}, "username"),
    ("short-username", {"username": "ab"}, "username"),
    ("unknown-role", {"role": "superuser"}, "role"),
    ("blank-full-name", {"full_name": "   "}, "full_name"),
    ("case-access-for-officer", {"case_access": True}, "case_access"),
    ("unknown-unit", {"unit": "P-NOWHERE"}, "unit"),
    ("circle-head-at-a-post", {"role": "circle_head"}, "unit"),
    ("taken-name", {"username": OFFICER}, "username"),
    ("taken-admin-name", {"username": ADMIN}, "username"),
]


@pytest.mark.parametrize(("change", "field"), [(c, f) for _, c, f in BAD_USERS], ids=[i for i, _, _ in BAD_USERS])
def test_invalid_accounts_are_refused_and_nothing_changes(admin: Workspace, ws_path: Path, change: dict[str, Any], field: str) -> None:
    args: dict[str, Any] = {"username": "off.new", "full_name": "New Officer", "role": "officer", "unit": "P-TORKHAM", "password": NEW_PW}
    args.update(change)
    before_json = (ws_path / "workspace.json").read_bytes()
    before = _counts(admin)
    with pytest.raises(ValidationError) as exc:
        users.add_user(admin, **args)
    assert field in exc.value.fields
    assert "\n" not in str(exc.value)
    assert _counts(admin) == before
    assert (ws_path / "workspace.json").read_bytes() == before_json


@pytest.mark.parametrize("password", ["short1!A", "Pakistan@123", "off.new-Secret-99", "alllowercaseletters"[:12]])
def test_weak_first_password_is_refused(admin: Workspace, ws_path: Path, password: str) -> None:
    before_json = (ws_path / "workspace.json").read_bytes()
    before = _counts(admin)
    with pytest.raises(WeakPassword):
        users.add_user(admin, username="off.new", full_name="New Officer", role="officer", unit="P-TORKHAM", password=password)
    assert _counts(admin) == before
    assert (ws_path / "workspace.json").read_bytes() == before_json


def test_case_access_is_for_hq_analysts(tmp_path: Path) -> None:
    path = tmp_path / "hq"
    wsvc.init_workspace(
        path, site_kind="hq", unit="HQ", admin=ADMIN, admin_password=ADMIN_PW, kdf=FAST_KDF,
        recovery_recipient=generate_age_keypair().recipient,
    )
    with wsvc.unlocked(path, ADMIN, ADMIN_PW) as ws:
        dto = users.add_user(ws, username="an.hq", full_name="Analyst", role="hq_analyst", unit="HQ", password=PASSWORDS["analyst"], case_access=True)
        assert dto.case_access
    with wsvc.unlocked(path, "an.hq", PASSWORDS["analyst"]) as ws:
        from nap_desktop.security.permissions import Perm

        assert ws.can(Perm.PERSONAL_VIEW)


# --- scope of listing and managing ---------------------------------------------------------------


@pytest.fixture
def hq(tmp_path: Path) -> Path:
    """An HQ workspace with users in two circles."""
    path = tmp_path / "hq"
    wsvc.init_workspace(
        path, site_kind="hq", unit="HQ", admin=ADMIN, admin_password=ADMIN_PW, kdf=FAST_KDF,
        recovery_recipient=generate_age_keypair().recipient,
    )
    with wsvc.unlocked(path, ADMIN, ADMIN_PW) as ws:
        for name, role, unit in [
            ("ch.peshawar", "circle_head", "C-PSH"),
            ("off.torkham", "officer", "P-TORKHAM"),
            ("ch.lahore", "circle_head", "C-LHR"),
            ("off.wagah", "officer", "P-WAGAH"),
        ]:
            users.add_user(ws, username=name, full_name=f"Person {name}", role=role, unit=unit, password=PASSWORDS["head"])
    return path


def test_each_manager_lists_only_the_own_units_accounts(hq: Path) -> None:
    with wsvc.unlocked(hq, ADMIN, ADMIN_PW) as ws:
        assert [u.username for u in users.list_users(ws)] == ["admin", "ch.lahore", "ch.peshawar", "off.torkham", "off.wagah"]
    with wsvc.unlocked(hq, "ch.peshawar", PASSWORDS["head"]) as ws:
        assert [u.username for u in users.list_users(ws)] == ["ch.peshawar", "off.torkham"]
        # Accounts of another circle are invisible: the same answer as for a name that does not exist.
        with pytest.raises(NotFound) as hidden:
            users.reset_password(ws, "off.wagah", NEW_PW)
        with pytest.raises(NotFound) as missing:
            users.reset_password(ws, "no.such", NEW_PW)
        assert str(hidden.value).replace("off.wagah", "X") == str(missing.value).replace("no.such", "X")
        with pytest.raises(NotFound):
            users.disable_user(ws, "off.wagah")
    with wsvc.unlocked(hq, "off.wagah", PASSWORDS["head"]) as ws:  # untouched
        assert not ws.user.disabled


# --- disabling and resetting ---------------------------------------------------------------------


def test_disable_then_reset_password_enables_again(admin: Workspace, ws_path: Path) -> None:
    users.disable_user(admin, OFFICER)
    listed = {u.username: u for u in users.list_users(admin)}
    assert listed[OFFICER].disabled
    assert OFFICER not in {u.username for u in users.list_users(admin, include_disabled=False)}
    wf = keyfile.load(ws_path / "workspace.json")
    assert OFFICER in wf.disabled and OFFICER not in wf.users
    with pytest.raises(ValidationError, match="already an account"):
        users.add_user(admin, username=OFFICER, full_name="Again", role="officer", unit="P-TORKHAM", password=NEW_PW)
    admin.lock()
    with pytest.raises(AccountDisabled):
        wsvc.open_workspace(ws_path, OFFICER, PASSWORDS["officer"])

    with wsvc.unlocked(ws_path, ADMIN, ADMIN_PW) as ws:
        users.reset_password(ws, OFFICER, NEW_PW)
        with ws.sf() as s:
            entry = s.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
        assert (entry.action, entry.object_id) == ("user.password_reset", OFFICER)
        assert json.loads(entry.detail) == {"enabled": True}
    wf = keyfile.load(ws_path / "workspace.json")
    assert OFFICER in wf.users and OFFICER not in wf.disabled
    with pytest.raises(WrongPassword):
        wsvc.open_workspace(ws_path, OFFICER, PASSWORDS["officer"])
    with wsvc.unlocked(ws_path, OFFICER, NEW_PW) as ws:
        assert ws.user.must_change_password and not ws.user.disabled


def test_nobody_disables_their_own_account(admin: Workspace, ws_path: Path) -> None:
    before = (ws_path / "workspace.json").read_bytes()
    with pytest.raises(ValidationError, match="your own account"):
        users.disable_user(admin, ADMIN)
    assert (ws_path / "workspace.json").read_bytes() == before


def test_reset_password_checks_strength(admin: Workspace, ws_path: Path) -> None:
    before = (ws_path / "workspace.json").read_bytes()
    with pytest.raises(WeakPassword):
        users.reset_password(admin, OFFICER, "weak")
    assert (ws_path / "workspace.json").read_bytes() == before
    admin.lock()
    wsvc.open_workspace(ws_path, OFFICER, PASSWORDS["officer"]).lock()


def test_unknown_account_is_not_found(admin: Workspace) -> None:
    with pytest.raises(NotFound, match="no account"):
        users.disable_user(admin, "no.such")


# --- units ---------------------------------------------------------------------------------------


def _post(**kw: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "code": "P-NEW-POST", "kind": "post", "parent": "C-PSH", "name_en": "New Post", "name_ur": "نئی چوکی",
        "province": "kp", "post_type": "airport",
    }
    args.update(kw)
    return args


BAD_UNITS: list[tuple[str, dict[str, Any], str]] = [
    ("lower-case-code", _post(code="p-new"), "code"),
    ("one-letter-code", _post(code="P"), "code"),
    ("code-with-space", _post(code="P NEW"), "code"),
    ("blank-english-name", _post(name_en=" "), "name_en"),
    ("blank-urdu-name", _post(name_ur=""), "name_ur"),
    ("unknown-province", _post(province="mars"), "province"),
    ("post-without-type", _post(post_type=None), "post_type"),
    ("unknown-post-type", _post(post_type="spaceport"), "post_type"),
    ("circle-with-post-type", _post(kind="circle", parent="C-PSH"), "post_type"),
    ("taken-code", _post(code="P-TORKHAM"), "code"),
    ("post-under-a-post", _post(parent="P-TORKHAM"), "parent"),
    ("circle-under-a-circle", _post(kind="circle", post_type=None), "parent"),
    ("unknown-parent", _post(parent="C-NOWHERE"), "parent"),
]


@pytest.mark.parametrize(("args", "field"), [(a, f) for _, a, f in BAD_UNITS], ids=[i for i, _, _ in BAD_UNITS])
def test_invalid_units_are_refused_and_nothing_changes(admin: Workspace, args: dict[str, Any], field: str) -> None:
    before = _counts(admin)
    with pytest.raises(ValidationError) as exc:
        units.add_unit(admin, **args)
    assert field in exc.value.fields, str(exc.value)
    assert _counts(admin) == before


def test_added_unit_is_listed_under_its_parent_and_in_scope_at_once(admin: Workspace, ws_path: Path) -> None:
    dto = units.add_unit(admin, **_post(district="Peshawar"))
    assert (dto.code, dto.kind, dto.parent_code, dto.post_type, dto.active) == ("P-NEW-POST", "post", "C-PSH", "airport", True)
    listed = units.list_units(admin, under="C-PSH")
    assert listed[0].code == "C-PSH"
    assert "P-NEW-POST" in [u.code for u in listed]
    # The new post is part of the circle at once: an account can be made there.
    users.add_user(admin, username="off.new", full_name="New Post Officer", role="officer", unit="P-NEW-POST", password=NEW_PW)
    admin.lock()
    with wsvc.unlocked(ws_path, "off.new", NEW_PW) as ws:
        assert ws.user.unit_code == "P-NEW-POST"


def test_unit_list_puts_parents_before_children_and_filters(admin: Workspace) -> None:
    everything = units.list_units(admin)
    seen: set[str] = set()
    for u in everything:
        assert u.parent_code is None or u.parent_code in seen, f"{u.code} listed before its parent"
        seen.add(u.code)
    assert everything[0].code == "HQ"
    posts = units.list_units(admin, kind="post")
    assert posts and all(u.kind == "post" for u in posts)
    under = units.list_units(admin, under="C-LHR")
    assert {u.code for u in under} >= {"C-LHR", "P-WAGAH"}
    assert all(u.code == "C-LHR" or u.parent_code == "C-LHR" for u in under)
