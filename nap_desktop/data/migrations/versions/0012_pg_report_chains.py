# SPDX-License-Identifier: GPL-3.0-or-later
"""report chains on PostgreSQL: derived "first event of a person" rows for national indicators

PostgreSQL only (an HQ store at national scale); SQLite stores never get these tables, so the
models do not list them (see 0009). What they hold is derived from the records and kept by
:mod:`nap_desktop.reports.chains`:

- ``report_chains``: one row per chain (a per-person count of the indicator engine: its facts,
  the condition and the breakdown keys, named by ``signature``), with the snapshot
  (``pg_current_snapshot()``) its rows were made in.
- ``report_chain_rows``: per chain, one row per fact (or per fact and breakdown key) with
  ``prev``, the date of the same person's previous fact of the chain (and key), and the person
  attributes the reports break down by as they read them (the age band on the fact's day, sex,
  citizenship, province). The distinct persons with a fact in a period are then the rows of the
  period whose ``prev`` falls before it: no grouping by person.
- ``report_case_tokens``: per case, the breakdown codes of its victims and of its suspects
  (sex, age group on the day the case was registered, province), which the case counts (7.3.a,
  7.3.b, 7.4.a) break down by; kept like a chain.
- ``report_touched``: the persons and cases whose records a transaction wrote (its id in
  ``xid``), written by statement triggers on ``persons``, ``screenings``, ``suspects``,
  ``service_provisions``, ``cases`` and ``case_parties``. A chain brings the persons (cases)
  written by transactions its snapshot did not see up to date before a report reads it. Codes (``record_codes``) are written only with
  their record (services.records, sync.payload, services.bulk_import), so the record's trigger
  covers them.

Deleting a person deletes their chain rows at once (the trigger), so no derived copy of a
person's attributes outlives them.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from alembic import op


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

# table -> the person and the case its rows are about (NULL: none)
_TOUCHED = (
    ('persons', 'id', 'NULL'),
    ('screenings', 'person_id', 'NULL'),
    ('service_provisions', 'person_id', 'NULL'),
    ('suspects', 'person_id', 'case_id'),
    ('cases', 'NULL', 'id'),
    ('case_parties', 'person_id', 'case_id'),
)


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute(
        """
        CREATE TABLE report_chains (
            id serial PRIMARY KEY,
            signature varchar(64) NOT NULL UNIQUE,
            snap text NOT NULL,
            used_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute(
        """
        CREATE TABLE report_chain_rows (
            chain integer NOT NULL REFERENCES report_chains(id) ON DELETE CASCADE,
            key varchar NOT NULL,
            person_id varchar NOT NULL,
            "on" date NOT NULL,
            prev date,
            band varchar,
            sex varchar,
            citizenship varchar,
            location varchar,
            k1 varchar,
            p1 date,
            k2 varchar,
            p2 date
        )
        """
    )
    # A report reads a chain's rows of a period from this index alone (index-only scan).
    op.execute(
        'CREATE INDEX ix_report_chain_rows_read ON report_chain_rows (chain, "on") '
        'INCLUDE (prev, key, band, sex, citizenship, location, k1, p1, k2, p2)'
    )
    op.execute('CREATE INDEX ix_report_chain_rows_person ON report_chain_rows (person_id)')
    op.execute(
        """
        CREATE TABLE report_case_tokens (
            chain integer NOT NULL REFERENCES report_chains(id) ON DELETE CASCADE,
            case_id varchar NOT NULL,
            victims text,
            suspects text,
            PRIMARY KEY (chain, case_id)
        )
        """
    )
    op.execute('CREATE INDEX ix_report_case_tokens_case ON report_case_tokens (case_id)')
    op.execute(
        """
        CREATE TABLE report_touched (
            xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
            person_id varchar,
            case_id varchar
        )
        """
    )
    for table, person, case in _TOUCHED:
        _touch_triggers(table, person, case)
    op.execute(
        """
        CREATE FUNCTION report_forget_persons() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM report_chain_rows WHERE person_id IN (SELECT id FROM old_rows);
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        'CREATE TRIGGER report_forget_persons AFTER DELETE ON persons REFERENCING OLD TABLE AS old_rows '
        'FOR EACH STATEMENT EXECUTE FUNCTION report_forget_persons()'
    )


def _touch_triggers(table: str, person: str, case: str) -> None:
    """Statement triggers writing the persons and cases of the rows a statement inserted,
    updated or deleted (PostgreSQL allows transition tables on a trigger of one event only)."""
    for event, sources in (('insert', ('new_rows',)), ('update', ('new_rows', 'old_rows')), ('delete', ('old_rows',))):
        fn = f'report_touch_{table}_{event}'
        rows = ' UNION '.join(f'SELECT {person}, {case} FROM {src} WHERE {person} IS NOT NULL OR {case} IS NOT NULL' for src in sources)
        op.execute(
            f"""
            CREATE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO report_touched (person_id, case_id) {rows};
                RETURN NULL;
            END $$
            """
        )
        referencing = ' '.join(f'{"NEW" if src == "new_rows" else "OLD"} TABLE AS {src}' for src in sources)
        op.execute(
            f'CREATE TRIGGER {fn} AFTER {event.upper()} ON {table} REFERENCING {referencing} '
            f'FOR EACH STATEMENT EXECUTE FUNCTION {fn}()'
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute('DROP TRIGGER report_forget_persons ON persons')
    op.execute('DROP FUNCTION report_forget_persons()')
    for table, _, _ in _TOUCHED:
        for event in ('insert', 'update', 'delete'):
            op.execute(f'DROP TRIGGER report_touch_{table}_{event} ON {table}')
            op.execute(f'DROP FUNCTION report_touch_{table}_{event}()')
    op.execute('DROP TABLE report_touched')
    op.execute('DROP TABLE report_case_tokens')
    op.execute('DROP TABLE report_chain_rows')
    op.execute('DROP TABLE report_chains')
