"""The love-points pages: each role sees only its village, a review saves all-or-nothing and keeps
what was typed, redemptions at the counter, the county's approvals, report and Excel."""

from __future__ import annotations

import io
import uuid

import pytest
from openpyxl import load_workbook

from lovepoints.models import Award, GoodsItem, PointsEntry, Redemption, ReviewMonth
from lovepoints.selectors import household_points
from tests.households.factories import UserFactory
from tests.lovepoints.factories import last_month, world

pytestmark = pytest.mark.django_db

PAGES = ["/love-points/", "/love-points/redeem/", "/love-points/goods/", "/love-points/goods/stocktake/"]


def signed_in(client, user):
    client.force_login(user)
    return client


def review_url(month=None):
    return f"/love-points/review/{(month or last_month()).strftime('%Y-%m')}/"


def test_village_staff_save_a_months_review_in_one_list(client):
    w = world()
    a, b, c = w.households
    cats = {cat.code: cat.pk for cat in w.rules.categories.all()}
    signed_in(client, w.staff)
    page = client.get(review_url())
    assert page.status_code == 200 and a.head_name in page.content.decode() and w.others[0].head_name not in page.content.decode()
    response = client.post(review_url(), {
        f"c-{a.pk}-{cats['diligence']}": "1", f"c-{a.pk}-{cats['filial']}": "1", f"note-{a.pk}": "照顾老人",
        f"c-{b.pk}-{cats['hygiene']}": "1", f"c-{c.pk}-{cats['volunteer']}": "1",
    })
    assert response.status_code == 302
    assert sorted(Award.objects.values_list("household_id", "points")) == sorted([(a.pk, 10), (a.pk, 10), (b.pk, 5), (c.pk, 10)])
    # unticking corrects with a reversing award; the rest stays
    client.post(review_url(), {f"c-{a.pk}-{cats['diligence']}": "1", f"c-{b.pk}-{cats['hygiene']}": "1", f"c-{c.pk}-{cats['volunteer']}": "1"})
    reversal = Award.objects.get(reverses__isnull=False)
    assert (reversal.household_id, reversal.points) == (a.pk, -10) and reversal.reason


def test_a_review_over_the_cap_writes_nothing_and_keeps_every_tick_typed(client):
    w = world(cap=15)
    a, b, _c = w.households
    cats = {cat.code: cat.pk for cat in w.rules.categories.all()}
    signed_in(client, w.staff)
    response = client.post(review_url(), {
        f"c-{a.pk}-{cats['diligence']}": "1", f"c-{a.pk}-{cats['filial']}": "1", f"c-{b.pk}-{cats['hygiene']}": "1",
        f"note-{b.pk}": "打扫卫生",
    })
    assert response.status_code == 400
    html = response.content.decode()
    assert 'role="alert"' in html and "15" in html
    assert f'name="c-{b.pk}-{cats["hygiene"]}" value="1" checked' in html and "打扫卫生" in html
    assert not Award.objects.exists()


def test_submit_then_the_county_approves_and_the_points_are_in_the_balance(client):
    w = world()
    h = w.households[0]
    w.award(h, "diligence")
    signed_in(client, w.staff).post(review_url(), {"submit": "1"})
    review = ReviewMonth.objects.get()
    assert review.status == "submitted"
    assert client.post("/love-points/approvals/", {"review": review.pk, "action": "approve"}).status_code == 403
    signed_in(client, w.county)
    assert h.village.name in client.get("/love-points/approvals/").content.decode()
    client.post("/love-points/approvals/", {"review": review.pk, "action": "approve"})
    assert ReviewMonth.objects.get().status == "approved" and household_points(h)["balance"] == 10


def test_redeem_at_the_counter_deducts_points_once_even_if_the_form_is_sent_twice(client):
    w = world()
    h = w.households[0]
    w.give_points(h)
    signed_in(client, w.staff)
    page = client.get(f"/love-points/redeem/?household={h.number}")
    assert page.status_code == 200 and "30" in page.content.decode()
    body = {"household": h.number, "client_id": str(uuid.uuid4()), f"q-{w.items[0].pk}": "1"}
    assert client.post("/love-points/redeem/", body).status_code == 302
    assert client.post("/love-points/redeem/", body).status_code == 302
    assert Redemption.objects.count() == 1 and household_points(h)["balance"] == 10


@pytest.mark.parametrize("quantity", ["-1", "abc", "1e25", "③", "99999999", "\x00"])
def test_a_bad_quantity_is_refused_with_a_message_and_writes_nothing(client, quantity):
    w = world()
    h = w.households[0]
    w.give_points(h)
    signed_in(client, w.staff)
    response = client.post("/love-points/redeem/", {"household": h.number, "client_id": str(uuid.uuid4()), f"q-{w.items[0].pk}": quantity})
    assert response.status_code == 400 and 'role="alert"' in response.content.decode()
    assert not Redemption.objects.exists()


def test_not_enough_points_at_the_counter_says_the_balance(client):
    w = world()
    h = w.households[0]
    w.give_points(h, codes=("hygiene",))
    signed_in(client, w.staff)
    response = client.post("/love-points/redeem/", {"household": h.number, "client_id": str(uuid.uuid4()), f"q-{w.items[0].pk}": "1"})
    assert response.status_code == 400 and "5" in response.content.decode()
    assert GoodsItem.objects.get(pk=w.items[0].pk).on_hand == 5


def test_another_villages_household_card_or_redemption_is_404(client):
    w = world()
    other = w.others[0]
    signed_in(client, w.staff)
    assert client.get(f"/love-points/card/{other.number}/").status_code == 404
    assert client.get(f"/love-points/redeem/?household={other.number}").status_code == 404
    assert client.get(f"/love-points/card/{w.households[0].number}/").status_code == 200


@pytest.mark.parametrize("role", ["collection_point_staff", "sorting_station_staff", "supermarket_staff", "employee"])
def test_other_roles_are_refused_every_love_points_page(client, role):
    w = world()
    signed_in(client, UserFactory(username=f"lp-{role}", role=role))
    for url in [*PAGES, review_url(), f"/love-points/card/{w.households[0].number}/", "/love-points/report/", "/love-points/approvals/"]:
        assert client.get(url).status_code == 403, url


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for url in PAGES:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_goods_in_and_a_stocktake_from_the_phone(client):
    w = world()
    oil = w.items[0]
    signed_in(client, w.staff)
    client.post("/love-points/goods/", {"action": "receive", "item": oil.pk, "quantity": "3", "note": "爱心企业捐赠"})
    assert GoodsItem.objects.get(pk=oil.pk).on_hand == 8
    bad = client.post("/love-points/goods/", {"action": "receive", "item": oil.pk, "quantity": "1e25"})
    assert bad.status_code == 400 and GoodsItem.objects.get(pk=oil.pk).on_hand == 8
    client.post("/love-points/goods/stocktake/", {f"count-{oil.pk}": "7"})
    assert GoodsItem.objects.get(pk=oil.pk).on_hand == 7


def test_the_board_shows_names_and_points_but_no_id_numbers(client):
    w = world()
    a = w.households[0]
    w.award(a, "diligence")
    html = signed_in(client, w.staff).get(f"/love-points/board/{last_month():%Y-%m}/").content.decode()
    assert a.head_name in html and a.id_number not in html and a.number not in html


def test_the_county_report_and_its_excel_agree_with_the_ledger(client):
    w = world()
    h = w.households[0]
    w.give_points(h)
    w.redeem(h, [(w.items[1].pk, 2)])
    signed_in(client, w.county)
    year = last_month().year
    html = client.get(f"/love-points/report/?year={year}").content.decode()
    assert w.village.name in html
    sheet = load_workbook(io.BytesIO(client.get(f"/love-points/report.xlsx?year={year}").content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert all(not str(h).isascii() for h in rows[0]) and rows[-1][3] == sum(PointsEntry.objects.filter(kind="award").values_list("points", flat=True))
    assert client.get("/love-points/report/?year=99999").status_code == 400


def test_the_header_links_love_points_once_for_village_staff_and_the_county(client):
    w = world()
    for user in (w.staff, w.county):
        signed_in(client, user)
        html = client.get("/love-points/").content.decode()
        header = html[html.index('class="site-nav"'):html.index("</nav>")]
        assert header.count('href="/love-points/"') == 1, user
