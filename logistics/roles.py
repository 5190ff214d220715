"""What each role may do with the supply chain's models (merged by core.roles after migrate).

The county office already holds add/change/view on logistics (core.roles). Station and
supermarket staff read the chain in the admin; their actions go through the station screens
and services, which also check their facility.
"""

from core import roles

ROLE_PERMISSIONS = {
    roles.SORTING_STATION_STAFF: {"logistics": ("view",)},
    roles.SUPERMARKET_STAFF: {"logistics": ("view",)},
}
