"""The canteen screens of each role (registered with core.landing)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from core import roles
from core.landing import Screen, screen_url

from .access import canteen_of, may_record_payments, supplier_of


def canteen_screens(user) -> list[Screen]:
    if roles.is_county_office(user):
        return [Screen(_("Canteen progress"), screen_url("canteen-progress")), Screen(_("Canteen invoices"), screen_url("canteen-invoices"))]
    if canteen_of(user) is not None:
        return [Screen(_("My canteen"), screen_url("canteen-home"))]
    if supplier_of(user) is not None:
        screens = [Screen(_("Canteen orders"), screen_url("canteen-supply"))]
        if may_record_payments(user):
            screens.append(Screen(_("Canteen invoices"), screen_url("canteen-invoices")))
        return screens
    return []
