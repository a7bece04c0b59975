# SPDX-License-Identifier: GPL-3.0-or-later
"""Background work: one helper for every operation that touches the store or takes time.

``run_op(parent, fn).on_success(...).on_failure(...).with_progress("Saving…").start()`` runs
``fn(op)`` on a worker thread (Anki's ``CollectionOp``/``QueryOp``). ``fn`` receives an
:class:`OpContext` with a cancel event and a progress reporter; it may also *return a generator*
of progress items (the core's pattern, e.g. ``generate_demo_records``), which the worker drives,
checking the cancel event between items.

Threading contract: ``fn`` runs off the GUI thread and must not touch any widget. The callbacks
(``on_success``, ``on_failure``, ``on_finished``, progress) always run on the GUI thread, and are
skipped if ``parent`` was destroyed meanwhile.

Operations that write (or may write: unlocking, reading personal data writes an audit entry) go
to :func:`writer_pool`, a ``QThreadPool`` with one thread, so the store has a single writer
(Anki's ``ThreadPoolExecutor(max_workers=1)``). Pure reads may use the global pool
(``writer=False``). A progress dialog appears only if the operation is still running after
:data:`PROGRESS_DELAY_MS` (Anki ``progress.py``).
"""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal, Slot
from PySide6.QtWidgets import QProgressDialog, QWidget

from nap_desktop.errors import Cancelled
from nap_desktop.ui.i18n import tr

logger = logging.getLogger(__name__)

PROGRESS_DELAY_MS = 600

_writer_pool: QThreadPool | None = None
_live: set[Op] = set()


def writer_pool() -> QThreadPool:
    """The single-thread pool every store-writing operation runs on."""
    global _writer_pool
    if _writer_pool is None:
        _writer_pool = QThreadPool()
        _writer_pool.setMaxThreadCount(1)
        _writer_pool.setObjectName("nap-writer")
    return _writer_pool


def wait_for_workers(timeout_ms: int = 30_000) -> bool:
    """Waits until no operation runs (before locking or quitting). Returns False on timeout."""
    ok = writer_pool().waitForDone(timeout_ms)
    return QThreadPool.globalInstance().waitForDone(timeout_ms) and ok


def cancel_all() -> None:
    """Asks every running operation to stop (quitting)."""
    for op in list(_live):
        op.cancel()


def busy() -> bool:
    """Whether any operation is still running."""
    return bool(_live)


class WorkerSignals(QObject):
    """Signals of a :class:`Worker`; emitted on the worker thread, delivered queued to the GUI."""

    progress = Signal(int, int, str)
    result = Signal(object)
    error = Signal(object)
    finished = Signal()


class OpContext:
    """What ``fn`` receives: the cancel event and a progress reporter. Thread-safe."""

    def __init__(self, signals: WorkerSignals) -> None:
        self.cancel_event = threading.Event()
        self._signals = signals
        self.thread_id: int | None = None

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def check_cancelled(self) -> None:
        """Raises :class:`Cancelled` if the user pressed Cancel."""
        if self.cancel_event.is_set():
            raise Cancelled("Cancelled.")

    def progress(self, done: int, total: int, label: str = "") -> None:
        self._signals.progress.emit(int(done), int(total), str(label))


def _progress_parts(item: Any) -> tuple[int, int, str] | None:
    if hasattr(item, "done") and hasattr(item, "total"):
        return int(item.done or 0), int(item.total or 0), str(getattr(item, "label", ""))
    if isinstance(item, tuple) and len(item) >= 2:
        return int(item[0] or 0), int(item[1] or 0), str(item[2]) if len(item) > 2 else ""
    return None


class Worker(QRunnable):
    """Runs ``fn(ctx)`` on a pool thread and reports through :class:`WorkerSignals`."""

    def __init__(self, fn: Callable[[OpContext], Any]) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self.fn = fn
        self.signals = WorkerSignals()
        self.ctx = OpContext(self.signals)

    def run(self) -> None:  # noqa: D102 - Qt virtual
        self.ctx.thread_id = threading.get_ident()
        try:
            out = self.fn(self.ctx)
            if inspect.isgenerator(out):
                out = self._drive(out)
            # NOTE: no cancel check here: work that finished (a committed import, a written file)
            # is reported as done even when Cancel was pressed a moment too late.
        except BaseException as exc:  # noqa: BLE001 - every failure goes to the GUI
            self.signals.error.emit(exc)
        else:
            self.signals.result.emit(out)
        finally:
            self.signals.finished.emit()

    def _drive(self, gen: Iterator[Any]) -> Any:
        while True:
            if self.ctx.cancelled:
                gen.close()
                raise Cancelled("Cancelled.")
            try:
                item = next(gen)
            except StopIteration as stop:
                return stop.value
            parts = _progress_parts(item)
            if parts is not None:
                self.ctx.progress(*parts)


class Op(QObject):
    """One background operation with GUI-thread callbacks. Build it with :func:`run_op`."""

    def __init__(self, parent: QWidget | None, fn: Callable[[OpContext], Any], *, writer: bool = True) -> None:
        super().__init__()
        self._parent = parent
        self._writer = writer
        self.worker = Worker(fn)
        self._on_success: Callable[[Any], None] | None = None
        self._on_failure: Callable[[BaseException], None] | None = None
        self._on_finished: list[Callable[[], None]] = []
        self._progress_label: str | None = None
        self._cancellable = True
        self._dialog: QProgressDialog | None = None
        self._last_progress: tuple[int, int, str] | None = None
        self.done = False
        self.result: Any = None
        self.exception: BaseException | None = None
        s = self.worker.signals
        s.result.connect(self._on_result)
        s.error.connect(self._on_error)
        s.progress.connect(self._on_progress)
        s.finished.connect(self._on_done)

    # -- fluent configuration ---------------------------------------------------------------

    def on_success(self, cb: Callable[[Any], None]) -> Op:
        self._on_success = cb
        return self

    def on_failure(self, cb: Callable[[BaseException], None]) -> Op:
        """Replaces the default failure handler (:func:`show_exception`)."""
        self._on_failure = cb
        return self

    def on_finished(self, cb: Callable[[], None]) -> Op:
        """Runs after success or failure (e.g. to re-enable buttons)."""
        self._on_finished.append(cb)
        return self

    def with_progress(self, label: str, *, cancellable: bool = True) -> Op:
        """Shows a progress dialog if the operation outlasts :data:`PROGRESS_DELAY_MS`."""
        self._progress_label = label
        self._cancellable = cancellable
        return self

    def start(self) -> Op:
        _live.add(self)
        if self._progress_label is not None:
            QTimer.singleShot(PROGRESS_DELAY_MS, self._show_dialog)
        pool = writer_pool() if self._writer else QThreadPool.globalInstance()
        pool.start(self.worker)
        return self

    # -- control ----------------------------------------------------------------------------

    @property
    def signals(self) -> WorkerSignals:
        return self.worker.signals

    @property
    def context(self) -> OpContext:
        return self.worker.ctx

    @property
    def progress_dialog(self) -> QProgressDialog | None:
        return self._dialog

    def cancel(self) -> None:
        """Asks the operation to stop; it ends with :class:`Cancelled` (shown nowhere)."""
        self.worker.ctx.cancel_event.set()

    # -- GUI-thread slots ----------------------------------------------------------------------

    def _parent_alive(self) -> bool:
        return self._parent is None or shiboken6.isValid(self._parent)

    def _show_dialog(self) -> None:
        if self.done or self._progress_label is None:
            return
        parent = self._parent if self._parent_alive() else None
        dlg = QProgressDialog(parent)
        dlg.setWindowTitle(tr("Please wait"))
        dlg.setLabelText(self._progress_label)
        dlg.setMinimumDuration(0)
        dlg.setAutoClose(False)
        dlg.setAutoReset(False)
        if self._cancellable:
            dlg.setCancelButtonText(tr("Cancel"))
            dlg.canceled.connect(self.cancel)
        else:
            dlg.setCancelButton(None)
        dlg.setRange(0, 0)
        if self._last_progress:
            self._apply_progress(dlg, *self._last_progress)
        self._dialog = dlg
        dlg.show()

    def _apply_progress(self, dlg: QProgressDialog, done: int, total: int, label: str) -> None:
        if total > 0:
            dlg.setRange(0, total)
            dlg.setValue(min(done, total))
        base = self._progress_label or ""
        dlg.setLabelText(f"{base}\n{done:,} / {total:,}" if total > 0 else base)
        _ = label  # NOTE: labels from the core are English; the dialog keeps the translated one

    @Slot(int, int, str)
    def _on_progress(self, done: int, total: int, label: str) -> None:
        self._last_progress = (done, total, label)
        if self._dialog is not None:
            self._apply_progress(self._dialog, done, total, label)

    @Slot(object)
    def _on_result(self, value: object) -> None:
        self.result = value
        if self._on_success is not None and self._parent_alive():
            self._on_success(value)

    @Slot(object)
    def _on_error(self, exc: object) -> None:
        assert isinstance(exc, BaseException)
        self.exception = exc
        if not isinstance(exc, Cancelled):
            from nap_desktop.log import safe_traceback

            logger.info("operation failed: %s", type(exc).__name__)
            if not isinstance(exc, Exception) or not _is_user_facing(exc):
                logger.error("unexpected error in a background operation\n%s", safe_traceback(exc))
        if not self._parent_alive():
            return
        if self._on_failure is not None:
            self._on_failure(exc)
        else:
            from nap_desktop.ui.errors import show_exception

            show_exception(parent=self._parent, exc=exc)

    @Slot()
    def _on_done(self) -> None:
        self.done = True
        dialog, self._dialog = self._dialog, None
        try:
            # NOTE: the dialog is a child of the parent, which a success callback may already have
            # deleted (the sign-in window, once unlocked): then the dialog went with it.
            if dialog is not None and shiboken6.isValid(dialog):
                dialog.close()
                dialog.deleteLater()
            if self._parent_alive():
                for cb in self._on_finished:
                    cb()
        finally:
            _live.discard(self)  # else busy() stays True and the idle lock waits for ever


def _is_user_facing(exc: BaseException) -> bool:
    from nap_desktop.errors import UserFacingError

    return isinstance(exc, UserFacingError)


def run_op(parent: QWidget | None, fn: Callable[[OpContext], Any], *, writer: bool = True) -> Op:
    """Prepares ``fn(op_context)`` to run in the background; call ``.start()`` on the result.

    Args:
        parent: The widget the callbacks belong to (they are skipped once it is destroyed).
        fn: The work. Runs on a pool thread: never touch widgets in it.
        writer: Run on the single-writer pool (default) or, for pure reads, the global pool.
    """
    return Op(parent, fn, writer=writer)
