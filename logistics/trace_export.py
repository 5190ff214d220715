"""A trace as a sortable spreadsheet (.xlsx): one row per event with FSMA-204's key data
elements, an autofilter on every sheet, the header frozen."""

from __future__ import annotations

import io
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from .selectors.trace import Trace

EVENT_COLUMNS = [
    ("event", "Event (CTE) 事件"),
    ("traceability_lot_code", "Traceability lot code 追溯批次码"),
    ("product", "Product description 产品"),
    ("quantity", "Quantity 数量"),
    ("unit", "Unit of measure 单位"),
    ("location", "Location description 地点"),
    ("date", "Date 日期"),
    ("reference_document_type", "Reference document type 单据类型"),
    ("reference_document_number", "Reference document number 单据号"),
    ("source", "Source / ship-from 来源"),
    ("destination", "Destination / ship-to 去向"),
    ("note", "Notes 备注"),
]
LOT_COLUMNS = [
    ("lot_code", "Lot code 批次码"), ("product", "Product 产品"), ("weight_kg", "Weight (kg)"), ("used_kg", "Used in batch (kg)"),
    ("household", "Household registry number 户编号"), ("village", "Village 村"), ("township", "Township 镇"),
    ("collection_point", "Collection point 收购点"), ("intake_at", "Intake date 收购日期"), ("voided", "Voided 作废"),
]


def _number(value):
    if value is None or value == "":
        return value
    try:
        d = Decimal(str(value))
    except Exception:
        return value
    return int(d) if d == d.to_integral_value() else float(d)


def _sheet(ws, columns: list[tuple[str, str]], rows: list[dict], numeric: set[str]) -> None:
    ws.append([label for _key, label in columns])
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
        ws.column_dimensions[get_column_letter(i)].width = max(14, min(40, len(label) + 4))


def trace_xlsx(trace: Trace) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "Events FSMA-204"
    _sheet(ws, EVENT_COLUMNS, trace.events, {"quantity"})
    _sheet(wb.create_sheet("Lots"), LOT_COLUMNS, trace.lots, {"weight_kg", "used_kg"})
    if trace.extra:
        keys: list[str] = []
        for row in trace.extra:
            keys += [k for k in row if k not in keys]
        _sheet(wb.create_sheet("Forward"), [(k, k) for k in keys], trace.extra, set())
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
