"""The public money-flow page and JSON: aggregates only, never a person's data."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pytest

from households.services import income_entry_record
from marketplace.settlement.money_flow import money_flow_snapshot_refresh
from marketplace.settlement.services import settlement_run
from marketplace.settlement.tasks import BEAT_SCHEDULE, money_flow_refresh_task
from tests.households.factories import HouseholdFactory, TownshipFactory, VillageFactory
from tests.marketplace.settlement_factories import allocation_year, packed_batch, sold_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def flow():
    allocation_year(rate="0.1000")
    township = TownshipFactory(name="云盖寺镇")
    a = HouseholdFactory(village=VillageFactory(township=township), head_name="周福贵", number="H61102599")
    b = HouseholdFactory(village=VillageFactory(township=township), head_name="吴春生")
    income_entry_record(household=a, kind="intake", amount=Decimal("120.00"), date=datetime.date(2026, 9, 3),
                        source_type="lot", source_code="L-1")
    sold_order([(packed_batch({a: "1", b: "3"}), 4)], unit_price="25.00")
    settlement_run()
    money_flow_refresh_task.delay()
    return {"a": a, "b": b}


def test_the_json_answers_where_the_money_came_from_and_went(client, flow):
    data = client.get("/api/v1/public/money-flow/").json()
    assert data["sales"]["net"] == "100.00"
    assert data["households"]["reached"] == 2
    assert data["households"]["sales_attributed"] == "100.00"
    assert data["households"]["dividends"] == "10.00"
    assert data["households"]["paid_to_households"] == "130.00"
    assert data["by_township"][0]["township"] == "云盖寺镇"


def test_the_page_is_public_and_mobile_first(client, flow):
    response = client.get("/money-flow/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="viewport"' in html and "<svg" in html and "云盖寺镇" in html


def test_neither_page_nor_json_shows_a_persons_data(client, flow):
    page = client.get("/money-flow/").content.decode()
    data = json.dumps(client.get("/api/v1/public/money-flow/").json(), ensure_ascii=False)
    for h in (flow["a"], flow["b"]):
        for secret in (h.head_name, h.id_number, h.number, h.phone, h.payout_account):
            assert secret not in page
            assert secret not in data


def test_the_figures_come_from_a_snapshot_a_task_refreshes(client, flow):
    before = client.get("/api/v1/public/money-flow/").json()["households"]["intake"]
    income_entry_record(household=flow["a"], kind="intake", amount=Decimal("1.00"), date=datetime.date(2026, 9, 4),
                        source_type="lot", source_code="L-2")
    assert client.get("/api/v1/public/money-flow/").json()["households"]["intake"] == before
    money_flow_snapshot_refresh()
    assert client.get("/api/v1/public/money-flow/").json()["households"]["intake"] == "121.00"
    assert "money-flow-refresh" in BEAT_SCHEDULE
