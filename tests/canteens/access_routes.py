"""Access-walk declarations of the canteen routes (pattern: tests/access_routes.py)."""

from tests.access_routes import Obj, Open

ROUTES = {
    # canteens are registered by the county office; no other role holds an admin permission on them
    "wagtailsnippets_canteens_canteen:*": Open("canteens are the county office's to register; names are not personal data"),
    "wagtailsnippetchoosers_canteens_canteen:*": Open("canteens are the county office's to register; names are not personal data"),
    "canteen-order": Obj("canteen_order", lambda o: {"number": o.number}),
    "canteen-delivery-note": Obj("canteen_delivery", lambda d: {"number": d.number}),
    "canteen-invoice": Obj("canteen_invoice", lambda i: {"number": i.number}),
}
