"""The county's purchase price list: per grade, per kg, each price in force from a date.

A price row is never edited once written: a change of price is a new row from a later date, so
an intake (which copies the price it was bought at) is never rewritten by a later change.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core.errors import ConflictError, DomainError
from core.money import to_decimal, yuan

from ..models import Grade, PurchasePrice


class NoPriceInForce(DomainError):
    code = "no_price_in_force"
    field = "grade"


class InvalidPrice(DomainError):
    code = "invalid_price"
    field = "price_per_kg"


class PriceAlreadySet(ConflictError):
    code = "price_already_set"


def _grade_label(grade: Grade) -> str:
    produce = getattr(grade, "produce", None)
    return f"{produce.name}{grade.name}" if produce is not None else grade.name


def purchase_price_row_in_force(*, grade: Grade | int, on: datetime.date) -> PurchasePrice | None:
    """The price row in force for ``grade`` on ``on`` (the latest from that day or before)."""
    grade_id = grade if isinstance(grade, int) else grade.pk
    return PurchasePrice.objects.filter(grade_id=grade_id, effective_from__lte=on).order_by("-effective_from").first()


def price_in_force(*, grade: Grade, on: datetime.date) -> Decimal:
    """Price per kg (yuan) for ``grade`` on ``on``; NoPriceInForce if the list has none yet."""
    price = (
        PurchasePrice.objects.filter(grade_id=grade.pk, effective_from__lte=on)
        .order_by("-effective_from")
        .values_list("price_per_kg", flat=True)
        .first()
    )
    if price is None:
        raise NoPriceInForce(
            _("No purchase price is in force for %(grade)s on %(date)s.") % {"grade": _grade_label(grade), "date": on.isoformat()}
        )
    return price


def purchase_price_set(*, grade: Grade, price_per_kg, effective_from: datetime.date, author=None) -> PurchasePrice:
    """Add a price for ``grade`` in force from ``effective_from``.

    Always a new row; past intakes keep the price they copied. Setting the same price for the
    same day again returns the existing row (so seeding twice changes nothing); a different
    price for a day that already has one is refused — enter it from another day instead.
    """
    try:
        price = yuan(to_decimal(price_per_kg))
    except ValueError as exc:
        raise InvalidPrice(_("The price must be a number.")) from exc
    if price <= 0:
        raise InvalidPrice(_("The price must be more than zero."))
    existing = PurchasePrice.objects.filter(grade_id=grade.pk, effective_from=effective_from).first()
    if existing is not None:
        if existing.price_per_kg == price:
            return existing
        raise PriceAlreadySet(
            _("%(grade)s already has a price of %(price)s yuan/kg from %(date)s; enter the new price from another day.")
            % {"grade": _grade_label(grade), "price": existing.price_per_kg, "date": effective_from.isoformat()}
        )
    try:
        with transaction.atomic():
            return PurchasePrice.objects.create(grade=grade, price_per_kg=price, effective_from=effective_from, created_by=author)
    except IntegrityError:
        # Someone set a price for the same grade and day at the same moment: judge against theirs.
        existing = PurchasePrice.objects.get(grade_id=grade.pk, effective_from=effective_from)
        if existing.price_per_kg == price:
            return existing
        raise PriceAlreadySet(
            _("%(grade)s already has a price of %(price)s yuan/kg from %(date)s; enter the new price from another day.")
            % {"grade": _grade_label(grade), "price": existing.price_per_kg, "date": effective_from.isoformat()}
        ) from None
