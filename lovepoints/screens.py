"""The village staff's love-points screens (registered with core.landing)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from core.landing import Screen, screen_url

from .access import is_county_office, village_of


def village_staff_screens(user) -> list[Screen]:
    if is_county_office(user) or village_of(user) is None:
        return []
    return [
        Screen(_("Love points"), screen_url("lovepoints:home")),
        Screen(_("Redeem"), screen_url("lovepoints:redeem")),
        Screen(_("Goods"), screen_url("lovepoints:goods")),
    ]
