"""Access-walk declarations of the canteen routes (pattern: tests/access_routes.py)."""

from tests.access_routes import Obj

ROUTES = {
    "canteen-order": Obj("canteen_order", lambda o: {"number": o.number}),
    "canteen-delivery-note": Obj("canteen_delivery", lambda d: {"number": d.number}),
    "canteen-invoice": Obj("canteen_invoice", lambda i: {"number": i.number}),
}
