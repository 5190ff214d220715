"""The love-points API: awards and redemptions by village staff only, idempotent by client_id,
refusals that name the reason, a household's points for village staff and the county office."""

from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from lovepoints.models import Award, Redemption
from tests.households.factories import UserFactory
from tests.lovepoints.factories import last_month, world

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    c = APIClient()
    c.force_authenticate(user)
    return c


def award_body(household, **over):
    return {"client_id": str(uuid.uuid4()), "household": household.number, "month": last_month().strftime("%Y-%m"),
            "category": "diligence", "note": "带头发展板栗", **over}


def test_village_staff_award_their_household_and_a_retry_returns_the_same_award():
    w = world()
    api = client_for(w.staff)
    body = award_body(w.households[0])
    first = api.post("/api/v1/love-points/awards/", body, format="json")
    assert first.status_code == 201, first.content
    assert first.json()["points"] == 10 and first.json()["status"] == "open" and first.json()["month"] == body["month"]
    again = api.post("/api/v1/love-points/awards/", body, format="json")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert Award.objects.count() == 1


@pytest.mark.parametrize("over", [{"month": "2026-13"}, {"month": "26-01"}, {"month": "２０２６-０１"}, {"category": "nope"},
                                  {"points": 0}, {"points": 11}, {"points": 10**30}, {"client_id": "not-a-uuid"}, {"month": "\x00"}])
def test_bad_award_input_is_a_400_and_writes_nothing(over):
    w = world()
    response = client_for(w.staff).post("/api/v1/love-points/awards/", award_body(w.households[0], **over), format="json")
    assert response.status_code == 400, response.content
    assert not Award.objects.exists()


def test_over_the_cap_or_outside_the_village_is_a_400_naming_the_reason():
    w = world(cap=15)
    api = client_for(w.staff)
    assert api.post("/api/v1/love-points/awards/", award_body(w.households[0]), format="json").status_code == 201
    over = api.post("/api/v1/love-points/awards/", award_body(w.households[0], category="filial"), format="json")
    assert over.status_code == 400 and over.json()["code"] == "over_monthly_cap" and "15" in over.json()["detail"]
    outside = api.post("/api/v1/love-points/awards/", award_body(w.others[0]), format="json")
    assert outside.status_code == 400 and outside.json()["code"] == "outside_village"
    unknown = api.post("/api/v1/love-points/awards/", {**award_body(w.others[0]), "household": "NOSUCH"}, format="json")
    assert unknown.status_code == 400 and unknown.json()["code"] == "outside_village"
    assert Award.objects.count() == 1


@pytest.mark.parametrize("role", ["county_office", "collection_point_staff", "supermarket_staff", "employee", None])
def test_nobody_but_village_staff_may_award_or_redeem(role):
    w = world()
    api = client_for(UserFactory(username=f"lp-{role}", role=role)) if role else APIClient()
    assert api.post("/api/v1/love-points/awards/", award_body(w.households[0]), format="json").status_code in (401, 403)
    redemption = {"client_id": str(uuid.uuid4()), "household": w.households[0].number, "lines": [{"item": w.items[0].pk, "quantity": 1}]}
    assert api.post("/api/v1/love-points/redemptions/", redemption, format="json").status_code in (401, 403)
    assert not Award.objects.exists() and not Redemption.objects.exists()


def test_a_redemption_answers_points_and_balance_and_not_enough_points_is_409_with_the_balance():
    w = world()
    h = w.households[0]
    w.give_points(h)  # 30
    api = client_for(w.staff)
    body = {"client_id": str(uuid.uuid4()), "household": h.number, "lines": [{"item": w.items[0].pk, "quantity": 1}]}
    done = api.post("/api/v1/love-points/redemptions/", body, format="json")
    assert done.status_code == 201, done.content
    assert (done.json()["points"], done.json()["balance"]) == (20, 10)
    assert api.post("/api/v1/love-points/redemptions/", body, format="json").status_code == 200
    short = api.post("/api/v1/love-points/redemptions/", {**body, "client_id": str(uuid.uuid4())}, format="json")
    assert short.status_code == 409 and short.json()["balance"] == 10 and short.json()["needed"] == 20
    assert Redemption.objects.count() == 1


def test_a_households_points_for_its_village_and_the_county_and_404_for_another_village():
    w = world()
    h = w.households[0]
    w.give_points(h, codes=("diligence", "hygiene"))
    w.redeem(h, [(w.items[1].pk, 1)])
    for user in (w.staff, w.county):
        body = client_for(user).get(f"/api/v1/love-points/households/{h.number}/").json()
        assert (body["earned"], body["redeemed"], body["balance"]) == (15, 5, 10)
        assert len(body["months"]) == 12 and body["months"][-2]["awarded"] == 15
    assert client_for(w.other_staff).get(f"/api/v1/love-points/households/{h.number}/").status_code == 404
    shop = UserFactory(username="lp-shop2", role="supermarket_staff")
    assert client_for(shop).get(f"/api/v1/love-points/households/{h.number}/").status_code == 403
