"""The product page's reads, compiled once: the same product, batch, villages and origin pages the
ORM's querysets read."""

from decimal import Decimal

import pytest

from cms.models import OriginPage
from cms.selectors import product_detail
from households.models import Village
from logistics.models import BatchShare, PackedBatch
from marketplace.models import Product
from tests.cms.factories import catalogue, origin_pages
from tests.households.factories import HouseholdFactory, TownshipFactory, VillageFactory
from tests.marketplace.factories import stock_batch

pytestmark = pytest.mark.django_db


def _orm_reads(product):
    """What product_detail read through the ORM before its queries were compiled once."""
    latest = PackedBatch.objects.filter(sku_id=product.sku_id).select_related("station__township").order_by("-packed_at", "-id").first()
    villages = list(
        Village.objects.filter(households__batch_shares__batch__sku_id=product.sku_id).select_related("township").distinct().order_by("code")[:12]
    )
    township_ids = {v.township_id for v in villages} | ({latest.station.township_id} if latest and latest.station.township_id else set())
    pages = list(OriginPage.objects.live().filter(township_id__in=township_ids, village__isnull=True).order_by("path"))
    return Product.objects.select_related("sku__produce", "sku__grade").get(pk=product.pk), latest, villages, pages


def _share(batch, village):
    BatchShare.objects.create(batch=batch, household=HouseholdFactory(village=village), weight_kg=Decimal("1.000"))


def test_the_product_pages_reads_are_the_orms_for_each_product():
    cat = catalogue(3)
    towns = [TownshipFactory() for _ in range(3)]
    for town in towns[:2]:
        origin_pages(town)
    villages = [VillageFactory(township=towns[i % 3]) for i in range(15)]
    first, second, _third = cat.products
    batch = stock_batch(first, 4)
    for village in villages:  # more villages than the page lists
        _share(batch, village)
    _share(stock_batch(second, 2), villages[1])
    for product, page in zip(cat.products, cat.pages, strict=True):
        for _ in range(2):
            detail = product_detail(page=page)
            product_orm, latest, village_list, pages = _orm_reads(product)
            assert (detail.product.pk, detail.product.sku.produce, detail.product.sku.grade) == (
                product_orm.pk, product_orm.sku.produce, product_orm.sku.grade)
            assert detail.latest_batch == latest and detail.latest_batch.station.township == latest.station.township
            assert [(v.pk, v.township.name) for v in detail.villages] == [(v.pk, v.township.name) for v in village_list]
            assert detail.origin_pages == pages
    assert len(product_detail(page=cat.pages[0]).villages) == 12
    assert product_detail(page=cat.pages[0]).origin_pages  # the case compared above is not empty


def test_the_product_page_links_its_townships_pages_without_a_statement_per_page(client, settings):
    """The township pages are read with only the columns a link needs: rendering their links reads
    nothing more, however many townships the product comes from."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.RELIEF_PAGE_CACHE = False
    cat = catalogue(1)
    batch = stock_batch(cat.products[0], 4)
    url = cat.pages[0].url
    counts = []
    for n in (1, 4):
        towns = [TownshipFactory() for _ in range(n)]
        pages = [origin_pages(town) for town in towns]
        for town in towns:
            _share(batch, VillageFactory(township=town))
        client.get(url)  # the route cached
        with CaptureQueriesContext(connection) as ctx:
            html = client.get(url).content.decode()
        counts.append(len(ctx.captured_queries))
        for page in pages:
            assert f'href="{page.url}">{page.title}</a>' in html
    assert counts[0] == counts[1]
