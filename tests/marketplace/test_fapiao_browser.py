"""The fapiao screens on a phone (375 px) and a desktop: the coordinator's request form and the
supermarket's record form fit without sideways scrolling and work end to end in a real browser."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from core import roles
from marketplace.models import FapiaoRequest
from marketplace.statements import StatementMonth
from tests.cms.test_browser import _no_sideways_scroll, _page, browser  # noqa: F401  (a fixture)
from tests.logistics.factories import SupermarketFactory, staff_at
from tests.marketplace.account_factories import coordinator_of
from tests.marketplace.factories import EmployerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("STOREFRONT_SCREENSHOTS")


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone-375x812"])
def test_the_coordinator_and_the_supermarket_use_the_fapiao_screens(browser, live_server, monkeypatch, phone):  # noqa: F811
    employer = EmployerFactory(name="镇安县测试局")
    coordinator_of(employer, username="coord")
    monkeypatch.setattr("marketplace.services.fapiao.employer_statement",
                        lambda employer, month: type("S", (), {"owed": Decimal("480.00")})())
    monkeypatch.setattr("marketplace.fapiao_views.employer_statement",
                        lambda employer, month: type("S", (), {"owed": Decimal("480.00")})())
    width = 375 if phone else 1280
    context, page = _page(browser, live_server, phone=phone)
    try:
        _sign_in(page, live_server, "coord")
        page.goto(f"{live_server.url}/employer/fapiao/")
        page.fill("#f-tax_number", "91610425MA6YH1234X")
        page.fill("#f-address", "镇安县永乐路1号")
        if SHOTS:
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(SHOTS) / f"fapiao-employer-{width}.png"), full_page=True)
        _no_sideways_scroll(page, width)
        page.click("button[type=submit].primary")
        page.wait_for_selector("[data-fapiao-months]")
        fapiao = FapiaoRequest.objects.get()
        assert fapiao.amount == Decimal("480.00") and (fapiao.year, fapiao.month) == (
            StatementMonth.of(timezone.localdate()).year, StatementMonth.of(timezone.localdate()).month)

        staff = staff_at(SupermarketFactory(), roles.SUPERMARKET_STAFF, username="shopstaff")
        assert staff.username == "shopstaff"
        context.clear_cookies()
        _sign_in(page, live_server, "shopstaff")
        page.goto(f"{live_server.url}/staff/fapiao/")
        if SHOTS:
            page.screenshot(path=str(Path(SHOTS) / f"fapiao-staff-{width}.png"), full_page=True)
        _no_sideways_scroll(page, width)
        assert page.locator(f"[data-fapiao='{fapiao.pk}'][data-status='requested']").is_visible()
    finally:
        context.close()


def _sign_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw-relief-1")
    page.locator("form button[type=submit].primary").click()
    page.wait_for_load_state("networkidle")
