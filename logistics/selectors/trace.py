"""Traceability queries: backward from a batch to lots, intakes, households and points; forward
from a lot or a household to every batch, shipment and (through extensions) sale.

Every trace runs a fixed number of indexed queries, whatever the size of the books. The
marketplace extends the forward trace with ``register_forward_extension(fn)``: ``fn(batch_ids)``
returns extra rows (dicts, e.g. order lines) — logistics never imports the marketplace.

Events follow FSMA-204's Critical Tracking Events with their Key Data Elements: traceability
lot code, product description, quantity and unit of measure, location, date, and the reference
document (type and number) — for intake (the first receiver of a harvest), shipping, receiving,
transformation (packing) and inspection.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Count, Max, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from households.models import Household

from ..models import (
    BatchShare,
    BatchStock,
    Facility,
    Lot,
    PackedBatch,
    PackingInput,
    QualityInspection,
    Shipment,
    ShipmentLine,
)

ForwardExtension = Callable[[list[int]], list[dict]]
_FORWARD_EXTENSIONS: list[ForwardExtension] = []


def register_forward_extension(fn: ForwardExtension) -> ForwardExtension:
    """Add ``fn(batch_ids) -> list[dict]`` to every forward trace (idempotent; usable as a decorator)."""
    if fn not in _FORWARD_EXTENSIONS:
        _FORWARD_EXTENSIONS.append(fn)
    return fn


def unregister_forward_extension(fn: ForwardExtension) -> None:
    if fn in _FORWARD_EXTENSIONS:
        _FORWARD_EXTENSIONS.remove(fn)


class EventType:
    INTAKE = "intake"  # FSMA-204 harvesting / initial packing by the first receiver
    SHIPPING = "shipping"
    RECEIVING = "receiving"
    TRANSFORMATION_INPUT = "transformation_input"
    TRANSFORMATION_OUTPUT = "transformation_output"
    INSPECTION = "inspection"
    LOSS = "loss"


# What a person reads; ``event`` and ``unit`` stay codes for machines (the API, sorting).
EVENT_LABELS = {
    EventType.INTAKE: gettext_lazy("Intake"),
    EventType.SHIPPING: gettext_lazy("Shipped"),
    EventType.RECEIVING: gettext_lazy("Received"),
    EventType.TRANSFORMATION_INPUT: gettext_lazy("Packed in (input)"),
    EventType.TRANSFORMATION_OUTPUT: gettext_lazy("Packed (output)"),
    EventType.INSPECTION: gettext_lazy("Quality inspection"),
    EventType.LOSS: gettext_lazy("Loss"),
}
UNIT_LABELS = {"kg": "kg", "units": gettext_lazy("units")}


@dataclass
class Trace:
    code: str
    kind: str  # batch | lot | household
    subject: dict
    lots: list[dict] = field(default_factory=list)
    batches: list[dict] = field(default_factory=list)
    shipments: list[dict] = field(default_factory=list)
    stock: list[dict] = field(default_factory=list)
    extra: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "kind": self.kind,
            "subject": self.subject,
            "backward": {"lots": self.lots},
            "forward": {"batches": self.batches, "shipments": self.shipments, "stock": self.stock, "extra": self.extra},
            "events": self.events,
        }


def _iso(dt) -> str | None:
    if dt is None:
        return None
    return timezone.localtime(dt).isoformat(timespec="seconds") if hasattr(dt, "tzinfo") else dt.isoformat()


def _facility(f: Facility) -> dict:
    return {"code": f.code, "name": f.name, "kind": f.kind}


def _location(f: Facility) -> str:
    return f"{f.name} ({f.code})"


def _event(kind, *, lot_code, product, quantity, unit, location, at, doc_type, doc_number, source="", destination="", note=""):
    return {
        "event": kind,
        "event_label": str(EVENT_LABELS.get(kind, kind)),
        "traceability_lot_code": lot_code,
        "product": product,
        "quantity": str(quantity),
        "unit": unit,
        "unit_label": str(UNIT_LABELS.get(unit, unit)),
        "location": location,
        "date": _iso(at),
        "reference_document_type": doc_type,
        "reference_document_number": doc_number,
        "source": source,
        "destination": destination,
        "note": note,
    }


def _lot_row(lot: Lot, used_kg=None) -> dict:
    intake = getattr(lot, "intake", None)
    village = lot.household.village
    row = {
        "lot_code": lot.code,
        "product": f"{lot.grade.produce.name} {lot.grade.name}",
        "produce": lot.grade.produce.code,
        "grade": lot.grade.code,
        "weight_kg": str(lot.weight_kg),
        "household": lot.household.number,
        "village": village.name,
        "township": village.township.name,
        "collection_point": _facility(lot.origin),
        "intake_at": _iso(intake.created_at if intake else lot.created_at),
        "voided": bool(intake and hasattr(intake, "void")),
    }
    if used_kg is not None:
        row["used_kg"] = str(used_kg)
    return row


def _lot_events(lot: Lot) -> list[dict]:
    intake = getattr(lot, "intake", None)
    return [
        _event(EventType.INTAKE, lot_code=lot.code, product=f"{lot.grade.produce.name} {lot.grade.name}", quantity=lot.weight_kg,
               unit="kg", location=_location(lot.origin), at=intake.created_at if intake else lot.created_at,
               doc_type=_("Intake receipt"), doc_number=lot.code,
               source=_("household %(number)s") % {"number": lot.household.number})
    ]


def _shipment_events(line: ShipmentLine, code: str, product: str, unit: str) -> list[dict]:
    s = line.shipment
    rows = [
        _event(EventType.SHIPPING, lot_code=code, product=product, quantity=line.dispatched.normalize() if unit == "units" else line.dispatched,
               unit=unit, location=_location(s.origin), at=s.dispatched_at, doc_type=_("Shipment note"), doc_number=s.code,
               source=_location(s.origin), destination=_location(s.destination))
    ]
    if line.received is not None:
        rows.append(
            _event(EventType.RECEIVING, lot_code=code, product=product,
                   quantity=line.received.normalize() if unit == "units" else line.received, unit=unit, location=_location(s.destination),
                   at=s.received_at, doc_type=_("Shipment note"), doc_number=s.code, source=_location(s.origin),
                   destination=_location(s.destination),
                   note=(_("loss %(quantity)s: %(reason)s") % {"quantity": line.dispatched - line.received, "reason": line.loss_reason}
                         if line.received < line.dispatched else ""))
        )
    return rows


def _sku_product(batch: PackedBatch) -> str:
    return batch.sku.name


def _batch_row(batch: PackedBatch, latest_inspection=None) -> dict:
    return {
        "batch_code": batch.code,
        "sku": batch.sku.code,
        "product": batch.sku.name,
        "produce": batch.sku.produce.code,
        "grade": batch.sku.grade.code if batch.sku.grade_id else "",
        "units": batch.units,
        "unit_weight_kg": str(batch.unit_weight_kg),
        "station": _facility(batch.station),
        "packed_at": _iso(batch.packed_at),
        "best_before": batch.best_before.isoformat(),
        "inspection_status": batch.inspection_status,
        "inspected_at": _iso(latest_inspection.inspected_at) if latest_inspection else None,
        "on_hold": batch.on_hold,
        "hold_reason": batch.hold_reason,
        "packing_run": batch.packing_run.code,
    }


_BATCH_RELATED = ("sku__produce", "sku__grade", "station", "packing_run")
_LOT_RELATED = ("grade__produce", "household__village__township", "origin", "intake__void")
# Only the columns a trace shows: the household row is wide and holds personal data a trace never needs.
_LOT_ONLY = (
    "code", "weight_kg", "created_at", "grade__code", "grade__name", "grade__produce__code", "grade__produce__name",
    "household__number", "household__village__name", "household__village__township__name",
    "origin__code", "origin__name", "origin__kind", "intake__created_at", "intake__void__id",
)


def _lines(*, lot_ids: list[int], batch_ids: list[int]) -> tuple[list[ShipmentLine], list[ShipmentLine]]:
    """Shipment lines of these lots and of these batches, in one query: (lot lines, batch lines)."""
    if not lot_ids and not batch_ids:
        return [], []
    lines = list(
        ShipmentLine.objects.filter(Q(lot_id__in=lot_ids) | Q(batch_id__in=batch_ids))
        .select_related("shipment__origin", "shipment__destination")
        .order_by("pk")
    )
    return [line for line in lines if line.lot_id], [line for line in lines if line.batch_id]


def _forward_of_batches(trace: Trace, batches: list[PackedBatch], batch_lines: list[ShipmentLine]) -> None:
    """Shipments of the batches, where their units are now, inspections, and extension rows: 2 queries + extensions."""
    ids = [b.pk for b in batches]
    by_id = {b.pk: b for b in batches}
    inspections = list(QualityInspection.objects.filter(batch_id__in=ids).order_by("inspected_at", "pk"))
    latest = {}
    for i in inspections:
        latest[i.batch_id] = i
    trace.batches = [_batch_row(b, latest.get(b.pk)) for b in batches]
    for i in inspections:
        b = by_id[i.batch_id]
        trace.events.append(
            _event(EventType.INSPECTION, lot_code=b.code, product=_sku_product(b), quantity=b.units, unit="units",
                   location=_location(b.station), at=i.inspected_at, doc_type=_("Inspection record"), doc_number=str(i.pk),
                   note=_("passed") if i.passed else _("failed: %(notes)s") % {"notes": i.notes})
        )
    for line in batch_lines:
        b = by_id[line.batch_id]
        trace.shipments.append(_shipment_row(line, b.code))
        trace.events.extend(_shipment_events(line, b.code, _sku_product(b), "units"))
    stock = BatchStock.objects.filter(batch_id__in=ids).select_related("facility").order_by("batch_id", "facility_id")
    trace.stock = [
        {"batch_code": by_id[s.batch_id].code, "facility": _facility(s.facility), "quantity": s.quantity, "reserved": s.reserved}
        for s in stock
    ]
    for fn in _FORWARD_EXTENSIONS:
        trace.extra.extend(fn(ids) or [])


def _shipment_row(line: ShipmentLine, code: str) -> dict:
    s = line.shipment
    return {
        "shipment": s.code,
        "code": code,
        "origin": _facility(s.origin),
        "destination": _facility(s.destination),
        "dispatched": str(line.dispatched),
        "received": None if line.received is None else str(line.received),
        "loss_reason": line.loss_reason,
        "dispatched_at": _iso(s.dispatched_at),
        "received_at": _iso(s.received_at),
        "status": s.status,
        "status_label": str(Shipment.Status(s.status).label),
    }


def trace_batch(batch: PackedBatch) -> Trace:
    """Backward (inputs: lots, intakes, households, points, their shipments, the packing run) and forward."""
    trace = Trace(code=batch.code, kind="batch", subject={})
    inputs = list(PackingInput.objects.filter(run_id=batch.packing_run_id).select_related(*(f"lot__{r}" for r in _LOT_RELATED))
                  .only("quantity_kg", "lot_id", "run_id", *(f"lot__{f}" for f in _LOT_ONLY)).order_by("lot__code"))
    lots = {i.lot_id: i.lot for i in inputs}
    for i in inputs:
        trace.lots.append(_lot_row(i.lot, used_kg=i.quantity_kg))
        trace.events.extend(_lot_events(i.lot))
    lot_lines, batch_lines = _lines(lot_ids=list(lots), batch_ids=[batch.pk])
    for line in lot_lines:
        lot = lots[line.lot_id]
        trace.events.extend(_shipment_events(line, lot.code, f"{lot.grade.produce.name} {lot.grade.name}", "kg"))
    run = batch.packing_run
    for i in inputs:
        trace.events.append(
            _event(EventType.TRANSFORMATION_INPUT, lot_code=i.lot.code, product=f"{i.lot.grade.produce.name} {i.lot.grade.name}",
                   quantity=i.quantity_kg, unit="kg", location=_location(batch.station), at=batch.packed_at,
                   doc_type=_("Packing record"), doc_number=run.code, destination=batch.code)
        )
    trace.events.append(
        _event(EventType.TRANSFORMATION_OUTPUT, lot_code=batch.code, product=_sku_product(batch), quantity=batch.units, unit="units",
               location=_location(batch.station), at=batch.packed_at, doc_type=_("Packing record"), doc_number=run.code,
               note=_("%(weight)s kg per unit; waste %(waste)s kg") % {"weight": batch.unit_weight_kg, "waste": run.waste_kg})
    )
    _forward_of_batches(trace, [batch], batch_lines)
    trace.subject = trace.batches[0]
    trace.events.sort(key=lambda e: (e["date"] or "", e["event"]))
    return trace


def _trace_lots(trace: Trace, lots: list[Lot]) -> None:
    lot_ids = [lot.pk for lot in lots]
    by_id = {lot.pk: lot for lot in lots}
    for lot in lots:
        trace.lots.append(_lot_row(lot))
        trace.events.extend(_lot_events(lot))
    inputs = list(PackingInput.objects.filter(lot_id__in=lot_ids).select_related(*(f"run__batch__{r}" for r in _BATCH_RELATED))
                  .order_by("run__batch__packed_at", "pk"))
    lot_lines, batch_lines = _lines(lot_ids=lot_ids, batch_ids=sorted({i.run.batch.pk for i in inputs}))
    for line in lot_lines:
        lot = by_id[line.lot_id]
        trace.shipments.append(_shipment_row(line, lot.code))
        trace.events.extend(_shipment_events(line, lot.code, f"{lot.grade.produce.name} {lot.grade.name}", "kg"))
    batches: dict[int, PackedBatch] = {}
    for i in inputs:
        b = i.run.batch
        batches[b.pk] = b
        lot = by_id[i.lot_id]
        trace.events.append(
            _event(EventType.TRANSFORMATION_INPUT, lot_code=lot.code, product=f"{lot.grade.produce.name} {lot.grade.name}",
                   quantity=i.quantity_kg, unit="kg", location=_location(b.station), at=b.packed_at, doc_type=_("Packing record"),
                   doc_number=i.run.code, destination=b.code)
        )
    for b in batches.values():
        trace.events.append(
            _event(EventType.TRANSFORMATION_OUTPUT, lot_code=b.code, product=_sku_product(b), quantity=b.units, unit="units",
                   location=_location(b.station), at=b.packed_at, doc_type=_("Packing record"), doc_number=b.packing_run.code)
        )
    lot_shipment_rows = trace.shipments
    trace.shipments = []
    _forward_of_batches(trace, list(batches.values()), batch_lines)
    trace.shipments = lot_shipment_rows + trace.shipments
    trace.events.sort(key=lambda e: (e["date"] or "", e["event"]))


def trace_lot(lot: Lot) -> Trace:
    """Forward from a lot: its intake (with the household's registry number), shipments, the batches it went into."""
    trace = Trace(code=lot.code, kind="lot", subject={})
    _trace_lots(trace, [lot])
    trace.subject = trace.lots[0]
    return trace


def trace_household(household: Household) -> Trace:
    """Forward from a household: every lot it delivered and every batch they went into."""
    trace = Trace(code=household.number, kind="household", subject={"household": household.number})
    lots = list(Lot.objects.filter(household=household).select_related(*_LOT_RELATED).only(*_LOT_ONLY).order_by("created_at", "pk"))
    _trace_lots(trace, lots)
    trace.subject = {"household": household.number, "village": household.village.name, "lots": len(lots), "batches": len(trace.batches)}
    return trace


def trace_for_code(code: str) -> Trace | None:
    """A batch code, a lot code or a household registry number; None if it is none of these."""
    code = (code or "").strip()
    if not code:
        return None
    batch = PackedBatch.objects.select_related(*_BATCH_RELATED).filter(code=code).first()
    if batch is not None:
        return trace_batch(batch)
    lot = Lot.objects.select_related(*_LOT_RELATED).only(*_LOT_ONLY).filter(code=code).first()
    if lot is not None:
        return trace_lot(lot)
    household = Household.objects.select_related("village").filter(number=code).first()
    if household is not None:
        return trace_household(household)
    return None


def public_batch_trace(code: str) -> dict | None:
    """What the public page shows for a batch: aggregates only — no names, IDs or registry numbers."""
    batch = PackedBatch.objects.select_related("sku__produce", "sku__grade", "station__township").filter(code=code).first()
    if batch is None:
        return None
    inputs = PackingInput.objects.filter(run_id=batch.packing_run_id)
    places = list(
        inputs.values("lot__household__village__name", "lot__household__village__township__name")
        .distinct()
        .order_by("lot__household__village__township__name", "lot__household__village__name")
    )
    span = inputs.aggregate(first=Min("lot__intake__created_at"), last=Max("lot__intake__created_at"))
    households = BatchShare.objects.filter(batch=batch).aggregate(n=Count("pk"))["n"]
    inspection = QualityInspection.objects.filter(batch=batch, passed=True).order_by("-inspected_at").first()
    villages = [p["lot__household__village__name"] for p in places]
    townships = sorted({p["lot__household__village__township__name"] for p in places})
    return {
        "code": batch.code,
        "product": batch.sku.name,
        "produce": batch.sku.produce.name,
        "grade": batch.sku.grade.name if batch.sku.grade_id else "",
        "unit_weight_kg": batch.unit_weight_kg,
        "villages": villages,
        "townships": townships,
        "households": households,
        "intake_from": timezone.localtime(span["first"]).date() if span["first"] else None,
        "intake_to": timezone.localtime(span["last"]).date() if span["last"] else None,
        "station": batch.station.name,
        "packed_on": timezone.localtime(batch.packed_at).date(),
        "best_before": batch.best_before,
        "inspected_on": timezone.localtime(inspection.inspected_at).date() if inspection else None,
        "inspection_status": batch.inspection_status,
        "on_hold": batch.on_hold,
    }
