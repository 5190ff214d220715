"""Alipay against the loopback stand-in: the real python-alipay-sdk, real HTTP, RSA2 keys
generated in the test; notifications signed with the stand-in's "Alipay" key."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import transaction

from core import roles
from logistics.models import BatchStock
from marketplace.models import Order, Payment, PaymentEvent
from marketplace.payments.alipay_provider import AlipayProvider
from marketplace.services.allocation import allocation_grant
from marketplace.services.cart import cart_item_set
from marketplace.services.checkout import checkout_submit
from marketplace.services.orders import order_refund, order_transition, orders_release_unpaid
from tests.logistics.factories import SupermarketFactory, staff_at
from tests.marketplace.alipay_standin import now_text, post_notification
from tests.marketplace.factories import EmployeeFactory, ProductFactory, allocation_year, stock_batch
from tests.marketplace.wechat_standin import new_key

pytestmark = pytest.mark.django_db


def alipay_card_order(standin, *, mobile: bool = True):
    """An order of 1200.00: 700.00 from the allocation, 500.00 through Alipay."""
    setting = allocation_year()
    employee = EmployeeFactory()
    allocation_grant(employee=employee, year=setting.year)
    product = ProductFactory(price=Decimal("300.00"))
    with transaction.atomic():
        batch = stock_batch(product, 10)
    cart_item_set(employee=employee, product=product, quantity=4)
    result = checkout_submit(employee=employee, payment_method="alipay", success_url="https://shop.example/ok",
                             cancel_url="https://shop.example/cart", client={"ip": "10.1.2.3", "mobile": mobile})
    assert result.order.status == Order.Status.PENDING_PAYMENT
    return result.order, Payment.objects.get(order=result.order), batch, result


def _stock(batch):
    row = BatchStock.objects.get(batch=batch)
    return row.quantity, row.reserved


@pytest.fixture
def deliver(client, django_capture_on_commit_callbacks):
    def deliver(form):
        with django_capture_on_commit_callbacks(execute=True):
            return post_notification(client, form)

    return deliver


@pytest.mark.parametrize(("mobile", "method", "product_code"), [
    (True, "alipay.trade.wap.pay", "QUICK_WAP_PAY"), (False, "alipay.trade.page.pay", "FAST_INSTANT_TRADE_PAY"),
])
def test_checkout_sends_the_payer_to_a_signed_wap_or_pc_page_for_the_card_part(alipay_standin, mobile, method, product_code):
    order, payment, _batch, result = alipay_card_order(alipay_standin, mobile=mobile)

    page = alipay_standin.open_page(result.payment_url)

    assert result.payment_url.startswith(alipay_standin.gateway + "?")
    assert page["method"] == method and page["notify_url"].endswith("/payments/alipay/notify/")
    assert page["biz_content"]["out_trade_no"] == order.number
    assert page["biz_content"]["total_amount"] == "500.00"
    assert page["biz_content"]["product_code"] == product_code
    assert (payment.provider, payment.session_id) == ("alipay", order.number)


def test_the_notification_marks_the_order_paid_and_a_partial_refund_goes_to_alipay_once(alipay_standin, deliver, stripe_standin):
    order, payment, batch, _result = alipay_card_order(alipay_standin)
    trade = alipay_standin.pay(order.number, "500.00")

    response = deliver(alipay_standin.notification(trade))

    assert response.status_code == 200 and response.content == b"success"
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and _stock(batch) == (6, 0)
    assert Payment.objects.get(pk=payment.pk).payment_intent_id == trade["trade_no"]

    staff = staff_at(SupermarketFactory(), roles.SUPERMARKET_STAFF)
    for step in ("picking", "ready", "completed"):
        order_transition(order=order, to=step, actor=staff)
    refund = order_refund(order=order, lines={order.lines.get().pk: 1}, reason="one box spoiled", actor=staff)

    [sent] = [r for r in alipay_standin.requests if r.get("method") == "alipay.trade.refund"]
    import json

    biz = json.loads(sent["biz_content"])
    assert biz == {"refund_amount": "300.00", "out_trade_no": order.number, "out_request_no": f"{order.number}-refund-{refund.pk}"}
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == (Payment.Status.PARTIALLY_REFUNDED, Decimal("300.00"))
    assert alipay_standin.trades[order.number]["refunded"] == "300.00"
    assert stripe_standin.requests == []

    again = AlipayProvider().refund(payment=payment, amount=Decimal("300.00"), idempotency_key=f"refund:{refund.pk}")
    assert again == f"{order.number}-refund-{refund.pk}" and alipay_standin.trades[order.number]["refunded"] == "300.00"


@pytest.mark.parametrize("how", ["forged", "tampered", "stale", "other_app", "unsigned"])
def test_a_bad_notification_is_400_and_changes_nothing(alipay_standin, deliver, how):
    order, _payment, batch, _result = alipay_card_order(alipay_standin)
    trade = alipay_standin.pay(order.number, "500.00")
    if how == "forged":
        form = alipay_standin.notification(trade, key=new_key())
    elif how == "tampered":
        form = alipay_standin.notification(trade)
        form["total_amount"] = "0.01"
    elif how == "stale":
        form = alipay_standin.notification(trade, notify_time=now_text(-datetime.timedelta(days=3)))
    elif how == "other_app":
        form = alipay_standin.notification(trade, app_id="2021999999999999")
    else:
        form = alipay_standin.notification(trade)
        del form["sign"]

    response = deliver(form)

    assert response.status_code == 400 and response.content == b"fail"
    assert not PaymentEvent.objects.exists()
    assert Order.objects.get(pk=order.pk).status == Order.Status.PENDING_PAYMENT and _stock(batch) == (10, 4)


def test_a_repeated_notification_changes_nothing_and_the_same_id_with_other_content_is_400(alipay_standin, deliver):
    order, _payment, _batch, _result = alipay_card_order(alipay_standin)
    trade = alipay_standin.pay(order.number, "500.00")
    form = alipay_standin.notification(trade, notify_id="n-1")
    assert deliver(form).status_code == 200

    repeated = deliver(form)  # Alipay repeats until it reads "success": answered so, nothing applied again
    other = deliver(alipay_standin.notification(trade, notify_id="n-1", buyer_pay_amount="1.00"))

    assert repeated.content == b"success" and other.status_code == 400
    assert PaymentEvent.objects.count() == 1
    assert Order.objects.get(pk=order.pk).events.filter(to_status=Order.Status.PAID).count() == 1


def test_a_payment_whose_notification_is_lost_is_found_by_the_sweep_s_trade_query(alipay_standin, django_capture_on_commit_callbacks):
    paid, _p, paid_batch, _r = alipay_card_order(alipay_standin)
    unpaid, _p2, _b2, _r2 = alipay_card_order(alipay_standin)
    alipay_standin.pay(paid.number, "500.00")  # the notification never arrives

    with django_capture_on_commit_callbacks(execute=True):
        released = orders_release_unpaid(now=unpaid.created_at + datetime.timedelta(minutes=31))

    assert released == 1
    assert Order.objects.get(pk=paid.pk).status == Order.Status.PAID and _stock(paid_batch) == (6, 0)
    assert Order.objects.get(pk=unpaid.pk).status == Order.Status.CANCELLED
    assert PaymentEvent.objects.get().outcome == "order paid"


def test_the_daily_reconciliation_lists_a_planted_difference_and_nothing_else(alipay_standin, deliver):
    from django.core.management import call_command
    from django.utils import timezone

    from marketplace.models import ProviderReconciliation

    clean, _p, _b, _r = alipay_card_order(alipay_standin)
    deliver(alipay_standin.notification(alipay_standin.pay(clean.number, "500.00")))
    planted, planted_payment, _b2, _r2 = alipay_card_order(alipay_standin)
    deliver(alipay_standin.notification(alipay_standin.pay(planted.number, "500.00")))
    staff = staff_at(SupermarketFactory(), roles.SUPERMARKET_STAFF)
    for order in (clean, planted):
        for step in ("picking", "ready", "completed"):
            order_transition(order=Order.objects.get(pk=order.pk), to=step, actor=staff)
        order_refund(order=Order.objects.get(pk=order.pk), lines={order.lines.get().pk: 1}, reason="spoiled", actor=staff)
    # planted: Alipay lost the planted order's refund (the books say it was sent)
    alipay_standin.refunds = {k: v for k, v in alipay_standin.refunds.items() if k[0] != planted.number}

    import io

    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("payments_reconcile", "--date", timezone.localdate().isoformat(), stdout=out)

    assert exit_.value.code == 1
    report = ProviderReconciliation.objects.get(provider="alipay")
    assert report.checked == 2
    assert [(d["order"], d["kind"]) for d in report.differences] == [(planted.number, "refund_missing")]
    assert planted.number in out.getvalue() and clean.number not in out.getvalue().split("differences", 1)[1]


def test_reconciliation_finds_a_payment_the_books_missed_and_is_shown_to_the_county_office_only(alipay_standin, client):
    from django.utils import timezone

    from marketplace.payments.tasks import payments_reconcile_task
    from tests.households.factories import UserFactory

    order, _p, _b, _r = alipay_card_order(alipay_standin)
    alipay_standin.pay(order.number, "500.00")  # paid at Alipay; the books never heard

    assert payments_reconcile_task(day=timezone.localdate().isoformat()) == 1

    office = UserFactory(role=roles.COUNTY_OFFICE)
    client.force_login(office)
    page = client.get("/admin/marketplace/payment-reconciliation/")
    assert page.status_code == 200 and b'data-difference="paid_not_in_books"' in page.content and order.number.encode() in page.content
    client.force_login(staff_at(SupermarketFactory(), roles.SUPERMARKET_STAFF))
    assert client.get("/admin/marketplace/payment-reconciliation/").status_code in (302, 403)
    assert client.get("/admin/marketplace/payment-reconciliation/?date=not-a-date").status_code in (302, 403)
    client.force_login(office)
    bad = client.get("/admin/marketplace/payment-reconciliation/?date=not-a-date")
    assert bad.status_code == 200 and b"YYYY-MM-DD" in bad.content
