# SPDX-License-Identifier: GPL-3.0-or-later
"""The one typed error hierarchy of NAP Desktop.

Every error a user can cause is a :class:`UserFacingError`. Its message is safe to show and to
log: it never holds personal data, keys, passwords or decrypted content. The CLI prints it as one
line and exits 1; the GUI shows it in a dialog. Anything that is not a ``UserFacingError`` is a
bug: the CLI and GUI say where the log is instead of printing its text.
"""

from __future__ import annotations


class NapError(Exception):
    """Base of every error raised on purpose by NAP Desktop."""


class UserFacingError(NapError):
    """An error whose message is safe to show a user (no personal data, no secrets).

    Args:
        message: What happened and what to do, in plain words, one line.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class Cancelled(NapError):
    """The user cancelled a long operation. Shown nowhere; the operation rolled back."""


# --- workspace -----------------------------------------------------------------------------------


class WorkspaceError(UserFacingError):
    """The workspace folder is missing, damaged or not usable."""


class WorkspaceNotFound(WorkspaceError):
    """No workspace at the given path."""


class WorkspaceExists(WorkspaceError):
    """A workspace already exists where a new one was to be made."""


class WorkspaceCorrupt(WorkspaceError):
    """``workspace.json`` or ``store.db`` is damaged or was edited by hand."""


class SchemaTooNew(WorkspaceError):
    """The store was written by a newer version of NAP Desktop."""


class WorkspaceBusy(WorkspaceError):
    """Another NAP Desktop process (the GUI or a CLI command) is writing to this workspace."""


class WorkspaceLocked(WorkspaceError):
    """The workspace is locked: its key has been dropped; unlock it again."""


# --- security ------------------------------------------------------------------------------------


class AuthError(UserFacingError):
    """Authentication failed."""


class WrongPassword(AuthError):
    """The user name or password is wrong."""


class AccountDisabled(AuthError):
    """The account has been disabled by an administrator."""


class LoginThrottled(AuthError):
    """Too many failed logins: the user must wait before trying again.

    Args:
        message: The safe message.
        retry_after: Seconds until the next attempt is accepted.
    """

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class WeakPassword(UserFacingError):
    """A new password does not meet the strength rules."""


class PermissionDenied(UserFacingError):
    """The signed-in user's role does not allow this operation."""


class RecoveryError(UserFacingError):
    """Recovery is impossible or the recovery identity does not fit this workspace."""


class CryptoError(UserFacingError):
    """An encrypted file could not be decrypted: wrong key, or the file was damaged or altered."""


class AuditChainBroken(UserFacingError):
    """The audit chain does not verify.

    Args:
        message: The safe message.
        seq: The sequence number of the first entry that does not verify.
    """

    def __init__(self, message: str, seq: int | None) -> None:
        super().__init__(message)
        self.seq = seq


# --- backup --------------------------------------------------------------------------------------


class BackupError(UserFacingError):
    """A backup cannot be made or restored as asked (no protection, target folder in use, …)."""


class BackupCorrupt(BackupError):
    """The backup file is damaged, truncated, altered or not a NAP Desktop backup; nothing was restored."""


class BackupKeyMismatch(BackupError):
    """The recovery key, passphrase or account password given does not open this backup."""


# --- data ----------------------------------------------------------------------------------------


class ValidationError(UserFacingError):
    """Input does not satisfy the rules.

    ``fields`` maps field names to messages in English, ``fields_ur`` to the same in Urdu.
    """

    def __init__(
        self, message: str, fields: dict[str, str] | None = None, *, fields_ur: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.fields = dict(fields or {})
        self.fields_ur = dict(fields_ur or {})


class RecordLocked(UserFacingError):
    """The record belongs to a unit-month whose return was approved; edits are refused."""


class ReturnStateError(UserFacingError):
    """A monthly return is not in a state that allows this step (e.g. approving a draft)."""


class ReturnOutdated(UserFacingError):
    """The records behind a monthly return changed since it was compiled; compile it again."""


class VersionConflict(UserFacingError):
    """The record was changed by someone else since it was opened."""


class NotFound(UserFacingError):
    """The object asked for does not exist (or is not visible to this user)."""


class CodeListError(UserFacingError):
    """A code list file is malformed: duplicate codes, missing labels, broken mappings."""


class ConfigError(UserFacingError):
    """A resource or configuration file is malformed."""


class StorageFull(UserFacingError):
    """The disk is full; nothing was written."""


class ExportError(UserFacingError):
    """A report or export file cannot be written where asked (no such folder, not writable)."""


# --- sync ----------------------------------------------------------------------------------------


class SyncError(UserFacingError):
    """Sync cannot go on as asked: not enrolled yet, no registry, a key missing."""


class BundleDamaged(SyncError):
    """A bundle file is incomplete (truncated, still being copied), malformed or altered; nothing was imported."""


class BundleRejected(SyncError):
    """A bundle is well formed but not trusted: unknown, revoked or rotated-out key, wrong recipient,
    or records that fail validation; nothing was imported."""


class RegistryError(SyncError):
    """A key registry is expired, older than the one in use, or not signed by HQ's root key."""


class EnrolmentError(SyncError):
    """An enrolment request or response does not fit this workspace."""


class NotEnrolled(SyncError):
    """The workspace is not (or no longer) in HQ's key registry: nothing can be signed for HQ yet."""


class ConfigRefused(SyncError):
    """HQ's field settings in a config bundle are older than the ones applied, or clash with them; nothing changed."""


# --- HQ intake server and link (issue 7) -----------------------------------------------------------


class StoreUnavailable(WorkspaceError):
    """The workspace's PostgreSQL database (HQ) cannot be reached or used."""


class LinkError(SyncError):
    """The HQ server cannot be reached, refused a request, or answered something unexpected."""


class ServerConfigError(UserFacingError):
    """The intake server cannot start as configured (TLS files, address, inbox)."""


class HqUnreachable(LinkError):
    """HQ's server cannot be reached now (no network, server down, timeout): try again later."""
