# SPDX-License-Identifier: GPL-3.0-or-later
"""The key registry (DESIGN §6): who may send bundles, to whom they are encrypted, what is revoked.

A registry is a JSON document ``{"signed": {...}, "signature": "<minisign text>"}`` whose
``signed`` body is signed by HQ's root key over its canonical bytes (sorted keys, compact). It is
versioned and expires, like TUF metadata: a workspace never accepts a registry older than the one
it has, an expired one, or one not signed by the root key it already trusts (the first one is
trusted on enrolment, after the operator compares the root key's fingerprint with HQ's).

The body::

    format            "nap-registry/1"
    version           1, 2, …
    issued_at, expires_at   ISO 8601 UTC
    root              {"key_id": hex, "public": minisign base64}
    hq_device         the device id of HQ's workspace
    recovery_recipient      age recipient of HQ's recovery identity ("" if none)
    devices           [{device_id, unit, site_kind, keys: [{key_id, public, age, status,
                        retired_after_seq, since}], match_key: age-encrypted base64}]

A device key's ``status`` is ``active``, ``retired`` (rotated out: bundles up to
``retired_after_seq`` still verify, later ones do not) or ``revoked`` (nothing verifies).

**Root rotation.** After HQ changes its root key, the body also holds ``root_chain``: the
hand-overs so far, oldest first, each ``{"from": key, "to": key, "at_version": n, "signature":
minisign text}`` signed by the ``from`` key over its canonical bytes (without the signature). A
workspace that trusts an older root accepts a registry signed by the new one only by following the
chain from its own root, link by link, each verified by the key it already trusts; it then trusts
the new root, and the old one signs nothing it will accept (TUF's root rotation, one signature per
step). A body without a rotation has no ``root_chain`` field, as before.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from nap_desktop.errors import RegistryError
from nap_desktop.sync.minisign import PublicKey, SecretKey, SignatureError

FORMAT = "nap-registry/1"
HANDOVER = "nap-root-handover/1"
LIFETIME = timedelta(days=180)
MAX_REGISTRY_BYTES = 8 * 1024 * 1024


def canonical(body: Any) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _parse_time(value: str) -> datetime:
    try:
        t = datetime.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise RegistryError("The key registry has an unreadable date.") from exc
    return t if t.tzinfo else t.replace(tzinfo=UTC)


@dataclass(frozen=True)
class DeviceKey:
    device_id: str
    unit: str
    site_kind: str
    key_id: str
    public: PublicKey
    age: str
    status: str
    retired_after_seq: int | None


@dataclass(frozen=True)
class Registry:
    """A registry whose signature has been checked."""

    body: dict[str, Any]
    text: str

    @property
    def version(self) -> int:
        return int(self.body["version"])

    @property
    def root(self) -> PublicKey:
        return PublicKey.from_base64(self.body["root"]["public"])

    @property
    def expires_at(self) -> datetime:
        return _parse_time(self.body["expires_at"])

    @property
    def hq_device(self) -> str:
        return str(self.body["hq_device"])

    def devices(self) -> Iterator[dict[str, Any]]:
        yield from self.body["devices"]

    def device(self, device_id: str) -> dict[str, Any] | None:
        return next((d for d in self.body["devices"] if d["device_id"] == device_id), None)

    def key(self, key_id: str) -> DeviceKey | None:
        for d in self.body["devices"]:
            for k in d["keys"]:
                if k["key_id"] == key_id:
                    return DeviceKey(
                        d["device_id"], d["unit"], d["site_kind"], k["key_id"], PublicKey.from_base64(k["public"]), k["age"], k["status"],
                        k.get("retired_after_seq"),
                    )
        return None

    def recipients(self, device_id: str) -> list[str]:
        """The age recipients of a device's live keys (retired keys no longer receive)."""
        d = self.device(device_id)
        return [k["age"] for k in d["keys"] if k["status"] == "active"] if d else []

    def devices_of_unit(self, unit: str) -> list[str]:
        return [d["device_id"] for d in self.body["devices"] if d["unit"] == unit]

    def fingerprint(self) -> str:
        return fingerprint(self.root)


def fingerprint(key: PublicKey) -> str:
    """The root key fingerprint an operator reads aloud: its minisign key id in groups of four."""
    h = key.id_hex
    return " ".join(h[i : i + 4] for i in range(0, len(h), 4))


def _check_body(body: Any) -> None:
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise RegistryError("This is not a NAP key registry.")
    need = {"format", "version", "issued_at", "expires_at", "root", "hq_device", "recovery_recipient", "devices"}
    if set(body) - {"root_chain"} != need:
        raise RegistryError("The key registry has missing or unknown fields.")
    chain = body.get("root_chain", [])
    if not isinstance(chain, list) or not all(isinstance(link, dict) and set(link) == {"from", "to", "at_version", "signature"} and isinstance(link["signature"], str) and isinstance(link["to"], dict) for link in chain):
        raise RegistryError("The key registry's root hand-overs are malformed.")
    if not isinstance(body["version"], int) or isinstance(body["version"], bool) or body["version"] < 1:
        raise RegistryError("The key registry's version is not a positive number.")
    if not isinstance(body["devices"], list) or not isinstance(body["root"], dict):
        raise RegistryError("The key registry is malformed.")
    for d in body["devices"]:
        if not isinstance(d, dict) or not {"device_id", "unit", "site_kind", "keys", "match_key"} <= set(d):
            raise RegistryError("A device entry of the key registry is malformed.")
        for k in d["keys"]:
            if not isinstance(k, dict) or not {"key_id", "public", "age", "status"} <= set(k) or k["status"] not in ("active", "retired", "revoked"):
                raise RegistryError("A key entry of the key registry is malformed.")
    _parse_time(body["issued_at"])
    _parse_time(body["expires_at"])


def parse(text: str | bytes, *, trusted_root: PublicKey | None) -> Registry:
    """Parses and verifies a registry document.

    ``trusted_root`` is the root key this workspace already trusts; ``None`` on enrolment, where the
    document's own root key is used (and its fingerprint must be confirmed by the operator).
    """
    raw = text.encode() if isinstance(text, str) else text
    if len(raw) > MAX_REGISTRY_BYTES:
        raise RegistryError("The key registry is too large.")
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise RegistryError("The key registry is not valid JSON: the file is damaged.") from exc
    if not isinstance(doc, dict) or set(doc) != {"signed", "signature"} or not isinstance(doc["signature"], str):
        raise RegistryError("This is not a NAP key registry.")
    body = doc["signed"]
    _check_body(body)
    try:
        own_root = PublicKey.from_base64(body["root"]["public"])
    except (SignatureError, KeyError, TypeError) as exc:
        raise RegistryError("The key registry's root key is malformed.") from exc
    root = trusted_root or own_root
    if own_root.key_id != root.key_id:
        _follow_chain(body.get("root_chain", []), root, own_root)
        root = own_root
    try:
        comment = root.verify(canonical(body), doc["signature"])
    except SignatureError as exc:
        raise RegistryError(f"The key registry's signature does not verify: {exc}") from exc
    if comment != f"{FORMAT} version={body['version']}":
        raise RegistryError("The key registry's signed comment does not match its version.")
    return Registry(body, raw.decode("utf-8"))


def _link_body(link: dict[str, Any]) -> bytes:
    return canonical({"format": HANDOVER, "from": link["from"], "to": link["to"], "at_version": link["at_version"]})


def _key(entry: Any) -> PublicKey:
    try:
        key = PublicKey.from_base64(entry["public"])
    except (SignatureError, KeyError, TypeError) as exc:
        raise RegistryError("A root hand-over of the key registry names a malformed key.") from exc
    if entry.get("key_id") != key.id_hex:
        raise RegistryError("A root hand-over of the key registry names a key by the wrong id.")
    return key


def _follow_chain(chain: list[dict[str, Any]], trusted: PublicKey, target: PublicKey) -> None:
    """Follows the root hand-overs from ``trusted`` to ``target``, each verified by the key before
    it. Raises when there is no such path (another HQ, or a forged hand-over)."""
    current = trusted
    for _ in range(len(chain)):
        link = next((x for x in chain if isinstance(x.get("from"), dict) and x["from"].get("key_id") == current.id_hex), None)
        if link is None:
            break
        nxt = _key(link["to"])
        try:
            comment = current.verify(_link_body(link), link["signature"])
        except SignatureError as exc:
            raise RegistryError(f"A root hand-over in the key registry does not verify against the root key this workspace trusts: {exc}") from exc
        if comment != f"{HANDOVER} {current.id_hex}->{nxt.id_hex}":
            raise RegistryError("A root hand-over's signed comment does not match the keys it names.")
        current = nxt
        if current.key_id == target.key_id:
            return
    raise RegistryError("The key registry is signed for another root key than the one this workspace trusts.")


def handover(old: SecretKey, new: PublicKey, *, at_version: int) -> dict[str, Any]:
    """The link by which ``old`` hands the root over to ``new`` from registry ``at_version`` on."""
    link: dict[str, Any] = {
        "from": {"key_id": old.public.id_hex, "public": old.public.to_base64()},
        "to": {"key_id": new.id_hex, "public": new.to_base64()},
        "at_version": at_version,
    }
    link["signature"] = old.sign(_link_body(link), f"{HANDOVER} {old.public.id_hex}->{new.id_hex}", "nap-desktop root hand-over")
    return link


def sign(body: dict[str, Any], root: SecretKey) -> Registry:
    _check_body(body)
    sig = root.sign(canonical(body), f"{FORMAT} version={body['version']}", "nap-desktop key registry")
    text = json.dumps({"signed": body, "signature": sig}, sort_keys=True, indent=1)
    return Registry(body, text)


def check_newer(current: Registry | None, new: Registry, *, now: datetime) -> bool:
    """Whether ``new`` should replace ``current``: False if it is the same; raises if it must not."""
    if new.expires_at <= now:
        raise RegistryError(
            f"The key registry (version {new.version}) expired on {new.expires_at:%Y-%m-%d}. Ask HQ for a fresh one."
        )
    if current is None:
        return True
    if new.version < current.version:
        raise RegistryError(
            f"The key registry offered (version {new.version}) is older than the one in use (version {current.version}); it was refused."
        )
    if new.version == current.version:
        if canonical(new.body) != canonical(current.body):
            raise RegistryError("Two different key registries carry the same version; the new one was refused. Tell HQ.")
        return False
    return True


def new_body(
    *, version: int, root: PublicKey, hq_device: str, recovery_recipient: str, devices: list[dict[str, Any]], now: datetime, root_chain: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "format": FORMAT,
        "version": version,
        "issued_at": now.isoformat(timespec="seconds"),
        "expires_at": (now + LIFETIME).isoformat(timespec="seconds"),
        "root": {"key_id": root.id_hex, "public": root.to_base64()},
        "hq_device": hq_device,
        "recovery_recipient": recovery_recipient,
        "devices": devices,
    }
    if root_chain:
        body["root_chain"] = root_chain
    return body


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode(), validate=True)
