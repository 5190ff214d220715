"""The URL-walking access test: a new view cannot go without an access policy.

It walks the whole URL resolver (the Wagtail admin and /django-admin/ included). Every route that
takes keyword arguments must be declared (tests/access_routes.py explains how); for each, an
object outside each demo role's scope (tests/access_world.py) is requested as that role — and
anonymously — by GET and by POST: the answer must be a refusal (403/404, or a redirect to a login
page / Wagtail's "permission denied" redirect to the admin home), must not show the object, and
must leave every table as it was. Routes without arguments (lists) are requested as every role:
never a 500, and the lists that show records show none outside the role's scope.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.access_routes import HOW_TO_DECLARE, Obj, Open, _tables, declaration_for
from tests.access_world import ROLES, build_world

pytestmark = pytest.mark.django_db

REFUSED = {401, 403, 404, 405}
REFUSAL_REDIRECTS = ("/accounts/login/", "/admin/login/", "/django-admin/login/", "/admin/")
NOT_WATCHED = {"sessions.session"}  # sign-ins write sessions; that is not the route writing
NOT_LISTED = {"wagtailadmin_error_test"}  # Wagtail's deliberate 500, for checking error reporting


@dataclass(frozen=True)
class Route:
    name: str | None
    route: str
    kwargs: dict  # name -> converter ("int", "str", "path", "slug", "regex")

    @property
    def label(self) -> str:
        return self.name or f"/{self.route}"

    def path(self, values: dict) -> str:
        return "/" + _fill(self.route, values).replace("^", "").replace("$", "").replace("\\", "")


def _fill(route: str, values: dict) -> str:
    """``route`` with each ``<conv:name>`` and each regex group ``(?P<name>…)`` (nested groups
    included) replaced by ``values[name]``."""
    out, i = [], 0
    while i < len(route):
        if route.startswith("(?P<", i):
            name = route[i + 4:route.index(">", i)]
            depth, j = 0, i
            while True:
                if route[j] == "(" and route[j - 1:j] != "\\":
                    depth += 1
                elif route[j] == ")" and route[j - 1:j] != "\\":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            out.append(str(values[name]))
            i = j + 1
        elif route[i] == "<" and ">" in route[i:]:
            end = route.index(">", i)
            out.append(str(values[route[i + 1:end].split(":")[-1]]))
            i = end + 1
        else:
            out.append(route[i])
            i += 1
    return "".join(out)


def _converter_name(converter) -> str:
    return {"IntConverter": "int", "StringConverter": "str", "PathConverter": "path", "SlugConverter": "slug"}.get(
        type(converter).__name__, "str"
    )


def _walk(patterns, prefix: str = "", namespaces: tuple = (), kwargs: dict | None = None):
    for pattern in patterns:
        found = dict(kwargs or {})
        converters = getattr(pattern.pattern, "converters", {})
        found.update({name: _converter_name(c) for name, c in converters.items()})
        regex = getattr(pattern.pattern, "_regex", None)
        if regex and not converters:
            found.update({name: "regex" for name in re.compile(regex).groupindex})
        if isinstance(pattern, URLResolver):
            ns = namespaces + ((pattern.namespace,) if pattern.namespace else ())
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), ns, found)
        elif isinstance(pattern, URLPattern):
            name = ":".join(namespaces + (pattern.name,)) if pattern.name else None
            yield Route(name, prefix + str(pattern.pattern), found)


def all_routes() -> list[Route]:
    return list(_walk(get_resolver().url_patterns))


def _has_positional_groups(route: Route) -> bool:
    return bool(re.search(r"\((?!\?)", route.route))


# --- the tests ---------------------------------------------------------------------------------


def test_every_route_that_takes_arguments_has_a_declared_access_policy():
    tables = _tables()
    missing = sorted({r.label for r in all_routes() if r.kwargs and declaration_for(r.name, r.route, tables) is None})
    assert not missing, f"{len(missing)} route(s) take an object but have no access declaration:\n  " + "\n  ".join(
        missing
    ) + "\n" + HOW_TO_DECLARE


def _fingerprint() -> dict[str, str]:
    prints = {}
    for model in apps.get_models():
        label = model._meta.label_lower
        if label in NOT_WATCHED or model._meta.proxy or not model._meta.managed:
            continue
        fields = [f.attname for f in model._meta.concrete_fields if f.attname != "last_login"]
        rows = model._default_manager.order_by("pk").values_list(*fields)
        prints[label] = hashlib.sha1(repr(list(rows)).encode()).hexdigest()
    return prints


def _writes_so_far() -> int | None:
    """Rows written by this connection so far (one cheap query), so that the walk needs the full
    fingerprint only after a request wrote something; None where the database cannot tell."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT total_changes()")
        elif connection.vendor == "postgresql":
            cursor.execute("SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_xact_user_tables")
        else:
            return None
        return int(cursor.fetchone()[0])


def _clients(world) -> dict[str, Client]:
    clients = {}
    for role in ROLES:
        client = Client(raise_request_exception=False)
        if world.users[role] is not None:
            client.force_login(world.users[role])
            client.get("/admin/")  # first admin visit creates the Wagtail profile: not the walk's write
        clients[role] = client
    return clients


def _refused(response) -> bool:
    if response.status_code in REFUSED:
        return True
    if response.status_code in (301, 302):
        location = response.headers.get("Location", "")
        path = location.split("?", 1)[0]
        return any(path == p or (p != "/admin/" and path.startswith(p)) for p in REFUSAL_REDIRECTS)
    return False


def _body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "ignore")
    return response.content.decode("utf-8", "ignore")


def _declarations(value) -> tuple:
    return value if isinstance(value, tuple) else (value,)


def test_no_role_reaches_an_object_outside_its_scope_on_any_route(settings):
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False
    world = build_world()
    clients = _clients(world)
    tables = _tables()
    problems: list[str] = []
    walked = 0
    baseline = _fingerprint()
    for route in all_routes():
        if not route.kwargs:
            continue
        for declaration in _declarations(declaration_for(route.name, route.route, tables)):
            if isinstance(declaration, Open):
                values = declaration.kwargs(world) if declaration.kwargs else {
                    n: (1 if c == "int" else "1") for n, c in route.kwargs.items()
                }
                for role, client in clients.items():
                    response = client.get(route.path(values))
                    if response.status_code >= 500:
                        problems.append(f"{route.label} as {role}: {response.status_code} (open route must not fail)")
                continue
            assert isinstance(declaration, Obj), f"{route.label}: unknown declaration {declaration!r}"
            writes = _writes_so_far()
            for role, client in clients.items():
                obj = world.outside(declaration.kind, role)
                if obj is None:
                    continue
                url = route.path(declaration.build(obj, route.kwargs))
                query = declaration.query(obj) if declaration.query else {}
                markers = world.markers(declaration.kind, obj)
                for method in declaration.methods:
                    response = getattr(client, method)(url, query) if method == "get" else client.post(
                        url + (("?" + "&".join(f"{k}={v}" for k, v in query.items())) if query else ""), {}
                    )
                    walked += 1
                    body = _body(response)
                    asked = url + repr(query)  # a marker the request itself carried may be echoed back
                    shown = [m for m in markers if m in body and m not in asked]
                    allowed = declaration.readable or (declaration.scoped_contents and response.status_code == 200)
                    if not (_refused(response) or allowed):
                        problems.append(f"{method.upper()} {url} ({route.label}) as {role}: {response.status_code}, not refused")
                    if shown:
                        problems.append(f"{method.upper()} {url} ({route.label}) as {role}: shows {shown}")
            if writes is None or _writes_so_far() != writes:
                after = _fingerprint()
                changed = sorted(label for label in baseline if baseline[label] != after.get(label))
                if changed:
                    problems.append(f"{route.label}: requests outside the roles' scopes changed {changed}")
                baseline = after
    assert walked > 300, walked  # the walk really went through the admin and the site
    assert not problems, "\n".join(problems)


# Lists whose rows belong to a scope: url -> the kind whose out-of-scope object must not show.
SCOPED_LISTS = {
    "/admin/snippets/households/household/": "household",
    "/admin/snippets/households/village/": "village",
    "/admin/snippets/logistics/facility/": "facility",
    "/admin/lot/": "lot",
    "/admin/packedbatch/": "batch",
    "/admin/shipment/": "shipment",
    "/admin/snippets/marketplace/employee/": "employee",
    "/admin/snippets/marketplace/employer/": "employer",
    "/admin/watch_list/": "watch_entry",
    "/api/v1/households/": "household",
    "/api/v1/intakes/": "lot",
    "/api/v1/orders/": "order",
    "/orders/": "order",
    "/staff/orders/": "order",
    "/settlement/payouts/": "payout",
    "/intake/today/": "lot",
    "/station/": "lot",
    "/station/stocktakes/": "stocktake",
    "/canteen/supply/": "canteen_order",
    "/canteen/invoices/": "canteen_invoice",
    "/canteen/": "canteen_invoice",
    "/api/v1/canteens/progress/": "canteen",
}


def test_every_list_answers_every_role_without_failing_and_shows_nothing_outside_its_scope(settings):
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False
    world = build_world()
    clients = _clients(world)
    problems: list[str] = []
    lists = [r for r in all_routes() if not r.kwargs and not _has_positional_groups(r) and r.name not in NOT_LISTED]
    assert len(lists) > 50
    for route in lists:
        url = route.path({})
        for role, client in clients.items():
            response = client.get(url)
            if response.status_code >= 500:
                problems.append(f"GET {url} ({route.label}) as {role}: {response.status_code}")
    for url, kind in SCOPED_LISTS.items():
        for role, client in clients.items():
            obj = world.outside(kind, role)
            if obj is None:
                continue
            response = client.get(url)
            shown = [m for m in world.markers(kind, obj) if m in _body(response)]
            if shown:
                problems.append(f"GET {url} as {role} ({response.status_code}) lists {kind} outside its scope: {shown}")
    assert not problems, "\n".join(problems)


def test_the_public_trace_page_stays_public_and_shows_no_persons_data(client):
    world = build_world()
    for role, user in world.users.items():
        client.logout()
        if user is not None:
            client.force_login(user)
        response = client.get(f"/trace/{world.batch_a.code}/")
        assert response.status_code == 200, role
        body = response.content.decode()
        for household in (world.household_a, world.household_b):
            assert household.number not in body and household.head_name not in body and household.id_number not in body
