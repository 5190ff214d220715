"""StripeProvider against the loopback stand-in: the real stripe library, real HTTP."""

from __future__ import annotations

import time
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone, translation

from marketplace.payments import PaymentProviderError, get_provider
from marketplace.payments.stripe_provider import StripeProvider


def _order(number="RM20260101-0001"):
    return SimpleNamespace(number=number, created_at=timezone.now())


@pytest.fixture
def zh():
    with translation.override("zh-hans"):
        yield


def test_get_provider_is_stripe_when_a_key_is_set(stripe_standin):
    assert isinstance(get_provider(), StripeProvider)


def test_get_provider_is_none_without_a_key(settings):
    settings.STRIPE_SECRET_KEY = ""
    assert get_provider() is None


def test_checkout_session_is_created_in_fen_with_the_payment_methods_and_the_order(stripe_standin):
    order = _order()
    before = int(time.time())
    session = StripeProvider().create_checkout(
        order=order, amount=Decimal("123.45"), success_url="https://shop.example/ok", cancel_url="https://shop.example/cancel",
        idempotency_key="checkout:RM20260101-0001",
    )
    assert session.reference.startswith("cs_test_")
    assert session.url == f"https://checkout.stripe.com/c/pay/{session.reference}"
    [request] = stripe_standin.requests_to("POST", "/v1/checkout/sessions")
    assert request.headers["authorization"] == f"Bearer {stripe_standin.api_key}"
    assert request.idempotency_key == "checkout:RM20260101-0001"
    p = request.params
    assert p["mode"] == "payment"
    assert p["line_items"][0]["price_data"]["currency"] == "cny"
    assert p["line_items"][0]["price_data"]["unit_amount"] == "12345"
    assert p["line_items"][0]["quantity"] == "1"
    assert p["payment_method_types"] == ["card", "alipay", "wechat_pay"]
    assert p["payment_method_options"] == {"wechat_pay": {"client": "web"}}
    assert p["metadata"] == {"order_number": "RM20260101-0001"}
    assert p["client_reference_id"] == "RM20260101-0001"
    assert p["success_url"] == "https://shop.example/ok"
    assert p["cancel_url"] == "https://shop.example/cancel"
    assert before + 30 * 60 <= int(p["expires_at"]) <= before + 35 * 60
    assert stripe_standin.sessions[session.reference]["amount_total"] == 12345


@pytest.mark.parametrize(("amount", "fen"), [("0.01", 1), ("0.10", 10), ("99.99", 9999), ("700.00", 70000), ("1234.5", 123450)])
def test_amounts_are_sent_in_fen_exactly(stripe_standin, amount, fen):
    session = StripeProvider().create_checkout(order=_order(f"N{fen}"), amount=Decimal(amount), success_url="https://x.example/",
                                               cancel_url="https://x.example/", idempotency_key=f"k{fen}")
    assert stripe_standin.sessions[session.reference]["amount_total"] == fen


def test_the_same_idempotency_key_twice_creates_one_session(stripe_standin):
    order = _order()
    kwargs = dict(order=order, amount=Decimal("50.00"), success_url="https://x.example/", cancel_url="https://x.example/",
                  idempotency_key="checkout:RM1")
    first = StripeProvider().create_checkout(**kwargs)
    second = StripeProvider().create_checkout(**kwargs)
    assert first == second
    assert len(stripe_standin.sessions) == 1
    assert len(stripe_standin.requests_to("POST", "/v1/checkout/sessions")) == 2


def test_a_retry_in_another_language_still_replays_the_same_session(stripe_standin):
    kwargs = dict(order=_order(), amount=Decimal("50.00"), success_url="https://x.example/", cancel_url="https://x.example/",
                  idempotency_key="checkout:RM2")
    with translation.override("en"):
        first = StripeProvider().create_checkout(**kwargs)
    with translation.override("zh-hans"):
        second = StripeProvider().create_checkout(**kwargs)
    assert first == second and len(stripe_standin.sessions) == 1


def test_missing_return_urls_fall_back_to_the_site(stripe_standin, settings):
    settings.WAGTAILADMIN_BASE_URL = "https://shop.example"
    StripeProvider().create_checkout(order=_order(), amount=Decimal("1.00"), success_url="", cancel_url="", idempotency_key="k")
    [request] = stripe_standin.requests_to("POST", "/v1/checkout/sessions")
    assert request.params["success_url"] == "https://shop.example/"


def test_a_declined_request_raises_a_provider_error_in_chinese(stripe_standin, zh):
    stripe_standin.fail_next("POST", "/v1/checkout/sessions", status=402)
    with pytest.raises(PaymentProviderError) as exc:
        StripeProvider().create_checkout(order=_order(), amount=Decimal("10.00"), success_url="https://x.example/",
                                         cancel_url="https://x.example/", idempotency_key="k")
    assert exc.value.status == 502
    assert "支付" in exc.value.message
    assert not stripe_standin.sessions


def test_an_unreachable_service_raises_a_provider_error_in_chinese(settings, zh):
    settings.STRIPE_SECRET_KEY = "sk_test_nothing_listens"
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    with pytest.raises(PaymentProviderError) as exc:
        StripeProvider().create_checkout(order=_order(), amount=Decimal("10.00"), success_url="https://x.example/",
                                         cancel_url="https://x.example/", idempotency_key="k")
    assert "无法连接" in exc.value.message


def test_a_wrong_api_key_is_refused_and_reported(stripe_standin, settings, zh):
    settings.STRIPE_SECRET_KEY = "sk_test_wrong"
    with pytest.raises(PaymentProviderError) as exc:
        StripeProvider().create_checkout(order=_order(), amount=Decimal("10.00"), success_url="https://x.example/",
                                         cancel_url="https://x.example/", idempotency_key="k")
    assert "配置" in exc.value.message


def _paid_payment(standin, amount="80.00"):
    order = _order("RM-REFUND")
    session = StripeProvider().create_checkout(order=order, amount=Decimal(amount), success_url="https://x.example/",
                                               cancel_url="https://x.example/", idempotency_key="checkout:RM-REFUND")
    paid = standin.pay(session.reference)
    return SimpleNamespace(order=order, order_id=1, session_id=session.reference, payment_intent_id=paid["payment_intent"],
                           amount=Decimal(amount))


def test_a_refund_goes_to_the_payment_intent_in_fen_with_the_key(stripe_standin):
    payment = _paid_payment(stripe_standin)
    refund_id = StripeProvider().refund(payment=payment, amount=Decimal("12.34"), idempotency_key="refund:1")
    [request] = stripe_standin.requests_to("POST", "/v1/refunds")
    assert request.params["payment_intent"] == payment.payment_intent_id
    assert request.params["amount"] == "1234"
    assert request.idempotency_key == "refund:1"
    assert stripe_standin.refunds[refund_id]["amount"] == 1234


def test_the_same_refund_key_twice_refunds_once(stripe_standin):
    payment = _paid_payment(stripe_standin)
    first = StripeProvider().refund(payment=payment, amount=Decimal("30.00"), idempotency_key="refund:RM-REFUND:1")
    second = StripeProvider().refund(payment=payment, amount=Decimal("30.00"), idempotency_key="refund:RM-REFUND:1")
    assert first == second
    assert len(stripe_standin.refunds) == 1
    charge = next(iter(stripe_standin.charges.values()))
    assert charge["amount_refunded"] == 3000


def test_a_refund_finds_the_intent_from_the_session_when_it_is_not_known_yet(stripe_standin):
    payment = _paid_payment(stripe_standin)
    payment.payment_intent_id = ""
    StripeProvider().refund(payment=payment, amount=Decimal("1.00"), idempotency_key="r")
    [request] = stripe_standin.requests_to("POST", "/v1/refunds")
    assert request.params["payment_intent"].startswith("pi_test_")


def test_refunding_more_than_was_paid_is_refused_in_chinese(stripe_standin, zh):
    payment = _paid_payment(stripe_standin, amount="10.00")
    with pytest.raises(PaymentProviderError) as exc:
        StripeProvider().refund(payment=payment, amount=Decimal("10.01"), idempotency_key="r")
    assert "支付" in exc.value.message
    assert not stripe_standin.refunds


def test_an_unpaid_session_has_nothing_to_refund(stripe_standin, zh):
    session = StripeProvider().create_checkout(order=_order(), amount=Decimal("5.00"), success_url="https://x.example/",
                                               cancel_url="https://x.example/", idempotency_key="k")
    payment = SimpleNamespace(order=_order(), order_id=1, session_id=session.reference, payment_intent_id="", amount=Decimal("5.00"))
    with pytest.raises(PaymentProviderError):
        StripeProvider().refund(payment=payment, amount=Decimal("5.00"), idempotency_key="r")
    assert not stripe_standin.requests_to("POST", "/v1/refunds")
