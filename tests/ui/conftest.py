# SPDX-License-Identifier: GPL-3.0-or-later
"""GUI test fixtures: offscreen Qt, isolated settings, workspaces with one account per role.

``QT_QPA_PLATFORM=offscreen`` is set here, before anything imports Qt.
"""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"

import shutil  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication, QMessageBox  # noqa: E402

from tests.conftest import ADMIN, ADMIN_PW, FAST_KDF  # noqa: E402

PASSWORDS = {
    "officer": "Torkham-Duty-2026!",
    "head": "Peshawar-Circle-26!",
    "auditor": "Audit-Trail-2026!",
    "analyst": "National-Figures-26!",
}

HQ_RECOVERY_PASSPHRASE = "Recovery-Pass-2026!"


def _build_circle(path: Path) -> Path:
    from nap_desktop.services.users import add_user
    from nap_desktop.services.workspace import init_workspace, unlocked

    init_workspace(path, site_kind="circle", unit="C-PSH", admin=ADMIN, admin_password=ADMIN_PW, admin_full_name="Circle Admin", kdf=FAST_KDF)
    with unlocked(path, ADMIN, ADMIN_PW) as ws:
        for name, role, unit, full in (
            ("officer", "officer", "P-TORKHAM", "Torkham Officer"),
            ("head", "circle_head", "C-PSH", "Circle Head"),
            ("auditor", "auditor", "C-PSH", "Circle Auditor"),
        ):
            add_user(ws, username=name, full_name=full, role=role, unit=unit, password=PASSWORDS[name], must_change_password=False)
    return path


def _build_hq(path: Path, tmp: Path) -> Path:
    from nap_desktop.services.users import add_user
    from nap_desktop.services.workspace import init_workspace, unlocked

    init_workspace(
        path,
        site_kind="hq",
        unit="HQ",
        admin=ADMIN,
        admin_password=ADMIN_PW,
        recovery_identity_out=tmp / "hq-recovery.age",
        recovery_passphrase=HQ_RECOVERY_PASSPHRASE,
        kdf=FAST_KDF,
    )
    with unlocked(path, ADMIN, ADMIN_PW) as ws:
        add_user(ws, username="head", full_name="Circle Head", role="circle_head", unit="C-PSH", password=PASSWORDS["head"], must_change_password=False)
        add_user(ws, username="analyst", full_name="HQ Analyst", role="hq_analyst", unit="HQ", password=PASSWORDS["analyst"], must_change_password=False)
    return path


@pytest.fixture(scope="session")
def _masters(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("masters")
    return {"circle": _build_circle(root / "circle"), "hq": _build_hq(root / "hq", root)}


@pytest.fixture
def circle_path(_masters: dict[str, Path], tmp_path: Path) -> Path:
    """A circle workspace (Peshawar AHTC): admin, officer (Torkham post), head, auditor."""
    dst = tmp_path / "circle"
    shutil.copytree(_masters["circle"], dst)
    return dst


@pytest.fixture
def hq_path(_masters: dict[str, Path], tmp_path: Path) -> Path:
    """An HQ workspace: admin, a circle head of Peshawar and an HQ analyst (no case access)."""
    dst = tmp_path / "hq"
    shutil.copytree(_masters["hq"], dst)
    return dst


@pytest.fixture(scope="session", autouse=True)
def _gui_thread_gc(qapp: QApplication) -> Iterator[None]:
    """Garbage collection on the GUI thread only, as in the application (see ``qt_compat``)."""
    from nap_desktop.ui.qt_compat import GuiThreadGarbageCollector

    global _collector
    _collector = GuiThreadGarbageCollector()
    yield
    _collector.stop()


_collector: Any = None


@pytest.fixture(autouse=True)
def _ui_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qapp: QApplication) -> Iterator[list[QMessageBox]]:
    """Isolated QSettings, English UI, message boxes captured instead of shown."""
    from nap_desktop.ui import errors, i18n, workers

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "qsettings"))
    i18n.set_language("en")
    shown: list[QMessageBox] = []
    monkeypatch.setattr(errors, "present", shown.append)
    yield shown
    workers.cancel_all()
    workers.wait_for_workers(30_000)
    qapp.processEvents()
    windows = QApplication.topLevelWidgets()
    for w in windows:
        if hasattr(w, "_discard"):
            w._discard = True  # noqa: SLF001 - forms close without asking at teardown
        if hasattr(w, "_quitting"):
            w._quitting = True  # noqa: SLF001
    for w in windows:
        w.close()
        w.deleteLater()
    qapp.processEvents()
    if _collector is not None:
        _collector.check()  # on the GUI thread, between tests
    i18n.set_language("en")


@pytest.fixture
def shown_boxes(_ui_env: list[QMessageBox]) -> list[QMessageBox]:
    """Message boxes that ``show_exception`` presented during the test."""
    return _ui_env


@pytest.fixture
def open_ws() -> Iterator[Callable[..., Any]]:
    """Unlocks a workspace for a user; every one opened is locked after the test."""
    from nap_desktop.services.workspace import open_workspace

    opened: list[Any] = []

    def _open(path: Path, user: str, password: str | None = None) -> Any:
        ws = open_workspace(path, user, password or (ADMIN_PW if user == ADMIN else PASSWORDS[user]))
        opened.append(ws)
        return ws

    yield _open
    for ws in opened:
        ws.lock()
