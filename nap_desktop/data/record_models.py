# SPDX-License-Identifier: GPL-3.0-or-later
"""Typed models of the captured records (DESIGN §4, reference/standards.md §7).

Every synced table carries the sync columns of :class:`SyncMixin`. Values that a record can hold
several of (multi-select code lists, ILO answers) live in ``record_codes``; count matrices
(participants by sex × age group, trainees by institution × sex) live in ``record_counts``;
dated case events and case parties have their own tables. Identity fields of a person are in
``person_identities``: never exported, visible only with the personal-data permission.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from nap_desktop.data.models import Base, new_id, utcnow


class SyncMixin:
    """The sync bookkeeping of DESIGN §4 plus ownership and status."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    origin_unit: Mapped[str] = mapped_column(String(24))
    version: Mapped[int] = mapped_column(Integer, default=1)
    base_version: Mapped[int] = mapped_column(Integer, default=0)
    # content_hash of the version this one was made from: tells apart two different edits that
    # happen to carry the same version numbers on two sites (sync conflict detection).
    base_hash: Mapped[str] = mapped_column(String(64), default="")
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(32), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(32), default="")
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="complete")

    @declared_attr
    def unit(cls) -> Mapped[str]:  # noqa: N805 - SQLAlchemy declared_attr
        return mapped_column(ForeignKey("units.code"), index=True)


class Person(SyncMixin, Base):
    """A victim, vulnerable migrant, suspect or witness (roles come through links)."""

    __tablename__ = "persons"

    sex: Mapped[str] = mapped_column(String(16), default="unknown")
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    age_years: Mapped[int | None] = mapped_column(Integer)
    age_estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    citizenship: Mapped[str] = mapped_column(String(16), default="unknown")
    residence_province: Mapped[str | None] = mapped_column(String(16))
    residence_district: Mapped[str | None] = mapped_column(String(80))
    marital_status: Mapped[str | None] = mapped_column(String(24))
    migration_status: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (
        Index("ix_persons_unit_sex", "unit", "sex"),
        Index("ix_persons_seq", "seq"),
        Index("ix_persons_list", "created_at", "id"),
        Index("ix_persons_live", "unit", "deleted"),
        # The duplicate check: persons born on a day, whose names are then compared by sound.
        Index("ix_persons_birth", "date_of_birth"),
        # The indicator engine's person lookups (reports.engine._person_join compares id || ''):
        # every attribute it reads, so a lookup never reads the table row.
        Index("ix_persons_report", text("(id || '')"), "sex", "date_of_birth", "age_years", "created_at", "citizenship", "residence_province"),
    )


class PersonIdentity(Base):
    """Identity of a person: personal data, never exported, every view audited."""

    __tablename__ = "person_identities"

    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), primary_key=True)
    given_name: Mapped[str] = mapped_column(String(120), default="")
    family_name: Mapped[str] = mapped_column(String(120), default="")
    father_or_husband_name: Mapped[str] = mapped_column(String(120), default="")
    cnic: Mapped[str] = mapped_column(String(20), default="")
    passport_no: Mapped[str] = mapped_column(String(20), default="")
    other_id: Mapped[str] = mapped_column(String(40), default="")
    phone: Mapped[str] = mapped_column(String(24), default="")
    address: Mapped[str] = mapped_column(Text, default="")
    name_key: Mapped[str] = mapped_column(String(200), default="", index=True)
    id_key: Mapped[str] = mapped_column(String(40), default="", index=True)  # CNIC
    passport_key: Mapped[str] = mapped_column(String(40), default="", index=True)
    other_id_key: Mapped[str] = mapped_column(String(40), default="", index=True)


# Name tokens compare byte by byte on every store, so that a prefix is one index range (SQLite's
# BINARY collation; PostgreSQL's "C" collation instead of the database's language order).
NAME_TOKEN_TYPE = String(40).with_variant(String(40, collation="C"), "postgresql")


class PersonNameToken(Base):
    """The name search's index: one row per word of a person's normalised name (``name_key``).

    Derived from ``person_identities``: written with it (services.records.name_token_rows and
    refresh_name_tokens), never exported. Personal data, as the name is.
    """

    __tablename__ = "person_name_tokens"

    token: Mapped[str] = mapped_column(NAME_TOKEN_TYPE, primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), primary_key=True)

    # The words of one person: rewritten with the name, and checked for each record a list walks.
    __table_args__ = (Index("ix_person_name_tokens_person", "person_id", "token"),)


class Screening(SyncMixin, Base):
    """One victim-identification interview (standards §4.4, §7.2)."""

    __tablename__ = "screenings"

    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    screened_on: Mapped[date] = mapped_column(Date)
    checkpoint_type: Mapped[str | None] = mapped_column(String(24))
    location_type: Mapped[str] = mapped_column(String(24))
    screener: Mapped[str] = mapped_column(String(32), default="")
    interpreter_language: Mapped[str | None] = mapped_column(String(8))
    country_of_exploitation: Mapped[str | None] = mapped_column(String(16))
    labour_sector: Mapped[str | None] = mapped_column(String(40))
    recruitment_fee_pkr: Mapped[int | None] = mapped_column(Integer)
    identification_status: Mapped[str | None] = mapped_column(String(32), index=True)
    decided_by: Mapped[str | None] = mapped_column(String(32))
    is_child: Mapped[bool] = mapped_column(Boolean, default=False)
    route_json: Mapped[str] = mapped_column(Text, default="[]")
    narrative: Mapped[str] = mapped_column(Text, default="")  # personal: hidden without access

    __table_args__ = (
        # Unit and date first; the other columns are what the indicator engine reads of a
        # unit's screenings of a period, so it never reads the (wide) rows. Nationally it
        # reads the same columns date first (ix_screenings_period).
        Index("ix_screenings_unit_date", "unit", "screened_on", "deleted", "status", "identification_status", "person_id", "id"),
        Index("ix_screenings_seq", "seq"),
        Index("ix_screenings_list", "screened_on", "id"),
        Index("ix_screenings_live", "unit", "deleted"),
        Index("ix_screenings_period", "screened_on", "deleted", "status", "unit", "identification_status", "person_id", "id"),
    )


class Case(SyncMixin, Base):
    """An enquiry / FIR and its prosecution (standards §7.3)."""

    __tablename__ = "cases"

    fir_number: Mapped[str] = mapped_column(String(40), default="")
    enquiry_number: Mapped[str] = mapped_column(String(40), default="")
    registered_on: Mapped[date] = mapped_column(Date)
    case_type: Mapped[str] = mapped_column(String(32))
    stage: Mapped[str] = mapped_column(String(24), default="registered")
    assets_frozen_pkr: Mapped[int] = mapped_column(BigInteger, default=0)
    assets_confiscated_pkr: Mapped[int] = mapped_column(BigInteger, default=0)
    assets_disposed_pkr: Mapped[int] = mapped_column(BigInteger, default=0)

    __table_args__ = (
        # Unit and date first, then what the indicator engine reads of a unit's cases.
        Index("ix_cases_unit_date", "unit", "registered_on", "deleted", "status", "case_type", "id"),
        Index("ix_cases_seq", "seq"),
    )


class CaseEvent(Base):
    """A dated stage event of a case (registered, arrest, challan, verdict …)."""

    __tablename__ = "case_events"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    event: Mapped[str] = mapped_column(String(24))
    on_date: Mapped[date] = mapped_column(Date)
    verdict: Mapped[str | None] = mapped_column(String(24))
    sentence_months: Mapped[int | None] = mapped_column(Integer)
    fine_pkr: Mapped[int | None] = mapped_column(Integer)
    person_id: Mapped[str | None] = mapped_column(ForeignKey("persons.id"))

    __table_args__ = (
        Index("ix_case_events_event_date", "event", "on_date"),
        # The indicator engine's stages of each case (every column it reads).
        Index("ix_case_events_stages", "case_id", "event", "on_date", "verdict", "person_id"),
    )


class CaseParty(Base):
    """A victim, suspect or witness linked to a case, with compensation and assets."""

    __tablename__ = "case_parties"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    party_role: Mapped[str] = mapped_column(String(16))  # victim / suspect / witness
    compensation_ordered_pkr: Mapped[int | None] = mapped_column(Integer)
    compensation_paid_pkr: Mapped[int | None] = mapped_column(Integer)
    assets_confiscated: Mapped[bool] = mapped_column(Boolean, default=False)
    assets_disposed: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (UniqueConstraint("case_id", "person_id", "party_role"),)


class Suspect(SyncMixin, Base):
    """A person's role in a trafficking or smuggling process."""

    __tablename__ = "suspects"

    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"), index=True)
    screening_id: Mapped[str | None] = mapped_column(ForeignKey("screenings.id"), index=True)
    identified_on: Mapped[date] = mapped_column(Date)
    arrest_status: Mapped[str | None] = mapped_column(String(24))
    arrested_on: Mapped[date | None] = mapped_column(Date)
    organised_group: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        Index("ix_suspects_list", "identified_on", "id"),
        Index("ix_suspects_live", "unit", "deleted"),
        # The indicator engine's suspects of a period (a unit's; the nation's) and of a case:
        # every column it reads.
        Index("ix_suspects_unit_date", "unit", "identified_on", "deleted", "status", "arrest_status", "person_id", "id"),
        Index("ix_suspects_period", "identified_on", "deleted", "status", "unit", "arrest_status", "person_id", "id"),
        Index("ix_suspects_case", "case_id", "deleted", "status", "person_id"),
    )


class ServiceProvider(SyncMixin, Base):
    """An organisation that supports victims (shelter, NGO, hospital, legal aid …)."""

    __tablename__ = "service_providers"

    name: Mapped[str] = mapped_column(String(200))
    provider_type: Mapped[str] = mapped_column(String(40))
    district: Mapped[str | None] = mapped_column(String(80))
    capacity_strengthened_on: Mapped[date | None] = mapped_column(Date)
    uses_sops: Mapped[bool] = mapped_column(Boolean, default=False)


class Referral(SyncMixin, Base):
    """A referral of a person to (or from) a provider."""

    __tablename__ = "referrals"

    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    screening_id: Mapped[str | None] = mapped_column(ForeignKey("screenings.id"), index=True)
    beneficiary_role: Mapped[str] = mapped_column(String(24))
    referred_on: Mapped[date] = mapped_column(Date)
    direction: Mapped[str | None] = mapped_column(String(8))
    provider_id: Mapped[str | None] = mapped_column(ForeignKey("service_providers.id"), index=True)
    consent: Mapped[str | None] = mapped_column(String(12))
    outcome: Mapped[str | None] = mapped_column(String(24))
    feedback_on: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (Index("ix_referrals_list", "referred_on", "id"), Index("ix_referrals_live", "unit", "deleted"),)


class ServiceProvision(SyncMixin, Base):
    """A service given to a victim, vulnerable migrant or witness."""

    __tablename__ = "service_provisions"

    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    beneficiary_role: Mapped[str] = mapped_column(String(24))
    provider_id: Mapped[str | None] = mapped_column(ForeignKey("service_providers.id"), index=True)
    referral_id: Mapped[str | None] = mapped_column(ForeignKey("referrals.id"), index=True)
    service_type: Mapped[str] = mapped_column(String(32), index=True)
    started_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    consent: Mapped[str | None] = mapped_column(String(12))

    __table_args__ = (
        # Unit and date first, then what the indicator engine reads of a unit's services of a
        # period; nationally the same columns date first (ix_service_provisions_period).
        Index("ix_service_provisions_unit_date", "unit", "started_on", "deleted", "status", "beneficiary_role", "service_type", "person_id", "id"),
        Index("ix_service_provisions_list", "started_on", "id"),
        Index("ix_service_provisions_live", "unit", "deleted"),
        Index("ix_service_provisions_period", "started_on", "deleted", "status", "unit", "beneficiary_role", "service_type", "person_id", "id"),
    )


class AwarenessSession(SyncMixin, Base):
    """An awareness session; participants and survey counts, never participants' identities."""

    __tablename__ = "awareness_sessions"

    held_on: Mapped[date] = mapped_column(Date)
    district: Mapped[str | None] = mapped_column(String(80))
    venue_type: Mapped[str] = mapped_column(String(24))
    language: Mapped[str | None] = mapped_column(String(8))
    materials_distributed: Mapped[int] = mapped_column(Integer, default=0)
    survey_respondents: Mapped[int] = mapped_column(Integer, default=0)
    survey_named_forms: Mapped[int] = mapped_column(Integer, default=0)
    survey_knew_what_to_do: Mapped[int] = mapped_column(Integer, default=0)
    survey_knew_where_to_report: Mapped[int] = mapped_column(Integer, default=0)
    survey_acted_on_followup: Mapped[int] = mapped_column(Integer, default=0)


class Training(SyncMixin, Base):
    """A training of officials; trainees and those with increased knowledge in record_counts."""

    __tablename__ = "trainings"

    held_from: Mapped[date] = mapped_column(Date)
    held_to: Mapped[date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(200), default="")
    hours: Mapped[int | None] = mapped_column(Integer)
    partner: Mapped[str | None] = mapped_column(String(120))

    # The indicator engine's trainings of a period.
    __table_args__ = (Index("ix_trainings_period", "held_from", "deleted", "status", "unit", "id"),)


class CheckpointLog(SyncMixin, Base):
    """Daily counts of one checkpoint."""

    __tablename__ = "checkpoint_logs"

    log_date: Mapped[date] = mapped_column(Date)
    checkpoint_type: Mapped[str] = mapped_column(String(24))
    passengers_screened: Mapped[int] = mapped_column(Integer, default=0)
    referred_second_line: Mapped[int] = mapped_column(Integer, default=0)
    offloaded: Mapped[int] = mapped_column(Integer, default=0)
    fraudulent_documents: Mapped[int] = mapped_column(Integer, default=0)
    intercepted: Mapped[int] = mapped_column(Integer, default=0)
    biometric_checks: Mapped[int] = mapped_column(Integer, default=0)
    biometric_failed: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        Index("ix_checkpoint_logs_unit_date", "unit", "log_date"),
        Index("ix_checkpoint_logs_list", "log_date", "id"),
        Index("ix_checkpoint_logs_live", "unit", "deleted"),
        # The indicator engine's logs of a period (every column it reads).
        Index(
            "ix_checkpoint_logs_period",
            "log_date", "deleted", "status", "unit", "checkpoint_type", "passengers_screened", "referred_second_line",
            "offloaded", "fraudulent_documents", "intercepted", "biometric_checks", "biometric_failed",
        ),
    )


class CoordinationEntity(SyncMixin, Base):
    """A coordination structure (task force, committee, working group)."""

    __tablename__ = "coordination_entities"

    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(16))  # national / provincial / district
    established_on: Mapped[date | None] = mapped_column(Date)
    functional: Mapped[bool | None] = mapped_column(Boolean)
    members_female: Mapped[int] = mapped_column(Integer, default=0)
    members_male: Mapped[int] = mapped_column(Integer, default=0)
    members_transgender: Mapped[int] = mapped_column(Integer, default=0)


class CoordinationMeeting(SyncMixin, Base):
    __tablename__ = "coordination_meetings"

    entity_id: Mapped[str] = mapped_column(ForeignKey("coordination_entities.id"), index=True)
    held_on: Mapped[date] = mapped_column(Date)
    attendees: Mapped[int] = mapped_column(Integer, default=0)
    decisions: Mapped[int] = mapped_column(Integer, default=0)


class CoordinationGap(SyncMixin, Base):
    __tablename__ = "coordination_gaps"

    entity_id: Mapped[str | None] = mapped_column(ForeignKey("coordination_entities.id"))
    identified_on: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text, default="")
    addressed_on: Mapped[date | None] = mapped_column(Date)


class SurveyResponse(SyncMixin, Base):
    """One satisfaction response (victims on care, stakeholders on coordination, public on controls)."""

    __tablename__ = "survey_responses"

    survey_topic: Mapped[str] = mapped_column(String(48))
    responded_on: Mapped[date] = mapped_column(Date)
    sex: Mapped[str | None] = mapped_column(String(16))
    age_group: Mapped[str | None] = mapped_column(String(16))
    district: Mapped[str | None] = mapped_column(String(80))
    satisfaction: Mapped[int] = mapped_column(Integer)  # 1 (very unsatisfied) … 5 (very satisfied)
    provider_id: Mapped[str | None] = mapped_column(ForeignKey("service_providers.id"))


class Milestone(SyncMixin, Base):
    """A qualitative deliverable of the plan, with evidence stored encrypted in the store."""

    __tablename__ = "milestones"

    indicator: Mapped[str] = mapped_column(String(12))
    title: Mapped[str] = mapped_column(String(200))
    progress: Mapped[str] = mapped_column(String(16), default="planned")
    due_on: Mapped[date | None] = mapped_column(Date)
    achieved_on: Mapped[date | None] = mapped_column(Date)
    evidence_name: Mapped[str | None] = mapped_column(String(200))
    evidence: Mapped[bytes | None] = mapped_column(LargeBinary)


class AnalysisNote(SyncMixin, Base):
    __tablename__ = "analysis_notes"

    written_on: Mapped[date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(200))
    lessons: Mapped[str] = mapped_column(Text, default="")


class DataAccess(SyncMixin, Base):
    __tablename__ = "data_accesses"

    given_on: Mapped[date] = mapped_column(Date)
    stakeholder: Mapped[str] = mapped_column(String(200))
    stakeholder_type: Mapped[str] = mapped_column(String(40))
    purpose: Mapped[str] = mapped_column(Text, default="")


class RecordCode(Base):
    """A multi-valued code of a record (e.g. exploitation types), or an answer to a checklist item."""

    __tablename__ = "record_codes"

    record_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    field: Mapped[str] = mapped_column(String(40), primary_key=True)
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    answer: Mapped[str | None] = mapped_column(String(12))

    __table_args__ = (
        Index("ix_record_codes_field_code", "field", "code"),
        # The codes of one field of a record (reports.engine._codes_join compares field || ''):
        # the lookups stay within the field's part of the index.
        Index("ix_record_codes_lookup", text("(field || '')"), "record_id", "code"),
    )


class RecordCount(Base):
    """One cell of a count matrix (e.g. participants: female × child = 12)."""

    __tablename__ = "record_counts"

    record_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    field: Mapped[str] = mapped_column(String(40), primary_key=True)
    dim1: Mapped[str] = mapped_column(String(40), primary_key=True)
    dim2: Mapped[str] = mapped_column(String(40), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_record_counts_field", "field", "dim1", "dim2"),
        # The cells of a record with their counts, read without the table row.
        Index("ix_record_counts_cells", "record_id", "field", "dim1", "dim2", "n"),
    )


class RecordHistory(Base):
    """From → to per field and version. Personal values stay here, inside the encrypted store."""

    __tablename__ = "record_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_type: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[str] = mapped_column(String(36), index=True)
    version: Mapped[int] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(40))
    old: Mapped[str | None] = mapped_column(Text)
    new: Mapped[str | None] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_by: Mapped[str] = mapped_column(String(32))


MODEL_BY_TYPE: dict[str, type[SyncMixin]] = {
    "person": Person,
    "screening": Screening,
    "suspect": Suspect,
    "case": Case,
    "service_provider": ServiceProvider,
    "referral": Referral,
    "service": ServiceProvision,
    "awareness_session": AwarenessSession,
    "training": Training,
    "checkpoint_log": CheckpointLog,
    "coordination_entity": CoordinationEntity,
    "coordination_meeting": CoordinationMeeting,
    "coordination_gap": CoordinationGap,
    "survey_response": SurveyResponse,
    "milestone": Milestone,
    "analysis_note": AnalysisNote,
    "data_access": DataAccess,
}
