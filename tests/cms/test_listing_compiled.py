"""The listing's cards come from a statement compiled once per shape of the filter form, the
home page's season pages and the dropdowns' choices from statements compiled once. Each must
give what the querysets give, for any filter values a visitor can type, on any county day."""

import datetime
import re
from decimal import Decimal
from unittest import mock

import pytest
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cms import selectors
from cms.models import LISTING_PAGE_SIZE
from tests.cms.factories import catalogue
from tests.logistics.factories import ProduceFactory
from tests.marketplace.factories import stock_batch

pytestmark = pytest.mark.django_db


def _queryset_page(filterset, number):
    """The listing as the queryset gives it (the category page's own fallback)."""
    paginator = Paginator(filterset.qs, LISTING_PAGE_SIZE)
    try:
        page = paginator.page(number or 1)
    except PageNotAnInteger:
        page = paginator.page(1)
    except EmptyPage:
        page = paginator.page(paginator.num_pages)
    return page


def _cards(page):
    return [(p.pk, p.price, p.available, p.newest) for p in page.object_list]


@pytest.fixture
def shop():
    """Two produces of one category over 15 pages: prices 20–34 yuan, three sold out, one batch
    expiring today, batches packed in different townships."""
    chestnut = ProduceFactory(code="chestnut", name="板栗", category="chestnut")
    big = ProduceFactory(code="big-chestnut", name="大板栗", category="chestnut")
    walnut = ProduceFactory(code="walnut", name="核桃", category="walnut")
    a = catalogue(9, price="20.00", produce=chestnut)
    b = catalogue(3, price="29.00", produce=big)
    c = catalogue(3, price="32.00", produce=big, units=0)
    catalogue(2, price="40.00", produce=walnut)
    today = selectors.county_today()
    stock_batch(c.products[0], 5, best_before=today)
    return {"category": a.category, "produces": [chestnut, big, walnut], "products": a.products + b.products + c.products,
            "townships": sorted({p.sku.batches.first().station.township_id for p in a.products + b.products})}


_amounts = st.one_of(st.just(""), st.decimals(min_value=0, max_value=60, places=2).map(str), st.sampled_from(["-1", "abc", "1e3", "25", "0"]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_any_filters_and_page_give_the_cards_the_queryset_gives(shop, data):
    produce = data.draw(st.sampled_from(["", "abc", "999999", *[str(p.pk) for p in shop["produces"]]]))
    township = data.draw(st.sampled_from(["", "x", "999999", *[str(t) for t in shop["townships"]]]))
    query = {"produce": produce, "township": township, "price_min": data.draw(_amounts), "price_max": data.draw(_amounts)}
    if data.draw(st.booleans()):
        query["in_stock"] = "on"
    sort = data.draw(st.sampled_from([None, "", "price", "-price", "newest", "bogus"]))
    if sort is not None:
        query["sort"] = sort
    number = data.draw(st.sampled_from([None, "1", "2", "3", "0", "-1", "abc", " 2 ", "2.0"]))
    query = {k: v for k, v in query.items() if data.draw(st.booleans()) or k == "in_stock"}

    category = shop["category"]
    filterset = selectors.product_page_filterset(data=query, category_page=category)
    compiled = selectors.listing_page(filterset, category_page=category, number=number, per_page=LISTING_PAGE_SIZE)
    expected = _queryset_page(selectors.product_page_filterset(data=query, category_page=category), number)
    if compiled is None:  # only where the paginator must look further
        assert number not in (None, "1") and (not number.strip().isdigit() or int(number) < 1 or int(number) > expected.paginator.num_pages)
        return
    assert compiled.number == expected.number
    assert (compiled.paginator.count, compiled.paginator.num_pages) == (expected.paginator.count, expected.paginator.num_pages)
    assert _cards(compiled) == _cards(expected)


def test_the_first_page_unfiltered_is_compiled_and_cards_carry_their_images_renditions(client, django_assert_num_queries):
    shop = catalogue(14, with_images=True)
    client.get(shop.category.url)  # renditions made
    filterset = selectors.product_page_filterset(data={}, category_page=shop.category)
    with django_assert_num_queries(2):  # the page with its total, the renditions
        page = selectors.listing_page(filterset, category_page=shop.category, number=None, per_page=LISTING_PAGE_SIZE)
        assert all(card.hero_image.prefetched_renditions for card in page.object_list)
    assert page.paginator.count == 14 and len(page.object_list) == LISTING_PAGE_SIZE and page.has_next()


def test_the_county_day_is_a_parameter_so_a_batch_past_its_best_before_leaves_the_listing_next_day(monkeypatch):
    shop = catalogue(1, units=0)
    today = selectors.county_today()
    stock_batch(shop.products[0], 6, best_before=today)
    query = {"in_stock": "on"}

    def cards_on(day):
        monkeypatch.setattr(selectors, "county_today", lambda: day)
        filterset = selectors.product_page_filterset(data=query, category_page=shop.category)
        page = selectors.listing_page(filterset, category_page=shop.category, number="1", per_page=LISTING_PAGE_SIZE)
        return [(card.pk, card.available) for card in page.object_list]

    assert cards_on(today) == [(shop.pages[0].pk, 6)]
    assert cards_on(today + datetime.timedelta(days=1)) == []  # the same compiled statement, the next day
    assert [p.pk for p in selectors.season_product_pages()] == []  # the home page's season list too


def test_the_dropdowns_list_the_querysets_choices_and_a_produce_added_later_appears(client, settings):
    settings.RELIEF_PAGE_CACHE = False  # the page itself, not the cache's copy
    shop = catalogue(2, produce=ProduceFactory(code="chestnut", name="板栗", category="chestnut"))
    ProduceFactory(code="walnut", name="核桃", category="walnut")
    html = client.get(shop.category.url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert ">板栗</option>" in html and ">核桃</option>" not in html
    ProduceFactory(code="oil-chestnut", name="油栗", category="chestnut")
    filterset = selectors.product_page_filterset(data={}, category_page=shop.category)
    listed = [label for value, label in filterset.form.fields["produce"].choices if value != ""]
    assert listed == [str(p) for p in filterset.filters["produce"].queryset]
    assert "油栗" in [str(label) for label in listed]
    html = client.get(shop.category.url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert ">油栗</option>" in html


def test_the_season_pages_are_those_in_stock_newest_first_with_price_and_units():
    fresh = catalogue(2, price="10.00")
    sold_out = catalogue(1, price="12.00", units=0)
    pages = selectors.season_product_pages()
    assert {p.pk for p in pages} == {p.pk for p in fresh.pages}
    assert sold_out.pages[0].pk not in {p.pk for p in pages}
    assert [p.price for p in pages] == [Decimal("10.00"), Decimal("11.00")]  # the first one packed more recently
    assert all(p.available == 20 for p in pages)


def test_the_product_pages_hero_image_is_read_once_and_shown(client, settings, django_assert_num_queries):
    from wagtail.images import get_image_model

    settings.RELIEF_PAGE_CACHE = False
    shop = catalogue(1, with_images=True)
    page = shop.pages[0]
    html = client.get(page.url).content.decode()
    assert 'class="product-hero"' in html
    fresh = type(page).objects.get(pk=page.pk)
    with django_assert_num_queries(1):  # the image with its renditions
        selectors.read_hero_image(fresh)
    assert type(fresh)._meta.get_field("hero_image").is_cached(fresh) and fresh.hero_image.pk == page.hero_image_id
    renditions = get_image_model().get_rendition_model().objects.filter(image_id=page.hero_image_id)
    assert {r.pk for r in fresh.hero_image.prefetched_renditions} == {r.pk for r in renditions} and len(renditions) >= 3
    assert all(r.image is fresh.hero_image for r in fresh.hero_image.prefetched_renditions)
    cache = get_image_model().get_rendition_model().cache_backend
    with mock.patch.object(cache, "get_many", wraps=cache.get_many) as asked, mock.patch.object(cache, "set_many") as written:
        again = client.get(page.url).content.decode()
    hero = re.compile(r"<img[^>]*product-hero[^>]*>")
    assert hero.findall(again) == hero.findall(html) != []  # the same image tag, its renditions not asked of the cache
    assert not asked.called and not written.called  # the story's figure is read with its renditions too
    get_image_model().objects.filter(pk=page.hero_image_id).delete()  # the page's field is set to null with it
    html = client.get(page.url).content.decode()
    assert 'class="product-hero"' not in html


def test_a_compiled_listing_never_builds_the_annotated_queryset_and_the_fallback_does(client, settings, monkeypatch):
    """The filter set's queryset is built only when the queryset answers (a page number past the
    last); for the pages the compiled statement answers, building it was wasted work."""
    settings.RELIEF_PAGE_CACHE = False
    shop = catalogue(3)
    client.get(shop.category.url + "?sort=price")  # the statement of this shape compiled
    built = []
    real = selectors.product_pages
    monkeypatch.setattr(selectors, "product_pages", lambda **kw: built.append(kw) or real(**kw))
    html = client.get(shop.category.url + "?sort=price").content.decode()
    assert built == [] and all(p.title in html for p in shop.pages)
    html = client.get(shop.category.url + "?sort=price&page=9").content.decode()  # past the last: the queryset's page
    assert len(built) == 1 and all(p.title in html for p in shop.pages)
