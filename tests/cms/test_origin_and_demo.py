"""Origin pages show only aggregates; the demo seeder builds the page tree once."""

import io
from decimal import Decimal

import pytest
from wagtail.models import Site

from cms.models import CategoryPage, HomePage, OriginPage, ProductPage
from logistics.services.intake import intake_record
from tests.cms.factories import catalogue, origin_pages
from tests.logistics.intake_factories import intake_kwargs, point_setup

pytestmark = pytest.mark.django_db


def test_origin_page_shows_households_kg_and_income_but_no_persons_data(client):
    setup = point_setup(households=2)
    intake_record(**intake_kwargs(setup, household_number=setup.households[0].number, weight_kg="10.000"))
    intake_record(**intake_kwargs(setup, household_number=setup.households[1].number, weight_kg="5.500"))
    page = origin_pages(setup.village.township)
    html = client.get(page.url).content.decode()
    assert "参与农户" in html
    assert "31 斤 (15.5 kg)" in html
    for household in setup.households:
        assert household.head_name not in html
        assert household.id_number not in html
        assert household.phone not in html
        assert household.number not in html


def test_origin_village_must_be_in_its_township():
    from django.core.exceptions import ValidationError

    a, b = point_setup(households=1), point_setup(households=1)
    page = OriginPage(title="x", slug="x", township=a.village.township, village=b.village)
    with pytest.raises(ValidationError):
        page.clean()


def test_seed_builds_the_page_tree_as_the_site_root_and_is_idempotent():
    from cms import demo

    cat = catalogue(2)
    ProductPage.objects.all().delete()
    point_setup(households=1)
    out = io.StringIO()
    demo.seed(households=10, stdout=out, context={})
    home = HomePage.objects.get()
    assert Site.objects.get(is_default_site=True).root_page_id == home.pk
    assert CategoryPage.objects.filter(category="chestnut").exists()
    assert ProductPage.objects.live().filter(product__in=cat.products).count() == 2
    assert OriginPage.objects.exists()
    page = ProductPage.objects.live().first()
    assert any(block.block_type == "figure" for block in page.body)
    counts = (HomePage.objects.count(), CategoryPage.objects.count(), ProductPage.objects.count(), OriginPage.objects.count())
    demo.seed(households=10, stdout=out, context={})
    assert counts == (HomePage.objects.count(), CategoryPage.objects.count(), ProductPage.objects.count(), OriginPage.objects.count())


def test_seeded_product_page_renders_responsive_images(client):
    from cms import demo

    catalogue(1)
    ProductPage.objects.all().delete()
    demo.seed(households=10, stdout=io.StringIO(), context={})
    page = ProductPage.objects.live().first()
    html = client.get(page.url).content.decode()
    assert "srcset=" in html and 'sizes="' in html
    assert 'alt="' in html
    assert Decimal("0") < page.product.price


def test_a_page_under_a_township_page_must_be_about_one_of_its_villages():
    from django.core.exceptions import ValidationError

    setup = point_setup(households=1)
    township_page = origin_pages(setup.village.township)
    child = OriginPage(title="整个镇", slug="whole", township=setup.village.township, live=False)
    township_page.add_child(instance=child)
    with pytest.raises(ValidationError):
        child.save_revision().publish()
    village_page = OriginPage(title="一个村", slug="one-village", township=setup.village.township, village=setup.village, live=False)
    township_page.add_child(instance=village_page)
    village_page.save_revision().publish()
    village_page.refresh_from_db()
    assert village_page.live
