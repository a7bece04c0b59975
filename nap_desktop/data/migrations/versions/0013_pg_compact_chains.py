# SPDX-License-Identifier: GPL-3.0-or-later
"""compact report chains on PostgreSQL: cells of codes, and the cases' codes per breakdown

PostgreSQL only (see 0012). Two changes to what a national report reads, both about its time:

- ``report_cells``: each distinct combination of the codes a chain row is counted under (its
  breakdown ``key``, the person's age band, sex, citizenship and province, and the event keys
  ``k1``, ``k2``) once, named by ``cell`` (the codes joined). A ``report_chain_rows`` row keeps
  the cell's id instead of the seven codes: the report groups a period's rows by one integer
  (about 325,000 rows for the services of a year at 1M records, grouped by seven strings in
  0.2-0.3 s) and reads the codes of the few thousand cells after.
- ``report_case_keys`` replaces ``report_case_tokens``: per case, the distinct codes of its
  victims and of its suspects for each breakdown (``v_sex``: ``female,male``) instead of one
  token per person (``side|sex|age group|province``), so the report counts every breakdown in
  the database (a grouping set per column, a few hundred rows) instead of splitting some 5,000
  combinations of tokens in Python; and the days of the case's stages (the first event ending
  its investigation, bringing it to court, ending its court phase), which the report read from
  every case's events each time. Statement triggers on ``case_events`` write the case of the
  events a transaction wrote into ``report_touched`` (as 0012's on the other tables).

A cell holds codes only; cells no chain row uses any more are removed when the chains are next
brought up to date (see :mod:`nap_desktop.reports.chains`).

Every chain is dropped (the next national report makes them again, about a minute at 1M
records): their rows are derived, and kept in the new form only.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from alembic import op


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


_EVENTS = (('insert', ('new_rows',)), ('update', ('new_rows', 'old_rows')), ('delete', ('old_rows',)))


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute('DROP TABLE report_chain_rows, report_case_tokens')
    op.execute('DELETE FROM report_chains')
    op.execute(
        """
        CREATE TABLE report_cells (
            id serial PRIMARY KEY,
            cell text NOT NULL UNIQUE,
            key varchar NOT NULL,
            band varchar,
            sex varchar,
            citizenship varchar,
            location varchar,
            k1 varchar,
            k2 varchar
        )
        """
    )
    op.execute(
        """
        CREATE TABLE report_chain_rows (
            chain integer NOT NULL REFERENCES report_chains(id) ON DELETE CASCADE,
            person_id varchar NOT NULL,
            "on" date NOT NULL,
            prev date,
            p1 date,
            p2 date,
            cell integer NOT NULL
        )
        """
    )
    # A report reads a chain's rows of a period from this index alone (index-only scan).
    op.execute('CREATE INDEX ix_report_chain_rows_read ON report_chain_rows (chain, "on") INCLUDE (prev, p1, p2, cell)')
    # Finds a person's rows of one chain (bringing it up to date), or of every chain (deleting them).
    op.execute('CREATE INDEX ix_report_chain_rows_person ON report_chain_rows (person_id, chain)')
    # Finds whether a row still uses a cell (cells no row uses go: see the docstring).
    op.execute('CREATE INDEX ix_report_chain_rows_cell ON report_chain_rows (cell)')
    # Rows brought up to date leave their old pages not "all visible", and a report reads those
    # pages from the table as well as the index (141,000 extra reads, 0.07 s more for the services
    # of a year, after 2,000 people were written at 1M records). Autovacuum marks them again in
    # the background after 1 % of the rows changed instead of its default 20 %.
    op.execute(
        'ALTER TABLE report_chain_rows SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_insert_scale_factor = 0.01, '
        'autovacuum_analyze_scale_factor = 0.02)'
    )
    op.execute(
        """
        CREATE TABLE report_case_keys (
            chain integer NOT NULL REFERENCES report_chains(id) ON DELETE CASCADE,
            case_id varchar NOT NULL,
            v_sex text,
            v_age text,
            v_loc text,
            s_sex text,
            s_age text,
            s_loc text,
            investigation_end date,
            court_from date,
            court_end date,
            PRIMARY KEY (chain, case_id)
        )
        """
    )
    op.execute('CREATE INDEX ix_report_case_keys_case ON report_case_keys (case_id)')
    # NOTE: as 0012's _touch_triggers (a migration keeps what it made as it was then)
    for event, sources in _EVENTS:
        rows = ' UNION '.join(f'SELECT NULL, case_id FROM {src} WHERE case_id IS NOT NULL' for src in sources)
        op.execute(
            f"""
            CREATE FUNCTION report_touch_case_events_{event}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO report_touched (person_id, case_id) {rows};
                RETURN NULL;
            END $$
            """
        )
        referencing = ' '.join(f'{"NEW" if src == "new_rows" else "OLD"} TABLE AS {src}' for src in sources)
        op.execute(
            f'CREATE TRIGGER report_touch_case_events_{event} AFTER {event.upper()} ON case_events REFERENCING {referencing} '
            f'FOR EACH STATEMENT EXECUTE FUNCTION report_touch_case_events_{event}()'
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for event, _ in _EVENTS:
        op.execute(f'DROP TRIGGER report_touch_case_events_{event} ON case_events')
        op.execute(f'DROP FUNCTION report_touch_case_events_{event}()')
    op.execute('DROP TABLE report_chain_rows, report_case_keys, report_cells')
    op.execute('DELETE FROM report_chains')
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
