# SPDX-License-Identifier: GPL-3.0-or-later
"""UI languages: English and Urdu strings, right-to-left layout, and the bundled Urdu font.

Every string a screen shows goes through :func:`tr`, keyed by its English text; the Urdu table is
``resources/i18n/ur.json``. Labels that the core already holds in both languages (field labels,
code-list labels, unit names, role names) are picked with :func:`pick`. In Urdu the whole
application is laid out right to left and uses the bundled Noto Naskh Arabic font
(``resources/fonts/``), because the default fonts of many Windows laptops lack Urdu letters such
as ے and ڑ.

NOTE: a dict keyed by English text (rather than Qt ``.ts``/``.qm`` files) keeps the table
reviewable by a translator in a plain JSON file and needs no ``lrelease`` step in the build;
``tests/ui/test_i18n.py`` checks that every ``tr("…")`` literal of the UI has an Urdu entry.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from PySide6.QtCore import QLocale, Qt
from PySide6.QtGui import QFont, QFontDatabase, QGuiApplication
from PySide6.QtWidgets import QApplication

from nap_desktop import config
from nap_desktop.domain import lang as lang_tables

logger = logging.getLogger(__name__)

LANGUAGES = ("en", "ur")
LANGUAGE_NAMES = {"en": "English", "ur": "اردو"}
URDU_FONT_FILES = ("NotoNaskhArabic-Regular.ttf", "NotoNaskhArabic-Bold.ttf")
URDU_FONT_FAMILY = "Noto Naskh Arabic"
URDU_POINT_SIZE = 11

_lang = "en"
_table: dict[str, str] = {}
_missing: set[str] = set()
_default_font: QFont | None = None


def i18n_dir() -> Path:
    """The folder holding the translation tables."""
    return config.resources_dir() / "i18n"


def fonts_dir() -> Path:
    """The folder holding the bundled fonts."""
    return config.resources_dir() / "fonts"


def load_table(lang: str) -> Mapping[str, str]:
    """The translation table of ``lang`` (empty for English); the core reads the same one."""
    return lang_tables.load_table(lang)


def language() -> str:
    """The current UI language code (``en`` or ``ur``)."""
    return _lang


def is_rtl() -> bool:
    return _lang == "ur"


def tr(text: str) -> str:
    """The UI string ``text`` (English) in the current language.

    A string without an Urdu entry is shown in English and remembered in
    :func:`missing_translations` (tests use it to prove no English is left).
    """
    if _lang == "en":
        return text
    out = _table.get(text)
    if out is None:
        _missing.add(text)
        return text
    return out


def rtl_safe(text: str) -> str:
    """Text for a word-wrapping label: in Urdu every line starts right to left.

    NOTE: Qt takes a wrapped label's direction from each line's first letter, so a line that starts
    with a unit code, a number or a path would be laid out left to right, at the wrong edge. A
    right-to-left mark (U+200F) in front of each line fixes that; applying it twice changes nothing.
    """
    if not is_rtl():
        return text
    return "\n".join(line if line.startswith("\u200f") else "\u200f" + line for line in text.split("\n"))


def N_(text: str) -> str:  # noqa: N802 - the gettext convention
    """Marks a string for translation where it is defined; :func:`tr` translates it where shown."""
    return text


def tr_known(text: str) -> str:
    """Like :func:`tr` for texts that may have no entry (messages from the core): no bookkeeping."""
    if _lang == "en":
        return text
    return _table.get(text, text)


def latin(text: str) -> bool:
    """True when ``text`` has no Arabic-script letter (English, a number, a code)."""
    return not any("\u0600" <= ch <= "\u06ff" for ch in text)


def core_text(text: str) -> str:
    """A message from the core in the UI language; one without an Urdu entry stays a single
    left-to-right run inside Urdu (its full stop at its end, not at the line's left)."""
    shown = tr_known(text)
    return ltr(shown) if latin(shown) else shown


def pick(en: str, ur: str) -> str:
    """The label of a bilingual pair in the current language (English when the Urdu one is empty)."""
    return ur if _lang == "ur" and ur else en


def missing_translations() -> set[str]:
    """Strings asked for in Urdu since the last :func:`set_language` that had no Urdu entry."""
    return set(_missing)


def install_fonts() -> str | None:
    """Registers the bundled Urdu font with Qt; returns its family name (``None`` if missing)."""
    families: list[str] = []
    for name in URDU_FONT_FILES:
        path = fonts_dir() / name
        if not path.is_file():
            logger.warning("bundled font %s is missing", name)
            continue
        font_id = QFontDatabase.addApplicationFont(str(path))
        if font_id >= 0:
            families.extend(QFontDatabase.applicationFontFamilies(font_id))
    return families[0] if families else None


def set_language(lang: str) -> None:
    """Switches the UI language: table, layout direction, locale and application font.

    Windows built afterwards come up in the new language; existing ones must be rebuilt (the
    controller does that).
    """
    global _lang, _table, _default_font
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}")
    _lang = lang
    _table = dict(load_table(lang))
    _missing.clear()
    app = QGuiApplication.instance()
    if app is None:
        return
    family = install_fonts()
    if _default_font is None:
        _default_font = QFont(QGuiApplication.font())
    if lang == "ur":
        QGuiApplication.setLayoutDirection(Qt.LayoutDirection.RightToLeft)
        QLocale.setDefault(QLocale(QLocale.Language.Urdu, QLocale.Country.Pakistan))
        font = QFont(_default_font)
        font.setFamilies([family or URDU_FONT_FAMILY, *(_default_font.families() or [_default_font.family()])])
        font.setPointSize(URDU_POINT_SIZE)
    else:
        QGuiApplication.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.Pakistan))
        font = QFont(_default_font)
        # Urdu names (units, code labels) may still appear: fall back to the bundled font for them.
        font.setFamilies([*(_default_font.families() or [_default_font.family()]), family or URDU_FONT_FAMILY])
    QApplication.setFont(font)


def ltr(text: str) -> str:
    """Keeps a left-to-right run (a date, an id) in one piece inside Urdu text."""
    return f"\u2066{text}\u2069" if _lang == "ur" else text


def unbroken(code: str) -> str:
    """A code such as ``C-PSH`` that a wrapping label keeps on one line: a word joiner (U+2060,
    invisible) on each side of its hyphens takes away the line break a hyphen allows."""
    return code.replace("-", "\u2060-\u2060")


def rtl_mark() -> str:
    """In Urdu, a right-to-left mark to start a text that begins with a number or a code, so the
    whole line reads right to left (Qt takes a line's direction from its first letter)."""
    return "\u200f" if _lang == "ur" else ""


def fmt_int(n: int | None) -> str:
    """A count with thousands separators ("12,345"), empty for ``None``."""
    return "" if n is None else f"{n:,}"
