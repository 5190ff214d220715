"""Stripe Checkout behind the PaymentProvider interface.

This is the only module that knows Stripe's minor units: amounts come in and go out as Decimal
yuan and are converted to fen here, through ``core.money.to_fen`` / ``from_fen``.

The library is used as shipped: a ``stripe.StripeClient`` with the secret key from
``settings.STRIPE_SECRET_KEY``; when ``settings.STRIPE_API_BASE`` is set (the tests' loopback
stand-in, or a proxy) the client's ``base_addresses["api"]`` points there. Every request that
creates something carries an idempotency key, so that a retry (ours or the library's own network
retries) never creates a second session or a second refund.
"""

from __future__ import annotations

import logging
import time
from decimal import Decimal

import stripe
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from core.money import from_fen, to_fen

from .base import CheckoutSession, PaymentProviderError

logger = logging.getLogger(__name__)

CURRENCY = "cny"
PAYMENT_METHOD_TYPES = ["card", "alipay", "wechat_pay"]
# Stripe accepts expires_at 30 minutes to 24 hours after creation; the order is released by the
# unpaid-order sweep 30 minutes after it was placed, so the session is asked to expire just after
# that (the margin keeps the request valid when it is sent a little after the order was placed,
# or when the clocks differ by a few seconds).
SESSION_LIFETIME_SECONDS = 30 * 60
SESSION_EXPIRY_MARGIN_SECONDS = 120
NETWORK_RETRIES = 2
TIMEOUT_SECONDS = 20


def stripe_client() -> stripe.StripeClient:
    """A client for the configured account (and API base, when one is set)."""
    api_key = settings.STRIPE_SECRET_KEY
    if not api_key:
        raise PaymentProviderError(_("Card payment is not available: no payment provider is configured."))
    base = getattr(settings, "STRIPE_API_BASE", "") or None
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": base} if base else None,
        max_network_retries=NETWORK_RETRIES,
        http_client=stripe.RequestsClient(timeout=TIMEOUT_SECONDS),
    )


def site_url() -> str:
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + "/"


def amount_from_minor_units(value) -> Decimal | None:
    """An amount as Stripe states it (fen, in an event or object) as Decimal yuan."""
    if value is None or value == "":
        return None
    return from_fen(int(value))


def session_expires_at(order) -> int:
    """When the Checkout Session for ``order`` expires (epoch seconds).

    Derived from when the order was placed, not from the clock, so that a retry with the same
    idempotency key sends the same parameters (Stripe refuses a key reused with different ones);
    only a retry too late for that still to be 30 minutes ahead gets a later time.
    """
    now = int(time.time())
    placed = getattr(order, "created_at", None)
    base = int(placed.timestamp()) if placed else now
    expires_at = base + SESSION_LIFETIME_SECONDS + SESSION_EXPIRY_MARGIN_SECONDS
    if expires_at < now + SESSION_LIFETIME_SECONDS + 5:
        expires_at = now + SESSION_LIFETIME_SECONDS + SESSION_EXPIRY_MARGIN_SECONDS
    return expires_at


def _error_message(exc: stripe.StripeError) -> str:
    if isinstance(exc, stripe.APIConnectionError):
        return _("The payment service could not be reached. Please try again in a few minutes.")
    if isinstance(exc, stripe.CardError):
        return _("The payment was declined. Please use another payment method.")
    if isinstance(exc, stripe.RateLimitError):
        return _("The payment service is busy. Please try again in a minute.")
    if isinstance(exc, (stripe.AuthenticationError, stripe.PermissionError)):
        return _("Card payment is misconfigured. Please tell the supermarket staff.")
    if isinstance(exc, stripe.IdempotencyError):
        return _("This payment request was already sent with different details. Please tell the supermarket staff.")
    return _("The payment service refused the request. Please try again later or tell the supermarket staff.")


def _log_failure(action: str, reference: str, exc: stripe.StripeError) -> None:
    # The message and code are Stripe's; no personal data is in them or in ``reference``.
    logger.warning("stripe %s failed for %s: %s %s (%s)", action, reference, type(exc).__name__, getattr(exc, "code", ""),
                   getattr(exc, "user_message", None) or str(exc)[:200])


def _line_item_name(order) -> str:
    # In the site's language whatever the caller's, so that a retry sends the same parameters.
    with translation.override(settings.LANGUAGE_CODE):
        return _("Relief Market order %(number)s (part paid by card)") % {"number": order.number}


class StripeProvider:
    """Stripe Checkout (card, Alipay, WeChat Pay) in CNY."""

    name = "stripe"

    def __init__(self, client: stripe.StripeClient | None = None):
        self._client = client

    @property
    def client(self) -> stripe.StripeClient:
        if self._client is None:
            self._client = stripe_client()
        return self._client

    def create_checkout(self, *, order, amount: Decimal, success_url: str, cancel_url: str, idempotency_key: str,
                        client: dict | None = None) -> CheckoutSession:
        fen = to_fen(amount)
        if fen <= 0:
            raise PaymentProviderError(_("There is nothing to pay by card for this order."))
        params = {
            "mode": "payment",
            "currency": CURRENCY,
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": CURRENCY,
                        "unit_amount": fen,
                        "product_data": {"name": _line_item_name(order)},
                    },
                }
            ],
            "payment_method_types": PAYMENT_METHOD_TYPES,
            "payment_method_options": {"wechat_pay": {"client": "web"}},
            "client_reference_id": order.number,
            "metadata": {"order_number": order.number},
            "payment_intent_data": {"metadata": {"order_number": order.number}},
            # Stripe requires absolute URLs; a caller without a page of its own sends people home.
            "success_url": success_url or site_url(),
            "cancel_url": cancel_url or site_url(),
            "expires_at": session_expires_at(order),
        }
        try:
            session = self.client.v1.checkout.sessions.create(params=params, options={"idempotency_key": idempotency_key})
        except stripe.StripeError as exc:
            _log_failure("checkout session", order.number, exc)
            raise PaymentProviderError(_error_message(exc)) from exc
        amount_total = getattr(session, "amount_total", None)
        if amount_total not in (None, fen):
            # Stripe priced the session differently from what we asked: never send a person to it.
            logger.error("stripe session %s for %s has amount_total %s, expected %s", session.id, order.number, amount_total, fen)
            raise PaymentProviderError(_("The payment service returned a wrong amount. Please tell the supermarket staff."))
        return CheckoutSession(reference=session.id, url=getattr(session, "url", None) or "")

    def payment_intent_of(self, session_id: str) -> str:
        """The PaymentIntent id of a Checkout Session ('' while it has none)."""
        try:
            session = self.client.v1.checkout.sessions.retrieve(session_id)
        except stripe.StripeError as exc:
            _log_failure("session lookup", session_id, exc)
            raise PaymentProviderError(_error_message(exc)) from exc
        intent = getattr(session, "payment_intent", None)
        if intent is not None and not isinstance(intent, str):  # expanded into an object
            intent = getattr(intent, "id", None)
        return intent or ""

    def refund(self, *, payment, amount: Decimal, idempotency_key: str) -> str:
        fen = to_fen(amount)
        if fen <= 0:
            raise PaymentProviderError(_("A refund must be more than zero."))
        intent = payment.payment_intent_id or (self.payment_intent_of(payment.session_id) if payment.session_id else "")
        if not intent:
            raise PaymentProviderError(_("This order's card payment has not been completed, so there is nothing to refund."))
        order_number = payment.order.number if payment.order_id else ""
        params = {"payment_intent": intent, "amount": fen, "metadata": {"order_number": order_number}}
        try:
            refund = self.client.v1.refunds.create(params=params, options={"idempotency_key": idempotency_key})
        except stripe.StripeError as exc:
            _log_failure("refund", order_number or intent, exc)
            raise PaymentProviderError(_error_message(exc)) from exc
        return refund.id

    def query(self, *, payment):
        # Stripe's sessions expire by themselves and their events say so; the sweep does not ask.
        return None


__all__ = ["CURRENCY", "StripeProvider", "amount_from_minor_units", "session_expires_at", "stripe_client"]
