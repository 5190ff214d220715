"""The anonymous page cache: zero queries on a second view, fresh after a change, no token leaks."""

import re
from decimal import Decimal

import pytest
from django.test import Client

from cms.cache import CACHED_HEADER, bump_catalogue_version
from logistics.services.stock import batch_stock_receive
from tests.cms.factories import catalogue
from tests.logistics.factories import SupermarketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    return catalogue(3, price="40.00", with_images=True)


@pytest.mark.parametrize("which", ["home", "listing", "listing_filtered", "product"])
def test_second_anonymous_view_runs_no_sql(client, shop, which, django_assert_num_queries):
    url = {"home": "/", "listing": shop.category.url, "listing_filtered": shop.category.url + "?sort=price&in_stock=on",
           "product": shop.pages[0].url}[which]
    first = client.get(url)
    assert first.status_code == 200 and first[CACHED_HEADER] == "miss"
    with django_assert_num_queries(0):
        second = client.get(url)
    assert second.status_code == 200 and second[CACHED_HEADER] == "hit"
    token = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert token.sub("", second.content.decode()) == token.sub("", first.content.decode())


def test_price_change_is_shown_at_once(client, shop):
    url = shop.pages[0].url
    assert "¥40.00" in client.get(url).content.decode()
    product = shop.products[0]
    product.price = Decimal("45.50")
    product.save()  # the way the admin changes it
    html = client.get(url).content.decode()
    assert "¥45.50" in html and "¥40.00" not in html


def test_stock_change_through_the_stock_service_is_shown_at_once(client, shop):
    url = shop.category.url + "?in_stock=on"
    client.get(url)
    product = shop.products[0]
    batch = product.sku.batches.first()
    batch_stock_receive(batch=batch, facility_id=SupermarketFactory().pk, units=5, reference_type="test", reference_code="more")
    assert "25 件有货" in client.get(shop.pages[0].url).content.decode()


def test_publishing_a_page_refreshes_cached_listings(client, shop):
    url = shop.category.url
    client.get(url)
    page = shop.pages[1]
    page.title = "新标题板栗"
    page.save_revision().publish()
    assert "新标题板栗" in client.get(url).content.decode()


def test_unpublishing_a_page_removes_it_from_cached_listings(client, shop):
    url = shop.category.url
    assert shop.pages[2].title in client.get(url).content.decode()
    shop.pages[2].unpublish()
    assert shop.pages[2].title not in client.get(url).content.decode()


def test_each_visitor_gets_their_own_csrf_token_from_a_cached_page(shop):
    url = shop.pages[0].url
    a, b = Client(), Client()
    a.get(url)
    response = b.get(url)
    assert response[CACHED_HEADER] == "hit"
    token_b = response.cookies["csrftoken"].value
    html = response.content.decode()
    assert "__storefront_csrf_token__" not in html
    from django.middleware.csrf import _unmask_cipher_token

    tokens = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert tokens and all(_unmask_cipher_token(t) == token_b for t in tokens)


def test_signed_in_users_are_never_served_the_anonymous_copy(client, shop, django_user_model):
    url = shop.pages[0].url
    client.get(url)
    user = django_user_model.objects.create_user("someone", password="pw-relief-1")
    client.force_login(user)
    response = client.get(url)
    assert CACHED_HEADER not in response
    assert "退出" in response.content.decode() or "Sign out" in response.content.decode()


def test_cache_can_be_switched_off(client, shop, settings, django_assert_max_num_queries):
    settings.RELIEF_PAGE_CACHE = False
    client.get("/")
    response = client.get("/")
    assert CACHED_HEADER not in response


def test_a_bump_makes_every_cached_page_stale(client, shop):
    client.get("/")
    bump_catalogue_version()
    assert client.get("/")[CACHED_HEADER] == "miss"


def test_a_visitor_with_pending_messages_gets_a_fresh_page_not_the_cached_one(client, shop):
    url = shop.pages[0].url
    client.get(url)
    client.cookies["messages"] = "anything"
    assert CACHED_HEADER not in client.get(url)


def test_a_batch_going_past_its_best_before_at_county_midnight_is_not_served_from_the_cache(client, monkeypatch):
    import datetime

    from django.utils import timezone

    from logistics.selectors.stock import county_today
    from marketplace.models import Product
    from tests.marketplace.factories import stock_batch

    shop = catalogue(1, price="40.00", units=0)
    stock_batch(Product.objects.get(pk=shop.products[0].pk), 6, best_before=county_today())
    url = shop.pages[0].url
    assert "6 件有货" in client.get(url).content.decode()
    assert client.get(url)[CACHED_HEADER] == "hit"

    tomorrow = timezone.now() + datetime.timedelta(days=1)
    monkeypatch.setattr(timezone, "now", lambda: tomorrow)  # no stock movement happens at midnight

    after = client.get(url)
    assert after[CACHED_HEADER] == "miss" and "6 件有货" not in after.content.decode()

# --- a bounded cache: only the parameters a page reads, in one canonical form ----------------------


def test_unknown_parameters_are_ignored_so_they_share_one_entry(client, shop, django_assert_num_queries):
    url = shop.category.url
    assert client.get(url, {"x": "1"})[CACHED_HEADER] == "miss"
    with django_assert_num_queries(0):
        assert client.get(url, {"x": "2"})[CACHED_HEADER] == "hit"
    for n in range(20):  # random junk never makes a new entry
        assert client.get(f"{url}?utm_source=wx{n}&x={n}")[CACHED_HEADER] == "hit"


def test_known_parameters_in_any_order_and_spelling_are_one_entry(client, shop):
    url = shop.category.url
    first = client.get(f"{url}?sort=price&price_min=5&in_stock=on")
    assert first[CACHED_HEADER] == "miss"
    again = client.get(f"{url}?in_stock=true&price_min=5.00&x=1&sort=price")
    assert again[CACHED_HEADER] == "hit"
    assert client.get(f"{url}?sort=-price")[CACHED_HEADER] == "miss"  # a different sort is a different page


@pytest.mark.parametrize("query", ["price_min=cheap", "price_min=1e25", "price_min=0.001", "sort=bogus", "page=abc",
                                   "page=-1", "page=%EF%BC%92", "township=%E2%91%A2", "page=99999999999"])
def test_an_unreadable_value_of_a_known_parameter_is_answered_but_never_stored(client, shop, query):
    url = f"{shop.category.url}?{query}"
    first, second = client.get(url), client.get(url)
    assert first.status_code == second.status_code == 200
    assert first[CACHED_HEADER] == second[CACHED_HEADER] == "bypass"


@pytest.mark.parametrize("query", ["page=999", "township=987654"])
def test_a_value_the_page_sets_aside_is_not_kept(client, shop, query):
    url = f"{shop.category.url}?{query}"
    client.get(url)
    assert client.get(url).get(CACHED_HEADER) != "hit"


def test_the_canonical_query_keeps_only_known_parameters_sorted():
    from django.http import QueryDict

    from cms.cache import canonical_query

    assert canonical_query(QueryDict("x=1&sort=price&page=2&price_max=10.5&in_stock=off&sort=-price")) == (
        "page=2&price_max=10.50&sort=-price"
    )
    assert canonical_query(QueryDict("x=1")) == canonical_query(QueryDict("x=2")) == ""
    assert canonical_query(QueryDict("price_max=NaN")) is None
