# SPDX-License-Identifier: GPL-3.0-or-later
"""The progress item that long core operations yield (import, demo data, backup, reports, …).

A generator yields :class:`Progress` between units of work; the CLI prints it and the GUI's
worker (``ui/workers.py``) turns it into a progress dialog. This module imports nothing of the
project, so any module may use it without an import cycle.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    """Progress of a long operation: ``done`` of ``total`` units of work, with a label."""

    done: int
    total: int
    label: str
