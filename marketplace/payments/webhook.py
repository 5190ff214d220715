"""``POST /stripe/webhook/``: Stripe's events, verified, stored once, applied by a task.

The signature is checked with ``stripe.WebhookSignature.verify_header`` against
``settings.STRIPE_WEBHOOK_SECRET`` with the library's default tolerance (300 s), so a forged,
unsigned or stale event (or any event while no secret is configured) gets 400 and changes
nothing. A valid event is stored in PaymentEvent (unique per provider and event id) and handed to
a Celery task after commit; a repeated delivery answers 200 and adds nothing.
"""

from __future__ import annotations

import json
import logging

import stripe
from django.conf import settings
from django.http import HttpResponseBadRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .services import STRIPE, payment_event_record

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 512 * 1024  # Stripe's events are far smaller


@csrf_exempt
@require_POST
def stripe_webhook(request):
    if len(request.body) > MAX_BODY_BYTES:
        return HttpResponseBadRequest("payload too large")
    payload = request.body
    try:
        # the signature first, then the JSON ourselves: construct_event assumes an object and
        # fails with AttributeError on a signed list, string or number
        stripe.WebhookSignature.verify_header(payload, request.headers.get("Stripe-Signature"), settings.STRIPE_WEBHOOK_SECRET,
                                              stripe.Webhook.DEFAULT_TOLERANCE)
    except stripe.SignatureVerificationError as exc:
        logger.warning("stripe webhook refused: %s", str(exc).split(".")[0][:120])
        return HttpResponseBadRequest("invalid signature")
    except ValueError:  # a body that is not UTF-8
        return HttpResponseBadRequest("invalid payload")
    try:
        data = json.loads(payload)
    except ValueError:  # not UTF-8 or not JSON
        return HttpResponseBadRequest("invalid payload")
    if not isinstance(data, dict):  # signed, valid JSON, but a list, string or number: not an event
        return HttpResponseBadRequest("invalid payload")
    if not isinstance(data.get("id"), str) or not isinstance(data.get("type"), str) or not data["id"]:
        return HttpResponseBadRequest("invalid payload")
    recorded = payment_event_record(provider=STRIPE, event_id=data["id"], event_type=data["type"], payload=data)
    if not recorded.created:
        return JsonResponse({"received": True, "duplicate": True})
    return JsonResponse({"received": True})


urlpatterns = [path("stripe/webhook/", stripe_webhook, name="stripe_webhook")]

__all__ = ["stripe_webhook", "urlpatterns"]
