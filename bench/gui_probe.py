# SPDX-License-Identifier: GPL-3.0-or-later
"""A child process for :mod:`bench.bench_gui`: starts something with Qt and says when it shows.

``python -m bench.gui_probe app --workspace DIR``
    runs the real entry point (``nap_desktop.app.main``) and exits when the sign-in window has
    painted itself for the first time.
``python -m bench.gui_probe bare``
    the baseline: imports Qt, shows an empty window, and exits when it has painted.

Each prints one line, ``shown``, on standard output; the parent times from starting the process
to reading that line. Without a ``DISPLAY`` the offscreen platform is used (it paints too).

``python -m bench.gui_probe stall --workspace DIR`` / ``python -m bench.gui_probe stall-bare``
    the GUI thread while the data core loads in the background after the sign-in window is
    painted (or, for the baseline, an idle window for as long): a timer ticks every 5 ms, and the
    longest gap between two ticks is printed as ``stall <ms>``.
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


def _stall(app: object, object_name: str | None, done: object) -> None:
    """From the end of the first paint of the window ``object_name``: the longest gap between the
    ticks of a 5 ms timer until ``done()`` holds, printed as ``stall <ms>``; then exits."""
    import time

    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QWidget

    state = {"last": 0.0, "worst": 0.0, "started": False}
    timer = QTimer()
    timer.setInterval(5)

    def tick() -> None:
        now = time.perf_counter()
        state["worst"] = max(state["worst"], now - state["last"])
        state["last"] = now
        if done():  # type: ignore[operator]
            sys.stdout.write(f"stall {state['worst'] * 1000:.1f}\n")
            sys.stdout.flush()
            os._exit(0)

    timer.timeout.connect(tick)

    class _Filter(QObject):
        def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt virtual
            if not state["started"] and event.type() == QEvent.Type.Paint and isinstance(obj, QWidget) and obj.isWindow():
                if object_name is None or obj.objectName() == object_name:
                    state["started"] = True
                    QTimer.singleShot(0, begin)  # once this first paint is over
            return False

    def begin() -> None:
        state["last"] = time.perf_counter()
        timer.start()

    f = _Filter()
    app.installEventFilter(f)  # type: ignore[attr-defined]
    _stall.keep = (f, timer)  # type: ignore[attr-defined]


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
    if mode == "stall":
        # Until the background load (login_dialog.preload_core) has finished.
        def loaded() -> bool:
            from nap_desktop.ui import workers

            return "nap_desktop.services.workspace" in sys.modules and "nap_desktop.reports.engine" in sys.modules and not workers.busy()

        _stall(app, "loginDialog", loaded)
        from nap_desktop import app as entry

        return entry.main(argv[1:])
    if mode == "stall-bare":
        import time

        end = time.perf_counter() + float(argv[1] if len(argv) > 1 else 1.0)
        _stall(app, None, lambda: time.perf_counter() > end)
        w = QWidget()
        w.resize(520, 300)
        w.show()
        return int(app.exec())
    raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
