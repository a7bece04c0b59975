# SPDX-License-Identifier: GPL-3.0-or-later
"""The audit chain: an honest log verifies; each kind of tampering with the store (edit, delete,
reorder, insert) is reported, naming the first bad entry, by the service and by
``nap-desktop audit verify`` (exit 1, "BROKEN at entry N"). Details refuse free text."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, func, select, text

from nap_desktop.data.db import KeyHolder, make_engine
from nap_desktop.data.models import AuditEntry
from nap_desktop.security import audit, keyfile
from nap_desktop.services import audit_log, units, users
from nap_desktop.services import workspace as wsvc
from tests.conftest import ADMIN, ADMIN_PW, FAST_KDF, PASSWORDS


def _cli(path: Path, *args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nap_desktop", *args, "--workspace", str(path), "--password-stdin"],
        input=stdin,
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=120,
        check=False,
    )


def _raw(path: Path) -> tuple[Engine, KeyHolder]:
    wf = keyfile.load(path / "workspace.json")
    dek = keyfile.unwrap_dek(wf, ADMIN, ADMIN_PW)
    return make_engine(path / "store.db", dek)


def _tamper(path: Path, sql: Callable[[Connection, int], None]) -> None:
    """Edits the store the way someone with SQL tools and the key would, without the services."""
    engine, holder = _raw(path)
    try:
        with engine.begin() as conn:
            last = conn.execute(text("SELECT max(seq) FROM audit_log")).scalar()
            sql(conn, last)
    finally:
        engine.dispose()
        holder.drop()


@pytest.fixture(scope="module")
def _logged_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """A workspace with a dozen honest entries, made once per module (copied for each test)."""
    workspace = tmp_path_factory.mktemp("audit-template") / "ws"
    wsvc.init_workspace(workspace, site_kind="circle", unit="C-PSH", admin=ADMIN, admin_password=ADMIN_PW, kdf=FAST_KDF)
    with wsvc.unlocked(workspace, ADMIN, ADMIN_PW) as ws:
        for n in range(4):
            units.add_unit(
                ws, code=f"P-AUD-{n}", kind="post", parent="C-PSH", name_en=f"Post {n}", name_ur="چوکی", province="kp", post_type="airport"
            )
        users.add_user(ws, username="aud.psh", full_name="Audit Person", role="auditor", unit="C-PSH", password=PASSWORDS["auditor"])
        users.add_user(ws, username="off.torkham", full_name="Post Officer", role="officer", unit="P-TORKHAM", password=PASSWORDS["officer"])
        with ws.sf() as s:
            count = s.scalar(select(func.count()).select_from(AuditEntry))
    assert count is not None and count >= 8
    return workspace, count


@pytest.fixture
def logged(_logged_template: tuple[Path, int], tmp_path: Path) -> tuple[Path, int]:
    """A private copy of the logged workspace and its number of entries."""
    template, count = _logged_template
    path = tmp_path / "logged"
    shutil.copytree(template, path)
    return path, count


# --- honest log ----------------------------------------------------------------------------------


def test_honest_log_verifies_with_its_count(logged: tuple[Path, int]) -> None:
    path, _ = logged
    with wsvc.unlocked(path, ADMIN, ADMIN_PW) as ws:
        with ws.sf() as s:
            n = s.scalar(select(func.count()).select_from(AuditEntry))
        result = audit_log.verify_audit(ws)
        assert (result.ok, result.entries, result.first_bad_seq) == (True, n, None)
        again = audit_log.verify_audit(ws)  # the first check was itself audited, and verifies
        assert (again.ok, again.entries) == (True, n + 1)
    done = _cli(path, "audit", "verify", "--user", ADMIN, stdin=ADMIN_PW + "\n")
    assert done.returncode == 0, done.stderr
    # the CLI's own unlock and the two verifications above are entries too
    assert done.stdout.strip() == f"Audit chain intact: {n + 3} entries verified."
    assert done.stderr == ""


def test_hash_follows_the_documented_formula(logged: tuple[Path, int]) -> None:
    """hash = SHA-256(prev_hash || canonical entry); entry 1 chains to the workspace's genesis."""
    path, n = logged
    wf = keyfile.load(path / "workspace.json")
    engine, holder = _raw(path)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT seq, at, actor, action, object_type, object_id, unit, detail, prev_hash, hash FROM audit_log ORDER BY seq")
            ).all()
            head = conn.execute(text("SELECT value FROM meta WHERE key = 'audit_head'")).scalar()
    finally:
        engine.dispose()
        holder.drop()
    prev = hashlib.sha256(f"nap-audit-genesis|{wf.workspace_id}".encode()).hexdigest()
    assert [r.seq for r in rows] == list(range(1, n + 1))
    assert rows[0].action == "workspace.created"
    for r in rows:
        canonical = json.dumps(list(r[:8]), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert r.prev_hash == prev
        assert r.hash == hashlib.sha256(prev.encode() + canonical.encode()).hexdigest()
        prev = r.hash
    assert head == f"{n}:{prev}"


# --- tampering -----------------------------------------------------------------------------------


def _swap_seq(a: int, b: int) -> Callable[[Connection, int], None]:
    def go(conn: Connection, last: int) -> None:
        conn.execute(text("UPDATE audit_log SET seq = -1 WHERE seq = :a"), {"a": a})
        conn.execute(text("UPDATE audit_log SET seq = :a WHERE seq = :b"), {"a": a, "b": b})
        conn.execute(text("UPDATE audit_log SET seq = :b WHERE seq = -1"), {"b": b})

    return go


def _insert_middle(at: int) -> Callable[[Connection, int], None]:
    """Shifts entries ``at``… up by one, forges ``at``, and even moves the head count along."""

    def go(conn: Connection, last: int) -> None:
        for seq in range(last, at - 1, -1):
            conn.execute(text("UPDATE audit_log SET seq = seq + 1 WHERE seq = :s"), {"s": seq})
        prev, real = conn.execute(text("SELECT prev_hash, hash FROM audit_log WHERE seq = :s"), {"s": at + 1}).one()
        conn.execute(
            text(
                "INSERT INTO audit_log (seq, at, actor, action, object_type, object_id, unit, detail, prev_hash, hash) "
                "VALUES (:s, '2026-01-01T00:00:00.000+00:00', 'admin', 'user.password_reset', 'user', 'off.torkham', "
                "'C-PSH', '{}', :prev, :hash)"
            ),
            {"s": at, "prev": prev, "hash": hashlib.sha256(b"forged").hexdigest()},
        )
        head = conn.execute(text("SELECT value FROM meta WHERE key = 'audit_head'")).scalar()
        _, head_hash = head.split(":", 1)
        conn.execute(text("UPDATE meta SET value = :v WHERE key = 'audit_head'"), {"v": f"{last + 1}:{head_hash}"})

    return go


def _append_forged(conn: Connection, last: int) -> None:
    """A forged entry after the newest one; the chain head record is left alone."""
    prev = conn.execute(text("SELECT hash FROM audit_log WHERE seq = :s"), {"s": last}).scalar()
    conn.execute(
        text(
            "INSERT INTO audit_log (seq, at, actor, action, object_type, object_id, unit, detail, prev_hash, hash) "
            "VALUES (:s, '2026-01-01T00:00:00.000+00:00', 'admin', 'user.password_reset', 'user', 'off.torkham', 'C-PSH', "
            "'{}', :prev, :hash)"
        ),
        {"s": last + 1, "prev": prev, "hash": hashlib.sha256(b"forged").hexdigest()},
    )


# (id, tampering, first bad seq as a function of the number of honest entries N, check the CLI too)
# The CLI is run for one case of each kind (edit, delete, delete at the end, reorder, insert).
TAMPERING: list[tuple[str, Callable[[Connection, int], None], Callable[[int], int], bool]] = [
    ("edit-detail", lambda c, n: c.execute(text("""UPDATE audit_log SET detail = '{"kind":"zone"}' WHERE seq = 3""")), lambda n: 3, True),
    ("edit-actor", lambda c, n: c.execute(text("UPDATE audit_log SET actor = 'someone' WHERE seq = 4")), lambda n: 4, False),
    ("edit-action", lambda c, n: c.execute(text("UPDATE audit_log SET action = 'unit.viewed' WHERE seq = 2")), lambda n: 2, False),
    ("edit-time", lambda c, n: c.execute(text("UPDATE audit_log SET at = '2020-01-01T00:00:00.000+00:00' WHERE seq = 5")), lambda n: 5, False),
    ("edit-hash", lambda c, n: c.execute(text("UPDATE audit_log SET hash = :h WHERE seq = 3"), {"h": "0" * 64}), lambda n: 3, False),
    ("edit-newest", lambda c, n: c.execute(text("UPDATE audit_log SET object_id = 'x' WHERE seq = :s"), {"s": n}), lambda n: n, False),
    ("delete-middle", lambda c, n: c.execute(text("DELETE FROM audit_log WHERE seq = 3")), lambda n: 3, True),
    ("delete-first", lambda c, n: c.execute(text("DELETE FROM audit_log WHERE seq = 1")), lambda n: 1, False),
    ("delete-last", lambda c, n: c.execute(text("DELETE FROM audit_log WHERE seq = :s"), {"s": n}), lambda n: n, True),
    ("delete-last-two", lambda c, n: c.execute(text("DELETE FROM audit_log WHERE seq >= :s"), {"s": n - 1}), lambda n: n - 1, False),
    ("reorder", _swap_seq(3, 4), lambda n: 3, True),
    ("insert-middle", _insert_middle(3), lambda n: 3, True),
    ("insert-after-newest", _append_forged, lambda n: n + 1, True),
    (
        "delete-everything",
        lambda c, n: (c.execute(text("DELETE FROM audit_log")), c.execute(text("DELETE FROM meta WHERE key = 'audit_head'"))),
        lambda n: 1,
        False,
    ),
]


@pytest.mark.parametrize(
    ("tamper", "first_bad", "via_cli"), [(t, f, c) for _, t, f, c in TAMPERING], ids=[i for i, _, _, _ in TAMPERING]
)
def test_tampering_is_reported_at_the_first_bad_entry(
    logged: tuple[Path, int], tamper: Callable[[Connection, int], None], first_bad: Callable[[int], int], via_cli: bool
) -> None:
    path, n = logged
    _tamper(path, tamper)
    expected = first_bad(n)

    if via_cli:
        done = _cli(path, "audit", "verify", "--user", ADMIN, stdin=ADMIN_PW + "\n")
        assert done.returncode == 1, (done.stdout, done.stderr)
        lines = done.stderr.splitlines()
        assert len(lines) == 1, done.stderr
        assert lines[0].startswith(f"error: audit chain BROKEN at entry {expected}:"), lines[0]
        assert "Traceback" not in done.stderr
        assert done.stdout == ""

    with wsvc.unlocked(path, ADMIN, ADMIN_PW) as ws:
        result = audit_log.verify_audit(ws)
        assert result.ok is False
        assert result.first_bad_seq == expected, result.problem
        assert result.problem
        # A broken chain does not get an "audit.verified" entry that would muddle the report.
        with ws.sf() as s:
            assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "audit.verified")) == 0
    # The auditor sees the same.
    with wsvc.unlocked(path, "aud.psh", PASSWORDS["auditor"]) as ws:
        assert audit_log.verify_audit(ws).first_bad_seq == expected


# --- details hold codes only ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("detail", "error"),
    [
        ({"name": "Zainab Bibi"}, ValueError),
        ({"note": "x" * 65}, ValueError),
        ({"note": "line\nbreak"}, ValueError),
        ({"names": ["a", "b"]}, TypeError),
        ({"when": 1.5}, TypeError),
    ],
    ids=["space", "too-long", "newline", "list", "float"],
)
def test_audit_details_refuse_free_text(admin_ws: wsvc.Workspace, detail: dict[str, object], error: type[Exception]) -> None:
    ws = admin_ws
    with ws.sf() as s:
        before = s.scalar(select(func.count()).select_from(AuditEntry))
    with pytest.raises(error, match="audit detail"):
        with ws.sf.begin() as s:
            audit.append(s, workspace_id=ws.workspace_id, actor=ADMIN, action="test.free_text", detail=detail)  # type: ignore[arg-type]
    with ws.sf() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == before
    assert audit_log.verify_audit(ws).ok


def test_audit_details_accept_codes_numbers_and_flags(admin_ws: wsvc.Workspace) -> None:
    ws = admin_ws
    with ws.sf.begin() as s:
        e = audit.append(
            s, workspace_id=ws.workspace_id, actor=ADMIN, action="test.codes", detail={"unit": "P-TORKHAM", "n": 3, "ok": True, "x": None}
        )
        assert json.loads(e.detail) == {"n": 3, "ok": True, "unit": "P-TORKHAM", "x": None}
    assert audit_log.verify_audit(ws).ok
