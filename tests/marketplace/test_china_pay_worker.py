"""WeChat Pay and Alipay end to end on PostgreSQL with a real Celery worker: checkout against the
stand-in, the notification stored by the web request and applied by the worker exactly once
however often (and however concurrently) it is delivered, then a partial refund to the provider
that was paid — never to Stripe, which is configured too."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client

from core import roles
from logistics.models import BatchMovement
from marketplace.models import Order, OrderEvent, Payment, PaymentEvent
from marketplace.services.orders import order_refund, order_transition
from tests.logistics.factories import SupermarketFactory, staff_at
from tests.marketplace import alipay_standin as alipay_module
from tests.marketplace import wechat_standin as wechat_module
from tests.marketplace.test_alipay import alipay_card_order
from tests.marketplace.test_wechat_pay import wechat_card_order

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def _wait_until(predicate, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


def _five_at_once(deliver) -> list[int]:
    barrier = threading.Barrier(5)
    statuses: list[int] = []

    def run(i):
        try:
            barrier.wait()
            statuses.append(deliver(i).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


def _paid_once_then_partial_refund(order, batch):
    assert _wait_until(lambda: Order.objects.get(pk=order.pk).status == Order.Status.PAID)
    time.sleep(1)  # duplicate tasks, if any, must change nothing
    assert PaymentEvent.objects.count() == 1 and PaymentEvent.objects.get().outcome == "order paid"
    assert OrderEvent.objects.filter(order=order, to_status=Order.Status.PAID).count() == 1
    assert BatchMovement.objects.filter(batch=batch, reference_code=order.number, kind="sell").count() == 1
    order = Order.objects.get(pk=order.pk)
    staff = staff_at(SupermarketFactory(), roles.SUPERMARKET_STAFF)
    for step in ("picking", "ready", "completed"):
        order_transition(order=order, to=step, actor=staff)
    order_refund(order=order, lines={order.lines.get().pk: 1}, reason="one box spoiled", actor=staff)
    payment = Payment.objects.get(order=order)
    assert (payment.status, payment.refunded_amount) == (Payment.Status.PARTIALLY_REFUNDED, Decimal("300.00"))


def test_wechat_checkout_five_concurrent_notifications_and_a_partial_refund_with_a_worker(
        celery_worker_process, wechat_standin, stripe_standin):
    order, _payment, batch, _result = wechat_card_order(wechat_standin)
    resource = wechat_standin.pay(order.number)
    celery_worker_process()

    # WeChat Pay signs each delivery afresh (new nonce), with the same notification id
    statuses = _five_at_once(lambda i: wechat_module.post_notification(
        Client(), *wechat_standin.notification(resource, notification_id="EV-concurrent")))

    assert statuses == [204] * 5
    _paid_once_then_partial_refund(order, batch)
    assert len(wechat_standin.refunds) == 1 and stripe_standin.requests == []


def test_alipay_checkout_five_concurrent_notifications_and_a_partial_refund_with_a_worker(
        celery_worker_process, alipay_standin, stripe_standin):
    order, _payment, batch, _result = alipay_card_order(alipay_standin)
    form = alipay_standin.notification(alipay_standin.pay(order.number, "500.00"), notify_id="n-concurrent")
    celery_worker_process()

    statuses = _five_at_once(lambda i: alipay_module.post_notification(Client(), form))

    assert statuses == [200] * 5
    _paid_once_then_partial_refund(order, batch)
    assert len(alipay_standin.refunds) == 1 and stripe_standin.requests == []
