# SPDX-License-Identifier: GPL-3.0-or-later
"""HQ changes its root key: enrolled devices follow the signed hand-over when the next registry
reaches them, nobody re-enrols, and from then on the old key signs nothing they accept. A
hand-over not signed by the key a device trusts, or a registry of the old key after the change,
is refused with nothing changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nap_desktop.errors import EnrolmentError, RegistryError
from nap_desktop.services import sync
from nap_desktop.sync import registry as reg
from nap_desktop.sync.minisign import SecretKey
from tests.cli.test_cli import nap, ok
from tests.conftest import ADMIN, ADMIN_PW
from tests.services.records_factories import audit_count
from tests.sync.conftest import Network
from tests.sync.helpers import row_counts

OFFICER = "off.torkham"


def post_bundle(net: Network, tmp_path: Path, name: str) -> Path:
    return next(p for p in sync.write_registry_bundles(net.hq.ws, tmp_path / name) if "P-TORKHAM" in p.name)


def test_devices_follow_a_root_change_and_then_refuse_the_old_key(enrolled: Network, tmp_path: Path) -> None:
    hq = enrolled.hq.ws
    old_bundle = post_bundle(enrolled, tmp_path, "v_old")
    rot = sync.rotate_root(hq)
    assert rot.old_fingerprint != rot.new_fingerprint
    assert audit_count(hq, "sync.root_rotated") == 1
    body = json.loads(sync.registry_text(hq))["signed"]
    assert [link["to"]["key_id"] for link in body["root_chain"]] == [rot.registry.root.id_hex]

    post = enrolled.post.as_(OFFICER)
    assert sync.import_bundle(post, post_bundle(enrolled, tmp_path, "v_new")).outcome == "imported"
    assert json.loads(sync.registry_text(post))["signed"]["root"]["key_id"] == rot.registry.root.id_hex
    # Later registries (no new hand-over) verify by the new key alone.
    sync.revoke_key(hq, device_id=enrolled.circle.ws.wf.workspace_id)
    assert sync.import_bundle(post, post_bundle(enrolled, tmp_path, "v_later")).outcome == "imported"
    # The old key's registries are refused now, even one it signed before the change.
    before = row_counts(post)
    with pytest.raises(RegistryError, match="another root key"):
        sync.import_bundle(post, old_bundle)
    assert row_counts(post) == before


def test_a_device_offline_through_two_changes_follows_both(enrolled: Network, tmp_path: Path) -> None:
    hq = enrolled.hq.ws
    sync.rotate_root(hq)
    second = sync.rotate_root(hq)
    assert len(json.loads(sync.registry_text(hq))["signed"]["root_chain"]) == 2
    post = enrolled.post.as_(OFFICER)
    assert sync.import_bundle(post, post_bundle(enrolled, tmp_path, "v3")).outcome == "imported"
    assert json.loads(sync.registry_text(post))["signed"]["root"]["key_id"] == second.registry.root.id_hex


def test_a_hand_over_not_signed_by_the_trusted_key_is_refused() -> None:
    trusted, impostor, evil = SecretKey.generate(), SecretKey.generate(), SecretKey.generate()
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    body = reg.new_body(version=2, root=evil.public, hq_device="hq", recovery_recipient="", devices=[], now=now, root_chain=[reg.handover(impostor, evil.public, at_version=2)])
    forged = reg.sign(body, evil)
    with pytest.raises(RegistryError, match="another root key"):
        reg.parse(forged.text, trusted_root=trusted.public)
    # A hand-over from the trusted key whose signature was made by another key.
    link = reg.handover(impostor, evil.public, at_version=2)
    link["from"] = {"key_id": trusted.public.id_hex, "public": trusted.public.to_base64()}
    body = reg.new_body(version=2, root=evil.public, hq_device="hq", recovery_recipient="", devices=[], now=now, root_chain=[link])
    with pytest.raises(RegistryError, match="does not verify"):
        reg.parse(reg.sign(body, evil).text, trusted_root=trusted.public)
    # The real hand-over is followed.
    body = reg.new_body(version=2, root=evil.public, hq_device="hq", recovery_recipient="", devices=[], now=now, root_chain=[reg.handover(trusted, evil.public, at_version=2)])
    assert reg.parse(reg.sign(body, evil).text, trusted_root=trusted.public).root.key_id == evil.public.key_id


def test_only_hq_changes_the_root_key(enrolled: Network) -> None:
    with pytest.raises(EnrolmentError, match="Only HQ"):
        sync.rotate_root(enrolled.circle.ws)


def test_rotate_root_from_the_command_line(enrolled: Network) -> None:
    enrolled.hq.ws.lock()
    out = ok(nap("registry", "rotate-root", "--workspace", str(enrolled.hq.path), "--user", ADMIN, "--password-stdin", stdin=ADMIN_PW + "\n"))
    assert "HQ's root key was changed: registry version" in out and "new fingerprint:" in out
