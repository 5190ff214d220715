"""The registry's spreadsheet layout and the reading of an import file: cells to households.

The registry arrives as a spreadsheet typed by hand in the field, so the reading expects a mess:
identifiers saved as numbers (Excel keeps 15 significant digits, so the last digits and any X are
gone: refused, never coerced), digits of other scripts and full-width forms (core.digits), stray
spaces, the same registry or ID number twice. Every bad row is reported with its row number,
column and reason; the writing (all or nothing) is ``households.services_import``, the export
``households.excel_export``.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

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

from .models import RISK_FLAGS, SUBCLASSES_OF, Household, LabourClass, PovertyStatus, SubClass, Village
from .validators import id_number_clean, phone_clean

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


# --- cell readers: each returns the clean value or raises CellError(reason) -----------------


def _is_number(raw) -> bool:
    return isinstance(raw, int | float) and not isinstance(raw, bool)


def _text(raw) -> str:
    return text_cell(raw)


def _validated(clean, value: str) -> str:
    """The one validator the admin form uses too, its refusal as this cell's reason."""
    try:
        return clean(value)
    except ValidationError as exc:
        raise CellError(exc.messages[0]) from exc


def _registry_number(raw) -> str:
    value = identifier_cell(raw, column=HEADER["number"])
    if not value:
        raise CellError(_("The registry number is missing."))
    if len(value) > 20:
        raise CellError(_("The registry number is longer than 20 characters."))
    return value


def _id_number(raw) -> str:
    value = identifier_cell(raw, column=HEADER["id_number"])
    if not value:
        raise CellError(_("The ID number is missing."))
    return _validated(id_number_clean, value)


def _phone(raw) -> str:
    return _validated(phone_clean, identifier_cell(raw, column=HEADER["phone"]))


def _members(raw) -> int:
    text = _text(raw).replace(" ", "").removesuffix("人")
    if not text:
        raise CellError(_("The number of members is missing."))
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 30:
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
    if _is_number(raw) and float(raw).is_integer() and abs(raw) < 10_000:
        year = int(raw)
    else:
        text = _text(raw).replace(" ", "").removesuffix("年")
        if not text:
            return None
        if not (text.isascii() and text.isdigit()) or len(text) != 4:
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
    value = identifier_cell(raw, column=HEADER["payout_account"])
    if not value:
        return ""
    if "*" in value:
        raise CellError(_("The payout account is masked; use the full account number."))
    if not (value.isascii() and value.isdigit() and 8 <= len(value) <= 32):
        raise CellError(_("The payout account must be 8 to 32 digits."))
    return value


_READERS = {
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


# --- reading a file --------------------------------------------------------------------------

PROGRESS_EVERY = 1000  # rows between two progress reports


def _village_index() -> tuple[set[str], dict[tuple[str, str], Village]]:
    villages = Village.objects.select_related("township")
    index = {(v.township.name, v.name): v for v in villages}
    return {t for t, _v in index}, index


def _place_problems(row_number: int, township_name: str, village_name: str, townships: set[str]) -> list[RowProblem]:
    if not township_name:
        return [RowProblem(row_number, HEADER["township"], _("The township is missing."))]
    if township_name not in townships:
        return [RowProblem(row_number, HEADER["township"], _("Unknown township “%(name)s”.") % {"name": township_name})]
    if not village_name:
        return [RowProblem(row_number, HEADER["village"], _("The village is missing."))]
    return [
        RowProblem(
            row_number,
            HEADER["village"],
            _("Township %(township)s has no village “%(name)s”.") % {"township": township_name, "name": village_name},
        )
    ]


def _consistency_problems(row_number: int, values: dict) -> list[RowProblem]:
    problems = []
    labour, sub = values.get("labour_class"), values.get("sub_class")
    if labour and sub and sub not in SUBCLASSES_OF[LabourClass(labour)]:
        problems.append(
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
        problems.append(RowProblem(row_number, HEADER["lifted_year"], _("A lifted household needs the year it was lifted.")))
    elif status == PovertyStatus.IN_POVERTY and year not in (None, "?"):
        problems.append(RowProblem(row_number, HEADER["lifted_year"], _("A household still in poverty has no lifted year.")))
    return problems


def _twice_problem(row_number: int, column: str, message: str, value: str, first: int) -> RowProblem:
    return RowProblem(row_number, HEADER[column], message % {"value": value, "first": first, "row": row_number})


def households_read_xlsx(*, file, progress=None) -> tuple[ImportResult, list[Household]]:
    """Read an import file into unsaved households (the upsert's new state), checking every cell,
    each row against the others, and the ID numbers against the registry.

    Returns the result (problems, the header and the refused rows' cells) and the households; when
    ``result.problems`` is not empty the households must not be written. ``progress(rows_read)`` is
    called every PROGRESS_EVERY rows.
    """
    result = ImportResult()
    try:
        parsed = _read(file, result, progress)
    except UnreadableWorkbook as exc:
        # Whatever was read before the file broke off says nothing: one message for the file.
        result.problems[:] = [RowProblem(0, "", str(exc))]
        result.refused_cells.clear()
        return result, []
    if parsed:
        _check_id_numbers_against_registry(parsed, result)
    return result, parsed


def _read(file, result: ImportResult, progress) -> list[Household]:
    problems = result.problems
    rows = read_rows(file)
    header_row = next(rows, None)
    if header_row is None:
        problems.append(RowProblem(1, "", _("The sheet is empty.")))
        return []
    result.header = list(header_row[1])
    positions = header_positions(header_row[1], COLUMNS)
    missing = [h for key, h in COLUMNS if key not in positions]
    if missing:
        problems.append(RowProblem(1, "", _("Columns missing from the header row: %(cols)s.") % {"cols": "、".join(missing)}))
        return []

    townships, villages = _village_index()
    first_row_of_number: dict[str, int] = {}
    first_row_of_id: dict[str, int] = {}
    parsed: list[Household] = []
    width = max(positions.values()) + 1

    for row_number, cells in rows:
        if is_blank_row(cells):
            continue  # blank lines in the middle or at the end of a sheet
        result.rows += 1
        if progress is not None and result.rows % PROGRESS_EVERY == 0:
            progress(result.rows)
        if result.rows > MAX_ROWS:
            problems.append(RowProblem(row_number, "", _("More than %(n)d rows: split the file.") % {"n": MAX_ROWS}))
            break
        if len(cells) < width:
            cells = (*cells, *([None] * (width - len(cells))))
        values: dict = {}
        row_problems: list[RowProblem] = []
        for key, reader in _READERS.items():
            try:
                values[key] = reader(cells[positions[key]])
            except CellError as exc:
                row_problems.append(RowProblem(row_number, HEADER[key], str(exc)))

        number = values.get("number")
        if number:
            first = first_row_of_number.setdefault(number, row_number)
            if first != row_number:
                row_problems.append(_twice_problem(
                    row_number, "number", _("Registry number %(value)s appears twice in the file: rows %(first)d and %(row)d."),
                    number, first))  # fmt: skip
        id_number = values.get("id_number")
        if id_number:
            first = first_row_of_id.setdefault(id_number, row_number)
            if first != row_number:
                row_problems.append(_twice_problem(
                    row_number, "id_number",
                    _("ID number %(value)s appears twice in the file: rows %(first)d and %(row)d; one ID number cannot be on two households."),
                    id_number, first))  # fmt: skip

        try:
            township_name = _text(cells[positions["township"]]).replace(" ", "")
            village_name = _text(cells[positions["village"]]).replace(" ", "")
        except CellError as exc:
            row_problems.append(RowProblem(row_number, HEADER["village"], str(exc)))
            township_name = village_name = ""
        village = villages.get((township_name, village_name))
        if village is None and not any(p.column in (HEADER["village"],) for p in row_problems):
            row_problems.extend(_place_problems(row_number, township_name, village_name, townships))
        row_problems.extend(_consistency_problems(row_number, values))

        if row_problems:
            result.refuse(row_problems, cells)
            continue
        # The readers above check every field the model would (lengths, choices, validators), so
        # no per-row full_clean: it would also query once per row for the unique number.
        household = Household(village_id=village.pk, **values)  # the id: setting the relation costs more
        household._import_row = row_number
        household._import_cells = cells
        parsed.append(household)

    if progress is not None:
        progress(result.rows, reading_done=True)
    if result.rows == 0 and not problems:
        problems.append(RowProblem(2, "", _("The sheet has no household rows.")))
    return parsed


def _check_id_numbers_against_registry(parsed: list[Household], result: ImportResult) -> None:
    """An ID number of the file held by a household the file does not rewrite is refused: after
    the import two households would share it."""
    from .selectors import household_numbers_by_id_number
    from .validators import id_number_taken_message

    in_file = {h.number for h in parsed}
    holders = household_numbers_by_id_number(h.id_number for h in parsed)
    for household in parsed:
        others = [number for _pk, number in holders.get(household.id_number, ()) if number != household.number and number not in in_file]
        if others:
            result.refuse(
                [RowProblem(household._import_row, HEADER["id_number"], id_number_taken_message(household.id_number, others[0]))],
                household._import_cells,
            )
