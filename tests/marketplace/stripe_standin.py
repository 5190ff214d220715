"""A stand-in for the parts of Stripe's HTTP API the shop uses, served by a real HTTP server on
loopback, plus helpers to sign webhook events the way Stripe signs them.

Nothing here patches the stripe library: the provider's ``StripeClient`` is pointed at this
server through ``settings.STRIPE_API_BASE`` (its ``base_addresses["api"]``), so requests go
through the library's real encoding, headers, retries and error handling. Tests use it through
the ``stripe_standin`` fixture (tests/marketplace/conftest.py), which starts a server on a random
port and sets STRIPE_SECRET_KEY, STRIPE_API_BASE and STRIPE_WEBHOOK_SECRET.

Endpoints (form-encoded bodies, JSON answers, ``Authorization: Bearer sk_test_…`` required):

- ``POST /v1/checkout/sessions`` — creates a session (validates mode, currency, line items and
  ``expires_at`` 30 min–24 h ahead); ``Idempotency-Key`` honoured: the same key with the same
  parameters answers the same session (header ``Idempotent-Replayed: true``); with different
  parameters a 400 ``idempotency_error``, as Stripe does.
- ``GET /v1/checkout/sessions/<id>``
- ``POST /v1/refunds`` — ``payment_intent`` + ``amount`` (fen); idempotent like above; refuses
  more than is left to refund (``amount_too_large``) and unknown or unpaid intents.
- ``GET /v1/payment_intents/<id>``, ``GET /v1/refunds/<id>``

What a test may do with the ``StripeStandin`` object:

- ``standin.requests`` — every request received: ``Recorded(method, path, params, headers)``
  with ``params`` decoded into nested dicts/lists (values stay strings, as on the wire);
  ``standin.requests_to("POST", "/v1/refunds")`` filters them.
- ``standin.sessions``, ``standin.refunds``, ``standin.payment_intents`` — the objects by id.
- ``standin.pay(session_id)`` — the customer pays: the session becomes ``complete``/``paid``
  with a new PaymentIntent and charge; returns the session dict.
- ``standin.expire(session_id)`` — the session expires; returns the session dict.
- ``standin.fail_next(method, path_prefix, status=402, error={...})`` — the next matching request
  gets that error (e.g. a card decline, a 400 invalid request).
- ``standin.event(type, obj, event_id=None)`` — an event dict shaped like Stripe's
  (``{"id": "evt_…", "object": "event", "type": …, "data": {"object": …}}``);
  ``standin.session_event("checkout.session.completed", session_id)`` and
  ``standin.charge_refunded_event(payment_intent_id)`` build the common ones from the current
  state of the stand-in's objects.
- ``standin.sign(payload, timestamp=None, secret=None)`` — a ``Stripe-Signature`` header made by
  the stripe library's own ``WebhookSignature.generate_signature_header``.
- ``standin.post_event(client, event, secret=None, timestamp=None, signature=None)`` — POSTs the
  event to ``/stripe/webhook/`` with a Django test client, signed (or with ``signature=""`` for
  an unsigned one, or any header string for a forged one). ``post_event(...)`` at module level
  does the same without a stand-in (give ``secret``).
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import stripe

from tests.marketplace.loopback import loopback_serve, loopback_stop

WEBHOOK_PATH = "/stripe/webhook/"


@dataclass
class Recorded:
    method: str
    path: str
    params: dict
    headers: dict = field(default_factory=dict)

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("idempotency-key")


class StandinError(Exception):
    def __init__(self, status: int, type_: str, message: str, code: str | None = None, param: str | None = None):
        super().__init__(message)
        self.status = status
        self.body = {"error": {"type": type_, "message": message, **({"code": code} if code else {}), **({"param": param} if param else {})}}


def decode_form(pairs: list[tuple[str, str]]) -> dict:
    """``a[b][0][c]=1`` (Stripe's form encoding) -> ``{"a": {"b": [{"c": "1"}]}}``."""
    root: dict = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value

    def listify(node):
        if isinstance(node, dict):
            node = {k: listify(v) for k, v in node.items()}
            if node and all(k.isdigit() for k in node):
                return [node[k] for k in sorted(node, key=int)]
        return node

    return listify(root)


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    """A ``Stripe-Signature`` header for ``payload``, computed by the stripe library itself."""
    return stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp)


def post_event(client, event: dict, *, secret: str, timestamp: int | None = None, signature: str | None = None, path: str = WEBHOOK_PATH):
    """POST ``event`` to the webhook as Stripe would: JSON body, ``Stripe-Signature`` header.

    ``signature=None`` signs with ``secret`` (at ``timestamp``, default now); ``signature=""``
    sends no header; any other string is sent as the header (a forgery)."""
    payload = json.dumps(event)
    headers = {}
    if signature is None:
        headers["HTTP_STRIPE_SIGNATURE"] = sign(payload, secret, timestamp)
    elif signature:
        headers["HTTP_STRIPE_SIGNATURE"] = signature
    return client.post(path, data=payload, content_type="application/json", **headers)


class StripeStandin:
    def __init__(self, *, api_key: str | None = None, webhook_secret: str | None = None):
        self.api_key = api_key or f"sk_test_standin_{secrets.token_hex(8)}"
        self.webhook_secret = webhook_secret or f"whsec_standin_{secrets.token_hex(16)}"
        self.requests: list[Recorded] = []
        self.sessions: dict[str, dict] = {}
        self.payment_intents: dict[str, dict] = {}
        self.charges: dict[str, dict] = {}
        self.refunds: dict[str, dict] = {}
        self._idempotent: dict[tuple[str, str], tuple[str, dict, int, dict]] = {}
        self._failures: list[tuple[str, str, int, dict]] = []
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None

    # --- life cycle ---------------------------------------------------------------------------
    def start(self) -> StripeStandin:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output quiet
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                status, payload, extra = standin._dispatch(self.command, self.path, dict(self.headers.items()), body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-Id", f"req_standin_{next(standin._ids)}")
                for k, v in extra.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _handle

        self._server = loopback_serve(Handler, "stripe-standin")
        return self

    def stop(self) -> None:
        loopback_stop(self._server)
        self._server = None

    @property
    def url(self) -> str:
        assert self._server, "stand-in not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # --- what tests look at --------------------------------------------------------------------
    def requests_to(self, method: str, path: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.method == method and r.path == path]

    def fail_next(self, method: str, path_prefix: str, status: int = 402, error: dict | None = None) -> None:
        error = error or {"type": "card_error", "code": "card_declined", "message": "Your card was declined."}
        with self._lock:
            self._failures.append((method, path_prefix, status, {"error": error}))

    # --- what a customer does -----------------------------------------------------------------
    def pay(self, session_id: str) -> dict:
        with self._lock:
            session = self.sessions[session_id]
            if session["payment_intent"] is None:
                pi_id, ch_id = self._new_id("pi"), self._new_id("ch")
                amount = session["amount_total"]
                self.charges[ch_id] = {
                    "id": ch_id, "object": "charge", "amount": amount, "amount_refunded": 0, "refunded": False,
                    "currency": session["currency"], "payment_intent": pi_id, "paid": True, "status": "succeeded",
                    "metadata": dict(session.get("payment_intent_data", {}).get("metadata", {})),
                }
                self.payment_intents[pi_id] = {
                    "id": pi_id, "object": "payment_intent", "amount": amount, "amount_received": amount,
                    "currency": session["currency"], "status": "succeeded", "latest_charge": ch_id,
                    "metadata": dict(session.get("payment_intent_data", {}).get("metadata", {})),
                }
                session.update(payment_intent=pi_id, payment_status="paid", status="complete")
            return json.loads(json.dumps(session))

    def expire(self, session_id: str) -> dict:
        with self._lock:
            session = self.sessions[session_id]
            if session["status"] == "open":
                session["status"] = "expired"
                session["url"] = None
            return json.loads(json.dumps(session))

    # --- events ---------------------------------------------------------------------------------
    def event(self, type_: str, obj: dict, event_id: str | None = None) -> dict:
        return {
            "id": event_id or self._new_id("evt"),
            "object": "event",
            "api_version": stripe.api_version,
            "created": int(time.time()),
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": type_,
            "data": {"object": json.loads(json.dumps(obj))},
        }

    def session_event(self, type_: str, session_id: str, event_id: str | None = None) -> dict:
        with self._lock:
            return self.event(type_, self.sessions[session_id], event_id)

    def charge_refunded_event(self, payment_intent_id: str, event_id: str | None = None) -> dict:
        with self._lock:
            charge = self.charges[self.payment_intents[payment_intent_id]["latest_charge"]]
            return self.event("charge.refunded", charge, event_id)

    def sign(self, payload: str, timestamp: int | None = None, secret: str | None = None) -> str:
        return sign(payload, secret or self.webhook_secret, timestamp)

    def post_event(self, client, event: dict, *, secret: str | None = None, timestamp: int | None = None,
                   signature: str | None = None, path: str = WEBHOOK_PATH):
        return post_event(client, event, secret=secret or self.webhook_secret, timestamp=timestamp, signature=signature, path=path)

    # --- the HTTP side --------------------------------------------------------------------------
    def _new_id(self, prefix: str) -> str:
        return f"{prefix}_test_{next(self._ids):06d}{secrets.token_hex(6)}"

    def _dispatch(self, method: str, raw_path: str, headers: dict, body: str) -> tuple[int, dict, dict]:
        split = urlsplit(raw_path)
        path = split.path
        pairs = parse_qsl(body if method == "POST" else split.query, keep_blank_values=True)
        params = decode_form(pairs)
        lower = {k.lower(): v for k, v in headers.items()}
        with self._lock:
            self.requests.append(Recorded(method, path, params, lower))
            auth = lower.get("authorization", "")
            if not auth.startswith("Bearer ") or auth[7:] != self.api_key:
                return 401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided."}}, {}
            for i, (m, prefix, status, error) in enumerate(self._failures):
                if m == method and path.startswith(prefix):
                    del self._failures[i]
                    return status, error, {}
            key = lower.get("idempotency-key")
            if method == "POST" and key:
                seen = self._idempotent.get((self.api_key, key))
                if seen:
                    seen_path, seen_params, status, response = seen
                    if (seen_path, seen_params) != (path, params):
                        return 400, {"error": {"type": "idempotency_error", "message": (
                            "Keys for idempotent requests can only be used with the same parameters they were first used with.")}}, {}
                    return status, response, {"Idempotent-Replayed": "true"}
            try:
                status, response = self._route(method, path, params)
            except StandinError as exc:
                status, response = exc.status, exc.body
            if method == "POST" and key and status < 500:
                self._idempotent[(self.api_key, key)] = (path, params, status, response)
            return status, response, {}

    def _route(self, method: str, path: str, params: dict) -> tuple[int, dict]:
        if method == "POST" and path == "/v1/checkout/sessions":
            return 200, self._create_session(params)
        if method == "POST" and path == "/v1/refunds":
            return 200, self._create_refund(params)
        for prefix, store, name in (
            ("/v1/checkout/sessions/", self.sessions, "checkout session"),
            ("/v1/payment_intents/", self.payment_intents, "payment intent"),
            ("/v1/refunds/", self.refunds, "refund"),
        ):
            if method == "GET" and path.startswith(prefix):
                obj = store.get(path[len(prefix):])
                if obj is None:
                    raise StandinError(404, "invalid_request_error", f"No such {name}", code="resource_missing")
                return 200, obj
        raise StandinError(404, "invalid_request_error", f"Unrecognized request URL ({method}: {path}).")

    def _create_session(self, p: dict) -> dict:
        if p.get("mode") != "payment":
            raise StandinError(400, "invalid_request_error", "mode must be payment here", param="mode")
        items = p.get("line_items") or []
        if not items:
            raise StandinError(400, "invalid_request_error", "line_items required", param="line_items")
        currency = None
        total = 0
        for item in items:
            pd = item.get("price_data") or {}
            currency = currency or pd.get("currency")
            if pd.get("currency") != currency:
                raise StandinError(400, "invalid_request_error", "line items must share a currency", param="line_items")
            unit, qty = int(pd.get("unit_amount", "0")), int(item.get("quantity", "0"))
            if unit <= 0 or qty <= 0:
                raise StandinError(400, "invalid_request_error", "unit_amount and quantity must be positive", param="line_items")
            total += unit * qty
        now = int(time.time())
        expires_at = int(p.get("expires_at") or now + 86400)
        if not now + 1800 <= expires_at <= now + 86400:
            raise StandinError(400, "invalid_request_error",
                               "The `expires_at` timestamp must be between 30 minutes and 24 hours after creation.", param="expires_at")
        for k in ("success_url",):
            if not p.get(k):
                raise StandinError(400, "invalid_request_error", f"Missing required param: {k}.", param=k)
        sid = self._new_id("cs")
        session = {
            "id": sid, "object": "checkout.session", "mode": "payment", "status": "open", "payment_status": "unpaid",
            "amount_total": total, "amount_subtotal": total, "currency": currency,
            "client_reference_id": p.get("client_reference_id"), "metadata": p.get("metadata") or {},
            "payment_intent": None, "payment_method_types": p.get("payment_method_types") or ["card"],
            "payment_method_options": p.get("payment_method_options") or {},
            "payment_intent_data": p.get("payment_intent_data") or {},
            "success_url": p.get("success_url"), "cancel_url": p.get("cancel_url"),
            "expires_at": expires_at, "created": now, "livemode": False,
            "url": f"https://checkout.stripe.com/c/pay/{sid}",
        }
        self.sessions[sid] = session
        return session

    def _create_refund(self, p: dict) -> dict:
        pi = self.payment_intents.get(p.get("payment_intent", ""))
        if pi is None or pi["status"] != "succeeded":
            raise StandinError(400, "invalid_request_error", "No such payment_intent, or it has not succeeded.", code="resource_missing",
                               param="payment_intent")
        charge = self.charges[pi["latest_charge"]]
        left = charge["amount"] - charge["amount_refunded"]
        amount = int(p.get("amount") or left)
        if left == 0:
            raise StandinError(400, "invalid_request_error", "Charge has already been refunded.", code="charge_already_refunded")
        if amount <= 0 or amount > left:
            raise StandinError(400, "invalid_request_error", "Refund amount is greater than unrefunded amount on charge.",
                               code="amount_too_large", param="amount")
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        rid = self._new_id("re")
        refund = {
            "id": rid, "object": "refund", "amount": amount, "currency": charge["currency"], "charge": charge["id"],
            "payment_intent": pi["id"], "status": "succeeded", "metadata": p.get("metadata") or {}, "created": int(time.time()),
        }
        self.refunds[rid] = refund
        return refund


__all__ = ["Recorded", "StripeStandin", "WEBHOOK_PATH", "decode_form", "post_event", "sign"]
