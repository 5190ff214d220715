"""Access-walk declarations of the registry's routes (pattern: tests/access_routes.py)."""

from tests.access_routes import Obj

ROUTES = {
    "wagtailsnippets_households_household:*": Obj("household"),
    "wagtailsnippetchoosers_households_household:*": Obj("household"),
    "wagtailsnippets_households_village:*": Obj("village"),
    "wagtailsnippetchoosers_households_village:*": Obj("village"),
    "wagtailsnippets_households_township:*": Obj("township"),
    "wagtailsnippetchoosers_households_township:*": Obj("township"),
    "watch_list:*": Obj("watch_entry"),
    "household-income": Obj("household", lambda h: {"number": h.number}),
    "api-household-income": Obj("household", lambda h: {"number": h.number}),
}
