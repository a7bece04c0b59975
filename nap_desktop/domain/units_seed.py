# SPDX-License-Identifier: GPL-3.0-or-later
"""The seed of FIA's unit hierarchy (HQ → zone → circle → post) and its loader.

``resources/units.toml`` lists the units a fresh HQ store starts with: FIA Headquarters, the zonal
offices, the Anti-Human Trafficking and composite circles, and the border posts (airports, land
crossings, seaports, deportation desks) that report through them. This module reads that file,
checks it completely and returns plain frozen dataclasses, parents before children.

The two rule helpers, :func:`validate_unit_code` and :func:`check_parent_kind`, are public because
the unit service applies the same rules when an administrator adds or moves a unit.

Nothing here imports Qt or touches the database.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from nap_desktop.config import resources_dir
from nap_desktop.errors import ConfigError

__all__ = [
    "KINDS",
    "NEIGHBOUR_COUNTRY_PATTERN",
    "POST_TYPES",
    "PROVINCES",
    "SEED_FORMAT_VERSION",
    "UNIT_CODE_PATTERN",
    "UnitSeed",
    "check_parent_kind",
    "default_units_path",
    "load_units_seed",
    "validate_unit_code",
]

KINDS: Final[tuple[str, ...]] = ("hq", "zone", "circle", "post")
"""Unit kinds, top down. The parent of a kind is always the kind right before it."""

POST_TYPES: Final[tuple[str, ...]] = (
    "airport",
    "land_crossing",
    "seaport",
    "deportation_desk",
    "dry_port",
)
"""What kind of place a post is."""

PROVINCES: Final[tuple[str, ...]] = ("punjab", "sindh", "kp", "balochistan", "ict", "ajk", "gb")
"""Provinces and territories: the four provinces, Islamabad Capital Territory, Azad Jammu and
Kashmir, Gilgit-Baltistan."""

SEED_FORMAT_VERSION: Final[int] = 1
"""The only ``version`` of ``units.toml`` this loader reads."""

UNIT_CODE_PATTERN: Final[re.Pattern[str]] = re.compile(r"[A-Z][A-Z0-9-]{1,23}")
"""A unit code: a capital letter, then 1–23 capital letters, digits or hyphens."""

NEIGHBOUR_COUNTRY_PATTERN: Final[re.Pattern[str]] = re.compile(r"[a-z]{2}")
"""An ISO 3166-1 alpha-2 country code in lower case."""

_IATA_PATTERN: Final[re.Pattern[str]] = re.compile(r"[A-Z]{3}")
_TOP_LEVEL_KEYS: Final[frozenset[str]] = frozenset({"version", "unit"})
_UNIT_KEYS: Final[frozenset[str]] = frozenset(
    {
        "code",
        "kind",
        "parent",
        "name_en",
        "name_ur",
        "province",
        "post_type",
        "district",
        "iata",
        "neighbour_country",
    }
)
_POST_ONLY_KEYS: Final[tuple[str, ...]] = ("post_type", "district", "iata", "neighbour_country")
_UNITS_FILE_NAME: Final[str] = "units.toml"


@dataclass(frozen=True, slots=True)
class UnitSeed:
    """One unit of the seed, validated.

    Attributes:
        code: Stable identifier, e.g. ``"C-LHR"`` (see :data:`UNIT_CODE_PATTERN`).
        kind: One of :data:`KINDS`.
        parent: Code of the parent unit; ``None`` for HQ only.
        name_en: Name in English.
        name_ur: Name in Urdu, Arabic script.
        province: One of :data:`PROVINCES`.
        post_type: One of :data:`POST_TYPES` for posts; ``None`` otherwise.
        district: District the post lies in; ``None`` for other kinds.
        iata: IATA airport code, airports only, if known.
        neighbour_country: Lower-case ISO alpha-2 code of the country across a land crossing.
    """

    code: str
    kind: str
    parent: str | None
    name_en: str
    name_ur: str
    province: str | None
    post_type: str | None
    district: str | None
    iata: str | None
    neighbour_country: str | None


def default_units_path() -> Path:
    """Return the path of the shipped ``units.toml``.

    The resources folder is ``$NAP_RESOURCES`` when set, else ``resources`` inside the PyInstaller
    bundle when frozen, else the ``resources`` folder of the source tree.

    Returns:
        The path of ``units.toml`` in the resources folder (it may not exist).
    """
    return _resources_dir() / _UNITS_FILE_NAME


def validate_unit_code(code: str) -> None:
    """Check that ``code`` is a well-formed unit code.

    Args:
        code: The candidate code.

    Raises:
        ConfigError: If the code does not match :data:`UNIT_CODE_PATTERN`.
    """
    if not isinstance(code, str) or UNIT_CODE_PATTERN.fullmatch(code) is None:
        raise ConfigError(
            f"Unit code {_show(code)} is not valid: use 2 to 24 characters, capital letters, "
            "digits and hyphens, starting with a letter (for example C-LHR)."
        )


def check_parent_kind(kind: str, parent_kind: str | None) -> None:
    """Check the hierarchy rule for a unit of ``kind`` under a parent of ``parent_kind``.

    HQ has no parent; a zone is under HQ, a circle under a zone, a post under a circle.

    Args:
        kind: Kind of the unit, one of :data:`KINDS`.
        parent_kind: Kind of its parent, or ``None`` when it has none.

    Raises:
        ConfigError: If ``kind`` is unknown or the parent's kind breaks the rule.
    """
    if kind not in KINDS:
        raise ConfigError(f"Unknown unit kind {_show(kind)}: use one of {', '.join(KINDS)}.")
    index = KINDS.index(kind)
    if index == 0:
        if parent_kind is not None:
            raise ConfigError(
                f"The headquarters (kind hq) has no parent, but one of kind {_show(parent_kind)} "
                "is given."
            )
        return
    expected = KINDS[index - 1]
    if parent_kind != expected:
        if parent_kind is None:
            found = "nothing"
        elif parent_kind in KINDS:
            found = _kind_phrase(parent_kind)
        else:
            found = f"a unit of unknown kind {_show(parent_kind)}"
        raise ConfigError(
            f"A {kind} must be under {_kind_phrase(expected)}, not under {found}."
        )


def load_units_seed(path: Path) -> list[UnitSeed]:
    """Read and validate a units seed file.

    Args:
        path: The TOML file, normally :func:`default_units_path`.

    Returns:
        Every unit, parents before children; siblings keep the file's order.

    Raises:
        ConfigError: If the file cannot be read, is not TOML, or breaks any rule: unknown keys,
            duplicate or malformed codes, missing names, unknown kind, province or post type,
            missing parent, wrong parent kind, not exactly one HQ, a cycle.
    """
    name = path.name
    document = _read_toml(path)
    unknown = sorted(set(document) - _TOP_LEVEL_KEYS)
    if unknown:
        raise ConfigError(f"{name}: unknown top-level key(s) {', '.join(map(_show, unknown))}.")
    version = document.get("version")
    if version != SEED_FORMAT_VERSION or isinstance(version, bool):
        raise ConfigError(
            f"{name}: version must be {SEED_FORMAT_VERSION}, found {_show(version)}; "
            "this file was written for another version of NAP Desktop."
        )
    raw_units = document.get("unit")
    if not isinstance(raw_units, list) or not raw_units:
        raise ConfigError(f"{name}: no units: add [[unit]] tables.")

    units: list[UnitSeed] = []
    by_code: dict[str, UnitSeed] = {}
    for position, raw in enumerate(raw_units, start=1):
        unit = _parse_unit(name, position, raw)
        if unit.code in by_code:
            raise ConfigError(f"{name}: unit {unit.code}: duplicate code (entry {position}).")
        by_code[unit.code] = unit
        units.append(unit)

    _check_unique_iata(name, units)
    hqs = [unit.code for unit in units if unit.kind == "hq"]
    if len(hqs) != 1:
        found = ", ".join(hqs) if hqs else "none"
        raise ConfigError(
            f"{name}: there must be exactly one unit of kind hq; found {len(hqs)} ({found})."
        )
    for unit in units:
        if unit.parent is not None and unit.parent not in by_code:
            raise ConfigError(f"{name}: unit {unit.code}: parent {unit.parent} does not exist.")

    ordered = _parents_first(name, units, by_code)
    for unit in ordered:
        parent_kind = None if unit.parent is None else by_code[unit.parent].kind
        try:
            check_parent_kind(unit.kind, parent_kind)
        except ConfigError as exc:
            where = "" if unit.parent is None else f" (parent {unit.parent})"
            raise ConfigError(f"{name}: unit {unit.code}{where}: {exc.message}") from None
    return ordered


# --- helpers -------------------------------------------------------------------------------------


def _resources_dir() -> Path:
    """Return the resources folder (see :func:`nap_desktop.config.resources_dir`)."""
    return resources_dir()


def _read_toml(path: Path) -> dict[str, Any]:
    """Read ``path`` as UTF-8 TOML (a byte-order mark is tolerated)."""
    name = path.name
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{name}: file not found.") from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(f"{name}: cannot be read ({reason}).") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(f"{name}: not UTF-8 text (line {line}); save it as UTF-8.") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        detail = str(exc)
        if "line" not in detail:
            lineno = getattr(exc, "lineno", None)
            detail = f"{detail} (line {lineno})" if lineno else detail
        raise ConfigError(f"{name}: not valid TOML: {detail}.") from None


def _parse_unit(name: str, position: int, raw: object) -> UnitSeed:
    """Check one ``[[unit]]`` table on its own and turn it into a :class:`UnitSeed`."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{name}: entry {position} of unit is not a [[unit]] table.")
    code = raw.get("code")
    if code is None:
        raise ConfigError(f"{name}: unit entry {position} has no code.")
    try:
        validate_unit_code(code)
    except ConfigError as exc:
        raise ConfigError(f"{name}: unit entry {position}: {exc.message}") from None
    where = f"{name}: unit {code}"

    unknown = sorted(set(raw) - _UNIT_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(map(_show, unknown))}.")
    for key, value in raw.items():
        if not isinstance(value, str):
            raise ConfigError(f"{where}: {key} must be text in quotes.")

    kind = raw.get("kind")
    if kind is None:
        raise ConfigError(f"{where}: kind is missing; use one of {', '.join(KINDS)}.")
    if kind not in KINDS:
        raise ConfigError(f"{where}: unknown kind {_show(kind)}; use one of {', '.join(KINDS)}.")

    names: dict[str, str] = {}
    for key in ("name_en", "name_ur"):
        value = raw.get(key, "").strip()
        if not value:
            raise ConfigError(f"{where}: {key} is missing or empty.")
        names[key] = value
    if not _has_arabic_letter(names["name_ur"]):
        raise ConfigError(f"{where}: name_ur must be written in Urdu (Arabic script).")

    parent = raw.get("parent")
    if kind == "hq" and parent is not None:
        raise ConfigError(f"{where}: the headquarters has no parent; remove parent.")
    if kind != "hq" and not parent:
        raise ConfigError(f"{where}: parent is missing; a {kind} needs one.")

    province = raw.get("province")
    if province is None:
        raise ConfigError(f"{where}: province is missing; use one of {', '.join(PROVINCES)}.")
    if province not in PROVINCES:
        raise ConfigError(
            f"{where}: unknown province {_show(province)}; use one of {', '.join(PROVINCES)}."
        )

    post_type = raw.get("post_type")
    district = raw.get("district")
    iata = raw.get("iata")
    neighbour = raw.get("neighbour_country")
    if kind != "post":
        misplaced = [key for key in _POST_ONLY_KEYS if key in raw]
        if misplaced:
            verb = "belongs" if len(misplaced) == 1 else "belong"
            raise ConfigError(
                f"{where}: {', '.join(misplaced)} {verb} only to posts, not to {_a(kind)}."
            )
    else:
        if post_type is None:
            raise ConfigError(
                f"{where}: post without post_type; use one of {', '.join(POST_TYPES)}."
            )
        if post_type not in POST_TYPES:
            raise ConfigError(
                f"{where}: unknown post_type {_show(post_type)}; "
                f"use one of {', '.join(POST_TYPES)}."
            )
        if district is None or not district.strip():
            raise ConfigError(f"{where}: district is missing or empty.")
        district = district.strip()
        if iata is not None:
            if post_type != "airport":
                raise ConfigError(
                    f"{where}: iata only belongs to airports, not to {_a(post_type)}."
                )
            if _IATA_PATTERN.fullmatch(iata) is None:
                raise ConfigError(f"{where}: iata {_show(iata)} must be three capital letters.")
        if neighbour is not None:
            if post_type != "land_crossing":
                raise ConfigError(
                    f"{where}: neighbour_country only belongs to land crossings, "
                    f"not to {_a(post_type)}."
                )
            if NEIGHBOUR_COUNTRY_PATTERN.fullmatch(neighbour) is None:
                raise ConfigError(
                    f"{where}: neighbour_country {_show(neighbour)} must be a lower-case "
                    "two-letter ISO code, e.g. af."
                )

    return UnitSeed(
        code=code,
        kind=kind,
        parent=parent,
        name_en=names["name_en"],
        name_ur=names["name_ur"],
        province=province,
        post_type=post_type,
        district=district,
        iata=iata,
        neighbour_country=neighbour,
    )


def _check_unique_iata(name: str, units: list[UnitSeed]) -> None:
    """Refuse two airports with the same IATA code."""
    seen: dict[str, str] = {}
    for unit in units:
        if unit.iata is None:
            continue
        if unit.iata in seen:
            raise ConfigError(
                f"{name}: unit {unit.code}: iata {unit.iata} is already used by "
                f"{seen[unit.iata]}."
            )
        seen[unit.iata] = unit.code


def _parents_first(
    name: str, units: list[UnitSeed], by_code: dict[str, UnitSeed]
) -> list[UnitSeed]:
    """Order ``units`` so that every parent comes before its children, detecting cycles.

    Every parent is known to exist. Walks each unit's chain up to an already placed unit (or the
    root), then places the chain top down; a code met twice in one walk is a cycle.
    """
    placed: set[str] = set()
    ordered: list[UnitSeed] = []
    for unit in units:
        chain: list[str] = []
        in_chain: set[str] = set()
        code: str | None = unit.code
        while code is not None and code not in placed:
            if code in in_chain:
                loop = [*chain[chain.index(code) :], code]
                raise ConfigError(
                    f"{name}: unit {code}: its parents form a cycle ({' → '.join(loop)})."
                )
            chain.append(code)
            in_chain.add(code)
            code = by_code[code].parent
        for member in reversed(chain):
            placed.add(member)
            ordered.append(by_code[member])
    return ordered


def _has_arabic_letter(text: str) -> bool:
    """Return whether ``text`` holds at least one letter of the Arabic script blocks."""
    return any(_is_arabic_script(char) and char.isalpha() for char in text)


def _is_arabic_script(char: str) -> bool:
    """Return whether ``char`` lies in an Arabic script Unicode block."""
    point = ord(char)
    return (
        0x0600 <= point <= 0x06FF
        or 0x0750 <= point <= 0x077F
        or 0x08A0 <= point <= 0x08FF
        or 0xFB50 <= point <= 0xFDFF
        or 0xFE70 <= point <= 0xFEFF
    )


def _kind_phrase(kind: str) -> str:
    """Return how a known kind reads after "under": ``HQ``, ``a zone``, ``a circle``..."""
    return "HQ" if kind == "hq" else f"a {kind}"


def _a(word: str) -> str:
    """Return ``word`` with its indefinite article, with underscores read as spaces."""
    text = word.replace("_", " ")
    return f"an {text}" if text[:1] in "aeiou" else f"a {text}"


def _show(value: object) -> str:
    """Render a value from the file for an error message, shortened."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
