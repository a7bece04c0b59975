# SPDX-License-Identifier: GPL-3.0-or-later
"""Schema versions: Alembic migrations run from code, a backup first, newer schemas refused.

Revisions are numbered ``0001``, ``0002``, … so that a store written by a newer release (a
revision this build does not know, with a higher number) is told apart from a damaged one.
One history serves SQLite/SQLCipher and PostgreSQL.
"""

from __future__ import annotations

import functools
import logging
import shutil
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from nap_desktop.errors import SchemaTooNew, WorkspaceCorrupt

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str:
    """The newest schema revision this build knows."""
    return _revisions()[-1]


@functools.cache
def _revisions() -> tuple[str, ...]:
    script = ScriptDirectory.from_config(_config())
    return tuple(rev.revision for rev in reversed(list(script.walk_revisions())))


def known_revisions() -> list[str]:
    """All revisions of this build, oldest first (read once per process: they ship with it)."""
    return list(_revisions())


def current_revision(engine: Engine) -> str | None:
    """The store's revision, or ``None`` for an empty store."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def check_revision(current: str | None) -> bool:
    """Returns whether an upgrade is needed.

    Raises:
        SchemaTooNew: The store was written by a newer NAP Desktop.
        WorkspaceCorrupt: The revision is unknown and not a newer number.
    """
    known = known_revisions()
    head = known[-1]
    if current is None:
        return True
    if current in known:
        return current != head
    if current.isdigit() and head.isdigit() and int(current) > int(head):
        raise SchemaTooNew(
            f"This workspace was saved by a newer version of NAP Desktop (schema {current}; this "
            f"version knows up to {head}). Install the newer version to open it; nothing was changed."
        )
    raise WorkspaceCorrupt(f"The data store has an unknown schema version ({current[:16]!r}). Restore it from a backup.")


def upgrade(engine: Engine, *, backup_of: Path | None = None, backup_dir: Path | None = None) -> list[str]:
    """Brings the store to the newest schema, in one transaction.

    Args:
        engine: The store's engine (key already set).
        backup_of: The store file to copy into ``backup_dir`` before changing an existing schema.
        backup_dir: Where that copy goes.

    Returns:
        The revisions applied (empty if the store was current).
    """
    current = current_revision(engine)
    if not check_revision(current):
        return []
    known = known_revisions()
    pending = known if current is None else known[known.index(current) + 1 :]
    if current is not None and backup_of is not None and backup_dir is not None:
        backup_path = backup_store(engine, backup_of, backup_dir, label=f"pre-upgrade-{current}")
        logger.info("backed up store before upgrade to %s", backup_path.name)
    cfg = _config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    logger.info("schema upgraded from %s through %s", current, pending[-1])
    return pending


def backup_store(engine: Engine, store: Path, backup_dir: Path, *, label: str) -> Path:
    """Copies the (encrypted) store file after folding the WAL into it. The copy stays encrypted."""
    backup_dir.mkdir(parents=True, exist_ok=True)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = backup_dir / f"store-{label}-{stamp}.db"
    tmp = target.with_suffix(".db.tmp")
    shutil.copyfile(store, tmp)
    tmp.replace(target)
    return target
