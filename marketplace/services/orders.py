"""Orders after checkout: payment, fulfilment, cancellation, refunds, the unpaid sweep — the only
writer of Order status, OrderEvent, Refund and RefundLine.

The status machine guards itself: every change of ``Order.status`` after checkout goes through
``order_transition``, which refuses a change not in ``TRANSITIONS`` or made by someone the
table does not name (the storefront, the API, the staff screens, the webhook, the sweep and the
demo all call it, directly or through ``order_cancel`` / ``order_mark_paid`` /
``order_release_unpaid`` / ``order_refund``, which add their own inputs and idempotency)::

    pending_payment → paid                 the payment provider (system)
    pending_payment → cancelled            the employee, the supermarket (with a reason), the unpaid sweep
    paid → picking                         the supermarket
    paid → cancelled                       the employee, the supermarket (with a reason)
    picking → ready | delivering           the supermarket (ready: pickup orders; delivering: office orders)
    picking → cancelled                    the supermarket only, with a reason: the employee asks them
    ready | delivering → completed         the supermarket
    ready | delivering | completed → refunded   the supermarket, with a reason, once every unit is refunded
                                                (a partial refund keeps the status)

Who is who (``order_actor``): the supermarket is its staff and the county office; the employee
is the order's owner; ``SYSTEM`` is the provider's webhook and the periodic sweep.

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
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ConflictError, DomainError, NotAllowed
from core.money import ZERO, yuan
from logistics.models import BatchStock, Facility
from logistics.selectors import stock as stock_selectors
from logistics.services import stock as stock_services
from logistics.services.access import is_supermarket_staff

from ..models import Order, OrderEvent, OrderLine, OrderLineBatch, Payment, Refund, RefundLine
from ..payments import base as payments_base
from ..payments.base import PaymentProviderError
from .allocation import AllocationWindowClosed, allocation_refund
from .notices import order_notice_on_commit

logger = logging.getLogger(__name__)

RESERVATION_REFERENCE = "order"
UNPAID_AFTER = datetime.timedelta(minutes=30)
_NUMBER_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read out over the phone

S = Order.Status

SYSTEM = "system"  # the payment provider's webhook, the unpaid sweep: no person
EMPLOYEE = "employee"  # the order's owner
SUPERMARKET = "supermarket"  # supermarket staff and the county office


@dataclass(frozen=True)
class Rule:
    """Who may make one transition, and who must say why."""

    who: frozenset[str]
    reason_from: frozenset[str] = frozenset()


def _rule(who: set[str], reason_from: set[str] | None = None) -> Rule:
    return Rule(frozenset(who), frozenset(reason_from or ()))


TRANSITIONS: dict[str, dict[str, Rule]] = {
    S.PENDING_PAYMENT: {
        S.PAID: _rule({SYSTEM}),
        S.CANCELLED: _rule({EMPLOYEE, SUPERMARKET, SYSTEM}, reason_from={SUPERMARKET, SYSTEM}),
    },
    S.PAID: {
        S.PICKING: _rule({SUPERMARKET}),
        S.CANCELLED: _rule({EMPLOYEE, SUPERMARKET}, reason_from={SUPERMARKET}),
    },
    S.PICKING: {
        S.READY_FOR_PICKUP: _rule({SUPERMARKET}),
        S.OUT_FOR_DELIVERY: _rule({SUPERMARKET}),
        S.CANCELLED: _rule({SUPERMARKET}, reason_from={SUPERMARKET}),
    },
    S.READY_FOR_PICKUP: {S.COMPLETED: _rule({SUPERMARKET}), S.REFUNDED: _rule({SUPERMARKET}, reason_from={SUPERMARKET})},
    S.OUT_FOR_DELIVERY: {S.COMPLETED: _rule({SUPERMARKET}), S.REFUNDED: _rule({SUPERMARKET}, reason_from={SUPERMARKET})},
    S.COMPLETED: {S.REFUNDED: _rule({SUPERMARKET}, reason_from={SUPERMARKET})},
    S.CANCELLED: {},
    S.REFUNDED: {},
}
# Statuses whose orders count as sold: paid, and neither cancelled nor wholly refunded.
SOLD_STATUSES = frozenset({S.PAID, S.PICKING, S.READY_FOR_PICKUP, S.OUT_FOR_DELIVERY, S.COMPLETED})


class OrderError(DomainError):
    code = "order_invalid"


class InvalidTransition(ConflictError):
    """Not in the table for this order's status, or not for this person."""

    code = "invalid_transition"


class TransitionNotAllowed(NotAllowed):
    """The person has no part in this order (not its owner, not the supermarket)."""

    code = "transition_not_allowed"


class OrderNotPayable(ConflictError):
    """The order was released or cancelled before the payment arrived: the payment must be refunded."""

    code = "order_not_payable"


def supermarket() -> Facility:
    """The supermarket (``logistics.selectors.stock.supermarket``), or NoSupermarket."""
    return stock_selectors.supermarket_required()


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


# --- the status machine -------------------------------------------------------------------------


def order_actor(actor, order: Order) -> str:
    """Who ``actor`` is to ``order``: SYSTEM, SUPERMARKET (its staff or the county office) or
    EMPLOYEE (the order's owner). Anyone else is refused (403)."""
    if actor is None or actor == SYSTEM:
        return SYSTEM
    if is_supermarket_staff(actor):
        return SUPERMARKET
    # A counter sale or canteen delivery may have no employee: then only the supermarket acts.
    if getattr(actor, "is_authenticated", False) and order.employee is not None and order.employee.user_id == actor.pk:
        return EMPLOYEE
    raise TransitionNotAllowed(_("You may not change order %(number)s.") % {"number": order.number})


def _status_label(status: str) -> str:
    return str(S(status).label) if status in S.values else status


def _refusal(order: Order, to: str, who: str) -> InvalidTransition | None:
    """Why ``who`` may not move ``order`` to ``to`` now (None: they may)."""
    rule = TRANSITIONS.get(order.status, {}).get(to)
    if rule is None:
        if to == S.REFUNDED:
            return InvalidTransition(
                _("Order %(number)s is %(status)s: only a fulfilled order can be refunded; cancel it instead.")
                % {"number": order.number, "status": _status_label(order.status)}
            )
        if to == S.CANCELLED:
            return InvalidTransition(
                _("Order %(number)s is %(status)s: it can no longer be cancelled.")
                % {"number": order.number, "status": _status_label(order.status)}
            )
        return InvalidTransition(
            _("Order %(number)s is %(status)s and cannot become %(to)s.")
            % {"number": order.number, "status": _status_label(order.status), "to": _status_label(to)}
        )
    if who not in rule.who:
        if to == S.CANCELLED and who == EMPLOYEE:
            return InvalidTransition(
                _("The supermarket is already picking order %(number)s; please ask them to cancel it.") % {"number": order.number}
            )
        return InvalidTransition(
            _("Only the supermarket may make order %(number)s %(to)s.") % {"number": order.number, "to": _status_label(to)}
        )
    if to == S.READY_FOR_PICKUP and order.fulfilment != Order.Fulfilment.PICKUP:
        return InvalidTransition(_("Order %(number)s is delivered to the office, not picked up.") % {"number": order.number})
    if to == S.OUT_FOR_DELIVERY and order.fulfilment != Order.Fulfilment.OFFICE:
        return InvalidTransition(_("Order %(number)s is picked up at the supermarket, not delivered.") % {"number": order.number})
    return None


def order_may_transition(*, order: Order, to: str, actor) -> bool:
    """Whether ``actor`` may move ``order`` to ``to`` now: what a page asks before it shows the
    button (the same table ``order_transition`` enforces)."""
    try:
        who = order_actor(actor, order)
    except TransitionNotAllowed:
        return False
    return _refusal(order, to, who) is None


@transaction.atomic
def order_transition(*, order: Order, to: str, actor, reason: str = "") -> Order:
    """The one writer of ``Order.status`` after checkout (see the table at the top).

    Locks the order, refuses a change not in ``TRANSITIONS`` for the order's status and this
    person (InvalidTransition, 409; TransitionNotAllowed, 403, for a stranger), asks for the
    reason the table requires, carries out what the change means for stock and money, then
    writes the status and an OrderEvent with who, when and why. ``actor`` is a user or SYSTEM.

    A cancellation that returns a card payment sets ``order.card_refund`` (the Refund whose
    card part is sent after commit by ``order_cancel``)."""
    given, order = order, _lock(order)
    who = order_actor(actor, order)
    refusal = _refusal(order, to, who)
    if refusal is not None:
        raise refusal
    reason = (reason or "").strip()
    if not reason and who in TRANSITIONS[order.status][to].reason_from:
        raise OrderError(_("Say why the order is cancelled.") if to == S.CANCELLED else _("Say why the order is refunded."))
    if not reason and to == S.CANCELLED and who == EMPLOYEE:
        reason = _("Cancelled by the employee")
    author = None if who == SYSTEM else actor
    from_status = order.status
    fields = _EFFECTS.get((from_status, to), _EFFECTS.get(to, _no_effect))(order, author=author, reason=reason)
    note = f"{reason} {fields.pop('_note', '')}".strip()
    for instance in {id(order): order, id(given): given}.values():  # the caller's copy shows the change too
        instance.status = to
        for name, value in fields.items():
            setattr(instance, name, value)
    Order.objects.filter(pk=order.pk).update(status=to, **fields)
    _event(order, from_status, to, author=author, note=note)
    order_notice_on_commit(order, to)
    return order


def _no_effect(order: Order, *, author, reason: str) -> dict:
    return {}


def _effect_paid(order: Order, *, author, reason: str) -> dict:
    """The card part has been paid: the reserved units are sold."""
    links = _links(order)
    stock = _lock_stock(link.batch_id for link in links)
    for link in links:
        stock_services.batch_stock_sell(
            stock=stock[link.batch_id], units=link.units, reference_type=RESERVATION_REFERENCE, reference_code=order.number, author=author
        )
    now = timezone.now()
    Payment.objects.filter(order=order, status=Payment.Status.PENDING).update(status=Payment.Status.SUCCEEDED, updated_at=now)
    return {"paid_at": now}


def _effect_release(order: Order, *, author, reason: str) -> dict:
    """Cancelled before payment: reserved units back to sale, the allocation part back."""
    links = _links(order)
    stock = _lock_stock(link.batch_id for link in links)
    for link in links:
        stock_services.batch_stock_release(
            stock=stock[link.batch_id], units=link.units, reference_type=RESERVATION_REFERENCE, reference_code=order.number,
            author=author, reason=reason[:200],
        )
    _returned, note = _return_allocation(order, order.allocation_amount, key=f"release:{order.number}", reason=reason, author=author)
    Payment.objects.filter(order=order, status=Payment.Status.PENDING).update(status=Payment.Status.EXPIRED, updated_at=timezone.now())
    return {"_note": note}


def _effect_cancel_paid(order: Order, *, author, reason: str) -> dict:
    """Cancelled after payment, before fulfilment: sold units back on the shelf (they never left
    the supermarket) and the money back — a Refund of everything not yet refunded."""
    done = _refunded_units(order)
    take = [(link, link.units - done[(link.line_id, link.batch_id)]) for link in _links(order)]
    take = [(link, units) for link, units in take if units > 0]
    order.card_refund = _write_refund(
        order=order, take=take, reason=reason, author=author, key_prefix="cancel", stock_action="batch_stock_return"
    ) if take else None
    return {}


def _effect_refunded(order: Order, *, author, reason: str) -> dict:
    """Wholly refunded: only once every unit has been refunded (``order_refund`` writes the money)."""
    done = sum(_refunded_units(order).values())
    if done < sum(link.units for link in _links(order)):
        raise InvalidTransition(
            _("Order %(number)s still has units not refunded: refund them first.") % {"number": order.number}
        )
    return {}


_EFFECTS = {
    (S.PENDING_PAYMENT, S.PAID): _effect_paid,
    (S.PENDING_PAYMENT, S.CANCELLED): _effect_release,
    (S.PAID, S.CANCELLED): _effect_cancel_paid,
    (S.PICKING, S.CANCELLED): _effect_cancel_paid,
    S.REFUNDED: _effect_refunded,
}


# --- payment ------------------------------------------------------------------------------------


@transaction.atomic
def order_mark_paid(*, order: Order) -> bool:
    """The card part has been paid (the provider's webhook): pending_payment → paid.

    Returns True when the order became paid, False when it already was (a no-op: webhooks
    repeat). Raises OrderNotPayable when the order had been released or cancelled — the
    caller then refunds the payment."""
    order = _lock(order)
    if order.status != S.PENDING_PAYMENT:
        if order.status in (S.CANCELLED, S.REFUNDED):
            raise OrderNotPayable(_("Order %(number)s was cancelled before the payment arrived.") % {"number": order.number})
        return False
    order_transition(order=order, to=S.PAID, actor=SYSTEM, reason="card payment received")
    return True


@transaction.atomic
def order_release_unpaid(*, order: Order, reason: str) -> bool:
    """An order left unpaid (or whose payment could not start): reserved units back to sale,
    the allocation part back to the ledger, status cancelled. A no-op (False) unless the order
    is still pending payment — a paid order is never released."""
    order = _lock(order)
    if order.status != S.PENDING_PAYMENT:
        return False
    order_transition(order=order, to=S.CANCELLED, actor=SYSTEM, reason=reason)
    return True


def orders_release_unpaid(*, older_than: datetime.timedelta = UNPAID_AFTER, now: datetime.datetime | None = None) -> int:
    """The periodic sweep: release every card order still unpaid ``older_than`` after checkout."""
    cutoff = (now or timezone.now()) - older_than
    released = 0
    from ..payments.services import payment_check_before_release

    for order in Order.objects.filter(status=S.PENDING_PAYMENT, created_at__lt=cutoff).order_by("created_at", "pk").iterator():
        # WeChat Pay / Alipay: a notification may have been lost; their order query decides (no lock held)
        if payment_check_before_release(order=order) != "unpaid":
            continue
        if order_release_unpaid(order=order, reason="unpaid after 30 minutes"):
            released += 1
    return released


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


def _offline_refundable(order: Order) -> Decimal:
    if order.offline_amount <= 0:
        return ZERO
    already = Refund.objects.filter(order=order).aggregate(s=Sum("offline_amount"))["s"] or ZERO
    return max(ZERO, yuan(order.offline_amount - already))


def _write_refund(
    *, order: Order, take: list[tuple[OrderLineBatch, int]], reason: str, author, key_prefix: str, stock_action: str | None
) -> Refund:
    """Refund + RefundLine rows for ``take`` (link, units); money split card first, then cash (a
    counter sale's cash part, handed back at the counter), then allocation: the buyer's own money
    goes back before the allocation's."""
    value = yuan(sum((link.line.unit_price * units for link, units in take), ZERO))
    card = min(value, _card_refundable(order))
    offline = min(value - card, _offline_refundable(order))
    allocation = value - card - offline
    refund = Refund.objects.create(
        order=order, allocation_amount=ZERO, card_amount=card, offline_amount=offline, reason=reason[:200], author=author
    )
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
    _publish_after_commit()
    return refund


def _publish_after_commit() -> None:
    # A refund changes the published net sales: the money flow follows once this commits.
    from marketplace.settlement.money_flow import money_flow_refresh_soon

    money_flow_refresh_soon()


def order_cancel(*, order: Order, actor, reason: str = "") -> Order:
    """Cancel before fulfilment (``order_transition`` to cancelled: the employee until picking
    starts, the supermarket until fulfilment with a reason): units back on the shelf, the
    allocation part back to the ledger, the card part refunded through the provider after commit."""
    order = order_transition(order=order, to=S.CANCELLED, actor=actor, reason=reason)
    refund = getattr(order, "card_refund", None)
    if refund is not None and refund.card_amount > 0:
        refund_card(refund=refund)
    return order


def order_refund(
    *, order: Order, lines: dict[int, int] | None, reason: str, actor, restock: bool = False
) -> Refund:
    """Refund after fulfilment, the whole order (``lines=None``) or ``{line id: units}``: who
    may is the table's rule for → refunded (the supermarket, with a reason); the order becomes
    refunded, through ``order_transition``, once every unit is.

    Units are not put back on sale unless ``restock`` (see the module docstring)."""
    if not reason.strip():
        raise OrderError(_("Say why the order is refunded."))
    with transaction.atomic():
        order = _lock(order)
        refusal = _refusal(order, S.REFUNDED, order_actor(actor, order))
        if refusal is not None:
            raise refusal
        author = actor
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
            order_transition(order=order, to=S.REFUNDED, actor=actor, reason=reason)
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
    payment = Payment.objects.get(order_id=refund.order_id)
    # the provider that took this payment, whatever is configured for new checkouts now
    provider = payments_base.provider_for(payment)
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
