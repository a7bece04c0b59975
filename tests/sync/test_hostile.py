# SPDX-License-Identifier: GPL-3.0-or-later
"""A hostile-bundle corpus: every case is refused with a clear, typed error, and HQ's store keeps
every table's row count (nothing half-applied, nothing recorded as imported)."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyrage
import pytest

from nap_desktop.errors import BundleDamaged, BundleRejected, RegistryError, UserFacingError
from nap_desktop.services import sync
from nap_desktop.services.context import Workspace
from nap_desktop.sync.bundle import MEMBERS, open_bundle
from nap_desktop.sync.minisign import SecretKey
from tests.services.records_factories import create
from tests.sync.conftest import Network
from tests.sync.helpers import age_identity, age_recipient, forge, row_counts, signing_key

OFFICER = "off.torkham"
ANALYST = "ana.hq"


def _export(net: Network, folder: Path) -> tuple[Network, Path]:
    officer = net.post.as_(OFFICER)
    create(officer, "screening", full=True)
    path = sync.export_changes(officer, folder).path
    assert path is not None
    return net, path


@pytest.fixture(scope="module")
def shared(enrolled_module: Network, tmp_path_factory: pytest.TempPathFactory) -> tuple[Network, Path]:
    """A post's exported screening, for refusal tests (they must leave HQ unchanged, so they share it)."""
    return _export(enrolled_module, tmp_path_factory.mktemp("usb"))


@pytest.fixture
def exported(enrolled: Network, tmp_path: Path) -> tuple[Network, Path]:
    """The post captured a screening (with its person) and exported it; fresh sites for this test."""
    return _export(enrolled, tmp_path / "usb")


def _lines(hq: Workspace, bundle: Path) -> list[dict[str, Any]]:
    ob = open_bundle(bundle)
    return [json.loads(x) for x in ob.iter_lines([pyrage.x25519.Identity.from_str(age_identity(hq))])]


def _refused(hq: Workspace, bundle: Path, error: type[UserFacingError], match: str) -> str:
    before = row_counts(hq)
    with pytest.raises(error, match=match) as info:
        sync.import_bundle(hq, bundle)
    assert row_counts(hq) == before
    assert "Traceback" not in str(info.value)
    return str(info.value)


def _rezip(src: Path, dst: Path, change: Callable[[dict[str, bytes]], dict[str, bytes] | list[tuple[str, bytes]]]) -> Path:
    with zipfile.ZipFile(src) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    out = change(members)
    items = out.items() if isinstance(out, dict) else out
    with zipfile.ZipFile(dst, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in items:
            zf.writestr(name, data)
    return dst


def test_a_truncated_bundle_is_incomplete(shared: tuple[Network, Path], tmp_path: Path) -> None:
    net, path = shared
    data = path.read_bytes()
    for cut in (len(data) // 3, len(data) - 30, 10):
        bad = tmp_path / f"cut{cut}.napb"
        bad.write_bytes(data[:cut])
        msg = _refused(net.hq.as_(ANALYST), bad, BundleDamaged, "incomplete|damaged")
        assert bad.name in msg or "damaged" in msg


@pytest.mark.parametrize("member", MEMBERS)
def test_one_flipped_bit_in_any_member_is_caught(shared: tuple[Network, Path], tmp_path: Path, member: str) -> None:
    net, path = shared
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(member)
    data = bytearray(path.read_bytes())
    # Local header: 30 bytes + name + extra; flip a bit in the middle of the member's data.
    name_len = int.from_bytes(data[info.header_offset + 26 : info.header_offset + 28], "little")
    extra_len = int.from_bytes(data[info.header_offset + 28 : info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_len + extra_len
    data[start + info.compress_size // 2] ^= 0x04
    bad = tmp_path / "flipped.napb"
    bad.write_bytes(bytes(data))
    _refused(net.hq.as_(ANALYST), bad, BundleDamaged, "damaged|altered")


@pytest.mark.parametrize("member", MEMBERS)
def test_an_altered_member_in_a_rebuilt_zip_is_caught(shared: tuple[Network, Path], tmp_path: Path, member: str) -> None:
    """The attacker fixes the zip checksums; the signature and the payload hash still catch it."""
    net, path = shared

    def flip(m: dict[str, bytes]) -> dict[str, bytes]:
        b = bytearray(m[member])
        b[len(b) // 2] ^= 0x01
        m[member] = bytes(b)
        return m

    bad = _rezip(path, tmp_path / "rebuilt.napb", flip)
    error: type[UserFacingError] = BundleDamaged if member == "payload.age" else (BundleRejected, BundleDamaged)  # type: ignore[assignment]
    before = row_counts(net.hq.as_(ANALYST))
    with pytest.raises(error):
        sync.import_bundle(net.hq.as_(ANALYST), bad)
    assert row_counts(net.hq.as_(ANALYST)) == before


def test_manifest_and_payload_swapped_between_two_bundles(shared: tuple[Network, Path], tmp_path: Path) -> None:
    net, first = shared
    officer = net.post.as_(OFFICER)
    create(officer, "person")
    second = sync.export_changes(officer, tmp_path / "usb2").path
    assert second is not None
    with zipfile.ZipFile(second) as zf:
        other_payload = zf.read("payload.age")
    bad = _rezip(first, tmp_path / "swapped.napb", lambda m: {**m, "payload.age": other_payload})
    _refused(net.hq.as_(ANALYST), bad, BundleDamaged, "payload does not match|different size")


def test_a_replayed_bundle_changes_nothing(exported: tuple[Network, Path]) -> None:
    net, path = exported
    hq = net.hq.as_(ANALYST)
    assert sync.import_bundle(hq, path).outcome == "imported"
    before = row_counts(hq)
    again = sync.import_bundle(hq, path)
    assert again.outcome == "already imported" and "already imported" in again.line()
    assert {k: v for k, v in row_counts(hq).items() if k != "audit_log"} == {k: v for k, v in before.items() if k != "audit_log"}


def test_a_bundle_for_another_recipient_is_not_addressed_to_us(enrolled_module: Network, tmp_path: Path) -> None:
    officer = enrolled_module.post.as_(OFFICER)
    stranger = str(pyrage.x25519.Identity.generate().to_public())
    bad = forge(officer, tmp_path, [{"t": "_audit_free_line"}], recipients=[stranger], counts={"_audit_free_line": 1})
    _refused(enrolled_module.hq.as_(ANALYST), bad, BundleRejected, "not addressed to this workspace")


def test_an_unknown_key_is_refused_before_anything_is_read(enrolled_module: Network, tmp_path: Path) -> None:
    officer = enrolled_module.post.as_(OFFICER)
    bad = forge(officer, tmp_path, [{"t": "x"}], recipients=[age_recipient(enrolled_module.hq.ws)], key=SecretKey.generate())
    _refused(enrolled_module.hq.as_(ANALYST), bad, BundleRejected, "not in this workspace's key registry")


def test_a_revoked_device_is_refused(exported: tuple[Network, Path]) -> None:
    net, path = exported
    sync.revoke_key(net.hq.ws, device_id=net.post.ws.wf.workspace_id)
    msg = _refused(net.hq.as_(ANALYST), path, BundleRejected, "revoked")
    assert "stolen" in msg


def test_a_rotated_out_key_only_covers_what_it_exported(exported: tuple[Network, Path], tmp_path: Path) -> None:
    net, old_bundle = exported
    officer = net.post.as_(OFFICER)
    old_key = signing_key(net.post.ws)
    req = sync.rotate_keys(net.post.ws, tmp_path / "rot")
    resp = sync.enrol_approve(net.hq.ws, req.path, out_dir=tmp_path / "rot")
    sync.enrol_accept(net.post.ws, resp.path)
    hq = net.hq.as_(ANALYST)
    # What the old key exported before the rotation still imports ...
    assert sync.import_bundle(hq, old_bundle).outcome == "imported"
    # ... but the old key cannot sign anything newer.
    create(officer, "person")
    late = forge(officer, tmp_path, [{"t": "x"}], recipients=[age_recipient(net.hq.ws)], key=old_key, seq_from=3, seq_to=9)
    _refused(hq, late, BundleRejected, "rotated out")
    # The new key's bundles import.
    new = sync.export_changes(officer, tmp_path / "new").path
    assert new is not None and sync.import_bundle(hq, new).outcome == "imported"


def test_an_expired_registry_stops_a_circle_from_importing(enrolled_module: Network, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    officer = enrolled_module.post.as_(OFFICER)
    create(officer, "person")
    path = sync.export_changes(officer, tmp_path / "usb").path
    head = enrolled_module.circle.as_("circ.psh")
    before = row_counts(head)
    real_now = sync._now
    monkeypatch.setattr(sync, "_now", lambda: real_now() + timedelta(days=400))
    with pytest.raises(RegistryError, match="expired"):
        sync.import_bundle(head, path)  # type: ignore[arg-type]
    assert row_counts(head) == before


def test_an_older_registry_is_refused(enrolled: Network, tmp_path: Path) -> None:
    old = sync.write_registry_bundles(enrolled.hq.ws, tmp_path / "v_old")
    sync.revoke_key(enrolled.hq.ws, device_id=enrolled.circle.ws.wf.workspace_id)
    newer = [p for p in sync.write_registry_bundles(enrolled.hq.ws, tmp_path / "v_new") if "P-TORKHAM" in p.name]
    post = enrolled.post.as_(OFFICER)
    assert sync.import_bundle(post, newer[0]).outcome == "imported"
    stale = [p for p in old if "P-TORKHAM" in p.name][0]
    before = row_counts(post)
    with pytest.raises(RegistryError, match="older than the one in use"):
        sync.import_bundle(post, stale)
    assert row_counts(post) == before


def test_a_gap_in_the_sequence_holds_the_bundle_and_names_the_missing_range(enrolled: Network, tmp_path: Path) -> None:
    officer = enrolled.post.as_(OFFICER)
    create(officer, "person")
    first = sync.export_changes(officer, tmp_path / "a").path
    create(officer, "person")
    second = sync.export_changes(officer, tmp_path / "b").path
    hq = enrolled.hq.as_(ANALYST)
    held = sync.import_bundle(hq, second)  # type: ignore[arg-type]
    assert held.outcome == "held" and held.missing == (1, 1)
    assert "missing changes 1–1" in held.line()
    assert row_counts(hq)["persons"] == 0
    done = sync.import_bundle(hq, first)  # type: ignore[arg-type]
    assert done.outcome == "imported"
    # The held bundle went in on its own once the gap was filled.
    assert row_counts(hq)["persons"] == 2
    assert sync.sync_status(hq).held == ()


def test_a_decompression_bomb_is_stopped(enrolled_module: Network, tmp_path: Path) -> None:
    officer = enrolled_module.post.as_(OFFICER)
    hq_r = [age_recipient(enrolled_module.hq.ws)]
    line = {"t": "person", "pad": "x" * 4000}
    # The manifest lies about the unpacked size: unpacking stops at the declared size.
    lying = forge(officer, tmp_path, [line] * 20_000, recipients=hq_r, plain_size=5000, name="lying.napb")
    _refused(enrolled_module.hq.as_(ANALYST), lying, BundleDamaged, "more than its manifest declares")
    # An honest but absurd ratio is refused before any decryption.
    honest = forge(officer, tmp_path, [line], recipients=hq_r, plain_size=10 * 1024**3, name="ratio.napb")
    _refused(enrolled_module.hq.as_(ANALYST), honest, BundleDamaged, "too large to unpack")


def test_container_tricks_are_refused(shared: tuple[Network, Path], tmp_path: Path) -> None:
    net, path = shared
    hq = net.hq.as_(ANALYST)
    big = _rezip(path, tmp_path / "big.napb", lambda m: {**m, "manifest.json": m["manifest.json"] + b" " * (300 * 1024)})
    _refused(hq, big, BundleDamaged, "oversized manifest")
    with pytest.warns(UserWarning, match="Duplicate name"):
        dup = _rezip(path, tmp_path / "dup.napb", lambda m: [*m.items(), ("manifest.json", m["manifest.json"])])
    _refused(hq, dup, BundleDamaged, "unexpected contents")
    trav = _rezip(path, tmp_path / "trav.napb", lambda m: {("../" + k if k == "payload.age" else k): v for k, v in m.items()})
    _refused(hq, trav, BundleDamaged, "unexpected contents")
    extra = _rezip(path, tmp_path / "extra.napb", lambda m: {**m, "run.sh": b"rm -rf /"})
    _refused(hq, extra, BundleDamaged, "unexpected contents")
    with zipfile.ZipFile(path) as zf, zipfile.ZipFile(tmp_path / "deflated.napb", "w", compression=zipfile.ZIP_DEFLATED) as out:
        for n in zf.namelist():
            out.writestr(n, zf.read(n))
    _refused(hq, tmp_path / "deflated.napb", BundleDamaged, "compressed or encrypted")
    (tmp_path / "junk.napb").write_bytes(b"PK\x03\x04 not really a zip")
    _refused(hq, tmp_path / "junk.napb", BundleDamaged, "incomplete or not a bundle")


def _mutated(net: Network, path: Path, tmp_path: Path, change: Callable[[dict[str, Any]], None], t: str = "person") -> Path:
    lines = _lines(net.hq.ws, path)
    target = next(ln for ln in lines if ln["t"] == t)
    change(target)
    m = open_bundle(path).manifest
    return forge(
        net.post.as_(OFFICER), tmp_path, lines, recipients=list(m.recipients), seq_from=m.seq_from, seq_to=m.seq_to, name=f"mut-{len(list(tmp_path.iterdir()))}.napb"
    )


def test_records_with_bad_codes_missing_fields_or_wrong_types_are_rejected(shared: tuple[Network, Path], tmp_path: Path) -> None:
    net, path = shared
    hq = net.hq.as_(ANALYST)
    bad_code = _mutated(net, path, tmp_path, lambda ln: ln["row"].update(sex="martian"))
    msg = _refused(hq, bad_code, BundleRejected, "fail the checks")
    assert "sex" in msg and "martian" not in msg
    missing = _mutated(net, path, tmp_path, lambda ln: ln["row"].pop("citizenship"))
    _refused(hq, missing, BundleRejected, "columns missing")
    wrong_type = _mutated(net, path, tmp_path, lambda ln: ln["row"].update(age_years="twelve"))
    _refused(hq, wrong_type, BundleRejected, "whole number")
    required = _mutated(net, path, tmp_path, lambda ln: ln["row"].update(screened_on=None), t="screening")
    _refused(hq, required, BundleRejected, "fail the checks")
    unit = _mutated(net, path, tmp_path, lambda ln: ln["row"].update(unit="C-LHR"))
    _refused(hq, unit, BundleRejected, "outside P-TORKHAM's area")
    # A dry run lists the problems without changing anything.
    before = row_counts(hq)
    dry = sync.import_bundle(hq, bad_code, dry_run=True)
    assert dry.outcome == "dry run" and dry.rejected == 2 and "sex" in dry.problems[0] and "rejected above" in dry.problems[1]
    assert row_counts(hq) == before


def test_counts_that_disagree_with_the_manifest_are_refused(shared: tuple[Network, Path], tmp_path: Path) -> None:
    net, path = shared
    lines = _lines(net.hq.ws, path)
    m = open_bundle(path).manifest
    counts = dict(m.counts)
    counts["person"] = counts["person"] + 1
    bad = forge(net.post.as_(OFFICER), tmp_path, lines, recipients=list(m.recipients), counts=counts, seq_to=m.seq_to)
    _refused(net.hq.as_(ANALYST), bad, BundleDamaged, "other numbers of records")


def test_an_audit_log_altered_on_the_device_is_refused(shared: tuple[Network, Path], tmp_path: Path) -> None:
    net, path = shared

    def edit(ln: dict[str, Any]) -> None:
        ln["actor"] = "someone.else"

    bad = _mutated(net, path, tmp_path, edit, t="_audit")
    _refused(net.hq.as_(ANALYST), bad, BundleRejected, "audit log does not chain")
