# SPDX-License-Identifier: GPL-3.0-or-later
"""Failed-login throttling, kept in ``auth_state.json`` beside the store.

A failed unlock cannot write to the encrypted store (it has no key), so failures are counted
here and queued; the next successful unlock moves them into the audit chain. After
:data:`FREE_ATTEMPTS` failures each further attempt must wait a growing delay. The file holds
account names and times only. NOTE: someone who can edit this file can reset the counter; the
throttle slows guessing at the keyboard, while Argon2id is what slows guessing on a copied disk.
"""

from __future__ import annotations

import json
import math
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nap_desktop.errors import LoginThrottled
from nap_desktop.security.crypto import atomic_write

logger = logging.getLogger(__name__)

FREE_ATTEMPTS = 5
BASE_DELAY_S = 15.0
MAX_DELAY_S = 3600.0
_MAX_TRACKED = 200
_MAX_PENDING = 1000

clock: Callable[[], float] = time.time  # NOTE: tests replace this to step through delays


def delay_after(failures: int) -> float:
    """Seconds to wait after ``failures`` consecutive failures (0 for the first five)."""
    if failures < FREE_ATTEMPTS:
        return 0.0
    return min(BASE_DELAY_S * 2 ** (failures - FREE_ATTEMPTS), MAX_DELAY_S)


class AuthState:
    """The throttle file of one workspace."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text("utf-8"))
            if isinstance(data, dict) and isinstance(data.get("users"), dict) and isinstance(data.get("pending"), list):
                return data
        except FileNotFoundError:
            pass
        except (OSError, ValueError):
            # NOTE: a damaged throttle file must not lock everyone out; start over, and say so in the audit.
            logger.warning("auth_state.json was unreadable and has been reset")
            return {"users": {}, "pending": [{"action": "auth.state_reset", "actor": "-", "at": _now()}]}
        return {"users": {}, "pending": []}

    def _write(self, data: dict[str, Any]) -> None:
        atomic_write(self.path, json.dumps(data, indent=1, sort_keys=True).encode("utf-8"))

    def check(self, username: str) -> None:
        """Raises :class:`LoginThrottled` if ``username`` must still wait."""
        entry = self._read()["users"].get(username)
        if not entry:
            return
        wait = float(entry.get("last", 0)) + delay_after(int(entry.get("failures", 0))) - clock()
        if wait > 0:
            raise LoginThrottled(
                f"Too many failed attempts. Wait {math.ceil(wait)} seconds before trying again.", retry_after=wait
            )

    def record_failure(self, username: str, action: str = "auth.login_failed") -> int:
        """Counts a failure and queues its audit entry; returns the number of failures in a row."""
        data = self._read()
        users = data["users"]
        entry = users.get(username) or {"failures": 0}
        entry["failures"] = int(entry.get("failures", 0)) + 1
        entry["last"] = clock()
        users[username] = entry
        if len(users) > _MAX_TRACKED:  # keep the file small: drop the oldest entries
            for name in sorted(users, key=lambda n: users[n].get("last", 0))[: len(users) - _MAX_TRACKED]:
                del users[name]
        data["pending"] = (data["pending"] + [{"action": action, "actor": username, "at": _now(), "n": entry["failures"]}])[
            -_MAX_PENDING:
        ]
        self._write(data)
        return int(entry["failures"])

    def failures(self, username: str) -> int:
        return int(self._read()["users"].get(username, {}).get("failures", 0))

    def take_pending(self, username: str) -> list[dict[str, Any]]:
        """On a successful unlock: returns the queued events and resets ``username``'s counter."""
        data = self._read()
        pending = data["pending"]
        data["pending"] = []
        data["users"].pop(username, None)
        if pending or self.path.exists():
            self._write(data)
        return pending


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
