# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures of the HQ tests: a throwaway PostgreSQL cluster (one per session, a new database per test)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from tests.conftest import missing_peer, require_program
from tests.pgcluster import PgCluster, start_cluster


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """A PostgreSQL cluster on a Unix socket in a temporary folder, stopped after the session."""
    import os

    initdb, pg_ctl = require_program("initdb"), require_program("pg_ctl")
    runuser = require_program("runuser") if os.geteuid() == 0 else None
    try:
        cluster = start_cluster(initdb, pg_ctl, runuser)
    except subprocess.CalledProcessError as exc:
        missing_peer(f"a PostgreSQL cluster could not be started ({exc.cmd[0]} failed): {exc.stderr.decode(errors='replace')[-300:]}")
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(pg_cluster: PgCluster) -> str:
    """The URL of a new, empty database for one test."""
    return pg_cluster.create_database()
