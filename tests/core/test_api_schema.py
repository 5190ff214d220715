"""The OpenAPI schema: readable without signing in, every endpoint in it, no generator warnings."""

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

EXPECTED_PATHS = [
    "/api/v1/intakes/",
    "/api/v1/households/",
    "/api/v1/trace/{code}/",
    "/api/v1/products/",
    "/api/v1/cart/",
    "/api/v1/cart/items/",
    "/api/v1/checkout/",
    "/api/v1/orders/",
    "/api/v1/orders/{number}/",
    "/api/v1/orders/{number}/cancel/",
    "/api/v1/me/allocation/",
    "/api/v1/households/{number}/income/",
    "/api/v1/public/money-flow/",
]


@pytest.mark.django_db
def test_schema_is_public_and_lists_every_endpoint():
    response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    missing = [p for p in EXPECTED_PATHS if p not in paths]
    assert not missing, f"not in the schema: {missing}"
    assert all(p.startswith("/api/") for p in paths)


def test_schema_generates_without_warnings_or_errors(tmp_path):
    # --fail-on-warn turns drf-spectacular's warnings and errors into a failure (SystemExit/CommandError).
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    assert (tmp_path / "schema.yml").read_text().startswith("openapi:")
