# SPDX-License-Identifier: GPL-3.0-or-later
"""list, count and link indexes on the record tables (date walk, live rows per unit, foreign keys)

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('checkpoint_logs', schema=None) as batch_op:
        batch_op.create_index('ix_checkpoint_logs_list', ['log_date', 'id'], unique=False)
        batch_op.create_index('ix_checkpoint_logs_live', ['unit', 'deleted'], unique=False)

    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.create_index('ix_persons_list', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_persons_live', ['unit', 'deleted'], unique=False)

    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index('ix_referrals_list', ['referred_on', 'id'], unique=False)
        batch_op.create_index('ix_referrals_live', ['unit', 'deleted'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_screening_id'), ['screening_id'], unique=False)

    with op.batch_alter_table('screenings', schema=None) as batch_op:
        batch_op.create_index('ix_screenings_list', ['screened_on', 'id'], unique=False)
        batch_op.create_index('ix_screenings_live', ['unit', 'deleted'], unique=False)

    with op.batch_alter_table('service_provisions', schema=None) as batch_op:
        batch_op.create_index('ix_service_provisions_list', ['started_on', 'id'], unique=False)
        batch_op.create_index('ix_service_provisions_live', ['unit', 'deleted'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_provisions_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_provisions_referral_id'), ['referral_id'], unique=False)

    with op.batch_alter_table('suspects', schema=None) as batch_op:
        batch_op.create_index('ix_suspects_list', ['identified_on', 'id'], unique=False)
        batch_op.create_index('ix_suspects_live', ['unit', 'deleted'], unique=False)
        batch_op.create_index(batch_op.f('ix_suspects_screening_id'), ['screening_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('suspects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_suspects_screening_id'))
        batch_op.drop_index('ix_suspects_live')
        batch_op.drop_index('ix_suspects_list')

    with op.batch_alter_table('service_provisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_provisions_referral_id'))
        batch_op.drop_index(batch_op.f('ix_service_provisions_provider_id'))
        batch_op.drop_index('ix_service_provisions_live')
        batch_op.drop_index('ix_service_provisions_list')

    with op.batch_alter_table('screenings', schema=None) as batch_op:
        batch_op.drop_index('ix_screenings_live')
        batch_op.drop_index('ix_screenings_list')

    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referrals_screening_id'))
        batch_op.drop_index(batch_op.f('ix_referrals_provider_id'))
        batch_op.drop_index('ix_referrals_live')
        batch_op.drop_index('ix_referrals_list')

    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.drop_index('ix_persons_live')
        batch_op.drop_index('ix_persons_list')

    with op.batch_alter_table('checkpoint_logs', schema=None) as batch_op:
        batch_op.drop_index('ix_checkpoint_logs_live')
        batch_op.drop_index('ix_checkpoint_logs_list')
