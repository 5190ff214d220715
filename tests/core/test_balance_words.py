""""Balance" means two things here: an employee's allocation (余额, money) and a household's love
points (积分余额). Django merges every app's catalogue, the first app's word winning, so the
love-points word once stood on the employee's money: the storefront header and the allocation
page read "积分余额 ¥…". Each now keeps its own word, in Chinese."""

import pytest
from django.test import Client

from tests.cms.factories import catalogue
from tests.lovepoints.factories import world
from tests.marketplace.factories import EmployeeFactory, allocation_year

pytestmark = pytest.mark.django_db


def _zh(client, url):
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    return response.content.decode()


def test_an_employees_allocation_balance_is_money_not_points():
    from marketplace.services.allocation import allocation_grant

    shop = catalogue(1, price="40.00")
    employee = EmployeeFactory(name="王芳")
    allocation_grant(employee=employee, year=allocation_year().year)
    client = Client()
    client.force_login(employee.user)
    for html in (_zh(client, shop.pages[0].url), _zh(client, "/allocation/")):
        assert "余额" in html
        assert "积分余额" not in html


def test_a_households_love_points_balance_is_points():
    w = world()
    client = Client()
    client.force_login(w.staff)
    html = _zh(client, f"/love-points/card/{w.households[0].number}/")
    assert "积分余额" in html
