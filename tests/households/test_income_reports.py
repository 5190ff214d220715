"""The county office sees household income by township, village and class, ranked, charted and
exported; every other role gets 403."""

from __future__ import annotations

import datetime
from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import load_workbook

from core import roles
from households.models import LabourClass, SubClass
from households.reports import selectors
from households.services import income_entry_record
from tests.households.factories import HouseholdFactory, TownshipFactory, UserFactory, VillageFactory

pytestmark = pytest.mark.django_db

OTHER_ROLES = [roles.COLLECTION_POINT_STAFF, roles.SORTING_STATION_STAFF, roles.SUPERMARKET_STAFF, roles.EMPLOYEE]


def entry(household, kind, amount, day, produce="chestnut", **kw):
    return income_entry_record(household=household, kind=kind, amount=Decimal(amount), date=day, produce=produce, **kw)


@pytest.fixture
def county():
    t1, t2 = TownshipFactory(name="永乐街道"), TownshipFactory(name="回龙镇")
    v1, v2 = VillageFactory(township=t1, name="东坡村"), VillageFactory(township=t2, name="水峡村")
    a = HouseholdFactory(village=v1, head_name="王建国")
    b = HouseholdFactory(village=v1, labour_class=LabourClass.WEAK, sub_class=SubClass.BOTTOM, flag_elderly_alone=True)
    c = HouseholdFactory(village=v2)
    entry(a, "intake", "100.00", datetime.date(2026, 3, 2), source_type="lot", source_code="L-0001")
    entry(a, "sales", "30.50", datetime.date(2026, 4, 2), source_type="sale", source_code="T0001",
          source_detail={"order": "T0001", "batch": "PB-1", "run": "ST1"})
    entry(b, "intake", "40.00", datetime.date(2026, 3, 9), produce="walnut", source_type="lot", source_code="L-0002")
    entry(b, "dividend", "2.00", datetime.date(2026, 4, 30), produce="walnut", source_type="dividend", source_code="ST1")
    entry(c, "intake", "7.00", datetime.date(2025, 3, 9), source_type="lot", source_code="L-0003")
    return {"townships": (t1, t2), "villages": (v1, v2), "households": (a, b, c)}


def test_totals_per_township_add_the_ledger_by_kind(county):
    t1, t2 = county["townships"]
    rows = {r["key"]: r for r in selectors.income_totals_by("township")}
    assert rows[t1.pk]["intake"] == Decimal("140.00")
    assert rows[t1.pk]["sales"] == Decimal("30.50")
    assert rows[t1.pk]["dividend"] == Decimal("2.00")
    assert rows[t1.pk]["households"] == 2
    assert rows[t2.pk]["total"] == Decimal("7.00")


def test_filters_narrow_by_class_flag_period_and_produce(county):
    a, b, c = county["households"]
    assert [r["household_id"] for r in selectors.households_ranked(filters={"labour_class": "weak"})] == [b.pk]
    assert [r["household_id"] for r in selectors.households_ranked(filters={"flag": "flag_elderly_alone"})] == [b.pk]
    in_2026 = selectors.households_ranked(filters={"date_from": "2026-01-01", "date_to": "2026-12-31"})
    assert c.pk not in [r["household_id"] for r in in_2026]
    walnut = selectors.income_totals(filters={"produce": "walnut"})
    assert walnut["total"] == Decimal("42.00")


def test_households_are_ranked_by_income_highest_first(county):
    a, b, c = county["households"]
    assert [r["household_id"] for r in selectors.households_ranked()] == [a.pk, b.pk, c.pk]


def test_county_office_sees_the_report_with_charts_drawn_on_the_page(client, county):
    client.force_login(UserFactory(role=roles.COUNTY_OFFICE))
    response = client.get("/income/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<svg") == 3
    assert "永乐街道" in html and "王建国" in html


def test_every_report_exports_to_excel(client, county):
    client.force_login(UserFactory(role=roles.COUNTY_OFFICE))
    response = client.get("/income/?format=xlsx&township=" + str(county["townships"][0].pk))
    assert response.status_code == 200
    wb = load_workbook(BytesIO(response.content))
    assert len(wb.sheetnames) == 7  # … and by sales channel
    township_sheet = wb[wb.sheetnames[0]]
    assert township_sheet.cell(2, 1).value == "永乐街道"
    assert township_sheet.max_row == 2  # the filter applies to the export


def test_the_household_page_shows_the_codes_behind_each_amount(client, county):
    a = county["households"][0]
    client.force_login(UserFactory(role=roles.COUNTY_OFFICE))
    response = client.get(f"/income/households/{a.number}/")
    assert response.status_code == 200
    html = response.content.decode()
    for code in ("L-0001", "PB-1", "T0001", "ST1"):
        assert code in html
    assert client.get(f"/income/households/{a.number}/?format=xlsx").status_code == 200


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_other_roles_are_refused_every_income_report(client, county, role):
    client.force_login(UserFactory(role=role))
    a = county["households"][0]
    for url in ("/income/", "/income/?format=xlsx", f"/income/households/{a.number}/", f"/income/households/{a.number}/?format=xlsx"):
        assert client.get(url).status_code == 403, url


def test_anonymous_visitors_are_sent_to_sign_in(client, county):
    assert client.get("/income/").status_code == 302


def test_the_report_speaks_chinese_by_default(client, county):
    client.force_login(UserFactory(role=roles.COUNTY_OFFICE))
    html = client.get("/income/").content.decode()
    assert "农户收入报表" in html and "收入排名" in html


def test_a_new_ledger_entry_shows_at_once_despite_the_cache(county):
    a = county["households"][0]
    before = selectors.income_totals()["total"]
    entry(a, "dividend", "1.11", datetime.date(2026, 5, 1), source_type="dividend", source_code="ST2")
    assert selectors.income_totals()["total"] == before + Decimal("1.11")


def test_a_registry_change_regroups_at_once_despite_the_cache(county):
    from households.services import household_save

    t1, t2 = county["townships"]
    c = county["households"][2]
    assert {r["key"] for r in selectors.income_totals_by("township")} == {t1.pk, t2.pk}
    c.village = county["villages"][0]
    household_save(household=c)
    assert {r["key"] for r in selectors.income_totals_by("township")} == {t1.pk}


def test_the_whole_report_agrees_with_each_table(county):
    t1 = county["townships"][0]
    for filters in ({}, {"township": str(t1.pk)}, {"date_from": "2026-01-01", "produce": "chestnut"}):
        report = selectors.income_report(filters=filters)
        assert report["township"] == selectors.income_totals_by("township", filters=filters)
        assert report["village"] == selectors.income_totals_by("village", filters=filters)
        assert report["labour_class"] == selectors.income_totals_by("labour_class", filters=filters)
        assert report["ranked"] == selectors.households_ranked(filters=filters)
        assert report["totals"] == selectors.income_totals(filters=filters)


def test_the_produce_filter_takes_chinese_names_and_tables_show_names(client, county):
    from tests.logistics.factories import ProduceFactory

    ProduceFactory(code="chestnut", name="板栗")
    ProduceFactory(code="walnut", name="核桃")
    assert selectors.income_totals(filters={"produce": "核桃"})["total"] == Decimal("42.00")
    assert selectors.income_totals(filters={"produce": "WALNUT"})["total"] == Decimal("42.00")
    assert selectors.income_totals(filters={"produce": "板栗"})["total"] == Decimal("137.50")
    assert selectors.income_totals(filters={"produce": "苹果"})["households"] == 0  # unknown: nothing, not everything
    labels = {r["produce_label"] for r in selectors.income_by_produce()}
    assert labels == {"板栗", "核桃"}


def test_every_village_choice_names_its_township(client, county):
    VillageFactory(township=county["townships"][0], name="水峡村")  # the same name in another township
    client.force_login(UserFactory(role=roles.COUNTY_OFFICE))
    html = client.get("/income/").content.decode()
    assert "永乐街道 · 水峡村" in html and "回龙镇 · 水峡村" in html
