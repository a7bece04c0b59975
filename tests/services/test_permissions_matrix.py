# SPDX-License-Identifier: GPL-3.0-or-later
"""Every role × operation pair (issue 2, "Must show"): allowed ones succeed; the others raise
PermissionDenied and write exactly one "permission.denied" audit entry naming the permission.

The expectation below is written from the roles in DESIGN §3 and the issue, NOT read back from
``security.permissions.PERMISSIONS``, so that a wrong permission table fails here:

- officer: capture in the own unit; no account, unit, key or audit management.
- circle_head: + manage the users of the own circle (officers and circle heads only).
- hq_analyst: imports, national indicators and reports; no account, unit, key or audit management.
- admin: users, units, keys (rekey, recovery), schema upgrades; may check the chain's integrity but
  does not read the audit log (separation of duties: the auditor reads it).
- auditor: reads and verifies the audit log, and lists the accounts its entries name.
- everyone: sees the workspace summary and the (non-secret) unit hierarchy, changes own password.

The workspace is an HQ-site one so that every role can exist in it (an HQ analyst belongs to HQ,
which a circle administrator cannot reach); a second administrator of circle C-PSH is there for
the scope tests.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from nap_desktop.data.models import AuditEntry
from nap_desktop.errors import AccountDisabled, PermissionDenied, WrongPassword
from nap_desktop.security.crypto import generate_age_keypair
from nap_desktop.services import audit_log, units, users
from nap_desktop.services import workspace as wsvc
from nap_desktop.services.context import Workspace
from tests.conftest import ADMIN, ADMIN_PW, FAST_KDF, PASSWORDS

TARGET = "off.two"  # an officer every role can see, the object of reset/disable
TARGET_PW = "Second-Officer-26!"
NEW_PW = "Fresh-Secret-77#"

CIRCLE_ADMIN = "adm.psh"
# role -> (user name, unit, password)
ACCOUNTS: dict[str, tuple[str, str, str]] = {
    "officer": ("off.torkham", "P-TORKHAM", PASSWORDS["officer"]),
    "circle_head": ("ch.peshawar", "C-PSH", PASSWORDS["head"]),
    "hq_analyst": ("an.hq", "HQ", PASSWORDS["analyst"]),
    "admin": (ADMIN, "HQ", ADMIN_PW),
    "auditor": ("aud.psh", "C-PSH", PASSWORDS["auditor"]),
}

RECIPIENT = generate_age_keypair().recipient
ROLES = ("officer", "circle_head", "hq_analyst", "admin", "auditor")
Y, N = True, False
# fmt: off
EXPECTED: dict[str, tuple[bool, bool, bool, bool, bool]] = {
    #                   officer circle_head hq_analyst admin auditor
    "workspace_info":  (Y,      Y,          Y,         Y,    Y),
    "list_users":      (N,      Y,          N,         Y,    Y),
    "add_user":        (N,      Y,          N,         Y,    N),
    "reset_password":  (N,      Y,          N,         Y,    N),
    "disable_user":    (N,      Y,          N,         Y,    N),
    "list_units":      (Y,      Y,          Y,         Y,    Y),
    "add_unit":        (N,      N,          N,         Y,    N),
    "verify_audit":    (N,      N,          N,         Y,    Y),
    "list_audit":      (N,      N,          N,         N,    Y),
    "upgrade_db":      (N,      N,          N,         Y,    N),
    "rekey":           (N,      N,          N,         Y,    N),
    "set_recovery":    (N,      N,          N,         Y,    N),
    "change_password": (Y,      Y,          Y,         Y,    Y),
}
# fmt: on
# The permission each operation needs, as named in audit entries (stable values).
PERM_OF = {
    "workspace_info": "workspace.view",
    "list_users": "user.list",
    "add_user": "user.manage",
    "reset_password": "user.manage",
    "disable_user": "user.manage",
    "list_units": "unit.list",
    "add_unit": "unit.manage",
    "verify_audit": "audit.verify",
    "list_audit": "audit.read",
    "upgrade_db": "db.upgrade",
    "rekey": "workspace.rekey",
    "set_recovery": "recovery.set",
    "change_password": "password.change_own",
}


@pytest.fixture(scope="module")
def _template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An HQ workspace with one account per role, a circle administrator and a target officer."""
    path = tmp_path_factory.mktemp("matrix") / "ws"
    wsvc.init_workspace(
        path, site_kind="hq", unit="HQ", admin=ADMIN, admin_password=ADMIN_PW, kdf=FAST_KDF, recovery_recipient=RECIPIENT
    )
    with wsvc.unlocked(path, ADMIN, ADMIN_PW) as ws:
        for role, (name, unit, pw) in ACCOUNTS.items():
            if name != ADMIN:
                users.add_user(ws, username=name, full_name=f"Test {role}", role=role, unit=unit, password=pw)
        users.add_user(ws, username=TARGET, full_name="Target Officer", role="officer", unit="P-TORKHAM", password=TARGET_PW)
        users.add_user(ws, username=CIRCLE_ADMIN, full_name="Circle Admin", role="admin", unit="C-PSH", password=PASSWORDS["admin2"])
    return path


@pytest.fixture
def circle(_template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "circle"
    shutil.copytree(_template, path)
    return path


def _open(path: Path, role: str) -> Workspace:
    name, _, pw = ACCOUNTS[role]
    return wsvc.open_workspace(path, name, pw)


def _audit_count(ws: Workspace) -> int:
    with ws.sf() as s:
        return s.scalar(select(func.count()).select_from(AuditEntry)) or 0


def _newest(ws: Workspace) -> AuditEntry:
    with ws.sf() as s:
        return s.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()


# Each operation, and how to tell that it really happened.
def _do(op: str, ws: Workspace) -> Callable[[Path], None]:
    """Runs ``op``; returns a check to run on the workspace folder after locking."""
    me = ws.user.username
    if op == "workspace_info":
        info = wsvc.workspace_info(ws)
        assert (info.user, info.role, info.unit, info.site_kind) == (me, ws.user.role, "HQ", "hq")
    elif op == "list_users":
        assert TARGET in {u.username for u in users.list_users(ws)}
    elif op == "add_user":
        dto = users.add_user(ws, username="new.officer", full_name="New Officer", role="officer", unit="P-TORKHAM", password=TARGET_PW)
        assert (dto.username, dto.role, dto.unit_code) == ("new.officer", "officer", "P-TORKHAM")
        return lambda p: wsvc.open_workspace(p, "new.officer", TARGET_PW).lock()
    elif op == "reset_password":
        users.reset_password(ws, TARGET, NEW_PW)
        return lambda p: wsvc.open_workspace(p, TARGET, NEW_PW).lock()
    elif op == "disable_user":
        users.disable_user(ws, TARGET)

        def disabled(p: Path) -> None:
            with pytest.raises(AccountDisabled):
                wsvc.open_workspace(p, TARGET, TARGET_PW)

        return disabled
    elif op == "list_units":
        assert {"HQ", "C-PSH", "P-TORKHAM"} <= {u.code for u in units.list_units(ws)}
    elif op == "add_unit":
        units.add_unit(ws, code="P-MATRIX", kind="post", parent="C-PSH", name_en="Matrix Post", name_ur="چوکی", province="kp", post_type="airport")
        assert "P-MATRIX" in {u.code for u in units.list_units(ws)}
    elif op == "verify_audit":
        assert audit_log.verify_audit(ws).ok
    elif op == "list_audit":
        rows = audit_log.list_audit(ws, limit=5)
        assert rows and rows[0].action == "auth.unlocked"
    elif op == "upgrade_db":
        assert wsvc.upgrade_db(ws) == []
    elif op == "rekey":
        wsvc.rekey(ws)
        return lambda p: wsvc.open_workspace(p, TARGET, TARGET_PW).lock()
    elif op == "set_recovery":
        other = generate_age_keypair().recipient
        wsvc.set_recovery(ws, other)
        assert ws.wf.recovery is not None and ws.wf.recovery.recipient == other
    elif op == "change_password":
        _, _, pw = ACCOUNTS[ws.user.role]
        wsvc.change_password(ws, pw, NEW_PW)
        return lambda p: wsvc.open_workspace(p, me, NEW_PW).lock()
    else:  # pragma: no cover
        raise AssertionError(op)
    return lambda p: None


CASES = [(role, op, EXPECTED[op][i]) for op in EXPECTED for i, role in enumerate(ROLES)]


def test_the_matrix_covers_every_role_and_operation() -> None:
    assert set(PERM_OF) == set(EXPECTED)
    assert len(CASES) == 5 * 13


@pytest.mark.parametrize(("role", "op", "allowed"), CASES, ids=[f"{r}-{o}-{'allowed' if a else 'denied'}" for r, o, a in CASES])
def test_role_operation(circle: Path, role: str, op: str, allowed: bool) -> None:
    ws = _open(circle, role)
    try:
        assert ws.user.role == role
        before = _audit_count(ws)
        ws_json = (circle / "workspace.json").read_bytes()
        if allowed:
            check = _do(op, ws)
        else:
            with pytest.raises(PermissionDenied) as exc:
                _do(op, ws)
            assert "\n" not in str(exc.value)
            assert _audit_count(ws) == before + 1, "a refusal writes exactly one audit entry"
            entry = _newest(ws)
            assert entry.action == "permission.denied"
            assert entry.actor == ws.user.username
            assert json.loads(entry.detail)["perm"] == PERM_OF[op]
            assert (circle / "workspace.json").read_bytes() == ws_json, "a refused operation changed workspace.json"
    finally:
        ws.lock()
    if allowed:
        check(circle)
    # Whatever happened, the chain is intact.
    with wsvc.unlocked(circle, "aud.psh", PASSWORDS["auditor"] if not (role == "auditor" and op == "change_password") else NEW_PW) as ws:
        assert audit_log.verify_audit(ws).ok


# --- scope ---------------------------------------------------------------------------------------


def _denied(ws: Workspace, call: Callable[[], object], perm: str, reason: str) -> PermissionDenied:
    before = _audit_count(ws)
    with pytest.raises(PermissionDenied) as exc:
        call()
    assert _audit_count(ws) == before + 1
    entry = _newest(ws)
    assert entry.action == "permission.denied" and entry.actor == ws.user.username
    assert json.loads(entry.detail) == {"perm": perm, "reason": reason}
    return exc.value


def test_circle_head_cannot_add_a_user_in_another_circle(circle: Path) -> None:
    ws_json = (circle / "workspace.json").read_bytes()
    with _open(circle, "circle_head") as ws:
        exc = _denied(
            ws,
            lambda: users.add_user(ws, username="off.wagah", full_name="Wagah Officer", role="officer", unit="P-WAGAH", password=TARGET_PW),
            "user.manage",
            "scope",
        )
        assert "P-WAGAH" in str(exc) and "outside your unit" in str(exc)
        assert "off.wagah" not in {u.username for u in users.list_users(ws)}
        # Within the own circle it works.
        users.add_user(ws, username="off.peshawar", full_name="Airport Officer", role="officer", unit="P-TORKHAM", password=TARGET_PW)
    assert b"off.wagah" not in (circle / "workspace.json").read_bytes()
    assert ws_json != (circle / "workspace.json").read_bytes()


@pytest.mark.parametrize(
    ("role", "unit", "reason"),
    [("admin", "C-PSH", "role"), ("auditor", "C-PSH", "role"), ("admin", "P-TORKHAM", "role"), ("hq_analyst", "HQ", "scope")],
)
def test_circle_head_cannot_create_other_roles(circle: Path, role: str, unit: str, reason: str) -> None:
    with _open(circle, "circle_head") as ws:
        _denied(
            ws,
            lambda: users.add_user(ws, username="new.boss", full_name="New Boss", role=role, unit=unit, password=TARGET_PW),
            "user.manage",
            reason,
        )
    assert b"new.boss" not in (circle / "workspace.json").read_bytes()


@pytest.mark.parametrize(("target", "password"), [(CIRCLE_ADMIN, PASSWORDS["admin2"]), ("aud.psh", PASSWORDS["auditor"])])
def test_circle_head_cannot_take_over_or_silence_admin_and_auditor(circle: Path, target: str, password: str) -> None:
    """Resetting the circle admin's password would be a takeover; disabling the auditor would hide tracks."""
    with _open(circle, "circle_head") as ws:
        _denied(ws, lambda: users.reset_password(ws, target, NEW_PW), "user.manage", "role")
        _denied(ws, lambda: users.disable_user(ws, target), "user.manage", "role")
    with pytest.raises(WrongPassword):  # the new password was not set ...
        wsvc.open_workspace(circle, target, NEW_PW)
    wsvc.open_workspace(circle, target, password).lock()  # ... and the account still works


def test_admin_of_a_circle_cannot_add_units_in_another_circle(circle: Path) -> None:
    with wsvc.unlocked(circle, CIRCLE_ADMIN, PASSWORDS["admin2"]) as ws:
        _denied(
            ws,
            lambda: units.add_unit(ws, code="P-LHR-NEW", kind="post", parent="C-LHR", name_en="X", name_ur="ایکس", province="punjab", post_type="airport"),
            "unit.manage",
            "scope",
        )
        assert "P-LHR-NEW" not in {u.code for u in units.list_units(ws)}
        # ... nor add users there, nor touch the HQ administrator.
        _denied(
            ws,
            lambda: users.add_user(ws, username="off.wagah", full_name="Wagah Officer", role="officer", unit="P-WAGAH", password=TARGET_PW),
            "user.manage",
            "scope",
        )
        # and inside the own circle it works
        units.add_unit(ws, code="P-PSH-NEW", kind="post", parent="C-PSH", name_en="New Post", name_ur="چوکی", province="kp", post_type="airport")


@pytest.mark.parametrize("op", ["reset_password", "disable_user"])
def test_officer_acting_on_an_account_outside_the_post_is_refused_and_audited(circle: Path, op: str) -> None:
    """A role without user.manage must get a permission error (and an audit entry), whatever the target.

    The target here (the HQ administrator) is outside the officer's post: the refusal must still be
    a PermissionDenied that is audited, not a NotFound that leaves no trace."""
    call = {"reset_password": lambda ws: users.reset_password(ws, ADMIN, NEW_PW), "disable_user": lambda ws: users.disable_user(ws, ADMIN)}[op]
    with _open(circle, "officer") as ws:
        _denied(ws, lambda: call(ws), "user.manage", "role")
