# SPDX-License-Identifier: GPL-3.0-or-later
"""One writer per workspace: an OS file lock on ``<workspace>/.lock``.

The GUI holds it while a workspace is unlocked; every CLI command that opens the store takes it
too, so the two never write at the same time. The OS releases the lock when a process dies, so
a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

from nap_desktop.errors import WorkspaceBusy

if os.name == "nt":  # pragma: no cover - exercised on Windows builds
    import msvcrt

    def _try_lock(fh: IO[str]) -> bool:
        try:
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fh: IO[str]) -> None:
        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fh: IO[str]) -> bool:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fh: IO[str]) -> None:
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


class WorkspaceLockFile:
    """An exclusive, non-blocking lock; :class:`WorkspaceBusy` if another process holds it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: IO[str] | None = None

    @property
    def held(self) -> bool:
        return self._fh is not None

    def acquire(self) -> None:
        if self._fh is not None:
            return
        fh = open(self.path, "a+", encoding="ascii")  # noqa: SIM115 - held open while locked
        if not _try_lock(fh):
            fh.close()
            raise WorkspaceBusy(
                "This workspace is in use by another NAP Desktop window or command. "
                "Close it (or wait for it to finish) and try again."
            )
        self._fh = fh

    def release(self) -> None:
        if self._fh is None:
            return
        try:
            _unlock(self._fh)
        finally:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> WorkspaceLockFile:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
