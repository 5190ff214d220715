"""The payment-provider interface and the registry of providers (plug-ins).

Each provider is a plug-in: a name, a label people see, a test of its settings (``STRIPE_*``,
``WECHATPAY_*``, ``ALIPAY_*``) and a class. Every configured one is offered at checkout for the
card/online part; a Payment records the name of the provider that took it, and every later call
about that payment (a refund, a retried refund, the late-payment refund, the unpaid sweep's order
query, reconciliation) goes to that provider — ``provider_for(payment)`` — never to whichever is
configured now. With no provider configured the shop is allocation-only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import import_module
from typing import Protocol

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import DomainError


class PaymentProviderError(DomainError):
    """The provider failed or refused; the message says what a person can do."""

    status = 502
    code = "payment_provider_error"


class PaymentMethodUnavailable(DomainError):
    """The payment method asked for is unknown or not configured, or none was chosen among several."""

    status = 400
    code = "payment_method_unavailable"


@dataclass(frozen=True)
class CheckoutSession:
    reference: str  # the provider's id for the payment session (Stripe: cs_...; WeChat/Alipay: our out_trade_no)
    url: str  # where the employee pays ('' for WeChat JSAPI, paid inside WeChat with ``params``)
    params: dict = field(default_factory=dict)  # what a client needs besides the URL (WeChat JSAPI's signed bridge call)


@dataclass(frozen=True)
class TradeStatus:
    """What the provider's order query says about a payment."""

    paid: bool
    amount: Decimal | None = None  # yuan, as the provider states it
    transaction_id: str = ""
    refunded: Decimal | None = None  # yuan, when the provider says
    state: str = ""  # the provider's own word (SUCCESS, NOTPAY, TRADE_SUCCESS…)
    raw: dict = field(default_factory=dict)


class PaymentProvider(Protocol):
    name: str

    def create_checkout(self, *, order, amount: Decimal, success_url: str, cancel_url: str, idempotency_key: str,
                        client: dict | None = None) -> CheckoutSession:
        """Start paying ``amount`` (CNY) for ``order``. Called after the checkout transaction has committed.
        ``client``: what is known of the paying device (``ip``, ``mobile``, ``wechat_openid``)."""

    def refund(self, *, payment, amount: Decimal, idempotency_key: str) -> str:
        """Refund ``amount`` of ``payment``; returns the provider's refund id."""

    def query(self, *, payment) -> TradeStatus | None:
        """The provider's order query for ``payment`` (None: the provider offers none)."""


@dataclass(frozen=True)
class ProviderSpec:
    name: str
    label: object  # lazy translation
    class_path: str
    configured: Callable[[object], bool]
    # the unpaid sweep asks the provider before releasing an order (a lost notification);
    # Stripe's sessions expire by themselves and tell the shop by an event, so it is not asked
    query_before_release: bool = False


def _setting(name: str) -> Callable[[object], bool]:
    return lambda settings: bool(getattr(settings, name, ""))


REGISTRY: dict[str, ProviderSpec] = {
    spec.name: spec
    for spec in (
        ProviderSpec("stripe", gettext_lazy("Card (Stripe)"), "marketplace.payments.stripe_provider.StripeProvider",
                     _setting("STRIPE_SECRET_KEY")),
        ProviderSpec("wechat", gettext_lazy("WeChat Pay"), "marketplace.payments.wechat_provider.WeChatPayProvider",
                     lambda s: bool(getattr(s, "WECHATPAY_MCHID", "") and getattr(s, "WECHATPAY_PRIVATE_KEY", "")),
                     query_before_release=True),
        ProviderSpec("alipay", gettext_lazy("Alipay"), "marketplace.payments.alipay_provider.AlipayProvider",
                     lambda s: bool(getattr(s, "ALIPAY_APP_ID", "") and getattr(s, "ALIPAY_APP_PRIVATE_KEY", "")),
                     query_before_release=True),
    )
}
METHOD_CHOICES = tuple(REGISTRY)  # what ``payment_method`` may name


def configured_providers() -> list[str]:
    """The names of the configured providers, in the registry's order."""
    from django.conf import settings

    return [name for name, spec in REGISTRY.items() if spec.configured(settings)]


def provider_choices() -> list[tuple[str, str]]:
    """(name, label) of each configured provider, for a form or a page."""
    return [(name, str(REGISTRY[name].label) if name in REGISTRY else name) for name in configured_providers()]


def _instantiate(name: str) -> PaymentProvider:
    module, _dot, cls = REGISTRY[name].class_path.rpartition(".")
    return getattr(import_module(module), cls)()


def get_provider(name: str | None = None) -> PaymentProvider | None:
    """The provider ``name`` if it is configured (else None); without a name the default one:
    the only configured provider, or the first configured when there are several (callers that
    let a person choose pass the choice)."""
    configured = configured_providers()
    if name is None:
        return _instantiate(configured[0]) if configured else None
    return _instantiate(name) if name in configured else None


def choose_provider(method: str | None) -> tuple[PaymentProvider | None, bool]:
    """The provider a checkout asked for. Returns (provider, must_choose): ``must_choose`` is
    True when none was named and several are configured (the caller refuses only if there is a
    card part). Raises PaymentMethodUnavailable for an unknown or unconfigured name."""
    configured = configured_providers()
    if method:
        if method not in REGISTRY:
            raise PaymentMethodUnavailable(
                _("Unknown payment method “%(method)s”. Choose one of: %(choices)s.") % {
                    "method": method, "choices": ", ".join(METHOD_CHOICES)}
            )
        if method not in configured:
            if configured:
                raise PaymentMethodUnavailable(
                    _("%(label)s is not available at this supermarket. Available: %(available)s.") % {
                        "label": REGISTRY[method].label, "available": ", ".join(str(REGISTRY[n].label) for n in configured)}
                )
            raise PaymentMethodUnavailable(
                _("%(label)s is not available: no online payment is configured, so only the allocation can pay.") % {
                    "label": REGISTRY[method].label}
            )
        return _instantiate(method), False
    if len(configured) == 1:
        return _instantiate(configured[0]), False
    return None, len(configured) > 1


def must_choose_message() -> str:
    return _("Choose how to pay the part your allocation does not cover: %(available)s.") % {
        "available": ", ".join(f"{label} ({name})" for name, label in provider_choices())}



def provider_for(payment) -> PaymentProvider:
    """The provider that took ``payment`` — every refund, retry, query and sweep goes to it.
    Raises PaymentProviderError when that provider is no longer configured."""
    name = payment.provider
    if name not in configured_providers():
        raise PaymentProviderError(
            _("This order was paid with %(provider)s, which is not configured now; the refund is recorded and can be sent later.") % {
                "provider": str(REGISTRY[name].label) if name in REGISTRY else name}
        )
    return _instantiate(name)
