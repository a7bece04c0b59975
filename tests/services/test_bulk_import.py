# SPDX-License-Identifier: GPL-3.0-or-later
"""Bulk import of legacy data: templates, all-or-nothing import, the error report, typed errors."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from nap_desktop.data.models import AuditEntry
from nap_desktop.data.record_models import MODEL_BY_TYPE, PersonIdentity
from nap_desktop.errors import PermissionDenied, UserFacingError, ValidationError
from nap_desktop.services import bulk_import as bi
from nap_desktop.services import records
from nap_desktop.services.users import add_user
from nap_desktop.services.workspace import open_workspace, unlocked
from tests.conftest import ADMIN, ADMIN_PW, PASSWORDS

CONSENT_OK = ";".join(
    f"{c}=yes"
    for c in (
        "consents_to_interview",
        "informed_of_purpose",
        "informed_of_data_use",
        "informed_of_research_use",
        "informed_of_right_to_request_data",
        "informed_of_retention_period",
        "informed_of_withdrawal",
    )
)


# --- fixtures and helpers ------------------------------------------------------------------------


HEAD = "chief"  # a circle head; the conftest password of "head" contains that name, so another name


def _add(path: Path, username: str, role: str, unit: str, password: str) -> None:
    with unlocked(path, ADMIN, ADMIN_PW) as ws:
        add_user(ws, username=username, full_name=f"Test {role}", role=role, unit=unit, password=password, must_change_password=False)


@pytest.fixture
def head_ws(workspace: Path) -> Iterator[Any]:
    """The workspace opened by a circle head of Peshawar (admins cannot capture records)."""
    _add(workspace, HEAD, "circle_head", "C-PSH", PASSWORDS["head"])
    ws = open_workspace(workspace, HEAD, PASSWORDS["head"])
    yield ws
    ws.lock()


def fill(template: Path, rows: list[dict[str, Any]], target: Path | None = None) -> Path:
    """Fills a template (CSV or XLSX) with rows given by column name, as a user would in Excel."""
    target = target or template
    if template.suffix == ".csv":
        with template.open(encoding="utf-8-sig", newline="") as f:
            header = next(csv.reader(f))
        with target.open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(header)
            for r in rows:
                w.writerow(["" if r.get(h) is None else r.get(h) for h in header])
    else:
        wb = openpyxl.load_workbook(template)
        ws = wb["Data"]
        header = [c.value for c in ws[1]]
        for r in rows:
            ws.append([r.get(h) for h in header])
        wb.save(target)
    return target


def write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def count(ws: Any, type_name: str) -> int:
    with ws.sf() as s:
        model = MODEL_BY_TYPE[type_name]
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def person_row(**kw: Any) -> dict[str, Any]:
    base = {"sex": "female", "citizenship": "pk", "age_years": 30, "given_name": "Ayesha", "family_name": "Bibi"}
    base.update(kw)
    return base


def make_person(ws: Any) -> str:
    return records.create_record(ws, "person", {"sex": "male", "citizenship": "af", "age_years": 25}).id


# --- templates -----------------------------------------------------------------------------------


def test_template_columns_are_stable_machine_names_with_matrix_cells_and_optional_extras() -> None:
    person = bi.template_columns("person")
    assert person[:3] == ["given_name", "family_name", "father_or_husband_name"]
    assert {"cnic", "passport_no", "phone", "address", "sex", "date_of_birth"} <= set(person)
    assert person[-3:] == ["status", "unit", "id"]
    screening = bi.template_columns("screening")
    assert "route" not in screening and "consent" in screening
    assert "events" not in bi.template_columns("case") and "parties" not in bi.template_columns("case")
    session = bi.template_columns("awareness_session")
    assert "participants.female.child" in session and "participants" not in session
    assert len([c for c in session if c.startswith("participants.")]) == 4 * 3


def test_xlsx_template_explains_every_column_in_english_and_urdu(tmp_path: Path) -> None:
    path = bi.write_template("screening", tmp_path / "screening.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Data", "Help", "Codes"]
    header = [c.value for c in wb["Data"][1]]
    assert header == bi.template_columns("screening")
    help_rows = {r[0]: r for r in wb["Help"].iter_rows(min_row=2, values_only=True) if r and r[0]}
    assert set(header) <= set(help_rows)
    col, en, ur, kind, required, hint = help_rows["location_type"][:6]
    assert (en, ur, kind) == ("Where", "مقام کی قسم", "code")
    assert required.startswith("Yes, for draft")
    assert "airport = Airport" in hint
    assert help_rows["identification_status"][4].startswith("Yes, to complete")
    assert "country_of_exploitation" in help_rows
    big = help_rows["country_of_exploitation"][5]
    assert "code list citizenship" in big and "pk = Pakistan" in big and "sheet Codes" in big
    assert "item=yes" in help_rows["consent"][5]
    assert "YYYY-MM-DD" in help_rows["screened_on"][5]
    route = [r for r in wb["Help"].iter_rows(values_only=True) if r and r[1] == "Route events"]
    assert route and "Not importable in bulk" in route[0][5]
    codes = {(r[0], r[1]) for r in wb["Codes"].iter_rows(min_row=2, values_only=True)}
    assert ("citizenship", "pk") in codes and ("location_type", "airport") in codes


def test_csv_template_is_the_header_row_and_existing_files_are_not_overwritten(tmp_path: Path) -> None:
    path = bi.write_template("checkpoint_log", tmp_path / "log.csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads Urdu text from a UTF-8 BOM file
    with path.open(encoding="utf-8-sig") as f:
        assert list(csv.reader(f)) == [bi.template_columns("checkpoint_log")]
    with pytest.raises(ValidationError, match="already exists"):
        bi.write_template("checkpoint_log", path)
    bi.write_template("checkpoint_log", path, overwrite=True)
    with pytest.raises(ValidationError, match="Unknown record type"):
        bi.write_template("nonsense", tmp_path / "x.csv")


def test_urdu_help_sheet_reads_right_to_left(tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(bi.write_template("person", tmp_path / "p.xlsx", lang="ur"))
    assert wb["Help"].sheet_view.rightToLeft
    assert wb["Help"]["A1"].value == "کالم"


# --- round trips ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_round_trip_person(head_ws: Any, tmp_path: Path, fmt: str) -> None:
    t = bi.write_template("person", tmp_path / f"persons.{fmt}")
    fill(
        t,
        [
            person_row(cnic="35202-1234567-1", date_of_birth="1990-05-01", age_years=None, residence_province="punjab"),
            person_row(sex="male", given_name="Imran", age_estimated="yes", status="draft", citizenship="af"),
        ],
    )
    result = bi.import_file(head_ws, "person", t)
    assert (result.rows, result.imported, result.skipped, result.report_path) == (2, 2, 0, None)
    first = records.get_record(head_ws, result.ids[0])
    assert first.values["cnic"] == "35202-1234567-1"
    assert first.values["date_of_birth"] == "1990-05-01"
    assert first.values["residence_province"] == "punjab"
    assert first.unit == "C-PSH" and first.status == "complete" and first.version == 1
    second = records.get_record(head_ws, result.ids[1])
    assert second.status == "draft" and second.values["age_estimated"] is True and second.values["citizenship"] == "af"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_round_trip_screening_linked_to_a_person(head_ws: Any, tmp_path: Path, fmt: str) -> None:
    pid = make_person(head_ws)
    t = bi.write_template("screening", tmp_path / f"screenings.{fmt}")
    fill(
        t,
        [
            {
                "person_id": pid,
                "screened_on": "2024-03-15",
                "location_type": "airport",
                "checkpoint_type": "airport",
                "consent": CONSENT_OK,
                "ilo_indicators": "deception=yes;isolation=no",
                "exploitation_types": "forced_labour;domestic_servitude",
                "identification_status": "not_a_victim",
                "decided_by": "fia",
                "narrative": "Told a long story.",
            }
        ],
    )
    result = bi.import_file(head_ws, "screening", t)
    assert result.imported == 1
    dto = records.get_record(head_ws, result.ids[0])
    assert dto.values["person_id"] == pid
    assert dto.values["exploitation_types"] == ["domestic_servitude", "forced_labour"]
    assert dto.values["ilo_indicators"] == {"deception": "yes", "isolation": "no"}
    assert dto.values["consent"]["informed_of_withdrawal"] == "yes"
    assert dto.values["narrative"] == "Told a long story."
    assert dto.values["route"] is None


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_round_trip_checkpoint_log(head_ws: Any, tmp_path: Path, fmt: str) -> None:
    t = bi.write_template("checkpoint_log", tmp_path / f"log.{fmt}")
    fill(
        t,
        [
            {"log_date": "2024-01-0" + str(d), "checkpoint_type": "land_crossing", "passengers_screened": 1000 + d, "offloaded": d, "unit": "P-TORKHAM"}
            for d in range(1, 8)
        ],
    )
    result = bi.import_file(head_ws, "checkpoint_log", t)
    assert result.imported == 7
    dto = records.get_record(head_ws, result.ids[6])
    assert dto.values["passengers_screened"] == 1007 and dto.values["offloaded"] == 7 and dto.unit == "P-TORKHAM"
    page = records.list_records(head_ws, "checkpoint_log", records.RecordFilter(unit="P-TORKHAM"))
    assert page.total == 7


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_round_trip_awareness_session_matrix_columns(head_ws: Any, tmp_path: Path, fmt: str) -> None:
    t = bi.write_template("awareness_session", tmp_path / f"sessions.{fmt}")
    fill(
        t,
        [
            {
                "held_on": "2024-02-10",
                "venue_type": "school",
                "audience_groups": "students;youth",
                "topics": "human_trafficking",
                "participants.female.child": 12,
                "participants.male.child": "8",
                "participants.female.adult": 0,
                "survey_respondents": 10,
                "survey_named_forms": 4,
            }
        ],
    )
    result = bi.import_file(head_ws, "awareness_session", t)
    dto = records.get_record(head_ws, result.ids[0])
    assert dto.values["participants"] == {"female": {"child": 12}, "male": {"child": 8}}
    assert dto.values["audience_groups"] == ["students", "youth"]
    assert dto.values["survey_named_forms"] == 4


def test_imported_records_equal_records_created_through_the_form(head_ws: Any, tmp_path: Path) -> None:
    values = {"sex": "female", "citizenship": "pk", "age_years": 30, "given_name": "Sana", "phone": "0300 1234567"}
    by_form = records.create_record(head_ws, "person", values)
    path = write_csv(tmp_path / "p.csv", list(values), [list(values.values())])
    by_import = records.get_record(head_ws, bi.import_file(head_ws, "person", path).ids[0])
    assert by_import.values == by_form.values
    model = MODEL_BY_TYPE["person"]
    with head_ws.sf() as s:
        a, b = s.get(model, by_form.id), s.get(model, by_import.id)
        assert a.content_hash == b.content_hash and b.seq > a.seq and b.origin_unit == a.origin_unit


def _draft_values(ws: Any) -> dict[str, dict[str, str]]:
    """The least each record type needs as a draft, with the records they refer to."""
    person = make_person(ws)
    case = records.create_record(ws, "case", {"registered_on": "2024-01-02", "case_type": "som"}, status="draft").id
    provider = records.create_record(ws, "service_provider", {"name": "Shelter", "provider_type": "ngo"}).id
    body = records.create_record(ws, "coordination_entity", {"name": "Task force", "level": "district"}).id
    return {
        "person": {"sex": "transgender", "citizenship": "ir", "age_years": "17", "marital_status": "single"},
        "screening": {"person_id": person, "screened_on": "2024-01-03", "location_type": "walk_in", "immediate_needs": "medical;shelter"},
        "suspect": {"person_id": person, "identified_on": "2024-01-04", "case_id": case, "organised_group": "yes"},
        "case": {"registered_on": "2024-01-05", "case_type": "tip_internal", "fir_number": "12/2024", "offences": "ppc_366a"},
        "service_provider": {"name": "Clinic", "provider_type": "health_service", "uses_sops": "no"},
        "referral": {"person_id": person, "beneficiary_role": "victim", "referred_on": "2024-01-06", "provider_id": provider},
        "service": {"person_id": person, "beneficiary_role": "victim", "service_type": "medical", "started_on": "2024-01-07"},
        "awareness_session": {"held_on": "2024-01-08", "venue_type": "mosque", "participants.male.adult": "40"},
        "training": {"held_from": "2024-01-09", "held_to": "2024-01-10", "trainees.fia_ahtc.female": "3"},
        "checkpoint_log": {"log_date": "2024-01-11", "checkpoint_type": "seaport"},
        "coordination_entity": {"name": "Committee", "level": "provincial", "functional": "yes"},
        "coordination_meeting": {"entity_id": body, "held_on": "2024-01-12", "attendees": "9"},
        "coordination_gap": {"identified_on": "2024-01-13", "entity_id": body},
        "survey_response": {"survey_topic": "victim_satisfaction_care", "responded_on": "2024-01-14", "satisfaction": "4"},
        "milestone": {"indicator": "1.1", "title": "SOPs notified", "progress": "planned"},
        "analysis_note": {"written_on": "2024-01-15", "title": "Routes via Iran"},
        "data_access": {"given_on": "2024-01-16", "stakeholder": "IOM", "stakeholder_type": "international_organisation"},
    }


def _form_values(values: dict[str, str]) -> dict[str, Any]:
    """The values of a CSV row as a form gives them (matrix cells folded into their field)."""
    out: dict[str, Any] = {}
    for k, v in values.items():
        if k.count(".") == 2:
            name, d1, d2 = k.split(".")
            out.setdefault(name, {}).setdefault(d1, {})[d2] = int(v)
        else:
            out[k] = v
    return out


def test_every_record_type_imports_exactly_what_the_form_stores(head_ws: Any, tmp_path: Path) -> None:
    from nap_desktop.data.record_models import RecordCode, RecordCount

    samples = _draft_values(head_ws)
    assert set(samples) == set(records.RECORD_TYPES)
    skip = {"id", "seq", "created_at", "updated_at"}
    for type_name, values in samples.items():
        by_form = records.create_record(head_ws, type_name, _form_values(values), status="draft")
        path = write_csv(tmp_path / f"{type_name}.csv", [*values, "status"], [[*values.values(), "draft"]])
        result = bi.import_file(head_ws, type_name, path)
        assert result.imported == 1, type_name
        by_import = records.get_record(head_ws, result.ids[0])
        assert by_import.values == by_form.values, type_name
        model = MODEL_BY_TYPE[type_name]
        with head_ws.sf() as s:
            a, b = s.get(model, by_form.id), s.get(model, by_import.id)
            for col in model.__table__.columns:
                if col.key not in skip:
                    assert getattr(a, col.key) == getattr(b, col.key), (type_name, col.key)
            for related in (RecordCode, RecordCount):
                rows = [
                    sorted(tuple(getattr(r, c.key) for c in related.__table__.columns if c.key != "record_id") for r in s.scalars(select(related).where(related.record_id == rid)))
                    for rid in (by_form.id, by_import.id)
                ]
                assert rows[0] == rows[1], (type_name, related.__name__)


def test_a_draft_the_store_cannot_hold_is_a_row_error_not_a_crash(head_ws: Any, tmp_path: Path) -> None:
    # data_accesses.stakeholder_type is NOT NULL although a draft may leave it empty (records.py
    # crashes with an IntegrityError there); the import reports the row instead.
    # The column must be filled even for a draft (the spec now says so): a row error, not a crash.
    path = write_csv(tmp_path / "d.csv", ["given_on", "stakeholder", "stakeholder_type", "status"], [["2024-01-16", "IOM", "", "draft"]])
    with pytest.raises(bi.ImportRejected) as exc:
        bi.import_file(head_ws, "data_access", path)
    assert str(exc.value).startswith("Row 2, column stakeholder_type: Required.")


# --- all rows or none ----------------------------------------------------------------------------


def test_one_bad_row_imports_nothing_and_names_the_row_and_column(head_ws: Any, tmp_path: Path) -> None:
    t = bi.write_template("person", tmp_path / "data.csv")
    rows = [person_row() for _ in range(8)]
    rows[5]["sex"] = "fmale"  # the 6th data row: Excel row 7
    fill(t, rows)
    with pytest.raises(bi.ImportRejected) as exc:
        bi.import_file(head_ws, "person", t)
    assert isinstance(exc.value, ValidationError) and isinstance(exc.value, UserFacingError)
    msg = str(exc.value)
    assert msg.startswith("Row 7, column sex: 'fmale' is not in the list sex.")
    assert msg.endswith("Nothing was imported; see data.errors.csv.")
    assert exc.value.fields == {"sex": "'fmale' is not in the list sex."}
    assert exc.value.rows == 8 and exc.value.bad_rows == 1
    assert count(head_ws, "person") == 0
    report = tmp_path / "data.errors.csv"
    assert exc.value.report_path == report
    with report.open(encoding="utf-8-sig") as f:
        lines = list(csv.DictReader(f))
    assert lines == [
        {"row": "7", "column": "sex", "message_en": "'fmale' is not in the list sex.", "message_ur": "'fmale' فہرست sex میں نہیں۔"}
    ]


def test_report_lists_every_problem_of_every_row(head_ws: Any, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "many.csv",
        ["sex", "citizenship", "age_years", "date_of_birth"],
        [["female", "pk", "30", ""], ["x", "zz", "", ""], ["male", "pk", "abc", "2999-01-01"]],
    )
    with pytest.raises(bi.ImportRejected) as exc:
        bi.import_file(head_ws, "person", path)
    assert "2 of 3 rows have errors" in str(exc.value)
    got = [(e.row, e.column) for e in exc.value.errors]
    assert got == [(3, "sex"), (3, "citizenship"), (4, "age_years"), (4, "date_of_birth")]
    assert {e.message_en for e in exc.value.errors} >= {"Must be a whole number.", "Cannot be in the future."}
    assert count(head_ws, "person") == 0


def test_skip_invalid_imports_the_good_rows_and_reports_the_bad(head_ws: Any, tmp_path: Path) -> None:
    t = bi.write_template("person", tmp_path / "legacy.xlsx")
    rows = [person_row(given_name=f"P{i}") for i in range(5)]
    rows[1]["citizenship"] = "nowhere"
    rows[3]["age_years"] = 200
    fill(t, rows)
    result = bi.import_file(head_ws, "person", t, skip_invalid=True)
    assert (result.rows, result.imported, result.skipped) == (5, 3, 2)
    assert count(head_ws, "person") == 3
    assert result.report_path == tmp_path / "legacy.errors.csv"
    with result.report_path.open(encoding="utf-8-sig") as f:
        lines = [(r["row"], r["column"]) for r in csv.DictReader(f)]
    assert lines == [("3", "citizenship"), ("5", "age_years")]


def test_the_consent_gate_applies_to_imported_screenings(head_ws: Any, tmp_path: Path) -> None:
    pid = make_person(head_ws)
    header = ["person_id", "screened_on", "location_type", "identification_status", "decided_by", "consent", "status"]
    path = write_csv(
        tmp_path / "s.csv",
        header,
        [
            [pid, "2024-03-01", "airport", "not_a_victim", "fia", "", "draft"],  # a draft may lack consent
            [pid, "2024-03-02", "airport", "not_a_victim", "fia", "consents_to_interview=yes", "complete"],
        ],
    )
    with pytest.raises(bi.ImportRejected) as exc:
        bi.import_file(head_ws, "screening", path)
    assert str(exc.value).startswith("Row 3, column consent: Complete the consent checks first: ")
    assert "پہلے رضامندی کی جانچ مکمل کریں" in exc.value.errors[0].message_ur
    assert count(head_ws, "screening") == 0


def test_a_cancelled_import_leaves_nothing(head_ws: Any, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "big.csv", ["sex", "citizenship"], [["female", "pk"]] * 1600)
    gen = bi.iter_import(head_ws, "person", path)
    steps = [next(gen) for _ in range(4)]  # reading, checking, then 500 and 1000 rows done (2 chunks written)
    assert steps[-1].done == 1000 and steps[-1].total == 1600
    gen.close()
    assert count(head_ws, "person") == 0
    result = bi.import_file(head_ws, "person", path)  # the store is not left locked
    assert result.imported == 1600


def test_a_crash_mid_import_leaves_nothing(head_ws: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_csv(tmp_path / "crash.csv", ["sex", "citizenship"], [["male", "pk"]] * 1200)
    calls = {"n": 0}
    real = records._content_hash

    def crash(*a: Any, **kw: Any) -> str:
        calls["n"] += 1
        if calls["n"] > 700:
            raise RuntimeError("power cut")
        return real(*a, **kw)

    monkeypatch.setattr(records, "_content_hash", crash)
    with pytest.raises(RuntimeError):
        bi.import_file(head_ws, "person", path)
    assert count(head_ws, "person") == 0
    with head_ws.sf() as s:
        assert s.scalar(select(func.count()).select_from(PersonIdentity)) == 0


def test_progress_is_reported_and_the_import_is_audited_once_without_values(head_ws: Any, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", ["given_name", "sex", "citizenship"], [["Zainab", "female", "pk"]] * 1100)
    seen: list[bi.Progress] = []
    result = bi.import_file(head_ws, "person", path, progress=seen.append)
    assert result.imported == 1100
    assert [p.done for p in seen if p.label.startswith("Checking and")] == [500, 1000]
    assert seen[-1].label == "Saving"
    with head_ws.sf() as s:
        entries = s.scalars(select(AuditEntry).where(AuditEntry.action.like("record%"))).all()
    assert [e.action for e in entries] == ["records.imported"]
    detail = json.loads(entries[0].detail)
    assert detail == {"type": "person", "format": "csv", "rows": 1100, "imported": 1100, "skipped": 0, "possible_duplicates": 0}
    assert "Zainab" not in entries[0].detail


# --- file-level errors ---------------------------------------------------------------------------


def test_unknown_columns_are_named_before_any_row(head_ws: Any, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "u.csv", ["sex", "citizenship", "gender", "Ayesha Bibi"], [["female", "pk", "f", "x"]])
    with pytest.raises(bi.ImportFileError) as exc:
        bi.import_file(head_ws, "person", path)
    msg = str(exc.value)
    assert "'gender' (column C)" in msg and "column D" in msg
    assert "Ayesha" not in msg  # a header cell that is not a column name is not repeated
    assert not (tmp_path / "u.errors.csv").exists()


def test_route_events_cannot_be_imported_in_bulk(head_ws: Any, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", ["person_id", "screened_on", "location_type", "route"], [["x", "2024-01-01", "airport", "[]"]])
    with pytest.raises(bi.ImportFileError, match="route cannot be imported in bulk"):
        bi.import_file(head_ws, "screening", path)


def test_missing_required_column_is_named(head_ws: Any, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "m.csv", ["given_name", "citizenship"], [["Ali", "pk"]])
    with pytest.raises(bi.ImportFileError, match=r"lacks required columns for person records: sex\."):
        bi.import_file(head_ws, "person", path)


def test_a_csv_that_is_not_utf8_is_refused_naming_the_row(head_ws: Any, tmp_path: Path) -> None:
    path = tmp_path / "legacy.csv"
    path.write_bytes("given_name,sex,citizenship\nAli,male,pk\nJos\u00e9,male,pk\n".encode("cp1252"))
    with pytest.raises(bi.ImportFileError) as exc:
        bi.import_file(head_ws, "person", path)
    assert str(exc.value).startswith("Row 3 of legacy.csv is not UTF-8 text.")
    assert "CSV UTF-8" in str(exc.value)
    assert count(head_ws, "person") == 0


def test_utf8_with_bom_semicolons_and_urdu_labels_are_read(head_ws: Any, tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffgiven_name;sex;citizenship\nعائشہ;خاتون;Pakistan\n".encode())
    result = bi.import_file(head_ws, "person", path)
    dto = records.get_record(head_ws, result.ids[0])
    assert (dto.values["given_name"], dto.values["sex"], dto.values["citizenship"]) == ("عائشہ", "female", "pk")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "is empty"),
        (b"\n\n  \n", "is empty"),
        (b"\xef\xbb\xbf", "is empty"),
        (b"sex,citizenship\n", "no data rows"),
        (b"sex,citizenship\n,\n\n", "no data rows"),
    ],
)
def test_an_empty_file_gives_a_clear_error(head_ws: Any, tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(bi.ImportFileError, match=expected):
        bi.import_file(head_ws, "person", path)


def test_files_too_big_are_refused(head_ws: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_csv(tmp_path / "big.csv", ["sex", "citizenship"], [["male", "pk"]] * 6)
    monkeypatch.setattr(bi, "MAX_ROWS", 5)
    with pytest.raises(bi.ImportFileError, match="more than 5 data rows"):
        bi.import_file(head_ws, "person", path)
    monkeypatch.setattr(bi, "MAX_BYTES", 10)
    with pytest.raises(bi.ImportFileError, match="the limit is"):
        bi.import_file(head_ws, "person", path)
    assert count(head_ws, "person") == 0


def test_wrong_formats_are_refused(head_ws: Any, tmp_path: Path) -> None:
    xls = tmp_path / "old.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0junk")
    with pytest.raises(bi.ImportFileError, match="old Excel format"):
        bi.import_file(head_ws, "person", xls)
    fake = tmp_path / "fake.xlsx"
    fake.write_bytes(b"sex,citizenship\nmale,pk\n")
    with pytest.raises(bi.ImportFileError, match="not a readable XLSX"):
        bi.import_file(head_ws, "person", fake)
    wb_as_csv = tmp_path / "book.csv"
    bi.write_template("person", tmp_path / "t.xlsx").rename(wb_as_csv)
    with pytest.raises(bi.ImportFileError, match="is an Excel workbook"):
        bi.import_file(head_ws, "person", wb_as_csv)
    with pytest.raises(bi.ImportFileError, match="There is no file"):
        bi.import_file(head_ws, "person", tmp_path / "missing.csv")


# --- XLSX cells ----------------------------------------------------------------------------------


def test_xlsx_date_and_number_cells_are_converted(head_ws: Any, tmp_path: Path) -> None:
    path = tmp_path / "typed.xlsx"
    wb = openpyxl.Workbook()
    sheet = wb.active
    sheet.append(["given_name", "sex", "citizenship", "date_of_birth", "age_years", "cnic", "age_estimated"])
    sheet.append(["Bilal", "male", "pk", datetime(1991, 7, 4), None, 3520212345671, True])
    sheet.append(["Hina", "female", "pk", date(2001, 1, 2), None, None, None])
    sheet.append([None] * 7)  # a blank row is not data
    sheet.append(["Gul", "female", "af", None, 33.0, None, 0])
    sheet["D3"].number_format = "dd/mm/yyyy"
    wb.save(path)
    result = bi.import_file(head_ws, "person", path)
    assert (result.rows, result.imported) == (3, 3)
    a, b, c = (records.get_record(head_ws, i) for i in result.ids)
    assert a.values["date_of_birth"] == "1991-07-04"
    assert a.values["cnic"] == "35202-1234567-1" and a.values["age_estimated"] is True
    assert b.values["date_of_birth"] == "2001-01-02"
    assert c.values["age_years"] == 33 and c.values["age_estimated"] is False


def test_xlsx_row_numbers_are_excel_rows(head_ws: Any, tmp_path: Path) -> None:
    path = tmp_path / "gaps.xlsx"
    wb = openpyxl.Workbook()
    sheet = wb.active
    sheet.append(["sex", "citizenship"])
    sheet["A5"], sheet["B5"] = "male", "pk"
    sheet["A9"], sheet["B9"] = "female", "xx"
    wb.save(path)
    with pytest.raises(bi.ImportRejected, match=r"^Row 9, column citizenship: 'xx' is not in the list citizenship\."):
        bi.import_file(head_ws, "person", path)


def test_rows_of_a_locked_month_are_refused(head_ws: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def january_2024_is_approved(_s: Any, unit: str, on: date) -> str | None:
        return "January 2024 of this unit was approved; its records are locked." if (on.year, on.month) == (2024, 1) else None

    monkeypatch.setattr(records, "LOCK_HOOKS", [january_2024_is_approved])
    path = write_csv(tmp_path / "l.csv", ["log_date", "checkpoint_type"], [["2024-02-01", "airport"], ["2024-01-31", "airport"]])
    result = bi.import_file(head_ws, "checkpoint_log", path, skip_invalid=True)
    assert (result.imported, result.skipped) == (1, 1)
    assert [(e.row, e.column, e.message_en) for e in result.errors] == [
        (3, "log_date", "January 2024 of this unit was approved; its records are locked.")
    ]


def test_a_bad_matrix_cell_is_named_by_its_column(head_ws: Any, tmp_path: Path) -> None:
    header = ["held_on", "venue_type", "audience_groups", "topics", "participants.female.child", "participants.male.adult"]
    path = write_csv(tmp_path / "m.csv", header, [["2024-02-10 00:00:00", "school", "students", "human_trafficking", "many", "-3"]])
    with pytest.raises(bi.ImportRejected) as exc:
        bi.import_file(head_ws, "awareness_session", path)
    assert [(e.row, e.column) for e in exc.value.errors] == [(2, "participants.female.child"), (2, "participants.male.adult")]
    assert exc.value.errors[0].message_en == "Must be a whole number from 0 to 10,000,000."


def test_xlsx_row_limit_counts_data_rows_not_blank_formatted_ones(head_ws: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "limit.xlsx"
    wb = openpyxl.Workbook()
    sheet = wb.active
    sheet.append(["sex", "citizenship"])
    for r in range(2, 5):
        sheet.append(["male", "pk"])
    sheet["A40"].number_format = "@"  # a formatted but empty cell far below
    sheet["A40"].value = " "
    wb.save(path)
    monkeypatch.setattr(bi, "MAX_ROWS", 3)
    assert bi.import_file(head_ws, "person", path).imported == 3
    sheet.append(["female", "pk"])
    wb.save(path)
    with pytest.raises(bi.ImportFileError, match="more than 3 data rows"):
        bi.import_file(head_ws, "person", path)
    assert count(head_ws, "person") == 3


# --- ids, units, permissions ---------------------------------------------------------------------


def test_legacy_ids_are_kept_and_checked(head_ws: Any, tmp_path: Path) -> None:
    legacy = "3F2B8C1E-7A4D-4E5F-9A1B-2C3D4E5F6A7B"
    path = write_csv(tmp_path / "ids.csv", ["id", "sex", "citizenship"], [[legacy, "male", "pk"]])
    result = bi.import_file(head_ws, "person", path)
    assert result.ids == (legacy.lower(),)
    # a screening can refer to it by the legacy id, in any case
    s_path = write_csv(
        tmp_path / "s.csv",
        ["person_id", "screened_on", "location_type", "status"],
        [[legacy, "2024-01-01", "airport", "draft"]],
    )
    assert bi.import_file(head_ws, "screening", s_path).imported == 1
    again = write_csv(
        tmp_path / "again.csv",
        ["id", "sex", "citizenship"],
        [[legacy, "male", "pk"], ["not-a-uuid", "male", "pk"], [str(legacy).lower().replace("7b", "7c"), "male", "pk"], [legacy.replace("7B", "7C"), "male", "pk"]],
    )
    with pytest.raises(bi.ImportRejected) as exc:
        bi.import_file(head_ws, "person", again)
    got = [(e.row, e.column, e.message_en) for e in exc.value.errors]
    assert got == [
        (2, "id", "A record with this id already exists in the workspace."),
        (3, "id", bi._MSG["bad_id"][0]),
        (5, "id", "This id appears twice in the file (first in row 4)."),
    ]
    assert count(head_ws, "person") == 1


def test_unknown_unit_is_a_row_error_and_a_unit_out_of_scope_refuses_the_import(workspace: Path, tmp_path: Path) -> None:
    _add(workspace, "imran", "officer", "P-TORKHAM", PASSWORDS["officer"])
    ws = open_workspace(workspace, "imran", PASSWORDS["officer"])
    try:
        path = write_csv(tmp_path / "u.csv", ["sex", "citizenship", "unit"], [["male", "pk", "P-NOWHERE"]])
        with pytest.raises(bi.ImportRejected, match="Row 2, column unit: P-NOWHERE is not a unit of this workspace"):
            bi.import_file(ws, "person", path)
        path = write_csv(tmp_path / "o.csv", ["sex", "citizenship", "unit"], [["male", "pk", ""], ["male", "pk", "C-PSH"]])
        with pytest.raises(PermissionDenied, match="outside your unit"):
            bi.import_file(ws, "person", path, skip_invalid=True)
        assert count(ws, "person") == 0
        with ws.sf() as s:
            denied = s.scalars(select(AuditEntry).where(AuditEntry.action == "permission.denied")).all()
        assert denied and denied[-1].unit == "C-PSH"
        ok = write_csv(tmp_path / "ok.csv", ["sex", "citizenship"], [["male", "pk"]])
        result = bi.import_file(ws, "person", ok)
        assert records.get_record(ws, result.ids[0]).unit == "P-TORKHAM"
    finally:
        ws.lock()


def test_an_administrator_cannot_import(admin_ws: Any, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", ["sex", "citizenship"], [["male", "pk"]])
    with pytest.raises(PermissionDenied):
        bi.import_file(admin_ws, "person", path)


# --- personal data -------------------------------------------------------------------------------


def test_imported_personal_data_is_in_the_store_and_found_as_duplicates(head_ws: Any, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "p.csv",
        ["given_name", "family_name", "cnic", "passport_no", "date_of_birth", "sex", "citizenship"],
        [["Ayesha", "Bibi", "35202 1234567 1", "", "1990-05-01", "female", "pk"], ["Omar", "Khan", "", "AB1234567", "", "male", "pk"]],
    )
    ayesha, omar = bi.import_file(head_ws, "person", path).ids
    assert [c.person_id for c in records.find_duplicate_persons(head_ws, cnic="3520212345671")] == [ayesha]
    assert [c.reason for c in records.find_duplicate_persons(head_ws, given_name="AYESHA", family_name="bibi", date_of_birth="1990-05-01")] == [
        "name_and_birth_date"
    ]
    assert [c.person_id for c in records.find_duplicate_persons(head_ws, passport_no="ab-1234567")] == [omar]
    page = records.list_records(head_ws, "person", records.RecordFilter(text="Ayesha"))
    assert [r.id for r in page.rows] == [ayesha]


def test_possible_duplicate_persons_are_reported_with_the_person_they_match(head_ws: Any, tmp_path: Path) -> None:
    known = records.create_record(head_ws, "person", {"sex": "male", "citizenship": "pk", "cnic": "35202-7654321-3"}).id
    path = write_csv(
        tmp_path / "dups.csv",
        ["given_name", "family_name", "cnic", "date_of_birth", "sex", "citizenship"],
        [
            ["Asif", "Ali", "3520276543213", "", "male", "pk"],  # same CNIC as a known person
            ["Sara", "Noor", "", "1999-09-09", "female", "pk"],
            ["Nadia", "Aziz", "", "", "female", "pk"],
            ["SARA", "noor", "", "1999-09-09", "female", "pk"],  # same name and birth date as row 3
            ["Sarah", "Nur", "", "1999-09-09", "female", "pk"],  # spelt another way, same birth date
            ["Sarah", "Nur", "", "1999-09-10", "female", "pk"],  # another birth date: someone else
        ],
    )
    result = bi.import_file(head_ws, "person", path)
    assert result.imported == 6  # a warning, not an error
    assert result.duplicates == ((2, known), (5, result.ids[1]), (6, result.ids[1]))
    with head_ws.sf() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "records.imported")).one()
    assert json.loads(entry.detail)["possible_duplicates"] == 3


def test_values_that_are_not_codes_are_not_repeated_in_messages(head_ws: Any, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", ["sex", "citizenship"], [["35202-1234567-1", "pk"], ["male", "Ayesha Bibi"]])
    with pytest.raises(bi.ImportRejected) as exc:
        bi.import_file(head_ws, "person", path)
    assert str(exc.value).startswith("Row 2, column sex: This value is not in the list sex.")
    text = str(exc.value) + (tmp_path / "p.errors.csv").read_text(encoding="utf-8-sig")
    assert "35202" not in text and "Ayesha" not in text
    assert exc.value.errors[1].message_ur.startswith("یہ قدر")


# --- property-based: the parser never crashes ----------------------------------------------------

_PERSON_COLUMNS = ["sex", "citizenship", "given_name", "age_years", "date_of_birth", "cnic", "phone", "age_estimated", "status", "unit", "id"]
_cell = st.one_of(st.text(max_size=30), st.sampled_from(["", "male", "pk", "1990-01-01", "yes", "35202-1234567-1", "12", "draft", "C-PSH"]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    header=st.lists(st.one_of(st.sampled_from(_PERSON_COLUMNS), st.text(max_size=12)), min_size=0, max_size=6),
    rows=st.lists(st.lists(_cell, max_size=7), max_size=5),
    skip=st.booleans(),
)
def test_arbitrary_text_cells_never_crash_the_import(head_ws: Any, tmp_path: Path, header: list[str], rows: list[list[str]], skip: bool) -> None:
    path = tmp_path / "fuzz.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    try:
        bi.import_file(head_ws, "person", path, skip_invalid=skip)
    except UserFacingError:
        pass


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.fixed_dictionaries({}, optional={c: _cell for c in ("held_on", "venue_type", "audience_groups", "topics", "participants.female.child", "participants.male.adult", "survey_respondents")}), min_size=1, max_size=4)
)
def test_arbitrary_cells_in_matrix_and_code_columns_never_crash(head_ws: Any, tmp_path: Path, rows: list[dict[str, str]]) -> None:
    t = tmp_path / "session.csv"
    bi.write_template("awareness_session", t, overwrite=True)
    fill(t, rows)
    try:
        bi.import_file(head_ws, "awareness_session", t, skip_invalid=True)
    except UserFacingError:
        pass


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=300), suffix=st.sampled_from([".csv", ".xlsx"]))
def test_arbitrary_bytes_give_only_typed_errors(head_ws: Any, tmp_path: Path, content: bytes, suffix: str) -> None:
    path = tmp_path / f"bytes{suffix}"
    path.write_bytes(content)
    try:
        bi.import_file(head_ws, "person", path)
    except UserFacingError:
        pass
