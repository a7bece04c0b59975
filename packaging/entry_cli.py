# SPDX-License-Identifier: GPL-3.0-or-later
"""Entry point of the built ``nap-desktop`` executable (console): the headless CLI."""

import sys

from nap_desktop.cli import main

if __name__ == "__main__":
    sys.exit(main())
