# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests of the shipped code lists and of their loader (nap_desktop.domain.codelists)."""

from __future__ import annotations

import sys
import unicodedata
from pathlib import Path

import pytest

from nap_desktop.domain import codelists as cl_mod
from nap_desktop.domain.codelists import (
    CodeEntry,
    CodeList,
    CodeLists,
    age_group_for,
    ctdc_age_band_for,
    default_codelists,
    load_codelist,
    resources_dir,
)
from nap_desktop.errors import CodeListError, UserFacingError, ValidationError

EXPECTED_LISTS = {
    # FIA extensions used by the record types (domain/records.py)
    "province",
    "marital_status",
    "migration_status",
    "language",
    "referral_direction",
    "coordination_level",
    "milestone_progress",
    "sex",
    "age_group",
    "ctdc_age_band",
    "citizenship",
    "location_type",
    "answer",
    "consent_check",
    "ilo_forced_labour_indicator",
    "means_of_control",
    "palermo_act",
    "palermo_means",
    "palermo_purpose",
    "smuggling_element",
    "exploitation_type",
    "labour_sector",
    "sexual_exploitation_type",
    "recruitment_method",
    "recruiter_relation",
    "identification_status",
    "decision_maker",
    "suspect_role",
    "case_type",
    "stage_event",
    "verdict",
    "service_type",
    "provider_type",
    "referral_reason",
    "referral_outcome",
    "beneficiary_role",
    "audience_group",
    "venue_type",
    "awareness_topic",
    "training_topic",
    "trainee_institution",
    "survey_topic",
    "offence_law",
    "arrest_status",
    "checkpoint_type",
    "immediate_need",
    "route_event_type",
}

# Characters that belong to Arabic but not to Urdu orthography: Urdu writes ی, ک, ہ/ھ instead.
ARABIC_NOT_URDU = {"\u064a": "Arabic yeh", "\u0643": "Arabic kaf", "\u0647": "Arabic heh"}


@pytest.fixture(scope="module")
def lists() -> CodeLists:
    return default_codelists()


def _all_entries(lists: CodeLists) -> list[tuple[str, CodeEntry]]:
    return [(cl.name, e) for cl in lists.values() for e in cl]


# --- the shipped lists ---------------------------------------------------------------------------


def test_all_shipped_lists_load_and_match_their_files(lists: CodeLists) -> None:
    assert set(lists.names()) == EXPECTED_LISTS
    files = {p.stem for p in (resources_dir() / "codelists").glob("*.toml")}
    assert files == EXPECTED_LISTS
    for cl in lists.values():
        assert cl.version >= 1
        assert cl.title_en and cl.title_ur and cl.source
        assert len(cl) > 0


def test_default_codelists_is_loaded_once(lists: CodeLists) -> None:
    assert default_codelists() is lists


def test_every_entry_has_both_labels_and_urdu_is_real_urdu_script(lists: CodeLists) -> None:
    for name, e in _all_entries(lists):
        assert e.label_en.strip() == e.label_en and e.label_en, (name, e.code)
        assert e.label("en") == e.label_en and e.label("ur") == e.label_ur
        ur = e.label_ur
        letters = [ch for ch in ur if ch.isalpha()]
        assert letters, (name, e.code)
        # Every letter of an Urdu label is of the Arabic script: no Latin transliteration.
        for ch in letters:
            assert unicodedata.name(ch).startswith("ARABIC"), (name, e.code, ur, ch)
        for ch, what in ARABIC_NOT_URDU.items():
            assert ch not in ur, f"{name}/{e.code}: {what} in {ur!r}; use the Urdu letter"
    for cl in lists.values():
        assert all(unicodedata.name(ch).startswith("ARABIC") for ch in cl.title_ur if ch.isalpha())


def test_labels_differ_between_codes_of_a_list(lists: CodeLists) -> None:
    for cl in lists.values():
        assert len({e.label_en.casefold() for e in cl}) == len(cl), cl.name
        assert len({e.label_ur for e in cl}) == len(cl), cl.name


@pytest.mark.parametrize(
    ("name", "size"),
    [
        ("ilo_forced_labour_indicator", 11),
        ("sexual_exploitation_type", 4),
        ("recruiter_relation", 5),
        ("answer", 4),
        ("sex", 4),
        ("age_group", 3),
        ("palermo_act", 5),
        ("beneficiary_role", 3),
        ("survey_topic", 3),
    ],
)
def test_lists_with_a_fixed_size(lists: CodeLists, name: str, size: int) -> None:
    assert len(lists[name]) == size


def test_means_of_control_is_the_union_of_htcds_and_ctdc(lists: CodeLists) -> None:
    moc = lists["means_of_control"]
    substantive = [e for e in moc if e.code != "not_specified"]
    assert len(substantive) >= 17
    assert "restricts_movement" in moc and "uses_children" in moc
    assert moc.multi
    for e in moc:
        assert e.ctdc is not None and e.ctdc.startswith("meansOfControl"), e.code
    assert moc.get("not_specified").ctdc == "meansOfControlNotSpecified"
    assert moc.get("not_specified").exclusive


def test_suspect_roles_contain_the_15_htcds_roles(lists: CodeLists) -> None:
    roles = lists["suspect_role"]
    htcds = roles.by_group("htcds")
    assert len(htcds) == 15
    assert {e.htcds for e in htcds} == {
        "TravellingPartner",
        "Transporter",
        "RecruiterOrIntermediary",
        "BrokerTravelAgent",
        "TransferredIndividual",
        "HarbouredIndividual",
        "SoldIndividual",
        "BoughtIndividual",
        "ReceivedIndividual",
        "ControlledIndividual",
        "Smuggler",
        "Abuser",
        "Kidnapper",
        "Exploiter",
        "Other",
    }
    # FIA additions all map back to an HTCDS value.
    assert all(e.htcds for e in roles)


def test_labour_sector_has_the_21_isic_sections(lists: CodeLists) -> None:
    sections = lists["labour_sector"].by_group("isic_section")
    assert len(sections) == 21
    assert [e.htcds[0] for e in sections if e.htcds] == [
        chr(c) for c in range(ord("A"), ord("U") + 1)
    ]
    brick = lists["labour_sector"].get("brick_kiln")
    assert brick.htcds == "C_Manufacturing"


def test_sex_mappings(lists: CodeLists) -> None:
    sex = lists["sex"]
    assert [e.code for e in sex] == ["female", "male", "transgender", "unknown"]
    assert (sex.get("female").htcds, sex.get("female").ctdc, sex.get("female").unodc) == (
        "Feminine",
        "Woman",
        "Female",
    )
    assert sex.get("male").mapping("unodc") == "Male"
    assert sex.get("unknown").htcds == "NonSpecifiedUnknown"
    assert sex.get("transgender").unodc is None
    assert sex.label("transgender", "ur") == "خواجہ سرا"


def test_unknown_and_not_asked_are_different_answers(lists: CodeLists) -> None:
    answer = lists["answer"]
    assert answer.codes() == {"yes", "no", "unknown", "not_asked"}
    unknown, not_asked = answer.get("unknown"), answer.get("not_asked")
    assert unknown != not_asked
    assert unknown.label_en != not_asked.label_en
    assert unknown.label_ur != not_asked.label_ur
    assert lists["consent_check"].answered_with == "answer"
    assert lists["ilo_forced_labour_indicator"].answered_with == "answer"


def test_consent_checks_are_the_seven_htcds_checks_plus_three(lists: CodeLists) -> None:
    consent = lists["consent_check"]
    assert len(consent.by_group("htcds_consent")) == 7
    assert {"interpreter_used", "guardian_present", "private_setting"} <= consent.codes()


def test_citizenship_covers_iso_3166(lists: CodeLists) -> None:
    cit = lists["citizenship"]
    countries = [e for e in cit if e.iso3 is not None]
    assert len(countries) == 249
    assert {"stateless", "unknown"} <= cit.codes()
    assert cit.multi
    assert len({e.iso3 for e in countries}) == 249
    for e in countries:
        assert len(e.code) == 2 and e.code.isalpha() and e.code.islower()
        assert e.htcds == e.code.upper() and e.ctdc == e.iso3 and e.unodc == e.iso3


@pytest.mark.parametrize(
    ("code", "iso3", "urdu"),
    [
        ("pk", "PAK", "پاکستان"),
        ("af", "AFG", "افغانستان"),
        ("ir", "IRN", "ایران"),
        ("in", "IND", "بھارت"),
        ("bd", "BGD", "بنگلہ دیش"),
        ("sa", "SAU", "سعودی عرب"),
        ("ae", "ARE", "متحدہ عرب امارات"),
        ("om", "OMN", "عمان"),
        ("qa", "QAT", "قطر"),
        ("kw", "KWT", "کویت"),
        ("bh", "BHR", "بحرین"),
        ("iq", "IRQ", "عراق"),
        ("tr", "TUR", "ترکیہ"),
        ("gr", "GRC", "یونان"),
        ("it", "ITA", "اٹلی"),
        ("ly", "LBY", "لیبیا"),
        ("my", "MYS", "ملائشیا"),
        ("th", "THA", "تھائی لینڈ"),
        ("cn", "CHN", "چین"),
        ("gb", "GBR", "برطانیہ"),
        ("es", "ESP", "اسپین"),
        ("az", "AZE", "آذربائیجان"),
        ("lk", "LKA", "سری لنکا"),
    ],
)
def test_key_countries_have_the_right_codes_and_urdu_names(
    lists: CodeLists, code: str, iso3: str, urdu: str
) -> None:
    entry = lists["citizenship"].get(code)
    assert entry.iso3 == iso3
    assert entry.label_ur == urdu


def test_service_groups_feed_the_indicators(lists: CodeLists) -> None:
    services = lists["service_type"]
    assert {e.code for e in services.by_group("protection")} == {
        "shelter",
        "protective_custody",
        "witness_protection",
    }
    assert {"rehabilitation", "family_reunification", "reintegration", "repatriation"} <= {
        e.code for e in services.by_group("care")
    }


def test_exclusive_codes_only_in_multi_lists(lists: CodeLists) -> None:
    for name, e in _all_entries(lists):
        if e.exclusive:
            assert lists[name].multi, (name, e.code)


def test_identification_status_separates_trafficking_and_smuggling(lists: CodeLists) -> None:
    status = lists["identification_status"]
    assert {e.code for e in status.by_group("tip")} == {
        "possible_victim",
        "presumed_victim",
        "confirmed_victim",
    }
    assert {e.code for e in status.by_group("som")} == {
        "smuggled_migrant",
        "vulnerable_smuggled_migrant",
    }
    for e in status:
        assert e.htcds in {
            "PossibleVictimOfTrafficking",
            "ActualVictimOfTrafficking",
            "NotAVictimOfTrafficking",
        }


def test_offence_codes_name_act_and_section(lists: CodeLists) -> None:
    laws = lists["offence_law"]
    assert {
        "ptpa_2018_s3",
        "psma_2018_s3",
        "eo_1979_s17",
        "eo_1979_s18",
        "ppc_371a",
    } <= laws.codes()
    assert laws.get("ptpa_2018_s3").group == "ptpa_2018"


# --- derived age values --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "group"),
    [
        (0, "child"),
        (8, "child"),
        (17, "child"),
        (18, "adult"),
        (19, "adult"),
        (95, "adult"),
        (None, "unknown"),
    ],
)
def test_age_group_for(age: int | None, group: str) -> None:
    assert age_group_for(age) == group


@pytest.mark.parametrize(
    ("age", "band"),
    [
        (0, "0-8"),
        (8, "0-8"),
        (9, "9-17"),
        (17, "9-17"),
        (18, "18-20"),
        (20, "18-20"),
        (21, "21-23"),
        (26, "24-26"),
        (27, "27-29"),
        (29, "27-29"),
        (30, "30-38"),
        (38, "30-38"),
        (39, "39-47"),
        (47, "39-47"),
        (48, "48+"),
        (120, "48+"),
        (None, "unknown"),
    ],
)
def test_ctdc_age_band_for(age: int | None, band: str) -> None:
    assert ctdc_age_band_for(age) == band


def test_every_age_has_exactly_one_band_and_they_agree(lists: CodeLists) -> None:
    bands = lists["ctdc_age_band"]
    for age in range(0, 131):
        holding = [e for e in bands if e.contains_age(age)]
        assert len(holding) == 1, age
        band = bands.get(ctdc_age_band_for(age))
        expected_unodc = "0 to 17 years" if age < 18 else "18 years or over"
        assert band.unodc == expected_unodc
        assert lists["age_group"].get(age_group_for(age)).unodc == expected_unodc


@pytest.mark.parametrize("bad", [-1, 1.5, "17", True])
def test_age_must_be_a_non_negative_whole_number(bad: object) -> None:
    with pytest.raises(ValidationError):
        age_group_for(bad)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        ctdc_age_band_for(bad)  # type: ignore[arg-type]


# --- checking values -----------------------------------------------------------------------------


def test_check_single_value(lists: CodeLists) -> None:
    sex = lists["sex"]
    sex.check("female")
    with pytest.raises(ValidationError) as err:
        sex.check("woman")
    assert "'woman' is not in the list 'sex'" in str(err.value)
    assert "sex" in err.value.fields
    with pytest.raises(ValidationError, match="required"):
        sex.check(None)
    with pytest.raises(ValidationError, match="takes one code"):
        sex.check(["female"])


def test_check_does_not_echo_free_text(lists: CodeLists) -> None:
    with pytest.raises(ValidationError) as err:
        lists["sex"].check("Muhammad Ali, CNIC 35202-1234567-1")
    assert "Muhammad" not in str(err.value)
    assert "35202" not in str(err.value)
    assert "not a code" in str(err.value)
    # Identity numbers look like codes (digits and dashes) but are never repeated either.
    for number in ("35202-1234567-1", "03001234567", "ab1234567"):
        with pytest.raises(ValidationError) as err:
            lists["sex"].check(number)
        assert number not in str(err.value)
        assert number not in str(err.value.fields)


def test_check_multi_values(lists: CodeLists) -> None:
    moc = lists["means_of_control"]
    moc.check(["debt_bondage", "withholds_documents"])
    moc.check([])
    moc.check(("threats",))
    with pytest.raises(ValidationError, match="takes a list of codes"):
        moc.check("debt_bondage")
    with pytest.raises(ValidationError, match="'beating' is not in the list 'means_of_control'"):
        moc.check(["threats", "beating"])
    with pytest.raises(ValidationError, match="given twice"):
        moc.check(["threats", "threats"])
    with pytest.raises(ValidationError, match="cannot be combined"):
        moc.check(["not_specified", "threats"])
    moc.check(["not_specified"])


def test_find_get_contains(lists: CodeLists) -> None:
    sex = lists["sex"]
    assert "male" in sex and "x" not in sex and 3 not in sex
    assert sex.find("x") is None
    assert sex.find("male") is sex.get("male")
    with pytest.raises(ValidationError):
        sex.get("x")
    with pytest.raises(ValueError):
        sex.get("male").label("fr")
    with pytest.raises(ValueError):
        sex.get("male").mapping("ilo")


def test_missing_list_is_a_user_facing_error(lists: CodeLists) -> None:
    with pytest.raises(CodeListError, match="no code list named 'gender'"):
        lists["gender"]
    assert isinstance(CodeListError("x"), UserFacingError)
    assert lists.get("gender") is None
    assert "sex" in lists and "gender" not in lists
    assert lists.versions()["sex"] >= 1


# --- malformed files -----------------------------------------------------------------------------

VALID = """\
name = "demo"
version = 1
title_en = "Demo"
title_ur = "نمونہ"
source = "test"
multi = false

[[entry]]
code = "yes"
label_en = "Yes"
label_ur = "ہاں"
htcds = "Yes"

[[entry]]
code = "no"
label_en = "No"
label_ur = "نہیں"
"""

BANDS = """\
name = "bands"
version = 1
title_en = "Bands"
title_ur = "دائرے"
source = "test"
multi = false
{entries}
[[entry]]
code = "unknown"
label_en = "Unknown"
label_ur = "نامعلوم"
"""


def _band(code: str, lo: int | None, hi: int | None) -> str:
    lines = [
        "[[entry]]",
        f'code = "{code}"',
        f'label_en = "Band {code}"',
        f'label_ur = "دائرہ {code}"',
    ]
    if lo is not None:
        lines.append(f"min_age = {lo}")
    if hi is not None:
        lines.append(f"max_age = {hi}")
    return "\n".join(lines) + "\n"


def _write(tmp_path: Path, text: str, stem: str = "demo") -> Path:
    path = tmp_path / f"{stem}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_file_loads(tmp_path: Path) -> None:
    cl = load_codelist(_write(tmp_path, VALID))
    assert isinstance(cl, CodeList)
    assert [e.code for e in cl] == ["yes", "no"]
    assert cl.get("yes").htcds == "Yes" and cl.get("no").htcds is None


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            lambda t: t.replace('code = "no"', 'code = "yes"'),
            ["code 'yes'", "duplicate code"],
            id="duplicate-code",
        ),
        pytest.param(
            lambda t: t.replace('label_ur = "نہیں"\n', ""),
            ["code 'no'", "'label_ur' must be a non-empty text"],
            id="missing-urdu-label",
        ),
        pytest.param(
            lambda t: t.replace('label_en = "No"', 'label_en = "  "'),
            ["code 'no'", "'label_en' must be a non-empty text"],
            id="blank-english-label",
        ),
        pytest.param(
            lambda t: t.replace('label_ur = "نہیں"', 'label_ur = "Nahin"'),
            ["code 'no'", "Urdu (Arabic script)"],
            id="transliterated-urdu",
        ),
        pytest.param(
            lambda t: t.replace('htcds = "Yes"', "htcds = 1"),
            ["code 'yes'", "mapping 'htcds' must be a non-empty text"],
            id="mapping-not-text",
        ),
        pytest.param(
            lambda t: t.replace('htcds = "Yes"', 'ctdc = ""'),
            ["code 'yes'", "mapping 'ctdc' must be a non-empty text"],
            id="mapping-empty",
        ),
        pytest.param(
            lambda t: t.replace('name = "demo"', 'name = "other"'),
            ["'name' is 'other'", "demo.toml"],
            id="wrong-name",
        ),
        pytest.param(
            lambda t: t.replace('code = "no"', 'code = "No Way"'),
            ["code 'No Way' must be lower case"],
            id="bad-code",
        ),
        pytest.param(
            lambda t: t.replace("version = 1", "version = 0"),
            ["'version' must be a positive whole number"],
            id="version-zero",
        ),
        pytest.param(
            lambda t: t.replace("version = 1", 'version = "1"'),
            ["'version' must be a positive whole number"],
            id="version-text",
        ),
        pytest.param(
            lambda t: t.replace("version = 1", "version = true"),
            ["'version' must be a positive whole number"],
            id="version-bool",
        ),
        pytest.param(
            lambda t: t.replace("multi = false", 'multi = "no"'),
            ["'multi' must be true or false"],
            id="multi-not-bool",
        ),
        pytest.param(
            lambda t: t.replace('source = "test"', 'source = "test"\ncolour = "red"'),
            ["unknown top-level key(s) 'colour'"],
            id="unknown-top-key",
        ),
        pytest.param(
            lambda t: t.replace('htcds = "Yes"', 'htcds = "Yes"\nicd10 = "Z00"'),
            ["code 'yes'", "unknown key(s) 'icd10'"],
            id="unknown-entry-key",
        ),
        pytest.param(
            lambda t: t.replace('title_ur = "نمونہ"\n', ""),
            ["missing top-level key(s) 'title_ur'"],
            id="missing-title",
        ),
        pytest.param(
            lambda t: t.replace('label_en = "No"', 'label_en = "yes"'),
            ["code 'no'", "English label is the same as that of code 'yes'"],
            id="duplicate-label",
        ),
        pytest.param(
            lambda t: t.replace('htcds = "Yes"', 'htcds = "Yes"\nexclusive = true'),
            ["code 'yes'", "multi = true"],
            id="exclusive-in-single-list",
        ),
        pytest.param(
            lambda t: t.replace('htcds = "Yes"', 'htcds = "Yes"\niso3 = "pk"'),
            ["code 'yes'", "'iso3' must be three capital letters"],
            id="bad-iso3",
        ),
        pytest.param(lambda t: t.split("[[entry]]")[0], ["no [[entry]] tables"], id="no-entries"),
        pytest.param(
            lambda t: t.replace("multi = false", "multi = false\n[x"),
            ["not valid TOML"],
            id="invalid-toml",
        ),
    ],
)
def test_malformed_file_is_rejected_with_a_clear_message(
    tmp_path: Path, change: object, expected: list[str]
) -> None:
    text = change(VALID)  # type: ignore[operator]
    with pytest.raises(CodeListError) as err:
        load_codelist(_write(tmp_path, text))
    message = str(err.value)
    assert "demo.toml" in message
    for part in expected:
        assert part in message


@pytest.mark.parametrize(
    ("bands", "expected"),
    [
        pytest.param([("a", 0, 10), ("b", 10, None)], ["code 'b'", "overlaps"], id="overlap"),
        pytest.param([("a", 0, 10), ("b", 12, None)], ["code 'b'", "gap", "age 11"], id="gap"),
        pytest.param([("a", 1, 10), ("b", 11, None)], ["code 'a'", "gap", "age 0"], id="no-zero"),
        pytest.param(
            [("a", 0, 10), ("b", 11, 20)], ["code 'b'", "open-ended", "age 21"], id="closed-end"
        ),
        pytest.param(
            [("a", 0, None), ("b", 11, None)], ["code 'a'", "only the last"], id="open-in-middle"
        ),
        pytest.param(
            [("a", 0, 10), ("b", None, 20)], ["code 'b'", "needs 'min_age'"], id="max-without-min"
        ),
        pytest.param(
            [("a", 5, 3), ("b", 4, None)], ["code 'a'", "ends before it starts"], id="reversed"
        ),
    ],
)
def test_bad_age_bands_are_rejected(
    tmp_path: Path, bands: list[tuple[str, int | None, int | None]], expected: list[str]
) -> None:
    text = BANDS.format(entries="".join(_band(c, lo, hi) for c, lo, hi in bands))
    with pytest.raises(CodeListError) as err:
        load_codelist(_write(tmp_path, text, stem="bands"))
    message = str(err.value)
    assert "bands.toml" in message
    for part in expected:
        assert part in message


def test_good_age_bands_in_any_order(tmp_path: Path) -> None:
    text = BANDS.format(entries=_band("old", 11, None) + _band("young", 0, 10))
    cl = load_codelist(_write(tmp_path, text, stem="bands"))
    assert [e.code for e in cl.bands()] == ["young", "old"]
    young, old = cl.band_for(10), cl.band_for(11)
    assert young is not None and young.code == "young"
    assert old is not None and old.code == "old"


def test_registry_rejects_missing_answer_list_and_folder_problems(tmp_path: Path) -> None:
    _write(tmp_path, VALID.replace("multi = false", 'multi = false\nanswered_with = "answer"'))
    with pytest.raises(CodeListError, match="'answered_with' names the list 'answer'"):
        CodeLists.load_dir(tmp_path)
    with pytest.raises(CodeListError, match="does not exist"):
        CodeLists.load_dir(tmp_path / "missing")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CodeListError, match=r"holds no \.toml files"):
        CodeLists.load_dir(empty)


def test_registry_loads_a_folder(tmp_path: Path) -> None:
    _write(tmp_path, VALID)
    registry = CodeLists.load_dir(tmp_path)
    assert registry.names() == ("demo",)
    assert registry["demo"].version == 1


def test_age_functions_use_the_given_lists(tmp_path: Path) -> None:
    """The bands are data: a different age_group file gives different answers."""
    text = """\
name = "age_group"
version = 1
title_en = "Age group"
title_ur = "عمر کا گروپ"
source = "test"
multi = false
[[entry]]
code = "child"
label_en = "Child"
label_ur = "بچہ"
min_age = 0
max_age = 15
[[entry]]
code = "adult"
label_en = "Adult"
label_ur = "بالغ"
min_age = 16
[[entry]]
code = "unknown"
label_en = "Unknown"
label_ur = "نامعلوم"
"""
    _write(tmp_path, text, stem="age_group")
    registry = CodeLists.load_dir(tmp_path)
    assert age_group_for(15, registry) == "child"
    assert age_group_for(16, registry) == "adult"


# --- locating resources --------------------------------------------------------------------------


def test_resources_dir_defaults_to_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NAP_RESOURCES", raising=False)
    expected = Path(cl_mod.__file__).resolve().parents[2] / "resources"
    assert resources_dir() == expected
    assert (expected / "codelists" / "sex.toml").is_file()


def test_resources_dir_env_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NAP_RESOURCES", str(tmp_path))
    assert resources_dir() == tmp_path


def test_resources_dir_when_frozen(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("NAP_RESOURCES", raising=False)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resources_dir() == tmp_path / "resources"
