"""Orders after checkout: payment, fulfilment, cancellation, refunds, the unpaid sweep — the only
writer of Order status, OrderEvent, Refund and RefundLine.

State machine::

    pending_payment → paid → picking → ready (pickup) | delivering (office) → completed
    pending_payment → cancelled           (unpaid release, or cancelled by the employee)
    paid | picking → cancelled            (before fulfilment: units back on the shelf, money back)
    ready | delivering | completed → refunded   (after fulfilment, whole; a partial refund keeps the status)

Stock rule: units are reserved at checkout and sold at payment (an allocation-only order is
paid at checkout). A cancellation before fulfilment puts the units back on the shelf: reserved
units are released, sold units returned (``batch_stock_return``) — they never left the
supermarket. A refund after fulfilment does NOT put units back by default: the food has been
handed over and is not resold; the RefundLine rows record which batches' units were refunded
(settlement reverses those). Staff may pass ``restock=True`` for sealed packs brought back.

Money rule for a refund: the card part first (the employee's own money), then the allocation
part — back to the ledger only while that year's window is open; otherwise the refund says so
in its reason and the allocation part stays spent. Card refunds go through the provider after
commit, with an idempotency key per Refund row, so a retry never refunds twice.

Lock order (as in checkout): the order → its stock rows in primary-key order → the employee.
"""

from __future__ import annotations

import datetime
import logging
import secrets
from collections import defaultdict
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ConflictError, DomainError
from core.money import ZERO, yuan
from logistics.models import BatchStock, Facility
from logistics.services import stock as stock_services

from ..models import Order, OrderEvent, OrderLine, OrderLineBatch, Payment, Refund, RefundLine
from ..payments import base as payments_base
from ..payments.base import PaymentProviderError
from .allocation import AllocationWindowClosed, allocation_refund

logger = logging.getLogger(__name__)

RESERVATION_REFERENCE = "order"
UNPAID_AFTER = datetime.timedelta(minutes=30)
_NUMBER_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read out over the phone

S = Order.Status
TRANSITIONS: dict[str, set[str]] = {
    S.PENDING_PAYMENT: {S.PAID, S.CANCELLED},
    S.PAID: {S.PICKING, S.CANCELLED},
    S.PICKING: {S.READY_FOR_PICKUP, S.OUT_FOR_DELIVERY, S.CANCELLED},
    S.READY_FOR_PICKUP: {S.COMPLETED, S.REFUNDED},
    S.OUT_FOR_DELIVERY: {S.COMPLETED, S.REFUNDED},
    S.COMPLETED: {S.REFUNDED},
    S.CANCELLED: set(),
    S.REFUNDED: set(),
}
FULFILMENT_STEPS = {S.PICKING, S.READY_FOR_PICKUP, S.OUT_FOR_DELIVERY, S.COMPLETED}
CANCELLABLE = {S.PENDING_PAYMENT, S.PAID, S.PICKING}
REFUNDABLE = {S.READY_FOR_PICKUP, S.OUT_FOR_DELIVERY, S.COMPLETED}


class OrderError(DomainError):
    code = "order_invalid"


class InvalidTransition(ConflictError):
    code = "invalid_transition"


class OrderNotPayable(ConflictError):
    """The order was released or cancelled before the payment arrived: the payment must be refunded."""

    code = "order_not_payable"


class NoSupermarket(DomainError):
    code = "no_supermarket"


def supermarket() -> Facility:
    facility = Facility.objects.filter(kind=Facility.Kind.SUPERMARKET, active=True).order_by("pk").first()
    if facility is None:
        raise NoSupermarket(_("The supermarket is not set up yet."))
    return facility


def new_order_number(now: datetime.datetime | None = None) -> str:
    """Readable and unique: the local date and 8 random characters, e.g. ``261129-K7Q2-MXAB``
    (32^8 ≈ 10^12 per day: a collision is left to the unique constraint)."""
    now = timezone.localtime(now)
    code = "".join(secrets.choice(_NUMBER_ALPHABET) for _i in range(8))
    return f"{now:%y%m%d}-{code[:4]}-{code[4:]}"


def _lock(order: Order) -> Order:
    return Order.objects.select_for_update().get(pk=order.pk)


def _event(order: Order, from_status: str, to_status: str, author=None, note: str = "") -> OrderEvent:
    return OrderEvent.objects.create(order=order, from_status=from_status, to_status=to_status, author=author, note=note[:200])


def _set_status(order: Order, to_status: str, *, author=None, note: str = "", **fields) -> None:
    from_status = order.status
    order.status = to_status
    for name, value in fields.items():
        setattr(order, name, value)
    Order.objects.filter(pk=order.pk).update(status=to_status, **fields)
    _event(order, from_status, to_status, author=author, note=note)


def _links(order: Order) -> list[OrderLineBatch]:
    return list(OrderLineBatch.objects.filter(line__order=order).select_related("line").order_by("line_id", "id"))


def _lock_stock(batch_ids) -> dict[int, BatchStock]:
    facility = supermarket()
    rows = BatchStock.objects.select_for_update().filter(facility_id=facility.pk, batch_id__in=set(batch_ids)).order_by("pk")
    return {row.batch_id: row for row in rows}


def _return_allocation(order: Order, amount: Decimal, *, key: str, reason: str, author=None) -> tuple[Decimal, str]:
    """Give ``amount`` back to the order's year; (amount returned, a note when it could not be)."""
    if amount <= 0:
        return ZERO, ""
    try:
        allocation_refund(
            employee=order.employee_id, year=order.year, amount=amount, order_number=order.number, key=key, reason=reason, author=author
        )
    except AllocationWindowClosed as exc:
        return ZERO, exc.message
    return amount, ""


# --- payment ------------------------------------------------------------------------------------


@transaction.atomic
def order_mark_paid(*, order: Order, author=None) -> bool:
    """The card part has been paid: pending_payment → paid, reserved units sold.

    Returns True when the order became paid, False when it already was (a no-op: webhooks
    repeat). Raises OrderNotPayable when the order had been released or cancelled — the
    caller then refunds the payment."""
    order = _lock(order)
    if order.status != S.PENDING_PAYMENT:
        if order.status in (S.CANCELLED, S.REFUNDED):
            raise OrderNotPayable(_("Order %(number)s was cancelled before the payment arrived.") % {"number": order.number})
        return False
    links = _links(order)
    stock = _lock_stock(link.batch_id for link in links)
    for link in links:
        stock_services.batch_stock_sell(
            stock=stock[link.batch_id], units=link.units, reference_type=RESERVATION_REFERENCE, reference_code=order.number, author=author
        )
    now = timezone.now()
    _set_status(order, S.PAID, author=author, note="card payment received", paid_at=now)
    Payment.objects.filter(order=order, status=Payment.Status.PENDING).update(status=Payment.Status.SUCCEEDED, updated_at=now)
    return True


@transaction.atomic
def order_release_unpaid(*, order: Order, reason: str, author=None) -> bool:
    """An order left unpaid (or whose payment could not start): reserved units back to sale,
    the allocation part back to the ledger, status cancelled. A no-op (False) unless the order
    is still pending payment — a paid order is never released."""
    order = _lock(order)
    if order.status != S.PENDING_PAYMENT:
        return False
    links = _links(order)
    stock = _lock_stock(link.batch_id for link in links)
    for link in links:
        stock_services.batch_stock_release(
            stock=stock[link.batch_id], units=link.units, reference_type=RESERVATION_REFERENCE, reference_code=order.number,
            author=author, reason=reason[:200],
        )
    _returned, note = _return_allocation(order, order.allocation_amount, key=f"release:{order.number}", reason=reason, author=author)
    _set_status(order, S.CANCELLED, author=author, note=f"{reason} {note}".strip())
    Payment.objects.filter(order=order, status=Payment.Status.PENDING).update(status=Payment.Status.EXPIRED, updated_at=timezone.now())
    return True


def orders_release_unpaid(*, older_than: datetime.timedelta = UNPAID_AFTER, now: datetime.datetime | None = None) -> int:
    """The periodic sweep: release every card order still unpaid ``older_than`` after checkout."""
    cutoff = (now or timezone.now()) - older_than
    released = 0
    for order in Order.objects.filter(status=S.PENDING_PAYMENT, created_at__lt=cutoff).order_by("created_at", "pk").iterator():
        if order_release_unpaid(order=order, reason="unpaid after 30 minutes"):
            released += 1
    return released


# --- fulfilment ---------------------------------------------------------------------------------


@transaction.atomic
def order_transition(*, order: Order, to_status: str, author, note: str = "") -> Order:
    """A fulfilment step (paid → picking → ready | delivering → completed), recorded with who
    and when. Payment, cancellation and refunds have their own services."""
    order = _lock(order)
    if to_status not in FULFILMENT_STEPS:
        raise InvalidTransition(_("Use payment, cancellation or refund for this change."))
    if to_status not in TRANSITIONS[order.status]:
        raise InvalidTransition(
            _("Order %(number)s is %(status)s and cannot become %(to)s.")
            % {"number": order.number, "status": S(order.status).label, "to": S(to_status).label}
        )
    if to_status == S.READY_FOR_PICKUP and order.fulfilment != Order.Fulfilment.PICKUP:
        raise InvalidTransition(_("Order %(number)s is delivered to the office, not picked up.") % {"number": order.number})
    if to_status == S.OUT_FOR_DELIVERY and order.fulfilment != Order.Fulfilment.OFFICE:
        raise InvalidTransition(_("Order %(number)s is picked up at the supermarket, not delivered.") % {"number": order.number})
    _set_status(order, to_status, author=author, note=note)
    return order


# --- cancellation and refunds -----------------------------------------------------------------


def _refunded_units(order: Order) -> dict[tuple[int, int], int]:
    """(line id, batch id) → units already refunded."""
    done: dict[tuple[int, int], int] = defaultdict(int)
    for line_id, batch_id, units in RefundLine.objects.filter(refund__order=order).values_list("line_id", "batch_id", "units"):
        done[(line_id, batch_id)] += units
    return done


def _card_refundable(order: Order) -> Decimal:
    payment = Payment.objects.filter(order=order).first()
    if payment is None or payment.status not in (Payment.Status.SUCCEEDED, Payment.Status.PARTIALLY_REFUNDED):
        return ZERO
    already = Refund.objects.filter(order=order).aggregate(s=Sum("card_amount"))["s"] or ZERO
    return max(ZERO, yuan(order.card_amount - already))


def _write_refund(
    *, order: Order, take: list[tuple[OrderLineBatch, int]], reason: str, author, key_prefix: str, stock_action: str | None
) -> Refund:
    """Refund + RefundLine rows for ``take`` (link, units); money split card first, then allocation."""
    value = yuan(sum((link.line.unit_price * units for link, units in take), ZERO))
    card = min(value, _card_refundable(order))
    allocation = value - card
    refund = Refund.objects.create(order=order, allocation_amount=ZERO, card_amount=card, reason=reason[:200], author=author)
    RefundLine.objects.bulk_create(
        [RefundLine(refund=refund, line=link.line, batch_id=link.batch_id, units=units, amount=yuan(link.line.unit_price * units))
         for link, units in take]
    )
    if stock_action:
        stock = _lock_stock(link.batch_id for link, _u in take)
        action = getattr(stock_services, stock_action)
        for link, units in take:
            action(stock=stock[link.batch_id], units=units, reference_type=RESERVATION_REFERENCE, reference_code=order.number,
                   author=author, reason=reason[:200])
    returned, note = _return_allocation(order, allocation, key=f"{key_prefix}:{refund.pk}", reason=reason, author=author)
    if returned or note:
        Refund.objects.filter(pk=refund.pk).update(
            allocation_amount=returned, reason=f"{reason} {note}".strip()[:200]
        )
        refund.allocation_amount, refund.reason = returned, f"{reason} {note}".strip()[:200]
    return refund


def order_cancel(*, order: Order, author, reason: str) -> Order:
    """Cancel before fulfilment (pending payment, paid, picking): units back on the shelf, the
    allocation part back to the ledger, the card part refunded through the provider after commit."""
    if not reason.strip():
        raise OrderError(_("Say why the order is cancelled."))
    with transaction.atomic():
        order = _lock(order)
        if order.status == S.PENDING_PAYMENT:
            order_release_unpaid(order=order, reason=reason, author=author)
            order.refresh_from_db()
            return order
        if order.status not in CANCELLABLE:
            raise InvalidTransition(
                _("Order %(number)s is %(status)s: it can no longer be cancelled.") % {"number": order.number, "status": S(order.status).label}
            )
        done = _refunded_units(order)
        take = [(link, link.units - done[(link.line_id, link.batch_id)]) for link in _links(order)]
        take = [(link, units) for link, units in take if units > 0]
        refund = _write_refund(
            order=order, take=take, reason=reason, author=author, key_prefix="cancel", stock_action="batch_stock_return"
        ) if take else None
        _set_status(order, S.CANCELLED, author=author, note=reason)
    if refund is not None and refund.card_amount > 0:
        refund_card(refund=refund)
    return order


def order_refund(
    *, order: Order, lines: dict[int, int] | None, reason: str, author, restock: bool = False
) -> Refund:
    """Refund after fulfilment, the whole order (``lines=None``) or ``{line id: units}``.

    Units are not put back on sale unless ``restock`` (see the module docstring)."""
    if not reason.strip():
        raise OrderError(_("Say why the order is refunded."))
    with transaction.atomic():
        order = _lock(order)
        if order.status not in REFUNDABLE:
            raise InvalidTransition(
                _("Order %(number)s is %(status)s: only a fulfilled order can be refunded; cancel it instead.")
                % {"number": order.number, "status": S(order.status).label}
            )
        done = _refunded_units(order)
        links = _links(order)
        order_lines = {line.pk: line for line in OrderLine.objects.filter(order=order).select_related("product")}
        wanted = {line_id: line.quantity for line_id, line in order_lines.items()} if lines is None else dict(lines)
        take: list[tuple[OrderLineBatch, int]] = []
        problems = []
        for line_id, units in wanted.items():
            line = order_lines.get(int(line_id))
            if line is None:
                raise OrderError(_("Line %(line)s is not part of order %(number)s.") % {"line": line_id, "number": order.number})
            units = int(units)
            left = sum(link.units - done[(link.line_id, link.batch_id)] for link in links if link.line_id == line.pk)
            if lines is None:
                units = left
            elif units <= 0 or units > left:
                problems.append(
                    _("%(product)s: %(left)d units can still be refunded (asked %(units)d).")
                    % {"product": line.product.name, "left": left, "units": units}
                )
                continue
            for link in (ln for ln in links if ln.line_id == line.pk):
                if units == 0:
                    break
                free = link.units - done[(link.line_id, link.batch_id)]
                n = min(free, units)
                if n > 0:
                    take.append((link, n))
                    units -= n
        if problems:
            raise OrderError(" ".join(problems), problems=problems)
        if not take:
            raise OrderError(_("Nothing is left to refund on order %(number)s.") % {"number": order.number})
        refund = _write_refund(
            order=order, take=take, reason=reason, author=author, key_prefix="refund",
            stock_action="batch_stock_return" if restock else None,
        )
        refunded_now = sum(units for _link, units in take)
        all_units = sum(link.units for link in links)
        if sum(done.values()) + refunded_now >= all_units:
            _set_status(order, S.REFUNDED, author=author, note=reason)
        else:
            _event(order, order.status, order.status, author=author, note=f"partial refund: {reason}")
    if refund.card_amount > 0:
        refund_card(refund=refund)
    return refund


def refund_card(*, refund: Refund) -> str:
    """Send the card part of ``refund`` through the provider (after commit; safe to retry: the
    idempotency key is the Refund row's). Returns the provider's refund id."""
    refund = Refund.objects.get(pk=refund.pk)
    if refund.provider_refund_id:
        return refund.provider_refund_id
    if refund.card_amount <= 0:
        return ""
    provider = payments_base.get_provider()
    if provider is None:
        raise PaymentProviderError(_("Card refunds are not available now; the refund is recorded and can be sent later."))
    payment = Payment.objects.get(order_id=refund.order_id)
    try:
        provider_refund_id = provider.refund(payment=payment, amount=refund.card_amount, idempotency_key=f"refund:{refund.pk}")
    except PaymentProviderError:
        raise
    except Exception as exc:  # the provider is down or refused: the refund stays recorded, the sweep retries it
        logger.warning("card refund %s failed: %s", refund.pk, type(exc).__name__)
        raise PaymentProviderError(
            _("The card refund could not be sent just now; it is recorded and will be sent again automatically.")
        ) from exc
    with transaction.atomic():
        refund = Refund.objects.select_for_update().get(pk=refund.pk)
        if refund.provider_refund_id:
            return refund.provider_refund_id
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        refunded = yuan(payment.refunded_amount + refund.card_amount)
        status = Payment.Status.REFUNDED if refunded >= payment.amount else Payment.Status.PARTIALLY_REFUNDED
        Payment.objects.filter(pk=payment.pk).update(refunded_amount=refunded, status=status, updated_at=timezone.now())
        Refund.objects.filter(pk=refund.pk).update(provider_refund_id=provider_refund_id)
    return provider_refund_id


def refunds_send_pending(*, older_than: datetime.timedelta = datetime.timedelta(minutes=5)) -> int:
    """Send again the card parts of refunds the provider has not confirmed (it failed or was
    unreachable after commit). Safe to repeat: each Refund row has its own idempotency key."""
    cutoff = timezone.now() - older_than
    sent = 0
    for refund in Refund.objects.filter(card_amount__gt=0, provider_refund_id="", created_at__lt=cutoff).order_by("pk"):
        try:
            refund_card(refund=refund)
        except Exception as exc:  # one failing refund must not stop the others; the next sweep retries it
            logger.warning("card refund %s still not sent: %s", refund.pk, type(exc).__name__)
            continue
        sent += 1
    return sent
