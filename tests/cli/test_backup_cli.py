# SPDX-License-Identifier: GPL-3.0-or-later
"""``nap-desktop backup`` and ``nap-desktop restore`` as a circle head or HQ runs them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from nap_desktop.security.crypto import generate_age_keypair, passphrase_encrypt
from tests.cli.test_cli import W, nap, ok, user_error
from tests.conftest import ADMIN, ADMIN_PW

PASSPHRASE = "Backup-Passphrase-2026!"


def test_backup_then_restore_with_hq_recovery_key_file(make_workspace: Callable[..., Path], tmp_path: Path) -> None:
    hq = generate_age_keypair()
    path = make_workspace(recovery_recipient=hq.recipient)
    out = ok(nap("backup", *W(path), stdin=ADMIN_PW + "\n"))
    assert out.startswith(f"Backup written: {path / 'backups'}") and "It opens with HQ's recovery key." in out
    backup = next((path / "backups").glob("*.napbak"))
    # HQ keeps its recovery key in a passphrase-protected file, as 'init --site-kind hq' writes it.
    key_file = tmp_path / "hq-recovery-identity.age"
    key_file.write_bytes(passphrase_encrypt(hq.identity.encode() + b"\n", "Hq-Key-Passphrase-26!"))
    into = tmp_path / "restored"
    out = ok(nap("restore", str(backup), "--into", str(into), "--identity", str(key_file), "--password-stdin", stdin="Hq-Key-Passphrase-26!\n"))
    assert f"into {into}" in out and f"Accounts: {ADMIN}." in out and "never beside it" in out
    info = ok(nap("workspace", "info", *W(into), stdin=ADMIN_PW + "\n"))
    assert "C-PSH" in info and "last_backup: None" not in info  # the copy knows when it was made


def test_without_recovery_key_the_backup_needs_a_passphrase_and_restores_with_it(
    make_workspace: Callable[..., Path], tmp_path: Path
) -> None:
    path = make_workspace()
    user_error(nap("backup", *W(path), stdin=ADMIN_PW + "\n"), "no HQ recovery key", "--passphrase")
    assert list((path / "backups").iterdir()) == []
    target = tmp_path / "usb.napbak"
    out = ok(nap("backup", *W(path, "--passphrase", "--out", str(target)), stdin=f"{ADMIN_PW}\n{PASSPHRASE}\n"))
    assert f"Backup written: {target}" in out and "opens with the passphrase" in out
    user_error(nap("restore", str(target), "--into", str(tmp_path / "r"), "--password-stdin", stdin=""), "--user")
    user_error(
        nap("restore", str(target), "--into", str(tmp_path / "r"), "--user", ADMIN, "--password-stdin", stdin=f"Not-It-Either-9!\n{ADMIN_PW}\n"),
        "Wrong backup passphrase",
    )
    assert not (tmp_path / "r").exists()
    ok(nap("restore", str(target), "--into", str(tmp_path / "r"), "--user", ADMIN, "--password-stdin", stdin=f"{PASSPHRASE}\n{ADMIN_PW}\n"))
    ok(nap("audit", "verify", *W(tmp_path / "r"), stdin=ADMIN_PW + "\n"))


def test_restore_refusals_are_one_line_and_leave_nothing(make_workspace: Callable[..., Path], tmp_path: Path) -> None:
    hq = generate_age_keypair()
    path = make_workspace(recovery_recipient=hq.recipient)
    ok(nap("backup", *W(path), stdin=ADMIN_PW + "\n"))
    backup = next((path / "backups").glob("*.napbak"))
    (tmp_path / "id.txt").write_text(hq.identity + "\n")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("x")
    user_error(nap("restore", str(backup), "--into", str(busy), "--identity", str(tmp_path / "id.txt")), "not empty")
    assert [p.name for p in busy.iterdir()] == ["keep.txt"]
    cut = tmp_path / "cut.napbak"
    cut.write_bytes(backup.read_bytes()[:-3000])
    user_error(nap("restore", str(cut), "--into", str(tmp_path / "n"), "--identity", str(tmp_path / "id.txt")), "damaged", "nothing was restored")
    user_error(nap("restore", str(backup), "--into", str(tmp_path / "n"), "--user", ADMIN), "opens only with HQ's recovery key")
    assert not (tmp_path / "n").exists()
