# SPDX-License-Identifier: GPL-3.0-or-later
"""The sound keys of names (domain.names): the spellings one person's name is written in at two
posts share a key; different names mostly do not."""

from __future__ import annotations

import pytest

from nap_desktop.domain.names import sound_word, sound_words
from nap_desktop.services.records import normalise_name

# Spellings of one name seen on Pakistani documents and registers.
SAME = [
    ["Muhammad", "Mohammad", "Mohammed", "Mohamed", "Muhamad", "Muhammed", "Mohd", "Md"],
    ["Ahmed", "Ahmad"],
    ["Hussain", "Hussein", "Husain", "Hosain"],
    ["Yousaf", "Yusuf", "Yousuf", "Yousef"],
    ["Zainab", "Zaynab"],
    ["Fatima", "Fatimah", "Fatema"],
    ["Ayesha", "Aisha", "Aysha"],
    ["Qasim", "Kasim", "Kaasim"],
    ["Siddiqui", "Siddiqi", "Sidiqi"],
    ["Rehman", "Rahman", "Rehmaan"],
    ["Ghulam", "Gulam"],
    ["Chaudhry", "Chaudhary", "Chaudhri", "Choudhry", "Chowdhury"],
    ["Usman", "Osman"],
    ["Umar", "Omar"],
    ["Javed", "Jawed"],
    ["Pervez", "Parvez", "Parwez"],
    ["Zulfiqar", "Zulfikar"],
    ["Noor", "Nur"],
    # Urdu script: an Arabic keyboard (ي ك ه ة) against an Urdu one (ی ک ہ), a madda, a tatweel
    ["شکیلہ", "شكيلة", "شكیله"],
    ["آمنہ", "امنہ", "أمنہ"],
    ["علی", "علي", "علـی"],
]

DIFFERENT = [("Khan", "Kahn"), ("Imran", "Usman"), ("Ali", "Ahmed"), ("Zainab", "Zubair"), ("Ghulam", "Gul"), ("Shahid", "Sajid"), ("محمد", "احمد")]


def key(name: str) -> list[str]:
    return sound_words(normalise_name(name))


@pytest.mark.parametrize("spellings", SAME, ids=lambda g: g[0])
def test_spellings_of_one_name_share_a_key(spellings: list[str]) -> None:
    keys = {tuple(key(s)) for s in spellings}
    assert len(keys) == 1, dict(zip(spellings, map(key, spellings)))
    assert keys != {()}


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_different_names_keep_different_keys(a: str, b: str) -> None:
    assert key(a) != key(b)


def test_a_name_of_several_words_keys_each_word_once_in_order() -> None:
    assert key("Muhammad Ali Mohammad") == ["mhmd", "al"]
    assert key("  ") == []
    assert sound_word("") == ""
    assert key("Bibi 2") == ["b", "2"]  # digits as they are
