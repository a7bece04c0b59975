# SPDX-License-Identifier: GPL-3.0-or-later
"""Workspace settings kept in the store (the ``meta`` table): one typed getter and setter each.

These are settings of the workspace, the same for every user and every computer that opens it,
set by administrators and audited. A user's own choices on one computer (the UI language, window
sizes) stay in the GUI's preferences.

- Idle auto-lock: minutes without keyboard or mouse input before the desktop application locks
  the workspace (DESIGN §3: default 10).
"""

from __future__ import annotations

import logging

from nap_desktop.data.meta import set_meta
from nap_desktop.data.models import Meta
from nap_desktop.errors import ValidationError
from nap_desktop.security.permissions import Perm
from nap_desktop.services.context import Workspace

logger = logging.getLogger(__name__)

IDLE_LOCK_KEY = "setting.idle_lock_minutes"
DEFAULT_IDLE_MINUTES = 10
MIN_IDLE_MINUTES = 1
MAX_IDLE_MINUTES = 120


def idle_lock_minutes(ws: Workspace) -> int:
    """Minutes without input before the workspace locks itself (any signed-in user may read it)."""
    with ws.sf() as s:
        meta = s.get(Meta, IDLE_LOCK_KEY)
    if meta is None:
        return DEFAULT_IDLE_MINUTES
    try:
        n = int(meta.value)
    except ValueError:
        logger.warning("the idle-lock setting of the store is not a number; using the default")
        return DEFAULT_IDLE_MINUTES
    return max(MIN_IDLE_MINUTES, min(MAX_IDLE_MINUTES, n))


def set_idle_lock_minutes(ws: Workspace, minutes: int) -> int:
    """Sets the idle auto-lock minutes of the workspace (administrators). Audited.

    Raises:
        PermissionDenied: (audited) the role may not manage settings.
        ValidationError: ``minutes`` is not a whole number from 1 to 120; or (audited) HQ's field
            settings set the idle lock on this device and ``minutes`` differs (``field_config.managed``).
    """
    ws.require(Perm.SETTINGS_MANAGE, object_type="setting", object_id="idle_lock_minutes")
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not MIN_IDLE_MINUTES <= minutes <= MAX_IDLE_MINUTES:
        raise ValidationError(
            f"The lock time is a whole number of minutes from {MIN_IDLE_MINUTES} to {MAX_IDLE_MINUTES}.",
            {"idle_lock_minutes": "range"},
            fields_ur={"idle_lock_minutes": f"لاک ہونے کا وقت {MIN_IDLE_MINUTES} سے {MAX_IDLE_MINUTES} منٹ کے درمیان پورا عدد ہو۔"},
        )
    from nap_desktop.services import field_config  # it imports this module: imported here, not at the top

    with ws.sf.begin() as s:
        meta = s.get(Meta, IDLE_LOCK_KEY)
        old = None if meta is None else meta.value
        refusal = field_config.local_change_refusal(ws, s, ("idle_lock_minutes",)) if old != str(minutes) else None
        if refusal is None:
            set_meta(s, IDLE_LOCK_KEY, str(minutes))
            if old != str(minutes):
                ws.audit(s, "settings.changed", object_type="setting", object_id="idle_lock_minutes", detail={"old": old, "new": minutes})
    if refusal is not None:
        field_config.refuse_local_change(ws, refusal)
    return minutes
