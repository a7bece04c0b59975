# SPDX-License-Identifier: GPL-3.0-or-later
"""Work-arounds for defects of the Qt binding in use. Applied once, when ``nap_desktop.ui`` loads.

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
import logging
import sys

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
