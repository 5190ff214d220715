"""What each role may do with the canteens' models (merged by core.roles after every migrate).

The county office registers canteens (and sets their budgets and shares on the progress page);
buyers, the supermarket and stations work on the site's own canteen pages, not in the admin."""

from core import roles

ROLE_PERMISSIONS = {
    roles.COUNTY_OFFICE: {"canteens": ("add", "change", "view")},
}
