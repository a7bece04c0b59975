# SPDX-License-Identifier: GPL-3.0-or-later
"""What the PDF, XLSX and CSV renderers share: the render metadata, the view of a report with
disclosure control applied, number formats, and the atomic file write.

A renderer never looks at an :class:`~nap_desktop.reports.engine.IndicatorReport` directly: it
asks :func:`build_view` for a :class:`ReportView`, in which every number is a :class:`Shown` —
its value and the text to print, or the suppression marker (``<5`` / ``x``) when
``meta.audience == "external"``. So the three formats cannot disagree about what is hidden.

External versions also leave out per-indicator comments and validation messages (free text
written by staff, and messages that quote counts).

This module never imports Qt.
"""

from __future__ import annotations

import errno
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from nap_desktop.domain.codelists import CodeLists, default_codelists
from nap_desktop.domain.framework import OBJECTIVE_NAMES, Framework, Indicator, default_framework
from nap_desktop.domain.lang import LANGUAGES, URDU_MONTHS, translate
from nap_desktop.errors import ExportError, StorageFull, ValidationError
from nap_desktop.reports.suppression import HIDDEN, SMALL, Disclosure, is_protected, suppress_report
from nap_desktop.security.crypto import atomic_write

__all__ = [
    "AUDIENCES",
    "KEY_LABELS",
    "LONG_COLUMNS",
    "Breakdown",
    "IndicatorRow",
    "KeyRow",
    "RenderMeta",
    "ReportView",
    "Shown",
    "build_view",
    "write_file",
]

Number = int | float
AUDIENCES = ("internal", "external")

# Keys outside the code lists (see the framework header).
KEY_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "unknown": "Unknown",
        "other": "Other",
        "none": "None linked",
        "organisation": "Organisation",
        "not_recorded": "Not recorded",
        "not_in_list": "Code no longer listed",
        "witness": "Witnesses",
        "service_provider": "Service providers",
        "capacity_building": "Capacity building (providers)",
        "victim": "Victims",
        "suspect": "Suspects",
        "sex": "Sex known",
        "age": "Age known",
        "sex_and_age": "Sex and age known",
        "reported": "Cases reported",
        "reported_previous": "Cases reported, previous period",
        "dealt_with": "Cases dealt with",
        "dealt_with_previous": "Cases dealt with, previous period",
        "dealt_with_change": "Change in cases dealt with",
        "cases": "Cases",
        "convicted_persons": "Persons convicted",
        "confiscated": "Assets confiscated",
        "confiscated_and_disposed": "Assets confiscated and disposed",
        "compensation_ordered_pkr": "Compensation ordered (PKR)",
        "compensation_paid_pkr": "Compensation paid (PKR)",
        "daily_logs": "Checkpoint-days logged",
        "passengers_screened": "Passengers screened",
        "referred_second_line": "Referred to second-line checks",
        "offloaded": "Offloaded",
        "fraudulent_documents": "Fraudulent documents",
        "intercepted": "Intercepted",
        "biometric_checks": "Biometric checks",
        "biometric_failed": "Biometric checks failed",
    }
)

# The statuses a report can have, as its cover prints them (translated for Urdu).
STATUS_WORDS: Mapping[str, str] = MappingProxyType(
    {"indicator report": "indicator report", "draft": "draft", "submitted": "submitted", "approved": "approved", "returned": "returned", "reopened": "reopened"}
)

LONG_COLUMNS = ("unit", "period", "indicator", "kind", "disaggregation", "key", "label", "value", "numerator", "denominator", "previous", "status")

LEGEND = {
    SMALL: "<5: a count between 1 and 4, not shown.",
    HIDDEN: "x: not shown, so that a count below 5 cannot be worked out from the totals.",
}


@dataclass(frozen=True)
class RenderMeta:
    """What a rendered report says about itself besides the numbers.

    Attributes:
        unit_code, unit_name_en, unit_name_ur: The reporting unit (the report's scope).
        status: ``draft`` / ``submitted`` / ``approved`` / ``returned`` for a monthly return, or
            ``indicator report``.
        prepared_by, approved_by: Names (or account names) for the signature block; may be empty.
        audience: ``internal`` (every number) or ``external`` (disclosure control applied).
        pipeline: The case pipeline of a monthly return (label → count), in display order.
        comments: Indicator code → comment (internal versions only).
        validation: Validation messages of a monthly return (internal versions only).
        title: Overrides the default title ("Indicator report" / "Monthly return").
        lang: ``en`` or ``ur``: the language of the labels (indicator names, breakdowns, keys,
            period, status); the plan's own wording and definitions stay in English.
    """

    unit_code: str
    unit_name_en: str = ""
    unit_name_ur: str = ""
    status: str = "indicator report"
    prepared_by: str = ""
    approved_by: str = ""
    audience: str = "internal"
    pipeline: Mapping[str, int] | None = None
    comments: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    validation: Sequence[str] = ()
    title: str | None = None
    lang: str = "en"

    def __post_init__(self) -> None:
        if self.audience not in AUDIENCES:
            raise ValidationError("The audience of a report is 'internal' or 'external'.", {"audience": "unknown"})
        if self.lang not in LANGUAGES:
            raise ValidationError(f"The language of a report is one of {', '.join(LANGUAGES)}.", {"lang": "unknown"})

    @property
    def external(self) -> bool:
        return self.audience == "external"

    @property
    def heading(self) -> str:
        if self.title:
            return self.title
        return translate("Indicator report" if self.status == "indicator report" else "Monthly return", self.lang)

    @property
    def status_text(self) -> str:
        """The status in the report's language ("approved", "منظور شدہ")."""
        return translate(STATUS_WORDS.get(self.status, self.status), self.lang)

    @property
    def unit_name(self) -> str:
        return (self.unit_name_ur or self.unit_name_en) if self.lang == "ur" else self.unit_name_en


@dataclass(frozen=True)
class Shown:
    """One published number: its value (``None`` when hidden or not defined) and its text."""

    number: Number | None
    text: str
    marker: str | None = None

    @property
    def hidden(self) -> bool:
        return self.marker is not None

    @property
    def cell(self) -> Number | str | None:
        """What goes into a spreadsheet cell: the number, the marker, or nothing."""
        if self.marker is not None:
            return self.marker
        return self.number


@dataclass(frozen=True)
class KeyRow:
    key: str
    label: str
    value: Shown
    numerator: Shown | None = None
    denominator: Shown | None = None


@dataclass(frozen=True)
class Breakdown:
    dim: str
    label: str
    additive: bool
    percent: bool
    rows: tuple[KeyRow, ...]

    @property
    def nonzero(self) -> tuple[KeyRow, ...]:
        """Rows to list in a compact table: zero rows left out (a hidden row is never zero)."""
        if self.percent:
            return tuple(r for r in self.rows if r.value.hidden or (r.denominator is not None and (r.denominator.hidden or r.denominator.number)))
        return tuple(r for r in self.rows if r.value.hidden or r.value.number)


@dataclass(frozen=True)
class IndicatorRow:
    code: str
    objective: int
    output: str
    wording: str
    short: str
    kind: str
    unit: str
    definition: str
    value: Shown
    numerator: Shown | None
    denominator: Shown | None
    previous: Shown | None
    status: str | None
    comment: str | None
    protected: bool
    breakdowns: tuple[Breakdown, ...]


@dataclass(frozen=True)
class ReportView:
    meta: RenderMeta
    scope: str
    period_label: str
    period_text: str
    framework_version: int
    framework_title: str
    computed_at: datetime
    objectives: tuple[tuple[int, str, tuple[IndicatorRow, ...]], ...]
    pipeline: tuple[tuple[str, Shown], ...]
    validation: tuple[str, ...]
    hidden_count: int

    @property
    def indicators(self) -> tuple[IndicatorRow, ...]:
        return tuple(r for _, _, rows in self.objectives for r in rows)

    @property
    def legend(self) -> tuple[str, ...]:
        return tuple(LEGEND.values()) if self.meta.external else ()

    def long_rows(self) -> list[tuple[Any, ...]]:
        """The long format (:data:`LONG_COLUMNS`): one row per indicator total, one per breakdown key."""
        out: list[tuple[Any, ...]] = []
        unit, period = self.scope, self.period_label

        def cell(s: Shown | None) -> Any:
            return None if s is None else s.cell

        for r in self.indicators:
            out.append((unit, period, r.code, r.kind, "total", "total", r.short, cell(r.value), cell(r.numerator), cell(r.denominator), cell(r.previous), r.status))
            for b in r.breakdowns:
                for k in b.rows:
                    out.append((unit, period, r.code, r.kind, b.dim, k.key, k.label, cell(k.value), cell(k.numerator), cell(k.denominator), None, None))
        return out


# --- formatting --------------------------------------------------------------------------------------


def fmt_count(n: Number | None) -> str:
    if n is None:
        return "–"
    return f"{n:,.0f}" if float(n).is_integer() else f"{n:,.1f}"


def fmt_pct(p: Number | None) -> str:
    return "–" if p is None else f"{p:.1f}%"


def fmt_change(n: Number | None) -> str:
    if n is None:
        return "–"
    return "0" if n == 0 else f"{n:+,.0f}"


def _shown(number: Number | None, text: str, marker: str | None) -> Shown:
    return Shown(None, marker, marker) if marker is not None else Shown(number, text)


def period_text(period: Any, lang: str = "en") -> str:
    """The period in words: "June 2026", "2026 Q2 (1 Apr – 30 Jun 2026)", "2026", "1 Jan – 31 Mar 2026"
    (in Urdu: "جون 2026", …)."""
    s, e = period.start, period.end

    def month(d: Any, short: bool) -> str:
        if lang == "ur":
            return f"{URDU_MONTHS[d.month - 1]} {d.year}"
        return f"{d:%b %Y}" if short else f"{d:%B %Y}"

    if period.kind == "month":
        return month(s, False)
    span = f"{s.day} {month(s, True)} – {e.day} {month(e, True)}"
    if period.kind == "quarter":
        return f"{period.label} ({span})"
    if period.kind == "year":
        return str(s.year)
    return span


# --- the view --------------------------------------------------------------------------------------


def key_label(fw: Framework, cl: CodeLists, dim: str, key: str, lang: str = "en") -> str:
    spec = fw.disaggregations.get(dim)
    if spec is not None and spec.codelist and spec.codelist in cl and key in cl[spec.codelist]:
        return cl[spec.codelist].label(key, lang)
    if key in KEY_LABELS:
        return translate(KEY_LABELS[key], lang)
    return key  # a free-text key (a district as recorded)


def build_view(
    report: Any,
    meta: RenderMeta,
    *,
    framework: Framework | None = None,
    codelists: CodeLists | None = None,
    disclosure: Disclosure | None = None,
) -> ReportView:
    """The report as the renderers print it, with disclosure control for ``meta.audience``."""
    fw = framework or default_framework()
    cl = codelists or default_codelists()
    dc = disclosure or suppress_report(report.values, external=meta.external, framework=fw, codelists=cl)
    rows: dict[int, list[IndicatorRow]] = {o.number: [] for o in fw.objectives}
    for code, iv in report.values.items():
        ind = fw.indicator(code)
        rows[ind.objective].append(_indicator_row(ind, iv, meta, dc, fw, cl))
    lang = meta.lang
    objectives = tuple((o.number, o.title if lang == "en" else translate(OBJECTIVE_NAMES[o.number], lang), tuple(rows[o.number])) for o in fw.objectives if rows[o.number])
    return ReportView(
        meta=meta,
        scope=report.scope,
        period_label=report.period.label,
        period_text=period_text(report.period, lang),
        framework_version=report.framework_version,
        framework_title=translate(fw.title_en, lang),
        computed_at=report.computed_at,
        objectives=objectives,
        pipeline=_pipeline(meta),
        validation=() if meta.external else tuple(meta.validation),
        hidden_count=dc.hidden_count,
    )


def _indicator_row(ind: Indicator, iv: Any, meta: RenderMeta, dc: Disclosure, fw: Framework, cl: CodeLists) -> IndicatorRow:
    code, kind, lang = iv.code, iv.kind, meta.lang
    m = lambda *a: dc.marker(code, *a)  # noqa: E731
    numerator = denominator = previous = None
    status = iv.status if lang == "en" or kind == "change" else _status_words(iv, cl, lang)
    if kind == "percent":
        value = _shown(iv.value, fmt_pct(iv.value), m("value"))
        numerator = _shown(iv.numerator, fmt_count(iv.numerator), m("numerator"))
        denominator = _shown(iv.denominator, fmt_count(iv.denominator), m("denominator"))
        if iv.previous is not None:
            previous = _shown(iv.previous, fmt_pct(iv.previous), m("previous"))
            if previous.hidden:
                status = None
    elif kind == "change":
        value = _shown(iv.value, fmt_change(iv.value), m("value"))
        numerator = _shown(iv.numerator, fmt_count(iv.numerator), m("numerator"))
        previous = _shown(iv.previous, fmt_count(iv.previous), m("previous"))
        if meta.external or lang != "en":
            status = _change_status(iv, dc, lang)
    elif kind == "status":
        value = Shown(iv.value, status or translate("reached" if iv.value else "not reached", lang))
        if iv.denominator is not None:
            numerator = _shown(iv.numerator, fmt_count(iv.numerator), m("numerator"))
            denominator = _shown(iv.denominator, fmt_count(iv.denominator), m("denominator"))
    else:
        value = _shown(iv.value, fmt_count(iv.value), m("value"))
        if iv.numerator is not None:
            numerator = _shown(iv.numerator, fmt_count(iv.numerator), m("numerator"))
        if iv.denominator is not None:
            denominator = _shown(iv.denominator, fmt_count(iv.denominator), m("denominator"))
    breakdowns = []
    for dim in ind.disaggregations:
        keys = iv.breakdown.get(dim, {})
        spec = fw.disaggregations[dim]
        krows = []
        if kind == "percent":
            fr = iv.fractions.get(dim, {})
            for key, (n, d) in fr.items():
                p = keys.get(key)
                krows.append(
                    KeyRow(
                        key,
                        key_label(fw, cl, dim, key, lang),
                        _shown(p, fmt_pct(p), m("value", dim, key)),
                        _shown(n, fmt_count(n), m("numerator", dim, key)),
                        _shown(d, fmt_count(d), m("denominator", dim, key)),
                    )
                )
        else:
            fmt = fmt_change if kind == "change" and dim != "measure" else fmt_count
            for key, v in keys.items():
                krows.append(KeyRow(key, key_label(fw, cl, dim, key, lang), _shown(v, fmt(v), m("value", dim, key))))
        breakdowns.append(Breakdown(dim, translate(spec.label_en, lang), dim in iv.additive, kind == "percent", tuple(krows)))
    comment = None if meta.external else meta.comments.get(code)
    return IndicatorRow(
        code=code,
        objective=ind.objective,
        output=ind.output,
        wording=ind.wording,
        short=translate(ind.short_en, lang),
        kind=kind,
        unit=translate(ind.unit, lang),
        definition=ind.definition,
        value=value,
        numerator=numerator,
        denominator=denominator,
        previous=previous,
        status=status,
        comment=comment,
        protected=is_protected(ind),
        breakdowns=tuple(breakdowns),
    )


def _change_status(iv: Any, dc: Disclosure, lang: str = "en") -> str:
    def t(part: str, n: Any, *key: str) -> str:
        mk = dc.marker(iv.code, part, *key)
        return mk if mk is not None else fmt_count(n)

    measure = iv.breakdown.get("measure", {})
    text = translate("Reported {a} (previous period {b})", lang).format(a=t("numerator", iv.numerator), b=t("previous", iv.previous))
    if "dealt_with" in measure:
        dealt = translate("dealt with {a} (previous period {b})", lang).format(
            a=t("value", measure["dealt_with"], "measure", "dealt_with"), b=t("value", measure.get("dealt_with_previous"), "measure", "dealt_with_previous")
        )
        text += ("؛ " if lang == "ur" else "; ") + dealt
    return text


def _status_words(iv: Any, cl: CodeLists, lang: str) -> str | None:
    """The status of a status indicator in ``lang``: the best milestone progress reached (its
    code-list label), or the engine's words (a fixed phrase with an entry in the table)."""
    if iv.status is None:
        return None
    if iv.kind == "percent" and iv.value is not None and iv.previous is not None:  # the engine's "increased by 2.5 percentage points"
        diff = iv.value - iv.previous
        words = "increased by {n} percentage points" if diff > 0 else "decreased by {n} percentage points" if diff < 0 else "unchanged by {n} percentage points"
        return translate(words, lang).format(n=f"{abs(diff):.1f}")
    if "progress" in iv.breakdown and "milestone_progress" in cl:  # the engine names the best progress reached by its label
        progress = cl["milestone_progress"]
        for code in progress.codes():
            if progress.label(code, "en").lower() == iv.status:
                return progress.label(code, lang)
    return translate(iv.status, lang)


def _pipeline(meta: RenderMeta) -> tuple[tuple[str, Shown], ...]:
    """The case pipeline; external: 1–4 shown "<5", and never a single hidden number."""
    if not meta.pipeline:
        return ()
    items = [(str(k), int(v)) for k, v in meta.pipeline.items()]
    hidden = {k for k, v in items if 1 <= v <= 4} if meta.external else set()
    if len(hidden) == 1:
        rest = sorted((v, i) for i, (k, v) in enumerate(items) if k not in hidden and v)
        if rest:
            hidden.add(items[rest[0][1]][0])
    out = []
    for k, v in items:
        label = KEY_LABELS.get(k, k.replace("_", " ").capitalize())
        if k in hidden:
            out.append((label, Shown(None, SMALL if 1 <= v <= 4 else HIDDEN, SMALL if 1 <= v <= 4 else HIDDEN)))
        else:
            out.append((label, Shown(v, fmt_count(v))))
    return tuple(out)


# --- files -----------------------------------------------------------------------------------------

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def write_file(path: Path | str, data: bytes) -> Path:
    """Writes a rendered file atomically (temp file in the same folder, then rename).

    Raises:
        StorageFull: the disk is full; the old file, if any, is intact.
        ExportError: the folder does not exist or cannot be written.
    """
    path = Path(path)
    if path.is_dir():
        raise ExportError(f"{path} is a folder; give a file name to write the report to.")
    if not path.parent.is_dir():
        raise ExportError(f"The folder {path.parent} does not exist; create it or choose another place.")
    try:
        atomic_write(path, data, mode=0o600)
    except StorageFull:
        raise
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise StorageFull(f"The disk is full: {path.name} was not written. Free some space and try again.") from None
        raise ExportError(f"{path.name} could not be written to {path.parent} ({exc.strerror or 'error'}); choose another place.") from None
    return path


def safe_file_stem(text: str) -> str:
    """A file-name-safe version of a code (unit codes, period labels)."""
    return _SAFE_NAME.sub("_", text).strip("_") or "report"
