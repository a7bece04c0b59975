# SPDX-License-Identifier: GPL-3.0-or-later
"""How a name sounds, for finding one person written two ways.

One person is written down at Taftan as "Mohammad Yousaf" and at Torkham as "Muhammad Yusuf",
in Urdu once from an Arabic keyboard (ي, ك, ه) and once from an Urdu one (ی, ک, ہ). Compared
letter by letter these are four different people: the duplicate warning at capture stays
silent and the person is counted twice in every distinct-person indicator. :func:`sound_word`
folds the usual differences of Pakistani names written in Latin letters, and the letter forms
of the Arabic script, into one key per word:

- Latin: the digraphs one sound (kh, sh, ch, gh, th, dh, bh, ph → one letter each), q as k,
  v as w, the abbreviations of Muhammad (Mohd, Md, Muhd) as the name; then the vowels out
  except the first letter (any vowel there as ``a``: Usman and Osman, Umar and Omar), a
  final h after a vowel out (Fatimah), doubled letters once (Siddiqui and Sidiqi).
- Arabic script: ي ى ئ as ی, ك as ک, ه ة ۃ as ہ, ؤ as و, the tatweel out, doubled letters
  once. Short vowels are not written there, and the marks were removed by ``normalise_name``.

Keys are for suggesting, never for deciding: Hasan and Hussain share one (h-s-n), as do Nadia
and Nida. The duplicate check pairs a key with the date of birth and says "similar name"; the
name search finds a word by its key only when the whole word is typed.

The words are those of ``services.records.normalise_name`` (lower case, accents and
punctuation removed). Pure functions, no I/O.
"""

from __future__ import annotations

import re

# Written short for Muhammad (whole words only).
_MUHAMMAD = frozenset({"mohd", "muhd", "mhd", "md"})
# Two letters for one sound, to one letter each ("$" for sh, "x" for kh, "c" for ch).
_DIGRAPHS = (("kh", "x"), ("sh", "$"), ("ch", "c"), ("gh", "g"), ("th", "t"), ("dh", "d"), ("bh", "b"), ("ph", "f"), ("ck", "k"))
_LATIN_MAP = str.maketrans({"q": "k", "v": "w"})
_VOWELS = frozenset("aeiouy")
# Arabic-script letters that two keyboards write differently, to the Urdu form.
_ARABIC_MAP = str.maketrans(
    {
        "\u064a": "\u06cc",  # ي Arabic yeh → ی
        "\u0649": "\u06cc",  # ى alef maksura → ی
        "\u0626": "\u06cc",  # ئ yeh with hamza → ی
        "\u06d2": "\u06cc",  # ے barree yeh → ی (word-final form in Urdu)
        "\u0643": "\u06a9",  # ك Arabic kaf → ک
        "\u0647": "\u06c1",  # ه Arabic heh → ہ
        "\u0629": "\u06c1",  # ة teh marbuta → ہ
        "\u06c3": "\u06c1",  # ۃ Urdu teh marbuta goal → ہ
        "\u0624": "\u0648",  # ؤ waw with hamza → و
        "\u0623": "\u0627",  # أ alef with hamza above → ا
        "\u0625": "\u0627",  # إ alef with hamza below → ا
        "\u0622": "\u0627",  # آ alef with madda → ا
        "\u0640": None,  # tatweel
        "\u200c": None,  # zero-width non-joiner
        "\u200d": None,  # zero-width joiner
    }
)
_LATIN_WORD = re.compile(r"[a-z]+")


def _squeeze(text: str) -> str:
    """Doubled letters once."""
    out: list[str] = []
    for c in text:
        if not out or out[-1] != c:
            out.append(c)
    return "".join(out)


def _latin(word: str) -> str:
    if word in _MUHAMMAD:
        word = "muhammad"
    for pair, one in _DIGRAPHS:
        word = word.replace(pair, one)
    word = word.translate(_LATIN_MAP)
    first, rest = word[0], word[1:]
    if first in "aeiou":
        first = "a"
    kept: list[str] = []
    prev = first
    for i, c in enumerate(rest):
        last = i == len(rest) - 1
        if c in _VOWELS or (c == "w" and prev == "o") or (c == "h" and last and prev in _VOWELS):
            prev = c
            continue
        kept.append(c)
        prev = c
    return _squeeze(first + "".join(kept))


def sound_word(word: str) -> str:
    """The key of one normalised word ("" for an empty one). Latin words as above; words in
    any other script with the Arabic-script letter forms unified and doubled letters once;
    digits as they are."""
    if not word:
        return ""
    if _LATIN_WORD.fullmatch(word):
        return _latin(word)
    return _squeeze(word.translate(_ARABIC_MAP))


def sound_words(name_key: str) -> list[str]:
    """The distinct keys of a normalised name's words, in order."""
    return list(dict.fromkeys(k for k in (sound_word(w) for w in name_key.split()) if k))


__all__ = ["sound_word", "sound_words"]
