# SPDX-License-Identifier: GPL-3.0-or-later
"""NAP Desktop: the data side of FIA's National Action Plan against Human Trafficking and
Migrant Smuggling. The core (everything outside ``ui/`` and ``app.py``) never imports Qt."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("nap-desktop")
except PackageNotFoundError:  # NOTE: running from a source tree or a frozen build without metadata
    __version__ = "0.1.0"
