"""The supermarket staff's screens (registered with core.landing)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from core import roles
from core.landing import Screen, screen_url
from logistics.services.access import is_supermarket_staff


def supermarket_screens(user) -> list[Screen]:
    if roles.is_county_office(user) or not roles.has_role(user, roles.SUPERMARKET_STAFF):
        return []
    if not is_supermarket_staff(user):
        return []
    return [
        Screen(_("Fulfilment queue"), screen_url("staff_queue")),
        Screen(_("Counter"), screen_url("counter")),
        Screen(_("Counter day"), screen_url("counter_report")),
        Screen(_("Employer statements"), screen_url("staff_statements")),
    ]


def coordinator_screens(user) -> list[Screen]:
    """An employer coordinator's screens: the activation codes they hand out and the fapiao requests."""
    from .accounts.selectors import coordinated_employer

    if roles.is_county_office(user) or coordinated_employer(user) is None:
        return []
    return [Screen(_("Activation codes"), screen_url("activation_codes")), Screen(_("Fapiao requests"), screen_url("employer_fapiao"))]
