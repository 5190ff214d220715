"""Love points on a 375×812 phone in Debian's Chromium: the village enters a month's review for
three households, the county approves it, and the village redeems goods for one of them."""

from __future__ import annotations

import os

import pytest

from lovepoints.models import Award, Redemption
from lovepoints.selectors import household_points
from tests.cms.test_browser import CHROMIUM, browser  # noqa: F401  (the shared browser fixture)
from tests.lovepoints.factories import last_month, world

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/?next=/love-points/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw-relief-1")
    page.click("main button[type=submit]")
    page.wait_for_url("**/love-points/")


def test_a_village_enters_three_households_review_and_redeems_goods_for_one_on_a_phone(browser, live_server):  # noqa: F811
    w = world()
    a, b, c = w.households
    context = browser.new_context(viewport={"width": 375, "height": 812}, locale="zh-CN", is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    _sign_in(page, live_server, w.staff.username)
    month = last_month().strftime("%Y-%m")
    page.goto(f"{live_server.url}/love-points/review/{month}/")
    for household, names in ((a, ("勤劳致富", "孝老爱亲")), (b, ("环境卫生",)), (c, ("志愿服务", "环境卫生"))):
        box = page.locator("fieldset", has_text=household.head_name)
        for name in names:
            box.get_by_label(name).check()
    page.get_by_placeholder("备注（可不填）").first.fill("带头种植板栗")
    page.get_by_role("button", name="保存评议").click()
    page.wait_for_selector("text=评议已保存")
    assert sorted(Award.objects.values_list("household__number", "points")) == sorted(
        [(a.number, 10), (a.number, 10), (b.number, 5), (c.number, 10), (c.number, 5)])
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.get_by_role("button", name="提交审核").click()
    page.wait_for_selector("text=已提交扶贫办审核")
    w.approve_submitted()
    page.goto(f"{live_server.url}/love-points/redeem/")
    page.get_by_label("农户：姓名或编号末几位（或扫积分卡）").fill(a.head_name)
    page.get_by_role("button", name="查找").click()
    page.get_by_role("link", name=a.head_name).click()
    assert page.locator("#balance").inner_text() == "20"
    page.get_by_label(w.items[1].name).fill("3")  # 3 towels × 5 points
    page.get_by_role("button", name="确认兑换，扣减积分").click()
    page.wait_for_selector("text=剩余 5 分")
    assert page.locator("#balance").inner_text() == "5"
    assert Redemption.objects.count() == 1 and household_points(a)["balance"] == 5
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    context.close()
