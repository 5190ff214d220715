"""The webhook with a real Celery worker process (PostgreSQL + Redis): the event is stored by the
web request and applied by the worker, once, however often it is delivered — and a worker killed
before it applied the event loses nothing (the stored event is applied when one runs again)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection
from django.test import Client

from logistics.models import BatchMovement
from marketplace.models import Order, OrderEvent, PaymentEvent
from tests.marketplace.test_webhook import _card_order, _stock

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def _wait_until(predicate, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


def test_a_worker_applies_an_event_delivered_five_times_concurrently_once(celery_worker_process, stripe_standin):
    order, payment, batch = _card_order(stripe_standin)
    event = stripe_standin.session_event("checkout.session.completed", stripe_standin.pay(payment.session_id)["id"])
    celery_worker_process()
    barrier = threading.Barrier(5)
    statuses: list[int] = []

    def deliver():
        try:
            barrier.wait()
            statuses.append(stripe_standin.post_event(Client(), event).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert statuses == [200] * 5
    assert _wait_until(lambda: PaymentEvent.objects.filter(processed_at__isnull=False).exists())
    time.sleep(1)  # let any duplicate tasks finish: they must change nothing
    assert PaymentEvent.objects.count() == 1
    assert Order.objects.get(pk=order.pk).status == Order.Status.PAID
    assert OrderEvent.objects.filter(order=order, to_status=Order.Status.PAID).count() == 1
    assert BatchMovement.objects.filter(batch=batch, reference_code=order.number, kind="sell").count() == 1
    assert _stock(batch) == (7, 0)


def test_an_event_stored_while_no_worker_ran_is_applied_by_the_next_one(celery_worker_process, stripe_standin):
    order, payment, _batch = _card_order(stripe_standin)
    event = stripe_standin.session_event("checkout.session.completed", stripe_standin.pay(payment.session_id)["id"])
    assert stripe_standin.post_event(Client(), event).status_code == 200  # queued in Redis, no worker yet
    assert PaymentEvent.objects.get().processed_at is None

    worker = celery_worker_process()
    assert _wait_until(lambda: Order.objects.get(pk=order.pk).status == Order.Status.PAID)
    worker.terminate()
    worker.wait(timeout=10)
    assert PaymentEvent.objects.get().outcome == "order paid"
