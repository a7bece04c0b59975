# SPDX-License-Identifier: GPL-3.0-or-later
"""Account use cases: add, list, reset password, disable, enable.

An account has a row in the store (role, unit, flags) and a key entry in ``workspace.json``.
Disabling removes the key entry, so a disabled user cannot open the data key even with tools
of their own; enabling again needs a new password set by an administrator.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from nap_desktop import config
from nap_desktop.data.models import Unit, User, utcnow
from nap_desktop.errors import NotFound, PermissionDenied, ValidationError
from nap_desktop.security import keyfile
from nap_desktop.security.keyfile import USERNAME_RE
from nap_desktop.security.passwords import check_password_strength
from nap_desktop.security.permissions import Perm, Role
from nap_desktop.services.context import UserDTO, Workspace

# Which unit kinds each role may belong to.
ROLE_UNIT_KINDS: dict[Role, tuple[str, ...]] = {
    Role.OFFICER: ("post", "circle"),
    Role.CIRCLE_HEAD: ("circle",),
    Role.HQ_ANALYST: ("hq", "zone"),
    Role.ADMIN: ("hq", "zone", "circle", "post"),
    Role.AUDITOR: ("hq", "zone", "circle", "post"),
}
# A circle head manages the capture staff of the circle; only administrators make other roles.
_CIRCLE_HEAD_MAY_CREATE = {Role.OFFICER, Role.CIRCLE_HEAD}


def _save_wf(ws: Workspace, wf: keyfile.WorkspaceFile) -> None:
    ws.wf = keyfile.save(ws.path / config.WORKSPACE_FILE, wf, ws.dek)


def _check_manager_may_handle(ws: Workspace, role: Role) -> None:
    if ws.user.role == Role.CIRCLE_HEAD and role not in _CIRCLE_HEAD_MAY_CREATE:
        with ws.sf.begin() as s:
            ws.audit(s, "permission.denied", object_type="user", detail={"perm": Perm.USER_MANAGE.value, "reason": "role"})
        raise PermissionDenied("A circle head can manage officers and circle heads only; ask an administrator.")


def add_user(
    ws: Workspace,
    *,
    username: str,
    full_name: str,
    role: str,
    unit: str,
    password: str,
    case_access: bool = False,
    must_change_password: bool = True,
) -> UserDTO:
    """Adds an account. The password is a first password the user is asked to change."""
    if not ws.unit_exists(unit):
        raise ValidationError(f"Unit {unit!r} does not exist.", {"unit": "unknown"})
    ws.require(Perm.USER_MANAGE, unit=unit, object_type="user")
    errors: dict[str, str] = {}
    if not USERNAME_RE.fullmatch(username):
        errors["username"] = "3–32 characters: lower-case letters, digits, '.', '_' or '-', starting with a letter"
    try:
        r = Role(role)
    except ValueError:
        errors["role"] = f"one of {', '.join(x.value for x in Role)}"
        r = Role.OFFICER
    if not full_name.strip():
        errors["full_name"] = "required"
    if case_access and r is not Role.HQ_ANALYST:
        errors["case_access"] = "only HQ analysts can be given case access"
    if errors:
        raise ValidationError("The account cannot be added: " + "; ".join(f"{k}: {v}" for k, v in errors.items()) + ".", errors)
    _check_manager_may_handle(ws, r)
    check_password_strength(password, username)
    if username in ws.wf.users or username in ws.wf.disabled:
        raise ValidationError(f"There is already an account named {username!r}.", {"username": "taken"})
    with ws.sf.begin() as s:
        u = s.get(Unit, unit)
        if u is None:
            raise ValidationError(f"Unit {unit!r} does not exist.", {"unit": "unknown"})
        if u.kind not in ROLE_UNIT_KINDS[r]:
            raise ValidationError(
                f"A {r.value.replace('_', ' ')} belongs to a {' or '.join(ROLE_UNIT_KINDS[r])} unit; {unit} is a {u.kind}.",
                {"unit": "kind"},
            )
        user = User(
            username=username,
            full_name=full_name.strip(),
            role=r.value,
            unit_code=unit,
            case_access=case_access,
            must_change_password=must_change_password,
        )
        s.add(user)
        s.flush()
        ws.audit(s, "user.added", object_type="user", object_id=username, unit=unit, detail={"role": r.value, "case_access": case_access})
        wrap = keyfile.make_user_wrap(ws.wf, username, password, ws.dek)
        _save_wf(ws, replace(ws.wf, users={**ws.wf.users, username: wrap}))
        return UserDTO.of(user)


def list_users(ws: Workspace, *, include_disabled: bool = True) -> list[UserDTO]:
    """Accounts of the user's unit subtree (all for HQ-level managers)."""
    ws.require(Perm.USER_LIST)
    scope = ws.subtree()
    with ws.sf() as s:
        q = select(User).where(User.unit_code.in_(scope)).order_by(User.username)
        if not include_disabled:
            q = q.where(User.disabled.is_(False))
        return [UserDTO.of(u) for u in s.scalars(q)]


def _get_in_scope(ws: Workspace, s: object, username: str) -> User:
    from sqlalchemy.orm import Session

    assert isinstance(s, Session)
    user = s.scalars(select(User).where(User.username == username)).one_or_none()
    if user is None or not ws.in_scope(user.unit_code):
        raise NotFound(f"There is no account {username!r} in your units.")
    return user


def reset_password(ws: Workspace, username: str, new_password: str) -> None:
    """Sets another user's password (they must change it at next sign-in); enables a disabled account."""
    ws.require(Perm.USER_MANAGE, object_type="user", object_id=username)  # the role first, audited
    with ws.sf() as s:
        target = _get_in_scope(ws, s, username)
        unit, role = target.unit_code, Role(target.role)
    ws.require(Perm.USER_MANAGE, unit=unit, object_type="user", object_id=username)
    _check_manager_may_handle(ws, role)
    check_password_strength(new_password, username)
    with ws.sf.begin() as s:
        target = _get_in_scope(ws, s, username)
        was_disabled = target.disabled
        target.disabled = False
        target.must_change_password = True
        target.password_changed_at = utcnow()
        ws.audit(s, "user.password_reset", object_type="user", object_id=username, unit=unit, detail={"enabled": was_disabled})
        wrap = keyfile.make_user_wrap(ws.wf, username, new_password, ws.dek)
        _save_wf(
            ws,
            replace(
                ws.wf,
                users={**ws.wf.users, username: wrap},
                disabled=tuple(n for n in ws.wf.disabled if n != username),
            ),
        )


def disable_user(ws: Workspace, username: str) -> None:
    """Disables an account: it can no longer unlock; its key entry is removed.

    NOTE: someone who kept an old copy of ``workspace.json`` and knows the password can still open
    the old data key; after disabling a person who may have done so, rotate the key (``rekey``).
    """
    ws.require(Perm.USER_MANAGE, object_type="user", object_id=username)  # the role first, audited
    with ws.sf() as s:
        target = _get_in_scope(ws, s, username)
        unit, role = target.unit_code, Role(target.role)
    ws.require(Perm.USER_MANAGE, unit=unit, object_type="user", object_id=username)
    _check_manager_may_handle(ws, role)
    if username == ws.user.username:
        raise ValidationError("You cannot disable your own account.", {"username": "self"})
    with ws.sf.begin() as s:
        if role is Role.ADMIN:
            active_admins = s.scalars(select(User.username).where(User.role == Role.ADMIN.value, User.disabled.is_(False))).all()
            if set(active_admins) <= {username}:
                raise ValidationError("This is the last active administrator; add another one first.", {"username": "last_admin"})
        target = _get_in_scope(ws, s, username)
        target.disabled = True
        ws.audit(s, "user.disabled", object_type="user", object_id=username, unit=unit)
        users = {n: w for n, w in ws.wf.users.items() if n != username}
        _save_wf(ws, replace(ws.wf, users=users, disabled=tuple(sorted({*ws.wf.disabled, username}))))
