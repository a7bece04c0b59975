# SPDX-License-Identifier: GPL-3.0-or-later
"""Work-arounds for defects of the Qt binding in use.

1. :func:`apply` (run when ``nap_desktop.ui`` loads): ``None``'s reference count under PySide6 6.12.
2. :class:`GuiThreadGarbageCollector` (installed by ``app.py`` and the GUI tests): Python's cyclic
   garbage collector runs only on the GUI thread.

NOTE: PySide6 6.12.0 on CPython 3.11 drops one reference to ``None`` on every call of a method
that returns nothing (``setText``, ``show``, ``emit(None)`` …): its binaries assume the immortal
``None`` of CPython 3.12+ (PEP 683). After a few thousand such calls ``None``'s reference count
reaches zero and the process aborts with "Fatal Python error: none_dealloc". PySide6 6.11.3 does
not have the defect (checked with the same interpreter). The right fix is to avoid that pairing
(pin ``PySide6-Essentials!=6.12.0`` or run on Python 3.12+); until then :func:`apply` gives
``None``, ``True`` and ``False`` a reserve of references large enough that they never reach zero,
which is exactly what immortality does on 3.12.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import sys

from PySide6.QtCore import QObject, QTimer

logger = logging.getLogger(__name__)

_RESERVE = 1 << 40
_applied = False


def affected(pyside_version: str | None = None, python: tuple[int, int] | None = None) -> bool:
    """Whether this binding/interpreter pair has the ``None`` reference-count defect."""
    if pyside_version is None:
        import PySide6

        pyside_version = PySide6.__version__
    py = python or sys.version_info[:2]
    return py < (3, 12) and pyside_version.startswith("6.12.")


def _reserve(obj: object) -> bool:
    cell = ctypes.c_ssize_t.from_address(id(obj))
    # NOTE: only where the reference count is the object's first field (release builds of
    # CPython); anything else and we leave the object alone.
    before = sys.getrefcount(obj)
    if abs(cell.value - before) > 8:
        return False
    cell.value += _RESERVE
    return sys.getrefcount(obj) - before == _RESERVE


def apply() -> bool:
    """Applies the work-around when needed; returns whether it was applied."""
    global _applied
    if _applied or not affected():
        return _applied
    ok = all(_reserve(o) for o in (None, True, False))
    _applied = ok
    if ok:
        logger.info("PySide6 6.12 on Python 3.11: None/True/False given a reference reserve (see qt_compat)")
    else:
        logger.warning("PySide6 6.12 on Python 3.11: could not apply the reference-count work-around")
    return ok


class GuiThreadGarbageCollector(QObject):
    """Runs Python's cyclic garbage collection on the GUI thread only (calibre's recipe).

    NOTE: with automatic collection, a collection may start on a worker thread (whichever thread
    allocates when a threshold is crossed) and free the Python wrapper of a Qt object there; Qt
    objects must be destroyed on their own thread, and the process can crash (seen in the GUI
    tests: a segmentation fault in a worker thread "Garbage-collecting"). So automatic collection
    is switched off and this timer collects, generation by generation, as the thresholds say.
    """

    INTERVAL_MS = 500
    _paused = 0  # NOTE: shared by every instance (the process has one collector; tests make more)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.threshold = gc.get_threshold()
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.setInterval(self.INTERVAL_MS)
        self._timer.timeout.connect(self.check)
        self._timer.start()

    def check(self) -> None:
        """Collects the generations whose thresholds are crossed (the timer calls it)."""
        if GuiThreadGarbageCollector._paused:
            return
        c0, c1, c2 = gc.get_count()
        if c0 > self.threshold[0]:
            gc.collect(0)
            if c1 > self.threshold[1]:
                gc.collect(1)
                if c2 > self.threshold[2]:
                    gc.collect(2)

    @staticmethod
    def pause() -> None:
        """No collection until :meth:`settle` (while the data core loads in the background)."""
        GuiThreadGarbageCollector._paused += 1

    @staticmethod
    def settle() -> None:
        """Ends a :meth:`pause`: every object alive now is moved out of the collector's sight for
        good (``gc.freeze``), and collection goes on with what is made afterwards.

        NOTE: the data core's modules, classes and tables live as long as the process. Collected
        while they loaded, or looked at again by later collections, they stopped the GUI thread
        for a quarter of a second and more (the young generation held most of SQLAlchemy). The
        few cycles that loading leaves behind stay, once.
        """
        GuiThreadGarbageCollector._paused = max(0, GuiThreadGarbageCollector._paused - 1)
        if not GuiThreadGarbageCollector._paused:
            gc.freeze()

    def stop(self) -> None:
        """Gives collection back to Python (at exit), if it was Python's before."""
        self._timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()
