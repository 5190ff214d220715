"""The one digit rule (core.digits): decimal digits of any script and full-width forms are read
exactly; numbers that are no decimal digit (circled, superscript, fractions, Roman) and control
characters are refused with a reason; search boxes read leniently."""

import unicodedata

import pytest
from django.utils import translation

from core.digits import UnreadableText, plain_text

# Every Unicode decimal-digit block (category Nd) writes 0-9 as ten consecutive code points.
ZEROS_OF_EVERY_SCRIPT = [chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Nd" and unicodedata.decimal(chr(c)) == 0]


def _in_script(zero: str, digits: str) -> str:
    return "".join(chr(ord(zero) + int(d)) for d in digits)


@pytest.mark.parametrize("zero", ZEROS_OF_EVERY_SCRIPT, ids=lambda z: unicodedata.name(z, hex(ord(z))))
def test_decimal_digits_of_every_script_read_as_ascii(zero):
    assert plain_text(_in_script(zero, "6110250010010011")) == "6110250010010011"


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("１３８ １２３４ ５６７８", "138 1234 5678"),  # full-width digits
        ("１１０１０５１９４９１２３１００２ｘ", "11010519491231002x"),  # upper-casing the x is the ID reader's job
        ("\u3000T0001\u3000", "T0001"),  # ideographic spaces trimmed
        ("（镇安）", "(镇安)"),  # full-width punctuation folded
        ("张三", "张三"),  # Chinese numerals are letters of names: kept
        ("三〇村", "三〇村"),
    ],
)
def test_full_width_forms_are_folded_and_chinese_kept(typed, read):
    assert plain_text(typed) == read


@pytest.mark.parametrize(
    "typed",
    ["③", "⑫", "⓪", "❸", "2⁰¹⁶", "H²", "₂", "½", "Ⅲ", "ⅻ", "㈢", "🄂"],
)
def test_numbers_that_are_no_decimal_digit_are_refused_naming_the_character(typed):
    with translation.override("zh-hans"), pytest.raises(UnreadableText) as info:
        plain_text(f"6110{typed}")
    odd = next(c for c in typed if unicodedata.category(c) in ("No", "Nl"))
    assert odd in str(info.value) and "0–9" in str(info.value)


@pytest.mark.parametrize("typed", ["12\x0034", "\x07123", "12\x85"])
def test_control_characters_are_refused(typed):
    with pytest.raises(UnreadableText):
        plain_text(typed)


@pytest.mark.parametrize("typed", ["③", "2⁰¹⁶", "12\x0034"])
def test_lenient_reading_keeps_what_it_cannot_read(typed):
    assert plain_text(typed, strict=False) == typed
