"""The payment-provider interface."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from core.errors import DomainError


class PaymentProviderError(DomainError):
    """The provider failed or refused; the message says what a person can do."""

    status = 502
    code = "payment_provider_error"


@dataclass(frozen=True)
class CheckoutSession:
    reference: str  # the provider's id for the payment session (Stripe: cs_...)
    url: str  # where the employee pays


class PaymentProvider(Protocol):
    name: str

    def create_checkout(self, *, order, amount: Decimal, success_url: str, cancel_url: str, idempotency_key: str) -> CheckoutSession:
        """Start paying ``amount`` (CNY) for ``order``. Called after the checkout transaction has committed."""

    def refund(self, *, payment, amount: Decimal, idempotency_key: str) -> str:
        """Refund ``amount`` of ``payment``; returns the provider's refund id."""


def get_provider() -> PaymentProvider | None:
    """The configured provider, or None when card payments are not configured."""
    from django.conf import settings

    if settings.STRIPE_SECRET_KEY:
        from .stripe_provider import StripeProvider

        return StripeProvider()
    return None
