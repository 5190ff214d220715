"""Checkout: the cart becomes an order — stock reserved earliest best-before first (FEFO, then
oldest packed), allocation debited — in one
transaction; the card part (if any) is started with the payment provider only after commit.

Lock order, the same everywhere in the shop so that two transactions never wait on each other
in a circle: the cart (or the order) → the stock rows, in primary-key order → the employee.

Units: a checkout reserves units. An order paid entirely from the allocation is paid at once and
its units move reserved → sold in the same transaction; a card order keeps them reserved until
``order_mark_paid`` (the provider's webhook) sells them, or the 30-minute sweep releases them.

What may be sold is ``logistics.selectors.stock.sellable_stock`` (at the supermarket, inspected,
not held, not past its best-before date in the county's calendar); who may buy is
``eligibility.ensure_may_shop``. The preview and the checkout ask the same two functions.

Checkout must not be called inside an outer transaction: the provider is called after commit,
and a network call must never be made while a row lock is held.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import OperationalError, router, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.cache_writes import cache_writes_together
from core.compiled_query import CompiledModelQuery
from core.errors import ConflictError
from core.money import ZERO, yuan
from core.sql_insert import insert_values, mark_saved
from core.sql_prepared import prepared_cursor
from logistics.selectors.stock import available_units, county_today
from logistics.services import stock as stock_services

from ..models import AllocationYear, Cart, CartItem, Employee, Order, OrderEvent, OrderLine, OrderLineBatch, Payment
from ..payments import base as payments_base
from ..payments.base import PaymentProviderError
from ..shopper_card import shopper_card_forget
from .allocation import (
    allocation_balance,
    allocation_balance_locked,
    allocation_spend_entry_locked,
    allocation_window_open,
    allocation_year_current,
)
from .cart import CartView, cart_get, cart_limits_problems
from .eligibility import ensure_may_shop, shopping_refusal
from .orders import RESERVATION_REFERENCE, new_order_number, order_release_unpaid

logger = logging.getLogger(__name__)


class EmptyCart(ConflictError):
    code = "cart_empty"


class InsufficientStock(stock_services.InsufficientStock):
    """Some lines cannot be filled; ``problems`` names each product and what is left."""


class CardPaymentUnavailable(ConflictError):
    code = "card_payment_unavailable"


class CheckoutRefused(ConflictError):
    code = "checkout_refused"


@dataclass
class CheckoutResult:
    """``order`` as written, its lines in ``order.written_lines`` (with their products): the answer
    shows them without reading them back."""

    order: Order
    payment_url: str | None = None
    payment_params: dict = field(default_factory=dict)  # WeChat JSAPI: the signed call for WeixinJSBridge


@dataclass
class Preview:
    total: Decimal
    allocation_amount: Decimal
    card_amount: Decimal
    card_available: bool
    balance: Decimal
    problems: list[str] = field(default_factory=list)
    year: int | None = None  # the allocation year whose balance ``balance`` is; None while its window is closed (then 0)

    @property
    def can_checkout(self) -> bool:
        return not self.problems


def _shortfall_message(product, available: int, wanted: int) -> str:
    if available <= 0:
        return _("%(product)s is sold out.") % {"product": product.name}
    return _("%(product)s: only %(available)d left (you asked for %(wanted)d).") % {
        "product": product.name, "available": available, "wanted": wanted
    }


def _card_unavailable_message(balance: Decimal, total: Decimal) -> str:
    return _(
        "Your allocation balance (%(balance)s yuan) does not cover this order (%(total)s yuan), "
        "and card payment is not available. Please remove some items."
    ) % {"balance": balance, "total": total}


def checkout_preview(*, employee: Employee, cart: CartView | None = None) -> Preview:
    """What checkout would do now, without locking or writing: totals, the split between the
    allocation and the card, and every problem that would refuse it (shown before checkout).
    ``cart``: the employee's cart as just read, if the caller has it."""
    cart = cart if cart is not None else cart_get(employee=employee)
    setting = allocation_year_current()
    total = cart.total
    window_open = allocation_window_open(setting)
    balance = allocation_balance(employee=employee, year=setting.year) if window_open else ZERO
    allocation_amount = min(balance, total)
    card_amount = total - allocation_amount
    card_available = payments_base.get_provider() is not None
    problems: list[str] = []
    refusal = shopping_refusal(employee)
    if refusal is not None:
        problems.append(refusal)
    if cart.is_empty:
        problems.append(_("Your cart is empty."))
    else:
        problems += cart_limits_problems(
            items=[(line.product, line.quantity) for line in cart.lines], max_units_per_order=setting.max_units_per_order
        )
        available = available_units(sku_ids={line.product.sku_id for line in cart.lines})
        for line in cart.lines:
            if available[line.product.sku_id] < line.quantity:
                problems.append(_shortfall_message(line.product, available[line.product.sku_id], line.quantity))
        if card_amount > 0 and not card_available:
            problems.append(_card_unavailable_message(balance, total))
    return Preview(
        total=total, allocation_amount=allocation_amount, card_amount=card_amount, card_available=card_available,
        balance=balance, problems=problems, year=setting.year if window_open else None,
    )


def _is_lock_conflict(exc: OperationalError) -> bool:
    cause = exc.__cause__
    sqlstate = getattr(cause, "sqlstate", None)
    return sqlstate in {"40P01", "40001"}  # deadlock detected, serialization failure


def checkout_submit(
    *, employee: Employee, fulfilment: str = Order.Fulfilment.PICKUP, success_url: str | None = None, cancel_url: str | None = None,
    author=None, at=None, payment_method: str | None = None, client: dict | None = None,
) -> CheckoutResult:
    """Turn the employee's cart into an order (see the module docstring for the steps).
    ``at`` back-dates the order (demo and benchmark data only). ``payment_method`` names the
    provider for the card/online part (``stripe``, ``wechat``, ``alipay``; the only configured
    one by default); ``client`` what is known of the paying device, for the provider."""
    if fulfilment not in Order.Fulfilment.values:
        raise CheckoutRefused(_("Choose pickup at the supermarket or delivery to your office."))
    setting = allocation_year_current()  # read once: the eligibility rule and the transaction both need it
    ensure_may_shop(employee, on=county_today(at) if at else None, setting=setting)
    provider, must_choose = payments_base.choose_provider(payment_method)
    if must_choose and checkout_preview(employee=employee).card_amount > 0:
        raise payments_base.PaymentMethodUnavailable(payments_base.must_choose_message())
    for attempt in range(3):
        try:
            order = _checkout_transaction(
                employee=employee, fulfilment=fulfilment, provider_name=getattr(provider, "name", "card") if provider else None,
                author=author, at=at, setting=setting,
            )
            break
        except OperationalError as exc:
            # Locks are always taken in one order, so this should not happen; if PostgreSQL still
            # picks this transaction as a deadlock victim, it is rolled back whole: try again.
            if not _is_lock_conflict(exc) or attempt == 2:
                raise
            logger.warning("checkout retried after a lock conflict (attempt %s)", attempt + 1)
    if order.card_amount <= 0:
        return CheckoutResult(order=order, payment_url=None)
    session = _start_card_payment(order=order, provider=provider, success_url=success_url, cancel_url=cancel_url, client=client)
    return CheckoutResult(order=order, payment_url=session.url, payment_params=session.params)


def _start_card_payment(*, order: Order, provider, success_url: str | None, cancel_url: str | None, client: dict | None = None):
    """After commit: open the provider's checkout for the card part; on failure release the order."""
    try:
        session = provider.create_checkout(
            order=order, amount=order.card_amount, success_url=success_url or "", cancel_url=cancel_url or "",
            idempotency_key=f"checkout:{order.number}", client=client or {},
        )
    except Exception as exc:  # any failure of the provider: nothing may stay reserved
        logger.warning("payment provider failed for order %s: %s", order.number, type(exc).__name__)
        order_release_unpaid(order=order, reason="payment provider failed")
        if isinstance(exc, PaymentProviderError):
            raise
        raise PaymentProviderError(
            _("Card payment could not be started; nothing was charged and your order was cancelled. Please try again later.")
        ) from exc
    Payment.objects.filter(order=order).update(session_id=session.reference, payment_url=session.url, updated_at=timezone.now())
    return session


# the cart's lines, read under the cart's lock: compiled once per thread and database
_lines_to_check_out = CompiledModelQuery(lambda cart_id: CartItem.objects.filter(cart_id=cart_id).select_related("product").order_by("product_id"))


@cache_writes_together()  # outside the transaction: the card's and the stock clock's invalidations, now and at commit, in one round trip
@transaction.atomic
def _checkout_transaction(
    *, employee: Employee, fulfilment: str, provider_name: str | None, setting: AllocationYear, author=None, at=None
) -> Order:
    cart_id = _cart_lock(employee.pk)
    items = _lines_to_check_out(cart_id, using=router.db_for_write(CartItem)) if cart_id else []
    if not items:
        raise EmptyCart(_("Your cart is empty: there is nothing to check out."))
    problems = cart_limits_problems(items=[(i.product, i.quantity) for i in items], max_units_per_order=setting.max_units_per_order)
    if problems:
        raise CheckoutRefused(" ".join(problems), problems=problems)

    # the supermarket's sellable rows, locked in primary-key order, planned earliest best-before first
    rows = stock_services.batch_stock_lock(facility_id=None, sku_ids={i.product.sku_id for i in items})
    takes, short = stock_services.fefo_plan(rows, {i.product.sku_id: i.quantity for i in items})
    if short:
        shortfalls = [_shortfall_message(i.product, short[i.product.sku_id], i.quantity) for i in items if i.product.sku_id in short]
        raise InsufficientStock(" ".join(shortfalls), problems=shortfalls)
    plan = [(item, takes[item.product.sku_id]) for item in items]

    total = yuan(sum((yuan(i.product.price * i.quantity) for i in items), ZERO))
    balance = allocation_balance_locked(employee=employee, year=setting.year) if allocation_window_open(setting) else ZERO
    allocation_amount = min(balance, total)
    card_amount = total - allocation_amount
    if card_amount > 0 and provider_name is None:
        raise CardPaymentUnavailable(_card_unavailable_message(balance, total))

    # Everything is checked: build the rows, then write them (one statement on PostgreSQL).
    number = new_order_number(at)
    entry = (
        allocation_spend_entry_locked(
            employee_id=employee.pk, setting=setting, amount=allocation_amount, balance=balance, order_number=number, author=author
        )
        if allocation_amount > 0 else None
    )
    paid_now = card_amount == 0
    now = at or timezone.now()
    order = Order(
        number=number, employee=employee, fulfilment=fulfilment, year=setting.year, total=total,
        allocation_amount=allocation_amount, card_amount=card_amount,
        status=Order.Status.PAID if paid_now else Order.Status.PENDING_PAYMENT, created_at=now, paid_at=now if paid_now else None,
    )
    lines = [
        OrderLine(order=order, product=item.product, quantity=item.quantity, unit_price=item.product.price,
                  line_total=yuan(item.product.price * item.quantity))
        for item, _takes in plan
    ]
    links = [
        OrderLineBatch(line=line, batch_id=row.batch_id, units=take)
        for line, (_item, item_takes) in zip(lines, plan, strict=True) for row, take in item_takes
    ]
    take = stock_services.batch_stock_take_prepare(
        takes=[take for _item, item_takes in plan for take in item_takes], reference_type=RESERVATION_REFERENCE,
        reference_code=number, sell=paid_now, author=author, at=None,
    )
    event = OrderEvent(
        order=order, from_status="", to_status=order.status, author_id=author.pk if author else employee.user_id,
        note="paid from allocation" if paid_now else "awaiting card payment",
    )
    payment = Payment(order=order, provider=provider_name, amount=card_amount) if card_amount > 0 else None
    written = _write_pg if transaction.get_connection().vendor == "postgresql" else _write_orm
    written(order=order, lines=lines, links=links, event=event, payment=payment, entry=entry, take=take, cart_id=cart_id)
    take.written()
    if entry is None:  # the cart is empty; with an allocation part, the balance's writer has dropped the card already
        shopper_card_forget(employee_id=employee.pk)
    Order.payment.related.set_cached_value(order, payment)  # the answer asks for it: known, so not read back
    order.written_lines = lines  # the caller shows the order's lines without reading them back
    return order


def _cart_lock(employee_id: int) -> int | None:
    """Lock the employee's cart row (first in the lock order) and return its id."""
    connection = transaction.get_connection()
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with prepared_cursor(connection.alias) as cursor:
        cursor.execute(f"SELECT id FROM {Cart._meta.db_table} WHERE employee_id = %s ORDER BY id LIMIT 1{lock}", [employee_id])
        row = cursor.fetchone()
    return row[0] if row else None


def _write_orm(*, order, lines, links, event, payment, entry, take, cart_id) -> None:
    """The checkout's rows, one statement per table (SQLite)."""
    if entry is not None:
        entry.save(force_insert=True)
    order.save(force_insert=True)
    OrderLine.objects.bulk_create(lines)  # each row takes its parent's id as it is saved
    stock_services.batch_stock_take_write_orm(take)
    OrderLineBatch.objects.bulk_create(links)
    event.save(force_insert=True)
    if payment is not None:
        payment.save(force_insert=True)
    CartItem.objects.filter(cart_id=cart_id).delete()


def _write_pg(*, order, lines, links, event, payment, entry, take, cart_id) -> None:
    """The checkout's rows in one PostgreSQL statement: each INSERT, the stock UPDATE and the cart's
    DELETE are parts of one ``WITH`` (they see one snapshot and none reads another's table; the
    rows they touch are locked already). One round trip instead of nine, while stock rows are held."""
    connection = transaction.get_connection()
    order_id = {"order_id": "(SELECT id FROM o)"}
    parts = [("o", *insert_values([order], returning="id"))]
    parts.append(("l", *insert_values(lines, refs=order_id, returning="id, product_id")))
    parts.append(("lb", *insert_values(
        links, refs={"line_id": lambda link: ("(SELECT id FROM l WHERE product_id = %s)", [link.line.product_id])}
    )))
    parts.append(("ev", *insert_values([event], refs=order_id)))
    if payment is not None:
        parts.append(("pay", *insert_values([payment], refs=order_id, returning="id")))
    if entry is not None:
        parts.append(("al", *insert_values([entry], returning="id")))
    parts += [(f"st{n}", sql, params) for n, (sql, params) in enumerate(take.sql_parts(connection))]
    parts.append(("ci", f"DELETE FROM {CartItem._meta.db_table} WHERE cart_id = %s", [cart_id]))
    sql = (
        "WITH " + ", ".join(f"{name} AS ({part})" for name, part, _params in parts)
        + " SELECT (SELECT id FROM o), l.id, l.product_id, "
        + ("(SELECT id FROM pay), " if payment is not None else "NULL, ")
        + ("(SELECT id FROM al)" if entry is not None else "NULL")
        + " FROM l"
    )
    with prepared_cursor(connection.alias) as cursor:  # the same text for every cart of the same shape: planned once
        cursor.execute(sql, [value for _name, _sql, params in parts for value in params])
        found = cursor.fetchall()
    mark_saved(order, found[0][0])
    line_ids = {product_id: line_id for _o, line_id, product_id, _p, _a in found}
    for line in lines:
        mark_saved(line, line_ids[line.product_id])
        line.order_id = order.pk
    for link in links:
        link.line_id = link.line.pk
        link._state.adding, link._state.db = False, connection.alias  # its id is not read back: nothing uses it
    event.order_id = order.pk
    event._state.adding, event._state.db = False, connection.alias
    if payment is not None:
        mark_saved(payment, found[0][3])
        payment.order_id = order.pk
    if entry is not None:
        mark_saved(entry, found[0][4])
