"""A plain A4 document of a title, a few lines of text and one table, in the embedded CJK font
(core/pdf_fonts.py): count sheets, delivery notes and other one-table papers."""

from __future__ import annotations

from collections.abc import Sequence
from io import BytesIO

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import SimpleDocTemplate, Spacer, Table, TableStyle

from .pdf_fonts import cell as _cell
from .pdf_fonts import cjk_font, paragraph


def table_pdf(
    *, title: str, header: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[float], intro: Sequence[str] = (),
    footer: Sequence[str] = (), right_align_from: int | None = None, totals: Sequence[str] | None = None,
) -> bytes:
    """``widths`` in mm, one per column; ``right_align_from``: the first numeric column."""
    font = cjk_font()
    buf = BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=12 * mm, rightMargin=12 * mm, topMargin=12 * mm, bottomMargin=12 * mm,
                            title=title)
    h = ParagraphStyle("h", fontName=font, fontSize=14, leading=18)
    p = ParagraphStyle("p", fontName=font, fontSize=9, leading=13)
    c = ParagraphStyle("cell", fontName=font, fontSize=8, leading=10)
    data = [[_cell(str(x), c) for x in header]] + [[_cell(str(x), c) for x in row] for row in rows]
    if totals is not None:
        data.append([_cell(str(x), c) for x in totals])
    table = Table(data, repeatRows=1, colWidths=[w * mm for w in widths])
    style = [
        ("FONTNAME", (0, 0), (-1, -1), font), ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("GRID", (0, 0), (-1, -1), 0.3, colors.grey), ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
        ("TOPPADDING", (0, 1), (-1, -1), 5), ("BOTTOMPADDING", (0, 1), (-1, -1), 5),
    ]
    if right_align_from is not None:
        style.append(("ALIGN", (right_align_from, 1), (-1, -1), "RIGHT"))
    table.setStyle(TableStyle(style))
    story = [paragraph(title, h), Spacer(1, 3 * mm)]
    for line in intro:
        story.append(paragraph(line, p))
    story += [Spacer(1, 4 * mm), table, Spacer(1, 8 * mm)]
    for line in footer:
        story.append(paragraph(line, p))
    doc.build(story)
    return buf.getvalue()
