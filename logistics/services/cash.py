"""The county office's cash for collection points: the writer of CashAdvance rows."""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import roles
from core.errors import DomainError, NotAllowed
from core.money import yuan

from ..models import CashAdvance, Facility

MAX_ADVANCE = Decimal("1000000.00")


class InvalidCashAmount(DomainError):
    field = "amount"


class CashNotAllowed(NotAllowed):
    pass


def parse_cash_amount(raw) -> Decimal:
    text = str(raw or "").strip().replace(",", "").replace("，", "").replace("¥", "").replace("元", "")
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise InvalidCashAmount(_("Enter the amount in yuan, for example 5000 or 1200.50.")) from exc
    if not value.is_finite() or value <= 0:
        raise InvalidCashAmount(_("The amount must be more than zero."))
    if value > MAX_ADVANCE:
        raise InvalidCashAmount(_("The amount may be at most ¥%(max)s.") % {"max": f"{MAX_ADVANCE:,.2f}"})
    if value != value.quantize(Decimal("0.01")):
        raise InvalidCashAmount(_("The amount has at most two decimals (fen)."))
    return yuan(value)


@transaction.atomic
def cash_advance_record(
    *, point: Facility, amount, author, kind: str = CashAdvance.Kind.ADVANCE, note: str = "", at: datetime.datetime | None = None
) -> CashAdvance:
    """Record cash handed to ``point`` (kind advance) or taken back (kind return); county office only."""
    if not roles.is_county_office(author):
        raise CashNotAllowed(_("Only the county office records cash advances."))
    if point.kind != Facility.Kind.COLLECTION_POINT:
        raise DomainError(_("%(name)s is not a collection point.") % {"name": point.name})
    if kind not in CashAdvance.Kind.values:
        raise DomainError(_("Choose advance or return."))
    return CashAdvance.objects.create(
        point=point, kind=kind, amount=parse_cash_amount(amount), note=(note or "").strip()[:200], author=author,
        created_at=at or timezone.now(),
    )
