"""The personal-data access log (个人信息查阅记录): every showing of an unmasked ID number, phone
or payout account writes one entry (who, when, how, whose, how many, from where); masked
showings write nothing; nobody edits or deletes an entry; the county office reads, filters and
exports it in the admin and through the API."""

from __future__ import annotations

import datetime
from io import BytesIO

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from core import roles
from core.ledger import AppendOnlyError
from core.models import PersonalDataAccess
from core.personal_data import personal_data_access_record
from tests.households.factories import HouseholdFactory, UserFactory, VillageFactory
from tests.logistics.factories import StationFactory, staff_at
from tests.logistics.intake_factories import point_setup
from tests.marketplace.factories import EmployeeFactory
from tests.marketplace.settlement_factories import allocation_year, packed_batch, sold_order

pytestmark = pytest.mark.django_db

HOUSEHOLD = "wagtailsnippets_households_household"
LOG = "personal_data_access"


@pytest.fixture
def county():
    return UserFactory(username="county-li", role=roles.COUNTY_OFFICE)


@pytest.fixture
def point():
    return UserFactory(username="point-wang", role=roles.COLLECTION_POINT_STAFF)


def entries():
    return list(PersonalDataAccess.objects.order_by("id"))


# --- what writes an entry ----------------------------------------------------------------------


def test_viewing_one_household_unmasked_as_county_adds_exactly_one_entry_naming_it(client, county):
    household = HouseholdFactory(id_number="11010519491231002X", phone="13912345678")
    HouseholdFactory()
    client.force_login(county)
    response = client.get(reverse(f"{HOUSEHOLD}:inspect", args=[household.pk]), REMOTE_ADDR="198.51.100.7")
    assert "11010519491231002X" in response.content.decode()
    [entry] = entries()
    assert (entry.user_id, entry.username, entry.action, entry.households, entry.rows, entry.ip) == (
        county.pk, "county-li", "view", [household.number], 1, "198.51.100.7",
    )
    assert abs(timezone.now() - entry.at) < datetime.timedelta(minutes=1)


def test_the_edit_form_holds_the_data_in_full_so_opening_it_is_logged(client, county):
    household = HouseholdFactory()
    client.force_login(county)
    assert client.get(reverse(f"{HOUSEHOLD}:edit", args=[household.pk])).status_code == 200
    assert [(e.action, e.households) for e in entries()] == [("view", [household.number])]


def test_a_listing_page_names_the_households_it_showed_and_its_filter(client, county):
    village = VillageFactory()
    shown = HouseholdFactory.create_batch(3, village=village)
    HouseholdFactory()  # another village: not on the filtered page
    client.force_login(county)
    assert client.get(reverse(f"{HOUSEHOLD}:list"), {"village": village.pk}).status_code == 200
    [entry] = entries()
    assert entry.action == "view" and sorted(entry.households) == sorted(h.number for h in shown)
    assert entry.rows == 3 and entry.filters == {"village": str(village.pk)}


def test_an_export_as_county_adds_one_entry_with_its_filter_and_row_count(client, county):
    village = VillageFactory()
    exported = HouseholdFactory.create_batch(4, village=village)
    HouseholdFactory()
    client.force_login(county)
    response = client.get(reverse("households_export"), {"village": village.pk})
    assert response.status_code == 200
    [entry] = entries()
    assert (entry.action, entry.rows, entry.filters) == ("export", 4, {"village": str(village.pk)})
    assert entry.households == sorted(h.number for h in exported)


def test_masked_views_write_nothing(client, point):
    household = HouseholdFactory()
    client.force_login(point)
    html = client.get(reverse(f"{HOUSEHOLD}:inspect", args=[household.pk])).content.decode()
    assert household.id_number not in html
    client.get(reverse(f"{HOUSEHOLD}:list"))
    client.get(reverse("households_export"))
    assert entries() == []


def test_a_county_answer_of_the_household_api_is_logged_and_a_point_answer_is_not(county):
    from rest_framework.test import APIClient

    setup = point_setup(households=2)
    api = APIClient()
    api.force_authenticate(setup.staff)
    assert api.get("/api/v1/households/").status_code == 200
    assert entries() == []
    api.force_authenticate(county)
    answer = api.get("/api/v1/households/", {"search": setup.household.number}).json()
    [entry] = entries()
    assert entry.action == "api" and entry.households == [h["number"] for h in answer["results"]]
    assert entry.filters == {"search": setup.household.number}


@pytest.fixture
def settled():
    from marketplace.settlement.services import settlement_run

    allocation_year(rate="0.1000")
    a = HouseholdFactory(payout_account="6217000011112222333")
    b = HouseholdFactory(payout_account="6217000099998888777")
    sold_order([(packed_batch({a: "1", b: "1"}), 10)], unit_price="20.00")
    return {"run": settlement_run(), "a": a, "b": b}


def test_payout_list_page_excel_and_pdf_each_log_one_entry_with_their_households(client, county, settled):
    client.force_login(county)
    url = f"/settlement/runs/{settled['run'].code}/payouts/"
    for fmt in ("", "?format=xlsx", "?format=pdf"):
        assert client.get(url + fmt).status_code == 200
    numbers = sorted([settled["a"].number, settled["b"].number])
    assert [(e.action, sorted(e.households), e.rows) for e in entries()] == [
        ("view", numbers, 2), ("export", numbers, 2), ("pdf", numbers, 2),
    ]


def test_a_station_sees_payout_accounts_masked_and_writes_nothing(client, settled):
    user = staff_at(StationFactory(township=settled["a"].village.township), roles.SORTING_STATION_STAFF)
    client.force_login(user)
    assert client.get(f"/settlement/runs/{settled['run'].code}/payouts/").status_code == 200
    assert entries() == []


def test_opening_an_employee_with_a_phone_in_the_admin_is_logged_by_employer_and_staff_number(client, county):
    employee = EmployeeFactory(phone="13912345678")
    client.force_login(county)
    response = client.get(reverse("wagtailsnippets_marketplace_employee:edit", args=[employee.pk]))
    assert "13912345678" in response.content.decode()
    [entry] = entries()
    assert (entry.action, entry.employees, entry.households) == ("view", [f"{employee.employer.code}/{employee.staff_number}"], [])


@override_settings(RELIEF_TRUSTED_PROXIES=1)
def test_behind_the_proxy_the_client_address_is_the_one_the_proxy_appended(client, county):
    household = HouseholdFactory()
    client.force_login(county)
    client.get(
        reverse(f"{HOUSEHOLD}:inspect", args=[household.pk]), REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9"
    )
    assert entries()[0].ip == "203.0.113.9"


# --- append-only ---------------------------------------------------------------------------------


def _entry(county, **kw):
    from django.test import RequestFactory

    request = RequestFactory().get("/x/")
    request.user = county
    return personal_data_access_record(request=request, action="view", households=kw.get("households", ["H1"]))


def test_an_entry_can_be_neither_edited_nor_deleted(county):
    entry = _entry(county)
    entry.rows = 99
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        PersonalDataAccess.objects.filter(pk=entry.pk).update(rows=0)
    with pytest.raises(AppendOnlyError):
        PersonalDataAccess.objects.filter(pk=entry.pk).delete()
    assert PersonalDataAccess.objects.get(pk=entry.pk).rows == 1


def test_the_database_refuses_an_update_that_goes_around_the_model(county):
    entry = _entry(county)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_personaldataaccess SET households = '[]' WHERE id = %s", [entry.pk])
    assert PersonalDataAccess.objects.get(pk=entry.pk).households == ["H1"]


def test_on_postgresql_the_database_refuses_a_delete_too(on_postgres, county):
    entry = _entry(county)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_personaldataaccess WHERE id = %s", [entry.pk])
    assert PersonalDataAccess.objects.filter(pk=entry.pk).exists()


# --- reading the log: admin ----------------------------------------------------------------------


def test_the_admin_log_lists_filters_and_inspects_for_the_county_office(client, county):
    other = UserFactory(username="county-zhao", role=roles.COUNTY_OFFICE)
    first = _entry(county, households=["610001", "610002"])
    _entry(other, households=["610003"])
    client.force_login(county)
    html = client.get(reverse(f"{LOG}:index")).content.decode()
    assert "county-zhao" in html and "610001" in html
    html = client.get(reverse(f"{LOG}:index"), {"household": "610001"}).content.decode()
    assert "610001" in html and "610003" not in html
    html = client.get(reverse(f"{LOG}:index"), {"user": other.pk}).content.decode()
    assert "610003" in html and "610001" not in html
    assert client.get(reverse(f"{LOG}:inspect", args=[first.pk])).status_code == 200


def test_the_admin_log_exports_to_excel(client, county):
    _entry(county, households=["610001", "610002"])
    client.force_login(county)
    response = client.get(reverse(f"{LOG}:index"), {"export": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(b"".join(response.streaming_content) if response.streaming else response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2 and "county-li" in rows[1] and "610001 610002" in rows[1]


def test_nobody_adds_edits_or_deletes_an_entry_in_the_admin(client, county):
    entry = _entry(county)
    client.force_login(county)
    for url in (reverse(f"{LOG}:add"), reverse(f"{LOG}:edit", args=[entry.pk]), reverse(f"{LOG}:delete", args=[entry.pk])):
        assert client.get(url).status_code in (302, 403)
        assert client.post(url, {}).status_code in (302, 403)
    assert PersonalDataAccess.objects.filter(pk=entry.pk).count() == 1
    assert reverse(f"{LOG}:add") not in client.get(reverse(f"{LOG}:index")).content.decode()


@pytest.mark.parametrize("role", [roles.COLLECTION_POINT_STAFF, roles.SORTING_STATION_STAFF, roles.SUPERMARKET_STAFF])
def test_other_roles_cannot_open_the_log_in_the_admin(client, county, role):
    entry = _entry(county)
    client.force_login(UserFactory(role=role))
    for url in (reverse(f"{LOG}:index"), reverse(f"{LOG}:inspect", args=[entry.pk])):
        response = client.get(url)
        assert response.status_code in (302, 403) and "county-li" not in response.content.decode()


# --- reading the log: API ------------------------------------------------------------------------


def test_the_api_lists_the_log_newest_first_for_the_county_office(client, county):
    _entry(county, households=["610001"])
    _entry(county, households=["610002", "610003"])
    client.force_login(county)
    data = client.get("/api/v1/personal-data-access/").json()
    assert data["count"] == 2
    newest, older = data["results"]
    assert {"at", "user", "action", "households", "rows"} <= set(newest)
    assert (newest["user"], newest["action"], newest["households"], newest["rows"]) == ("county-li", "view", ["610002", "610003"], 2)
    assert older["households"] == ["610001"]
    assert client.get("/api/v1/personal-data-access/", {"household": "610003"}).json()["count"] == 1
    today = timezone.localdate().isoformat()
    assert client.get("/api/v1/personal-data-access/", {"date_from": today, "date_to": today}).json()["count"] == 2
    assert client.get("/api/v1/personal-data-access/", {"date_to": "2000-01-01"}).json()["count"] == 0
    assert client.get("/api/v1/personal-data-access/", {"date_from": "not-a-date"}).status_code == 400


@pytest.mark.parametrize("role", [roles.COLLECTION_POINT_STAFF, roles.SORTING_STATION_STAFF, roles.SUPERMARKET_STAFF, roles.EMPLOYEE])
def test_the_api_refuses_everyone_but_the_county_office(client, county, role):
    _entry(county)
    client.force_login(UserFactory(role=role))
    assert client.get("/api/v1/personal-data-access/").status_code == 403


def test_the_api_refuses_an_anonymous_caller(client):
    assert client.get("/api/v1/personal-data-access/").status_code in (401, 403)


def test_the_api_schema_documents_the_log():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/api/v1/personal-data-access/"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"user", "action", "date_from", "date_to", "household", "limit"}
    assert {"at", "user", "action", "households", "rows"} <= set(schema["components"]["schemas"]["PersonalDataAccess"]["properties"])


def test_a_search_by_full_id_number_or_phone_is_logged_masked_so_the_log_holds_no_personal_data(client, county):
    household = HouseholdFactory(id_number="11010519491231002X", phone="13912345678")
    client.force_login(county)
    client.get(reverse("households_export"), {"q": "11010519491231002X"})
    client.get(reverse("households_export"), {"q": household.number})
    from django.test import RequestFactory

    request = RequestFactory().get("/x/", {"search": "13912345678 李"})
    request.user = county
    personal_data_access_record(request=request, action="api", households=[household.number], filters=request.GET)
    assert [e.filters.get("q") or e.filters.get("search") for e in entries()] == [
        "110105********002X", household.number, "139****5678 李",
    ]
