"""``POST /payments/wechat/notify/`` and ``POST /payments/alipay/notify/``: the providers'
payment notifications, verified, stored once, applied by the same task as Stripe's events.

WeChat Pay: the body's signature is checked against the platform certificate named by
``Wechatpay-Serial`` (``wechatpayv3``'s own check; the certificates come from WeChat Pay and are
decrypted with the API v3 key), the resource is decrypted (AES-256-GCM with the API v3 key).
On top of the library: a timestamp more than ``WECHATPAY_NOTIFY_TOLERANCE`` seconds away is
stale, and a nonce seen before is a replay (WeChat signs each delivery afresh) — both 400.

Alipay: the form's ``sign`` is checked (RSA2, Alipay's public key) by ``python-alipay-sdk``'s
``verify``; the ``app_id`` must be ours; a ``notify_time`` older than ``ALIPAY_NOTIFY_TOLERANCE``
is stale; a ``notify_id`` already applied is answered ``success`` and changes nothing (Alipay
repeats a notification with the same id until it reads ``success``).

A valid notification is stored in PaymentEvent (unique per provider and id) and handed to
``apply_payment_event`` after commit, which applies it exactly once (payments/services.py).
Anything forged, tampered, stale or replayed gets 400 and changes nothing.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core.money import from_fen

from .base import PaymentProviderError
from .services import payment_event_record

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _wechat_fail(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"code": "FAIL", "message": message}, status=status)


def _wechat_object(event_type: str, resource: dict) -> dict:
    """The decrypted resource in the shape the handlers read (payments/services.py)."""
    amount = resource.get("amount") or {}
    if event_type.startswith("REFUND."):
        return {"out_trade_no": resource.get("out_trade_no") or "", "out_refund_no": resource.get("out_refund_no") or "",
                "state": resource.get("refund_status") or "", "raw": resource}
    total = amount.get("total")
    return {
        "out_trade_no": resource.get("out_trade_no") or "", "transaction_id": resource.get("transaction_id") or "",
        "amount": str(from_fen(total)) if isinstance(total, int) else "", "currency": amount.get("currency") or "",
        "state": resource.get("trade_state") or "", "raw": resource,
    }


@csrf_exempt
@require_POST
def wechat_notify(request):
    from .wechat_provider import wechat_client

    body = request.body
    if len(body) > MAX_BODY_BYTES:
        return _wechat_fail("payload too large")
    headers = {name: request.headers.get(name, "") for name in (
        "Wechatpay-Signature", "Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Serial", "Wechatpay-Signature-Type")}
    try:
        timestamp = int(headers["Wechatpay-Timestamp"])
    except ValueError:
        return _wechat_fail("invalid signature")
    if abs(time.time() - timestamp) > settings.WECHATPAY_NOTIFY_TOLERANCE:
        logger.warning("wechat notification refused: stale timestamp %s", timestamp)
        return _wechat_fail("stale notification")
    try:
        client = wechat_client()
    except PaymentProviderError:
        return _wechat_fail("not configured", status=503)  # WeChat Pay delivers it again later
    try:
        text = body.decode("utf-8")
        data = client.callback(headers, text)
    except Exception as exc:  # the library raises a bare Exception for an unknown algorithm; bad UTF-8, bad JSON
        logger.warning("wechat notification refused: %s", type(exc).__name__)
        return _wechat_fail("invalid signature")
    if not data or not isinstance(data.get("resource"), dict) or not isinstance(data.get("id"), str) or not data["id"]:
        logger.warning("wechat notification refused: signature or decryption failed")
        return _wechat_fail("invalid signature")
    # a signed message seen before is a replay: WeChat Pay signs every delivery with a new nonce
    if not cache.add(f"wechat-notify-nonce:{headers['Wechatpay-Nonce']}", 1, timeout=2 * settings.WECHATPAY_NOTIFY_TOLERANCE):
        logger.warning("wechat notification refused: replayed nonce")
        return _wechat_fail("replayed notification")
    resource = data["resource"]
    if resource.get("mchid") not in (None, settings.WECHATPAY_MCHID):
        return _wechat_fail("not for this merchant")
    event_type = str(data.get("event_type") or "")
    payment_event_record(provider="wechat", event_id=data["id"], event_type=event_type, payload={
        "id": data["id"], "event_type": event_type, "create_time": data.get("create_time"),
        "data": {"object": _wechat_object(event_type, resource)},
    })
    return HttpResponse(status=204)


# --- Alipay ----------------------------------------------------------------------------------------


def _alipay_fail(status: int = 400) -> HttpResponse:
    return HttpResponse("fail", status=status, content_type="text/plain")


def alipay_object(params: dict) -> dict:
    return {
        "out_trade_no": params.get("out_trade_no") or "", "transaction_id": params.get("trade_no") or "",
        "amount": params.get("total_amount") or "", "currency": "CNY", "state": params.get("trade_status") or "",
        "refunded": params.get("refund_fee") or "", "raw": params,
    }


@csrf_exempt
@require_POST
def alipay_notify(request):
    from .alipay_provider import alipay_client

    try:  # a middleware may have read the form already: the declared length, not request.body
        too_large = int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BODY_BYTES
    except ValueError:
        too_large = True
    if too_large:
        return _alipay_fail()
    params = {k: v for k, v in request.POST.items()}
    signature = params.pop("sign", "")
    if not signature or not params.get("notify_id"):
        return _alipay_fail()
    try:
        client = alipay_client()
    except PaymentProviderError:
        return _alipay_fail(status=503)
    try:
        verified = client.verify(dict(params), signature)
    except Exception as exc:  # an unknown sign_type, a signature that is not base64
        logger.warning("alipay notification refused: %s", type(exc).__name__)
        verified = False
    if not verified:
        logger.warning("alipay notification refused: bad signature")
        return _alipay_fail()
    if params.get("app_id") != settings.ALIPAY_APP_ID:
        return _alipay_fail()
    try:
        sent = datetime.strptime(params.get("notify_time", ""), "%Y-%m-%d %H:%M:%S").replace(tzinfo=SHANGHAI)
    except ValueError:
        return _alipay_fail()
    if abs(time.time() - sent.timestamp()) > settings.ALIPAY_NOTIFY_TOLERANCE:
        logger.warning("alipay notification refused: stale (%s)", params.get("notify_time"))
        return _alipay_fail()
    trade_status = params.get("trade_status") or ""
    # a refund shows as the trade's status with refund_fee/gmt_refund; it is recorded, not applied twice
    event_type = "REFUND" if params.get("gmt_refund") or params.get("out_biz_no") else trade_status
    recorded = payment_event_record(provider="alipay", event_id=params["notify_id"], event_type=event_type, payload={
        "id": params["notify_id"], "event_type": event_type, "data": {"object": alipay_object(params)},
    })
    if not recorded.created and recorded.event.payload.get("data", {}).get("object", {}).get("raw") != params:
        # the same notify_id with other content: not a redelivery
        logger.warning("alipay notification refused: notify_id %s reused with other content", params["notify_id"])
        return _alipay_fail()
    return HttpResponse("success", content_type="text/plain")


urlpatterns = [
    path("payments/wechat/notify/", wechat_notify, name="wechat_notify"),
    path("payments/alipay/notify/", alipay_notify, name="alipay_notify"),
]

__all__ = ["alipay_notify", "alipay_object", "urlpatterns", "wechat_notify"]
