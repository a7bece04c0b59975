# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared fixtures. Tests outside tests/ui never create a QApplication."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn

import pytest

from nap_desktop.security import throttle
from nap_desktop.security.crypto import KdfParams

# Argon2id at the production cost takes ~120 ms per unlock; most tests use a cheap setting.
FAST_KDF = KdfParams(memory_cost=8 * 1024, iterations=1, lanes=1)
ADMIN = "admin"
ADMIN_PW = "Key-Holder-2026!"
PASSWORDS = {
    "officer": "Officer-Pass-2026!",
    "head": "CircleHead-Pass-26!",
    "analyst": "Analyst-Pass-2026!",
    "auditor": "Auditor-Pass-2026!",
    "admin2": "Second-Admin-26!",
}


def require_program(name: str) -> str:
    """Returns the path of a peer program. Missing: a failure in CI (CI=true), a skip elsewhere."""
    path = shutil.which(name)
    if path:
        return path
    missing_peer(f"the peer program {name!r} is not installed (apt-get install {name}); .ci/run installs it")


def missing_peer(message: str) -> NoReturn:
    """A peer (program, file, service) a test needs is missing: a failure in CI, a skip elsewhere."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test touches the real user data folder, the real clock of the throttle, or NAP_* vars."""
    for var in ("NAP_WORKSPACE", "NAP_USER", "NAP_RESOURCES"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    monkeypatch.setattr(throttle, "clock", throttle.clock)


@pytest.fixture
def make_workspace(tmp_path: Path) -> Callable[..., Path]:
    """Creates a workspace (fast KDF) and returns its folder."""
    from nap_desktop.services.workspace import init_workspace

    counter = iter(range(1000))

    def _make(site_kind: str = "circle", unit: str = "C-PSH", **kw: object) -> Path:
        path = tmp_path / f"ws{next(counter)}"
        init_workspace(path, site_kind=site_kind, unit=unit, admin=ADMIN, admin_password=ADMIN_PW, kdf=FAST_KDF, **kw)  # type: ignore[arg-type]
        return path

    return _make


@pytest.fixture
def workspace(make_workspace: Callable[..., Path]) -> Path:
    """A circle workspace (Peshawar AHTC) with only its administrator."""
    return make_workspace()


@pytest.fixture
def admin_ws(workspace: Path) -> Iterator[object]:
    """The workspace unlocked by its administrator; locked again after the test."""
    from nap_desktop.services.workspace import open_workspace

    ws = open_workspace(workspace, ADMIN, ADMIN_PW)
    yield ws
    ws.lock()
