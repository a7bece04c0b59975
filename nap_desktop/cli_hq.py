# SPDX-License-Identifier: GPL-3.0-or-later
"""CLI of the network link (issue 7): ``hq serve|import-inbox|config|status|field-config`` and ``sync push|pull|check|link|auto``.

Registered by :func:`nap_desktop.cli.build_parser` after the sync commands (whose ``sync`` group
it extends). ``hq serve`` unlocks the workspace once, at start, with the password of the account
given by ``--user`` (an HQ analyst: it imports bundles): asked for on the terminal, or read from
standard input with ``--password-stdin`` (a service manager's credential file). The data key stays
in the server's memory until it stops.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nap_desktop.cli import Ctx

EXIT_OK, EXIT_USER = 0, 1


def _group(sub: Any, name: str, help_: str) -> Any:
    """The subcommand group ``name`` (made by another module, or new)."""
    parser = sub.choices.get(name)
    if parser is None:
        return sub.add_parser(name, help=help_).add_subparsers(dest="sub", required=True, metavar="SUB")
    for action in parser._actions:  # noqa: SLF001 - argparse keeps the group only here
        if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
            return action
    raise RuntimeError(f"the {name} command has no subcommands")


# --- HQ ------------------------------------------------------------------------------------------


def cmd_hq_serve(ctx: Ctx) -> int:
    """Run the HTTPS intake server (and its importer) until stopped (Ctrl+C or SIGTERM).

    stdin order (--password-stdin): the password of --user. Plain HTTP only on a loopback address.
    """
    from nap_desktop.services.link import get_server_settings, parse_listen
    from nap_desktop.sync.server import ServerConfig, serve

    a = ctx.args
    with ctx.open() as ws:
        saved = get_server_settings(ws)
        host, port = parse_listen(a.listen or saved.listen)
        cert = a.tls_cert or saved.tls_cert or None
        key = a.tls_key or saved.tls_key or None
        inbox = a.inbox or saved.inbox or None
        cfg = ServerConfig(
            host=host,
            port=port,
            tls_cert=Path(cert) if cert else None,
            tls_key=Path(key) if key else None,
            inbox=Path(inbox) if inbox else None,
            max_bundle_bytes=int((a.max_bundle_mb or saved.max_bundle_mb) * 1024 * 1024),
            header_timeout_s=a.header_timeout,
            read_timeout_s=a.read_timeout,
            upload_deadline_s=a.upload_deadline,
            max_uploads=a.max_uploads,
            importer=not a.no_importer,
            import_interval_s=a.import_interval,
        )

        def started(url: str) -> None:
            print(f"Serving on {url} (workspace {ws.path}); stop with Ctrl+C.", flush=True)

        stats = serve(ws, cfg, on_started=started)
    if stats is not None:
        print(f"Stopped. Importer: {stats.imported} imported, {stats.held} held, {stats.rejected} rejected in {stats.passes} passes.")
    else:
        print("Stopped.")
    return EXIT_OK


def cmd_hq_import_inbox(ctx: Ctx) -> int:
    """Import the bundles waiting in the intake inbox (one pass, or --watch to keep going)."""
    from nap_desktop.services.hq import import_inbox

    a = ctx.args
    failed = 0
    with ctx.open() as ws:
        inbox = Path(a.inbox) if a.inbox else None
        while True:
            for o in import_inbox(ws, inbox, keep_receipts=not a.no_receipts):
                what = f"bundle {o.bundle_id[:8]} of {o.unit or '?'}: {o.outcome}"
                if o.outcome == "rejected":
                    failed += 1
                    print(f"error: {what}: {o.note}", file=sys.stderr)
                else:
                    print(what + (f" ({o.note})" if o.note else ""), flush=True)
            if not a.watch:
                break
            try:
                time.sleep(a.interval)
            except KeyboardInterrupt:
                break
    return EXIT_USER if failed else EXIT_OK


def cmd_hq_config(ctx: Ctx) -> int:
    """Show or set the intake server's defaults (listen address, TLS files, inbox, size cap)."""
    from nap_desktop.services.link import get_server_settings, set_server_settings

    a = ctx.args
    changes = {"listen": a.listen, "tls_cert": a.tls_cert, "tls_key": a.tls_key, "inbox": a.inbox, "max_bundle_mb": a.max_bundle_mb}
    with ctx.open() as ws:
        s = set_server_settings(ws, **changes) if any(v is not None for v in changes.values()) else get_server_settings(ws)
    ctx.out(s)
    return EXIT_OK


def cmd_hq_status(ctx: Ctx) -> int:
    """Show the intake inbox: bundles waiting, being imported, rejected."""
    from nap_desktop.services.hq import check_server_user, inbox_counts

    with ctx.open() as ws:
        check_server_user(ws)
        counts = inbox_counts(ws, Path(ctx.args.inbox) if ctx.args.inbox else None)
    if ctx.args.json:
        ctx.out(counts)
    else:
        print(f"Inbox: {counts['waiting']} waiting, {counts['claimed']} being imported, {counts['rejected']} rejected.")
    return EXIT_OK


def _print_field_config(ctx: Ctx, st: Any) -> None:
    if ctx.args.json:
        ctx.out(st)
        return
    draft = st.draft.as_dict()
    print("Draft (sent with the next publication): " + (", ".join(f"{k}={v}" for k, v in sorted(draft.items())) or "nothing set"))
    if st.published is None:
        print("Published: none yet.")
    else:
        p = st.published
        shown = ", ".join(f"{k}={v}" for k, v in sorted(p.settings.as_dict().items()))
        print(f"Published: version {p.version} on {p.issued_at}: {shown}" + ("" if p.settings.as_dict() == draft else " (the draft differs)"))


def cmd_hq_field_config_show(ctx: Ctx) -> int:
    """Show HQ's settings for field devices: the draft, and the version last published."""
    from nap_desktop.services.field_config import get_field_config

    with ctx.open() as ws:
        st = get_field_config(ws)
    _print_field_config(ctx, st)
    return EXIT_OK


def cmd_hq_field_config_set(ctx: Ctx) -> int:
    """Change the draft of HQ's settings for field devices (devices see it once published)."""
    from nap_desktop.services.field_config import set_field_config

    a = ctx.args
    with ctx.open() as ws:
        st = set_field_config(
            ws, retention_days=a.retention_days, idle_lock_minutes=a.idle_lock_minutes, server_url=a.server,
            sync_interval_minutes=a.sync_interval_minutes, clear=tuple(a.clear or ()),
        )
    _print_field_config(ctx, st)
    return EXIT_OK


def cmd_hq_field_config_publish(ctx: Ctx) -> int:
    """Publish the draft: a new version if it changed, and a config bundle for every enrolled device.

    Devices that pull from the intake server get it there; the bundles written here go by USB stick.
    """
    from nap_desktop.services.field_config import publish_field_config

    with ctx.open() as ws:
        r = publish_field_config(ws, Path(ctx.args.out) if ctx.args.out else None)
    if ctx.args.json:
        ctx.out(r)
    else:
        what = "Published version" if r.new_version else "Unchanged; bundles written again for version"
        print(f"{what} {r.version}: {len(r.paths)} config bundle(s) written.")
        for path in r.paths:
            print(f"  {path}")
    return EXIT_OK


# --- field side ----------------------------------------------------------------------------------


def _client(ctx: Ctx, ws: Any) -> Any:
    from dataclasses import replace

    from nap_desktop.services.link import check_server_url, get_settings
    from nap_desktop.sync.client import SyncClient

    a = ctx.args
    s = get_settings(ws)
    if a.server:
        s = replace(s, server_url=check_server_url(a.server))
    if a.ca_file:
        s = replace(s, ca_file=a.ca_file)
    return SyncClient(ws, s)


def _print_report(ctx: Ctx, r: Any) -> int:
    if ctx.args.json:
        ctx.out(r)
        return EXIT_OK
    print(r.line())
    for name, why in r.refused:
        print(f"error: {name}: {why}", file=sys.stderr)
    for bid, note in r.rejected:
        print(f"error: HQ rejected bundle {bid[:8]}: {note}", file=sys.stderr)
    for bid, note in r.held:
        print(f"HQ holds bundle {bid[:8]}: {note}")
    for p in r.problems:
        print(f"error: {p}", file=sys.stderr)
    return EXIT_USER if (r.refused or r.rejected or r.problems) else EXIT_OK


def cmd_sync_push(ctx: Ctx) -> int:
    """Export the changes (if any) and send every pending bundle to HQ's server."""
    with ctx.open() as ws:
        r = _client(ctx, ws).sync_once(push=True, pull=False)
    return _print_report(ctx, r)


def cmd_sync_pull(ctx: Ctx) -> int:
    """Fetch HQ's receipts and key registry updates from its server and import them."""
    with ctx.open() as ws:
        r = _client(ctx, ws).sync_once(push=False, pull=True, export=False)
    return _print_report(ctx, r)


def cmd_sync_check(ctx: Ctx) -> int:
    """Ask HQ's server whether it answers and accepts this device, with the saved link settings or the ones given."""
    from dataclasses import replace

    from nap_desktop.services.link import check_credentials, get_settings
    from nap_desktop.sync.client import check_connection

    a = ctx.args
    with ctx.open() as ws:
        s = get_settings(ws)
        creds = check_credentials(ws)
    given = {"server_url": a.server, "proxy": a.proxy, "ca_file": a.ca_file}
    s = replace(s, **{k: v for k, v in given.items() if v is not None})
    if not s.server_url:
        print("error: no HQ server is set: give --server URL, or set it with `nap-desktop sync link --server URL`.", file=sys.stderr)
        return EXIT_USER
    r = check_connection(s, creds=creds)
    if ctx.args.json:
        ctx.out(r)
    else:
        print(f"{'ok' if r.ok else 'error'}: {r.message}", file=sys.stdout if r.ok else sys.stderr)
    return EXIT_OK if r.ok else EXIT_USER


def cmd_sync_link(ctx: Ctx) -> int:
    """Show or set how this workspace reaches HQ's server (address, proxy, CA file, schedule)."""
    from dataclasses import asdict

    from nap_desktop.services.field_config import managed
    from nap_desktop.services.link import get_settings, set_settings

    a = ctx.args
    changes: dict[str, Any] = {"server_url": a.server, "proxy": a.proxy, "ca_file": a.ca_file, "interval_minutes": a.interval_minutes}
    if a.auto is not None:
        changes["auto"] = a.auto == "on"
    with ctx.open() as ws:
        s = set_settings(ws, **changes) if any(v is not None for v in changes.values()) else get_settings(ws)
        hq = managed(ws)
        by_hq = {local: hq[name] for local, name in (("server_url", "server_url"), ("interval_minutes", "sync_interval_minutes")) if name in hq}
    if ctx.args.json:
        ctx.out({**asdict(s), "set_by_hq": by_hq})
        return EXIT_OK
    ctx.out(s)
    for local, version in by_hq.items():
        print(f"{local} is set by HQ (field settings version {version}): ask HQ to change it.")
    return EXIT_OK


def cmd_sync_auto(ctx: Ctx) -> int:
    """Sync automatically until Ctrl+C: whenever HQ is reachable (backoff while it is not)."""
    from nap_desktop.sync.client import AutoSync

    def show(st: Any) -> None:
        nxt = f" (next in {st.next_attempt_in_s:.0f} s)" if st.next_attempt_in_s else ""
        print(f"[{time.strftime('%H:%M:%S')}] {st.state}: {st.message}{nxt}", flush=True)

    with ctx.open() as ws:
        auto = AutoSync(ws, on_change=show)
        auto.trigger()
        auto.start()
        try:
            while auto.running:
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            auto.stop()
    return EXIT_OK


def register(sub: Any, add: Callable[..., Any]) -> None:
    """Adds ``hq …`` and ``sync push|pull|link|auto`` to the top-level parser."""
    hq = _group(sub, "hq", "HQ: intake server and inbox")
    sp = add("serve", cmd_hq_serve, "run the HTTPS intake server", hq)
    sp.add_argument("--listen", metavar="HOST:PORT", help="address to listen on (default: the saved setting, else 127.0.0.1:8443)")
    sp.add_argument("--tls-cert", metavar="PEM", help="TLS certificate (chain) file")
    sp.add_argument("--tls-key", metavar="PEM", help="TLS private key file")
    sp.add_argument("--inbox", metavar="DIR", help="intake folder (default: inbox/intake of the workspace; may be shared by several servers)")
    sp.add_argument("--no-importer", action="store_true", help="only receive; another process runs `hq import-inbox --watch`")
    sp.add_argument("--max-bundle-mb", type=int, help="largest bundle accepted (default 512)")
    sp.add_argument("--header-timeout", type=float, default=15.0, metavar="S", help="seconds for a request's headers (default 15)")
    sp.add_argument("--read-timeout", type=float, default=30.0, metavar="S", help="seconds between two parts of a body (default 30)")
    sp.add_argument("--upload-deadline", type=float, default=900.0, metavar="S", help="seconds for a whole upload (default 900)")
    sp.add_argument("--max-uploads", type=int, default=32, help="uploads at once (default 32)")
    sp.add_argument("--import-interval", type=float, default=10.0, metavar="S", help="seconds between importer passes (default 10)")
    sp = add("import-inbox", cmd_hq_import_inbox, "import the bundles in the intake inbox", hq)
    sp.add_argument("--inbox", metavar="DIR", help="intake folder (default: inbox/intake of the workspace)")
    sp.add_argument("--watch", action="store_true", help="keep importing until Ctrl+C")
    sp.add_argument("--interval", type=float, default=10.0, metavar="S")
    sp.add_argument("--no-receipts", action="store_true", help="do not leave receipt files in outbox/ (devices pick them up from the server)")
    sp = add("config", cmd_hq_config, "show or set the intake server's defaults", hq)
    sp.add_argument("--listen", metavar="HOST:PORT")
    sp.add_argument("--tls-cert", metavar="PEM")
    sp.add_argument("--tls-key", metavar="PEM")
    sp.add_argument("--inbox", metavar="DIR")
    sp.add_argument("--max-bundle-mb", type=int)
    sp = add("status", cmd_hq_status, "show the intake inbox", hq)
    sp.add_argument("--inbox", metavar="DIR")
    fc = hq.add_parser("field-config", help="settings HQ decides for field devices (config bundles)").add_subparsers(
        dest="sub2", required=True, metavar="SUB"
    )
    add("show", cmd_hq_field_config_show, "show the draft and the version last published", fc)
    sp = add("set", cmd_hq_field_config_set, "change the draft", fc)
    sp.add_argument("--retention-days", type=int, metavar="N", help="days personal data stays on a device after HQ acknowledged it (7-3650)")
    sp.add_argument("--idle-lock-minutes", type=int, metavar="N", help="minutes without input before a device locks (1-120)")
    sp.add_argument("--server", metavar="URL", help="HQ's intake server, https://hq.example:8443")
    sp.add_argument("--sync-interval-minutes", type=int, metavar="N", help="how often devices look for HQ (1-1440)")
    sp.add_argument(
        "--clear", action="append", metavar="NAME", choices=["retention_days", "idle_lock_minutes", "server_url", "sync_interval_minutes"],
        help="leave this setting to each device again (repeatable)",
    )
    sp = add("publish", cmd_hq_field_config_publish, "publish the draft and write a config bundle for every device", fc)
    sp.add_argument("--out", metavar="DIR", help="folder for the bundles (default: outbox/ of the workspace)")

    sy = _group(sub, "sync", "sync bundles")
    for name, fn, help_ in (
        ("push", cmd_sync_push, "export changes and send pending bundles to HQ's server"),
        ("pull", cmd_sync_pull, "fetch and import HQ's receipts and registry updates"),
    ):
        sp = add(name, fn, help_, sy)
        sp.add_argument("--server", metavar="URL", help="HQ's server (default: the saved link setting)")
        sp.add_argument("--ca-file", metavar="PEM", help="CA certificate that signed HQ's server certificate")
    sp = add("check", cmd_sync_check, "ask HQ's server whether it answers (nothing is sent)", sy)
    sp.add_argument("--server", metavar="URL", help="HQ's server (default: the saved link setting)")
    sp.add_argument("--proxy", metavar="URL", help="HTTP proxy to try ('' for none; default: the saved one)")
    sp.add_argument("--ca-file", metavar="PEM", help="CA certificate of HQ's server (default: the saved one)")
    sp = add("link", cmd_sync_link, "show or set how to reach HQ's server", sy)
    sp.add_argument("--server", metavar="URL", help="https://hq.example:8443 ('' clears it)")
    sp.add_argument("--proxy", metavar="URL", help="HTTP proxy, e.g. http://proxy:3128 ('' clears it)")
    sp.add_argument("--ca-file", metavar="PEM", help="CA certificate of HQ's server ('' clears it)")
    sp.add_argument("--interval-minutes", type=int, help="how often to look for HQ when all is well (default 15)")
    sp.add_argument("--auto", choices=["on", "off"], help="sync automatically when HQ is reachable")
    add("auto", cmd_sync_auto, "sync automatically until Ctrl+C", sy)
