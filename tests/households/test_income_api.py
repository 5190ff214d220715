"""GET /api/v1/households/<number>/income/: totals by kind and by month, county office only."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from core import roles
from households.services import income_entry_record
from tests.households.factories import HouseholdFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def household():
    h = HouseholdFactory()
    for kind, amount, day in (("intake", "10.00", (2026, 1, 5)), ("intake", "5.00", (2026, 2, 5)),
                              ("sales", "3.33", (2026, 2, 7)), ("dividend", "0.17", (2026, 2, 28))):
        income_entry_record(household=h, kind=kind, amount=Decimal(amount), date=datetime.date(*day),
                            source_type="lot" if kind == "intake" else kind, source_code="X")
    return h


def test_county_office_gets_totals_by_kind_and_by_month(client, household):
    client.force_login(UserFactory(role=roles.COUNTY_OFFICE))
    data = client.get(f"/api/v1/households/{household.number}/income/").json()
    assert data["totals"] == {"intake": "15.00", "sales": "3.33", "dividend": "0.17", "total": "18.50"}
    assert [m["month"] for m in data["by_month"]] == ["2026-01", "2026-02"]
    assert data["by_month"][1]["sales"] == "3.33"


@pytest.mark.parametrize("role", [roles.COLLECTION_POINT_STAFF, roles.SORTING_STATION_STAFF, roles.SUPERMARKET_STAFF, roles.EMPLOYEE])
def test_other_roles_are_refused(client, household, role):
    client.force_login(UserFactory(role=role))
    assert client.get(f"/api/v1/households/{household.number}/income/").status_code == 403


def test_anonymous_is_refused(client, household):
    assert client.get(f"/api/v1/households/{household.number}/income/").status_code in (401, 403)
