"""A trace as a sortable spreadsheet (.xlsx): one row per event with FSMA-204's key data
elements, an autofilter on every sheet, the header frozen."""

from __future__ import annotations

import io
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from .selectors.trace import Trace

# FSMA-204's key data elements, headed in the reader's language (events and units by their labels).
EVENT_COLUMNS = [
    ("event_label", gettext_lazy("Event (CTE)")),
    ("traceability_lot_code", gettext_lazy("Traceability lot code")),
    ("product", gettext_lazy("Product description")),
    ("quantity", gettext_lazy("Quantity")),
    ("unit_label", gettext_lazy("Unit of measure")),
    ("location", gettext_lazy("Location description")),
    ("date", gettext_lazy("Date")),
    ("reference_document_type", gettext_lazy("Reference document type")),
    ("reference_document_number", gettext_lazy("Reference document number")),
    ("source", gettext_lazy("Source / ship-from")),
    ("destination", gettext_lazy("Destination / ship-to")),
    ("note", gettext_lazy("Notes")),
]
LOT_COLUMNS = [
    ("lot_code", gettext_lazy("Lot code")), ("product", gettext_lazy("Product")), ("weight_kg", gettext_lazy("Weight (kg)")),
    ("used_kg", gettext_lazy("Used in batch (kg)")), ("household", gettext_lazy("Household registry number")),
    ("village", gettext_lazy("Village")), ("township", gettext_lazy("Township")),
    ("collection_point", gettext_lazy("Collection point")), ("intake_at", gettext_lazy("Intake date")), ("voided", gettext_lazy("Voided")),
]
# Rows other apps add to the forward trace (marketplace: the sales of a batch).
FORWARD_LABELS = {
    "type_label": gettext_lazy("Type"), "batch_code": gettext_lazy("Batch code"), "order_number": gettext_lazy("Order number"),
    "date": gettext_lazy("Date"), "status_label": gettext_lazy("Status"), "product": gettext_lazy("Product"),
    "units": gettext_lazy("Units"), "employer": gettext_lazy("Employer"),
}
_FORWARD_CODES = {"type", "status"}  # shown by their labels instead


def _number(value):
    if value is None or value == "":
        return value
    try:
        d = Decimal(str(value))
    except Exception:
        return value
    return int(d) if d == d.to_integral_value() else float(d)


def _sheet(ws, columns: list[tuple[str, str]], rows: list[dict], numeric: set[str]) -> None:
    ws.append([str(label) for _key, label in columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        values = []
        for key, _label in columns:
            v = row.get(key)
            if isinstance(v, dict):
                v = f"{v.get('name', '')} ({v.get('code', '')})"
            elif isinstance(v, (list, tuple)):
                v = ", ".join(str(x) for x in v)
            values.append(_number(v) if key in numeric else v)
        ws.append(values)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(ws.max_row, 1)}"
    for i, (_key, label) in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = max(14, min(40, 2 * len(str(label)) + 4))


def trace_xlsx(trace: Trace) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = str(gettext_lazy("Events (FSMA-204)"))
    _sheet(ws, EVENT_COLUMNS, trace.events, {"quantity"})
    lots = [dict(row, voided=_("yes") if row.get("voided") else "") for row in trace.lots]
    _sheet(wb.create_sheet(str(gettext_lazy("Lots"))), LOT_COLUMNS, lots, {"weight_kg", "used_kg"})
    if trace.extra:
        keys: list[str] = []
        for row in trace.extra:
            keys += [k for k in row if k not in keys and k not in _FORWARD_CODES]
        columns = [(k, FORWARD_LABELS.get(k, k)) for k in keys]
        _sheet(wb.create_sheet(str(gettext_lazy("Sales"))), columns, trace.extra, {"units"})
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
