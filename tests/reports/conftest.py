# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures of the indicator tests: a fresh HQ workspace per test, ``today`` pinned."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reports.builders import Builder, ReportsWorld
from tests.services.records_factories import pin_today


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ReportsWorld]:
    """An HQ workspace with a circle head of C-PSH (``head``), of C-LHR (``head_lhr``), an officer
    of P-TORKHAM (a post of C-PSH), HQ analysts and an auditor; no records."""
    pin_today(monkeypatch)
    w = ReportsWorld(tmp_path / "ws")
    try:
        yield w
    finally:
        w.close()


@pytest.fixture
def b(world: ReportsWorld) -> Builder:
    """Builds records as the circle head of C-PSH (who may also make cases)."""
    return Builder(world.as_("head"))
