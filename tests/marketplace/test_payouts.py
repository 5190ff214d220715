"""Payout lists per township: who is owed what, masked accounts for non-county roles, Excel and
PDF, marking a payout paid (cash or bank transfer, who and when), unpaid always visible."""

from __future__ import annotations

from io import BytesIO

import pytest
from openpyxl import load_workbook

from core import roles
from core.errors import NotAllowed
from logistics.models import StaffAssignment
from marketplace.settlement.models import Payout
from marketplace.settlement.services import PayoutAlreadyPaid, SettlementError, payout_mark_paid, settlement_run
from tests.households.factories import HouseholdFactory, TownshipFactory, UserFactory, VillageFactory
from tests.logistics.factories import StationFactory
from tests.marketplace.settlement_factories import allocation_year, packed_batch, sold_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def settled():
    allocation_year(rate="0.1000")
    t1, t2 = TownshipFactory(name="米粮镇"), TownshipFactory(name="柴坪镇")
    a = HouseholdFactory(village=VillageFactory(township=t1), head_name="张秀英", payout_account="6217000011112222333")
    b = HouseholdFactory(village=VillageFactory(township=t2), head_name="刘永兴", payout_account="6217000099998888777")
    batch = packed_batch({a: "1", b: "1"})
    sold_order([(batch, 10)], unit_price="20.00")
    run = settlement_run()
    return {"run": run, "a": a, "b": b, "t1": t1, "t2": t2}


def county_user():
    return UserFactory(role=roles.COUNTY_OFFICE)


def test_a_run_owes_each_household_its_dividend(settled):
    payouts = {p.household_id: p.amount for p in Payout.objects.filter(run=settled["run"])}
    assert payouts == {settled["a"].pk: 10, settled["b"].pk: 10}


def test_marking_paid_records_method_who_and_when_and_only_once(settled):
    user = county_user()
    payout = Payout.objects.get(household=settled["a"])
    paid = payout_mark_paid(payout=payout, method=Payout.Method.BANK_TRANSFER, user=user, reference="TX-1")
    assert (paid.status, paid.method, paid.paid_by, paid.paid_at is not None) == ("paid", "bank", user, True)
    with pytest.raises(PayoutAlreadyPaid):
        payout_mark_paid(payout=payout, method=Payout.Method.CASH, user=user)


def test_only_the_county_office_marks_payouts_paid_and_a_method_is_required(settled):
    payout = Payout.objects.get(household=settled["a"])
    with pytest.raises(NotAllowed):
        payout_mark_paid(payout=payout, method="cash", user=UserFactory(role=roles.SUPERMARKET_STAFF))
    with pytest.raises(SettlementError):
        payout_mark_paid(payout=payout, method="cheque", user=county_user())


def test_county_office_sees_full_accounts_and_what_is_unpaid(client, settled):
    client.force_login(county_user())
    payout_mark_paid(payout=Payout.objects.get(household=settled["a"]), method="cash", user=county_user())
    html = client.get(f"/settlement/runs/{settled['run'].code}/payouts/").content.decode()
    assert "6217000011112222333" in html
    assert "柴坪镇" in html  # the unpaid one, by township
    response = client.get(f"/settlement/runs/{settled['run'].code}/payouts/?status=unpaid")
    assert "刘永兴" in response.content.decode() and "张秀英" not in response.content.decode()


def test_a_station_sees_only_its_township_with_accounts_masked(client, settled):
    user = UserFactory(role=roles.SORTING_STATION_STAFF)
    StaffAssignment.objects.create(user=user, facility=StationFactory(township=settled["t1"]))
    client.force_login(user)
    html = client.get(f"/settlement/runs/{settled['run'].code}/payouts/").content.decode()
    assert "张秀英" in html and "刘永兴" not in html
    assert "6217000011112222333" not in html and "***************2333" in html
    assert client.post(f"/settlement/payouts/{Payout.objects.get(household=settled['a']).pk}/paid/", {"method": "cash"}).status_code == 403


@pytest.mark.parametrize("role", [roles.COLLECTION_POINT_STAFF, roles.SUPERMARKET_STAFF, roles.EMPLOYEE])
def test_other_roles_see_no_payout_list(client, settled, role):
    client.force_login(UserFactory(role=role))
    for fmt in ("", "?format=xlsx", "?format=pdf"):
        assert client.get(f"/settlement/runs/{settled['run'].code}/payouts/{fmt}").status_code == 403


def test_payout_list_exports_excel_and_a_printable_pdf(client, settled):
    client.force_login(county_user())
    url = f"/settlement/runs/{settled['run'].code}/payouts/?township={settled['t1'].pk}"
    wb = load_workbook(BytesIO(client.get(url + "&format=xlsx").content))
    sheet = wb.active
    assert sheet.max_row == 2 and sheet.cell(2, 4).value == "张秀英"
    pdf = client.get(url + "&format=pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_marking_paid_through_the_page(client, settled):
    client.force_login(county_user())
    payout = Payout.objects.get(household=settled["b"])
    response = client.post(f"/settlement/payouts/{payout.pk}/paid/", {"method": "cash"})
    assert response.status_code == 302
    payout.refresh_from_db()
    assert payout.status == "paid" and payout.method == "cash"
