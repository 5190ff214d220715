"""Quality inspection and recalls (holds) of packed batches.

A batch is sellable only when its latest inspection passed and it is not on hold
(``selectors.stock.sellable_stock``; nor past its best-before date); a hold takes it off sale at once, and its forward trace
(``selectors.trace.trace_forward``) lists whom to notify.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import roles

from ..errors import BatchStateConflict, InvalidQuantity, NotAtYourFacility
from ..models import BatchHoldEvent, BatchStock, PackedBatch, QualityInspection, StaffAssignment
from .access import ensure_acts_at


def _ensure_station_or_county(user, batch: PackedBatch) -> None:
    ensure_acts_at(user, batch.station)


def _ensure_may_hold(user, batch: PackedBatch) -> None:
    """The county office, the packing station, or a facility that holds the batch's units."""
    if roles.is_county_office(user):
        return
    facility_id = StaffAssignment.objects.filter(user=user).values_list("facility_id", flat=True).first()
    if facility_id and (facility_id == batch.station_id or BatchStock.objects.filter(batch=batch, facility_id=facility_id).exists()):
        return
    raise NotAtYourFacility(_("Only the county office or a facility that holds batch %(code)s may put it on hold.") % {"code": batch.code})


@transaction.atomic
def batch_inspect(*, batch: PackedBatch, passed: bool, inspector, notes: str = "", at=None) -> QualityInspection:
    """Record the county testing station's check; the batch's status follows its latest inspection."""
    batch = PackedBatch.objects.select_for_update(of=("self",)).select_related("station").get(pk=batch.pk)
    _ensure_station_or_county(inspector, batch)
    if not passed and not (notes or "").strip():
        raise InvalidQuantity(_("A failed inspection needs notes saying what failed."))
    inspection = QualityInspection.objects.create(
        batch=batch, passed=bool(passed), inspector=inspector, notes=(notes or "").strip(), inspected_at=at or timezone.now()
    )
    batch.inspection_status = PackedBatch.Inspection.PASSED if passed else PackedBatch.Inspection.FAILED
    batch.save(update_fields=["inspection_status"])
    return inspection


@transaction.atomic
def batch_hold(*, batch: PackedBatch, reason: str, author, at=None) -> PackedBatch:
    """Recall: the batch leaves sale at once, wherever its units are."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidQuantity(_("A hold needs a reason."))
    batch = PackedBatch.objects.select_for_update().get(pk=batch.pk)
    _ensure_may_hold(author, batch)
    if batch.on_hold:
        raise BatchStateConflict(_("Batch %(code)s is already on hold.") % {"code": batch.code})
    batch.on_hold = True
    batch.hold_reason = reason[:200]
    batch.save(update_fields=["on_hold", "hold_reason"])
    BatchHoldEvent.objects.create(batch=batch, action=BatchHoldEvent.Action.HOLD, reason=reason[:200], author=author,
                                  created_at=at or timezone.now())
    return batch


@transaction.atomic
def batch_release_hold(*, batch: PackedBatch, reason: str, author, at=None) -> PackedBatch:
    """Lift a hold (the county office or the packing station): the batch may be sold again if it passed inspection."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidQuantity(_("Releasing a hold needs a reason."))
    batch = PackedBatch.objects.select_for_update(of=("self",)).select_related("station").get(pk=batch.pk)
    _ensure_station_or_county(author, batch)
    if not batch.on_hold:
        raise BatchStateConflict(_("Batch %(code)s is not on hold.") % {"code": batch.code})
    batch.on_hold = False
    batch.hold_reason = ""
    batch.save(update_fields=["on_hold", "hold_reason"])
    BatchHoldEvent.objects.create(batch=batch, action=BatchHoldEvent.Action.RELEASE, reason=reason[:200], author=author,
                                  created_at=at or timezone.now())
    return batch
