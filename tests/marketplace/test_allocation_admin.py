from decimal import Decimal

import pytest

from core import roles
from marketplace.models import AllocationEntry
from marketplace.services.allocation import allocation_spend
from tests.households.factories import UserFactory
from tests.marketplace.factories import EmployeeFactory, EmployerFactory, allocation_year

pytestmark = pytest.mark.django_db


@pytest.fixture
def county_client(client):
    client.force_login(UserFactory(role=roles.COUNTY_OFFICE))
    return client


def test_the_county_office_grants_a_year_from_the_admin_and_a_second_click_grants_nothing(county_client):
    setting = allocation_year()
    EmployeeFactory.create_batch(3)

    response = county_client.post("/admin/shop/allocations/grant/", {"year": setting.year}, follow=True)
    assert response.status_code == 200
    assert "3" in response.content.decode() and AllocationEntry.objects.filter(kind="grant").count() == 3

    county_client.post("/admin/shop/allocations/grant/", {"year": setting.year})
    assert AllocationEntry.objects.filter(kind="grant").count() == 3


def test_the_progress_report_shows_each_employer_and_drills_down_to_its_staff(county_client):
    setting = allocation_year()
    school = EmployerFactory(name="镇安中学")
    a = EmployeeFactory(employer=school, name="王伟")
    EmployeeFactory(employer=EmployerFactory(name="镇安县医院"))
    county_client.post("/admin/shop/allocations/grant/", {"year": setting.year})
    allocation_spend(employee=a, year=setting.year, amount=Decimal("210.00"), order_number="X1")

    page = county_client.get("/admin/shop/allocations/", {"year": setting.year}).content.decode()
    assert "镇安中学" in page and "镇安县医院" in page and "¥210.00" in page

    filtered = county_client.get("/admin/shop/allocations/", {"year": setting.year, "name": "医院"}).content.decode()
    assert "镇安县医院" in filtered and "镇安中学" not in filtered

    staff = county_client.get("/admin/shop/allocations/", {"year": setting.year, "employer": school.pk}).content.decode()
    assert "王伟" in staff and "¥490.00" in staff and "30%" in staff


def test_only_the_county_office_sees_the_report_or_grants(client):
    setting = allocation_year()
    EmployeeFactory()
    client.force_login(UserFactory(role=roles.SUPERMARKET_STAFF))
    # Wagtail turns a refusal into a redirect to the dashboard with a "no permission" message
    report = client.get("/admin/shop/allocations/")
    assert report.status_code in (302, 403) and "¥" not in report.content.decode()
    assert client.post("/admin/shop/allocations/grant/", {"year": setting.year}).status_code in (302, 403)
    assert not AllocationEntry.objects.exists()
