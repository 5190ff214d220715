"""Printable payout list (PDF, A4) with Chinese text in the built-in CID font STSong-Light."""

from __future__ import annotations

from io import BytesIO

from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

FONT = "STSong-Light"


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def payout_list_pdf(*, title: str, rows: list[dict], totals: dict) -> bytes:
    font = _font()
    buf = BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=12 * mm, rightMargin=12 * mm, topMargin=12 * mm, bottomMargin=12 * mm,
                            title=title)
    h = ParagraphStyle("h", fontName=font, fontSize=14, leading=18)
    p = ParagraphStyle("p", fontName=font, fontSize=9, leading=12)
    data = [[_("Township"), _("Village"), _("Registry number"), _("Head of household"), _("Account"), _("Amount"),
             _("Status"), _("Signature")]]
    for r in rows:
        data.append([r["township"], r["village"], r["number"], r["head_name"], r["account"], f"{r['amount']:,.2f}",
                     r["status_label"], ""])
    table = Table(data, repeatRows=1, colWidths=[22 * mm, 22 * mm, 26 * mm, 22 * mm, 38 * mm, 20 * mm, 14 * mm, 22 * mm])
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), font), ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("GRID", (0, 0), (-1, -1), 0.3, colors.grey), ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
        ("ALIGN", (5, 1), (5, -1), "RIGHT"),
    ]))
    summary = _("Owed %(owed)s · paid %(paid)s · unpaid %(unpaid)s (%(n)s households)") % {
        "owed": f"{totals['owed']:,.2f}", "paid": f"{totals['paid']:,.2f}", "unpaid": f"{totals['unpaid']:,.2f}",
        "n": totals["n_unpaid"],
    }
    doc.build([Paragraph(title, h), Spacer(1, 4 * mm), Paragraph(summary, p), Spacer(1, 4 * mm), table])
    return buf.getvalue()
