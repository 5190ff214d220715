"""A task sent to a real worker process over Redis comes back with what the worker saw (the
household count is the figure households/tasks.py HEALTH_FIGURES names; core imports no app)."""

import pytest

from core.tasks import health_check
from tests.households.factories import HouseholdFactory

pytestmark = pytest.mark.celery_worker


def test_real_worker_runs_a_task_against_the_test_database(celery_worker_process):
    HouseholdFactory.create_batch(3)
    celery_worker_process()
    result = health_check.delay().get(timeout=30)
    assert result == {"database": "postgresql", "households": 3}
