"""Where a person may act: staff at their own facility (StaffAssignment), the county office anywhere."""

from __future__ import annotations

from django.utils.translation import gettext as _

from core import roles

from ..errors import NotAtYourFacility
from ..models import Facility, StaffAssignment

STAFF_ROLES = (roles.COLLECTION_POINT_STAFF, roles.SORTING_STATION_STAFF, roles.SUPERMARKET_STAFF)


def facility_of(user) -> Facility | None:
    """The facility a staff user is assigned to (None for the county office or anyone else)."""
    if not user or not user.is_authenticated:
        return None
    try:
        return StaffAssignment.objects.select_related("facility").get(user=user).facility
    except StaffAssignment.DoesNotExist:
        return None


def is_supply_chain_staff(user) -> bool:
    """Any staff role of the chain, or the county office: who may read the (non-public) trace."""
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
