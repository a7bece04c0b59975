# SPDX-License-Identifier: GPL-3.0-or-later
"""``nap-desktop selftest``: the installed program checks itself end to end, without a display.

In a temporary folder (removed afterwards) it creates a circle workspace and an HQ workspace with
synthetic data only, and goes through what a field unit does: sign in, write and read records of
every type, compute the 41 indicators, render them as PDF and XLSX, enrol with HQ and make a
sync bundle that HQ verifies (dry-run import), back up and restore, and verify the audit chain.
Nothing touches the user's own workspace.

Each step is timed and reported as a :class:`StepResult`; a step whose prerequisite failed is
reported as not run. The steps call the same services as the CLI and the GUI, so a build that
forgot a resource, a migration or a hidden import fails here (PyInstaller builds run it in CI).
"""

from __future__ import annotations

import logging
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from nap_desktop import config
from nap_desktop.errors import UserFacingError
from nap_desktop.log import configure_logging, current_log_file, safe_traceback

logger = logging.getLogger(__name__)

DEMO_RECORDS = 150
CIRCLE_UNIT = "C-PSH"
_ADMIN = "selftest.admin"
_HEAD = "selftest.head"
_ANALYST = "selftest.analyst"


@dataclass(frozen=True)
class StepResult:
    """One line of the selftest: ``ok``, ``FAIL`` (with a message) or not run."""

    name: str
    ok: bool
    ms: float
    message: str = ""
    ran: bool = True

    def line(self) -> str:
        """``ok  name  12 ms`` · ``FAIL name: message`` · ``FAIL name: not run (…)``."""
        if self.ok:
            return f"ok  {self.name}  {self.ms:.0f} ms"
        return f"FAIL {self.name}: {self.message}"


@dataclass
class _State:
    """What the steps hand on to each other (all inside the temporary folder)."""

    root: Path
    hq_key: Any = None
    passwords: dict[str, str] = field(default_factory=dict)
    circle: Path | None = None
    hq: Path | None = None
    counts: dict[str, int] = field(default_factory=dict)
    report: Any = None
    bundle: Path | None = None
    backup: Path | None = None
    audit_entries: int = 0
    head_ws: Any = None  # the circle head's session, kept open across steps (one sign-in)

    def head(self) -> Any:
        """The circle workspace unlocked by the circle head (opened on first use)."""
        from nap_desktop.services.workspace import open_workspace

        if self.head_ws is None or self.head_ws.locked:
            assert self.circle is not None
            self.head_ws = open_workspace(self.circle, _HEAD, self.passwords[_HEAD])
        return self.head_ws

    def close(self) -> None:
        """Locks the circle head's session (another account signs in next)."""
        if self.head_ws is not None:
            self.head_ws.lock()
            self.head_ws = None


def _password() -> str:
    return "Selftest-" + secrets.token_urlsafe(12) + "-9a"


def _check(cond: bool, message: str) -> None:
    if not cond:
        raise AssertionError(message)


# --- steps -----------------------------------------------------------------------------------------


def _step_create(st: _State) -> None:
    from nap_desktop.security.crypto import generate_age_keypair
    from nap_desktop.services.users import add_user
    from nap_desktop.services.workspace import init_workspace, unlocked

    st.hq_key = generate_age_keypair()
    st.passwords = {_ADMIN: _password(), _HEAD: _password(), _ANALYST: _password()}
    st.circle = st.root / "circle"
    init_workspace(
        st.circle, site_kind="circle", unit=CIRCLE_UNIT, admin=_ADMIN, admin_password=st.passwords[_ADMIN],
        admin_full_name="Selftest Administrator", recovery_recipient=st.hq_key.recipient,
    )
    with unlocked(st.circle, _ADMIN, st.passwords[_ADMIN]) as ws:
        add_user(ws, username=_HEAD, full_name="Selftest Circle Head", role="circle_head", unit=CIRCLE_UNIT,
                 password=st.passwords[_HEAD], must_change_password=False)


def _step_write(st: _State) -> None:
    from nap_desktop.services.demo_data import generate_demo_records
    from nap_desktop.services.records import counts_by_type

    ws = st.head()
    for _p in generate_demo_records(ws, DEMO_RECORDS, seed=8, as_of=_today()):
        pass
    st.counts = {k: v for k, v in counts_by_type(ws).items() if v}
    _check(sum(st.counts.values()) >= DEMO_RECORDS, f"{sum(st.counts.values())} records written, {DEMO_RECORDS} asked for")


def _step_read(st: _State) -> None:
    from nap_desktop.domain.records import RECORD_TYPES
    from nap_desktop.services.records import RecordFilter, get_record, list_records

    ws = st.head()
    for type_name in RECORD_TYPES:
        page = list_records(ws, type_name, RecordFilter(), limit=5)
        _check(page.total == st.counts.get(type_name, 0), f"{type_name}: the list holds {page.total}, {st.counts.get(type_name, 0)} were written")
        if page.rows:
            rec = get_record(ws, page.rows[0].id)
            _check(rec.id == page.rows[0].id and rec.type == type_name, f"{type_name}: a record read back differs")
    _check(len(st.counts) >= 10, f"records of only {len(st.counts)} types were written")


def _step_indicators(st: _State) -> None:
    from nap_desktop.domain.framework import default_framework
    from nap_desktop.reports.engine import compute_indicators

    st.report = compute_indicators(st.head(), period=_period(), scope=CIRCLE_UNIT)
    expected = len(default_framework())
    _check(len(st.report.values) == expected, f"{len(st.report.values)} indicators computed, the framework has {expected}")
    _check(any(v.value for v in st.report.values.values()), "every indicator is empty although records were written")


def _render(st: _State, fmt: str) -> Path:
    from nap_desktop.reports.publish import iter_indicator_report

    out = st.root / f"indicators.{fmt}"
    for _p in iter_indicator_report(st.head(), period=_period(), scope=CIRCLE_UNIT, fmt=fmt, out=out, external=True, report=st.report):
        pass
    return out


def _step_pdf(st: _State) -> None:
    data = _render(st, "pdf").read_bytes()
    _check(data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF"), "the file written is not a complete PDF")
    _check(data.count(b"/Type /Page") + data.count(b"/Type/Page") >= 2, "the PDF has fewer than two pages")


def _step_xlsx(st: _State) -> None:
    from openpyxl import load_workbook

    path = _render(st, "xlsx")
    wb = load_workbook(path, read_only=True)
    try:
        _check("Summary" in wb.sheetnames and len(wb.sheetnames) >= 3, f"unexpected sheets {wb.sheetnames}")
    finally:
        wb.close()


def _step_backup(st: _State) -> None:
    from nap_desktop.services.backup import make_backup

    result = make_backup(st.head(), out=st.root / "selftest.napbak")
    st.backup, st.audit_entries = result.path, result.audit_entries


def _step_restore(st: _State) -> None:
    from nap_desktop.services.backup import restore_backup
    from nap_desktop.services.records import counts_by_type
    from nap_desktop.services.workspace import unlocked

    assert st.backup is not None
    restored = restore_backup(st.backup, st.root / "restored", identity=st.hq_key.identity)
    _check(restored.audit_entries == st.audit_entries, "the restored audit chain differs from the backup's")
    with unlocked(restored.path, _HEAD, st.passwords[_HEAD]) as ws:
        counts = {k: v for k, v in counts_by_type(ws).items() if v}
    _check(counts == st.counts, "the restored workspace holds other records than the original")


def _step_sync(st: _State) -> None:
    from nap_desktop.services import sync
    from nap_desktop.services.users import add_user
    from nap_desktop.services.workspace import init_workspace, unlocked

    assert st.circle is not None
    st.close()  # the circle's administrator signs in for the keys
    st.hq = st.root / "hq"
    usb = st.root / "usb"
    usb.mkdir()
    init_workspace(st.hq, site_kind="hq", unit="HQ", admin=_ADMIN, admin_password=st.passwords[_ADMIN], recovery_recipient=st.hq_key.recipient)
    with unlocked(st.hq, _ADMIN, st.passwords[_ADMIN]) as hq:
        add_user(hq, username=_ANALYST, full_name="Selftest Analyst", role="hq_analyst", unit="HQ",
                 password=st.passwords[_ANALYST], must_change_password=False)
        with unlocked(st.circle, _ADMIN, st.passwords[_ADMIN]) as ws:
            request = sync.enrol_request(ws, usb)
            response = sync.enrol_approve(hq, request.path, out_dir=usb)
            sync.enrol_accept(ws, response.path, expected_fingerprint=response.root_fingerprint)
    exported = sync.export_changes(st.head(), usb)
    st.bundle = exported.path
    _check(exported.records == sum(st.counts.values()), f"the bundle holds {exported.records} records, {sum(st.counts.values())} were written")
    with unlocked(st.hq, _ANALYST, st.passwords[_ANALYST]) as hq:
        summary = sync.import_bundle(hq, exported.path, dry_run=True)
    _check(summary.outcome == "dry run" and summary.rejected == 0, f"HQ's check of the bundle: {summary.line()}")
    _check(summary.new == exported.records, f"HQ would import {summary.new} of {exported.records} records")


def _step_audit(st: _State) -> None:
    from nap_desktop.services.audit_log import verify_audit
    from nap_desktop.services.workspace import unlocked

    assert st.circle is not None
    st.close()
    with unlocked(st.circle, _ADMIN, st.passwords[_ADMIN]) as ws:
        result = verify_audit(ws)
    _check(result.ok, f"the audit chain breaks at entry {result.first_bad_seq}: {result.problem}")


def _today() -> date:
    return datetime.now(UTC).date()


def _period() -> Any:
    from nap_desktop.reports.engine import Period

    return Period.custom(_today() - timedelta(days=730), _today())


@dataclass(frozen=True)
class Step:
    """A named check; it runs only if every step in ``needs`` passed."""

    name: str
    run: Callable[[_State], None]
    needs: tuple[str, ...] = ()


# NOTE: the order is the order of the printed lines.
STEPS: tuple[Step, ...] = (
    Step("create-workspace", _step_create),
    Step("write-records", _step_write, ("create-workspace",)),
    Step("read-records", _step_read, ("write-records",)),
    Step("compute-indicators", _step_indicators, ("write-records",)),
    Step("render-pdf", _step_pdf, ("compute-indicators",)),
    Step("render-xlsx", _step_xlsx, ("compute-indicators",)),
    Step("backup", _step_backup, ("write-records",)),
    Step("restore", _step_restore, ("backup",)),
    Step("sync-bundle", _step_sync, ("write-records",)),
    Step("audit-chain", _step_audit, ("create-workspace",)),
)


def iter_selftest(*, keep: Path | None = None) -> Iterator[StepResult]:
    """Runs every step in a temporary folder and yields one :class:`StepResult` per step.

    Args:
        keep: Run in this (new) folder and keep it afterwards, for a support engineer to look
            at; by default a temporary folder is used and removed.
    """
    previous_log = current_log_file()
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=False)
        root = keep
    else:
        root = Path(tempfile.mkdtemp(prefix="nap-selftest-"))
    st = _State(root=root)
    passed: set[str] = set()
    try:
        for step in STEPS:
            missing = [n for n in step.needs if n not in passed]
            if missing:
                yield StepResult(step.name, False, 0.0, f"not run ({missing[0]} failed)", ran=False)
                continue
            t0 = time.perf_counter()
            try:
                step.run(st)
            except Exception as exc:  # noqa: BLE001 - every failure becomes one FAIL line
                ms = (time.perf_counter() - t0) * 1000
                logger.error("selftest step %s failed\n%s", step.name, safe_traceback(exc))
                yield StepResult(step.name, False, ms, _describe(exc))
                continue
            passed.add(step.name)
            yield StepResult(step.name, True, (time.perf_counter() - t0) * 1000)
    finally:
        st.close()
        # The steps moved the log into the temporary workspaces; bring it back first.
        configure_logging(previous_log.parent if previous_log else config.app_log_dir(), console=False)
        if keep is None:
            shutil.rmtree(root, ignore_errors=True)


def _describe(exc: BaseException) -> str:
    """One line for a failed step. Only synthetic data exists in the selftest's folder."""
    if isinstance(exc, UserFacingError):
        text = exc.message
    elif isinstance(exc, AssertionError):
        text = str(exc)
    else:
        text = f"{type(exc).__name__}: {exc}"
    text = " ".join(text.split())
    return text if len(text) <= 300 else text[:297] + "..."


def run_selftest(*, keep: Path | None = None, echo: Callable[[str], None] | None = None) -> list[StepResult]:
    """Runs :func:`iter_selftest` to the end, passing each line to ``echo`` as it comes."""
    results = []
    for r in iter_selftest(keep=keep):
        results.append(r)
        if echo is not None:
            echo(r.line())
    return results
