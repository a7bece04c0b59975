# SPDX-License-Identifier: GPL-3.0-or-later
"""indicator engine indexes: covering (unit, date) and (date) indexes of the fact tables, the
stages of a case, person and record-code lookups on expressions; table statistics (SQLite)

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# (table, index, columns): created here; the (unit, date) indexes of screenings, services and
# cases are widened (dropped and created again with more columns).
_WIDENED = [
    ('screenings', 'ix_screenings_unit_date', ['unit', 'screened_on'],
     ['unit', 'screened_on', 'deleted', 'status', 'identification_status', 'person_id', 'id']),
    ('service_provisions', 'ix_service_provisions_unit_date', ['unit', 'started_on'],
     ['unit', 'started_on', 'deleted', 'status', 'beneficiary_role', 'service_type', 'person_id', 'id']),
    ('cases', 'ix_cases_unit_date', ['unit', 'registered_on'],
     ['unit', 'registered_on', 'deleted', 'status', 'case_type', 'id']),
]
_NEW = [
    ('screenings', 'ix_screenings_period', ['screened_on', 'deleted', 'status', 'unit', 'identification_status', 'person_id', 'id']),
    ('service_provisions', 'ix_service_provisions_period',
     ['started_on', 'deleted', 'status', 'unit', 'beneficiary_role', 'service_type', 'person_id', 'id']),
    ('suspects', 'ix_suspects_unit_date', ['unit', 'identified_on', 'deleted', 'status', 'arrest_status', 'person_id', 'id']),
    ('suspects', 'ix_suspects_period', ['identified_on', 'deleted', 'status', 'unit', 'arrest_status', 'person_id', 'id']),
    ('suspects', 'ix_suspects_case', ['case_id', 'deleted', 'status', 'person_id']),
    ('case_events', 'ix_case_events_stages', ['case_id', 'event', 'on_date', 'verdict', 'person_id']),
    ('trainings', 'ix_trainings_period', ['held_from', 'deleted', 'status', 'unit', 'id']),
    ('checkpoint_logs', 'ix_checkpoint_logs_period',
     ['log_date', 'deleted', 'status', 'unit', 'checkpoint_type', 'passengers_screened', 'referred_second_line', 'offloaded',
      'fraudulent_documents', 'intercepted', 'biometric_checks', 'biometric_failed']),
    ('record_counts', 'ix_record_counts_cells', ['record_id', 'field', 'dim1', 'dim2', 'n']),
]
# Indexes on an expression (the engine compares ``id || ''`` / ``field || ''``, see
# reports.engine._person_join and _codes_join).
_EXPRESSION = [
    ('persons', 'ix_persons_report', "(id || '')",
     ['sex', 'date_of_birth', 'age_years', 'created_at', 'citizenship', 'residence_province']),
    ('record_codes', 'ix_record_codes_lookup', "(field || '')", ['record_id', 'code']),
]


def upgrade() -> None:
    for table, name, old, new in _WIDENED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)
            batch_op.create_index(name, new, unique=False)
    for table, name, columns in _NEW:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, columns, unique=False)
    for table, name, expression, columns in _EXPRESSION:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, [sa.text(expression), *columns], unique=False)
    if op.get_bind().dialect.name == 'sqlite':
        # Table statistics, so SQLite's planner can tell the new indexes apart from the old
        # (sampled: a few seconds on a store of a million records).
        op.execute('PRAGMA analysis_limit = 1000')
        op.execute('ANALYZE')


def downgrade() -> None:
    for table, name, _expression, _columns in reversed(_EXPRESSION):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)
    for table, name, _columns in reversed(_NEW):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)
    for table, name, old, _new in reversed(_WIDENED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)
            batch_op.create_index(name, old, unique=False)
