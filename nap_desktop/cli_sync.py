# SPDX-License-Identifier: GPL-3.0-or-later
"""Sync commands of the CLI: ``enrol``, ``sync``, ``conflicts``, ``keys``, ``registry``.

Registered by :func:`nap_desktop.cli.build_parser`; each command calls :mod:`nap_desktop.services.sync`
exactly as the Sync screen does.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nap_desktop.cli import Ctx

EXIT_OK, EXIT_USER = 0, 1


def _progress(n: int, text: str) -> None:
    print(f"  … {text}", file=sys.stderr)


def cmd_enrol_request(ctx: Ctx) -> int:
    """Make this workspace's sync keys (once) and write an enrolment request for HQ."""
    from nap_desktop.services.sync import enrol_request

    with ctx.open() as ws:
        r = enrol_request(ws, Path(ctx.args.out) if ctx.args.out else None)
    print(f"Wrote the enrolment request {r.path}")
    print(f"Device key {r.key_id}. Send the file to HQ; then run `nap-desktop enrol accept` on HQ's answer.")
    return EXIT_OK


def cmd_enrol_approve(ctx: Ctx) -> int:
    """HQ: approve an enrolment or key-rotation request and write the answer for the device."""
    from nap_desktop.services.sync import enrol_approve

    with ctx.open() as ws:
        r = enrol_approve(ws, Path(ctx.args.request), unit=ctx.args.unit, out_dir=Path(ctx.args.out) if ctx.args.out else None)
    print(f"Approved device {r.device_id[:8]} for unit {r.unit} (key {r.key_id}); registry version {r.registry_version}.")
    print(f"Wrote {r.path}. Give it to the unit with HQ's key fingerprint: {r.root_fingerprint}")
    return EXIT_OK


def cmd_enrol_accept(ctx: Ctx) -> int:
    """Field workspace: accept HQ's answer (checks HQ's key fingerprint if given)."""
    from nap_desktop.services.sync import enrol_accept

    with ctx.open() as ws:
        r = enrol_accept(ws, Path(ctx.args.response), expected_fingerprint=ctx.args.fingerprint)
    print(f"Enrolled: unit {r.unit}, registry version {r.registry_version}, HQ key fingerprint {r.root_fingerprint}.")
    if not ctx.args.fingerprint:
        print("Check that fingerprint against the one HQ gave you (phone or letter) before sending any bundle.")
    return EXIT_OK


def cmd_sync_export(ctx: Ctx) -> int:
    """Write every change since the last export as a signed, encrypted bundle."""
    from nap_desktop.services.sync import export_changes

    with ctx.open() as ws:
        r = export_changes(ws, Path(ctx.args.out) if ctx.args.out else None, resend=ctx.args.resend, progress=_progress)
    if ctx.args.json:
        ctx.out(r)
        return EXIT_OK
    print(f"Wrote {r.path}: {r.records} records (changes {r.seq_from}–{r.seq_to}), {r.audit_entries} audit entries.")
    for p in r.relayed:
        print(f"Forwarded a post's bundle unchanged: {p}")
    return EXIT_OK


def cmd_sync_import(ctx: Ctx) -> int:
    """Check and import bundle files (changes, receipts, registries); --dry-run shows what would happen."""
    from nap_desktop.services.sync import import_each

    with ctx.open() as ws:
        results = import_each(ws, [Path(f) for f in ctx.args.files], dry_run=ctx.args.dry_run, progress=_progress)
    failed = 0
    for path, r in results:
        if isinstance(r, Exception):
            failed += 1
            print(f"error: {path.name}: {r}", file=sys.stderr)
            continue
        if ctx.args.json:
            ctx.out(r)
        else:
            print(r.line())
            for p in r.problems[:10]:
                print(f"  - {p}")
            if r.receipt:
                print(f"  receipt for the unit: {r.receipt}")
    return EXIT_USER if failed else EXIT_OK


def cmd_sync_status(ctx: Ctx) -> int:
    """Show enrolment, pending changes, bundles waiting for receipts, held bundles and conflicts."""
    from nap_desktop.services.field_config import managed
    from nap_desktop.services.sync import sync_status

    with ctx.open() as ws:
        st = sync_status(ws)
        by_hq = managed(ws)
    if ctx.args.json:
        ctx.out(st)
        return EXIT_OK
    print(f"Unit {st.unit} ({st.site_kind}), device {st.device_id[:8]}, key {st.key_id or '—'}")
    if st.enrolled:
        print(f"Enrolled: registry version {st.registry_version}, expires {st.registry_expires:%Y-%m-%d}, HQ key {st.root_fingerprint}")
    else:
        print("Not enrolled with HQ yet: run `nap-desktop enrol request`.")
    if st.site_kind != "hq":
        print(f"Changes not yet exported: {st.pending_records} records. Exported up to {st.exported_seq}, acknowledged up to {st.acked_seq}.")
        retention = f" (set by HQ, field settings version {by_hq['retention_days']})" if "retention_days" in by_hq else ""
        print(f"Bundles waiting for HQ's receipt: {len(st.unacknowledged)}. Personal data kept {st.retention_days} days after HQ's receipt{retention}.")
    for bid, unit, note in st.held:
        print(f"Held bundle {bid[:8]} from {unit}: {note}")
    print(f"Open conflicts: {st.open_conflicts}")
    return EXIT_OK


def cmd_sync_receipts(ctx: Ctx) -> int:
    """List the bundles written here and whether HQ has acknowledged them (and bundles received)."""
    from nap_desktop.services.sync import list_bundles

    with ctx.open() as ws:
        rows = list_bundles(ws)
    if ctx.args.json:
        ctx.out(rows)
        return EXIT_OK
    for b in rows:
        print(f"{b.direction:<3} {b.kind:<8} {b.bundle_id[:8]} {b.source_unit:<12} {b.seq_from:>7}–{b.seq_to:<7} {b.state:<12} {b.note}")
    if not rows:
        print("No bundles yet.")
    return EXIT_OK


def cmd_sync_purge(ctx: Ctx) -> int:
    """Purge personal data of records HQ acknowledged longer ago than the retention period."""
    from nap_desktop.services.sync import purge_acknowledged, set_retention

    with ctx.open() as ws:
        if ctx.args.retention_days is not None:
            set_retention(ws, ctx.args.retention_days)
        n = purge_acknowledged(ws)
    print(f"Purged the personal data of {n} acknowledged records.")
    return EXIT_OK


def cmd_conflicts_list(ctx: Ctx) -> int:
    """List conflicts (edits made on two sites from the same version) waiting for a decision."""
    from nap_desktop.services.sync import list_conflicts

    with ctx.open() as ws:
        rows = list_conflicts(ws, state=None if ctx.args.all else "open")
    if ctx.args.json:
        ctx.out(rows)
        return EXIT_OK
    for c in rows:
        here = f"v{c.local_version}" if c.local_version else "new"
        why = "month approved" if c.reason == "locked" else "edited on both sides"
        print(f"{c.id[:8]} {c.record_type:<20} {c.record_id} from {c.source_unit:<12} here {here} / incoming v{c.incoming_version} ({why}) {c.state} {c.resolution}")
    if not rows:
        print("No conflicts.")
    return EXIT_OK


def _conflict_id(ws: Any, prefix: str) -> str:
    from nap_desktop.errors import NotFound
    from nap_desktop.services.sync import list_conflicts

    hits = [c.id for c in list_conflicts(ws, state=None) if c.id.startswith(prefix)]
    if len(hits) != 1:
        raise NotFound("No such conflict (or the id prefix is ambiguous); see `nap-desktop conflicts list`.")
    return hits[0]


def cmd_conflicts_show(ctx: Ctx) -> int:
    """Show both versions of a conflict side by side."""
    from nap_desktop.services.sync import show_conflict

    with ctx.open() as ws:
        d = show_conflict(ws, _conflict_id(ws, ctx.args.id))
    if ctx.args.json:
        ctx.out(d)
        return EXIT_OK
    print(f"{d.info.record_type} {d.info.record_id}: here v{d.info.local_version}, from {d.info.source_unit} v{d.info.incoming_version}")
    for f in sorted(set(d.local) | set(d.incoming)):
        mark = "*" if f in d.differing else " "
        print(f"{mark} {f:<28} here: {d.local.get(f)!s:<30} incoming: {d.incoming.get(f)!s}")
    if d.masked:
        print(f"(personal fields hidden for your role: {', '.join(d.masked)})")
    if d.locked:
        print(f"Not applied because its month is approved: {d.locked}")
    return EXIT_OK


def cmd_conflicts_resolve(ctx: Ctx) -> int:
    """Decide a conflict: keep this workspace's version or take the incoming one."""
    from nap_desktop.services.sync import resolve_conflict

    with ctx.open() as ws:
        c = resolve_conflict(ws, _conflict_id(ws, ctx.args.id), keep=ctx.args.keep)
    print(f"Resolved: kept the {c.resolution} version of {c.record_type} {c.record_id}.")
    return EXIT_OK


def cmd_keys_show(ctx: Ctx) -> int:
    """Show this workspace's device key and, at HQ, the enrolled devices."""
    from nap_desktop.security.permissions import Perm
    from nap_desktop.services.sync import list_devices, sync_status

    with ctx.open() as ws:
        st = sync_status(ws)
        devices = list_devices(ws) if st.enrolled and ws.can(Perm.BUNDLE_IMPORT) else []
    print(f"This device: {st.device_id}, key {st.key_id or '—'}; HQ key fingerprint {st.root_fingerprint or '—'}")
    for d in devices:
        keys = ", ".join(f"{k} ({s})" for k, s in d.keys)
        print(f"  {d.unit:<14} {d.site_kind:<7} {d.device_id[:8]} keys: {keys}; applied up to {d.last_seq}")
    return EXIT_OK


def cmd_keys_rotate(ctx: Ctx) -> int:
    """Field workspace: make new device keys and write a rotation request for HQ."""
    from nap_desktop.services.sync import rotate_keys

    with ctx.open() as ws:
        r = rotate_keys(ws, Path(ctx.args.out) if ctx.args.out else None)
    print(f"New device key {r.key_id}. Wrote {r.path}: send it to HQ, then import HQ's answer with `enrol accept`.")
    return EXIT_OK


def cmd_keys_revoke(ctx: Ctx) -> int:
    """HQ: revoke a key (or every key of a device); then send the registry bundles to the units."""
    from nap_desktop.services.sync import revoke_key

    with ctx.open() as ws:
        r = revoke_key(ws, key_id=ctx.args.key, device_id=ctx.args.device, reason=ctx.args.reason)
    print(f"Revoked. Registry version {r.version}. Run `nap-desktop registry export` and send the bundles to every unit.")
    return EXIT_OK


def cmd_registry_rotate_root(ctx: Ctx) -> int:
    """HQ: sign the registry with a new root key; devices follow the signed hand-over."""
    from nap_desktop.services.sync import rotate_root

    with ctx.open() as ws:
        r = rotate_root(ws)
    print(
        f"HQ's root key was changed: registry version {r.registry.version}.\n"
        f"  old fingerprint: {r.old_fingerprint}\n  new fingerprint: {r.new_fingerprint}\n"
        "Devices move to the new key when this registry reaches them (sync, or `nap-desktop registry export` "
        "and the bundles on a USB stick); nobody re-enrols. Tell units the new fingerprint for new enrolments."
    )
    return EXIT_OK


def cmd_registry_show(ctx: Ctx) -> int:
    """Print the key registry in use (signed JSON)."""
    from nap_desktop.services.sync import registry_text

    with ctx.open() as ws:
        print(registry_text(ws))
    return EXIT_OK


def cmd_registry_export(ctx: Ctx) -> int:
    """HQ: write a registry bundle for every enrolled device."""
    from nap_desktop.services.sync import write_registry_bundles

    with ctx.open() as ws:
        paths = write_registry_bundles(ws, Path(ctx.args.out) if ctx.args.out else None)
    for p in paths:
        print(f"Wrote {p}")
    return EXIT_OK


def register(sub: Any, add: Callable[..., Any]) -> None:
    """Adds the sync command groups to the top-level parser."""
    en = sub.add_parser("enrol", help="join HQ's sync network").add_subparsers(dest="sub", required=True, metavar="SUB")
    sp = add("request", cmd_enrol_request, "write an enrolment request", en)
    sp.add_argument("--out", help="folder to write it to (default: outbox/)")
    sp = add("approve", cmd_enrol_approve, "HQ: approve a request", en)
    sp.add_argument("request", help="the .napreq file")
    sp.add_argument("--unit", help="confirm the unit the device is for")
    sp.add_argument("--out", help="folder for the answer (default: outbox/)")
    sp = add("accept", cmd_enrol_accept, "accept HQ's answer", en)
    sp.add_argument("response", help="the .napresp file")
    sp.add_argument("--fingerprint", help="HQ's key fingerprint as HQ told you")

    sy = sub.add_parser("sync", help="sync bundles").add_subparsers(dest="sub", required=True, metavar="SUB")
    sp = add("export", cmd_sync_export, "export changes as a bundle", sy)
    sp.add_argument("--out", help="folder or USB stick (default: outbox/)")
    sp.add_argument("--resend", action="store_true", help="include everything HQ has not acknowledged")
    sp = add("import", cmd_sync_import, "import bundle files", sy)
    sp.add_argument("files", nargs="+")
    sp.add_argument("--dry-run", action="store_true", help="check and summarise; change nothing")
    add("status", cmd_sync_status, "show sync status", sy)
    add("receipts", cmd_sync_receipts, "bundles and their receipts", sy)
    sp = add("purge", cmd_sync_purge, "purge acknowledged personal data past retention", sy)
    sp.add_argument("--retention-days", type=int, help="set the retention period first (admins)")

    co = sub.add_parser("conflicts", help="sync conflicts").add_subparsers(dest="sub", required=True, metavar="SUB")
    sp = add("list", cmd_conflicts_list, "list conflicts", co)
    sp.add_argument("--all", action="store_true", help="also resolved ones")
    sp = add("show", cmd_conflicts_show, "show a conflict", co)
    sp.add_argument("id", help="conflict id (a unique prefix is enough)")
    sp = add("resolve", cmd_conflicts_resolve, "resolve a conflict", co)
    sp.add_argument("id")
    sp.add_argument("--keep", required=True, choices=["local", "incoming"])

    ke = sub.add_parser("keys", help="device keys").add_subparsers(dest="sub", required=True, metavar="SUB")
    add("show", cmd_keys_show, "show keys and devices", ke)
    sp = add("rotate", cmd_keys_rotate, "rotate this device's keys", ke)
    sp.add_argument("--out")
    sp = add("revoke", cmd_keys_revoke, "HQ: revoke a key or a device", ke)
    g = sp.add_mutually_exclusive_group(required=True)
    g.add_argument("--key", help="key id")
    g.add_argument("--device", help="device id (every key of it)")
    sp.add_argument("--reason", required=True, choices=["lost", "stolen", "replaced", "retired", "other"])

    rg = sub.add_parser("registry", help="key registry").add_subparsers(dest="sub", required=True, metavar="SUB")
    add("show", cmd_registry_show, "print the registry", rg)
    sp = add("export", cmd_registry_export, "HQ: registry bundles for every device", rg)
    sp.add_argument("--out")
    add("rotate-root", cmd_registry_rotate_root, "HQ: sign the registry with a new root key (devices follow)", rg)
