"""Small helpers shared by the supply-chain services: quantities, locks, readable codes."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Sum
from django.utils.translation import gettext as _

from core.money import kg
from core.parsing import InvalidInput, parse_decimal

from ..errors import InvalidQuantity
from ..models import Lot, LotMovement


def _refused(message: str, field: str | None) -> InvalidQuantity:
    exc = InvalidQuantity(message)
    if field:
        exc.field = field  # which input was wrong, for a form to mark it
    return exc


def _read(value, *, label: str, max_digits: int, places: int, field: str | None = None) -> Decimal:
    """The number in ``value``, bounded by its column so that it can be stored (and rounded)."""
    try:
        return parse_decimal(value, max_digits=max_digits, places=places, round_places=True, label=label)
    except InvalidInput as exc:
        raise _refused(exc.message, field) from None


def positive_kg(value, *, label: str, allow_zero: bool = False, max_digits: int = 10, field: str | None = None) -> Decimal:
    """A weight in kg rounded to the gram; ``max_digits`` is its column's (numeric(10, 3) mostly)."""
    d = kg(_read(value, label=label, max_digits=max_digits, places=3, field=field))
    if d < 0 or (d == 0 and not allow_zero):
        raise _refused(_("%(what)s: the weight must be more than zero.") % {"what": label}, field)
    return d


def positive_units(value, *, label: str, allow_zero: bool = False, field: str | None = None) -> int:
    d = _read(value, label=label, max_digits=9, places=0, field=field)  # fits an integer column
    if d != d.to_integral_value() or d < 0 or (d == 0 and not allow_zero):
        raise _refused(_("%(what)s: units must be a whole number more than zero.") % {"what": label}, field)
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
