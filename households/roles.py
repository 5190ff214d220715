"""What each role may do with the registry (merged into core.roles after every migrate).

County office manages households (core.roles gives it add/change/view on households/);
collection-point staff find households at the scale, so they may view the registry — and see
personal data masked (core.masking).
"""

from core import roles

ROLE_PERMISSIONS = {
    roles.COUNTY_OFFICE: {"households": ("add", "change", "view")},
    roles.COLLECTION_POINT_STAFF: {"households": ("view_household", "view_village", "view_township")},
}
