# SPDX-License-Identifier: GPL-3.0-or-later
"""persons for reports on PostgreSQL: ix_persons_report_pg (id) INCLUDE (the attributes reports read)

PostgreSQL only. Every per-person pass of the indicator engine joins the persons it counts to
their sex, date of birth, recorded age, creation time, citizenship and province. On SQLite the
expression index ix_persons_report ((id || ''), …) serves that join from its entries alone;
PostgreSQL reads no expression index for a plain ``id`` join, so there each pass read the person
rows themselves (600 bytes each, 153 MB at 1M records) or hashed them all. This index holds the
same columns beside the id (25 MB at 1M records), so the join reads index entries only, by hash
or by lookup. SQLite keeps its expression index, so the models do not list this one (see 0009).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

_NAME = 'ix_persons_report_pg'
_INCLUDE = ['sex', 'date_of_birth', 'age_years', 'created_at', 'citizenship', 'residence_province']


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.create_index(_NAME, 'persons', ['id'], unique=False, postgresql_include=_INCLUDE)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index(_NAME, table_name='persons')
