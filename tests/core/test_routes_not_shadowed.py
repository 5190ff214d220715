"""Every named route answers at its own address: the path ``reverse`` gives for it resolves back to
it, not to a route listed earlier. The storefront's cart, checkout and orders are routed before the
apps' prefix-less includes (the steps of an order resolve first); this keeps that order, and any
other, from hiding a route."""

import uuid

from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.converters import IntConverter, PathConverter, SlugConverter, StringConverter, UUIDConverter
from django.urls.resolvers import RoutePattern

_SAMPLES = {IntConverter: 7, SlugConverter: "s-7", StringConverter: "s7", PathConverter: "p/7", UUIDConverter: uuid.UUID(int=7)}


def _named_routes(patterns, namespace=(), converters=None):
    for p in patterns:
        conv = {**(converters or {}), **getattr(p.pattern, "converters", {})}
        if isinstance(p, URLResolver):
            ns = (*namespace, p.namespace) if p.namespace else namespace
            yield from _named_routes(p.url_patterns, ns, conv)
        elif isinstance(p, URLPattern) and p.name and isinstance(p.pattern, RoutePattern):
            if all(type(c) in _SAMPLES for c in conv.values()):
                yield ":".join((*namespace, p.name)), {k: _SAMPLES[type(c)] for k, c in conv.items()}, p


def test_every_named_route_resolves_to_itself():
    routes = list(_named_routes(get_resolver().url_patterns))
    assert len(routes) > 100  # the walk found the site's routes
    hidden = []
    for name, kwargs, pattern in routes:
        path = reverse(name, kwargs=kwargs)
        match = resolve(path)
        if match.func is not pattern.callback and match.view_name != name:
            hidden.append((name, path, match.view_name))
    assert not hidden, f"routes answered by an earlier route: {hidden}"


def test_an_orders_steps_resolve_to_the_storefront():
    for path, name in [("/cart/", "storefront:cart"), ("/cart/add/", "storefront:cart_add"), ("/checkout/", "storefront:checkout"),
                       ("/orders/A7/", "storefront:order")]:
        assert resolve(path).view_name == name
