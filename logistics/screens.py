"""The supply-chain screens each staff role works on (registered with core.landing)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from core import roles
from core.landing import Screen, screen_url

from .models import Facility
from .services.access import facility_of
from .services.intake import collection_point_of


def supply_chain_screens(user) -> list[Screen]:
    if roles.is_county_office(user):
        # the county office works in the admin; approving stock-takes is a site page
        return [Screen(_("Stock-takes"), screen_url("stocktake-list"))]
    point = collection_point_of(user)
    if point is not None:
        return [
            Screen(_("Intake"), screen_url("intake")),
            Screen(_("Today's intakes"), screen_url("intake-today")),
            Screen(_("Dispatch"), screen_url("station-dispatch")),
        ]
    if roles.has_role(user, roles.SORTING_STATION_STAFF) or roles.has_role(user, roles.SUPERMARKET_STAFF):
        facility = facility_of(user)
        if facility is None or facility.kind == Facility.Kind.COLLECTION_POINT:
            return []
        if facility.kind == Facility.Kind.SUPERMARKET:
            return [Screen(_("Receive shipments"), screen_url("station-home")), Screen(_("Stock-take"), screen_url("stocktake-list"))]
        return [
            Screen(_("Station"), screen_url("station-home")),
            Screen(_("Pack"), screen_url("station-pack")),
            Screen(_("Trace"), screen_url("station-trace")),
            Screen(_("Stock-take"), screen_url("stocktake-list")),
        ]
    return []
