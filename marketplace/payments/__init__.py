"""Payment providers as plug-ins behind one small interface (base.py): Stripe (stripe_provider.py),
WeChat Pay API v3 (wechat_provider.py) and Alipay (alipay_provider.py).

Checkout asks ``choose_provider(payment_method)``; everything about an existing payment asks
``provider_for(payment)``, the provider that took it. ``get_provider()`` returns None when no
provider is configured (the embedded default), and the shop then works allocation-only.
"""

from .base import (
    CheckoutSession,
    PaymentMethodUnavailable,
    PaymentProvider,
    PaymentProviderError,
    TradeStatus,
    choose_provider,
    configured_providers,
    get_provider,
    provider_for,
)

__all__ = [
    "CheckoutSession", "PaymentMethodUnavailable", "PaymentProvider", "PaymentProviderError", "TradeStatus", "choose_provider",
    "configured_providers", "get_provider", "provider_for",
]
