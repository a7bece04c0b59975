# SPDX-License-Identifier: GPL-3.0-or-later
"""``workspace.json``: the clear-text description of a workspace and its wrapped data keys.

Key model (DESIGN §3, with one refinement so that the data key can be rotated without knowing
every user's password):

- The **data key** (DEK) is 32 random bytes, the raw SQLCipher key of ``store.db``.
- Each **user** has an age X25519 keypair. The secret half is sealed with AES-256-GCM under a key
  derived from the user's password with Argon2id; the DEK is encrypted (age) to the public half.
  Unlock = Argon2id → open the sealed identity → age-decrypt the DEK. A password change reseals
  only the identity. Rotating the DEK (``rekey``) encrypts the new DEK to every user's public key,
  so nobody's password is needed and a thief holding the old DEK learns nothing about the new one.
- The **recovery escrow** is the DEK encrypted (age) to HQ's recovery recipient; ``age -d -i``
  opens it with the standard tool.
- The whole file carries an HMAC keyed from the DEK, so a hand edit (another unit code, a swapped
  user entry) is detected at unlock. Before unlock only its shape can be checked.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nap_desktop.errors import CryptoError, RecoveryError, WorkspaceCorrupt, WrongPassword
from nap_desktop.security import crypto
from nap_desktop.security.crypto import KdfParams

FORMAT = "nap-workspace/1"
ESCROW_FORMAT = "nap-escrow/1"
SITE_KINDS = ("post", "circle", "hq")
USERNAME_RE = re.compile(r"^[a-z][a-z0-9._-]{2,31}$")
_MAC_PURPOSE = "nap workspace.json mac v1"
_TOP_KEYS = {
    "format", "workspace_id", "created_at", "site_kind", "unit", "kdf", "users", "disabled", "recovery", "mac",
}
_USER_KEYS = {"recipient", "salt", "kdf", "identity", "dek"}


@dataclass(frozen=True)
class UserWrap:
    """One user's way to the data key."""

    recipient: str
    salt: bytes
    kdf: KdfParams
    identity_sealed: bytes
    dek_age: bytes


@dataclass(frozen=True)
class Recovery:
    """The recovery recipient and the data key encrypted to it."""

    recipient: str
    escrow: bytes


@dataclass(frozen=True)
class WorkspaceFile:
    """The parsed, shape-checked ``workspace.json``."""

    workspace_id: str
    created_at: str
    site_kind: str
    unit: str
    kdf: KdfParams
    users: dict[str, UserWrap] = field(default_factory=dict)
    disabled: tuple[str, ...] = ()
    recovery: Recovery | None = None
    mac: str = ""

    # --- serialisation -----------------------------------------------------------------------

    def _body(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "workspace_id": self.workspace_id,
            "created_at": self.created_at,
            "site_kind": self.site_kind,
            "unit": self.unit,
            "kdf": self.kdf.to_json(),
            "users": {
                name: {
                    "recipient": w.recipient,
                    "salt": crypto.b64e(w.salt),
                    "kdf": w.kdf.to_json(),
                    "identity": crypto.b64e(w.identity_sealed),
                    "dek": crypto.b64e(w.dek_age),
                }
                for name, w in sorted(self.users.items())
            },
            "disabled": sorted(self.disabled),
            "recovery": None
            if self.recovery is None
            else {"recipient": self.recovery.recipient, "escrow": crypto.b64e(self.recovery.escrow)},
        }

    def canonical_body(self) -> bytes:
        """The bytes the MAC covers: every field but the MAC, canonical JSON."""
        return json.dumps(self._body(), sort_keys=True, separators=(",", ":")).encode("utf-8")

    def signed(self, dek: bytes | bytearray) -> WorkspaceFile:
        """A copy with the MAC computed for ``dek``."""
        return replace(self, mac=crypto.mac(crypto.derive_subkey(dek, _MAC_PURPOSE), self.canonical_body()))

    def verify(self, dek: bytes | bytearray) -> None:
        """Raises :class:`WorkspaceCorrupt` if the file was changed outside NAP Desktop."""
        expected = crypto.mac(crypto.derive_subkey(dek, _MAC_PURPOSE), self.canonical_body())
        if not crypto.mac_equal(expected, self.mac):
            raise WorkspaceCorrupt(
                "workspace.json was changed outside NAP Desktop. Restore it from a backup "
                "(or ask HQ to recover the workspace)."
            )

    def to_bytes(self) -> bytes:
        body = self._body()
        body["mac"] = self.mac
        return (json.dumps(body, indent=2, sort_keys=True) + "\n").encode("utf-8")


def new_workspace_file(*, site_kind: str, unit: str, kdf: KdfParams | None = None) -> WorkspaceFile:
    """A new, unsigned workspace description with a fresh id and no users."""
    return WorkspaceFile(
        workspace_id=str(_uuid4()),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        site_kind=site_kind,
        unit=unit,
        kdf=kdf or KdfParams(),
    )


def _uuid4() -> str:
    import uuid

    return str(uuid.uuid4())


def save(path: Path, wf: WorkspaceFile, dek: bytes | bytearray) -> WorkspaceFile:
    """Signs ``wf`` with ``dek`` and writes it atomically. Returns the signed copy."""
    signed = wf.signed(dek)
    crypto.atomic_write(path, signed.to_bytes())
    return signed


def load(path: Path) -> WorkspaceFile:
    """Reads and shape-checks ``workspace.json``.

    Raises:
        WorkspaceCorrupt: The file is not valid JSON, or a field is missing or malformed. The
            message names the problem, never a value.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise WorkspaceCorrupt(f"workspace.json is missing in {path.parent}.") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise WorkspaceCorrupt("workspace.json is damaged (not UTF-8 text). Restore it from a backup.") from None
    except json.JSONDecodeError as exc:
        raise WorkspaceCorrupt(
            f"workspace.json is damaged (invalid JSON at line {exc.lineno}). Restore it from a backup."
        ) from None
    try:
        return _parse(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise WorkspaceCorrupt(f"workspace.json is damaged ({exc}). Restore it from a backup.") from None


def _parse(data: Any) -> WorkspaceFile:
    if not isinstance(data, dict):
        raise ValueError("not an object")
    if data.get("format") != FORMAT:
        raise ValueError(f"unknown format {str(data.get('format'))[:40]!r}, expected {FORMAT}")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise ValueError(f"unknown field {sorted(unknown)[0]!r}")
    ws_id = _str(data, "workspace_id")
    if not re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", ws_id):
        raise ValueError("bad workspace_id")
    site_kind = _str(data, "site_kind")
    if site_kind not in SITE_KINDS:
        raise ValueError("bad site_kind")
    users_raw = data["users"]
    if not isinstance(users_raw, dict):
        raise ValueError("bad users")
    users: dict[str, UserWrap] = {}
    for name, u in users_raw.items():
        if not isinstance(name, str) or not USERNAME_RE.fullmatch(name):
            raise ValueError("bad user name")
        if not isinstance(u, dict) or set(u) != _USER_KEYS:
            raise ValueError(f"bad entry for user {name!r}")
        users[name] = UserWrap(
            recipient=_recipient(u, "recipient"),
            salt=_b64(u, "salt"),
            kdf=KdfParams.from_json(u["kdf"]),
            identity_sealed=_b64(u, "identity"),
            dek_age=_b64(u, "dek"),
        )
    disabled = data["disabled"]
    if not isinstance(disabled, list) or not all(isinstance(n, str) and USERNAME_RE.fullmatch(n) for n in disabled):
        raise ValueError("bad disabled list")
    if set(disabled) & set(users):
        raise ValueError("a disabled user still has a key entry")
    rec_raw = data["recovery"]
    recovery = None
    if rec_raw is not None:
        if not isinstance(rec_raw, dict) or set(rec_raw) != {"recipient", "escrow"}:
            raise ValueError("bad recovery")
        recovery = Recovery(recipient=_recipient(rec_raw, "recipient"), escrow=_b64(rec_raw, "escrow"))
    mac_value = _str(data, "mac")
    if not re.fullmatch(r"[0-9a-f]{64}", mac_value):
        raise ValueError("bad mac")
    return WorkspaceFile(
        workspace_id=ws_id,
        created_at=_str(data, "created_at"),
        site_kind=site_kind,
        unit=_str(data, "unit"),
        kdf=KdfParams.from_json(data["kdf"]),
        users=users,
        disabled=tuple(disabled),
        recovery=recovery,
        mac=mac_value,
    )


def _recipient(d: dict[str, Any], key: str) -> str:
    try:
        return crypto.check_age_recipient(_str(d, key))
    except RecoveryError:
        raise ValueError(f"bad {key}") from None


def _str(d: dict[str, Any], key: str) -> str:
    value = d[key]
    if not isinstance(value, str) or not value:
        raise ValueError(f"bad {key}")
    return value


def _b64(d: dict[str, Any], key: str) -> bytes:
    try:
        return crypto.b64d(_str(d, key))
    except (ValueError, UnicodeEncodeError):
        raise ValueError(f"bad {key}") from None


# --- user wraps ------------------------------------------------------------------------------


def _identity_aad(workspace_id: str, name: str) -> bytes:
    return f"nap-user-identity|{workspace_id}|{name}".encode()


def make_user_wrap(
    wf: WorkspaceFile, name: str, password: str, dek: bytes | bytearray, *, keypair: crypto.AgeKeypair | None = None
) -> UserWrap:
    """Makes (or, with ``keypair``, reseals) a user's way to the data key."""
    pair = keypair or crypto.generate_age_keypair()
    salt = secrets.token_bytes(crypto.SALT_BYTES)
    pkey = crypto.derive_password_key(password, salt, wf.kdf)
    return UserWrap(
        recipient=pair.recipient,
        salt=salt,
        kdf=wf.kdf,
        identity_sealed=crypto.seal(pkey, pair.identity.encode("ascii"), _identity_aad(wf.workspace_id, name)),
        dek_age=crypto.age_encrypt(bytes(dek), [pair.recipient]),
    )


def open_user_identity(wf: WorkspaceFile, name: str, password: str) -> crypto.AgeKeypair:
    """Opens a user's sealed identity with the password. :class:`WrongPassword` if it does not fit.

    An unknown user name costs the same KDF work as a known one, so timing does not tell which
    accounts exist.
    """
    wrap = wf.users.get(name)
    if wrap is None:
        crypto.derive_password_key(password, b"\0" * crypto.SALT_BYTES, wf.kdf)
        raise WrongPassword("The user name or password is wrong.")
    pkey = crypto.derive_password_key(password, wrap.salt, wrap.kdf)
    try:
        identity = crypto.unseal(pkey, wrap.identity_sealed, _identity_aad(wf.workspace_id, name)).decode("ascii")
    except CryptoError:
        raise WrongPassword("The user name or password is wrong.") from None
    return crypto.AgeKeypair(identity=identity, recipient=wrap.recipient)


def unwrap_dek(wf: WorkspaceFile, name: str, password: str) -> bytearray:
    """Returns the data key for a user's password."""
    pair = open_user_identity(wf, name, password)
    try:
        dek = crypto.age_decrypt(wf.users[name].dek_age, pair.identity)
    except (CryptoError, RecoveryError):
        raise WorkspaceCorrupt(
            f"The key entry of user {name!r} in workspace.json is damaged. An administrator can reset the password."
        ) from None
    if len(dek) != crypto.KEY_BYTES:
        raise WorkspaceCorrupt("workspace.json holds a data key of the wrong size. Restore it from a backup.")
    return bytearray(dek)


def rewrap_all(wf: WorkspaceFile, dek: bytes | bytearray) -> WorkspaceFile:
    """Encrypts a (new) data key to every user's public key and to the recovery recipient."""
    users = {
        name: replace(w, dek_age=crypto.age_encrypt(bytes(dek), [w.recipient])) for name, w in wf.users.items()
    }
    recovery = None if wf.recovery is None else make_recovery(wf.workspace_id, dek, wf.recovery.recipient)
    return replace(wf, users=users, recovery=recovery)


# --- recovery escrow --------------------------------------------------------------------------


def make_recovery(workspace_id: str, dek: bytes | bytearray, recipient: str) -> Recovery:
    """Encrypts the data key to the HQ recovery recipient (age X25519)."""
    recipient = crypto.check_age_recipient(recipient)
    plaintext = json.dumps(
        {"format": ESCROW_FORMAT, "workspace_id": workspace_id, "dek": bytes(dek).hex()}, sort_keys=True
    ).encode()
    return Recovery(recipient=recipient, escrow=crypto.age_encrypt(plaintext, [recipient]))


def recover_dek(wf: WorkspaceFile, identity: str) -> bytearray:
    """Opens the escrow with the HQ recovery identity and returns the data key.

    Raises:
        RecoveryError: The workspace has no escrow, or the identity is not the one it was made for.
    """
    if wf.recovery is None:
        raise RecoveryError(
            "This workspace has no recovery key set, so it cannot be recovered. "
            "Its data can only be opened with a user's password."
        )
    try:
        plaintext = crypto.age_decrypt(wf.recovery.escrow, identity)
    except CryptoError:
        raise RecoveryError("This recovery identity does not belong to this workspace's recovery key.") from None
    try:
        data = json.loads(plaintext)
        if data.get("format") != ESCROW_FORMAT or data.get("workspace_id") != wf.workspace_id:
            raise ValueError
        dek = bytes.fromhex(data["dek"])
    except (ValueError, KeyError, TypeError, AttributeError):
        raise RecoveryError("The recovery escrow does not belong to this workspace.") from None
    if len(dek) != crypto.KEY_BYTES:
        raise RecoveryError("The recovery escrow holds a key of the wrong size.")
    return bytearray(dek)
