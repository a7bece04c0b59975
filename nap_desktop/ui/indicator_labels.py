# SPDX-License-Identifier: GPL-3.0-or-later
"""Words and numbers of the indicator screens (dashboard, explorer) in the UI language.

The framework (``resources/framework.toml``) holds its texts in English; their Urdu is in
``resources/i18n/ur.json`` like every other UI string (``tests/ui/test_indicator_screens.py``
checks that every label of the framework has one). Breakdown keys come from the code lists
(labels in both languages) or are one of the engine's own keys, named here.
"""

from __future__ import annotations

from collections.abc import Mapping

from nap_desktop.domain.codelists import CodeLists
from nap_desktop.domain.framework import OBJECTIVE_NAMES, Framework, Indicator
from nap_desktop.reports.engine import IndicatorValue, Period
from nap_desktop.ui.i18n import N_, fmt_int, ltr, tr
from nap_desktop.ui.widgets import code_label

# Short names of the plan's seven objectives, for tiles and menus (the plan's full wording is
# shown as the tile's tooltip); the PDF prints them in Urdu too.
OBJECTIVES = OBJECTIVE_NAMES

# Breakdown keys that are not codes of a code list.
KEYS = {
    "unknown": N_("Not recorded"),
    "other": N_("Other"),
    "none": N_("None linked"),
    "organisation": N_("Organisations"),
    "not_recorded": N_("Not recorded"),
    "not_in_list": N_("Code no longer in use"),
    "witness": N_("Witnesses"),
    "service_provider": N_("Service providers"),
    "victim": N_("Victims"),
    "suspect": N_("Suspects"),
    "sex": N_("Sex known"),
    "age": N_("Age known"),
    "sex_and_age": N_("Sex and age known"),
    "protection": N_("Protection"),
    "care": N_("Care"),
    "support": N_("Support"),
    "daily_logs": N_("Daily logs received"),
    "passengers_screened": N_("Passengers screened"),
    "referred_second_line": N_("Referred to second-line checks"),
    "offloaded": N_("Offloaded"),
    "fraudulent_documents": N_("Fraudulent documents"),
    "intercepted": N_("Intercepted"),
    "biometric_checks": N_("Biometric checks"),
    "biometric_failed": N_("Biometric checks failed"),
    "reported": N_("Cases reported"),
    "reported_previous": N_("Cases reported, previous period"),
    "dealt_with": N_("Cases dealt with"),
    "dealt_with_previous": N_("Cases dealt with, previous period"),
    "dealt_with_change": N_("Change in cases dealt with"),
    "cases": N_("Cases"),
    "convicted_persons": N_("Persons convicted"),
    "compensation_ordered_pkr": N_("Compensation ordered (PKR)"),
    "compensation_paid_pkr": N_("Compensation paid (PKR)"),
    "confiscated": N_("Assets confiscated"),
    "confiscated_and_disposed": N_("Assets confiscated and disposed"),
}

KINDS = {"count": N_("Count"), "percent": N_("Percent"), "status": N_("Status"), "change": N_("Change")}


def objective_title(number: int) -> str:
    return tr(OBJECTIVES.get(number, "")) or tr("Objective {n}").format(n=number)


def indicator_label(ind: Indicator) -> str:
    """The indicator's short label in the UI language."""
    return tr(ind.short_en)


def unit_label(ind: Indicator) -> str:
    """What the indicator counts ("persons", "% of respondents" …)."""
    return tr(ind.unit)


def disaggregation_label(fw: Framework, name: str) -> str:
    spec = fw.disaggregations.get(name)
    return tr(spec.label_en) if spec is not None else name


def key_label(fw: Framework, cl: CodeLists, dim: str, key: str) -> str:
    """The label of one breakdown key (a code, or one of the engine's own keys)."""
    spec = fw.disaggregations.get(dim)
    if spec is not None and spec.codelist:
        codelist = cl.get(spec.codelist)
        if codelist is not None and key in codelist:
            return code_label(codelist, key)
    if key in KEYS:
        return tr(KEYS[key])
    return key  # free text as recorded (districts)


def period_label(p: Period) -> str:
    """``June 2026``, ``Quarter 2, 2026``, ``2026`` or a date range, in the UI language."""
    from PySide6.QtCore import QLocale

    if p.kind == "month":
        return f"{QLocale().standaloneMonthName(p.start.month)} {p.start.year}"
    if p.kind == "quarter":
        return tr("Quarter {q}, {year}").format(q=(p.start.month + 2) // 3, year=p.start.year)
    if p.kind == "year":
        return str(p.start.year)
    return ltr(f"{p.start.isoformat()} – {p.end.isoformat()}")


def format_number(kind: str, value: float | int | None) -> str:
    """A value as shown: counts with separators, percents with one decimal, "—" without data."""
    if value is None:
        return "—"
    if kind == "percent":
        return f"{value:.1f}%"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return fmt_int(int(value))


def format_value(v: IndicatorValue) -> str:
    """The main value of an indicator, e.g. ``1,234``, ``54.5%``, ``Reached``, ``+8``."""
    if v.kind == "status":
        return tr("Reached") if v.value else tr("Not yet")
    if v.kind == "change":
        return _signed(v.value)
    return format_number(v.kind, v.value)


def _signed(n: float | int | None) -> str:
    if n is None:
        return "—"
    text = format_number("count", abs(n))
    return ("+" if n > 0 else "−" if n < 0 else "±") + text


def change_text(v: IndicatorValue, prev: IndicatorValue | None) -> str:
    """The change against the previous period ("▲ 12", "▼ 3.5 points"), or "" when not meaningful."""
    if prev is None or v.kind in ("status", "change") or v.value is None or prev.value is None:
        return ""
    delta = v.value - prev.value
    if abs(delta) < 1e-9:
        return "= " + tr("same")
    arrow = "▲" if delta > 0 else "▼"
    if v.kind == "percent":
        return f"{arrow} " + tr("{n} points").format(n=f"{abs(delta):.1f}")
    return f"{arrow} {format_number('count', abs(delta))}"


def status_detail(v: IndicatorValue, cl: CodeLists) -> str:
    """For status indicators: the progress the value rests on, e.g. "Achieved" or "1 of 2"."""
    if v.kind != "status":
        return ""
    progress: Mapping[str, float | int] = v.breakdown.get("progress", {})
    reached = [k for k, n in progress.items() if n]
    if reached and len(reached) == 1:
        return code_label(cl.get("milestone_progress"), reached[0])
    if v.denominator:
        return tr("{a} of {b}").format(a=fmt_int(int(v.numerator or 0)), b=fmt_int(int(v.denominator)))
    return tr("Nothing recorded")
