"""Who may see which settlement records (the access policy for settlement, see core.access).

The county office sees and marks every payout. A sorting station's staff see the payout list of
the households they may see (their township's, households/access.py as logistics extends it),
with accounts masked; runs themselves are county-wide and their existence no secret, so the
station may open a run's list and sees its own township's rows in it. Nobody else sees payouts.
"""

from __future__ import annotations

from core import roles
from core.access import Scope, scoped_perms
from households.access import households_visible_to
from logistics.access import staff_facility_of_kind
from logistics.models import Facility

from .models import Payout, SettlementRun


def _station_payouts(user):
    if staff_facility_of_kind(user, Facility.Kind.SORTING_STATION) is None:
        return None
    return Payout.objects.filter(household__in=households_visible_to(user))


def _station_runs(user):
    if staff_facility_of_kind(user, Facility.Kind.SORTING_STATION) is None:
        return None
    return SettlementRun.objects.all()


payouts_visible_to = Scope(Payout, _station_payouts, name="payouts_visible_to")
settlement_runs_visible_to = Scope(SettlementRun, _station_runs, name="settlement_runs_visible_to")


def may_mark_payouts(user) -> bool:
    """Marking a payout paid, starting a run: the county office."""
    return roles.is_county_office(user)


scoped_perms(payouts_visible_to)
