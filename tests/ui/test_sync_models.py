# SPDX-License-Identifier: GPL-3.0-or-later
"""Texts of the sync screen that need no workspace: held ranges, values of a conflict, Urdu lines."""

from __future__ import annotations

from datetime import UTC, datetime

from nap_desktop.domain.codelists import default_codelists
from nap_desktop.domain.records import RECORD_TYPES
from nap_desktop.services.sync import BundleInfo
from nap_desktop.ui import i18n
from nap_desktop.ui.i18n import rtl_safe
from nap_desktop.ui.sync_models import format_value, seq_range
from nap_desktop.ui.sync_view import held_lines


def bundle(seq_from: int, seq_to: int, state: str, unit: str = "P-TORKHAM") -> BundleInfo:
    return BundleInfo(f"b{seq_from}", "in", "changes", unit, seq_from, seq_to, state, datetime.now(UTC), None, {}, "")


def test_held_bundles_name_the_changes_they_wait_for() -> None:
    assert held_lines([bundle(1, 2, "imported"), bundle(4, 5, "held")]) == ["From P-TORKHAM: change 3 has not arrived yet"]
    assert held_lines([bundle(1, 2, "imported"), bundle(6, 7, "held")]) == ["From P-TORKHAM: changes 3–5 have not arrived yet"]
    assert held_lines([bundle(1, 2, "imported"), bundle(3, 4, "held")]) == ["From P-TORKHAM: waits for records of another unit's bundle"]
    assert held_lines([bundle(1, 2, "imported", "P-WAGAH"), bundle(2, 4, "held")]) == ["From P-TORKHAM: change 1 has not arrived yet"], "per unit"
    assert held_lines([bundle(1, 2, "imported")]) == []


def test_conflict_values_read_as_labels_and_stay_whole_in_urdu() -> None:
    cl = default_codelists()
    person = RECORD_TYPES["person"]
    assert format_value(person.field("sex"), "female", cl) == "Female"
    assert format_value(person.field("phone"), "+92 300 7654321", cl) == "+92 300 7654321"
    session = RECORD_TYPES["awareness_session"]
    text = format_value(session.field("participants"), {"female": {"adult": 34}}, cl)
    assert "Female" in text and "34" in text
    i18n.set_language("ur")
    try:
        assert format_value(person.field("phone"), "+92 300 7654321", cl) == "\u2066+92 300 7654321\u2069", "digits keep their order"
        assert format_value(person.field("sex"), "female", cl) == "خاتون"
        assert rtl_safe("P-TORKHAM\n/usb/file.napb") == "\u200fP-TORKHAM\n\u200f/usb/file.napb", "each line starts right to left"
        assert rtl_safe(rtl_safe("P-TORKHAM")) == "\u200fP-TORKHAM", "applied twice: one mark"
        assert seq_range(3, 7) == "\u20663–7\u2069"
    finally:
        i18n.set_language("en")
    assert rtl_safe("P-TORKHAM") == "P-TORKHAM" and seq_range(4, 4) == "4" and seq_range(0, 0) == "—"
