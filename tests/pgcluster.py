# SPDX-License-Identifier: GPL-3.0-or-later
"""A throwaway PostgreSQL cluster for tests and benchmarks (DESIGN §8).

``initdb`` makes a cluster in a temporary folder, ``pg_ctl`` starts it on a free loopback-only
setup (a Unix socket in that folder; no TCP listener), and :meth:`PgCluster.stop` stops it and
removes the folder. When run as root, both programs run as the ``postgres`` user (PostgreSQL
refuses to run as root). Nothing here imports pytest: the benchmarks use it too; tests call it
through a fixture that turns a missing program into ``missing_peer``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(cmd: list[str], runuser: str | None) -> list[str]:
    if os.geteuid() == 0:
        if runuser is None:
            raise RuntimeError("running as root needs runuser to start PostgreSQL as the postgres user")
        return [runuser, "-u", "postgres", "--", *cmd]
    return cmd


@dataclass
class PgCluster:
    """A running cluster: ``url(db)`` gives a SQLAlchemy URL (psycopg 3) for a database in it."""

    root: Path
    port: int
    pg_ctl: str
    runuser: str | None

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def sock(self) -> Path:
        return self.root / "sock"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@/{database}?host={self.sock}&port={self.port}"

    def create_database(self, prefix: str = "nap") -> str:
        """A new empty database; returns its URL."""
        import psycopg

        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(host=str(self.sock), port=self.port, user="postgres", dbname="postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        subprocess.run(_as_postgres([self.pg_ctl, "-D", str(self.data), "-m", "immediate", "stop"], self.runuser), capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)


def start_cluster(initdb: str, pg_ctl: str, runuser: str | None = None, *, fsync: bool = False) -> PgCluster:
    """Initialises and starts a cluster; raises ``subprocess.CalledProcessError`` if it cannot.

    ``fsync=False`` (tests) trades durability after an OS crash for speed; benchmarks pass True
    so that PostgreSQL commits cost what they cost in production.
    """
    root = Path(tempfile.mkdtemp(prefix="nap-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sock, "postgres")
    port = free_port()
    try:
        subprocess.run(
            _as_postgres([initdb, "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8", "--locale", "C"], runuser),
            check=True,
            capture_output=True,
        )
        opts = f"-p {port} -k {sock} -c listen_addresses='' -c max_connections=200"
        if not fsync:
            opts += " -c fsync=off -c synchronous_commit=off"
        subprocess.run(
            _as_postgres([pg_ctl, "-D", str(data), "-o", opts, "-w", "-l", str(root / "log"), "start"], runuser),
            check=True,
            capture_output=True,
        )
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return PgCluster(root, port, pg_ctl, runuser)
