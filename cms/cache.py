"""The storefront's page cache: anonymous page views served with zero SQL queries, and signed-in
employees' page views from the same kind of shared entry, filled in per person without SQL.

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

Signed-in employees. A page is rendered for them with placeholders where the person's own
figures go (name, allocation balance, cart units: ``{% shopper as me %}`` in the templates, see
``cms/templatetags/storefront.py``) and stored once per path for every employee — an entry
holds nothing of any person. Each hit fills the placeholders from two small cache records: the
*person entry* of the signed-in user (``cms:person:<user id>``: their session auth hash, their
employee id, whether the shared employee variant of the page fits them) and marketplace's
*shopper card* of the employee (``marketplace/shopper_card.py``: name, balance, cart units,
dropped by every writer that changes them). The session comes from the cache (``cached_db``),
so a warm signed-in hit runs no SQL either. A user whose header differs from a plain
employee's (staff of a facility, the county office), a request with messages waiting, and a
session whose auth hash no longer matches (password changed) are rendered as before.

Stock badges in a window. On allocation day stock moves with every checkout; dropping every
cached page at each sale would leave the cache empty exactly when it is needed. With
``STOREFRONT_STOCK_BADGE_SECONDS`` = W > 0, a stock movement (reserve, sale, release, receipt,
write-off) does not change the catalogue version; it records the time of the last movement, and
the key carries a *stock generation*: while the window of W seconds in which stock last moved
is still running, pages are shared under a "live" generation of that window (badges at most W
seconds behind); once it has passed, the next view renders afresh under the settled generation
and is shared until stock moves again. So a badge is never more than W seconds stale, and under
continuous sales each page is rendered about once per W seconds instead of once per sale. A stale
badge never sells what is not there: the cart and checkout read stock themselves. Holds, recalls,
inspections, prices and pages still change the catalogue version at once. W = 0 (the tests)
drops every page at each movement.

Where the cache is process-local (locmem, the embedded default), the version and the time of the
last stock movement live in small files as well, so that every worker process of a server sees
a change made by any other.
"""

from __future__ import annotations

import contextvars
import hashlib
import os
import re
import threading
import time
import uuid
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils.crypto import constant_time_compare
from django.utils.html import escape
from django.utils.translation import get_language
from wagtail import views as wagtail_views
from wagtail.url_routing import RouteResult

from core.cache_writes import cache_set
from logistics.selectors.stock import county_today

VERSION_KEY = "cms:catalogue-version"
PAGE_TTL = 600
CSRF_PLACEHOLDER = "__storefront_csrf_token__"
_CSRF_INPUT = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*(")')
CACHED_HEADER = "X-Storefront-Cache"
PERSON_TTL = 6 * 60 * 60
# where a shared page has the person's own figures; filled in on every answer
PLACEHOLDERS = {"name": "__shopper_name__", "balance": "__shopper_balance__", "cart_units": "__shopper_cart_units__"}
SHARED_RENDER_ATTR = "_storefront_shared_render"


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


# (the catalogue version, when stock last moved) as read once for the request ``serve`` is
# answering: its route key, page key and view-restriction check read them from one round trip
_SERVING = contextvars.ContextVar("cms_serving_versions", default=None)


def _read_versions() -> tuple[str, float] | None:
    """Both figures in one round trip to a shared cache (None for a process-local one, whose
    figures live in files)."""
    if _process_local_cache():
        return None
    found = cache.get_many([VERSION_KEY, STOCK_MOVED_KEY])
    version = found.get(VERSION_KEY)
    return (version if version is not None else catalogue_version(), _moved_at(found.get(STOCK_MOVED_KEY)))


def catalogue_version() -> str:
    serving = _SERVING.get()
    if serving is not None:
        return serving[0]
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
    _SERVING.set(None)
    version = uuid.uuid4().hex
    if _process_local_cache():
        path = _version_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")  # threads of one process too
        tmp.write_text(version)
        os.replace(tmp, path)
    cache.set(VERSION_KEY, version, None)


STOCK_MOVED_KEY = "cms:stock-moved-at"


def stock_badge_seconds() -> int:
    return int(getattr(settings, "STOREFRONT_STOCK_BADGE_SECONDS", 0))


def _stock_file() -> Path:
    return Path(settings.MEDIA_ROOT) / ".storefront-stock-moved-at"


def _set_stock_moved() -> None:
    _SERVING.set(None)
    moved = repr(time.time())
    if _process_local_cache():
        path = _stock_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(moved)
        os.replace(tmp, path)
    cache_set(STOCK_MOVED_KEY, moved, None)  # with the writer's other writes, in a block


def _moved_at(raw) -> float:
    try:
        return float(raw) if raw else 0.0
    except ValueError:
        return 0.0


def _stock_moved_at() -> float:
    serving = _SERVING.get()
    if serving is not None:
        return serving[1]
    raw = None
    if _process_local_cache():
        try:
            raw = _stock_file().read_text()
        except OSError:
            raw = None
    else:
        raw = cache.get(STOCK_MOVED_KEY)
    return _moved_at(raw)


def stock_generation() -> str:
    """The part of a page's key that follows stock badges (see the module's docstring)."""
    window = stock_badge_seconds()
    if window <= 0:
        return ""
    moved = int(_stock_moved_at() // window)
    return f":s{moved}" if int(time.time() // window) > moved else f":s{moved}live"


def note_stock_moved(**_kwargs) -> None:
    """Stock counters changed: with a badge window, record when (now and again at commit, so the
    window counts from when the change is visible); without one, drop every page."""
    if stock_badge_seconds() <= 0:
        bump_catalogue_version()
        return
    _set_stock_moved()
    connection = transaction.get_connection()
    if connection.in_atomic_block and not any(func is _set_stock_moved for _sids, func, _robust in connection.run_on_commit):
        transaction.on_commit(_set_stock_moved)


def _page_version(suffix: str = "") -> str:
    # the county's day is part of the version: at local midnight batches go past their
    # best-before without any stock movement, and yesterday's stock badges must not be served
    return f"{catalogue_version()}:{county_today().isoformat()}{stock_generation()}{suffix}"


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


# --- signed-in employees ---------------------------------------------------------------------------


def _person_key(user_id) -> str:
    return f"cms:person:{user_id}"


def _person_entry_build(user_id) -> dict:
    """What the hit path needs to trust a session and pick the shared variant (one user read,
    the employee and the user's roles)."""
    from django.contrib.auth import get_user_model

    from core.landing import screens_for

    from .screens import employee_screens
    from .selectors import employee_for

    user = get_user_model().objects.filter(pk=user_id).first()
    entry = {"auth_hash": "", "employee_id": None, "shared": False}
    if user is not None and user.is_active:
        employee = employee_for(user)
        entry["auth_hash"] = user.get_session_auth_hash()
        if employee is not None:
            entry["employee_id"] = employee.pk
            # the header lists the user's screens: a plain employee's header is the same for all
            entry["shared"] = [s.url for s in screens_for(user)] == [s.url for s in employee_screens(user)]
    cache.set(_person_key(user_id), entry, PERSON_TTL)
    return entry


def person_entry_forget(*, user_id) -> None:
    key = _person_key(user_id)
    cache.delete(key)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: cache.delete(key))


def _shared_shopper(request):
    """The signed-in employee's shopper card when the shared employee variant of a page may be
    served to this request, else None. Warm, it reads only the cache (session, person, card)."""
    from marketplace.shopper_card import shopper_card_lookup

    session = request.session
    user_id = session.get(SESSION_KEY)
    if user_id is None or "_messages" in session or getattr(settings, "MESSAGE_COOKIE_NAME", "messages") in request.COOKIES:
        return None
    if session.get(BACKEND_SESSION_KEY) not in settings.AUTHENTICATION_BACKENDS:
        return None
    entry = cache.get(_person_key(user_id))
    if entry is None:
        entry = _person_entry_build(user_id)
    if not entry["shared"] or not constant_time_compare(session.get(HASH_SESSION_KEY, ""), entry["auth_hash"]):
        return None
    card, generation, year = shopper_card_lookup(entry["employee_id"])
    if card is None:
        from marketplace.models import Employee
        from marketplace.shopper_card import shopper_card_build

        employee = Employee.objects.filter(pk=entry["employee_id"]).first()
        if employee is None:
            return None
        card = shopper_card_build(employee, generation=generation, year=year)
    return card


def _session_without_user(request) -> bool:
    """A session cookie, but nobody signed in and no message waiting: the anonymous page fits."""
    if getattr(settings, "MESSAGE_COOKIE_NAME", "messages") in request.COOKIES:
        return False
    session = request.session
    return SESSION_KEY not in session and "_messages" not in session


def shopper_values(card) -> dict:
    """The placeholders' text for one card (HTML-escaped)."""
    from core.templatetags.relief import cny

    return {"name": escape(card.name), "balance": escape(cny(card.balance)), "cart_units": str(card.cart_units)}


def _personalise(body: str, request, card) -> str:
    for name, value in shopper_values(card).items():
        body = body.replace(PLACEHOLDERS[name], value)
    return body.replace(CSRF_PLACEHOLDER, get_token(request))


def _serve_signed_in(request, path):
    card = _shared_shopper(request)
    if card is None:
        response = wagtail_views.serve(request, path)
        response["Cache-Control"] = "private"
        return response
    query = canonical_query(request.GET)
    key = None
    if query is not None:
        key = _key(request, _page_version(":employee"), query)
        hit = cache.get(key)
        if hit is not None:
            content_type, body = hit
            response = HttpResponse(_personalise(body, request, card), content_type=content_type)
            response[CACHED_HEADER] = "hit"
            response["Cache-Control"] = "private"
            return response
    setattr(request, SHARED_RENDER_ATTR, True)
    response = wagtail_views.serve(request, path)
    if hasattr(response, "render") and not getattr(response, "is_rendered", True):
        response = response.render()
    if response.status_code != 200 or response.streaming or not getattr(request, SHARED_RENDER_ATTR, False):
        return response
    body = _CSRF_INPUT.sub(rf"\g<1>{CSRF_PLACEHOLDER}\g<2>", response.content.decode(response.charset))
    status = "bypass"
    if key is not None and getattr(request, "_storefront_cacheable", False) and not response.cookies:
        cache.set(key, (response["Content-Type"], body), PAGE_TTL)
        status = "miss"
    response.content = _personalise(body, request, card).encode(response.charset)
    response[CACHED_HEADER] = status
    response["Cache-Control"] = "private"
    return response


ROUTE_TTL = PAGE_TTL


def _route_key(request, path: str) -> str:
    where = hashlib.md5(f"{request._get_raw_host()}|{request.get_port()}|{path}".encode(), usedforsecurity=False).hexdigest()
    return f"cms:route:{catalogue_version()}:{where}"


def route(request, path: str) -> None:
    """Find the site and the page for ``path`` as Wagtail does (``Page.route_for_request``), from
    the cache when it can: a storefront page's route costs Wagtail one query for the site and two
    per level of the tree (five for a product page), every view. The entry holds the site and the
    routed page as just loaded from the database, before any view touched them; it is keyed by
    the catalogue version, which every publish, unpublish, move, slug change, delete and view
    restriction change replaces. Only plain routes of storefront page types are kept."""
    if request.method not in ("GET", "HEAD"):
        return
    key = _route_key(request, path)
    hit = cache.get(key)
    if hit is not None:
        request._wagtail_site, page = hit
        request._wagtail_route_for_request = RouteResult(page)
        return
    from wagtail.models import Page

    from .models import CachedPageMixin

    result = Page.route_for_request(request, path)
    if result is None:
        return
    page, args, kwargs = result
    if isinstance(page, CachedPageMixin) and not args and not kwargs and getattr(request, "_wagtail_site", None) is not None:
        cache.set(key, (request._wagtail_site, page), ROUTE_TTL)


def view_restrictions_exist() -> bool:
    """Whether any page has a view restriction (private, password, groups). Almost never: then a
    page need not look up its ancestors' restrictions on every view. Cached per catalogue version."""
    key = f"cms:view-restrictions:{catalogue_version()}"
    found = cache.get(key)
    if found is None:
        from wagtail.models import PageViewRestriction

        found = PageViewRestriction.objects.exists()
        cache.set(key, found, ROUTE_TTL)
    return found


def serve(request, path):
    """Wagtail's ``serve`` behind the page cache."""
    token = _SERVING.set(_read_versions())
    try:
        return _serve(request, path)
    finally:
        _SERVING.reset(token)


def _serve(request, path):
    route(request, path)
    if request.method not in ("GET", "HEAD") or not page_cache_enabled():
        return wagtail_views.serve(request, path)
    if not _is_surely_anonymous(request) and not _session_without_user(request):
        return _serve_signed_in(request, path)
    query = canonical_query(request.GET)
    if query is None:
        response = wagtail_views.serve(request, path)
        response[CACHED_HEADER] = "bypass"
        return response
    key = _key(request, _page_version(), query)
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
