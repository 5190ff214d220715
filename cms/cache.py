"""The storefront's page cache: anonymous page views served with zero SQL queries.

``serve`` wraps Wagtail's page view. For a visitor with no session (so certainly anonymous,
and decided without touching the database) and no pending messages, a page whose class is
``CachedPageMixin`` is stored once rendered, keyed by path, the query parameters the pages read
(canonical, see ``canonical_query``), language and the **catalogue version**; later views are
answered from the cache before Wagtail routes.

The catalogue version changes whenever what a page shows changes: a page published,
unpublished, moved or deleted; a product saved (price, on sale); any stock movement (every
change to stock appends a BatchMovement, even when the counters change through
``QuerySet.update``); a batch held, released or inspected. Changing the version makes every
cached page stale at once, which is cheap and never wrong. Aggregates that are not catalogue
(household figures) refresh within ``PAGE_TTL`` seconds.

CSRF tokens never leak between visitors: the stored HTML has a placeholder where the token
was, filled with the current visitor's token on every hit.

Where the cache is process-local (locmem, the embedded default), the version lives in a small
file as well, so that every worker process of a server sees a bump made by any other.
"""

from __future__ import annotations

import os
import re
import threading
import uuid
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils.translation import get_language
from wagtail import views as wagtail_views

from logistics.selectors.stock import county_today

VERSION_KEY = "cms:catalogue-version"
PAGE_TTL = 600
CSRF_PLACEHOLDER = "__storefront_csrf_token__"
_CSRF_INPUT = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*(")')
CACHED_HEADER = "X-Storefront-Cache"


def page_cache_enabled() -> bool:
    """Off with ``RELIEF_PAGE_CACHE=0`` in the environment (benchmarks) or the same setting."""
    value = getattr(settings, "RELIEF_PAGE_CACHE", None)
    if value is None:
        value = os.environ.get("RELIEF_PAGE_CACHE", "1") != "0"
    return bool(value)


def _process_local_cache() -> bool:
    backend = settings.CACHES["default"]["BACKEND"]
    return backend.endswith(("LocMemCache", "DummyCache"))


def _version_file() -> Path:
    return Path(settings.MEDIA_ROOT) / ".storefront-catalogue-version"


def catalogue_version() -> str:
    if _process_local_cache():
        try:
            return _version_file().read_text()
        except FileNotFoundError:
            return "0"
    version = cache.get(VERSION_KEY)
    if version is None:
        version = uuid.uuid4().hex
        if not cache.add(VERSION_KEY, version, None):
            version = cache.get(VERSION_KEY) or version
    return version


def _bump() -> None:
    version = uuid.uuid4().hex
    if _process_local_cache():
        path = _version_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")  # threads of one process too
        tmp.write_text(version)
        os.replace(tmp, path)
    cache.set(VERSION_KEY, version, None)


def bump_catalogue_version(**_kwargs) -> None:
    """Make every cached page stale: now, and again when the surrounding transaction commits (so
    that a page rendered between the two from not-yet-committed state is not kept). The commit
    bump is registered once per transaction, however many rows it saves."""
    _bump()
    connection = transaction.get_connection()
    if connection.in_atomic_block and not any(func is _bump for _sids, func, _robust in connection.run_on_commit):
        transaction.on_commit(_bump)


def _is_surely_anonymous(request) -> bool:
    return settings.SESSION_COOKIE_NAME not in request.COOKIES and getattr(settings, "MESSAGE_COOKIE_NAME", "messages") not in request.COOKIES


# --- the query part of the key --------------------------------------------------------------------
#
# Only the parameters a cached page reads make it into the key: the listing's filters and sort
# (its FilterSet) and ``page``. Anything else (``?x=random``, tracking tags) is ignored, so it
# cannot grow the cache. A known parameter is put in one canonical form (``price_min=5`` and
# ``price_min=5.00`` are one entry); a value that cannot be read or is out of range is not cached
# at all, and the page itself declines to be cached when its FilterSet refuses a value only the
# database can judge (a township that does not exist, a page past the last).

MAX_PAGE = 1000
MAX_PRICE = Decimal("1000000")
_ASCII_INT = re.compile(r"^[0-9]{1,9}$")


class _Uncacheable(Exception):
    pass


def _canonical_int(value: str) -> str:
    if not _ASCII_INT.match(value) or int(value) < 1:
        raise _Uncacheable
    return str(int(value))


def _canonical_page(value: str) -> str:
    page = _canonical_int(value)
    if int(page) > MAX_PAGE:
        raise _Uncacheable
    return page


def _canonical_price(value: str) -> str:
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise _Uncacheable from None
    if not number.is_finite() or number < 0 or number >= MAX_PRICE or number != number.quantize(Decimal("0.01")):
        raise _Uncacheable
    return str(number.quantize(Decimal("0.01")))


def _canonical_flag(value: str) -> str:
    return "" if value.lower() in ("", "false", "0", "off") else "1"


def _canonical_choice(choices):
    allowed = {str(value) for value, _label in choices}

    def canonical(value: str) -> str:
        if value not in allowed:
            raise _Uncacheable
        return value

    return canonical


@lru_cache(maxsize=1)
def cached_query_params() -> dict:
    """{parameter: canonicaliser} — from the storefront listing's FilterSet, plus ``page``."""
    import django_filters

    from .filters import ProductPageFilter

    params = {"page": _canonical_page}
    for name, flt in ProductPageFilter.base_filters.items():
        if isinstance(flt, django_filters.ModelChoiceFilter):
            params[name] = _canonical_int
        elif isinstance(flt, django_filters.NumberFilter):
            params[name] = _canonical_price
        elif isinstance(flt, django_filters.BooleanFilter):
            params[name] = _canonical_flag
        elif isinstance(flt, django_filters.ChoiceFilter):
            params[name] = _canonical_choice(flt.extra.get("choices", []))
        else:  # a filter of a kind not listed here: its values are not cached rather than guessed at
            params[name] = None
    return params


def canonical_query(query) -> str | None:
    """The query string of the cache key (known parameters, canonical values, sorted), or None
    when the request must not be cached."""
    known = cached_query_params()
    parts = []
    for name in sorted(set(query) & set(known)):
        value = query.getlist(name)[-1].strip()  # the page reads the last one too
        if value == "":
            continue
        canonical = known[name]
        if canonical is None:
            return None
        try:
            value = canonical(value)
        except _Uncacheable:
            return None
        if value != "":
            parts.append((name, value))
    return urlencode(parts)


def _key(request, version: str, query: str) -> str:
    return f"cms:page:{version}:{get_language()}:{request.get_host()}{request.path}?{query}"


def serve(request, path):
    """Wagtail's ``serve`` behind the anonymous page cache."""
    if request.method not in ("GET", "HEAD") or not page_cache_enabled() or not _is_surely_anonymous(request):
        return wagtail_views.serve(request, path)
    query = canonical_query(request.GET)
    if query is None:
        response = wagtail_views.serve(request, path)
        response[CACHED_HEADER] = "bypass"
        return response
    # the county's day is part of the version: at local midnight batches go past their
    # best-before without any stock movement, and yesterday's stock badges must not be served
    key = _key(request, f"{catalogue_version()}:{county_today().isoformat()}", query)
    hit = cache.get(key)
    if hit is not None:
        content_type, body = hit
        response = HttpResponse(body.replace(CSRF_PLACEHOLDER, get_token(request)), content_type=content_type)
        response[CACHED_HEADER] = "hit"
        return response
    response = wagtail_views.serve(request, path)
    if hasattr(response, "render") and not getattr(response, "is_rendered", True):
        response = response.render()
    if (
        response.status_code == 200
        and getattr(request, "_storefront_cacheable", False)
        and not response.streaming
        and not response.cookies
    ):
        body = _CSRF_INPUT.sub(rf"\g<1>{CSRF_PLACEHOLDER}\g<2>", response.content.decode(response.charset))
        cache.set(key, (response["Content-Type"], body), PAGE_TTL)
        response[CACHED_HEADER] = "miss"
    return response
