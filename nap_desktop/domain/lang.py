# SPDX-License-Identifier: GPL-3.0-or-later
"""The translation tables, for the core: what the PDF renderer prints in Urdu.

The tables are ``resources/i18n/<lang>.json``, keyed by the English text; the UI (``ui/i18n``)
reads the same files. This module never imports Qt.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from functools import cache

from nap_desktop import config

logger = logging.getLogger(__name__)

LANGUAGES = ("en", "ur")

_missing: set[str] = set()


@cache
def load_table(lang: str) -> Mapping[str, str]:
    """The translation table of ``lang`` (empty for English)."""
    if lang == "en":
        return {}
    path = config.resources_dir() / "i18n" / f"{lang}.json"
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        logger.warning("translation table %s is missing or unreadable", path.name)
        return {}
    return {str(k): str(v) for k, v in data.items() if not str(k).startswith("@")}


def translate(text: str, lang: str) -> str:
    """``text`` (English) in ``lang``; English when the table has no entry (remembered in
    :func:`missing`, which the tests read to prove that a rendered report has no English left)."""
    if lang == "en" or not text:
        return text
    out = load_table(lang).get(text)
    if out is None:
        _missing.add(text)
        return text
    return out


def missing() -> set[str]:
    """The texts :func:`translate` found no entry for since the last :func:`forget_missing`."""
    return set(_missing)


def forget_missing() -> None:
    _missing.clear()


URDU_MONTHS = ("جنوری", "فروری", "مارچ", "اپریل", "مئی", "جون", "جولائی", "اگست", "ستمبر", "اکتوبر", "نومبر", "دسمبر")
