"""Reading an Excel (.xlsx) import of one employer's employees: cells to checked rows. The writer
(all or nothing) is ``marketplace.services.employees_import``.

Every bad row is reported with its row number, column and reason; identifiers in number cells are
refused (core.spreadsheet), phones are read by the same function as the admin form. Columns (the
header row, any order):

- 工号 (staff number, required; unique within the employer and within the file),
- 姓名 (name, required),
- 手机号 (mobile phone, optional; checked and kept on the employee),
- 用户名 (username, optional; default: the employer's code and the staff number,
  ``<code>-<staff number>`` in lower case).

A staff number already on the employer's books updates that employee (name, active again, and the
username if the file gives another free one); a new staff number creates a user account (no
usable password: the person signs in once the county office sets one or through single sign-on)
in the ``employee`` group, and the employee.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.db.models.functions import Lower
from django.utils.translation import gettext as _
from openpyxl import Workbook

from core.spreadsheet import (
    CellError,
    ImportResult,
    RowProblem,
    UnreadableWorkbook,
    header_positions,
    identifier_cell,
    is_blank_row,
    read_rows,
    text_cell,
)
from households.validators import phone_clean

from .models import Employee, Employer

COLUMNS: list[tuple[str, str]] = [
    ("staff_number", "工号"),
    ("name", "姓名"),
    ("phone", "手机号"),
    ("username", "用户名"),
]
HEADER = dict(COLUMNS)
REQUIRED = ("staff_number", "name")
MAX_ROWS = 20_000
_STAFF_NUMBER_RE = re.compile(r"^[A-Za-z0-9_-]{1,20}$")
_username_validator = UnicodeUsernameValidator()


@dataclass
class EmployeeRow:
    """One checked row of the file."""

    number: int
    staff_number: str
    name: str
    phone: str
    username: str
    username_given: bool
    cells: tuple


def _text(raw) -> str:
    return text_cell(raw)


def _staff_number(raw) -> str:
    value = identifier_cell(raw, column=HEADER["staff_number"])
    if not value:
        raise CellError(_("The staff number is missing."))
    if not _STAFF_NUMBER_RE.match(value):
        raise CellError(_("The staff number may only hold letters, digits, - and _, up to 20 characters (found “%(v)s”).") % {"v": value})
    return value


def _name(raw) -> str:
    value = _text(raw)
    if not value:
        raise CellError(_("The name is missing."))
    if len(value) > 50:
        raise CellError(_("The name is longer than 50 characters."))
    return value


def _phone(raw) -> str:
    """The same reading as the employee admin form and the registry (households.validators)."""
    try:
        return phone_clean(identifier_cell(raw, column=HEADER["phone"]))
    except ValidationError as exc:
        raise CellError(exc.messages[0]) from exc


def _username(raw) -> str:
    value = _text(raw).replace(" ", "")
    if not value:
        return ""
    if len(value) > 150:
        raise CellError(_("The username is longer than 150 characters."))
    try:
        _username_validator(value)
    except ValidationError as exc:
        raise CellError(_("The username may only hold letters, digits and @ . + - _ (found “%(v)s”).") % {"v": value}) from exc
    return value


def default_username(employer: Employer, staff_number: str) -> str:
    return f"{employer.code}-{staff_number}".lower()


PROGRESS_EVERY = 1000  # rows between two progress reports


def employees_read_xlsx(*, employer: Employer, file, progress=None) -> tuple[ImportResult, list[EmployeeRow]]:
    """Read an import file into checked rows (cells, rows against each other, usernames against the
    accounts); when ``result.problems`` is not empty the rows must not be written."""
    result = ImportResult()
    try:
        parsed = _parse(employer=employer, file=file, result=result, progress=progress)
    except UnreadableWorkbook as exc:
        result.problems[:] = [RowProblem(0, "", str(exc))]
        result.refused_cells.clear()
        return result, []
    if not result.problems and not parsed:
        result.problems.append(RowProblem(2, "", _("The file has no employee rows.")))
    if parsed:
        _check_against_accounts(employer=employer, parsed=parsed, result=result)
    return result, parsed


def _parse(*, employer: Employer, file, result: ImportResult, progress) -> list[EmployeeRow]:
    problems = result.problems
    rows = read_rows(file)
    header = next(rows, None)
    if header is None:
        problems.append(RowProblem(1, "", _("The sheet is empty.")))
        return []
    result.header = list(header[1])
    positions = header_positions(header[1], COLUMNS)
    missing = [HEADER[k] for k in REQUIRED if k not in positions]
    if missing:
        problems.append(RowProblem(1, "", _("Columns missing from the header row: %(cols)s.") % {"cols": "、".join(missing)}))
        return []
    readers = {"staff_number": _staff_number, "name": _name, "phone": _phone, "username": _username}
    parsed: list[EmployeeRow] = []
    first_row_of_number: dict[str, int] = {}
    first_row_of_username: dict[str, int] = {}
    for row_number, cells in rows:
        if is_blank_row(cells):
            continue
        result.rows += 1
        if progress is not None and result.rows % PROGRESS_EVERY == 0:
            progress(result.rows)
        if result.rows > MAX_ROWS:
            problems.append(RowProblem(row_number, "", _("More than %(n)d rows: split the file.") % {"n": MAX_ROWS}))
            break
        values: dict[str, str] = {}
        row_problems: list[RowProblem] = []
        for key, reader in readers.items():
            if key not in positions:
                values[key] = ""
                continue
            raw = cells[positions[key]] if positions[key] < len(cells) else None
            try:
                values[key] = reader(raw)
            except CellError as exc:
                row_problems.append(RowProblem(row_number, HEADER[key], str(exc)))
        number = values.get("staff_number")
        if number:
            first = first_row_of_number.setdefault(number, row_number)
            if first != row_number:
                row_problems.append(RowProblem(row_number, HEADER["staff_number"], _(
                    "Staff number %(number)s appears twice in the file: rows %(first)d and %(row)d.")
                    % {"number": number, "first": first, "row": row_number}))
        given = bool(values.get("username"))
        username = values.get("username") or (default_username(employer, number) if number else "")
        # A derived username repeats exactly when the staff number does: report that once.
        if username and not any(p.column in (HEADER["username"], HEADER["staff_number"]) for p in row_problems):
            first = first_row_of_username.setdefault(username.lower(), row_number)
            if first != row_number:
                row_problems.append(RowProblem(row_number, HEADER["username"], _(
                    "Username %(username)s appears twice in the file: rows %(first)d and %(row)d.")
                    % {"username": username, "first": first, "row": row_number}))
        if row_problems:
            result.refuse(row_problems, cells)
            continue
        parsed.append(EmployeeRow(row_number, number, values["name"], values["phone"], username, given, cells))
    if progress is not None:
        progress(result.rows, reading_done=True)
    return parsed


def _check_against_accounts(*, employer: Employer, parsed: list[EmployeeRow], result: ImportResult) -> None:
    """Usernames must be free or already this employee's."""
    User = get_user_model()
    existing = {e.staff_number: e for e in Employee.objects.filter(employer=employer).select_related("user")}
    wanted = {row.username.lower() for row in parsed}
    taken: dict[str, int] = {}
    names = sorted(wanted)
    # Compared case-insensitively: Django's usernames are case-sensitive, people are not.
    for i in range(0, len(names), 500):
        chunk = User.objects.annotate(lower_username=Lower("username")).filter(lower_username__in=names[i:i + 500])
        for pk, username in chunk.values_list("pk", "username"):
            taken[username.lower()] = pk
    for row in parsed:
        employee = existing.get(row.staff_number)
        if employee is not None and not row.username_given:
            continue  # the account stays as it is
        owner = taken.get(row.username.lower())
        if owner is not None and (employee is None or owner != employee.user_id):
            result.refuse([RowProblem(row.number, HEADER["username"], _(
                "Username %(username)s already belongs to another account; give another one in the 用户名 column.")
                % {"username": row.username})], row.cells)


def employees_template_xlsx() -> bytes:
    """An empty sheet with the header row, to fill in."""
    wb = Workbook()
    ws = wb.active
    ws.title = "职工"
    ws.append([header for _key, header in COLUMNS])
    for col in "ABCD":
        ws.column_dimensions[col].width = 16
        ws[f"{col}1"].number_format = "@"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


__all__ = ["COLUMNS", "EmployeeRow", "default_username", "employees_read_xlsx", "employees_template_xlsx"]
