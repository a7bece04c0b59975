# SPDX-License-Identifier: GPL-3.0-or-later
"""Report chains: derived "first event of a person in a period" rows on PostgreSQL.

A per-person count of the indicator engine (the persons identified as victims in a year, the
persons served with shelter, …) groups every fact of the period by person to find each person's
first one. At national scale on PostgreSQL that grouping was most of a report (about 2.5 of the
4 s its statements took at 1M records). A **chain** keeps, for one such count, one row per fact
with ``prev``: the date of the same person's previous fact of the count. A person has a fact in
a period exactly when one of their rows lies in it with ``prev`` before its start (or none), and
that row is the first one: the count is a filtered scan of the chain, grouped by the codes it
is counted under, with no grouping by person. Breakdowns by an event attribute (the
exploitation types, a service's type) are key columns of those rows or, for the multi-valued
ones, rows of their own. A row keeps its codes (the person's attributes and age band on the
fact's day, the breakdown keys) as the id of a **cell** (:data:`CELLS`, each combination once,
migration 0013): a report groups the period's rows by one integer, then reads the codes of the
few thousand cells. The case counts (7.3.a, 7.3.b, 7.4.a) break down by the people of each
case: :data:`CASES` keeps per case the distinct codes of its victims and of its suspects for
each breakdown and the days of its stages, which were most of the time of the cases' statement.

Consistency: statement triggers (migrations 0012, 0013) write the persons (and cases) every
transaction touches into ``report_touched`` with its transaction id. A chain stores the snapshot
its rows were made in; :func:`prepare` (its own transaction, before a report takes its snapshot)
makes the rows of the persons (cases) written since again. :func:`valid` then, inside the
report's snapshot, names the chains no committed write has passed since: a write that fell
between the two makes the report read that count the long way, never from a stale chain. Cells
no row uses any more (a person deleted, or changed) go when the chains are next brought up to
date after a write.

Everything here runs only on PostgreSQL stores made by the migrations; the engine decides when
(national reports of the whole framework).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Column, Date, Integer, MetaData, String, Table, bindparam, func, insert, literal, select, text, union_all
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

logger = logging.getLogger(__name__)

# Changes whenever the meaning of chain rows changes without their SQL changing.
FORMAT = 2
# Chains no report used for this long are dropped (with them the writes kept for them: a chain
# left behind by a change of the framework would keep every later write in report_touched).
UNUSED_DAYS = 1
# The session-level advisory lock that keeps two reports from refreshing chains at once.
_LOCK = 0x6E617063  # "napc"
# The facts of a chain are every fact ever recorded: the period bounds of the engine's facts.
EVERY_DAY = {"p_start": date(1, 1, 1), "p_stop": date(9999, 12, 31)}

_meta = MetaData()
ROWS = Table(
    "report_chain_rows",
    _meta,
    Column("chain", Integer, nullable=False),
    Column("person_id", String, nullable=False),
    Column("on", Date, nullable=False),
    Column("prev", Date),
    Column("p1", Date),
    Column("p2", Date),
    Column("cell", Integer, nullable=False),
)
# The codes a chain row is counted under, each combination once (migration 0013).
CELLS = Table(
    "report_cells",
    _meta,
    Column("id", Integer, primary_key=True),
    Column("cell", String, nullable=False, unique=True),
    Column("key", String, nullable=False),
    Column("band", String),
    Column("sex", String),
    Column("citizenship", String),
    Column("location", String),
    Column("k1", String),
    Column("k2", String),
)
# The columns of the rows a chain of :data:`ROWS` is made from (a :class:`Spec`'s ``rows``), in order.
FACTS = ("chain", "key", "person_id", "on", "prev", "band", "sex", "citizenship", "location", "k1", "p1", "k2", "p2")
_CODES = ("key", "band", "sex", "citizenship", "location", "k1", "k2")  # those kept in its cell
TOTAL = ""  # the key of the rows of a chain of persons (the rows of a chain of keys: the breakdown key)
NO_PERSON = "~"  # the key of a chain of persons' rows whose person row is missing (counted under event attributes only)


CASES = Table(
    "report_case_keys",
    _meta,
    Column("chain", Integer, nullable=False),
    Column("case_id", String, nullable=False),
    *(Column(f"{side}_{dim}", String) for side in ("v", "s") for dim in ("sex", "age", "loc")),
    Column("investigation_end", Date),
    Column("court_from", Date),
    Column("court_end", Date),
)
CASE_STAGES = ("investigation_end", "court_from", "court_end")  # the days of a case's stages in CASES
# The columns of CASES a case's side keeps its codes in, per breakdown (sorted, joined by commas).
CASE_KEYS = {side: {"sex": f"{side}_sex", "age_group": f"{side}_age", "location": f"{side}_loc"} for side in ("v", "s")}


@dataclass(frozen=True)
class Spec:
    """One chain: ``rows`` selects every row of it for ``table`` (``chain_id`` bound),
    ``pending`` the rows of the persons (or cases, for :data:`CASES`) written since the snapshot
    ``old_snap`` (bound); ``params`` binds the rest."""

    signature: str
    rows: Any  # for ROWS: the columns of FACTS
    pending: Any
    params: Mapping[str, Any]
    table: Table = ROWS

    @property
    def stale(self) -> Any:
        """The condition on ``table`` of the rows to make again."""
        if self.table is CASES:
            return CASES.c.case_id.in_(select(pending_cases().c.case_id))
        return ROWS.c.person_id.in_(select(pending_persons().subquery().c.person_id))


def signature(stmt: Any, dialect: Any, params: Mapping[str, Any]) -> str:
    """What names a chain: its SQL and parameters on ``dialect`` (the same count gets the same chain)."""
    compiled = stmt.compile(dialect=dialect)
    values = sorted((k, repr(v)) for k, v in compiled.params.items() if k not in params and k not in ("chain_id", "old_snap"))
    return hashlib.sha256(f"{FORMAT}\n{compiled}\n{values}".encode()).hexdigest()


def available(conn: Any) -> bool:
    """Whether the store has the chain tables (a PostgreSQL store made by the migrations)."""
    return conn.dialect.name == "postgresql" and conn.exec_driver_sql("SELECT to_regclass('report_chains') IS NOT NULL").scalar_one()


_NOT_SEEN = "NOT pg_visible_in_snapshot(xid, CAST(:old_snap AS pg_snapshot))"


def pending_persons() -> Any:
    """The persons a transaction not in the snapshot ``old_snap`` wrote (a subquery)."""
    return text(f"SELECT person_id FROM report_touched WHERE person_id IS NOT NULL AND {_NOT_SEEN}").columns(Column("person_id", String))


def pending_cases() -> Any:
    """The cases a transaction not in the snapshot ``old_snap`` wrote, or whose people it wrote."""
    return (
        text(
            f"SELECT case_id FROM report_touched WHERE case_id IS NOT NULL AND {_NOT_SEEN} "
            f"UNION SELECT p.case_id FROM case_parties p JOIN report_touched t ON t.person_id = p.person_id WHERE {_NOT_SEEN.replace('xid', 't.xid')} "
            f"UNION SELECT s.case_id FROM suspects s JOIN report_touched t ON t.person_id = s.person_id WHERE s.case_id IS NOT NULL AND {_NOT_SEEN.replace('xid', 't.xid')}"
        )
        .columns(Column("case_id", String))
        .subquery("pending_cases")
    )


def prepare(engine: Engine, specs: Iterable[Spec], settings: Iterable[tuple[str, str]] = (), *, read: bool = True) -> dict[str, int]:
    """Brings the chains of ``specs`` up to date (making the missing ones) in one transaction of
    its own, and returns signature → chain id (empty: the report counts the long way).
    ``read=False`` (after an import, no report to come): only the chains there are, which it
    does not count as used.

    Also drops the chains no report used for :data:`UNUSED_DAYS` days and forgets the writes
    every chain has seen. When the store's transaction ids went back (a dump restored into
    another cluster), every chain is made anew. A person deleted while this runs (their rows
    go at once, see migration 0012) conflicts with it: it tries once more, then gives up.
    ``settings``: PostgreSQL settings for its transaction (``SET LOCAL``).
    """
    specs = list(specs)
    with engine.connect() as conn:
        if not available(conn):
            conn.rollback()
            return {}
        conn.rollback()
        _autocommit(conn, f"SELECT pg_advisory_lock({_LOCK})")
        try:
            for attempt in (1, 2):
                try:
                    ids, made = _bring_up_to_date(conn, specs, settings, read)
                    break
                except DBAPIError as exc:
                    if getattr(exc.orig, "sqlstate", None) != "40001":  # serialization failure
                        raise
                    conn.rollback()
                    logger.warning("report chains: a concurrent write conflicted (attempt %d): %s", attempt, exc.orig)
            else:
                return {}
            # New chains: the visibility map of their pages (a report reads the rows from the
            # index alone only on pages marked all-visible) and their statistics. Rows brought up
            # to date are left to autovacuum: the report reads the few pages they are on from
            # the table, where a VACUUM here would read both indexes whole (0.4 s at 1M records).
            if made:
                _autocommit(conn, "VACUUM (ANALYZE) report_chain_rows, report_cells, report_case_keys")
        finally:
            conn.rollback()
            _autocommit(conn, f"SELECT pg_advisory_unlock({_LOCK})")
    return ids


def _bring_up_to_date(conn: Any, specs: list[Spec], settings: Iterable[tuple[str, str]], read: bool) -> tuple[dict[str, int], int]:
    """(signature → chain id, chains made): :func:`prepare`'s transaction."""
    ids: dict[str, int] = {}
    made = 0
    conn.execution_options(isolation_level="REPEATABLE READ")
    with conn.begin():
        for name, value in settings:
            conn.exec_driver_sql(f"SET LOCAL {name} = '{value}'")
        snap = conn.exec_driver_sql("SELECT CAST(pg_current_snapshot() AS text)").scalar_one()
        went_back = conn.exec_driver_sql(
            "SELECT count(*) FROM report_chains WHERE pg_snapshot_xmax(CAST(snap AS pg_snapshot)) > pg_current_xact_id()"
        ).scalar_one()
        # rows went (a person deleted, rows made again) since the last time: cells may be unused
        changed = bool(conn.exec_driver_sql("SELECT EXISTS (SELECT 1 FROM report_touched)").scalar_one())
        if went_back:
            logger.warning("report chains: the store's transaction ids went back (restored?); making every chain anew")
            conn.exec_driver_sql("DELETE FROM report_chains")
        dropped = conn.exec_driver_sql(f"DELETE FROM report_chains WHERE used_at < now() - interval '{UNUSED_DAYS} days'").rowcount
        for spec in specs:
            chain_id, new = _refresh(conn, spec, snap, read)
            if chain_id is not None:
                ids[spec.signature] = chain_id
            made += new
        if changed or went_back or dropped:
            # no combination of codes outlives the rows counted under it
            conn.exec_driver_sql("DELETE FROM report_cells c WHERE NOT EXISTS (SELECT 1 FROM report_chain_rows r WHERE r.cell = c.id)")
        conn.exec_driver_sql(
            "DELETE FROM report_touched t WHERE NOT EXISTS "
            "(SELECT 1 FROM report_chains c WHERE NOT pg_visible_in_snapshot(t.xid, CAST(c.snap AS pg_snapshot)))"
        )
    return ids, made


def _autocommit(conn: Any, sql: str) -> None:
    """Runs ``sql`` outside a transaction (a session-level lock outlives the transactions)."""
    conn.execution_options(isolation_level="AUTOCOMMIT")
    conn.exec_driver_sql(sql)
    conn.rollback()  # ends SQLAlchemy's bookkeeping of the autobegun (empty) transaction


def _refresh(conn: Any, spec: Spec, snap: str, read: bool = True) -> tuple[int | None, bool]:
    """(chain id, whether it was made) for ``spec``, its rows as of ``snap`` (this transaction's);
    without ``read``, none for a chain there is not (see :func:`prepare`)."""
    found = conn.execute(text("SELECT id, snap FROM report_chains WHERE signature = :s"), {"s": spec.signature}).first()
    if found is None and not read:
        return None, False
    if found is None:
        chain_id = conn.execute(
            text("INSERT INTO report_chains (signature, snap) VALUES (:s, :snap) RETURNING id"), {"s": spec.signature, "snap": snap}
        ).scalar_one()
        conn.execute(_insert(spec.table, spec.rows), {**spec.params, "chain_id": chain_id})
        logger.info("report chains: made chain %s (%s…)", chain_id, spec.signature[:12])
        return int(chain_id), True
    chain_id, old = found
    # a chain of persons is about the persons written; the cases' chain about those and the cases
    whose = "" if spec.table is CASES else "person_id IS NOT NULL AND "
    touched = conn.execute(text(f"SELECT EXISTS (SELECT 1 FROM report_touched WHERE {whose}{_NOT_SEEN})"), {"old_snap": old}).scalar_one()
    if touched:
        conn.execute(spec.table.delete().where(spec.table.c.chain == bindparam("chain_id"), spec.stale), {"chain_id": chain_id, "old_snap": old})
        conn.execute(_insert(spec.table, spec.pending), {**spec.params, "chain_id": chain_id, "old_snap": old})
    used = ", used_at = now()" if read else ""
    conn.execute(text(f"UPDATE report_chains SET snap = :snap{used} WHERE id = :id"), {"snap": snap, "id": chain_id})
    return int(chain_id), False


def _insert(table: Table, rows: Any) -> Any:
    """The INSERT of ``rows`` into ``table``; into :data:`ROWS`, each row's codes (the :data:`FACTS`
    kept in a cell) as the id of their cell in :data:`CELLS`, made when new.

    NOTE: in one statement: the rows once (materialised), the new cells inserted from them (a
    data-modifying CTE, whose rows the statement's own reads do not see: hence the union of
    those it returns with the cells there were), then the rows with their cells' ids. Only
    :func:`prepare` writes cells, under its lock, so no other transaction adds one meanwhile.
    """
    if table is not ROWS:
        return insert(table).from_select([c.name for c in table.columns], rows)
    f = rows.subquery("f")
    facts = dict(zip(FACTS, f.c, strict=True))
    # the codes joined by a separator no code contains, NULL written as a mark no code is
    name = func.concat_ws(literal("\x1f"), *(func.coalesce(facts[c], literal("\x1e")) for c in _CODES))
    r = select(*(col.label(n) for n, col in facts.items()), name.label("cell")).cte("r").prefix_with("MATERIALIZED")
    new = (
        postgresql.insert(CELLS)
        .from_select([*_CODES, "cell"], select(*(r.c[c] for c in _CODES), r.c.cell).distinct())
        .on_conflict_do_nothing(index_elements=[CELLS.c.cell])
        .returning(CELLS.c.id, CELLS.c.cell)
        .cte("new")
    )
    known = union_all(select(new.c.id, new.c.cell), select(CELLS.c.id, CELLS.c.cell)).subquery("known")
    kept = [c.name for c in ROWS.columns if c.name != "cell"]
    return insert(ROWS).from_select([*kept, "cell"], select(*(r.c[c] for c in kept), known.c.id).join_from(r, known, known.c.cell == r.c.cell, isouter=True)).add_cte(new)


def valid(session: Session, ids: Mapping[str, int]) -> dict[str, int]:
    """Of ``ids`` (signature → chain id), those whose rows hold for ``session``'s snapshot: no
    write it sees came after the chain's own snapshot."""
    if not ids:
        return {}
    stale = set(
        session.execute(
            text(
                "SELECT c.id FROM report_chains c WHERE c.id = ANY(:ids) AND EXISTS (SELECT 1 FROM report_touched t "
                "WHERE NOT pg_visible_in_snapshot(t.xid, CAST(c.snap AS pg_snapshot)))"
            ),
            {"ids": list(ids.values())},
        ).scalars()
    )
    present = set(session.execute(text("SELECT id FROM report_chains WHERE id = ANY(:ids)"), {"ids": list(ids.values())}).scalars())
    return {sig: i for sig, i in ids.items() if i in present and i not in stale}
