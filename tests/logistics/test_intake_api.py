"""The intake JSON API: record (idempotent), list, void, and the phone's household picker."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core import roles
from households.models import IncomeEntry
from logistics.models import Intake, IntakeVoid, Lot, LotMovement, MovementKind
from logistics.services.intake import intake_record
from tests.households.factories import HouseholdFactory, UserFactory
from tests.logistics.factories import StationFactory, staff_at
from tests.logistics.intake_factories import county_user, intake_kwargs, point_setup

pytestmark = pytest.mark.django_db

URL = "/api/v1/intakes/"


def counts() -> tuple[int, int, int, int]:
    return Intake.objects.count(), Lot.objects.count(), LotMovement.objects.count(), IncomeEntry.objects.count()


@pytest.fixture
def setup():
    return point_setup(households=3)


@pytest.fixture
def api(setup):
    client = APIClient()
    client.force_authenticate(setup.staff)
    return client


def body(setup, **overrides) -> dict:
    data = {"client_id": str(uuid.uuid4()), "household": setup.household.number, "produce": "chestnut", "grade": "grade1", "weight_kg": "12.500"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- POST /intakes/ ----------------------------------------------------------------------------


def test_posting_an_intake_answers_201_with_the_record(setup, api):
    data = body(setup)
    response = api.post(URL, data, format="json")

    assert response.status_code == 201
    out = response.json()
    intake = Intake.objects.get()
    assert out["lot_code"] == intake.lot.code
    assert out["unit_price"] == "12.00"
    assert out["amount"] == "150.00"
    assert out["collection_point"] == {"code": setup.point.code, "name": setup.point.name}
    assert out["client_id"] == data["client_id"]
    assert (out["household"], out["produce"], out["grade"], out["weight_kg"]) == (setup.household.number, "chestnut", "grade1", "12.500")
    assert out["weight_jin"] == "25.000"
    assert out["unit_price_per_jin"] == "6.00"
    assert out["voided"] is False
    assert datetime.datetime.fromisoformat(out["created_at"]) == intake.created_at


def test_a_weight_in_jin_is_accepted(setup, api):
    response = api.post(URL, body(setup, weight_kg=None, weight_jin="25.5"), format="json")
    assert response.status_code == 201
    assert response.json()["weight_kg"] == "12.750"
    assert response.json()["amount"] == "153.00"


def test_posting_the_same_client_id_five_times_makes_one_record(setup, api):
    data = body(setup)
    responses = [api.post(URL, data, format="json") for _ in range(5)]

    assert [r.status_code for r in responses] == [201, 200, 200, 200, 200]
    assert len({r.json()["lot_code"] for r in responses}) == 1
    assert all(r.json() == responses[0].json() for r in responses)
    assert counts() == (1, 1, 1, 1)


def test_the_same_client_id_with_different_content_is_409_and_writes_nothing(setup, api):
    data = body(setup)
    api.post(URL, data, format="json")
    before = counts()
    response = api.post(URL, {**data, "weight_kg": "13.000"}, format="json")
    assert response.status_code == 409
    assert response.json()["detail"] == "这个客户端编号已用于另一笔收购，本次未记录。"
    assert counts() == before


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"client_id": "not-a-uuid"}, "client_id", None),
        ({"client_id": None}, "client_id", None),
        ({"household": None}, "household", None),
        ({"weight_kg": "abc"}, "weight_kg", None),
        ({"weight_kg": "NaN"}, "weight_kg", None),
        ({"weight_kg": "1.0001"}, "weight_kg", None),
        ({"weight_kg": "0"}, "weight_kg", "重量必须大于零。"),
        ({"weight_kg": "-2"}, "weight_kg", "重量必须大于零。"),
        ({"weight_kg": "600"}, "weight_kg", "每笔收购不能超过 500 公斤（1000 斤）。"),
        ({"weight_kg": None, "weight_jin": "1200"}, "weight_jin", "每笔收购不能超过 500 公斤（1000 斤）。"),
        ({"weight_kg": None}, "weight_kg", "请输入重量。"),
        ({"weight_jin": "3"}, "weight_kg", "重量请在斤或公斤中只填一个。"),
        ({"household": "NOPE-1"}, "household", "没有户号为“NOPE-1”的农户。"),
        ({"produce": "durian"}, "produce", "未知的农产品“durian”。"),
        ({"grade": "grade9"}, "grade", "板栗没有“grade9”这个等级。"),
    ],
)
def test_malformed_input_or_a_broken_rule_is_400_with_the_field_and_writes_nothing(setup, api, overrides, field, message):
    before = counts()
    response = api.post(URL, body(setup, **overrides), format="json")
    assert response.status_code == 400, response.content
    errors = response.json()
    assert field in errors
    if message:
        assert errors[field] == [message]
    assert counts() == before


def test_a_household_of_another_point_is_400_and_writes_nothing(setup, api):
    other = point_setup()
    response = api.post(URL, body(setup, household=other.household.number), format="json")
    assert response.status_code == 400
    assert "不在本收购点服务的村" in response.json()["household"][0]
    assert counts() == (0, 0, 0, 0)


def test_no_price_in_force_is_400(setup, api):
    from logistics.models import Grade

    Grade.objects.create(produce=setup.grades["grade1"].produce, code="tiny", name="等外")
    response = api.post(URL, body(setup, grade="tiny"), format="json")
    assert response.status_code == 400
    assert "没有生效的收购价" in response.json()["detail"]


@pytest.mark.parametrize("who", ["plain", "county", "station", "unassigned"])
def test_a_user_who_is_not_point_staff_gets_403(setup, who):
    user = {
        "plain": lambda: UserFactory(),
        "county": lambda: county_user(),
        "station": lambda: staff_at(StationFactory(), roles.SORTING_STATION_STAFF),
        "unassigned": lambda: UserFactory(role=roles.COLLECTION_POINT_STAFF),
    }[who]()
    client = APIClient()
    client.force_authenticate(user)
    response = client.post(URL, body(setup), format="json")
    assert response.status_code == 403
    assert response.json()["detail"] in ("只有收购点工作人员可以登记收购。", "您的账号没有被分配到收购点。")
    assert counts() == (0, 0, 0, 0)


def test_an_anonymous_post_is_refused(setup):
    response = APIClient().post(URL, body(setup), format="json")
    assert response.status_code in (401, 403)
    assert counts() == (0, 0, 0, 0)


def test_a_drf_token_authenticates(setup):
    token = Token.objects.create(user=setup.staff)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = client.post(URL, body(setup), format="json")
    assert response.status_code == 201


def test_the_browser_session_authenticates_with_csrf(setup):
    client = APIClient(enforce_csrf_checks=True)
    client.login(username=setup.staff.username, password="pw-relief-1")
    assert client.post(URL, body(setup), format="json").status_code == 403  # no CSRF token
    client.get("/intake/")
    token = client.cookies["csrftoken"].value
    assert client.post(URL, body(setup), format="json", HTTP_X_CSRFTOKEN=token).status_code == 201


# --- GET /intakes/ -----------------------------------------------------------------------------


def test_listing_shows_only_the_staffs_own_point_filtered_by_date_and_produce(setup, api):
    other = point_setup()
    mine_today, _ = intake_record(**intake_kwargs(setup))
    yesterday = timezone.now() - datetime.timedelta(days=1)
    mine_yesterday, _ = intake_record(**intake_kwargs(setup, at=yesterday))
    intake_record(**intake_kwargs(other))

    all_mine = api.get(URL).json()
    assert all_mine["count"] == 2
    assert {r["lot_code"] for r in all_mine["results"]} == {mine_today.lot.code, mine_yesterday.lot.code}

    today = timezone.localdate().isoformat()
    by_day = api.get(URL, {"date": today, "produce": "chestnut"}).json()
    assert [r["lot_code"] for r in by_day["results"]] == [mine_today.lot.code]
    assert api.get(URL, {"produce": "walnut"}).json()["count"] == 0


def test_listing_with_a_malformed_date_is_400(api):
    response = api.get(URL, {"date": "yesterday"})
    assert response.status_code == 400
    assert "date" in response.json()


def test_listing_is_paginated_with_limit_and_offset(setup, api):
    for _ in range(3):
        intake_record(**intake_kwargs(setup))
    page = api.get(URL, {"limit": 2}).json()
    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]


def test_listing_is_403_for_a_user_without_a_point(setup):
    client = APIClient()
    client.force_authenticate(UserFactory())
    assert client.get(URL).status_code == 403


def test_the_county_office_lists_every_point_and_may_narrow_to_one(setup):
    other = point_setup()
    intake_record(**intake_kwargs(setup))
    intake_record(**intake_kwargs(other))
    client = APIClient()
    client.force_authenticate(county_user())
    assert client.get(URL).json()["count"] == 2
    assert client.get(URL, {"point": other.point.code}).json()["count"] == 1


# --- POST /intakes/<lot>/void/ -----------------------------------------------------------------


def test_voiding_through_the_api_writes_the_reversals(setup, api):
    intake, _ = intake_record(**intake_kwargs(setup, weight_kg="10"))
    response = api.post(f"{URL}{intake.lot.code}/void/", {"reason": "录错了户"}, format="json")
    assert response.status_code == 200
    assert response.json()["voided"] is True
    assert IntakeVoid.objects.get().reason == "录错了户"
    assert sum(IncomeEntry.objects.filter(household=setup.household).values_list("amount", flat=True)) == Decimal("0")
    assert LotMovement.objects.filter(lot=intake.lot, kind=MovementKind.VOID).get().quantity_kg == Decimal("-10.000")


def test_voiding_twice_is_409(setup, api):
    intake, _ = intake_record(**intake_kwargs(setup))
    api.post(f"{URL}{intake.lot.code}/void/", {"reason": "x"}, format="json")
    response = api.post(f"{URL}{intake.lot.code}/void/", {"reason": "y"}, format="json")
    assert response.status_code == 409
    assert response.json()["detail"] == f"收购 {intake.lot.code} 已经作废。"


def test_voiding_after_the_lot_left_is_409(setup, api):
    intake, _ = intake_record(**intake_kwargs(setup, weight_kg="10"))
    LotMovement.objects.create(lot=intake.lot, facility=setup.point, kind=MovementKind.SHIP_OUT, quantity_kg=Decimal("-10"))
    response = api.post(f"{URL}{intake.lot.code}/void/", {"reason": "x"}, format="json")
    assert response.status_code == 409
    assert not IntakeVoid.objects.exists()


def test_voiding_without_a_reason_is_400(setup, api):
    intake, _ = intake_record(**intake_kwargs(setup))
    response = api.post(f"{URL}{intake.lot.code}/void/", {}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()


def test_another_points_staff_cannot_see_or_void_an_intake(setup):
    intake, _ = intake_record(**intake_kwargs(setup))
    other = point_setup()
    client = APIClient()
    client.force_authenticate(other.staff)
    assert client.get(f"{URL}{intake.lot.code}/").status_code == 404
    assert client.post(f"{URL}{intake.lot.code}/void/", {"reason": "x"}, format="json").status_code == 404
    assert not IntakeVoid.objects.exists()


# --- GET /households/ --------------------------------------------------------------------------


def test_the_picker_lists_only_households_of_the_points_villages_with_masked_ids(setup, api):
    HouseholdFactory()  # another village, not served
    out = api.get("/api/v1/households/").json()
    assert out["count"] == 3
    row = out["results"][0]
    assert set(row) >= {"number", "head_name", "village", "id_number"}
    assert row["village"] == setup.village.name
    household = setup.households[0]
    assert row["number"] == household.number
    assert row["id_number"] != household.id_number
    assert row["id_number"] == household.id_number[:6] + "********" + household.id_number[-4:]


def test_the_picker_searches_number_name_and_last_four_id_digits(setup, api):
    h = setup.households[1]
    for term in (h.number, h.head_name, h.id_number[-4:]):
        numbers = [r["number"] for r in api.get("/api/v1/households/", {"search": term}).json()["results"]]
        assert h.number in numbers, term
    assert api.get("/api/v1/households/", {"search": "无此人"}).json()["count"] == 0


def test_point_staff_cannot_search_another_points_households(setup, api):
    other = point_setup()
    stranger = other.household
    for term in (stranger.number, stranger.head_name, stranger.id_number[-4:]):
        numbers = [r["number"] for r in api.get("/api/v1/households/", {"search": term}).json()["results"]]
        assert stranger.number not in numbers


def test_point_staff_cannot_use_the_registry_filters(setup, api):
    # the registry's filters are the county office's; for a point they are ignored, not applied
    out = api.get("/api/v1/households/", {"labour_class": "none"}).json()
    assert out["count"] == 3


def test_the_county_office_sees_every_household_unmasked_and_may_filter(setup):
    other = point_setup()
    weak = HouseholdFactory(village=other.village, labour_class="weak", sub_class="bottom")
    client = APIClient()
    client.force_authenticate(county_user())
    out = client.get("/api/v1/households/", {"limit": 100}).json()
    assert out["count"] == 3 + 2 + 1
    shown = {r["number"]: r["id_number"] for r in out["results"]}
    assert shown[setup.household.number] == setup.household.id_number
    filtered = client.get("/api/v1/households/", {"labour_class": "weak"}).json()
    assert [r["number"] for r in filtered["results"]] == [weak.number]
    by_township = client.get("/api/v1/households/", {"township": other.village.township.code}).json()
    assert weak.number in [r["number"] for r in by_township["results"]]
    assert client.get("/api/v1/households/", {"labour_class": "bogus"}).status_code == 400


def test_the_picker_is_403_for_others(setup):
    client = APIClient()
    client.force_authenticate(staff_at(StationFactory(), roles.SORTING_STATION_STAFF))
    assert client.get("/api/v1/households/").status_code == 403


def test_the_schema_documents_the_intake_endpoints():
    response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    for p in ("/api/v1/intakes/", "/api/v1/intakes/{lot_code}/", "/api/v1/intakes/{lot_code}/void/", "/api/v1/households/"):
        assert p in paths
    params = {p["name"] for p in paths["/api/v1/households/"]["get"]["parameters"]}
    assert {"search", "township", "labour_class", "limit", "offset"} <= params


def test_an_intake_uploaded_after_working_offline_keeps_its_recording_time_and_that_days_price(setup, api):
    from logistics.services.prices import purchase_price_set

    two_days_ago = timezone.now() - datetime.timedelta(days=2)
    purchase_price_set(grade=setup.grades["grade1"], price_per_kg="20.00", effective_from=timezone.localdate(), author=None)
    response = api.post(URL, body(setup, recorded_at=two_days_ago.isoformat(), weight_kg="10"), format="json")
    assert response.status_code == 201
    out = response.json()
    assert datetime.datetime.fromisoformat(out["created_at"]) == two_days_ago
    assert out["unit_price"] == "12.00"  # the price in force two days ago
    assert out["amount"] == "120.00"


@pytest.mark.parametrize(("delta", "message"), [(datetime.timedelta(days=8), "7 天内上传"), (datetime.timedelta(hours=-1), "将来")])
def test_a_recording_time_outside_the_offline_window_is_400(setup, api, delta, message):
    response = api.post(URL, body(setup, recorded_at=(timezone.now() - delta).isoformat()), format="json")
    assert response.status_code == 400
    assert message in response.json()["recorded_at"][0]
    assert counts() == (0, 0, 0, 0)
