# SPDX-License-Identifier: GPL-3.0-or-later
"""Monthly returns (issue 5 item 3): the state machine, who may do what, the locks and the audited
unlock, the checks, comments, completeness and the FIA case pipeline.

Every expected number below is worked out by hand from the records the test makes (the comments
say how), never read back from the engine. The workspace is the indicator tests' HQ world: circle
head ``head`` of C-PSH, ``head_lhr`` of C-LHR, ``officer`` of P-TORKHAM (a post of C-PSH),
``officer_lhr`` of C-LHR, HQ analysts, an auditor and the HQ administrator. Records are dated in
June 2026 (due 10 July 2026); the returns' clock is pinned per test.
"""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from nap_desktop.data.models import AuditEntry
from nap_desktop.errors import (
    NotFound,
    PermissionDenied,
    RecordLocked,
    ReturnOutdated,
    ReturnStateError,
    ValidationError,
    VersionConflict,
)
from nap_desktop.reports import returns
from nap_desktop.services import records
from tests.conftest import require_program
from tests.reports.builders import Builder, ReportsWorld
from tests.services.records_factories import audit_count, audit_rows

PKT = returns.REPORTING_TZ
JUNE = "2026-06"
CANARY = "Zarmeena Qizilbash-Canary"  # a name typed into free text: must never reach the audit log


def pkt(y: int, m: int, d: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(y, m, d, hour, minute, tzinfo=PKT)


@pytest.fixture(autouse=True)
def _clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Returns happen on 5 July 2026 unless a test moves the clock (:func:`set_now`)."""
    monkeypatch.setattr(returns, "now", lambda: pkt(2026, 7, 5).astimezone(UTC))


def set_now(monkeypatch: pytest.MonkeyPatch, when: datetime) -> None:
    monkeypatch.setattr(returns, "now", lambda: when.astimezone(UTC))


def arrested_suspect(b: Builder, pid: str, identified: str, arrested_on: str | None, *, case: str | None = None, unit: str | None = None) -> str:
    v = {"person_id": pid, "identified_on": identified, "roles": ["smuggler"], "arrest_status": "arrested" if arrested_on else "not_arrested"}
    if arrested_on:
        v["arrested_on"] = arrested_on
    if case:
        v["case_id"] = case
    return records.create_record(b.ws, "suspect", v, unit=unit).id


def denied_entries(world: ReportsWorld, perm: str) -> int:
    with world.current().sf() as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.action == "permission.denied")).all()
        return sum(1 for e in rows if json.loads(e.detail).get("perm") == perm)


# --- the case pipeline ---------------------------------------------------------------------------


def test_pipeline_counts_cases_of_the_unit_subtree_against_a_hand_built_set(world: ReportsWorld, b: Builder) -> None:
    # C-PSH and its post P-TORKHAM; what each case contributes in June 2026:
    b.case("2026-06-03", events=[("arrest", "2026-06-05"), ("challan_submitted", "2026-06-20")], unit="P-TORKHAM")  # A: registered, challaned, pending trial
    b.case("2026-03-01", events=[("challan_submitted", "2026-04-10"), ("trial_started", "2026-05-01"), ("verdict", "2026-06-15", "convicted")])  # B: convicted
    b.case("2026-02-01", events=[("challan_submitted", "2026-03-01"), ("verdict", "2026-06-25", "acquitted")])  # C: acquitted
    b.case("2026-05-20")  # D: pending investigation
    b.case("2026-06-10", events=[("case_closed", "2026-06-28")])  # E: registered, closed (not pending)
    b.case("2026-07-02")  # F: after the month: nothing
    b.case("2026-01-05", events=[("challan_submitted", "2026-02-01"), ("verdict", "2026-05-10", "convicted")])  # G: challaned to date only
    b.case("2026-04-01", events=[("challan_submitted", "2026-05-01"), ("verdict", "2026-07-05", "convicted")])  # K: pending trial at end of June
    b.case("2026-05-15", events=[("challan_submitted", "2026-07-10")])  # L: still under investigation at the end of June
    b.case("2026-06-12", draft=True)  # a draft: never counted
    deleted = b.case("2026-06-14")
    b.delete(deleted)  # a tombstone: never counted
    Builder(world.as_("head_lhr")).case("2026-06-09", unit="C-LHR")  # another circle: not in C-PSH's return
    # Persons arrested in June: p1 (twice: one person), p2; p3 was arrested in May.
    p1, p2, p3 = b.person("male"), b.person("male"), b.person("male")
    arrested_suspect(b, p1, "2026-06-01", "2026-06-05")
    arrested_suspect(b, p1, "2026-06-02", "2026-06-07")
    arrested_suspect(b, p2, "2026-06-01", "2026-06-30", unit="P-TORKHAM")
    arrested_suspect(b, p3, "2026-05-01", "2026-05-30")

    ret = returns.compile_return(world.as_("head"), "C-PSH", JUNE)

    assert dict(ret.pipeline) == {
        "registered": 2,  # A, E
        "arrested": 2,  # p1, p2
        "challaned": 1,  # A
        "convicted": 1,  # B
        "acquitted": 1,  # C
        "pending_investigation": 2,  # D, L (A was challaned in June, E closed)
        "pending_trial": 2,  # A, K
        "challaned_to_date": 5,  # A, B, C, G, K
    }
    # The post's own return sees only case A and p2.
    post = returns.compile_return(world.as_("officer"), "P-TORKHAM", JUNE)
    assert (post.pipeline["registered"], post.pipeline["challaned"], post.pipeline["pending_trial"], post.pipeline["arrested"]) == (1, 1, 1, 1)


# --- compile -------------------------------------------------------------------------------------


def test_compile_makes_a_draft_with_every_indicator_and_an_audited_history(world: ReportsWorld, b: Builder) -> None:
    p1, p2 = b.person("female"), b.person("male")
    b.screening(p1, "2026-06-10", unit="P-TORKHAM")
    b.screening(p2, "2026-06-11", "confirmed_victim")
    b.screening(p2, "2026-06-12", "confirmed_victim")  # the same person twice: counted once
    ws = world.as_("head")
    steps = list(returns.iter_compile(ws, "C-PSH", JUNE))
    assert [p.done for p in steps] == [0, 1, 2, 3, 4] and all(p.total == 4 for p in steps)

    ret = returns.get_return(ws, "C-PSH", JUNE)
    assert (ret.state, ret.version, ret.compiled_by, ret.due_on) == ("draft", 1, "circ.psh", date(2026, 7, 10))
    assert len(ret.report.values) == 41
    assert ret.report["1.3.a"].value == 2
    assert dict(ret.report["1.3.a"].breakdown["sex"])["female"] == 1
    assert ret.records_in_month == 3 and ret.drafts_in_month == 0
    assert [(h.action, h.from_state, h.to_state) for h in ret.history] == [("compile", None, "draft")]
    assert audit_count(ws, "return.compiled", object_id=ret.id) == 1
    # Compiling a draft again replaces its values and bumps the version.
    b.screening(b.person("female"), "2026-06-20")
    again = returns.compile_return(ws, "C-PSH", JUNE, expected_version=1)
    assert (again.version, again.report["1.3.a"].value, again.id) == (2, 3, ret.id)
    with pytest.raises(VersionConflict, match="version 2"):
        returns.compile_return(ws, "C-PSH", JUNE, expected_version=1)


def test_a_month_not_yet_begun_or_a_malformed_month_is_refused(world: ReportsWorld) -> None:
    ws = world.as_("head")
    with pytest.raises(ValidationError, match="has not started yet"):
        returns.compile_return(ws, "C-PSH", "2026-08")  # the clock says 5 July 2026
    for bad in ("2026-13", "June 2026", "2026-6", ""):
        with pytest.raises(ValidationError, match="YYYY-MM"):
            returns.compile_return(ws, "C-PSH", bad)
    with pytest.raises(NotFound):
        returns.get_return(ws, "C-PSH", "2026-05")


def test_due_date_is_the_tenth_of_the_following_month() -> None:
    assert returns.DUE_DAY == 10
    assert returns.due_date("2026-06") == date(2026, 7, 10)
    assert returns.due_date("2026-12") == date(2027, 1, 10)
    assert returns.due_date("2027-01") == date(2027, 2, 10)


# --- the state machine ---------------------------------------------------------------------------


def test_state_machine_draft_submitted_returned_submitted_approved_with_illegal_steps_refused(world: ReportsWorld, b: Builder) -> None:
    b.screening(b.person(), "2026-06-10")
    head, analyst = world.as_("head"), world.as_("analyst")
    returns.compile_return(head, "C-PSH", JUNE)

    # A draft cannot be approved, sent back or unlocked.
    with pytest.raises(ReturnStateError, match="is draft, so it cannot be approved"):
        returns.approve_return(analyst, "C-PSH", JUNE)
    with pytest.raises(ReturnStateError, match="is draft"):
        returns.send_back_return(analyst, "C-PSH", JUNE, "Check the figures")
    with pytest.raises(ReturnStateError, match="is draft"):
        returns.unlock_return(world.as_("admin"), "C-PSH", JUNE, "Not approved yet")

    sub = returns.submit_return(head, "C-PSH", JUNE, expected_version=1)
    assert (sub.state, sub.version, sub.submitted_by, sub.on_time) == ("submitted", 2, "circ.psh", True)
    with pytest.raises(ReturnStateError, match="is submitted"):
        returns.submit_return(head, "C-PSH", JUNE)
    with pytest.raises(ReturnStateError, match="must be sent back"):
        returns.compile_return(head, "C-PSH", JUNE)
    with pytest.raises(VersionConflict):
        returns.approve_return(analyst, "C-PSH", JUNE, expected_version=1)
    with pytest.raises(ValidationError, match="Give a reason"):
        returns.send_back_return(analyst, "C-PSH", JUNE, "   ")

    back = returns.send_back_return(analyst, "C-PSH", JUNE, "Explain 1.3.a in a comment")
    assert (back.state, back.returned_by, back.returned_reason) == ("returned", "ana.hq", "Explain 1.3.a in a comment")
    with pytest.raises(ReturnStateError, match="is returned"):
        returns.approve_return(analyst, "C-PSH", JUNE)

    returns.compile_return(head, "C-PSH", JUNE)  # returned → draft
    set_now(world_mp := pytest.MonkeyPatch(), pkt(2026, 7, 14))  # resubmitted late; on time stays with the first submission
    try:
        again = returns.submit_return(head, "C-PSH", JUNE)
    finally:
        world_mp.undo()
    assert (again.state, again.on_time) == ("submitted", True)
    done = returns.approve_return(analyst, "C-PSH", JUNE)
    assert (done.state, done.approved_by) == ("approved", "ana.hq")
    with pytest.raises(ReturnStateError, match="locked; an administrator must unlock it first"):
        returns.approve_return(analyst, "C-PSH", JUNE)
    with pytest.raises(ReturnStateError, match="is approved"):
        returns.compile_return(head, "C-PSH", JUNE)

    assert [(h.action, h.from_state, h.to_state, h.version) for h in done.history] == [
        ("compile", None, "draft", 1),
        ("submit", "draft", "submitted", 2),
        ("send_back", "submitted", "returned", 3),
        ("compile", "returned", "draft", 4),
        ("submit", "draft", "submitted", 5),
        ("approve", "submitted", "approved", 6),
    ]
    assert done.history[2].reason == "Explain 1.3.a in a comment"
    ws = world.current()
    for action, n in (("return.compiled", 2), ("return.submitted", 2), ("return.sent_back", 1), ("return.approved", 1)):
        assert audit_count(ws, action, object_id=done.id) == n, action


def test_submit_compiles_again_and_refuses_values_changed_since_review(world: ReportsWorld, b: Builder) -> None:
    b.screening(b.person(), "2026-06-10")
    head = world.as_("head")
    returns.compile_return(head, "C-PSH", JUNE)
    b.screening(b.person("male"), "2026-06-11", unit="P-TORKHAM")  # a new victim after the review
    with pytest.raises(ReturnOutdated, match=r"changed since the return was compiled .*1\.3\.a.*Compile it again"):
        returns.submit_return(head, "C-PSH", JUNE)
    assert returns.get_return(head, "C-PSH", JUNE).state == "draft"
    # A record of another month changes nothing in June's values: the submission goes through.
    returns.compile_return(head, "C-PSH", JUNE)
    b.screening(b.person(), "2026-08-01")
    assert returns.submit_return(head, "C-PSH", JUNE).state == "submitted"


# --- who may do what -----------------------------------------------------------------------------


def test_post_return_goes_to_its_circle_circle_return_goes_to_hq(world: ReportsWorld, b: Builder) -> None:
    officer, head, head_lhr, analyst = world.as_("officer"), world.as_("head"), world.as_("head_lhr"), world.as_("analyst")
    b.screening(b.person(), "2026-06-10", unit="P-TORKHAM")

    # The post's officer compiles and submits the post's own return; not the circle's.
    returns.compile_return(officer, "P-TORKHAM", JUNE)
    assert returns.allowed_actions(officer, "P-TORKHAM", JUNE) == {"compile", "submit", "comment", "export"}
    with pytest.raises(PermissionDenied, match="outside your unit"):
        returns.compile_return(officer, "C-PSH", JUNE)
    returns.submit_return(officer, "P-TORKHAM", JUNE)
    with pytest.raises(PermissionDenied, match="cannot approve or send back"):
        returns.approve_return(officer, "P-TORKHAM", JUNE)
    # Another circle's head cannot approve it; its own circle head can.
    with pytest.raises(PermissionDenied):
        returns.approve_return(head_lhr, "P-TORKHAM", JUNE)
    assert returns.allowed_actions(head, "P-TORKHAM", JUNE) >= {"approve", "send_back"}
    assert returns.approve_return(head, "P-TORKHAM", JUNE).approved_by == "circ.psh"

    # The circle head submits the circle's return but cannot approve it: it goes to HQ.
    returns.compile_return(head, "C-PSH", JUNE)
    with pytest.raises(PermissionDenied, match="outside your unit"):
        returns.submit_return(officer, "C-PSH", JUNE)
    returns.submit_return(head, "C-PSH", JUNE)
    before = denied_entries(world, "return.approve")
    with pytest.raises(PermissionDenied, match="goes to HQ for approval; your unit \\(C-PSH\\)"):
        returns.approve_return(head, "C-PSH", JUNE)
    assert denied_entries(world, "return.approve") == before + 1
    assert "approve" not in returns.allowed_actions(head, "C-PSH", JUNE)
    assert returns.allowed_actions(analyst, "C-PSH", JUNE) == {"approve", "send_back", "comment", "export"}
    assert returns.approve_return(analyst, "C-PSH", JUNE).state == "approved"


def test_roles_without_the_right_are_refused_and_audited(world: ReportsWorld, b: Builder) -> None:
    b.screening(b.person(), "2026-06-10")
    head = world.as_("head")
    returns.compile_return(head, "C-PSH", JUNE)
    lhr_officer, auditor, admin = world.as_("officer_lhr"), world.as_("auditor"), world.as_("admin")

    # An officer of a circle compiles the circle's return but does not submit it (the circle head does).
    returns.compile_return(lhr_officer, "C-LHR", JUNE)
    with pytest.raises(PermissionDenied, match="own post only"):
        returns.submit_return(lhr_officer, "C-LHR", JUNE)
    # The auditor neither reads nor compiles returns.
    with pytest.raises(PermissionDenied):
        returns.get_return(auditor, "C-PSH", JUNE)
    with pytest.raises(PermissionDenied):
        returns.compile_return(auditor, "C-PSH", JUNE)
    # The administrator unlocks but does not submit or approve.
    with pytest.raises(PermissionDenied, match="cannot submit returns"):
        returns.submit_return(admin, "C-PSH", JUNE)
    returns.submit_return(head, "C-PSH", JUNE)
    with pytest.raises(PermissionDenied, match="cannot approve"):
        returns.approve_return(admin, "C-PSH", JUNE)
    # A circle head of another circle cannot even read C-PSH's return.
    with pytest.raises(PermissionDenied, match="outside your unit"):
        returns.get_return(world.as_("head_lhr"), "C-PSH", JUNE)
    assert denied_entries(world, "return.submit") + denied_entries(world, "return.submit_post") >= 2
    assert returns.allowed_actions(auditor, "C-PSH", JUNE) == frozenset()


# --- locks ---------------------------------------------------------------------------------------


def test_approval_locks_the_month_of_the_unit_and_its_posts_and_the_audited_unlock_reopens_it(world: ReportsWorld, b: Builder) -> None:
    post_june = b.screening(b.person(), "2026-06-10", unit="P-TORKHAM")
    circle_june = b.checkpoint("2026-06-11")
    circle_may = b.checkpoint("2026-05-11")
    lhr_june = Builder(world.as_("head_lhr")).checkpoint("2026-06-12", unit="C-LHR")
    head, analyst, admin = world.as_("head"), world.as_("analyst"), world.as_("admin")
    returns.compile_return(head, "C-PSH", JUNE)
    returns.submit_return(head, "C-PSH", JUNE)
    returns.approve_return(analyst, "C-PSH", JUNE)

    # Edits, deletes and creations dated in June, in C-PSH or below it, are refused with a clear message.
    with pytest.raises(RecordLocked, match=r"Records of P-TORKHAM dated in 2026-06 are locked: the 2026-06 return of C-PSH was approved by ana\.hq on 2026-07-05.*administrator.*unlock"):
        records.update_record(head, post_june, {"identification_status": "confirmed_victim"})
    with pytest.raises(RecordLocked, match="return of C-PSH"):
        records.delete_record(head, circle_june)
    with pytest.raises(RecordLocked):
        b.checkpoint("2026-06-20")
    with pytest.raises(RecordLocked):  # moving a May record into June
        records.update_record(head, circle_may, {"log_date": "2026-06-15"})
    # Other months and other circles are not locked.
    assert records.update_record(head, circle_may, {"offloaded": 3}).version == 2
    b.checkpoint("2026-07-01")
    assert records.update_record(world.as_("head_lhr"), lhr_june, {"offloaded": 2}).version == 2

    # Unlocking needs the administrator and a reason; the reason stays out of the audit log.
    with pytest.raises(PermissionDenied):
        returns.unlock_return(head, "C-PSH", JUNE, "Reopen")
    with pytest.raises(ValidationError, match="Give a reason"):
        returns.unlock_return(admin, "C-PSH", JUNE, "")
    reason = f"Late screening of {CANARY} to add"
    ret = returns.unlock_return(admin, "C-PSH", JUNE, reason)
    assert (ret.state, ret.approved_by, ret.history[-1].action, ret.history[-1].reason) == ("draft", None, "unlock", reason)
    assert audit_count(world.current(), "return.unlocked", object_id=ret.id) == 1
    with world.current().sf() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "return.unlocked")).one()
    assert json.loads(entry.detail) == {"month": JUNE, "from": "approved", "to": "draft", "version": 4, "reason_chars": len(reason)}
    assert not any(CANARY in " ".join(row) for row in audit_rows(world.current()))
    # After the unlock the month's records can be changed again.
    assert records.update_record(head, post_june, {"identification_status": "confirmed_victim"}).version == 2
    records.delete_record(head, circle_june)


def test_approving_a_post_return_locks_the_post_only(world: ReportsWorld, b: Builder) -> None:
    post = b.screening(b.person(), "2026-06-10", unit="P-TORKHAM")
    circle = b.checkpoint("2026-06-11")
    returns.compile_return(world.as_("officer"), "P-TORKHAM", JUNE)
    returns.submit_return(world.as_("officer"), "P-TORKHAM", JUNE)
    returns.approve_return(world.as_("head"), "P-TORKHAM", JUNE)
    with pytest.raises(RecordLocked, match="return of P-TORKHAM"):
        records.update_record(world.as_("head"), post, {"identification_status": "confirmed_victim"})
    assert records.update_record(world.as_("head"), circle, {"offloaded": 1}).version == 2
    returns.unlock_return(world.as_("admin"), "P-TORKHAM", JUNE, "Correction", to_state="submitted")
    assert returns.get_return(world.as_("head"), "P-TORKHAM", JUNE).state == "submitted"


# --- checks --------------------------------------------------------------------------------------


def test_checks_on_a_crafted_month_errors_warnings_and_percentages_with_denominators(world: ReportsWorld, b: Builder) -> None:
    p1, p2, p3, p4 = b.person("female"), b.person("male"), b.person("female"), b.person("male")
    b.screening(p1, "2026-06-10", unit="P-TORKHAM")  # identified in June: p1, p2 → 1.3.a = 2
    b.screening(p2, "2026-06-11", "confirmed_victim")
    b.screening(p3, "2026-05-10")  # identified in May
    b.screening(p4, "2026-05-11")
    b.service(p1, "2026-06-12", "shelter")  # supported in June: p1, p3, p4 → 1.2.a = 3; protected: p1 → 1.2.b = 1
    b.service(p3, "2026-06-13", "medical")
    b.service(p4, "2026-06-14", "legal_aid")
    b.session("2026-06-15", respondents=8, named=5, what=4, where=2, acted=0)
    b.case("2026-05-01", events=[("verdict", "2026-06-10", "convicted")])  # a verdict with no challan
    b.screening(p2, "2026-06-20", draft=True)  # a draft: not counted

    ret = returns.compile_return(world.as_("head"), "C-PSH", JUNE)
    by_rule: dict[str, list[returns.ValidationMessage]] = {}
    for m in ret.messages:
        by_rule.setdefault(m.rule, []).append(m)

    assert [m.level for m in ret.messages][: len(ret.errors)] == ["error"] * len(ret.errors)  # errors first
    [verdicts] = by_rule["verdicts_gt_challaned"]
    assert (verdicts.level, verdicts.key) == ("error", "pipeline.convicted")
    assert verdicts.text_en.startswith(
        "Cases with a verdict this month (convicted 1 + acquitted 0 = 1) exceed the cases challaned up to the end of the month (0)."
    )
    [supported] = by_rule["supported_gt_identified"]
    assert supported.level == "warning"
    assert "(1.2.a: 3) exceed those identified this month (1.3.a: 2)" in supported.text_en
    assert "(1.2.a: 3)" in supported.text_ur and "(1.3.a: 2)" in supported.text_ur
    assert "protected_gt_supported" not in by_rule  # 1.2.b = 1 ≤ 1.2.a = 3
    assert {m.key: m.text_en for m in by_rule["percent_denominator"]} == {
        "3.1.a": "3.1.a: 62.5% = 5 of 8 respondents.",
        "3.1.b": "3.1.b: 50% = 4 of 8 respondents.",
        "3.1.c": "3.1.c: 25% = 2 of 8 respondents.",
        "3.1.d": "3.1.d: 0% = 0 of 8 respondents.",
        "7.1.a": "7.1.a: 100% = 2 of 2 persons.",
    }
    assert {m.key for m in by_rule["no_denominator"]} == {"2.1.b", "3.2.a", "4.1.b", "4.2.b"}
    assert all(m.level == "warning" for m in by_rule["no_denominator"])
    [drafts] = by_rule["drafts_not_counted"]
    assert drafts.text_en == "1 draft record dated in 2026-06 is not counted. Complete or delete them, then compile again."
    assert "no_records" not in by_rule
    for m in ret.messages:
        assert any("\u0600" <= c <= "\u06ff" for c in m.text_ur), m.rule  # every message also in Urdu

    # The review lines show each percentage with its numerator and denominator.
    lines = {line.key: line for line in returns.value_lines(ret)}
    assert lines["3.1.a"].display == "62.5% (5 of 8)"
    assert lines["2.1.b"].display == "n/a (no denominator)"
    assert lines["1.2.a"].display == "3" and lines["pipeline.convicted"].display == "1"

    # Errors block the submission; the error names the value it is about.
    with pytest.raises(ValidationError, match="The return has 1 error; it cannot be submitted") as err:
        returns.submit_return(world.as_("head"), "C-PSH", JUNE)
    assert set(err.value.fields) == {"pipeline.convicted"} and err.value.fields_ur["pipeline.convicted"]


def test_a_unit_with_no_records_in_the_month_gets_the_nil_return_warning(world: ReportsWorld) -> None:
    ret = returns.compile_return(world.as_("head"), "P-KHARLACHI", JUNE)
    nil = [m for m in ret.messages if m.rule == "no_records"]
    assert [m.text_en for m in nil] == [
        "No records of P-KHARLACHI or the units below it are dated in 2026-06. If nothing happened this month, "
        "say so in a comment on the return (a nil return)."
    ]
    assert not ret.errors
    assert returns.submit_return(world.as_("head"), "P-KHARLACHI", JUNE).state == "submitted"  # a warning does not block


def test_protected_above_supported_is_an_error_on_a_crafted_snapshot() -> None:
    # The engine cannot produce this (protection is a kind of support); the check guards the framework.
    snap = {
        "unit": "C-PSH",
        "month": JUNE,
        "values": {"1.2.a": {"kind": "count", "value": 2}, "1.2.b": {"kind": "count", "value": 5}, "1.3.a": {"kind": "count", "value": 9}},
        "pipeline": {"convicted": 0, "acquitted": 0, "challaned_to_date": 0},
        "records": {"complete": 4, "draft": 0},
    }
    msgs = returns.validate_snapshot(snap)
    assert [(m.level, m.rule, m.key) for m in msgs] == [("error", "protected_gt_supported", "1.2.b")]
    assert msgs[0].text_en.startswith("Victims and vulnerable migrants protected (1.2.b: 5) cannot exceed those supported (1.2.a: 2)")


# --- comments ------------------------------------------------------------------------------------


def test_comments_per_value_stay_out_of_the_audit_log(world: ReportsWorld, b: Builder) -> None:
    b.screening(b.person(), "2026-06-10")
    head, analyst = world.as_("head"), world.as_("analyst")
    returns.compile_return(head, "C-PSH", JUNE)
    c1 = returns.add_comment(head, "C-PSH", JUNE, "1.3.a", f"Includes {CANARY}, identified at Torkham")
    c2 = returns.add_comment(head, "C-PSH", JUNE, "pipeline.registered", "Two FIRs pending registration")
    returns.submit_return(head, "C-PSH", JUNE)
    c3 = returns.add_comment(analyst, "C-PSH", JUNE, "return", "Reviewed at HQ")  # the reviewer comments too
    with pytest.raises(ValidationError, match="not a value of this return"):
        returns.add_comment(head, "C-PSH", JUNE, "9.9.z", "No such value")
    with pytest.raises(ValidationError, match="Give a comment"):
        returns.add_comment(head, "C-PSH", JUNE, "1.3.a", " ")
    with pytest.raises(PermissionDenied):
        returns.add_comment(world.as_("auditor"), "C-PSH", JUNE, "1.3.a", "Audit note")

    ret = returns.get_return(head, "C-PSH", JUNE)
    assert [(c.key, c.author) for c in ret.comments] == [("1.3.a", "circ.psh"), ("pipeline.registered", "circ.psh"), ("return", "ana.hq")]
    assert ret.comments_on("1.3.a")[0].body == c1.body and {c2.id, c3.id} < {c.id for c in ret.comments}
    assert audit_count(head, "return.commented", object_id=ret.id) == 3
    assert not any(CANARY in " ".join(row) for row in audit_rows(head))

    returns.approve_return(analyst, "C-PSH", JUNE)
    with pytest.raises(ReturnStateError, match="approved"):
        returns.add_comment(head, "C-PSH", JUNE, "1.3.a", "Too late")


# --- completeness --------------------------------------------------------------------------------


def test_completeness_of_a_circle_on_time_late_and_missing(world: ReportsWorld, monkeypatch: pytest.MonkeyPatch, b: Builder) -> None:
    officer, head = world.as_("officer"), world.as_("head")
    set_now(monkeypatch, pkt(2026, 7, 10, 23, 30))  # the last evening of the due day: on time
    returns.compile_return(officer, "P-TORKHAM", JUNE)
    returns.submit_return(officer, "P-TORKHAM", JUNE)
    set_now(monkeypatch, pkt(2026, 7, 11, 0, 30))  # half an hour later (still 10 July in UTC): late
    returns.compile_return(head, "P-PEW-AIR", JUNE)
    returns.submit_return(head, "P-PEW-AIR", JUNE)
    returns.approve_return(head, "P-PEW-AIR", JUNE)
    returns.compile_return(head, "P-PEW-DEP", JUNE)  # compiled, never submitted
    # P-KHARLACHI: nothing at all.

    set_now(monkeypatch, pkt(2026, 7, 15))
    c = returns.completeness(head, "C-PSH", JUNE)
    assert (c.unit, c.month, c.due_on, c.expected) == ("C-PSH", JUNE, date(2026, 7, 10), 4)
    by_unit = {r.unit: (r.state, r.on_time, r.overdue) for r in c.rows}
    assert by_unit == {
        "P-KHARLACHI": ("missing", None, True),
        "P-PEW-AIR": ("approved", False, False),
        "P-PEW-DEP": ("draft", None, True),
        "P-TORKHAM": ("submitted", True, False),
    }
    assert [r.unit for r in c.on_time] == ["P-TORKHAM"]
    assert [r.unit for r in c.late] == ["P-PEW-AIR"]
    assert [r.unit for r in c.missing] == ["P-KHARLACHI", "P-PEW-DEP"]
    assert [r.unit for r in c.approved] == ["P-PEW-AIR"]

    # Before the due date, a missing return is not yet overdue.
    set_now(monkeypatch, pkt(2026, 7, 8))
    assert not any(r.overdue for r in returns.completeness(head, "C-PSH", JUNE).rows)

    # HQ sees the circles (not the zones) and C-PSH is missing there.
    set_now(monkeypatch, pkt(2026, 7, 15))
    hq = returns.completeness(world.as_("analyst"), "HQ", JUNE)
    assert all(r.kind == "circle" for r in hq.rows) and {"C-PSH", "C-LHR"} <= {r.unit for r in hq.rows}
    assert {r.unit: r.state for r in hq.rows}["C-PSH"] == "missing"
    with pytest.raises(PermissionDenied):
        returns.completeness(head, "HQ", JUNE)


def test_list_returns_shows_the_scope_newest_month_first(world: ReportsWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    head = world.as_("head")
    returns.compile_return(head, "C-PSH", "2026-05")
    returns.compile_return(head, "C-PSH", JUNE)
    returns.compile_return(world.as_("officer"), "P-TORKHAM", JUNE)
    returns.compile_return(world.as_("head_lhr"), "C-LHR", JUNE)
    assert [(r.unit, r.month) for r in returns.list_returns(head)] == [("C-PSH", JUNE), ("P-TORKHAM", JUNE), ("C-PSH", "2026-05")]
    assert [r.unit for r in returns.list_returns(world.as_("analyst"), month=JUNE)] == ["C-LHR", "C-PSH", "P-TORKHAM"]
    assert returns.list_returns(head, state="submitted") == []


# --- export --------------------------------------------------------------------------------------


def pdf_text(path: Path) -> str:
    out = subprocess.run([require_program("pdftotext"), "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(out.split())


def test_export_internal_carries_pipeline_comments_and_checks_the_external_version_does_not(world: ReportsWorld, b: Builder, tmp_path: Path) -> None:
    b.screening(b.person(), "2026-06-10")
    b.case("2026-06-03")
    head = world.as_("head")
    ret = returns.compile_return(head, "C-PSH", JUNE)
    returns.add_comment(head, "C-PSH", JUNE, "1.3.a", "Identified at Torkham")
    returns.add_comment(head, "C-PSH", JUNE, "pipeline.registered", "FIR numbers awaited")

    returns.export_return(head, "C-PSH", JUNE, fmt="pdf", out=tmp_path / "internal.pdf")
    inside = pdf_text(tmp_path / "internal.pdf")
    assert "Monthly return" in inside and "Status: draft" in inside and "June 2026" in inside
    assert "Cases registered 1" in inside and "Cases pending investigation (end of month) 1" in inside
    assert "Identified at Torkham" in inside
    assert "Comment on cases registered: FIR numbers awaited" in inside
    assert "WARNING: 2.1.b has no denominator this month" in inside

    result = returns.export_return(head, "C-PSH", JUNE, fmt="pdf", out=tmp_path / "external.pdf", external=True)
    outside = pdf_text(tmp_path / "external.pdf")
    assert result.audience == "external" and "1.3.a" in outside
    assert "Identified at Torkham" not in outside and "FIR numbers awaited" not in outside and "WARNING" not in outside
    assert audit_count(head, "return.exported", object_id=ret.id) == 2

    # An officer may write only the external version (small counts need report.internal).
    returns.compile_return(world.as_("officer"), "P-TORKHAM", JUNE)
    with pytest.raises(PermissionDenied):
        returns.export_return(world.as_("officer"), "P-TORKHAM", JUNE, fmt="csv", out=tmp_path / "post.csv")
    assert not (tmp_path / "post.csv").exists()
    returns.export_return(world.as_("officer"), "P-TORKHAM", JUNE, fmt="csv", out=tmp_path / "post.csv", external=True)
    assert (tmp_path / "post.csv").read_text("utf-8").count("1.3.a") >= 1


def test_due_returns_of_the_own_unit_for_the_start_page(world: ReportsWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    head = world.as_("head")
    set_now(monkeypatch, pkt(2026, 7, 5))
    returns.compile_return(head, "C-PSH", "2026-04")
    returns.submit_return(head, "C-PSH", "2026-04")  # April is with HQ: not due any more
    returns.compile_return(head, "C-PSH", "2026-05")
    due = returns.due_returns(head)
    assert [(d.month, d.state, d.due_on, d.overdue) for d in due] == [
        ("2026-05", "draft", date(2026, 6, 10), True),
        ("2026-06", "missing", date(2026, 7, 10), False),
    ]
    assert returns.due_returns(world.as_("auditor")) == []
