# SPDX-License-Identifier: GPL-3.0-or-later
"""sync: keys, bundles, peers, conflicts, enrolment requests, remote audit, match tokens, purges; base_hash

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('enrol_requests',
    sa.Column('request_id', sa.String(length=36), nullable=False),
    sa.Column('device_id', sa.String(length=36), nullable=False),
    sa.Column('unit', sa.String(length=24), nullable=False),
    sa.Column('site_kind', sa.String(length=8), nullable=False),
    sa.Column('signing_public', sa.Text(), nullable=False),
    sa.Column('age_recipient', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decided_by', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('request_id')
    )
    with op.batch_alter_table('enrol_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enrol_requests_device_id'), ['device_id'], unique=False)

    op.create_table('match_tokens',
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('unit', sa.String(length=24), nullable=False),
    sa.PrimaryKeyConstraint('person_id', 'kind')
    )
    with op.batch_alter_table('match_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_match_tokens_token'), ['token'], unique=False)

    op.create_table('purged_records',
    sa.Column('record_id', sa.String(length=36), nullable=False),
    sa.Column('record_type', sa.String(length=32), nullable=False),
    sa.Column('purged_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('record_id')
    )
    op.create_table('record_merges',
    sa.Column('record_id', sa.String(length=36), nullable=False),
    sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('other_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('record_id', 'version')
    )
    op.create_table('remote_audit',
    sa.Column('device_id', sa.String(length=36), nullable=False),
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('at', sa.String(length=32), nullable=False),
    sa.Column('actor', sa.String(length=32), nullable=False),
    sa.Column('action', sa.String(length=48), nullable=False),
    sa.Column('object_type', sa.String(length=32), nullable=False),
    sa.Column('object_id', sa.String(length=64), nullable=False),
    sa.Column('unit', sa.String(length=24), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('device_id', 'seq')
    )
    op.create_table('sync_bundles',
    sa.Column('bundle_id', sa.String(length=36), nullable=False),
    sa.Column('direction', sa.String(length=4), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('device_id', sa.String(length=36), nullable=False),
    sa.Column('source_unit', sa.String(length=24), nullable=False),
    sa.Column('key_id', sa.String(length=16), nullable=False),
    sa.Column('seq_from', sa.Integer(), nullable=False),
    sa.Column('seq_to', sa.Integer(), nullable=False),
    sa.Column('manifest_sha256', sa.String(length=64), nullable=False),
    sa.Column('prev_sha256', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('counts', sa.Text(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('file_name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('processed_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('bundle_id')
    )
    with op.batch_alter_table('sync_bundles', schema=None) as batch_op:
        batch_op.create_index('ix_sync_bundles_device', ['device_id', 'seq_to'], unique=False)
        batch_op.create_index(batch_op.f('ix_sync_bundles_manifest_sha256'), ['manifest_sha256'], unique=False)

    op.create_table('sync_conflicts',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('record_type', sa.String(length=32), nullable=False),
    sa.Column('record_id', sa.String(length=36), nullable=False),
    sa.Column('bundle_id', sa.String(length=36), nullable=False),
    sa.Column('source_unit', sa.String(length=24), nullable=False),
    sa.Column('local_version', sa.Integer(), nullable=False),
    sa.Column('local_hash', sa.String(length=64), nullable=False),
    sa.Column('incoming_version', sa.Integer(), nullable=False),
    sa.Column('incoming_base_version', sa.Integer(), nullable=False),
    sa.Column('incoming', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('resolution', sa.String(length=16), nullable=False),
    sa.Column('resolved_by', sa.String(length=32), nullable=False),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sync_conflicts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_conflicts_record_id'), ['record_id'], unique=False)

    op.create_table('sync_keys',
    sa.Column('key_id', sa.String(length=64), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('secret', sa.LargeBinary(), nullable=False),
    sa.Column('public', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('retired_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('key_id')
    )
    op.create_table('sync_peers',
    sa.Column('device_id', sa.String(length=36), nullable=False),
    sa.Column('unit', sa.String(length=24), nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.Column('last_manifest_sha256', sa.String(length=64), nullable=False),
    sa.Column('last_audit_seq', sa.Integer(), nullable=False),
    sa.Column('last_audit_hash', sa.String(length=64), nullable=False),
    sa.Column('last_import_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('device_id')
    )
    with op.batch_alter_table('analysis_notes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('base_hash', sa.String(length=64), nullable=False, server_default=''))

    with op.batch_alter_table('awareness_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('base_hash', sa.String(length=64), nullable=False, server_default=''))

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('base_hash', sa.String(length=64), nullable=False, server_default=''))

    with op.batch_alter_table('checkpoint_logs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('base_hash', sa.String(length=64), nullable=False, server_default=''))

    with op.batch_alter_table('coordination_entities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('base_hash', sa.String(length=64), nullable=False, server_default=''))

    with op.batch_alter_table('coordination_gaps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('base_hash', sa.String(length=64), nullable=False, server_default=''))

    with op.batch_alter_table('coordination_meetings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('base_hash', sa.String(length=64), nullable=False, server_default=''))

    with op.batch_alter_table('data_accesses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('base_hash', sa.String(length=64), nullable=False, server_default=''))

    with op.batch_alter_table('milestones', schema=None) as batch_op:
        batch_op.add_column(sa.Column('base_hash', sa.String(length=64), nullable=False, server_default=''))

    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.add_column(sa.Column('base_hash', sa.String(length=64), nullable=False, server_default=''))

    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('base_hash', sa.String(length=64), nullable=False, server_default=''))

    with op.batch_alter_table('screenings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('base_hash', sa.String(length=64), nullable=False, server_default=''))

    with op.batch_alter_table('service_providers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('base_hash', sa.String(length=64), nullable=False, server_default=''))

    with op.batch_alter_table('service_provisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('base_hash', sa.String(length=64), nullable=False, server_default=''))

    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('base_hash', sa.String(length=64), nullable=False, server_default=''))

    with op.batch_alter_table('suspects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('base_hash', sa.String(length=64), nullable=False, server_default=''))

    with op.batch_alter_table('trainings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('base_hash', sa.String(length=64), nullable=False, server_default=''))

    # ### end Alembic commands ###

def downgrade() -> None:
    with op.batch_alter_table('trainings', schema=None) as batch_op:
        batch_op.drop_column('base_hash')

    with op.batch_alter_table('suspects', schema=None) as batch_op:
        batch_op.drop_column('base_hash')

    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.drop_column('base_hash')

    with op.batch_alter_table('service_provisions', schema=None) as batch_op:
        batch_op.drop_column('base_hash')

    with op.batch_alter_table('service_providers', schema=None) as batch_op:
        batch_op.drop_column('base_hash')

    with op.batch_alter_table('screenings', schema=None) as batch_op:
        batch_op.drop_column('base_hash')

    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_column('base_hash')

    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.drop_column('base_hash')

    with op.batch_alter_table('milestones', schema=None) as batch_op:
        batch_op.drop_column('base_hash')

    with op.batch_alter_table('data_accesses', schema=None) as batch_op:
        batch_op.drop_column('base_hash')

    with op.batch_alter_table('coordination_meetings', schema=None) as batch_op:
        batch_op.drop_column('base_hash')

    with op.batch_alter_table('coordination_gaps', schema=None) as batch_op:
        batch_op.drop_column('base_hash')

    with op.batch_alter_table('coordination_entities', schema=None) as batch_op:
        batch_op.drop_column('base_hash')

    with op.batch_alter_table('checkpoint_logs', schema=None) as batch_op:
        batch_op.drop_column('base_hash')

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('base_hash')

    with op.batch_alter_table('awareness_sessions', schema=None) as batch_op:
        batch_op.drop_column('base_hash')

    with op.batch_alter_table('analysis_notes', schema=None) as batch_op:
        batch_op.drop_column('base_hash')

    op.drop_table('sync_peers')
    op.drop_table('sync_keys')
    with op.batch_alter_table('sync_conflicts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_conflicts_record_id'))

    op.drop_table('sync_conflicts')
    with op.batch_alter_table('sync_bundles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_bundles_manifest_sha256'))
        batch_op.drop_index('ix_sync_bundles_device')

    op.drop_table('sync_bundles')
    op.drop_table('remote_audit')
    op.drop_table('record_merges')
    op.drop_table('purged_records')
    with op.batch_alter_table('match_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_match_tokens_token'))

    op.drop_table('match_tokens')
    with op.batch_alter_table('enrol_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enrol_requests_device_id'))

    op.drop_table('enrol_requests')
    # ### end Alembic commands ###