# SPDX-License-Identifier: GPL-3.0-or-later
"""Validation of record values: types, code lists, required fields and the rules that protect people.

:func:`validate` takes raw values (from a form, a JSON file, a CSV row), returns them normalised
(dates as :class:`datetime.date`, codes checked) or raises :class:`ValidationError` whose
``fields`` and ``fields_ur`` say, per field, what to fix in English and in Urdu. It needs no
database: facts from the store (the person's age for the child rule) come in ``context``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from nap_desktop.domain.codelists import CodeLists, _safe_repr
from nap_desktop.domain.records import PARTY_ROLES, RECORD_TYPES, STATUSES, FieldSpec, RecordType
from nap_desktop.errors import ValidationError

# Messages: (English, Urdu). Placeholders are filled with format().
MSG: dict[str, tuple[str, str]] = {
    "required": ("Required.", "یہ خانہ لازمی ہے۔"),
    "unknown_field": ("Not a field of this record.", "یہ اس ریکارڈ کا خانہ نہیں۔"),
    "not_text": ("Must be text.", "متن ہونا چاہیے۔"),
    "too_long": ("Too long (at most {n} characters).", "بہت طویل ہے (زیادہ سے زیادہ {n} حروف)۔"),
    "not_int": ("Must be a whole number.", "مکمل عدد ہونا چاہیے۔"),
    "too_small": ("Must be at least {n}.", "کم از کم {n} ہونا چاہیے۔"),
    "too_big": ("Must be at most {n}.", "زیادہ سے زیادہ {n} ہونا چاہیے۔"),
    "not_date": ("Must be a date (YYYY-MM-DD).", "تاریخ ہونی چاہیے (YYYY-MM-DD)۔"),
    "future": ("Cannot be in the future.", "مستقبل کی تاریخ نہیں ہو سکتی۔"),
    "not_bool": ("Must be yes or no.", "ہاں یا نہیں ہونا چاہیے۔"),
    "not_code": ("{v} is not in the list {l}.", "{v} فہرست {l} میں نہیں۔"),
    "not_list": ("Must be a list of codes.", "کوڈز کی فہرست ہونی چاہیے۔"),
    "not_answers": ("Must map each item to yes / no / unknown / not_asked.", "ہر آئٹم کا جواب ہاں / نہیں / نامعلوم / نہیں پوچھا ہونا چاہیے۔"),
    "not_matrix": ("Must give whole-number counts by {a} and {b}.", "{a} اور {b} کے لحاظ سے گنتی درکار ہے۔"),
    "not_ref": ("Must be the id of a {t} record.", "{t} ریکارڈ کی شناخت ہونی چاہیے۔"),
    "bad_status": ("Status must be draft or complete.", "حیثیت مسودہ یا مکمل ہونی چاہیے۔"),
    "dob_age": ("Date of birth and age do not agree.", "تاریخ پیدائش اور عمر میں مطابقت نہیں۔"),
    "consent_missing": (
        "Complete the consent checks first: {items}.",
        "پہلے رضامندی کی جانچ مکمل کریں: {items}۔",
    ),
    "guardian_needed": ("A child is interviewed only with a guardian present.", "بچے سے انٹرویو صرف سرپرست کی موجودگی میں۔"),
    "palermo_needed": ("An identified victim needs at least one {what}.", "شناخت شدہ متاثرہ کے لیے کم از کم ایک {what} درکار ہے۔"),
    "referral_consent": ("A referral needs the person's consent (yes).", "ریفرل کے لیے فرد کی رضامندی (ہاں) ضروری ہے۔"),
    "order": ("Must not be before {other}.", "{other} سے پہلے نہیں ہو سکتی۔"),
    "le_total": ("Cannot be more than {other} ({n}).", "{other} ({n}) سے زیادہ نہیں ہو سکتا۔"),
    "le_cell": ("Cannot exceed trainees in {cell} ({n}).", "{cell} میں تربیت پانے والوں ({n}) سے زیادہ نہیں ہو سکتا۔"),
    "verdict_needed": ("A verdict event needs the verdict.", "فیصلے کے مرحلے کے لیے فیصلہ درکار ہے۔"),
    "bad_event": ("Each event needs an event code and a date.", "ہر مرحلے کے لیے کوڈ اور تاریخ درکار ہے۔"),
    "bad_party": ("Each party needs a person id and a role (victim / suspect / witness).", "ہر فریق کے لیے فرد اور کردار درکار ہے۔"),
    "bad_route": ("Each route event needs a type; dates and countries must be valid.", "راستے کے ہر واقعے کے لیے قسم درکار ہے۔"),
    "cnic": ("A CNIC has 13 digits (e.g. 35202-1234567-1).", "شناختی کارڈ نمبر 13 ہندسوں کا ہوتا ہے۔"),
    "phone": ("Not a phone number.", "فون نمبر درست نہیں۔"),
}

# The seven HTCDS consent checks: all must be "yes" before a screening is completed.
HTCDS_CONSENT = (
    "consents_to_interview",
    "informed_of_purpose",
    "informed_of_data_use",
    "informed_of_research_use",
    "informed_of_right_to_request_data",
    "informed_of_retention_period",
    "informed_of_withdrawal",
)
ANSWERS = ("yes", "no", "unknown", "not_asked")
VICTIM_STATUSES = ("presumed_victim", "confirmed_victim")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class Problems:
    """Collects field problems in both languages."""

    en: dict[str, str] = field(default_factory=dict)
    ur: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, key: str, *, ur: Mapping[str, object] | None = None, **fmt: object) -> None:
        """Records the first problem of a field; ``ur`` overrides placeholders in the Urdu text."""
        if name in self.en:
            return
        en_text, ur_text = MSG[key]
        self.en[name] = en_text.format(**fmt)
        self.ur[name] = ur_text.format(**{**fmt, **(ur or {})})

    def raise_if_any(self, rt: RecordType) -> None:
        if self.en:
            first = next(iter(self.en))
            # NOTE: an unknown "field name" is user input and may be anything (a name, a CNIC): not echoed.
            shown = first if first in rt.field_names or first == "status" else "a field that is not part of this record"
            summary = f"The {rt.label_en.lower()} cannot be saved: {shown}: {self.en[first]}"
            if len(self.en) > 1:
                summary += f" (and {len(self.en) - 1} more)"
            raise ValidationError(summary, dict(self.en), fields_ur=dict(self.ur))


@dataclass(frozen=True)
class Context:
    """Facts the rules need from outside the record.

    Attributes:
        today: The date "now" (injected for tests).
        person_age_on: Returns the linked person's age in whole years on a date, or ``None``.
        ref_exists: Returns whether a record of a type with an id exists (and is not deleted).
    """

    today: date
    person_age_on: Callable[[str, date], int | None] = lambda _pid, _d: None
    ref_exists: Callable[[str, str], bool] = lambda _t, _id: True


def age_on(dob: date, on: date) -> int:
    """Whole years between ``dob`` and ``on``."""
    return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))


def validate(
    rt: RecordType,
    raw: Mapping[str, Any],
    *,
    status: str,
    codelists: CodeLists,
    context: Context,
) -> dict[str, Any]:
    """Validates and normalises the values of a record of type ``rt``.

    Returns:
        Normalised values for every field given (``None`` for empty ones).

    Raises:
        ValidationError: with per-field messages in English (``fields``) and Urdu (``fields_ur``).
    """
    p = Problems()
    if status not in STATUSES:
        p.add("status", "bad_status")
    names = set(rt.field_names)
    out: dict[str, Any] = {}
    for key in raw:
        if key not in names:
            p.add(key, "unknown_field")
    for spec in rt.fields:
        if spec.name not in raw:
            continue
        value = _normalise(spec, raw[spec.name], p, codelists, context)
        out[spec.name] = value
    for spec in rt.fields:
        empty = _is_empty(out.get(spec.name))
        if empty and (spec.required_for_draft or (status == "complete" and spec.required)):
            p.add(spec.name, "required")
    if not p.en:
        RULES.get(rt.name, _no_rule)(out, status, p, context, codelists)
    p.raise_if_any(rt)
    return out


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _normalise(spec: FieldSpec, value: Any, p: Problems, cl: CodeLists, ctx: Context) -> Any:  # noqa: C901
    if _is_empty(value):
        return None
    kind, name = spec.kind, spec.name
    if kind == "text":
        if not isinstance(value, str):
            return p.add(name, "not_text")
        value = value.strip()
        if len(value) > spec.max_length:
            return p.add(name, "too_long", n=spec.max_length)
        if name == "cnic" and value:
            digits = re.sub(r"\D", "", value)
            if len(digits) != 13:
                return p.add(name, "cnic")
            return f"{digits[:5]}-{digits[5:12]}-{digits[12]}"
        if name == "phone" and value and not re.fullmatch(r"\+?[0-9][0-9 \-]{6,20}", value):
            return p.add(name, "phone")
        return value or None
    if kind == "int":
        if isinstance(value, bool):
            return p.add(name, "not_int")
        if isinstance(value, str):
            text = value.strip().replace(",", "")
            if not re.fullmatch(r"-?\d{1,15}", text):
                return p.add(name, "not_int")
            value = int(text)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int):
            return p.add(name, "not_int")
        if spec.minimum is not None and value < spec.minimum:
            return p.add(name, "too_small", n=spec.minimum)
        if spec.maximum is not None and value > spec.maximum:
            return p.add(name, "too_big", n=spec.maximum)
        return value
    if kind == "date":
        d = parse_date(value)
        if d is None:
            return p.add(name, "not_date")
        if d > ctx.today:
            return p.add(name, "future")
        return d
    if kind == "bool":
        b = parse_bool(value)
        if b is None:
            return p.add(name, "not_bool")
        return b
    if kind == "code":
        assert spec.codelist
        if not isinstance(value, str) or value.strip() not in cl[spec.codelist]:
            return p.add(name, "not_code", **_shown(value), l=spec.codelist)
        return value.strip()
    if kind == "codes":
        assert spec.codelist
        items = value.split(";") if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            return p.add(name, "not_list")
        codes = []
        for item in items:
            code = str(item).strip()
            if code not in cl[spec.codelist]:
                return p.add(name, "not_code", **_shown(code), l=spec.codelist)
            if code not in codes:
                codes.append(code)
        return sorted(codes)
    if kind == "answers":
        assert spec.codelist
        if isinstance(value, str):  # "item=yes;item2=no" from CSV
            try:
                value = dict(part.split("=", 1) for part in value.split(";") if part.strip())
            except ValueError:
                return p.add(name, "not_answers")
        if not isinstance(value, Mapping):
            return p.add(name, "not_answers")
        answers: dict[str, str] = {}
        for item, ans in value.items():
            item_s, ans_s = str(item).strip(), str(ans).strip()
            if item_s not in cl[spec.codelist]:
                return p.add(name, "not_code", **_shown(item_s), l=spec.codelist)
            if ans_s not in ANSWERS:
                return p.add(name, "not_answers")
            answers[item_s] = ans_s
        return dict(sorted(answers.items()))
    if kind == "matrix":
        assert spec.dims
        a, b = spec.dims
        if not isinstance(value, Mapping):
            return p.add(name, "not_matrix", a=a, b=b)
        cells: dict[str, dict[str, int]] = {}
        for d1, row in value.items():
            if str(d1) not in cl[a] or not isinstance(row, Mapping):
                return p.add(name, "not_matrix", a=a, b=b)
            for d2, n in row.items():
                if str(d2) not in cl[b] or isinstance(n, bool) or not isinstance(n, int) or n < 0 or n > 10_000_000:
                    return p.add(name, "not_matrix", a=a, b=b)
                if n:
                    cells.setdefault(str(d1), {})[str(d2)] = n
        return cells or None
    if kind == "ref":
        assert spec.ref
        if not isinstance(value, str) or not re.fullmatch(r"[0-9a-f\-]{36}", value) or not ctx.ref_exists(spec.ref, value):
            return p.add(name, "not_ref", t=spec.ref.replace("_", " "))
        return value
    if kind == "events":
        return _events(name, value, p, cl, ctx)
    if kind == "parties":
        return _parties(name, value, p, ctx)
    if kind == "route":
        return _route(name, value, p, cl, ctx)
    raise AssertionError(f"unknown field kind {kind}")


def parse_date(value: Any) -> date | None:
    """A date from a date, a datetime (its date part) or ``YYYY-MM-DD``; ``None`` otherwise."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def parse_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        v = value.strip().lower()
        if v in ("yes", "true", "1", "y", "ہاں"):
            return True
        if v in ("no", "false", "0", "n", "نہیں"):
            return False
    return None


def _events(name: str, value: Any, p: Problems, cl: CodeLists, ctx: Context) -> list[dict[str, Any]] | None:
    if not isinstance(value, list):
        return p.add(name, "bad_event")
    events = []
    for ev in value:
        if not isinstance(ev, Mapping) or str(ev.get("event", "")) not in cl["stage_event"]:
            return p.add(name, "bad_event")
        d = parse_date(ev.get("on_date"))
        if d is None:
            return p.add(name, "bad_event")
        if d > ctx.today:
            return p.add(name, "future")
        verdict = ev.get("verdict") or None
        if verdict is not None and verdict not in cl["verdict"]:
            return p.add(name, "not_code", **_shown(verdict), l="verdict")
        if ev["event"] == "verdict" and verdict is None:
            return p.add(name, "verdict_needed")
        item: dict[str, Any] = {"event": ev["event"], "on_date": d, "verdict": verdict}
        for k in ("sentence_months", "fine_pkr"):
            n = ev.get(k)
            if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 0):
                return p.add(name, "bad_event")
            item[k] = n
        pid = ev.get("person_id") or None
        if pid is not None and not ctx.ref_exists("person", str(pid)):
            return p.add(name, "not_ref", t="person")
        item["person_id"] = pid
        events.append(item)
    return sorted(events, key=lambda e: (e["on_date"], e["event"]))


def _parties(name: str, value: Any, p: Problems, ctx: Context) -> list[dict[str, Any]] | None:
    if not isinstance(value, list):
        return p.add(name, "bad_party")
    parties = []
    seen = set()
    for party in value:
        if not isinstance(party, Mapping) or party.get("party_role") not in PARTY_ROLES:
            return p.add(name, "bad_party")
        pid = str(party.get("person_id", ""))
        if not ctx.ref_exists("person", pid):
            return p.add(name, "not_ref", t="person")
        item: dict[str, Any] = {"person_id": pid, "party_role": party["party_role"]}
        for k in ("compensation_ordered_pkr", "compensation_paid_pkr"):
            n = party.get(k)
            if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 0):
                return p.add(name, "bad_party")
            item[k] = n
        for k in ("assets_confiscated", "assets_disposed"):
            item[k] = bool(party.get(k, False))
        if (pid, item["party_role"]) in seen:
            continue
        seen.add((pid, item["party_role"]))
        parties.append(item)
    return parties


def _route(name: str, value: Any, p: Problems, cl: CodeLists, ctx: Context) -> list[dict[str, Any]] | None:
    if not isinstance(value, list):
        return p.add(name, "bad_route")
    route = []
    for ev in value:
        if not isinstance(ev, Mapping) or str(ev.get("type", "")) not in cl["route_event_type"]:
            return p.add(name, "bad_route")
        d = parse_date(ev.get("date")) if ev.get("date") else None
        if ev.get("date") and (d is None or d > ctx.today):
            return p.add(name, "bad_route")
        country = ev.get("country") or None
        if country is not None and country not in cl["citizenship"]:
            return p.add(name, "bad_route")
        place = str(ev.get("place") or "")[:120]
        route.append({"type": ev["type"], "date": d.isoformat() if d else None, "country": country, "place": place})
    return route


# --- rules per record type -------------------------------------------------------------------


def _shown(value: object) -> dict[str, Any]:
    """The ``v`` placeholder: the value itself only when it looks like a code (never a CNIC or a name)."""
    text = _safe_repr(value)
    if text.startswith("'"):
        return {"v": text}
    return {"v": "This value", "ur": {"v": "یہ قدر"}}


def _other(type_name: str, field_name: str) -> dict[str, Any]:
    """The ``other`` placeholder of a message: the field's label in English and in Urdu."""
    spec = RECORD_TYPES[type_name].field(field_name)
    return {"other": spec.label_en.lower(), "ur": {"other": spec.label_ur}}


def _no_rule(v: dict[str, Any], status: str, p: Problems, ctx: Context, cl: CodeLists) -> None:
    return None


def _person(v: dict[str, Any], status: str, p: Problems, ctx: Context, cl: CodeLists) -> None:
    dob, age = v.get("date_of_birth"), v.get("age_years")
    if dob is not None and age is not None and abs(age_on(dob, ctx.today) - age) > 1:
        p.add("age_years", "dob_age")


def is_child(v: Mapping[str, Any], ctx: Context, on: date | None) -> bool:
    """A person under 18 on the date is a child, whatever else the record says."""
    pid = v.get("person_id")
    if pid is None or on is None:
        return False
    age = ctx.person_age_on(pid, on)
    return age is not None and age < 18


def _screening(v: dict[str, Any], status: str, p: Problems, ctx: Context, cl: CodeLists) -> None:
    child = is_child(v, ctx, v.get("screened_on"))
    v["is_child"] = child
    if status != "complete":
        return
    consent = v.get("consent") or {}
    missing = [c for c in HTCDS_CONSENT if consent.get(c) != "yes"]
    if missing:
        checks = cl["consent_check"]
        p.add(
            "consent",
            "consent_missing",
            items=", ".join(checks.label(m, "en") for m in missing),
            ur={"items": "، ".join(checks.label(m, "ur") for m in missing)},
        )
    elif child and consent.get("guardian_present") != "yes":
        p.add("consent", "guardian_needed")
    if v.get("identification_status") in VICTIM_STATUSES:
        needed = [("palermo_act", "act", "عمل"), ("palermo_purpose", "purpose", "مقصد")]
        if not child:  # NOTE: for a child the means element is not required (Palermo Art. 3(c))
            needed.insert(1, ("palermo_means", "means", "ذریعہ"))
        for fld, what, what_ur in needed:
            if not v.get(fld):
                p.add(fld, "palermo_needed", what=what, ur={"what": what_ur})


def _suspect(v: dict[str, Any], status: str, p: Problems, ctx: Context, cl: CodeLists) -> None:
    if v.get("arrested_on") and v.get("identified_on") and v["arrested_on"] < v["identified_on"]:
        # An arrest can follow identification, but it cannot come before the person was known.
        p.add("arrested_on", "order", **_other("suspect", "identified_on"))


_CASE_ORDER = ("arrest", "challan_submitted", "trial_started", "verdict", "sentence", "appeal_filed", "appeal_decided")


def _case(v: dict[str, Any], status: str, p: Problems, ctx: Context, cl: CodeLists) -> None:
    events = v.get("events") or []
    reg = v.get("registered_on")
    first: dict[str, date] = {}
    for ev in events:
        first.setdefault(ev["event"], ev["on_date"])
    # Arrest before challan before trial before verdict …: each stage not earlier than the one before.
    last_name, last_date = "registered_on", reg
    for stage in _CASE_ORDER:
        if stage not in first:
            continue
        d = first[stage]
        # NOTE: an arrest may come before registration (caught in the act); every later stage may
        # not come before registration nor before the stage that precedes it.
        if last_date is not None and d < last_date and stage != "arrest":
            when = f" ({last_date.isoformat()})"
            if last_name == "registered_on":
                name = _other("case", "registered_on")
                en, ur = name["other"], name["ur"]["other"]
            else:
                en, ur = cl["stage_event"].label(last_name, "en"), cl["stage_event"].label(last_name, "ur")
            p.add("events", "order", other=en + when, ur={"other": ur + when})
            return
        if last_date is None or d >= last_date:
            last_name, last_date = stage, d
    for party in v.get("parties") or []:
        o, paid = party.get("compensation_ordered_pkr"), party.get("compensation_paid_pkr")
        if o is not None and paid is not None and paid > o:
            p.add("parties", "le_total", n=o, other="compensation ordered", ur={"other": "حکم کردہ معاوضہ"})


def _referral(v: dict[str, Any], status: str, p: Problems, ctx: Context, cl: CodeLists) -> None:
    if status == "complete" and v.get("consent") != "yes":
        p.add("consent", "referral_consent")
    if v.get("feedback_on") and v.get("referred_on") and v["feedback_on"] < v["referred_on"]:
        p.add("feedback_on", "order", **_other("referral", "referred_on"))


def _service(v: dict[str, Any], status: str, p: Problems, ctx: Context, cl: CodeLists) -> None:
    if v.get("ended_on") and v.get("started_on") and v["ended_on"] < v["started_on"]:
        p.add("ended_on", "order", **_other("service", "started_on"))


def _session(v: dict[str, Any], status: str, p: Problems, ctx: Context, cl: CodeLists) -> None:
    total = sum(n for row in (v.get("participants") or {}).values() for n in row.values())
    resp = v.get("survey_respondents") or 0
    if resp > total:
        p.add("survey_respondents", "le_total", n=total, **_other("awareness_session", "participants"))
        return
    for k in ("survey_named_forms", "survey_knew_what_to_do", "survey_knew_where_to_report", "survey_acted_on_followup"):
        if (v.get(k) or 0) > resp:
            p.add(k, "le_total", n=resp, **_other("awareness_session", "survey_respondents"))


def _training(v: dict[str, Any], status: str, p: Problems, ctx: Context, cl: CodeLists) -> None:
    if v.get("held_to") and v.get("held_from") and v["held_to"] < v["held_from"]:
        p.add("held_to", "order", **_other("training", "held_from"))
    trainees = v.get("trainees") or {}
    for inst, row in (v.get("increased_knowledge") or {}).items():
        for sex, n in row.items():
            cap = trainees.get(inst, {}).get(sex, 0)
            if n > cap:
                p.add("increased_knowledge", "le_cell", cell=f"{inst} × {sex}", n=cap)
                return


def _checkpoint(v: dict[str, Any], status: str, p: Problems, ctx: Context, cl: CodeLists) -> None:
    screened = v.get("passengers_screened") or 0
    for k in ("referred_second_line", "offloaded", "intercepted"):
        if (v.get(k) or 0) > screened:
            p.add(k, "le_total", n=screened, **_other("checkpoint_log", "passengers_screened"))
    if (v.get("biometric_failed") or 0) > (v.get("biometric_checks") or 0):
        p.add("biometric_failed", "le_total", n=v.get("biometric_checks") or 0, **_other("checkpoint_log", "biometric_checks"))


def _gap(v: dict[str, Any], status: str, p: Problems, ctx: Context, cl: CodeLists) -> None:
    if v.get("addressed_on") and v.get("identified_on") and v["addressed_on"] < v["identified_on"]:
        p.add("addressed_on", "order", **_other("coordination_gap", "identified_on"))


def _milestone(v: dict[str, Any], status: str, p: Problems, ctx: Context, cl: CodeLists) -> None:
    if v.get("achieved_on") and v.get("progress") not in (None, "achieved"):
        p.add("progress", "not_code", **_shown(v.get("progress")), l="milestone_progress (achieved when a date is given)")


RULES: dict[str, Callable[[dict[str, Any], str, Problems, Context, CodeLists], None]] = {
    "person": _person,
    "screening": _screening,
    "suspect": _suspect,
    "case": _case,
    "referral": _referral,
    "service": _service,
    "awareness_session": _session,
    "training": _training,
    "checkpoint_log": _checkpoint,
    "coordination_gap": _gap,
    "milestone": _milestone,
}
