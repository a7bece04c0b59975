# SPDX-License-Identifier: GPL-3.0-or-later
"""The plan's Strategic Framework as data: objectives, outputs and the 41 indicators.

Loaded from ``resources/framework.toml`` (its header documents the format) and checked at load:
exactly 41 indicators, codes unique and well formed (``1.1.a`` … ``7.5.b``), each under an
existing output of objectives 1–7, a known kind (count, percent, status, change), the plan's
wording, a definition, a rule id, known record types and declared disaggregations. A malformed
file raises :class:`~nap_desktop.errors.ConfigError` naming the indicator and the field at fault.

Which rule ids exist and whether their parameters name real codes is the engine's business
(:func:`nap_desktop.reports.engine.check_framework`); this module only knows the data.

This module never imports Qt.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from nap_desktop.domain.codelists import CodeLists, resources_dir
from nap_desktop.domain.records import RECORD_TYPES
from nap_desktop.errors import ConfigError

__all__ = [
    "EXPECTED_INDICATORS",
    "KINDS",
    "Disaggregation",
    "Framework",
    "Indicator",
    "Objective",
    "Output",
    "default_framework",
    "load_framework",
]

KINDS: Final = ("count", "percent", "status", "change")
EXPECTED_INDICATORS: Final = 41
OBJECTIVES: Final = range(1, 8)
# Short names of the seven objectives (the plan's titles are long), in English; their Urdu is in
# resources/i18n/ur.json.
OBJECTIVE_NAMES: Final = MappingProxyType(
    {
        1: "Mechanisms against trafficking and smuggling",
        2: "Cooperation among the bodies concerned",
        3: "Awareness of stakeholders and the public",
        4: "Capacity of enforcement, judiciary and frontline",
        5: "Border control",
        6: "International cooperation",
        7: "Monitoring, evaluation and learning",
    }
)
FRAMEWORK_FILE: Final = "framework.toml"

_CODE_RE: Final = re.compile(r"^([1-7])\.([1-9])\.([a-z])$")
_OUTPUT_RE: Final = re.compile(r"^([1-7])\.([1-9])$")
_NAME_RE: Final = re.compile(r"^[a-z][a-z0-9_]*$")
_TOP_KEYS: Final = frozenset({"version", "framework", "title_en", "source", "disaggregation", "objective", "output", "indicator"})
_IND_REQUIRED: Final = frozenset({"code", "wording", "short_en", "kind", "rule", "records", "unit", "definition", "disaggregations"})
_IND_OPTIONAL: Final = frozenset({"params"})


@dataclass(frozen=True)
class Disaggregation:
    """A way of splitting a value (sex, age group, type of support …)."""

    name: str
    label_en: str
    codelist: str | None = None


@dataclass(frozen=True)
class Objective:
    number: int
    title: str


@dataclass(frozen=True)
class Output:
    code: str
    objective: int
    title: str
    plan_label: str  # how the plan names it ("Output 1.1"; "Output 2" for 4.2)
    note: str | None = None


@dataclass(frozen=True)
class Indicator:
    """One indicator of the framework."""

    code: str
    objective: int
    output: str
    wording: str  # the plan's exact text
    short_en: str
    kind: str
    rule: str
    records: tuple[str, ...]
    unit: str  # what is counted ("persons", "cases", "% of respondents" …)
    definition: str
    disaggregations: tuple[str, ...]
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def param(self, name: str, default: Any = None) -> Any:
        return self.params.get(name, default)


@dataclass(frozen=True)
class Framework:
    """The loaded framework; indicators in plan order."""

    version: int
    name: str
    title_en: str
    source: str
    objectives: tuple[Objective, ...]
    outputs: tuple[Output, ...]
    indicators: tuple[Indicator, ...]
    disaggregations: Mapping[str, Disaggregation]

    def __iter__(self) -> Iterator[Indicator]:
        return iter(self.indicators)

    def __len__(self) -> int:
        return len(self.indicators)

    @functools.cached_property
    def _by_code(self) -> dict[str, Indicator]:
        return {i.code: i for i in self.indicators}

    def indicator(self, code: str) -> Indicator:
        """The indicator with ``code``; :class:`ConfigError` (safe to show) if there is none."""
        try:
            return self._by_code[code]
        except KeyError:
            raise ConfigError(f"There is no indicator {_show(code)} in the framework (version {self.version}).") from None

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(i.code for i in self.indicators)

    def of_objective(self, number: int) -> tuple[Indicator, ...]:
        return tuple(i for i in self.indicators if i.objective == number)

    def output(self, code: str) -> Output:
        for o in self.outputs:
            if o.code == code:
                return o
        raise ConfigError(f"There is no output {_show(code)} in the framework.")


def _show(value: object) -> str:
    text = str(value)
    return repr(text) if len(text) <= 40 and re.fullmatch(r"[\w.\-]+", text) else "a malformed value"


class _Check:
    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, problem: str, where: str = "") -> ConfigError:
        at = f" ({where})" if where else ""
        return ConfigError(f"The indicator framework {self.path.name} is malformed{at}: {problem}")

    def text(self, data: Mapping[str, Any], key: str, where: str) -> str:
        v = data.get(key)
        if not isinstance(v, str) or not v.strip():
            raise self.fail(f"'{key}' must be a non-empty text", where)
        return " ".join(v.split())


def load_framework(path: Path, codelists: CodeLists | None = None) -> Framework:
    """Loads and checks a framework file.

    Args:
        path: The TOML file.
        codelists: When given, every disaggregation's code list must exist in it.

    Raises:
        ConfigError: The file is missing, not TOML, or breaks a rule (the message says which).
    """
    chk = _Check(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"The indicator framework {path.name} is missing. Reinstall NAP Desktop.") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise chk.fail(f"not valid TOML ({exc})") from None
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise chk.fail(f"unknown top-level keys {sorted(unknown)}")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise chk.fail("'version' must be a positive integer")
    name = chk.text(data, "framework", "header")
    title = chk.text(data, "title_en", "header")
    source = chk.text(data, "source", "header")

    disaggs: dict[str, Disaggregation] = {}
    for i, d in enumerate(data.get("disaggregation") or []):
        where = f"disaggregation #{i + 1}"
        dname = chk.text(d, "name", where)
        if not _NAME_RE.match(dname) or dname in disaggs:
            raise chk.fail(f"disaggregation name {_show(dname)} is malformed or repeated", where)
        cl = d.get("codelist")
        if cl is not None and (not isinstance(cl, str) or (codelists is not None and cl not in codelists)):
            raise chk.fail(f"code list {_show(cl)} does not exist", where)
        disaggs[dname] = Disaggregation(dname, chk.text(d, "label_en", where), cl)

    objectives: list[Objective] = []
    for i, o in enumerate(data.get("objective") or []):
        where = f"objective #{i + 1}"
        n = o.get("number")
        if not isinstance(n, int) or n not in OBJECTIVES or any(x.number == n for x in objectives):
            raise chk.fail("'number' must be 1–7 and unique", where)
        objectives.append(Objective(n, chk.text(o, "title", where)))
    if sorted(o.number for o in objectives) != list(OBJECTIVES):
        raise chk.fail("objectives 1 to 7 must each appear once")

    outputs: list[Output] = []
    for i, o in enumerate(data.get("output") or []):
        where = f"output #{i + 1}"
        code = chk.text(o, "code", where)
        m = _OUTPUT_RE.match(code)
        if not m or any(x.code == code for x in outputs):
            raise chk.fail(f"output code {_show(code)} is malformed or repeated", where)
        label = o.get("plan_label", f"Output {code}")
        note = o.get("note")
        outputs.append(Output(code, int(m.group(1)), chk.text(o, "title", where), str(label), str(note) if note else None))
    output_codes = {o.code for o in outputs}

    indicators: list[Indicator] = []
    for i, ind in enumerate(data.get("indicator") or []):
        where = f"indicator #{i + 1}"
        code = ind.get("code")
        where = f"indicator {_show(code)}" if isinstance(code, str) else where
        missing = _IND_REQUIRED - set(ind)
        extra = set(ind) - _IND_REQUIRED - _IND_OPTIONAL
        if missing or extra:
            raise chk.fail(f"missing keys {sorted(missing)}, unknown keys {sorted(extra)}", where)
        code = chk.text(ind, "code", where)
        m = _CODE_RE.match(code)
        if not m:
            raise chk.fail("the code must look like 1.2.a", where)
        if any(x.code == code for x in indicators):
            raise chk.fail("the code is repeated", where)
        out = f"{m.group(1)}.{m.group(2)}"
        if out not in output_codes:
            raise chk.fail(f"its output {out} is not declared", where)
        kind = chk.text(ind, "kind", where)
        if kind not in KINDS:
            raise chk.fail(f"kind must be one of {', '.join(KINDS)}", where)
        rule = chk.text(ind, "rule", where)
        if not _NAME_RE.match(rule):
            raise chk.fail("the rule id must be a lower-case name", where)
        records = ind.get("records")
        if not isinstance(records, list) or not records or any(r not in RECORD_TYPES for r in records):
            raise chk.fail("'records' must list known record types", where)
        dis = ind.get("disaggregations")
        if not isinstance(dis, list) or any(d not in disaggs for d in dis) or len(set(dis)) != len(dis):
            raise chk.fail("'disaggregations' must name declared disaggregations, once each", where)
        params = ind.get("params", {})
        if not isinstance(params, dict):
            raise chk.fail("'params' must be a table", where)
        indicators.append(
            Indicator(
                code=code,
                objective=int(m.group(1)),
                output=out,
                wording=chk.text(ind, "wording", where),
                short_en=chk.text(ind, "short_en", where),
                kind=kind,
                rule=rule,
                records=tuple(records),
                unit=chk.text(ind, "unit", where),
                definition=chk.text(ind, "definition", where),
                disaggregations=tuple(dis),
                params=MappingProxyType(_freeze(params)),
            )
        )
    if len(indicators) != EXPECTED_INDICATORS:
        raise chk.fail(f"it holds {len(indicators)} indicators; the plan has {EXPECTED_INDICATORS}")
    keys = [tuple(int(p) if p.isdigit() else p for p in x.code.split(".")) for x in indicators]
    if keys != sorted(keys):
        raise chk.fail("indicators must be listed in plan order")
    empty = [o.code for o in outputs if not any(x.output == o.code for x in indicators)]
    if empty:
        raise chk.fail(f"outputs without indicators: {', '.join(empty)}")
    return Framework(
        version=version,
        name=name,
        title_en=title,
        source=source,
        objectives=tuple(objectives),
        outputs=tuple(outputs),
        indicators=tuple(indicators),
        disaggregations=MappingProxyType(disaggs),
    )


def _freeze(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}


@functools.cache
def default_framework() -> Framework:
    """The shipped framework, loaded (and checked against the shipped code lists) once per process."""
    from nap_desktop.domain.codelists import default_codelists

    return load_framework(resources_dir() / FRAMEWORK_FILE, default_codelists())
