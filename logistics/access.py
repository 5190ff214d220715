"""Who may see which part of the supply chain (the access policy for logistics/, see core.access).

A staff user works at one facility (StaffAssignment) and their role must match its kind:

============== ==================================================================================
role           sees
============== ==================================================================================
point staff    its point; the villages the point serves (and so their households, for the
               household picker and the admin registry alike); lots bought there; shipments
               leaving it; intakes recorded there
station staff  its township: the station and the township's points; the township's villages and
               households (for payout lists and traces); lots bought in the township or received
               at the station; batches packed or stocked there; shipments in and out; packing runs
supermarket    its own stock: the batches that reached it, shipments to it; not the registry and
               not the lots
county office  everything (core.access.Scope)
============== ==================================================================================

Traces follow the same scopes: a staff member traces a batch, lot or household only if that
object is in their scope (404 otherwise); the public trace page is aggregate-only and stays public.

Also here, from the old ``services/access.py``: :func:`facility_of` and :func:`ensure_acts_at`,
which the services call before they write.
"""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _

from core import roles
from core.access import Scope, is_signed_in, scoped_perms
from households.access import households_visible_to, villages_visible_to
from households.models import Village

from .errors import NotAtYourFacility
from .models import (
    BatchMovement,
    BatchStock,
    Facility,
    Intake,
    Lot,
    LotMovement,
    PackedBatch,
    PackingRun,
    Shipment,
    StaffAssignment,
    StockTake,
)

STAFF_ROLES = (roles.COLLECTION_POINT_STAFF, roles.SORTING_STATION_STAFF, roles.SUPERMARKET_STAFF)
ROLE_OF_KIND = {
    Facility.Kind.COLLECTION_POINT: roles.COLLECTION_POINT_STAFF,
    Facility.Kind.SORTING_STATION: roles.SORTING_STATION_STAFF,
    Facility.Kind.SUPERMARKET: roles.SUPERMARKET_STAFF,
}
_UNSET = object()


# --- where a person works --------------------------------------------------------------------


def facility_of(user) -> Facility | None:
    """The facility a staff user is assigned to (None for the county office or anyone else)."""
    if not is_signed_in(user):
        return None
    try:
        return StaffAssignment.objects.select_related("facility").get(user=user).facility
    except StaffAssignment.DoesNotExist:
        return None


def staff_facility(user) -> Facility | None:
    """The active facility ``user`` works at in the role its kind needs (point staff at a point…),
    or None — the facility every scope below starts from (cached on the user object)."""
    cached = getattr(user, "_relief_staff_facility", _UNSET)
    if cached is not _UNSET:
        return cached
    # without a staff role no facility can qualify: the assignment is not read (an employee's
    # every page asks, for the header's screens)
    facility = facility_of(user) if any(roles.has_role(user, r) for r in STAFF_ROLES) else None
    if facility is not None and (not facility.active or not roles.has_role(user, ROLE_OF_KIND[facility.kind])):
        facility = None
    if user is not None and user.is_authenticated:
        user._relief_staff_facility = facility
    return facility


def staff_facility_of_kind(user, kind: str) -> Facility | None:
    facility = staff_facility(user)
    return facility if facility is not None and facility.kind == kind else None


def is_supply_chain_staff(user) -> bool:
    """Any staff role of the chain, or the county office: who may use the (non-public) trace."""
    return roles.is_county_office(user) or any(roles.has_role(user, r) for r in STAFF_ROLES)


def is_supermarket_staff(user) -> bool:
    """County office, or supermarket staff assigned to an active supermarket: who fulfils,
    cancels and refunds orders."""
    if not user or not user.is_authenticated or not user.is_active:
        return False
    if roles.is_county_office(user):
        return True
    if not roles.has_role(user, roles.SUPERMARKET_STAFF):
        return False
    return StaffAssignment.objects.filter(user=user, facility__kind=Facility.Kind.SUPERMARKET, facility__active=True).exists()


def ensure_acts_at(user, facility: Facility) -> None:
    """Refuse unless ``user`` works at ``facility`` or is county office."""
    if roles.is_county_office(user):
        return
    if user is not None and user.is_authenticated:
        assigned = StaffAssignment.objects.filter(user=user).values_list("facility_id", flat=True).first()
        if assigned == facility.pk:
            return
    raise NotAtYourFacility(_("You may act only at your own facility, not at %(facility)s.") % {"facility": facility.name})


# --- the scopes --------------------------------------------------------------------------------


def _township_facilities(station: Facility):
    """A station's township: the station itself, the township's points and whoever ships to it."""
    condition = Q(pk=station.pk) | Q(ships_to=station)
    if station.township_id:
        condition |= Q(township_id=station.township_id, kind=Facility.Kind.COLLECTION_POINT)
    return Facility.objects.filter(condition)


def home_facilities(user):
    """The facilities whose records ``user`` works with (None: no staff facility)."""
    facility = staff_facility(user)
    if facility is None:
        return None
    if facility.kind == Facility.Kind.SORTING_STATION:
        return _township_facilities(facility)
    return Facility.objects.filter(pk=facility.pk)


def staff_villages(user):
    """The registry a staff member may see: a point's served villages (the same set as the
    intake household picker), a station's township; the supermarket sees none."""
    facility = staff_facility(user)
    if facility is None:
        return None
    if facility.kind == Facility.Kind.COLLECTION_POINT:
        return Village.objects.filter(collection_points=facility)
    if facility.kind == Facility.Kind.SORTING_STATION:
        if facility.township_id is None:
            return Village.objects.none()
        return Village.objects.filter(township_id=facility.township_id)
    return None


villages_visible_to.extend(staff_villages)


def _facilities(user):
    facility = staff_facility(user)
    if facility is None:
        return None
    neighbours = Q(pk=facility.pk) | Q(suppliers=facility) | Q(ships_to=facility)
    if facility.kind == Facility.Kind.SORTING_STATION:
        neighbours |= Q(pk__in=_township_facilities(facility).values("pk"))
    return Facility.objects.filter(neighbours).distinct()


def _lots(user):
    facility = staff_facility(user)
    if facility is None:
        return None
    if facility.kind == Facility.Kind.COLLECTION_POINT:
        return Lot.objects.filter(origin=facility)
    if facility.kind == Facility.Kind.SORTING_STATION:
        here = LotMovement.objects.filter(facility=facility).values("lot_id")
        return Lot.objects.filter(Q(origin__in=_township_facilities(facility)) | Q(pk__in=here))
    return None  # the supermarket receives packed batches, never lots


def _batches(user):
    facility = staff_facility(user)
    if facility is None:
        return None
    if facility.kind == Facility.Kind.COLLECTION_POINT:
        return None  # a point traces its lots forward; it has no batches of its own
    moved_here = BatchMovement.objects.filter(facility=facility).values("batch_id")
    stocked_here = BatchStock.objects.filter(facility=facility).values("batch_id")
    return PackedBatch.objects.filter(Q(station=facility) | Q(pk__in=moved_here) | Q(pk__in=stocked_here))


def _shipments(user):
    facilities = home_facilities(user)
    if facilities is None:
        return None
    return Shipment.objects.filter(Q(origin__in=facilities) | Q(destination__in=facilities))


def _packing_runs(user):
    facility = staff_facility_of_kind(user, Facility.Kind.SORTING_STATION)
    return None if facility is None else PackingRun.objects.filter(station=facility)


def _intakes(user):
    facilities = home_facilities(user)
    if facilities is None or staff_facility(user).kind == Facility.Kind.SUPERMARKET:
        return None
    return Intake.objects.filter(collection_point__in=facilities)


def _stocktakes(user):
    """A station's or the supermarket's own stock-takes (the county office: every one)."""
    facility = staff_facility(user)
    if facility is None or facility.kind == Facility.Kind.COLLECTION_POINT:
        return None
    return StockTake.objects.filter(facility=facility)


facilities_visible_to = Scope(Facility, _facilities, name="facilities_visible_to")
lots_visible_to = Scope(Lot, _lots, name="lots_visible_to")
batches_visible_to = Scope(PackedBatch, _batches, name="batches_visible_to")
shipments_visible_to = Scope(Shipment, _shipments, name="shipments_visible_to")
packing_runs_visible_to = Scope(PackingRun, _packing_runs, name="packing_runs_visible_to")
intakes_visible_to = Scope(Intake, _intakes, name="intakes_visible_to")
stocktakes_visible_to = Scope(StockTake, _stocktakes, name="stocktakes_visible_to")

for _scope in (facilities_visible_to, lots_visible_to, batches_visible_to, shipments_visible_to, stocktakes_visible_to):
    scoped_perms(_scope)


# --- traces -------------------------------------------------------------------------------------


def trace_for_user(user, code: str, *, offset: int = 0, limit: int | None = None):
    """The staff trace of ``code`` (a batch, lot or household) if its subject is in ``user``'s
    scope; None otherwise — the same answer as for a code that does not exist (404).
    ``offset``/``limit`` choose the page of events (all of them by default)."""
    from .selectors.trace import trace_of, trace_subject

    code = (code or "").strip()
    if not code or not is_supply_chain_staff(user):
        return None
    subject = trace_subject(code, batches=batches_visible_to(user), lots=lots_visible_to(user),
                            households=households_visible_to(user))
    return None if subject is None else trace_of(*subject, offset=offset, limit=limit)


__all__ = [
    "batches_visible_to", "ensure_acts_at", "facilities_visible_to", "facility_of", "home_facilities",
    "intakes_visible_to", "is_supermarket_staff", "is_supply_chain_staff", "lots_visible_to", "packing_runs_visible_to", "shipments_visible_to",
    "staff_facility", "staff_villages", "stocktakes_visible_to", "trace_for_user",
]
