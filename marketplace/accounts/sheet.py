"""The activation-code sheet (.xlsx) an employer hands out: one row per not-yet-activated employee."""

from __future__ import annotations

import io

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from .services import ACTIVATION_VALID, CodeRow


def activation_codes_xlsx(rows: list[CodeRow]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = _("Activation codes")[:31]
    until = timezone.localdate() + ACTIVATION_VALID
    ws.append([_("Employer"), _("Staff number"), _("Name"), _("Mobile phone"), _("Activation code"), _("Valid until")])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([
            row.employer, row.staff_number, row.name, row.phone,
            row.code or _("no mobile phone on file: add it to the employee list first"),
            until.isoformat() if row.code else "",
        ])
    for col, width in zip("ABCDEF", (22, 10, 12, 14, 16, 12), strict=True):
        ws.column_dimensions[col].width = width
        for cell in ws[col]:
            cell.number_format = "@"
    ws.append([])
    ws.append([_("Sign in at /accounts/activate/ with your mobile phone and this code, then choose your password. Each code works once.")])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
