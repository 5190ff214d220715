"""What every all-or-nothing spreadsheet import shares: reading an .xlsx (one clear message when it
cannot be read), reading identifier cells exactly, the result (each bad row with its row number,
column and reason, and the counts of what it did), the bad-row report, and the registry of import
kinds the background import runs.

Identifiers (registry numbers, ID numbers, phones, accounts, staff numbers) are text that happens
to hold digits. Excel keeps 15 significant digits in a number cell, so ``6110250010010011``
typed into a number cell is stored as ``6110250010010010``; a number cell may also have lost
leading zeros or an X. No reading of such a cell is exact, so an identifier in a number cell is
refused and never coerced.
"""

from __future__ import annotations

import datetime
import io
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from .digits import UnreadableText, plain_text


@dataclass(frozen=True)
class RowProblem:
    row: int  # the spreadsheet's own row number (the header is row 1; 0: the whole file)
    column: str  # the column header, or "" for the whole row/file
    reason: str


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    # For the bad-row report: the header row as read, and the cells of every refused row.
    header: list = field(default_factory=list)
    refused_cells: dict[int, tuple] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def bad_rows(self) -> list[int]:
        return sorted({p.row for p in self.problems})

    def refuse(self, problems: list[RowProblem], cells: tuple) -> None:
        """Record a row's problems and keep its cells for the report."""
        self.problems.extend(problems)
        for problem in problems:
            self.refused_cells.setdefault(problem.row, cells)

    def nothing_written(self) -> None:
        self.created = self.updated = self.unchanged = 0


class CellError(Exception):
    """A cell reader's refusal; its message is the reason shown for that row and column."""


class UnreadableWorkbook(CellError):
    """The file as a whole cannot be read as an .xlsx workbook."""


# --- reading the file --------------------------------------------------------------------------

# What a damaged, empty or renamed file makes openpyxl (and the zip, zlib and XML parsers under it)
# raise, at opening or halfway through the rows: a broken sheet XML only shows when it is read.
_UNREADABLE = (
    zipfile.BadZipFile,
    zlib.error,
    KeyError,
    OSError,
    EOFError,
    ValueError,
    TypeError,
    IndexError,
    AttributeError,
    SyntaxError,  # xml.etree.ElementTree.ParseError
)


def unreadable_workbook_message() -> str:
    return _(
        "This file cannot be read as an Excel workbook (.xlsx): it is damaged, empty, or another format "
        "(.xls, .csv) renamed. Open it in Excel or WPS and save it again as “Excel Workbook (.xlsx)”."
    )


def read_rows(file) -> Iterator[tuple[int, tuple]]:
    """Yield (row number, cells) of the first sheet; UnreadableWorkbook if the file is no .xlsx or
    breaks while being read."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(file, read_only=True, data_only=True)
    except (InvalidFileException, *_UNREADABLE) as exc:
        raise UnreadableWorkbook(unreadable_workbook_message()) from exc
    try:
        try:
            sheet = workbook.worksheets[0]
            yield from enumerate(sheet.iter_rows(values_only=True), start=1)
        except (InvalidFileException, *_UNREADABLE) as exc:
            raise UnreadableWorkbook(unreadable_workbook_message()) from exc
    finally:
        workbook.close()


def count_rows(file) -> int | None:
    """The data rows the first sheet says it has (its stored dimension; cheap: nothing is parsed),
    or None when the file does not say or cannot be read."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(file, read_only=True, data_only=True)
    except (InvalidFileException, *_UNREADABLE):
        return None
    try:
        max_row = workbook.worksheets[0].max_row if workbook.worksheets else None
    except _UNREADABLE:
        max_row = None
    finally:
        workbook.close()
        if hasattr(file, "seek"):
            file.seek(0)
    return None if max_row is None else max(0, max_row - 1)


def is_blank_row(cells: tuple) -> bool:
    return not any(c is not None and str(c).strip() for c in cells)


def header_positions(header: tuple, columns: list[tuple[str, str]]) -> dict[str, int]:
    """Column key -> position in the row, from the header row (any order; first one wins)."""
    lookup = {h: key for key, h in columns}
    positions: dict[str, int] = {}
    for i, cell in enumerate(header):
        try:
            name = plain_text(cell).replace(" ", "")
        except UnreadableText:
            continue
        key = lookup.get(name)
        if key and key not in positions:
            positions[key] = i
    return positions


# --- reading cells -----------------------------------------------------------------------------

_SCIENTIFIC = re.compile(r"^[-+]?\d+(\.\d+)?E[-+]?\d+$", re.IGNORECASE)


def _is_number(raw) -> bool:
    return isinstance(raw, int | float) and not isinstance(raw, bool)


def _shown(raw) -> str:
    if isinstance(raw, float):
        return f"{raw:.15G}" if abs(raw) < 1e15 else f"{raw:.5E}"
    return str(raw)


def saved_as_number(column: str, shown) -> CellError:
    return CellError(
        _("%(column)s was saved as a number; format this column as text (Excel keeps only 15 digits of a number: it holds %(shown)s).")
        % {"column": column, "shown": _shown(shown)}
    )


def text_cell(raw) -> str:
    """Any cell as text: digits of any script to ASCII (core.digits), trimmed; CellError when it
    holds a character that cannot be read exactly."""
    if raw is None:
        return ""
    if _is_number(raw):
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        return str(raw)
    if isinstance(raw, datetime.datetime | datetime.date | datetime.time):
        return raw.isoformat()
    try:
        return plain_text(raw)
    except UnreadableText as exc:
        raise CellError(str(exc)) from exc


def identifier_cell(raw, *, column: str) -> str:
    """An identifier cell (number, ID, phone, account, staff number) as text, never from a number
    or date cell: their reading is not exact. Spaces inside are dropped."""
    if _is_number(raw):
        raise saved_as_number(column, raw)
    if isinstance(raw, datetime.datetime | datetime.date | datetime.time):
        raise CellError(_("%(column)s was saved as a date; format this column as text and type it again.") % {"column": column})
    value = text_cell(raw).replace(" ", "")
    if _SCIENTIFIC.match(value):
        raise saved_as_number(column, value)
    return value


# --- the bad-row report ------------------------------------------------------------------------

REPORT_ROW = "行号 / row"
REPORT_REASON = "原因 / reason"


def problems_report_xlsx(result: ImportResult) -> bytes:
    """Every refused row with its original cells and a reason column, as an .xlsx the person can
    fix and upload again (the row number is the first column; the header row as in their file)."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("refused")
    header = [("" if h is None else str(h)) for h in result.header]
    width = len(header)
    for i, w in enumerate([10, *([14] * width), 60], start=1):
        sheet.column_dimensions[get_column_letter(i)].width = w
    sheet.append([REPORT_ROW, *header, REPORT_REASON])
    reasons: dict[int, list[str]] = {}
    for problem in result.problems:
        reasons.setdefault(problem.row, []).append(f"{problem.column}：{problem.reason}" if problem.column else problem.reason)
    for row in sorted(reasons):
        cells = list(result.refused_cells.get(row, ()))[:width]
        cells += [None] * (width - len(cells))
        # Every original cell as text: the person sees exactly what the import read.
        shown = [None if c is None else (c if isinstance(c, str) else _shown(c)) for c in cells]
        sheet.append([row or None, *shown, "；".join(reasons[row])])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# --- import kinds, for the background import --------------------------------------------------


@dataclass(frozen=True)
class ImportKind:
    """One kind of spreadsheet import as the background import runs it.

    ``run(file=, params=, author=, progress=)`` imports all or nothing and returns an ImportResult
    (``progress(rows_read, reading_done=False)`` as it reads); ``may_import(user, params)`` says who
    may start or see one; ``back_url(params)`` is the page the import was started from;
    ``title(params)`` names what is imported (the registry, one employer's staff).
    """

    name: str
    run: Callable[..., ImportResult]
    may_import: Callable[..., bool]
    back_url: Callable[[dict], str]
    title: Callable[[dict], str]


IMPORT_KINDS: dict[str, ImportKind] = {}


def register_import_kind(kind: ImportKind) -> None:
    """Apps register their imports (in AppConfig.ready) so core's background runner and views can
    run them without importing the apps."""
    IMPORT_KINDS[kind.name] = kind
