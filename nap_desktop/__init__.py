# SPDX-License-Identifier: GPL-3.0-or-later
"""NAP Desktop: the data side of FIA's National Action Plan against Human Trafficking and
Migrant Smuggling. The core (everything outside ``ui/`` and ``app.py``) never imports Qt."""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def _version() -> str:
    # NOTE: importlib.metadata costs ~50 ms to import and scan; it is read on first use only, so
    # that the desktop window does not wait for it at start.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nap-desktop")
    except PackageNotFoundError:  # NOTE: running from a source tree or a frozen build without metadata
        return "0.1.0"


def __getattr__(name: str) -> Any:
    """``nap_desktop.__version__``, looked up when first asked for."""
    if name == "__version__":
        return _version()
    raise AttributeError(f"module 'nap_desktop' has no attribute {name!r}")
