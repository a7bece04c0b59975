# SPDX-License-Identifier: GPL-3.0-or-later
"""Property-based tests of record validation (issue 3, "Must show": property-based tests over
the validators: no crash, only typed errors).

Whatever a form, a JSON file or a spreadsheet row holds, :func:`validation.validate` either
returns normalised values or raises :class:`nap_desktop.errors.ValidationError` with a message
per field in English and Urdu — never anything else. ``parse_date`` and ``parse_bool`` never
raise at all.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from nap_desktop.domain.codelists import default_codelists
from nap_desktop.domain.records import RECORD_TYPES
from nap_desktop.domain.validation import Context, parse_bool, parse_date, validate
from nap_desktop.errors import ValidationError
from tests.services.records_factories import TODAY, complete_values

CL = default_codelists()
# Derandomised: the same examples every run, so a failure is reproducible and a pass is stable.
# No shrinking phase: a failure is reported at once with the example that failed (shrinking the
# nested values here can take a minute); no example database is written into the checkout.
PROPS = settings(
    max_examples=50,
    deadline=None,
    database=None,
    derandomize=True,
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=[HealthCheck.too_slow],
)
TYPES = ("person", "screening", "case", "referral", "awareness_session", "training", "checkpoint_log", "survey_response", "milestone")
REFS = {
    "person_id": "11111111-1111-4111-8111-111111111111",
    "provider_id": "22222222-2222-4222-8222-222222222222",
    "entity_id": "33333333-3333-4333-8333-333333333333",
    "party_person": "44444444-4444-4444-8444-444444444444",
}

# Codes from the lists that fields use, so that drawn values sometimes pass the field checks and
# reach the rules behind them.
_CODES = sorted({e.code for rt in RECORD_TYPES.values() for f in rt.fields if f.codelist for e in CL[f.codelist]}
                | {e.code for name in ("stage_event", "verdict", "route_event_type", "sex", "age_group", "trainee_institution") for e in CL[name]})

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**16), max_value=10**16),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=24),
    st.sampled_from(_CODES),
    st.sampled_from(["yes", "no", "unknown", "not_asked", "2026-06-15", "2030-01-01", "2026-02-30", "35202-1234567-1", "1,000", " 12 ", "ہاں"]),
    st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 12, 31)),
    st.uuids().map(str),
    st.sampled_from(list(REFS.values())),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(_CODES), st.text(max_size=8)), inner, max_size=4),
        # shapes of events, parties and route events, with arbitrary contents
        st.lists(st.fixed_dictionaries({}, optional={k: inner for k in ("event", "on_date", "verdict", "sentence_months", "fine_pkr", "person_id")}), max_size=3),
        st.lists(st.fixed_dictionaries({}, optional={k: inner for k in ("person_id", "party_role", "compensation_ordered_pkr", "compensation_paid_pkr", "assets_confiscated")}), max_size=3),
        st.lists(st.fixed_dictionaries({}, optional={k: inner for k in ("type", "date", "country", "place")}), max_size=3),
    ),
    max_leaves=6,
)
contexts = st.builds(
    lambda age, exists: Context(today=TODAY, person_age_on=lambda _p, _d: age, ref_exists=lambda _t, _i: exists),
    st.one_of(st.none(), st.integers(min_value=0, max_value=120)),
    st.booleans(),
)
FIELD_NAMES = sorted({f for rt in RECORD_TYPES.values() for f in rt.field_names})
statuses = st.sampled_from(["draft", "complete", "draft", "complete", "final", ""])


def check(type_name: str, raw: dict[Any, Any], status: str, ctx: Context) -> None:
    """The property: normalised values back, or a ValidationError naming fields in both languages."""
    rt = RECORD_TYPES[type_name]
    try:
        out = validate(rt, raw, status=status, codelists=CL, context=ctx)
    except ValidationError as e:
        assert e.fields, "a ValidationError names at least one field"
        assert set(e.fields) == set(e.fields_ur)
        assert all(isinstance(m, str) and m for m in [*e.fields.values(), *e.fields_ur.values()])
        assert str(e)
        return
    assert status in ("draft", "complete")
    assert set(out) <= set(rt.field_names) | {"is_child"}
    for name, v in out.items():
        if name in rt.field_names and rt.field(name).kind == "date":
            assert v is None or type(v) is date


MANY = settings(PROPS, max_examples=150)


@MANY
@given(
    type_name=st.sampled_from(TYPES),
    raw=st.dictionaries(st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=12)), values, max_size=8),
    status=statuses,
    ctx=contexts,
)
def test_arbitrary_dicts_give_values_or_a_validation_error(type_name: str, raw: dict[str, Any], status: str, ctx: Context) -> None:
    check(type_name, raw, status, ctx)


@MANY
@given(type_name=st.sampled_from(TYPES), data=st.data(), status=statuses, ctx=contexts)
def test_valid_records_with_some_fields_replaced_give_values_or_a_validation_error(type_name: str, data: st.DataObject, status: str, ctx: Context) -> None:
    """Starting from a valid record and replacing one to three fields reaches the cross-field
    rules (consent, child rule, totals, stage order) with odd values."""
    raw: dict[str, Any] = complete_values(type_name, dict(REFS))
    raw = {k: v for k, v in raw.items() if k in RECORD_TYPES[type_name].field_names}
    names = data.draw(st.lists(st.sampled_from(RECORD_TYPES[type_name].field_names), min_size=1, max_size=3, unique=True))
    for name in names:
        raw[name] = data.draw(values, label=name)
    check(type_name, raw, status, ctx)


@pytest.mark.parametrize("type_name", TYPES)
def test_factory_values_pass_the_property_check(type_name: str) -> None:
    """The starting points of the second property are valid records of each type."""
    raw = {k: v for k, v in complete_values(type_name, dict(REFS)).items() if k in RECORD_TYPES[type_name].field_names}
    assert validate(RECORD_TYPES[type_name], raw, status="complete", codelists=CL, context=Context(today=TODAY))


def test_a_spreadsheet_datetime_in_a_date_field_is_handled() -> None:
    """XLSX readers (openpyxl) give date cells as ``datetime``: validation must take them as dates
    or refuse them with a ValidationError — not crash comparing a datetime with a date."""
    raw = {**complete_values("analysis_note"), "written_on": datetime(2026, 6, 15, 0, 0)}
    check("analysis_note", raw, "complete", Context(today=TODAY))
    case = complete_values("case")
    case["events"] = [{"event": "case_registered", "on_date": datetime(2026, 6, 5)}]
    check("case", case, "complete", Context(today=TODAY))


def test_a_validation_message_is_one_line_whatever_the_field_names() -> None:
    """errors.UserFacingError: one line, safe to show and log. An unknown column name from a
    spreadsheet (here with a line break, as hypothesis found) must not be pasted into it raw."""
    with pytest.raises(ValidationError) as err:
        validate(RECORD_TYPES["case"], {"Ayesha\nBibi": None}, status="draft", codelists=CL, context=Context(today=TODAY))
    assert "\n" not in str(err.value)
    assert "Ayesha" not in str(err.value)


anything = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(), st.binary(max_size=16),
        st.dates(), st.datetimes(), st.decimals(allow_nan=True), st.complex_numbers(),
        st.sampled_from(["2026-06-15", " 2026-06-15 ", "2026-13-01", "0000-01-01", "yes", "YES ", "y", "ہاں", "نہیں", "0", "1", "true"]),
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3), st.tuples(inner)),
    max_leaves=4,
)


@PROPS
@given(value=anything)
@example(value="2026-02-29")
@example(value="٢٠٢٦-٠٦-١٥")  # Arabic-Indic digits match \d
def test_parse_date_never_raises(value: Any) -> None:
    d = parse_date(value)
    assert d is None or isinstance(d, date)


@PROPS
@given(value=anything)
def test_parse_bool_never_raises(value: Any) -> None:
    assert parse_bool(value) in (True, False, None)


def test_parse_date_and_parse_bool_examples() -> None:
    assert parse_date(" 2026-06-15 ") == date(2026, 6, 15)
    assert parse_date("2026-02-29") is None and parse_date("15/06/2026") is None and parse_date(20260615) is None
    assert [parse_bool(v) for v in ("Yes", " n ", "ہاں", "نہیں", 1, 0, 2, "maybe", None)] == [True, False, True, False, True, False, None, None, None]


def test_parse_date_of_a_datetime_is_a_plain_date() -> None:
    """A ``datetime`` is a ``date`` subclass; handed back as is, it breaks every comparison with
    ``today`` (TypeError) — see test_a_spreadsheet_datetime_in_a_date_field_is_handled."""
    assert type(parse_date(datetime(2026, 6, 15, 9, 30))) is date
