# SPDX-License-Identifier: GPL-3.0-or-later
"""name search index: person_name_tokens (the words of each person's normalised name), filled
from the identities already stored

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# NOTE: the same rule as services.records.name_tokens (kept here: a migration never changes).
_TOKEN_LENGTH = 40


def upgrade() -> None:
    op.create_table(
        'person_name_tokens',
        sa.Column('token', sa.String(length=40).with_variant(sa.String(length=40, collation='C'), 'postgresql'), nullable=False),
        sa.Column('person_id', sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(['person_id'], ['persons.id'], ),
        sa.PrimaryKeyConstraint('token', 'person_id'),
    )
    with op.batch_alter_table('person_name_tokens', schema=None) as batch_op:
        batch_op.create_index('ix_person_name_tokens_person', ['person_id', 'token'], unique=False)

    conn = op.get_bind()
    tokens = sa.table('person_name_tokens', sa.column('token'), sa.column('person_id'))
    found = conn.execute(sa.text("SELECT person_id, name_key FROM person_identities WHERE name_key <> ''")).all()
    for i in range(0, len(found), 5000):
        rows = [
            {'token': t, 'person_id': pid}
            for pid, key in found[i : i + 5000]
            for t in dict.fromkeys(w[:_TOKEN_LENGTH] for w in key.split())
        ]
        if rows:
            conn.execute(sa.insert(tokens), rows)


def downgrade() -> None:
    with op.batch_alter_table('person_name_tokens', schema=None) as batch_op:
        batch_op.drop_index('ix_person_name_tokens_person')
    op.drop_table('person_name_tokens')
