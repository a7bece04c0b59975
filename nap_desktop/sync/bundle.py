# SPDX-License-Identifier: GPL-3.0-or-later
"""The ``.napb`` container (DESIGN §6): a zip of three stored members.

============================  ================================================================
``payload.age``               JSON Lines, gzip-compressed, encrypted with age to every recipient
``manifest.json``             what the bundle is (see :class:`Manifest`), with the payload's SHA-256
``manifest.json.minisig``     the manifest signed with the device key, in minisign format
============================  ================================================================

Any HQ analyst can check a bundle with standard tools::

    unzip x.napb && minisign -Vm manifest.json -p device.pub && sha256sum payload.age
    age -d -i hq.key payload.age | gunzip

Reading is defensive and streaming: the file size, each member's size, the manifest's size, the
decompressed size (as declared in the signed manifest and under a hard cap) and each line's length
are capped before the work they bound; member names must be exactly the three above, each once,
stored (not zip-compressed). Writing goes to a hidden temporary name in the target folder and is
renamed into place only when complete and synced, so a reader never sees half a bundle of ours; a
half-copied file (USB pulled out) has no zip central directory and is refused as incomplete.
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import io
import json
import os
import queue
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import pyrage

from nap_desktop.errors import BundleDamaged, BundleRejected, StorageFull
from nap_desktop.sync.minisign import PublicKey, SecretKey, SignatureError

FORMAT = "nap-bundle/1"
SUFFIX = ".napb"
KINDS = ("changes", "receipt", "registry", "config")
MEMBERS = ("payload.age", "manifest.json", "manifest.json.minisig")

MAX_BUNDLE_BYTES = 4 * 1024**3
MAX_MANIFEST_BYTES = 256 * 1024
MAX_SIGNATURE_BYTES = 4 * 1024
MAX_PLAIN_BYTES = 32 * 1024**3  # decompressed payload, whatever the manifest says
MAX_RATIO = 200  # decompressed / compressed: gzip of JSON Lines is ~5-15×; bombs are 1000×
MAX_LINE_BYTES = 64 * 1024**2  # one record with its evidence file (20 MiB, base64)
MAX_RECIPIENTS = 32  # age stanzas: cap them before any crypto (Crypt-Age CVE)
_CHUNK = 256 * 1024


@dataclass(frozen=True)
class Manifest:
    """The signed description of a bundle. Hashes are hex SHA-256."""

    bundle_id: str
    kind: str
    device_id: str
    source_unit: str
    key_id: str
    created_at: str
    schema_version: str
    recipients: tuple[str, ...]
    payload_sha256: str
    payload_size: int
    plain_size: int
    seq_from: int = 0
    seq_to: int = 0
    prev_sha256: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    target_device: str = ""
    format: str = FORMAT

    def to_bytes(self) -> bytes:
        body = asdict(self)
        body["recipients"] = list(self.recipients)
        return (json.dumps(body, sort_keys=True, indent=1, ensure_ascii=True) + "\n").encode()

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.to_bytes()).hexdigest()

    def trusted_comment(self) -> str:
        return f"{FORMAT} kind={self.kind} id={self.bundle_id} unit={self.source_unit} seq={self.seq_from}-{self.seq_to} prev={self.prev_sha256[:16]}"

    @classmethod
    def parse(cls, raw: bytes) -> Manifest:
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise BundleDamaged("The bundle's manifest is not valid JSON: the file is damaged.") from exc
        if not isinstance(body, dict) or body.get("format") != FORMAT:
            raise BundleDamaged("This is not a NAP sync bundle (unknown format).")
        spec: dict[str, type | tuple[type, ...]] = {
            "bundle_id": str, "kind": str, "device_id": str, "source_unit": str, "key_id": str, "created_at": str,
            "schema_version": str, "recipients": list, "payload_sha256": str, "payload_size": int, "plain_size": int,
            "seq_from": int, "seq_to": int, "prev_sha256": str, "counts": dict, "target_device": str, "format": str,
        }
        if set(body) != set(spec):
            raise BundleDamaged("The bundle's manifest has missing or unknown fields.")
        for name, typ in spec.items():
            value = body[name]
            if not isinstance(value, typ) or (typ is int and isinstance(value, bool)):
                raise BundleDamaged(f"The bundle's manifest field {name!r} has the wrong type.")
        if body["kind"] not in KINDS:
            raise BundleDamaged("The bundle's kind is unknown.")
        if not all(isinstance(r, str) and len(r) < 200 for r in body["recipients"]) or len(body["recipients"]) > MAX_RECIPIENTS:
            raise BundleDamaged("The bundle's recipient list is malformed.")
        if not all(isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) and v >= 0 for k, v in body["counts"].items()):
            raise BundleDamaged("The bundle's counts are malformed.")
        if body["payload_size"] < 0 or body["plain_size"] < 0 or body["seq_from"] < 0 or body["seq_to"] < body["seq_from"]:
            raise BundleDamaged("The bundle's manifest has impossible sizes or sequence numbers.")
        body["recipients"] = tuple(body["recipients"])
        return cls(**body)


# --- writing ----------------------------------------------------------------------------------


class _GzipLines(io.RawIOBase):
    """A readable stream of the gzip of ``lines`` (newline-terminated), made as it is read."""

    def __init__(self, lines: Iterable[bytes]) -> None:
        self._lines = iter(lines)
        self._buf = bytearray()
        self._out = _Sink()
        # NOTE: mtime 0 and no file name: the same lines give the same bytes, and nothing leaks.
        self._gz = gzip.GzipFile(fileobj=self._out, mode="wb", compresslevel=6, mtime=0)
        self._done = False
        self.plain_size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        while len(self._out.data) < len(b) and not self._done:
            chunk = bytearray()
            for line in self._lines:
                chunk += line
                if len(chunk) >= _CHUNK:
                    break
            else:
                self._done = True
            if chunk:
                self.plain_size += len(chunk)
                self._gz.write(chunk)
            if self._done:
                self._gz.close()
        n = min(len(b), len(self._out.data))
        b[:n] = self._out.data[:n]
        del self._out.data[:n]
        return n


class _Sink:
    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, b: bytes) -> int:
        self.data += b
        return len(b)

    def flush(self) -> None:
        pass


class _HashingWriter:
    def __init__(self, inner: BinaryIO) -> None:
        self.inner = inner
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, b: bytes) -> int:
        self.sha.update(b)
        self.size += len(b)
        self.inner.write(b)
        return len(b)

    def flush(self) -> None:
        self.inner.flush()


def write_bundle(
    folder: Path,
    file_name: str,
    make_manifest: Callable[[str, int, int], Manifest],
    lines: Iterable[bytes],
    recipients: Iterable[str],
    signer: SecretKey,
) -> tuple[Path, Manifest]:
    """Writes a bundle atomically into ``folder`` and returns its path and manifest.

    ``lines`` are JSON Lines (each ending in ``\\n``), consumed once. ``make_manifest(sha256, size,
    plain_size)`` builds the manifest once the payload is written (counts are known only then).
    """
    recips = []
    for r in recipients:
        try:
            recips.append(pyrage.x25519.Recipient.from_str(r))
        except Exception as exc:  # noqa: BLE001 - pyrage raises its own types
            raise BundleRejected("A recipient key in the registry is not a valid age recipient.") from exc
    if not recips or len(recips) > MAX_RECIPIENTS:
        raise BundleRejected("A bundle needs between one and 32 recipients.")
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / file_name
    tmp = folder / f".{file_name}.partial"
    try:
        with open(tmp, "wb") as fh:
            try:
                os.chmod(tmp, 0o600)
            except OSError:  # NOTE: Windows: the folder ACL protects it
                pass
            with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
                source = _GzipLines(lines)
                with zf.open(zipfile.ZipInfo("payload.age", date_time=(1980, 1, 1, 0, 0, 0)), "w", force_zip64=True) as member:
                    hashing = _HashingWriter(member)  # type: ignore[arg-type]
                    pyrage.encrypt_io(io.BufferedReader(source, _CHUNK), hashing, recips)
                manifest = make_manifest(hashing.sha.hexdigest(), hashing.size, source.plain_size)
                raw = manifest.to_bytes()
                zf.writestr(zipfile.ZipInfo("manifest.json", date_time=(1980, 1, 1, 0, 0, 0)), raw)
                sig = signer.sign(raw, manifest.trusted_comment(), f"nap-desktop bundle signed by key {signer.public.id_hex}")
                zf.writestr(zipfile.ZipInfo("manifest.json.minisig", date_time=(1980, 1, 1, 0, 0, 0)), sig)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, final)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise StorageFull(f"The disk is full: the bundle was not written to {folder}. Free some space and try again.") from None
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return final, manifest


# --- reading ----------------------------------------------------------------------------------


@dataclass
class OpenedBundle:
    """A bundle whose container and manifest have been checked (not yet its signature)."""

    path: Path
    manifest: Manifest
    manifest_raw: bytes
    signature: str
    _payload_info: zipfile.ZipInfo

    @property
    def manifest_sha256(self) -> str:
        return hashlib.sha256(self.manifest_raw).hexdigest()

    def verify_signature(self, key: PublicKey) -> str:
        """Checks the manifest's signature with ``key``; returns the trusted comment."""
        try:
            comment = key.verify(self.manifest_raw, self.signature)
        except SignatureError as exc:
            raise BundleRejected(f"The bundle's signature does not verify: {exc}") from exc
        if comment != self.manifest.trusted_comment():
            raise BundleRejected("The bundle's signed comment does not match its manifest.")
        return comment

    def _open_payload(self, zf: zipfile.ZipFile) -> BinaryIO:
        return zf.open(self._payload_info)  # type: ignore[return-value]

    def verify_payload(self) -> None:
        """Checks the payload's size and SHA-256 against the (signed) manifest."""
        if self._payload_info.file_size != self.manifest.payload_size:
            raise BundleDamaged("The bundle's payload has a different size than its manifest says: the file was altered or damaged.")
        sha = hashlib.sha256()
        try:
            with zipfile.ZipFile(self.path) as zf, self._open_payload(zf) as fh:
                while chunk := fh.read(_CHUNK):
                    sha.update(chunk)
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
            raise BundleDamaged("The bundle's payload cannot be read: the file is damaged.") from exc
        if sha.hexdigest() != self.manifest.payload_sha256:
            raise BundleDamaged("The bundle's payload does not match its manifest: the file was altered or damaged.")

    def iter_lines(self, identities: list[Any]) -> Iterator[bytes]:
        """Decrypts and decompresses the payload as a stream, yielding its lines.

        Memory stays flat: age decrypts in 64 KiB chunks on a helper thread feeding a bounded
        queue. Lines are yielded as they arrive; a truncated or altered payload raises before the
        generator ends (age authenticates every chunk and marks the last), so callers commit
        nothing until the generator is exhausted.
        """
        limit = min(MAX_PLAIN_BYTES, self.manifest.plain_size, max(self.manifest.payload_size, 1) * MAX_RATIO)
        if self.manifest.plain_size > limit:
            raise BundleDamaged("The bundle declares a payload too large to unpack.")
        q: queue.Queue[bytes | BaseException | None] = queue.Queue(maxsize=8)
        stop = threading.Event()

        class _Writer:
            def write(self, b: bytes) -> int:
                if stop.is_set():
                    raise _Stopped()
                q.put(bytes(b))
                return len(b)

            def flush(self) -> None:
                pass

        def produce() -> None:
            try:
                with zipfile.ZipFile(self.path) as zf, self._open_payload(zf) as fh:
                    pyrage.decrypt_io(io.BufferedReader(fh, _CHUNK), _Writer(), identities)  # type: ignore[arg-type]
                q.put(None)
            except _Stopped:
                q.put(None)
            except BaseException as exc:  # noqa: BLE001 - handed to the consumer
                q.put(exc)

        worker = threading.Thread(target=produce, name="bundle-decrypt", daemon=True)
        worker.start()
        inflate = zlib.decompressobj(wbits=31)
        total = 0
        pending = bytearray()
        try:
            while True:
                item = q.get()
                if item is None:
                    break
                if isinstance(item, BaseException):
                    raise _decrypt_error(item)
                data = inflate.decompress(item, limit - total + 1)
                total += len(data)
                if total > limit or inflate.unconsumed_tail:
                    raise BundleDamaged("The bundle's payload unpacks to more than its manifest declares (a decompression bomb?).")
                pending += data
                if len(pending) > MAX_LINE_BYTES and b"\n" not in pending:
                    raise BundleDamaged("The bundle holds a line longer than allowed.")
                *complete, rest = pending.split(b"\n")
                pending = bytearray(rest)
                yield from complete
            try:
                tail = inflate.flush()
            except zlib.error as exc:
                raise BundleDamaged("The bundle's payload is not valid gzip.") from exc
            total += len(tail)
            pending += tail
            if not inflate.eof or inflate.unused_data:
                raise BundleDamaged("The bundle's payload is cut short or has trailing data.")
            if total != self.manifest.plain_size:
                raise BundleDamaged("The bundle's payload has a different size than its manifest says.")
            if pending:
                raise BundleDamaged("The bundle's payload does not end with a complete line.")
        except zlib.error as exc:
            raise BundleDamaged("The bundle's payload is not valid gzip.") from exc
        finally:
            stop.set()
            while worker.is_alive():
                try:
                    q.get(timeout=0.05)
                except queue.Empty:
                    pass
            worker.join()


class _Stopped(Exception):
    pass


def _decrypt_error(exc: BaseException) -> Exception:
    if isinstance(exc, pyrage.DecryptError):
        text = str(exc).lower()
        if "no matching keys" in text or "no identity matched" in text:
            return BundleRejected("This bundle is not addressed to this workspace (none of its recipient keys is ours).")
        return BundleDamaged("The bundle's payload does not decrypt: the file was altered or damaged.")
    if isinstance(exc, (zipfile.BadZipFile, zlib.error, OSError, EOFError)):
        return BundleDamaged("The bundle's payload cannot be read: the file is damaged.")
    return BundleDamaged("The bundle's payload cannot be decrypted.")


def open_bundle(path: Path) -> OpenedBundle:
    """Opens ``path`` and checks the container and the manifest's shape (nothing decrypted yet).

    Raises:
        BundleDamaged: not a bundle, incomplete (truncated / still copying), wrong members, over a cap.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise BundleDamaged(f"The bundle file {path.name} cannot be read.") from exc
    if size > MAX_BUNDLE_BYTES:
        raise BundleDamaged(f"The bundle file {path.name} is larger than allowed ({size} bytes).")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            names = [i.filename for i in infos]
            if len(names) != len(MEMBERS) or sorted(names) != sorted(MEMBERS):
                raise BundleDamaged(f"The bundle file {path.name} has unexpected contents (members must be exactly {', '.join(MEMBERS)}).")
            by_name = {i.filename: i for i in infos}
            for info in infos:
                if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 0x1:
                    raise BundleDamaged(f"The bundle file {path.name} has a compressed or encrypted zip member.")
            if by_name["manifest.json"].file_size > MAX_MANIFEST_BYTES or by_name["manifest.json.minisig"].file_size > MAX_SIGNATURE_BYTES:
                raise BundleDamaged(f"The bundle file {path.name} has an oversized manifest or signature.")
            if by_name["payload.age"].file_size > MAX_BUNDLE_BYTES:
                raise BundleDamaged(f"The bundle file {path.name} has an oversized payload.")
            try:
                manifest_raw = zf.read("manifest.json")
                sig = zf.read("manifest.json.minisig")
            except zipfile.BadZipFile as exc:
                raise BundleDamaged(f"The bundle file {path.name} is damaged (a member does not match its checksum).") from exc
    except zipfile.BadZipFile as exc:
        raise BundleDamaged(
            f"The bundle file {path.name} is incomplete or not a bundle (truncated, or still being copied). Copy it again from the source."
        ) from exc
    except (zlib.error, EOFError, OSError) as exc:
        raise BundleDamaged(f"The bundle file {path.name} is damaged (a member does not match its checksum).") from exc
    manifest = Manifest.parse(manifest_raw)
    try:
        sig_text = sig.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BundleDamaged("The bundle's signature is not text: the file is damaged.") from exc
    return OpenedBundle(path, manifest, manifest_raw, sig_text, by_name["payload.age"])
