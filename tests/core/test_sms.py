"""Text messages: the outbox by default, a real gateway over HTTP (tested against a loopback stand-in)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from core.models import SmsMessage
from core.sms import SmsNotSent, send_sms
from core.tasks import sms_send

pytestmark = pytest.mark.django_db


class _Gateway(BaseHTTPRequestHandler):
    answer = 200
    received: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append({"auth": self.headers["Authorization"], "body": json.loads(body)})
        self.send_response(type(self).answer)
        self.end_headers()
        self.wfile.write(b'{"id": "m-1"}')

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway(settings):
    handler = type("Gateway", (_Gateway,), {"received": [], "answer": 200})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.SMS_BACKEND = "core.sms.HttpBackend"
    settings.SMS_HTTP_URL = f"http://127.0.0.1:{server.server_port}/send"
    settings.SMS_API_KEY = "test-key"
    settings.SMS_SIGN = "镇安扶贫超市"
    yield handler
    server.shutdown()
    server.server_close()


def test_the_default_backend_keeps_messages_in_the_outbox():
    send_sms("13800138000", "您的订单已备好")
    message = SmsMessage.objects.get()
    assert (message.phone, message.text) == ("13800138000", "您的订单已备好")


def test_the_http_backend_posts_phone_text_and_sign_with_the_key(gateway):
    send_sms("13800138000", "验证码 123456")
    assert gateway.received == [
        {"auth": "Bearer test-key", "body": {"phone": "13800138000", "text": "验证码 123456", "sign": "镇安扶贫超市"}}
    ]
    assert not SmsMessage.objects.exists()  # the gateway keeps the record, not our database


def test_a_gateway_refusal_raises_sms_not_sent(gateway):
    gateway.answer = 503
    with pytest.raises(SmsNotSent):
        send_sms("13800138000", "x")


def test_an_unreachable_gateway_raises_sms_not_sent(settings):
    settings.SMS_BACKEND = "core.sms.HttpBackend"
    settings.SMS_HTTP_URL = "http://127.0.0.1:9/send"  # discard port: nothing listens
    settings.SMS_TIMEOUT = 2
    with pytest.raises(SmsNotSent):
        send_sms("13800138000", "x")


def test_the_task_run_eagerly_does_not_fail_the_caller_when_the_gateway_is_down(gateway):
    gateway.answer = 500
    sms_send.delay("13800138000", "x")  # eager in tests: logged, not raised
    assert len(gateway.received) == 1
