"""An uncached listing or product page runs a fixed number of queries whatever the catalogue size."""

import pytest

from cms.cache import bump_catalogue_version
from tests.cms.factories import catalogue

pytestmark = pytest.mark.django_db


def _count_queries(client, url, django_assert_max_num_queries, ceiling=100):
    client.get(url)  # first render creates image renditions once
    bump_catalogue_version()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("which", ["listing", "product", "home"])
def test_uncached_page_query_count_does_not_grow_with_the_catalogue(client, which, django_assert_max_num_queries):
    small = catalogue(2, with_images=True)
    url = lambda c: {"listing": c.category.url + "?in_stock=on&sort=price", "product": c.pages[0].url, "home": "/"}[which]  # noqa: E731
    n_small = _count_queries(client, url(small), django_assert_max_num_queries)
    catalogue(10, with_images=True)
    n_large = _count_queries(client, url(small), django_assert_max_num_queries)
    assert n_small == n_large
    bump_catalogue_version()
    with django_assert_max_num_queries(n_small):
        client.get(url(small))


@pytest.mark.parametrize("which", ["listing", "product", "home"])
def test_an_uncached_anonymous_page_is_at_most_eight_queries(client, settings, which, django_assert_max_num_queries):
    """With the page cache off, the route and the site come from the route cache and the
    no-restrictions answer is known: what is left is the page's own content."""
    from marketplace.settlement.money_flow import money_flow_snapshot_refresh

    settings.RELIEF_PAGE_CACHE = False
    shop = catalogue(3, with_images=True)
    money_flow_snapshot_refresh()  # the home page shows the published figures (settlement refreshes them)
    url = {"listing": shop.category.url + "?in_stock=on&sort=price", "product": shop.pages[0].url, "home": "/"}[which]
    client.get(url)  # renditions made, route cached
    with django_assert_max_num_queries(8):
        response = client.get(url)
    assert response.status_code == 200 and shop.products[0].name in response.content.decode()


class TestRouteCache:
    """A cached route never serves what Wagtail would not: every change to the tree or to who may
    see a page replaces the catalogue version the route is keyed by."""

    @pytest.fixture(autouse=True)
    def _uncached_pages(self, settings):
        settings.RELIEF_PAGE_CACHE = False

    @pytest.mark.parametrize("change", ["unpublish", "delete"])
    def test_a_page_taken_down_is_gone_at_once(self, client, change):
        page = catalogue(2).pages[0]
        url = page.url
        assert client.get(url).status_code == 200
        getattr(page, change)()
        assert client.get(url).status_code == 404

    def test_a_moved_slug_answers_at_the_new_path_only(self, client):
        shop = catalogue(2)
        page, old = shop.pages[0], shop.pages[0].url
        assert client.get(old).status_code == 200
        page.slug = "renamed-chestnut"
        page.save_revision().publish()
        page.refresh_from_db()
        assert client.get(old).status_code == 404
        assert client.get(page.url).status_code == 200

    def test_a_page_made_private_asks_for_sign_in_though_its_route_was_cached(self, client):
        from wagtail.models import PageViewRestriction

        shop = catalogue(2)
        url = shop.pages[0].url
        assert client.get(url).status_code == 200
        assert client.get(url).status_code == 200  # served through the cached route
        PageViewRestriction.objects.create(page=shop.category, restriction_type=PageViewRestriction.LOGIN)
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]
        PageViewRestriction.objects.filter(page=shop.category).delete()
        assert client.get(url).status_code == 200


@pytest.mark.parametrize("which", ["listing", "product", "home"])
def test_a_signed_in_employees_uncached_page_costs_one_statement_more_than_an_anonymous_one(client, settings, which):
    """The session's user comes with its employee record, its roles from the cache, and an
    employee's header asks for no staff assignment: what an employee adds to an uncached page is
    reading the session's user (their shopper card is warm after the first view)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from marketplace.settlement.money_flow import money_flow_snapshot_refresh
    from tests.marketplace.factories import EmployeeFactory

    settings.RELIEF_PAGE_CACHE = False
    shop = catalogue(3, with_images=True)
    money_flow_snapshot_refresh()
    url = {"listing": shop.category.url + "?in_stock=on&sort=price", "product": shop.pages[0].url, "home": "/"}[which]
    client.get(url)
    with CaptureQueriesContext(connection) as anonymous:
        client.get(url)
    client.force_login(EmployeeFactory().user)
    client.get(url)
    with CaptureQueriesContext(connection) as signed_in:
        response = client.get(url)
    assert response.status_code == 200 and shop.products[0].name in response.content.decode()
    assert len(signed_in.captured_queries) <= len(anonymous.captured_queries) + 1, [q["sql"][:90] for q in signed_in.captured_queries]
