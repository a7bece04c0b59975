# SPDX-License-Identifier: GPL-3.0-or-later
"""Administrators rename units and mark them inactive; codes never change; it is audited."""

from __future__ import annotations

import pytest

from nap_desktop.errors import PermissionDenied, ValidationError
from nap_desktop.services.audit_log import verify_audit
from nap_desktop.services.context import Workspace
from nap_desktop.services.units import list_units, update_unit
from nap_desktop.services.users import add_user
from nap_desktop.services.workspace import open_workspace
from tests.conftest import PASSWORDS


def test_admin_renames_and_deactivates_a_post(admin_ws: Workspace) -> None:
    unit = update_unit(admin_ws, "P-TORKHAM", name_en="FIA Immigration, Torkham", active=False)
    assert (unit.code, unit.name_en, unit.active) == ("P-TORKHAM", "FIA Immigration, Torkham", False)
    shown = {u.code: u for u in list_units(admin_ws)}
    assert shown["P-TORKHAM"].name_en == "FIA Immigration, Torkham" and not shown["P-TORKHAM"].active
    with admin_ws.sf() as s:
        from sqlalchemy import select

        from nap_desktop.data.models import AuditEntry

        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.object_id == "P-TORKHAM")).all()
    assert "unit.updated" in actions
    assert verify_audit(admin_ws).ok


def test_empty_name_and_own_unit_deactivation_are_refused(admin_ws: Workspace) -> None:
    with pytest.raises(ValidationError, match="cannot be empty"):
        update_unit(admin_ws, "P-TORKHAM", name_ur="  ")
    with pytest.raises(ValidationError, match="own unit cannot be made inactive"):
        update_unit(admin_ws, "C-PSH", active=False)
    with pytest.raises(ValidationError, match="no unit"):
        update_unit(admin_ws, "P-NOWHERE", name_en="x")


def test_an_officer_cannot_edit_units(admin_ws: Workspace) -> None:
    add_user(admin_ws, username="o.khan", full_name="O", role="officer", unit="P-TORKHAM", password=PASSWORDS["officer"])
    path = admin_ws.path
    admin_ws.lock()
    ws = open_workspace(path, "o.khan", PASSWORDS["officer"])
    try:
        with pytest.raises(PermissionDenied):
            update_unit(ws, "P-TORKHAM", name_en="Mine now")
    finally:
        ws.lock()
