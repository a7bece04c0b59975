# SPDX-License-Identifier: GPL-3.0-or-later
"""intake server: request_nonces (nonces of signed requests within their time window, shared by
every intake server on one store, so a replay to another server is refused too)

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('request_nonces',
    sa.Column('device_id', sa.String(length=36), nullable=False),
    sa.Column('nonce', sa.String(length=32), nullable=False),
    sa.Column('expires_at', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('device_id', 'nonce')
    )
    with op.batch_alter_table('request_nonces', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_request_nonces_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('request_nonces', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_request_nonces_expires_at'))
    op.drop_table('request_nonces')
