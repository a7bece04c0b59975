# SPDX-License-Identifier: GPL-3.0-or-later
"""A small month of records for the renderer, suppression and export tests, with canaries.

:func:`small_month` writes, in C-PSH for June 2026, victims, suspects, services, a case with a
conviction, a training, an awareness session and survey responses — enough that most objectives
have numbers, several of them 1–4. Every person carries canary values (name, father's name,
CNIC, passport, phone, address) and every free-text field a canary sentence, so a test can grep
each output for them.
"""

from __future__ import annotations

from typing import Any

from nap_desktop.services import records
from tests.reports.builders import Builder

CANARY_NAME = "Zartashia Canarybibi"
CANARY_FATHER = "Qandeel Canaryfather"
CANARY_CNIC = "42101-7654321-9"
CANARY_PASSPORT = "CK9988776"
CANARY_PHONE = "0300-1234987"
CANARY_ADDRESS = "House 77 Canary Street"
CANARY_TEXT = "canary narrative do not export"
CANARY_FIR = "FIR-CANARY-77/2026"
CANARIES = (CANARY_NAME, "Zartashia", "Canarybibi", CANARY_FATHER, CANARY_CNIC, "4210176543219", CANARY_PASSPORT, CANARY_PHONE, "03001234987", CANARY_ADDRESS, CANARY_TEXT, CANARY_FIR)


def canary_person(b: Builder, sex: str = "female", *, dob: str | None = "1995-03-01", citizenship: str = "pk", province: str | None = "kp") -> str:
    """A person whose personal fields all hold canaries."""
    pid = b.person(sex, dob=dob, citizenship=citizenship, province=province)
    records.update_record(
        b.ws,
        pid,
        {
            "given_name": "Zartashia",
            "family_name": "Canarybibi",
            "father_or_husband_name": CANARY_FATHER,
            "cnic": CANARY_CNIC,
            "passport_no": CANARY_PASSPORT,
            "phone": CANARY_PHONE,
            "address": CANARY_ADDRESS,
        },
    )
    return pid


def small_month(b: Builder) -> dict[str, Any]:
    """The records of the month; returns the ids a test may need."""
    victims = []
    for sex, dob, cit in [
        ("female", "2012-05-01", "pk"),
        ("female", "1990-01-01", "pk"),
        ("female", "1991-01-01", "pk"),
        ("female", "1992-01-01", "pk"),
        ("male", "1985-01-01", "pk"),
        ("male", "1986-01-01", "af"),
        ("male", "2010-02-02", "pk"),
        ("female", "1993-01-01", "pk"),
        ("female", "1994-01-01", "pk"),
        ("male", "1980-01-01", "pk"),
    ]:
        pid = canary_person(b, sex, dob=dob, citizenship=cit)
        sid = b.screening(pid, "2026-06-05", "presumed_victim", exploitation=("forced_labour",) if sex == "male" else ("sexual_exploitation",))
        records.update_record(b.ws, sid, {"narrative": CANARY_TEXT})
        victims.append(pid)
    for pid in victims[:6]:
        b.service(pid, "2026-06-10", "shelter")
    for pid in victims[:3]:
        b.service(pid, "2026-06-11", "medical")
    suspects = [canary_person(b, "male", dob="1975-01-01") for _ in range(3)]
    for pid in suspects:
        b.suspect(pid, "2026-06-07", arrest="arrested")
    b.case(
        "2026-06-02",
        events=[("challan_submitted", "2026-06-12"), ("verdict", "2026-06-20", "convicted", suspects[0])],
        parties=[{"person_id": victims[0], "party_role": "victim"}, {"person_id": suspects[0], "party_role": "suspect"}],
    )
    b.training("2026-06-15", topics=["victim_identification"], trainees={"fia_immigration": {"female": 3, "male": 9}}, increased={"fia_immigration": {"female": 2, "male": 7}})
    b.session("2026-06-18", respondents=40, named=30, what=22, where=18, acted=3)
    for i, sat in enumerate((5, 4, 2)):
        b.survey("stakeholder_satisfaction_coordination", f"2026-06-2{i}", sat)
    return {"victims": victims, "suspects": suspects}
