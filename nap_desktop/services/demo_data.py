# SPDX-License-Identifier: GPL-3.0-or-later
"""Realistic synthetic records for demos and benchmarks: every record type, across a unit subtree.

Deterministic for a seed and an as-of date; streaming: records are made and written in chunks, so
a million records need only a few megabytes at any time. The data follows the shapes seen at FIA
posts (nationalities, routes through Iran and Turkey or to the Gulf, a quarter of victims children,
case pipelines from registration to verdict) but every name and number is invented.

It writes through SQLAlchemy Core in batches (one transaction per chunk) rather than the per-record
service, because a million audited single-record transactions would take hours; each row still
gets its sync columns (version, seq, content hash) and every generated record satisfies the
validation rules (a test validates a sample through :func:`nap_desktop.domain.validation.validate`).
"""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select

from nap_desktop.data.models import Meta, Unit
from nap_desktop.data.record_models import (
    AwarenessSession,
    Case,
    CaseEvent,
    CaseParty,
    CheckpointLog,
    CoordinationEntity,
    CoordinationGap,
    CoordinationMeeting,
    DataAccess,
    AnalysisNote,
    Milestone,
    Person,
    PersonIdentity,
    PersonNameToken,
    RecordCode,
    RecordCount,
    Referral,
    Screening,
    ServiceProvider,
    ServiceProvision,
    Suspect,
    SurveyResponse,
    Training,
)
from nap_desktop.data.stats import refresh_statistics
from nap_desktop.domain.validation import HTCDS_CONSENT, age_on
from nap_desktop.errors import Cancelled
from nap_desktop.security.permissions import Perm
from nap_desktop.services.context import Workspace
# NOTE: imported before the record services, which import (through reports.returns) this name from here.
from nap_desktop.services.progress import Progress  # noqa: F401 - re-exported: ``demo_data.Progress``
from nap_desktop.services.records import CHANGE_SEQ_KEY, name_token_rows, normalise_id, normalise_name

CHUNK = 2000  # "life stories" per transaction

_FEMALE = ["Ayesha", "Fatima", "Zainab", "Maryam", "Sana", "Hina", "Rukhsana", "Shazia", "Nargis", "Parveen", "Samina", "Gul", "Bibi", "Nasreen", "Farzana", "Shabnam", "Rabia", "Khadija"]
_MALE = ["Muhammad", "Ahmed", "Ali", "Hassan", "Bilal", "Usman", "Imran", "Asif", "Tariq", "Zahid", "Naveed", "Shahid", "Gul Khan", "Rahim", "Abdul", "Noor", "Sajid", "Waqas", "Jamil", "Habib"]
_FAMILY = ["Khan", "Afridi", "Yousafzai", "Shinwari", "Mohmand", "Butt", "Chaudhry", "Malik", "Qureshi", "Awan", "Baloch", "Rind", "Hazara", "Akhtar", "Hussain", "Shah", "Abbasi", "Jatoi", "Mengal", "Durrani"]
_CITIZENSHIP = [("pk", 80), ("af", 9), ("bd", 4), ("in", 1), ("ir", 1), ("mm", 1), ("lk", 1), ("np", 1), ("so", 1), ("unknown", 1)]
_SEX = [("female", 46), ("male", 49), ("transgender", 2), ("unknown", 3)]
_ROUTES = [
    (["ir", "tr", "gr"], "gr", ["forced_labour"], "f_construction"),
    (["ir", "tr"], "tr", ["forced_labour"], "c_manufacturing"),
    (["ae"], "ae", ["domestic_servitude"], "t_households_domestic_work"),
    (["sa"], "sa", ["forced_labour"], "f_construction"),
    (["om"], "om", ["forced_labour"], "a_agriculture_forestry_fishing"),
    (["ly", "it"], "it", ["forced_labour"], "a_agriculture_forestry_fishing"),
    (["ae"], "ae", ["sexual_exploitation"], None),
    (["my"], "my", ["forced_labour"], "c_manufacturing"),
    ([], "pk", ["forced_labour"], "brick_kiln"),
    ([], "pk", ["forced_begging"], "begging"),
    ([], "pk", ["forced_marriage"], None),
]
_NEEDS = ["medical", "shelter", "child_protection", "safety", "food_water", "psychosocial", "family_contact", "interpreter", "legal_advice"]


@dataclass
class DemoSummary:
    counts: dict[str, int]


def _w(rnd: random.Random, pairs: list[tuple[str, int]]) -> str:
    return rnd.choices([p for p, _ in pairs], weights=[w for _, w in pairs])[0]


class _Gen:
    """Makes rows for one workspace; all randomness from one seeded generator."""

    def __init__(self, seed: int, as_of: date, units: list[tuple[str, str | None]], origin: str, actor: str) -> None:
        self.rnd = random.Random(seed)
        self.as_of = as_of
        self.posts = [u for u, t in units if t] or [u for u, _ in units]
        self.units = [u for u, _ in units]
        self.origin = origin
        self.actor = actor
        self.seq = 0
        self.now = datetime.combine(as_of, datetime.min.time(), UTC)
        self.rows: dict[Any, list[dict[str, Any]]] = {}
        self.counts: dict[str, int] = {}
        self.providers: list[str] = []
        self.entities: list[str] = []

    # -- plumbing -----------------------------------------------------------------------------

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rnd.getrandbits(128), version=4))

    def day(self, within_days: int = 730) -> date:
        return self.as_of - timedelta(days=self.rnd.randint(0, within_days))

    def add(self, model: Any, name: str, values: dict[str, Any], unit: str) -> str:
        self.seq += 1
        rid = values.pop("id", None) or self.uid()
        digest = hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()
        row = {
            "id": rid,
            "origin_unit": self.origin,
            "unit": unit,
            "version": 1,
            "base_version": 0,
            "content_hash": digest,
            "seq": self.seq,
            "created_at": self.now,
            "created_by": self.actor,
            "updated_at": self.now,
            "updated_by": self.actor,
            "deleted": False,
            "status": values.pop("status", "complete"),
            **values,
        }
        self.rows.setdefault(model, []).append(row)
        self.counts[name] = self.counts.get(name, 0) + 1
        return rid

    def child_row(self, model: Any, values: dict[str, Any]) -> None:
        self.rows.setdefault(model, []).append(values)

    def codes(self, rid: str, field: str, codes: list[str], answers: dict[str, str] | None = None) -> None:
        for c in sorted(set(codes)):
            self.child_row(RecordCode, {"record_id": rid, "field": field, "code": c, "answer": None})
        for c, a in sorted((answers or {}).items()):
            self.child_row(RecordCode, {"record_id": rid, "field": field, "code": c, "answer": a})

    def matrix(self, rid: str, field: str, cells: dict[tuple[str, str], int]) -> None:
        for (d1, d2), n in sorted(cells.items()):
            if n:
                self.child_row(RecordCount, {"record_id": rid, "field": field, "dim1": d1, "dim2": d2, "n": n})

    def take(self) -> dict[Any, list[dict[str, Any]]]:
        rows, self.rows = self.rows, {}
        return rows

    # -- record makers ------------------------------------------------------------------------

    def person(self, unit: str, *, child: bool | None = None, sex: str | None = None) -> tuple[str, int | None, date | None]:
        r = self.rnd
        sex = sex or _w(r, _SEX)
        child = (r.random() < 0.25) if child is None else child
        age = r.randint(6, 17) if child else r.randint(18, 55)
        dob = None
        if r.random() < 0.6:
            dob = self.as_of - timedelta(days=age * 365 + r.randint(0, 364))
            age_years: int | None = None if r.random() < 0.5 else (self.as_of - dob).days // 366
            if age_years is not None:  # keep age and date of birth consistent (the validator checks it)
                age_years = self.as_of.year - dob.year - ((self.as_of.month, self.as_of.day) < (dob.month, dob.day))
        else:
            age_years = age if r.random() < 0.93 else None
        cit = _w(r, _CITIZENSHIP)
        pid = self.add(
            Person,
            "person",
            {
                "sex": sex,
                "date_of_birth": dob,
                "age_years": age_years,
                "age_estimated": dob is None and age_years is not None,
                "citizenship": cit,
                "residence_province": r.choice(["kp", "punjab", "sindh", "balochistan", "ict"]) if cit == "pk" else "abroad",
                "residence_district": None,
                "marital_status": r.choice(["single", "married", "unknown"]),
                "migration_status": r.choice(["pakistani_returnee", "deportee", "citizen_in_country"]) if cit == "pk" else r.choice(["irregular_migrant", "refugee_or_asylum_seeker", "regular_migrant"]),
            },
            unit,
        )
        given = r.choice(_FEMALE if sex == "female" else _MALE)
        family = r.choice(_FAMILY)
        cnic = "".join(str(r.randint(0, 9)) for _ in range(13)) if cit == "pk" and r.random() < 0.7 else ""
        cnic_fmt = f"{cnic[:5]}-{cnic[5:12]}-{cnic[12]}" if cnic else ""
        passport = f"{r.choice('ABCDEFGHJK')}{r.choice('ABCDEFGHJK')}{r.randint(1000000, 9999999)}" if r.random() < 0.5 else ""
        self.child_row(
            PersonIdentity,
            {
                "person_id": pid,
                "given_name": given,
                "family_name": family,
                "father_or_husband_name": f"{r.choice(_MALE)} {family}",
                "cnic": cnic_fmt,
                "passport_no": passport,
                "other_id": "",
                "phone": f"+92 3{r.randint(0, 4)}{r.randint(0, 9)} {r.randint(1000000, 9999999)}" if r.random() < 0.5 else "",
                "address": "",
                "name_key": normalise_name(given, family),
                "id_key": normalise_id(cnic_fmt or passport),
            },
        )
        age_now = age_years if age_years is not None else (age if dob else None)
        return pid, age_now, dob

    def screening(self, unit: str) -> tuple[str, str, bool, str]:
        r = self.rnd
        pid, age, dob = self.person(unit)
        on = self.day()
        # A child on the day of the screening, by the validator's rule: from the date of birth, or
        # from the recorded age carried back from when the person was recorded (``self.now``).
        recorded = self.now.date()
        age_then = age_on(dob, on) if dob else (None if age is None else age - age_on(on, recorded) if on < recorded else age)
        child = age_then is not None and age_then < 18
        route, country, exploitation, sector = r.choice(_ROUTES)
        status_pick = r.random()
        ident = (
            "confirmed_victim" if status_pick < 0.25 else "presumed_victim" if status_pick < 0.5 else "possible_victim" if status_pick < 0.6
            else "vulnerable_smuggled_migrant" if status_pick < 0.75 else "smuggled_migrant" if status_pick < 0.9 else "not_a_victim"
        )
        draft = r.random() < 0.03
        sid = self.add(
            Screening,
            "screening",
            {
                "status": "draft" if draft else "complete",
                "person_id": pid,
                "screened_on": on,
                "checkpoint_type": r.choice(["airport", "land_crossing", "deportation_desk"]),
                "location_type": r.choice(["airport", "land_border", "deportation_desk", "referral", "raid_rescue"]),
                "screener": self.actor,
                "interpreter_language": r.choice([None, None, "ps", "fa", "bn"]),
                "country_of_exploitation": country,
                "labour_sector": sector,
                "recruitment_fee_pkr": r.choice([None, r.randint(50, 3000) * 1000]),
                "identification_status": ident,
                "decided_by": r.choice(["fia", "fia", "police", "ngo"]),
                "is_child": child,
                "route_json": json.dumps(
                    [{"type": "recruitment", "date": None, "country": "pk", "place": ""}]
                    + [{"type": "transit", "date": None, "country": c, "place": ""} for c in route[:-1]]
                    + ([{"type": "exploitation", "date": None, "country": country, "place": ""}] if route else [])
                ),
                "narrative": "",
            },
            unit,
        )
        consent = {c: "yes" for c in HTCDS_CONSENT}
        consent["private_setting"] = "yes"
        if child:
            consent["guardian_present"] = "yes"
        if r.random() < 0.3:
            consent["interpreter_used"] = "yes"
        self.codes(sid, "consent", [], consent)
        ilo = {i: r.choice(["yes", "no", "no", "unknown"]) for i in ("deception", "retention_of_identity_documents", "debt_bondage", "withholding_of_wages", "restriction_of_movement")}
        self.codes(sid, "ilo_indicators", [], ilo)
        victim = ident in ("confirmed_victim", "presumed_victim", "possible_victim")
        if victim:
            self.codes(sid, "palermo_act", r.sample(["recruitment", "transportation", "transfer", "harbouring"], 2))
            if not child or r.random() < 0.5:
                self.codes(sid, "palermo_means", r.sample(["deception", "fraud", "abuse_of_vulnerability", "coercion", "threat_or_use_of_force"], 2))
            purpose = {"forced_labour": "forced_labour_or_services", "domestic_servitude": "servitude", "sexual_exploitation": "sexual_exploitation"}.get(exploitation[0], "other_exploitation")
            self.codes(sid, "palermo_purpose", [purpose])
            self.codes(sid, "exploitation_types", exploitation)
            self.codes(sid, "means_of_control", r.sample(["debt_bondage", "withholds_documents", "threats", "false_promises", "restricts_movement"], 2))
            self.codes(sid, "recruitment_methods", [r.choice(["through_agent", "friends_or_social_events", "online_social_networks", "family_or_family_events"])])
            self.codes(sid, "recruiter_relation", [r.choice(["friend", "family", "other", "unknown"])])
        if ident in ("vulnerable_smuggled_migrant", "smuggled_migrant"):
            self.codes(sid, "smuggling_elements", r.sample(["irregular_crossing_facilitated", "payment_or_material_benefit", "fraudulent_documents", "life_or_safety_endangered"], 2))
        self.codes(sid, "immediate_needs", r.sample(_NEEDS, r.randint(0, 3)) if victim else [])
        return pid, sid, child, ident

    def support(self, unit: str, pid: str, sid: str, ident: str) -> None:
        r = self.rnd
        role = "victim" if "victim" in ident else "vulnerable_migrant"
        if not self.providers:
            return
        on = self.day(600)
        ref = self.add(
            Referral,
            "referral",
            {
                "person_id": pid,
                "screening_id": sid,
                "beneficiary_role": role,
                "referred_on": on,
                "direction": "outgoing",
                "provider_id": r.choice(self.providers),
                "consent": "yes",
                "outcome": r.choice(["accepted", "accepted", "accepted", "declined", "pending"]),
                "feedback_on": None,
            },
            unit,
        )
        self.codes(ref, "reasons", [r.choice(["additional_services_required", "safety", "medical", "legal"])])
        for stype in r.sample(["shelter", "medical", "psychosocial", "legal_aid", "repatriation", "family_reunification", "reintegration", "financial"], r.randint(1, 3)):
            start = on + timedelta(days=r.randint(0, 20))
            start = min(start, self.as_of)
            end = start + timedelta(days=r.randint(1, 90))
            self.add(
                ServiceProvision,
                "service",
                {
                    "person_id": pid,
                    "beneficiary_role": role,
                    "provider_id": r.choice(self.providers),
                    "referral_id": ref,
                    "service_type": stype,
                    "started_on": start,
                    "ended_on": end if end <= self.as_of else None,
                    "consent": "yes",
                },
                unit,
            )

    def case(self, unit: str, victims: list[str]) -> None:
        r = self.rnd
        reg = self.day(700)
        ctype = r.choice(["tip_transnational", "tip_internal", "som", "som", "unlawful_emigration", "document_fraud"])
        cid = self.add(
            Case,
            "case",
            {
                "fir_number": f"{r.randint(1, 400)}/{reg.year}",
                "enquiry_number": f"ENQ-{r.randint(1000, 9999)}",
                "registered_on": reg,
                "case_type": ctype,
                "stage": "registered",
                "assets_frozen_pkr": 0,
                "assets_confiscated_pkr": 0,
                "assets_disposed_pkr": 0,
            },
            unit,
        )
        self.codes(cid, "offences", ["ptpa_2018_s3"] if ctype.startswith("tip") else ["psma_2018_s3"] if ctype == "som" else ["eo_1979_s17", "ppc_420"])
        events = [("case_registered", reg)]
        d = reg
        stage = "registered"
        for ev in ("arrest", "challan_submitted", "trial_started", "verdict"):
            if r.random() < 0.65:
                d = d + timedelta(days=r.randint(5, 120))
                if d > self.as_of:
                    break
                events.append((ev, d))
                stage = {"arrest": "investigation", "challan_submitted": "challaned", "trial_started": "trial", "verdict": "decided"}[ev]
            else:
                break
        convicted = False
        for ev, on in events:
            verdict = None
            if ev == "verdict":
                verdict = r.choice(["convicted", "convicted", "acquitted", "discharged"])
                convicted = verdict == "convicted"
            self.child_row(CaseEvent, {"id": self.uid(), "case_id": cid, "event": ev, "on_date": on, "verdict": verdict, "sentence_months": r.randint(6, 84) if convicted else None, "fine_pkr": None, "person_id": None})
        self.rows[Case][-1]["stage"] = stage
        for vid in victims:
            ordered = r.choice([None, None, 200_000, 500_000]) if convicted else None
            self.child_row(CaseParty, {"id": self.uid(), "case_id": cid, "person_id": vid, "party_role": "victim", "compensation_ordered_pkr": ordered, "compensation_paid_pkr": (ordered if ordered and r.random() < 0.5 else None), "assets_confiscated": False, "assets_disposed": False})
        for _ in range(r.randint(1, 3)):
            spid, _age, _dob = self.person(unit, child=False, sex=_w(r, [("male", 85), ("female", 15)]))
            arrested = any(e == "arrest" for e, _ in events)
            arrest_day = next((on for e, on in events if e == "arrest"), None)
            sup = self.add(
                Suspect,
                "suspect",
                {
                    "person_id": spid,
                    "case_id": cid,
                    "screening_id": None,
                    "identified_on": reg,
                    "arrest_status": r.choice(["arrested", "judicial_custody", "on_bail"]) if arrested else r.choice(["not_arrested", "absconding", "abroad"]),
                    "arrested_on": arrest_day if arrested else None,
                    "organised_group": r.random() < 0.3,
                },
                unit,
            )
            self.codes(sup, "roles", r.sample(["recruiter_or_intermediary", "broker_travel_agent", "smuggler", "transporter", "document_forger", "exploiter"], r.randint(1, 2)))
            confiscated = convicted and r.random() < 0.3
            self.child_row(CaseParty, {"id": self.uid(), "case_id": cid, "person_id": spid, "party_role": "suspect", "compensation_ordered_pkr": None, "compensation_paid_pkr": None, "assets_confiscated": confiscated, "assets_disposed": confiscated and r.random() < 0.5})

    def checkpoint_log(self, unit: str) -> None:
        r = self.rnd
        screened = r.randint(200, 6000)
        second = r.randint(0, screened // 50)
        bio = r.randint(screened // 2, screened)
        self.add(
            CheckpointLog,
            "checkpoint_log",
            {
                "log_date": self.day(),
                "checkpoint_type": r.choice(["airport", "land_crossing", "seaport", "deportation_desk"]),
                "passengers_screened": screened,
                "referred_second_line": second,
                "offloaded": r.randint(0, second),
                "fraudulent_documents": r.randint(0, max(1, second // 3)),
                "intercepted": r.randint(0, max(1, second // 4)),
                "biometric_checks": bio,
                "biometric_failed": r.randint(0, bio // 200),
            },
            unit,
        )

    def awareness(self, unit: str) -> None:
        r = self.rnd
        cells = {(s, a): r.randint(0, 40) for s in ("female", "male", "transgender") for a in ("child", "adult")}
        cells[("transgender", "child")] = 0
        total = sum(cells.values()) or 1
        if total == 1:
            cells[("male", "adult")] = 1
        resp = r.randint(0, total)
        sid = self.add(
            AwarenessSession,
            "awareness_session",
            {
                "held_on": self.day(),
                "district": r.choice(["Peshawar", "Khyber", "Gujrat", "Mandi Bahauddin", "Sialkot", "Quetta", "Karachi East"]),
                "venue_type": r.choice(["school", "college_university", "community", "mosque", "airport", "protector_office"]),
                "language": r.choice(["ur", "ps", "pa"]),
                "materials_distributed": r.randint(0, 300),
                "survey_respondents": resp,
                "survey_named_forms": r.randint(0, resp),
                "survey_knew_what_to_do": r.randint(0, resp),
                "survey_knew_where_to_report": r.randint(0, resp),
                "survey_acted_on_followup": r.randint(0, resp // 3),
            },
            unit,
        )
        self.codes(sid, "audience_groups", r.sample(["prospective_migrants", "students", "families", "community_leaders", "youth", "women"], 2))
        self.codes(sid, "topics", r.sample(["human_trafficking", "migrant_smuggling", "safe_legal_migration", "fake_job_offers", "helpline_reporting"], 3))
        self.matrix(sid, "participants", cells)

    def training(self, unit: str) -> None:
        r = self.rnd
        start = self.day()
        tid = self.add(
            Training,
            "training",
            {"held_from": start, "held_to": min(start + timedelta(days=r.randint(0, 4)), self.as_of), "title": r.choice(["Victim identification at borders", "Investigating trafficking cases", "PTPA/PSMA 2018 for prosecutors", "Victim-centred interviewing"]), "hours": r.randint(6, 40), "partner": r.choice([None, "UNODC", "IOM"])},
            unit,
        )
        self.codes(tid, "topics", r.sample(["detection", "victim_identification", "investigation", "prosecution", "victim_care", "legal_framework"], 2))
        insts = r.sample(["fia_immigration", "fia_ahtc", "provincial_police", "prosecution", "judiciary"], 2)
        trainees = {(i, s): r.randint(0, 25) for i in insts for s in ("female", "male")}
        trainees[(insts[0], "male")] += 1
        self.matrix(tid, "trainees", trainees)
        self.matrix(tid, "increased_knowledge", {k: r.randint(0, n) for k, n in trainees.items()})

    def survey(self, unit: str) -> None:
        r = self.rnd
        self.add(
            SurveyResponse,
            "survey_response",
            {
                "survey_topic": r.choice(["victim_satisfaction_care", "stakeholder_satisfaction_coordination", "public_satisfaction_controls"]),
                "responded_on": self.day(),
                "sex": _w(r, _SEX),
                "age_group": r.choice(["adult", "adult", "adult", "child"]),
                "district": None,
                "satisfaction": r.choice([2, 3, 4, 4, 5, 5]),
                "provider_id": r.choice(self.providers) if self.providers and r.random() < 0.3 else None,
            },
            unit,
        )

    def fixtures(self, unit: str) -> None:
        """Providers, coordination bodies and milestones: a handful per workspace."""
        r = self.rnd
        for name, ptype in [("Dar-ul-Aman Peshawar", "dar_ul_aman"), ("Child Protection and Welfare Bureau", "child_protection_bureau"), ("IOM Pakistan", "international_organisation"), ("Lady Reading Hospital", "health_service"), ("Legal Aid Society", "legal_service"), ("Shelter NGO Khyber", "ngo")]:
            self.providers.append(
                self.add(ServiceProvider, "service_provider", {"name": name, "provider_type": ptype, "district": "Peshawar", "capacity_strengthened_on": self.day() if r.random() < 0.6 else None, "uses_sops": r.random() < 0.6}, unit)
            )
        for name, level, f, m in [("Provincial Task Force on HT/MS", "provincial", 4, 11), ("District Coordination Committee, Khyber", "district", 2, 9)]:
            eid = self.add(CoordinationEntity, "coordination_entity", {"name": name, "level": level, "established_on": self.day(), "functional": True, "members_female": f, "members_male": m, "members_transgender": 0}, unit)
            self.entities.append(eid)
            for _ in range(4):
                self.add(CoordinationMeeting, "coordination_meeting", {"entity_id": eid, "held_on": self.day(), "attendees": r.randint(6, 20), "decisions": r.randint(0, 6)}, unit)
            identified = self.day()
            self.add(CoordinationGap, "coordination_gap", {"entity_id": eid, "identified_on": identified, "description": "Shelter capacity for boys is missing in the district", "addressed_on": identified + timedelta(days=30) if identified + timedelta(days=30) <= self.as_of else None}, unit)
        for ind, title, prog in [("1.2.e", "SOPs for victim assistance", "achieved"), ("1.5.a", "National gender and human rights study", "in_progress"), ("6.2.a", "Annual report on HT/MS published", "planned")]:
            self.add(Milestone, "milestone", {"indicator": ind, "title": title, "progress": prog, "due_on": self.day(), "achieved_on": self.day() if prog == "achieved" else None, "evidence_name": None, "evidence": None}, unit)
        self.add(AnalysisNote, "analysis_note", {"written_on": self.day(), "title": "Rise in Iran-Turkey route interceptions", "lessons": "More screening at Taftan deportation desk."}, unit)
        self.add(DataAccess, "data_access", {"given_on": self.day(), "stakeholder": "Provincial Task Force", "stakeholder_type": "local_government", "purpose": "Quarterly review"}, unit)


def generate_demo_records(
    ws: Workspace,
    records: int,
    *,
    seed: int = 1,
    as_of: date | None = None,
    cancel: Any = None,
) -> Iterator[Progress]:
    """Adds about ``records`` synthetic records across the workspace's unit subtree.

    Yields :class:`Progress` after each chunk; ``cancel`` (a ``threading.Event``) stops between
    chunks (chunks written so far stay; each is complete).
    """
    ws.require(Perm.RECORD_CAPTURE)
    scope = ws.subtree()
    with ws.sf() as s:
        units = [(u.code, u.post_type) for u in s.scalars(select(Unit).where(Unit.code.in_(scope)).order_by(Unit.code))]
        start_seq = int((s.get(Meta, CHANGE_SEQ_KEY) or Meta(value="0")).value)
    gen = _Gen(seed, as_of or datetime.now(UTC).date(), units, ws.wf.unit, ws.user.username)
    gen.seq = start_seq
    gen.fixtures(ws.user.unit_code)
    made = 0
    yield Progress(0, records, "Generating demo records")
    while made < records:
        before = sum(gen.counts.values())
        for _ in range(CHUNK):
            unit = gen.rnd.choice(gen.posts)
            roll = gen.rnd.random()
            if roll < 0.62:
                pid, sid, _child, ident = gen.screening(unit)
                if "victim" in ident or ident == "vulnerable_smuggled_migrant":
                    if gen.rnd.random() < 0.6:
                        gen.support(unit, pid, sid, ident)
                    if gen.rnd.random() < 0.12:
                        gen.case(unit, [pid])
            elif roll < 0.85:
                gen.checkpoint_log(unit)
            elif roll < 0.92:
                gen.awareness(unit)
            elif roll < 0.95:
                gen.training(unit)
            else:
                gen.survey(unit)
            if sum(gen.counts.values()) - before + made >= records:
                break
        _write(ws, gen)
        made = sum(gen.counts.values())
        yield Progress(min(made, records), records, "Generating demo records")
        if cancel is not None and cancel.is_set():
            raise Cancelled("Demo generation cancelled.")
    with ws.sf.begin() as s:
        ws.audit(s, "demo.generated", detail={"records": made, "seed": seed})
    refresh_statistics(ws.engine)  # the tables grew: let the query planner know (data/stats.py)


_ORDER = [Person, PersonIdentity, ServiceProvider, CoordinationEntity, Screening, Case, CaseEvent, Suspect, CaseParty, Referral, ServiceProvision, AwarenessSession, Training, CheckpointLog, CoordinationMeeting, CoordinationGap, SurveyResponse, Milestone, AnalysisNote, DataAccess, RecordCode, RecordCount]


def _write(ws: Workspace, gen: _Gen) -> None:
    rows = gen.take()
    with ws.sf.begin() as s:
        for model in _ORDER:
            batch = rows.get(model)
            if batch:
                s.execute(insert(model), batch)
            if batch and model is PersonIdentity:
                s.execute(insert(PersonNameToken), name_token_rows(batch))  # the name search's index
        meta = s.get(Meta, CHANGE_SEQ_KEY)
        if meta is None:
            s.add(Meta(key=CHANGE_SEQ_KEY, value=str(gen.seq)))
        else:
            meta.value = str(gen.seq)
