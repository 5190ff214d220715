"""Retail units of packed batches at a facility: reserve, release, sell, return, lose, write off.

Each function checks before it writes, so it joins the caller's transaction without a savepoint
of its own (a savepoint pair per batch line was a fifth of a checkout's statements); a refusal
leaves the caller's transaction usable. Callers (marketplace checkout) lock the BatchStock rows first with ``batch_stock_lock`` — in
primary-key order, inside their transaction — then call these with the locked rows. Each call
changes the counters and appends the matching BatchMovement, so the two always reconcile.

What may be sold, and in which order (FEFO), is decided in ``selectors/stock.py``; this module
locks and writes. Units past their best-before date leave the books through
``batch_write_off_expired`` (movement kind ``expired``), which ``reconcile`` counts as recorded loss.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from core import roles
from core.errors import ConflictError

from ..errors import BatchStateConflict, NotAtYourFacility
from ..models import BatchMovement, BatchStock, Facility, MovementKind, PackedBatch
from ..selectors.stock import batch_is_expired, batch_is_sellable, county_today, expired_stock, sellable_stock
from .access import ensure_acts_at

EXPIRY_REFERENCE = "expiry"


class InsufficientStock(ConflictError):
    code = "insufficient_stock"


def sellable_stock_queryset(*, facility_id: int, sku_ids: Iterable[int] | None = None):
    """Stock rows at ``facility_id`` that may be sold now, earliest-expiring first (FEFO); the
    rule itself is ``selectors.stock.sellable_stock``."""
    return sellable_stock(facility_id=facility_id, sku_ids=sku_ids)


def batch_stock_lock(*, facility_id: int, sku_ids: Iterable[int]) -> list[BatchStock]:
    """Lock every sellable stock row of these SKUs, in primary-key order (no deadlocks between
    carts that hold the same SKUs in another order), and return them in FEFO order. The rule is
    checked again on the locked rows: a batch held or gone past its date between the read and
    the lock is left out."""
    today = county_today()
    ids = list(sellable_stock(facility_id=facility_id, sku_ids=sku_ids, on=today).values_list("pk", flat=True))
    rows = list(BatchStock.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk").select_related("batch"))
    rows.sort(key=lambda s: (s.batch.best_before, s.batch.packed_at, s.batch_id))  # FEFO, as the selector orders
    return [s for s in rows if batch_is_sellable(s.batch, on=today) and s.quantity > s.reserved]


def _move(
    stock: BatchStock, *, kind: str, dq: int, dr: int, reference_type: str, reference_code: str, author=None, reason: str = "", at=None
) -> None:
    BatchStock.objects.filter(pk=stock.pk).update(quantity=F("quantity") + dq, reserved=F("reserved") + dr)
    stock.quantity += dq
    stock.reserved += dr
    BatchMovement.objects.create(
        batch_id=stock.batch_id,
        facility_id=stock.facility_id,
        kind=kind,
        quantity_delta=dq,
        reserved_delta=dr,
        reference_type=reference_type,
        reference_code=reference_code,
        author=author,
        reason=reason,
        created_at=at or timezone.now(),
    )


@transaction.atomic(savepoint=False)
def batch_stock_reserve(*, stock: BatchStock, units: int, reference_type: str, reference_code: str, author=None) -> None:
    if units <= 0:
        raise ValueError("units must be positive")
    if stock.quantity - stock.reserved < units:
        raise InsufficientStock(
            _("Batch %(batch)s: only %(n)s units available.") % {"batch": stock.batch.code, "n": stock.quantity - stock.reserved}
        )
    _move(stock, kind=MovementKind.RESERVE, dq=0, dr=units, reference_type=reference_type, reference_code=reference_code, author=author)


@transaction.atomic(savepoint=False)
def batch_stock_release(*, stock: BatchStock, units: int, reference_type: str, reference_code: str, author=None, reason: str = "") -> None:
    """Give reserved units back to sale (an order cancelled or left unpaid)."""
    _move(stock, kind=MovementKind.RELEASE, dq=0, dr=-units, reference_type=reference_type, reference_code=reference_code, author=author, reason=reason)


@transaction.atomic(savepoint=False)
def batch_stock_sell(*, stock: BatchStock, units: int, reference_type: str, reference_code: str, author=None) -> None:
    """Reserved units leave the shelf: sold."""
    _move(stock, kind=MovementKind.SELL, dq=-units, dr=-units, reference_type=reference_type, reference_code=reference_code, author=author)


@transaction.atomic(savepoint=False)
def batch_stock_return(*, stock: BatchStock, units: int, reference_type: str, reference_code: str, author=None, reason: str = "") -> None:
    """Sold units come back to the shelf (a return before or after fulfilment)."""
    _move(stock, kind=MovementKind.RETURN, dq=units, dr=0, reference_type=reference_type, reference_code=reference_code, author=author, reason=reason)


def batch_stock_receive(
    *, batch: PackedBatch, facility_id: int, units: int, reference_type: str, reference_code: str, author=None, kind: str = MovementKind.RECEIVE,
    at=None,
) -> BatchStock:
    """Units arrive at a facility (``packed`` at the station, ``receive`` from a shipment)."""
    stock, _created = BatchStock.objects.select_for_update().get_or_create(batch=batch, facility_id=facility_id)
    _move(stock, kind=kind, dq=units, dr=0, reference_type=reference_type, reference_code=reference_code, author=author, at=at)
    return stock


@transaction.atomic(savepoint=False)
def batch_stock_ship_out(*, stock: BatchStock, units: int, reference_type: str, reference_code: str, author=None, at=None) -> None:
    """Unreserved units leave a facility on a shipment (the caller holds the row lock)."""
    if units <= 0:
        raise ValueError("units must be positive")
    if stock.quantity - stock.reserved < units:
        raise InsufficientStock(
            _("Batch %(batch)s: only %(n)s units available.") % {"batch": stock.batch.code, "n": stock.quantity - stock.reserved}
        )
    _move(stock, kind=MovementKind.SHIP_OUT, dq=-units, dr=0, reference_type=reference_type, reference_code=reference_code, author=author, at=at)


@transaction.atomic(savepoint=False)
def batch_stock_loss(
    *, stock: BatchStock, units: int, reason: str, reference_type: str, reference_code: str = "", author=None, at=None
) -> None:
    """Units lost (damaged, spoiled, short on a shipment): never reserved ones."""
    if units <= 0:
        raise ValueError("units must be positive")
    if stock.quantity - stock.reserved < units:
        raise InsufficientStock(
            _("Batch %(batch)s: only %(n)s units available.") % {"batch": stock.batch.code, "n": stock.quantity - stock.reserved}
        )
    _move(stock, kind=MovementKind.LOSS, dq=-units, dr=0, reference_type=reference_type, reference_code=reference_code,
          author=author, reason=reason, at=at)


def batch_write_off_expired(*, batch: PackedBatch, author=None, facility: Facility | None = None, on=None) -> int:
    """Write off ``batch``'s expired units that no order holds, as ``expired`` movements (a
    recorded loss); returns the units written off, 0 when nothing is left (safe to repeat).

    At ``facility`` when given (staff write off what is at their own facility); at every
    facility that holds the batch otherwise — the daily task (``author`` None) and the county
    office. Reserved units stay: their order either pays (sold) or is released, and the next
    write-off takes them. A batch not yet past its date is refused."""
    on = on or county_today()
    with transaction.atomic():
        if author is not None:
            if facility is not None:
                ensure_acts_at(author, facility)
            elif not roles.is_county_office(author):
                raise NotAtYourFacility(_("You may write off only what is at your own facility."))
        batch = PackedBatch.objects.get(pk=batch.pk)
        if not batch_is_expired(batch, on=on):
            raise BatchStateConflict(
                _("Batch %(code)s is good until %(date)s: only units past their best-before date are written off as expired.")
                % {"code": batch.code, "date": batch.best_before.isoformat()}
            )
        rows = BatchStock.objects.select_for_update(of=("self",)).filter(batch=batch).select_related("batch").order_by("pk")
        if facility is not None:
            rows = rows.filter(facility=facility)
        written = 0
        for row in rows:
            free = row.quantity - row.reserved
            if free <= 0:
                continue
            _move(row, kind=MovementKind.EXPIRED, dq=-free, dr=0, reference_type=EXPIRY_REFERENCE, reference_code=batch.code,
                  author=author, reason=f"best before {batch.best_before.isoformat()}")
            written += free
    return written


def batches_write_off_expired(*, on=None) -> int:
    """The daily sweep: write off every expired unit no order holds, at every facility, one
    batch per transaction. Idempotent: a second run the same day writes nothing."""
    on = on or county_today()
    batch_ids = sorted(set(expired_stock(on=on).values_list("batch_id", flat=True)))
    written = 0
    for batch in PackedBatch.objects.filter(pk__in=batch_ids).order_by("pk"):
        written += batch_write_off_expired(batch=batch, on=on)
    return written
