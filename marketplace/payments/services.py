"""Payment-provider events: stored once by id, applied exactly once, in any order.

The webhook view verifies an event and calls ``payment_event_record``; that stores it (a repeated
delivery finds the stored row and adds nothing) and, after commit, enqueues
``apply_payment_event``, which calls ``payment_event_apply``. Applying locks the PaymentEvent row
and returns at once if ``processed_at`` is set, so five concurrent deliveries of one event have
one effect. Every handler is written so that the events of one payment may arrive in any order:

- ``checkout.session.completed`` (``payment_status`` paid) and
  ``checkout.session.async_payment_succeeded``: the Payment succeeds and the order is marked paid
  (``order_mark_paid``). If the order is no longer awaiting payment because it was released (the
  session expired, the 30-minute sweep ran, or the employee cancelled), it cannot be paid any
  more: its stock and allocation went back. **Rule: money that arrives for a released order is
  refunded in full, automatically**, through the provider after commit (``refund_late_payment``,
  idempotency key ``late-payment:<payment id>``); the order stays cancelled and the event's
  outcome says so.
- ``checkout.session.expired`` and ``checkout.session.async_payment_failed``: the order is
  released (``order_release_unpaid``) unless the payment already succeeded — an expiry arriving
  after the payment changes nothing.
- ``charge.refunded``: recorded and compared with the shop's own refund records (the shop's
  refunds update the Payment when the provider accepts them; a refund made elsewhere, e.g. in
  Stripe's dashboard, is flagged in the outcome for staff).
- ``refund.*`` / ``charge.refund.updated``: recorded (a failed refund is flagged in the outcome).
- anything else: stored and marked processed with the outcome "ignored".

Lock order: the order row, then its Payment (the same order as checkout and the sweep).
No network call is made while a lock is held.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from core.errors import DomainError

from ..models import Order, Payment, PaymentEvent, Refund
from .stripe_provider import CURRENCY, amount_from_minor_units

logger = logging.getLogger(__name__)

STRIPE = "stripe"
PAID_STATUSES = {Payment.Status.SUCCEEDED, Payment.Status.REFUNDED, Payment.Status.PARTIALLY_REFUNDED}


@dataclass(frozen=True)
class Recorded:
    event: PaymentEvent
    created: bool


def payment_event_record(*, provider: str, event_id: str, event_type: str, payload: dict) -> Recorded:
    """Store a verified provider event once; enqueue its application after commit.

    A repeated delivery of an event that is stored but not yet applied enqueues it again (the
    task is a no-op once the event is processed), so a lost task is recovered by the provider's
    own redelivery.
    """
    with transaction.atomic():
        try:
            with transaction.atomic():
                event = PaymentEvent.objects.create(provider=provider, event_id=event_id, event_type=event_type, payload=payload)
            created = True
        except IntegrityError:
            event = PaymentEvent.objects.get(provider=provider, event_id=event_id)
            created = False
        if event.processed_at is None:
            from .tasks import apply_payment_event

            pk = event.pk
            # robust: a failure to enqueue (or, with eager tasks, to apply) must not turn the
            # provider's delivery into an error; the stored event is retried by the periodic task.
            transaction.on_commit(lambda: apply_payment_event.delay(pk), robust=True)
    return Recorded(event=event, created=created)


def payment_event_apply(*, event_pk: int) -> str:
    """Apply a stored event exactly once; returns its outcome."""
    late_payment_id = None
    with transaction.atomic():
        event = PaymentEvent.objects.select_for_update().get(pk=event_pk)
        if event.processed_at is not None:
            return event.outcome
        handler = _HANDLERS.get((event.provider, event.event_type), _ignored)
        obj = (event.payload.get("data") or {}).get("object") or {}
        outcome = handler(obj)
        if isinstance(outcome, tuple):  # (outcome, payment id to refund after commit)
            outcome, late_payment_id = outcome
        event.processed_at = timezone.now()
        event.outcome = outcome[:200]
        event.save(update_fields=["processed_at", "outcome"])
        if late_payment_id is not None:
            from .tasks import refund_late_payment

            transaction.on_commit(lambda: refund_late_payment.delay(late_payment_id), robust=True)
    return event.outcome


# --- finding the payment an event is about -----------------------------------------------------


def _order_number_of(obj: dict) -> str:
    metadata = obj.get("metadata") or {}
    return metadata.get("order_number") or obj.get("client_reference_id") or ""


def _payment_for_session(obj: dict) -> Payment | None:
    payment = Payment.objects.filter(session_id=obj.get("id") or "-").first() if obj.get("id") else None
    if payment is None and _order_number_of(obj):
        payment = Payment.objects.filter(order__number=_order_number_of(obj)).first()
    return payment


def _payment_for_charge(obj: dict) -> Payment | None:
    intent = obj.get("payment_intent")
    if isinstance(intent, dict):
        intent = intent.get("id")
    payment = Payment.objects.filter(payment_intent_id=intent).first() if intent else None
    if payment is None and _order_number_of(obj):
        payment = Payment.objects.filter(order__number=_order_number_of(obj)).first()
    return payment


def _lock(payment: Payment) -> tuple[Order, Payment]:
    """Lock the order, then its payment (the shop's lock order) and return fresh copies."""
    order = Order.objects.select_for_update().get(pk=payment.order_id)
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    return order, payment


# --- handlers -------------------------------------------------------------------------------------


def _ignored(obj: dict) -> str:
    return "ignored"


def _session_paid(obj: dict):
    found = _payment_for_session(obj)
    if found is None:
        logger.warning("payment event for unknown session %s", obj.get("id"))
        return "no payment for this session"
    order, payment = _lock(found)
    intent = obj.get("payment_intent") or ""
    if isinstance(intent, dict):
        intent = intent.get("id") or ""
    changed = []
    if intent and payment.payment_intent_id != intent:
        payment.payment_intent_id = intent
        changed.append("payment_intent_id")
    if obj.get("id") and not payment.session_id:
        payment.session_id = obj["id"]
        changed.append("session_id")
    if payment.status in PAID_STATUSES:
        if changed:
            payment.save(update_fields=[*changed, "updated_at"])
        return "already paid"
    paid = amount_from_minor_units(obj.get("amount_total"))
    currency = (obj.get("currency") or "").lower()
    if paid is not None and (paid != payment.amount or currency != CURRENCY):
        # Never mark an order paid for a different amount; staff must look at it.
        if changed:
            payment.save(update_fields=[*changed, "updated_at"])
        logger.error("payment for order %s: amount %s %s does not match %s", order.number, paid, currency, payment.amount)
        return f"AMOUNT MISMATCH: paid {paid} {currency}, expected {payment.amount}; order not marked paid"
    return _apply_paid(order, payment, changed)


def _apply_paid(order: Order, payment: Payment, changed: list[str]):
    """The payment has arrived, for the right amount: mark it and the order paid (or refund it if
    the order was released meanwhile). Runs with the order and payment locked."""
    from ..services.orders import order_mark_paid

    payment.status = Payment.Status.SUCCEEDED
    payment.save(update_fields=["status", *changed, "updated_at"])
    if order.status == Order.Status.PENDING_PAYMENT:
        try:
            with transaction.atomic():
                order_mark_paid(order=order)
        except DomainError as exc:
            logger.warning("order %s could not be marked paid: %s", order.number, exc.message)
            return ("late payment: order could not be marked paid; full refund started", payment.pk)
        return "order paid"
    if order.status in (Order.Status.CANCELLED, Order.Status.REFUNDED):
        return ("late payment for a released order; full refund started", payment.pk)
    return f"payment recorded; order already {order.status}"


def _session_completed(obj: dict):
    if obj.get("payment_status") in ("paid", "no_payment_required"):
        return _session_paid(obj)
    # Paid later (async payment methods): remember the intent, wait for async_payment_succeeded.
    found = _payment_for_session(obj)
    if found is not None:
        intent = obj.get("payment_intent") or ""
        if intent and not found.payment_intent_id:
            Payment.objects.filter(pk=found.pk, payment_intent_id="").update(payment_intent_id=intent, updated_at=timezone.now())
    return "completed, payment not yet received"


def _session_not_paid(status: str, reason: str):
    def handler(obj: dict) -> str:
        from ..services.orders import order_release_unpaid

        found = _payment_for_session(obj)
        if found is None:
            return "no payment for this session"
        if found.session_id and obj.get("id") and found.session_id != obj["id"]:
            return "ignored: not the order's current payment session"
        order, payment = _lock(found)
        if payment.status in PAID_STATUSES:
            return "ignored: already paid"
        if payment.status == Payment.Status.PENDING:
            payment.status = status
            payment.save(update_fields=["status", "updated_at"])
        if order.status != Order.Status.PENDING_PAYMENT:
            return f"payment {status}; order already {order.status}"
        order_release_unpaid(order=order, reason=reason)
        return f"payment {status}; order released"

    return handler


def _charge_refunded(obj: dict) -> str:
    """Recorded, not applied: the shop's own refunds update the Payment when the provider accepts
    them (``orders.refund_card``, ``late_payment_refund``), so a second writer here could count a
    refund twice. A difference (a refund made outside the shop, in Stripe's dashboard) is flagged."""
    found = _payment_for_charge(obj)
    if found is None:
        return "no payment for this charge"
    payment = Payment.objects.get(pk=found.pk)
    reported = amount_from_minor_units(obj.get("amount_refunded") or 0)
    if reported > payment.refunded_amount:
        logger.warning("order %s: provider reports %s refunded, the shop has %s", payment.order_id, reported, payment.refunded_amount)
        return f"CHECK: provider reports {reported} refunded, shop recorded {payment.refunded_amount}"
    return f"refunded {reported} matches the shop's records"


def _refund_updated(obj: dict) -> str:
    status = obj.get("status") or ""
    if status in ("failed", "canceled"):
        logger.error("refund %s for order %s %s", obj.get("id"), _order_number_of(obj), status)
        return f"REFUND {status.upper()}: {obj.get('id')} ({_order_number_of(obj)}); staff must follow up"
    return f"refund {obj.get('id')} {status}"


# --- WeChat Pay and Alipay: one shape for both ----------------------------------------------------
# Their notification views (and the sweep's order query) store ``data.object`` as
# ``{"out_trade_no", "transaction_id", "amount" (yuan, str), "currency", "state", "raw"}``.


def _trade_paid(provider: str):
    def handler(obj: dict):
        from decimal import Decimal, InvalidOperation

        found = Payment.objects.filter(order__number=obj.get("out_trade_no") or "-").first()
        if found is None:
            logger.warning("%s payment for unknown order %s", provider, obj.get("out_trade_no"))
            return "no payment for this order number"
        if found.provider != provider:
            logger.error("%s says order %s is paid, but its payment is with %s", provider, obj.get("out_trade_no"), found.provider)
            return f"CHECK: {provider} reports a payment for an order paid through {found.provider}"
        order, payment = _lock(found)
        changed = []
        transaction_id = obj.get("transaction_id") or ""
        if transaction_id and payment.payment_intent_id != transaction_id:
            payment.payment_intent_id = transaction_id
            changed.append("payment_intent_id")
        if payment.status in PAID_STATUSES:
            if changed:
                payment.save(update_fields=[*changed, "updated_at"])
            return "already paid"
        try:
            paid = Decimal(str(obj.get("amount")))
        except (InvalidOperation, ValueError):
            paid = None
        currency = (obj.get("currency") or "").upper()
        if paid != payment.amount or currency != payment.currency.upper():
            if changed:
                payment.save(update_fields=[*changed, "updated_at"])
            logger.error("%s payment for order %s: amount %s %s does not match %s", provider, order.number, paid, currency, payment.amount)
            return f"AMOUNT MISMATCH: paid {paid} {currency}, expected {payment.amount}; order not marked paid"
        return _apply_paid(order, payment, changed)

    return handler


def _trade_refund_notified(obj: dict) -> str:
    """A refund's outcome from WeChat Pay or Alipay: recorded; a failed one is flagged for staff."""
    state = (obj.get("state") or "").upper()
    number = obj.get("out_refund_no") or ""
    if state in ("ABNORMAL", "CLOSED", "FAIL", "FAILED"):
        logger.error("refund %s for order %s %s", number, obj.get("out_trade_no"), state)
        return f"REFUND {state}: {number} ({obj.get('out_trade_no')}); staff must follow up"
    return f"refund {number} {state.lower()}"


_HANDLERS = {
    ("wechat", "TRANSACTION.SUCCESS"): _trade_paid("wechat"),
    ("wechat", "REFUND.SUCCESS"): _trade_refund_notified,
    ("wechat", "REFUND.ABNORMAL"): _trade_refund_notified,
    ("wechat", "REFUND.CLOSED"): _trade_refund_notified,
    ("wechat", "QUERY.SUCCESS"): _trade_paid("wechat"),  # found by the sweep's order query (notification lost)
    ("alipay", "TRADE_SUCCESS"): _trade_paid("alipay"),
    ("alipay", "TRADE_FINISHED"): _trade_paid("alipay"),
    ("alipay", "QUERY.SUCCESS"): _trade_paid("alipay"),
    (STRIPE, "checkout.session.completed"): _session_completed,
    (STRIPE, "checkout.session.async_payment_succeeded"): _session_paid,
    (STRIPE, "checkout.session.expired"): _session_not_paid(Payment.Status.EXPIRED, "card payment session expired"),
    (STRIPE, "checkout.session.async_payment_failed"): _session_not_paid(Payment.Status.FAILED, "card payment failed"),
    (STRIPE, "charge.refunded"): _charge_refunded,
    (STRIPE, "refund.created"): _refund_updated,
    (STRIPE, "refund.updated"): _refund_updated,
    (STRIPE, "refund.failed"): _refund_updated,
    (STRIPE, "charge.refund.updated"): _refund_updated,
}
HANDLED_EVENT_TYPES = sorted({t for _p, t in _HANDLERS})


# --- the late-payment refund ---------------------------------------------------------------------


def late_payment_refund(*, payment_id: int) -> str | None:
    """Refund in full a payment that arrived for an order that had been released.

    The provider is called with no lock held and with a key tied to the payment, so running this
    twice refunds once. Returns the provider's refund id, or None if nothing was due.
    """
    from .base import PaymentProviderError, provider_for

    payment = Payment.objects.select_related("order").get(pk=payment_id)
    if payment.order.status not in (Order.Status.CANCELLED, Order.Status.REFUNDED) or payment.status != Payment.Status.SUCCEEDED:
        return None
    due = payment.amount - payment.refunded_amount
    if due <= 0 or Refund.objects.filter(order_id=payment.order_id, card_amount__gt=0).exists():
        return None  # nothing left, or the order's own refunds (order services) handle the card part
    try:
        provider = provider_for(payment)
    except PaymentProviderError:
        logger.error("late payment %s for order %s cannot be refunded: its provider %s is not configured", payment.pk,
                     payment.order.number, payment.provider)
        return None
    refund_id = provider.refund(payment=payment, amount=due, idempotency_key=f"late-payment:{payment.pk}")
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if locked.refunded_amount < locked.amount:
            locked.refunded_amount = locked.amount
            locked.status = Payment.Status.REFUNDED
            locked.save(update_fields=["refunded_amount", "status", "updated_at"])
    logger.info("late payment for order %s refunded (%s)", payment.order.number, refund_id)
    return refund_id


# --- the sweep's order query (a lost notification) ------------------------------------------------


def trade_event_object(provider: str, status) -> dict:
    """What WeChat Pay's or Alipay's handlers read, from a ``TradeStatus``."""
    return {"out_trade_no": (status.raw or {}).get("out_trade_no") or "", "transaction_id": status.transaction_id,
            "amount": str(status.amount) if status.amount is not None else "", "currency": "CNY", "state": status.state,
            "raw": status.raw}


def payment_check_before_release(*, order: Order) -> str:
    """Before the unpaid sweep releases ``order``: ask the provider that was to take its payment
    whether it was paid after all (its notification lost). Returns ``"paid"`` (the payment is
    recorded as an event and applied by the same task as a notification; do not release),
    ``"unknown"`` (the provider could not be asked now; try again at the next sweep) or
    ``"unpaid"`` (release it). Providers whose sessions expire by themselves are not asked."""
    from .base import REGISTRY, PaymentProviderError, provider_for

    payment = Payment.objects.select_related("order").filter(order=order).first()
    if payment is None or payment.status != Payment.Status.PENDING:
        return "unpaid"
    spec = REGISTRY.get(payment.provider)
    if spec is None or not spec.query_before_release:
        return "unpaid"
    try:
        provider = provider_for(payment)
        status = provider.query(payment=payment)
    except PaymentProviderError as exc:
        logger.warning("order %s: %s could not be asked before release: %s", order.number, payment.provider, exc.message)
        return "unknown"
    if status is None or not status.paid:
        return "unpaid"
    obj = trade_event_object(payment.provider, status)
    obj["out_trade_no"] = obj["out_trade_no"] or order.number
    payment_event_record(provider=payment.provider, event_id=f"query:{order.number}:{status.transaction_id}", event_type="QUERY.SUCCESS",
                         payload={"id": f"query:{order.number}", "event_type": "QUERY.SUCCESS", "data": {"object": obj}})
    logger.warning("order %s was paid through %s but its notification never arrived; applied from the order query",
                   order.number, payment.provider)
    return "paid"


ATTENTION_PREFIXES = ("CHECK", "REFUND ", "AMOUNT MISMATCH", "late payment", "no payment")


def payment_events_list(*, attention_only: bool = False, limit: int = 200):
    """Recent provider events, newest first; ``attention_only``: those staff must look at
    (flagged outcomes, and events stored over five minutes ago but not applied)."""
    from datetime import timedelta

    from django.db.models import Q

    qs = PaymentEvent.objects.order_by("-received_at", "-pk")
    if attention_only:
        flagged = Q()
        for prefix in ATTENTION_PREFIXES:
            flagged |= Q(outcome__startswith=prefix)
        stuck = Q(processed_at__isnull=True, received_at__lt=timezone.now() - timedelta(minutes=5))
        qs = qs.filter(flagged | stuck)
    return qs[:limit]


def late_payments_due() -> list[int]:
    """Payments that succeeded for orders that had been released and are not refunded yet (a
    refund that failed, or whose task was lost): the periodic sweep sends them again."""
    return list(
        Payment.objects.filter(
            status=Payment.Status.SUCCEEDED, order__status__in=[Order.Status.CANCELLED], refunded_amount__lt=F("amount"),
        ).exclude(order__refunds__card_amount__gt=0).order_by("pk").values_list("pk", flat=True)[:200]
    )


__all__ = [
    "payment_check_before_release", "trade_event_object",
    "ATTENTION_PREFIXES", "HANDLED_EVENT_TYPES", "late_payments_due", "payment_events_list", "PAID_STATUSES", "Recorded", "STRIPE", "late_payment_refund", "payment_event_apply", "payment_event_record",
]
