# SPDX-License-Identifier: GPL-3.0-or-later
"""``workspace.json``: shape validation, the MAC over the whole file, the binding of each sealed
identity to its user name, the recovery escrow, and the password strength rules."""

from __future__ import annotations

import json
from dataclasses import replace
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nap_desktop.errors import RecoveryError, WeakPassword, WorkspaceCorrupt, WrongPassword
from nap_desktop.security import crypto, keyfile
from nap_desktop.security.passwords import check_password_strength, password_problems, strength_score
from nap_desktop.services import users
from nap_desktop.services import workspace as wsvc
from tests.conftest import ADMIN, ADMIN_PW, FAST_KDF, PASSWORDS

OFFICER = "off.torkham"
CANARY = "CANARY-kf-Zainab-Bibi"


def _new_wf_with_users(dek: bytearray, names: dict[str, str]) -> keyfile.WorkspaceFile:
    wf = keyfile.new_workspace_file(site_kind="circle", unit="C-PSH", kdf=FAST_KDF)
    return replace(wf, users={n: keyfile.make_user_wrap(wf, n, pw, dek) for n, pw in names.items()})


@pytest.fixture
def saved(tmp_path: Path) -> tuple[Path, bytearray]:
    dek = crypto.random_key()
    wf = _new_wf_with_users(dek, {ADMIN: ADMIN_PW, OFFICER: PASSWORDS["officer"]})
    wf = replace_recovery(wf, dek)
    path = tmp_path / "workspace.json"
    keyfile.save(path, wf, dek)
    return path, dek


def replace_recovery(wf: keyfile.WorkspaceFile, dek: bytearray) -> keyfile.WorkspaceFile:
    return replace(wf, recovery=keyfile.make_recovery(wf.workspace_id, dek, crypto.generate_age_keypair().recipient))


def _edit(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    data = json.loads(path.read_text("utf-8"))
    change(data)
    path.write_text(json.dumps(data), "utf-8")


# --- round trip ----------------------------------------------------------------------------------


def test_round_trip_keeps_every_field_and_the_key(saved: tuple[Path, bytearray]) -> None:
    path, dek = saved
    wf = keyfile.load(path)
    wf.verify(dek)
    again = keyfile.load(path)
    assert again == wf
    assert again.to_bytes() == path.read_bytes()
    assert set(wf.users) == {ADMIN, OFFICER}
    assert keyfile.unwrap_dek(wf, ADMIN, ADMIN_PW) == dek
    assert keyfile.unwrap_dek(wf, OFFICER, PASSWORDS["officer"]) == dek
    assert wf.recovery is not None
    # The file holds no key or password in clear.
    raw = path.read_bytes()
    assert bytes(dek).hex().encode() not in raw and bytes(dek) not in raw
    assert ADMIN_PW.encode() not in raw


def test_wrong_password_and_unknown_user_give_the_same_error(saved: tuple[Path, bytearray]) -> None:
    wf = keyfile.load(saved[0])
    with pytest.raises(WrongPassword) as a:
        keyfile.unwrap_dek(wf, ADMIN, "Wrong-Password-11!")
    with pytest.raises(WrongPassword) as b:
        keyfile.unwrap_dek(wf, "nobody.here", ADMIN_PW)
    assert str(a.value) == str(b.value) == "The user name or password is wrong."


# --- shape validation ----------------------------------------------------------------------------


def _first_user(d: dict[str, Any]) -> dict[str, Any]:
    return d["users"][ADMIN]


SHAPE_CASES: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("unknown top field", lambda d: d.update(evil=1), "unknown field 'evil'"),
    ("unknown user field", lambda d: _first_user(d).update(extra="x"), "bad entry for user"),
    ("missing user field", lambda d: _first_user(d).pop("salt"), "bad entry for user"),
    ("missing top field", lambda d: d.pop("recovery"), "recovery"),
    ("bad base64 salt", lambda d: _first_user(d).update(salt="not base64!!"), "bad salt"),
    ("bad base64 identity", lambda d: _first_user(d).update(identity="@@@@"), "bad identity"),
    ("bad base64 escrow", lambda d: d["recovery"].update(escrow="%%%"), "bad escrow"),
    ("kdf memory too small", lambda d: d["kdf"].update(m=1024), "KDF parameters out of range"),
    ("kdf memory absurd", lambda d: _first_user(d)["kdf"].update(m=1 << 40), "KDF parameters out of range"),
    ("kdf iterations as text", lambda d: d["kdf"].update(t="3"), "bad KDF parameters"),
    ("kdf lanes as bool", lambda d: d["kdf"].update(p=True), "bad KDF parameters"),
    ("kdf unknown algorithm", lambda d: d["kdf"].update(alg="pbkdf2"), "unsupported KDF"),
    ("user in users and disabled", lambda d: d.update(disabled=[ADMIN]), "disabled user still has a key entry"),
    ("bad user name", lambda d: d["users"].update({"Bad Name": d["users"][ADMIN]}), "bad user name"),
    ("bad disabled entry", lambda d: d.update(disabled=[5]), "bad disabled list"),
    ("bad site kind", lambda d: d.update(site_kind=CANARY), "bad site_kind"),
    ("bad workspace id", lambda d: d.update(workspace_id="1234"), "bad workspace_id"),
    ("bad mac", lambda d: d.update(mac="zz"), "bad mac"),
    ("empty unit", lambda d: d.update(unit=""), "bad unit"),
    ("unknown format", lambda d: d.update(format="nap-workspace/99"), "unknown format"),
    ("user recipient not age", lambda d: _first_user(d).update(recipient="ssh-ed25519 AAAA"), "recipient"),
    ("recovery recipient not age", lambda d: d["recovery"].update(recipient="age1broken"), "recipient"),
    ("users not a mapping", lambda d: d.update(users=[]), "bad users"),
]


@pytest.mark.parametrize(("change", "expected"), [(c, e) for _, c, e in SHAPE_CASES], ids=[n for n, _, _ in SHAPE_CASES])
def test_malformed_file_is_workspace_corrupt_naming_the_problem_not_the_value(
    saved: tuple[Path, bytearray], change: Callable[[dict[str, Any]], None], expected: str
) -> None:
    path, _ = saved
    _edit(path, change)
    with pytest.raises(WorkspaceCorrupt) as exc:
        keyfile.load(path)
    msg = str(exc.value)
    assert msg.startswith("workspace.json is damaged"), msg
    assert expected in msg
    assert "\n" not in msg
    assert CANARY not in msg, "a value from the file was echoed in the error"


def test_missing_file_is_workspace_corrupt(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceCorrupt, match="missing"):
        keyfile.load(tmp_path / "workspace.json")


# --- the MAC -------------------------------------------------------------------------------------


MAC_CASES: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
    ("unit", lambda d: d.update(unit="C-LHR")),
    ("site kind", lambda d: d.update(site_kind="hq")),
    ("created_at", lambda d: d.update(created_at="1999-01-01T00:00:00+00:00")),
    ("disabled list", lambda d: d.update(disabled=["someone.else"])),
    ("recovery removed", lambda d: d.update(recovery=None)),
    ("user removed", lambda d: d["users"].pop(OFFICER)),
    ("workspace kdf", lambda d: d["kdf"].update(t=2)),
    ("mac of another file", lambda d: d.update(mac="0" * 64)),
]


@pytest.mark.parametrize("change", [c for _, c in MAC_CASES], ids=[n for n, _ in MAC_CASES])
def test_mac_detects_every_edit(saved: tuple[Path, bytearray], change: Callable[[dict[str, Any]], None]) -> None:
    path, dek = saved
    _edit(path, change)
    wf = keyfile.load(path)  # still a valid shape
    with pytest.raises(WorkspaceCorrupt, match="changed outside NAP Desktop"):
        wf.verify(dek)


def test_mac_ignores_formatting_only(saved: tuple[Path, bytearray]) -> None:
    path, dek = saved
    _edit(path, lambda d: None)  # re-serialised without indentation, same content
    keyfile.load(path).verify(dek)


def test_mac_is_keyed_by_the_data_key(saved: tuple[Path, bytearray]) -> None:
    path, _ = saved
    with pytest.raises(WorkspaceCorrupt):
        keyfile.load(path).verify(crypto.random_key())


# --- identity bound to the user name -------------------------------------------------------------


def test_swapping_user_entries_does_not_let_anyone_in_as_another(saved: tuple[Path, bytearray]) -> None:
    path, _ = saved

    def swap(d: dict[str, Any]) -> None:
        d["users"][ADMIN], d["users"][OFFICER] = d["users"][OFFICER], d["users"][ADMIN]

    _edit(path, swap)
    wf = keyfile.load(path)
    # The officer's own entry now sits under "admin": the officer's password must not open it.
    with pytest.raises(WrongPassword):
        keyfile.unwrap_dek(wf, ADMIN, PASSWORDS["officer"])
    with pytest.raises(WrongPassword):
        keyfile.unwrap_dek(wf, OFFICER, ADMIN_PW)
    with pytest.raises(WrongPassword):
        keyfile.unwrap_dek(wf, OFFICER, PASSWORDS["officer"])


def test_copying_an_officer_entry_over_the_admin_entry_gives_no_admin_access(workspace: Path) -> None:
    """An officer who edits workspace.json to put their own key entry under the admin's name."""
    with wsvc.unlocked(workspace, ADMIN, ADMIN_PW) as ws:
        users.add_user(ws, username=OFFICER, full_name="Post Officer", role="officer", unit="P-TORKHAM", password=PASSWORDS["officer"])
    _edit(workspace / "workspace.json", lambda d: d["users"].update({ADMIN: d["users"][OFFICER]}))
    with pytest.raises(WrongPassword):
        wsvc.open_workspace(workspace, ADMIN, PASSWORDS["officer"])
    with pytest.raises(WrongPassword):
        wsvc.open_workspace(workspace, ADMIN, ADMIN_PW)


def test_entry_of_another_workspace_does_not_open(tmp_path: Path) -> None:
    """The identity AAD also names the workspace: an entry moved between workspaces fails."""
    dek = crypto.random_key()
    a = _new_wf_with_users(dek, {ADMIN: ADMIN_PW})
    b = _new_wf_with_users(dek, {ADMIN: ADMIN_PW})
    moved = replace(b, users={ADMIN: a.users[ADMIN]})
    with pytest.raises(WrongPassword):
        keyfile.unwrap_dek(moved, ADMIN, ADMIN_PW)


# --- recovery escrow -----------------------------------------------------------------------------


def test_escrow_round_trip_and_wrong_identity() -> None:
    dek = crypto.random_key()
    pair = crypto.generate_age_keypair()
    wf = keyfile.new_workspace_file(site_kind="circle", unit="C-PSH", kdf=FAST_KDF)
    wf = replace(wf, recovery=keyfile.make_recovery(wf.workspace_id, dek, pair.recipient))
    assert keyfile.recover_dek(wf, pair.identity) == dek
    with pytest.raises(RecoveryError, match="does not belong"):
        keyfile.recover_dek(wf, crypto.generate_age_keypair().identity)
    with pytest.raises(RecoveryError, match="not a valid age secret key"):
        keyfile.recover_dek(wf, "AGE-SECRET-KEY-1NOTAKEY")
    # The escrow of one workspace does not unlock another even with the right identity.
    other = replace(wf, workspace_id=keyfile.new_workspace_file(site_kind="circle", unit="C-PSH").workspace_id)
    with pytest.raises(RecoveryError, match="does not belong to this workspace"):
        keyfile.recover_dek(other, pair.identity)
    with pytest.raises(RecoveryError, match="no recovery key"):
        keyfile.recover_dek(replace(wf, recovery=None), pair.identity)


def test_bad_recovery_recipient_is_refused() -> None:
    with pytest.raises(RecoveryError, match="age1"):
        keyfile.make_recovery("x", crypto.random_key(), "age1notreallyakey")


# --- password strength ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "username", "problem"),
    [
        ("Ab1!xyz", "", "at least 10 characters"),
        ("Pakistan@123", "", "too common"),
        ("PASSWORD123", "", "too common"),
        ("Officer-Pass-2026!", "officer", "do not include the user name"),
        ("my.Name-Secret-26", "my.name", "do not include the user name"),
        ("abcdefghijkl", "", "mix upper and lower case"),
        ("ABCDEFGHIJ12", "", "mix upper and lower case"),
        ("aaaaaaaaaaaaaaaaaaaa", "", "more different characters"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password: str, username: str, problem: str) -> None:
    with pytest.raises(WeakPassword) as exc:
        check_password_strength(password, username)
    assert problem in str(exc.value)
    assert password not in str(exc.value), "the password must never be echoed"
    assert strength_score(password, username) <= 1


@pytest.mark.parametrize(
    "password",
    ["Torkham-Border-2026", "Fresh-Secret-77#", "correct horse battery staple", "Kx9#mQ2!vZ"],
)
def test_good_passwords_pass(password: str) -> None:
    check_password_strength(password, "off.torkham")
    assert password_problems(password) == []
    assert strength_score(password) >= 2


def test_weak_password_message_lists_every_problem() -> None:
    with pytest.raises(WeakPassword) as exc:
        check_password_strength("aaaa", "")
    msg = str(exc.value)
    assert "at least 10 characters" in msg and "mix upper" in msg and "different characters" in msg


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_strength_check_agrees_with_the_problem_list(password: str) -> None:
    problems = password_problems(password, "off.torkham")
    if problems:
        with pytest.raises(WeakPassword):
            check_password_strength(password, "off.torkham")
    else:
        check_password_strength(password, "off.torkham")
        assert len(password) >= 10 and "off.torkham" not in password.lower()
