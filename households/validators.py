"""Validators for the registry: resident ID numbers (GB 11643) and mainland mobile phones."""

from __future__ import annotations

import datetime
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from core.digits import UnreadableText, plain_text

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_RE = re.compile(r"^\d{17}[\dX]$")
_PHONE_RE = re.compile(r"^1[3-9]\d{9}$")


def id_check_digit(first17: str) -> str:
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def id_number_problem(value: str) -> str | None:
    """The reason an ID number is invalid, in the user's language; None when it is valid."""
    if len(value) != 18:
        return _("ID number must have 18 characters (it has %(n)d).") % {"n": len(value)}
    if not _ID_RE.match(value):
        return _("ID number must be 17 digits followed by a digit or X.")
    try:
        born = datetime.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return _("ID number contains no real date of birth (%(d)s).") % {"d": value[6:14]}
    if born.year < 1900 or born > datetime.date.today():
        return _("ID number contains an impossible date of birth (%(d)s).") % {"d": value[6:14]}
    if id_check_digit(value[:17]) != value[17]:
        return _("ID number check digit is wrong (GB 11643).")
    return None


def validate_id_number(value: str) -> None:
    problem = id_number_problem(value)
    if problem:
        raise ValidationError(problem, code="id_number")


def phone_problem(value: str) -> str | None:
    if not _PHONE_RE.match(value):
        return _("Mobile phone must be 11 digits starting with 13–19.")
    return None


def validate_phone(value: str) -> None:
    problem = phone_problem(value)
    if problem:
        raise ValidationError(problem, code="phone")


def normalise_text(value) -> str:
    """Text as people type it, leniently (search boxes): digits of any script and full-width forms
    to ASCII, spaces trimmed. Anything it cannot read exactly is left as it is."""
    return plain_text(value, strict=False)


def normalise_id_number(value) -> str:
    return normalise_text(value).replace(" ", "").upper()


# --- the one reading of each identifier: the admin forms and the imports call these -----------


def _plain(value) -> str:
    try:
        return plain_text(value)
    except UnreadableText as exc:
        raise ValidationError(str(exc), code="unreadable") from exc


def id_number_clean(value) -> str:
    """An ID number as typed (full-width digits, lower-case x, spaces) in its one stored form;
    ValidationError with the reason when it is not a valid GB 11643 number."""
    text = _plain(value).replace(" ", "").upper()
    if "*" in text:
        raise ValidationError(
            _("The ID number is masked (an export made by a role that may not see it); use the full number."), code="masked"
        )
    validate_id_number(text)
    return text


def phone_clean(value) -> str:
    """A mainland mobile number as typed (full-width digits, spaces, dashes) in its stored form;
    "" for none; ValidationError with the reason otherwise."""
    text = _plain(value).replace(" ", "").replace("-", "")
    if not text:
        return ""
    if "*" in text:
        raise ValidationError(_("The mobile phone is masked; use the full number."), code="masked")
    validate_phone(text)
    return text


def id_number_taken_message(id_number: str, holder_number: str) -> str:
    return _("ID number %(id)s already belongs to household %(number)s.") % {"id": id_number, "number": holder_number}

def normalise_phone(value) -> str:
    """A mobile number as people type it: full-width digits, spaces, dashes and a +86 prefix
    removed (``+86 138-0013-8000`` -> ``13800138000``). Check the result with ``phone_problem``."""
    text = normalise_text(value)
    text = re.sub(r"[\s\-()（）]", "", text)
    if text.startswith("+86"):
        text = text[3:]
    elif text.startswith("0086"):
        text = text[4:]
    elif len(text) == 13 and text.startswith("86"):
        text = text[2:]
    return text
