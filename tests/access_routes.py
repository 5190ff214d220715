"""How the URL-walking access test (tests/core/test_access_walk.py) reaches each route that names
an object. Every URL pattern with keyword arguments must be declared here or in an app's table
(``tests/<app>/access_routes.py``, a dict ``ROUTES``); an undeclared one fails the test.

Declaring a route — add one line to your app's ``ROUTES``::

    "station-batch": Obj("batch", lambda b: {"code": b.code}),

- the key is the URL name with its namespace (``"storefront:order"``, ``"lot:edit"``), or
  ``"<namespace>:*"`` for every route of a namespace (a Wagtail viewset), or a route prefix
  starting with ``/`` for unnamed routes (``"/django-admin/"``);
- ``Obj(kind, kwargs)``: the route names an object of ``kind`` (a kind of tests/access_world.py —
  add one there, with the object outside each role's scope, if yours is new). ``kwargs(obj)``
  builds the URL's keyword arguments from the object; without it every keyword argument gets the
  object's primary key (Wagtail's ``pk``, ``object_id``…). The walk requests it, GET and POST, as
  every role for which ``OUTSIDE`` names an object, and asserts a refusal (403/404/405/401, or a
  redirect to a login page or to the admin home, which is how Wagtail says 403), that the
  object's markers (number, code…) are not in the answer, and that no table changed.
  ``query``: extra query string (``lambda obj: {"id": obj.pk}``). ``scoped_contents=True``: the
  role may open the object (e.g. a county-wide settlement run) but must not see the out-of-scope
  rows in it — then a 200 is allowed when the markers are absent. ``readable=True``: the object
  is public (Wagtail's page tree holds the storefront's published pages), so any answer is
  allowed but a POST must still write nothing.
- ``Open(reason, kwargs)``: the route does not name anything of a role's scope (public pages,
  reference data the same for everyone, the caller's own cart). The reason is required; the walk
  still requests it (GET) as every role and asserts no 500.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

GENERIC_STRINGS = {
    "app_label": "households", "model_name": "household", "action": "delete",
    "content_type_app_name": "cms", "content_type_model_name": "homepage",
    "url": "auth/user/", "filename": "x.pdf", "filter_spec": "original", "signature": "x",
    "uidb64": "x", "token": "x",
}


@dataclass(frozen=True)
class Obj:
    kind: str
    kwargs: Callable | None = None
    query: Callable | None = None
    scoped_contents: bool = False
    readable: bool = False
    methods: tuple[str, ...] = ("get", "post")

    def build(self, obj, names: dict[str, str]) -> dict:
        if self.kwargs is not None:
            return self.kwargs(obj)
        built = {}
        for name, converter in names.items():
            if converter == "int":
                built[name] = obj.pk
            else:
                built[name] = GENERIC_STRINGS.get(name, str(obj.pk))
        return built


@dataclass(frozen=True)
class Open:
    reason: str
    kwargs: Callable | None = None  # kwargs(world) -> dict; default: every kwarg "1"/1

    def __post_init__(self):
        if not self.reason.strip():
            raise ValueError("Open(...) needs the reason the route names nothing of anyone's scope")


def _tables() -> dict:
    """Every ``tests/<package>/access_routes.py`` ``ROUTES`` table, merged (a key declared twice fails)."""
    import importlib
    from pathlib import Path

    merged: dict = {}
    for module_file in sorted(Path(__file__).parent.glob("*/access_routes.py")):
        table = importlib.import_module(f"tests.{module_file.parent.name}.access_routes").ROUTES
        overlap = set(merged) & set(table)
        if overlap:
            raise AssertionError(f"declared twice in the access route tables: {sorted(overlap)}")
        merged.update(table)
    return merged


def declaration_for(name: str | None, route: str, tables: dict):
    """The declaration of a route: its exact name, then its namespace's ``"ns:*"``, then the
    longest ``"/prefix"`` its route starts with; None if undeclared."""
    if name and name in tables:
        return tables[name]
    if name and ":" in name:
        namespace = name.rsplit(":", 1)[0]
        while namespace:
            if f"{namespace}:*" in tables:
                return tables[f"{namespace}:*"]
            namespace = namespace.rsplit(":", 1)[0] if ":" in namespace else ""
    prefixes = sorted((k for k in tables if k.startswith("/") and ("/" + route).startswith(k)), key=len, reverse=True)
    return tables[prefixes[0]] if prefixes else None


HOW_TO_DECLARE = (
    "Declare it in tests/<app>/access_routes.py ROUTES, e.g.\n"
    '    "my-route-name": Obj("household", lambda h: {"number": h.number}),\n'
    "(Obj: the route names an object of that kind — tests/access_world.py has the kinds and, per role,\n"
    'the object outside its scope), or Open("why it names nothing of anyone\'s scope"). '
    "See tests/access_routes.py."
)
