# SPDX-License-Identifier: GPL-3.0-or-later
"""What each record type holds: its fields, their kinds and code lists, and who may see them.

This is data about the data: the services validate and store from it, the CLI and the bulk
importer build templates from it, the GUI builds its forms from it. Field names follow HTCDS
where it has one (reference/standards.md §7).

Field kinds:

- ``text``, ``int``, ``date``, ``bool``: a plain value.
- ``code``: one value from a code list; ``codes``: several (stored in ``record_codes``).
- ``answers``: a checklist, each item of ``codelist`` answered from the ``answer`` list
  (yes / no / unknown / not_asked), e.g. the ILO indicators and the consent checks.
- ``matrix``: counts by two code lists, e.g. participants by sex × age group.
- ``ref``: the id of another record (``ref`` names its type).
- ``route``, ``events``, ``parties``: the structured lists of a screening and a case.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

STATUSES = ("draft", "complete")
PARTY_ROLES = ("victim", "suspect", "witness")


@dataclass(frozen=True)
class FieldSpec:
    """One field of a record type."""

    name: str
    kind: str
    label_en: str
    label_ur: str
    codelist: str | None = None
    required: bool = False  # needed to complete the record (a draft may leave it empty)
    required_for_draft: bool = False  # needed even for a draft
    personal: bool = False  # identity data: masked without the personal-data permission
    ref: str | None = None
    dims: tuple[str, str] | None = None
    minimum: int | None = None
    maximum: int | None = None
    max_length: int = 200
    storage: str = "column"  # column / identity / codes / counts / events / parties / route


@dataclass(frozen=True)
class RecordType:
    """A record type: its table, date field (for periods and locks) and fields."""

    name: str
    table: str
    label_en: str
    label_ur: str
    date_field: str
    fields: tuple[FieldSpec, ...]
    person_field: str | None = None  # the field linking a person, for sex/age/citizenship filters
    summary: tuple[str, ...] = ()  # columns shown in lists
    extra: dict[str, str] = field(default_factory=dict)

    def field(self, name: str) -> FieldSpec:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @cached_property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @cached_property
    def personal_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.personal)


def _f(name: str, kind: str, en: str, ur: str, **kw: object) -> FieldSpec:
    storage = kw.pop("storage", None)
    if storage is None:
        storage = {"codes": "codes", "answers": "codes", "matrix": "counts", "events": "events", "parties": "parties", "route": "route"}.get(
            kind, "column"
        )
    return FieldSpec(name, kind, en, ur, storage=str(storage), **kw)  # type: ignore[arg-type]


_IDENTITY = {"storage": "identity", "personal": True}

PERSON = RecordType(
    "person",
    "persons",
    "Person",
    "فرد",
    "created_on",
    (
        _f("given_name", "text", "Given name", "نام", max_length=120, **_IDENTITY),
        _f("family_name", "text", "Family name", "خاندانی نام", max_length=120, **_IDENTITY),
        _f("father_or_husband_name", "text", "Father's / husband's name", "والد / شوہر کا نام", max_length=120, **_IDENTITY),
        _f("cnic", "text", "CNIC number", "شناختی کارڈ نمبر", max_length=20, **_IDENTITY),
        _f("passport_no", "text", "Passport number", "پاسپورٹ نمبر", max_length=20, **_IDENTITY),
        _f("other_id", "text", "Other identity document", "دیگر شناختی دستاویز", max_length=40, **_IDENTITY),
        _f("phone", "text", "Phone", "فون", max_length=24, **_IDENTITY),
        _f("address", "text", "Address", "پتہ", max_length=500, **_IDENTITY),
        _f("sex", "code", "Sex", "جنس", codelist="sex", required_for_draft=True),
        _f("date_of_birth", "date", "Date of birth", "تاریخ پیدائش"),
        _f("age_years", "int", "Age (years)", "عمر (سال)", minimum=0, maximum=120),
        _f("age_estimated", "bool", "Age is an estimate", "عمر اندازاً ہے"),
        _f("citizenship", "code", "Citizenship", "شہریت", codelist="citizenship", required_for_draft=True),
        _f("residence_province", "code", "Province of residence", "رہائش کا صوبہ", codelist="province"),
        _f("residence_district", "text", "District of residence", "رہائش کا ضلع", max_length=80),
        _f("marital_status", "code", "Marital status", "ازدواجی حیثیت", codelist="marital_status"),
        _f("migration_status", "code", "Migration status", "نقل مکانی کی حیثیت", codelist="migration_status"),
    ),
    summary=("sex", "age_years", "citizenship"),
)

SCREENING = RecordType(
    "screening",
    "screenings",
    "Screening",
    "اسکریننگ",
    "screened_on",
    (
        _f("person_id", "ref", "Person", "فرد", ref="person", required_for_draft=True),
        _f("screened_on", "date", "Date of screening", "اسکریننگ کی تاریخ", required_for_draft=True),
        _f("location_type", "code", "Where", "مقام کی قسم", codelist="location_type", required_for_draft=True),
        _f("checkpoint_type", "code", "Checkpoint", "چیک پوائنٹ", codelist="checkpoint_type"),
        _f("interpreter_language", "code", "Interpreter language", "ترجمان کی زبان", codelist="language"),
        _f("consent", "answers", "Consent checks", "رضامندی کی جانچ", codelist="consent_check"),
        _f("ilo_indicators", "answers", "ILO forced-labour indicators", "جبری مشقت کے اشاریے (آئی ایل او)", codelist="ilo_forced_labour_indicator"),
        _f("means_of_control", "codes", "Means of control", "قابو رکھنے کے طریقے", codelist="means_of_control"),
        _f("palermo_act", "codes", "Act (Palermo)", "عمل (پالرمو)", codelist="palermo_act"),
        _f("palermo_means", "codes", "Means (Palermo)", "ذرائع (پالرمو)", codelist="palermo_means"),
        _f("palermo_purpose", "codes", "Purpose (Palermo)", "مقصد (پالرمو)", codelist="palermo_purpose"),
        _f("smuggling_elements", "codes", "Smuggling elements", "اسمگلنگ کے عناصر", codelist="smuggling_element"),
        _f("route", "route", "Route events", "راستے کے واقعات"),
        _f("country_of_exploitation", "code", "Country of exploitation", "استحصال کا ملک", codelist="citizenship"),
        _f("exploitation_types", "codes", "Exploitation types", "استحصال کی اقسام", codelist="exploitation_type"),
        _f("labour_sector", "code", "Labour sector", "مزدوری کا شعبہ", codelist="labour_sector"),
        _f("sexual_exploitation_types", "codes", "Sexual exploitation types", "جنسی استحصال کی اقسام", codelist="sexual_exploitation_type"),
        _f("recruitment_methods", "codes", "Recruitment methods", "بھرتی کے طریقے", codelist="recruitment_method"),
        _f("recruiter_relation", "codes", "Relation to recruiter", "بھرتی کرنے والے سے تعلق", codelist="recruiter_relation"),
        _f("recruitment_fee_pkr", "int", "Fees paid (PKR)", "ادا کردہ فیس (روپے)", minimum=0, maximum=100_000_000),
        _f("identification_status", "code", "Identification outcome", "شناخت کا نتیجہ", codelist="identification_status", required=True),
        _f("decided_by", "code", "Decided by", "فیصلہ کنندہ", codelist="decision_maker", required=True),
        _f("immediate_needs", "codes", "Immediate needs", "فوری ضروریات", codelist="immediate_need"),
        _f("narrative", "text", "Narrative", "بیان", max_length=20_000, personal=True),
    ),
    person_field="person_id",
    summary=("screened_on", "location_type", "identification_status"),
)

SUSPECT = RecordType(
    "suspect",
    "suspects",
    "Suspect",
    "ملزم",
    "identified_on",
    (
        _f("person_id", "ref", "Person", "فرد", ref="person", required_for_draft=True),
        _f("case_id", "ref", "Case", "مقدمہ", ref="case"),
        _f("screening_id", "ref", "Screening", "اسکریننگ", ref="screening"),
        _f("identified_on", "date", "Identified on", "شناخت کی تاریخ", required_for_draft=True),
        _f("roles", "codes", "Role(s) in the process", "عمل میں کردار", codelist="suspect_role", required=True),
        _f("arrest_status", "code", "Arrest status", "گرفتاری کی حیثیت", codelist="arrest_status", required=True),
        _f("arrested_on", "date", "Arrested on", "تاریخ گرفتاری"),
        _f("organised_group", "bool", "Member of an organised group", "منظم گروہ کا رکن"),
    ),
    person_field="person_id",
    summary=("identified_on", "arrest_status"),
)

CASE = RecordType(
    "case",
    "cases",
    "Case",
    "مقدمہ",
    "registered_on",
    (
        _f("fir_number", "text", "FIR number", "ایف آئی آر نمبر", max_length=40),
        _f("enquiry_number", "text", "Enquiry number", "انکوائری نمبر", max_length=40),
        _f("registered_on", "date", "Registered on", "اندراج کی تاریخ", required_for_draft=True),
        _f("case_type", "code", "Case type", "مقدمے کی قسم", codelist="case_type", required_for_draft=True),
        _f("offences", "codes", "Offences (law and section)", "جرائم (قانون اور دفعہ)", codelist="offence_law", required=True),
        _f("events", "events", "Stage events", "مقدمے کے مراحل"),
        _f("parties", "parties", "Victims, suspects and witnesses", "متاثرین، ملزمان اور گواہ"),
        _f("assets_frozen_pkr", "int", "Assets frozen (PKR)", "منجمد اثاثے (روپے)", minimum=0, maximum=10**13),
        _f("assets_confiscated_pkr", "int", "Assets confiscated (PKR)", "ضبط شدہ اثاثے (روپے)", minimum=0, maximum=10**13),
        _f("assets_disposed_pkr", "int", "Assets disposed (PKR)", "نمٹائے گئے اثاثے (روپے)", minimum=0, maximum=10**13),
    ),
    summary=("registered_on", "case_type", "fir_number"),
)

SERVICE_PROVIDER = RecordType(
    "service_provider",
    "service_providers",
    "Service provider",
    "خدمات فراہم کنندہ",
    "created_on",
    (
        _f("name", "text", "Organisation", "ادارہ", required_for_draft=True),
        _f("provider_type", "code", "Type", "قسم", codelist="provider_type", required_for_draft=True),
        _f("district", "text", "District", "ضلع", max_length=80),
        _f("capacity_strengthened_on", "date", "Capacity strengthened (trained) on", "استعداد کار میں اضافے کی تاریخ"),
        _f("uses_sops", "bool", "Uses the SOPs", "ایس او پیز استعمال کرتا ہے"),
    ),
    summary=("name", "provider_type"),
)

REFERRAL = RecordType(
    "referral",
    "referrals",
    "Referral",
    "ریفرل",
    "referred_on",
    (
        _f("person_id", "ref", "Person", "فرد", ref="person", required_for_draft=True),
        _f("screening_id", "ref", "Screening", "اسکریننگ", ref="screening"),
        _f("beneficiary_role", "code", "Referred as", "بحیثیت", codelist="beneficiary_role", required_for_draft=True),
        _f("referred_on", "date", "Referred on", "ریفرل کی تاریخ", required_for_draft=True),
        _f("direction", "code", "Direction", "سمت", codelist="referral_direction", required=True),
        _f("provider_id", "ref", "Provider", "فراہم کنندہ", ref="service_provider", required=True),
        _f("reasons", "codes", "Reasons", "وجوہات", codelist="referral_reason", required=True),
        _f("consent", "code", "Consent to refer", "ریفرل کی رضامندی", codelist="answer", required=True),
        _f("outcome", "code", "Outcome", "نتیجہ", codelist="referral_outcome"),
        _f("feedback_on", "date", "Feedback on", "جواب کی تاریخ"),
    ),
    person_field="person_id",
    summary=("referred_on", "beneficiary_role", "outcome"),
)

SERVICE_PROVISION = RecordType(
    "service",
    "service_provisions",
    "Service",
    "خدمت",
    "started_on",
    (
        _f("person_id", "ref", "Person", "فرد", ref="person", required_for_draft=True),
        _f("beneficiary_role", "code", "Supported as", "بحیثیت", codelist="beneficiary_role", required_for_draft=True),
        _f("provider_id", "ref", "Provider", "فراہم کنندہ", ref="service_provider"),
        _f("referral_id", "ref", "Referral", "ریفرل", ref="referral"),
        _f("service_type", "code", "Service", "خدمت کی قسم", codelist="service_type", required_for_draft=True),
        _f("started_on", "date", "Started on", "آغاز کی تاریخ", required_for_draft=True),
        _f("ended_on", "date", "Ended on", "اختتام کی تاریخ"),
        _f("consent", "code", "Consent", "رضامندی", codelist="answer", required=True),
    ),
    person_field="person_id",
    summary=("started_on", "service_type", "beneficiary_role"),
)

AWARENESS_SESSION = RecordType(
    "awareness_session",
    "awareness_sessions",
    "Awareness session",
    "آگاہی سیشن",
    "held_on",
    (
        _f("held_on", "date", "Held on", "تاریخ", required_for_draft=True),
        _f("district", "text", "District", "ضلع", max_length=80),
        _f("venue_type", "code", "Venue", "مقام", codelist="venue_type", required_for_draft=True),
        _f("audience_groups", "codes", "Audience", "سامعین", codelist="audience_group", required=True),
        _f("participants", "matrix", "Participants", "شرکاء", dims=("sex", "age_group"), required=True),
        _f("topics", "codes", "Topics", "موضوعات", codelist="awareness_topic", required=True),
        _f("language", "code", "Language", "زبان", codelist="language"),
        _f("materials_distributed", "int", "Materials distributed", "تقسیم شدہ مواد", minimum=0, maximum=1_000_000),
        _f("survey_respondents", "int", "Survey respondents", "سروے میں جواب دہندگان", minimum=0, maximum=1_000_000),
        _f("survey_named_forms", "int", "Could name forms of TIP/SOM", "اقسام بتا سکے", minimum=0, maximum=1_000_000),
        _f("survey_knew_what_to_do", "int", "Knew what to do", "جانتے تھے کیا کرنا ہے", minimum=0, maximum=1_000_000),
        _f("survey_knew_where_to_report", "int", "Knew where to report", "جانتے تھے کہاں رپورٹ کرنی ہے", minimum=0, maximum=1_000_000),
        _f("survey_acted_on_followup", "int", "Acted on it (follow-up)", "عمل کیا (فالو اپ)", minimum=0, maximum=1_000_000),
    ),
    summary=("held_on", "venue_type", "district"),
)

TRAINING = RecordType(
    "training",
    "trainings",
    "Training",
    "تربیت",
    "held_from",
    (
        _f("held_from", "date", "From", "سے", required_for_draft=True),
        _f("held_to", "date", "To", "تک", required_for_draft=True),
        _f("title", "text", "Title", "عنوان"),
        _f("topics", "codes", "Topics", "موضوعات", codelist="training_topic", required=True),
        _f("trainees", "matrix", "Trainees", "تربیت پانے والے", dims=("trainee_institution", "sex"), required=True),
        _f("increased_knowledge", "matrix", "Trainees with increased knowledge", "علم میں اضافہ والے", dims=("trainee_institution", "sex")),
        _f("hours", "int", "Hours", "گھنٹے", minimum=0, maximum=1000),
        _f("partner", "text", "Partner", "شراکت دار", max_length=120),
    ),
    summary=("held_from", "title"),
)

CHECKPOINT_LOG = RecordType(
    "checkpoint_log",
    "checkpoint_logs",
    "Checkpoint log",
    "چیک پوائنٹ لاگ",
    "log_date",
    (
        _f("log_date", "date", "Date", "تاریخ", required_for_draft=True),
        _f("checkpoint_type", "code", "Checkpoint", "چیک پوائنٹ", codelist="checkpoint_type", required_for_draft=True),
        _f("passengers_screened", "int", "Passengers screened", "جانچے گئے مسافر", minimum=0, maximum=10_000_000),
        _f("referred_second_line", "int", "Referred to second-line checks", "دوسری جانچ کو بھیجے گئے", minimum=0, maximum=10_000_000),
        _f("offloaded", "int", "Offloaded", "آف لوڈ", minimum=0, maximum=10_000_000),
        _f("fraudulent_documents", "int", "Fraudulent documents", "جعلی دستاویزات", minimum=0, maximum=10_000_000),
        _f("intercepted", "int", "Intercepted", "روکے گئے", minimum=0, maximum=10_000_000),
        _f("biometric_checks", "int", "Biometric checks", "بائیو میٹرک جانچ", minimum=0, maximum=10_000_000),
        _f("biometric_failed", "int", "Biometric checks failed", "ناکام بائیو میٹرک جانچ", minimum=0, maximum=10_000_000),
    ),
    summary=("log_date", "checkpoint_type", "passengers_screened"),
)

COORDINATION_ENTITY = RecordType(
    "coordination_entity",
    "coordination_entities",
    "Coordination body",
    "رابطہ کاری کا ادارہ",
    "created_on",
    (
        _f("name", "text", "Name", "نام", required_for_draft=True),
        _f("level", "code", "Level", "سطح", codelist="coordination_level", required_for_draft=True),
        _f("established_on", "date", "Established on", "قیام کی تاریخ"),
        _f("functional", "bool", "Functional", "فعال"),
        _f("members_female", "int", "Members: women", "اراکین: خواتین", minimum=0, maximum=10_000),
        _f("members_male", "int", "Members: men", "اراکین: مرد", minimum=0, maximum=10_000),
        _f("members_transgender", "int", "Members: transgender", "اراکین: خواجہ سرا", minimum=0, maximum=10_000),
    ),
    summary=("name", "level"),
)

COORDINATION_MEETING = RecordType(
    "coordination_meeting",
    "coordination_meetings",
    "Coordination meeting",
    "رابطہ کاری اجلاس",
    "held_on",
    (
        _f("entity_id", "ref", "Body", "ادارہ", ref="coordination_entity", required_for_draft=True),
        _f("held_on", "date", "Held on", "تاریخ", required_for_draft=True),
        _f("attendees", "int", "Attendees", "شرکاء", minimum=0, maximum=10_000),
        _f("decisions", "int", "Decisions taken", "فیصلے", minimum=0, maximum=10_000),
    ),
    summary=("held_on", "attendees"),
)

COORDINATION_GAP = RecordType(
    "coordination_gap",
    "coordination_gaps",
    "Coordination gap",
    "رابطہ کاری میں خلا",
    "identified_on",
    (
        _f("entity_id", "ref", "Body", "ادارہ", ref="coordination_entity"),
        _f("identified_on", "date", "Identified on", "نشاندہی کی تاریخ", required_for_draft=True),
        _f("description", "text", "Gap", "خلا", max_length=2000, required=True),
        _f("addressed_on", "date", "Addressed on", "دور کرنے کی تاریخ"),
    ),
    summary=("identified_on", "addressed_on"),
)

SURVEY_RESPONSE = RecordType(
    "survey_response",
    "survey_responses",
    "Survey response",
    "سروے جواب",
    "responded_on",
    (
        _f("survey_topic", "code", "Survey", "سروے", codelist="survey_topic", required_for_draft=True),
        _f("responded_on", "date", "Date", "تاریخ", required_for_draft=True),
        _f("sex", "code", "Sex", "جنس", codelist="sex", required=True),
        _f("age_group", "code", "Age group", "عمر کا گروپ", codelist="age_group", required=True),
        _f("district", "text", "District", "ضلع", max_length=80),
        _f("satisfaction", "int", "Satisfaction (1–5)", "اطمینان (1 تا 5)", minimum=1, maximum=5, required_for_draft=True),
        _f("provider_id", "ref", "Provider", "فراہم کنندہ", ref="service_provider"),
    ),
    summary=("responded_on", "survey_topic", "satisfaction"),
)

MILESTONE = RecordType(
    "milestone",
    "milestones",
    "Milestone",
    "سنگ میل",
    "created_on",
    (
        _f("indicator", "text", "Indicator code", "اشاریہ کوڈ", max_length=12, required_for_draft=True),
        _f("title", "text", "Deliverable", "نتیجہ", required_for_draft=True),
        _f("progress", "code", "Progress", "پیش رفت", codelist="milestone_progress", required_for_draft=True),
        _f("due_on", "date", "Due on", "مقررہ تاریخ", storage="column"),
        _f("achieved_on", "date", "Achieved on", "حصول کی تاریخ"),
        _f("evidence_name", "text", "Evidence file", "ثبوت کی فائل"),
    ),
    summary=("indicator", "title", "progress"),
)

ANALYSIS_NOTE = RecordType(
    "analysis_note",
    "analysis_notes",
    "Analysis note",
    "تجزیاتی نوٹ",
    "written_on",
    (
        _f("written_on", "date", "Date", "تاریخ", required_for_draft=True),
        _f("title", "text", "Issue analysed", "زیر تجزیہ مسئلہ", required_for_draft=True),
        _f("lessons", "text", "Lessons", "اسباق", max_length=20_000),
    ),
    summary=("written_on", "title"),
)

DATA_ACCESS = RecordType(
    "data_access",
    "data_accesses",
    "Data given to stakeholders",
    "اسٹیک ہولڈرز کو دیا گیا ڈیٹا",
    "given_on",
    (
        _f("given_on", "date", "Date", "تاریخ", required_for_draft=True),
        _f("stakeholder", "text", "Stakeholder", "اسٹیک ہولڈر", required_for_draft=True),
        _f("stakeholder_type", "code", "Stakeholder type", "اسٹیک ہولڈر کی قسم", codelist="provider_type", required_for_draft=True),
        _f("purpose", "text", "Purpose", "مقصد", max_length=2000),
    ),
    summary=("given_on", "stakeholder"),
)

RECORD_TYPES: dict[str, RecordType] = {
    rt.name: rt
    for rt in (
        PERSON,
        SCREENING,
        SUSPECT,
        CASE,
        SERVICE_PROVIDER,
        REFERRAL,
        SERVICE_PROVISION,
        AWARENESS_SESSION,
        TRAINING,
        CHECKPOINT_LOG,
        COORDINATION_ENTITY,
        COORDINATION_MEETING,
        COORDINATION_GAP,
        SURVEY_RESPONSE,
        MILESTONE,
        ANALYSIS_NOTE,
        DATA_ACCESS,
    )
}
