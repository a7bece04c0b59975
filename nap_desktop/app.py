# SPDX-License-Identifier: GPL-3.0-or-later
"""GUI bootstrap only: ``python -m nap_desktop.app [--workspace DIR] [--user NAME] [--lang en|ur]``.

Starts Qt, logging, the excepthook and the UI language, then hands over to
:class:`nap_desktop.ui.controller.AppController` (first-run wizard or sign-in, main window,
locking). Everything else lives in ``nap_desktop/ui``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

logger = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="nap-desktop-gui", description="NAP Desktop (desktop window)")
    p.add_argument("--workspace", metavar="DIR", help="workspace folder (default: NAP_WORKSPACE or the user data folder)")
    p.add_argument("--user", metavar="NAME", help="account to preselect on the sign-in window")
    p.add_argument("--lang", choices=("en", "ur"), help="UI language (default: the last one chosen, else English)")
    p.add_argument("--verbose", action="store_true", help="log debug messages")
    return p


def _version() -> str:
    import nap_desktop

    return str(nap_desktop.__version__)


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the desktop application; returns the exit code."""
    args = build_parser().parse_args(list(argv) if argv is not None else None)

    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from nap_desktop import config
    from nap_desktop.log import configure_logging
    from nap_desktop.ui import i18n, preferences
    from nap_desktop.ui.controller import AppController
    from nap_desktop.ui.errors import install_excepthook
    from nap_desktop.ui.qt_compat import GuiThreadGarbageCollector

    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "nap-desktop"])
    assert isinstance(app, QApplication)
    app.setApplicationName(config.APP_NAME)
    app.setOrganizationName(config.APP_AUTHOR)
    configure_logging(config.app_log_dir(), verbose=args.verbose, console=args.verbose)
    install_excepthook()
    collector = GuiThreadGarbageCollector(app)
    i18n.set_language(args.lang or preferences.language() or "en")
    workspace = config.resolve_workspace_dir(args.workspace)
    controller = AppController(workspace, user=args.user)
    controller.start()
    logger.info("GUI started")
    # NOTE: after the first window is up: reading the version from the package metadata is slow.
    QTimer.singleShot(2000, lambda: app.setApplicationVersion(_version()))
    try:
        return int(app.exec())
    finally:
        controller.shutdown()
        collector.stop()


if __name__ == "__main__":
    sys.exit(main())
