# SPDX-License-Identifier: GPL-3.0-or-later
"""The GUI thread's garbage collection (qt_compat) while the data core loads in the background:
no collection stops the sign-in window meanwhile, and what loaded is never looked at again."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from nap_desktop.ui.qt_compat import GuiThreadGarbageCollector


class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the cyclic collector frees it


@pytest.fixture
def collector() -> Iterator[GuiThreadGarbageCollector]:
    c = GuiThreadGarbageCollector()
    c.threshold = (0, 0, 0)  # every check collects (as if the thresholds were crossed)
    yield c
    c._timer.stop()  # noqa: SLF001 - the session's collector goes on
    gc.unfreeze()


def test_paused_collection_waits_and_settle_freezes_what_is_alive(collector: GuiThreadGarbageCollector) -> None:
    collector.check()
    GuiThreadGarbageCollector.pause()
    loaded = _Node()
    garbage = weakref.ref(_Node())
    collector.check()
    assert garbage() is not None, "no collection while paused"
    GuiThreadGarbageCollector.settle()
    assert gc.get_freeze_count() > 0 and gc.is_tracked(loaded)
    after = weakref.ref(_Node())
    collector.check()
    assert after() is None, "collection goes on after settle"
    del loaded


def test_settle_without_pause_does_not_stop_collection(collector: GuiThreadGarbageCollector) -> None:
    GuiThreadGarbageCollector.settle()
    assert GuiThreadGarbageCollector._paused == 0  # noqa: SLF001
    garbage = weakref.ref(_Node())
    collector.check()
    assert garbage() is None
