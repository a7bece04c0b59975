# SPDX-License-Identifier: GPL-3.0-or-later
"""Ed25519 signatures in the minisign file formats (https://jedisct1.github.io/minisign/).

We sign with ``cryptography``'s Ed25519 and write exactly what the ``minisign`` program reads and
writes, so any HQ analyst can check a manifest with ``minisign -Vm manifest.json -p device.pub``,
and a key exported with :func:`secret_key_file` signs with ``minisign -S``.

- public key: ``"Ed" || key id (8) || public key (32)``, base64, after an untrusted comment line;
- signature: ``"ED" || key id || Ed25519(BLAKE2b-512(message))`` (the pre-hashed algorithm), then a
  trusted comment and a global signature ``Ed25519(signature || trusted comment)``;
- secret key (unencrypted, as ``minisign -G -W`` makes): ``"Ed" || kdf "\\0\\0" || "B2" || salt (32) ||
  opslimit (8) || memlimit (8) || key id || secret key (64) || BLAKE2b-256 checksum``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from nap_desktop.errors import CryptoError

_PK_ALG = b"Ed"
_SIG_ALG_PREHASHED = b"ED"
_SIG_ALG_LEGACY = b"Ed"
MAX_COMMENT = 1024


class SignatureError(CryptoError):
    """A signature or key in minisign format is malformed or does not verify."""


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _raw_private(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())


def key_id_hex(key_id: bytes) -> str:
    """The key id as minisign prints it (the little-endian number in upper-case hex)."""
    return key_id[::-1].hex().upper()


@dataclass(frozen=True)
class PublicKey:
    key_id: bytes
    key: Ed25519PublicKey

    @property
    def id_hex(self) -> str:
        return key_id_hex(self.key_id)

    def to_base64(self) -> str:
        return base64.b64encode(_PK_ALG + self.key_id + _raw_public(self.key)).decode()

    def to_file(self) -> str:
        return f"untrusted comment: minisign public key {self.id_hex}\n{self.to_base64()}\n"

    @classmethod
    def from_base64(cls, text: str) -> PublicKey:
        try:
            raw = base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise SignatureError("The public key is not valid base64.") from exc
        if len(raw) != 42 or raw[:2] != _PK_ALG:
            raise SignatureError("This is not a minisign Ed25519 public key.")
        return cls(raw[2:10], Ed25519PublicKey.from_public_bytes(raw[10:]))

    @classmethod
    def from_file(cls, text: str) -> PublicKey:
        lines = [ln for ln in text.splitlines() if ln.strip()]
        if len(lines) != 2 or not lines[0].startswith("untrusted comment:"):
            raise SignatureError("This is not a minisign public key file.")
        return cls.from_base64(lines[1])

    def verify(self, message: bytes, signature_file: str | bytes) -> str:
        """Checks a ``.minisig`` over ``message``; returns its trusted comment.

        Raises:
            SignatureError: malformed, made by another key, or not matching the message.
        """
        sig = Signature.parse(signature_file)
        if sig.key_id != self.key_id:
            raise SignatureError(f"The signature was made by key {key_id_hex(sig.key_id)}, not by {self.id_hex}.")
        digest = hashlib.blake2b(message, digest_size=64).digest() if sig.prehashed else message
        try:
            self.key.verify(sig.signature, digest)
            self.key.verify(sig.global_signature, sig.signature + sig.trusted_comment.encode())
        except InvalidSignature as exc:
            raise SignatureError("The signature does not match: the file was changed or signed by someone else.") from exc
        return sig.trusted_comment


@dataclass(frozen=True)
class Signature:
    key_id: bytes
    signature: bytes
    trusted_comment: str
    global_signature: bytes
    prehashed: bool

    @classmethod
    def parse(cls, data: str | bytes) -> Signature:
        try:
            text = data.decode("utf-8") if isinstance(data, bytes) else data
        except UnicodeDecodeError as exc:
            raise SignatureError("The signature file is not text.") from exc
        if len(text) > 4 * MAX_COMMENT:
            raise SignatureError("The signature file is too large.")
        lines = text.split("\n")
        if len(lines) < 4 or not lines[0].startswith("untrusted comment:") or not lines[2].startswith("trusted comment: "):
            raise SignatureError("This is not a minisign signature.")
        try:
            raw = base64.b64decode(lines[1].strip(), validate=True)
            global_sig = base64.b64decode(lines[3].strip(), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise SignatureError("The signature is not valid base64.") from exc
        if len(raw) != 74 or raw[:2] not in (_SIG_ALG_PREHASHED, _SIG_ALG_LEGACY) or len(global_sig) != 64:
            raise SignatureError("This is not a minisign Ed25519 signature.")
        return cls(raw[2:10], raw[10:], lines[2][len("trusted comment: ") :], global_sig, raw[:2] == _SIG_ALG_PREHASHED)


@dataclass(frozen=True)
class SecretKey:
    key_id: bytes
    key: Ed25519PrivateKey

    @classmethod
    def generate(cls) -> SecretKey:
        return cls(os.urandom(8), Ed25519PrivateKey.generate())

    @property
    def public(self) -> PublicKey:
        return PublicKey(self.key_id, self.key.public_key())

    def to_bytes(self) -> bytes:
        """Key id and seed (40 bytes), for storing inside the encrypted store."""
        return self.key_id + _raw_private(self.key)

    @classmethod
    def from_bytes(cls, raw: bytes) -> SecretKey:
        if len(raw) != 40:
            raise SignatureError("Stored signing key has the wrong length.")
        return cls(raw[:8], Ed25519PrivateKey.from_private_bytes(raw[8:]))

    def sign(self, message: bytes, trusted_comment: str, untrusted_comment: str = "signature from nap-desktop") -> str:
        """A ``.minisig`` text for ``message`` (pre-hashed algorithm, as minisign ≥ 0.8 makes)."""
        if "\n" in trusted_comment or "\r" in trusted_comment or len(trusted_comment) > MAX_COMMENT:
            raise ValueError("trusted comment must be one short line")
        sig = self.key.sign(hashlib.blake2b(message, digest_size=64).digest())
        global_sig = self.key.sign(sig + trusted_comment.encode())
        return (
            f"untrusted comment: {untrusted_comment}\n"
            f"{base64.b64encode(_SIG_ALG_PREHASHED + self.key_id + sig).decode()}\n"
            f"trusted comment: {trusted_comment}\n"
            f"{base64.b64encode(global_sig).decode()}\n"
        )

    def secret_key_file(self) -> str:
        """The key as an unencrypted minisign secret key file (``minisign -S -s FILE`` signs with it)."""
        seed = _raw_private(self.key)
        sk = seed + _raw_public(self.key.public_key())
        checksum = hashlib.blake2b(_PK_ALG + self.key_id + sk, digest_size=32).digest()
        raw = _PK_ALG + b"\x00\x00" + b"B2" + bytes(32) + bytes(8) + bytes(8) + self.key_id + sk + checksum
        return f"untrusted comment: minisign secret key {self.public.id_hex}\n{base64.b64encode(raw).decode()}\n"
