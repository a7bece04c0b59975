# SPDX-License-Identifier: GPL-3.0-or-later
"""Idle auto-lock: an application-wide event filter that notes the last keyboard or mouse input.

A timer compares the time since then with the limit and emits :attr:`IdleWatcher.timed_out`
once; the controller then locks the workspace. The clock is injectable, so tests step time
instead of waiting ten minutes.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer, Signal

_INPUT_EVENTS = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.KeyRelease,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseButtonRelease,
        QEvent.Type.MouseButtonDblClick,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
        QEvent.Type.TouchUpdate,
        QEvent.Type.InputMethod,
    }
)


class IdleWatcher(QObject):
    """Emits :attr:`timed_out` after ``minutes`` without user input (while active)."""

    timed_out = Signal()

    def __init__(self, minutes: int, *, clock: Callable[[], float] = time.monotonic, check_ms: int = 5000, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.clock = clock
        self.limit_s = float(minutes) * 60.0
        self.last_input = clock()
        self.active = False
        self.inputs = 0
        self._timer = QTimer(self)
        self._timer.setInterval(check_ms)
        self._timer.timeout.connect(self.check)

    def set_minutes(self, minutes: int) -> None:
        self.limit_s = float(minutes) * 60.0

    def start(self) -> None:
        """Starts watching (after an unlock)."""
        self.last_input = self.clock()
        self.active = True
        self._timer.start()

    def stop(self) -> None:
        """Stops watching (while locked)."""
        self.active = False
        self._timer.stop()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt virtual
        if event.type() in _INPUT_EVENTS:
            self.last_input = self.clock()
            self.inputs += 1
        return False

    @property
    def idle_seconds(self) -> float:
        return self.clock() - self.last_input

    def check(self) -> None:
        """Emits :attr:`timed_out` if the limit has passed (the timer calls it; tests too)."""
        if self.active and self.idle_seconds >= self.limit_s:
            self.stop()
            self.timed_out.emit()
