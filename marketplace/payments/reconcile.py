"""Daily provider reconciliation: the day's payments and refunds in the books against each
provider's own records, every difference listed for the county office.

For each configured provider that offers an order query (WeChat Pay, Alipay), every Payment it
took that was created or refunded on the day (Asia/Shanghai) is asked about: paid or not, for what
amount, and each card refund of the order (by the out-refund / out-request number the shop sent).
Stripe offers no query here (its events already report refunds made outside the shop), so its
day is recorded as not compared. The result is one ProviderReconciliation per day and provider
(a rerun replaces it); nothing in the books is changed — a person decides.

Run daily by ``payments_reconcile_task`` and by ``manage.py payments_reconcile --date``.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import asdict, dataclass

from django.db.models import Q
from django.utils import timezone

from ..models import Payment, ProviderReconciliation, Refund
from .base import REGISTRY, PaymentProviderError, configured_providers, provider_for

logger = logging.getLogger(__name__)

PAID_IN_BOOKS = {Payment.Status.SUCCEEDED, Payment.Status.PARTIALLY_REFUNDED, Payment.Status.REFUNDED}
PAID_AT_PROVIDER = {"SUCCESS", "REFUND", "TRADE_SUCCESS", "TRADE_FINISHED"}


@dataclass(frozen=True)
class Difference:
    order: str
    kind: str  # paid_not_in_books | paid_only_in_books | amount | refund_missing | refund_amount | refund_not_sent | query_failed
    books: str
    provider: str
    message: str


def day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_current_timezone())
    return start, start + datetime.timedelta(days=1)


def _payments_of_day(provider: str, day: datetime.date):
    start, end = day_bounds(day)
    return (Payment.objects.select_related("order").filter(provider=provider)
            .filter(Q(created_at__gte=start, created_at__lt=end) | Q(order__refunds__created_at__gte=start, order__refunds__created_at__lt=end))
            .distinct().order_by("pk"))


def _compare(provider, payment: Payment) -> list[Difference]:
    number = payment.order.number
    try:
        status = provider.query(payment=payment)
    except PaymentProviderError as exc:
        return [Difference(number, "query_failed", payment.status, "", exc.message)]
    found: list[Difference] = []
    books_paid = payment.status in PAID_IN_BOOKS
    provider_paid = status.state in PAID_AT_PROVIDER or (status.state == "TRADE_CLOSED" and payment.status == Payment.Status.REFUNDED)
    if provider_paid and not books_paid:
        found.append(Difference(number, "paid_not_in_books", payment.status, status.state,
                                f"the provider took {status.amount} but the books say {payment.status}"))
    elif books_paid and not provider_paid:
        found.append(Difference(number, "paid_only_in_books", payment.status, status.state or "none",
                                f"the books say paid {payment.amount}, the provider says {status.state or 'no such payment'}"))
    elif books_paid and status.amount is not None and status.amount != payment.amount:
        found.append(Difference(number, "amount", str(payment.amount), str(status.amount),
                                f"paid {status.amount} at the provider, {payment.amount} in the books"))
    if books_paid and hasattr(provider, "refund_query"):
        for refund in Refund.objects.filter(order_id=payment.order_id, card_amount__gt=0).order_by("pk"):
            if not refund.provider_refund_id:
                found.append(Difference(number, "refund_not_sent", str(refund.card_amount), "",
                                        f"refund {refund.pk} of {refund.card_amount} is recorded but the provider has not confirmed it"))
                continue
            try:
                state, amount = provider.refund_query(payment=payment, idempotency_key=f"refund:{refund.pk}")
            except PaymentProviderError as exc:
                found.append(Difference(number, "query_failed", str(refund.card_amount), "", exc.message))
                continue
            if amount is None:
                found.append(Difference(number, "refund_missing", str(refund.card_amount), state,
                                        f"refund {refund.pk} of {refund.card_amount} is in the books, not at the provider"))
            elif amount != refund.card_amount:
                found.append(Difference(number, "refund_amount", str(refund.card_amount), str(amount),
                                        f"refund {refund.pk}: {refund.card_amount} in the books, {amount} at the provider"))
    return found


def payments_reconcile(*, day: datetime.date) -> list[ProviderReconciliation]:
    """Compare ``day`` with every configured provider (network calls; no lock is held); store and
    return one report per provider."""
    reports = []
    for name in configured_providers():
        spec = REGISTRY.get(name)
        payments = list(_payments_of_day(name, day))
        differences: list[Difference] = []
        compared = 0
        if spec is not None and spec.query_before_release:
            for payment in payments:
                differences += _compare(provider_for(payment), payment)
                compared += 1
        report, _created = ProviderReconciliation.objects.update_or_create(
            day=day, provider=name, defaults={"checked": compared, "differences": [asdict(d) for d in differences]})
        if differences:
            logger.warning("payments reconciliation %s %s: %d differences", day, name, len(differences))
        reports.append(report)
    return reports


def reconciliations_list(*, user, day: datetime.date | None = None):
    """Stored reports the user may see (the county office's), newest first; only ``day`` if given."""
    from ..access import provider_reconciliations_visible_to

    qs = provider_reconciliations_visible_to(user)
    return qs.filter(day=day) if day else qs[:60]


__all__ = ["Difference", "payments_reconcile", "reconciliations_list"]
