# SPDX-License-Identifier: GPL-3.0-or-later
"""The only place that builds a database engine.

The field store is SQLCipher (``sqlcipher3``), keyed with the 32-byte data key as a *raw* key
(``PRAGMA key = "x'…'"``), so SQLCipher does not run its own KDF on every connection. Every
connection gets ``foreign_keys=ON``, WAL, ``synchronous=FULL`` and ``temp_store=MEMORY``: with
SQLCipher, temporary tables and sort spills would otherwise reach the disk unencrypted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlcipher3
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from nap_desktop.errors import WorkspaceCorrupt

logger = logging.getLogger(__name__)

DBAPIError = sqlcipher3.dbapi2.DatabaseError
BUSY_TIMEOUT_MS = 10_000  # how long a connection waits for another's write lock


class KeyHolder:
    """Holds the data key for the connection factory; :meth:`drop` wipes it (idle lock)."""

    def __init__(self, key: bytes | bytearray | None) -> None:
        self._key: bytearray | None = bytearray(key) if key is not None else None
        self.encrypted = key is not None

    def pragma(self) -> str:
        if self._key is None:
            raise RuntimeError("the data key was dropped: the workspace is locked")
        return f"PRAGMA key = \"x'{self._key.hex()}'\""

    def drop(self) -> None:
        if self._key is not None:
            for i in range(len(self._key)):
                self._key[i] = 0
        self._key = None


def _connect(path: Path, keys: KeyHolder) -> Any:
    conn = sqlcipher3.dbapi2.connect(str(path), check_same_thread=False, isolation_level=None, timeout=10)
    try:
        if keys.encrypted:
            conn.execute(keys.pragma())
            version = conn.execute("PRAGMA cipher_version").fetchone()
            if not version or not version[0]:
                raise RuntimeError("the SQLite library in use is not SQLCipher; refusing to write clear data")
        # Reading the schema is the first access that needs the key: a wrong key fails here.
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        # NOTE: 64 MiB of page cache keeps decrypted pages for aggregates (SQLCipher decrypts and
        # HMAC-checks each page it reads); shrink_memory() gives it back after heavy queries.
        conn.execute("PRAGMA cache_size = -65536")
    except BaseException:
        conn.close()
        raise
    return conn


def check_store(path: Path, key: bytes | bytearray | None) -> None:
    """Opens ``store.db`` once with ``key`` to tell a wrong key or a damaged file early.

    Raises:
        WorkspaceCorrupt: The file is missing, is not a database, or the key does not fit it.
    """
    if not path.is_file():
        raise WorkspaceCorrupt(
            f"The data store {path.name} is missing from the workspace. Restore the workspace from a backup."
        )
    holder = KeyHolder(key)
    try:
        conn = _connect(path, holder)
        conn.close()
    except DBAPIError:
        raise WorkspaceCorrupt(
            "The data store cannot be opened with this workspace's key: it is damaged or belongs to "
            "another workspace. Restore it from a backup."
        ) from None
    finally:
        holder.drop()


def make_engine(path: Path, key: bytes | bytearray | None) -> tuple[Engine, KeyHolder]:
    """Builds the engine for ``store.db``.

    Args:
        path: The database file.
        key: The raw 32-byte data key, or ``None`` for a plain (unencrypted) SQLite file, used
            only by benchmarks as the baseline.

    Returns:
        The engine and the holder whose :meth:`KeyHolder.drop` wipes the key.
    """
    holder = KeyHolder(key)
    creator: Callable[[], Any] = lambda: _connect(path, holder)  # noqa: E731
    # NOTE: a small pool keeps connections open between service calls: closing the last
    # connection would checkpoint the WAL every time (most of a save's cost). lock() disposes
    # the pool, which closes every connection and with it SQLCipher's copy of the key.
    engine = create_engine(
        "sqlite://", creator=creator, module=sqlcipher3.dbapi2, poolclass=QueuePool, pool_size=3, max_overflow=5
    )

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        # NOTE: pysqlite's implicit transactions start late (before the first DML); an explicit
        # BEGIN makes every service transaction atomic, DDL included (SQLAlchemy SQLite docs).
        conn.exec_driver_sql("BEGIN")

    return engine, holder


def make_pg_engine(url: str, *, pool_size: int = 10) -> tuple[Engine, KeyHolder]:
    """Builds the engine of an HQ store kept in PostgreSQL (psycopg 3).

    There is no data key here: at-rest encryption of a PostgreSQL store is the database server's
    (disk encryption, see the README). The holder returned has no key, so ``lock()`` works the
    same. Every connection works in UTC and names itself in ``pg_stat_activity``.
    """
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args={"options": "-c timezone=UTC", "application_name": "nap-desktop"},
    )
    return engine, KeyHolder(None)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """The session factory services use (``with sf.begin() as s: …``)."""
    return sessionmaker(engine, expire_on_commit=False)


def shrink_memory(session: Session) -> None:
    """Frees SQLite's page cache after heavy queries.

    NOTE: SQLCipher keeps decrypted pages in its cache; repeated GROUP BY queries slow ~4× as it
    fills (DESIGN §3), and a smaller cache also means less clear data in memory.
    """
    if session.get_bind().dialect.name == "sqlite":  # PostgreSQL manages its own buffers
        session.connection().exec_driver_sql("PRAGMA shrink_memory")
