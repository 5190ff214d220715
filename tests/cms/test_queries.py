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
