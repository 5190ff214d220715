"""Love points beside a household's income on the registry's household page."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from households.extensions import register_household_figure

from .models import PointsAccount


def love_points_figure(household) -> dict:
    balance = PointsAccount.objects.filter(household=household).values_list("balance", flat=True).first() or 0
    return {"label": _("Love points"), "value": _("%(points)s points") % {"points": balance},
            "url": reverse("lovepoints:card", args=[household.number])}


def register() -> None:
    register_household_figure(love_points_figure)
