"""An employee's screens: the shop (registered with core.landing; the employee lands on the storefront)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from core.landing import SHOP_URL, Screen, screen_url

from .selectors import employee_for


def employee_screens(user) -> list[Screen]:
    if employee_for(user) is None:
        return []
    return [
        Screen(_("Shop"), SHOP_URL),
        Screen(_("Cart"), screen_url("storefront:cart")),
        Screen(_("My orders"), screen_url("storefront:orders")),
        Screen(_("My allocation"), screen_url("storefront:allocation")),
    ]
