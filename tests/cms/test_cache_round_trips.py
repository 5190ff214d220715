"""A page ``serve`` answers reads the catalogue version and the stock clock once, in one round trip
to the shared cache: the route key, the page key and the view-restriction check all use them.
A bump during the request is seen at once."""

import pytest
from django.core.cache import cache

from cms import cache as page_cache
from tests.cms.factories import catalogue

pytestmark = pytest.mark.django_db


def _reads(monkeypatch):
    """The keys each round trip asks for (a local cache's get_many asks key by key: one trip)."""
    reads, inside = [], []
    get, get_many = cache.get, cache.get_many

    def one(key, *a, **k):
        if not inside:
            reads.append(key)
        return get(key, *a, **k)

    def many(keys, *a, **k):
        reads.append(tuple(keys))
        inside.append(True)
        try:
            return get_many(keys, *a, **k)
        finally:
            inside.pop()

    monkeypatch.setattr(cache, "get", one)
    monkeypatch.setattr(cache, "get_many", many)
    return reads


@pytest.mark.parametrize("signed_in", [False, True])
def test_a_served_page_reads_the_version_and_the_stock_clock_once(client, monkeypatch, signed_in):
    monkeypatch.setattr(page_cache, "_process_local_cache", lambda: False)  # as with Redis
    shop = catalogue(2)
    if signed_in:
        from tests.marketplace.factories import EmployeeFactory, allocation_year

        allocation_year()
        client.force_login(EmployeeFactory().user)
    url = shop.pages[0].url
    client.get(url)
    client.get(url)  # warm: route, person, card and page kept
    reads = _reads(monkeypatch)
    response = client.get(url)
    assert response.status_code == 200 and response[page_cache.CACHED_HEADER] == "hit"
    assert reads.count((page_cache.VERSION_KEY, page_cache.STOCK_MOVED_KEY)) == 1
    assert page_cache.VERSION_KEY not in reads and page_cache.STOCK_MOVED_KEY not in reads


def test_a_bump_while_serving_is_seen_by_the_rest_of_the_request(monkeypatch):
    monkeypatch.setattr(page_cache, "_process_local_cache", lambda: False)
    token = page_cache._SERVING.set(page_cache._read_versions())
    try:
        before = page_cache.catalogue_version()
        page_cache._bump()
        assert page_cache.catalogue_version() != before
        moved = page_cache._stock_moved_at()
        page_cache._set_stock_moved()
        assert page_cache._stock_moved_at() > moved
    finally:
        page_cache._SERVING.reset(token)
