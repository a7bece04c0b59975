# SPDX-License-Identifier: GPL-3.0-or-later
"""A child process for :mod:`bench.bench_gui`: starts something with Qt and says when it shows.

``python -m bench.gui_probe app --workspace DIR``
    runs the real entry point (``nap_desktop.app.main``) and exits when the sign-in window has
    painted itself for the first time.
``python -m bench.gui_probe bare``
    the baseline: imports Qt, shows an empty window, and exits when it has painted.

Each prints one line, ``shown``, on standard output; the parent times from starting the process
to reading that line. Without a ``DISPLAY`` the offscreen platform is used (it paints too).
"""

from __future__ import annotations

import os
import sys


def _watch(app: object, object_name: str | None) -> None:
    """Exits the process at the first paint of a window called ``object_name`` (any, if None)."""
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QWidget

    class _Filter(QObject):
        def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt virtual
            if event.type() == QEvent.Type.Paint and isinstance(obj, QWidget) and obj.isWindow():
                if object_name is None or obj.objectName() == object_name:
                    sys.stdout.write("shown\n")
                    sys.stdout.flush()
                    os._exit(0)
            return False

    f = _Filter()
    app.installEventFilter(f)  # type: ignore[attr-defined]
    _watch.keep = f  # type: ignore[attr-defined]


def main(argv: list[str]) -> int:
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    mode = argv[0] if argv else "bare"
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication, QWidget

    # The same as nap_desktop.app.main does before it creates the application.
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = QApplication([sys.argv[0]])
    if mode == "bare":
        _watch(app, None)
        w = QWidget()
        w.resize(520, 300)
        w.show()
        return int(app.exec())
    if mode == "app":
        _watch(app, "loginDialog")
        from nap_desktop import app as entry

        return entry.main(argv[1:])
    raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
