# SPDX-License-Identifier: GPL-3.0-or-later
"""The Urdu PDF as a reader gets it: Urdu words read back (pdftotext restores the logical order;
NFKC turns the joined letter forms back into letters), the fonts embedded, codes and numbers left
to right, and no label left in English."""

from __future__ import annotations

import re
import subprocess
import unicodedata
from pathlib import Path

import pytest

from nap_desktop.domain import lang
from nap_desktop.domain.framework import default_framework
from nap_desktop.errors import ValidationError
from nap_desktop.reports import engine, returns, rtl
from nap_desktop.reports.render_common import RenderMeta
from nap_desktop.reports.render_pdf import _mirror_cmd, render_pdf
from tests.conftest import require_program
from tests.reports.builders import JUNE, Builder, ReportsWorld
from tests.reports.report_fixtures import small_month

META = dict(
    unit_code="C-PSH",
    unit_name_en="Peshawar Circle",
    unit_name_ur="پشاور سرکل",
    status="submitted",
    prepared_by="Inspector Prepared",
    pipeline={"درج شدہ مقدمات": 12, "گرفتار افراد": 3, "چالان شدہ مقدمات": 7},
    comments={"1.3.a": "Reviewed with the screening officer."},
    validation=("انتباہ: معاونت یافتہ متاثرین (12) معلوم متاثرین (10) سے زیادہ ہیں۔",),
    lang="ur",
)
_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def read_back(path: Path) -> str:
    """The PDF's text as a reader's copy-and-paste gives it: letters, not joined forms; words
    separated by single spaces."""
    out = subprocess.run([require_program("pdftotext"), str(path), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(_CONTROLS.sub("", unicodedata.normalize("NFKC", out)).split())


def pdf_pages(path: Path) -> int:
    out = subprocess.run([require_program("pdfinfo"), str(path)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", out, re.M).group(1))


def fonts(path: Path) -> str:
    return subprocess.run([require_program("pdffonts"), str(path)], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def month(world: ReportsWorld, b: Builder) -> engine.IndicatorReport:
    small_month(b)
    return engine.compute_indicators(world.as_("head"), period=JUNE)


def test_urdu_pdf_is_in_urdu_with_codes_and_numbers_kept_left_to_right(month: engine.IndicatorReport, tmp_path: Path) -> None:
    lang.forget_missing()
    out = render_pdf(month, RenderMeta(**META), tmp_path / "june-ur.pdf")
    assert lang.missing() == set(), "every label of the PDF has its Urdu"
    assert "NotoNaskhArabic-Regular" in fonts(out) and "NotoNaskhArabic-Bold" in fonts(out)  # embedded
    text = read_back(out)
    # NOTE: pdftotext puts a line back into reading order by its own rules, which move
    # punctuation next to a change of direction ("(C-PSH)" comes back as ")(C-PSH"): the checks
    # are on words. The pictures of the pages were looked at.
    assert "ماہانہ گوشوارہ" in text and "پشاور سرکل" in text and "C-PSH" in text
    assert "جون" in text and "2026" in text and "حیثیت" in text and "جمع شدہ" in text
    assert "اندرونی نسخہ" in text and "تیار کنندہ" in text and "Inspector Prepared" in text
    assert "درج شدہ مقدمات" in text and "گرفتار افراد" in text
    assert "Reviewed with the screening officer" in text and "معلوم متاثرین" in text
    for code in default_framework().codes:  # 1.3.a as printed, never turned round into a.3.1
        assert re.search(rf"(?<![\d.]){re.escape(code)}(?![\d.])", text), code
    assert "شناخت شدہ مجرمان" in text  # 1.3.b by its Urdu name
    pages = pdf_pages(out)
    assert pages > 5 and text.count("صفحہ") == pages and text.count("NAP Desktop") == pages
    for english in ("Monthly return", "Status:", "Page ", "Keys with no count", "Signatures", "Prepared by", "INTERNAL VERSION"):
        assert english not in text, english  # (the plan's English definitions do say "Status" and "Breakdowns")
    # The plan's definitions stay in its own words, under an Urdu heading that says so.
    assert "تعریفیں" in text and "انگریزی میں" in text and "Distinct persons" in text


def test_urdu_external_pdf_hides_what_the_english_one_hides(month: engine.IndicatorReport, tmp_path: Path) -> None:
    out = render_pdf(month, RenderMeta(**{**META, "audience": "external"}), tmp_path / "june-ur-ext.pdf")
    text = read_back(out)
    assert "بیرونی نسخہ" in text and "<5" in text
    assert "Reviewed with the screening officer" not in text and "معلوم متاثرین" not in text


def test_english_pdf_stays_in_helvetica(month: engine.IndicatorReport, tmp_path: Path) -> None:
    out = render_pdf(month, RenderMeta(**{**META, "lang": "en", "pipeline": {"registered": 1}, "validation": ()}), tmp_path / "june.pdf")
    assert "Naskh" not in fonts(out)
    assert "Monthly return" in read_back(out)


def test_a_language_other_than_english_or_urdu_is_refused() -> None:
    with pytest.raises(ValidationError, match="language"):
        RenderMeta(unit_code="C-PSH", lang="fr")


def test_urdu_pages_render(month: engine.IndicatorReport, tmp_path: Path) -> None:
    out = render_pdf(month, RenderMeta(**META), tmp_path / "june-ur.pdf")
    subprocess.run([require_program("pdftoppm"), "-r", "30", "-png", str(out), str(tmp_path / "page")], check=True, capture_output=True)
    pngs = sorted(tmp_path.glob("page*.png"))
    assert len(pngs) > 5 and all(p.stat().st_size > 1000 for p in pngs)


def test_return_exported_in_urdu_has_its_pipeline_and_checks_in_urdu(world: ReportsWorld, b: Builder, tmp_path: Path) -> None:
    june = "2026-06"
    b.screening(b.person(), "2026-06-10")
    b.case("2026-06-03")
    head = world.as_("head")
    returns.compile_return(head, "C-PSH", june)
    returns.add_comment(head, "C-PSH", june, "pipeline.registered", "FIR numbers awaited")
    returns.export_return(head, "C-PSH", june, fmt="pdf", out=tmp_path / "return-ur.pdf", lang="ur")
    text = read_back(tmp_path / "return-ur.pdf")
    assert "ماہانہ گوشوارہ" in text and "مسودہ" in text
    assert "درج شدہ مقدمات" in text and "زیرِ تفتیش مقدمات" in text
    assert "درج شدہ مقدمات پر تبصرہ" in text and "FIR numbers awaited" in text
    assert "انتباہ" in text and "WARNING" not in text
    # Only the PDF takes the language: a CSV is read by machines.
    returns.export_return(head, "C-PSH", june, fmt="csv", out=tmp_path / "return.csv", lang="ur")
    csv_text = (tmp_path / "return.csv").read_text("utf-8-sig")
    assert "Assets confiscated and disposed" in csv_text and not re.search("[\u0600-\u06ff]", csv_text)


# --- the text machinery ------------------------------------------------------------------------------


def test_brackets_face_their_contents_and_codes_are_not_turned_round() -> None:
    runs = rtl.line_runs("پشاور سرکل (C-PSH)")
    assert runs[0] == rtl.Run("(C-PSH) ", False)  # drawn first, at the left end of the line
    assert all(r.arabic for r in runs[1:])
    assert rtl.line_runs("1.3.a") == (rtl.Run("1.3.a", False),)
    for token in ("2.1.b", "2026-11-29", "2026-Q3", "21:25", "50.5%", "0\u201317", "18+"):  # the bidirectional algorithm alone draws b.1.2
        assert token in "".join(r.text for r in rtl.line_runs(f"انتباہ: {token} کا اس ماہ")), token
    assert "1.3.a" in "".join(r.text for r in rtl.line_runs(rtl.ltr("1.3.a") + " شناخت"))


def test_lines_are_broken_in_reading_order_within_the_width() -> None:
    text = "انسانی اسمگلنگ اور تارکینِ وطن کی اسمگلنگ کے خلاف قومی لائحہ عمل کے اشاریے C-PSH اور 2026"
    lines = rtl.wrap_lines(text, 120, 9)
    assert len(lines) > 2
    assert " ".join(lines) == text  # first words on the first line
    assert all(rtl.line_width(line, 9) <= 120 for line in lines)


def test_mirrored_table_commands() -> None:
    assert _mirror_cmd(("SPAN", (0, 1), (0, 3)), 3) == ("SPAN", (2, 1), (2, 3))
    assert _mirror_cmd(("ALIGN", (2, 1), (-1, -1), "RIGHT"), 5) == ("ALIGN", (0, 1), (2, -1), "LEFT")
    assert _mirror_cmd(("BACKGROUND", (0, 0), (-1, 0), "navy"), 4) == ("BACKGROUND", (0, 0), (3, 0), "navy")
