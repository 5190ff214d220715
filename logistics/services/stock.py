"""Retail units of packed batches at a facility: reserve, release, sell, return.

Each function checks before it writes, so it joins the caller's transaction without a savepoint
of its own (a savepoint pair per batch line was a fifth of a checkout's statements); a refusal
leaves the caller's transaction usable. Callers (marketplace checkout) lock the BatchStock rows first with ``batch_stock_lock`` — in
primary-key order, inside their transaction — then call these with the locked rows. Each call
changes the counters and appends the matching BatchMovement, so the two always reconcile.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ConflictError

from ..models import BatchMovement, BatchStock, MovementKind, PackedBatch


class InsufficientStock(ConflictError):
    code = "insufficient_stock"


def sellable_stock_queryset(*, facility_id: int, sku_ids: Iterable[int] | None = None):
    """Stock rows at ``facility_id`` that may be sold, oldest batch first (FIFO)."""
    qs = BatchStock.objects.filter(
        facility_id=facility_id,
        batch__inspection_status=PackedBatch.Inspection.PASSED,
        batch__on_hold=False,
        quantity__gt=F("reserved"),
    )
    if sku_ids is not None:
        qs = qs.filter(batch__sku_id__in=list(sku_ids))
    return qs.order_by("batch__packed_at", "batch_id")


def batch_stock_lock(*, facility_id: int, sku_ids: Iterable[int]) -> list[BatchStock]:
    """Lock every sellable stock row of these SKUs, in primary-key order (no deadlocks between
    carts that hold the same SKUs in another order), and return them oldest batch first."""
    ids = list(sellable_stock_queryset(facility_id=facility_id, sku_ids=sku_ids).values_list("pk", flat=True))
    rows = list(BatchStock.objects.select_for_update().filter(pk__in=ids).order_by("pk").select_related("batch"))
    rows.sort(key=lambda s: (s.batch.packed_at, s.batch_id))
    return [s for s in rows if s.batch.sellable and s.quantity > s.reserved]


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
