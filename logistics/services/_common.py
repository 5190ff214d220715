"""Small helpers shared by the supply-chain services: quantities, locks, readable codes."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Sum
from django.utils.translation import gettext as _

from core.money import kg, to_decimal

from ..errors import InvalidQuantity
from ..models import Lot, LotMovement


def positive_kg(value, *, label: str, allow_zero: bool = False) -> Decimal:
    try:
        d = kg(value)
    except (ValueError, TypeError):
        raise InvalidQuantity(_("%(what)s: %(value)s is not a number.") % {"what": label, "value": value}) from None
    if d < 0 or (d == 0 and not allow_zero):
        raise InvalidQuantity(_("%(what)s: the weight must be more than zero.") % {"what": label})
    return d


def positive_units(value, *, label: str, allow_zero: bool = False) -> int:
    try:
        d = to_decimal(value)
    except (ValueError, TypeError):
        raise InvalidQuantity(_("%(what)s: %(value)s is not a number.") % {"what": label, "value": value}) from None
    if d != d.to_integral_value() or d < 0 or (d == 0 and not allow_zero):
        raise InvalidQuantity(_("%(what)s: units must be a whole number more than zero.") % {"what": label})
    return int(d)


def lock_lots(lot_ids) -> dict[int, Lot]:
    """Lock the Lot rows, in primary-key order. Every writer of a lot's movements (intake void,
    shipment, receipt, loss, packing) holds this lock, so "on hand" cannot change between the
    check and the write."""
    ids = sorted(set(lot_ids))
    return {lot.pk: lot for lot in Lot.objects.select_for_update().filter(pk__in=ids).order_by("pk")}


def on_hand_kg(*, facility_id: int, lot_ids) -> dict[int, Decimal]:
    ids = list(lot_ids)
    rows = (
        LotMovement.objects.filter(facility_id=facility_id, lot_id__in=ids)
        .values("lot_id")
        .annotate(total=Sum("quantity_kg"))
        .values_list("lot_id", "total")
    )
    found = {lot_id: kg(total or 0) for lot_id, total in rows}
    return {i: found.get(i, Decimal("0.000")) for i in ids}
