"""The shopper card: the few figures about one employee that every storefront page shows — name,
allocation balance, units in the cart — kept in the cache per employee, so that a signed-in page
can be served from the shared page cache (cms/cache.py) and filled in without SQL.

The writers that change a figure make the card stale: the cart services, checkout, the
allocation ledger's one writer (``allocation._append``) and any save of the employee. They give
the employee a new *generation* at once and again when the surrounding transaction commits; a
card is valid only while it carries the current generation, which is read before the figures
are. So a card built from rows not yet committed, or stored by a slow reader after the writer
committed, is never served; the next page builds it afresh (two queries). The key carries the
county's year, so a new year's balance never shows last year's card.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from functools import partial

from django.core.cache import cache
from django.db import connection, transaction

from core.cache_writes import cache_set
from core.sql_prepared import prepared_cursor

CARD_TTL = 6 * 60 * 60


@dataclass(frozen=True)
class ShopperCard:
    employee_id: int
    user_id: int
    name: str
    balance: Decimal
    cart_units: int
    generation: str = ""


def _year() -> int:
    from logistics.selectors.stock import county_today

    return county_today().year


def _key(employee_id: int, year: int | None = None) -> str:
    return f"shopper:card:{employee_id}:{year or _year()}"


def _generation_key(employee_id: int) -> str:
    return f"shopper:gen:{employee_id}"


def _generation_begin(employee_id: int) -> str:
    """A generation for an employee found to have none (before any figure is read)."""
    generation = uuid.uuid4().hex
    if not cache.add(_generation_key(employee_id), generation, CARD_TTL):
        generation = cache.get(_generation_key(employee_id)) or ""
    return generation


def shopper_card_build(employee, *, generation: str | None = None, year: int | None = None) -> ShopperCard:
    """Read the figures from the database (the balance of the county's current year, as the
    allocation page shows it) and keep them. ``generation``: the one ``shopper_card_lookup`` has
    just read (else it is read here, before the figures)."""
    from .models import AllocationEntry, Cart, CartItem
    from .services.allocation import balance_of

    year = year or _year()
    if generation is None:
        generation = cache.get(_generation_key(employee.pk))
        if generation is None:
            generation = _generation_begin(employee.pk)
    # both figures in one statement, prepared: every page after a cart write or an order asks
    with prepared_cursor(connection.alias) as cursor:
        cursor.execute(
            f"SELECT (SELECT SUM(i.quantity) FROM {CartItem._meta.db_table} i JOIN {Cart._meta.db_table} c ON c.id = i.cart_id"
            " WHERE c.employee_id = %s),"
            f" (SELECT balance_after FROM {AllocationEntry._meta.db_table} WHERE employee_id = %s AND year = %s ORDER BY id DESC LIMIT 1)",
            [employee.pk, employee.pk, year],
        )
        units, balance = cursor.fetchone()
    return shopper_card_keep(employee, generation=generation, year=year, cart_units=int(units or 0), balance=balance_of(balance))


def shopper_card_keep(employee, *, generation: str, year: int, cart_units: int, balance: Decimal) -> ShopperCard:
    """The card of figures read after ``generation`` was (``shopper_card_lookup``), kept: a page
    that reads the cart and the balance itself (the cart, the checkout form) makes the card from
    them instead of reading them again. ``balance`` is the balance of ``year``."""
    card = ShopperCard(
        employee_id=employee.pk, user_id=employee.user_id, name=employee.name, balance=balance, cart_units=cart_units,
        generation=generation,
    )
    cache.set(_key(employee.pk, year), card, CARD_TTL)
    return card


def shopper_card_from_reads(
    employee, looked_up: tuple[ShopperCard | None, str, int], *, cart_units: int, balance: Decimal, balance_year: int | None
) -> ShopperCard | None:
    """The card for a page that has just read the cart's units and the balance of ``balance_year``
    (None: no balance shown, the allocation window is closed): the current card ``looked_up``
    (``shopper_card_lookup``, called before those reads), else one made from them and kept when
    they are the card's own figures, else None (the header builds it as usual)."""
    card, generation, year = looked_up
    if card is None and balance_year == year:
        card = shopper_card_keep(employee, generation=generation, year=year, cart_units=cart_units, balance=balance)
    return card


def shopper_card(employee) -> ShopperCard:
    """The employee's card from the cache, built when missing."""
    card, generation, year = shopper_card_lookup(employee.pk)
    return card if card is not None else shopper_card_build(employee, generation=generation, year=year)


def shopper_card_cached(employee_id: int) -> ShopperCard | None:
    """The card if the cache holds a current one (one round trip, no SQL), else None."""
    return shopper_card_lookup(employee_id, begin=False)[0]


def shopper_card_lookup(employee_id: int, *, begin: bool = True) -> tuple[ShopperCard | None, str, int]:
    """(the current card or None, the generation, the card's year) in one round trip; with
    ``begin``, a generation is begun when there is none. Read before the figures of a card made
    by ``shopper_card_keep``, as ``shopper_card_build`` reads it before its own."""
    year = _year()
    key, generation_key = _key(employee_id, year), _generation_key(employee_id)
    found = cache.get_many([key, generation_key])
    card, generation = found.get(key), found.get(generation_key)
    if card is not None and card.generation and card.generation == generation:
        return card, generation, year
    if generation is None and begin:
        generation = _generation_begin(employee_id)
    return None, generation or "", year


def _new_generation(employee_id: int) -> None:
    cache_set(_generation_key(employee_id), uuid.uuid4().hex, CARD_TTL)  # with the writer's other writes, in a block


def shopper_card_forget(*, employee_id: int) -> None:
    """A figure on the card changed: every card built before now (and before commit) is stale.
    The commit hook is registered once per transaction and employee (checkout changes both the
    cart and the balance); the new generation now is given on every call."""
    _new_generation(employee_id)
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return
    if any(getattr(func, "shopper_card_employee", None) == employee_id for _sids, func, _robust in connection.run_on_commit):
        return
    at_commit = partial(_new_generation, employee_id)
    at_commit.shopper_card_employee = employee_id
    transaction.on_commit(at_commit)


def forget_on_employee_save(sender, instance, **_kwargs) -> None:
    shopper_card_forget(employee_id=instance.pk)
