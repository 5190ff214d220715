"""The site's routes behind a memo of path → match.

Django finds a request's view by trying the URLconf's patterns in order, every request: a page of
the storefront (Wagtail's catch-all, last) is tried against every app's routes first, an API call
against every prefix-less include before its own, some sixty patterns and their regular
expressions — a tenth of a page served from the cache. Which view a path reaches depends on the
path alone (the routes are fixed when the process starts; none depends on the language or the
host), so a path resolved once is answered from a bounded memo afterwards. A path that matches
no route is not kept (it raises each time), so probing unknown addresses fills nothing.
"""

from __future__ import annotations

from functools import lru_cache

from django.urls import URLResolver
from django.urls.resolvers import RoutePattern

MEMO_SIZE = 4096


class RememberingResolver(URLResolver):
    """``path("", include(routes))`` whose ``resolve`` remembers its last ``MEMO_SIZE`` paths."""

    def __init__(self, routes, size: int = MEMO_SIZE):
        super().__init__(RoutePattern("", is_endpoint=False), routes)
        self._resolve_memo = lru_cache(maxsize=size)(super().resolve)

    def resolve(self, path):
        return self._resolve_memo(str(path))


def remembered(routes: list, size: int = MEMO_SIZE) -> list:
    """A URLconf's ``urlpatterns``: ``routes`` behind one remembering resolver."""
    return [RememberingResolver(routes, size)]
