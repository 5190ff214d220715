"""schemathesis against /api/schema/: no request of any demo role gets a 5xx.

Runs in-process against the WSGI application on the seeded demo county (one database
transaction, rolled back afterwards), for every operation in the schema and every demo role's
token, with schemathesis' valid (positive) and invalid (negative) generation. The seed is fixed
and the examples per operation and role bounded, so a run is repeatable and short; a 5xx found is
printed as a curl line with the role.

Only ``not_a_server_error`` decides: schema-conformance findings are not part of this test.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token

from config.wsgi import application

from .conftest import DEMO_ROLES

ROLES = DEMO_ROLES
EXAMPLES_PER_OPERATION_AND_ROLE = 8
SEED = 20261203

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_tokens(demo_county):
    users = get_user_model().objects.filter(username__in=ROLES)
    return {user.username: Token.objects.get_or_create(user=user)[0].key for user in users}


@pytest.fixture
def in_process_requests():
    """The WSGI app shares the test's connection and transaction, as Django's test client does:
    the per-request connection clean-up would otherwise close it mid-test."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _operations(schema):
    for result in schema.get_all_operations():
        yield result.ok()


def _fuzz(strategy, *, role: str, token: str, server_errors: list[str]) -> int:
    """Call ``strategy``'s cases as ``role``; record each 5xx; return how many requests were made."""
    headers = {"Authorization": f"Token {token}"}
    made = 0

    @seed(SEED)
    @settings(
        max_examples=EXAMPLES_PER_OPERATION_AND_ROLE, deadline=None, database=None,
        phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def call(case):
        nonlocal made
        response = case.call(headers=headers)
        made += 1
        if response.status_code >= 500:
            server_errors.append(f"{role}: {response.status_code} {case.as_curl_command(headers=headers)}")

    call()
    return made


def test_no_api_request_of_any_demo_role_gets_a_server_error(demo_tokens, in_process_requests):
    assert set(demo_tokens) == set(ROLES)
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    operations = list(_operations(schema))
    assert len(operations) >= 13
    server_errors: list[str] = []
    requests = 0
    for operation in operations:
        strategy = st.one_of(
            operation.as_strategy(generation_mode=schemathesis.GenerationMode.POSITIVE),
            operation.as_strategy(generation_mode=schemathesis.GenerationMode.NEGATIVE),
        )
        for role in ROLES:
            requests += _fuzz(strategy, role=role, token=demo_tokens[role], server_errors=server_errors)
    assert requests >= len(operations) * len(ROLES)
    assert not server_errors, "server errors:\n" + "\n".join(dict.fromkeys(server_errors))

