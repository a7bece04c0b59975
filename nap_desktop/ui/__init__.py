# SPDX-License-Identifier: GPL-3.0-or-later
"""The Qt desktop GUI (PySide6). Nothing outside this package and ``app.py`` imports Qt."""

from nap_desktop.ui import qt_compat as _qt_compat

_qt_compat.apply()
