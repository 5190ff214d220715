"""Who may shop: the one home of the rule the cart, checkout and the allocation page ask.

An employee may fill a cart and check out when they are active, their employer takes part
(``Employer.active``) and the county day is inside the year's allocation window
(``AllocationYear.opens_on``…``closes_on``). The storefront pages, the JSON API and the
services themselves (``cart_item_set``, ``checkout_preview``, ``checkout_submit``) all ask
``shopping_refusal`` / ``ensure_may_shop``, so no entry point can let an employee past a rule
another refuses.
"""

from __future__ import annotations

import datetime

from django.utils.translation import gettext as _

from core.errors import NotAllowed

from ..models import AllocationYear, Employee
from .allocation import allocation_today, allocation_window_open, allocation_year_get


class ShoppingNotAllowed(NotAllowed):
    """403: this person may not shop now; the message says why."""

    code = "may_not_shop"


def shopping_refusal(
    employee: Employee | None, *, on: datetime.date | None = None, setting: AllocationYear | None = None
) -> str | None:
    """Why ``employee`` may not shop on ``on`` (the county's today), or None when they may.
    ``setting``: that year's allocation setting, if the caller has just read it."""
    if employee is None:
        return _("Only employees have a cart, orders and an allocation.")
    if not employee.active:
        return _("Your employee account is no longer active, so you cannot shop here. Ask your employer's coordinator.")
    if not employee.employer.active:
        return _("%(employer)s no longer takes part in the programme, so its staff cannot shop here.") % {
            "employer": employee.employer.name
        }
    on = on or allocation_today()
    if setting is None or setting.year != on.year:
        setting = allocation_year_get(year=on.year)
    if not allocation_window_open(setting, on):
        return _("Shopping for %(year)s is open from %(opens)s to %(closes)s.") % {
            "year": setting.year, "opens": setting.opens_on.isoformat(), "closes": setting.closes_on.isoformat()
        }
    return None


def employee_may_shop(employee: Employee | None, *, on: datetime.date | None = None) -> bool:
    return shopping_refusal(employee, on=on) is None


def ensure_may_shop(employee: Employee | None, *, on: datetime.date | None = None, setting: AllocationYear | None = None) -> None:
    """Raise ShoppingNotAllowed (403, with the reason) unless ``employee`` may shop."""
    refusal = shopping_refusal(employee, on=on, setting=setting)
    if refusal is not None:
        raise ShoppingNotAllowed(refusal)
