"""Alipay behind the PaymentProvider interface, through the pinned ``python-alipay-sdk``.

- Mobile web (``alipay.trade.wap.pay``) on a phone, PC page (``alipay.trade.page.pay``) on a
  computer: both are a signed URL on the gateway the employee is sent to (no request from the
  server); ``out_trade_no`` is the order number, amounts are yuan strings with two places.
- Refunds (``alipay.trade.refund``) carry an ``out_request_no`` derived from the shop's idempotency
  key: Alipay answers a repeated number with the same refund, never a second one.
- ``query`` is ``alipay.trade.query``: the unpaid sweep and reconciliation use it.
- Every answer is verified (RSA2, Alipay's public key) by the SDK before it is read.

The gateway is ``settings.ALIPAY_GATEWAY`` (the tests' loopback stand-in): the SDK keeps it in
``_gateway``, set in its constructor, so it is set again from the setting after construction.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from alipay import AliPay
from alipay.utils import AliPayConfig
from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.money import yuan

from .base import CheckoutSession, PaymentProviderError, TradeStatus

logger = logging.getLogger(__name__)

NAME = "alipay"
TIMEOUT_SECONDS = 15
SHANGHAI = ZoneInfo("Asia/Shanghai")
ORDER_LIFETIME = timedelta(minutes=30)
SUCCESS = "10000"


def notify_url() -> str:
    return settings.ALIPAY_NOTIFY_URL or settings.WAGTAILADMIN_BASE_URL.rstrip("/") + "/payments/alipay/notify/"


def alipay_client() -> AliPay:
    if not (settings.ALIPAY_APP_ID and settings.ALIPAY_APP_PRIVATE_KEY):
        raise PaymentProviderError(_("Alipay is not available: it is not configured."))
    try:
        client = AliPay(appid=settings.ALIPAY_APP_ID, app_notify_url=notify_url(), app_private_key_string=settings.ALIPAY_APP_PRIVATE_KEY,
                        alipay_public_key_string=settings.ALIPAY_PUBLIC_KEY, sign_type="RSA2", config=AliPayConfig(timeout=TIMEOUT_SECONDS))
    except Exception as exc:  # a key that cannot be read
        logger.error("alipay client could not start: %s", type(exc).__name__)
        raise PaymentProviderError(_("Alipay is misconfigured. Please tell the supermarket staff.")) from exc
    client._gateway = settings.ALIPAY_GATEWAY
    return client


def _amount(value: Decimal) -> str:
    return f"{yuan(value):.2f}"


def out_request_no(payment, idempotency_key: str) -> str:
    safe = "".join(c if c.isalnum() or c in "_-" else "-" for c in idempotency_key)
    return f"{payment.order.number}-{safe}"[:64]


def _call(action: str, reference: str, fn, **kwargs) -> dict:
    try:
        return fn(**kwargs)
    except Exception as exc:  # the SDK raises AliPayException / AliPayValidationError, urllib its own errors
        logger.warning("alipay %s failed for %s: %s %s", action, reference, type(exc).__name__, str(exc)[:160])
        raise PaymentProviderError(_("The payment service could not be reached. Please try again in a few minutes.")) from exc


class AlipayProvider:
    name = NAME

    def __init__(self, client: AliPay | None = None):
        self._client = client

    @property
    def client(self) -> AliPay:
        if self._client is None:
            self._client = alipay_client()
        return self._client

    def create_checkout(self, *, order, amount: Decimal, success_url: str, cancel_url: str, idempotency_key: str,
                        client: dict | None = None) -> CheckoutSession:
        if amount <= 0:
            raise PaymentProviderError(_("There is nothing to pay online for this order."))
        with translation.override(settings.LANGUAGE_CODE):
            subject = _("Relief Market order %(number)s") % {"number": order.number}
        placed = getattr(order, "created_at", None) or timezone.now()
        kwargs = dict(subject=subject, out_trade_no=order.number, total_amount=_amount(amount), return_url=success_url or None,
                      notify_url=notify_url(), time_expire=(placed + ORDER_LIFETIME).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S"))
        if (client or {}).get("mobile"):
            query = self.client.api_alipay_trade_wap_pay(**kwargs, quit_url=cancel_url or success_url or None)
        else:
            query = self.client.api_alipay_trade_page_pay(**kwargs)
        return CheckoutSession(reference=order.number, url=f"{settings.ALIPAY_GATEWAY}?{query}")

    def refund(self, *, payment, amount: Decimal, idempotency_key: str) -> str:
        if amount <= 0:
            raise PaymentProviderError(_("A refund must be more than zero."))
        number = out_request_no(payment, idempotency_key)
        result = _call("refund", number, self.client.api_alipay_trade_refund, refund_amount=_amount(amount),
                       out_trade_no=payment.order.number, out_request_no=number)
        if result.get("code") != SUCCESS:
            logger.warning("alipay refund %s refused: %s %s", number, result.get("sub_code"), result.get("sub_msg"))
            raise PaymentProviderError(_("The payment service refused the refund. Please tell the supermarket staff."))
        return number

    def refund_query(self, *, payment, idempotency_key: str) -> tuple[str, Decimal | None]:
        """(status, amount) of the refund sent with ``idempotency_key``; ("NOT_FOUND", None) if Alipay has none."""
        number = out_request_no(payment, idempotency_key)
        result = _call("refund query", number, self.client.api_alipay_trade_fastpay_refund_query, out_request_no=number,
                       out_trade_no=payment.order.number)
        if result.get("code") != SUCCESS or not result.get("refund_amount"):
            return "NOT_FOUND", None
        return result.get("refund_status") or "REFUND_SUCCESS", Decimal(result["refund_amount"])

    def query(self, *, payment) -> TradeStatus:
        result = _call("trade query", payment.order.number, self.client.api_alipay_trade_query, out_trade_no=payment.order.number)
        if result.get("code") != SUCCESS:
            if result.get("sub_code") == "ACQ.TRADE_NOT_EXIST":  # the employee never opened the payment page
                return TradeStatus(paid=False, state="TRADE_NOT_EXIST", raw=result)
            raise PaymentProviderError(_("The payment service refused the request. Please try again later or tell the supermarket staff."))
        return trade_status(result)


def trade_status(result: dict) -> TradeStatus:
    state = result.get("trade_status") or ""
    try:
        amount = Decimal(result["total_amount"]) if result.get("total_amount") else None
    except ArithmeticError:
        amount = None
    return TradeStatus(paid=state in ("TRADE_SUCCESS", "TRADE_FINISHED"), amount=amount, transaction_id=result.get("trade_no") or "",
                       state=state, raw=result)


__all__ = ["AlipayProvider", "NAME", "alipay_client", "notify_url", "out_request_no", "trade_status"]
