# SPDX-License-Identifier: GPL-3.0-or-later
"""Roles and permissions: the one table that says who may do what.

Services call :func:`require` (through ``Session.require``) before they touch data; the GUI only
mirrors this table to hide what a role cannot do. Scope is the user's unit subtree: an officer of a
post acts on that post, a circle head on the circle and its posts, HQ roles on everything.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OFFICER = "officer"
    CIRCLE_HEAD = "circle_head"
    HQ_ANALYST = "hq_analyst"
    ADMIN = "admin"
    AUDITOR = "auditor"


class Perm(StrEnum):
    """Operations that need a permission. Values are stable: they appear in audit entries."""

    WORKSPACE_VIEW = "workspace.view"
    WORKSPACE_BACKUP = "workspace.backup"
    PASSWORD_CHANGE_OWN = "password.change_own"
    USER_LIST = "user.list"
    USER_MANAGE = "user.manage"  # add, disable, enable, reset password (within scope)
    UNIT_LIST = "unit.list"
    UNIT_MANAGE = "unit.manage"
    AUDIT_READ = "audit.read"
    AUDIT_VERIFY = "audit.verify"
    DB_UPGRADE = "db.upgrade"
    REKEY = "workspace.rekey"
    RECOVERY_SET = "recovery.set"
    SETTINGS_MANAGE = "settings.manage"
    RECORD_CAPTURE = "record.capture"
    RECORD_READ = "record.read"
    PERSONAL_VIEW = "personal.view"
    CASE_MANAGE = "case.manage"
    RETURN_COMPILE = "return.compile"
    RETURN_SUBMIT = "return.submit"
    RETURN_SUBMIT_POST = "return.submit_post"  # a post's officer submits the post's own return to its circle
    RETURN_APPROVE = "return.approve"
    RETURN_UNLOCK = "return.unlock"
    BUNDLE_EXPORT = "bundle.export"
    BUNDLE_IMPORT = "bundle.import"
    INDICATORS_NATIONAL = "indicators.national"
    REPORT_PUBLISH = "report.publish"
    REPORT_INTERNAL = "report.internal"  # reports with small counts (not suppressed), own scope
    KEYS_MANAGE = "keys.manage"
    CODELIST_MANAGE = "codelist.manage"


_ALL_USERS = {Perm.WORKSPACE_VIEW, Perm.PASSWORD_CHANGE_OWN, Perm.UNIT_LIST}
_CAPTURE = {Perm.RECORD_CAPTURE, Perm.RECORD_READ, Perm.PERSONAL_VIEW, Perm.BUNDLE_EXPORT, Perm.RETURN_COMPILE}
# Backups: every role that keeps data in a workspace (not the auditor, who only reads the log).
_BACKUP = {Perm.WORKSPACE_BACKUP}

PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.OFFICER: frozenset(_ALL_USERS | _CAPTURE | _BACKUP | {Perm.RETURN_SUBMIT_POST}),
    Role.CIRCLE_HEAD: frozenset(
        _ALL_USERS
        | _CAPTURE
        | _BACKUP
        | {Perm.CASE_MANAGE, Perm.RETURN_SUBMIT, Perm.RETURN_APPROVE, Perm.USER_LIST, Perm.USER_MANAGE, Perm.BUNDLE_IMPORT, Perm.REPORT_INTERNAL}
    ),
    Role.HQ_ANALYST: frozenset(
        _ALL_USERS
        | _BACKUP
        | {
            Perm.RECORD_READ,
            Perm.BUNDLE_IMPORT,
            Perm.BUNDLE_EXPORT,
            Perm.INDICATORS_NATIONAL,
            Perm.REPORT_PUBLISH,
            Perm.REPORT_INTERNAL,
            Perm.RETURN_COMPILE,
            Perm.RETURN_APPROVE,
        }
    ),
    Role.ADMIN: frozenset(
        _ALL_USERS
        | _BACKUP
        | {
            Perm.USER_LIST,
            Perm.USER_MANAGE,
            Perm.UNIT_MANAGE,
            Perm.DB_UPGRADE,
            Perm.REKEY,
            Perm.RECOVERY_SET,
            Perm.SETTINGS_MANAGE,
            Perm.KEYS_MANAGE,
            Perm.CODELIST_MANAGE,
            Perm.RETURN_UNLOCK,
            Perm.AUDIT_VERIFY,
        }
    ),
    Role.AUDITOR: frozenset(_ALL_USERS | {Perm.AUDIT_READ, Perm.AUDIT_VERIFY, Perm.USER_LIST}),
}

# Personal data for an HQ analyst only with the per-user ``case_access`` flag (DESIGN §3).
CASE_ACCESS_GRANTS = frozenset({Perm.PERSONAL_VIEW})

ROLE_LABELS = {
    Role.OFFICER: ("Officer", "افسر"),
    Role.CIRCLE_HEAD: ("Circle head", "سرکل انچارج"),
    Role.HQ_ANALYST: ("HQ analyst", "ہیڈکوارٹر تجزیہ کار"),
    Role.ADMIN: ("Administrator", "ایڈمنسٹریٹر"),
    Role.AUDITOR: ("Auditor", "آڈیٹر"),
}


def role_allows(role: Role | str, perm: Perm, *, case_access: bool = False) -> bool:
    """Whether a role (with its ``case_access`` flag) holds a permission, ignoring scope."""
    r = Role(role)
    if perm in PERMISSIONS[r]:
        return True
    return bool(case_access and r is Role.HQ_ANALYST and perm in CASE_ACCESS_GRANTS)
