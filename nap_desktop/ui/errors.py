# SPDX-License-Identifier: GPL-3.0-or-later
"""The one way the GUI shows an error: :func:`show_exception` (Anki's ``errors.py``).

- :class:`~nap_desktop.errors.Cancelled` is ignored: the user asked for it.
- A :class:`~nap_desktop.errors.UserFacingError` shows its own message (safe by contract), in
  Urdu when a translation or the per-field Urdu texts exist.
- Anything else is a bug: the user sees a plain apology, where the log is, and a "Copy details"
  button. The details (:func:`error_details`) are versions, exception types and code locations
  only — never exception messages or source lines, which may carry data — so nothing personal
  leaves through the clipboard. The log gets :func:`nap_desktop.log.safe_traceback`.

:func:`install_excepthook` (called by ``app.py``) routes uncaught exceptions here.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from collections.abc import Callable
from types import TracebackType

from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from nap_desktop.errors import Cancelled, LoginThrottled, UserFacingError, ValidationError
from nap_desktop.log import current_log_file, safe_traceback
from nap_desktop.ui.i18n import language, tr, tr_known

logger = logging.getLogger(__name__)


def _exec_box(box: QMessageBox) -> None:
    box.exec()


# NOTE: tests replace this to capture the box instead of blocking on exec().
present: Callable[[QMessageBox], None] = _exec_box


def user_message(exc: UserFacingError) -> str:
    """The message of a user-facing error in the UI language."""
    if language() == "ur":
        if isinstance(exc, ValidationError) and exc.fields_ur and set(exc.fields.values()) == {"hq_managed"}:
            return "\n".join(exc.fields_ur.values())  # a setting HQ decides: nothing to correct here
        if isinstance(exc, ValidationError) and exc.fields_ur:
            return tr("Please correct the marked fields:") + "\n" + "\n".join(f"• {v}" for v in exc.fields_ur.values())
        if isinstance(exc, LoginThrottled):
            return tr("Too many failed attempts. Wait {n} seconds before trying again.").format(n=int(exc.retry_after) + 1)
        return tr_known(exc.message)
    return exc.message


def show_exception(*, parent: QWidget | None, exc: BaseException) -> None:
    """Shows ``exc`` to the user the right way (see the module docstring)."""
    if isinstance(exc, Cancelled):
        return
    if isinstance(exc, UserFacingError):
        box = QMessageBox(QMessageBox.Icon.Warning, tr("NAP Desktop"), user_message(exc), QMessageBox.StandardButton.NoButton, parent)
        box.setObjectName("userErrorBox")
        box.addButton(tr("OK"), QMessageBox.ButtonRole.AcceptRole)
        present(box)
        return
    logger.error("unexpected error\n%s", safe_traceback(exc))
    details = error_details(exc)
    log = current_log_file()
    text = tr("Something went wrong. Your saved records are safe; the last action may not have finished.")
    if log is not None:
        text += "\n\n" + tr("Details were written to the log file:") + f"\n{log}"
    box = QMessageBox(QMessageBox.Icon.Critical, tr("NAP Desktop"), text, QMessageBox.StandardButton.NoButton, parent)
    box.setObjectName("internalErrorBox")
    copy = box.addButton(tr("Copy details"), QMessageBox.ButtonRole.ActionRole)
    box.addButton(tr("OK"), QMessageBox.ButtonRole.AcceptRole)
    copy.setObjectName("copyDetailsButton")
    copy.clicked.connect(lambda: QApplication.clipboard().setText(details))
    box.setDetailedText(details)
    present(box)


def error_details(exc: BaseException) -> str:
    """What "Copy details" puts on the clipboard: versions, exception types and code locations.

    NOTE: no exception messages and no source lines: a support e-mail must not carry data.
    """
    import platform
    import traceback

    from nap_desktop import __version__

    lines = [f"NAP Desktop {__version__} · Python {platform.python_version()} · {platform.system()} {platform.release()}"]
    cur: BaseException | None = exc
    seen: set[int] = set()
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        lines.append(f"{type(cur).__module__}.{type(cur).__qualname__}")
        for fr in traceback.extract_tb(cur.__traceback__):
            lines.append(f"  {Path(fr.filename).name}:{fr.lineno} in {fr.name}")
        cur = cur.__cause__ or cur.__context__
    return "\n".join(lines)


def _excepthook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, exc, tb)
        return
    if exc.__traceback__ is None and tb is not None:
        exc = exc.with_traceback(tb)
    try:
        parent = QApplication.activeWindow()
        show_exception(parent=parent, exc=exc)
    except Exception:  # noqa: BLE001 - the hook must never raise
        logger.error("error while showing an error\n%s", safe_traceback(exc))


def install_excepthook() -> None:
    """Routes uncaught exceptions (e.g. in slots) to :func:`show_exception`."""
    sys.excepthook = _excepthook
