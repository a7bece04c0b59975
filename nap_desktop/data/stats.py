# SPDX-License-Identifier: GPL-3.0-or-later
"""Table statistics for SQLite's query planner.

SQLite plans a query from its indexes alone until ``ANALYZE`` has written table statistics
(``sqlite_stat1``); with them it can tell a selective index from one that only looks
selective (an index on ``deleted``, on a code with five values …). The indicator engine's
statements are written to plan well either way, but several of its choices between two
usable indexes are only certain with statistics. They are refreshed after work that changes
the size of tables a lot: migrations that add indexes (ANALYZE in the migration itself), demo
generation and bulk imports (here). PostgreSQL keeps its own statistics (autovacuum).
"""

from __future__ import annotations

from sqlalchemy import Engine

# PRAGMA optimize flags: 0x02 analyze the tables that need it, 0x10 with a temporary analysis
# limit (a sample: fast on any size), 0x10000 check every table, not only those queried on
# this connection (the tables a bulk load filled have not been queried yet).
_OPTIMIZE = 0x10012


def refresh_statistics(engine: Engine) -> None:
    """Re-analyses the tables whose statistics are missing or stale (SQLite); no-op elsewhere.

    Cheap when nothing changed much; a few seconds at most after loading a million records.
    """
    if engine.dialect.name != "sqlite":
        return
    with engine.begin() as conn:
        conn.exec_driver_sql(f"PRAGMA optimize = {_OPTIMIZE:#x}")
