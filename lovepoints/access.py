"""Who may see and change love points: village staff their own village, the county office every
village; nobody else (the produce chain's staff and employees see nothing here).

Every view, API view, export and service of this app takes its scope from these functions.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from core import roles
from core.errors import NotAllowed
from households.models import Household, Village


def is_county_office(user) -> bool:
    return roles.is_county_office(user)


def village_of(user) -> Village | None:
    """The village a village-staff user works for (None for anyone else)."""
    if not user or not user.is_authenticated or not roles.has_role(user, roles.VILLAGE_STAFF):
        return None
    cached = getattr(user, "_love_points_village", False)
    if cached is not False:
        return cached
    from .models import VillageStaff

    assignment = VillageStaff.objects.select_related("village__township").filter(user=user).first()
    user._love_points_village = assignment.village if assignment else None
    return user._love_points_village


def may_use(user) -> bool:
    """Anyone who works with love points at all: village staff with a village, the county office."""
    return is_county_office(user) or village_of(user) is not None


def require_county_office(user) -> None:
    if not is_county_office(user):
        raise NotAllowed(_("Only the county office may do this."))


def require_village_staff(user) -> Village:
    village = village_of(user)
    if village is None:
        raise NotAllowed(_("Only a village's love-points staff may do this."))
    return village


def villages_visible_to(user) -> QuerySet[Village]:
    if is_county_office(user):
        return Village.objects.select_related("township")
    village = village_of(user)
    if village is None:
        return Village.objects.none()
    return Village.objects.select_related("township").filter(pk=village.pk)


def households_visible_to(user) -> QuerySet[Household]:
    if is_county_office(user):
        return Household.objects.select_related("village__township")
    village = village_of(user)
    if village is None:
        return Household.objects.none()
    return Household.objects.select_related("village__township").filter(village=village)


def household_for(user, number: str) -> Household:
    """The household by registry number, if the user's scope holds it; else 404 (its existence
    outside the scope is not the user's to know)."""
    found = households_visible_to(user).filter(number=str(number)[:20]).first()
    if found is None:
        raise Http404(_("No such household in your village."))
    return found


def require_item_in_scope(user, item) -> None:
    if is_county_office(user):
        return
    village = require_village_staff(user)
    if item.village_id != village.pk:
        raise NotAllowed(_("This item belongs to another village's love-points supermarket."))
