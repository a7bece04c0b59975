# SPDX-License-Identifier: GPL-3.0-or-later
"""``python -m nap_desktop``: the headless CLI."""

from __future__ import annotations

import sys

from nap_desktop.cli import main

sys.exit(main())
