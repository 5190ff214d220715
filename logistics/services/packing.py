"""Packing runs at a sorting station: many lots in, one PackedBatch of retail units out.

The rule a run must meet (checked to the gram): the kilograms taken from the input lots equal
``units × net weight per unit + waste``. Each input lot's kilograms leave the station's stock
as a ``pack`` movement (the waste is part of what was taken, recorded on the run). The batch's
composition — each household's kilograms among the inputs — is written as BatchShare rows now
and never changes; settlement splits the batch's revenue by it.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.money import kg

from ..errors import InsufficientLotStock, InvalidQuantity, PackingRefused
from ..models import (
    BatchShare,
    Facility,
    Grade,
    LotMovement,
    MovementKind,
    PackedBatch,
    PackingInput,
    PackingRun,
    Sku,
)
from . import stock as stock_service
from ._common import lock_lots, on_hand_kg, positive_kg, positive_units
from .access import ensure_acts_at

REF_PACKING = "packing"


def _batch_code(station: Facility, at: datetime.datetime) -> str:
    """Readable and unique: ``<station code>-<yymmdd>-<nnn>``, e.g. ``ST-611025103-261012-004``;
    the station row is locked by the caller, so the day's sequence cannot collide."""
    day = timezone.localtime(at).date()
    prefix = f"{station.code[-14:]}-{day:%y%m%d}-"
    seq = PackedBatch.objects.filter(station=station, code__startswith=prefix).count() + 1
    return f"{prefix}{seq:03d}"


@transaction.atomic
def packing_run_complete(
    *,
    station: Facility,
    sku: Sku,
    inputs: list,
    units,
    unit_weight_kg=None,
    best_before: datetime.date | None = None,
    waste_kg=0,
    author,
    at=None,
) -> PackedBatch:
    """Record a packing run and the batch it produced; returns the batch (awaiting inspection)."""
    at = at or timezone.now()
    ensure_acts_at(author, station)
    station = Facility.objects.select_for_update().get(pk=station.pk)
    if station.kind != Facility.Kind.SORTING_STATION:
        raise PackingRefused(_("Packing happens at a sorting station; %(facility)s is not one.") % {"facility": station.name})
    n_units = positive_units(units, label=_("units"), field="units")
    unit_weight = positive_kg(unit_weight_kg if unit_weight_kg not in (None, "") else sku.unit_weight_kg, label=_("net weight per unit"),
                              max_digits=8, field="unit_weight_kg")
    waste = positive_kg(waste_kg or 0, label=_("waste"), allow_zero=True, field="waste_kg")
    if not inputs:
        raise PackingRefused(_("A packing run needs at least one input lot."))

    want: dict[int, Decimal] = defaultdict(Decimal)
    problems: list[str] = []
    keys: dict[str, str] = {}  # "lot:<id>" -> the problem with that input, for the form to mark
    for lot, q in inputs:
        try:
            want[lot.pk] += positive_kg(q, label=lot.code)
        except InvalidQuantity as exc:
            problems.append(exc.message)
            keys[f"lot:{lot.pk}"] = exc.message
    if problems:
        raise PackingRefused(_("The packing run cannot be recorded."), problems=problems, problem_keys=keys)
    lots = lock_lots(want)
    grades = Grade.objects.select_related("produce").in_bulk({lot.grade_id for lot in lots.values()})
    for lot_id in sorted(want):
        lot = lots[lot_id]
        grade = grades[lot.grade_id]
        if grade.produce_id != sku.produce_id or (sku.grade_id and lot.grade_id != sku.grade_id):
            problems.append(_("Lot %(code)s is %(grade)s, not what %(sku)s is packed from.") % {"code": lot.code, "grade": grade, "sku": sku.name})
            keys[f"lot:{lot_id}"] = problems[-1]
    have = on_hand_kg(facility_id=station.pk, lot_ids=want)
    for lot_id, q in sorted(want.items()):
        if have[lot_id] < q:
            problems.append(
                _("Lot %(code)s: %(want)s kg asked, %(have)s kg on hand here.") % {"code": lots[lot_id].code, "want": q, "have": have[lot_id]}
            )
            keys[f"lot:{lot_id}"] = problems[-1]
    consumed = kg(sum(want.values()))
    output = kg(n_units * unit_weight)
    if consumed != output + waste:
        problems.append(
            _("Inputs weigh %(inputs)s kg but %(units)s × %(each)s kg + %(waste)s kg waste = %(total)s kg.")
            % {"inputs": consumed, "units": n_units, "each": unit_weight, "waste": waste, "total": output + waste}
        )
    if problems:
        error = InsufficientLotStock if any(have[i] < q for i, q in want.items()) else PackingRefused
        raise error(_("The packing run cannot be recorded."), problems=problems, problem_keys=keys)

    code = _batch_code(station, at)
    run = PackingRun.objects.create(code=f"R-{code}"[:32], station=station, sku=sku, waste_kg=waste, created_by=author, created_at=at)
    PackingInput.objects.bulk_create([PackingInput(run=run, lot_id=i, quantity_kg=q) for i, q in sorted(want.items())])
    LotMovement.objects.bulk_create(
        [
            LotMovement(lot_id=i, facility=station, kind=MovementKind.PACK_CONSUME, quantity_kg=-q, reference_type=REF_PACKING,
                        reference_code=run.code, author=author, created_at=at)
            for i, q in sorted(want.items())
        ]
    )
    batch = PackedBatch.objects.create(
        code=code,
        sku=sku,
        station=station,
        packing_run=run,
        units=n_units,
        unit_weight_kg=unit_weight,
        best_before=best_before or (timezone.localtime(at).date() + datetime.timedelta(days=sku.shelf_life_days)),
        packed_at=at,
    )
    per_household: dict[int, Decimal] = defaultdict(Decimal)
    for lot_id, q in want.items():
        per_household[lots[lot_id].household_id] += q
    BatchShare.objects.bulk_create([BatchShare(batch=batch, household_id=h, weight_kg=w) for h, w in sorted(per_household.items())])
    stock_service.batch_stock_receive(
        batch=batch, facility_id=station.pk, units=n_units, reference_type=REF_PACKING, reference_code=run.code, author=author,
        kind=MovementKind.PACKED, at=at,
    )
    return batch

