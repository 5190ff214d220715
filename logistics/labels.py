"""A PDF sheet of QR labels for a packed batch (A4, 2 × 5 labels a page).

Each label: product, grade, net weight in kg and jin, batch code, packing date, station, and a
QR code of the batch's public trace page. Text is in the embedded CJK font (core/pdf_fonts.py).
"""

from __future__ import annotations

import io

import segno
from django.utils import timezone
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from core.money import kg_to_jin
from core.pdf_fonts import cjk_font, draw_string

from .models import PackedBatch

COLS, ROWS = 2, 5
MARGIN = 10 * mm
MAX_LABELS = 1000


def _plain(d) -> str:
    s = f"{d:f}"
    return s.rstrip("0").rstrip(".") if "." in s else s


def batch_labels_pdf(*, batch: PackedBatch, trace_url: str, count: int | None = None) -> bytes:
    cjk_font()
    count = max(1, min(count or batch.units, MAX_LABELS))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setTitle(f"{batch.code} labels")
    c.setSubject(trace_url)
    page_w, page_h = A4
    cell_w = (page_w - 2 * MARGIN) / COLS
    cell_h = (page_h - 2 * MARGIN) / ROWS

    qr = segno.make(trace_url, error="m")
    size = qr.symbol_size(scale=1, border=0)[0]
    qr_side = min(cell_h - 8 * mm, 38 * mm)
    module = qr_side / size
    c.beginForm("qr")
    for y, row in enumerate(qr.matrix):
        for x, dark in enumerate(row):
            if dark:
                c.rect(x * module, qr_side - (y + 1) * module, module, module, stroke=0, fill=1)
    c.endForm()

    grade = batch.sku.grade.name if batch.sku.grade_id else ""
    lines = [
        (11, batch.sku.name),
        (9, f"{batch.sku.produce.name} {grade}".strip()),
        (9, f"净含量 Net {_plain(batch.unit_weight_kg)} kg ({_plain(kg_to_jin(batch.unit_weight_kg))} 斤)"),
        (9, f"批次 Batch {batch.code}"),
        (8, f"包装日期 Packed {timezone.localtime(batch.packed_at):%Y-%m-%d}"),
        (8, f"保质期至 Best before {batch.best_before:%Y-%m-%d}"),
        (8, f"{batch.station.name}"),
        (7, "扫码溯源 Scan to trace"),
    ]
    for n in range(count):
        slot = n % (COLS * ROWS)
        if n and slot == 0:
            c.showPage()
        col, row = slot % COLS, slot // COLS
        x0 = MARGIN + col * cell_w
        y0 = page_h - MARGIN - (row + 1) * cell_h
        c.setLineWidth(0.3)
        c.setDash(2, 2)
        c.rect(x0, y0, cell_w, cell_h, stroke=1, fill=0)
        c.setDash()
        c.saveState()
        c.translate(x0 + 3 * mm, y0 + (cell_h - qr_side) / 2)
        c.doForm("qr")
        c.restoreState()
        tx = x0 + 6 * mm + qr_side
        ty = y0 + cell_h - 8 * mm
        for fs, text in lines:
            draw_string(c, tx, ty, text[:40], fs)
            ty -= fs + 3.2
    c.showPage()
    c.save()
    return buf.getvalue()
