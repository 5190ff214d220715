"""Access-walk declarations of the shop's and settlement's routes (pattern: tests/access_routes.py)."""

from tests.access_routes import Obj, Open

REFERENCE = "the catalogue and the yearly allocation setting, the same for every role; edits are the county office's"

ROUTES = {
    "wagtailsnippets_marketplace_employee:*": Obj("employee"),
    "wagtailsnippetchoosers_marketplace_employee:*": Obj("employee"),
    "wagtailsnippets_marketplace_employer:*": Obj("employer"),
    "wagtailsnippetchoosers_marketplace_employer:*": Obj("employer"),
    "wagtailsnippets_marketplace_product:*": Open(REFERENCE),
    "wagtailsnippetchoosers_marketplace_product:*": Open(REFERENCE),
    "wagtailsnippets_marketplace_allocationyear:*": Open(REFERENCE),
    "wagtailsnippetchoosers_marketplace_allocationyear:*": Open(REFERENCE),
    "api-cart-item": Open("a product of the public catalogue in the caller's own cart", lambda w: {"product_id": w.product.pk}),
    "api-order": Obj("order", lambda o: {"number": o.number}),
    "api-order-cancel": Obj("order", lambda o: {"number": o.number}),
    "storefront:order": Obj("order", lambda o: {"number": o.number}),
    "storefront:order_cancel": Obj("order", lambda o: {"number": o.number}),
    "staff_order": Obj("order", lambda o: {"number": o.number}),
    "staff_order_step": Obj("order", lambda o: {"number": o.number, "action": "pick"}),
    "staff_order_cancel": Obj("order", lambda o: {"number": o.number}),
    "staff_order_refund": Obj("order", lambda o: {"number": o.number}),
    "counter_receipt": Obj("order", lambda o: {"number": o.number}),
    "run-payout-list": Obj("run", lambda r: {"code": r.code}, scoped_contents=True),
    "settlement_run_progress": Obj("run", lambda r: {"pk": r.pk}),
    "payout-paid": Obj("payout", lambda p: {"pk": p.pk}),
    "staff_fapiao_issue": Obj("fapiao", lambda f: {"pk": f.pk}, methods=("post",)),
    "fapiao_pdf": Obj("fapiao", lambda f: {"pk": f.pk}),
}
