"""What each role may do with the shop's models (merged by core.roles after every migrate)."""

from core import roles

ROLE_PERMISSIONS = {
    roles.SUPERMARKET_STAFF: {"marketplace": ("view", "change")},
}
