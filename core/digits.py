"""The one rule for digits typed in other forms than 0–9, used by every import column and form field
that reads identifiers (registry numbers, ID numbers, phones, accounts, staff numbers).

The rule:

- A decimal digit of any script (Unicode category Nd: full-width ０–９, Arabic-Indic ٣,
  Devanagari ३, mathematical bold 𝟑 …) has exactly one value, so it becomes its ASCII digit.
- The full-width forms of ASCII (Ｘ, ｘ, －, （ …) and the ideographic space become their ASCII
  counterparts (NFKC of those code points only).
- A character that stands for a number but is no decimal digit — circled ③, superscript ²,
  subscript ₂, fractions ½, Roman numerals Ⅲ (categories No and Nl) — is refused: NFKC would turn
  ``2⁰¹⁶`` into ``2016`` and ``⑫`` into ``12``, but whether a superscript was a digit or an exponent,
  or a circled number a footnote, is a guess. Chinese numerals (三, 〇) are letters of names and
  are kept.
- Control characters (NUL and the like) are refused: no person types them.
"""

from __future__ import annotations

import unicodedata

from django.utils.translation import gettext as _

_KEEP_CONTROL = {"\t", "\n", "\r"}


class UnreadableText(ValueError):
    """The text holds a character that cannot be read as one exact digit or letter; the message
    names it, in the user's language."""


def plain_text(value, *, strict: bool = True) -> str:
    """``value`` as text with every digit in ASCII and full-width forms folded, trimmed.

    ``strict`` refuses (UnreadableText) what cannot be read exactly; lenient mode (for search
    boxes, where a refusal is no help) leaves those characters as they are.
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if text.isascii():
        if strict and not text.isprintable() and any(c not in _KEEP_CONTROL for c in text if not c.isprintable()):
            raise UnreadableText(_("The value contains a control character; type it again."))
        return text.strip()
    out = []
    for char in text:
        if char.isascii():
            if strict and not char.isprintable() and char not in _KEEP_CONTROL:
                raise UnreadableText(_("The value contains a control character; type it again."))
            out.append(char)
            continue
        category = unicodedata.category(char)
        if category == "Nd":
            out.append(str(unicodedata.decimal(char)))
        elif "\uff01" <= char <= "\uff5e" or char == "\u3000":
            out.append(unicodedata.normalize("NFKC", char))
        elif category in ("No", "Nl") and char != "\u3007":
            if strict:
                raise UnreadableText(
                    _("“%(char)s” is not a plain digit; type the number with the digits 0–9.") % {"char": char}
                )
            out.append(char)
        elif category == "Cc" and strict:
            raise UnreadableText(_("The value contains a control character; type it again."))
        else:
            out.append(char)
    return "".join(out).strip()
