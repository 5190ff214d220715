"""What each role may do with the shop's models (merged by core.roles after every migrate).

Supermarket staff see the shop's records and move orders along; only the county office edits
products, employers, employees and the yearly allocation setting."""

from core import roles

ROLE_PERMISSIONS = {
    roles.SUPERMARKET_STAFF: {"marketplace": ("view", "change_order")},
}
