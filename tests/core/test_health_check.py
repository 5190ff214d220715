"""The health check reports the database and each app's own figures without core importing an app."""

import pytest
from django.db import connection

from core.tasks import health_check
from tests.households.factories import HouseholdFactory

pytestmark = pytest.mark.django_db


def test_health_check_reports_the_database_and_the_registry_size_the_households_app_names():
    HouseholdFactory.create_batch(2)
    assert health_check.delay().get() == {"database": connection.vendor, "households": 2}
