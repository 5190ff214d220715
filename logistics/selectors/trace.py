"""Traceability queries: backward from a batch to lots, intakes, households and points; forward
from a lot or a household to every batch, shipment and (through extensions) sale.

Every trace runs a fixed number of indexed queries, whatever the size of the books, and reads
``.values()`` rows, never model instances. It answers a summary (counts, and events and
quantities per stage) and one page of its events in date order; ``offset``/``limit`` ask for the
next page (an export asks for all of them). Only the page's events are built as dicts. The
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
from decimal import Decimal

from django.db.models import Count, Max, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from households.models import Household

from ..models import (
    BatchShare,
    BatchStock,
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


DEFAULT_PAGE = 50
MAX_PAGE = 500


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
    events: list[dict] = field(default_factory=list)  # the page asked for (all of them when limit is None)
    summary: dict = field(default_factory=dict)
    events_total: int = 0
    events_offset: int = 0
    events_limit: int | None = None

    @property
    def next_offset(self) -> int | None:
        """Where the next page of events starts, or None after the last one."""
        if self.events_limit is None:
            return None
        after = self.events_offset + len(self.events)
        return after if after < self.events_total else None

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "kind": self.kind,
            "subject": self.subject,
            "summary": self.summary,
            "backward": {"lots": self.lots},
            "forward": {"batches": self.batches, "shipments": self.shipments, "stock": self.stock, "extra": self.extra},
            "events": self.events,
            "events_page": {"offset": self.events_offset, "limit": self.events_limit, "total": self.events_total,
                            "next_offset": self.next_offset},
        }


def _iso(dt) -> str | None:
    if dt is None:
        return None
    return timezone.localtime(dt).isoformat(timespec="seconds") if hasattr(dt, "tzinfo") else dt.isoformat()


def _facility(row: dict, prefix: str) -> dict:
    return {"code": row[f"{prefix}code"], "name": row[f"{prefix}name"], "kind": row[f"{prefix}kind"]}


def _location(row: dict, prefix: str) -> str:
    return f"{row[prefix + 'name']} ({row[prefix + 'code']})"


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
        "reference_document_type": str(doc_type),
        "reference_document_number": doc_number,
        "source": str(source),
        "destination": destination,
        "note": str(note),
    }


class _Events:
    """The trace's events as (sort key, kind, quantity, unit, builder) — cheap tuples for every
    event, counted into the summary; the dicts are built only for the page returned."""

    def __init__(self) -> None:
        self.items: list[tuple] = []
        self.stages: dict[str, dict] = {}

    def add(self, kind: str, at, quantity, unit: str, build: Callable[[], dict]) -> None:
        # The order a person reads: by the second it happened, then by kind (as the page always sorted).
        self.items.append(((int(at.timestamp()) if at is not None else -(2**62), kind), build))
        stage = self.stages.get(kind)
        if stage is None:
            stage = self.stages[kind] = {"events": 0, "kg": Decimal("0.000"), "units": 0}
        stage["events"] += 1
        if unit == "kg":
            stage["kg"] += quantity
        else:
            stage["units"] += int(quantity)

    def page(self, offset: int, limit: int | None) -> list[dict]:
        self.items.sort(key=lambda item: item[0])
        chosen = self.items[offset:] if limit is None else self.items[offset:offset + limit]
        return [build() for _key, build in chosen]

    def stage_summary(self) -> dict:
        return {
            kind: {"label": str(EVENT_LABELS.get(kind, kind)), "events": s["events"], "kg": str(s["kg"]) if s["kg"] else "0",
                   "units": s["units"]}
            for kind, s in sorted(self.stages.items())
        }


_LOT_FIELDS = (
    "code", "weight_kg", "created_at", "grade__code", "grade__name", "grade__produce__code", "grade__produce__name",
    "household__number", "household__village__name", "household__village__township__name",
    "origin__code", "origin__name", "origin__kind", "intake__created_at", "intake__void__id",
)
_BATCH_FIELDS = (
    "id", "code", "units", "unit_weight_kg", "packed_at", "best_before", "inspection_status", "on_hold", "hold_reason",
    "packing_run__code", "packing_run__waste_kg", "sku__code", "sku__name", "sku__produce__code", "sku__grade__code",
    "station__code", "station__name", "station__kind",
)
_LINE_FIELDS = (
    "lot_id", "batch_id", "dispatched", "received", "loss_reason", "shipment__code", "shipment__status",
    "shipment__dispatched_at", "shipment__received_at", "shipment__origin__code", "shipment__origin__name",
    "shipment__origin__kind", "shipment__destination__code", "shipment__destination__name", "shipment__destination__kind",
)


def _lot_product(lot: dict, prefix: str = "") -> str:
    return f"{lot[prefix + 'grade__produce__name']} {lot[prefix + 'grade__name']}"


def _lot_row(lot: dict, prefix: str = "", used_kg=None) -> dict:
    p = prefix
    row = {
        "lot_code": lot[p + "code"],
        "product": _lot_product(lot, p),
        "produce": lot[p + "grade__produce__code"],
        "grade": lot[p + "grade__code"],
        "weight_kg": str(lot[p + "weight_kg"]),
        "household": lot[p + "household__number"],
        "village": lot[p + "household__village__name"],
        "township": lot[p + "household__village__township__name"],
        "collection_point": _facility(lot, p + "origin__"),
        "intake_at": _iso(lot[p + "intake__created_at"] or lot[p + "created_at"]),
        "voided": lot[p + "intake__void__id"] is not None,
    }
    if used_kg is not None:
        row["used_kg"] = str(used_kg)
    return row


def _add_lot_events(events: _Events, lot: dict, prefix: str = "") -> None:
    p = prefix
    at = lot[p + "intake__created_at"] or lot[p + "created_at"]
    events.add(EventType.INTAKE, at, lot[p + "weight_kg"], "kg", lambda: _event(
        EventType.INTAKE, lot_code=lot[p + "code"], product=_lot_product(lot, p), quantity=lot[p + "weight_kg"], unit="kg",
        location=_location(lot, p + "origin__"), at=at, doc_type=_("Intake receipt"), doc_number=lot[p + "code"],
        source=_("household %(number)s") % {"number": lot[p + "household__number"]}))


def _add_shipment_events(events: _Events, line: dict, code: str, product: str, unit: str) -> None:
    def qty(value):
        return value.normalize() if unit == "units" else value

    origin, destination = _location(line, "shipment__origin__"), _location(line, "shipment__destination__")
    events.add(EventType.SHIPPING, line["shipment__dispatched_at"], line["dispatched"], unit, lambda: _event(
        EventType.SHIPPING, lot_code=code, product=product, quantity=qty(line["dispatched"]), unit=unit, location=origin,
        at=line["shipment__dispatched_at"], doc_type=_("Shipment note"), doc_number=line["shipment__code"], source=origin,
        destination=destination))
    if line["received"] is not None:
        short = line["received"] < line["dispatched"]
        events.add(EventType.RECEIVING, line["shipment__received_at"], line["received"], unit, lambda: _event(
            EventType.RECEIVING, lot_code=code, product=product, quantity=qty(line["received"]), unit=unit, location=destination,
            at=line["shipment__received_at"], doc_type=_("Shipment note"), doc_number=line["shipment__code"], source=origin,
            destination=destination,
            note=(_("loss %(quantity)s: %(reason)s") % {"quantity": line["dispatched"] - line["received"], "reason": line["loss_reason"]}
                  if short else "")))
        if short:
            events.add(EventType.LOSS, None, line["dispatched"] - line["received"], unit, None)


def _shipment_row(line: dict, code: str) -> dict:
    return {
        "shipment": line["shipment__code"],
        "code": code,
        "origin": _facility(line, "shipment__origin__"),
        "destination": _facility(line, "shipment__destination__"),
        "dispatched": str(line["dispatched"]),
        "received": None if line["received"] is None else str(line["received"]),
        "loss_reason": line["loss_reason"],
        "dispatched_at": _iso(line["shipment__dispatched_at"]),
        "received_at": _iso(line["shipment__received_at"]),
        "status": line["shipment__status"],
        "status_label": str(Shipment.Status(line["shipment__status"]).label),
    }


def _batch_row(b: dict, latest_inspection: dict | None) -> dict:
    return {
        "batch_code": b["code"],
        "sku": b["sku__code"],
        "product": b["sku__name"],
        "produce": b["sku__produce__code"],
        "grade": b["sku__grade__code"] or "",
        "units": b["units"],
        "unit_weight_kg": str(b["unit_weight_kg"]),
        "station": _facility(b, "station__"),
        "packed_at": _iso(b["packed_at"]),
        "best_before": b["best_before"].isoformat(),
        "inspection_status": b["inspection_status"],
        "inspected_at": _iso(latest_inspection["inspected_at"]) if latest_inspection else None,
        "on_hold": b["on_hold"],
        "hold_reason": b["hold_reason"],
        "packing_run": b["packing_run__code"],
    }


def _add_output_event(events: _Events, b: dict, *, with_note: bool) -> None:
    events.add(EventType.TRANSFORMATION_OUTPUT, b["packed_at"], b["units"], "units", lambda: _event(
        EventType.TRANSFORMATION_OUTPUT, lot_code=b["code"], product=b["sku__name"], quantity=b["units"], unit="units",
        location=_location(b, "station__"), at=b["packed_at"], doc_type=_("Packing record"), doc_number=b["packing_run__code"],
        note=(_("%(weight)s kg per unit; waste %(waste)s kg") % {"weight": b["unit_weight_kg"], "waste": b["packing_run__waste_kg"]}
              if with_note else "")))


def _lines(*, lot_ids: list[int], batch_ids: list[int]) -> tuple[list[dict], list[dict]]:
    """Shipment lines of these lots and of these batches, in one query: (lot lines, batch lines)."""
    if not lot_ids and not batch_ids:
        return [], []
    lines = list(ShipmentLine.objects.filter(Q(lot_id__in=lot_ids) | Q(batch_id__in=batch_ids)).order_by("pk").values(*_LINE_FIELDS))
    return [line for line in lines if line["lot_id"]], [line for line in lines if line["batch_id"]]


def _forward_of_batches(trace: Trace, events: _Events, batches: list[dict], batch_lines: list[dict]) -> None:
    """Shipments of the batches, where their units are now, inspections, and extension rows: 2 queries + extensions."""
    ids = [b["id"] for b in batches]
    by_id = {b["id"]: b for b in batches}
    inspections = list(QualityInspection.objects.filter(batch_id__in=ids).order_by("inspected_at", "pk")
                       .values("id", "batch_id", "inspected_at", "passed", "notes"))
    latest = {}
    for i in inspections:
        latest[i["batch_id"]] = i
    trace.batches = [_batch_row(b, latest.get(b["id"])) for b in batches]
    for i in inspections:
        b = by_id[i["batch_id"]]
        events.add(EventType.INSPECTION, i["inspected_at"], b["units"], "units", lambda b=b, i=i: _event(
            EventType.INSPECTION, lot_code=b["code"], product=b["sku__name"], quantity=b["units"], unit="units",
            location=_location(b, "station__"), at=i["inspected_at"], doc_type=_("Inspection record"), doc_number=str(i["id"]),
            note=_("passed") if i["passed"] else _("failed: %(notes)s") % {"notes": i["notes"]}))
    for line in batch_lines:
        b = by_id[line["batch_id"]]
        trace.shipments.append(_shipment_row(line, b["code"]))
        _add_shipment_events(events, line, b["code"], b["sku__name"], "units")
    stock = (BatchStock.objects.filter(batch_id__in=ids).order_by("batch_id", "facility_id")
             .values("batch_id", "quantity", "reserved", "facility__code", "facility__name", "facility__kind"))
    trace.stock = [
        {"batch_code": by_id[s["batch_id"]]["code"], "facility": _facility(s, "facility__"), "quantity": s["quantity"],
         "reserved": s["reserved"]}
        for s in stock
    ]
    for fn in _FORWARD_EXTENSIONS:
        trace.extra.extend(fn(ids) or [])


def _finish(trace: Trace, events: _Events, offset: int, limit: int | None, **counts) -> Trace:
    # Loss rows only count into the summary; they are not events of their own on the page.
    loss = events.stages.pop(EventType.LOSS, None)
    events.items = [item for item in events.items if item[1] is not None]
    trace.events_total = len(events.items)
    trace.events_offset = max(0, offset)
    trace.events_limit = limit
    trace.events = events.page(trace.events_offset, limit)
    trace.summary = {
        "lots": len(trace.lots),
        "households": len({row["household"] for row in trace.lots}),
        "batches": len(trace.batches),
        "shipments": len({row["shipment"] for row in trace.shipments}),
        "events": trace.events_total,
        **counts,
        "stages": events.stage_summary(),
        "loss": {"kg": str(loss["kg"]) if loss else "0", "units": loss["units"] if loss else 0},
    }
    return trace


_SUBJECT_FIELDS = {
    "batch": (*_BATCH_FIELDS, "packing_run_id"),
    "lot": ("id", *_LOT_FIELDS),
    "household": ("id", "number", "village__name"),
}


def _row(kind: str, subject) -> dict:
    """The subject's row: given (from ``trace_subject``), or read by id or from the instance's id."""
    if isinstance(subject, dict):
        return subject
    model = {"batch": PackedBatch, "lot": Lot, "household": Household}[kind]
    return model.objects.filter(pk=subject if isinstance(subject, int) else subject.pk).values(*_SUBJECT_FIELDS[kind]).get()


def trace_batch(batch: PackedBatch | int | dict, *, offset: int = 0, limit: int | None = DEFAULT_PAGE) -> Trace:
    """Backward (inputs: lots, intakes, households, points, their shipments, the packing run) and forward."""
    b = _row("batch", batch)
    trace = Trace(code=b["code"], kind="batch", subject={})
    events = _Events()
    inputs = list(PackingInput.objects.filter(run_id=b["packing_run_id"]).order_by("lot__code")
                  .values("lot_id", "quantity_kg", *(f"lot__{f}" for f in _LOT_FIELDS)))
    lots = {i["lot_id"]: i for i in inputs}
    for i in inputs:
        trace.lots.append(_lot_row(i, "lot__", used_kg=i["quantity_kg"]))
        _add_lot_events(events, i, "lot__")
    lot_lines, batch_lines = _lines(lot_ids=list(lots), batch_ids=[b["id"]])
    for line in lot_lines:
        lot = lots[line["lot_id"]]
        _add_shipment_events(events, line, lot["lot__code"], _lot_product(lot, "lot__"), "kg")
    for i in inputs:
        events.add(EventType.TRANSFORMATION_INPUT, b["packed_at"], i["quantity_kg"], "kg", lambda i=i: _event(
            EventType.TRANSFORMATION_INPUT, lot_code=i["lot__code"], product=_lot_product(i, "lot__"), quantity=i["quantity_kg"],
            unit="kg", location=_location(b, "station__"), at=b["packed_at"], doc_type=_("Packing record"),
            doc_number=b["packing_run__code"], destination=b["code"]))
    _add_output_event(events, b, with_note=True)
    _forward_of_batches(trace, events, [b], batch_lines)
    trace.subject = trace.batches[0]
    return _finish(trace, events, offset, limit)


def _trace_lots(trace: Trace, lots: list[dict], offset: int, limit: int | None) -> Trace:
    events = _Events()
    by_id = {lot["id"]: lot for lot in lots}
    for lot in lots:
        trace.lots.append(_lot_row(lot))
        _add_lot_events(events, lot)
    inputs = list(PackingInput.objects.filter(lot_id__in=list(by_id), run__batch__isnull=False).order_by("run__batch__packed_at", "pk")
                  .values("lot_id", "quantity_kg", *(f"run__batch__{f}" for f in _BATCH_FIELDS)))
    batches: dict[int, dict] = {}
    for i in inputs:
        if i["run__batch__id"] not in batches:
            batches[i["run__batch__id"]] = {f: i[f"run__batch__{f}"] for f in _BATCH_FIELDS}
    batch_ids = sorted(batches)
    lot_lines, batch_lines = _lines(lot_ids=list(by_id), batch_ids=batch_ids)
    for line in lot_lines:
        lot = by_id[line["lot_id"]]
        trace.shipments.append(_shipment_row(line, lot["code"]))
        _add_shipment_events(events, line, lot["code"], _lot_product(lot), "kg")
    seen: dict[int, dict] = {}
    for i in inputs:
        b = batches.get(i["run__batch__id"])
        if b is None:
            continue
        seen.setdefault(b["id"], b)
        lot = by_id[i["lot_id"]]
        events.add(EventType.TRANSFORMATION_INPUT, b["packed_at"], i["quantity_kg"], "kg", lambda i=i, b=b, lot=lot: _event(
            EventType.TRANSFORMATION_INPUT, lot_code=lot["code"], product=_lot_product(lot), quantity=i["quantity_kg"], unit="kg",
            location=_location(b, "station__"), at=b["packed_at"], doc_type=_("Packing record"), doc_number=b["packing_run__code"],
            destination=b["code"]))
    for b in seen.values():
        _add_output_event(events, b, with_note=False)
    lot_shipment_rows = trace.shipments
    trace.shipments = []
    _forward_of_batches(trace, events, list(seen.values()), batch_lines)
    trace.shipments = lot_shipment_rows + trace.shipments
    return _finish(trace, events, offset, limit)


def trace_lot(lot: Lot | int | dict, *, offset: int = 0, limit: int | None = DEFAULT_PAGE) -> Trace:
    """Forward from a lot: its intake (with the household's registry number), shipments, the batches it went into."""
    rows = [_row("lot", lot)]
    trace = Trace(code=rows[0]["code"], kind="lot", subject={})
    _trace_lots(trace, rows, offset, limit)
    trace.subject = trace.lots[0]
    return trace


def trace_household(household: Household | int | dict, *, offset: int = 0, limit: int | None = DEFAULT_PAGE) -> Trace:
    """Forward from a household: every lot it delivered and every batch they went into."""
    head = _row("household", household)
    lots = list(Lot.objects.filter(household_id=head["id"]).order_by("created_at", "pk").values("id", *_LOT_FIELDS))
    trace = Trace(code=head["number"], kind="household", subject={})
    _trace_lots(trace, lots, offset, limit)
    trace.subject = {"household": head["number"], "village": head["village__name"], "lots": len(lots), "batches": len(trace.batches)}
    return trace


def trace_of(kind: str, subject, *, offset: int = 0, limit: int | None = DEFAULT_PAGE) -> Trace:
    return {"batch": trace_batch, "lot": trace_lot, "household": trace_household}[kind](subject, offset=offset, limit=limit)


def trace_subject(code: str, *, batches=None, lots=None, households=None) -> tuple[str, dict] | None:
    """(kind, row) of the batch code, lot code or household registry number ``code`` in the given
    querysets (the whole books by default; logistics/access.py passes a user's scope)."""
    code = (code or "").strip()
    if not code:
        return None
    for kind, qs, field_name in (
        ("batch", batches if batches is not None else PackedBatch.objects.all(), "code"),
        ("lot", lots if lots is not None else Lot.objects.all(), "code"),
        ("household", households if households is not None else Household.objects.all(), "number"),
    ):
        found = qs.filter(**{field_name: code}).order_by().values(*_SUBJECT_FIELDS[kind]).first()
        if found is not None:
            return kind, found
    return None


def trace_for_code(code: str, *, offset: int = 0, limit: int | None = DEFAULT_PAGE) -> Trace | None:
    """A batch code, a lot code or a household registry number; None if it is none of these."""
    subject = trace_subject(code)
    return None if subject is None else trace_of(*subject, offset=offset, limit=limit)


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
