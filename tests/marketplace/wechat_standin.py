"""A stand-in for the parts of WeChat Pay's API v3 the shop uses, served by a real HTTP server on
loopback, signing its answers and notifications the way WeChat Pay does.

Keys are generated here, per stand-in (the ``cryptography`` package): the merchant's key pair (the
shop gets the private key as ``WECHATPAY_PRIVATE_KEY``; the stand-in checks every request's
``Authorization: WECHATPAY2-SHA256-RSA2048 …`` signature with the public one) and the platform's
key pair and self-signed certificate (served encrypted with the API v3 key at
``/v3/certificates``; every answer carries ``Wechatpay-Signature`` etc. made with the platform key).
Nothing patches ``wechatpayv3``: the provider's client is pointed here by ``WECHATPAY_API_BASE``.

Endpoints: ``POST /v3/pay/transactions/h5`` and ``/jsapi`` (the same out_trade_no with the same
amount answers the same prepay; another amount → 400 ``INVALID_REQUEST``), ``GET
/v3/pay/transactions/out-trade-no/<no>``, ``POST /v3/refund/domestic/refunds`` (the same
out_refund_no answers the same refund; more than is left → 403 ``NOT_ENOUGH``…), ``GET
/v3/refund/domestic/refunds/<no>``, ``GET /v3/certificates``.

Test helpers: ``pay(out_trade_no)`` (the payer pays: SUCCESS with a transaction id; returns the
transaction), ``notification(resource, event_type=…)`` → (headers, body) signed and encrypted,
``post_notification(client, headers, body)``; ``requests`` records every request;
``configure(settings)`` sets the WECHATPAY_* settings.
"""

from __future__ import annotations

import base64
import datetime
import itertools
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID

from tests.marketplace.loopback import loopback_serve, loopback_stop

NOTIFY_PATH = "/payments/wechat/notify/"
MCHID = "1900000109"
APPID = "wx8888888888888888"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


_keys: dict[str, rsa.RSAPrivateKey] = {}


def test_key(role: str) -> rsa.RSAPrivateKey:
    """A key generated once per test process for ``role`` (2048-bit generation is slow on a busy machine)."""
    if role not in _keys:
        _keys[role] = new_key()
    return _keys[role]


def private_pem(key) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


def rsa_sign(key, text: str) -> str:
    return base64.b64encode(key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


def self_signed(key, serial: int) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Tenpay.com Root CA stand-in")])
    now = datetime.datetime.now(datetime.UTC)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key()).serial_number(serial)
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=365))
            .sign(key, hashes.SHA256()))


def aes_encrypt(apiv3_key: str, plaintext: str, associated_data: str) -> dict:
    nonce = secrets.token_hex(6)  # 12 characters, as WeChat's
    ciphertext = AESGCM(apiv3_key.encode()).encrypt(nonce.encode(), plaintext.encode(), associated_data.encode())
    return {"algorithm": "AEAD_AES_256_GCM", "nonce": nonce, "associated_data": associated_data,
            "ciphertext": base64.b64encode(ciphertext).decode()}


@dataclass
class Recorded:
    method: str
    path: str
    body: dict
    headers: dict = field(default_factory=dict)


class WeChatStandin:
    def __init__(self):
        self.merchant_key = test_key("merchant")
        self.merchant_serial = secrets.token_hex(20).upper()
        self.platform_key = test_key("platform")
        self.platform_serial = int.from_bytes(secrets.token_bytes(16), "big") >> 1
        self.platform_cert = self_signed(self.platform_key, self.platform_serial)
        self.apiv3_key = secrets.token_hex(16)  # 32 characters
        self.transactions: dict[str, dict] = {}
        self.refunds: dict[str, dict] = {}
        self.requests: list[Recorded] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # --- life cycle -------------------------------------------------------------------------------
    def start(self) -> WeChatStandin:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                status, body = standin.handle(self.command, self.path, raw, {k.lower(): v for k, v in self.headers.items()})
                text = json.dumps(body, ensure_ascii=False) if body is not None else ""
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in standin.sign_headers(text).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _handle

        self._server = loopback_serve(Handler, "wechat-standin")
        return self

    def stop(self) -> None:
        loopback_stop(self._server)
        self._server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def configure(self, settings) -> None:
        settings.WECHATPAY_MCHID = MCHID
        settings.WECHATPAY_APPID = APPID
        settings.WECHATPAY_PRIVATE_KEY = private_pem(self.merchant_key)
        settings.WECHATPAY_CERT_SERIAL_NO = self.merchant_serial
        settings.WECHATPAY_APIV3_KEY = self.apiv3_key
        settings.WECHATPAY_API_BASE = self.url
        settings.WECHATPAY_CERT_DIR = ""

    # --- signing ---------------------------------------------------------------------------------
    def sign_headers(self, body: str, *, timestamp: int | None = None, nonce: str | None = None, key=None) -> dict:
        timestamp = str(int(time.time()) if timestamp is None else timestamp)
        nonce = nonce or secrets.token_hex(16)
        return {
            "Wechatpay-Timestamp": timestamp, "Wechatpay-Nonce": nonce, "Wechatpay-Serial": format(self.platform_serial, "X"),
            "Wechatpay-Signature": rsa_sign(key or self.platform_key, f"{timestamp}\n{nonce}\n{body}\n"),
            "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
        }

    def _authorized(self, method: str, path: str, raw: str, headers: dict) -> bool:
        auth = headers.get("authorization", "")
        if not auth.startswith("WECHATPAY2-SHA256-RSA2048 "):
            return False
        fields = dict(part.split("=", 1) for part in auth.split(" ", 1)[1].split(","))
        fields = {k: v.strip('"') for k, v in fields.items()}
        if fields.get("mchid") != MCHID or fields.get("serial_no") != self.merchant_serial:
            return False
        message = f"{method}\n{path}\n{fields.get('timestamp')}\n{fields.get('nonce_str')}\n{raw}\n"
        try:
            self.merchant_key.public_key().verify(base64.b64decode(fields.get("signature", "")), message.encode(), padding.PKCS1v15(),
                                                  hashes.SHA256())
        except Exception:
            return False
        return True

    # --- the API ---------------------------------------------------------------------------------
    def handle(self, method: str, full_path: str, raw: str, headers: dict):
        path = urlsplit(full_path).path
        body = json.loads(raw) if raw else {}
        with self._lock:
            self.requests.append(Recorded(method, full_path, body, headers))
        if not self._authorized(method, full_path, raw, headers):
            return 401, {"code": "SIGN_ERROR", "message": "签名错误"}
        with self._lock:
            if method == "GET" and path == "/v3/certificates":
                cert = self.platform_cert.public_bytes(serialization.Encoding.PEM).decode()
                now = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8)))
                return 200, {"data": [{
                    "serial_no": format(self.platform_serial, "X"),
                    "effective_time": (now - datetime.timedelta(days=1)).isoformat(timespec="seconds"),
                    "expire_time": (now + datetime.timedelta(days=365)).isoformat(timespec="seconds"),
                    "encrypt_certificate": aes_encrypt(self.apiv3_key, cert, "certificate"),
                }]}
            if method == "POST" and path in ("/v3/pay/transactions/h5", "/v3/pay/transactions/jsapi"):
                return self._order(path.rsplit("/", 1)[1], body)
            if method == "GET" and path.startswith("/v3/pay/transactions/out-trade-no/"):
                tx = self.transactions.get(path.rsplit("/", 1)[1])
                return (200, tx) if tx else (404, {"code": "ORDER_NOT_EXIST", "message": "订单不存在"})
            if method == "POST" and path == "/v3/refund/domestic/refunds":
                return self._refund(body)
            if method == "GET" and path.startswith("/v3/refund/domestic/refunds/"):
                refund = self.refunds.get(path.rsplit("/", 1)[1])
                return (200, refund) if refund else (404, {"code": "RESOURCE_NOT_EXISTS", "message": "退款单不存在"})
        return 404, {"code": "NOT_FOUND", "message": "no such endpoint in the stand-in"}

    def _order(self, kind: str, body: dict):
        no, total = body.get("out_trade_no"), (body.get("amount") or {}).get("total")
        if body.get("mchid") != MCHID or not no or not isinstance(total, int) or total <= 0:
            return 400, {"code": "PARAM_ERROR", "message": "参数错误"}
        if kind == "h5" and not (body.get("scene_info") or {}).get("payer_client_ip"):
            return 400, {"code": "PARAM_ERROR", "message": "缺少scene_info"}
        if kind == "jsapi" and not (body.get("payer") or {}).get("openid"):
            return 400, {"code": "PARAM_ERROR", "message": "缺少openid"}
        tx = self.transactions.get(no)
        if tx is not None and tx["amount"]["total"] != total:
            return 400, {"code": "INVALID_REQUEST", "message": "201 商户订单号重复"}
        if tx is None:
            tx = self.transactions[no] = {
                "appid": body.get("appid"), "mchid": MCHID, "out_trade_no": no, "trade_type": kind.upper(),
                "trade_state": "NOTPAY", "trade_state_desc": "未支付", "attach": body.get("attach", ""),
                "amount": {"total": total, "currency": "CNY"}, "prepay_id": f"wx{next(self._ids):020d}",
                "notify_url": body.get("notify_url"), "refunded": 0,
            }
        if kind == "h5":
            return 200, {"h5_url": f"https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id={tx['prepay_id']}&package=1"}
        return 200, {"prepay_id": tx["prepay_id"]}

    def _refund(self, body: dict):
        number = body.get("out_refund_no")
        existing = self.refunds.get(number)
        if existing is not None:
            return 200, existing
        tx = next((t for t in self.transactions.values()
                   if t.get("transaction_id") and t["transaction_id"] == body.get("transaction_id")
                   or t["out_trade_no"] == body.get("out_trade_no")), None)
        if tx is None or tx["trade_state"] not in ("SUCCESS", "REFUND"):
            return 404, {"code": "RESOURCE_NOT_EXISTS", "message": "订单不存在或未支付"}
        amount = body.get("amount") or {}
        if amount.get("total") != tx["amount"]["total"]:
            return 400, {"code": "PARAM_ERROR", "message": "订单金额不符"}
        if not isinstance(amount.get("refund"), int) or amount["refund"] <= 0 or amount["refund"] > tx["amount"]["total"] - tx["refunded"]:
            return 403, {"code": "NOT_ENOUGH", "message": "退款金额超过可退金额"}
        tx["refunded"] += amount["refund"]
        tx["trade_state"] = "REFUND"
        refund = self.refunds[number] = {
            "refund_id": f"50300{next(self._ids):020d}", "out_refund_no": number, "transaction_id": tx["transaction_id"],
            "out_trade_no": tx["out_trade_no"], "status": "SUCCESS", "channel": "ORIGINAL",
            "create_time": datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8))).isoformat(timespec="seconds"),
            "amount": {"refund": amount["refund"], "total": tx["amount"]["total"], "currency": "CNY"},
        }
        return 200, refund

    # --- what a test does --------------------------------------------------------------------------
    def requests_to(self, method: str, prefix: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path.startswith(prefix)]

    def pay(self, out_trade_no: str) -> dict:
        with self._lock:
            tx = self.transactions[out_trade_no]
            tx.update(trade_state="SUCCESS", trade_state_desc="支付成功", transaction_id=f"42000{next(self._ids):023d}",
                      success_time=datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8))).isoformat(timespec="seconds"),
                      payer={"openid": "o-standin"})
            tx["amount"] = {**tx["amount"], "payer_total": tx["amount"]["total"], "payer_currency": "CNY"}
            return {k: v for k, v in tx.items() if k not in ("prepay_id", "notify_url", "refunded")}

    def notification(self, resource: dict, *, event_type: str = "TRANSACTION.SUCCESS", notification_id: str | None = None,
                     timestamp: int | None = None, nonce: str | None = None, key=None, apiv3_key: str | None = None) -> tuple[dict, str]:
        """(headers, body) of a notification as WeChat Pay sends it: the resource encrypted with the
        API v3 key (AES-256-GCM), the body signed with the platform key."""
        envelope = {
            "id": notification_id or f"EV-{secrets.token_hex(8)}", "create_time": datetime.datetime.now().isoformat(timespec="seconds"),
            "resource_type": "encrypt-resource", "event_type": event_type, "summary": "支付成功",
            "resource": {**aes_encrypt(apiv3_key or self.apiv3_key, json.dumps(resource, ensure_ascii=False), "transaction"),
                         "original_type": "transaction"},
        }
        body = json.dumps(envelope, ensure_ascii=False)
        return self.sign_headers(body, timestamp=timestamp, nonce=nonce, key=key), body


def post_notification(client, headers: dict, body: str):
    """POST a notification to the shop with a Django test client (headers as WeChat sends them)."""
    extra = {"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()}
    return client.post(NOTIFY_PATH, data=body, content_type="application/json", **extra)
