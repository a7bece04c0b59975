# SPDX-License-Identifier: GPL-3.0-or-later
"""Cryptographic building blocks: password KDF, AEAD sealing, age encryption, atomic writes.

Everything here is stateless. Keys are passed as ``bytes``-like values; callers keep the data key
in a ``bytearray`` so that :func:`wipe` can overwrite it when the workspace locks.

- Password keys: Argon2id (cryptography's KDF), parameters stored beside the salt.
- Sealing: AES-256-GCM with a random 96-bit nonce and caller-chosen associated data.
- Public-key encryption: the age format (X25519) through ``pyrage``, so that files we write can be
  opened with the standard ``age`` program.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import hmac
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pyrage
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from nap_desktop.errors import CryptoError, RecoveryError, StorageFull

KEY_BYTES = 32
NONCE_BYTES = 12
SALT_BYTES = 16


@dataclass(frozen=True)
class KdfParams:
    """Argon2id parameters, stored with every wrap so that they can be raised later.

    The defaults take about 100–150 ms on a 2-core laptop (measured in ``bench/``).
    """

    memory_cost: int = 32 * 1024  # KiB
    iterations: int = 3
    lanes: int = 4

    def to_json(self) -> dict[str, object]:
        return {"alg": "argon2id", "m": self.memory_cost, "t": self.iterations, "p": self.lanes}

    @classmethod
    def from_json(cls, data: object) -> KdfParams:
        if not isinstance(data, dict) or data.get("alg") != "argon2id":
            raise ValueError("unsupported KDF")
        m, t, p = data.get("m"), data.get("t"), data.get("p")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (m, t, p)):
            raise ValueError("bad KDF parameters")
        assert isinstance(m, int) and isinstance(t, int) and isinstance(p, int)
        if not (8 * 1024 <= m <= 4 * 1024 * 1024 and 1 <= t <= 64 and 1 <= p <= 64):
            raise ValueError("KDF parameters out of range")
        return cls(memory_cost=m, iterations=t, lanes=p)


def random_key() -> bytearray:
    """A fresh 32-byte key in a wipeable buffer."""
    return bytearray(secrets.token_bytes(KEY_BYTES))


def wipe(buf: bytearray | None) -> None:
    """Overwrites a key buffer in place.

    NOTE: Python may have made copies (e.g. ``bytes(buf)`` passed to a library); this removes the
    long-lived one, which is what an attacker reading a memory dump of a locked app would find.
    """
    if buf is not None:
        for i in range(len(buf)):
            buf[i] = 0


def derive_password_key(password: str, salt: bytes, params: KdfParams) -> bytes:
    """Derives a 32-byte key from a password with Argon2id."""
    kdf = Argon2id(
        salt=salt,
        length=KEY_BYTES,
        iterations=params.iterations,
        lanes=params.lanes,
        memory_cost=params.memory_cost,
    )
    return kdf.derive(password.encode("utf-8"))


def derive_subkey(key: bytes | bytearray, purpose: str) -> bytes:
    """Derives an independent key for one purpose from the data key (HKDF-SHA256)."""
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=purpose.encode()).derive(
        bytes(key)
    )


def seal(key: bytes | bytearray, plaintext: bytes, aad: bytes) -> bytes:
    """AES-256-GCM: returns ``nonce || ciphertext+tag``."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + AESGCM(bytes(key)).encrypt(nonce, plaintext, aad)


def unseal(key: bytes | bytearray, blob: bytes, aad: bytes) -> bytes:
    """Reverses :func:`seal`. Raises :class:`CryptoError` on a wrong key or altered data."""
    if len(blob) < NONCE_BYTES + 16:
        raise CryptoError("The encrypted data is too short: it was damaged.")
    try:
        return AESGCM(bytes(key)).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)
    except InvalidTag:
        raise CryptoError("The key does not fit, or the encrypted data was altered.") from None


def mac(key: bytes | bytearray, data: bytes) -> str:
    """HMAC-SHA256 as hex."""
    return hmac.new(bytes(key), data, hashlib.sha256).hexdigest()


def mac_equal(a: str, b: str) -> bool:
    """Constant-time comparison of two MACs."""
    return hmac.compare_digest(a.encode(), b.encode())


def b64e(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64d(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


# --- age --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgeKeypair:
    """An age X25519 identity (secret, ``AGE-SECRET-KEY-1…``) and its recipient (``age1…``)."""

    identity: str
    recipient: str


def generate_age_keypair() -> AgeKeypair:
    """Makes a new age X25519 identity."""
    ident = pyrage.x25519.Identity.generate()
    return AgeKeypair(identity=str(ident), recipient=str(ident.to_public()))


def check_age_recipient(recipient: str) -> str:
    """Returns the recipient stripped, or raises :class:`RecoveryError` if it is not an age key."""
    text = recipient.strip()
    try:
        pyrage.x25519.Recipient.from_str(text)
    except (pyrage.RecipientError, ValueError):
        raise RecoveryError(
            "That is not an age recipient. It must start with 'age1' (ask HQ for the recovery key)."
        ) from None
    return text


def age_encrypt(plaintext: bytes, recipients: list[str]) -> bytes:
    """Encrypts to every recipient in the binary age format."""
    recips = [pyrage.x25519.Recipient.from_str(r) for r in recipients]
    return pyrage.encrypt(plaintext, recips)


def age_decrypt(ciphertext: bytes, identity: str) -> bytes:
    """Decrypts an age file with an X25519 identity; :class:`CryptoError` if it does not fit."""
    try:
        ident = pyrage.x25519.Identity.from_str(identity.strip())
    except (pyrage.IdentityError, ValueError):
        raise RecoveryError("The recovery identity is not a valid age secret key.") from None
    try:
        return pyrage.decrypt(ciphertext, [ident])
    except pyrage.DecryptError:
        raise CryptoError("This key cannot decrypt the file: wrong key, or the file is damaged.") from None


def passphrase_encrypt(plaintext: bytes, passphrase: str) -> bytes:
    """age passphrase (scrypt) encryption; the file opens with ``age -d`` and the passphrase."""
    return pyrage.passphrase.encrypt(plaintext, passphrase)


def passphrase_decrypt(ciphertext: bytes, passphrase: str) -> bytes:
    """Reverses :func:`passphrase_encrypt`; :class:`CryptoError` on a wrong passphrase."""
    try:
        return pyrage.passphrase.decrypt(ciphertext, passphrase)
    except pyrage.DecryptError:
        raise CryptoError("Wrong passphrase, or the file is damaged.") from None


# --- files ------------------------------------------------------------------------------------


def atomic_write(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Writes ``data`` to ``path`` so that a crash leaves the old file or the new one, never half.

    Temp file in the same folder, permissions set before any byte is written, fsync, replace,
    fsync of the folder. A full disk raises :class:`StorageFull` and leaves the old file intact.
    """
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        try:
            os.chmod(tmp, mode)
        except OSError:  # NOTE: Windows: POSIX modes do not apply; the folder ACL protects it
            pass
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise StorageFull(f"The disk is full: {path.name} was not changed. Free some space and try again.") from None
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
