# SPDX-License-Identifier: GPL-3.0-or-later
r"""Standard code lists: loading, validation and lookup.

Every closed set of answers in NAP Desktop (sex, citizenship, means of control, case stages, …)
is data, not an enum: one TOML file per list under ``resources/codelists/``. Each entry has a
stable ``code`` (what the store keeps), an English and an Urdu label (what a user sees), and
optional mappings to the international standards that exports speak: ``htcds`` (IOM Human
Trafficking Case Data Standard 2.0), ``ctdc`` (Counter Trafficking Data Collaborative) and
``unodc`` (UNODC GLOTIP).

File format (``sex.toml``; the file stem is the list name)::

    name = "sex"
    version = 1                 # positive integer, bumped on every change
    title_en = "Sex"
    title_ur = "جنس"
    source = "HTCDS 2.0 prs_Gender; CTDC gender; UNODC GLOTIP sex"
    multi = false               # true: a record may hold several codes of this list
    # optional: description_en = "...", answered_with = "answer" (each code is a question
    # answered with a code of that other list)

    [[entry]]
    code = "female"             # ^[a-z0-9][a-z0-9_\-+]*$, stable, never reused
    label_en = "Female"
    label_ur = "خاتون"
    htcds = "Feminine"          # optional mappings: htcds, ctdc, unodc (non-empty strings)
    # optional extras: group (str), min_age / max_age (int, age bands), iso3 (str),
    # description_en (str), exclusive (bool: in a multi list this code stands alone),
    # deprecated (bool: kept for old records, not offered for new ones)

Everything is checked when a list is loaded, and a malformed file raises
:class:`~nap_desktop.errors.CodeListError` naming the file, the list and the code or field at
fault. Values are checked against a list with :meth:`CodeList.check`, which raises
:class:`~nap_desktop.errors.ValidationError`; its message never repeats a value that does not
look like a code, so free text typed into the wrong field never reaches a log.

``unknown`` (asked, not known) and ``not_asked`` are different codes wherever both apply; an
absent value means nothing was recorded.

This module never imports Qt.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import sys
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Final

from nap_desktop.errors import CodeListError, ValidationError

logger = logging.getLogger(__name__)

__all__ = [
    "LANGUAGES",
    "MAPPING_STANDARDS",
    "CodeEntry",
    "CodeList",
    "CodeLists",
    "age_group_for",
    "ctdc_age_band_for",
    "default_codelists",
    "load_codelist",
    "resources_dir",
]

#: Languages every label exists in.
LANGUAGES: Final = ("en", "ur")
#: Standards an entry may map to.
MAPPING_STANDARDS: Final = ("htcds", "ctdc", "unodc")

RESOURCES_ENV: Final = "NAP_RESOURCES"
CODELISTS_SUBDIR: Final = "codelists"

_CODE_RE: Final = re.compile(r"^[a-z0-9][a-z0-9_\-+]*$")
_NAME_RE: Final = re.compile(r"^[a-z][a-z0-9_]*$")
_ISO3_RE: Final = re.compile(r"^[A-Z]{3}$")
_MAX_CODE_LEN: Final = 64
_MAX_ECHO_DIGITS: Final = 4

_REQUIRED_TOP: Final = frozenset(
    {"name", "version", "title_en", "title_ur", "source", "multi", "entry"}
)
_OPTIONAL_TOP: Final = frozenset({"description_en", "answered_with"})
_REQUIRED_ENTRY: Final = frozenset({"code", "label_en", "label_ur"})
_STR_EXTRAS: Final = frozenset({"group", "iso3", "description_en"})
_INT_EXTRAS: Final = frozenset({"min_age", "max_age"})
_BOOL_EXTRAS: Final = frozenset({"exclusive", "deprecated"})
_EXTRA_KEYS: Final = _STR_EXTRAS | _INT_EXTRAS | _BOOL_EXTRAS
_ENTRY_KEYS: Final = _REQUIRED_ENTRY | frozenset(MAPPING_STANDARDS) | _EXTRA_KEYS


def _has_arabic_letter(text: str) -> bool:
    """Tell whether ``text`` holds at least one letter of the Arabic script (Urdu)."""
    return any(
        ("\u0600" <= ch <= "\u06ff" or "\u0750" <= ch <= "\u077f" or "\ufb50" <= ch <= "\ufeff")
        and ch.isalpha()
        for ch in text
    )


def _safe_repr(value: object) -> str:
    """Describe a value for a message without risking personal data in it.

    Only short strings that look like codes are echoed. Strings with many digits are never
    echoed, even when they match the code pattern: a CNIC, passport or phone number typed into
    the wrong field must not reach a message or a log. Anything else is described by type.
    """
    if (
        isinstance(value, str)
        and len(value) <= _MAX_CODE_LEN
        and _CODE_RE.match(value)
        and sum(ch.isdigit() for ch in value) <= _MAX_ECHO_DIGITS
    ):
        return f"'{value}'"
    if isinstance(value, str):
        return "a text that is not a code"
    return f"a value of type {type(value).__name__}"


# --- entries and lists ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeEntry:
    """One value of a code list.

    Attributes:
        code: Stable identifier stored in records (never renamed or reused).
        label_en: English label shown to users.
        label_ur: Urdu label shown to users (Arabic script).
        htcds: The HTCDS 2.0 value this code maps to, if any.
        ctdc: The CTDC value or flag column this code maps to, if any.
        unodc: The UNODC GLOTIP category this code maps to, if any.
        extra: Optional further keys (``group``, ``min_age``, ``max_age``, ``iso3``,
            ``description_en``, ``exclusive``, ``deprecated``), read-only.
    """

    code: str
    label_en: str
    label_ur: str
    htcds: str | None = None
    ctdc: str | None = None
    unodc: str | None = None
    extra: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}), hash=False)

    def label(self, lang: str) -> str:
        """Return the label in a language.

        Args:
            lang: ``"en"`` or ``"ur"``.

        Returns:
            The label text.

        Raises:
            ValueError: ``lang`` is not a supported language (a programming error).
        """
        if lang == "en":
            return self.label_en
        if lang == "ur":
            return self.label_ur
        raise ValueError(f"unsupported language {lang!r}; expected one of {LANGUAGES}")

    def mapping(self, standard: str) -> str | None:
        """Return the value this code maps to in a standard.

        Args:
            standard: One of ``"htcds"``, ``"ctdc"``, ``"unodc"``.

        Returns:
            The mapped value, or ``None`` when the standard has no equivalent.

        Raises:
            ValueError: ``standard`` is not a known standard (a programming error).
        """
        if standard not in MAPPING_STANDARDS:
            raise ValueError(f"unknown standard {standard!r}; expected one of {MAPPING_STANDARDS}")
        value: str | None = getattr(self, standard)
        return value

    @property
    def group(self) -> str | None:
        """The entry's group (hierarchical lists), or ``None``."""
        value = self.extra.get("group")
        return value if isinstance(value, str) else None

    @property
    def min_age(self) -> int | None:
        """Lowest age in years of an age band, or ``None`` when the entry is not a band."""
        value = self.extra.get("min_age")
        return value if isinstance(value, int) else None

    @property
    def max_age(self) -> int | None:
        """Highest age in years of an age band, or ``None`` when open-ended or not a band."""
        value = self.extra.get("max_age")
        return value if isinstance(value, int) else None

    @property
    def iso3(self) -> str | None:
        """ISO 3166-1 alpha-3 code (citizenship list), or ``None``."""
        value = self.extra.get("iso3")
        return value if isinstance(value, str) else None

    @property
    def description_en(self) -> str | None:
        """Longer English explanation, or ``None``."""
        value = self.extra.get("description_en")
        return value if isinstance(value, str) else None

    @property
    def exclusive(self) -> bool:
        """Whether, in a multi-value list, this code must stand alone (``none``, ``unknown``)."""
        return self.extra.get("exclusive") is True

    @property
    def deprecated(self) -> bool:
        """Whether the code is kept only for old records and not offered for new ones."""
        return self.extra.get("deprecated") is True

    @property
    def is_age_band(self) -> bool:
        """Whether the entry is an age band (has ``min_age``)."""
        return self.min_age is not None

    def contains_age(self, age_years: int) -> bool:
        """Tell whether an age in whole years falls in this band.

        Args:
            age_years: Age in completed years.

        Returns:
            ``True`` when the entry is a band holding that age.
        """
        lo, hi = self.min_age, self.max_age
        if lo is None or age_years < lo:
            return False
        return hi is None or age_years <= hi


@dataclass(frozen=True)
class CodeList:
    """A named, versioned list of codes.

    Attributes:
        name: The list name (equals the file stem).
        version: Positive integer, bumped on every change to the file.
        title_en: English title of the list.
        title_ur: Urdu title of the list.
        source: The standards the list follows.
        multi: Whether a record may hold several codes of this list.
        entries: The entries in display order.
        answered_with: For question lists (consent checks, ILO indicators), the name of the list
            whose codes answer each question; otherwise ``None``.
        description_en: Optional note on how the list is used.
    """

    name: str
    version: int
    title_en: str
    title_ur: str
    source: str
    multi: bool
    entries: tuple[CodeEntry, ...]
    answered_with: str | None = None
    description_en: str | None = None
    _index: Mapping[str, CodeEntry] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", MappingProxyType({e.code: e for e in self.entries}))

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code in self._index

    def __iter__(self) -> Iterator[CodeEntry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def codes(self) -> frozenset[str]:
        """Return every code of the list, deprecated ones included."""
        return frozenset(self._index)

    def active_entries(self) -> tuple[CodeEntry, ...]:
        """Return the entries to offer for new records (not deprecated), in display order."""
        return tuple(e for e in self.entries if not e.deprecated)

    def find(self, code: str) -> CodeEntry | None:
        """Return the entry of a code, or ``None`` when the list has no such code."""
        return self._index.get(code)

    def get(self, code: str) -> CodeEntry:
        """Return the entry of a code.

        Args:
            code: The code to look up.

        Returns:
            The entry.

        Raises:
            ValidationError: The list has no such code.
        """
        entry = self._index.get(code) if isinstance(code, str) else None
        if entry is None:
            raise self._not_in_list(code)
        return entry

    def label(self, code: str, lang: str) -> str:
        """Return the label of a code in a language (``"en"`` or ``"ur"``).

        Raises:
            ValidationError: The list has no such code.
        """
        return self.get(code).label(lang)

    def by_group(self, group: str) -> tuple[CodeEntry, ...]:
        """Return the entries whose ``group`` is ``group``, in display order."""
        return tuple(e for e in self.entries if e.group == group)

    def groups(self) -> tuple[str, ...]:
        """Return the distinct groups in order of first appearance."""
        seen: dict[str, None] = {}
        for e in self.entries:
            if e.group is not None:
                seen.setdefault(e.group, None)
        return tuple(seen)

    def bands(self) -> tuple[CodeEntry, ...]:
        """Return the age-band entries sorted by ``min_age`` (empty when not a band list)."""
        return tuple(
            sorted((e for e in self.entries if e.is_age_band), key=lambda e: e.min_age or 0)
        )

    def band_for(self, age_years: int) -> CodeEntry | None:
        """Return the age band holding an age, or ``None`` when no band does."""
        for e in self.bands():
            if e.contains_age(age_years):
                return e
        return None

    def check(self, value: object) -> None:
        """Check that a value is allowed by this list.

        A single-value list takes one code (a ``str``). A multi-value list takes an iterable of
        codes (not a bare string) without repeats, where an ``exclusive`` code (such as
        ``none`` or ``unknown``) must stand alone; an empty iterable is allowed.

        Args:
            value: The value to check.

        Raises:
            ValidationError: The value is not allowed. ``fields`` maps the list name to the
                reason.
        """
        if not self.multi:
            if isinstance(value, str) and value in self._index:
                return
            if value is None:
                raise self._invalid(f"A value from the list '{self.name}' is required.")
            if not isinstance(value, str):
                raise self._invalid(
                    f"The list '{self.name}' takes one code, not {_safe_repr(value)}."
                )
            raise self._not_in_list(value)

        if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
            raise self._invalid(
                f"The list '{self.name}' takes a list of codes, not {_safe_repr(value)}."
            )
        seen: set[str] = set()
        items = list(value)
        for item in items:
            if not isinstance(item, str) or item not in self._index:
                raise self._not_in_list(item)
            if item in seen:
                raise self._invalid(f"The code '{item}' is given twice for the list '{self.name}'.")
            seen.add(item)
        if len(items) > 1:
            for item in items:
                if self._index[item].exclusive:
                    raise self._invalid(
                        f"The code '{item}' of the list '{self.name}' cannot be combined "
                        "with other codes."
                    )

    def _invalid(self, message: str) -> ValidationError:
        return ValidationError(message, {self.name: message})

    def _not_in_list(self, value: object) -> ValidationError:
        return self._invalid(f"{_safe_repr(value).capitalize()} is not in the list '{self.name}'.")


# --- loading and validation ----------------------------------------------------------------------


class _Checker:
    """Collects the context (file, list) for error messages while one file is validated."""

    def __init__(self, path: Path, name: str) -> None:
        self.path = path
        self.name = name

    def fail(self, problem: str, *, code: str | None = None) -> CodeListError:
        where = f"code list '{self.name}' ({self.path.name})"
        if code is not None:
            where += f", code '{code}'"
        return CodeListError(f"Malformed {where}: {problem}")

    def text(self, data: Mapping[str, object], key: str, *, code: str | None = None) -> str:
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"'{key}' must be a non-empty text", code=code)
        return value.strip()


def load_codelist(path: Path) -> CodeList:
    """Load and validate one code list file.

    Args:
        path: The ``.toml`` file; its stem must equal the ``name`` inside.

    Returns:
        The validated list.

    Raises:
        CodeListError: The file cannot be read or breaks a rule; the message names the file,
            the list and the code or field at fault.
    """
    stem = path.stem
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CodeListError(
            f"Cannot read code list file {path.name}: {exc.strerror or exc}"
        ) from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise CodeListError(f"Code list file {path.name} is not UTF-8 text.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise CodeListError(f"Code list file {path.name} is not valid TOML: {exc}") from exc

    name_value = data.get("name")
    chk = _Checker(path, name_value if isinstance(name_value, str) and name_value else stem)

    unknown = sorted(set(data) - _REQUIRED_TOP - _OPTIONAL_TOP)
    if unknown:
        raise chk.fail(f"unknown top-level key(s) {', '.join(map(repr, unknown))}")
    if "entry" not in data:
        raise chk.fail("it has no [[entry]] tables")
    missing = sorted(_REQUIRED_TOP - set(data))
    if missing:
        raise chk.fail(f"missing top-level key(s) {', '.join(map(repr, missing))}")

    name = chk.text(data, "name")
    if not _NAME_RE.match(name):
        raise chk.fail("'name' must be snake_case (a-z, 0-9, _)")
    if name != stem:
        raise chk.fail(f"'name' is '{name}' but the file is named '{stem}.toml'; they must match")

    version = data["version"]
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise chk.fail("'version' must be a positive whole number")
    multi = data["multi"]
    if not isinstance(multi, bool):
        raise chk.fail("'multi' must be true or false")
    title_en = chk.text(data, "title_en")
    title_ur = chk.text(data, "title_ur")
    if not _has_arabic_letter(title_ur):
        raise chk.fail("'title_ur' must be written in Urdu (Arabic script)")
    source = chk.text(data, "source")
    description = chk.text(data, "description_en") if "description_en" in data else None
    answered_with = chk.text(data, "answered_with") if "answered_with" in data else None
    if answered_with is not None and not _NAME_RE.match(answered_with):
        raise chk.fail("'answered_with' must name another code list")

    raw_entries = data["entry"]
    if not isinstance(raw_entries, list) or not raw_entries:
        raise chk.fail("it has no [[entry]] tables")
    entries = tuple(_load_entry(chk, i, item) for i, item in enumerate(raw_entries, start=1))
    _check_unique(chk, entries)
    _check_bands(chk, entries)
    if any(e.exclusive for e in entries) and not multi:
        code = next(e.code for e in entries if e.exclusive)
        raise chk.fail("'exclusive' only makes sense in a list with multi = true", code=code)

    return CodeList(
        name=name,
        version=version,
        title_en=title_en,
        title_ur=title_ur,
        source=source,
        multi=multi,
        entries=entries,
        answered_with=answered_with,
        description_en=description,
    )


def _load_entry(chk: _Checker, position: int, item: object) -> CodeEntry:
    if not isinstance(item, dict):
        raise chk.fail(f"entry {position} is not a table")
    code_value = item.get("code")
    if not isinstance(code_value, str) or not code_value:
        raise chk.fail(f"entry {position} has no 'code'")
    code = code_value
    if len(code) > _MAX_CODE_LEN or not _CODE_RE.match(code):
        shown = code if len(code) <= _MAX_CODE_LEN else code[:_MAX_CODE_LEN] + "…"
        raise chk.fail(
            f"entry {position}: code '{shown}' must be lower case letters, digits, '_', '-' or '+'"
            f" (at most {_MAX_CODE_LEN} characters)"
        )
    unknown = sorted(set(item) - _ENTRY_KEYS)
    if unknown:
        raise chk.fail(f"unknown key(s) {', '.join(map(repr, unknown))}", code=code)

    label_en = chk.text(item, "label_en", code=code)
    label_ur = chk.text(item, "label_ur", code=code)
    if not _has_arabic_letter(label_ur):
        raise chk.fail("'label_ur' must be written in Urdu (Arabic script)", code=code)

    mappings: dict[str, str | None] = {}
    for std in MAPPING_STANDARDS:
        if std not in item:
            mappings[std] = None
            continue
        value = item[std]
        if not isinstance(value, str) or not value.strip():
            raise chk.fail(
                f"mapping '{std}' must be a non-empty text "
                "(leave it out when the standard has none)",
                code=code,
            )
        mappings[std] = value.strip()

    extra: dict[str, object] = {}
    for key in sorted(set(item) & _EXTRA_KEYS):
        value = item[key]
        if key in _STR_EXTRAS:
            if not isinstance(value, str) or not value.strip():
                raise chk.fail(f"'{key}' must be a non-empty text", code=code)
            value = value.strip()
            if key == "iso3" and not _ISO3_RE.match(value):
                raise chk.fail(
                    "'iso3' must be three capital letters (ISO 3166-1 alpha-3)", code=code
                )
        elif key in _INT_EXTRAS:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise chk.fail(f"'{key}' must be a whole number of years, 0 or more", code=code)
        elif not isinstance(value, bool):
            raise chk.fail(f"'{key}' must be true or false", code=code)
        extra[key] = value

    if "max_age" in extra and "min_age" not in extra:
        raise chk.fail("an age band with 'max_age' needs 'min_age'", code=code)
    lo, hi = extra.get("min_age"), extra.get("max_age")
    if isinstance(lo, int) and isinstance(hi, int) and hi < lo:
        raise chk.fail(f"age band {lo} to {hi} ends before it starts", code=code)

    return CodeEntry(
        code=code,
        label_en=label_en,
        label_ur=label_ur,
        htcds=mappings["htcds"],
        ctdc=mappings["ctdc"],
        unodc=mappings["unodc"],
        extra=MappingProxyType(extra),
    )


def _check_unique(chk: _Checker, entries: tuple[CodeEntry, ...]) -> None:
    codes: set[str] = set()
    labels: dict[str, dict[str, str]] = {"en": {}, "ur": {}}
    for e in entries:
        if e.code in codes:
            raise chk.fail("duplicate code (each code must appear once)", code=e.code)
        codes.add(e.code)
        for lang in LANGUAGES:
            key = e.label(lang).casefold()
            other = labels[lang].get(key)
            if other is not None:
                raise chk.fail(
                    f"the {'English' if lang == 'en' else 'Urdu'} label is the same as that of "
                    f"code '{other}'; users could not tell them apart",
                    code=e.code,
                )
            labels[lang][key] = e.code


def _check_bands(chk: _Checker, entries: tuple[CodeEntry, ...]) -> None:
    bands = sorted((e for e in entries if e.is_age_band), key=lambda e: e.min_age or 0)
    if not bands:
        return
    expected = 0
    for i, band in enumerate(bands):
        lo, hi = band.min_age, band.max_age
        assert lo is not None  # is_age_band
        if lo < expected:
            raise chk.fail(f"age band starting at {lo} overlaps the band before it", code=band.code)
        if lo > expected:
            raise chk.fail(
                f"age bands leave a gap: no band holds age {expected} (this band starts at {lo})",
                code=band.code,
            )
        last = i == len(bands) - 1
        if hi is None:
            if not last:
                raise chk.fail(
                    "only the last age band may be open-ended (no 'max_age')", code=band.code
                )
            return
        if last:
            raise chk.fail(
                f"the last age band must be open-ended (no 'max_age'); no band holds age {hi + 1}",
                code=band.code,
            )
        expected = hi + 1


class CodeLists(Mapping[str, CodeList]):
    """The registry of all code lists, keyed by list name.

    Args:
        lists: The lists; names must be unique.

    Raises:
        CodeListError: Two lists share a name, or a list is answered with a missing list.
    """

    def __init__(self, lists: Iterable[CodeList]) -> None:
        by_name: dict[str, CodeList] = {}
        for cl in lists:
            if cl.name in by_name:
                raise CodeListError(f"Two code lists are named '{cl.name}'.")
            by_name[cl.name] = cl
        for cl in by_name.values():
            if cl.answered_with is not None and cl.answered_with not in by_name:
                raise CodeListError(
                    f"Malformed code list '{cl.name}' ({cl.name}.toml): 'answered_with' names "
                    f"the list '{cl.answered_with}', which does not exist."
                )
        self._lists: dict[str, CodeList] = dict(sorted(by_name.items()))

    @classmethod
    def load_dir(cls, path: Path) -> CodeLists:
        """Load every ``*.toml`` file of a folder.

        Args:
            path: The folder, usually ``resources/codelists``.

        Returns:
            The registry.

        Raises:
            CodeListError: The folder is missing or empty, or a file is malformed.
        """
        if not path.is_dir():
            raise CodeListError(f"The code list folder {path} does not exist.")
        files = sorted(p for p in path.glob("*.toml") if p.is_file())
        if not files:
            raise CodeListError(f"The code list folder {path} holds no .toml files.")
        registry = cls(load_codelist(p) for p in files)
        logger.debug("loaded %d code lists from %s", len(registry), path)
        return registry

    def __getitem__(self, name: str) -> CodeList:
        try:
            return self._lists[name]
        except KeyError:
            raise CodeListError(f"There is no code list named '{name}'.") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._lists)

    def __len__(self) -> int:
        return len(self._lists)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._lists

    def get(self, name: str, default: CodeList | None = None) -> CodeList | None:  # type: ignore[override]
        """Return the list of that name, or ``default`` when there is none."""
        return self._lists.get(name, default)

    def names(self) -> tuple[str, ...]:
        """Return the list names, sorted."""
        return tuple(self._lists)

    def versions(self) -> dict[str, int]:
        """Return ``{list name: version}``, e.g. to record in a bundle or report."""
        return {name: cl.version for name, cl in self._lists.items()}


# --- where the lists live ------------------------------------------------------------------------


def resources_dir() -> Path:
    """Return the ``resources/`` folder.

    The ``NAP_RESOURCES`` environment variable wins when set; a frozen (PyInstaller) build uses
    ``sys._MEIPASS/resources``; otherwise the repository's ``resources/`` beside the
    ``nap_desktop`` package.

    Returns:
        The folder path (not checked for existence).
    """
    override = os.environ.get(RESOURCES_ENV)
    if override:
        return Path(override)
    meipass = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and meipass:
        return Path(meipass) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


@functools.cache
def default_codelists() -> CodeLists:
    """Return the shipped code lists, loaded once per process.

    Raises:
        CodeListError: A shipped list is missing or malformed.
    """
    return CodeLists.load_dir(resources_dir() / CODELISTS_SUBDIR)


# --- derived values ------------------------------------------------------------------------------


def _band_code(list_name: str, age_years: int | None, lists: CodeLists | None) -> str:
    if age_years is None:
        return "unknown"
    if isinstance(age_years, bool) or not isinstance(age_years, int):
        raise ValidationError(
            "The age must be a whole number of years.", {"age_years": "not a whole number"}
        )
    if age_years < 0:
        raise ValidationError("The age cannot be negative.", {"age_years": "negative"})
    cl = (lists if lists is not None else default_codelists())[list_name]
    band = cl.band_for(age_years)
    if band is None:  # pragma: no cover - load-time validation guarantees full coverage
        raise CodeListError(f"The code list '{list_name}' has no age band holding {age_years}.")
    return band.code


def age_group_for(age_years: int | None, lists: CodeLists | None = None) -> str:
    """Return the ``age_group`` code for an age: ``child`` under 18, ``adult``, or ``unknown``.

    The bands come from the ``age_group`` list, not from constants in code.

    Args:
        age_years: Age in completed years, or ``None`` when not known.
        lists: The registry to use; the shipped lists by default.

    Returns:
        The code.

    Raises:
        ValidationError: The age is negative or not a whole number.
    """
    return _band_code("age_group", age_years, lists)


def ctdc_age_band_for(age_years: int | None, lists: CodeLists | None = None) -> str:
    """Return the ``ctdc_age_band`` code for an age (``0-8`` … ``48+``), or ``unknown``.

    Args:
        age_years: Age in completed years, or ``None`` when not known.
        lists: The registry to use; the shipped lists by default.

    Returns:
        The code.

    Raises:
        ValidationError: The age is negative or not a whole number.
    """
    return _band_code("ctdc_age_band", age_years, lists)
