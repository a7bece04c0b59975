# SPDX-License-Identifier: GPL-3.0-or-later
"""The unlocked workspace: what every service receives as its first argument.

A :class:`Workspace` holds the session factory, the signed-in user and the data key. Services
call :meth:`Workspace.require` before they touch data; a refusal is written to the audit chain
in a transaction of its own (so it stays even though the operation fails) and raised as
:class:`PermissionDenied`. :meth:`Workspace.lock` drops the key and closes every connection.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from nap_desktop import config
from nap_desktop.data.db import KeyHolder
from nap_desktop.data.filelock import WorkspaceLockFile
from nap_desktop.data.models import Unit, User
from nap_desktop.errors import PermissionDenied, WorkspaceLocked
from nap_desktop.security import audit
from nap_desktop.security.crypto import wipe
from nap_desktop.security.keyfile import WorkspaceFile
from nap_desktop.security.permissions import Perm, Role, role_allows

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class UserDTO:
    """A user account as services return it."""

    id: str
    username: str
    full_name: str
    role: str
    unit_code: str
    case_access: bool
    disabled: bool
    must_change_password: bool
    created_at: datetime
    last_login_at: datetime | None

    @classmethod
    def of(cls, u: User) -> UserDTO:
        return cls(
            id=u.id,
            username=u.username,
            full_name=u.full_name,
            role=u.role,
            unit_code=u.unit_code,
            case_access=u.case_access,
            disabled=u.disabled,
            must_change_password=u.must_change_password,
            created_at=u.created_at,
            last_login_at=u.last_login_at,
        )


class Workspace:
    """An unlocked workspace. Not thread-safe by itself: GUI writes go through one worker thread."""

    def __init__(
        self,
        *,
        path: Path,
        wf: WorkspaceFile,
        engine: Engine,
        sf: sessionmaker[Session],
        keys: KeyHolder,
        dek: bytearray,
        user: UserDTO,
        lockfile: WorkspaceLockFile,
    ) -> None:
        self.path = path
        self.wf = wf
        self._engine = engine
        self._sf = sf
        self._keys = keys
        self._dek: bytearray | None = dek
        self.user = user
        self._lockfile = lockfile
        self._parents: dict[str, str | None] = {}
        self.reload_units()

    # --- state -------------------------------------------------------------------------------

    @property
    def locked(self) -> bool:
        return self._dek is None

    @property
    def sf(self) -> sessionmaker[Session]:
        """The session factory; raises :class:`WorkspaceLocked` after :meth:`lock`."""
        if self._dek is None:
            raise WorkspaceLocked("The workspace is locked. Sign in again to continue.")
        return self._sf

    @property
    def engine(self) -> Engine:
        if self._dek is None:
            raise WorkspaceLocked("The workspace is locked. Sign in again to continue.")
        return self._engine

    @property
    def dek(self) -> bytearray:
        if self._dek is None:
            raise WorkspaceLocked("The workspace is locked. Sign in again to continue.")
        return self._dek

    @property
    def store_path(self) -> Path:
        return self.path / config.STORE_FILE

    @property
    def workspace_id(self) -> str:
        return self.wf.workspace_id

    def lock(self) -> None:
        """Drops the data key from memory, closes all connections, releases the write lock."""
        if self._dek is None:
            return
        self._engine.dispose()
        self._keys.drop()
        wipe(self._dek)
        self._dek = None
        self._lockfile.release()
        logger.info("workspace locked")

    close = lock

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.lock()

    # --- units and scope ---------------------------------------------------------------------

    def reload_units(self) -> None:
        """Refreshes the cached hierarchy used for scope checks (after a unit is added)."""
        with self.sf() as s:
            self._parents = dict(s.execute(select(Unit.code, Unit.parent_code)).tuples().all())

    def unit_chain(self, unit: str) -> list[str]:
        """``unit`` and its ancestors up to HQ."""
        chain: list[str] = []
        cur: str | None = unit
        while cur is not None and cur not in chain:
            chain.append(cur)
            cur = self._parents.get(cur)
        return chain

    def in_scope(self, unit: str | None) -> bool:
        """Whether ``unit`` is the user's unit or below it."""
        if unit is None:
            return True
        return self.user.unit_code in self.unit_chain(unit)

    def subtree(self, unit: str | None = None) -> set[str]:
        """Codes of ``unit`` (default: the user's unit) and every unit below it."""
        root = unit or self.user.unit_code
        return {code for code in self._parents if root in self.unit_chain(code)}

    def unit_exists(self, unit: str) -> bool:
        return unit in self._parents

    # --- permissions and audit -----------------------------------------------------------------

    def can(self, perm: Perm, *, unit: str | None = None) -> bool:
        """Whether the signed-in user may do ``perm`` (on ``unit``, if given). For the UI to mirror.

        Raises:
            WorkspaceLocked: after :meth:`lock` nothing is allowed, not even a check.
        """
        if self._dek is None:
            raise WorkspaceLocked("The workspace is locked. Sign in again to continue.")
        return role_allows(self.user.role, perm, case_access=self.user.case_access) and self.in_scope(unit)

    def require(self, perm: Perm, *, unit: str | None = None, object_type: str = "", object_id: str = "") -> None:
        """Raises :class:`PermissionDenied` (and audits the refusal) unless :meth:`can` allows it."""
        if self.can(perm, unit=unit):
            return
        in_role = role_allows(self.user.role, perm, case_access=self.user.case_access)
        with self.sf.begin() as s:
            self.audit(
                s,
                "permission.denied",
                object_type=object_type,
                object_id=object_id,
                unit=unit or "",
                detail={"perm": perm.value, "reason": "scope" if in_role else "role"},
            )
        role_label = Role(self.user.role).value.replace("_", " ")
        if in_role:
            raise PermissionDenied(f"Unit {unit} is outside your unit ({self.user.unit_code}); you cannot do this there.")
        raise PermissionDenied(f"Your role ({role_label}) does not allow this ({perm.value}).")

    def audit(
        self,
        session: Session,
        action: str,
        *,
        object_type: str = "",
        object_id: str = "",
        unit: str = "",
        detail: Mapping[str, audit.DetailValue] | None = None,
    ) -> None:
        """Appends an audit entry by the signed-in user inside ``session``'s transaction."""
        audit.append(
            session,
            workspace_id=self.workspace_id,
            actor=self.user.username,
            action=action,
            object_type=object_type,
            object_id=object_id,
            unit=unit or self.user.unit_code,
            detail=detail,
        )
