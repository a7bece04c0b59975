# SPDX-License-Identifier: GPL-3.0-or-later
"""Logging: a rotating file per workspace (``logs/nap.log``) plus the console.

Rules for every logger in the project: no personal data, no passwords, keys or decrypted
payloads. Log ids, codes and counts only. Exception texts of :class:`UserFacingError` are safe.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

LOG_NAME = "nap.log"
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_file_handler: logging.Handler | None = None


def configure_logging(log_dir: Path | None, *, verbose: bool = False, console: bool = True) -> Path | None:
    """Installs the rotating file handler (and a console handler) on the root ``nap_desktop`` logger.

    Calling it again with another folder moves the file handler there.

    Args:
        log_dir: Folder for ``nap.log``; ``None`` for console only.
        verbose: Log DEBUG as well.
        console: Also log WARNING and above to stderr.

    Returns:
        The log file path, or ``None``.
    """
    global _file_handler
    root = logging.getLogger("nap_desktop")
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    root.propagate = False
    if _file_handler is not None:
        root.removeHandler(_file_handler)
        _file_handler.close()
        _file_handler = None
    path: Path | None = None
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        path = log_dir / LOG_NAME
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=2_000_000, backupCount=5, encoding="utf-8"
        )
        handler.setFormatter(logging.Formatter(_FORMAT))
        root.addHandler(handler)
        _file_handler = handler
        try:
            os.chmod(path, 0o600)
        except OSError:  # NOTE: Windows ignores POSIX modes; the folder ACL protects it there
            pass
    if console and not any(getattr(h, "_nap_console", False) for h in root.handlers):
        ch = logging.StreamHandler()
        ch.setLevel(logging.DEBUG if verbose else logging.WARNING)
        ch.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        ch._nap_console = True  # type: ignore[attr-defined]
        root.addHandler(ch)
    return path


def safe_traceback(exc: BaseException) -> str:
    """A traceback with the exception *messages* left out.

    NOTE: messages of library errors can carry data (SQLAlchemy puts the SQL parameters of a
    failed statement in its message), so only types, files, lines and functions are logged.
    :class:`~nap_desktop.errors.UserFacingError` messages are safe and kept.
    """
    import traceback

    from nap_desktop.errors import UserFacingError

    parts: list[str] = []
    cur: BaseException | None = exc
    seen: set[int] = set()
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        frames = traceback.extract_tb(cur.__traceback__)
        label = f"{type(cur).__module__}.{type(cur).__qualname__}"
        if isinstance(cur, UserFacingError):
            label += f": {cur.message}"
        parts.append("".join(traceback.format_list(frames)) + label)
        cur = cur.__cause__ or cur.__context__
    return "\n-- caused by / during --\n".join(reversed(parts))


def current_log_file() -> Path | None:
    """The file the log is written to, to show in error messages."""
    if isinstance(_file_handler, logging.handlers.RotatingFileHandler):
        return Path(_file_handler.baseFilename)
    return None
