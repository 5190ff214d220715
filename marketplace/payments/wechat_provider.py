"""WeChat Pay (API v3, direct merchant) behind the PaymentProvider interface, through the pinned
``wechatpayv3`` client used as shipped.

- H5 (a phone browser outside WeChat: ``h5_url``) and JSAPI (inside WeChat, with the payer's
  openid: a ``prepay_id`` and the signed parameters for ``WeixinJSBridge``), in fen.
  ``out_trade_no`` is the order number, so a retried checkout asks for the same order.
- Refunds carry an ``out_refund_no`` derived from the shop's idempotency key (WeChat answers a
  repeated number with the same refund).
- ``query`` is the order query by ``out_trade_no``: the unpaid sweep and reconciliation use it to
  find a payment whose notification was lost.
- Every answer is verified by the client against WeChat's platform certificates, which it
  downloads from ``/v3/certificates`` and decrypts with the API v3 key.

The API base is ``settings.WECHATPAY_API_BASE`` (the tests' loopback stand-in): the client keeps
its gateway in ``Core._gate_way``, fixed in ``Core.__init__``, which also downloads the
certificates, so a small Core subclass answers that attribute from the setting before the first
request. Amounts are fen only here, through ``core.money``.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from wechatpayv3 import WeChatPay, WeChatPayType
from wechatpayv3.core import Core

from core.money import from_fen, to_fen

from .base import CheckoutSession, PaymentProviderError, TradeStatus

logger = logging.getLogger(__name__)

NAME = "wechat"
TIMEOUT = (5, 20)
SHANGHAI = ZoneInfo("Asia/Shanghai")
ORDER_LIFETIME = timedelta(minutes=30)


class _Core(Core):
    """``Core`` with its gateway taken from settings (the library hard-codes api.mch.weixin.qq.com)."""

    # a data descriptor on the class wins over the assignment in Core.__init__
    _gate_way = property(lambda self: self._configured_gateway, lambda self, value: None)

    def __init__(self, *, gateway: str, **kwargs):
        self._configured_gateway = gateway.rstrip("/")
        super().__init__(**kwargs)


class _WeChatPay(WeChatPay):
    def __init__(self, *, gateway: str, mchid: str, private_key: str, cert_serial_no: str, appid: str, apiv3_key: str,
                 notify_url: str, cert_dir: str | None, timeout):
        # WeChatPay.__init__ builds its Core with the hard-coded gateway; the same fields, our Core
        self._type = WeChatPayType.H5
        self._mchid = mchid
        self._appid = appid
        self._notify_url = notify_url
        self._partner_mode = False
        self._core = _Core(gateway=gateway, mchid=mchid, cert_serial_no=cert_serial_no, private_key=private_key,
                           apiv3_key=apiv3_key, cert_dir=cert_dir, logger=None, proxy=None, timeout=timeout)


_clients: dict[tuple, _WeChatPay] = {}
_clients_lock = threading.Lock()


def notify_url() -> str:
    return settings.WECHATPAY_NOTIFY_URL or settings.WAGTAILADMIN_BASE_URL.rstrip("/") + "/payments/wechat/notify/"


def wechat_client() -> _WeChatPay:
    """One client per configuration and process (its constructor downloads the platform certificates)."""
    if not (settings.WECHATPAY_MCHID and settings.WECHATPAY_PRIVATE_KEY):
        raise PaymentProviderError(_("WeChat Pay is not available: it is not configured."))
    key = (settings.WECHATPAY_API_BASE, settings.WECHATPAY_MCHID, settings.WECHATPAY_APPID, settings.WECHATPAY_PRIVATE_KEY,
           settings.WECHATPAY_CERT_SERIAL_NO, settings.WECHATPAY_APIV3_KEY, notify_url())
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            try:
                client = _WeChatPay(
                    gateway=settings.WECHATPAY_API_BASE, mchid=settings.WECHATPAY_MCHID, private_key=settings.WECHATPAY_PRIVATE_KEY,
                    cert_serial_no=settings.WECHATPAY_CERT_SERIAL_NO, appid=settings.WECHATPAY_APPID,
                    apiv3_key=settings.WECHATPAY_APIV3_KEY, notify_url=notify_url(), cert_dir=settings.WECHATPAY_CERT_DIR or None,
                    timeout=TIMEOUT,
                )
            except Exception as exc:  # no certificate could be fetched or verified, a bad key
                logger.warning("wechat pay client could not start: %s", type(exc).__name__)
                raise PaymentProviderError(_("The payment service could not be reached. Please try again in a few minutes.")) from exc
            _clients[key] = client
    return client


def _call(action: str, reference: str, fn, *args, **kwargs) -> dict:
    """Call the client; its answer (verified against the platform certificate) as a dict, or a
    PaymentProviderError carrying a message a person can act on."""
    try:
        code, message = fn(*args, **kwargs)
    except Exception as exc:  # the library raises plain Exception for a bad signature; requests' errors for the network
        logger.warning("wechat pay %s failed for %s: %s %s", action, reference, type(exc).__name__, str(exc)[:120])
        raise PaymentProviderError(_("The payment service could not be reached. Please try again in a few minutes.")) from exc
    try:
        body = json.loads(message) if message else {}
    except (TypeError, ValueError):
        body = {}
    if not 200 <= code < 300:
        logger.warning("wechat pay %s refused for %s: %s %s %s", action, reference, code, body.get("code"), str(body.get("message"))[:120])
        if body.get("code") == "NOT_ENOUGH":
            raise PaymentProviderError(_("The merchant account does not hold enough to refund now. Please tell the supermarket staff."))
        raise PaymentProviderError(
            _("The payment service refused the request. Please try again later or tell the supermarket staff."))
    return body


def out_refund_no(payment, idempotency_key: str) -> str:
    """The refund's number at WeChat Pay (≤ 64 of [0-9A-Za-z_-|*@]), the same for the same key."""
    safe = "".join(c if c.isalnum() or c in "_-" else "-" for c in idempotency_key)
    return f"{payment.order.number}-{safe}"[:64]


def _description(order) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return (_("Relief Market order %(number)s") % {"number": order.number})[:127]


def _time_expire(order) -> str:
    placed = getattr(order, "created_at", None) or datetime.now(SHANGHAI)
    return (placed + ORDER_LIFETIME).astimezone(SHANGHAI).isoformat(timespec="seconds")


class WeChatPayProvider:
    name = NAME

    def __init__(self, client: _WeChatPay | None = None):
        self._client = client

    @property
    def client(self) -> _WeChatPay:
        if self._client is None:
            self._client = wechat_client()
        return self._client

    def create_checkout(self, *, order, amount: Decimal, success_url: str, cancel_url: str, idempotency_key: str,
                        client: dict | None = None) -> CheckoutSession:
        fen = to_fen(amount)
        if fen <= 0:
            raise PaymentProviderError(_("There is nothing to pay online for this order."))
        client = client or {}
        common = dict(description=_description(order), out_trade_no=order.number, amount={"total": fen, "currency": "CNY"},
                      time_expire=_time_expire(order), attach=order.number, notify_url=notify_url())
        openid = client.get("wechat_openid") or ""
        if openid:
            body = _call("jsapi order", order.number, self.client.pay, payer={"openid": openid}, pay_type=WeChatPayType.JSAPI,
                         **common)
            prepay_id = body.get("prepay_id") or ""
            if not prepay_id:
                raise PaymentProviderError(_("The payment service refused the request. Please try again later or tell the supermarket staff."))
            return CheckoutSession(reference=order.number, url="", params=self.jsapi_params(prepay_id))
        body = _call("h5 order", order.number, self.client.pay, pay_type=WeChatPayType.H5,
                     scene_info={"payer_client_ip": client.get("ip") or "127.0.0.1", "h5_info": {"type": "Wap"}}, **common)
        url = body.get("h5_url") or ""
        if not url:
            raise PaymentProviderError(_("The payment service refused the request. Please try again later or tell the supermarket staff."))
        if success_url:
            from urllib.parse import quote

            url = f"{url}&redirect_url={quote(success_url, safe='')}"
        return CheckoutSession(reference=order.number, url=url)

    def jsapi_params(self, prepay_id: str) -> dict:
        """What the page inside WeChat hands to ``WeixinJSBridge.invoke('getBrandWCPayRequest', …)``."""
        timestamp, nonce, package = str(int(time.time())), secrets.token_hex(16), f"prepay_id={prepay_id}"
        appid = settings.WECHATPAY_APPID
        return {"appId": appid, "timeStamp": timestamp, "nonceStr": nonce, "package": package, "signType": "RSA",
                "paySign": self.client.sign([appid, timestamp, nonce, package])}

    def refund(self, *, payment, amount: Decimal, idempotency_key: str) -> str:
        fen = to_fen(amount)
        if fen <= 0:
            raise PaymentProviderError(_("A refund must be more than zero."))
        number = out_refund_no(payment, idempotency_key)
        kwargs = {"transaction_id": payment.payment_intent_id} if payment.payment_intent_id else {"out_trade_no": payment.order.number}
        body = _call("refund", number, self.client.refund, out_refund_no=number,
                     amount={"refund": fen, "total": to_fen(payment.amount), "currency": "CNY"}, **kwargs)
        if body.get("status") in ("CLOSED", "ABNORMAL"):
            raise PaymentProviderError(_("The payment service refused the refund. Please tell the supermarket staff."))
        return body.get("refund_id") or number

    def query(self, *, payment) -> TradeStatus:
        body = _call("order query", payment.order.number, self.client.query, out_trade_no=payment.order.number)
        return trade_status(body)

    def refund_query(self, *, payment, idempotency_key: str) -> tuple[str, Decimal | None]:
        """(status, amount) of the refund sent with ``idempotency_key``; ("NOT_FOUND", None) if WeChat has none."""
        number = out_refund_no(payment, idempotency_key)
        try:
            code, message = self.client.query_refund(out_refund_no=number)
        except Exception as exc:
            logger.warning("wechat pay refund query failed for %s: %s", number, type(exc).__name__)
            raise PaymentProviderError(_("The payment service could not be reached. Please try again in a few minutes.")) from exc
        if code == 404:
            return "NOT_FOUND", None
        body = _call("refund query", number, lambda: (code, message))
        fen = (body.get("amount") or {}).get("refund")
        return body.get("status") or "", from_fen(int(fen)) if isinstance(fen, int) else None


def trade_status(resource: dict) -> TradeStatus:
    """A transaction as WeChat Pay states it (order query or decrypted notification)."""
    amount = resource.get("amount") or {}
    total = amount.get("total")
    return TradeStatus(
        paid=resource.get("trade_state") == "SUCCESS",
        amount=from_fen(int(total)) if isinstance(total, int) else None,
        transaction_id=resource.get("transaction_id") or "",
        state=resource.get("trade_state") or "",
        raw=resource,
    )


__all__ = ["NAME", "WeChatPayProvider", "notify_url", "out_refund_no", "trade_status", "wechat_client"]
