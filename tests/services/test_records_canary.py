# SPDX-License-Identifier: GPL-3.0-or-later
"""The foundation's canary test, extended to every personal field of the records (issue 3).

Identity fields and a screening's narrative are written through the services, edited (so the
history holds them too), listed, searched and viewed; then, with the workspace locked, no file of
the workspace, its logs, its backups or the temporary folder holds any of the canaries.
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

import pytest

from nap_desktop.domain.records import RECORD_TYPES
from nap_desktop.services import records as R
from nap_desktop.services.context import Workspace
from nap_desktop.services.users import add_user
from nap_desktop.services.workspace import open_workspace, rekey
from tests.conftest import ADMIN, ADMIN_PW, PASSWORDS

CANARY = "QX7CANARY"
HEAD_PW = PASSWORDS["head"]
CONSENT = {c: "yes" for c in (
    "consents_to_interview", "informed_of_purpose", "informed_of_data_use", "informed_of_research_use",
    "informed_of_right_to_request_data", "informed_of_retention_period", "informed_of_withdrawal",
)}


def _canaries() -> dict[str, str]:
    values = {f: f"{CANARY}-{f}" for f in RECORD_TYPES["person"].personal_fields}
    values["cnic"] = "71234-7654321-9"  # a canary that is a valid CNIC
    values["phone"] = "+92 300 7123457"
    values["passport_no"] = "QX7123456"
    return values


def test_no_personal_field_reaches_any_file_outside_the_encrypted_store(
    admin_ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    add_user(admin_ws, username="zafar", full_name="Circle Head", role="circle_head", unit="C-PSH", password=HEAD_PW)
    path = admin_ws.path
    admin_ws.lock()

    identity = _canaries()
    ws = open_workspace(path, "zafar", HEAD_PW)
    try:
        person = R.create_record(ws, "person", {**identity, "sex": "female", "age_years": 19, "citizenship": "pk"})
        screening = R.create_record(
            ws,
            "screening",
            {
                "person_id": person.id, "screened_on": "2026-10-02", "location_type": "airport", "consent": CONSENT,
                "identification_status": "possible_victim", "decided_by": "fia", "narrative": f"{CANARY}-narrative",
            },
        )
        R.update_record(ws, person.id, {"given_name": f"{CANARY}-renamed", "address": f"{CANARY}-new-address"})
        R.update_record(ws, screening.id, {"narrative": f"{CANARY}-narrative-2"})
        assert R.get_record(ws, person.id).values["given_name"] == f"{CANARY}-renamed"
        assert R.list_records(ws, "person", R.RecordFilter(text=f"{CANARY}-renamed")).total == 1
        assert R.find_duplicate_persons(ws, cnic=identity["cnic"])
        assert [h.field for h in R.record_history(ws, screening.id)] == ["narrative"]
    finally:
        ws.lock()
    ws = open_workspace(path, ADMIN, ADMIN_PW)
    rekey(ws)  # rewrites the whole store: no clear page may be left behind
    ws.lock()

    needles = [CANARY.encode(), b"7654321", b"7123457", b"QX7123456"]
    offenders = []
    for root in (path, temp):
        for f in root.rglob("*"):
            if f.is_file():
                data = f.read_bytes()
                offenders += [f"{f.relative_to(root)} holds {n!r}" for n in needles if n in data]
    assert offenders == []
    assert not (path / "store.db").read_bytes().startswith(b"SQLite format 3")
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(path / "store.db").execute("SELECT count(*) FROM sqlite_master").fetchone()


def test_milestone_evidence_is_stored_inside_the_store_only(admin_ws: Workspace, tmp_path: Path) -> None:
    add_user(admin_ws, username="zafar", full_name="Circle Head", role="circle_head", unit="C-PSH", password=HEAD_PW)
    path = admin_ws.path
    admin_ws.lock()
    ws = open_workspace(path, "zafar", HEAD_PW)
    try:
        m = R.create_record(ws, "milestone", {"indicator": "1.2.e", "title": "SOPs for victim assistance", "progress": "achieved", "achieved_on": "2026-09-01"})
        evidence = b"%PDF-1.4 " + f"{CANARY}-evidence".encode() * 50
        dto = R.attach_evidence(ws, m.id, "signed/SOP.pdf", evidence)
        assert dto.values["evidence_name"] == "signed_SOP.pdf" and dto.version == 2
        assert R.get_evidence(ws, m.id) == ("signed_SOP.pdf", evidence)
    finally:
        ws.lock()
    for f in path.rglob("*"):
        if f.is_file():
            assert CANARY.encode() not in f.read_bytes(), f
