"""Celery tasks applying payment-provider events (``marketplace.tasks`` re-exports them).

Each receives an id, calls one service and is safe to run twice: applying an event is a no-op
once it is processed, and the late-payment refund carries an idempotency key tied to the payment.
"""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from celery.schedules import crontab
from django.db import OperationalError
from django.utils import timezone

from .base import PaymentProviderError

# BEAT_SCHEDULE is left out on purpose: marketplace/tasks.py has its own, which must merge this one.
__all__ = [
    "apply_payment_event", "payments_reconcile_task", "refund_late_payment", "refund_late_payments_due", "retry_unapplied_payment_events",
]

RETRY_AFTER = timedelta(minutes=5)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def apply_payment_event(event_pk: int) -> str:
    from .services import payment_event_apply

    return payment_event_apply(event_pk=event_pk)


@shared_task(autoretry_for=(OperationalError, PaymentProviderError), retry_backoff=30, max_retries=8)
def refund_late_payment(payment_id: int) -> str | None:
    from .services import late_payment_refund

    return late_payment_refund(payment_id=payment_id)


@shared_task
def retry_unapplied_payment_events() -> int:
    """Enqueue events stored a while ago and still not applied (a lost task, a worker killed)."""
    from ..models import PaymentEvent

    pks = list(
        PaymentEvent.objects.filter(processed_at__isnull=True, received_at__lt=timezone.now() - RETRY_AFTER)
        .order_by("pk")
        .values_list("pk", flat=True)[:500]
    )
    for pk in pks:
        apply_payment_event.delay(pk)
    return len(pks)


@shared_task
def refund_late_payments_due() -> int:
    """Send again the refunds of payments that arrived for released orders and are still not refunded."""
    from .services import late_payments_due

    pks = late_payments_due()
    for pk in pks:
        refund_late_payment.delay(pk)
    return len(pks)


@shared_task
def payments_reconcile_task(day: str | None = None) -> int:
    """Compare yesterday (or ``day``, YYYY-MM-DD) with every provider; returns the differences found."""
    import datetime

    from .reconcile import payments_reconcile

    when = datetime.date.fromisoformat(day) if day else timezone.localdate() - datetime.timedelta(days=1)
    return sum(len(report.differences) for report in payments_reconcile(day=when))


BEAT_SCHEDULE = {
    # daily, after the providers' own day has closed and their bills are ready (WeChat Pay: 10:00 for the day before)
    "payments-reconcile-yesterday": {"task": "marketplace.payments.tasks.payments_reconcile_task", "schedule": crontab(minute=30, hour=10)},
    "payments-refund-late-payments": {"task": "marketplace.payments.tasks.refund_late_payments_due", "schedule": 900.0},
    "payments-retry-unapplied-events": {"task": "marketplace.payments.tasks.retry_unapplied_payment_events", "schedule": 300.0},
}
