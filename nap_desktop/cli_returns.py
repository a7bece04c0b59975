# SPDX-License-Identifier: GPL-3.0-or-later
"""Monthly-return commands of the CLI: ``nap-desktop return compile|show|list|submit|approve|
send-back|unlock|comment|completeness|export``.

Registered by :func:`nap_desktop.cli.build_parser`; each command calls
:mod:`nap_desktop.reports.returns` exactly as the monthly-return screen does. ``--unit`` defaults
to the signed-in user's unit; ``--month`` is ``YYYY-MM``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nap_desktop.cli import Ctx
    from nap_desktop.reports.returns import MonthlyReturnDTO

EXIT_OK, EXIT_USER = 0, 1


def _unit(ctx: Ctx, ws: Any) -> str:
    return str(ctx.args.unit or ws.user.unit_code)


def _when(d: Any) -> str:
    from nap_desktop.reports.returns import REPORTING_TZ

    return "" if d is None else f"{d.astimezone(REPORTING_TZ):%Y-%m-%d %H:%M} PKT"


def _drive(gen: Any) -> Any:
    from nap_desktop.cli import _drive as drive

    return drive(gen)


def _summary(ret: MonthlyReturnDTO) -> str:
    errors, warnings = len(ret.errors), len(ret.warnings)
    return (
        f"Return of {ret.unit} for {ret.month}: {ret.state} (version {ret.version}); "
        f"{errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}."
    )


def _print_messages(ret: MonthlyReturnDTO, *, info: bool = False) -> None:
    for m in ret.messages:
        if m.level == "info" and not info:
            continue
        print(f"  {m.level:<7} {m.key:<20} {m.text_en}")


def _as_json(ret: MonthlyReturnDTO) -> dict[str, Any]:
    from nap_desktop.reports.returns import value_lines

    return {
        "id": ret.id,
        "unit": ret.unit,
        "month": ret.month,
        "state": ret.state,
        "version": ret.version,
        "framework_version": ret.framework_version,
        "compiled_at": ret.compiled_at.isoformat(),
        "compiled_by": ret.compiled_by,
        "submitted_at": ret.submitted_at.isoformat() if ret.submitted_at else None,
        "submitted_by": ret.submitted_by,
        "approved_at": ret.approved_at.isoformat() if ret.approved_at else None,
        "approved_by": ret.approved_by,
        "returned_reason": ret.returned_reason,
        "due_on": ret.due_on.isoformat(),
        "on_time": ret.on_time,
        "values": [
            {"key": v.key, "label": v.label_en, "kind": v.kind, "value": v.value, "numerator": v.numerator, "denominator": v.denominator, "display": v.display}
            for v in value_lines(ret)
        ],
        "pipeline": dict(ret.pipeline),
        "messages": [asdict(m) for m in ret.messages],
        "comments": [{"key": c.key, "body": c.body, "author": c.author, "at": c.at.isoformat()} for c in ret.comments],
        "history": [
            {"action": h.action, "from": h.from_state, "to": h.to_state, "actor": h.actor, "at": h.at.isoformat(), "reason": h.reason, "version": h.version}
            for h in ret.history
        ],
    }


def _done(ctx: Ctx, ret: MonthlyReturnDTO, what: str) -> int:
    import json

    if ctx.args.json:
        print(json.dumps(_as_json(ret), indent=2, ensure_ascii=False))
    else:
        print(f"{what}. {_summary(ret)}")
        _print_messages(ret)
    return EXIT_OK


def cmd_return_compile(ctx: Ctx) -> int:
    """Compile (or compile again) the draft return of a unit and month; shows the checks."""
    from nap_desktop.reports.returns import iter_compile

    a = ctx.args
    with ctx.open() as ws:
        ret = _drive(iter_compile(ws, _unit(ctx, ws), a.month, expected_version=a.expected_version))
    return _done(ctx, ret, "Compiled")


def cmd_return_show(ctx: Ctx) -> int:
    """Show a return: every value, the checks, comments and history."""
    import json

    from nap_desktop.reports.returns import get_return, value_lines

    with ctx.open() as ws:
        ret = get_return(ws, _unit(ctx, ws), ctx.args.month)
    if ctx.args.json:
        print(json.dumps(_as_json(ret), indent=2, ensure_ascii=False))
        return EXIT_OK
    print(_summary(ret))
    print(f"  compiled {_when(ret.compiled_at)} by {ret.compiled_by}; due {ret.due_on}" + (f"; first submitted {_when(ret.first_submitted_at)} ({'on time' if ret.on_time else 'late'})" if ret.first_submitted_at else ""))
    if ret.state == "returned" and ret.returned_reason:
        print(f"  sent back by {ret.returned_by}: {ret.returned_reason}")
    for line in value_lines(ret):
        notes = len(ret.comments_on(line.key))
        print(f"  {line.key:<32} {line.display:<28} {line.label_en}" + (f"  [{notes} comment{'s' if notes != 1 else ''}]" if notes else ""))
    if ret.messages:
        print("Checks:")
        _print_messages(ret, info=True)
    if ret.comments:
        print("Comments:")
        for c in ret.comments:
            print(f"  {c.key:<20} {c.author} {_when(c.at)}: {c.body}")
    print("History:")
    for h in ret.history:
        print(f"  v{h.version} {_when(h.at)} {h.actor:<16} {h.action:<10} {h.from_state or '-'} → {h.to_state}" + (f": {h.reason}" if h.reason else ""))
    return EXIT_OK


def cmd_return_list(ctx: Ctx) -> int:
    """List the returns of a unit and the units below it, newest month first."""
    from nap_desktop.reports.returns import list_returns

    a = ctx.args
    with ctx.open() as ws:
        rows = list_returns(ws, unit=a.unit, month=a.month, state=a.state)
    if a.json:
        ctx.out(rows)
        return EXIT_OK
    for r in rows:
        timing = "" if r.on_time is None else ("on time" if r.on_time else "late")
        print(f"{r.month}  {r.unit:<14} {r.state:<10} v{r.version:<3} compiled {_when(r.compiled_at)} by {r.compiled_by}  {timing}")
    print(f"({len(rows)} returns)", file=sys.stderr)
    return EXIT_OK


def cmd_return_submit(ctx: Ctx) -> int:
    """Submit a draft (or returned) return to the unit above; it is compiled again first."""
    from nap_desktop.reports.returns import submit_return

    with ctx.open() as ws:
        ret = submit_return(ws, _unit(ctx, ws), ctx.args.month, expected_version=ctx.args.expected_version)
    return _done(ctx, ret, "Submitted" + ("" if ret.on_time is not False else " (late: due " + str(ret.due_on) + ")"))


def cmd_return_approve(ctx: Ctx) -> int:
    """Approve a submitted return; the month's records of the unit and below are locked."""
    from nap_desktop.reports.returns import approve_return

    with ctx.open() as ws:
        ret = approve_return(ws, _unit(ctx, ws), ctx.args.month, expected_version=ctx.args.expected_version)
    return _done(ctx, ret, f"Approved; records of {ret.unit} (and the units below it) dated in {ret.month} are now locked")


def cmd_return_send_back(ctx: Ctx) -> int:
    """Send a submitted return back to its unit, with a reason."""
    from nap_desktop.reports.returns import send_back_return

    with ctx.open() as ws:
        ret = send_back_return(ws, _unit(ctx, ws), ctx.args.month, ctx.args.reason, expected_version=ctx.args.expected_version)
    return _done(ctx, ret, "Sent back")


def cmd_return_unlock(ctx: Ctx) -> int:
    """Administrators: reopen an approved return (audited, with a reason)."""
    from nap_desktop.reports.returns import unlock_return

    a = ctx.args
    with ctx.open() as ws:
        ret = unlock_return(ws, _unit(ctx, ws), a.month, a.reason, to_state=a.to, expected_version=a.expected_version)
    return _done(ctx, ret, f"Unlocked (now {ret.state}); records of {ret.unit} dated in {ret.month} can be changed again")


def cmd_return_comment(ctx: Ctx) -> int:
    """Add a comment on one value (indicator code, pipeline.<name>) or on the whole return ('return')."""
    from nap_desktop.reports.returns import add_comment

    a = ctx.args
    with ctx.open() as ws:
        c = add_comment(ws, _unit(ctx, ws), a.month, a.value, a.text)
    print(f"Comment added on {c.key}.")
    return EXIT_OK


def cmd_return_completeness(ctx: Ctx) -> int:
    """Which units reporting to a unit submitted their return of the month, on time or late."""
    from nap_desktop.reports.returns import completeness

    a = ctx.args
    with ctx.open() as ws:
        c = completeness(ws, _unit(ctx, ws), a.month)
    if a.json:
        ctx.out(list(c.rows))
        return EXIT_OK
    print(f"Returns of {c.month} due at {c.unit} by {c.due_on}: {len(c.submitted)} of {c.expected} submitted "
          f"({len(c.approved)} approved; {len(c.on_time)} on time, {len(c.late)} late); {len(c.missing)} missing.")
    for r in c.rows:
        timing = "" if r.on_time is None else ("on time" if r.on_time else "late")
        flag = "  OVERDUE" if r.overdue else ""
        print(f"  {r.unit:<14} {r.state:<10} {_when(r.first_submitted_at):<22} {timing:<8} {r.name_en}{flag}")
    return EXIT_OK


def cmd_return_export(ctx: Ctx) -> int:
    """Write a return as PDF, XLSX, CSV or JSON (the internal version unless --external)."""
    from nap_desktop.reports.returns import iter_export_return

    a = ctx.args
    with ctx.open() as ws:
        unit = _unit(ctx, ws)
        r = _drive(iter_export_return(ws, unit, a.month, fmt=a.format, out=Path(a.out), external=a.external, lang=a.lang))
    hidden = f"; {r.hidden} numbers hidden by disclosure control" if r.audience == "external" else ""
    print(f"Wrote the {r.audience} return of {unit} for {a.month} ({a.format.upper()}) to {r.path}{hidden}.")
    return EXIT_OK


def register(sub: Any, add: Callable[..., Any]) -> None:
    """Adds the ``return`` command group to the top-level parser."""
    rt = sub.add_parser("return", help="monthly returns (compile, submit, approve …)").add_subparsers(dest="sub", required=True, metavar="SUB")

    def cmd(name: str, fn: Callable[[Ctx], int], help_: str, *, month: bool = True, version: bool = False) -> Any:
        sp = add(name, fn, help_, rt)
        sp.add_argument("--unit", help="unit code (default: yours)")
        if month:
            sp.add_argument("--month", required=True, metavar="YYYY-MM")
        if version:
            sp.add_argument("--expected-version", type=int, help="refuse if the return changed since you looked at it")
        return sp

    cmd("compile", cmd_return_compile, "compile the draft return of a unit and month", version=True)
    cmd("show", cmd_return_show, "show a return: values, checks, comments, history")
    sp = cmd("list", cmd_return_list, "list returns of a unit and the units below it", month=False)
    sp.add_argument("--month", metavar="YYYY-MM")
    sp.add_argument("--state", choices=["draft", "submitted", "approved", "returned"])
    cmd("submit", cmd_return_submit, "submit a return to the unit above (compiled again first)", version=True)
    cmd("approve", cmd_return_approve, "approve a submitted return (locks the month's records)", version=True)
    sp = cmd("send-back", cmd_return_send_back, "send a submitted return back, with a reason", version=True)
    sp.add_argument("--reason", required=True)
    sp = cmd("unlock", cmd_return_unlock, "administrators: reopen an approved return, with a reason", version=True)
    sp.add_argument("--reason", required=True)
    sp.add_argument("--to", choices=["draft", "submitted"], default="draft", help="state after unlocking (default: draft)")
    sp = cmd("comment", cmd_return_comment, "comment on one value of a return")
    sp.add_argument("--value", required=True, metavar="KEY", help="indicator code (1.3.a), pipeline.<name>, or 'return'")
    sp.add_argument("--text", required=True)
    cmd("completeness", cmd_return_completeness, "which units reporting to a unit have submitted, on time or late")
    sp = cmd("export", cmd_return_export, "write a return as PDF, XLSX, CSV or JSON")
    sp.add_argument("--format", choices=["pdf", "xlsx", "csv", "json"], default="pdf")
    sp.add_argument("--out", required=True, metavar="PATH", help="file to write")
    sp.add_argument("--external", action="store_true", help="the version for outside FIA: small counts hidden, no comments")
    sp.add_argument("--lang", choices=["en", "ur"], default="en", help="language of a PDF: en (default) or ur (Urdu, right to left)")
