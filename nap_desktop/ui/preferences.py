# SPDX-License-Identifier: GPL-3.0-or-later
"""Per-machine UI preferences kept in ``QSettings``: language, idle-lock minutes, geometry.

NOTE(gui): STYLE §16 wants settings in one typed, versioned object served by the core. Until a
settings service exists, the GUI keeps the UI language and the idle-lock minutes here (the idle
minutes per workspace id, editable only by roles with ``settings.manage``). When the service
lands, :func:`idle_minutes` and :func:`set_idle_minutes` should call it instead.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings

from nap_desktop import config

DEFAULT_IDLE_MINUTES = 10
MIN_IDLE_MINUTES = 1
MAX_IDLE_MINUTES = 120


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


def idle_minutes(workspace_id: str) -> int:
    """Minutes without keyboard or mouse input before the workspace locks itself."""
    value = settings().value(f"idle_lock/{workspace_id}", DEFAULT_IDLE_MINUTES)
    try:
        n = int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return DEFAULT_IDLE_MINUTES
    return max(MIN_IDLE_MINUTES, min(MAX_IDLE_MINUTES, n))


def set_idle_minutes(workspace_id: str, minutes: int) -> None:
    s = settings()
    s.setValue(f"idle_lock/{workspace_id}", max(MIN_IDLE_MINUTES, min(MAX_IDLE_MINUTES, int(minutes))))
    s.sync()


def geometry(key: str) -> QByteArray | None:
    value = settings().value(f"geometry/{key}")
    return value if isinstance(value, QByteArray) else None


def set_geometry(key: str, value: QByteArray) -> None:
    settings().setValue(f"geometry/{key}", value)
