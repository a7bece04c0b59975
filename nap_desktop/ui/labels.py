# SPDX-License-Identifier: GPL-3.0-or-later
"""Short human labels of records (for linked-record fields, pickers and window titles)."""

from __future__ import annotations

from typing import Any

from nap_desktop.domain.codelists import CodeLists
from nap_desktop.domain.records import RECORD_TYPES
from nap_desktop.services.records import RecordDTO, RecordRow
from nap_desktop.ui.i18n import ltr, pick, tr
from nap_desktop.ui.widgets import code_label

MASK = "•••"


def _summary_bits(type_name: str, values: dict[str, Any], cl: CodeLists) -> list[str]:
    rt = RECORD_TYPES[type_name]
    bits: list[str] = []
    for name in rt.summary:
        v = values.get(name)
        if v in (None, ""):
            continue
        f = rt.field(name)
        if f.kind == "code" and f.codelist:
            bits.append(code_label(cl.get(f.codelist), v))
        elif f.kind == "bool":
            bits.append(tr("Yes") if v else tr("No"))
        elif f.kind == "date":
            bits.append(ltr(str(v)))
        else:
            bits.append(str(v))
    return bits


def person_bits(sex: str | None, age: int | None, citizenship: str | None, cl: CodeLists) -> list[str]:
    bits = []
    if sex:
        bits.append(code_label(cl.get("sex"), sex))
    if age is not None:
        bits.append(tr("{n} years").format(n=age))
    if citizenship:
        bits.append(code_label(cl.get("citizenship"), citizenship))
    return bits


def dto_label(dto: RecordDTO, cl: CodeLists) -> str:
    """``Ayesha Khan · Female · 23 years`` for a person; type, date and summary for others."""
    v = dto.values
    if dto.type == "person":
        if "given_name" in dto.masked or "family_name" in dto.masked:
            name = MASK
        else:
            name = " ".join(x for x in (v.get("given_name"), v.get("family_name")) if x) or tr("(no name)")
        return " · ".join([name, *person_bits(v.get("sex"), v.get("age_years"), v.get("citizenship"), cl)])
    rt = RECORD_TYPES[dto.type]
    return " · ".join([pick(rt.label_en, rt.label_ur), *_summary_bits(dto.type, v, cl)])


def row_label(row: RecordRow, cl: CodeLists, *, masked: bool) -> str:
    """A list row as a one-line label."""
    if row.type == "person" or RECORD_TYPES[row.type].person_field:
        name = row.name or (MASK if masked else "")
        bits = person_bits(row.sex, row.age_years, row.citizenship, cl)
        if row.type != "person":
            rt = RECORD_TYPES[row.type]
            head = pick(rt.label_en, rt.label_ur) + (f" {ltr(row.date.isoformat())}" if row.date else "")
            return " · ".join([head, *([name] if name else []), *bits])
        return " · ".join([name or tr("(no name)"), *bits])
    rt = RECORD_TYPES[row.type]
    return " · ".join([pick(rt.label_en, rt.label_ur), *_summary_bits(row.type, row.summary, cl)])


def row_details(row: RecordRow, cl: CodeLists, *, masked: bool) -> str:
    """A list row's details without its type and date (for tables that show those apart)."""
    if row.type == "person" or RECORD_TYPES[row.type].person_field:
        name = row.name or (MASK if masked else "")
        return " · ".join([*([name] if name else []), *person_bits(row.sex, row.age_years, row.citizenship, cl)])
    rt = RECORD_TYPES[row.type]
    return " · ".join(_summary_bits(row.type, {k: v for k, v in row.summary.items() if k != rt.date_field}, cl))
