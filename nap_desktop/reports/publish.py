# SPDX-License-Identifier: GPL-3.0-or-later
"""Services that write report files: indicator reports (JSON / PDF / XLSX / CSV) and the
standard exports (GLOTIP, CTDC, DHIS2). Shared by the CLI and the GUI.

Who may write what:

- **External** versions (disclosure control applied) — anyone who may compute the indicators
  of the scope: officers and circle heads in their own units, HQ analysts everywhere
  (:func:`nap_desktop.reports.engine.compute_indicators` checks it).
- **Internal** versions (every small count) — :attr:`Perm.REPORT_INTERNAL` in the scope:
  circle heads for their circle and its posts, HQ analysts everywhere. Officers and
  administrators cannot (an administrator reads no records at all).
- **GLOTIP and CTDC** files (made to leave the country) — :attr:`Perm.REPORT_PUBLISH` (HQ
  analysts), always with disclosure control / k-anonymity.
- **DHIS2** — like an indicator report: the caller says internal or external.

Every file written is audited (``report.export``: what, format, audience, period, scope, and
counts — never a name or a file path). Work is a generator yielding
:class:`~nap_desktop.services.demo_data.Progress` and returning an :class:`ExportResult`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nap_desktop.data.models import Unit
from nap_desktop.errors import ValidationError
from nap_desktop.reports import engine
from nap_desktop.reports.engine import IndicatorReport, Period
from nap_desktop.reports.exports import ctdc_csv, ctdc_rows, dhis2_json, dhis2_payload, glotip_csv, glotip_table, glotip_xlsx
from nap_desktop.reports.render_common import AUDIENCES, RenderMeta, ReportView, build_view, write_file
from nap_desktop.reports.render_csv import csv_bytes
from nap_desktop.reports.render_pdf import pdf_bytes
from nap_desktop.reports.render_xlsx import xlsx_bytes
from nap_desktop.reports.suppression import suppress_report
from nap_desktop.security.permissions import Perm
from nap_desktop.services.context import Workspace
from nap_desktop.services.demo_data import Progress

__all__ = [
    "FORMATS",
    "ExportResult",
    "audit_export",
    "check_audience",
    "iter_indicator_report",
    "iter_standard_export",
    "report_json",
    "unit_meta",
]

FORMATS = ("json", "pdf", "xlsx", "csv")
STANDARD = ("glotip", "ctdc", "dhis2")


@dataclass(frozen=True)
class ExportResult:
    """What was written (no personal data: counts and codes)."""

    path: Path
    what: str
    format: str
    audience: str
    scope: str
    period: str
    values: int = 0  # numbers or rows written
    hidden: int = 0  # numbers hidden by disclosure control
    dropped: int = 0  # CTDC rows dropped by k-anonymity
    generalised: dict[str, int] = field(default_factory=dict)  # CTDC rows generalised per step
    k: int | None = None


def check_audience(ws: Workspace, audience: str, scope: str) -> None:
    """Refuses (audited) an internal version to a user without :attr:`Perm.REPORT_INTERNAL` in ``scope``.

    Raises:
        ValidationError: ``audience`` is neither ``internal`` nor ``external``.
        PermissionDenied: internal version not allowed.
    """
    if audience not in AUDIENCES:
        raise ValidationError("The audience of a report is 'internal' or 'external'.", {"audience": "unknown"})
    if audience == "internal":
        ws.require(Perm.REPORT_INTERNAL, unit=scope, object_type="report")


def audit_export(ws: Workspace, result: ExportResult) -> None:
    """Writes the ``report.export`` audit entry of a file written (in its own transaction)."""
    detail: dict[str, str | int | bool | None] = {
        "what": result.what,
        "format": result.format,
        "audience": result.audience,
        "period": result.period,
        "values": result.values,
        "hidden": result.hidden,
    }
    if result.k is not None:
        detail.update(k=result.k, dropped=result.dropped, generalised=sum(result.generalised.values()))
    with ws.sf.begin() as s:
        ws.audit(s, "report.export", object_type="report", object_id=result.what, unit=result.scope, detail=detail)


def unit_meta(ws: Workspace, scope: str, **kwargs: Any) -> RenderMeta:
    """A :class:`RenderMeta` for ``scope`` with the unit's names filled in."""
    with ws.sf() as s:
        unit = s.get(Unit, scope)
        en, ur = (unit.name_en, unit.name_ur) if unit is not None else ("", "")
    return RenderMeta(unit_code=scope, unit_name_en=en, unit_name_ur=ur, **kwargs)


def report_json(view: ReportView) -> bytes:
    """The JSON of a view: every published number of every indicator (markers for hidden ones)."""
    inds = []
    for r in view.indicators:

        def c(s: Any) -> Any:
            return None if s is None else s.cell

        inds.append(
            {
                "code": r.code,
                "kind": r.kind,
                "short": r.short,
                "value": c(r.value),
                "numerator": c(r.numerator),
                "denominator": c(r.denominator),
                "previous": c(r.previous),
                "status": r.status,
                "comment": r.comment,
                "breakdown": {
                    b.dim: {k.key: ({"value": c(k.value), "numerator": c(k.numerator), "denominator": c(k.denominator)} if b.percent else c(k.value)) for k in b.rows}
                    for b in r.breakdowns
                },
            }
        )
    doc = {
        "unit": view.scope,
        "unit_name": view.meta.unit_name_en,
        "period": view.period_label,
        "status": view.meta.status,
        "audience": view.meta.audience,
        "framework_version": view.framework_version,
        "computed_at": view.computed_at.isoformat(timespec="seconds"),
        "legend": list(view.legend),
        "indicators": inds,
    }
    if view.pipeline:
        doc["pipeline"] = {label: s.cell for label, s in view.pipeline}
    if view.validation:
        doc["validation"] = list(view.validation)
    return json.dumps(doc, indent=2, ensure_ascii=False).encode("utf-8")


_RENDER = {"json": report_json, "pdf": pdf_bytes, "xlsx": xlsx_bytes, "csv": csv_bytes}


def iter_indicator_report(
    ws: Workspace,
    *,
    period: Period,
    scope: str | None,
    fmt: str,
    out: Path,
    external: bool,
    report: IndicatorReport | None = None,
    meta: RenderMeta | None = None,
    lang: str = "en",
) -> Generator[Progress, None, ExportResult]:
    """Computes (or takes) the indicators of ``scope`` and ``period`` and writes them as ``fmt``.

    ``lang`` (``en`` / ``ur``) is the language of a PDF; the other formats are English (their
    labels sit beside codes that machines and spreadsheets read).

    Raises:
        PermissionDenied: no right to the scope, or to the internal version.
        ValidationError: unknown format.
        StorageFull, ExportError: nothing was written.
    """
    if fmt not in FORMATS:
        raise ValidationError(f"The format is one of {', '.join(FORMATS)}.", {"format": "unknown"})
    audience = "external" if external else "internal"
    scope = scope or ws.user.unit_code
    check_audience(ws, audience, scope)
    yield Progress(0, 3, "Computing the indicators")
    if report is None:
        report = engine.compute_indicators(ws, period=period, scope=scope)
    meta = meta or unit_meta(ws, report.scope)
    if meta.audience != audience:
        meta = dataclasses.replace(meta, audience=audience)
    lang = lang if fmt == "pdf" else "en"
    if meta.lang != lang:
        meta = dataclasses.replace(meta, lang=lang)
    yield Progress(1, 3, "Applying disclosure control" if external else "Preparing the report")
    disclosure = suppress_report(report.values, external=external)
    view = build_view(report, meta, disclosure=disclosure)
    yield Progress(2, 3, f"Writing the {fmt.upper()} file")
    path = write_file(out, _RENDER[fmt](view))
    result = ExportResult(path, "indicators", fmt, audience, report.scope, report.period.label, values=len(view.long_rows()), hidden=view.hidden_count)
    audit_export(ws, result)
    yield Progress(3, 3, "Done")
    return result


def iter_standard_export(
    ws: Workspace,
    kind: str,
    *,
    period: Period,
    scope: str | None,
    out: Path,
    k: int = 11,
    external: bool = True,
) -> Generator[Progress, None, ExportResult]:
    """Writes a GLOTIP table (``.xlsx`` or ``.csv`` by the file name), a CTDC file (CSV) or a
    DHIS2 dataValueSets document (JSON).

    GLOTIP and CTDC need :attr:`Perm.REPORT_PUBLISH` and are always protected (suppression /
    k-anonymity); DHIS2 is protected when ``external`` (else it needs the internal right).

    Raises:
        PermissionDenied, NotFound, ValidationError, StorageFull, ExportError.
    """
    if kind not in STANDARD:
        raise ValidationError(f"The export is one of {', '.join(STANDARD)}.", {"kind": "unknown"})
    scope = scope or ws.user.unit_code
    if kind == "dhis2":
        from nap_desktop.reports.exports import dhis2_period

        dhis2_period(period)  # refuse a date range before computing anything
        audience = "external" if external else "internal"
        check_audience(ws, audience, scope)
        yield Progress(0, 3, "Computing the indicators")
        report = engine.compute_indicators(ws, period=period, scope=scope)
        yield Progress(1, 3, "Applying disclosure control")
        dc = suppress_report(report.values, external=external)
        payload = dhis2_payload(report, dc)
        yield Progress(2, 3, "Writing the JSON file")
        path = write_file(out, dhis2_json(payload))
        result = ExportResult(path, "dhis2", "json", audience, report.scope, period.label, values=len(payload["dataValues"]), hidden=dc.hidden_count)
        audit_export(ws, result)
        yield Progress(3, 3, "Done")
        return result
    scope, units = engine._scope_units(ws, scope)  # noqa: SLF001 - the engine's scope rule (permission and unit set)
    ws.require(Perm.REPORT_PUBLISH, unit=scope, object_type="report")
    yield Progress(0, 2, "Counting" if kind == "glotip" else "Selecting victims")
    with ws.sf() as s:
        if kind == "glotip":
            table = glotip_table(s, units=units, period=period)
        else:
            ctdc = ctdc_rows(s, units=units, period=period, k=k)
    yield Progress(1, 2, "Writing the file")
    if kind == "glotip":
        fmt = "xlsx" if Path(out).suffix.lower() == ".xlsx" else "csv"
        path = write_file(out, glotip_xlsx(table) if fmt == "xlsx" else glotip_csv(table))
        result = ExportResult(path, "glotip", fmt, "external", scope, period.label, values=len(table.rows), hidden=table.hidden)
    else:
        path = write_file(out, ctdc_csv(ctdc))
        result = ExportResult(path, "ctdc", "csv", "external", scope, period.label, values=len(ctdc.rows), dropped=ctdc.dropped, generalised=dict(ctdc.generalised), k=k)
    audit_export(ws, result)
    yield Progress(2, 2, "Done")
    return result
