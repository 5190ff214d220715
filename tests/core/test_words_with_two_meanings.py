"""Words that mean two things keep each its own Chinese. Django merges every app's catalogue, the
first app (or LOCALE_PATHS) winning a shared msgid, so one app's word once stood in another's
place: an employee's money read "积分余额 ¥…" (love points) in the storefront header and on the
allocation page, its history "积分明细"; a product's price "/ 单位" instead of "/ 件"; and the
online-mall sales channel "已联网" (the intake phone's connection). Each now has a context where
its meaning is the narrower one."""

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
    product, allocation = _zh(client, shop.pages[0].url), _zh(client, "/allocation/")
    for html in (product, allocation):
        assert "余额" in html
        assert "积分余额" not in html
    assert "明细" in allocation and "积分明细" not in allocation
    assert "/ 件" in product and "/ 单位" not in product


def test_the_online_sales_channel_is_the_mall_and_the_intake_phone_is_connected():
    from django.utils import translation

    from households.models import SalesChannel

    with translation.override("zh-hans"):
        assert str(SalesChannel.ONLINE.label) == "网上商城"
        assert translation.pgettext("connection", "Online") == "已联网"
        assert translation.pgettext("count", "intakes") == "笔"


def test_a_households_love_points_balance_is_points():
    w = world()
    client = Client()
    client.force_login(w.staff)
    html = _zh(client, f"/love-points/card/{w.households[0].number}/")
    assert "积分余额" in html and "积分明细" in html
