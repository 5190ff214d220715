"""Printable payout list (PDF, A4), in the embedded CJK font of core/pdf_fonts.py."""

from __future__ import annotations

from io import BytesIO

from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import SimpleDocTemplate, Spacer, Table, TableStyle

from core.pdf_fonts import cell as _cell
from core.pdf_fonts import cjk_font, paragraph


def payout_list_pdf(*, title: str, rows: list[dict], totals: dict) -> bytes:
    font = cjk_font()
    buf = BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=12 * mm, rightMargin=12 * mm, topMargin=12 * mm, bottomMargin=12 * mm,
                            title=title)
    h = ParagraphStyle("h", fontName=font, fontSize=14, leading=18)
    p = ParagraphStyle("p", fontName=font, fontSize=9, leading=12)
    cell = ParagraphStyle("cell", fontName=font, fontSize=8, leading=10)
    data = [[_cell(str(h), cell) for h in (_("Township"), _("Village"), _("Registry number"), _("Head of household"), _("Account"),
                                          _("Amount"), _("Status"), _("Signature"))]]
    for r in rows:
        data.append([_cell(str(v), cell) for v in (r["township"], r["village"], r["number"], r["head_name"], r["account"],
                                                   f"{r['amount']:,.2f}", r["status_label"])] + [""])
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
    doc.build([paragraph(title, h), Spacer(1, 4 * mm), paragraph(summary, p), Spacer(1, 4 * mm), table])
    return buf.getvalue()
