"""In the browser at 375×812: an employee activates their account with the code from the sheet,
and another resets a forgotten password with the code texted to them (read from the outbox)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.core.cache import cache

from core.models import SmsMessage
from marketplace.accounts.services import activation_codes_issue
from tests.conftest import skip_or_fail
from tests.marketplace.account_factories import last_sms_code, waiting_employee
from tests.marketplace.factories import EmployeeFactory, allocation_year

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = os.environ.get("ACCOUNTS_SCREENSHOTS")  # a folder: save screenshots there
PASSWORD = "walnut-season-2026"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        skip_or_fail(f"no browser at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("the playwright package is not installed")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def phone(browser):
    cache.clear()
    context = browser.new_context(viewport={"width": 375, "height": 812}, locale="zh-CN", is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def _shot(page, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_an_employee_activates_with_the_sheet_code_after_a_typo_and_lands_signed_in(phone, live_server):
    allocation_year()
    employee = waiting_employee()
    code = next(r.code for r in activation_codes_issue(employer=employee.employer) if r.code)
    page = phone
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("link", name="第一次使用？激活账号").click()
    page.get_by_label("手机号").fill(employee.phone)
    page.get_by_label("激活码").fill(code)
    page.get_by_label("新密码", exact=True).fill(PASSWORD)
    page.get_by_label("再次输入新密码").fill(PASSWORD + "x")
    page.get_by_role("button", name="激活并登录").click()
    alert = page.get_by_role("alert")
    assert "两次输入的密码不一致" in alert.inner_text()
    assert page.get_by_label("手机号").input_value() == employee.phone  # kept after the error
    _fits(page)
    _shot(page, "activate-error-375")
    page.get_by_label("新密码", exact=True).fill(PASSWORD)
    page.get_by_label("再次输入新密码").fill(PASSWORD)
    page.get_by_role("button", name="激活并登录").click()
    page.wait_for_url(f"{live_server.url}/")
    landed = page.content()  # the confirmation is shown once, on the page the activation lands on
    page.goto(f"{live_server.url}/orders/")  # signed in: the employee's own page opens
    assert "账号已激活" in landed + page.content()
    assert page.url == f"{live_server.url}/orders/" and "我的订单" in page.content()


def test_an_employee_resets_a_forgotten_password_with_the_texted_code(phone, live_server):
    employee = EmployeeFactory(phone="13912340001")
    page = phone
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("link", name="忘记密码？").click()
    page.get_by_label("手机号").fill("139 1234 0001")
    page.get_by_role("button", name="发送验证码").click()
    page.wait_for_url(f"{live_server.url}/accounts/reset/code/")
    assert SmsMessage.objects.filter(phone=employee.phone).exists()
    assert page.get_by_label("手机号").input_value() == employee.phone
    page.get_by_label("短信验证码").fill(last_sms_code(employee.phone))
    page.get_by_label("新密码", exact=True).fill(PASSWORD)
    page.get_by_label("再次输入新密码").fill(PASSWORD)
    _fits(page)
    _shot(page, "reset-code-375")
    page.get_by_role("button", name="设置密码并登录").click()
    page.wait_for_url(f"{live_server.url}/")
    employee.user.refresh_from_db()
    assert employee.user.check_password(PASSWORD)
