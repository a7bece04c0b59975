# SPDX-License-Identifier: GPL-3.0-or-later
"""monthly returns: values snapshot, approval states, comments, history

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('monthly_returns',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('unit', sa.String(length=24), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('framework_version', sa.Integer(), nullable=False),
    sa.Column('snapshot', sa.Text(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('compiled_at', sa.DateTime(), nullable=False),
    sa.Column('compiled_by', sa.String(length=32), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('submitted_by', sa.String(length=32), nullable=True),
    sa.Column('first_submitted_at', sa.DateTime(), nullable=True),
    sa.Column('approved_at', sa.DateTime(), nullable=True),
    sa.Column('approved_by', sa.String(length=32), nullable=True),
    sa.Column('returned_at', sa.DateTime(), nullable=True),
    sa.Column('returned_by', sa.String(length=32), nullable=True),
    sa.Column('returned_reason', sa.Text(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('on_time', sa.Boolean(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('origin_unit', sa.String(length=24), nullable=False),
    sa.Column('base_version', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['unit'], ['units.code'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('unit', 'month', name='uq_monthly_returns_unit_month')
    )
    with op.batch_alter_table('monthly_returns', schema=None) as batch_op:
        batch_op.create_index('ix_monthly_returns_month_state', ['month', 'state'], unique=False)
        batch_op.create_index('ix_monthly_returns_seq', ['seq'], unique=False)

    op.create_table('return_comments',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('return_id', sa.String(length=36), nullable=False),
    sa.Column('ordinal', sa.Integer(), nullable=False),
    sa.Column('value_key', sa.String(length=40), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('author', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['return_id'], ['monthly_returns.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('return_comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_return_comments_return_id'), ['return_id'], unique=False)

    op.create_table('return_events',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('return_id', sa.String(length=36), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('from_state', sa.String(length=12), nullable=True),
    sa.Column('to_state', sa.String(length=12), nullable=False),
    sa.Column('actor', sa.String(length=32), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('return_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['return_id'], ['monthly_returns.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('return_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_return_events_return_id'), ['return_id'], unique=False)



def downgrade() -> None:
    raise NotImplementedError("NAP Desktop migrates forward only; restore a backup to go back")
