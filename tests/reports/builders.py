# SPDX-License-Identifier: GPL-3.0-or-later
"""Hand-built records for the indicator tests, made through the record service.

:class:`Builder` writes one record per call with only what an indicator looks at given by the
test (sex, dates, codes …); everything else comes from the records factories' valid values.
:class:`ReportsWorld` is the records tests' :class:`World` plus a circle head of C-LHR, so a test
can put records in two circles. Record types without a date of their own (providers,
coordination bodies, milestones) get their ``created_at`` set by the test, so no expected value
depends on the day the tests run.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from nap_desktop.data.record_models import MODEL_BY_TYPE
from nap_desktop.reports import engine
from nap_desktop.reports.engine import IndicatorValue, Period
from nap_desktop.services import records, users
from nap_desktop.services.context import Workspace
from nap_desktop.services.demo_data import generate_demo_records
from nap_desktop.services.workspace import open_workspace
from tests.conftest import ADMIN, ADMIN_PW, PASSWORDS
from tests.services.records_factories import CONSENT_ALL_YES, World, complete_values, pin_today

JUNE = Period.month(2026, 6)
EARLY = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # "recorded long ago" for records dated by creation


class ReportsWorld(World):
    """:class:`World` with one more account: ``head_lhr``, circle head of C-LHR."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        admin = open_workspace(path, ADMIN, ADMIN_PW)
        try:
            users.add_user(
                admin,
                username="circ.lhr",
                full_name="circ.lhr",
                role="circle_head",
                unit="C-LHR",
                password=PASSWORDS["head"],
                must_change_password=False,
            )
            self.users = {u.username: u for u in users.list_users(admin)}
        finally:
            admin.lock()

    def _username(self, who: str) -> str:
        return "circ.lhr" if who == "head_lhr" else super()._username(who)


class Builder:
    """Makes complete records (or drafts) in ``ws``'s units; returns their ids."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    def _create(self, type_name: str, values: Mapping[str, Any], *, unit: str | None = None, status: str = "complete") -> str:
        return records.create_record(self.ws, type_name, dict(values), status=status, unit=unit).id

    def set_created(self, type_name: str, rid: str, when: datetime = EARLY) -> None:
        model = MODEL_BY_TYPE[type_name]
        with self.ws.sf.begin() as s:
            s.execute(update(model).where(model.id == rid).values(created_at=when))

    def delete(self, rid: str) -> None:
        records.delete_record(self.ws, rid)

    # --- people and what happened to them ---------------------------------------------------

    def person(
        self,
        sex: str = "female",
        *,
        dob: str | None = "1990-01-01",
        age: int | None = None,
        citizenship: str = "pk",
        province: str | None = "kp",
        unit: str | None = None,
        created: datetime | None = None,
    ) -> str:
        v = {
            "given_name": "Test",
            "family_name": "Person",
            "sex": sex,
            "date_of_birth": dob,
            "age_years": age,
            "citizenship": citizenship,
            "residence_province": province,
        }
        pid = self._create("person", {k: x for k, x in v.items() if x is not None}, unit=unit)
        if created is not None:
            self.set_created("person", pid, created)
        return pid

    def screening(
        self,
        pid: str,
        on: str,
        status: str = "presumed_victim",
        *,
        exploitation: Iterable[str] = ("forced_labour",),
        unit: str | None = None,
        draft: bool = False,
    ) -> str:
        v = complete_values("screening", {"person_id": pid})
        v.update(
            screened_on=on,
            identification_status=status,
            exploitation_types=list(exploitation) or None,
            route=None,
            consent={**CONSENT_ALL_YES, "guardian_present": "yes"},
        )
        v = {k: x for k, x in v.items() if x is not None}
        return self._create("screening", v, unit=unit, status="draft" if draft else "complete")

    def service(self, pid: str, on: str, service_type: str, role: str = "victim", *, unit: str | None = None, draft: bool = False) -> str:
        v = complete_values("service", {"person_id": pid})
        v.update(started_on=on, ended_on=None, service_type=service_type, beneficiary_role=role)
        return self._create("service", {k: x for k, x in v.items() if x is not None}, unit=unit, status="draft" if draft else "complete")

    def suspect(
        self,
        pid: str,
        on: str,
        *,
        roles: Iterable[str] = ("smuggler",),
        arrest: str = "not_arrested",
        case: str | None = None,
        unit: str | None = None,
    ) -> str:
        v = {"person_id": pid, "identified_on": on, "roles": list(roles), "arrest_status": arrest}
        if case:
            v["case_id"] = case
        return self._create("suspect", v, unit=unit)

    def case(
        self,
        registered: str,
        case_type: str = "tip_internal",
        *,
        events: Iterable[tuple[Any, ...]] = (),
        parties: Iterable[Mapping[str, Any]] = (),
        unit: str | None = None,
        draft: bool = False,
    ) -> str:
        """``events``: (event, date[, verdict[, person_id]]); ``parties``: dicts as the service takes them."""
        evs = [{"event": "case_registered", "on_date": registered}]
        for e in events:
            evs.append(
                {
                    "event": e[0],
                    "on_date": e[1],
                    "verdict": e[2] if len(e) > 2 else None,
                    "person_id": e[3] if len(e) > 3 else None,
                }
            )
        v = {
            "fir_number": "FIR-1/2026",
            "registered_on": registered,
            "case_type": case_type,
            "offences": ["ptpa_2018_s3"],
            "events": evs,
            "parties": list(parties) or None,
        }
        return self._create("case", {k: x for k, x in v.items() if x is not None}, unit=unit, status="draft" if draft else "complete")

    # --- organisations, coordination, milestones ------------------------------------------------

    def provider(
        self, provider_type: str = "ngo", *, strengthened: str | None = None, uses_sops: bool = False, unit: str | None = None, created: datetime = EARLY
    ) -> str:
        v = {"name": "Provider", "provider_type": provider_type, "uses_sops": uses_sops}
        if strengthened:
            v["capacity_strengthened_on"] = strengthened
        rid = self._create("service_provider", v, unit=unit)
        self.set_created("service_provider", rid, created)
        return rid

    def entity(
        self,
        level: str = "district",
        *,
        established: str | None = "2025-01-01",
        functional: bool = True,
        women: int = 0,
        men: int = 0,
        transgender: int = 0,
        unit: str | None = None,
        created: datetime = EARLY,
    ) -> str:
        v: dict[str, Any] = {
            "name": "Task force",
            "level": level,
            "functional": functional,
            "members_female": women,
            "members_male": men,
            "members_transgender": transgender,
        }
        if established:
            v["established_on"] = established
        rid = self._create("coordination_entity", v, unit=unit)
        self.set_created("coordination_entity", rid, created)
        return rid

    def meeting(self, entity: str, on: str, *, unit: str | None = None) -> str:
        return self._create("coordination_meeting", {"entity_id": entity, "held_on": on, "attendees": 8, "decisions": 1}, unit=unit)

    def gap(self, identified: str, addressed: str | None = None, *, entity: str | None = None, unit: str | None = None) -> str:
        v: dict[str, Any] = {"identified_on": identified, "description": "A gap"}
        if addressed:
            v["addressed_on"] = addressed
        if entity:
            v["entity_id"] = entity
        return self._create("coordination_gap", v, unit=unit)

    def milestone(self, indicator: str, progress: str, achieved: str | None = None, *, unit: str | None = None) -> str:
        v: dict[str, Any] = {"indicator": indicator, "title": "Deliverable", "progress": progress}
        if achieved:
            v["achieved_on"] = achieved
        rid = self._create("milestone", v, unit=unit)
        self.set_created("milestone", rid)
        return rid

    # --- surveys, sessions, trainings, logs ---------------------------------------------------

    def survey(
        self,
        topic: str,
        on: str,
        satisfaction: int,
        *,
        sex: str = "female",
        age_group: str = "adult",
        district: str | None = None,
        provider: str | None = None,
        unit: str | None = None,
    ) -> str:
        v: dict[str, Any] = {"survey_topic": topic, "responded_on": on, "satisfaction": satisfaction, "sex": sex, "age_group": age_group}
        if district:
            v["district"] = district
        if provider:
            v["provider_id"] = provider
        return self._create("survey_response", v, unit=unit)

    def session(
        self,
        on: str,
        *,
        respondents: int,
        named: int = 0,
        what: int = 0,
        where: int = 0,
        acted: int = 0,
        audiences: Iterable[str] = ("students",),
        venue: str = "school",
        district: str | None = "Khyber",
        unit: str | None = None,
    ) -> str:
        v: dict[str, Any] = {
            "held_on": on,
            "venue_type": venue,
            "audience_groups": list(audiences),
            "participants": {"female": {"adult": max(respondents, 1)}},
            "topics": ["human_trafficking"],
            "survey_respondents": respondents,
            "survey_named_forms": named,
            "survey_knew_what_to_do": what,
            "survey_knew_where_to_report": where,
            "survey_acted_on_followup": acted,
        }
        if district:
            v["district"] = district
        return self._create("awareness_session", v, unit=unit)

    def training(
        self,
        on: str,
        *,
        topics: Iterable[str],
        trainees: Mapping[str, Mapping[str, int]],
        increased: Mapping[str, Mapping[str, int]],
        unit: str | None = None,
    ) -> str:
        v = {"held_from": on, "held_to": on, "title": "Training", "topics": list(topics), "trainees": trainees, "increased_knowledge": increased}
        return self._create("training", v, unit=unit)

    def checkpoint(self, on: str, checkpoint_type: str = "airport", *, unit: str | None = None, **counts: int) -> str:
        v: dict[str, Any] = {"log_date": on, "checkpoint_type": checkpoint_type, "passengers_screened": 100, **counts}
        return self._create("checkpoint_log", v, unit=unit)

    def note(self, on: str, *, unit: str | None = None) -> str:
        return self._create("analysis_note", {"written_on": on, "title": "Issue"}, unit=unit)

    def access(self, on: str, stakeholder: str, stakeholder_type: str = "ngo", *, unit: str | None = None) -> str:
        return self._create("data_access", {"given_on": on, "stakeholder": stakeholder, "stakeholder_type": stakeholder_type}, unit=unit)


def value(ws: Workspace, code: str, period: Period = JUNE, *, scope: str | None = None) -> IndicatorValue:
    """One indicator as ``ws``'s user computes it (scope: the user's unit by default)."""
    return engine.compute_indicators(ws, period=period, scope=scope, codes=[code])[code]


def nonzero(keys: Mapping[str, Any]) -> dict[str, Any]:
    """A breakdown without its zero rows (short code lists are zero-filled)."""
    return {k: v for k, v in keys.items() if v}


def d(text: str) -> date:
    return date.fromisoformat(text)


@contextmanager
def demo_world(folder: Path, records: int, *, seed: int) -> Iterator[ReportsWorld]:
    """A :class:`ReportsWorld` with ``records`` demo records made by the circle head of C-PSH
    (as of 2026-11-01, ``today`` pinned), for module-scoped fixtures."""
    mp = pytest.MonkeyPatch()
    pin_today(mp)
    w = ReportsWorld(folder)
    try:
        for _ in generate_demo_records(w.as_("head"), records, seed=seed, as_of=date(2026, 11, 1)):
            pass
        yield w
    finally:
        w.close()
        mp.undo()
