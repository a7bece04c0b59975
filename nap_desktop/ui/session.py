# SPDX-License-Identifier: GPL-3.0-or-later
"""The signed-in session every view shares: the open workspace (swapped on re-unlock) and the
code lists. Views always reach the workspace through :attr:`SessionRef.ws`, so that an idle lock
and unlock by the same user can keep the windows while the ``Workspace`` object is replaced."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from nap_desktop.domain.codelists import CodeLists, default_codelists
from nap_desktop.errors import WorkspaceLocked
from nap_desktop.security.permissions import Perm
from nap_desktop.services.context import Workspace
from nap_desktop.services.units import UnitDTO, list_units


class SessionRef(QObject):
    """Holds the current :class:`Workspace` (``None`` while locked)."""

    workspace_changed = Signal()
    records_changed = Signal(str)  # record type whose records were created, edited or deleted
    # NOTE: emitted after anything that may have changed the workspace's settings: an import or an
    # automatic sync (HQ's field settings may have come with it), an administrator's change in the
    # settings or connection dialogs. Whoever holds a setting re-reads it (the idle lock, the
    # sync indicator, the sync screen).
    settings_changed = Signal()
    # NOTE: emitted after an automatic sync with HQ's server finished a run (bundles sent,
    # receipts or registry updates applied); whoever shows the sync history reloads it.
    synced = Signal()

    def __init__(self, ws: Workspace | None, codelists: CodeLists | None = None) -> None:
        super().__init__()
        self._ws = ws
        self._units: dict[str, UnitDTO] | None = None
        self.codelists = codelists or default_codelists()

    @property
    def ws(self) -> Workspace:
        if self._ws is None or self._ws.locked:
            raise WorkspaceLocked("The workspace is locked. Sign in again to continue.")
        return self._ws

    @property
    def unlocked(self) -> bool:
        return self._ws is not None and not self._ws.locked

    def set_workspace(self, ws: Workspace | None) -> None:
        self._ws = ws
        self._units = None
        self.workspace_changed.emit()

    def units(self) -> dict[str, UnitDTO]:
        """The unit hierarchy by code (read once per unlock; it is small and not secret)."""
        if self._units is None:
            self._units = {u.code: u for u in list_units(self.ws)}
        return self._units

    def unit_name(self, code: str) -> str:
        """The unit's name in the UI language, or its code."""
        from nap_desktop.ui.i18n import pick

        try:
            u = self.units().get(code)
        except Exception:  # noqa: BLE001 - a name is cosmetic; never fail a screen for it
            u = None
        return pick(u.name_en, u.name_ur) if u else code

    def can(self, perm: Perm, *, unit: str | None = None) -> bool:
        """``ws.can`` that is simply False while locked."""
        return self.unlocked and self.ws.can(perm, unit=unit)
