import io

import pytest
from django.core.management import call_command
from django.db import transaction

DEMO_ROLES = ["county", "point", "station", "shop", "employee", "cashier", "canteen"]


@pytest.fixture(scope="module")
def _demo_county_for_module(django_db_setup, django_db_blocker):
    """Seeded once per module inside a transaction that is rolled back at its end; each test's
    own transaction (the ``db`` fixture) nests inside it as a savepoint, so tests still see only
    the demo county and never each other's writes."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            call_command("seed_demo", households=20, stdout=io.StringIO())
            yield
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def demo_county(_demo_county_for_module, db):
    """The seeded demo county (small): one login per role, orders, batches, a settlement run."""
