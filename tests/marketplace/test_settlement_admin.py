"""The county office starts a settlement from the Wagtail admin and follows its progress."""

from __future__ import annotations

import pytest

from core import roles
from households.models import IncomeEntry
from marketplace.settlement.models import SettlementRun
from tests.households.factories import UserFactory
from tests.marketplace.settlement_factories import allocation_year, packed_batch, sold_order

pytestmark = pytest.mark.django_db


def test_county_office_starts_a_settlement_and_reads_its_progress(client, django_capture_on_commit_callbacks):
    allocation_year()
    sold_order([(packed_batch(), 2)])
    client.force_login(UserFactory(role=roles.COUNTY_OFFICE))
    assert client.get("/admin/settlement/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/admin/settlement/").status_code == 302
    run = SettlementRun.objects.get()
    progress = client.get(f"/admin/settlement/runs/{run.pk}/progress/").json()
    assert progress["status"] == "completed" and progress["percent"] == 100
    assert IncomeEntry.objects.filter(kind="sales").exists()


@pytest.mark.parametrize("role", [roles.SUPERMARKET_STAFF, roles.SORTING_STATION_STAFF])
def test_other_roles_cannot_start_a_settlement(client, role):
    client.force_login(UserFactory(role=role))
    assert client.post("/admin/settlement/").status_code in (302, 403)
    assert not SettlementRun.objects.exists()
