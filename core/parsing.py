"""The one place user input is read: numbers, dates, months and text from forms and query strings.

Every form field (``core.fields``) and query parameter (``query_*`` below) goes through these
functions, so a bad value is refused the same way everywhere: ``InvalidInput``, a DomainError
with a message in the user's language. The API turns it into a 400 (``core.api``), HTML views
into the form with the message or a 400 page (``core.middleware``) — never a 500.

What is refused, and why:
- numbers with an exponent, NaN or Infinity, more places than the field keeps, or more digits
  than its column holds (``1e25`` overflows ``numeric(10, 3)`` on PostgreSQL and Decimal's
  quantize everywhere); integers beyond the column (``2**63``);
- digits that are not plain decimal digits. Full-width ``３`` and other scripts' decimal digits
  (Unicode category Nd) are one digit each and are read as that digit; circled ``③``,
  superscript ``²`` and the like (category No) are refused: ``2⁰¹⁶`` may mean 2016 or 2 to the
  16th, and a count read wrongly is worse than a count refused;
- dates and months outside 2000..2100 (``0001-01-01`` cannot be converted to a zone,
  ``9999-12-31`` overflows the day after);
- NUL and other control characters in text (PostgreSQL cannot store NUL), text beyond its length.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from .errors import DomainError

DATE_MIN = datetime.date(2000, 1, 1)
DATE_MAX = datetime.date(2100, 12, 31)
INT_MAX = 2**31 - 1  # PostgreSQL integer; page numbers, units and ids all fit
MAX_NUMBER_CHARS = 40
MAX_QUERY_CHARS = 200

_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_INTEGER = re.compile(r"^[+-]?\d+$")
_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
# NFKC maps these full-width signs to the ASCII ones a number or date may contain
_SIGNS = {".", "-", "+", ",", " "}


class InvalidInput(DomainError):
    """A value a person typed (or a link carried) that cannot be read; ``field`` names it."""

    code = "invalid_input"

    def __init__(self, message: str, *, field: str | None = None):
        self.field = field
        super().__init__(message)

    def as_dict(self) -> dict:
        data = super().as_dict()
        if self.field:
            data[self.field] = [self.message]
        return data


def _named(message: str, label: str | None) -> str:
    return f"{label}: {message}" if label else message


def normalize_digits(raw, *, label: str | None = None, field: str | None = None) -> str:
    """Text with every decimal digit made ASCII, or InvalidInput naming the character refused.

    Only characters a number or date may hold are looked at: decimal digits of any script
    become ASCII; full-width ``．－＋，`` and the ideographic space become their ASCII forms;
    a digit that is not a decimal digit (``③``, ``²``, ``Ⅻ``) is refused."""
    text = str(raw)
    out = []
    for ch in text:
        if ch.isascii():
            out.append(ch)
            continue
        category = unicodedata.category(ch)
        if category == "Nd":
            out.append(str(unicodedata.decimal(ch)))
            continue
        folded = unicodedata.normalize("NFKC", ch)
        if category != "No" and (folded in _SIGNS or folded.isspace()):
            out.append(" " if folded.isspace() else folded)
            continue
        if category in ("No", "Nl"):
            message = _("“%(char)s” is not a plain digit; type the number with the digits 0–9.") % {"char": ch}
        else:
            message = _("“%(char)s” cannot be read as part of a number or date.") % {"char": ch}
        raise InvalidInput(_named(message, label), field=field)
    return "".join(out).strip()


def _text_of(raw, *, label, field) -> str:
    if raw is None:
        return ""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    text = str(raw)
    if len(text) > MAX_NUMBER_CHARS:
        raise InvalidInput(_named(_("The value is too long to be a number or date."), label), field=field)
    return normalize_digits(text, label=label, field=field)


def parse_decimal(
    raw,
    *,
    max_digits: int,
    places: int,
    round_places: bool = False,
    min_value: Decimal | int | None = None,
    max_value: Decimal | int | None = None,
    label: str | None = None,
    field: str | None = None,
) -> Decimal:
    """A Decimal from text (or a number) that fits a ``max_digits``/``places`` column.

    More places than ``places`` are refused, unless ``round_places`` (the caller rounds, e.g.
    jin to kg); either way at most ``max_digits - places`` digits stand before the point."""
    if isinstance(raw, Decimal | int) and not isinstance(raw, bool):
        value = Decimal(raw)
    else:
        if isinstance(raw, float):
            raw = repr(raw)
        text = _text_of(raw, label=label, field=field).replace(",", "").replace(" ", "")
        if not text:
            raise InvalidInput(_named(_("Enter a number."), label), field=field)
        if not _DECIMAL.match(text):
            raise InvalidInput(_named(_("“%(value)s” is not a number.") % {"value": text}, label), field=field)
        value = Decimal(text)
    if not value.is_finite():
        raise InvalidInput(_named(_("Enter a number."), label), field=field)
    exponent = value.normalize().as_tuple().exponent  # 1.50 has one place that matters
    shown_places = max(0, -exponent) if isinstance(exponent, int) else 0
    if not round_places and shown_places > places:
        raise InvalidInput(
            _named(_("Use at most %(places)d decimal places.") % {"places": places}, label), field=field
        )
    whole_digits = max_digits - places
    if abs(value) >= Decimal(10) ** whole_digits:
        raise InvalidInput(_named(_("The number is too large."), label), field=field)
    if min_value is not None and value < Decimal(min_value):
        if Decimal(min_value) == 0:
            message = _("The number cannot be negative.")
        else:
            message = _("The number must be at least %(min)s.") % {"min": min_value}
        raise InvalidInput(_named(message, label), field=field)
    if max_value is not None and value > Decimal(max_value):
        raise InvalidInput(_named(_("The number must be at most %(max)s.") % {"max": max_value}, label), field=field)
    return value


def parse_int(
    raw,
    *,
    min_value: int | None = None,
    max_value: int | None = INT_MAX,
    label: str | None = None,
    field: str | None = None,
) -> int:
    """A whole number from text within [min_value, max_value]."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    else:
        text = _text_of(raw, label=label, field=field).replace(" ", "")
        if not text:
            raise InvalidInput(_named(_("Enter a whole number."), label), field=field)
        if not _INTEGER.match(text):
            raise InvalidInput(_named(_("“%(value)s” is not a whole number.") % {"value": text}, label), field=field)
        value = int(text)
    if max_value is not None and value > max_value:
        raise InvalidInput(_named(_("The number is too large (at most %(max)d).") % {"max": max_value}, label), field=field)
    if min_value is not None and value < min_value:
        if min_value == 0:
            message = _("The number cannot be negative.")
        else:
            message = _("The number must be at least %(min)d.") % {"min": min_value}
        raise InvalidInput(_named(message, label), field=field)
    return value


def _date_range_error(label, field) -> InvalidInput:
    return InvalidInput(
        _named(_("Choose a date between %(min)s and %(max)s.") % {"min": DATE_MIN.isoformat(), "max": DATE_MAX.isoformat()}, label),
        field=field,
    )


def check_date(value: datetime.date, *, label: str | None = None, field: str | None = None) -> datetime.date:
    """``value`` itself if it lies in the range every screen and report works in (2000..2100)."""
    if isinstance(value, datetime.datetime):
        value = value.date()
    if not DATE_MIN <= value <= DATE_MAX:
        raise _date_range_error(label, field)
    return value


def parse_date(raw, *, label: str | None = None, field: str | None = None) -> datetime.date:
    """``YYYY-MM-DD`` (any decimal digits) between 2000-01-01 and 2100-12-31."""
    if isinstance(raw, datetime.date):
        return check_date(raw, label=label, field=field)
    text = _text_of(raw, label=label, field=field).replace(" ", "")
    match = _DATE.match(text)
    if not match:
        raise InvalidInput(_named(_("Enter the date as YYYY-MM-DD."), label), field=field)
    try:
        value = datetime.date(*(int(g) for g in match.groups()))
    except ValueError:
        raise InvalidInput(_named(_("%(value)s is not a date in the calendar.") % {"value": text}, label), field=field) from None
    return check_date(value, label=label, field=field)


def parse_month(raw, *, label: str | None = None, field: str | None = None) -> tuple[int, int]:
    """``YYYY-MM`` -> (year, month), 2000-01 .. 2100-12."""
    text = _text_of(raw, label=label, field=field).replace(" ", "")
    match = _MONTH.match(text)
    if not match:
        raise InvalidInput(_named(_("Enter the month as YYYY-MM."), label), field=field)
    year, month = (int(g) for g in match.groups())
    if not 1 <= month <= 12:
        raise InvalidInput(_named(_("%(value)s is not a month.") % {"value": text}, label), field=field)
    if not DATE_MIN.year <= year <= DATE_MAX.year:
        raise InvalidInput(
            _named(_("Choose a month between %(min)s and %(max)s.") % {"min": f"{DATE_MIN:%Y-%m}", "max": f"{DATE_MAX:%Y-%m}"}, label),
            field=field,
        )
    return year, month


def clean_text(raw, *, max_length: int, multiline: bool = False, label: str | None = None, field: str | None = None) -> str:
    """Text without NUL or other control characters (tabs and newlines only if ``multiline``),
    at most ``max_length`` characters, stripped."""
    if raw is None:
        return ""
    text = str(raw)
    allowed = {"\t", "\n", "\r"} if multiline else {"\t"}
    for ch in text:
        if ch in allowed:
            continue
        if unicodedata.category(ch) in ("Cc", "Cs"):
            raise InvalidInput(_named(_("The text contains a control character that cannot be stored."), label), field=field)
    text = text.strip()
    if len(text) > max_length:
        raise InvalidInput(
            _named(_("Use at most %(max)d characters (this has %(n)d).") % {"max": max_length, "n": len(text)}, label), field=field
        )
    return text


# --- query parameters ---------------------------------------------------------------------------
# Each takes the QueryDict (request.GET / request.query_params) and a name; an absent or empty
# parameter gives ``default``; a bad one raises InvalidInput naming the parameter.


def _param(params, name: str) -> str:
    value = params.get(name)
    return "" if value is None else str(value)


def query_int(params, name: str, *, default=None, min_value: int | None = None, max_value: int | None = INT_MAX):
    raw = _param(params, name)
    if not raw.strip():
        return default
    return parse_int(raw, min_value=min_value, max_value=max_value, label=name, field=name)


def query_decimal(params, name: str, *, default=None, max_digits: int = 12, places: int = 2, min_value=None, max_value=None):
    raw = _param(params, name)
    if not raw.strip():
        return default
    return parse_decimal(raw, max_digits=max_digits, places=places, min_value=min_value, max_value=max_value, label=name, field=name)


def query_date(params, name: str, *, default=None) -> datetime.date | None:
    raw = _param(params, name)
    if not raw.strip():
        return default
    return parse_date(raw, label=name, field=name)


def query_month(params, name: str, *, default=None) -> tuple[int, int] | None:
    raw = _param(params, name)
    if not raw.strip():
        return default
    return parse_month(raw, label=name, field=name)


def query_text(params, name: str, *, default: str = "", max_length: int = MAX_QUERY_CHARS) -> str:
    raw = _param(params, name)
    if not raw:
        return default
    return clean_text(raw, max_length=max_length, label=name, field=name)


def query_id(params, name: str) -> int | None:
    """A row id from a link (``?employer=12``): None when absent, InvalidInput when unreadable."""
    return query_int(params, name, default=None, min_value=1)


def safe_decimal_or_none(raw, **kwargs) -> Decimal | None:
    """For previews that show nothing rather than an error: the value, or None."""
    try:
        return parse_decimal(raw, **kwargs)
    except (InvalidInput, InvalidOperation):
        return None


def local_url(raw, *, request, default: str) -> str:
    """A ``next`` target: a path on this site (``/…``), or ``default``.

    Anything else — another host, a scheme, or a bare word that ``redirect()`` would try to
    reverse as a view name (``?next=sNaN`` was a NoReverseMatch 500) — gives ``default``."""
    from django.utils.http import url_has_allowed_host_and_scheme

    text = "" if raw is None else str(raw).strip()
    if (
        not text.startswith("/")
        or text.startswith("//")
        or any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text)
        or not url_has_allowed_host_and_scheme(text, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    ):
        return default
    return text
