# SPDX-License-Identifier: GPL-3.0-or-later
"""The HTTP link between a device and HQ's intake server (``nap-link/1``).

Endpoints (JSON answers, ``{"error": code, "message": text}`` on failure)::

    GET  /v1/health                  no authentication; {"status": "ok", "protocol", "time"}
    PUT  /v1/bundles/{bundle id}     a changes bundle (Content-Length required, size-capped)
    POST /v1/pickup                  {"awaiting": [bundle ids], "registry_version": n, "config_version": n}
                                     → a zip: index.json (state of each bundle) + receipt,
                                       registry and config bundles for this device (a config
                                       bundle if HQ published field settings after config_version)

Every request but the health check is signed with the device's Ed25519 key (the one HQ's
registry lists for it), in minisign format, over::

    nap-link/1 \\n METHOD \\n PATH \\n DEVICE ID \\n KEY ID \\n UNIX TIME \\n NONCE \\n BODY SHA-256

The body hash of an upload is ``UNSIGNED-PAYLOAD``: the bundle carries its own signature, which the
server checks before keeping anything. The server refuses a time more than :data:`CLOCK_WINDOW`
seconds off its own (answering ``clock`` with its time, so a device with a wrong clock can
correct its offset and sign again) and any nonce seen within that window (``replay``) by any server
sharing its store (:func:`nap_desktop.services.hq.remember_nonce`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
import time
from dataclasses import dataclass

from nap_desktop.sync.minisign import PublicKey, SecretKey, SignatureError

PROTOCOL = "nap-link/1"
CLOCK_WINDOW = 300
UNSIGNED = "UNSIGNED-PAYLOAD"

H_DEVICE = "x-nap-device"
H_KEY = "x-nap-key"
H_TIME = "x-nap-time"
H_NONCE = "x-nap-nonce"
H_SIGNATURE = "x-nap-signature"

PATH_HEALTH = "/v1/health"
PATH_BUNDLES = "/v1/bundles/"
PATH_PICKUP = "/v1/pickup"

_NONCE_RE = re.compile(r"^[0-9a-f]{32}$")
_KEY_RE = re.compile(r"^[0-9A-F]{16}$")
_DEVICE_RE = re.compile(r"^[0-9a-f-]{36}$")
_MAX_SIG_HEADER = 1024


class AuthError(Exception):
    """A request's authentication is missing, malformed, stale, replayed or wrong. ``code`` is sent back."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def body_sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def message(method: str, path: str, device_id: str, key_id: str, ts: int, nonce: str, body_hash: str) -> bytes:
    return "\n".join([PROTOCOL, method.upper(), path, device_id, key_id, str(ts), nonce, body_hash]).encode()


def sign_request(key: SecretKey, device_id: str, method: str, path: str, body_hash: str, *, now: float | None = None) -> dict[str, str]:
    """The authentication headers of one request."""
    ts = int(now if now is not None else time.time())
    nonce = secrets.token_hex(16)
    key_id = key.public.id_hex
    sig = key.sign(message(method, path, device_id, key_id, ts, nonce, body_hash), f"{PROTOCOL} request", "nap-desktop request")
    return {
        H_DEVICE: device_id,
        H_KEY: key_id,
        H_TIME: str(ts),
        H_NONCE: nonce,
        H_SIGNATURE: base64.b64encode(sig.encode()).decode(),
    }


@dataclass(frozen=True)
class RequestAuth:
    device_id: str
    key_id: str
    ts: int
    nonce: str
    signature: str


def parse_headers(headers: dict[str, str] | object) -> RequestAuth:
    """Reads the authentication headers (a mapping with lower-case names); checks their shape only."""
    get = headers.get  # type: ignore[attr-defined]
    device, key_id, ts, nonce, sig = (get(h) for h in (H_DEVICE, H_KEY, H_TIME, H_NONCE, H_SIGNATURE))
    if not all(isinstance(v, str) and v for v in (device, key_id, ts, nonce, sig)):
        raise AuthError("auth", "The request is not signed (the device's signature headers are missing).")
    assert isinstance(device, str) and isinstance(key_id, str) and isinstance(ts, str) and isinstance(nonce, str) and isinstance(sig, str)
    if not _DEVICE_RE.fullmatch(device) or not _KEY_RE.fullmatch(key_id) or not _NONCE_RE.fullmatch(nonce) or not ts.isdigit() or len(ts) > 12:
        raise AuthError("auth", "The request's signature headers are malformed.")
    if len(sig) > _MAX_SIG_HEADER:
        raise AuthError("auth", "The request's signature header is too long.")
    try:
        text = base64.b64decode(sig, validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise AuthError("auth", "The request's signature is not valid base64.") from None
    return RequestAuth(device, key_id, int(ts), nonce, text)


def check_time(auth: RequestAuth, *, now: float | None = None) -> None:
    now = now if now is not None else time.time()
    if abs(now - auth.ts) > CLOCK_WINDOW:
        raise AuthError("clock", "The device's clock is too far from the server's; the request was refused.")


def verify(auth: RequestAuth, key: PublicKey, method: str, path: str, body_hash: str) -> None:
    """Checks the signature of a request with the device's public key."""
    try:
        comment = key.verify(message(method, path, auth.device_id, auth.key_id, auth.ts, auth.nonce, body_hash), auth.signature)
    except SignatureError:
        raise AuthError("signature", "The request's signature does not verify.") from None
    if comment != f"{PROTOCOL} request":
        raise AuthError("signature", "The request's signed comment is not a nap-link request.")
