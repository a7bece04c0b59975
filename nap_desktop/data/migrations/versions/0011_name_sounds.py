# SPDX-License-Identifier: GPL-3.0-or-later
"""name search and duplicate check by sound: each person's sound keys ("~mhmd" for Muhammad,
Mohammad, Mohd …) in person_name_tokens beside the words, for the identities already stored;
ix_persons_birth (date_of_birth), from which the duplicate check finds the persons born on a day

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from nap_desktop.domain.names import sound_words


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

# NOTE: the keys come from the rule of the version that runs this migration
# (domain.names.sound_words, marked and cut as services.records.sound_tokens does). A later change
# to that rule brings its own migration that writes the keys again; a store migrated past both
# gets the keys of the newer rule either way.
_MARK = '~'
_TOKEN_LENGTH = 40
_CHUNK = 5000


def _keys(name_key: str) -> list[str]:
    return list(dict.fromkeys((_MARK + k)[:_TOKEN_LENGTH] for k in sound_words(name_key)))


def upgrade() -> None:
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.create_index('ix_persons_birth', ['date_of_birth'], unique=False)
    conn = op.get_bind()
    tokens = sa.table('person_name_tokens', sa.column('token'), sa.column('person_id'))
    conn.execute(sa.text("DELETE FROM person_name_tokens WHERE token LIKE '~%'"))
    found = conn.execute(sa.text("SELECT person_id, name_key FROM person_identities WHERE name_key <> ''")).all()
    for i in range(0, len(found), _CHUNK):
        rows = [{'token': t, 'person_id': pid} for pid, key in found[i : i + _CHUNK] for t in _keys(key)]
        if rows:
            conn.execute(sa.insert(tokens), rows)


def downgrade() -> None:
    op.get_bind().execute(sa.text("DELETE FROM person_name_tokens WHERE token LIKE '~%'"))
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.drop_index('ix_persons_birth')
