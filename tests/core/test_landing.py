"""Each role lands on its work after signing in; the header lists the role's screens; a staff
member who opens the shop is pointed to their work."""

from __future__ import annotations

import pytest

from core import roles
from core.landing import landing_url_for
from tests.canteens.factories import buyer, canteen
from tests.households.factories import UserFactory, VillageFactory
from tests.logistics.factories import CollectionPointFactory, StationFactory, SupermarketFactory, staff_at
from tests.lovepoints.factories import village_staff
from tests.marketplace.factories import EmployeeFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pw-relief-1"


def _users() -> dict[str, object]:
    return {
        "/intake/": staff_at(CollectionPointFactory(), roles.COLLECTION_POINT_STAFF, username="pt"),
        "/station/": staff_at(StationFactory(), roles.SORTING_STATION_STAFF, username="st"),
        "/staff/orders/": staff_at(SupermarketFactory(), roles.SUPERMARKET_STAFF, username="sm"),
        "/admin/": UserFactory(username="co", role=roles.COUNTY_OFFICE),
        "/love-points/": village_staff(VillageFactory(), username="vi"),
        "/": EmployeeFactory(user=UserFactory(username="em")).user,
        "/canteen/": buyer(canteen("CT-LAND")),
    }


def test_each_role_signs_in_onto_its_own_work(client):
    for landing, user in _users().items():
        client.logout()
        response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
        assert response.status_code == 302, user.username
        assert response["Location"] == landing, user.username
        assert landing_url_for(user) == landing


def test_a_safe_next_still_wins_and_an_unsafe_one_falls_back_to_the_landing(client):
    point_staff = _users()["/intake/"]
    response = client.post("/accounts/login/?next=/intake/today/", {"username": point_staff.username, "password": PASSWORD})
    assert response["Location"] == "/intake/today/"
    client.logout()
    response = client.post("/accounts/login/", {"username": point_staff.username, "password": PASSWORD, "next": "https://evil.example/"})
    assert response["Location"] == "/intake/"


def test_a_user_without_a_role_lands_on_the_shop():
    assert landing_url_for(UserFactory(username="nobody")) == "/"


def test_the_header_shows_each_role_its_screens(client):
    users = _users()
    expected = {
        "/intake/": ['href="/intake/"', 'href="/intake/today/"', 'href="/station/dispatch/"'],
        "/station/": ['href="/station/"', 'href="/station/pack/"', 'href="/station/stocktakes/"', 'href="/canteen/supply/"'],
        "/staff/orders/": ['href="/staff/orders/"', 'href="/staff/statements/"', 'href="/station/"', 'href="/canteen/invoices/"'],
        "/admin/": ['href="/admin/"', 'href="/station/stocktakes/"', 'href="/canteen/progress/"'],
        "/love-points/": ['href="/love-points/"', 'href="/love-points/redeem/"'],
        "/": ['href="/cart/"', 'href="/orders/"', 'href="/allocation/"'],
        "/canteen/": ['href="/canteen/"'],
    }
    for landing, user in users.items():
        client.force_login(user)
        header = client.get("/accounts/login/").content.decode().split("</header>")[0]
        for link in expected[landing]:
            assert link in header, (user.username, link)
        if landing != "/":
            assert 'href="/allocation/"' not in header, user.username


@pytest.mark.parametrize("url", ["/cart/", "/allocation/", "/checkout/", "/orders/"])
def test_staff_who_open_the_shop_are_told_where_their_work_is(client, url):
    client.force_login(_users()["/station/"])
    response = client.get(url)
    assert response.status_code == 403
    body = response.content.decode()
    main = body.split('<main id="main">')[1]
    assert 'href="/station/"' in main


def test_screen_urls_are_reversed_once_per_script_prefix() -> None:
    from django.urls import get_script_prefix, reverse, set_script_prefix

    from core.landing import screen_url

    before = get_script_prefix()
    try:
        for prefix in ("/", "/relief/", "/"):
            set_script_prefix(prefix)
            for name in ("storefront:cart", "storefront:orders", "intake", "lovepoints:home", "canteen-home"):
                assert screen_url(name) == reverse(name)
        set_script_prefix("/relief/")
        assert screen_url("storefront:cart") == "/relief/cart/"
    finally:
        set_script_prefix(before)
