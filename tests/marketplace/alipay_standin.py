"""A stand-in for the parts of Alipay's open API the shop uses (``gateway.do``), served by a real
HTTP server on loopback, checking the app's RSA2 signature on each request and signing its answers
and asynchronous notifications with an "Alipay" key generated here, as Alipay does.

The shop gets ``ALIPAY_APP_PRIVATE_KEY`` (the app key) and ``ALIPAY_PUBLIC_KEY`` (the stand-in's
public key) and ``ALIPAY_GATEWAY`` (this server): nothing patches ``python-alipay-sdk``.

Methods: ``alipay.trade.query`` (``ACQ.TRADE_NOT_EXIST`` until the payer opened the page, i.e.
``pay()`` was called), ``alipay.trade.refund`` (the same ``out_request_no`` answers the same
refund; more than is left → ``ACQ.REFUND_AMT_NOT_EQUAL_TOTAL``).

Test helpers: ``pay(out_trade_no, total_amount)`` (the payer pays a page the shop sent them to:
TRADE_SUCCESS with a trade_no), ``notification(trade)`` → the form Alipay POSTs (signed),
``post_notification(client, form)``, ``pages_opened`` (the signed page URLs the shop handed out,
after ``open_page(url)`` checked their signature), ``configure(settings)``.
"""

from __future__ import annotations

import base64
import datetime
import itertools
import json
import secrets
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from tests.marketplace.loopback import loopback_serve, loopback_stop

from .wechat_standin import private_pem, test_key

NOTIFY_PATH = "/payments/alipay/notify/"
APP_ID = "2021000000000001"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def public_pem(key) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def sign(key, text: str) -> str:
    return base64.b64encode(key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


def signing_string(params: dict, *, without_sign_type: bool) -> str:
    skip = {"sign", "sign_type"} if without_sign_type else {"sign"}
    return "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k not in skip and v not in (None, ""))


def now_text(offset: datetime.timedelta = datetime.timedelta(0)) -> str:
    return (datetime.datetime.now(SHANGHAI) + offset).strftime("%Y-%m-%d %H:%M:%S")


class AlipayStandin:
    def __init__(self):
        self.app_key = test_key("alipay-app")
        self.alipay_key = test_key("alipay")
        self.trades: dict[str, dict] = {}
        self.refunds: dict[tuple[str, str], dict] = {}
        self.requests: list[dict] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> AlipayStandin:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                params = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
                data = standin.handle(params).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html;charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = loopback_serve(Handler, "alipay-standin")
        return self

    def stop(self) -> None:
        loopback_stop(self._server)
        self._server = None

    @property
    def gateway(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/gateway.do"

    def configure(self, settings) -> None:
        settings.ALIPAY_APP_ID = APP_ID
        settings.ALIPAY_APP_PRIVATE_KEY = private_pem(self.app_key)
        settings.ALIPAY_PUBLIC_KEY = public_pem(self.alipay_key)
        settings.ALIPAY_GATEWAY = self.gateway

    # --- the gateway -----------------------------------------------------------------------------
    def _app_signed(self, params: dict) -> bool:
        try:
            self.app_key.public_key().verify(base64.b64decode(params.get("sign", "")),
                                             signing_string(params, without_sign_type=False).encode(), padding.PKCS1v15(), hashes.SHA256())
        except Exception:
            return False
        return params.get("app_id") == APP_ID and params.get("sign_type") == "RSA2"

    def _answer(self, method: str, obj: dict) -> str:
        key = method.replace(".", "_") + "_response"
        inner = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
        return f'{{"{key}":{inner},"sign":"{sign(self.alipay_key, inner)}"}}'

    def handle(self, params: dict) -> str:
        method = params.get("method", "")
        with self._lock:
            self.requests.append(params)
            if not self._app_signed(params):
                return json.dumps({"error_response": {"code": "40002", "msg": "Invalid Arguments", "sub_code": "isv.invalid-signature"}})
            biz = json.loads(params.get("biz_content") or "{}")
            if method == "alipay.trade.query":
                trade = self.trades.get(biz.get("out_trade_no"))
                if trade is None:
                    return self._answer(method, {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_NOT_EXIST",
                                                 "sub_msg": "交易不存在"})
                return self._answer(method, {"code": "10000", "msg": "Success", **trade})
            if method == "alipay.trade.refund":
                return self._answer(method, self._refund(biz))
            if method == "alipay.trade.fastpay.refund.query":
                refund = self.refunds.get((biz.get("out_trade_no"), biz.get("out_request_no")))
                if refund is None:  # Alipay answers success with no refund fields for an unknown refund
                    return self._answer(method, {"code": "10000", "msg": "Success", "out_trade_no": biz.get("out_trade_no")})
                return self._answer(method, {"code": "10000", "msg": "Success", "out_trade_no": biz.get("out_trade_no"),
                                             "out_request_no": biz.get("out_request_no"), "refund_amount": refund["refund_amount"],
                                             "refund_status": "REFUND_SUCCESS"})
        return self._answer(method or "unknown", {"code": "40004", "msg": "Business Failed", "sub_code": "isv.invalid-method"})

    def _refund(self, biz: dict) -> dict:
        trade = self.trades.get(biz.get("out_trade_no"))
        if trade is None:
            return {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_NOT_EXIST"}
        key = (trade["out_trade_no"], biz.get("out_request_no") or trade["out_trade_no"])
        if key in self.refunds:
            return self.refunds[key]
        amount = Decimal(biz.get("refund_amount") or "0")
        total, refunded = Decimal(trade["total_amount"]), Decimal(trade.get("refunded", "0"))
        if amount <= 0 or amount > total - refunded:
            return {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "sub_msg": "退款金额超限"}
        trade["refunded"] = f"{refunded + amount:.2f}"
        if refunded + amount == total:
            trade["trade_status"] = "TRADE_CLOSED"
        answer = self.refunds[key] = {"code": "10000", "msg": "Success", "trade_no": trade["trade_no"], "out_trade_no": trade["out_trade_no"],
                                      "fund_change": "Y", "refund_fee": trade["refunded"], "gmt_refund_pay": now_text(),
                                      "refund_amount": f"{amount:.2f}"}
        return answer

    # --- what a test does -------------------------------------------------------------------------
    def open_page(self, url: str) -> dict:
        """The payer's browser opens a payment URL the shop made: its signature is checked as
        Alipay's page does; returns the page's parameters with biz_content decoded."""
        params = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
        assert self._app_signed(params), "the payment page URL is not signed by the app key"
        return {**params, "biz_content": json.loads(params["biz_content"])}

    def pay(self, out_trade_no: str, total_amount: str) -> dict:
        with self._lock:
            trade = self.trades[out_trade_no] = {
                "out_trade_no": out_trade_no, "trade_no": f"2026{next(self._ids):024d}", "trade_status": "TRADE_SUCCESS",
                "total_amount": total_amount, "buyer_logon_id": "159****5620", "send_pay_date": now_text(),
            }
            return dict(trade)

    def notification(self, trade: dict, *, notify_id: str | None = None, notify_time: str | None = None, key=None, **changes) -> dict:
        form = {
            "notify_time": notify_time or now_text(), "notify_type": "trade_status_sync", "notify_id": notify_id or secrets.token_hex(16),
            "app_id": APP_ID, "charset": "utf-8", "version": "1.0", "sign_type": "RSA2", "trade_no": trade["trade_no"],
            "out_trade_no": trade["out_trade_no"], "trade_status": trade["trade_status"], "total_amount": trade["total_amount"],
            "receipt_amount": trade["total_amount"], "buyer_pay_amount": trade["total_amount"], "gmt_payment": trade["send_pay_date"],
            **changes,
        }
        form["sign"] = sign(key or self.alipay_key, signing_string(form, without_sign_type=True))
        return form


def post_notification(client, form: dict):
    return client.post(NOTIFY_PATH, data=form)
