# SPDX-License-Identifier: GPL-3.0-or-later
"""Entry point of the built ``nap-desktop-gui`` executable (windowed): the desktop app."""

import sys

from nap_desktop.app import main

if __name__ == "__main__":
    sys.exit(main())
