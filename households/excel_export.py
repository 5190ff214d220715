"""The registry as an .xlsx in the import layout (households.excel), so an export imports back
unchanged; personal data masked for anyone but the county office."""

from __future__ import annotations

import io

from openpyxl import Workbook

from core.masking import can_see_personal_data, mask_account, mask_id_number, mask_phone

from .excel import COLUMNS, FLAG_FIELDS, LABOUR_CLASS_WORDS, NO, STATUS_WORDS, SUB_CLASS_WORDS, YES
from .models import Household, LabourClass, PovertyStatus, SubClass


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
    sheet.title = "贫困户"  # the sheet people open; the import reads the first sheet whatever its name
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
