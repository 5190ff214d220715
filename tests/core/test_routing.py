"""The site's routes are resolved once per path and then remembered (core/routing.py): the same
view and arguments as Django's own walk, each path walked once, unknown paths never kept, and no
request's arguments reaching the next."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.urls import Resolver404, URLResolver, get_resolver, path, resolve, reverse
from django.urls.resolvers import RoutePattern

from core.routing import RememberingResolver
from tests.core.test_routes_not_shadowed import _named_routes


def _view(request, **kwargs):
    return HttpResponse("")


def test_the_site_is_routed_through_the_memo() -> None:
    (only,) = get_resolver().url_patterns
    assert isinstance(only, RememberingResolver)


def test_every_named_route_resolves_as_djangos_own_walk() -> None:
    (memo,) = get_resolver().url_patterns
    plain = URLResolver(RoutePattern("", is_endpoint=False), memo.url_patterns)  # the same routes, no memo
    routes = list(_named_routes(get_resolver().url_patterns))
    assert len(routes) > 100
    for name, kwargs, _pattern in routes:
        address = reverse(name, kwargs=kwargs).lstrip("/")
        for _twice in range(2):  # walked, then remembered
            got, expected = memo.resolve(address), plain.resolve(address)
            assert (got.func, got.args, got.kwargs, got.url_name, got.namespaces, got.route) == (
                expected.func, expected.args, expected.kwargs, expected.url_name, expected.namespaces, expected.route
            ), name
    for page in ("", "chestnut/", "chestnut/za-chestnut-2500/"):  # Wagtail's pages, after every app
        assert memo.resolve(page).kwargs == plain.resolve(page).kwargs


def test_a_path_is_walked_once() -> None:
    walked = []

    def counting(request, number):
        return HttpResponse(number)

    class Counted(RoutePattern):
        def match(self, path):
            walked.append(path)
            return super().match(path)

    first = path("other/<slug:x>/", _view)
    second = path("orders/<str:number>/", counting)
    second.pattern = Counted("orders/<str:number>/", is_endpoint=True)
    memo = RememberingResolver([first, second], size=2)
    assert memo.resolve("orders/A7/").kwargs == {"number": "A7"}
    assert memo.resolve("orders/A7/").kwargs == {"number": "A7"}
    assert walked == ["orders/A7/"]
    assert memo.resolve("orders/B8/").kwargs == {"number": "B8"}
    memo.resolve("orders/C9/")  # a third path: the oldest of the two kept goes
    memo.resolve("orders/A7/")
    assert walked == ["orders/A7/", "orders/B8/", "orders/C9/", "orders/A7/"]


def test_unknown_paths_raise_every_time_and_are_not_kept() -> None:
    memo = RememberingResolver([path("known/", _view)])
    for _twice in range(2):
        with pytest.raises(Resolver404):
            memo.resolve("nothing/here/")
    assert memo._resolve_memo.cache_info().currsize == 0


def test_one_requests_arguments_do_not_reach_the_next() -> None:
    match = resolve("/orders/A7/")
    match.kwargs["number"] = "changed by a view"
    assert resolve("/orders/A7/").kwargs == {"number": "A7"}
