# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers of the HQ tests: an HQ with enrolled posts, and the intake server as a real process."""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from nap_desktop.services import link, sync, users
from nap_desktop.services.context import Workspace
from nap_desktop.services.workspace import init_workspace, open_workspace
from tests.conftest import ADMIN, ADMIN_PW, FAST_KDF, PASSWORDS
from tests.pgcluster import free_port

ANALYST = "ana.hq"
ANALYST_PW = PASSWORDS["analyst"]
RECOVERY_PASSPHRASE = "National-Recovery-2026!"
POSTS = (
    "P-TORKHAM", "P-ISB-AIR", "P-LHE-AIR", "P-WAGAH", "P-KHI-AIR", "P-KHI-PORT", "P-PEW-AIR", "P-CHAMAN", "P-TAFTAN", "P-GWD-PORT",
    "P-SOST", "P-SKT-AIR", "P-MUX-AIR", "P-UET-AIR", "P-KHOKHRAPAR", "P-ISB-DEP", "P-LHE-DEP", "P-LYP-AIR", "P-KARTARPUR", "P-DEA-AIR",
    "P-RYK-AIR", "P-KHI-DEP", "P-QASIM-PORT", "P-PEW-DEP", "P-KHARLACHI", "P-GHULAM-KHAN", "P-ANGOOR-ADDA", "P-TAFTAN-DEP", "P-GWD-AIR",
    "P-GABD", "P-TUK-AIR",
)


@dataclass
class Net:
    """HQ (closed: the server process opens it) and field posts (open, signed in by their admin)."""

    root: Path
    hq: Path
    posts: list[Workspace] = field(default_factory=list)  # signed in by the post's administrator
    officers: list[Workspace] = field(default_factory=list)  # the same stores, seen by the post's officer

    def hq_ws(self, user: str = ANALYST) -> Workspace:
        return open_workspace(self.hq, user, ANALYST_PW if user == ANALYST else ADMIN_PW)

    def close(self) -> None:
        for p in self.posts:
            p.lock()


def view(ws: Workspace, username: str) -> Workspace:
    """The same unlocked store seen by another account (no second unlock: one lock per folder)."""
    v = copy.copy(ws)
    v.user = next(u for u in users.list_users(ws) if u.username == username)
    return v


def make_hq(root: Path, *, db_url: str | None = None) -> Path:
    path = root / "hq"
    init_workspace(
        path, site_kind="hq", unit="HQ", admin=ADMIN, admin_password=ADMIN_PW, kdf=FAST_KDF,
        recovery_identity_out=root / "hq-recovery.age", recovery_passphrase=RECOVERY_PASSPHRASE, db_url=db_url,
    )
    ws = open_workspace(path, ADMIN, ADMIN_PW)
    try:
        users.add_user(ws, username=ANALYST, full_name="HQ analyst", role="hq_analyst", unit="HQ", password=ANALYST_PW, case_access=True, must_change_password=False)
    finally:
        ws.lock()
    return path


def make_net(root: Path, n_posts: int, *, db_url: str | None = None, server_url: str = "") -> Net:
    """HQ and ``n_posts`` posts, each enrolled with HQ (files carried by hand, as on a USB stick)."""
    net = Net(root, make_hq(root, db_url=db_url))
    hq = open_workspace(net.hq, ADMIN, ADMIN_PW)
    try:
        recovery = hq.wf.recovery.recipient if hq.wf.recovery else None
        for unit in POSTS[:n_posts]:
            path = root / unit.lower()
            init_workspace(path, site_kind="post", unit=unit, admin=ADMIN, admin_password=ADMIN_PW, kdf=FAST_KDF, recovery_recipient=recovery)
            ws = open_workspace(path, ADMIN, ADMIN_PW)
            req = sync.enrol_request(ws, root / "usb")
            resp = sync.enrol_approve(hq, req.path, out_dir=root / "usb")
            sync.enrol_accept(ws, resp.path, expected_fingerprint=resp.root_fingerprint)
            if server_url:
                link.set_settings(ws, server_url=server_url)
            officer = users.add_user(ws, username="off.post", full_name="Officer", role="officer", unit=unit, password=PASSWORDS["officer"], must_change_password=False)
            view = copy.copy(ws)
            view.user = officer
            net.posts.append(ws)
            net.officers.append(view)
    finally:
        hq.lock()
    return net


class ServerProcess:
    """``nap-desktop hq serve`` in a child process, signed in with --password-stdin."""

    def __init__(
        self, workspace: Path, *, port: int | None = None, user: str = ANALYST, password: str = ANALYST_PW, args: tuple[str, ...] = (), ca_file: Path | None = None
    ) -> None:
        self.workspace, self.user, self.password = workspace, user, password
        self.port = port or free_port()
        self.args = args
        self.ca_file = ca_file  # set when the server listens with TLS (args give --tls-cert/--tls-key)
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = workspace.parent / f"server-{self.port}.log"

    @property
    def url(self) -> str:
        return f"{'https' if self.ca_file else 'http'}://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> ServerProcess:
        cmd = [
            sys.executable, "-m", "nap_desktop", "hq", "serve", "--workspace", str(self.workspace), "--user", self.user,
            "--password-stdin", "--listen", f"127.0.0.1:{self.port}", "--import-interval", "0.5", *self.args,
        ]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT, env=env)
        assert self.proc.stdin is not None
        self.proc.stdin.write(self.password.encode() + b"\n")
        self.proc.stdin.close()
        wait_healthy(self.url, timeout, self.proc, ca_file=self.ca_file)
        return self

    def stop(self) -> int:
        """SIGTERM (a graceful stop); returns the exit code."""
        if self.proc is None:
            return 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(60)
        finally:
            self.proc = None

    def kill(self) -> None:
        """SIGKILL: the server dies wherever it is."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(30)
            self.proc = None

    def output(self) -> str:
        return self.log.read_text("utf-8", errors="replace") if self.log.exists() else ""


def wait_healthy(url: str, timeout: float, proc: subprocess.Popen[bytes] | None = None, *, ca_file: Path | None = None) -> dict[str, object]:
    import ssl

    context = ssl.create_default_context(cafile=str(ca_file)) if ca_file else None
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/v1/health", timeout=5, context=context) as resp:
                doc = json.loads(resp.read())
                if doc.get("status") == "ok":
                    return doc
        except Exception as exc:  # noqa: BLE001 - not up yet
            last = exc
        time.sleep(0.1)
    raise TimeoutError(f"the server at {url} did not become healthy: {last!r}")
