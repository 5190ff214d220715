"""Excel (.xlsx) import of one employer's employees — the writer of Employee rows (and their user
accounts) from a spreadsheet.

All or nothing, like the household import: any bad row imports nothing, and every bad row is
reported with its row number, column and reason. Columns (the header row, any order):

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
import zipfile
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from core import roles
from core.spreadsheet import CellError, ImportResult, RowProblem
from households.validators import normalise_text, phone_problem

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
class _Row:
    number: int
    staff_number: str
    name: str
    phone: str
    username: str
    username_given: bool


def _text(raw) -> str:
    if isinstance(raw, bool):
        return str(raw)
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    return normalise_text(raw)


def _staff_number(raw) -> str:
    if isinstance(raw, float) and not raw.is_integer():
        raise CellError(_("The staff number must not be a decimal number (found %(v)s).") % {"v": raw})
    value = _text(raw).replace(" ", "")
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
    value = _text(raw).replace(" ", "").replace("-", "")
    if not value:
        return ""
    if "*" in value:
        raise CellError(_("The mobile phone is masked; use the full number."))
    problem = phone_problem(value)
    if problem:
        raise CellError(problem)
    return value


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


def _read_rows(file):
    try:
        workbook = load_workbook(file, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise CellError(_("This file is not an Excel workbook (.xlsx).")) from exc
    try:
        yield from enumerate(workbook.worksheets[0].iter_rows(values_only=True), start=1)
    finally:
        workbook.close()


def _parse(*, employer: Employer, file, result: ImportResult) -> list[_Row]:
    problems = result.problems
    rows = _read_rows(file)
    try:
        header = next(rows, None)
    except CellError as exc:
        problems.append(RowProblem(0, "", str(exc)))
        return []
    if header is None:
        problems.append(RowProblem(1, "", _("The sheet is empty.")))
        return []
    lookup = {h: key for key, h in COLUMNS}
    positions: dict[str, int] = {}
    for i, cell in enumerate(header[1]):
        key = lookup.get(_text(cell).replace(" ", ""))
        if key and key not in positions:
            positions[key] = i
    missing = [HEADER[k] for k in REQUIRED if k not in positions]
    if missing:
        problems.append(RowProblem(1, "", _("Columns missing from the header row: %(cols)s.") % {"cols": "、".join(missing)}))
        return []
    readers = {"staff_number": _staff_number, "name": _name, "phone": _phone, "username": _username}
    parsed: list[_Row] = []
    first_row_of_number: dict[str, int] = {}
    first_row_of_username: dict[str, int] = {}
    for row_number, cells in rows:
        if not any(c is not None and str(c).strip() for c in cells):
            continue
        result.rows += 1
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
            problems.extend(row_problems)
            continue
        parsed.append(_Row(row_number, number, values["name"], values["phone"], username, given))
    return parsed


def _check_against_accounts(*, employer: Employer, parsed: list[_Row], result: ImportResult) -> dict[str, Employee]:
    """Usernames must be free or already this employee's; returns the existing employees by staff number."""
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
            result.problems.append(RowProblem(row.number, HEADER["username"], _(
                "Username %(username)s already belongs to another account; give another one in the 用户名 column.")
                % {"username": row.username}))
    return existing


def employees_import_xlsx(*, employer: Employer, file, author=None) -> ImportResult:
    """Create or update ``employer``'s employees from an .xlsx file; all rows or none.

    Returns an ImportResult; when ``result.problems`` is not empty nothing was written.
    """
    result = ImportResult()
    parsed = _parse(employer=employer, file=file, result=result)
    if result.problems:
        return result
    if not parsed:
        result.problems.append(RowProblem(2, "", _("The file has no employee rows.")))
        return result
    existing = _check_against_accounts(employer=employer, parsed=parsed, result=result)
    if result.problems:
        return result
    User = get_user_model()
    try:
        with transaction.atomic():
            group = Group.objects.filter(name=roles.EMPLOYEE).first()
            if group is None:
                roles.ensure_role_groups()
                group = Group.objects.get(name=roles.EMPLOYEE)
            for row in parsed:
                employee = existing.get(row.staff_number)
                if employee is None:
                    user = User(username=row.username, first_name=row.name[:150])
                    user.set_unusable_password()
                    user.save()
                    user.groups.add(group)
                    Employee.objects.create(
                        user=user, employer=employer, staff_number=row.staff_number, name=row.name, phone=row.phone
                    )
                    result.created += 1
                    continue
                changed = False
                if employee.name != row.name or not employee.active or (row.phone and employee.phone != row.phone):
                    Employee.objects.filter(pk=employee.pk).update(
                        name=row.name, active=True, phone=row.phone or employee.phone
                    )
                    changed = True
                user = employee.user
                if row.username_given and user.username != row.username:
                    User.objects.filter(pk=user.pk).update(username=row.username)
                    changed = True
                if user.first_name != row.name[:150]:
                    User.objects.filter(pk=user.pk).update(first_name=row.name[:150])
                if not user.groups.filter(pk=group.pk).exists():
                    user.groups.add(group)
                    changed = True
                if changed:
                    result.updated += 1
                else:
                    result.unchanged += 1
    except IntegrityError:
        # Someone created one of these accounts while the file was being checked.
        result.created = result.updated = result.unchanged = 0
        result.problems.append(RowProblem(0, "", _("Some accounts changed while the file was imported; nothing was imported. Upload it again.")))
    return result


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


__all__ = ["COLUMNS", "ImportResult", "RowProblem", "default_username", "employees_import_xlsx", "employees_template_xlsx"]
