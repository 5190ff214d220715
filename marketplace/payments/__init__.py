"""Payment providers behind one small interface, so that a direct WeChat Pay or Alipay provider
can be added without touching checkout. Stripe is the one provider today (stripe_provider.py).

Checkout and refunds call ``get_provider()``; it returns None when no provider is configured
(the embedded default: no Stripe key), and the shop then works allocation-only.
"""

from .base import CheckoutSession, PaymentProvider, PaymentProviderError, get_provider

__all__ = ["CheckoutSession", "PaymentProvider", "PaymentProviderError", "get_provider"]
