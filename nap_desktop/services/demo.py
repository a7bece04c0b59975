# SPDX-License-Identifier: GPL-3.0-or-later
"""The demo workspace a newcomer opens with ``make run``.

A circle workspace (Peshawar AHTC, which covers Torkham) with one account per role, all with the
published demo password. It is for trying the software only: never put real data in it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from nap_desktop import config
from nap_desktop.security.crypto import KdfParams
from nap_desktop.services.users import add_user
from nap_desktop.services.workspace import init_workspace, unlocked

logger = logging.getLogger(__name__)

DEMO_USER = "demo"
DEMO_PASSWORD = "Torkham-Border-2026"
DEMO_UNIT = "C-PSH"
DEMO_ACCOUNTS = (
    # (user name, role, unit, full name)
    (DEMO_USER, "circle_head", DEMO_UNIT, "Demo Circle Head"),
    ("officer", "officer", "P-TORKHAM", "Demo Officer"),
    ("auditor", "auditor", DEMO_UNIT, "Demo Auditor"),
)


def ensure_demo_workspace(path: Path, *, progress: Callable[[str], None] = lambda _m: None) -> Path:
    """Creates the demo workspace at ``path`` unless one is already there; returns its path."""
    if (path / config.WORKSPACE_FILE).exists():
        progress(f"Using the existing demo workspace in {path}.")
        return path
    progress(f"Creating the demo workspace in {path} …")
    try:
        _create_demo(path)
    except BaseException:
        import shutil

        shutil.rmtree(path, ignore_errors=True)  # a half-made demo is worse than none
        raise
    return path


def _create_demo(path: Path) -> None:
    init_workspace(
        path,
        site_kind="circle",
        unit=DEMO_UNIT,
        admin="admin",
        admin_password=DEMO_PASSWORD,
        admin_full_name="Demo Administrator",
        kdf=KdfParams(),
    )
    with unlocked(path, "admin", DEMO_PASSWORD) as ws:
        for username, role, unit, full_name in DEMO_ACCOUNTS:
            add_user(
                ws,
                username=username,
                full_name=full_name,
                role=role,
                unit=unit,
                password=DEMO_PASSWORD,
                must_change_password=False,
            )
