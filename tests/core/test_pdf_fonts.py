"""PDFs embed a CJK font that covers every character they print."""

from __future__ import annotations

from decimal import Decimal

from core.pdf_fonts import FALLBACK, uncovered
from marketplace.settlement.pdf import payout_list_pdf

ROW = {"township": "永乐街道", "village": "水峡村", "number": "611025001001", "head_name": "王镕", "account": "6217****1234",
       "amount": Decimal("700.00"), "status_label": "未发放"}
TOTALS = {"owed": Decimal("700.00"), "paid": Decimal("0.00"), "unpaid": Decimal("700.00"), "n_unpaid": 1}


def test_the_embedded_font_covers_the_middle_dot_money_and_every_gb2312_hanzi():
    assert uncovered("应发 ¥700.00 · 已发 ¥0.00（1 户）×—") == set()
    gb2312 = set()
    for hi in range(0xB0, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                gb2312.add(bytes((hi, lo)).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    assert len(gb2312) == 6763 and uncovered("".join(gb2312)) == set()


def test_the_payout_pdf_embeds_the_font_and_prints_a_rare_name_character_in_the_fallback():
    assert uncovered("王镕") == {"镕"}  # outside GB 2312
    pdf = payout_list_pdf(title="永乐街道 · 分红发放表", rows=[ROW], totals=TOTALS)
    assert b"/FontFile2" in pdf  # a TrueType font program is embedded
    assert b"+NotoSansCJKsc-Regular" in pdf  # subset-embedded (reportlab prefixes a subset tag)
    assert FALLBACK.encode() in pdf  # the one character the subset lacks


def test_the_payout_pdf_of_ordinary_names_needs_no_fallback():
    pdf = payout_list_pdf(title="永乐街道 · 分红发放表", rows=[dict(ROW, head_name="王芳")], totals=TOTALS)
    assert b"/FontFile2" in pdf and FALLBACK.encode() not in pdf
