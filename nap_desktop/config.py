# SPDX-License-Identifier: GPL-3.0-or-later
"""Paths and settings: the one place that resolves folders (platformdirs) and resources.

A workspace folder is chosen, in this order, by ``--workspace``, ``NAP_WORKSPACE``, or the
platform's user data folder (``.../NAP Desktop/workspace``). Resources (code lists, units, the
framework, translations, fonts) come from ``NAP_RESOURCES``, the PyInstaller bundle, or the
``resources/`` folder beside the package in a source checkout.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "NAP Desktop"
APP_AUTHOR = "FIA"

# Workspace layout (DESIGN §3).
WORKSPACE_FILE = "workspace.json"
STORE_FILE = "store.db"
AUTH_STATE_FILE = "auth_state.json"
LOCK_FILE = ".lock"
REKEY_FILE = "workspace.json.rekey"
SUBDIRS = ("outbox", "inbox", "exports", "backups", "logs")


def default_workspace_dir() -> Path:
    """The workspace used when neither ``--workspace`` nor ``NAP_WORKSPACE`` is given."""
    return Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR)) / "workspace"


def resolve_workspace_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Returns the workspace folder: the explicit path, ``NAP_WORKSPACE``, or the default."""
    if explicit:
        return Path(explicit).expanduser().resolve()
    env = os.environ.get("NAP_WORKSPACE")
    if env:
        return Path(env).expanduser().resolve()
    return default_workspace_dir()


def resources_dir() -> Path:
    """Returns the folder holding code lists, units, framework, translations and fonts."""
    env = os.environ.get("NAP_RESOURCES")
    if env:
        return Path(env)
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "resources"
    return Path(__file__).resolve().parents[1] / "resources"


def app_log_dir() -> Path:
    """Log folder for messages that belong to no workspace (e.g. a failed first start)."""
    return Path(platformdirs.user_log_dir(APP_NAME, APP_AUTHOR))
