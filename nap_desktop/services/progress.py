# SPDX-License-Identifier: GPL-3.0-or-later
"""The progress item that long core operations yield (import, demo data, backup, reports, …).

A generator yields :class:`Progress` between units of work; the CLI prints it and the GUI's
worker (``ui/workers.py``) turns it into a progress dialog. This module imports nothing of the
project, so any module may use it without an import cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Progress:
    """Progress of a long operation: ``done`` of ``total`` units of work, with a label."""

    done: int
    total: int
    label: str


def drive(gen: Generator[Progress, None, Any], on_progress: Callable[[Progress], None] | None = None) -> Any:
    """Runs a long operation to its end and returns its result, passing each step to ``on_progress``."""
    while True:
        try:
            p = next(gen)
        except StopIteration as stop:
            return stop.value
        if on_progress is not None:
            on_progress(p)
