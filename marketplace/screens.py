"""The supermarket staff's screens (registered with core.landing)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from core import roles
from core.landing import Screen
from logistics.services.access import is_supermarket_staff


def supermarket_screens(user) -> list[Screen]:
    if roles.is_county_office(user) or not roles.has_role(user, roles.SUPERMARKET_STAFF):
        return []
    if not is_supermarket_staff(user):
        return []
    return [
        Screen(_("Fulfilment queue"), reverse("staff_queue")),
        Screen(_("Counter"), reverse("counter")),
        Screen(_("Counter day"), reverse("counter_report")),
        Screen(_("Employer statements"), reverse("staff_statements")),
    ]
