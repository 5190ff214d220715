"""The intake pages a collection point's staff use on a phone at the scale."""

from __future__ import annotations

import os
import re
import shutil
import uuid
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from core import roles
from households.models import IncomeEntry
from logistics.models import Intake, IntakeVoid, Lot, LotMovement, MovementKind
from logistics.services.intake import intake_record
from tests.conftest import skip_or_fail
from tests.households.factories import HouseholdFactory, UserFactory
from tests.logistics.factories import StationFactory, staff_at
from tests.logistics.intake_factories import county_user, intake_kwargs, point_setup

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, int, int, int]:
    return Intake.objects.count(), Lot.objects.count(), LotMovement.objects.count(), IncomeEntry.objects.count()


@pytest.fixture
def setup():
    return point_setup(households=3)


@pytest.fixture
def browser(setup):
    client = Client()
    client.force_login(setup.staff)
    return client


def form_data(setup, **overrides) -> dict:
    data = {"client_id": str(uuid.uuid4()), "household": setup.household.number, "produce": "chestnut", "grade": "grade1", "weight": "25", "unit": "jin"}
    data.update(overrides)
    return data


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# --- access ------------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in():
    response = Client().get("/intake/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/intake/")


@pytest.mark.parametrize("who", ["plain", "county", "station", "unassigned"])
def test_users_who_are_not_point_staff_get_a_403_page(who):
    user = {
        "plain": lambda: UserFactory(),
        "county": lambda: county_user(),
        "station": lambda: staff_at(StationFactory(), roles.SORTING_STATION_STAFF),
        "unassigned": lambda: UserFactory(role=roles.COLLECTION_POINT_STAFF),
    }[who]()
    client = Client()
    client.force_login(user)
    response = client.get("/intake/")
    assert response.status_code == 403
    assert "这些页面供收购点工作人员使用" in response.content.decode()
    assert client.post("/intake/", {}).status_code == 403


# --- the form ----------------------------------------------------------------------------------


def test_the_page_offers_a_fresh_client_id_jin_by_default_and_todays_prices(setup, browser):
    first = browser.get("/intake/")
    second = browser.get("/intake/")
    ids = [re.search(r'name="client_id" value="([0-9a-f-]+)"', r.content.decode()).group(1) for r in (first, second)]
    assert ids[0] != ids[1]
    page = text_of(first)
    assert 'name="unit" value="jin" checked' in page
    assert "登记收购" in page
    assert "¥6.00" in page and "¥12.00" in page  # 一级 per jin and per kg
    assert "收购" in page and setup.point.name in page


def test_recent_households_of_the_point_are_listed_first(setup, browser):
    intake_record(**intake_kwargs(setup, household_number=setup.households[2].number))
    intake_record(**intake_kwargs(setup, household_number=setup.households[1].number))
    page = text_of(browser.get("/intake/"))
    options = re.findall(r'name="household" value="([^"]+)"', page)
    assert options[:2] == [setup.households[1].number, setup.households[2].number]


def test_a_repeat_household_is_preselected_with_the_last_produce_and_grade(setup, browser):
    intake_record(**intake_kwargs(setup, grade_code="premium"))
    page = text_of(browser.get(f"/intake/?household={setup.household.number}"))
    assert f'name="household" value="{setup.household.number}" checked' in page
    assert 'name="produce" value="chestnut" checked' in page
    assert 'name="grade" value="premium" checked' in page


def test_search_finds_by_number_name_and_id_tail_within_the_points_villages(setup, browser):
    stranger = HouseholdFactory()
    h = setup.households[1]
    for term in (h.number, h.head_name, h.id_number[-4:]):
        options = re.findall(r'name="household" value="([^"]+)"', browser.get("/intake/", {"q": term}).content.decode())
        assert h.number in options
    for term in (stranger.number, stranger.head_name):
        options = re.findall(r'name="household" value="([^"]+)"', browser.get("/intake/", {"q": term}).content.decode())
        assert stranger.number not in options
    # another point's household cannot be preselected by its number either
    page = browser.get(f"/intake/?household={stranger.number}").content.decode()
    assert stranger.number not in re.findall(r'name="household" value="([^"]+)"', page)
    assert stranger.head_name not in page


def test_the_id_number_is_shown_masked(setup, browser):
    page = browser.get("/intake/", {"q": setup.household.number}).content.decode()
    assert setup.household.id_number not in page
    assert setup.household.id_number[-4:] in page


def test_posting_records_the_intake_and_shows_the_receipt(setup, browser):
    response = browser.post("/intake/", form_data(setup, weight="25.5"))
    intake = Intake.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/intake/{intake.lot.code}/receipt/"
    assert intake.weight_kg == Decimal("12.750")
    assert intake.amount == Decimal("153.00")

    receipt = text_of(browser.get(response["Location"]))
    for expected in (
        "收购凭证",
        setup.household.number,
        setup.household.head_name,
        "板栗",
        "一级",
        "25.5 斤 (12.75 kg)",
        "¥6.00/斤 (¥12.00/kg)",
        "¥153.00",
        intake.lot.code,
        setup.point.name,
        setup.staff.username,
        timezone.localtime(intake.created_at).strftime("%Y-%m-%d %H:%M"),
        "@media print",
    ):
        assert expected in receipt, expected


def test_a_weight_in_kg_can_be_entered(setup, browser):
    browser.post("/intake/", form_data(setup, weight="2.5", unit="kg"))
    assert Intake.objects.get().weight_kg == Decimal("2.500")


def test_a_double_submit_records_once_and_both_land_on_the_receipt(setup, browser):
    data = form_data(setup)
    first = browser.post("/intake/", data)
    second = browser.post("/intake/", data, follow=True)
    assert counts() == (1, 1, 1, 1)
    assert first["Location"] == second.redirect_chain[-1][0]
    assert "这笔收购已经记录过了" in second.content.decode()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"weight": "0"}, "重量必须大于零。"),
        ({"weight": "-1"}, "重量必须大于零。"),
        ({"weight": "abc"}, "重量必须是数字。"),
        ({"weight": "inf"}, "重量必须是数字。"),
        ({"weight": "1001"}, "每笔收购不能超过 500 公斤（1000 斤）。"),
        ({"weight": ""}, "请输入重量。"),
        ({"household": ""}, "请选择农户。"),
        ({"household": "NOPE"}, "没有户号为“NOPE”的农户。"),
        ({"produce": "durian"}, "未知的农产品“durian”。"),
        ({"grade": "grade7"}, "板栗没有“grade7”这个等级。"),
    ],
)
def test_a_refused_intake_shows_the_message_by_the_field_and_writes_nothing(setup, browser, overrides, message):
    data = form_data(setup, **overrides)
    response = browser.post("/intake/", data)
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert counts() == (0, 0, 0, 0)
    # the same client id is offered again, so the corrected form is still one intake
    assert f'value="{data["client_id"]}"' in page


def test_a_household_of_another_point_is_refused_on_the_page(setup, browser):
    other = point_setup()
    page = browser.post("/intake/", form_data(setup, household=other.household.number)).content.decode()
    assert "不在本收购点服务的村" in page
    assert counts() == (0, 0, 0, 0)


def test_a_reused_client_id_with_other_content_is_refused_and_a_new_id_offered(setup, browser):
    data = form_data(setup)
    browser.post("/intake/", data)
    response = browser.post("/intake/", {**data, "weight": "30"})
    page = response.content.decode()
    assert "这个客户端编号已用于另一笔收购" in page
    assert f'value="{data["client_id"]}"' not in page
    assert Intake.objects.count() == 1


def test_the_page_shows_a_preview_of_the_amount_after_a_refusal(setup, browser):
    page = text_of(browser.post("/intake/", form_data(setup, household="", weight="3")))
    assert "¥18.00" in page  # 1.5 kg x 12.00


# --- receipt and void --------------------------------------------------------------------------


def test_another_points_staff_cannot_open_a_receipt_but_the_county_office_can(setup):
    intake, _ = intake_record(**intake_kwargs(setup))
    url = f"/intake/{intake.lot.code}/receipt/"
    other = Client()
    other.force_login(point_setup().staff)
    assert other.get(url).status_code == 404
    county = Client()
    county.force_login(county_user())
    assert county.get(url).status_code == 200
    outsider = Client()
    outsider.force_login(UserFactory())
    assert outsider.get(url).status_code == 403


def test_voiding_from_the_receipt_writes_the_reversal_and_marks_the_receipt(setup, browser):
    intake, _ = intake_record(**intake_kwargs(setup, weight_kg="10"))
    url = f"/intake/{intake.lot.code}/receipt/"
    assert "作废这笔收购" in browser.get(url).content.decode()

    response = browser.post(f"/intake/{intake.lot.code}/void/", {"reason": "称重有误"}, follow=True)
    page = text_of(response)
    assert "已作废" in page and "称重有误" in page
    assert "作废这笔收购" not in page
    void = IntakeVoid.objects.get()
    assert (void.reason, void.author) == ("称重有误", setup.staff)
    amounts = list(IncomeEntry.objects.filter(source_code=intake.lot.code).values_list("amount", flat=True))
    assert sorted(amounts) == [Decimal("-120.00"), Decimal("120.00")]


def test_a_void_without_a_reason_shows_the_error_and_writes_nothing(setup, browser):
    intake, _ = intake_record(**intake_kwargs(setup))
    response = browser.post(f"/intake/{intake.lot.code}/void/", {"reason": ""})
    assert response.status_code == 400
    assert "请填写作废原因。" in response.content.decode()
    assert not IntakeVoid.objects.exists()


def test_once_the_lot_has_left_the_point_the_void_button_is_gone_and_a_void_is_refused(setup, browser):
    intake, _ = intake_record(**intake_kwargs(setup, weight_kg="10"))
    LotMovement.objects.create(lot=intake.lot, facility=setup.point, kind=MovementKind.SHIP_OUT, quantity_kg=Decimal("-10"))
    assert "作废这笔收购" not in browser.get(f"/intake/{intake.lot.code}/receipt/").content.decode()
    response = browser.post(f"/intake/{intake.lot.code}/void/", {"reason": "x"})
    assert response.status_code == 400
    assert "已离开收购点" in response.content.decode()
    assert not IntakeVoid.objects.exists()


# --- today's list ------------------------------------------------------------------------------


def test_todays_list_shows_the_points_intakes_with_totals_leaving_voids_out(setup, browser):
    from logistics.services.intake import intake_void

    a, _ = intake_record(**intake_kwargs(setup, weight_kg="10"))  # 120.00
    b, _ = intake_record(**intake_kwargs(setup, weight_kg="2.5", grade_code="premium"))  # 100.00
    c, _ = intake_record(**intake_kwargs(setup, weight_kg="1"))
    intake_void(intake=c, reason="重复", author=setup.staff)
    other = point_setup()
    foreign, _ = intake_record(**intake_kwargs(other))

    page = text_of(browser.get("/intake/today/"))
    for intake in (a, b, c):
        assert intake.lot.code in page
    assert foreign.lot.code not in page
    assert "<b>2</b> 笔" in page
    assert "<b>25</b> 斤 (12.5 kg)" in page
    assert "¥220.00" in page
    assert "1 笔已作废" in page


def test_the_intake_page_shows_todays_totals(setup, browser):
    intake_record(**intake_kwargs(setup, weight_kg="10"))
    page = text_of(browser.get("/intake/"))
    assert "<b>1</b> 笔" in page and "¥120.00" in page


# --- on a phone --------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_intake_pages_fit_a_375_px_phone_and_compute_the_amount_live(live_server):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        skip_or_fail("needs Debian's chromium for the browser tests")
    sync_api = pytest.importorskip("playwright.sync_api")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    setup = point_setup(households=3, username="phone-staff")
    intake, _ = intake_record(**intake_kwargs(setup))

    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = b.new_page(viewport={"width": 375, "height": 812}, device_scale_factor=2, is_mobile=True, has_touch=True)
        page.goto(f"{live_server.url}/accounts/login/?next=/intake/")
        page.fill("#id_username", "phone-staff")
        page.fill("#id_password", "pw-relief-1")
        page.click("main button[type=submit]")
        page.wait_for_url(re.compile(r"/intake/$"))
        assert page.evaluate("document.documentElement.scrollWidth") <= 375

        # live search through the API, then produce, grade and a weight in jin
        page.fill("#q", setup.households[2].id_number[-4:])
        page.wait_for_selector(f'input[name="household"][value="{setup.households[2].number}"]', state="attached")
        page.click(f'label:has(input[name="household"][value="{setup.households[2].number}"])')
        page.click('label:has(input[name="produce"][value="chestnut"])')
        page.click('label:has(input[name="grade"][value="grade1"])')
        page.fill("#weight", "25")
        assert "¥150.00" in page.inner_text("#live")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.click("button.primary.big")
        page.wait_for_url(re.compile(r"/receipt/$"))
        assert "¥150.00" in page.inner_text("#receipt")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375

        page.goto(f"{live_server.url}/intake/today/")
        assert intake.lot.code in page.content()
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        b.close()
    assert Intake.objects.filter(household=setup.households[2]).count() == 1


# --- one screen, errors, offline ---------------------------------------------------------------


def test_a_bad_weight_comes_back_in_the_focused_error_box_with_the_weight_marked_and_kept(setup, browser):
    page = browser.post("/intake/", form_data(setup, weight="abc")).content.decode()
    box = page.split('class="error-summary"')[1].split("</div>")[0]
    assert 'role="alert"' in box and 'tabindex="-1"' in box and "autofocus" in box
    assert 'href="#weight"' in box and "数字" in box
    assert 'value="abc"' in page and 'aria-invalid="true" aria-describedby="weight-error"' in page
    assert 'id="weight-error"' in page
    # the chosen household stays chosen, so the corrected weight is all that is left to do
    assert f'name="household" value="{setup.household.number}" checked' in page
    assert counts() == (0, 0, 0, 0)


def test_same_household_again_puts_the_cursor_in_the_weight_box(setup, browser):
    intake_record(**intake_kwargs(setup))
    page = browser.get(f"/intake/?household={setup.household.number}").content.decode()
    assert re.search(r'id="weight"[^>]*\bautofocus\b', page)
    fresh = browser.get("/intake/").content.decode()
    assert not re.search(r'id="weight"[^>]*\bautofocus\b', fresh)


def test_the_intake_page_is_installable_and_its_service_worker_covers_it(setup, browser):
    page = browser.get("/intake/").content.decode()
    assert '<link rel="manifest" href="/intake/manifest.webmanifest">' in page
    manifest = Client().get("/intake/manifest.webmanifest")
    assert manifest["Content-Type"] == "application/manifest+json"
    data = manifest.json()
    assert data["start_url"] == "/intake/" and data["scope"] == "/intake/" and data["display"] == "standalone"
    sizes = {i["sizes"] for i in data["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in data["icons"]:
        assert Client().get(icon["src"]).status_code == 200, icon["src"]

    worker = Client().get("/intake/sw.js")
    assert worker.status_code == 200
    assert worker["Content-Type"].startswith("application/javascript")
    assert worker["Service-Worker-Allowed"] == "/intake/"
    body = worker.content.decode()
    assert '"/intake/"' in body and "/api/v1/households/" in body and "logistics/intake-offline.js" in body
