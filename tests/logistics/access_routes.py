"""Access-walk declarations of the supply chain's routes (pattern: tests/access_routes.py)."""

from tests.access_routes import Obj, Open

REFERENCE = "reference data (produce, grades, SKUs, prices), the same for every role; edits are the county office's"


def _trace(route_kwarg: str = "code"):
    return (
        Obj("batch", lambda b: {route_kwarg: b.code}),
        Obj("lot", lambda lot: {route_kwarg: lot.code}),
        Obj("household", lambda h: {route_kwarg: h.number}),
    )


ROUTES = {
    "wagtailsnippets_logistics_facility:*": Obj("facility"),
    "wagtailsnippetchoosers_logistics_facility:*": Obj("facility"),
    "wagtailsnippets_logistics_produce:*": Open(REFERENCE),
    "wagtailsnippetchoosers_logistics_produce:*": Open(REFERENCE),
    "wagtailsnippets_logistics_grade:*": Open(REFERENCE),
    "wagtailsnippetchoosers_logistics_grade:*": Open(REFERENCE),
    "wagtailsnippets_logistics_sku:*": Open(REFERENCE),
    "wagtailsnippetchoosers_logistics_sku:*": Open(REFERENCE),
    "purchaseprice:*": Open(REFERENCE),
    "lot:*": Obj("lot"),
    "packedbatch:*": Obj("batch"),
    "shipment:*": Obj("shipment"),
    "intake-receipt": Obj("lot", lambda lot: {"lot_code": lot.code}),
    "intake-void": Obj("lot", lambda lot: {"lot_code": lot.code}),
    "api-intake-detail": Obj("lot", lambda lot: {"lot_code": lot.code}),
    "api-intake-void": Obj("lot", lambda lot: {"lot_code": lot.code}),
    "api-trace": _trace(),
    "api-trace-export": _trace(),
    "station-receive": Obj("shipment", lambda s: {"code": s.code}),
    "station-batch": Obj("batch", lambda b: {"code": b.code}),
    "station-batch-labels": Obj("batch", lambda b: {"code": b.code}),
    "stocktake-detail": Obj("stocktake", lambda s: {"code": s.code}),
    "stocktake-sheet": Obj("stocktake", lambda s: {"code": s.code}),
    "trace-public": Open("the public trace page: aggregates only, never a person's data (tested in test_access_walk)"),
}
