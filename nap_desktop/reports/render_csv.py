# SPDX-License-Identifier: GPL-3.0-or-later
"""CSV rendering of an indicator report: the long format, one row per published number.

Columns (:data:`~nap_desktop.reports.render_common.LONG_COLUMNS`): ``unit, period, indicator,
kind, disaggregation, key, label, value, numerator, denominator, previous, status``. The first row
of each indicator has ``disaggregation = key = "total"``. Percents are 0–100. For a change
indicator, ``value`` is the change, ``numerator`` this period's count and ``previous`` the
previous period's. Hidden numbers (external version) are ``<5`` or ``x``.

UTF-8 with a byte order mark, so Excel opens it with the right characters; RFC 4180 quoting.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from nap_desktop.reports.render_common import LONG_COLUMNS, RenderMeta, ReportView, build_view, write_file

__all__ = ["csv_bytes", "render_csv"]


def _text(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v)
    return v


def csv_bytes(view: ReportView) -> bytes:
    """The CSV file of a view, as bytes (UTF-8 with BOM)."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(LONG_COLUMNS)
    for row in view.long_rows():
        w.writerow([_text(v) for v in row])
    return buf.getvalue().encode("utf-8-sig")


def render_csv(report: Any, meta: RenderMeta, path: Path | str) -> Path:
    """Writes ``report`` as long-format CSV to ``path`` (atomically), suppressed for an external audience.

    Raises:
        StorageFull, ExportError: nothing was written.
    """
    return write_file(Path(path), csv_bytes(build_view(report, meta)))
