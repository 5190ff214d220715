"""Fixtures of the marketplace tests.

``stripe_standin`` — a loopback stand-in for Stripe's HTTP API (tests/marketplace/stripe_standin.py,
whose docstring lists what it serves and offers). The fixture starts it on a random port and sets
``settings.STRIPE_SECRET_KEY`` (``sk_test_…``), ``STRIPE_API_BASE`` (its URL) and
``STRIPE_WEBHOOK_SECRET``, so ``marketplace.payments.get_provider()`` returns a StripeProvider
talking to it. Typical use::

    def test_card_order_is_paid(client, stripe_standin):
        result = checkout_submit(employee=..., ...)              # creates a session on the stand-in
        session = stripe_standin.pay(result.order.payment.session_id)
        event = stripe_standin.session_event("checkout.session.completed", session["id"])
        assert stripe_standin.post_event(client, event).status_code == 200

``post_event(client, event, secret=..., timestamp=..., signature=...)`` is also importable from
``tests.marketplace.stripe_standin`` for tests that sign with a secret of their own.

Tests outside tests/marketplace/ may use the fixture by importing it into their module (or
their own conftest.py)::

    from tests.marketplace.conftest import stripe_standin  # noqa: F401  (a pytest fixture)

No test reaches the internet: every marketplace test runs with ``STRIPE_API_BASE`` pointing at
loopback (a closed port when the stand-in is not used), so a stray Stripe call fails at once.
"""

from __future__ import annotations

import pytest

from .stripe_standin import StripeStandin

CLOSED_LOOPBACK_PORT = "http://127.0.0.1:9"


@pytest.fixture(autouse=True)
def _stripe_never_leaves_the_machine(settings, monkeypatch):
    import stripe

    if not settings.STRIPE_API_BASE:
        settings.STRIPE_API_BASE = CLOSED_LOOPBACK_PORT
    monkeypatch.setattr(stripe, "api_base", settings.STRIPE_API_BASE)


@pytest.fixture
def stripe_standin(settings, monkeypatch):
    import stripe

    standin = StripeStandin().start()
    settings.STRIPE_SECRET_KEY = standin.api_key
    settings.STRIPE_API_BASE = standin.url
    settings.STRIPE_WEBHOOK_SECRET = standin.webhook_secret
    monkeypatch.setattr(stripe, "api_base", standin.url)
    try:
        yield standin
    finally:
        standin.stop()


@pytest.fixture
def wechat_standin(settings):
    """A loopback stand-in for WeChat Pay API v3 (tests/marketplace/wechat_standin.py), with the
    WECHATPAY_* settings pointing at it and its generated keys."""
    from marketplace.payments import wechat_provider

    from .wechat_standin import WeChatStandin

    standin = WeChatStandin().start()
    standin.configure(settings)
    wechat_provider._clients.clear()
    try:
        yield standin
    finally:
        wechat_provider._clients.clear()
        standin.stop()


@pytest.fixture
def alipay_standin(settings):
    """A loopback stand-in for Alipay's gateway (tests/marketplace/alipay_standin.py), with the
    ALIPAY_* settings pointing at it and its generated keys."""
    from .alipay_standin import AlipayStandin

    standin = AlipayStandin().start()
    standin.configure(settings)
    try:
        yield standin
    finally:
        standin.stop()
