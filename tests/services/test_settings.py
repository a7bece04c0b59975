# SPDX-License-Identifier: GPL-3.0-or-later
"""Workspace settings: the idle auto-lock minutes, set by administrators, stored and audited."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from nap_desktop.data.models import AuditEntry
from nap_desktop.errors import PermissionDenied, ValidationError
from nap_desktop.services.settings import DEFAULT_IDLE_MINUTES, idle_lock_minutes, set_idle_lock_minutes
from nap_desktop.services.users import add_user
from nap_desktop.services.workspace import open_workspace
from tests.conftest import PASSWORDS


def _actions(ws: Any, action: str) -> list[AuditEntry]:
    with ws.sf() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_the_default_is_ten_minutes_and_an_admin_changes_it_for_everyone(admin_ws: Any, workspace: Any) -> None:
    assert idle_lock_minutes(admin_ws) == DEFAULT_IDLE_MINUTES == 10
    assert set_idle_lock_minutes(admin_ws, 25) == 25
    assert idle_lock_minutes(admin_ws) == 25
    entry = _actions(admin_ws, "settings.changed")[-1]
    assert entry.object_id == "idle_lock_minutes" and '"new":25' in entry.detail.replace(" ", "")
    set_idle_lock_minutes(admin_ws, 25)
    assert len(_actions(admin_ws, "settings.changed")) == 1, "setting the same value again changes nothing"
    add_user(admin_ws, username="duty", full_name="Duty Officer", role="officer", unit="C-PSH", password=PASSWORDS["officer"], must_change_password=False)
    admin_ws.lock()
    officer = open_workspace(workspace, "duty", PASSWORDS["officer"])
    try:
        assert idle_lock_minutes(officer) == 25
        with pytest.raises(PermissionDenied):
            set_idle_lock_minutes(officer, 60)
        assert idle_lock_minutes(officer) == 25
        assert _actions(officer, "permission.denied")[-1].object_id == "idle_lock_minutes"
    finally:
        officer.lock()


@pytest.mark.parametrize("bad", [0, 121, -5, 2.5, "10", True])
def test_out_of_range_minutes_are_refused_and_nothing_changes(admin_ws: Any, bad: Any) -> None:
    with pytest.raises(ValidationError) as err:
        set_idle_lock_minutes(admin_ws, bad)
    assert "1 to 120" in str(err.value) and err.value.fields_ur
    assert idle_lock_minutes(admin_ws) == 10
