"""The county's love-points report as an .xlsx workbook (headers in the user's language)."""

from __future__ import annotations

import io

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font


def county_report_workbook(rows: list[dict], *, year: int) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = str(year)
    headers = [_("Township"), _("Village"), _("Month"), _("Points awarded"), _("Points redeemed"), _("Goods given out"), _("Goods on hand")]
    ws.append(headers)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r in rows:
        ws.append([r["township"], r["village"], r["month"], r["awarded"], r["redeemed"], r["goods_out"], r["on_hand"]])
    ws.append([_("Total"), "", "", sum(r["awarded"] for r in rows), sum(r["redeemed"] for r in rows), sum(r["goods_out"] for r in rows), ""])
    for column, width in zip("ABCDEFG", (12, 14, 10, 12, 12, 12, 12), strict=True):
        ws.column_dimensions[column].width = width
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
