# SPDX-License-Identifier: GPL-3.0-or-later
"""records: persons, screenings, cases, services, sessions, trainings, logs

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('record_codes',
    sa.Column('record_id', sa.String(length=36), nullable=False),
    sa.Column('field', sa.String(length=40), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('answer', sa.String(length=12), nullable=True),
    sa.PrimaryKeyConstraint('record_id', 'field', 'code')
    )
    with op.batch_alter_table('record_codes', schema=None) as batch_op:
        batch_op.create_index('ix_record_codes_field_code', ['field', 'code'], unique=False)

    op.create_table('record_counts',
    sa.Column('record_id', sa.String(length=36), nullable=False),
    sa.Column('field', sa.String(length=40), nullable=False),
    sa.Column('dim1', sa.String(length=40), nullable=False),
    sa.Column('dim2', sa.String(length=40), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('record_id', 'field', 'dim1', 'dim2')
    )
    with op.batch_alter_table('record_counts', schema=None) as batch_op:
        batch_op.create_index('ix_record_counts_field', ['field', 'dim1', 'dim2'], unique=False)

    op.create_table('record_history',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('record_type', sa.String(length=32), nullable=False),
    sa.Column('record_id', sa.String(length=36), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=40), nullable=False),
    sa.Column('old', sa.Text(), nullable=True),
    sa.Column('new', sa.Text(), nullable=True),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.Column('changed_by', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('record_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_record_history_record_id'), ['record_id'], unique=False)

    op.create_table('analysis_notes',
    sa.Column('written_on', sa.Date(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('lessons', sa.Text(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('origin_unit', sa.String(length=24), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('base_version', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=32), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('unit', sa.String(length=24), nullable=False),
    sa.ForeignKeyConstraint(['unit'], ['units.code'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('analysis_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_analysis_notes_unit'), ['unit'], unique=False)

    op.create_table('awareness_sessions',
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('district', sa.String(length=80), nullable=True),
    sa.Column('venue_type', sa.String(length=24), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('materials_distributed', sa.Integer(), nullable=False),
    sa.Column('survey_respondents', sa.Integer(), nullable=False),
    sa.Column('survey_named_forms', sa.Integer(), nullable=False),
    sa.Column('survey_knew_what_to_do', sa.Integer(), nullable=False),
    sa.Column('survey_knew_where_to_report', sa.Integer(), nullable=False),
    sa.Column('survey_acted_on_followup', sa.Integer(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('origin_unit', sa.String(length=24), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('base_version', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=32), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('unit', sa.String(length=24), nullable=False),
    sa.ForeignKeyConstraint(['unit'], ['units.code'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('awareness_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_awareness_sessions_unit'), ['unit'], unique=False)

    op.create_table('cases',
    sa.Column('fir_number', sa.String(length=40), nullable=False),
    sa.Column('enquiry_number', sa.String(length=40), nullable=False),
    sa.Column('registered_on', sa.Date(), nullable=False),
    sa.Column('case_type', sa.String(length=32), nullable=False),
    sa.Column('stage', sa.String(length=24), nullable=False),
    sa.Column('assets_frozen_pkr', sa.BigInteger(), nullable=False),
    sa.Column('assets_confiscated_pkr', sa.BigInteger(), nullable=False),
    sa.Column('assets_disposed_pkr', sa.BigInteger(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('origin_unit', sa.String(length=24), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('base_version', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=32), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('unit', sa.String(length=24), nullable=False),
    sa.ForeignKeyConstraint(['unit'], ['units.code'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_seq', ['seq'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_unit'), ['unit'], unique=False)
        batch_op.create_index('ix_cases_unit_date', ['unit', 'registered_on'], unique=False)

    op.create_table('checkpoint_logs',
    sa.Column('log_date', sa.Date(), nullable=False),
    sa.Column('checkpoint_type', sa.String(length=24), nullable=False),
    sa.Column('passengers_screened', sa.Integer(), nullable=False),
    sa.Column('referred_second_line', sa.Integer(), nullable=False),
    sa.Column('offloaded', sa.Integer(), nullable=False),
    sa.Column('fraudulent_documents', sa.Integer(), nullable=False),
    sa.Column('intercepted', sa.Integer(), nullable=False),
    sa.Column('biometric_checks', sa.Integer(), nullable=False),
    sa.Column('biometric_failed', sa.Integer(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('origin_unit', sa.String(length=24), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('base_version', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=32), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('unit', sa.String(length=24), nullable=False),
    sa.ForeignKeyConstraint(['unit'], ['units.code'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('checkpoint_logs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checkpoint_logs_unit'), ['unit'], unique=False)
        batch_op.create_index('ix_checkpoint_logs_unit_date', ['unit', 'log_date'], unique=False)

    op.create_table('coordination_entities',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('established_on', sa.Date(), nullable=True),
    sa.Column('functional', sa.Boolean(), nullable=True),
    sa.Column('members_female', sa.Integer(), nullable=False),
    sa.Column('members_male', sa.Integer(), nullable=False),
    sa.Column('members_transgender', sa.Integer(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('origin_unit', sa.String(length=24), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('base_version', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=32), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('unit', sa.String(length=24), nullable=False),
    sa.ForeignKeyConstraint(['unit'], ['units.code'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('coordination_entities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coordination_entities_unit'), ['unit'], unique=False)

    op.create_table('data_accesses',
    sa.Column('given_on', sa.Date(), nullable=False),
    sa.Column('stakeholder', sa.String(length=200), nullable=False),
    sa.Column('stakeholder_type', sa.String(length=40), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('origin_unit', sa.String(length=24), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('base_version', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=32), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('unit', sa.String(length=24), nullable=False),
    sa.ForeignKeyConstraint(['unit'], ['units.code'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('data_accesses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_data_accesses_unit'), ['unit'], unique=False)

    op.create_table('milestones',
    sa.Column('indicator', sa.String(length=12), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('progress', sa.String(length=16), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('achieved_on', sa.Date(), nullable=True),
    sa.Column('evidence_name', sa.String(length=200), nullable=True),
    sa.Column('evidence', sa.LargeBinary(), nullable=True),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('origin_unit', sa.String(length=24), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('base_version', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=32), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('unit', sa.String(length=24), nullable=False),
    sa.ForeignKeyConstraint(['unit'], ['units.code'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('milestones', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_milestones_unit'), ['unit'], unique=False)

    op.create_table('persons',
    sa.Column('sex', sa.String(length=16), nullable=False),
    sa.Column('date_of_birth', sa.Date(), nullable=True),
    sa.Column('age_years', sa.Integer(), nullable=True),
    sa.Column('age_estimated', sa.Boolean(), nullable=False),
    sa.Column('citizenship', sa.String(length=16), nullable=False),
    sa.Column('residence_province', sa.String(length=16), nullable=True),
    sa.Column('residence_district', sa.String(length=80), nullable=True),
    sa.Column('marital_status', sa.String(length=24), nullable=True),
    sa.Column('migration_status', sa.String(length=32), nullable=True),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('origin_unit', sa.String(length=24), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('base_version', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=32), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('unit', sa.String(length=24), nullable=False),
    sa.ForeignKeyConstraint(['unit'], ['units.code'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.create_index('ix_persons_seq', ['seq'], unique=False)
        batch_op.create_index(batch_op.f('ix_persons_unit'), ['unit'], unique=False)
        batch_op.create_index('ix_persons_unit_sex', ['unit', 'sex'], unique=False)

    op.create_table('service_providers',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('provider_type', sa.String(length=40), nullable=False),
    sa.Column('district', sa.String(length=80), nullable=True),
    sa.Column('capacity_strengthened_on', sa.Date(), nullable=True),
    sa.Column('uses_sops', sa.Boolean(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('origin_unit', sa.String(length=24), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('base_version', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=32), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('unit', sa.String(length=24), nullable=False),
    sa.ForeignKeyConstraint(['unit'], ['units.code'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('service_providers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_providers_unit'), ['unit'], unique=False)

    op.create_table('trainings',
    sa.Column('held_from', sa.Date(), nullable=False),
    sa.Column('held_to', sa.Date(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('hours', sa.Integer(), nullable=True),
    sa.Column('partner', sa.String(length=120), nullable=True),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('origin_unit', sa.String(length=24), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('base_version', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=32), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('unit', sa.String(length=24), nullable=False),
    sa.ForeignKeyConstraint(['unit'], ['units.code'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('trainings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trainings_unit'), ['unit'], unique=False)

    op.create_table('case_events',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('event', sa.String(length=24), nullable=False),
    sa.Column('on_date', sa.Date(), nullable=False),
    sa.Column('verdict', sa.String(length=24), nullable=True),
    sa.Column('sentence_months', sa.Integer(), nullable=True),
    sa.Column('fine_pkr', sa.Integer(), nullable=True),
    sa.Column('person_id', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_events_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_case_events_event_date', ['event', 'on_date'], unique=False)

    op.create_table('case_parties',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('party_role', sa.String(length=16), nullable=False),
    sa.Column('compensation_ordered_pkr', sa.Integer(), nullable=True),
    sa.Column('compensation_paid_pkr', sa.Integer(), nullable=True),
    sa.Column('assets_confiscated', sa.Boolean(), nullable=False),
    sa.Column('assets_disposed', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'person_id', 'party_role')
    )
    with op.batch_alter_table('case_parties', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_parties_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_parties_person_id'), ['person_id'], unique=False)

    op.create_table('coordination_gaps',
    sa.Column('entity_id', sa.String(length=36), nullable=True),
    sa.Column('identified_on', sa.Date(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('addressed_on', sa.Date(), nullable=True),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('origin_unit', sa.String(length=24), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('base_version', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=32), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('unit', sa.String(length=24), nullable=False),
    sa.ForeignKeyConstraint(['entity_id'], ['coordination_entities.id'], ),
    sa.ForeignKeyConstraint(['unit'], ['units.code'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('coordination_gaps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coordination_gaps_unit'), ['unit'], unique=False)

    op.create_table('coordination_meetings',
    sa.Column('entity_id', sa.String(length=36), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('attendees', sa.Integer(), nullable=False),
    sa.Column('decisions', sa.Integer(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('origin_unit', sa.String(length=24), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('base_version', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=32), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('unit', sa.String(length=24), nullable=False),
    sa.ForeignKeyConstraint(['entity_id'], ['coordination_entities.id'], ),
    sa.ForeignKeyConstraint(['unit'], ['units.code'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('coordination_meetings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coordination_meetings_entity_id'), ['entity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_coordination_meetings_unit'), ['unit'], unique=False)

    op.create_table('person_identities',
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('given_name', sa.String(length=120), nullable=False),
    sa.Column('family_name', sa.String(length=120), nullable=False),
    sa.Column('father_or_husband_name', sa.String(length=120), nullable=False),
    sa.Column('cnic', sa.String(length=20), nullable=False),
    sa.Column('passport_no', sa.String(length=20), nullable=False),
    sa.Column('other_id', sa.String(length=40), nullable=False),
    sa.Column('phone', sa.String(length=24), nullable=False),
    sa.Column('address', sa.Text(), nullable=False),
    sa.Column('name_key', sa.String(length=200), nullable=False),
    sa.Column('id_key', sa.String(length=40), nullable=False),
    sa.Column('passport_key', sa.String(length=40), nullable=False),
    sa.Column('other_id_key', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], ),
    sa.PrimaryKeyConstraint('person_id')
    )
    with op.batch_alter_table('person_identities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_identities_id_key'), ['id_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_person_identities_name_key'), ['name_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_person_identities_other_id_key'), ['other_id_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_person_identities_passport_key'), ['passport_key'], unique=False)

    op.create_table('screenings',
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('screened_on', sa.Date(), nullable=False),
    sa.Column('checkpoint_type', sa.String(length=24), nullable=True),
    sa.Column('location_type', sa.String(length=24), nullable=False),
    sa.Column('screener', sa.String(length=32), nullable=False),
    sa.Column('interpreter_language', sa.String(length=8), nullable=True),
    sa.Column('country_of_exploitation', sa.String(length=16), nullable=True),
    sa.Column('labour_sector', sa.String(length=40), nullable=True),
    sa.Column('recruitment_fee_pkr', sa.Integer(), nullable=True),
    sa.Column('identification_status', sa.String(length=32), nullable=True),
    sa.Column('decided_by', sa.String(length=32), nullable=True),
    sa.Column('is_child', sa.Boolean(), nullable=False),
    sa.Column('route_json', sa.Text(), nullable=False),
    sa.Column('narrative', sa.Text(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('origin_unit', sa.String(length=24), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('base_version', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=32), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('unit', sa.String(length=24), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], ),
    sa.ForeignKeyConstraint(['unit'], ['units.code'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('screenings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_screenings_identification_status'), ['identification_status'], unique=False)
        batch_op.create_index(batch_op.f('ix_screenings_person_id'), ['person_id'], unique=False)
        batch_op.create_index('ix_screenings_seq', ['seq'], unique=False)
        batch_op.create_index(batch_op.f('ix_screenings_unit'), ['unit'], unique=False)
        batch_op.create_index('ix_screenings_unit_date', ['unit', 'screened_on'], unique=False)

    op.create_table('survey_responses',
    sa.Column('survey_topic', sa.String(length=48), nullable=False),
    sa.Column('responded_on', sa.Date(), nullable=False),
    sa.Column('sex', sa.String(length=16), nullable=True),
    sa.Column('age_group', sa.String(length=16), nullable=True),
    sa.Column('district', sa.String(length=80), nullable=True),
    sa.Column('satisfaction', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.String(length=36), nullable=True),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('origin_unit', sa.String(length=24), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('base_version', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=32), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('unit', sa.String(length=24), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['service_providers.id'], ),
    sa.ForeignKeyConstraint(['unit'], ['units.code'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_responses_unit'), ['unit'], unique=False)

    op.create_table('referrals',
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('screening_id', sa.String(length=36), nullable=True),
    sa.Column('beneficiary_role', sa.String(length=24), nullable=False),
    sa.Column('referred_on', sa.Date(), nullable=False),
    sa.Column('direction', sa.String(length=8), nullable=True),
    sa.Column('provider_id', sa.String(length=36), nullable=True),
    sa.Column('consent', sa.String(length=12), nullable=True),
    sa.Column('outcome', sa.String(length=24), nullable=True),
    sa.Column('feedback_on', sa.Date(), nullable=True),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('origin_unit', sa.String(length=24), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('base_version', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=32), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('unit', sa.String(length=24), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], ),
    sa.ForeignKeyConstraint(['provider_id'], ['service_providers.id'], ),
    sa.ForeignKeyConstraint(['screening_id'], ['screenings.id'], ),
    sa.ForeignKeyConstraint(['unit'], ['units.code'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referrals_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_unit'), ['unit'], unique=False)

    op.create_table('suspects',
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('case_id', sa.String(length=36), nullable=True),
    sa.Column('screening_id', sa.String(length=36), nullable=True),
    sa.Column('identified_on', sa.Date(), nullable=False),
    sa.Column('arrest_status', sa.String(length=24), nullable=True),
    sa.Column('arrested_on', sa.Date(), nullable=True),
    sa.Column('organised_group', sa.Boolean(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('origin_unit', sa.String(length=24), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('base_version', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=32), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('unit', sa.String(length=24), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], ),
    sa.ForeignKeyConstraint(['screening_id'], ['screenings.id'], ),
    sa.ForeignKeyConstraint(['unit'], ['units.code'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('suspects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_suspects_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_suspects_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_suspects_unit'), ['unit'], unique=False)

    op.create_table('service_provisions',
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('beneficiary_role', sa.String(length=24), nullable=False),
    sa.Column('provider_id', sa.String(length=36), nullable=True),
    sa.Column('referral_id', sa.String(length=36), nullable=True),
    sa.Column('service_type', sa.String(length=32), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('consent', sa.String(length=12), nullable=True),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('origin_unit', sa.String(length=24), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('base_version', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=32), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('unit', sa.String(length=24), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], ),
    sa.ForeignKeyConstraint(['provider_id'], ['service_providers.id'], ),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], ),
    sa.ForeignKeyConstraint(['unit'], ['units.code'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('service_provisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_provisions_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_provisions_service_type'), ['service_type'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_provisions_unit'), ['unit'], unique=False)
        batch_op.create_index('ix_service_provisions_unit_date', ['unit', 'started_on'], unique=False)



def downgrade() -> None:
    raise NotImplementedError("NAP Desktop migrates forward only; restore a backup to go back")
