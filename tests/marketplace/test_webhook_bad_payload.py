"""A correctly signed webhook whose JSON is not an object is refused with a 400, not a 500."""

from __future__ import annotations

import pytest

from marketplace.models import PaymentEvent
from tests.marketplace.stripe_standin import post_event

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("body", [[], [{"id": "evt_1", "type": "checkout.session.completed"}], "evt_1", 42, None, True])
def test_a_signed_webhook_whose_json_is_not_an_object_gets_a_400_and_records_nothing(client, stripe_standin, body):
    response = post_event(client, body, secret=stripe_standin.webhook_secret)
    assert response.status_code == 400
    assert PaymentEvent.objects.count() == 0


def test_a_signed_webhook_body_that_is_not_utf8_or_not_json_gets_a_400(client, stripe_standin):
    from tests.marketplace.stripe_standin import sign

    for body in [b"\xff\xfe{}", b"{not json"]:
        headers = {"HTTP_STRIPE_SIGNATURE": sign(body.decode("utf-8", "replace"), stripe_standin.webhook_secret)}
        response = client.post("/stripe/webhook/", data=body, content_type="application/json", **headers)
        assert response.status_code == 400
    assert PaymentEvent.objects.count() == 0
