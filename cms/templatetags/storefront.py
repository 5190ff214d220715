"""``{% shopper as me %}``: the signed-in employee's own figures for the storefront's header and
home page — ``me.name``, ``me.balance`` (formatted), ``me.cart_units`` — or None for a visitor
who is not an employee.

On a page rendered for the shared page cache (cms/cache.py) the values are placeholders that
the cache fills per person on every answer, so the stored page holds nothing of anyone; on any
other page they are the employee's shopper card (marketplace/shopper_card.py), from the cache.
"""

from __future__ import annotations

from types import SimpleNamespace

from django import template
from django.utils.safestring import mark_safe

from ..cache import PLACEHOLDERS, SHARED_RENDER_ATTR, shopper_values

register = template.Library()


@register.simple_tag(takes_context=True)
def shopper(context):
    request = context.get("request")
    if request is None:
        return None
    if getattr(request, SHARED_RENDER_ATTR, False):
        return SimpleNamespace(**PLACEHOLDERS)
    if not request.user.is_authenticated:
        return None
    from marketplace.shopper_card import shopper_card

    from ..selectors import employee_for

    employee = employee_for(request.user)
    if employee is None:
        return None
    card = getattr(request, "shopper_card", None)  # the card the view has in hand (cms/shop_views.py: _keep_card)
    if card is None or card.employee_id != employee.pk:
        card = shopper_card(employee)
    return SimpleNamespace(**{name: mark_safe(value) for name, value in shopper_values(card).items()})
