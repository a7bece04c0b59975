# SPDX-License-Identifier: GPL-3.0-or-later
"""Any HQ analyst can check a bundle with standard tools, and bundles made by them import.

Peers: the Debian ``age`` and ``minisign`` programs (installed by .ci/run; missing = failure in CI).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
import zipfile
from pathlib import Path

import pytest

from nap_desktop.errors import BundleRejected
from nap_desktop.services import records, sync
from nap_desktop.sync.bundle import Manifest
from nap_desktop.sync.minisign import SecretKey, SignatureError
from tests.conftest import require_program
from tests.services.records_factories import create
from tests.sync.conftest import Network
from tests.sync.helpers import age_identity, signing_key

OFFICER = "off.torkham"
ANALYST = "ana.hq"


def _unzip(bundle: Path, into: Path) -> Path:
    into.mkdir()
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(into)
    return into


def test_minisign_program_verifies_our_signature_and_we_verify_its(tmp_path: Path) -> None:
    minisign = require_program("minisign")
    key = SecretKey.generate()
    (tmp_path / "k.pub").write_text(key.public.to_file())
    (tmp_path / "k.key").write_text(key.secret_key_file())
    (tmp_path / "m").write_bytes(b"manifest bytes")
    (tmp_path / "m.minisig").write_text(key.sign(b"manifest bytes", "nap-bundle/1 id=x"))
    done = subprocess.run([minisign, "-Vm", "m", "-p", "k.pub"], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "Trusted comment: nap-bundle/1 id=x" in done.stdout

    (tmp_path / "n").write_bytes(b"signed by the program")
    subprocess.run([minisign, "-S", "-s", "k.key", "-m", "n", "-t", "made by minisign"], cwd=tmp_path, check=True, stdin=subprocess.DEVNULL, capture_output=True)
    assert key.public.verify(b"signed by the program", (tmp_path / "n.minisig").read_text()) == "made by minisign"
    with pytest.raises(SignatureError, match="does not match"):
        key.public.verify(b"signed by the program!", (tmp_path / "n.minisig").read_text())
    other = SecretKey.generate()
    with pytest.raises(SignatureError, match="made by key"):
        other.public.verify(b"signed by the program", (tmp_path / "n.minisig").read_text())


def test_standard_tools_check_a_real_bundle(enrolled: Network, tmp_path: Path) -> None:
    age, minisign = require_program("age"), require_program("minisign")
    officer = enrolled.post.as_(OFFICER)
    s = create(officer, "screening", full=True)
    bundle = sync.export_changes(officer, tmp_path / "usb").path
    assert bundle is not None
    out = _unzip(bundle, tmp_path / "x")
    (tmp_path / "device.pub").write_text(signing_key(enrolled.post.ws).public.to_file())
    done = subprocess.run([minisign, "-Vm", str(out / "manifest.json"), "-p", str(tmp_path / "device.pub")], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert f"id={manifest['bundle_id']}" in done.stdout

    assert hashlib.sha256((out / "payload.age").read_bytes()).hexdigest() == manifest["payload_sha256"]
    (tmp_path / "hq.key").write_text(age_identity(enrolled.hq.ws) + "\n")
    plain = subprocess.run([age, "-d", "-i", str(tmp_path / "hq.key"), str(out / "payload.age")], capture_output=True, check=True).stdout
    lines = [json.loads(ln) for ln in gzip.decompress(plain).decode().splitlines()]
    kinds = [ln["t"] for ln in lines]
    assert "screening" in kinds and "person" in kinds and "_audit" in kinds
    assert {ln["row"]["id"] for ln in lines if ln["t"] == "screening"} == {s.id}
    assert sum(1 for k in kinds if k not in ("_audit", "_unit")) == sum(v for k, v in manifest["counts"].items() if not k.startswith("_"))


def test_a_bundle_made_with_the_age_and_minisign_programs_imports(enrolled: Network, tmp_path: Path) -> None:
    age, minisign = require_program("age"), require_program("minisign")
    officer = enrolled.post.as_(OFFICER)
    s = create(officer, "screening", full=True)
    ours = sync.export_changes(officer, tmp_path / "ours").path
    assert ours is not None
    src = _unzip(ours, tmp_path / "src")
    # Our plaintext, encrypted again by the real age and signed by the real minisign with the device key.
    hq_recipient = json.loads((src / "manifest.json").read_text())["recipients"]
    hq_key = tmp_path / "hq.key"
    hq_key.write_text(age_identity(enrolled.hq.ws) + "\n")
    plain = subprocess.run([age, "-d", "-i", str(hq_key), str(src / "payload.age")], capture_output=True, check=True).stdout
    (tmp_path / "payload.gz").write_bytes(plain)
    args = [age, "-e", "-o", str(tmp_path / "payload.age")]
    for r in hq_recipient:
        args += ["-r", r]
    subprocess.run([*args, str(tmp_path / "payload.gz")], check=True)
    payload = (tmp_path / "payload.age").read_bytes()
    m = Manifest.parse((src / "manifest.json").read_bytes())
    m2 = Manifest(**{**m.__dict__, "payload_sha256": hashlib.sha256(payload).hexdigest(), "payload_size": len(payload), "bundle_id": "0a8c4b1e-0000-4000-8000-000000000001"})
    (tmp_path / "manifest.json").write_bytes(m2.to_bytes())
    (tmp_path / "device.key").write_text(signing_key(enrolled.post.ws).secret_key_file())
    subprocess.run(
        [minisign, "-S", "-s", str(tmp_path / "device.key"), "-m", str(tmp_path / "manifest.json"), "-t", m2.trusted_comment()],
        check=True, stdin=subprocess.DEVNULL, capture_output=True,
    )
    bundle = tmp_path / "by-tools.napb"
    with zipfile.ZipFile(bundle, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.write(tmp_path / "payload.age", "payload.age")
        zf.write(tmp_path / "manifest.json", "manifest.json")
        zf.write(tmp_path / "manifest.json.minisig", "manifest.json.minisig")
    summary = sync.import_bundle(enrolled.hq.as_(ANALYST), bundle)
    assert summary.outcome == "imported" and summary.new >= 2
    got = records.get_record(enrolled.hq.as_(ANALYST), s.id)
    assert got.values == s.values and got.unit == "P-TORKHAM"


def test_a_signature_by_another_minisign_key_is_refused(enrolled: Network, tmp_path: Path) -> None:
    minisign = require_program("minisign")
    officer = enrolled.post.as_(OFFICER)
    create(officer, "person")
    src = _unzip(sync.export_changes(officer, tmp_path / "o").path, tmp_path / "src")  # type: ignore[arg-type]
    stranger = SecretKey.generate()
    (tmp_path / "s.key").write_text(stranger.secret_key_file())
    (src / "manifest.json.minisig").unlink()
    m = Manifest.parse((src / "manifest.json").read_bytes())
    subprocess.run([minisign, "-S", "-s", str(tmp_path / "s.key"), "-m", str(src / "manifest.json"), "-t", m.trusted_comment()], check=True, stdin=subprocess.DEVNULL, capture_output=True)
    bundle = tmp_path / "forged.napb"
    with zipfile.ZipFile(bundle, "w") as zf:
        for name in ("payload.age", "manifest.json", "manifest.json.minisig"):
            zf.write(src / name, name)
    with pytest.raises(BundleRejected, match="signature does not verify"):
        sync.import_bundle(enrolled.hq.as_(ANALYST), bundle)
