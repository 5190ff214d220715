"""Traceability queries: backward from a batch to lots, intakes, households and points; forward
from a lot or a household to every batch, shipment and (through extensions) sale.

Every trace runs a fixed number of indexed queries, whatever the size of the books, and reads
``.values()`` rows, never model instances. It answers a summary (counts, and events and
quantities per stage) and one page of its events in date order; ``offset``/``limit`` ask for the
next page, and the lists (lots, batches, shipments, stock, extension rows) hold the same slice.
A paged trace (the API, the staff page) reads its summary with aggregate SQL and only its page's
rows (:func:`_paged`; a household's season is hundreds of lots and batches); ``limit=None`` (the
.xlsx export, the batch page) reads every row and builds the same answer in Python. The
marketplace extends the forward trace with ``register_forward_extension(fn)``: ``fn(batch_ids)``
returns extra rows (dicts, e.g. order lines) — logistics never imports the marketplace.

Events follow FSMA-204's Critical Tracking Events with their Key Data Elements: traceability
lot code, product description, quantity and unit of measure, location, date, and the reference
document (type and number) — for intake (the first receiver of a harvest), shipping, receiving,
transformation (packing) and inspection.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, IntegerField, Max, Min, Value
from django.utils import timezone
from django.utils.translation import get_language, gettext, gettext_lazy

from households.models import Household

from ..models import (
    BatchShare,
    Lot,
    PackedBatch,
    PackingInput,
    QualityInspection,
    Shipment,
)
from . import trace_rows as rows_
from .trace_rows import Names

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
    # How many rows each list has in all: a page holds the same slice (offset, limit) of each.
    lists_total: dict = field(default_factory=dict)

    @property
    def next_offset(self) -> int | None:
        """Where the next page starts (of the events and of the lists alike), or None after the last one."""
        if self.events_limit is None:
            return None
        after = self.events_offset + self.events_limit
        return after if after < max(self.events_total, *self.lists_total.values(), 0) else None

    @property
    def next_events_offset(self) -> int | None:
        """Where the next page of events starts, or None after the last event (the staff page pages events only)."""
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
            "lists_page": {"offset": self.events_offset, "limit": self.events_limit, "total": self.lists_total},
        }


_TRANSLATED: dict[tuple, str] = {}
# The language, read once per trace: translation's thread-local lookup cost more than the rest of a label.
_LANGUAGE: ContextVar[str | None] = ContextVar("trace_language", default=None)


def _in_one_language(fn):
    @functools.wraps(fn)
    def trace_in_one_language(*args, **kwargs):
        token = _LANGUAGE.set(get_language())
        try:
            return fn(*args, **kwargs)
        finally:
            _LANGUAGE.reset(token)

    return trace_in_one_language


def _(message: str) -> str:
    """gettext, remembered per language: a trace reads the same few labels hundreds of times."""
    key = (_LANGUAGE.get() or get_language(), message)
    text = _TRANSLATED.get(key)
    if text is None:
        text = _TRANSLATED[key] = gettext(message)
    return text


def _label(labels: dict, code: str) -> str:
    """A lazy label of ``labels`` (module constants) in the current language, remembered the same way."""
    label = labels.get(code)
    if label is None:
        return code
    key = (_LANGUAGE.get() or get_language(), id(label))
    text = _TRANSLATED.get(key)
    if text is None:
        text = _TRANSLATED[key] = str(label)
    return text


_ISO: dict = {}  # many events share a second (a shipment's lines, a packing run's inputs): format each once


def _iso(dt) -> str | None:
    if dt is None:
        return None
    text = _ISO.get(dt)
    if text is None:
        text = timezone.localtime(dt).isoformat(timespec="seconds") if hasattr(dt, "tzinfo") else dt.isoformat()
        if len(_ISO) > 50_000:
            _ISO.clear()
        _ISO[dt] = text
    return text


def _event(kind, *, lot_code, product, quantity, unit, location, at, doc_type, doc_number, source="", destination="", note=""):
    return {
        "event": kind,
        "event_label": _label(EVENT_LABELS, kind),
        "traceability_lot_code": lot_code,
        "product": product,
        "quantity": str(quantity),
        "unit": unit,
        "unit_label": _label(UNIT_LABELS, unit),
        "location": location,
        "date": _iso(at),
        "reference_document_type": str(doc_type),
        "reference_document_number": doc_number,
        "source": str(source),
        "destination": destination,
        "note": str(note),
    }


class _Events:
    """The trace's events as (sort key, builder) — cheap tuples for every event, counted into the
    summary as they are added; the dicts are built only for the page returned."""

    def __init__(self) -> None:
        self.items: list[tuple] = []
        self.stages: dict[str, list] = {}

    def add(self, kind: str, at, quantity, unit: str, build: Callable[[], dict] | None) -> None:
        # The order a person reads: by the second it happened, then by kind (as the page always sorted).
        if build is not None:
            self.items.append(((int(at.timestamp()) if at is not None else -(2**62), kind), build))
        stage = self.stages.get(kind)
        if stage is None:
            stage = self.stages[kind] = [0, Decimal("0.000"), 0]
        stage[0] += 1
        if unit == "kg":
            stage[1] += quantity
        else:
            stage[2] += int(quantity)

    def page(self, offset: int, limit: int | None) -> list[dict]:
        self.items.sort(key=lambda item: item[0])
        chosen = self.items[offset:] if limit is None else self.items[offset:offset + limit]
        return [build() for _key, build in chosen]

    def stage_summary(self) -> dict:
        return {
            kind: {"label": _label(EVENT_LABELS, kind), "events": n, "kg": str(kg) if kg else "0", "units": units}
            for kind, (n, kg, units) in sorted(self.stages.items())
        }


_STATUS_LABELS = {value: label for value, label in Shipment.Status.choices}


def _lot_product(lot: dict, names: Names) -> str:
    grade = names.grades[lot["grade_id"]]
    return f"{grade[3]} {grade[1]}"


def _lot_row(lot: dict, names: Names, used_kg=None) -> dict:
    grade = names.grades[lot["grade_id"]]
    village = names.villages[lot["household__village_id"]]
    row = {
        "lot_code": lot["code"],
        "product": f"{grade[3]} {grade[1]}",
        "produce": grade[2],
        "grade": grade[0],
        "weight_kg": str(lot["weight_kg"]),
        "household": lot["household__number"],
        "village": village[0],
        "township": village[1],
        "collection_point": names.facilities[lot["origin_id"]],
        "intake_at": _iso(lot["intake__created_at"] or lot["created_at"]),
        "voided": lot["intake__void__id"] is not None,
    }
    if used_kg is not None:
        row["used_kg"] = str(used_kg)
    return row


def _add_lot_events(events: _Events, lot: dict, names: Names) -> None:
    at = lot["intake__created_at"] or lot["created_at"]
    events.add(EventType.INTAKE, at, lot["weight_kg"], "kg", lambda: _event(
        EventType.INTAKE, lot_code=lot["code"], product=_lot_product(lot, names), quantity=lot["weight_kg"], unit="kg",
        location=names.location(lot["origin_id"]), at=at, doc_type=_("Intake receipt"), doc_number=lot["code"],
        source=_("household %(number)s") % {"number": lot["household__number"]}))


def _units(value: Decimal) -> str:
    """A count of retail units as a person writes it: "10", not "1E+1" (what ``normalize()`` alone makes of
    10.000) nor "10.000" (how its column holds it)."""
    return f"{value.normalize():f}"


def _add_shipment_events(events: _Events, line: dict, code: str, product: str, unit: str, names: Names) -> None:
    def qty(value):
        return _units(value) if unit == "units" else value

    def where():
        return names.location(line["shipment__origin_id"]), names.location(line["shipment__destination_id"])

    def shipped():
        origin, destination = where()
        return _event(EventType.SHIPPING, lot_code=code, product=product, quantity=qty(line["dispatched"]), unit=unit,
                      location=origin, at=line["shipment__dispatched_at"], doc_type=_("Shipment note"),
                      doc_number=line["shipment__code"], source=origin, destination=destination)

    def received():
        origin, destination = where()
        return _event(EventType.RECEIVING, lot_code=code, product=product, quantity=qty(line["received"]), unit=unit,
                      location=destination, at=line["shipment__received_at"], doc_type=_("Shipment note"),
                      doc_number=line["shipment__code"], source=origin, destination=destination,
                      note=(_("loss %(quantity)s: %(reason)s") % {"quantity": qty(line["dispatched"] - line["received"]),
                                                                   "reason": line["loss_reason"]} if short else ""))

    events.add(EventType.SHIPPING, line["shipment__dispatched_at"], line["dispatched"], unit, shipped)
    if line["received"] is not None:
        short = line["received"] < line["dispatched"]
        events.add(EventType.RECEIVING, line["shipment__received_at"], line["received"], unit, received)
        if short:
            events.add(EventType.LOSS, None, line["dispatched"] - line["received"], unit, None)


def _shipment_row(line: dict, code: str, names: Names) -> dict:
    return {
        "shipment": line["shipment__code"],
        "code": code,
        "origin": names.facilities[line["shipment__origin_id"]],
        "destination": names.facilities[line["shipment__destination_id"]],
        "dispatched": str(line["dispatched"]),
        "received": None if line["received"] is None else str(line["received"]),
        "loss_reason": line["loss_reason"],
        "dispatched_at": _iso(line["shipment__dispatched_at"]),
        "received_at": _iso(line["shipment__received_at"]),
        "status": line["shipment__status"],
        "status_label": _label(_STATUS_LABELS, line["shipment__status"]),
    }


def _batch_row(b: dict, latest_inspection: dict | None, names: Names) -> dict:
    sku = names.skus[b["sku_id"]]
    return {
        "batch_code": b["code"],
        "sku": sku[0],
        "product": sku[1],
        "produce": sku[2],
        "grade": sku[3] or "",
        "units": b["units"],
        "unit_weight_kg": str(b["unit_weight_kg"]),
        "station": names.facilities[b["station_id"]],
        "packed_at": _iso(b["packed_at"]),
        "best_before": b["best_before"].isoformat(),
        "inspection_status": b["inspection_status"],
        "inspected_at": _iso(latest_inspection["inspected_at"]) if latest_inspection else None,
        "on_hold": b["on_hold"],
        "hold_reason": b["hold_reason"],
        "packing_run": b["packing_run__code"],
    }


def _add_output_event(events: _Events, b: dict, names: Names, *, with_note: bool) -> None:
    events.add(EventType.TRANSFORMATION_OUTPUT, b["packed_at"], b["units"], "units", lambda: _event(
        EventType.TRANSFORMATION_OUTPUT, lot_code=b["code"], product=names.skus[b["sku_id"]][1], quantity=b["units"],
        unit="units", location=names.location(b["station_id"]), at=b["packed_at"], doc_type=_("Packing record"),
        doc_number=b["packing_run__code"],
        note=(_("%(weight)s kg per unit; waste %(waste)s kg") % {"weight": b["unit_weight_kg"], "waste": b["packing_run__waste_kg"]}
              if with_note else "")))


def _add_input_event(events: _Events, b: dict, lot: dict, quantity_kg, names: Names) -> None:
    events.add(EventType.TRANSFORMATION_INPUT, b["packed_at"], quantity_kg, "kg", lambda: _event(
        EventType.TRANSFORMATION_INPUT, lot_code=lot["code"], product=_lot_product(lot, names), quantity=quantity_kg, unit="kg",
        location=names.location(b["station_id"]), at=b["packed_at"], doc_type=_("Packing record"),
        doc_number=b["packing_run__code"], destination=b["code"]))


def _forward_of_batches(trace: Trace, events: _Events, batches: list[dict], batch_lines: list[dict], inspections: list[dict],
                        stock: list[dict], names: Names) -> None:
    """Shipments of the batches, where their units are now, inspections, and extension rows (extensions: their own queries)."""
    ids = [b["id"] for b in batches]
    by_id = {b["id"]: b for b in batches}
    latest = {}
    for i in inspections:
        latest[i["batch_id"]] = i
    trace.batches = [_batch_row(b, latest.get(b["id"]), names) for b in batches]
    for i in inspections:
        b = by_id[i["batch_id"]]
        events.add(EventType.INSPECTION, i["inspected_at"], b["units"], "units", lambda b=b, i=i: _event(
            EventType.INSPECTION, lot_code=b["code"], product=names.skus[b["sku_id"]][1], quantity=b["units"], unit="units",
            location=names.location(b["station_id"]), at=i["inspected_at"], doc_type=_("Inspection record"), doc_number=str(i["id"]),
            note=_("passed") if i["passed"] else _("failed: %(notes)s") % {"notes": i["notes"]}))
    for line in batch_lines:
        b = by_id[line["batch_id"]]
        trace.shipments.append(_shipment_row(line, b["code"], names))
        _add_shipment_events(events, line, b["code"], names.skus[b["sku_id"]][1], "units", names)
    trace.stock = [
        {"batch_code": by_id[s["batch_id"]]["code"], "facility": names.facilities[s["facility_id"]], "quantity": s["quantity"],
         "reserved": s["reserved"]}
        for s in stock
    ]
    for fn in _FORWARD_EXTENSIONS:
        trace.extra.extend(fn(ids) or [])


def _finish(trace: Trace, events: _Events, offset: int, limit: int | None, **counts) -> Trace:
    # Loss rows only count into the summary; they are not events of their own on the page.
    loss = events.stages.pop(EventType.LOSS, None)
    trace.events_total = len(events.items)
    trace.events_offset = max(0, offset)
    trace.events_limit = limit
    trace.events = events.page(trace.events_offset, limit)
    trace.lists_total = {"lots": len(trace.lots), "batches": len(trace.batches), "shipments": len(trace.shipments),
                         "stock": len(trace.stock), "extra": len(trace.extra)}
    trace.summary = {
        "lots": len(trace.lots),
        "households": len({row["household"] for row in trace.lots}),
        "batches": len(trace.batches),
        "shipments": len({row["shipment"] for row in trace.shipments}),
        "events": trace.events_total,
        **counts,
        "stages": events.stage_summary(),
        "loss": {"kg": str(loss[1]) if loss else "0", "units": loss[2] if loss else 0},
    }
    return trace


def _row(kind: str, subject) -> dict:
    """The subject's row: given (from ``trace_subject``), or read by id or from the instance's id."""
    if isinstance(subject, dict):
        return subject
    pk = subject["id"] if isinstance(subject, dict) else subject if isinstance(subject, int) else subject.pk
    rows = {"batch": rows_.batch_row, "lot": rows_.lot_row, "household": rows_.household_row}[kind](pk)
    if not rows:
        raise {"batch": PackedBatch, "lot": Lot, "household": Household}[kind].DoesNotExist
    return rows[0]


@_in_one_language
def trace_batch(batch: PackedBatch | int | dict, *, offset: int = 0, limit: int | None = DEFAULT_PAGE) -> Trace:
    """Backward (inputs: lots, intakes, households, points, their shipments, the packing run) and forward."""
    b = _row("batch", batch)
    if limit is not None:
        return _paged("batch", (b["packing_run_id"], b["id"]), b, offset, limit)
    trace = Trace(code=b["code"], kind="batch", subject={})
    events = _Events()
    inputs = rows_.batch_inputs(b["packing_run_id"])
    lots = [{f: i[f"lot__{f}"] for f in rows_.LOT_FIELDS} for i in inputs]
    lot_lines, batch_lines = _split(rows_.batch_lines(b["packing_run_id"], b["id"]))
    inspections, stock = rows_.batch_inspections(b["id"]), rows_.batch_stock(b["id"])
    names = rows_.names_for(lots=lots, batches=[b], lines=lot_lines + batch_lines, stock=stock)
    by_id = {lot["id"]: lot for lot in lots}
    for lot, i in zip(lots, inputs, strict=True):
        trace.lots.append(_lot_row(lot, names, used_kg=i["quantity_kg"]))
        _add_lot_events(events, lot, names)
    for line in lot_lines:
        lot = by_id[line["lot_id"]]
        _add_shipment_events(events, line, lot["code"], _lot_product(lot, names), "kg", names)
    for lot, i in zip(lots, inputs, strict=True):
        _add_input_event(events, b, lot, i["quantity_kg"], names)
    _add_output_event(events, b, names, with_note=True)
    _forward_of_batches(trace, events, [b], batch_lines, inspections, stock, names)
    trace.subject = trace.batches[0]
    return _finish(trace, events, offset, limit)


def _split(lines: list[dict]) -> tuple[list[dict], list[dict]]:
    """(lines of lots, lines of batches), each in id order."""
    lines.sort(key=lambda line: line["id"])
    return [line for line in lines if line["lot_id"]], [line for line in lines if line["batch_id"]]


def _trace_lots(trace: Trace, lots: list[dict], inputs: list[dict], lines: list[dict], inspections: list[dict], stock: list[dict],
                offset: int, limit: int | None) -> Trace:
    events = _Events()
    by_id = {lot["id"]: lot for lot in lots}
    batches: dict[int, dict] = {}
    for i in inputs:
        if i["run__batch__id"] not in batches:
            batches[i["run__batch__id"]] = {f: i[f"run__batch__{f}"] for f in rows_.BATCH_FIELDS}
    # by packing date, then id: the order a paged trace reads them in (trace_rows._batches_page)
    batches = dict(sorted(batches.items(), key=lambda item: (item[1]["packed_at"], item[0])))
    lot_lines, batch_lines = _split(lines)
    names = rows_.names_for(lots=lots, batches=list(batches.values()), lines=lines, stock=stock)
    for lot in lots:
        trace.lots.append(_lot_row(lot, names))
        _add_lot_events(events, lot, names)
    for line in lot_lines:
        lot = by_id[line["lot_id"]]
        trace.shipments.append(_shipment_row(line, lot["code"], names))
        _add_shipment_events(events, line, lot["code"], _lot_product(lot, names), "kg", names)
    for i in inputs:
        _add_input_event(events, batches[i["run__batch__id"]], by_id[i["lot_id"]], i["quantity_kg"], names)
    for b in batches.values():
        _add_output_event(events, b, names, with_note=False)
    lot_shipment_rows = trace.shipments
    trace.shipments = []
    _forward_of_batches(trace, events, list(batches.values()), batch_lines, inspections, stock, names)
    trace.shipments = lot_shipment_rows + trace.shipments
    return _finish(trace, events, offset, limit)


@_in_one_language
def trace_lot(lot: Lot | int | dict, *, offset: int = 0, limit: int | None = DEFAULT_PAGE) -> Trace:
    """Forward from a lot: its intake (with the household's registry number), shipments, the batches it went into."""
    row = _row("lot", lot)
    pk = row["id"]
    if limit is not None:
        return _paged("lot", (pk,), row, offset, limit)
    trace = Trace(code=row["code"], kind="lot", subject={})
    _trace_lots(trace, [row], rows_.lot_inputs(pk), rows_.lot_lines(pk), rows_.lot_inspections(pk), rows_.lot_stock(pk),
                offset, limit)
    trace.subject = trace.lots[0]
    return trace


@_in_one_language
def trace_household(household: Household | int | dict, *, offset: int = 0, limit: int | None = DEFAULT_PAGE) -> Trace:
    """Forward from a household: every lot it delivered and every batch they went into."""
    head = _row("household", household)
    pk = head["id"]
    if limit is not None:
        return _paged("household", (pk,), head, offset, limit)
    lots = rows_.household_lots(pk)
    trace = Trace(code=head["number"], kind="household", subject={})
    _trace_lots(trace, lots, rows_.household_inputs(pk), rows_.household_lines(pk), rows_.household_inspections(pk),
                rows_.household_stock(pk), offset, limit)
    trace.subject = {"household": head["number"], "village": head["village__name"], "lots": len(lots), "batches": len(trace.batches)}
    return trace


# --- a page of a trace, from SQL -----------------------------------------------------------------
#
# What the full trace above computes from every row, a paged trace (limit given) reads from SQL:
# one statement computes the events, sorts and cuts the page from them and counts the summary from
# them (logistics/selectors/trace_rows.py: page_events_and_summary); others read the same slice of
# each list. The answer is the full trace's: the same summary, and page k holds the full list's
# events[offset:offset+limit] (tests/logistics/test_trace_paging.py holds every page to it).


def _stage_totals(rows: list[dict]) -> tuple[dict, int, dict]:
    """(summary less the list counts, events in all, what each list holds in all) from the summary
    statement's rows (less its rows of batch ids)."""
    got = {r["s_tag"]: r for r in rows if r["s_tag"] != rows_.S_BATCH_ID}

    def n(tag, column="s_n"):
        row = got.get(tag)
        return (row[column] or 0) if row else 0

    def q(tag, column="s_total"):
        row = got.get(tag)
        return _milli(row[column]) if row and row[column] is not None else Decimal("0.000")

    zero = Decimal("0.000")
    lots, lot_lines, batch_lines = rows_.S_LOTS, rows_.S_LOT_LINES, rows_.S_BATCH_LINES
    stages = {}
    for kind, count, kg, units in (
        (EventType.INTAKE, n(lots), q(lots), 0),
        (EventType.SHIPPING, n(lot_lines) + n(batch_lines), q(lot_lines), int(q(batch_lines))),
        (EventType.RECEIVING, n(lot_lines, "s_n2") + n(batch_lines, "s_n2"), q(lot_lines, "s_total2"), int(q(batch_lines, "s_total2"))),
        (EventType.TRANSFORMATION_INPUT, n(rows_.S_INPUTS), q(rows_.S_INPUTS), 0),
        (EventType.TRANSFORMATION_OUTPUT, n(rows_.S_BATCHES), 0, int(q(rows_.S_BATCHES))),
        (EventType.INSPECTION, n(rows_.S_INSPECTIONS), 0, int(q(rows_.S_INSPECTIONS))),
    ):
        if count:
            kg = zero + kg
            stages[kind] = {"label": _label(EVENT_LABELS, kind), "events": count, "kg": str(kg) if kg else "0", "units": units}
    events_total = sum(stage["events"] for stage in stages.values())
    if n(lot_lines, "s_n3") + n(batch_lines, "s_n3"):
        loss = {"kg": str(zero + q(lot_lines, "s_total3")), "units": int(q(batch_lines, "s_total3"))}
    else:
        loss = {"kg": "0", "units": 0}
    counts = {"lots": n(lots), "households": n(lots, "s_n2"), "batches": n(rows_.S_BATCHES), "shipments": n(rows_.S_SHIPMENTS),
              "lot_lines": n(lot_lines), "batch_lines": n(batch_lines), "stock": n(rows_.S_STOCK)}
    return {"stages": dict(sorted(stages.items())), "loss": loss}, events_total, counts


_MILLI = Decimal("0.001")


def _milli(value):
    """A quantity as its column holds it (3 places): SQLite hands computed decimals back unscaled."""
    return None if value is None else value.quantize(_MILLI)


def _page_event(r: dict, names: Names, trace_kind: str) -> dict:
    """One event of the page from its row of ``page_events_and_summary``."""
    kind = rows_.EVENT_KINDS[r["e_rank"]]
    r["e_qty"], r["e_a"], r["e_b"] = _milli(r["e_qty"]), _milli(r["e_a"]), _milli(r["e_b"])
    if r["e_grade"] is not None:
        grade = names.grades[r["e_grade"]]
        product = f"{grade[3]} {grade[1]}"
    else:
        product = names.skus[r["e_sku"]][1]
    code, at, quantity = r["e_code"], r["e_at"], r["e_qty"]
    if kind == EventType.INTAKE:
        return _event(kind, lot_code=code, product=product, quantity=quantity, unit="kg", location=names.location(r["e_loc"]), at=at,
                      doc_type=_("Intake receipt"), doc_number=code, source=_("household %(number)s") % {"number": r["e_hh"]})
    if kind in (EventType.SHIPPING, EventType.RECEIVING):
        unit = "kg" if r["e_g"] == rows_.G_LOT_LINE else "units"
        origin, destination = names.location(r["e_src"]), names.location(r["e_dst"])
        note = ""
        if kind == EventType.RECEIVING and quantity < r["e_a"]:
            lost = r["e_a"] - quantity
            note = _("loss %(quantity)s: %(reason)s") % {"quantity": _units(lost) if unit == "units" else lost, "reason": r["e_note"]}
        return _event(kind, lot_code=code, product=product, quantity=_units(quantity) if unit == "units" else quantity, unit=unit,
                      location=origin if kind == EventType.SHIPPING else destination, at=at, doc_type=_("Shipment note"),
                      doc_number=r["e_doc"], source=origin, destination=destination, note=note)
    if kind == EventType.TRANSFORMATION_INPUT:
        return _event(kind, lot_code=code, product=product, quantity=quantity, unit="kg", location=names.location(r["e_loc"]), at=at,
                      doc_type=_("Packing record"), doc_number=r["e_doc"], destination=r["e_dest_code"])
    if kind == EventType.TRANSFORMATION_OUTPUT:
        note = (_("%(weight)s kg per unit; waste %(waste)s kg") % {"weight": r["e_a"], "waste": r["e_b"]} if trace_kind == "batch" else "")
        return _event(kind, lot_code=code, product=product, quantity=int(quantity), unit="units", location=names.location(r["e_loc"]),
                      at=at, doc_type=_("Packing record"), doc_number=r["e_doc"], note=note)
    return _event(kind, lot_code=code, product=product, quantity=int(quantity), unit="units", location=names.location(r["e_loc"]), at=at,
                  doc_type=_("Inspection record"), doc_number=str(r["e_kint"]),
                  note=_("passed") if r["e_flag"] else _("failed: %(notes)s") % {"notes": r["e_note"]})


def _latest(b: dict) -> dict | None:
    return None if b.get("b_inspected_at") is None else {"inspected_at": b["b_inspected_at"]}


def _paged(kind: str, params: tuple, subject: dict, offset: int, limit: int) -> Trace:
    """A summary and one page — events[offset:offset + limit] and the same slice of each list —
    in a fixed number of statements, whatever the number of events."""
    offset, limit = max(0, offset), max(0, limit)
    page = {"offset": offset, "limit": limit}
    event_rows, summary_rows = rows_.page_events_and_summary[kind](*params, **page)
    summary, events_total, counts = _stage_totals(summary_rows)
    if kind == "batch":
        inputs = rows_.batch_inputs_page(params[0], **page)
        lots = [{f: i[f"lot__{f}"] for f in rows_.LOT_FIELDS} for i in inputs]
        used = [i["quantity_kg"] for i in inputs]
        batches = [subject] if offset == 0 else []
    else:
        lots = ([subject] if offset == 0 else []) if kind == "lot" else rows_.household_lots_page(params[0], **page)
        used = [None] * len(lots)
        batches = rows_.page_batches[kind](*params, **page)
    lines = rows_.page_shipments[kind](*params, **page)
    stock = rows_.page_stock[kind](*params, **page)
    extra = []
    if _FORWARD_EXTENSIONS:
        ids = [r["s_n"] for r in summary_rows if r["s_tag"] == rows_.S_BATCH_ID]
        for fn in _FORWARD_EXTENSIONS:
            extra.extend(fn(ids) or [])
    facilities = [r[c] for r in event_rows for c in ("e_loc", "e_src", "e_dst")]
    named_lots = lots + [subject] if kind == "lot" else lots
    named_batches = batches + [subject] if kind == "batch" else batches
    names = rows_.names_of(
        facilities=facilities + [lot["origin_id"] for lot in named_lots] + [b["station_id"] for b in named_batches]
        + [line["shipment__origin_id"] for line in lines] + [line["shipment__destination_id"] for line in lines]
        + [s["facility_id"] for s in stock],
        grades=[r["e_grade"] for r in event_rows] + [lot["grade_id"] for lot in named_lots],
        skus=[r["e_sku"] for r in event_rows] + [b["sku_id"] for b in named_batches],
        villages=[lot["household__village_id"] for lot in named_lots],
    )
    code = subject["number"] if kind == "household" else subject["code"]
    trace = Trace(code=code, kind=kind, subject={}, events_total=events_total, events_offset=offset, events_limit=limit)
    trace.events = [_page_event(r, names, kind) for r in event_rows]
    trace.lots = [_lot_row(lot, names, used_kg=u) for lot, u in zip(lots, used, strict=True)]
    trace.batches = [_batch_row(b, _latest(b), names) for b in batches]
    trace.shipments = [_shipment_row(line, line["l_code"], names) for line in lines]
    trace.stock = [{"batch_code": s["s_code"], "facility": names.facilities[s["facility_id"]], "quantity": s["quantity"],
                    "reserved": s["reserved"]} for s in stock]
    trace.extra = extra[offset:offset + limit]
    n_lots, n_batches = counts["lots"], counts["batches"]
    n_lines = counts["batch_lines"] + (counts["lot_lines"] if kind != "batch" else 0)
    trace.lists_total = {"lots": n_lots, "batches": n_batches, "shipments": n_lines, "stock": counts["stock"], "extra": len(extra)}
    trace.summary = {
        "lots": n_lots,
        "households": counts["households"],
        "batches": n_batches,
        "shipments": counts["shipments"],
        "events": events_total,
        **summary,
    }
    if kind == "batch":
        trace.subject = _batch_row(subject, _latest(subject), names)
    elif kind == "lot":
        trace.subject = _lot_row(subject, names)
    else:
        trace.subject = {"household": subject["number"], "village": subject["village__name"], "lots": n_lots, "batches": n_batches}
    return trace


def trace_of(kind: str, subject, *, offset: int = 0, limit: int | None = DEFAULT_PAGE) -> Trace:
    return {"batch": trace_batch, "lot": trace_lot, "household": trace_household}[kind](subject, offset=offset, limit=limit)


_KINDS = ("batch", "lot", "household")


def trace_subject(code: str, *, batches=None, lots=None, households=None) -> tuple[str, dict] | None:
    """(kind, row) of the batch code, lot code or household registry number ``code`` in the given
    querysets (the whole books by default; logistics/access.py passes a user's scope): one
    statement asks all three, then the subject's row is read by id."""
    code = (code or "").strip()
    if not code:
        return None
    scopes = ((batches, PackedBatch), (lots, Lot), (households, Household))
    if all(qs is None or (qs.model is model and not qs.query.where and not qs.query.combinator) for qs, model in scopes):
        # The whole books (the county office's scope): the statement compiled once.
        hits = sorted((row["trace_kind"], row["id"]) for row in rows_.kind_of_code(code))
        if not hits:
            return None
        kind = _KINDS[hits[0][0]]
        return kind, _row(kind, hits[0][1])
    found = [
        (qs if qs is not None else model.objects.all()).filter(**{field_name: code}).order_by()
        .annotate(trace_kind=Value(k, output_field=IntegerField())).values_list("trace_kind", "pk")
        for k, (qs, model, field_name) in enumerate(((batches, PackedBatch, "code"), (lots, Lot, "code"),
                                                     (households, Household, "number")))
    ]
    hits = sorted(found[0].union(*found[1:], all=True))
    if not hits:
        return None
    kind = _KINDS[hits[0][0]]
    return kind, _row(kind, hits[0][1])


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
