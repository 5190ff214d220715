"""The CJK font every PDF of the project embeds, and how text is printed with it.

``core/fonts/NotoSansSC-Subset.ttf`` is a subset of Noto Sans CJK SC (ASCII, Latin-1 and general
punctuation, CJK symbols, full-width forms and the 6,763 hanzi of GB 2312; built by
core/fonts/build_subset.py). Embedded, it shows the same glyphs in every reader — reportlab's
built-in CID font STSong-Light is not embedded and some readers drew "·" as an empty box. A
character the subset lacks (a rare one in a name) is printed in STSong-Light instead, so nothing
is ever a box: ``uncovered`` finds such characters, ``cell``/``draw_string`` switch font for them.
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph

FONT = "NotoSansSC-Subset"
FONT_FILE = Path(__file__).with_name("fonts") / "NotoSansSC-Subset.ttf"
FALLBACK = "STSong-Light"


def cjk_font() -> str:
    """Register the embedded font (and the fallback) once; return the font's name."""
    registered = pdfmetrics.getRegisteredFontNames()
    if FONT not in registered:
        pdfmetrics.registerFont(TTFont(FONT, str(FONT_FILE)))
    if FALLBACK not in registered:
        pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK))
    return FONT


def covered(ch: str) -> bool:
    cjk_font()
    return ch.isspace() or ord(ch) in pdfmetrics.getFont(FONT).face.charToGlyph


def uncovered(text: str) -> set[str]:
    """The characters of ``text`` the embedded font has no glyph for."""
    return {ch for ch in text if not covered(ch)}


def cell(text: str, style):
    """Table cell content: the text itself when the embedded font covers it, else a paragraph
    that prints the missing characters in the fallback font."""
    missing = uncovered(text)
    if not missing:
        return text
    return Paragraph("".join(f'<font name="{FALLBACK}">{escape(ch)}</font>' if ch in missing else escape(ch) for ch in text), style)


def paragraph(text: str, style) -> Paragraph:
    content = cell(text, style)
    return content if isinstance(content, Paragraph) else Paragraph(escape(text), style)


def draw_string(canvas, x: float, y: float, text: str, size: float) -> None:
    """``canvas.drawString`` in the embedded font, switching to the fallback for missing characters."""
    font = cjk_font()
    runs: list[tuple[str, str]] = []
    for ch in text:
        name = font if covered(ch) else FALLBACK
        if runs and runs[-1][0] == name:
            runs[-1] = (name, runs[-1][1] + ch)
        else:
            runs.append((name, ch))
    for name, run in runs:
        canvas.setFont(name, size)
        canvas.drawString(x, y, run)
        x += pdfmetrics.stringWidth(run, name, size)
