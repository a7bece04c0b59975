# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit hierarchy use cases: list and add (HQ → zone → circle → post)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from nap_desktop.data.models import Unit
from nap_desktop.domain.units_seed import POST_TYPES, PROVINCES, check_parent_kind, validate_unit_code
from nap_desktop.errors import ConfigError, ValidationError
from nap_desktop.security.permissions import Perm
from nap_desktop.services.context import Workspace


@dataclass(frozen=True)
class UnitDTO:
    code: str
    kind: str
    parent_code: str | None
    name_en: str
    name_ur: str
    province: str | None
    post_type: str | None
    district: str | None
    active: bool

    @classmethod
    def of(cls, u: Unit) -> UnitDTO:
        return cls(u.code, u.kind, u.parent_code, u.name_en, u.name_ur, u.province, u.post_type, u.district, u.active)


def list_units(ws: Workspace, *, kind: str | None = None, under: str | None = None) -> list[UnitDTO]:
    """All units (the hierarchy is not secret), parents before children, optionally filtered."""
    ws.require(Perm.UNIT_LIST)
    with ws.sf() as s:
        units = [UnitDTO.of(u) for u in s.scalars(select(Unit).order_by(Unit.code))]
    if kind:
        units = [u for u in units if u.kind == kind]
    if under:
        keep = ws.subtree(under)
        units = [u for u in units if u.code in keep]
    order = {"hq": 0, "zone": 1, "circle": 2, "post": 3}
    return sorted(units, key=lambda u: (ws.unit_chain(u.code)[::-1], order.get(u.kind, 9)))


def add_unit(
    ws: Workspace,
    *,
    code: str,
    kind: str,
    parent: str,
    name_en: str,
    name_ur: str,
    province: str | None = None,
    post_type: str | None = None,
    district: str | None = None,
) -> UnitDTO:
    """Adds a unit under ``parent`` (admins, within their scope)."""
    if not ws.unit_exists(parent):
        raise ValidationError(f"The parent unit {parent} does not exist.", {"parent": "unknown"})
    ws.require(Perm.UNIT_MANAGE, unit=parent, object_type="unit", object_id=code)
    errors: dict[str, str] = {}
    try:
        validate_unit_code(code)
    except ConfigError:
        errors["code"] = "2–24 characters: capital letters, digits and '-', starting with a letter"
    if not name_en.strip():
        errors["name_en"] = "required"
    if not name_ur.strip():
        errors["name_ur"] = "required"
    if province is not None and province not in PROVINCES:
        errors["province"] = f"one of {', '.join(PROVINCES)}"
    if kind == "post" and post_type not in POST_TYPES:
        errors["post_type"] = f"one of {', '.join(POST_TYPES)}"
    if kind != "post" and post_type:
        errors["post_type"] = "only posts have a post type"
    if errors:
        raise ValidationError("The unit cannot be added: " + "; ".join(f"{k}: {v}" for k, v in errors.items()) + ".", errors)
    with ws.sf.begin() as s:
        if s.get(Unit, code) is not None:
            raise ValidationError(f"There is already a unit {code}.", {"code": "taken"})
        parent_unit = s.get(Unit, parent)
        if parent_unit is None:
            raise ValidationError(f"The parent unit {parent} does not exist.", {"parent": "unknown"})
        try:
            check_parent_kind(kind, parent_unit.kind)
        except ConfigError as exc:
            raise ValidationError(str(exc), {"parent": "kind"}) from None
        unit = Unit(
            code=code,
            kind=kind,
            parent_code=parent,
            name_en=name_en.strip(),
            name_ur=name_ur.strip(),
            province=province,
            post_type=post_type,
            district=district,
        )
        s.add(unit)
        s.flush()
        ws.audit(s, "unit.added", object_type="unit", object_id=code, unit=parent, detail={"kind": kind})
        dto = UnitDTO.of(unit)
    ws.reload_units()
    return dto


def update_unit(
    ws: Workspace,
    code: str,
    *,
    name_en: str | None = None,
    name_ur: str | None = None,
    district: str | None = None,
    active: bool | None = None,
) -> UnitDTO:
    """Renames a unit or marks it inactive (admins, within their scope). Codes never change."""
    if not ws.unit_exists(code):
        raise ValidationError(f"There is no unit {code}.", {"code": "unknown"})
    ws.require(Perm.UNIT_MANAGE, unit=code, object_type="unit", object_id=code)
    with ws.sf.begin() as s:
        unit = s.get(Unit, code)
        if unit is None:
            raise ValidationError(f"There is no unit {code}.", {"code": "unknown"})
        changed = []
        for attr, value in (("name_en", name_en), ("name_ur", name_ur), ("district", district)):
            if value is not None:
                if attr != "district" and not value.strip():
                    raise ValidationError(f"The unit's {attr} cannot be empty.", {attr: "required"})
                setattr(unit, attr, value.strip())
                changed.append(attr)
        if active is not None:
            if not active and code == ws.wf.unit:
                raise ValidationError("The workspace's own unit cannot be made inactive.", {"active": "own_unit"})
            unit.active = active
            changed.append("active")
        ws.audit(s, "unit.updated", object_type="unit", object_id=code, unit=code, detail={"fields": len(changed), "active": unit.active})
        return UnitDTO.of(unit)
