# SPDX-License-Identifier: GPL-3.0-or-later
"""``nap-desktop backup`` on an HQ workspace whose store is PostgreSQL: a clear refusal pointing to
pg_dump, and no file written (the database is backed up by the database server's tools)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nap_desktop.errors import BackupError
from nap_desktop.services.backup import last_backup, make_backup
from nap_desktop.services.workspace import open_workspace
from tests.conftest import ADMIN, ADMIN_PW
from tests.hq.netutil import make_hq


def test_backup_of_a_postgres_store_is_refused_with_what_to_do(tmp_path: Path, pg_url: str) -> None:
    path = make_hq(tmp_path, db_url=pg_url)
    ws = open_workspace(path, ADMIN, ADMIN_PW)
    try:
        with pytest.raises(BackupError, match="PostgreSQL: back the database up with pg_dump"):
            make_backup(ws, out=tmp_path / "hq.napbak", passphrase="Backup-Passphrase-2026!")
        assert last_backup(ws) is None
    finally:
        ws.lock()
    assert not (tmp_path / "hq.napbak").exists()
    assert list((path / "backups").iterdir()) == []
