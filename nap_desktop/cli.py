# SPDX-License-Identifier: GPL-3.0-or-later
"""The headless command line: ``nap-desktop <command>`` (or ``python -m nap_desktop``).

Each command is one small function that calls the same services the GUI uses. Passwords are
never taken from the command line: they are prompted for, or read one per line from standard
input with ``--password-stdin`` (for scripts; the order is given in each command's help).

Exit codes: 0 success; 1 a problem the user can fix (one line on stderr); 2 wrong usage;
3 an unexpected internal error (details in the log, never on screen).
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

from nap_desktop import __version__, config
from nap_desktop.errors import UserFacingError
from nap_desktop.log import configure_logging, current_log_file, safe_traceback

logger = logging.getLogger(__name__)

EXIT_OK, EXIT_USER, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


class Prompter:
    """Reads secrets: from a terminal prompt, or line by line from stdin (``--password-stdin``)."""

    def __init__(self, from_stdin: bool) -> None:
        self._lines: list[str] | None = None
        self.from_stdin = from_stdin

    def secret(self, prompt: str, *, confirm: bool = False) -> str:
        if self.from_stdin:
            if self._lines is None:
                self._lines = sys.stdin.read().splitlines()
            if not self._lines:
                raise UserFacingError(f"--password-stdin: no line left for '{prompt.rstrip(': ')}'.")
            return self._lines.pop(0)
        value = getpass.getpass(prompt)
        if confirm and getpass.getpass("Repeat: ") != value:
            raise UserFacingError("The two entries differ; nothing was changed.")
        return value


class Ctx:
    """What a command function receives."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.prompt = Prompter(args.password_stdin)
        self.workspace = config.resolve_workspace_dir(args.workspace)

    def username(self) -> str:
        name = self.args.user or os.environ.get("NAP_USER")
        if not name:
            from nap_desktop.services.workspace import list_usernames

            names = list_usernames(self.workspace)
            if len(names) == 1:
                return names[0]
            raise UserFacingError("Say who you are with --user NAME (or NAP_USER).")
        return name

    def open(self) -> Any:
        from nap_desktop.services.workspace import unlocked

        user = self.username()
        password = self.prompt.secret(f"Password for {user}: ")
        return unlocked(self.workspace, user, password)

    def out(self, data: Any) -> None:
        """Prints a result: JSON with ``--json``, else readable text."""
        if self.args.json:
            print(json.dumps(_jsonable(data), indent=2, ensure_ascii=False, default=str))
        elif isinstance(data, list):
            for row in data:
                print(_line(row))
        elif is_dataclass(data) and not isinstance(data, type):
            for key, value in asdict(data).items():
                print(f"{key:>16}: {value}")
        else:
            print(data)


def _jsonable(data: Any) -> Any:
    if is_dataclass(data) and not isinstance(data, type):
        return asdict(data)
    if isinstance(data, list):
        return [_jsonable(x) for x in data]
    return data


def _line(row: Any) -> str:
    if is_dataclass(row) and not isinstance(row, type):
        return "  ".join(str(v) for v in asdict(row).values())
    return str(row)


# --- commands --------------------------------------------------------------------------------


def cmd_init(ctx: Ctx) -> int:
    """stdin order: admin password, then (HQ only) the recovery-key passphrase."""
    from nap_desktop.services.workspace import init_workspace

    a = ctx.args
    password = ctx.prompt.secret(f"New password for {a.admin}: ", confirm=True)
    passphrase = None
    out = Path(a.recovery_identity_out) if a.recovery_identity_out else None
    if a.site_kind == "hq" and not a.recovery_recipient:
        out = out or Path.cwd() / "hq-recovery-identity.age"
        passphrase = ctx.prompt.secret("Passphrase to protect the national recovery key file: ", confirm=True)
    result = init_workspace(
        ctx.workspace,
        site_kind=a.site_kind,
        unit=a.unit,
        admin=a.admin,
        admin_password=password,
        admin_full_name=a.admin_name or "",
        recovery_recipient=a.recovery_recipient,
        recovery_identity_out=out,
        recovery_passphrase=passphrase,
        db_url=a.db,
    )
    print(f"Workspace created in {result.path} ({result.site_kind} {result.unit}); administrator: {result.admin}.")
    if result.recovery_identity_file:
        print(
            f"The national recovery key was written to {result.recovery_identity_file}. Move it to offline "
            f"storage now (a USB stick in a safe); it is shown only once. Recipient: {result.recovery_recipient}"
        )
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return EXIT_OK


def cmd_workspace_info(ctx: Ctx) -> int:
    from nap_desktop.services.workspace import workspace_info

    with ctx.open() as ws:
        info = workspace_info(ws)
    ctx.out(info)
    if not info.recovery_set:
        from nap_desktop.services.workspace import NO_RECOVERY_WARNING

        print(f"warning: {NO_RECOVERY_WARNING}", file=sys.stderr)
    return EXIT_OK


def cmd_user_add(ctx: Ctx) -> int:
    """stdin order: your password, then the new user's first password."""
    from nap_desktop.services.users import add_user

    a = ctx.args
    with ctx.open() as ws:
        password = ctx.prompt.secret(f"First password for {a.name}: ", confirm=True)
        user = add_user(
            ws,
            username=a.name,
            full_name=a.full_name,
            role=a.role,
            unit=a.unit or ws.user.unit_code,
            password=password,
            case_access=a.case_access,
        )
    print(f"Added {user.username} ({user.role}, {user.unit_code}); they must change the password at first sign-in.")
    return EXIT_OK


def cmd_user_list(ctx: Ctx) -> int:
    from nap_desktop.services.users import list_users

    with ctx.open() as ws:
        users = list_users(ws)
    if ctx.args.json:
        ctx.out(users)
    else:
        for u in users:
            state = "disabled" if u.disabled else "active"
            print(f"{u.username:<20} {u.role:<12} {u.unit_code:<14} {state}")
    return EXIT_OK


def cmd_user_passwd(ctx: Ctx) -> int:
    """Own password: stdin order old, new. Another user's: your password, then their new one."""
    from nap_desktop.services.users import reset_password
    from nap_desktop.services.workspace import change_password

    with ctx.open() as ws:
        target = ctx.args.name or ws.user.username
        if target == ws.user.username:
            old = ctx.prompt.secret("Current password: ")
            new = ctx.prompt.secret("New password: ", confirm=True)
            change_password(ws, old, new)
            print("Password changed.")
        else:
            new = ctx.prompt.secret(f"New password for {target}: ", confirm=True)
            reset_password(ws, target, new)
            print(f"Password of {target} set; they must change it at next sign-in.")
    return EXIT_OK


def cmd_user_disable(ctx: Ctx) -> int:
    from nap_desktop.services.users import disable_user

    with ctx.open() as ws:
        disable_user(ws, ctx.args.name)
    print(f"{ctx.args.name} is disabled and can no longer unlock this workspace.")
    print("If they may have kept a copy of the workspace, also run 'nap-desktop rekey' (an administrator).")
    return EXIT_OK


def cmd_unit_list(ctx: Ctx) -> int:
    from nap_desktop.services.units import list_units

    with ctx.open() as ws:
        units = list_units(ws, kind=ctx.args.kind, under=ctx.args.under)
        depth = {u.code: len(ws.unit_chain(u.code)) - 1 for u in units}
    if ctx.args.json:
        ctx.out(units)
    else:
        for u in units:
            print(f"{'  ' * depth[u.code]}{u.code:<16} {u.kind:<7} {u.name_en}")
    return EXIT_OK


def cmd_unit_add(ctx: Ctx) -> int:
    from nap_desktop.services.units import add_unit

    a = ctx.args
    with ctx.open() as ws:
        unit = add_unit(
            ws,
            code=a.code,
            kind=a.kind,
            parent=a.parent,
            name_en=a.name_en,
            name_ur=a.name_ur,
            province=a.province,
            post_type=a.post_type,
            district=a.district,
        )
    print(f"Added unit {unit.code} ({unit.kind}) under {unit.parent_code}.")
    return EXIT_OK


def cmd_unit_edit(ctx: Ctx) -> int:
    from nap_desktop.services.units import update_unit

    a = ctx.args
    active = None if a.active is None else a.active == "yes"
    with ctx.open() as ws:
        unit = update_unit(ws, a.code, name_en=a.name_en, name_ur=a.name_ur, district=a.district, active=active)
    print(f"Unit {unit.code} saved ({'active' if unit.active else 'inactive'}).")
    return EXIT_OK


def cmd_audit_verify(ctx: Ctx) -> int:
    from nap_desktop.services.audit_log import verify_audit

    with ctx.open() as ws:
        result = verify_audit(ws)
    if result.ok:
        print(f"Audit chain intact: {result.entries} entries verified.")
        return EXIT_OK
    print(f"error: audit chain BROKEN at entry {result.first_bad_seq}: {result.problem}.", file=sys.stderr)
    return EXIT_USER


def cmd_audit_list(ctx: Ctx) -> int:
    from nap_desktop.services.audit_log import list_audit

    a = ctx.args
    with ctx.open() as ws:
        rows = list_audit(ws, limit=a.limit, actor=a.actor, action=a.action, before_seq=a.before)
    if a.json:
        ctx.out(rows)
    else:
        for e in rows:
            print(f"{e.seq:>6} {e.at} {e.actor:<16} {e.action:<24} {e.object_type}:{e.object_id} {e.detail}")
    return EXIT_OK


def cmd_db_upgrade(ctx: Ctx) -> int:
    from nap_desktop.data.migrate import head_revision
    from nap_desktop.services.workspace import upgrade_db

    with ctx.open() as ws:
        applied = upgrade_db(ws)
    print(f"Schema is at {head_revision()}" + (f" (applied {', '.join(applied)})." if applied else " (already current)."))
    return EXIT_OK


def cmd_rekey(ctx: Ctx) -> int:
    from nap_desktop.services.workspace import rekey

    with ctx.open() as ws:
        rekey(ws)
    print("The data key was rotated. Every user keeps their password.")
    return EXIT_OK


def cmd_recover(ctx: Ctx) -> int:
    """stdin order: the recovery-file passphrase (if it has one), then the new password."""
    from nap_desktop.services.workspace import read_recovery_identity, recover

    a = ctx.args
    data = Path(a.identity).read_bytes() if Path(a.identity).is_file() else b""
    passphrase = ctx.prompt.secret("Passphrase of the recovery key file: ") if data.startswith(b"age-encryption.org/") else None
    identity = read_recovery_identity(Path(a.identity), passphrase)
    user = ctx.username()
    new = ctx.prompt.secret(f"New password for {user}: ", confirm=True)
    ws = recover(ctx.workspace, identity, user, new)
    ws.lock()
    print(f"Access recovered: {user} can sign in with the new password.")
    return EXIT_OK


def cmd_recovery_set(ctx: Ctx) -> int:
    from nap_desktop.services.workspace import set_recovery

    with ctx.open() as ws:
        set_recovery(ws, ctx.args.recipient)
    print("Recovery key set: HQ can now recover this workspace if every password is lost.")
    return EXIT_OK


def cmd_demo(ctx: Ctx) -> int:
    from nap_desktop.services.demo import DEMO_PASSWORD, DEMO_USER, ensure_demo_workspace
    from nap_desktop.services.workspace import unlocked, workspace_info

    from nap_desktop.services.demo_data import generate_demo_records
    from nap_desktop.services.records import counts_by_type
    from nap_desktop.services.users import list_users

    path = ensure_demo_workspace(ctx.workspace, progress=lambda msg: print(msg))
    with unlocked(path, DEMO_USER, DEMO_PASSWORD) as ws:
        missing = ctx.args.records - sum(counts_by_type(ws).values())
        if missing > 0:  # fill up to N records, so that running it again adds nothing
            last = 0
            for p in generate_demo_records(ws, missing, seed=ctx.args.seed):
                if p.done - last >= max(1, p.total // 10) or p.done == p.total:
                    print(f"  {p.label}: {p.done:,} / {p.total:,}", flush=True)
                    last = p.done
        info = workspace_info(ws)
        counts = counts_by_type(ws)
        users = list_users(ws)
    print(f"Demo workspace: {path}")
    print(f"  {info.site_kind} {info.unit} — {info.unit_name_en}")
    print(f"  units: {info.units}  users: {info.users}  audit entries: {info.audit_entries}  schema: {info.schema}")
    print("  records: " + ", ".join(f"{k} {v:,}" for k, v in counts.items() if v))
    for u in users:
        print(f"  account {u.username:<14} {u.role}")
    print(f"user: {DEMO_USER}")
    print(f"password: {DEMO_PASSWORD}")
    return EXIT_OK


def _read_json_file(path: str) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text("utf-8"))
    except FileNotFoundError:
        raise UserFacingError(f"The file {path} does not exist.") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        raise UserFacingError(f"{path} is not valid UTF-8 JSON" + (f" (line {line})." if line else ".")) from None
    if not isinstance(data, dict):
        raise UserFacingError(f"{path} must hold one JSON object with the record's fields.")
    return data


def _print_validation(exc: Exception) -> None:
    from nap_desktop.errors import ValidationError

    if isinstance(exc, ValidationError):
        for name, message in exc.fields.items():
            print(f"  {name}: {message}", file=sys.stderr)


def cmd_record_add(ctx: Ctx) -> int:
    from nap_desktop.errors import ValidationError
    from nap_desktop.services.records import create_record

    a = ctx.args
    values = _read_json_file(a.json_file)
    with ctx.open() as ws:
        try:
            rec = create_record(ws, a.type, values, status=a.status, unit=a.unit)
        except ValidationError as exc:
            _print_validation(exc)
            raise
    if a.json:
        ctx.out(rec)
    else:
        print(f"Saved {rec.type} {rec.id} ({rec.status}, unit {rec.unit}, version {rec.version}).")
    return EXIT_OK


def cmd_record_edit(ctx: Ctx) -> int:
    from nap_desktop.errors import ValidationError
    from nap_desktop.services.records import update_record

    a = ctx.args
    values = _read_json_file(a.json_file)
    with ctx.open() as ws:
        try:
            rec = update_record(ws, a.id, values, expected_version=a.expected_version, status=a.status)
        except ValidationError as exc:
            _print_validation(exc)
            raise
    print(f"Saved {rec.type} {rec.id}: version {rec.version}.")
    return EXIT_OK


def cmd_record_show(ctx: Ctx) -> int:
    from nap_desktop.services.records import get_record, record_history

    with ctx.open() as ws:
        rec = get_record(ws, ctx.args.id)
        history = record_history(ws, ctx.args.id) if ctx.args.history else []
    if ctx.args.json:
        ctx.out(rec)
        return EXIT_OK
    print(f"{rec.type} {rec.id}  unit {rec.unit}  {rec.status}  version {rec.version}" + ("  DELETED" if rec.deleted else ""))
    for key, value in rec.values.items():
        if value is None:
            continue
        shown = json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value
        print(f"  {key:<28} {shown}")
    for name in rec.masked:
        print(f"  {name:<28} ••• (personal data: your role cannot see it)")
    for h in history:
        print(f"  v{h.version} {h.changed_at:%Y-%m-%d %H:%M} {h.changed_by}: {h.field}: {h.old!r} → {h.new!r}")
    return EXIT_OK


def cmd_record_delete(ctx: Ctx) -> int:
    from nap_desktop.services.records import delete_record

    with ctx.open() as ws:
        rec = delete_record(ws, ctx.args.id)
    print(f"Deleted {rec.type} {rec.id} (kept as a tombstone for sync and history).")
    return EXIT_OK


def cmd_record_list(ctx: Ctx) -> int:
    import csv
    from datetime import date

    from nap_desktop.services.records import RecordFilter, list_records

    a = ctx.args

    def d(value: str | None) -> date | None:
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise UserFacingError(f"{value!r} is not a date; use YYYY-MM-DD.") from None

    flt = RecordFilter(
        date_from=d(a.date_from),
        date_to=d(a.date_to),
        unit=a.unit,
        status=a.status,
        sex=a.sex,
        age_group=a.age_group,
        citizenship=a.citizenship,
        outcome=a.outcome,
        exploitation_type=a.exploitation_type,
        text=a.search,
        include_deleted=a.include_deleted,
    )
    with ctx.open() as ws:
        page = list_records(ws, a.type, flt, offset=a.offset, limit=a.limit)
    fmt = "json" if a.json else a.format
    columns = ["id", "unit", "status", "date", *(page.rows[0].summary if page.rows else []), "sex", "age_years", "citizenship", "name"]

    def row_values(r: Any) -> list[Any]:
        base = {"id": r.id, "unit": r.unit, "status": r.status, "date": r.date.isoformat() if r.date else "", **r.summary}
        base.update(sex=r.sex, age_years=r.age_years, citizenship=r.citizenship, name=r.name)
        return [("" if base.get(c) is None else base.get(c)) for c in columns]

    if fmt == "json":
        print(json.dumps({"total": page.total, "offset": page.offset, "rows": [dict(zip(columns, row_values(r), strict=True)) for r in page.rows]}, indent=2, ensure_ascii=False, default=str))
    elif fmt == "csv":
        w = csv.writer(sys.stdout)
        w.writerow(columns)
        for r in page.rows:
            w.writerow(row_values(r))
    else:
        for r in page.rows:
            print("  ".join(str(v) for v in row_values(r)))
        print(f"({len(page.rows)} of {page.total})", file=sys.stderr)
    return EXIT_OK


def cmd_import(ctx: Ctx) -> int:
    from nap_desktop.services.bulk_import import ImportRejected, iter_import

    a = ctx.args
    with ctx.open() as ws:
        gen = iter_import(ws, a.type, Path(a.file), skip_invalid=a.skip_invalid)
        try:
            while True:
                p = next(gen)
                if p.total and p.done and (p.done == p.total or p.done % 5000 == 0):
                    print(f"  {p.label}: {p.done:,} / {p.total:,}", file=sys.stderr, flush=True)
        except StopIteration as stop:
            result = stop.value
        except ImportRejected as exc:
            print(f"error: {exc.message}", file=sys.stderr)
            if exc.report_path:
                print(f"  {exc.bad_rows} of {exc.rows} rows have errors; every one is listed in {exc.report_path}", file=sys.stderr)
            return EXIT_USER
    print(f"Imported {result.imported} {a.type} records from {result.path.name}.")
    if result.skipped:
        print(f"Skipped {result.skipped} invalid rows; see {result.report_path}.")
    for row, pid in result.duplicates[:20]:
        print(f"warning: row {row} may be the same person as {pid}; review it.", file=sys.stderr)
    return EXIT_OK


def cmd_template(ctx: Ctx) -> int:
    from nap_desktop.services.bulk_import import write_template

    a = ctx.args
    out = Path(a.output or f"{a.type}-template.{a.format}")
    path = write_template(a.type, out, lang=a.lang)
    print(f"Wrote the {a.type} import template to {path}.")
    return EXIT_OK


def cmd_codelist_list(ctx: Ctx) -> int:
    from nap_desktop.domain.codelists import default_codelists

    cl = default_codelists()
    for name in cl.names():
        lst = cl[name]
        print(f"{name:<30} v{lst.version:<3} {len(lst):>4} entries  {lst.title_en}")
    return EXIT_OK


def cmd_codelist_show(ctx: Ctx) -> int:
    from nap_desktop.domain.codelists import default_codelists

    lst = default_codelists()[ctx.args.name]
    if ctx.args.json:
        print(json.dumps([{"code": e.code, "label_en": e.label_en, "label_ur": e.label_ur, "htcds": e.htcds, "ctdc": e.ctdc, "unodc": e.unodc} for e in lst], indent=2, ensure_ascii=False))
        return EXIT_OK
    print(f"{lst.name} (version {lst.version}) — {lst.title_en} / {lst.title_ur}; source: {lst.source}")
    for e in lst:
        maps = " ".join(f"{k}={v}" for k, v in (("htcds", e.htcds), ("ctdc", e.ctdc), ("unodc", e.unodc)) if v)
        print(f"  {e.code:<36} {e.label_en:<40} {e.label_ur}  {maps}")
    return EXIT_OK


def cmd_backup(ctx: Ctx) -> int:
    """stdin order: your password, then (with --passphrase) the backup passphrase."""
    from nap_desktop.services.backup import iter_backup

    a = ctx.args
    with ctx.open() as ws:
        passphrase = ctx.prompt.secret("Passphrase for the backup: ", confirm=True) if a.passphrase else None
        result = _drive(iter_backup(ws, out=Path(a.out) if a.out else None, passphrase=passphrase))
    opens = " and ".join(x for x, on in (("HQ's recovery key", result.recovery), ("the passphrase", result.passphrase)) if on)
    print(f"Backup written: {result.path} ({result.size / 1e6:.1f} MB). It opens with {opens}.")
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return EXIT_OK


def cmd_restore(ctx: Ctx) -> int:
    """stdin order: with --identity, the key file's passphrase (if it has one); otherwise the
    backup passphrase, then the password of the account given with --user."""
    from nap_desktop.errors import BackupKeyMismatch
    from nap_desktop.services.backup import inspect_backup, iter_restore
    from nap_desktop.services.workspace import read_recovery_identity

    a = ctx.args
    file, into = Path(a.file), Path(a.into)
    info = inspect_backup(file)
    if a.identity:
        key_file = Path(a.identity)
        data = key_file.read_bytes() if key_file.is_file() else b""
        file_pw = ctx.prompt.secret("Passphrase of the recovery key file: ") if data.startswith(b"age-encryption.org/") else None
        gen = iter_restore(file, into, identity=read_recovery_identity(key_file, file_pw))
    else:
        if not info.passphrase:
            raise BackupKeyMismatch("This backup has no passphrase: it opens only with HQ's recovery key (--identity FILE).")
        user = a.user or os.environ.get("NAP_USER")
        if not user:
            raise UserFacingError("Say whose password opens the restored workspace with --user NAME (or use --identity FILE).")
        passphrase = ctx.prompt.secret("Backup passphrase: ")
        password = ctx.prompt.secret(f"Password of {user} (as it was when the backup was made): ")
        gen = iter_restore(file, into, passphrase=passphrase, username=user, password=password)
    result = _drive(gen)
    print(f"Restored the {result.site_kind} workspace {result.unit} (backup of {result.backup_created_at}) into {result.path}.")
    print(f"Accounts: {', '.join(result.usernames)}. Open it with --workspace {result.path}.")
    print("Use this copy instead of the old one, never beside it: both are the same workspace for HQ.")
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return EXIT_OK


def cmd_selftest(ctx: Ctx) -> int:
    """Runs every core function once in a temporary workspace with synthetic data (no display needed)."""
    from nap_desktop.services.selftest import run_selftest

    keep = Path(ctx.args.keep) if ctx.args.keep else None
    results = run_selftest(keep=keep, echo=lambda line: print(line, flush=True))
    failed = [r for r in results if not r.ok]
    total_ms = sum(r.ms for r in results)
    if failed:
        print(f"selftest FAILED: {len(failed)} of {len(results)} steps ({total_ms / 1000:.1f} s)", file=sys.stderr)
        return EXIT_USER
    print(f"selftest passed: {len(results)} steps ({total_ms / 1000:.1f} s)")
    return EXIT_OK


def cmd_version(ctx: Ctx) -> int:
    print(f"nap-desktop {__version__}")
    return EXIT_OK


def _drive(gen: Any) -> Any:
    """Runs a long operation (a generator of Progress); returns its result. Steps go to a
    terminal's stderr only, so a script sees one "error:" line and nothing else on failure."""
    from nap_desktop.services.progress import drive

    def show(p: Any) -> None:
        if p.label and p.done < p.total:
            print(f"  {p.label} …", file=sys.stderr, flush=True)

    return drive(gen, show if sys.stderr.isatty() else None)


def cmd_report_indicators(ctx: Ctx) -> int:
    from nap_desktop.reports.engine import Period
    from nap_desktop.reports.publish import iter_indicator_report

    a = ctx.args
    period = Period.parse(a.period)
    with ctx.open() as ws:
        r = _drive(iter_indicator_report(ws, period=period, scope=a.scope, fmt=a.format, out=Path(a.out), external=a.external, lang=a.lang))
    hidden = f"; {r.hidden} numbers hidden by disclosure control" if r.audience == "external" else ""
    print(f"Wrote the {r.audience} indicator report of {r.scope} for {r.period} ({r.format.upper()}) to {r.path}{hidden}.")
    return EXIT_OK


def cmd_export(ctx: Ctx) -> int:
    """GLOTIP: .xlsx or .csv by the file name. CTDC: CSV. DHIS2: dataValueSets JSON (month, quarter or year)."""
    from nap_desktop.reports.engine import Period
    from nap_desktop.reports.publish import iter_standard_export

    a = ctx.args
    period = Period.parse(a.period)
    with ctx.open() as ws:
        r = _drive(iter_standard_export(ws, a.kind, period=period, scope=a.scope, out=Path(a.out), k=a.k, external=a.external))
    if r.what == "ctdc":
        steps = ", ".join(f"{n} ({name.replace('_', ' ')})" for name, n in r.generalised.items()) or "none"
        print(f"Wrote {r.values} de-identified victim rows ({r.k}-anonymous) to {r.path}; rows generalised: {steps}; rows dropped: {r.dropped}.")
    else:
        print(f"Wrote the {r.what.upper()} export of {r.scope} for {r.period} to {r.path} ({r.values} values, {r.hidden} hidden).")
    return EXIT_OK


# --- parser ----------------------------------------------------------------------------------


class _RefusePassword(argparse.Action):
    """``--password X`` is refused without printing X: passwords never go on a command line."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: object, values: object, option: str | None = None) -> None:
        parser.error("passwords are never given on the command line (they stay in shell history); "
                     "you are asked for them, or use --password-stdin")


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    common.add_argument("--workspace", help="workspace folder (default: NAP_WORKSPACE or the user data folder)")
    common.add_argument("--user", help="account name (default: NAP_USER, or the only account)")
    common.add_argument("--password-stdin", action="store_true", help="read passwords from stdin, one per line")
    common.add_argument("--json", action="store_true", help="print results as JSON")
    common.add_argument("--password", nargs="?", action=_RefusePassword, help=argparse.SUPPRESS)
    common.add_argument("-v", "--verbose", action="store_true", help="log debug messages")

    p = argparse.ArgumentParser(
        prog="nap-desktop", description="NAP Desktop (FIA NAP against HT/MS), headless commands.", allow_abbrev=False
    )
    p.add_argument("--version", action="version", version=f"nap-desktop {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, fn: Callable[[Ctx], int], help_: str, parent: Any = sub) -> argparse.ArgumentParser:
        sp: argparse.ArgumentParser = parent.add_parser(
            name, parents=[common], help=help_, description=fn.__doc__ or help_, allow_abbrev=False
        )
        sp.set_defaults(func=fn)
        return sp

    sp = add("init", cmd_init, "create a workspace")
    sp.add_argument("--site-kind", required=True, choices=["post", "circle", "hq"])
    sp.add_argument("--unit", required=True, help="unit code, e.g. P-TORKHAM (see resources/units.toml)")
    sp.add_argument("--admin", required=True, help="account name of the first administrator")
    sp.add_argument("--admin-name", help="the administrator's full name")
    sp.add_argument("--recovery-recipient", help="HQ recovery key (age1…)")
    sp.add_argument("--recovery-identity-out", help="HQ only: file to write the new national recovery key to")
    sp.add_argument("--db", metavar="URL", help="HQ only: keep the store in this empty PostgreSQL database (postgresql+psycopg://user@host:port/db)")

    ws = sub.add_parser("workspace", help="workspace commands").add_subparsers(dest="sub", required=True, metavar="SUB")
    add("info", cmd_workspace_info, "show what the workspace holds", ws)

    us = sub.add_parser("user", help="accounts").add_subparsers(dest="sub", required=True, metavar="SUB")
    sp = add("add", cmd_user_add, "add an account", us)
    sp.add_argument("name")
    sp.add_argument("--role", required=True, choices=["officer", "circle_head", "hq_analyst", "admin", "auditor"])
    sp.add_argument("--full-name", required=True)
    sp.add_argument("--unit", help="unit code (default: yours)")
    sp.add_argument("--case-access", action="store_true", help="HQ analysts only: may see personal data")
    add("list", cmd_user_list, "list accounts", us)
    sp = add("passwd", cmd_user_passwd, "change your password, or set another user's", us)
    sp.add_argument("name", nargs="?")
    sp = add("disable", cmd_user_disable, "disable an account", us)
    sp.add_argument("name")

    un = sub.add_parser("unit", help="unit hierarchy").add_subparsers(dest="sub", required=True, metavar="SUB")
    sp = add("list", cmd_unit_list, "list units", un)
    sp.add_argument("--kind", choices=["hq", "zone", "circle", "post"])
    sp.add_argument("--under", help="only this unit and those below it")
    sp = add("add", cmd_unit_add, "add a unit", un)
    sp.add_argument("code")
    sp.add_argument("--kind", required=True, choices=["zone", "circle", "post"])
    sp.add_argument("--parent", required=True)
    sp.add_argument("--name-en", required=True)
    sp.add_argument("--name-ur", required=True)
    sp.add_argument("--province")
    sp.add_argument("--post-type")
    sp.add_argument("--district")

    sp = add("edit", cmd_unit_edit, "rename a unit or mark it inactive", un)
    sp.add_argument("code")
    sp.add_argument("--name-en")
    sp.add_argument("--name-ur")
    sp.add_argument("--district")
    sp.add_argument("--active", choices=["yes", "no"])

    from nap_desktop import cli_returns, cli_sync

    cli_sync.register(sub, add)
    cli_returns.register(sub, add)
    from nap_desktop import cli_hq

    cli_hq.register(sub, add)  # hq serve|import-inbox|config|status; sync push|pull|link|auto

    au = sub.add_parser("audit", help="audit chain").add_subparsers(dest="sub", required=True, metavar="SUB")
    add("verify", cmd_audit_verify, "check the audit chain", au)
    sp = add("list", cmd_audit_list, "list audit entries, newest first", au)
    sp.add_argument("--limit", type=int, default=50)
    sp.add_argument("--before", type=int, help="entries before this sequence number")
    sp.add_argument("--actor")
    sp.add_argument("--action", help="action prefix, e.g. auth.")

    db = sub.add_parser("db", help="database").add_subparsers(dest="sub", required=True, metavar="SUB")
    add("upgrade", cmd_db_upgrade, "apply schema migrations (a backup is made first)", db)

    add("rekey", cmd_rekey, "rotate the data key of the store")
    sp = add("recover", cmd_recover, "regain access with HQ's recovery key")
    sp.add_argument("--identity", required=True, help="the recovery key file (passphrase-protected or plain)")

    rc = sub.add_parser("recovery", help="recovery key").add_subparsers(dest="sub", required=True, metavar="SUB")
    sp = add("set", cmd_recovery_set, "set HQ's recovery key (age1…)", rc)
    sp.add_argument("recipient")

    from nap_desktop.domain.records import RECORD_TYPES

    types = sorted(RECORD_TYPES)
    rec = sub.add_parser("record", help="records").add_subparsers(dest="sub", required=True, metavar="SUB")
    sp = add("add", cmd_record_add, "add a record from a JSON file of its fields", rec)
    sp.add_argument("type", choices=types)
    sp.add_argument("--json-file", "--file", dest="json_file", required=True, metavar="FILE")
    sp.add_argument("--status", choices=["draft", "complete"], default="complete")
    sp.add_argument("--unit", help="unit code (default: yours)")
    sp = add("edit", cmd_record_edit, "change fields of a record from a JSON file (null clears a field)", rec)
    sp.add_argument("id")
    sp.add_argument("--json-file", "--file", dest="json_file", required=True, metavar="FILE")
    sp.add_argument("--status", choices=["draft", "complete"])
    sp.add_argument("--expected-version", type=int, help="refuse if someone changed the record since")
    sp = add("show", cmd_record_show, "show one record", rec)
    sp.add_argument("id")
    sp.add_argument("--history", action="store_true", help="also the edit history")
    sp = add("delete", cmd_record_delete, "delete a record (kept as a tombstone)", rec)
    sp.add_argument("id")
    sp = add("list", cmd_record_list, "list records with filters", rec)
    sp.add_argument("type", choices=types)
    sp.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD")
    sp.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD")
    sp.add_argument("--unit")
    sp.add_argument("--status", choices=["draft", "complete"])
    sp.add_argument("--sex")
    sp.add_argument("--age-group", choices=["child", "adult", "unknown"])
    sp.add_argument("--citizenship")
    sp.add_argument("--outcome")
    sp.add_argument("--exploitation-type")
    sp.add_argument("--search", help="name or identity number (needs personal-data access), or FIR number")
    sp.add_argument("--include-deleted", action="store_true")
    sp.add_argument("--offset", type=int, default=0)
    sp.add_argument("--limit", type=int, default=100)
    sp.add_argument("--format", choices=["table", "json", "csv"], default="table")

    sp = add("import", cmd_import, "import records from a CSV or XLSX file (all rows or none)")
    sp.add_argument("type", choices=types)
    sp.add_argument("file")
    sp.add_argument("--skip-invalid", action="store_true", help="import the valid rows and report the others")
    sp = add("template", cmd_template, "write the import template of a record type")
    sp.add_argument("type", choices=types)
    sp.add_argument("--format", choices=["xlsx", "csv"], default="xlsx")
    sp.add_argument("--output", "-o", help="file to write (default: TYPE-template.FORMAT)")
    sp.add_argument("--lang", choices=["en", "ur"], default="en")

    cls = sub.add_parser("codelist", help="code lists").add_subparsers(dest="sub", required=True, metavar="SUB")
    add("list", cmd_codelist_list, "list the code lists", cls)
    sp = add("show", cmd_codelist_show, "show one code list", cls)
    sp.add_argument("name")

    rp = sub.add_parser("report", help="indicator reports").add_subparsers(dest="sub", required=True, metavar="SUB")
    sp = add("indicators", cmd_report_indicators, "write every indicator of a unit and period (JSON, PDF, XLSX or CSV)", rp)
    sp.add_argument("--period", required=True, help="2026-03 (month), 2026-Q1, 2026 or 2026-01-01..2026-03-31")
    sp.add_argument("--scope", help="unit code (default: yours)")
    sp.add_argument("--format", choices=["json", "pdf", "xlsx", "csv"], default="pdf")
    sp.add_argument("--out", required=True, metavar="PATH", help="file to write")
    sp.add_argument("--external", action="store_true", help="the version for outside FIA: counts of 1-4 shown as <5, complementary suppression")
    sp.add_argument("--lang", choices=["en", "ur"], default="en", help="language of a PDF: en (default) or ur (Urdu, right to left)")
    exp = sub.add_parser("export", help="standard exports (GLOTIP, CTDC, DHIS2)").add_subparsers(dest="sub", required=True, metavar="SUB")
    for kind, help_ in (
        ("glotip", "UNODC GLOTIP-style table (victims, suspects, prosecuted, convicted by sex, age, form, citizenship)"),
        ("ctdc", "CTDC-style de-identified victim-level CSV, k-anonymous"),
        ("dhis2", "DHIS2 dataValueSets JSON of the indicators of a unit and month"),
    ):
        sp = add(kind, cmd_export, help_, exp)
        sp.set_defaults(kind=kind)
        sp.add_argument("--period", required=True, help="2026-03 (month), 2026-Q1, 2026 or 2026-01-01..2026-03-31")
        sp.add_argument("--scope", help="unit code (default: yours)")
        sp.add_argument("--out", required=True, metavar="PATH", help="file to write")
        sp.add_argument("--k", type=int, default=11, help="CTDC: smallest group size kept (default 11)" if kind == "ctdc" else argparse.SUPPRESS)
        sp.add_argument("--external", action="store_true", help="DHIS2: leave out small counts (else the internal values)" if kind == "dhis2" else argparse.SUPPRESS)

    sp = add("demo", cmd_demo, "create (or reuse) a demo workspace, fill it with synthetic records, print what it holds")
    sp.add_argument("--records", type=int, default=0, help="fill the workspace up to about N synthetic records (all types)")
    sp.add_argument("--seed", type=int, default=1)
    sp = add("backup", cmd_backup, "write an encrypted backup of the workspace (to HQ's recovery key and/or a passphrase)")
    sp.add_argument("--out", metavar="FILE", help="backup file (default: backups/nap-backup-UNIT-TIME.napbak in the workspace)")
    sp.add_argument("--passphrase", action="store_true", help="also protect it with a passphrase (asked for; required without a recovery key)")
    sp = add("restore", cmd_restore, "check a backup and restore it into a new, empty folder")
    sp.add_argument("file", help="the .napbak backup file")
    sp.add_argument("--into", required=True, metavar="NEWDIR", help="new or empty folder for the restored workspace")
    sp.add_argument("--identity", metavar="FILE", help="HQ's recovery key file; without it, the backup passphrase and --user's password")
    sp = add("selftest", cmd_selftest, "check the installation end to end in a temporary workspace (synthetic data)")
    sp.add_argument("--keep", metavar="NEWDIR", help="run in this new folder and keep it (for support)")
    add("version", cmd_version, "print the version")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``nap-desktop`` script. Returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(config.app_log_dir(), verbose=args.verbose, console=args.verbose)
    try:
        ctx = Ctx(args)
        return int(args.func(ctx))
    except UserFacingError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return EXIT_USER
    except BrokenPipeError:  # output piped into `head` and the like
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        print("Interrupted; nothing was changed by the unfinished step.", file=sys.stderr)
        return EXIT_USER
    except Exception as exc:
        logger.error("unexpected error in command %s\n%s", getattr(args, "command", "?"), safe_traceback(exc))
        where = current_log_file() or config.app_log_dir()
        print(f"error: an unexpected problem stopped the command. Details are in the log: {where}", file=sys.stderr)
        return EXIT_INTERNAL
