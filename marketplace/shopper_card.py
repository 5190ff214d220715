"""The shopper card: the few figures about one employee that every storefront page shows — name,
allocation balance, units in the cart — kept in the cache per employee, so that a signed-in page
can be served from the shared page cache (cms/cache.py) and filled in without SQL.

The writers that change a figure drop the card: the cart services, checkout, the allocation
ledger's one writer (``allocation._append``) and any save of the employee. The card is dropped
at once and again when the surrounding transaction commits, so a card rebuilt in between from
rows not yet committed is not kept; the next page builds it afresh (two queries). The key carries
the county's year, so a new year's balance never shows last year's card.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.cache import cache
from django.db import transaction
from django.db.models import Sum

CARD_TTL = 6 * 60 * 60


@dataclass(frozen=True)
class ShopperCard:
    employee_id: int
    user_id: int
    name: str
    balance: Decimal
    cart_units: int


def _year() -> int:
    from logistics.selectors.stock import county_today

    return county_today().year


def _key(employee_id: int, year: int | None = None) -> str:
    return f"shopper:card:{employee_id}:{year or _year()}"


def shopper_card_build(employee) -> ShopperCard:
    """Read the figures from the database (the balance of the county's current year, as the
    allocation page shows it) and keep them."""
    from .models import CartItem
    from .services.allocation import allocation_balance

    year = _year()
    units = CartItem.objects.filter(cart__employee_id=employee.pk).aggregate(n=Sum("quantity"))["n"] or 0
    card = ShopperCard(
        employee_id=employee.pk, user_id=employee.user_id, name=employee.name,
        balance=allocation_balance(employee=employee.pk, year=year), cart_units=int(units),
    )
    cache.set(_key(employee.pk, year), card, CARD_TTL)
    return card


def shopper_card(employee) -> ShopperCard:
    """The employee's card from the cache, built when missing."""
    card = cache.get(_key(employee.pk))
    return card if card is not None else shopper_card_build(employee)


def shopper_card_cached(employee_id: int) -> ShopperCard | None:
    """The card if the cache holds it (no SQL), else None."""
    return cache.get(_key(employee_id))


def shopper_card_forget(*, employee_id: int) -> None:
    """A figure on the card changed: drop it now and again at commit."""
    key = _key(employee_id)
    cache.delete(key)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: cache.delete(key))


def forget_on_employee_save(sender, instance, **_kwargs) -> None:
    shopper_card_forget(employee_id=instance.pk)
