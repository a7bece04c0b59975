# SPDX-License-Identifier: GPL-3.0-or-later
"""Per-machine UI preferences kept in ``QSettings``: the UI language and window geometry.

Settings of the workspace itself (the idle auto-lock minutes) live in the store, set by
administrators through :mod:`nap_desktop.services.settings`.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings

from nap_desktop import config

# NOTE: the idle watcher's value until the workspace's own setting is read at unlock (the same as
# services.settings.DEFAULT_IDLE_MINUTES, which is not imported here to keep the start light).
DEFAULT_IDLE_MINUTES = 10


def settings() -> QSettings:
    """The settings store (an INI file in the user's config folder)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, config.APP_AUTHOR, config.APP_NAME)


def language() -> str | None:
    value = settings().value("ui/language")
    return str(value) if value in ("en", "ur") else None


def set_language(lang: str) -> None:
    s = settings()
    s.setValue("ui/language", lang)
    s.sync()


def geometry(key: str) -> QByteArray | None:
    value = settings().value(f"geometry/{key}")
    return value if isinstance(value, QByteArray) else None


def set_geometry(key: str, value: QByteArray) -> None:
    settings().setValue(f"geometry/{key}", value)
