# SPDX-License-Identifier: GPL-3.0-or-later
"""Test helpers for records: valid values for every record type, a shared workspace with one
account per role, and audit counting.

Reusable by any test that needs records (import, demo, returns, sync, GUI):

- :func:`complete_values` / :func:`draft_values`: raw values (as a form or a JSON file gives them)
  that validate as ``complete`` / ``draft`` for each of the 17 record types.
- :func:`create`: creates a record through the service, creating the records it refers to first.
- :data:`EDITS`: one edit per type that changes non-personal fields to new valid values.
- :func:`normalised`: what the service gives back for raw values (dates as ISO strings, codes
  sorted, CNIC formatted …), to compare a read-back with what was written.
- :class:`World`: one HQ workspace with a circle head (C-PSH), an officer (P-TORKHAM, a post of
  C-PSH), an officer of another circle (C-LHR), HQ analysts with and without case access and an
  auditor. Only one account can have the folder open at a time: :meth:`World.as_` locks the
  current one before opening another, so re-fetch ``ws`` after switching.

Dates: tests pin ``nap_desktop.services.records.today`` to :data:`TODAY` (see :func:`pin_today`),
so ages and "not in the future" do not drift with the calendar.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from nap_desktop.data.models import AuditEntry
from nap_desktop.domain.records import RECORD_TYPES, RecordType
from nap_desktop.domain.validation import HTCDS_CONSENT
from nap_desktop.security import crypto
from nap_desktop.services import records, users
from nap_desktop.services.context import UserDTO, Workspace
from nap_desktop.services.records import RecordDTO
from nap_desktop.services.workspace import init_workspace, open_workspace
from tests.conftest import ADMIN, ADMIN_PW, FAST_KDF, PASSWORDS

TODAY = date(2026, 11, 20)
DEFAULT_ON = date(2026, 6, 15)
ALL_TYPES: tuple[str, ...] = tuple(RECORD_TYPES)
# Types whose period date is the creation time (no date field of their own).
CREATED_ON_TYPES: tuple[str, ...] = tuple(n for n, rt in RECORD_TYPES.items() if rt.date_field == "created_on")
# Types whose list can be filtered by the linked person's sex, age and citizenship.
PERSON_LINKED: tuple[str, ...] = ("person",) + tuple(n for n, rt in RECORD_TYPES.items() if rt.person_field)

CONSENT_ALL_YES: dict[str, str] = {c: "yes" for c in HTCDS_CONSENT}


def pin_today(mp: pytest.MonkeyPatch, day: date = TODAY) -> None:
    """Makes the record services (and so validation) believe it is ``day``."""
    mp.setattr(records, "today", lambda: day)


# --- values ----------------------------------------------------------------------------------------


def _iso(d: date) -> str:
    return d.isoformat()


def _shift(d: date, days: int) -> date:
    return date.fromordinal(d.toordinal() + days)


def complete_values(type_name: str, refs: Mapping[str, str] | None = None, *, on: date = DEFAULT_ON) -> dict[str, Any]:
    """Values that validate as a complete record of ``type_name``, dated ``on``.

    Every non-reference field is filled. ``refs`` gives the ids of referenced records by field
    name (``person_id``, ``provider_id`` …; ``party_person`` adds a victim to a case); references
    not given are left out, so required ones must be given for a complete record.
    """
    refs = dict(refs or {})
    before = _iso(_shift(on, -10))
    d = _iso(on)
    v: dict[str, Any]
    if type_name == "person":
        v = {
            "given_name": "Ayesha",
            "family_name": "Bibi",
            "father_or_husband_name": "Muhammad Aslam",
            "cnic": "35202 1234567 1",
            "passport_no": "AB1234567",
            "other_id": "POC-778899",
            "phone": "+92 300 1234567",
            "address": "House 12, Street 4, Hayatabad, Peshawar",
            "sex": "female",
            "date_of_birth": "1995-04-12",
            "age_years": 31,
            "age_estimated": False,
            "citizenship": "pk",
            "residence_province": "kp",
            "residence_district": "Peshawar",
            "marital_status": "single",
            "migration_status": "pakistani_returnee",
        }
    elif type_name == "screening":
        v = {
            "screened_on": d,
            "location_type": "airport",
            "checkpoint_type": "airport",
            "interpreter_language": "ps",
            "consent": {**CONSENT_ALL_YES, "interpreter_used": "yes", "private_setting": "yes", "guardian_present": "not_asked"},
            "ilo_indicators": {"deception": "yes", "isolation": "no", "debt_bondage": "unknown", "excessive_overtime": "not_asked"},
            "means_of_control": ["threats", "debt_bondage"],
            "palermo_act": ["recruitment", "transportation"],
            "palermo_means": ["deception"],
            "palermo_purpose": ["forced_labour_or_services"],
            "smuggling_elements": ["irregular_crossing_facilitated"],
            "route": [
                {"type": "recruitment", "date": before, "country": "pk", "place": "Peshawar"},
                {"type": "exploitation", "date": None, "country": "ae", "place": "Dubai"},
            ],
            "country_of_exploitation": "ae",
            "exploitation_types": ["forced_labour"],
            "labour_sector": "f_construction",
            "sexual_exploitation_types": ["prostitution"],
            "recruitment_methods": ["through_agent"],
            "recruiter_relation": ["friend"],
            "recruitment_fee_pkr": 350_000,
            "identification_status": "presumed_victim",
            "decided_by": "fia",
            "immediate_needs": ["shelter"],
            "narrative": "Was promised a job in Dubai; passport taken on arrival.",
        }
    elif type_name == "suspect":
        v = {
            "identified_on": before,
            "roles": ["recruiter_or_intermediary", "broker_travel_agent"],
            "arrest_status": "arrested",
            "arrested_on": d,
            "organised_group": True,
        }
    elif type_name == "case":
        v = {
            "fir_number": "FIR-12/2026",
            "enquiry_number": "ENQ-7/2026",
            "registered_on": before,
            "case_type": "tip_transnational",
            "offences": ["ptpa_2018_s3", "eo_1979_s18"],
            "events": [
                {"event": "case_registered", "on_date": before},
                {"event": "arrest", "on_date": d},
            ],
            "assets_frozen_pkr": 1_500_000,
            "assets_confiscated_pkr": 500_000,
            "assets_disposed_pkr": 0,
        }
        if "party_person" in refs:
            v["parties"] = [
                {
                    "person_id": refs.pop("party_person"),
                    "party_role": "victim",
                    "compensation_ordered_pkr": 200_000,
                    "compensation_paid_pkr": 50_000,
                }
            ]
    elif type_name == "service_provider":
        v = {
            "name": "Dar-ul-Aman Peshawar",
            "provider_type": "dar_ul_aman",
            "district": "Peshawar",
            "capacity_strengthened_on": before,
            "uses_sops": True,
        }
    elif type_name == "referral":
        v = {
            "beneficiary_role": "victim",
            "referred_on": d,
            "direction": "outgoing",
            "reasons": ["safety", "medical"],
            "consent": "yes",
            "outcome": "accepted",
            "feedback_on": d,
        }
    elif type_name == "service":
        v = {
            "beneficiary_role": "victim",
            "service_type": "shelter",
            "started_on": before,
            "ended_on": d,
            "consent": "yes",
        }
    elif type_name == "awareness_session":
        v = {
            "held_on": d,
            "district": "Khyber",
            "venue_type": "school",
            "audience_groups": ["students", "families"],
            "participants": {"female": {"child": 10, "adult": 5}, "male": {"adult": 7}},
            "topics": ["human_trafficking", "safe_legal_migration"],
            "language": "ps",
            "materials_distributed": 40,
            "survey_respondents": 20,
            "survey_named_forms": 15,
            "survey_knew_what_to_do": 12,
            "survey_knew_where_to_report": 18,
            "survey_acted_on_followup": 3,
        }
    elif type_name == "training":
        v = {
            "held_from": before,
            "held_to": d,
            "title": "Victim identification at airports",
            "topics": ["victim_identification", "document_fraud"],
            "trainees": {"fia_immigration": {"female": 3, "male": 12}, "provincial_police": {"male": 6}},
            "increased_knowledge": {"fia_immigration": {"female": 2, "male": 10}},
            "hours": 16,
            "partner": "IOM",
        }
    elif type_name == "checkpoint_log":
        v = {
            "log_date": d,
            "checkpoint_type": "land_crossing",
            "passengers_screened": 1200,
            "referred_second_line": 30,
            "offloaded": 12,
            "fraudulent_documents": 3,
            "intercepted": 5,
            "biometric_checks": 200,
            "biometric_failed": 4,
        }
    elif type_name == "coordination_entity":
        v = {
            "name": "District Anti-Trafficking Task Force Khyber",
            "level": "district",
            "established_on": before,
            "functional": True,
            "members_female": 3,
            "members_male": 9,
            "members_transgender": 1,
        }
    elif type_name == "coordination_meeting":
        v = {"held_on": d, "attendees": 12, "decisions": 3}
    elif type_name == "coordination_gap":
        v = {"identified_on": before, "description": "No shelter for male victims in the district.", "addressed_on": d}
    elif type_name == "survey_response":
        v = {
            "survey_topic": "victim_satisfaction_care",
            "responded_on": d,
            "sex": "female",
            "age_group": "adult",
            "district": "Peshawar",
            "satisfaction": 4,
        }
    elif type_name == "milestone":
        v = {
            "indicator": "1.2.3",
            "title": "Referral SOPs notified",
            "progress": "achieved",
            "due_on": before,
            "achieved_on": d,
            "evidence_name": "notification.pdf",
        }
    elif type_name == "analysis_note":
        v = {"written_on": d, "title": "Routes through Torkham", "lessons": "Most recruiters were acquaintances."}
    elif type_name == "data_access":
        v = {
            "given_on": d,
            "stakeholder": "IOM Pakistan",
            "stakeholder_type": "international_organisation",
            "purpose": "Return and reintegration planning (aggregates).",
        }
    else:  # pragma: no cover - a new type needs values here
        raise KeyError(f"no factory for record type {type_name!r}")
    rt = RECORD_TYPES[type_name]
    for f in rt.fields:
        if f.kind == "ref" and f.name in refs:
            v[f.name] = refs[f.name]
    return v


def draft_values(type_name: str, refs: Mapping[str, str] | None = None, *, on: date = DEFAULT_ON) -> dict[str, Any]:
    """Only the fields a draft needs (``required_for_draft``), from :func:`complete_values`."""
    full = complete_values(type_name, refs, on=on)
    rt = RECORD_TYPES[type_name]
    return {f.name: full[f.name] for f in rt.fields if f.required_for_draft and f.name in full}


def ref_fields(type_name: str, *, status: str = "complete", full: bool = False) -> list[tuple[str, str]]:
    """(field, referenced type) pairs a record of ``type_name`` needs (all of them when ``full``)."""
    rt = RECORD_TYPES[type_name]
    out = []
    for f in rt.fields:
        if f.kind != "ref" or f.ref is None:
            continue
        needed = f.required_for_draft or (status == "complete" and f.required)
        if needed or full:
            out.append((f.name, f.ref))
    return out


def create(
    ws: Workspace,
    type_name: str,
    *,
    status: str = "complete",
    unit: str | None = None,
    on: date = DEFAULT_ON,
    full: bool = False,
    refs: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
    fill: str | None = None,
) -> RecordDTO:
    """Creates a valid record through :func:`records.create_record`.

    Referenced records that are needed (all of them with ``full``; a case then also gets a
    victim party) are created first, complete, in the same unit. ``values`` override the
    defaults (``None`` empties a field). The user needs the capture permission (and, for a case,
    case management) in ``unit``. ``fill`` ("complete" or "draft", default: ``status``) picks
    the value set, e.g. a draft holding complete values.
    """
    fill = fill or status
    refs = dict(refs or {})
    for fname, ref_type in ref_fields(type_name, status=fill, full=full):
        if fname not in refs and not (values and fname in values):
            refs[fname] = create(ws, ref_type, unit=unit, on=on).id
    if type_name == "case" and full and "party_person" not in refs:
        refs["party_person"] = create(ws, "person", unit=unit, on=on).id
    base = (complete_values if fill == "complete" else draft_values)(type_name, refs, on=on)
    base.update(values or {})
    return records.create_record(ws, type_name, base, status=status, unit=unit)


# One edit per type: non-personal fields changed to new valid values (valid for complete records
# made by complete_values, and for drafts made by draft_values).
EDITS: dict[str, dict[str, Any]] = {
    "person": {"residence_district": "Mardan", "marital_status": "married"},
    "screening": {"recruitment_fee_pkr": 400_000, "immediate_needs": ["medical", "shelter"]},
    "suspect": {"roles": ["smuggler"], "arrest_status": "on_bail"},
    "case": {"assets_frozen_pkr": 2_000_000, "case_type": "som"},
    "service_provider": {"district": "Nowshera", "capacity_strengthened_on": "2026-01-10"},
    "referral": {"reasons": ["legal"], "direction": "incoming"},
    "service": {"service_type": "medical", "consent": "no"},
    "awareness_session": {"district": "Mohmand", "materials_distributed": 55},
    "training": {"hours": 24, "partner": "UNODC"},
    "checkpoint_log": {"passengers_screened": 1500, "fraudulent_documents": 4},
    "coordination_entity": {"members_female": 4, "level": "provincial"},
    "coordination_meeting": {"attendees": 15, "decisions": 5},
    "coordination_gap": {"description": "No shelter for male victims; request sent to SWD."},
    "survey_response": {"satisfaction": 2, "district": "Kohat"},
    "milestone": {"title": "Referral SOPs notified and printed", "evidence_name": "notification-v2.pdf"},
    "analysis_note": {"lessons": "Most recruiters were relatives or friends.", "title": "Routes via Torkham"},
    "data_access": {"purpose": "Planning shelter capacity.", "stakeholder": "IOM Pakistan (Peshawar)"},
}


# --- read-back comparison -------------------------------------------------------------------------


def _norm_date(v: Any) -> Any:
    return v.isoformat() if isinstance(v, date) else v


def normalised(type_name: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """What the services return for raw ``values`` (for the fields given)."""
    rt: RecordType = RECORD_TYPES[type_name]
    out: dict[str, Any] = {}
    for name, v in values.items():
        spec = rt.field(name)
        if v is None or v == "" or v == [] or v == {}:
            out[name] = None
            continue
        if spec.kind == "text":
            v = v.strip()
            if name == "cnic":
                digits = re.sub(r"\D", "", v)
                v = f"{digits[:5]}-{digits[5:12]}-{digits[12]}"
        elif spec.kind == "date":
            v = _norm_date(v)
        elif spec.kind == "codes":
            v = sorted(set(v.split(";") if isinstance(v, str) else v))
        elif spec.kind == "answers":
            v = dict(sorted(v.items()))
        elif spec.kind == "matrix":
            v = {a: {b: n for b, n in row.items() if n} for a, row in v.items()}
            v = {a: row for a, row in v.items() if row} or None
        elif spec.kind == "events":
            v = sorted(
                (
                    {
                        "event": e["event"],
                        "on_date": _norm_date(e["on_date"]),
                        "verdict": e.get("verdict"),
                        "sentence_months": e.get("sentence_months"),
                        "fine_pkr": e.get("fine_pkr"),
                        "person_id": e.get("person_id"),
                    }
                    for e in v
                ),
                key=lambda e: (e["on_date"], e["event"]),
            )
        elif spec.kind == "parties":
            v = sorted(
                (
                    {
                        "person_id": p["person_id"],
                        "party_role": p["party_role"],
                        "compensation_ordered_pkr": p.get("compensation_ordered_pkr"),
                        "compensation_paid_pkr": p.get("compensation_paid_pkr"),
                        "assets_confiscated": bool(p.get("assets_confiscated", False)),
                        "assets_disposed": bool(p.get("assets_disposed", False)),
                    }
                    for p in v
                ),
                key=lambda p: (p["party_role"], p["person_id"]),
            )
        elif spec.kind == "route":
            v = [
                {"type": e["type"], "date": _norm_date(e.get("date")) or None, "country": e.get("country") or None, "place": str(e.get("place") or "")}
                for e in v
            ]
        out[name] = copy.deepcopy(v)
    return out


# --- the shared workspace --------------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    username: str
    role: str
    unit: str
    password: str
    case_access: bool = False


ACCOUNTS: dict[str, Account] = {
    "head": Account("circ.psh", "circle_head", "C-PSH", PASSWORDS["head"]),
    "officer": Account("off.torkham", "officer", "P-TORKHAM", PASSWORDS["officer"]),
    "officer_lhr": Account("off.lahore", "officer", "C-LHR", PASSWORDS["officer"]),
    "analyst": Account("ana.hq", "hq_analyst", "HQ", PASSWORDS["analyst"]),
    "analyst_case": Account("ana.case", "hq_analyst", "HQ", PASSWORDS["analyst"], case_access=True),
    "auditor": Account("aud.hq", "auditor", "HQ", PASSWORDS["auditor"]),
}


class World:
    """One HQ workspace shared by a test module, with an account per role (:data:`ACCOUNTS`).

    An HQ workspace is used because an administrator can only add accounts in their own unit
    subtree: the administrator of a circle workspace cannot add an HQ analyst.

    Signing in costs a key derivation and opening the store (~0.2 s), and only one account may
    have the folder open at a time. So the circle head signs in for real (``open_workspace``) and
    :meth:`as_` gives every other account a :class:`Workspace` that shares that unlocked store
    but carries that account's own :class:`UserDTO` (as ``list_users`` returns it): the record
    services see exactly what they would after that account signed in. :meth:`login` does the
    real sign-in of any account when a test needs it (it closes the shared store first).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        init_workspace(
            path,
            site_kind="hq",
            unit="HQ",
            admin=ADMIN,
            admin_password=ADMIN_PW,
            kdf=FAST_KDF,
            recovery_recipient=crypto.generate_age_keypair().recipient,
        )
        self._base: Workspace | None = None
        self._views: dict[str, Workspace] = {}
        admin = open_workspace(path, ADMIN, ADMIN_PW)
        try:
            for a in ACCOUNTS.values():
                users.add_user(
                    admin,
                    username=a.username,
                    full_name=a.username,
                    role=a.role,
                    unit=a.unit,
                    password=a.password,
                    case_access=a.case_access,
                    must_change_password=False,
                )
            self.users: dict[str, UserDTO] = {u.username: u for u in users.list_users(admin)}
        finally:
            admin.lock()

    def _username(self, who: str) -> str:
        return ADMIN if who == "admin" else ACCOUNTS[who].username

    def as_(self, who: str) -> Workspace:
        """The workspace as account ``who`` (a key of :data:`ACCOUNTS`, or "admin")."""
        if self._base is None or self._base.locked:
            self.close()
            a = ACCOUNTS["head"]
            self._base = open_workspace(self.path, a.username, a.password)
            self._views = {"head": self._base}
        if who not in self._views:
            view = copy.copy(self._base)  # same engine, key and lock; another user
            view.user = self.users[self._username(who)]
            self._views[who] = view
        return self._views[who]

    def current(self) -> Workspace:
        """Any unlocked workspace, for reading the audit table directly (which adds no entry)."""
        return self.as_("head")

    def login(self, who: str) -> Workspace:
        """Signs ``who`` in for real (``open_workspace``), after closing the shared store.
        The caller locks it when done; :meth:`as_` opens the shared store again."""
        self.close()
        password = ADMIN_PW if who == "admin" else ACCOUNTS[who].password
        return open_workspace(self.path, self._username(who), password)

    def close(self) -> None:
        if self._base is not None:
            self._base.lock()
        self._base, self._views = None, {}


@contextmanager
def world_at(path: Path) -> Iterator[World]:
    """A :class:`World` with ``today`` pinned to :data:`TODAY` for its whole life (module fixtures)."""
    mp = pytest.MonkeyPatch()
    pin_today(mp)
    world = World(path)
    try:
        yield world
    finally:
        world.close()
        mp.undo()


# --- audit ---------------------------------------------------------------------------------------


def audit_count(ws: Workspace, action: str, *, object_id: str | None = None) -> int:
    """Entries of ``action`` in the audit_log table (read directly, so counting adds no entry)."""
    with ws.sf() as s:
        q = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
        if object_id is not None:
            q = q.where(AuditEntry.object_id == object_id)
        return int(s.scalar(q) or 0)


def audit_rows(ws: Workspace) -> list[tuple[str, ...]]:
    """Every audit entry as a tuple of its text columns."""
    with ws.sf() as s:
        return [
            (str(e.seq), e.at, e.actor, e.action, e.object_type, e.object_id, e.unit, e.detail, e.prev_hash, e.hash)
            for e in s.scalars(select(AuditEntry).order_by(AuditEntry.seq))
        ]


__all__ = [
    "ACCOUNTS",
    "ALL_TYPES",
    "CONSENT_ALL_YES",
    "CREATED_ON_TYPES",
    "DEFAULT_ON",
    "EDITS",
    "PERSON_LINKED",
    "TODAY",
    "Account",
    "World",
    "audit_count",
    "audit_rows",
    "complete_values",
    "create",
    "draft_values",
    "normalised",
    "pin_today",
    "ref_fields",
    "world_at",
]
