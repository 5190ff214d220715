"""Sending text messages (SMS): one function, ``send_sms(phone, text)``, and a backend chosen by
the ``SMS_BACKEND`` setting.

- ``core.sms.OutboxBackend`` (default, and in tests): keeps each message in ``core.SmsMessage``,
  where tests, the demo and a developer read it; nothing leaves the machine.
- ``core.sms.ConsoleBackend``: the outbox, and the message printed to the log.
- ``core.sms.HttpBackend``: a real SMS gateway over HTTPS — POST ``{"phone", "text", "sign"}``
  as JSON to ``SMS_HTTP_URL`` with ``Authorization: Bearer SMS_API_KEY``; any 2xx answer is
  accepted, anything else (or no answer within ``SMS_TIMEOUT`` seconds) raises ``SmsNotSent``.

Callers send after their transaction commits (a Celery task, ``core.tasks.sms_send``): a message
about a change must not go out for a change that was rolled back.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class SmsNotSent(Exception):
    """The gateway refused the message or did not answer."""


class OutboxBackend:
    def send(self, phone: str, text: str) -> None:
        from .models import SmsMessage

        SmsMessage.objects.create(phone=phone, text=text[:500])


class ConsoleBackend(OutboxBackend):
    def send(self, phone: str, text: str) -> None:
        super().send(phone, text)
        logger.warning("SMS to %s: %s", phone, text)


class HttpBackend:
    def send(self, phone: str, text: str) -> None:
        url = settings.SMS_HTTP_URL
        if not url:
            raise SmsNotSent("SMS_HTTP_URL is not set")
        body = json.dumps({"phone": phone, "text": text, "sign": settings.SMS_SIGN}, ensure_ascii=False).encode()
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json; charset=utf-8", "Authorization": f"Bearer {settings.SMS_API_KEY}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=settings.SMS_TIMEOUT) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            raise SmsNotSent(f"gateway answered {exc.code}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise SmsNotSent(f"gateway unreachable: {exc}") from exc
        if not 200 <= status < 300:
            raise SmsNotSent(f"gateway answered {status}")


def backend():
    return import_string(settings.SMS_BACKEND)()


def send_sms(phone: str, text: str) -> None:
    """Send ``text`` to ``phone`` now (raises SmsNotSent). Prefer ``sms_send_on_commit``."""
    backend().send(phone, text)


def sms_send_on_commit(phone: str, text: str) -> None:
    """Queue the message for after the current transaction commits (sent by a Celery task)."""
    from django.db import transaction

    from .tasks import sms_send

    transaction.on_commit(lambda: sms_send.delay(phone, text))
