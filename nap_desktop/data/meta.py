# SPDX-License-Identifier: GPL-3.0-or-later
"""Rows of the ``meta`` table, and inserts that may meet a row another process just wrote.

On PostgreSQL several processes share one HQ store (intake servers, importers, an analyst's
desktop). A "read the row; add it if missing" written naively lets two of them both find it
missing and both insert: the second commit fails on the primary key (a first-use key or setting
made at the same moment by two processes), or, for a row read and then rewritten, the last writer
silently wins. So here:

- :func:`lock_meta` makes the row if it is missing with ``INSERT … ON CONFLICT DO NOTHING`` (the
  loser of a race inserts nothing and goes on), then reads it ``FOR UPDATE`` on PostgreSQL: the
  row stays locked until the caller's commit, so read-modify-write (a counter, a version) is
  serialised. On SQLite one process holds the store and transactions write one at a time.
- :func:`xact_lock` takes a PostgreSQL advisory lock until the commit, for work that makes several
  rows at once on first use (HQ's keys and first registry).
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import Table, text
from sqlalchemy.orm import Session

from nap_desktop.data.models import Meta


def is_postgres(s: Session) -> bool:
    return s.get_bind().dialect.name == "postgresql"


def insert_ignore(s: Session, table: Table, values: dict[str, Any]) -> bool:
    """Inserts one row unless a row with the same key exists; ``True`` if this call inserted it."""
    if is_postgres(s):
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    # NOTE: RETURNING, not the row count: psycopg reports -1 for a statement with ON CONFLICT
    key = list(table.primary_key.columns)[0]
    return s.execute(insert(table).values(**values).on_conflict_do_nothing().returning(key)).first() is not None


def get_meta(s: Session, key: str, default: str = "") -> str:
    row = s.get(Meta, key)
    return row.value if row is not None else default


def lock_meta(s: Session, key: str, default: str) -> Meta:
    """The row ``key`` (made with ``default`` if missing, race-safe), locked on PostgreSQL until the commit."""
    pg = is_postgres(s)
    if pg:
        s.flush()  # a change to the row made earlier in this transaction is kept by the re-read below
    row = s.get(Meta, key, with_for_update=True if pg else None, populate_existing=pg)
    if row is None:
        insert_ignore(s, Meta.__table__, {"key": key, "value": default})  # type: ignore[arg-type]
        row = s.get(Meta, key, with_for_update=True if pg else None, populate_existing=True)
        assert row is not None
    return row


def set_meta(s: Session, key: str, value: str) -> None:
    """Writes ``key`` (inserted or updated; two processes doing it at once never collide)."""
    lock_meta(s, key, value).value = value


def advisory_key(kind: str, value: str) -> int:
    """A signed 64-bit key for PostgreSQL's advisory locks, in a namespace of our own."""
    digest = hashlib.sha256(f"nap-{kind}|{value}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def xact_lock(s: Session, kind: str, value: str) -> None:
    """PostgreSQL: waits for, then holds until the commit, the advisory lock ``(kind, value)``. SQLite: nothing."""
    if is_postgres(s):
        s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": advisory_key(kind, value)})
