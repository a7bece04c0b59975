# SPDX-License-Identifier: GPL-3.0-or-later
"""Bulk import of legacy data from CSV and XLSX files, and the templates to fill in.

One template per record type (:func:`write_template`): row 1 holds the column names, which are
the stable machine names of the fields (``sex``, ``date_of_birth`` …). A count matrix becomes one
column per cell, ``field.dim1.dim2`` (``participants.female.child``). Three optional columns
come last: ``status`` (``draft`` / ``complete``, default ``complete``), ``unit`` (default: the
user's unit) and ``id`` (a UUID, to keep the ids of a legacy system). The structured lists of a
screening and a case (route events, stage events, parties) cannot be imported in bulk; they are
added in the record form afterwards. The XLSX template has a second sheet, *Help*, that explains
every column, and a third, *Codes*, with every code the columns accept.

Import (:func:`iter_import`, :func:`import_file`) is *all rows or none*: every row is validated
by the same rules as a record typed into a form (:func:`nap_desktop.domain.validation.validate`),
and unless ``skip_invalid`` is given, one bad row means nothing is imported. Every problem is
written to a report next to the file, ``<file stem>.errors.csv`` (row, column, message in
English and Urdu), and the first one is named in the error. Messages repeat a value of the file
only when it looks like a code (``'fmale' is not in the list sex``), never free text or a number
that could be personal data. With
``skip_invalid`` the good rows are imported and the bad ones are only reported. The rows that are
imported go into the store in ONE transaction (a crash or a cancel leaves nothing) and are
audited as one entry ``records.imported`` with counts only.

Row numbers are those a user sees in Excel: the header is row 1, the first data row is row 2.

Values are read as a form would take them: codes (or, for convenience with legacy data, the
code's English or Urdu label, any case), several codes as ``a;b``, checklists as
``item=yes;item2=no``, dates as ``YYYY-MM-DD`` (or a date cell in Excel), yes / no. CSV files
must be UTF-8 (with or without BOM); comma, semicolon or tab separated.
"""

from __future__ import annotations

import csv
import functools
import logging
import os
import re
import tempfile
import uuid
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nap_desktop.data.models import new_id, utcnow
from nap_desktop.data.record_models import MODEL_BY_TYPE, Person, PersonIdentity, PersonNameToken, RecordCode, RecordCount, SyncMixin
from nap_desktop.data.stats import refresh_statistics
from nap_desktop.domain.codelists import CodeList, CodeLists, default_codelists
from nap_desktop.domain.records import RECORD_TYPES, FieldSpec, RecordType
from nap_desktop.domain.validation import ANSWERS, validate
from nap_desktop.domain.validation import MSG as VALIDATION_MSG
from nap_desktop.errors import RecordLocked, UserFacingError, ValidationError
from nap_desktop.services import records as rec
from nap_desktop.services.context import Workspace

logger = logging.getLogger(__name__)

__all__ = [
    "MAX_BYTES",
    "MAX_ROWS",
    "NOT_IMPORTABLE_KINDS",
    "ImportFileError",
    "ImportRejected",
    "ImportResult",
    "Progress",
    "RowError",
    "import_file",
    "iter_import",
    "report_path_for",
    "template_columns",
    "write_template",
]

MAX_ROWS = 200_000  # data rows per file
MAX_BYTES = 100 * 1024 * 1024
CHUNK = 500  # rows validated between two progress reports and two flushes
NOT_IMPORTABLE_KINDS = ("events", "parties", "route")
ID_COLUMN, STATUS_COLUMN, UNIT_COLUMN = "id", "status", "unit"
EXTRA_COLUMNS = (STATUS_COLUMN, UNIT_COLUMN, ID_COLUMN)
REPORT_COLUMNS = ("row", "column", "message_en", "message_ur")
_CSV_FIELD_LIMIT = 1_000_000
_CODE_LIKE = re.compile(r"^[a-z0-9][a-z0-9_\-+]*$")
_COLUMN_LIKE = re.compile(r"^[a-z0-9][a-z0-9_.\-+]*$")
_MIDNIGHT = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T]00:00(?::00(?:\.0+)?)?$")
_UNIT_LIKE = re.compile(r"^[A-Z0-9][A-Z0-9\-]{0,23}$")
_EXAMPLE_CODES = ("pk", "af", "ir", "sa", "ae", "om", "gb")  # preferred examples for long lists
_BIG_LIST = 30  # lists longer than this are only named (with examples) on the Help sheet

_MSG: dict[str, tuple[str, str]] = {
    "count": ("Must be a whole number from 0 to 10,000,000.", "0 سے 10,000,000 تک مکمل عدد ہونا چاہیے۔"),
    "bad_id": (
        "Must be an id (UUID) like 123e4567-e89b-42d3-a456-426614174000.",
        "شناخت (UUID) ہونی چاہیے، مثلاً 123e4567-e89b-42d3-a456-426614174000۔",
    ),
    "dup_id": ("This id appears twice in the file (first in row {n}).", "یہ شناخت فائل میں دو بار ہے (پہلی بار قطار {n} میں)۔"),
    "id_taken": ("A record with this id already exists in the workspace.", "اس شناخت کا ریکارڈ پہلے سے موجود ہے۔"),
    "no_unit": ("{u} is not a unit of this workspace.", "{u} اس ورک اسپیس کا یونٹ نہیں۔"),
    "no_header": ("A value in a column that has no name in row 1.", "ایسے کالم میں قدر جس کا قطار 1 میں کوئی نام نہیں۔"),
    "locked": ("{m}", "یہ ریکارڈ منظور شدہ مہینے کا ہے؛ اسے شامل یا تبدیل نہیں کیا جا سکتا۔"),
}


# --- results and errors --------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    """How far an import has got. ``total`` is the number of data rows (``None`` if not known)."""

    done: int
    total: int | None
    label: str


@dataclass(frozen=True)
class RowError:
    """One problem of one cell (or of the row, when ``column`` is a field made of several cells)."""

    row: int
    column: str
    message_en: str
    message_ur: str


@dataclass(frozen=True)
class ImportResult:
    """What an import did.

    Attributes:
        type: The record type.
        path: The imported file.
        rows: Data rows in the file (blank rows are not counted).
        imported: Records created.
        skipped: Rows not imported because of errors (only with ``skip_invalid``).
        report_path: The error report written next to the file, or ``None`` when every row was good.
        ids: Ids of the records created, in file order.
        errors: Every problem found, by row.
        duplicates: For persons: ``(row, id of the person it may duplicate)`` for each imported row
            whose identity number, or normalised name and date of birth, matches a person already
            in your units or an earlier row of the file (imported all the same; a warning to review).
    """

    type: str
    path: Path
    rows: int
    imported: int
    skipped: int
    report_path: Path | None
    ids: tuple[str, ...] = ()
    errors: tuple[RowError, ...] = ()
    duplicates: tuple[tuple[int, str], ...] = ()


class ImportFileError(ValidationError):
    """The file cannot be imported as a whole (format, encoding, size, columns). Nothing was imported."""


class ImportRejected(ValidationError):
    """Rows of the file are invalid and ``skip_invalid`` was not given: nothing was imported.

    Attributes:
        report_path: The error report next to the file (``None`` if it could not be written).
        rows: Data rows in the file.
        bad_rows: Rows with at least one error.
        errors: Every problem found.
    """

    def __init__(self, message: str, *, report_path: Path | None, rows: int, bad_rows: int, errors: Sequence[RowError]) -> None:
        first = errors[0] if errors else None
        super().__init__(
            message,
            {first.column: first.message_en} if first else {},
            fields_ur={first.column: first.message_ur} if first else {},
        )
        self.report_path = report_path
        self.rows = rows
        self.bad_rows = bad_rows
        self.errors = tuple(errors)


def report_path_for(path: Path) -> Path:
    """Where the error report of an import of ``path`` goes: ``<stem>.errors.csv`` next to it."""
    path = Path(path)
    return path.with_name(f"{path.stem}.errors.csv")


# --- columns -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Column:
    name: str
    spec: FieldSpec | None = None  # None: one of the extra columns (status, unit, id)
    cell: tuple[str, str] | None = None  # matrix cell (dim1 code, dim2 code)


def _importable(rt: RecordType) -> list[FieldSpec]:
    return [f for f in rt.fields if f.kind not in NOT_IMPORTABLE_KINDS]


def _all_columns(rt: RecordType, cl: CodeLists, *, active_only: bool) -> list[_Column]:
    cols: list[_Column] = []
    for f in _importable(rt):
        if f.kind == "matrix":
            assert f.dims
            a, b = f.dims
            for e1 in cl[a].active_entries() if active_only else cl[a]:
                for e2 in cl[b].active_entries() if active_only else cl[b]:
                    cols.append(_Column(f"{f.name}.{e1.code}.{e2.code}", f, (e1.code, e2.code)))
        else:
            cols.append(_Column(f.name, f))
    cols.extend(_Column(name) for name in EXTRA_COLUMNS)
    return cols


def template_columns(type_name: str, *, codelists: CodeLists | None = None) -> list[str]:
    """The column names of the import template of a record type, in template order."""
    rt = rec.record_type(type_name)
    return [c.name for c in _all_columns(rt, codelists or default_codelists(), active_only=True)]


def _col_letter(index: int) -> str:
    """Excel column letter of a 0-based index."""
    letters = ""
    n = index + 1
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(65 + r) + letters
    return letters


def _shown_name(raw: object, index: int) -> str:
    """A header cell as a message may show it: only names that look like column names are echoed."""
    text = str(raw).strip().lower() if raw is not None else ""
    if text and len(text) <= 60 and _COLUMN_LIKE.match(text) and sum(c.isdigit() for c in text) <= 4:
        return f"'{text}' (column {_col_letter(index)})"
    return f"column {_col_letter(index)}"


@dataclass
class _Plan:
    """The columns of a file mapped onto the fields of a record type."""

    rt: RecordType
    columns: list[_Column | None]  # per file column; None: unnamed (must stay empty)

    def order(self, column: str) -> int:
        """Position of a column (or of the first cell of a matrix field) in the file, for sorting."""
        for i, c in enumerate(self.columns):
            if c is not None and (c.name == column or (c.spec is not None and c.spec.name == column)):
                return i
        return -1


def _plan(rt: RecordType, header: Sequence[object], cl: CodeLists) -> _Plan:
    known = {c.name: c for c in _all_columns(rt, cl, active_only=False)}
    not_importable = {f.name for f in rt.fields if f.kind in NOT_IMPORTABLE_KINDS}
    cells = [str(h).strip().lower() if h is not None else "" for h in header]
    while cells and not cells[-1]:
        cells.pop()
    if not cells:
        raise ImportFileError(
            f"Row 1 must hold the column names of the {rt.name} template (nap-desktop template {rt.name}); it is empty.",
            {"header": "empty"},
        )
    columns: list[_Column | None] = []
    unknown: list[str] = []
    blocked: list[str] = []
    seen: dict[str, int] = {}
    for i, name in enumerate(cells):
        if not name:
            columns.append(None)
            continue
        if name in seen:
            raise ImportFileError(
                f"Row 1 names the same column twice ({_shown_name(header[seen[name]], seen[name])} and column {_col_letter(i)}). Keep one.",
                {"header": "duplicate"},
            )
        seen[name] = i
        if name in not_importable:
            blocked.append(name)
        elif name not in known:
            unknown.append(_shown_name(header[i], i))
        columns.append(known.get(name))
    if blocked:
        raise ImportFileError(
            f"{', '.join(blocked)} cannot be imported in bulk; remove the column and add them in the record form after the import.",
            {b: "not_importable" for b in blocked},
        )
    if unknown:
        raise ImportFileError(
            f"Row 1 has columns that are not in the {rt.name} template: {', '.join(unknown)}. "
            f"Use the column names of the template (nap-desktop template {rt.name}).",
            {"header": "unknown_columns"},
        )
    present_fields = {c.spec.name for c in columns if c is not None and c.spec is not None}
    has_status = STATUS_COLUMN in seen
    missing = [
        f.name
        for f in _importable(rt)
        if f.name not in present_fields and (f.required_for_draft or (f.required and not has_status))
    ]
    if missing:
        raise ImportFileError(
            f"The file lacks required columns for {rt.name} records: {', '.join(missing)}. Add them to row 1 (see the template).",
            dict.fromkeys(missing, "missing"),
        )
    return _Plan(rt, columns)


# --- cell values ---------------------------------------------------------------------------------


_LOOKUPS: dict[int, tuple[CodeList, dict[str, str]]] = {}


def _lookup(cl: CodeList) -> dict[str, str]:
    """Accepted spellings of the codes of a list: the code, any case, and its labels (any case)."""
    cached = _LOOKUPS.get(id(cl))
    if cached is not None and cached[0] is cl:
        return cached[1]
    out: dict[str, str] = {}
    for e in cl:
        out[e.code] = e.code
    for e in cl:
        for key in (e.code.casefold(), e.label_en.strip().casefold(), e.label_ur.strip(), (e.iso3 or "").casefold()):
            if key:
                out.setdefault(key, e.code)
    if len(_LOOKUPS) > 256:
        _LOOKUPS.clear()
    _LOOKUPS[id(cl)] = (cl, out)
    return out


def _map_code(cl: CodeList, text: str) -> str:
    text = text.strip()
    table = _lookup(cl)
    return table.get(text) or table.get(text.casefold()) or text


def _as_text(value: object) -> str:
    """A non-text cell of an XLSX file as the text a form would hold."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _cell(spec: FieldSpec, value: object, cl: CodeLists) -> object:
    """Converts one non-empty cell to what :func:`validate` takes for the field."""
    kind = spec.kind
    if kind == "date":
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        text = _as_text(value).strip()
        m = _MIDNIGHT.match(text)  # "2024-03-15 00:00:00", as databases export a date
        return m.group(1) if m else text
    if kind == "int":
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        return _as_text(value)
    if kind == "bool":
        if isinstance(value, bool | int) and not isinstance(value, float):
            return value
        return _as_text(value)
    text = value if isinstance(value, str) else _as_text(value)
    if kind == "code":
        assert spec.codelist
        return _map_code(cl[spec.codelist], text)
    if kind == "codes":
        assert spec.codelist
        return ";".join(_map_code(cl[spec.codelist], part) for part in text.split(";") if part.strip())
    if kind == "answers":
        assert spec.codelist
        parts = []
        for part in text.split(";"):
            if not part.strip():
                continue
            if "=" not in part:
                parts.append(part)
                continue
            item, ans = part.split("=", 1)
            ans_code = _map_code(cl["answer"], ans) if "answer" in cl else ans.strip()
            parts.append(f"{_map_code(cl[spec.codelist], item)}={ans_code if ans_code in ANSWERS else ans.strip()}")
        return ";".join(parts)
    if kind == "ref":
        return _canonical_uuid(text) or text.strip()
    return text


def _count(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return value if 0 <= value <= 10_000_000 else None
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        if re.fullmatch(r"\d{1,8}", text):
            n = int(text)
            return n if n <= 10_000_000 else None
    return None


def _canonical_uuid(text: str) -> str | None:
    try:
        return str(uuid.UUID(text.strip()))
    except (ValueError, AttributeError, TypeError):
        return None


def _echo_ok(value: str) -> bool:
    """Whether a value from a file may be repeated in a message: short code-like text only."""
    return len(value) <= 40 and bool(_CODE_LIKE.match(value)) and sum(c.isdigit() for c in value) <= 4


def _safe(en: str, ur: str) -> tuple[str, str]:
    """Hides a value that a validation message repeats unless it looks like a code (no personal data)."""
    m = re.match(r"^'(.*)' ", en, re.S)
    if m and not _echo_ok(m.group(1)):
        quoted = f"'{m.group(1)}'"
        en = "This value" + en[len(quoted) :]
        ur = ur.replace(quoted, "یہ قدر", 1)
    return en, ur


# --- reading files -------------------------------------------------------------------------------


class _Source:
    """Rows of a file: ``header`` (row 1), then ``rows()`` yields ``(row number, cells)``."""

    total: int | None
    header: list[object]

    def rows(self) -> Iterator[tuple[int, list[object]]]:  # pragma: no cover - interface
        raise NotImplementedError

    def close(self) -> None:
        return None


def _too_many(name: str) -> ImportFileError:
    return ImportFileError(
        f"{name} has more than {MAX_ROWS:,} data rows. Split it into several files and import them one by one.",
        {"file": "too_many_rows"},
    )


class _CsvSource(_Source):
    def __init__(self, path: Path) -> None:
        self.path = path
        with path.open("rb") as f:
            first = f.readline(1 << 20)
        text = first.removeprefix(b"\xef\xbb\xbf").decode("utf-8", errors="replace")
        self.delimiter = "," if "," in text else "\t" if "\t" in text else ";" if ";" in text else ","
        count, any_text = 0, False
        for n, cells in self._records():  # a first pass: encoding, CSV syntax, size, row count
            count = n
            any_text = any_text or any(not _is_blank(c) for c in cells)
        if not any_text:
            raise ImportFileError(f"{path.name} is empty: there is no header row and no data.", {"file": "empty"})
        self.total = count - 1
        self._it = self._records()
        _n, self.header = next(self._it)

    def _records(self) -> Generator[tuple[int, list[object]], None, None]:
        done = data = 0
        with self.path.open("rb") as f:

            def lines() -> Iterator[str]:
                first = True
                for raw in f:
                    if first:
                        raw = raw.removeprefix(b"\xef\xbb\xbf")
                        first = False
                    yield raw.decode("utf-8")

            reader = csv.reader(lines(), delimiter=self.delimiter)
            while True:
                old_limit = csv.field_size_limit(_CSV_FIELD_LIMIT)
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except UnicodeDecodeError:
                    raise ImportFileError(
                        f"Row {done + 1} of {self.path.name} is not UTF-8 text. Nothing was imported. "
                        "In Excel, save the file as 'CSV UTF-8 (Comma delimited)', or use the XLSX template.",
                        {"file": "encoding"},
                    ) from None
                except OSError as exc:
                    raise ImportFileError(
                        f"Row {done + 1} of {self.path.name} cannot be read ({exc.strerror or type(exc).__name__}). Nothing was imported.",
                        {"file": "unreadable"},
                    ) from None
                except csv.Error as exc:
                    raise ImportFileError(
                        f"Row {done + 1} of {self.path.name} cannot be read as CSV ({_csv_problem(exc)}). Nothing was imported.",
                        {"file": "csv"},
                    ) from None
                finally:
                    csv.field_size_limit(old_limit)
                done += 1
                if any(not _is_blank(c) for c in cells):
                    data += 1
                    if data > MAX_ROWS + 1:
                        raise _too_many(self.path.name)
                yield done, list(cells)

    def rows(self) -> Iterator[tuple[int, list[object]]]:
        return self._it

    def close(self) -> None:
        it = getattr(self, "_it", None)
        if it is not None:
            it.close()


def _csv_problem(exc: csv.Error) -> str:
    text = str(exc)
    if "field larger" in text:
        return f"a cell is longer than {_CSV_FIELD_LIMIT:,} characters"
    if "NUL" in text:
        return "it holds a NUL character"
    if "new-line" in text:
        return "a line break inside a cell without quotes"
    return "malformed quoting"


class _XlsxSource(_Source):
    def __init__(self, path: Path) -> None:
        import openpyxl

        self.path = path
        try:
            self._wb = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
        except Exception as exc:  # any failure of a damaged or foreign file: openpyxl raises many types
            logger.info("XLSX not readable: %s", type(exc).__name__)
            raise ImportFileError(
                f"{path.name} is not a readable XLSX workbook. Open it in Excel and save it again as .xlsx.", {"file": "xlsx"}
            ) from None
        try:
            names = self._wb.sheetnames
            sheet = self._wb["Data"] if "Data" in names else self._wb.worksheets[0]
            dim = sheet.max_row  # as stored: only an estimate for progress (blank formatted rows count)
            self.total = max(0, dim - 1) if isinstance(dim, int) else None
            sheet.reset_dimensions()  # the stored dimension may be wrong: read every row there is
            self._it = self._read(sheet)
            first = next(self._it, None)
            if first is None or first[0] != 1 or not any(not _is_blank(c) for c in first[1]):
                raise ImportFileError(f"{path.name} is empty: row 1 of its first sheet holds no column names.", {"file": "empty"})
            self.header = first[1]
        except BaseException:
            self.close()
            raise

    def _read(self, sheet: Any) -> Iterator[tuple[int, list[object]]]:
        n = data = 0
        rows = iter(sheet.iter_rows(values_only=True))
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return
            except UserFacingError:
                raise
            except Exception as exc:  # damaged XML inside the workbook
                logger.info("XLSX row not readable: %s", type(exc).__name__)
                raise ImportFileError(
                    f"Row {n + 1} of {self.path.name} cannot be read; the workbook is damaged. Open it in Excel and save it again.",
                    {"file": "xlsx"},
                ) from None
            n += 1
            if any(not _is_blank(c) for c in row):
                data += 1
                if data > MAX_ROWS + 1:
                    raise _too_many(self.path.name)
            yield n, list(row)

    def rows(self) -> Iterator[tuple[int, list[object]]]:
        return self._it

    def close(self) -> None:
        try:
            self._wb.close()
        except Exception:  # noqa: BLE001 - closing a damaged workbook must not hide the real error
            logger.debug("closing the workbook failed", exc_info=True)


def _open_source(path: Path) -> _Source:
    path = Path(path)
    try:
        return _open_source_unchecked(path)
    except OSError as exc:
        raise ImportFileError(
            f"{path.name} cannot be read ({exc.strerror or type(exc).__name__}). Close it in other programs and check its permissions.",
            {"file": "unreadable"},
        ) from None


def _open_source_unchecked(path: Path) -> _Source:
    if not path.is_file():
        raise ImportFileError(f"There is no file {path.name} at {path.parent}.", {"file": "missing"})
    size = path.stat().st_size
    if size == 0:
        raise ImportFileError(f"{path.name} is empty: there is no header row and no data.", {"file": "empty"})
    if size > MAX_BYTES:
        raise ImportFileError(
            f"{path.name} is {size / 1024 / 1024:.0f} MB; the limit is {MAX_BYTES // 1024 // 1024} MB. Split it into several files.",
            {"file": "too_big"},
        )
    suffix = path.suffix.lower()
    with path.open("rb") as f:
        magic = f.read(4)
    if suffix in (".xlsx", ".xlsm"):
        return _XlsxSource(path)
    if suffix in (".csv", ".txt"):
        if magic == b"PK\x03\x04":
            raise ImportFileError(f"{path.name} is an Excel workbook, not CSV text. Rename it to .xlsx.", {"file": "format"})
        return _CsvSource(path)
    if suffix == ".xls":
        raise ImportFileError(f"{path.name} is in the old Excel format (.xls). Save it as .xlsx or as CSV UTF-8.", {"file": "format"})
    raise ImportFileError(f"{path.name}: only .csv and .xlsx files can be imported.", {"file": "format"})


# --- the import ----------------------------------------------------------------------------------


@dataclass
class _Pending:
    """A row read from the file, not yet validated."""

    row: int
    values: dict[str, Any]
    status: str
    unit: str
    rid: str  # canonical UUID from the id column, or ""
    failed: bool  # a cell could not be read (its error is recorded); validated only for the report
    bad_fields: frozenset[str] = frozenset()  # fields with a cell that could not be read


@dataclass
class _Good:
    row: int
    values: dict[str, Any]
    status: str
    unit: str
    record_id: str
    explicit_id: bool


@dataclass
class _State:
    errors: list[RowError] = field(default_factory=list)
    bad_rows: set[int] = field(default_factory=set)
    ids: list[str] = field(default_factory=list)
    rows: int = 0
    row_of: dict[str, int] = field(default_factory=dict)  # id of an imported person -> its row
    duplicates: list[tuple[int, str]] = field(default_factory=list)

    def add(self, row: int, column: str, key_or_text: str | tuple[str, str], **fmt: object) -> None:
        if isinstance(key_or_text, tuple):
            en, ur = key_or_text
        else:
            en, ur = (t.format(**fmt) for t in _MSG[key_or_text])
        self.errors.append(RowError(row, column, en, ur))
        self.bad_rows.add(row)


class _Denied(Exception):
    """A row names a unit outside the user's scope: the import is refused as a whole."""

    def __init__(self, unit: str) -> None:
        super().__init__(unit)
        self.unit = unit


def iter_import(
    ws: Workspace,
    type_name: str,
    path: Path,
    *,
    skip_invalid: bool = False,
    codelists: CodeLists | None = None,
) -> Generator[Progress, None, ImportResult]:
    """Imports the rows of a CSV or XLSX file as records of ``type_name``, step by step.

    Yields :class:`Progress` while it works and returns the :class:`ImportResult` (as the value of
    ``StopIteration``; :func:`import_file` drains it for you). The store is written in one
    transaction that stays open between two steps: drain the generator, or ``close()`` it (or
    ``throw(Cancelled())`` into it) to cancel, which rolls everything back.

    Raises:
        PermissionDenied: The role may not capture records of this type, or a row names a unit
            outside the user's units (nothing is imported; the refusal is audited).
        ImportFileError: The file cannot be read, is empty, too big, or its columns are wrong.
        ImportRejected: Rows are invalid and ``skip_invalid`` is not set; nothing was imported and
            the report ``<stem>.errors.csv`` lists every problem.
    """
    rt = rec.record_type(type_name)
    perm = rec._capture_perm(rt)
    ws.require(perm, unit=ws.user.unit_code, object_type=rt.name)
    cl = codelists or default_codelists()
    path = Path(path)
    fmt = "xlsx" if path.suffix.lower() in (".xlsx", ".xlsm") else "csv"
    yield Progress(0, None, "Reading the file")
    source = _open_source(path)
    try:
        plan = _plan(rt, source.header, cl)
        total = source.total
        yield Progress(0, total, "Checking the rows")
        st = _State()
        model = MODEL_BY_TYPE[rt.name]
        now = utcnow()
        seen_ids: dict[str, int] = {}
        try:
            with ws.sf.begin() as s:  # ONE transaction: an exception, a cancel or a crash leaves nothing
                ctx = rec._context(ws, s)
                pending: list[_Pending] = []
                done = 0
                for row_no, cells in source.rows():
                    done += 1
                    p = _read_row(ws, rt, plan, cells, row_no, st, cl, seen_ids, perm)
                    if p is not None:
                        pending.append(p)
                    if len(pending) >= CHUNK:
                        _process(ws, s, rt, model, pending, st, cl, ctx, now, skip_invalid=skip_invalid)
                        pending = []
                    if done % CHUNK == 0:
                        yield Progress(done, total, "Checking and importing the rows")
                _process(ws, s, rt, model, pending, st, cl, ctx, now, skip_invalid=skip_invalid)
                if st.rows == 0:
                    raise ImportFileError(f"{path.name} has column names but no data rows; nothing to import.", {"file": "no_rows"})
                st.errors.sort(key=lambda e: (e.row, plan.order(e.column)))
                report = _write_report(path, st.errors) if st.errors else None
                if st.errors and not skip_invalid:
                    raise _rejected(path, report, st)
                if st.errors and report is None:
                    raise ImportFileError(
                        f"{len(st.bad_rows)} rows have errors, but the report {report_path_for(path).name} could not be written "
                        "next to the file. Nothing was imported; copy the file to a folder you can write to and try again.",
                        {"file": "report"},
                    )
                yield Progress(done, total, "Saving")
                ws.audit(
                    s,
                    "records.imported",
                    object_type=rt.name,
                    detail={
                        "type": rt.name,
                        "format": fmt,
                        "rows": st.rows,
                        "imported": len(st.ids),
                        "skipped": len(st.bad_rows),
                        "possible_duplicates": len(st.duplicates),
                    },
                )
        except _Denied as d:
            ws.require(perm, unit=d.unit, object_type=rt.name)  # audits the refusal and raises PermissionDenied
            raise AssertionError("unreachable: a unit out of scope was allowed") from None  # pragma: no cover
        refresh_statistics(ws.engine)  # the tables grew: let the query planner know (data/stats.py)
        logger.info("imported %d %s records (%d rows skipped)", len(st.ids), rt.name, len(st.bad_rows))
        return ImportResult(
            type=rt.name,
            path=path,
            rows=st.rows,
            imported=len(st.ids),
            skipped=len(st.bad_rows),
            report_path=report,
            ids=tuple(st.ids),
            errors=tuple(st.errors),
            duplicates=tuple(st.duplicates),
        )
    finally:
        source.close()


def import_file(
    ws: Workspace,
    type_name: str,
    path: Path,
    *,
    skip_invalid: bool = False,
    progress: Callable[[Progress], None] | None = None,
    codelists: CodeLists | None = None,
) -> ImportResult:
    """Imports a CSV or XLSX file (see :func:`iter_import`); ``progress`` is called at every step."""
    gen = iter_import(ws, type_name, path, skip_invalid=skip_invalid, codelists=codelists)
    try:
        while True:
            step = next(gen)
            if progress is not None:
                progress(step)
    except StopIteration as stop:
        result: ImportResult = stop.value
        return result
    finally:
        gen.close()


def _rejected(path: Path, report: Path | None, st: _State) -> ImportRejected:
    first = st.errors[0]
    bad = len(st.bad_rows)
    where = f"see {report.name}" if report else f"the report {report_path_for(path).name} could not be written"
    more = f" {bad} of {st.rows} rows have errors." if bad > 1 else ""
    message = f"Row {first.row}, column {first.column}: {first.message_en}{more} Nothing was imported; {where}."
    return ImportRejected(message, report_path=report, rows=st.rows, bad_rows=bad, errors=st.errors)


def _read_row(
    ws: Workspace,
    rt: RecordType,
    plan: _Plan,
    cells: list[object],
    row_no: int,
    st: _State,
    cl: CodeLists,
    seen_ids: dict[str, int],
    perm: Any,
) -> _Pending | None:
    """Reads one row into the values a form would give; ``None`` for a blank row."""
    if all(_is_blank(c) for c in cells):
        return None
    st.rows += 1
    errors_before = len(st.errors)
    values: dict[str, Any] = {}
    status, unit, rid = "complete", ws.user.unit_code, ""
    matrices: dict[str, dict[str, dict[str, int]]] = {}
    bad_fields: set[str] = set()
    for i, raw in enumerate(cells):
        if _is_blank(raw):
            continue
        col = plan.columns[i] if i < len(plan.columns) else None
        if col is None:
            st.add(row_no, f"column {_col_letter(i)}", "no_header")
            continue
        if col.spec is None:
            text = raw.strip() if isinstance(raw, str) else _as_text(raw).strip()
            if col.name == STATUS_COLUMN:
                status = text.lower()
            elif col.name == UNIT_COLUMN:
                unit = text.upper()
            else:
                rid = text
            continue
        if col.cell is not None:
            n = _count(raw)
            if n is None:
                st.add(row_no, col.name, "count")
                bad_fields.add(col.spec.name)
                continue
            d1, d2 = col.cell
            matrices.setdefault(col.spec.name, {}).setdefault(d1, {})[d2] = n
            continue
        values[col.spec.name] = _cell(col.spec, raw, cl)
    values.update(matrices)
    if rid:
        canonical = _canonical_uuid(rid)
        if canonical is None:
            st.add(row_no, ID_COLUMN, "bad_id")
        elif canonical in seen_ids:
            st.add(row_no, ID_COLUMN, "dup_id", n=seen_ids[canonical])
        else:
            seen_ids[canonical] = row_no
        rid = canonical or ""
    if not ws.unit_exists(unit):
        st.add(row_no, UNIT_COLUMN, "no_unit", u=unit if _UNIT_LIKE.match(unit) else "This value")
    elif not ws.can(perm, unit=unit):
        raise _Denied(unit)
    return _Pending(row_no, values, status, unit, rid, len(st.errors) > errors_before, frozenset(bad_fields))


def _validate_row(s: Session, rt: RecordType, p: _Pending, st: _State, cl: CodeLists, ctx: Any) -> _Good | None:
    """Validates a row by the rules of the form; returns it ready to store, or ``None``."""
    try:
        with s.no_autoflush:
            clean = validate(rt, p.values, status=p.status, codelists=cl, context=ctx)
    except ValidationError as exc:
        for name, en in exc.fields.items():
            if name in p.bad_fields:
                continue  # its cell's own error says more than "Required."
            en_s, ur_s = _safe(en, exc.fields_ur.get(name, en))
            st.add(p.row, STATUS_COLUMN if name == "status" else name, (en_s, ur_s))
        return None
    if p.failed:
        return None
    not_null = _not_null_columns_of(rt.name)
    empty = [name for name in not_null if clean.get(name) is None]
    if empty:  # the store refuses NULL here although the type allows a draft without it
        for name in empty:
            st.add(p.row, name, VALIDATION_MSG["required"])
        return None
    try:
        on = clean.get(rt.date_field) if rt.date_field != "created_on" else None
        rec._check_locks(s, p.unit, on if isinstance(on, date) else rec.today())
    except RecordLocked as exc:
        st.add(p.row, rt.date_field if rt.date_field != "created_on" else UNIT_COLUMN, "locked", m=exc.message)
        return None
    return _Good(p.row, clean, p.status, p.unit, p.rid or new_id(), bool(p.rid))


@functools.cache
def _not_null_columns_of(type_name: str) -> tuple[str, ...]:
    """Plain-column fields the store cannot hold empty (NOT NULL, no default)."""
    rt = RECORD_TYPES[type_name]
    table = MODEL_BY_TYPE[rt.name].__table__  # type: ignore[attr-defined]
    out = []
    for f in rt.fields:
        col = table.columns.get(f.name) if f.storage == "column" else None
        if col is not None and not col.nullable and col.default is None and col.server_default is None:
            out.append(f.name)
    return tuple(out)


def _prefetch(s: Session, rt: RecordType, pending: list[_Pending]) -> list[Any]:
    """Loads the records the rows refer to with one query per type, so that validation (which looks
    each one up by id) finds them in the session instead of querying row by row. The caller holds
    the returned list: the session keeps only weak references."""
    keep: list[Any] = []
    with s.no_autoflush:
        for f in rt.fields:
            if f.kind != "ref" or f.ref is None:
                continue
            ids = {v for p in pending if isinstance(v := p.values.get(f.name), str) and len(v) == 36}
            model = MODEL_BY_TYPE[f.ref]
            if ids:
                keep.extend(s.scalars(select(model).where(model.id.in_(ids))))
    return keep


def _process(
    ws: Workspace,
    s: Session,
    rt: RecordType,
    model: type[SyncMixin],
    pending: list[_Pending],
    st: _State,
    cl: CodeLists,
    ctx: Any,
    now: datetime,
    *,
    skip_invalid: bool,
) -> None:
    if not pending:
        return
    keep = _prefetch(s, rt, pending)
    good = [g for p in pending if (g := _validate_row(s, rt, p, st, cl, ctx)) is not None]
    _write_chunk(ws, s, rt, model, good, st, now, skip_invalid=skip_invalid)
    del keep


class _RowValues:
    """Stands in for a model instance while :func:`records._store_columns` fills the columns of a
    new record, so that the import stores exactly what :func:`records.create_record` stores; its
    values are then inserted with one executemany per chunk."""

    def __init__(self, table: Any) -> None:
        self.__dict__["__table__"] = table

    def values(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "__table__"}

    if TYPE_CHECKING:  # attributes are set freely, like on a model

        def __setattr__(self, name: str, value: Any) -> None: ...

        def __getattr__(self, name: str) -> Any: ...


def _taken_ids(s: Session, ids: list[str]) -> set[str]:
    taken: set[str] = set()
    for model in MODEL_BY_TYPE.values():
        taken.update(s.scalars(select(model.id).where(model.id.in_(ids))))
    return taken


def _write_chunk(
    ws: Workspace,
    s: Session,
    rt: RecordType,
    model: type[SyncMixin],
    chunk: list[_Good],
    st: _State,
    now: datetime,
    *,
    skip_invalid: bool,
) -> None:
    """Stores the good rows of a chunk; once a row has failed without ``skip_invalid``, only checks them
    (everything will be rolled back, but the report must still name every problem).

    Mirrors :func:`nap_desktop.services.records.create_record` (the same columns, related rows,
    sync bookkeeping and content hash), but for many rows with one flush and no per-row queries.
    """
    explicit = [g.record_id for g in chunk if g.explicit_id]
    if explicit:
        with s.no_autoflush:
            taken = _taken_ids(s, explicit)
        for g in chunk:
            if g.explicit_id and g.record_id in taken:
                st.add(g.row, ID_COLUMN, "id_taken")
        chunk = [g for g in chunk if not (g.explicit_id and g.record_id in taken)]
    if not chunk or (st.errors and not skip_invalid):
        return
    rows: list[dict[str, Any]] = []
    identities: list[dict[str, Any]] = []
    codes: list[dict[str, Any]] = []
    counts: list[dict[str, Any]] = []
    identity_fields = [f.name for f in rt.fields if f.storage == "identity"]
    table = model.__table__  # type: ignore[attr-defined]
    for g in chunk:
        clean = g.values
        row = _RowValues(table)
        row.id = g.record_id
        row.unit = g.unit
        row.origin_unit = ws.wf.unit
        row.status = g.status
        row.created_at = row.updated_at = now
        row.created_by = row.updated_by = ws.user.username
        row.version, row.base_version = 1, 0
        row.deleted = False
        if rt.name == "screening":
            row.screener = ws.user.username
            row.is_child = False
            row.route_json = "[]"
        if rt.name == "case":
            row.stage = "registered"
        rec._store_columns(rt, row, clean, rt.field_names)  # type: ignore[arg-type]
        if rt.name == "case":
            rec._derive_case_stage(row, clean)
        row.seq = rec._next_seq(s)
        row.content_hash = rec._content_hash(rt, clean, g.status)
        rows.append(row.values())
        if identity_fields:
            ident = {f: clean.get(f) or "" for f in identity_fields}
            ident["person_id"] = row.id
            ident["name_key"] = rec.normalise_name(ident["given_name"], ident["family_name"])
            ident["id_key"] = rec.normalise_id(ident["cnic"] or ident["passport_no"] or ident["other_id"])
            identities.append(ident)
        for f in rt.fields:
            v = clean.get(f.name)
            if not v:
                continue
            if f.storage == "codes":
                if f.kind == "answers":
                    codes.extend({"record_id": row.id, "field": f.name, "code": k, "answer": a} for k, a in v.items())
                else:
                    codes.extend({"record_id": row.id, "field": f.name, "code": c, "answer": None} for c in v)
            elif f.storage == "counts":
                for d1, cells in v.items():
                    counts.extend({"record_id": row.id, "field": f.name, "dim1": d1, "dim2": d2, "n": n} for d2, n in cells.items())
        st.ids.append(row.id)
    s.flush()  # the change counter (meta) first
    # Core executemany, one statement per table: the ORM's unit of work costs more than the rest of
    # the import together. Every dict of a table has the same keys (see _RowValues).
    s.execute(table.insert(), rows)
    names = rec.name_token_rows(identities)  # the name search's index, with the identities
    for related, batch in ((PersonIdentity, identities), (PersonNameToken, names), (RecordCode, codes), (RecordCount, counts)):
        if batch:
            s.execute(related.__table__.insert(), batch)
    if identities:
        _find_duplicates(ws, s, chunk, identities, st)


def _find_duplicates(ws: Workspace, s: Session, chunk: list[_Good], identities: list[dict[str, Any]], st: _State) -> None:
    """Notes imported persons that may be people already known: the rule of
    :func:`records.find_duplicate_persons` (same identity number, or a name that sounds the same —
    spelt the same or not — and the same date of birth), run once per chunk instead of once per
    row: the persons born on the chunk's birth dates, with their names' sound keys."""
    for g in chunk:
        st.row_of[g.record_id] = g.row
    id_keys = {i["id_key"] for i in identities if len(i["id_key"]) >= 5}
    sounds = [frozenset(rec.sound_tokens(i["name_key"])) for i in identities]
    births = {g.values.get("date_of_birth") for g, snd in zip(chunk, sounds, strict=True) if snd} - {None}
    by_id: dict[str, list[str]] = {}
    if id_keys:
        q = select(PersonIdentity.person_id, PersonIdentity.id_key, Person.unit).join(Person, Person.id == PersonIdentity.person_id)
        for pid, id_key, unit in s.execute(q.where(Person.deleted.is_(False), PersonIdentity.id_key.in_(id_keys))):
            if ws.in_scope(unit):
                by_id.setdefault(id_key, []).append(pid)
    born = rec.born_on(s, births) if births else {}
    for g, ident, snd in zip(chunk, identities, sounds, strict=True):
        dob = g.values.get("date_of_birth")
        candidates = by_id.get(ident["id_key"], []) if len(ident["id_key"]) >= 5 else []
        if dob is not None and snd:
            candidates = candidates + [p.person_id for p in born.get(dob, ()) if snd <= p.sounds and ws.in_scope(p.unit)]
        for pid in dict.fromkeys(candidates):
            if pid != g.record_id and st.row_of.get(pid, 0) < g.row:  # known before, or an earlier row
                st.duplicates.append((g.row, pid))
                break


def _write_report(path: Path, errors: Sequence[RowError]) -> Path | None:
    """Writes ``<stem>.errors.csv`` next to the file (atomically); ``None`` if that is impossible."""
    target = report_path_for(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as f:
                w = csv.writer(f)
                w.writerow(REPORT_COLUMNS)
                for e in errors:
                    w.writerow((e.row, e.column, e.message_en, e.message_ur))
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        logger.warning("could not write the import error report: %s", type(exc).__name__)
        return None
    return target


# --- templates -----------------------------------------------------------------------------------

_HELP_HEAD = {
    "en": ("Column", "Label (English)", "Label (Urdu)", "Kind", "Required", "Allowed values and format"),
    "ur": ("کالم", "عنوان (انگریزی)", "عنوان (اردو)", "قسم", "لازمی", "قابل قبول اقدار اور شکل"),
}
_REQUIRED_TEXT = {
    "always": ("Yes, for draft and complete", "ہاں، مسودہ اور مکمل دونوں کے لیے"),
    "complete": ("Yes, to complete (a draft may leave it empty)", "مکمل کرنے کے لیے (مسودے میں خالی رہ سکتا ہے)"),
    "no": ("No", "نہیں"),
}


def _required(spec: FieldSpec | None) -> str:
    if spec is None:
        return "no"
    if spec.required_for_draft:
        return "always"
    return "complete" if spec.required else "no"


def _codes_text(cl: CodeList) -> str:
    entries = cl.active_entries()
    if len(entries) <= _BIG_LIST:
        return "; ".join(f"{e.code} = {e.label_en}" for e in entries)
    preferred = [e for c in _EXAMPLE_CODES if (e := cl.find(c)) is not None and not e.deprecated]
    examples = (preferred or list(entries))[:5]
    listed = ", ".join(f"{e.code} = {e.label_en}" for e in examples)
    return f"code list {cl.name} ({len(entries)} codes), e.g. {listed}; every code is on the sheet Codes"


def _hint(rt: RecordType, col: _Column, cl: CodeLists) -> str:  # noqa: C901 - one line per kind
    spec = col.spec
    if spec is None:
        return {
            STATUS_COLUMN: "draft or complete; empty = complete. A draft may leave the fields marked 'to complete' empty.",
            UNIT_COLUMN: "Unit code (e.g. C-PSH, P-TORKHAM); empty = your unit. Only your unit and the units below it.",
            ID_COLUMN: "Optional id (UUID) to keep the id of a legacy system; empty = a new id. Other records refer to it.",
        }[col.name]
    kind = spec.kind
    if col.cell is not None:
        assert spec.dims
        a, b = spec.dims
        d1, d2 = col.cell
        return (
            f"Count of {spec.label_en.lower()}: {a} = {cl[a].label(d1, 'en')}, {b} = {cl[b].label(d2, 'en')}. "
            "Whole number, 0 or more; empty = 0."
        )
    if kind == "text":
        if spec.name == "cnic":
            return "CNIC: 13 digits, with or without dashes (35202-1234567-1). Personal data."
        if spec.name == "phone":
            return "Phone: digits, spaces and dashes, may start with +. Personal data."
        return f"Text, at most {spec.max_length:,} characters." + (" Personal data." if spec.personal else "")
    if kind == "int":
        rng = f" from {spec.minimum:,}" if spec.minimum is not None else ""
        rng += f" to {spec.maximum:,}" if spec.maximum is not None else ""
        return f"Whole number{rng}."
    if kind == "date":
        return "Date as YYYY-MM-DD (or a date cell in Excel); not in the future."
    if kind == "bool":
        return "yes or no."
    if kind == "code":
        assert spec.codelist
        return f"One code (or its English / Urdu label): {_codes_text(cl[spec.codelist])}."
    if kind == "codes":
        assert spec.codelist
        return f"One or more codes separated by ';' (e.g. a;b): {_codes_text(cl[spec.codelist])}."
    if kind == "answers":
        assert spec.codelist
        return (
            "Items answered yes / no / unknown / not_asked, as item=yes;item2=no. "
            f"Items: {_codes_text(cl[spec.codelist])}."
        )
    if kind == "ref":
        assert spec.ref
        return (
            f"Id (UUID) of a {spec.ref.replace('_', ' ')} record already in the workspace "
            "(import those first, with an id column to keep their ids)."
        )
    return ""  # pragma: no cover - non-importable kinds have no column


def _help_rows(rt: RecordType, cl: CodeLists, lang: str) -> list[tuple[str, ...]]:
    li = 0 if lang == "en" else 1
    out: list[tuple[str, ...]] = []
    for col in _all_columns(rt, cl, active_only=True):
        spec = col.spec
        if spec is None:
            labels = {
                STATUS_COLUMN: ("Status", "حیثیت"),
                UNIT_COLUMN: ("Unit", "یونٹ"),
                ID_COLUMN: ("Record id", "ریکارڈ کی شناخت"),
            }[col.name]
            kind = {"status": "code", "unit": "text", "id": "id"}[col.name]
        else:
            labels = (spec.label_en, spec.label_ur)
            if col.cell is not None:
                assert spec.dims
                a, b = spec.dims
                d1, d2 = col.cell
                labels = (
                    f"{spec.label_en}: {cl[a].label(d1, 'en')} × {cl[b].label(d2, 'en')}",
                    f"{spec.label_ur}: {cl[a].label(d1, 'ur')} × {cl[b].label(d2, 'ur')}",
                )
            kind = "count" if col.cell is not None else spec.kind
        out.append((col.name, labels[0], labels[1], kind, _REQUIRED_TEXT[_required(spec)][li], _hint(rt, col, cl)))
    for f in rt.fields:
        if f.kind in NOT_IMPORTABLE_KINDS:
            out.append(
                (
                    "—",
                    f.label_en,
                    f.label_ur,
                    f.kind,
                    _REQUIRED_TEXT["no"][li],
                    f"Not importable in bulk ({f.name}): add it in the record form after the import.",
                )
            )
    return out


def write_template(
    type_name: str,
    path: Path,
    *,
    fmt: str | None = None,
    lang: str = "en",
    overwrite: bool = False,
    codelists: CodeLists | None = None,
) -> Path:
    """Writes the import template of a record type.

    Args:
        type_name: The record type (``person``, ``screening`` …).
        path: Where to write it.
        fmt: ``"csv"`` (the header row only) or ``"xlsx"`` (sheets Data, Help, Codes); ``None``
            takes it from the suffix of ``path``.
        lang: ``"en"`` or ``"ur"``: the language of the Help sheet's headings (labels are always in both).
        overwrite: Replace an existing file (refused otherwise, so no data file is lost).

    Returns:
        The path written.

    Raises:
        ValidationError: Unknown type, format or language, or the file exists.
    """
    rt = rec.record_type(type_name)
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt not in ("csv", "xlsx"):
        raise ValidationError(f"A template is written as csv or xlsx, not {fmt or 'a file without a suffix'}.", {"format": "unknown"})
    if lang not in ("en", "ur"):
        raise ValidationError("The template language is en or ur.", {"lang": "unknown"})
    if path.exists() and not overwrite:
        raise ValidationError(f"{path.name} already exists; choose another name or allow overwriting.", {"path": "exists"})
    cl = codelists or default_codelists()
    columns = _all_columns(rt, cl, active_only=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".{fmt}", dir=path.parent)
    os.close(fd)
    try:
        if fmt == "csv":
            with open(tmp, "w", encoding="utf-8-sig", newline="") as f:
                csv.writer(f).writerow([c.name for c in columns])
        else:
            _write_xlsx_template(rt, columns, cl, lang, Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _write_xlsx_template(rt: RecordType, columns: list[_Column], cl: CodeLists, lang: str, target: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    data = wb.active
    data.title = "Data"
    help_ws = wb.create_sheet("Help")
    codes_ws = wb.create_sheet("Codes")
    bold = Font(bold=True)

    # Codes: every list the columns use, plus the status and yes/no answers for drop-downs.
    codes_ws.append(("list", "code", "label_en", "label_ur"))
    ranges: dict[str, str] = {}
    lists: list[tuple[str, list[tuple[str, str, str]]]] = [
        ("status", [("draft", "Draft", "مسودہ"), ("complete", "Complete", "مکمل")]),
        ("yes_no", [("yes", "Yes", "ہاں"), ("no", "No", "نہیں")]),
    ]
    used: list[str] = []
    for c in columns:
        spec = c.spec
        if spec is not None and spec.codelist and spec.codelist not in used:
            used.append(spec.codelist)
        if spec is not None and spec.kind == "answers" and "answer" not in used:
            used.append("answer")
    for name in used:
        lists.append((name, [(e.code, e.label_en, e.label_ur) for e in cl[name].active_entries()]))
    row = 2
    for name, entries in lists:
        first = row
        for code, en, ur in entries:
            codes_ws.append((name, code, en, ur))
            row += 1
        ranges[name] = f"Codes!$B${first}:$B${row - 1}"
    for cell in codes_ws[1]:
        cell.font = bold
    codes_ws.freeze_panes = "A2"
    for letter, width in zip("ABCD", (28, 36, 44, 44), strict=True):
        codes_ws.column_dimensions[letter].width = width

    # Data: the header row, formats and drop-downs.
    data.append([c.name for c in columns])
    data.freeze_panes = "A2"
    last = MAX_ROWS + 1
    for i, col in enumerate(columns):
        letter = _col_letter(i)
        head = data.cell(row=1, column=i + 1)
        head.font = bold
        spec = col.spec
        label = (spec.label_en, spec.label_ur) if spec is not None else (col.name, col.name)
        head.comment = Comment(f"{label[0]} / {label[1]}\n{_hint(rt, col, cl)}"[:1000], "NAP Desktop")
        dim = data.column_dimensions[letter]
        dim.width = max(12, min(40, len(col.name) + 2))
        source = None
        if spec is None:
            if col.name == STATUS_COLUMN:
                source = ranges["status"]
            else:
                dim.number_format = "@"
        elif col.cell is None and spec.kind in ("text", "ref"):
            dim.number_format = "@"  # keeps CNIC, phone numbers and ids as typed
        elif col.cell is None and spec.kind == "date":
            dim.number_format = "yyyy-mm-dd"
        elif col.cell is None and spec.kind == "bool":
            source = ranges["yes_no"]
        elif col.cell is None and spec.kind == "code":
            assert spec.codelist
            source = ranges[spec.codelist]
        if source is not None:
            dv = DataValidation(type="list", formula1=f"={source}", allow_blank=True, errorStyle="warning")
            dv.error = "Not a code of the list; the import also takes the English or Urdu label."
            data.add_data_validation(dv)
            dv.add(f"{letter}2:{letter}{last}")

    # Help: one line per column, then what cannot be imported.
    help_ws.append(_HELP_HEAD[lang])
    for cell in help_ws[1]:
        cell.font = bold
    for line in _help_rows(rt, cl, lang):
        help_ws.append(line)
    help_ws.append(())
    notes = (
        f"Template of {rt.label_en} / {rt.label_ur} records. Row 1 of the sheet Data holds the column names: keep them as they are.",
        "Import: nap-desktop import " + rt.name + " FILE [--skip-invalid]. All rows or none: one bad row and nothing is imported; "
        "the report FILE.errors.csv next to the file lists each row, column and message.",
        "Row numbers in messages are Excel row numbers (the header is row 1).",
        "Codes may also be given by their English or Urdu label. Several codes: separate them with ';'.",
    )
    for note in notes:
        help_ws.append((note,))
    help_ws.freeze_panes = "A2"
    for letter, width in zip("ABCDEF", (34, 34, 34, 10, 24, 100), strict=True):
        help_ws.column_dimensions[letter].width = width
    for line in help_ws.iter_rows(min_row=2, min_col=6, max_col=6):
        for cell in line:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    if lang == "ur":
        help_ws.sheet_view.rightToLeft = True
    wb.save(target)


