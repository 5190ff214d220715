"""Build NotoSansSC-Subset.ttf, the font the payout PDF embeds (run by hand, not at run time).

reportlab embeds only TrueType outlines, and Debian's Noto Sans CJK (fonts-noto-cjk) is CFF, so
this subsets the Simplified Chinese face to what a county's payout list prints — ASCII, Latin-1
and general punctuation (· ¥ × – …), CJK symbols and full-width forms, and every hanzi of GB 2312
(6,763: the national standard's set, which names in the registry are written in) — and converts
the outlines to TrueType. A character outside the subset is found by ``core.pdf_fonts.uncovered`` and
printed in the fallback font; it is never a blank box.

    python -m venv /tmp/ft && /tmp/ft/bin/pip install fonttools
    /tmp/ft/bin/python core/fonts/build_subset.py /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc

The SIL Open Font License of Noto travels with it (OFL.txt beside this file).
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTCollection, newTable

OUT = Path(__file__).with_name("NotoSansSC-Subset.ttf")


def wanted_codepoints() -> set[int]:
    points = set(range(0x20, 0x7F)) | set(range(0xA0, 0x100)) | set(range(0x2000, 0x2070)) | set(range(0x2190, 0x2200))
    points |= set(range(0x3000, 0x3040)) | set(range(0xFF00, 0xFFF0)) | {0x2116, 0x2103, 0x25A1, 0x25CB, 0x25CF, 0x2605, 0x2606}
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                points.add(ord(bytes((hi, lo)).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    return points


def simplified_face(path: str):
    for font in TTCollection(path).fonts:
        names = {r.toUnicode() for r in font["name"].names if r.nameID == 1}
        if any(n.endswith(" SC") for n in names):
            return font
    raise SystemExit("no SC face in " + path)


def to_truetype(font) -> None:
    glyph_order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyphs = {}
    for name in glyph_order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
        glyphs[name] = pen.glyph()
    font["loca"] = newTable("loca")
    font["glyf"] = glyf = newTable("glyf")
    glyf.glyphOrder = glyph_order
    glyf.glyphs = glyphs
    for tag in ("CFF ", "VORG"):
        if tag in font:
            del font[tag]
    glyf.compile(font)
    hmtx = font["hmtx"]
    for name, glyph in glyf.glyphs.items():
        width = hmtx.metrics[name][0]
        hmtx.metrics[name] = (width, getattr(glyph, "xMin", 0))
    maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for attr in ("maxZones", "maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                 "maxStackElements", "maxSizeOfInstructions", "maxComponentElements"):
        setattr(maxp, attr, 1 if attr == "maxZones" else 0)
    font["maxp"] = maxp
    post = font["post"]
    post.formatType = 3.0
    font.sfntVersion = "\000\001\000\000"
    font["head"].indexToLocFormat = 1
    font["head"].glyphDataFormat = 0


def main(path: str) -> None:
    font = simplified_face(path)
    options = subset.Options()
    options.layout_features = []
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.desubroutinize = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=wanted_codepoints())
    subsetter.subset(font)
    to_truetype(font)
    font.save(OUT)
    print(f"{OUT}: {OUT.stat().st_size / 1e6:.1f} MB, {len(font.getGlyphOrder())} glyphs")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
