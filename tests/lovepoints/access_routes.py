"""Access-walk declarations of the love-points routes (pattern: tests/access_routes.py)."""

from tests.access_routes import Obj, Open

MONTH = "the month is no object: the village comes from the user's own assignment (lovepoints.access)"

ROUTES = {
    "lovepoints:card": Obj("household", lambda h: {"number": h.number}),
    "api-love-points-household": Obj("household", lambda h: {"number": h.number}),
    "lovepoints:award-correct": Obj("award", lambda a: {"pk": a.pk}),
    "lovepoints:review": Open(MONTH, lambda w: {"month": "2026-01"}),
    "lovepoints:board": Open(MONTH, lambda w: {"month": "2026-01"}),
}
