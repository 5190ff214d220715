"""The Stripe webhook: verified, stored once, applied exactly once, in any order.

Orders are made by the real checkout against the loopback stand-in; events are signed by the
stripe library's own signing code.
"""

from __future__ import annotations

import json
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test import Client

from logistics.models import BatchMovement, BatchStock
from marketplace.models import Order, OrderEvent, Payment, PaymentEvent
from marketplace.payments.services import payment_event_apply
from marketplace.services.allocation import allocation_balance, allocation_grant
from marketplace.services.cart import cart_item_set
from marketplace.services.checkout import checkout_submit
from marketplace.services.orders import order_release_unpaid
from tests.marketplace.factories import EmployeeFactory, ProductFactory, allocation_year, stock_batch
from tests.marketplace.stripe_standin import post_event


def _card_order(standin):
    """An order of 900.00: 700.00 from the allocation, 200.00 by card (a session on the stand-in)."""
    setting = allocation_year()
    employee = EmployeeFactory()
    allocation_grant(employee=employee, year=setting.year)
    product = ProductFactory(price=Decimal("300.00"))
    with transaction.atomic():  # the factory's stock write locks a row (transactional tests run in autocommit)
        batch = stock_batch(product, 10)
    cart_item_set(employee=employee, product=product, quantity=3)
    result = checkout_submit(employee=employee, success_url="https://shop.example/ok", cancel_url="https://shop.example/no")
    order = result.order
    payment = Payment.objects.get(order=order)
    assert order.status == Order.Status.PENDING_PAYMENT
    assert payment.session_id in standin.sessions and result.payment_url == standin.sessions[payment.session_id]["url"]
    return order, payment, batch


def _stock(batch):
    row = BatchStock.objects.get(batch=batch)
    return row.quantity, row.reserved


@pytest.fixture
def card_order(db, stripe_standin):
    return _card_order(stripe_standin)


@pytest.fixture
def deliver(client, stripe_standin, django_capture_on_commit_callbacks):
    """POST an event (signed unless told otherwise) and run what it enqueued after commit."""

    def deliver(event, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return stripe_standin.post_event(client, event, **kwargs)

    return deliver


pytestmark = pytest.mark.django_db


def test_a_signed_completed_event_marks_the_order_paid_and_sells_the_units(card_order, stripe_standin, deliver):
    order, payment, batch = card_order
    session = stripe_standin.pay(payment.session_id)

    response = deliver(stripe_standin.session_event("checkout.session.completed", session["id"]))

    assert response.status_code == 200
    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.status == Order.Status.PAID and order.paid_at is not None
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.payment_intent_id == session["payment_intent"]
    assert _stock(batch) == (7, 0)
    event = PaymentEvent.objects.get()
    assert event.processed_at is not None and event.outcome == "order paid"


@pytest.mark.parametrize("how", ["forged", "unsigned", "stale", "tampered", "garbage header"])
def test_a_forged_unsigned_or_stale_event_gets_400_and_changes_nothing(card_order, stripe_standin, deliver, how):
    order, payment, batch = card_order
    session = stripe_standin.pay(payment.session_id)
    event = stripe_standin.session_event("checkout.session.completed", session["id"])
    if how == "forged":
        response = deliver(event, secret="whsec_not_the_shops_secret")
    elif how == "unsigned":
        response = deliver(event, signature="")
    elif how == "stale":
        response = deliver(event, timestamp=int(time.time()) - 301)
    elif how == "tampered":
        header = stripe_standin.sign(json.dumps(event))
        event["data"]["object"]["amount_total"] = 1
        response = deliver(event, signature=header)
    else:
        response = deliver(event, signature="t=abc,v1=xyz")

    assert response.status_code == 400
    assert not PaymentEvent.objects.exists()
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING_PAYMENT
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.PENDING
    assert _stock(batch) == (10, 3)


def test_an_event_signed_a_little_in_the_past_is_still_accepted(card_order, stripe_standin, deliver):
    _order, payment, _batch = card_order
    session = stripe_standin.pay(payment.session_id)
    response = deliver(stripe_standin.session_event("checkout.session.completed", session["id"]), timestamp=int(time.time()) - 200)
    assert response.status_code == 200


def test_without_a_webhook_secret_every_event_is_refused(card_order, stripe_standin, client, settings):
    _order, payment, _batch = card_order
    event = stripe_standin.session_event("checkout.session.completed", payment.session_id)
    settings.STRIPE_WEBHOOK_SECRET = ""
    response = post_event(client, event, secret=stripe_standin.webhook_secret)
    assert response.status_code == 400
    assert not PaymentEvent.objects.exists()


def test_the_webhook_answers_only_post(client):
    assert client.get("/stripe/webhook/").status_code == 405


def test_the_same_event_delivered_five_times_has_one_effect(card_order, stripe_standin, deliver):
    order, payment, batch = card_order
    session = stripe_standin.pay(payment.session_id)
    event = stripe_standin.session_event("checkout.session.completed", session["id"])

    responses = [deliver(event) for _i in range(5)]

    assert [r.status_code for r in responses] == [200] * 5
    assert [r.json().get("duplicate", False) for r in responses] == [False, True, True, True, True]
    assert PaymentEvent.objects.count() == 1
    assert OrderEvent.objects.filter(order=order, to_status=Order.Status.PAID).count() == 1
    assert BatchMovement.objects.filter(batch=batch, reference_code=order.number, kind="sell").count() == 1
    assert _stock(batch) == (7, 0)


def test_applying_a_stored_event_again_is_a_no_op(card_order, stripe_standin, deliver):
    order, payment, batch = card_order
    deliver(stripe_standin.session_event("checkout.session.completed", stripe_standin.pay(payment.session_id)["id"]))
    event = PaymentEvent.objects.get()
    assert payment_event_apply(event_pk=event.pk) == "order paid"
    assert OrderEvent.objects.filter(order=order, to_status=Order.Status.PAID).count() == 1
    assert _stock(batch) == (7, 0)


def test_a_second_completed_event_with_another_id_changes_nothing(card_order, stripe_standin, deliver):
    order, payment, batch = card_order
    session = stripe_standin.pay(payment.session_id)
    deliver(stripe_standin.session_event("checkout.session.completed", session["id"]))
    deliver(stripe_standin.session_event("checkout.session.async_payment_succeeded", session["id"]))
    assert PaymentEvent.objects.count() == 2
    assert list(PaymentEvent.objects.order_by("pk").values_list("outcome", flat=True)) == ["order paid", "already paid"]
    assert OrderEvent.objects.filter(order=order, to_status=Order.Status.PAID).count() == 1
    assert _stock(batch) == (7, 0)


def test_an_expired_event_arriving_after_the_payment_changes_nothing(card_order, stripe_standin, deliver):
    order, payment, batch = card_order
    employee = order.employee
    session = stripe_standin.pay(payment.session_id)
    deliver(stripe_standin.session_event("checkout.session.completed", session["id"]))
    balance = allocation_balance(employee=employee, year=order.year)

    expired = stripe_standin.event("checkout.session.expired", {**session, "status": "expired"})
    assert deliver(expired).status_code == 200

    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.SUCCEEDED
    assert allocation_balance(employee=employee, year=order.year) == balance == Decimal("0.00")
    assert _stock(batch) == (7, 0)
    assert PaymentEvent.objects.get(event_id=expired["id"]).outcome == "ignored: already paid"


def test_an_expired_session_releases_the_order(card_order, stripe_standin, deliver):
    order, payment, batch = card_order
    stripe_standin.expire(payment.session_id)

    deliver(stripe_standin.session_event("checkout.session.expired", payment.session_id))

    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.EXPIRED
    assert _stock(batch) == (10, 0)
    assert allocation_balance(employee=order.employee, year=order.year) == Decimal("700.00")


def test_a_payment_completed_after_the_order_was_released_is_refunded_in_full(card_order, stripe_standin, deliver):
    """The rule: a released order cannot be paid any more (its stock and allocation went back);
    money arriving for it goes back to the payer automatically, and the order stays cancelled."""
    order, payment, batch = card_order
    expired_event = stripe_standin.session_event("checkout.session.expired", payment.session_id)
    session = stripe_standin.pay(payment.session_id)  # the customer pays at the last second...
    deliver(expired_event)  # ...but the expiry is delivered first
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED

    deliver(stripe_standin.session_event("checkout.session.completed", session["id"]))

    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert _stock(batch) == (10, 0)
    assert allocation_balance(employee=order.employee, year=order.year) == Decimal("700.00")
    [refund] = stripe_standin.requests_to("POST", "/v1/refunds")
    assert refund.params["payment_intent"] == session["payment_intent"]
    assert refund.params["amount"] == "20000"
    assert refund.idempotency_key == f"late-payment:{payment.pk}"
    assert payment.status == Payment.Status.REFUNDED and payment.refunded_amount == Decimal("200.00")
    assert "refund" in PaymentEvent.objects.get(event_type="checkout.session.completed").outcome


def test_a_payment_after_the_unpaid_sweep_released_the_order_is_refunded_once(card_order, stripe_standin, deliver):
    order, payment, _batch = card_order
    order_release_unpaid(order=order, reason="unpaid after 30 minutes")
    session = stripe_standin.pay(payment.session_id)
    event = stripe_standin.session_event("checkout.session.completed", session["id"])

    deliver(event)
    deliver(event)
    deliver(stripe_standin.session_event("checkout.session.completed", session["id"]))  # same news, another event id

    assert len(stripe_standin.refunds) == 1
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.REFUNDED


def test_a_paid_amount_that_differs_from_the_order_is_not_accepted(card_order, stripe_standin, deliver):
    order, payment, _batch = card_order
    session = stripe_standin.pay(payment.session_id)
    session["amount_total"] = 100
    deliver(stripe_standin.event("checkout.session.completed", session))
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING_PAYMENT
    assert PaymentEvent.objects.get().outcome.startswith("AMOUNT MISMATCH")


def test_a_completed_session_still_awaiting_payment_waits_for_async_success(card_order, stripe_standin, deliver):
    order, payment, _batch = card_order
    session = stripe_standin.pay(payment.session_id)
    deliver(stripe_standin.event("checkout.session.completed", {**session, "payment_status": "unpaid"}))
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING_PAYMENT
    deliver(stripe_standin.session_event("checkout.session.async_payment_succeeded", session["id"]))
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_an_async_payment_failure_releases_the_order(card_order, stripe_standin, deliver):
    order, payment, batch = card_order
    deliver(stripe_standin.session_event("checkout.session.async_payment_failed", payment.session_id))
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.FAILED
    assert _stock(batch) == (10, 0)


def test_an_event_type_the_shop_does_not_handle_is_stored_and_ignored(stripe_standin, deliver):
    event = stripe_standin.event("customer.created", {"id": "cus_1", "object": "customer"})
    assert deliver(event).status_code == 200
    stored = PaymentEvent.objects.get()
    assert (stored.event_type, stored.outcome) == ("customer.created", "ignored")
    assert stored.processed_at is not None


def test_charge_refunded_is_recorded_and_a_refund_made_elsewhere_is_flagged(card_order, stripe_standin, deliver):
    order, payment, _batch = card_order
    session = stripe_standin.pay(payment.session_id)
    deliver(stripe_standin.session_event("checkout.session.completed", session["id"]))
    # Someone refunds 50.00 in Stripe's dashboard, not through the shop.
    from marketplace.payments.stripe_provider import StripeProvider

    StripeProvider().refund(payment=Payment.objects.get(pk=payment.pk), amount=Decimal("50.00"), idempotency_key="dashboard")
    deliver(stripe_standin.charge_refunded_event(session["payment_intent"]))

    stored = PaymentEvent.objects.get(event_type="charge.refunded")
    assert stored.outcome.startswith("CHECK")
    assert Payment.objects.get(pk=payment.pk).refunded_amount == Decimal("0.00")


def test_an_unprocessed_stored_event_is_enqueued_again_on_redelivery(card_order, stripe_standin, client, django_capture_on_commit_callbacks):
    order, payment, _batch = card_order
    event = stripe_standin.session_event("checkout.session.completed", stripe_standin.pay(payment.session_id)["id"])
    # First delivery: stored, but its task is lost (the after-commit callback never runs).
    assert stripe_standin.post_event(client, event).status_code == 200
    assert PaymentEvent.objects.get().processed_at is None
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING_PAYMENT
    # Stripe redelivers: the stored event is applied now.
    with django_capture_on_commit_callbacks(execute=True):
        stripe_standin.post_event(client, event)
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


@pytest.mark.django_db(transaction=True)
def test_the_same_event_delivered_five_times_concurrently_has_one_effect(on_postgres, stripe_standin):
    order, payment, batch = _card_order(stripe_standin)
    session = stripe_standin.pay(payment.session_id)
    event = stripe_standin.session_event("checkout.session.completed", session["id"])
    barrier = threading.Barrier(5)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def deliver_once():
        try:
            barrier.wait()
            statuses.append(stripe_standin.post_event(Client(), event).status_code)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver_once) for _i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert not errors
    assert statuses == [200] * 5
    assert PaymentEvent.objects.count() == 1
    assert PaymentEvent.objects.get().outcome == "order paid"
    assert OrderEvent.objects.filter(order=order, to_status=Order.Status.PAID).count() == 1
    assert BatchMovement.objects.filter(batch=batch, reference_code=order.number, kind="sell").count() == 1
    assert _stock(batch) == (7, 0)


@pytest.mark.django_db(transaction=True)
def test_completed_and_expired_delivered_concurrently_leave_one_consistent_outcome(on_postgres, stripe_standin):
    order, payment, batch = _card_order(stripe_standin)
    expired = stripe_standin.session_event("checkout.session.expired", payment.session_id)
    completed = stripe_standin.session_event("checkout.session.completed", stripe_standin.pay(payment.session_id)["id"])
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def deliver_once(event):
        try:
            barrier.wait()
            assert stripe_standin.post_event(Client(), event).status_code == 200
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver_once, args=(e,)) for e in [expired, completed] * 3]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert not errors
    order.refresh_from_db()
    payment.refresh_from_db()
    assert PaymentEvent.objects.count() == 2
    if order.status == Order.Status.PAID:  # the payment was applied first: the expiry changed nothing
        assert _stock(batch) == (7, 0)
        assert payment.status == Payment.Status.SUCCEEDED and not stripe_standin.refunds
    else:  # the expiry was applied first: the payment went back, once
        assert order.status == Order.Status.CANCELLED
        assert _stock(batch) == (10, 0)
        assert payment.status == Payment.Status.REFUNDED and len(stripe_standin.refunds) == 1


def test_the_periodic_retry_applies_events_whose_task_was_lost(card_order, stripe_standin, client):
    from datetime import timedelta

    from django.utils import timezone

    from marketplace.payments.tasks import retry_unapplied_payment_events

    order, payment, _batch = card_order
    event = stripe_standin.session_event("checkout.session.completed", stripe_standin.pay(payment.session_id)["id"])
    stripe_standin.post_event(client, event)  # stored; its task never ran
    assert retry_unapplied_payment_events() == 0  # too recent: its own task may still be on the way
    PaymentEvent.objects.filter(pk=PaymentEvent.objects.get().pk).update(received_at=timezone.now() - timedelta(minutes=10))

    assert retry_unapplied_payment_events() == 1

    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert retry_unapplied_payment_events() == 0


def test_a_late_payment_whose_refund_was_lost_is_refunded_by_the_sweep_once(card_order, stripe_standin, client,
                                                                           django_capture_on_commit_callbacks):
    from marketplace.payments.services import late_payments_due
    from marketplace.payments.tasks import refund_late_payments_due

    order, payment, _batch = card_order
    order_release_unpaid(order=order, reason="unpaid after 30 minutes")
    session = stripe_standin.pay(payment.session_id)
    stripe_standin.post_event(client, stripe_standin.session_event("checkout.session.completed", session["id"]))
    with django_capture_on_commit_callbacks(execute=False):  # the refund task is lost
        payment_event_apply(event_pk=PaymentEvent.objects.get().pk)
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.SUCCEEDED
    assert late_payments_due() == [payment.pk]

    assert refund_late_payments_due() == 1
    assert refund_late_payments_due() == 0

    assert len(stripe_standin.refunds) == 1
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REFUNDED and payment.refunded_amount == payment.amount


def test_staff_see_the_events_that_need_attention(card_order, stripe_standin, deliver, client):
    from core import roles
    from tests.households.factories import UserFactory

    order, payment, _batch = card_order
    order_release_unpaid(order=order, reason="unpaid after 30 minutes")
    deliver(stripe_standin.session_event("checkout.session.completed", stripe_standin.pay(payment.session_id)["id"]))
    deliver(stripe_standin.event("customer.created", {"id": "cus_1", "object": "customer"}))

    client.force_login(UserFactory(role=roles.COUNTY_OFFICE))
    response = client.get("/admin/marketplace/payment-events/", {"attention": "1"})

    assert response.status_code == 200
    events = response.context["events"]
    assert [e.event_type for e in events] == ["checkout.session.completed"]
    assert events[0].order_number == order.number
    client.force_login(UserFactory(role=roles.EMPLOYEE))
    assert client.get("/admin/marketplace/payment-events/").status_code in (302, 403)


def test_an_expiry_of_some_other_session_for_the_order_does_not_release_it(card_order, stripe_standin, deliver):
    order, payment, _batch = card_order
    stranger = {**stripe_standin.sessions[payment.session_id], "id": "cs_test_some_other_session", "status": "expired"}
    deliver(stripe_standin.event("checkout.session.expired", stranger))
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING_PAYMENT
    assert PaymentEvent.objects.get().outcome.startswith("ignored")
