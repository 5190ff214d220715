"""Excel (.xlsx) import and export of the household registry.

The registry arrives as a spreadsheet typed by hand in the field, so the import expects a mess:
ID numbers saved as numbers (Excel keeps 15 significant digits, so the last digits and any X are
gone), full-width digits, stray spaces, the same registry number twice. It is all-or-nothing: any
bad row imports nothing, and every bad row is reported with its row number, column and reason.

An import is an upsert keyed on the registry number (户编号): a number already in the registry
updates that household, a new number creates one. Export writes the same layout, so an export
imports back unchanged.
"""

from __future__ import annotations

import copy
import datetime
import io
import re
import uuid
import zipfile

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from core.masking import can_see_personal_data, mask_account, mask_id_number, mask_phone
from core.spreadsheet import CellError, ImportResult, RowProblem

from .models import RISK_FLAGS, SUBCLASSES_OF, Household, LabourClass, PovertyStatus, SubClass, Village
from .validators import id_number_problem, normalise_id_number, normalise_text, phone_problem

# The file layout: (key, header). Headers are the county's own column names; they are the file
# format, not UI text, so they are not translated.
COLUMNS: list[tuple[str, str]] = [
    ("number", "户编号"),
    ("head_name", "户主姓名"),
    ("id_number", "身份证号"),
    ("phone", "手机号"),
    ("members", "家庭人口"),
    ("township", "乡镇"),
    ("village", "村"),
    ("labour_class", "劳动能力类别"),
    ("sub_class", "子类别"),
    ("poverty_status", "贫困状态"),
    ("lifted_year", "脱贫年份"),
    ("flag_illness_disability", "大病残疾户"),
    ("flag_elderly_alone", "独居老人户"),
    ("flag_relocated_commuting", "两头跑搬迁户"),
    ("flag_income_decline", "收入下降户"),
    ("flag_marginal", "边缘户"),
    ("payout_bank", "开户银行"),
    ("payout_account", "收款账号"),
]
HEADER = dict(COLUMNS)
FLAG_FIELDS = list(RISK_FLAGS)
assert all(f in HEADER for f in FLAG_FIELDS)

# Field values as the county writes them in the sheet (the codes are accepted too).
LABOUR_CLASS_WORDS = {
    LabourClass.ABLE: "有劳动能力",
    LabourClass.WEAK: "弱劳动能力",
    LabourClass.NONE: "无劳动能力",
}
SUB_CLASS_WORDS = {
    SubClass.ASSURED: "放心户",
    SubClass.LACKING: "缺项户",
    SubClass.EXITABLE: "可脱户",
    SubClass.BOTTOM: "沉底户",
    SubClass.SUPPORTED: "特困供养户",
    SubClass.SAFETY_NET: "兜底低保户",
}
STATUS_WORDS = {
    PovertyStatus.IN_POVERTY: "未脱贫",
    PovertyStatus.LIFTED: "已脱贫",
    PovertyStatus.MONITORING: "监测户",
}
YES, NO = "是", "否"
_YES_WORDS = {"是", "y", "yes", "1", "true", "√", "✓"}
_NO_WORDS = {"否", "n", "no", "0", "false", "×", "x", ""}


def _lookup(words: dict) -> dict[str, str]:
    table = {}
    for code, word in words.items():
        table[word] = str(code)
        table[str(code)] = str(code)
    return table


_LABOUR_LOOKUP = _lookup(LABOUR_CLASS_WORDS)
_SUB_LOOKUP = _lookup(SUB_CLASS_WORDS)
_STATUS_LOOKUP = _lookup(STATUS_WORDS)

# Fields the import writes (everything of the layout except the names resolved to a village).
IMPORT_FIELDS = [key for key, _h in COLUMNS if key not in ("township", "village")] + ["village"]

_COMPARED = {name: "village_id" if name == "village" else name for name in IMPORT_FIELDS}

FIRST_LIFTED_YEAR = 2013  # targeted poverty alleviation (精准扶贫) began in 2013
MAX_ROWS = 50_000
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?E\+?\d+$", re.IGNORECASE)
_ACCOUNT_RE = re.compile(r"^\d{8,32}$")


# --- cell readers: each returns the clean value or raises CellError(reason) -----------------


def _is_number(raw) -> bool:
    return isinstance(raw, int | float) and not isinstance(raw, bool)


def _shown_number(raw) -> str:
    if isinstance(raw, float) and abs(raw) >= 1e11:
        return f"{raw:.5E}"
    return str(raw)


def _number_lost_digits(column: str, raw) -> CellError:
    return CellError(
        _(
            "%(column)s was saved as a number (%(shown)s): Excel keeps only 15 digits, so the last digits "
            "(and any X) are lost. Format the column as text and type the values again."
        )
        % {"column": column, "shown": _shown_number(raw)}
    )


def _text(raw) -> str:
    if _is_number(raw):
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        return str(raw)
    if isinstance(raw, datetime.datetime | datetime.date):
        return raw.isoformat()
    return normalise_text(raw)


def _registry_number(raw) -> str:
    if _is_number(raw):
        if isinstance(raw, float) and (not raw.is_integer() or abs(raw) >= 1e15):
            raise _number_lost_digits(HEADER["number"], raw)
        return str(int(raw))
    value = normalise_text(raw).replace(" ", "")
    if _SCIENTIFIC.match(value):
        raise _number_lost_digits(HEADER["number"], value)
    if not value:
        raise CellError(_("The registry number is missing."))
    if len(value) > 20:
        raise CellError(_("The registry number is longer than 20 characters."))
    return value


def _id_number(raw) -> str:
    if _is_number(raw):
        # An exact integer read back whole is fine; anything else lost digits on the way.
        if isinstance(raw, int) and id_number_problem(str(raw)) is None:
            return str(raw)
        raise _number_lost_digits(HEADER["id_number"], raw)
    value = normalise_id_number(raw)
    if not value:
        raise CellError(_("The ID number is missing."))
    if _SCIENTIFIC.match(value):
        raise _number_lost_digits(HEADER["id_number"], value)
    if "*" in value:
        raise CellError(_("The ID number is masked (an export made by a role that may not see it); use the full number."))
    problem = id_number_problem(value)
    if problem:
        raise CellError(problem)
    return value


def _phone(raw) -> str:
    if _is_number(raw):
        if isinstance(raw, float) and not raw.is_integer():
            raise CellError(_("The mobile phone is not a phone number."))
        raw = str(int(raw))
    value = normalise_text(raw).replace(" ", "").replace("-", "")
    if not value:
        return ""
    if "*" in value:
        raise CellError(_("The mobile phone is masked; use the full number."))
    problem = phone_problem(value)
    if problem:
        raise CellError(problem)
    return value


def _members(raw) -> int:
    text = _text(raw).replace(" ", "").removesuffix("人")
    if not text:
        raise CellError(_("The number of members is missing."))
    if not text.isdigit() or not 1 <= int(text) <= 30:
        raise CellError(_("The number of members must be a whole number from 1 to 30 (found “%(v)s”).") % {"v": text})
    return int(text)


def _required_text(raw, *, missing: str, max_length: int) -> str:
    value = _text(raw)
    if not value:
        raise CellError(missing)
    if len(value) > max_length:
        raise CellError(_("Longer than %(n)d characters.") % {"n": max_length})
    return value


def _payout_bank(raw) -> str:
    value = _text(raw)
    if len(value) > 50:
        raise CellError(_("Longer than %(n)d characters.") % {"n": 50})
    return value


def _choice(raw, lookup: dict[str, str], words: dict, missing: str) -> str:
    value = _text(raw).replace(" ", "")
    if not value:
        raise CellError(missing)
    code = lookup.get(value) or lookup.get(value.lower())
    if code is None:
        raise CellError(_("“%(v)s” is not one of: %(allowed)s.") % {"v": value, "allowed": "、".join(words.values())})
    return code


def _lifted_year(raw) -> int | None:
    if _is_number(raw) and float(raw).is_integer():
        year = int(raw)
    else:
        text = _text(raw).replace(" ", "").removesuffix("年")
        if not text:
            return None
        if not text.isdigit():
            raise CellError(_("The year lifted must be a year such as 2016 (found “%(v)s”).") % {"v": text})
        year = int(text)
    this_year = timezone.localdate().year
    if not FIRST_LIFTED_YEAR <= year <= this_year:
        raise CellError(
            _("The year lifted must be between %(first)d and %(last)d (found %(v)d).")
            % {"first": FIRST_LIFTED_YEAR, "last": this_year, "v": year}
        )
    return year


def _flag(raw) -> bool:
    value = _text(raw).replace(" ", "").lower()
    if value in _YES_WORDS:
        return True
    if value in _NO_WORDS:
        return False
    raise CellError(_("Write 是 or 否 (found “%(v)s”).") % {"v": value})


def _payout_account(raw) -> str:
    if _is_number(raw):
        if isinstance(raw, float):
            raise _number_lost_digits(HEADER["payout_account"], raw)
        raw = str(raw)
    value = normalise_text(raw).replace(" ", "")
    if not value:
        return ""
    if "*" in value:
        raise CellError(_("The payout account is masked; use the full account number."))
    if not _ACCOUNT_RE.match(value):
        raise CellError(_("The payout account must be 8 to 32 digits."))
    return value


# --- import ----------------------------------------------------------------------------------


def _header_key(value) -> str:
    return normalise_text(value).replace(" ", "")


def _read_rows(file):
    """Yield (row_number, cells) of the first sheet; raise CellError if it is no .xlsx."""
    try:
        workbook = load_workbook(file, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise CellError(_("This file is not an Excel workbook (.xlsx).")) from exc
    try:
        sheet = workbook.worksheets[0]
        yield from enumerate(sheet.iter_rows(values_only=True), start=1)
    finally:
        workbook.close()


def _village_index() -> tuple[set[str], dict[tuple[str, str], Village]]:
    villages = Village.objects.select_related("township")
    index = {(v.township.name, v.name): v for v in villages}
    return {t for t, _v in index}, index


def households_import_xlsx(*, file, author=None) -> ImportResult:
    """Import (create or update) households from an .xlsx file; all rows or none.

    Returns an ImportResult; when ``result.problems`` is not empty nothing was written.
    """
    result = ImportResult()
    problems = result.problems
    rows = _read_rows(file)
    try:
        header_row = next(rows, None)
    except CellError as exc:
        problems.append(RowProblem(0, "", str(exc)))
        return result
    if header_row is None:
        problems.append(RowProblem(1, "", _("The sheet is empty.")))
        return result
    positions: dict[str, int] = {}
    header_lookup = {h: key for key, h in COLUMNS}
    for i, cell in enumerate(header_row[1]):
        key = header_lookup.get(_header_key(cell))
        if key and key not in positions:
            positions[key] = i
    missing = [h for key, h in COLUMNS if key not in positions]
    if missing:
        problems.append(RowProblem(1, "", _("Columns missing from the header row: %(cols)s.") % {"cols": "、".join(missing)}))
        return result

    townships, villages = _village_index()
    first_row_of: dict[str, int] = {}
    parsed: list[Household] = []

    readers = {
        "number": _registry_number,
        "head_name": lambda raw: _required_text(raw, missing=_("The head's name is missing."), max_length=50),
        "id_number": _id_number,
        "phone": _phone,
        "members": _members,
        "labour_class": lambda raw: _choice(raw, _LABOUR_LOOKUP, LABOUR_CLASS_WORDS, _("The labour class is missing.")),
        "sub_class": lambda raw: _choice(raw, _SUB_LOOKUP, SUB_CLASS_WORDS, _("The sub-class is missing.")),
        "poverty_status": lambda raw: _choice(raw, _STATUS_LOOKUP, STATUS_WORDS, _("The poverty status is missing.")),
        "lifted_year": _lifted_year,
        **dict.fromkeys(FLAG_FIELDS, _flag),
        "payout_bank": _payout_bank,
        "payout_account": _payout_account,
    }
    width = max(positions.values()) + 1

    for row_number, cells in rows:
        if not any(c is not None and str(c).strip() for c in cells):
            continue  # blank lines in the middle or at the end of a sheet
        result.rows += 1
        if result.rows > MAX_ROWS:
            problems.append(RowProblem(row_number, "", _("More than %(n)d rows: split the file.") % {"n": MAX_ROWS}))
            break
        if len(cells) < width:
            cells = (*cells, *([None] * (width - len(cells))))
        values: dict = {}
        row_problems: list[RowProblem] = []
        for key, reader in readers.items():
            try:
                values[key] = reader(cells[positions[key]])
            except CellError as exc:
                row_problems.append(RowProblem(row_number, HEADER[key], str(exc)))

        number = values.get("number")
        if number:
            first = first_row_of.setdefault(number, row_number)
            if first != row_number:
                row_problems.append(
                    RowProblem(
                        row_number,
                        HEADER["number"],
                        _("Registry number %(number)s appears twice in the file: rows %(first)d and %(row)d.")
                        % {"number": number, "first": first, "row": row_number},
                    )
                )

        township_name = _text(cells[positions["township"]]).replace(" ", "")
        village_name = _text(cells[positions["village"]]).replace(" ", "")
        village = villages.get((township_name, village_name))
        if village is None:
            if not township_name:
                row_problems.append(RowProblem(row_number, HEADER["township"], _("The township is missing.")))
            elif township_name not in townships:
                row_problems.append(
                    RowProblem(row_number, HEADER["township"], _("Unknown township “%(name)s”.") % {"name": township_name})
                )
            elif not village_name:
                row_problems.append(RowProblem(row_number, HEADER["village"], _("The village is missing.")))
            else:
                row_problems.append(
                    RowProblem(
                        row_number,
                        HEADER["village"],
                        _("Township %(township)s has no village “%(name)s”.") % {"township": township_name, "name": village_name},
                    )
                )

        labour, sub = values.get("labour_class"), values.get("sub_class")
        if labour and sub and sub not in SUBCLASSES_OF[LabourClass(labour)]:
            row_problems.append(
                RowProblem(
                    row_number,
                    HEADER["sub_class"],
                    _("%(sub)s is a sub-class of %(other)s, not of %(cls)s.")
                    % {
                        "sub": SUB_CLASS_WORDS[SubClass(sub)],
                        "other": next(LABOUR_CLASS_WORDS[c] for c, subs in SUBCLASSES_OF.items() if sub in subs),
                        "cls": LABOUR_CLASS_WORDS[LabourClass(labour)],
                    },
                )
            )
        status, year = values.get("poverty_status"), values.get("lifted_year", "?")
        if status == PovertyStatus.LIFTED and year is None:
            row_problems.append(
                RowProblem(row_number, HEADER["lifted_year"], _("A lifted household needs the year it was lifted."))
            )
        elif status == PovertyStatus.IN_POVERTY and year not in (None, "?"):
            row_problems.append(
                RowProblem(row_number, HEADER["lifted_year"], _("A household still in poverty has no lifted year."))
            )

        if row_problems:
            problems.extend(row_problems)
            continue
        # The readers above check every field the model would (lengths, choices, validators), so
        # no per-row full_clean: it would also query once per row for the unique number.
        household = Household(village_id=village.pk, **values)  # the id: setting the relation costs more
        parsed.append(household)

    if result.rows == 0 and not problems:
        problems.append(RowProblem(2, "", _("The sheet has no household rows.")))
    if problems:
        result.created = result.updated = result.unchanged = 0
        return result
    try:
        _write(parsed, result, author)
    except IntegrityError:
        problems.append(RowProblem(0, "", _("The registry changed while importing; nothing was imported. Try again.")))
    return result


@transaction.atomic
def _write(parsed: list[Household], result: ImportResult, author) -> None:
    numbers = [h.number for h in parsed]
    existing: dict[str, Household] = {}
    for start in range(0, len(numbers), _CHUNK):
        chunk = numbers[start : start + _CHUNK]
        existing.update((h.number, h) for h in Household.objects.select_for_update().filter(number__in=chunk))
    to_create: list[Household] = []
    to_update: list[Household] = []
    changed_fields: dict[int, list[str]] = {}
    for household in parsed:
        current = existing.get(household.number)
        if current is None:
            to_create.append(household)
            continue
        changed = [name for name, attname in _COMPARED.items() if getattr(current, attname) != getattr(household, attname)]
        if not changed:
            result.unchanged += 1
            continue
        for name in changed:
            setattr(current, _COMPARED[name], getattr(household, _COMPARED[name]))
        to_update.append(current)
        changed_fields[current.pk] = changed
    now = timezone.now()
    for household in to_create:
        household.created_at = household.updated_at = now
    for household in to_update:
        household.updated_at = now
    _insert_many(Household, to_create)
    _update_many(Household, to_update, [*_COMPARED.values(), "updated_at"])
    created_ids: dict[str, int] = {}
    new_numbers = [h.number for h in to_create]
    for start in range(0, len(new_numbers), _CHUNK):
        chunk = new_numbers[start : start + _CHUNK]
        created_ids.update(Household.objects.filter(number__in=chunk).values_list("number", "pk"))
    for household in to_create:
        household.pk = created_ids[household.number]
    result.created, result.updated = len(to_create), len(to_update)
    _log_import(to_create, to_update, changed_fields, author, now)


_CHUNK = 2000  # ids per IN (...) list: well under SQLite's and PostgreSQL's parameter limits


def _insert_many(model, objects: list) -> None:
    """INSERT the objects, with values prepared by each field's get_db_prep_save as the ORM would.

    Django's bulk_create spends most of its time compiling its statement in Python. SQLite gets
    one prepared statement run for every row (executemany, a loop in C); PostgreSQL gets COPY,
    its bulk-load path (psycopg adapts the rows in C).
    """
    if not objects:
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    table, columns = quote(model._meta.db_table), ", ".join(quote(f.column) for f in fields)
    rows = [[f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields] for obj in objects]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            _copy(cursor, f"{table} ({columns})", rows)
        else:
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})", rows)


def _update_many(model, objects: list, field_names: list[str]) -> None:
    """UPDATE each object's ``field_names`` by primary key (see _insert_many).

    bulk_update builds CASE WHEN chains whose cost grows with the batch squared. On PostgreSQL the
    new values are COPied into a temporary table shaped like the real one, then applied with one
    ``UPDATE ... FROM``.
    """
    if not objects:
        return
    fields = [model._meta.get_field(name) for name in field_names]
    quote = connection.ops.quote_name
    pk = quote(model._meta.pk.column)
    table = quote(model._meta.db_table)
    rows = [[*(f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields), obj.pk] for obj in objects]
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            sets = ", ".join(f"{quote(f.column)} = %s" for f in fields)
            cursor.executemany(f"UPDATE {table} SET {sets} WHERE {pk} = %s", rows)
            return
        staging = quote(f"import_{uuid.uuid4().hex}")
        columns = ", ".join([*(quote(f.column) for f in fields), pk])
        cursor.execute(f"CREATE TEMPORARY TABLE {staging} AS SELECT {columns} FROM {table} WITH NO DATA")
        _copy(cursor, f"{staging} ({columns})", rows)
        sets = ", ".join(f"{quote(f.column)} = s.{quote(f.column)}" for f in fields)
        cursor.execute(f"UPDATE {table} SET {sets} FROM {staging} AS s WHERE {table}.{pk} = s.{pk}")
        cursor.execute(f"DROP TABLE {staging}")


def _copy(cursor, target: str, rows: list[list]) -> None:
    with cursor.cursor.copy(f"COPY {target} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _log_import(created, updated, changed_fields, author, now) -> None:
    """One history entry per household the import created or changed, naming the fields (never
    their values: the log must not hold personal data)."""
    from wagtail.models import ModelLogEntry

    content_type = ContentType.objects.get_for_model(Household)
    user = author if author is not None and author.is_authenticated else None
    template = ModelLogEntry(content_type=content_type, timestamp=now, user=user, uuid=uuid.uuid4(), content_changed=True)
    entries = []
    for households, action in ((created, "households.import_create"), (updated, "households.import_update")):
        for household in households:
            # Copies of one template: building 25,000 model instances from scratch costs seconds.
            entry = copy.copy(template)
            entry.__dict__.update(
                object_id=str(household.pk),
                label=f"{household.number} {household.head_name}",
                action=action,
                data={"fields": changed_fields.get(household.pk, [])},
            )
            entries.append(entry)
    _insert_many(ModelLogEntry, entries)


# --- export ----------------------------------------------------------------------------------


def household_row(household: Household, *, full: bool) -> list:
    """One spreadsheet row; personal data masked unless ``full``."""
    return [
        household.number,
        household.head_name,
        household.id_number if full else mask_id_number(household.id_number),
        household.phone if full else mask_phone(household.phone),
        household.members,
        household.village.township.name,
        household.village.name,
        LABOUR_CLASS_WORDS[LabourClass(household.labour_class)],
        SUB_CLASS_WORDS[SubClass(household.sub_class)],
        STATUS_WORDS[PovertyStatus(household.poverty_status)],
        household.lifted_year,
        *[YES if getattr(household, f) else NO for f in FLAG_FIELDS],
        household.payout_bank,
        household.payout_account if full else mask_account(household.payout_account),
    ]


_TEXT_COLUMNS = {i for i, (key, _h) in enumerate(COLUMNS) if key in ("number", "id_number", "phone", "payout_account")}
_WIDTHS = {
    "number": 18,
    "head_name": 10,
    "id_number": 21,
    "phone": 13,
    "township": 10,
    "village": 10,
    "labour_class": 12,
    "sub_class": 11,
    "poverty_status": 9,
    "payout_bank": 24,
    "payout_account": 22,
}


def households_export_xlsx(*, queryset, user) -> bytes:
    """The households of ``queryset`` in the import layout. ID numbers, phones and accounts are
    written as text (so Excel keeps every digit) and masked for anyone but county office."""
    from openpyxl.utils import get_column_letter

    full = can_see_personal_data(user)
    # A normal workbook rather than write-only: it carries a shared-strings table and the sheet's
    # dimension, as Excel's own files do, which makes reading it back (the import) twice as fast.
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "households"
    for i, (key, _h) in enumerate(COLUMNS, start=1):
        letter = get_column_letter(i)
        sheet.column_dimensions[letter].width = _WIDTHS.get(key, 8)
        if i - 1 in _TEXT_COLUMNS:
            sheet.column_dimensions[letter].number_format = "@"  # new cells typed in Excel stay text
    sheet.append([header for _key, header in COLUMNS])
    for household in queryset.select_related("village__township").order_by("number").iterator(chunk_size=2000):
        sheet.append(household_row(household, full=full))
    for column in _TEXT_COLUMNS:
        for (cell,) in sheet.iter_rows(min_row=2, min_col=column + 1, max_col=column + 1):
            cell.number_format = "@"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
