# SPDX-License-Identifier: GPL-3.0-or-later
"""The PDF report as a reader gets it: text read back with pdftotext, pages with pdftoppm."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from nap_desktop.domain.framework import default_framework
from nap_desktop.errors import ExportError, StorageFull
from nap_desktop.reports import engine
from nap_desktop.reports.render_common import RenderMeta
from nap_desktop.reports.render_pdf import render_pdf
from tests.conftest import require_program
from tests.reports.builders import JUNE, Builder, ReportsWorld
from tests.reports.report_fixtures import CANARIES, small_month

META = dict(
    unit_code="C-PSH",
    unit_name_en="Peshawar Circle",
    status="submitted",
    prepared_by="Inspector Prepared",
    approved_by="",
    pipeline={"registered": 12, "arrested": 3, "challaned": 7, "convicted": 9},
    comments={"1.3.a": "Reviewed with the screening officer."},
    validation=("Victims supported (12) exceed victims known (10).",),
)


def pdf_text(path: Path) -> str:
    exe = require_program("pdftotext")
    return subprocess.run([exe, "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def month(world: ReportsWorld, b: Builder) -> engine.IndicatorReport:
    small_month(b)
    return engine.compute_indicators(world.as_("head"), period=JUNE)


def test_internal_pdf_shows_every_indicator_and_the_cover(month: engine.IndicatorReport, tmp_path: Path) -> None:
    out = render_pdf(month, RenderMeta(**META), tmp_path / "june.pdf")
    text = pdf_text(out)
    for code in default_framework().codes:
        assert re.search(rf"(?<![\d.]){re.escape(code)}(?![\d.])", text), code
    assert "Monthly return" in text and "Peshawar Circle (C-PSH)" in text and "June 2026" in text
    assert "Status: submitted" in text and "INTERNAL VERSION" in text
    assert "Prepared by" in text and "Inspector Prepared" in text and "Signature" in text
    assert "Reviewed with the screening officer." in text  # the comment
    assert "exceed victims known" in text  # the validation message
    pages = int(re.search(r"Page 1 of (\d+)", text).group(1))
    assert pages > 5 and f"Page {pages} of {pages}" in text
    assert "Definitions" in text and "Distinct persons" in text  # definitions as notes
    for canary in CANARIES:
        assert canary not in text


def test_external_pdf_hides_small_counts_comments_and_messages(month: engine.IndicatorReport, tmp_path: Path) -> None:
    out = render_pdf(month, RenderMeta(**{**META, "audience": "external"}), tmp_path / "june-ext.pdf")
    text = pdf_text(out)
    assert "EXTERNAL VERSION" in text and "<5" in text
    assert "Reviewed with the screening officer." not in text and "exceed victims known" not in text
    # the pipeline: "arrested 3" hidden, and a second value with it
    pipeline = text[text.index("Case pipeline") : text.index("Signatures")]
    assert re.search(r"Arrested\s+<5", pipeline) and re.search(r"Challaned\s+x", pipeline)
    # 1.3.b counts 3 offenders: shown as <5 in the objective table
    assert re.search(r"1\.3\.b\s+# of offenders identified\S*\s+<5", text)


def test_pdf_pages_render(month: engine.IndicatorReport, tmp_path: Path) -> None:
    """Every page turns into an image (pdftoppm reads the whole file without error)."""
    exe = require_program("pdftoppm")
    out = render_pdf(month, RenderMeta(**META), tmp_path / "june.pdf")
    subprocess.run([exe, "-r", "30", "-png", str(out), str(tmp_path / "page")], check=True, capture_output=True)
    pngs = sorted(tmp_path.glob("page*.png"))
    assert len(pngs) > 5 and all(p.stat().st_size > 1000 for p in pngs)


def test_pdf_write_is_atomic(month: engine.IndicatorReport, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A full disk leaves the earlier file as it was and no temporary file behind."""
    import errno
    import os

    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "june.pdf"
    target.write_bytes(b"earlier report")
    real_fsync = os.fsync

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(StorageFull, match="disk is full"):
        render_pdf(month, RenderMeta(**META), target)
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert target.read_bytes() == b"earlier report"
    assert [p.name for p in folder.iterdir()] == ["june.pdf"]
    with pytest.raises(ExportError, match="does not exist"):
        render_pdf(month, RenderMeta(**META), tmp_path / "missing" / "june.pdf")
