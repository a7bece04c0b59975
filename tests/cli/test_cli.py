# SPDX-License-Identifier: GPL-3.0-or-later
"""The headless CLI, run as a user would: ``python -m nap_desktop …`` in a subprocess.

Exit codes: 0 ok; 1 a user error, with exactly one line on stderr starting "error:"; 2 usage.
Passwords come from stdin (``--password-stdin``), never from arguments. No traceback, ever."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from nap_desktop.data.migrate import head_revision
from nap_desktop.errors import AccountDisabled, WrongPassword
from nap_desktop.security import keyfile
from nap_desktop.services import users
from nap_desktop.services import workspace as wsvc
from nap_desktop.security.crypto import generate_age_keypair
from tests.conftest import ADMIN, ADMIN_PW, PASSWORDS

OFFICER = "off.torkham"
NEW_PW = "Fresh-Secret-77#"
NEWER_PW = "Another-Secret-88$"


def nap(*args: str, stdin: str = "", env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "nap_desktop", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env if env is not None else dict(os.environ),
        cwd=cwd,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, (done.args, done.stdout, done.stderr)
    return done.stdout


def user_error(done: subprocess.CompletedProcess[str], *fragments: str) -> str:
    """Exit 1 with exactly one line on stderr, starting "error:"."""
    assert done.returncode == 1, (done.args, done.stdout, done.stderr)
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def usage_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, (done.args, done.stdout, done.stderr)
    assert "usage:" in done.stderr
    return done.stderr


def W(path: Path, *more: str) -> list[str]:
    return ["--workspace", str(path), "--password-stdin", *more]


# --- init and info -------------------------------------------------------------------------------


def test_init_then_info_as_json(tmp_path: Path) -> None:
    """The one CLI test on the production KDF."""
    path = tmp_path / "new-ws"
    out = ok(nap("init", *W(path), "--site-kind", "circle", "--unit", "C-PSH", "--admin", ADMIN, "--admin-name", "Circle Admin", stdin=ADMIN_PW + "\n"))
    assert out.strip() == f"Workspace created in {path} (circle C-PSH); administrator: {ADMIN}."
    assert keyfile.load(path / "workspace.json").kdf.memory_cost == 32 * 1024
    done = nap("workspace", "info", "--json", *W(path), stdin=ADMIN_PW + "\n")
    info = json.loads(ok(done))
    assert (info["site_kind"], info["unit"], info["user"], info["role"]) == ("circle", "C-PSH", ADMIN, "admin")
    assert info["users"] == 1 and info["units"] > 20 and info["audit_entries"] >= 2
    assert info["recovery_set"] is False and info["schema"] == head_revision()
    assert info["workspace_id"] == keyfile.load(path / "workspace.json").workspace_id
    # A workspace without a recovery key says so, plainly, on every info.
    assert done.stderr.startswith("warning: No recovery key is set")


@pytest.mark.parametrize(
    ("args", "stdin", "fragment"),
    [
        (["--site-kind", "circle", "--unit", "C-NOWHERE", "--admin", ADMIN], ADMIN_PW, "C-NOWHERE"),
        (["--site-kind", "circle", "--unit", "C-PSH", "--admin", ADMIN], "short", "too weak"),
    ],
    ids=["unknown-unit", "weak-password"],
)
def test_init_user_errors_create_nothing(tmp_path: Path, args: list[str], stdin: str, fragment: str) -> None:
    path = tmp_path / "never"
    user_error(nap("init", *W(path), *args, stdin=stdin + "\n" if stdin else ""), fragment)
    assert not path.exists()


# --- users ---------------------------------------------------------------------------------------


def test_user_add_list_passwd_disable(workspace: Path) -> None:
    pw = ADMIN_PW + "\n"
    out = ok(nap("user", "add", OFFICER, "--role", "officer", "--full-name", "Post Officer", "--unit", "P-TORKHAM", *W(workspace), stdin=pw + PASSWORDS["officer"] + "\n"))
    assert out.strip().startswith(f"Added {OFFICER} (officer, P-TORKHAM)")
    rows = [line.split() for line in ok(nap("user", "list", "--user", ADMIN, *W(workspace), stdin=pw)).splitlines()]
    assert [ADMIN, "admin", "C-PSH", "active"] in rows and [OFFICER, "officer", "P-TORKHAM", "active"] in rows

    # The admin sets the officer's password; the officer signs in with it and changes it.
    out = ok(nap("user", "passwd", OFFICER, "--user", ADMIN, *W(workspace), stdin=pw + NEW_PW + "\n"))
    assert out.strip() == f"Password of {OFFICER} set; they must change it at next sign-in."
    out = ok(nap("user", "passwd", "--user", OFFICER, *W(workspace), stdin=f"{NEW_PW}\n{NEW_PW}\n{NEWER_PW}\n"))
    assert out.strip() == "Password changed."
    with pytest.raises(WrongPassword):
        wsvc.open_workspace(workspace, OFFICER, NEW_PW)
    wsvc.open_workspace(workspace, OFFICER, NEWER_PW).lock()

    out = ok(nap("user", "disable", OFFICER, "--user", ADMIN, *W(workspace), stdin=pw))
    assert out.splitlines()[0] == f"{OFFICER} is disabled and can no longer unlock this workspace."
    assert "nap-desktop rekey" in out  # the hint for a person who may have kept a copy
    with pytest.raises(AccountDisabled):
        wsvc.open_workspace(workspace, OFFICER, NEWER_PW)


# --- units, audit, db, rekey, recovery -----------------------------------------------------------


def test_unit_list_and_add(workspace: Path) -> None:
    pw = ADMIN_PW + "\n"
    out = ok(
        nap("unit", "add", "P-CLI-NEW", "--kind", "post", "--parent", "C-PSH", "--name-en", "New Post", "--name-ur", "نئی چوکی",
            "--province", "kp", "--post-type", "airport", *W(workspace), stdin=pw)
    )
    assert out.strip() == "Added unit P-CLI-NEW (post) under C-PSH."
    listed = json.loads(ok(nap("unit", "list", "--under", "C-PSH", "--kind", "post", "--json", *W(workspace), stdin=pw)))
    assert {"P-TORKHAM", "P-CLI-NEW"} <= {u["code"] for u in listed}
    assert all(u["kind"] == "post" and u["parent_code"] == "C-PSH" for u in listed)
    assert next(u for u in listed if u["code"] == "P-CLI-NEW")["name_ur"] == "نئی چوکی"


def test_audit_verify_and_list(workspace: Path) -> None:
    pw = ADMIN_PW + "\n"
    with wsvc.unlocked(workspace, ADMIN, ADMIN_PW) as ws:
        users.add_user(ws, username="aud.psh", full_name="Audit Person", role="auditor", unit="C-PSH", password=PASSWORDS["auditor"])
    out = ok(nap("audit", "verify", "--user", ADMIN, *W(workspace), stdin=pw))
    assert out.startswith("Audit chain intact:") and "entries verified" in out
    user_error(nap("audit", "list", "--user", ADMIN, *W(workspace), stdin=pw), "does not allow", "audit.read")
    rows = [line.split() for line in ok(nap("audit", "list", "--user", "aud.psh", *W(workspace), stdin=PASSWORDS["auditor"] + "\n")).splitlines()]
    actions = [r[3] for r in rows]
    assert {"workspace.created", "user.added", "audit.verified", "permission.denied"} <= set(actions)
    seqs = [int(r[0]) for r in rows]
    assert seqs == sorted(seqs, reverse=True)  # newest first


def test_db_upgrade_and_rekey(workspace: Path) -> None:
    pw = ADMIN_PW + "\n"
    out = ok(nap("db", "upgrade", *W(workspace), stdin=pw))
    assert out.strip() == f"Schema is at {head_revision()} (already current)."
    before = keyfile.unwrap_dek(keyfile.load(workspace / "workspace.json"), ADMIN, ADMIN_PW)
    assert ok(nap("rekey", *W(workspace), stdin=pw)).strip() == "The data key was rotated. Every user keeps their password."
    after = keyfile.unwrap_dek(keyfile.load(workspace / "workspace.json"), ADMIN, ADMIN_PW)
    assert after != before
    with wsvc.unlocked(workspace, ADMIN, ADMIN_PW) as ws:
        assert ws.dek == after


def test_recovery_set_and_recover(workspace: Path, tmp_path: Path) -> None:
    pw = ADMIN_PW + "\n"
    pair = generate_age_keypair()
    user_error(nap("recovery", "set", "age1garbage", *W(workspace), stdin=pw), "age1")
    ok(nap("recovery", "set", pair.recipient, *W(workspace), stdin=pw))
    assert keyfile.load(workspace / "workspace.json").recovery is not None

    # The password is "lost": HQ's identity restores access with a new one.
    ident = tmp_path / "hq-identity.txt"
    ident.write_text(pair.identity + "\n", "ascii")
    out = ok(nap("recover", "--identity", str(ident), "--user", ADMIN, *W(workspace), stdin=NEW_PW + "\n"))
    assert out.strip() == f"Access recovered: {ADMIN} can sign in with the new password."
    with pytest.raises(WrongPassword):
        wsvc.open_workspace(workspace, ADMIN, ADMIN_PW)
    with wsvc.unlocked(workspace, ADMIN, NEW_PW) as ws:
        assert wsvc.workspace_info(ws).recovery_set is True


# --- errors and usage ----------------------------------------------------------------------------


def test_wrong_password_is_one_line_exit_1(workspace: Path) -> None:
    line = user_error(nap("workspace", "info", *W(workspace), stdin="Wrong-Password-11!\n"))
    assert line == "error: The user name or password is wrong."


def test_missing_workspace_is_one_line_exit_1(tmp_path: Path) -> None:
    user_error(nap("workspace", "info", *W(tmp_path / "nothing-here"), stdin=ADMIN_PW + "\n"), "No workspace")
    assert not (tmp_path / "nothing-here").exists()


def test_nap_workspace_selects_the_workspace(workspace: Path) -> None:
    env = dict(os.environ, NAP_WORKSPACE=str(workspace))
    info = json.loads(ok(nap("workspace", "info", "--json", "--password-stdin", stdin=ADMIN_PW + "\n", env=env)))
    assert Path(info["path"]) == workspace.resolve()



@pytest.mark.parametrize(
    "args",
    [
        ["frobnicate"],
        [],
        ["user"],
        ["user", "add", "--role", "officer", "--full-name", "X"],  # missing NAME
        ["user", "add", "x.y", "--role", "king", "--full-name", "X"],
        ["init", "--site-kind", "circle", "--admin", ADMIN],  # missing --unit
        ["init", "--site-kind", "moon", "--unit", "C-PSH", "--admin", ADMIN],
        ["unit", "add", "P-X", "--kind", "post"],  # missing --parent and names
        ["audit", "list", "--limit", "many"],
        ["recover"],  # missing --identity
    ],
    ids=["unknown-command", "no-command", "no-subcommand", "missing-name", "bad-role", "missing-unit", "bad-site-kind",
         "missing-parent", "bad-limit", "missing-identity"],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str]) -> None:
    usage_error(nap(*args, "--workspace", str(tmp_path / "w")) if args else nap())
    assert not (tmp_path / "w").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["init", "--site-kind", "circle", "--unit", "C-PSH", "--admin", ADMIN, "--password", ADMIN_PW],
        ["workspace", "info", "--password", ADMIN_PW],
        ["user", "add", "x.y", "--role", "officer", "--full-name", "X", "--password", ADMIN_PW],
        ["user", "passwd", "--password", ADMIN_PW],
    ],
    ids=["init", "info", "user-add", "passwd"],
)
def test_passwords_are_never_accepted_as_arguments(tmp_path: Path, args: list[str]) -> None:
    """There is no --password option, nor may "--password" pass as an abbreviation of --password-stdin."""
    usage_error(nap(*args, "--workspace", str(tmp_path / "w")))
    assert not (tmp_path / "w").exists()


def test_a_password_given_as_an_argument_is_not_printed_back(tmp_path: Path) -> None:
    done = nap("workspace", "info", "--password", ADMIN_PW, "--workspace", str(tmp_path))
    assert done.returncode == 2
    assert ADMIN_PW not in done.stderr + done.stdout


def test_help_and_version_exit_0() -> None:
    assert "init" in ok(nap("--help"))
    assert ok(nap("version")).startswith("nap-desktop ")
