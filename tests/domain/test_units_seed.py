# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests of the unit hierarchy seed (``resources/units.toml``) and its loader."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

from nap_desktop.domain.units_seed import (
    KINDS,
    POST_TYPES,
    PROVINCES,
    UnitSeed,
    check_parent_kind,
    default_units_path,
    load_units_seed,
    validate_unit_code,
)
from nap_desktop.errors import ConfigError, UserFacingError

REPO_RESOURCES = Path(__file__).resolve().parents[2] / "resources"

# Punctuation an Urdu name may carry besides Arabic-script letters and spaces.
_URDU_PUNCTUATION = set("()-")


def _is_arabic_script(char: str) -> bool:
    point = ord(char)
    return (
        0x0600 <= point <= 0x06FF
        or 0x0750 <= point <= 0x077F
        or 0xFB50 <= point <= 0xFDFF
        or 0xFE70 <= point <= 0xFEFF
    )


@pytest.fixture(scope="module")
def shipped() -> list[UnitSeed]:
    """The shipped seed, loaded from the source tree."""
    return load_units_seed(REPO_RESOURCES / "units.toml")


# --- the shipped file ----------------------------------------------------------------------------


def test_default_path_is_the_shipped_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NAP_RESOURCES", raising=False)
    path = default_units_path()
    assert path == REPO_RESOURCES / "units.toml"
    assert path.is_file()
    assert load_units_seed(path)


def test_default_path_honours_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NAP_RESOURCES", str(tmp_path))
    assert default_units_path() == tmp_path / "units.toml"


def test_default_path_when_frozen(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("NAP_RESOURCES", raising=False)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert default_units_path() == tmp_path / "resources" / "units.toml"


def test_shipped_counts(shipped: list[UnitSeed]) -> None:
    kinds = Counter(unit.kind for unit in shipped)
    assert kinds["hq"] == 1
    assert kinds["zone"] >= 5
    assert kinds["circle"] >= 12
    assert kinds["post"] >= 25
    post_types = {unit.post_type for unit in shipped if unit.kind == "post"}
    assert {"airport", "land_crossing", "seaport", "deportation_desk"} <= post_types


def test_shipped_hq_is_the_root(shipped: list[UnitSeed]) -> None:
    (hq,) = [unit for unit in shipped if unit.kind == "hq"]
    assert hq.code == "HQ"
    assert hq.parent is None
    assert shipped[0] is hq


def test_shipped_every_chain_reaches_hq(shipped: list[UnitSeed]) -> None:
    by_code = {unit.code: unit for unit in shipped}
    for unit in shipped:
        kinds = [unit.kind]
        current = unit
        while current.parent is not None:
            current = by_code[current.parent]
            kinds.append(current.kind)
        assert current.code == "HQ"
        assert kinds == list(reversed(KINDS[: KINDS.index(unit.kind) + 1])), unit.code


def test_shipped_parents_come_before_children(shipped: list[UnitSeed]) -> None:
    seen: set[str] = set()
    for unit in shipped:
        assert unit.parent is None or unit.parent in seen, unit.code
        seen.add(unit.code)


def test_shipped_urdu_names_are_arabic_script(shipped: list[UnitSeed]) -> None:
    for unit in shipped:
        assert unit.name_ur == unit.name_ur.strip()
        assert any(_is_arabic_script(c) and c.isalpha() for c in unit.name_ur), unit.code
        stray = [
            c
            for c in unit.name_ur
            if not (_is_arabic_script(c) or c.isspace() or c in _URDU_PUNCTUATION)
        ]
        assert not stray, f"{unit.code}: {stray}"


def test_shipped_fields_are_consistent(shipped: list[UnitSeed]) -> None:
    codes = [unit.code for unit in shipped]
    assert len(codes) == len(set(codes))
    for unit in shipped:
        validate_unit_code(unit.code)
        assert unit.province in PROVINCES
        assert unit.name_en.isascii() or "–" in unit.name_en
        if unit.kind == "post":
            assert unit.post_type in POST_TYPES
            assert unit.district
        else:
            assert unit.post_type is None and unit.district is None
        if unit.iata is not None:
            assert unit.post_type == "airport"
        if unit.neighbour_country is not None:
            assert unit.post_type == "land_crossing"
            assert unit.neighbour_country in {"af", "ir", "in", "cn"}


def test_shipped_posts_sit_under_the_right_circle(shipped: list[UnitSeed]) -> None:
    parent = {unit.code: unit.parent for unit in shipped}
    assert parent["P-LHE-AIR"] == "C-LHR"
    assert parent["P-WAGAH"] == "C-LHR"
    assert parent["P-KHI-AIR"] == "C-KHI"
    assert parent["P-TORKHAM"] == "C-PSH"
    assert parent["P-TAFTAN"] == "C-QTA"
    assert parent["P-CHAMAN"] == "C-QTA"
    by_code = {unit.code: unit for unit in shipped}
    assert by_code["P-TORKHAM"].neighbour_country == "af"
    assert by_code["P-TAFTAN"].neighbour_country == "ir"
    assert by_code["P-WAGAH"].neighbour_country == "in"
    iatas = {unit.iata for unit in shipped if unit.iata}
    assert {"LHE", "KHI", "ISB", "PEW", "MUX", "LYP", "SKT", "UET"} <= iatas


def test_units_are_frozen(shipped: list[UnitSeed]) -> None:
    with pytest.raises(AttributeError):
        shipped[0].code = "X"  # type: ignore[misc]


# --- rule helpers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code", ["HQ", "Z-PUN", "C-LHR", "P-LHE-AIR", "P-TORKHAM", "A1", "A" * 24]
)
def test_valid_codes(code: str) -> None:
    validate_unit_code(code)


@pytest.mark.parametrize(
    "code", ["", "H", "hq", "1AB", "-AB", "C_LHR", "C LHR", "A" * 25, "Ç-LHR"]
)
def test_invalid_codes(code: str) -> None:
    with pytest.raises(ConfigError, match="not valid"):
        validate_unit_code(code)


def test_invalid_code_of_wrong_type() -> None:
    with pytest.raises(ConfigError):
        validate_unit_code(42)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "parent_kind"),
    [("hq", None), ("zone", "hq"), ("circle", "zone"), ("post", "circle")],
)
def test_parent_kind_accepted(kind: str, parent_kind: str | None) -> None:
    check_parent_kind(kind, parent_kind)


@pytest.mark.parametrize(
    ("kind", "parent_kind", "message"),
    [
        ("hq", "zone", "no parent"),
        ("zone", None, "under HQ, not under nothing"),
        ("zone", "zone", "under HQ, not under a zone"),
        ("circle", "hq", "under a zone, not under HQ"),
        ("post", "zone", "under a circle"),
        ("post", "post", "under a circle, not under a post"),
        ("station", "circle", "Unknown unit kind"),
        ("post", "station", "unknown kind 'station'"),
    ],
)
def test_parent_kind_refused(kind: str, parent_kind: str | None, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        check_parent_kind(kind, parent_kind)


def test_config_error_is_user_facing() -> None:
    assert issubclass(ConfigError, UserFacingError)


# --- malformed files -----------------------------------------------------------------------------

_HQ = """
[[unit]]
code = "HQ"
kind = "hq"
name_en = "FIA Headquarters, Islamabad"
name_ur = "ایف آئی اے ہیڈکوارٹرز، اسلام آباد"
province = "ict"
"""

_ZONE = """
[[unit]]
code = "Z-ICT"
kind = "zone"
parent = "HQ"
name_en = "FIA Islamabad Zone"
name_ur = "ایف آئی اے اسلام آباد زون"
province = "ict"
"""

_CIRCLE = """
[[unit]]
code = "C-ISB"
kind = "circle"
parent = "Z-ICT"
name_en = "FIA Anti-Human Trafficking Circle, Islamabad"
name_ur = "ایف آئی اے اینٹی ہیومن ٹریفکنگ سرکل، اسلام آباد"
province = "ict"
"""

_POST = """
[[unit]]
code = "P-ISB-AIR"
kind = "post"
parent = "C-ISB"
name_en = "FIA Immigration, Islamabad International Airport"
name_ur = "ایف آئی اے امیگریشن، اسلام آباد انٹرنیشنل ایئرپورٹ"
province = "punjab"
post_type = "airport"
district = "Attock"
iata = "ISB"
"""

_VALID = "version = 1\n" + _HQ + _ZONE + _CIRCLE + _POST


def _write(tmp_path: Path, text: str, name: str = "units.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_minimal_file_loads(tmp_path: Path) -> None:
    units = load_units_seed(_write(tmp_path, _VALID))
    assert [unit.code for unit in units] == ["HQ", "Z-ICT", "C-ISB", "P-ISB-AIR"]
    post = units[-1]
    assert post == UnitSeed(
        code="P-ISB-AIR",
        kind="post",
        parent="C-ISB",
        name_en="FIA Immigration, Islamabad International Airport",
        name_ur="ایف آئی اے امیگریشن، اسلام آباد انٹرنیشنل ایئرپورٹ",
        province="punjab",
        post_type="airport",
        district="Attock",
        iata="ISB",
        neighbour_country=None,
    )


def test_children_before_parents_in_file_are_reordered(tmp_path: Path) -> None:
    text = "version = 1\n" + _POST + _CIRCLE + _ZONE + _HQ
    units = load_units_seed(_write(tmp_path, text))
    assert [unit.code for unit in units] == ["HQ", "Z-ICT", "C-ISB", "P-ISB-AIR"]


def test_byte_order_mark_is_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "units.toml"
    path.write_bytes(b"\xef\xbb\xbf" + _VALID.encode("utf-8"))
    assert len(load_units_seed(path)) == 4


def _replace(old: str, new: str) -> str:
    assert old in _VALID
    return _VALID.replace(old, new, 1)


_ZONE_KIND_LINE = _VALID.splitlines().index('kind = "zone"') + 1
_ZONE_UR = 'name_ur = "ایف آئی اے اسلام آباد زون"'
_CIRCLE_EN = 'name_en = "FIA Anti-Human Trafficking Circle, Islamabad"'
_AIRPORT_TAIL = 'post_type = "airport"\ndistrict = "Attock"\niata = "ISB"'
_CROSSING_TAIL = 'post_type = "land_crossing"\ndistrict = "Attock"\nneighbour_country = "AFG"'
_CYCLE = (
    "version = 1\n"
    + _HQ
    + _ZONE.replace('code = "Z-ICT"', 'code = "Z-A"').replace('parent = "HQ"', 'parent = "Z-B"')
    + _ZONE.replace('code = "Z-ICT"', 'code = "Z-B"').replace('parent = "HQ"', 'parent = "Z-A"')
)


def _case(case_id: str, text: str, *expected: str) -> object:
    return pytest.param(text, expected, id=case_id)


_MALFORMED = [
    _case(
        "bad_toml",
        _replace('kind = "zone"', 'kind = "zone'),
        "not valid TOML",
        f"line {_ZONE_KIND_LINE}",
    ),
    _case("bad_version", _replace("version = 1", "version = 2"), "version must be 1"),
    _case("no_units", "version = 1\n", "no units"),
    _case("unknown_top_key", "colour = 'red'\n" + _VALID, "unknown top-level key", "colour"),
    _case(
        "unknown_unit_key",
        _replace('district = "Attock"', 'district = "Attock"\ntehsil = "X"'),
        "P-ISB-AIR",
        "unknown key",
        "tehsil",
    ),
    _case("duplicate_code", _VALID + _POST, "P-ISB-AIR", "duplicate code"),
    _case(
        "bad_code",
        _replace('code = "C-ISB"', 'code = "c-isb"'),
        "entry 3",
        "'c-isb'",
        "not valid",
    ),
    _case("missing_code", _replace('code = "C-ISB"\n', ""), "entry 3", "no code"),
    _case(
        "missing_name_en",
        _replace('name_en = "FIA Islamabad Zone"\n', ""),
        "Z-ICT",
        "name_en is missing",
    ),
    _case("empty_name_ur", _replace(_ZONE_UR, 'name_ur = "  "'), "Z-ICT", "name_ur is missing"),
    _case("latin_name_ur", _replace(_ZONE_UR, 'name_ur = "FIA Zone"'), "Z-ICT", "Arabic script"),
    _case(
        "unknown_kind",
        _replace('kind = "circle"', 'kind = "station"'),
        "C-ISB",
        "unknown kind",
        "station",
    ),
    _case("missing_kind", _replace('kind = "circle"\n', ""), "C-ISB", "kind is missing"),
    _case("missing_parent", _replace('parent = "Z-ICT"\n', ""), "C-ISB", "parent is missing"),
    _case(
        "unknown_parent",
        _replace('parent = "Z-ICT"', 'parent = "Z-XXX"'),
        "C-ISB",
        "parent Z-XXX does not exist",
    ),
    _case(
        "wrong_parent_kind",
        _replace('parent = "C-ISB"', 'parent = "Z-ICT"'),
        "P-ISB-AIR",
        "post must be under a circle, not under a zone",
    ),
    _case(
        "circle_under_hq",
        _replace('parent = "Z-ICT"', 'parent = "HQ"'),
        "C-ISB",
        "circle must be under a zone",
    ),
    _case(
        "hq_with_parent",
        _replace('kind = "hq"', 'kind = "hq"\nparent = "Z-ICT"'),
        "HQ",
        "no parent",
    ),
    _case(
        "no_hq",
        "version = 1\n" + _ZONE + _CIRCLE + _POST,
        "exactly one unit of kind hq",
        "found 0",
    ),
    _case(
        "two_hqs",
        _VALID + _HQ.replace('"HQ"', '"HQ2"'),
        "exactly one unit of kind hq",
        "HQ, HQ2",
    ),
    _case("cycle", _CYCLE, "cycle", "Z-A", "Z-B"),
    _case("self_parent", _replace('parent = "HQ"', 'parent = "Z-ICT"'), "Z-ICT", "cycle"),
    _case(
        "post_without_type",
        _replace('post_type = "airport"\n', ""),
        "P-ISB-AIR",
        "post without post_type",
    ),
    _case(
        "unknown_post_type",
        _replace('post_type = "airport"', 'post_type = "heliport"'),
        "P-ISB-AIR",
        "unknown post_type",
        "heliport",
    ),
    _case(
        "post_without_district",
        _replace('district = "Attock"\n', ""),
        "P-ISB-AIR",
        "district is missing",
    ),
    _case(
        "bad_province",
        _replace('province = "punjab"', 'province = "Punjab"'),
        "P-ISB-AIR",
        "unknown province",
        "'Punjab'",
    ),
    _case("missing_province", _replace('province = "ict"\n', ""), "HQ", "province is missing"),
    _case(
        "post_field_on_circle",
        _replace(_CIRCLE_EN, _CIRCLE_EN + '\ndistrict = "Islamabad"'),
        "C-ISB",
        "district",
        "belongs only to posts, not to a circle",
    ),
    _case(
        "iata_on_seaport",
        _replace('post_type = "airport"', 'post_type = "seaport"'),
        "P-ISB-AIR",
        "iata only belongs to airports, not to a seaport",
    ),
    _case(
        "bad_iata",
        _replace('iata = "ISB"', 'iata = "isb"'),
        "P-ISB-AIR",
        "three capital letters",
    ),
    _case(
        "neighbour_on_airport",
        _replace('iata = "ISB"', 'neighbour_country = "af"'),
        "P-ISB-AIR",
        "neighbour_country only belongs to land crossings, not to an airport",
    ),
    _case("bad_neighbour", _replace(_AIRPORT_TAIL, _CROSSING_TAIL), "P-ISB-AIR", "two-letter ISO"),
    _case(
        "duplicate_iata",
        _VALID + _POST.replace('"P-ISB-AIR"', '"P-ISB-AIR2"'),
        "P-ISB-AIR2",
        "iata ISB is already used by P-ISB-AIR",
    ),
    _case(
        "non_text_value",
        _replace('district = "Attock"', "district = 7"),
        "P-ISB-AIR",
        "district must be text",
    ),
    _case("unit_not_table", "version = 1\nunit = [1, 2]\n", "entry 1", "not a [[unit]] table"),
]


@pytest.mark.parametrize(("text", "expected"), _MALFORMED)
def test_malformed_file_is_refused(
    tmp_path: Path, text: str, expected: tuple[str, ...]
) -> None:
    path = _write(tmp_path, text, name="broken-units.toml")
    with pytest.raises(ConfigError) as info:
        load_units_seed(path)
    message = str(info.value)
    assert message.startswith("broken-units.toml: "), message
    for fragment in expected:
        assert fragment in message, message


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"absent\.toml: file not found"):
        load_units_seed(tmp_path / "absent.toml")


def test_non_utf8_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "units.toml"
    path.write_bytes(_VALID.encode("utf-8") + b'\n# caf\xe9\n')
    with pytest.raises(ConfigError, match="not UTF-8 text"):
        load_units_seed(path)
