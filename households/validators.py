"""Validators for the registry: resident ID numbers (GB 11643) and mainland mobile phones."""

from __future__ import annotations

import datetime
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

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


_FULLWIDTH = str.maketrans("０１２３４５６７８９ＸｘＡＢＣＤＥＦ", "0123456789XXABCDEF")


def normalise_text(value) -> str:
    """Field input as people type it: full-width digits to ASCII, spaces trimmed, x -> X."""
    if value is None:
        return ""
    text = str(value).translate(_FULLWIDTH)
    text = text.replace("\u3000", " ").strip()
    return text


def normalise_id_number(value) -> str:
    return normalise_text(value).replace(" ", "").upper()
