# SPDX-License-Identifier: GPL-3.0-or-later
"""The framework file: 41 indicators with the plan's exact wording, checked at load."""

from __future__ import annotations


import re
from pathlib import Path

import pytest

from nap_desktop.domain.codelists import default_codelists, resources_dir
from nap_desktop.domain.framework import EXPECTED_INDICATORS, KINDS, default_framework, load_framework
from nap_desktop.errors import ConfigError
from nap_desktop.reports import engine
from tests.conftest import missing_peer

PLAN = Path(__file__).resolve().parents[3] / "shared" / "seed" / "national-action-plan-htms.txt"
CODES = (
    "1.1.a 1.1.b 1.1.c 1.2.a 1.2.b 1.2.c 1.2.d 1.2.e 1.3.a 1.3.b 1.3.c 1.4.a 1.5.a 2.1.a 2.1.b "
    "3.1.a 3.1.b 3.1.c 3.1.d 3.2.a 4.1.a 4.1.b 4.2.a 4.2.b 4.2.c 4.2.d 4.2.e 4.2.f 4.2.g 5.1.a "
    "6.1.a 6.1.b 6.2.a 7.1.a 7.2.a 7.2.b 7.3.a 7.3.b 7.4.a 7.5.a 7.5.b"
).split()


def _norm(text: str) -> str:
    return " ".join(text.split())


def test_all_41_indicators_in_plan_order() -> None:
    fw = default_framework()
    assert fw.codes == tuple(CODES) and len(fw) == EXPECTED_INDICATORS == 41
    assert fw.version >= 1
    assert {i.objective for i in fw} == set(range(1, 8))
    assert {i.kind for i in fw} <= set(KINDS)
    assert fw.output("4.2").plan_label == "Output 2"
    for ind in fw:
        assert ind.output == ind.code.rsplit(".", 1)[0]
        assert ind.definition and ind.short_en and ind.rule and ind.unit


def test_wording_is_the_plans_exact_text() -> None:
    if not PLAN.is_file():
        # The plan lives in the shared folder beside the checkout (CI has it there).
        missing_peer(f"the plan text is missing: {PLAN}")
    plan = _norm(PLAN.read_text(encoding="utf-8"))
    for ind in default_framework():
        assert _norm(ind.wording) in plan, ind.code
    for obj in default_framework().objectives:
        assert _norm(obj.title).rstrip(".") in plan


def test_rules_and_parameters_exist_in_the_engine() -> None:
    engine.check_framework(default_framework(), default_codelists())
    for ind in default_framework():
        assert ind.rule in engine.RULES and ind.rule in engine.DRILLS


def _broken(tmp_path: Path, old: str, new: str, count: int = 1) -> Path:
    text = (resources_dir() / "framework.toml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "framework.toml"
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('code = "7.5.b"', 'code = "7.5.a"', "repeated"),
        ('code = "7.5.b"', 'code = "8.1.a"', "look like"),
        ('kind = "change"', 'kind = "ratio"', "kind must be"),
        ('disaggregations = ["sex", "measure"]', 'disaggregations = ["sex", "gender"]', "disaggregations"),
        ('records = ["analysis_note"]', 'records = ["diary"]', "record types"),
        ("version = 1", "version = 0", "version"),
        ('[[indicator]]\ncode = "7.5.b"', '[[ignored]]\ncode = "7.5.b"', "unknown top-level"),
        ('number = 5\n', 'number = 9\n', "1–7"),
    ],
)
def test_malformed_framework_is_refused(tmp_path: Path, old: str, new: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_framework(_broken(tmp_path, old, new), default_codelists())


def test_missing_indicator_is_refused(tmp_path: Path) -> None:
    text = (resources_dir() / "framework.toml").read_text(encoding="utf-8")
    cut = text[: text.index('[[indicator]]\ncode = "7.5.b"')]
    path = tmp_path / "framework.toml"
    path.write_text(cut, encoding="utf-8")
    with pytest.raises(ConfigError, match="40 indicators"):
        load_framework(path)


def test_unknown_rule_parameter_is_refused(tmp_path: Path) -> None:
    fw = load_framework(_broken(tmp_path, 'service_groups = ["protection"]', 'service_groups = ["cuddles"]'))
    with pytest.raises(ConfigError, match="1.2.b"):
        engine.check_framework(fw, default_codelists())


def test_unknown_indicator_code() -> None:
    with pytest.raises(ConfigError, match="no indicator"):
        default_framework().indicator("9.9.z")


def test_every_indicator_has_a_hand_worked_test() -> None:
    here = Path(__file__).parent
    text = "".join(p.read_text(encoding="utf-8") for p in here.glob("test_*.py") if p.name not in ("test_framework.py", "test_engine.py", "test_postgres.py"))
    missing = [code for code in CODES if f'"{code}"' not in text]
    assert not missing
