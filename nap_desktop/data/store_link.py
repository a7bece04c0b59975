# SPDX-License-Identifier: GPL-3.0-or-later
"""Where a workspace keeps its store: ``store.db`` (SQLCipher), or a PostgreSQL database (HQ).

A field workspace, and an HQ that chooses so, keeps everything in ``store.db`` beside
``workspace.json``, encrypted with the data key (DESIGN §3). An HQ workspace created with
``--db postgresql+psycopg://…`` instead keeps its store in that database and names it in
``store.json`` (format ``nap-store/1``) in the workspace folder. Everything else stays as it is:
``workspace.json`` with the per-user wraps of the data key (signing in still proves the password),
the same migrations, services, audit chain and import pipeline.

The key model on PostgreSQL, plainly: SQLCipher's encryption at rest does not apply. Encryption at
rest of a PostgreSQL store is the database server's (an encrypted volume), access is the server's
(roles, ``pg_hba.conf``, TLS), and backups are ``pg_dump``'s. The data key still protects
``workspace.json`` and the recovery escrow, and the audit chain still detects edited, deleted or
reordered entries. Personal identity columns are stored as they are in SQLCipher (no extra column
encryption), so anyone with database access sees them: grant it to the NAP service role only.
The same holds for the ``sync_keys`` table: HQ's registry root key, its device signing key, age
identities and the match-token key are readable by whoever can read the database (on SQLCipher the
data key covers them). Reading rights on this database are therefore as sensitive as those keys.

``store.json`` holds no password: the password comes from libpq's usual places (``~/.pgpass``,
``PGPASSFILE``, ``PGPASSWORD``) or a client certificate. The store itself is checked on every
unlock to belong to this workspace (its ``meta.workspace_id``), so pointing ``store.json`` at
another database is refused.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from nap_desktop import config
from nap_desktop.data.db import KeyHolder, check_store, make_engine, make_pg_engine
from nap_desktop.errors import ConfigError, StoreUnavailable, WorkspaceCorrupt
from nap_desktop.security.crypto import atomic_write

LINK_FILE = "store.json"
FORMAT = "nap-store/1"
DRIVER = "postgresql+psycopg"


def check_url(url: str) -> str:
    """Checks a PostgreSQL URL given at ``init --db`` and returns it in canonical form.

    Raises:
        ConfigError: not a PostgreSQL URL, no database name, or a password in it.
    """
    try:
        u = make_url(url)
    except ArgumentError:
        raise ConfigError("The database address is not a valid URL (postgresql+psycopg://user@host:port/database).") from None
    if u.drivername in ("postgresql", "postgres", "postgresql+psycopg"):
        u = u.set(drivername=DRIVER)
    else:
        raise ConfigError("Only PostgreSQL is supported as an external store: postgresql+psycopg://user@host:port/database.")
    if u.password:
        raise ConfigError(
            "Do not put the database password in the URL: it would be kept in clear in store.json. "
            "Use ~/.pgpass, PGPASSFILE or a client certificate instead."
        )
    if not u.database:
        raise ConfigError("The database address names no database (…/database at the end).")
    return u.render_as_string(hide_password=False)


def describe(url: str) -> str:
    """``host:port/database`` for messages and logs (no user, no options)."""
    u = make_url(url)
    host = u.host or u.query.get("host") or "local socket"
    return f"{host}{':' + str(u.port) if u.port else ''}/{u.database}"


def read(path: Path) -> str | None:
    """The PostgreSQL URL of the workspace at ``path``, or ``None`` for a ``store.db`` workspace."""
    f = Path(path) / LINK_FILE
    if not f.exists():
        return None
    try:
        doc = json.loads(f.read_text("utf-8"))
        if doc.get("format") != FORMAT or not isinstance(doc.get("url"), str):
            raise ValueError
        return check_url(doc["url"])
    except (OSError, UnicodeDecodeError, ValueError, AttributeError, ConfigError):
        raise WorkspaceCorrupt(f"{LINK_FILE} in the workspace is damaged. Restore it from the HQ setup notes or a backup.") from None


def write(path: Path, url: str) -> None:
    atomic_write(Path(path) / LINK_FILE, (json.dumps({"format": FORMAT, "url": check_url(url)}, indent=1) + "\n").encode(), mode=0o600)


def is_postgres(path: Path) -> bool:
    return (Path(path) / LINK_FILE).exists()


def open_engine(path: Path, dek: bytes | bytearray | None) -> tuple[Engine, KeyHolder]:
    """The engine of the workspace's store, wherever it is."""
    url = read(path)
    if url is None:
        return make_engine(Path(path) / config.STORE_FILE, dek)
    return make_pg_engine(url)


def check(path: Path, dek: bytes | bytearray | None) -> None:
    """Tells early that the store cannot be opened: a wrong key (SQLCipher) or no database (PostgreSQL).

    Raises:
        WorkspaceCorrupt: ``store.db`` is missing, damaged or has another key.
        StoreUnavailable: the PostgreSQL server cannot be reached or refuses this computer.
    """
    url = read(path)
    if url is None:
        check_store(Path(path) / config.STORE_FILE, dek)
        return
    engine, _ = make_pg_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except (DBAPIError, SQLAlchemyError):
        raise StoreUnavailable(
            f"The HQ database ({describe(url)}) cannot be reached or refuses this computer. "
            "Check that PostgreSQL runs, that this computer may connect (pg_hba.conf) and the password in ~/.pgpass."
        ) from None
    finally:
        engine.dispose()


def ensure_empty(url: str) -> None:
    """Refuses a database that already holds tables (another workspace's store, or anything else)."""
    engine, _ = make_pg_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            tables = inspect(conn).get_table_names()
    except (DBAPIError, SQLAlchemyError):
        raise StoreUnavailable(
            f"The database {describe(url)} cannot be reached. Create it first (createdb) and check that this computer may connect."
        ) from None
    finally:
        engine.dispose()
    if tables:
        from nap_desktop.errors import WorkspaceExists

        raise WorkspaceExists(f"The database {describe(url)} is not empty. Give a new, empty database to the HQ workspace.")


def drop_schema(url: str) -> None:
    """Removes what a failed ``init`` created in a database that was empty before (best effort)."""
    from nap_desktop.data.models import Base

    engine, _ = make_pg_engine(url, pool_size=1)
    try:
        with engine.begin() as conn:
            # the PostgreSQL-only objects of the migrations first (0012, 0013: report chains and their triggers)
            conn.execute(text("DROP TABLE IF EXISTS report_chain_rows, report_cells, report_case_keys, report_case_tokens, report_chains, report_touched CASCADE"))
            conn.execute(
                text(
                    "DO $$ DECLARE f record; BEGIN FOR f IN SELECT p.oid::regprocedure AS sig FROM pg_proc p "
                    "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = current_schema() AND p.proname LIKE 'report\\_%' "
                    "LOOP EXECUTE 'DROP FUNCTION ' || f.sig || ' CASCADE'; END LOOP; END $$"
                )
            )
            Base.metadata.drop_all(conn)
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    except (DBAPIError, SQLAlchemyError):
        pass
    finally:
        engine.dispose()
