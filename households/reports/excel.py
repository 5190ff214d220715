"""Excel export of the reports: one sheet per table."""

from __future__ import annotations

from io import BytesIO

from django.http import HttpResponse
from openpyxl import Workbook


def workbook_response(filename: str, sheets: list[tuple[str, list[str], list[list]]]) -> HttpResponse:
    wb = Workbook()
    wb.remove(wb.active)
    for title, headers, rows in sheets:
        ws = wb.create_sheet(title=str(title)[:31])
        ws.append([str(h) for h in headers])
        for row in rows:
            ws.append([v if isinstance(v, int | float | str) or v is None else (float(v) if hasattr(v, "as_tuple") else str(v))
                       for v in row])
        for col, header in zip(ws.columns, headers, strict=False):
            ws.column_dimensions[col[0].column_letter].width = max(10, min(40, len(str(header)) * 2 + 4))
    buf = BytesIO()
    wb.save(buf)
    response = HttpResponse(
        buf.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
