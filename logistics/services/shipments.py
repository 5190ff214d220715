"""Shipments between tiers (point -> its township's station -> the county supermarket), and
losses at a facility.

How loss in transit is booked (so that mass balance holds at every facility and lot):
dispatch writes ``ship_out`` (−dispatched) at the origin; while the shipment travels, its lines
are *in transit* (dispatched, not received). Receipt writes ``receive`` (+dispatched) at the
destination and, for any shortfall, a ``loss`` row (−(dispatched − received)) at the
destination with the reason and the shipment's code. The destination thus accounts for the
whole consignment it signed for, and a lot's balance is
``intake − void = on hand + in transit + consumed by packing + loss``; ``reconcile`` proves it
and also matches each kind of movement against its document (shipment lines, packing inputs).
Batches (retail units) follow the same rule through BatchStock and BatchMovement.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..errors import InsufficientLotStock, InvalidQuantity, ReceiptRefused, ShipmentAlreadyReceived, WrongRoute
from ..models import BatchStock, Facility, Lot, LotMovement, MovementKind, PackedBatch, Shipment, ShipmentLine
from . import stock as stock_service
from ._common import lock_lots, on_hand_kg, positive_kg, positive_units
from .access import ensure_acts_at

REF_SHIPMENT = "shipment"
REF_LOSS = "loss"


def _shipment_code(origin: Facility) -> str:
    seq = Shipment.objects.filter(origin=origin).count() + 1
    return f"SH-{origin.code[-20:]}-{seq:04d}"


@transaction.atomic
def shipment_dispatch(*, origin: Facility, lines: list, author, at=None) -> Shipment:
    """Send lots (kg) and/or batches (units) from ``origin`` to the facility it ships to.

    ``lines`` is a list of ``(Lot, kg)`` or ``(PackedBatch, units)``. Every line is checked
    against what is on hand at the origin, under lock; all shortfalls are reported together.
    """
    at = at or timezone.now()
    ensure_acts_at(author, origin)
    origin = Facility.objects.select_for_update().get(pk=origin.pk)  # one dispatch at a time per facility: codes
    destination = origin.ships_to
    if destination is None or origin.kind == Facility.Kind.SUPERMARKET:
        raise WrongRoute(_("%(facility)s does not ship anywhere.") % {"facility": origin.name})
    if not lines:
        raise InvalidQuantity(_("A shipment needs at least one line."))

    lot_kg: dict[int, Decimal] = defaultdict(Decimal)
    batch_units: dict[int, int] = defaultdict(int)
    problems: list[str] = []
    keys: dict[str, str] = {}  # "lot:<id>" / "batch:<id>" -> the problem with that line, for the form to mark
    for item, qty in lines:
        try:
            if isinstance(item, Lot):
                lot_kg[item.pk] += positive_kg(qty, label=item.code)
            elif isinstance(item, PackedBatch):
                batch_units[item.pk] += positive_units(qty, label=item.code)
            else:
                raise InvalidQuantity(_("A shipment line is a lot or a batch."))
        except InvalidQuantity as exc:
            problems.append(exc.message)
            keys[f"{'lot' if isinstance(item, Lot) else 'batch'}:{item.pk}"] = exc.message
    if problems:
        raise InvalidQuantity(_("Check the quantities of this shipment."), problems=problems, problem_keys=keys)

    lots = lock_lots(lot_kg)
    have = on_hand_kg(facility_id=origin.pk, lot_ids=lot_kg)
    for lot_id, want in sorted(lot_kg.items()):
        if have[lot_id] < want:
            problems.append(
                _("Lot %(code)s: %(want)s kg asked, %(have)s kg on hand here.")
                % {"code": lots[lot_id].code, "want": want, "have": have[lot_id]}
            )
            keys[f"lot:{lot_id}"] = problems[-1]
    stocks = {
        s.batch_id: s
        for s in BatchStock.objects.select_for_update(of=("self",))
        .filter(facility=origin, batch_id__in=list(batch_units))
        .order_by("pk")
        .select_related("batch")
    }
    batches = PackedBatch.objects.in_bulk(list(batch_units))
    for batch_id, want in sorted(batch_units.items()):
        s = stocks.get(batch_id)
        available = s.available if s else 0
        if batches[batch_id].on_hold:
            problems.append(_("Batch %(code)s is on hold (recall) and may not be shipped.") % {"code": batches[batch_id].code})
        elif available < want:
            problems.append(
                _("Batch %(code)s: %(want)s units asked, %(have)s available here.")
                % {"code": batches[batch_id].code, "want": want, "have": available}
            )
        else:
            continue
        keys[f"batch:{batch_id}"] = problems[-1]
    if problems:
        raise InsufficientLotStock(_("Not enough on hand for this shipment."), problems=problems, problem_keys=keys)

    shipment = Shipment.objects.create(
        code=_shipment_code(origin), origin=origin, destination=destination, dispatched_by=author, dispatched_at=at
    )
    ShipmentLine.objects.bulk_create(
        [ShipmentLine(shipment=shipment, lot_id=i, dispatched=q) for i, q in sorted(lot_kg.items())]
        + [ShipmentLine(shipment=shipment, batch_id=i, dispatched=q) for i, q in sorted(batch_units.items())]
    )
    LotMovement.objects.bulk_create(
        [
            LotMovement(lot_id=i, facility=origin, kind=MovementKind.SHIP_OUT, quantity_kg=-q, reference_type=REF_SHIPMENT,
                        reference_code=shipment.code, author=author, created_at=at)
            for i, q in sorted(lot_kg.items())
        ]
    )
    for batch_id, units in sorted(batch_units.items()):
        stock_service.batch_stock_ship_out(
            stock=stocks[batch_id], units=units, reference_type=REF_SHIPMENT, reference_code=shipment.code, author=author, at=at
        )
    return shipment


@transaction.atomic
def shipment_receive(*, shipment: Shipment, received: dict, loss_reasons: dict | None = None, author, at=None) -> Shipment:
    """Sign for a shipment at its destination: the received quantity per line (a line left out
    counts as received in full); a shortfall is loss and needs a reason; more than was
    dispatched is refused. See the module docstring for how loss is booked."""
    at = at or timezone.now()
    loss_reasons = {int(k): (v or "").strip() for k, v in (loss_reasons or {}).items()}
    shipment = Shipment.objects.select_for_update().select_related("destination").get(pk=shipment.pk)
    ensure_acts_at(author, shipment.destination)
    if shipment.status != Shipment.Status.DISPATCHED:
        raise ShipmentAlreadyReceived(_("Shipment %(code)s has already been received.") % {"code": shipment.code})
    lines = list(shipment.lines.select_related("lot", "batch").order_by("pk"))
    by_id = {line.pk: line for line in lines}
    received = {int(k): v for k, v in received.items()}
    problems: list[str] = []
    unknown = sorted(set(received) - set(by_id))
    if unknown:
        problems.append(_("Lines %(ids)s are not on shipment %(code)s.") % {"ids": unknown, "code": shipment.code})
    qty: dict[int, Decimal] = {}
    keys: dict[str, str] = {}  # "line:<id>:received" / "line:<id>:reason" -> problem, for the form to mark
    for line in lines:
        label = line.lot.code if line.lot_id else line.batch.code
        raw = received.get(line.pk, line.dispatched)
        try:
            if line.lot_id:
                q = positive_kg(raw, label=label, allow_zero=True)
            else:
                q = Decimal(positive_units(raw, label=label, allow_zero=True))
        except InvalidQuantity as exc:
            problems.append(exc.message)
            keys[f"line:{line.pk}:received"] = exc.message
            continue
        if q > line.dispatched:
            problems.append(
                _("%(code)s: %(got)s received is more than the %(sent)s dispatched.") % {"code": label, "got": q, "sent": line.dispatched}
            )
            keys[f"line:{line.pk}:received"] = problems[-1]
        elif q < line.dispatched and not loss_reasons.get(line.pk):
            problems.append(_("%(code)s: %(short)s short — give the reason for the loss.") % {"code": label, "short": line.dispatched - q})
            keys[f"line:{line.pk}:reason"] = problems[-1]
        qty[line.pk] = q
    if problems:
        raise ReceiptRefused(_("The receipt cannot be recorded."), problems=problems, problem_keys=keys)

    dest = shipment.destination
    lot_lines = [line for line in lines if line.lot_id]
    lock_lots([line.lot_id for line in lot_lines])
    movements = []
    for line in lot_lines:
        movements.append(LotMovement(lot_id=line.lot_id, facility=dest, kind=MovementKind.RECEIVE, quantity_kg=line.dispatched,
                                     reference_type=REF_SHIPMENT, reference_code=shipment.code, author=author, created_at=at))
        short = line.dispatched - qty[line.pk]
        if short:
            movements.append(LotMovement(lot_id=line.lot_id, facility=dest, kind=MovementKind.LOSS, quantity_kg=-short,
                                         reference_type=REF_SHIPMENT, reference_code=shipment.code,
                                         reason=loss_reasons[line.pk], author=author, created_at=at))
    LotMovement.objects.bulk_create(movements)
    for line in lines:
        if not line.batch_id:
            continue
        units = int(line.dispatched)
        stock = stock_service.batch_stock_receive(batch=line.batch, facility_id=dest.pk, units=units, reference_type=REF_SHIPMENT,
                                                  reference_code=shipment.code, author=author, at=at)
        short = units - int(qty[line.pk])
        if short:
            stock_service.batch_stock_loss(stock=stock, units=short, reason=loss_reasons[line.pk], reference_type=REF_SHIPMENT,
                                           reference_code=shipment.code, author=author, at=at)
    for line in lines:
        line.received = qty[line.pk]
        line.loss_reason = loss_reasons.get(line.pk, "") if qty[line.pk] < line.dispatched else ""
    ShipmentLine.objects.bulk_update(lines, ["received", "loss_reason"])
    shipment.status = Shipment.Status.RECEIVED
    shipment.received_by = author
    shipment.received_at = at
    shipment.save(update_fields=["status", "received_by", "received_at"])
    return shipment


@transaction.atomic
def lot_loss_record(*, lot: Lot, facility: Facility, weight_kg, reason: str, author, at=None) -> LotMovement:
    """Kilograms of a lot lost at a facility (spoiled, damaged, dried out), with the reason."""
    ensure_acts_at(author, facility)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidQuantity(_("A loss needs a reason."))
    q = positive_kg(weight_kg, label=lot.code)
    lock_lots([lot.pk])
    have = on_hand_kg(facility_id=facility.pk, lot_ids=[lot.pk])[lot.pk]
    if have < q:
        raise InsufficientLotStock(
            _("Lot %(code)s: %(want)s kg asked, %(have)s kg on hand here.") % {"code": lot.code, "want": q, "have": have}
        )
    return LotMovement.objects.create(lot=lot, facility=facility, kind=MovementKind.LOSS, quantity_kg=-q, reference_type=REF_LOSS,
                                      reason=reason, author=author, created_at=at or timezone.now())


@transaction.atomic
def batch_loss_record(*, batch: PackedBatch, facility: Facility, units, reason: str, author, at=None) -> BatchStock:
    """Retail units of a batch lost at a facility, with the reason (never reserved units)."""
    ensure_acts_at(author, facility)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidQuantity(_("A loss needs a reason."))
    n = positive_units(units, label=batch.code)
    stock = BatchStock.objects.select_for_update(of=("self",)).select_related("batch").filter(batch=batch, facility=facility).first()
    if stock is None or stock.available < n:
        raise stock_service.InsufficientStock(
            _("Batch %(batch)s: only %(n)s units available.") % {"batch": batch.code, "n": stock.available if stock else 0}
        )
    stock_service.batch_stock_loss(stock=stock, units=n, reason=reason, reference_type=REF_LOSS, author=author, at=at)
    return stock
