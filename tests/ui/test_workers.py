# SPDX-License-Identifier: GPL-3.0-or-later
"""Long work runs off the GUI thread, reports progress, can be cancelled; errors are shown one way."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton, QWidget

from nap_desktop.errors import Cancelled, UserFacingError, ValidationError
from nap_desktop.ui import errors, i18n, workers
from nap_desktop.ui.workers import run_op


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    label: str


def test_op_runs_off_the_gui_thread_and_reports_progress(qtbot: Any) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    gui_thread = threading.get_ident()
    seen_threads: list[int] = []
    progress: list[tuple[int, int, str]] = []
    results: list[object] = []
    callback_threads: list[int] = []

    def work(op: workers.OpContext) -> Any:
        seen_threads.append(threading.get_ident())
        for i in range(1, 4):
            yield Progress(i, 3, "step")
        return "done"

    op = run_op(parent, work)
    op.signals.progress.connect(lambda d, t, lbl: progress.append((d, t, lbl)))
    op.on_success(lambda r: (results.append(r), callback_threads.append(threading.get_ident())))
    with qtbot.waitSignal(op.signals.finished, timeout=5000):
        op.start()
    qtbot.waitUntil(lambda: op.done)
    assert seen_threads and seen_threads[0] != gui_thread
    assert op.context.thread_id == seen_threads[0]
    assert progress == [(1, 3, "step"), (2, 3, "step"), (3, 3, "step")]
    assert results == ["done"]
    assert callback_threads == [gui_thread], "callbacks run on the GUI thread"


def test_store_writes_go_to_a_single_writer_thread() -> None:
    assert workers.writer_pool().maxThreadCount() == 1


def test_cancel_stops_a_generator_between_items_and_shows_nothing(qtbot: Any, shown_boxes: list[QMessageBox]) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    steps: list[int] = []
    failures: list[BaseException] = []

    def work(op: workers.OpContext) -> Any:
        for i in range(1000):
            steps.append(i)
            time.sleep(0.01)
            yield Progress(i, 1000, "")
        return "finished"

    op = run_op(parent, work).on_failure(failures.append)
    op.start()
    qtbot.waitUntil(lambda: len(steps) >= 3, timeout=5000)
    op.cancel()
    qtbot.waitUntil(lambda: op.done, timeout=5000)
    assert isinstance(op.exception, Cancelled)
    assert isinstance(failures[0], Cancelled)
    assert len(steps) < 1000
    assert op.result is None
    assert shown_boxes == []


def test_cancel_event_reaches_a_core_function(qtbot: Any) -> None:
    got: list[bool] = []

    def core(cancel: threading.Event) -> Any:
        for _ in range(500):
            if cancel.is_set():
                got.append(True)
                raise Cancelled("stopped")
            time.sleep(0.01)
        return None

    op = run_op(None, lambda op: core(op.cancel_event)).on_failure(lambda _e: None)
    op.start()
    time.sleep(0.05)
    op.cancel()
    qtbot.waitUntil(lambda: op.done, timeout=5000)
    assert got == [True]
    assert isinstance(op.exception, Cancelled)


def test_progress_dialog_appears_only_after_the_delay_and_cancels(qtbot: Any) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    release = threading.Event()

    def work(op: workers.OpContext) -> Any:
        yield Progress(1, 10, "")
        while not release.is_set() and not op.cancelled:
            time.sleep(0.01)
            yield Progress(2, 10, "")

    op = run_op(parent, work).on_failure(lambda _e: None).with_progress("Working…")
    started = time.monotonic()
    op.start()
    qtbot.wait(250)
    assert op.progress_dialog is None, "no dialog flashes up for short work"
    qtbot.waitUntil(lambda: op.progress_dialog is not None and op.progress_dialog.isVisible(), timeout=3000)
    assert time.monotonic() - started >= workers.PROGRESS_DELAY_MS / 1000 - 0.05
    dlg = op.progress_dialog
    assert dlg.maximum() == 10
    cancel_button = dlg.findChild(QPushButton)
    assert cancel_button is not None and cancel_button.text() == "Cancel"
    qtbot.mouseClick(cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: op.done, timeout=5000)
    assert isinstance(op.exception, Cancelled)
    assert op.progress_dialog is None


def test_short_work_shows_no_progress_dialog(qtbot: Any) -> None:
    op = run_op(None, lambda _op: 42).with_progress("Quick")
    op.start()
    qtbot.waitUntil(lambda: op.done, timeout=3000)
    qtbot.wait(workers.PROGRESS_DELAY_MS + 100)
    assert op.result == 42
    assert op.progress_dialog is None


def test_user_facing_error_is_shown_in_plain_words(qtbot: Any, shown_boxes: list[QMessageBox]) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)

    def fail(_op: object) -> None:
        raise UserFacingError("The disk is full; nothing was written.")

    op = run_op(parent, fail).start()
    qtbot.waitUntil(lambda: op.done, timeout=3000)
    assert len(shown_boxes) == 1
    assert shown_boxes[0].text() == "The disk is full; nothing was written."
    assert shown_boxes[0].objectName() == "userErrorBox"


def test_unexpected_error_shows_the_log_not_the_message(qtbot: Any, shown_boxes: list[QMessageBox], tmp_path: Any) -> None:
    from nap_desktop.log import configure_logging

    log = configure_logging(tmp_path / "logs", console=False)
    secret = "Ayesha 17301-1234567-2"
    errors.show_exception(parent=None, exc=RuntimeError(f"boom for {secret}"))
    box = shown_boxes[-1]
    assert box.objectName() == "internalErrorBox"
    assert secret not in box.text() and secret not in box.detailedText()
    assert str(log) in box.text()
    copy = [b for b in box.buttons() if b.objectName() == "copyDetailsButton"][0]
    copy.click()
    clip = QApplication.clipboard().text()
    assert "RuntimeError" in clip and secret not in clip
    assert secret not in log.read_text("utf-8")
    configure_logging(None, console=False)


def test_cancelled_is_never_shown(shown_boxes: list[QMessageBox]) -> None:
    errors.show_exception(parent=None, exc=Cancelled("x"))
    assert shown_boxes == []


def test_validation_message_in_urdu_uses_the_urdu_field_texts(shown_boxes: list[QMessageBox]) -> None:
    i18n.set_language("ur")
    exc = ValidationError("The case cannot be saved: fir_number: Too long.", {"fir_number": "Too long."}, fields_ur={"fir_number": "بہت طویل ہے۔"})
    errors.show_exception(parent=None, exc=exc)
    assert "بہت طویل ہے۔" in shown_boxes[-1].text()
    assert "Too long" not in shown_boxes[-1].text()


def test_an_op_whose_window_closed_with_its_progress_dialog_still_ends(qtbot: Any) -> None:
    """The sign-in window unlocks slowly (its progress dialog shows), then closes on success: the
    operation still ends, so a later idle lock is not postponed for ever."""
    parent = QWidget()
    parent.show()
    op = run_op(parent, lambda _op: time.sleep(workers.PROGRESS_DELAY_MS / 1000 + 0.4) or "unlocked")
    op.on_success(lambda _r: parent.deleteLater()).with_progress("Unlocking…", cancellable=False).start()
    qtbot.waitUntil(lambda: op.progress_dialog is not None, timeout=10_000)
    qtbot.waitUntil(lambda: op.done, timeout=20_000)
    QApplication.processEvents()
    assert op.result == "unlocked"
    assert not workers.busy()


def test_work_that_finished_is_reported_done_even_if_cancel_came_too_late(qtbot: Any, shown_boxes: list[QMessageBox]) -> None:
    """An import that committed must not be shown as cancelled: the user would import it again."""
    done: list[object] = []

    def work(op: workers.OpContext) -> Any:
        yield Progress(1, 2, "")
        op.cancel_event.set()  # the user presses Cancel while the last step commits
        return "committed"

    op = run_op(None, work).on_success(done.append)
    op.start()
    qtbot.waitUntil(lambda: op.done, timeout=5000)
    assert done == ["committed"] and op.exception is None and shown_boxes == []
