"""The storefront pages: what a shopper sees, in Chinese by default."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from cms.models import ProductPage
from tests.cms.factories import catalogue, category_page

pytestmark = pytest.mark.django_db


def test_home_page_shows_this_seasons_produce_in_chinese_with_prices_in_yuan(client):
    cat = catalogue(2, price="88.50")
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in html
    assert cat.products[0].name in html
    assert "¥88.50" in html
    assert "本季山货" in html


def test_product_page_shows_live_price_stock_weight_in_jin_and_kg_and_trace_link(client):
    cat = catalogue(1, price="66.00", units=7)
    html = client.get(cat.pages[0].url).content.decode()
    assert "¥66.00" in html
    assert "5 斤 (2.5 kg)" in html
    assert 'action="/cart/add/"' in html
    assert cat.products[0].sku.batches.first().code in html


def test_product_page_cannot_be_published_without_a_linked_product():
    category = category_page()
    draft = ProductPage(title="没有商品的故事", slug="no-product", live=False)
    category.add_child(instance=draft)  # a draft without a product is fine
    with pytest.raises(ValidationError) as excinfo:
        draft.save_revision().publish()
    assert "product" in excinfo.value.message_dict
    draft.refresh_from_db()
    assert not draft.live


def test_product_page_with_a_product_publishes():
    cat = catalogue(1)
    page = ProductPage(title="有商品", slug="with-product", product=cat.products[0], live=False)
    cat.category.add_child(instance=page)
    page.save_revision().publish()
    page.refresh_from_db()
    assert page.live


def test_category_listing_filters_by_price_and_stock_with_a_plain_get_form(client):
    cat = catalogue(3, price="10.00")  # 10, 11, 12
    sold_out = catalogue(1, price="11.00", units=0)
    url = cat.category.url
    html = client.get(url, {"price_min": "10.50", "price_max": "12.00"}).content.decode()
    assert cat.products[1].name in html and cat.products[2].name in html
    assert cat.products[0].name not in html
    assert sold_out.products[0].name in html
    html = client.get(url, {"price_min": "10.50", "in_stock": "on"}).content.decode()
    assert sold_out.products[0].name not in html
    assert '<form method="get"' in html


def test_category_listing_sorts_by_price(client):
    cat = catalogue(3, price="10.00")
    html = client.get(cat.category.url, {"sort": "-price"}).content.decode()
    positions = [html.index(p.name) for p in cat.products]
    assert positions == sorted(positions, reverse=True)


def test_category_listing_is_paginated(client):
    cat = catalogue(14)
    first = client.get(cat.category.url).content.decode()
    second = client.get(cat.category.url, {"page": 2}).content.decode()
    assert first.count('class="product-card"') == 12
    assert second.count('class="product-card"') == 2


def test_pages_switch_to_english(client):
    catalogue(1)
    client.cookies["django_language"] = "en"
    html = client.get("/").content.decode()
    assert '<html lang="en">' in html
    assert "This season&#x27;s produce" in html or "This season's produce" in html


def test_new_page_needs_product_in_admin_when_publishing(admin_client):
    category = category_page()
    url = f"/admin/pages/add/cms/productpage/{category.pk}/"
    data = {"title": "草稿", "slug": "draft-x", "summary": "", "body-count": "0", "action-publish": "action-publish"}
    response = admin_client.post(url, data)
    assert response.status_code == 200  # form shown again with the error
    assert not ProductPage.objects.filter(slug="draft-x").exists()
    del data["action-publish"]
    response = admin_client.post(url, data)
    assert ProductPage.objects.filter(slug="draft-x", live=False).exists()


def test_category_listing_filters_by_township_of_origin_and_by_produce(client):
    from tests.logistics.factories import ProduceFactory

    shiitake = ProduceFactory(code="shiitake", name="香菇", category="fungi")
    wood_ear = ProduceFactory(code="woodear", name="木耳", category="fungi")
    a = catalogue(1, produce=shiitake)
    b = catalogue(1, produce=wood_ear)
    township_a = a.products[0].sku.batches.get().station.township
    html = client.get(a.category.url, {"township": township_a.pk}).content.decode()
    assert a.products[0].name in html and b.products[0].name not in html
    html = client.get(a.category.url, {"produce": wood_ear.pk}).content.decode()
    assert b.products[0].name in html and a.products[0].name not in html


def test_a_malformed_filter_is_shown_as_an_error_not_a_crash(client):
    cat = catalogue(1)
    response = client.get(cat.category.url, {"price_min": "cheap", "page": "999"})
    assert response.status_code == 200
    assert cat.products[0].name in response.content.decode()


def test_home_headline_is_what_was_paid_to_households_with_attributed_sales_beside_it(client):
    import datetime

    from households.models import IncomeKind
    from households.services import income_entry_record
    from tests.households.factories import HouseholdFactory

    catalogue(1)
    a, b = HouseholdFactory(), HouseholdFactory()
    day = datetime.date(2026, 10, 1)
    income_entry_record(household=a, kind=IncomeKind.INTAKE, amount=Decimal("100.00"), date=day, source_type="intake", source_code="L1")
    income_entry_record(household=b, kind=IncomeKind.SALES, amount=Decimal("20.50"), date=day, source_type="sale", source_code="S1")
    income_entry_record(household=b, kind=IncomeKind.DIVIDEND, amount=Decimal("1.03"), date=day, source_type="dividend", source_code="D1")
    html = client.get("/").content.decode()
    assert 'data-testid="paid-to-households">¥101.03<' in html  # intake + dividends, as /money-flow/ says
    assert "2 户农户" in html
    assert "¥20.50" in html and "¥1.03" in html
    assert a.head_name not in html and b.head_name not in html


def test_this_seasons_list_is_the_in_stock_pages_newest_packed_first_as_the_annotated_query_orders_them():
    """``season_product_pages`` reads the SKUs in stock first and then only their pages: the same
    pages, order and figures as filtering and ordering ``product_pages``' annotations."""
    import datetime

    from django.db.models import F

    from cms.selectors import product_pages, season_product_pages
    from logistics.models import PackedBatch
    from logistics.selectors.stock import county_today
    from tests.marketplace.factories import stock_batch

    shop = catalogue(9, units=0)
    p = shop.products
    stock_batch(p[0], 5, days_ago=30)
    stock_batch(p[0], 2, days_ago=3)  # p0's newest batch: 3 days
    stock_batch(p[1], 4, days_ago=1)  # the newest of all
    stock_batch(p[2], 6, days_ago=20)
    stock_batch(p[3], 6, days_ago=2, passed=False)  # not inspected: not on sale
    held = stock_batch(p[4], 6, days_ago=2)
    PackedBatch.objects.filter(pk=held.pk).update(on_hold=True)  # recalled
    stock_batch(p[5], 6, days_ago=400, best_before=county_today() - datetime.timedelta(days=1))  # past its date
    stock_batch(p[6], 3, days_ago=15)
    stock_batch(p[6], 8, days_ago=0, passed=False)  # newest batch not yet inspected: still counts as newest
    # p[7] and p[8] have no stock at all
    p[8].active = False
    p[8].save()

    expected = list(product_pages().filter(available__gt=0).order_by(F("newest").desc(nulls_last=True), "path"))
    for limit in (8, 3):
        got = season_product_pages(limit=limit)
        assert [(g.pk, g.price, g.available, g.newest) for g in got] == [
            (e.pk, e.price, e.available, e.newest) for e in expected[:limit]
        ]
    assert [g.product for g in season_product_pages()] == [p[6], p[1], p[0], p[2]]
    assert [g.available for g in season_product_pages()] == [3, 4, 7, 6]
