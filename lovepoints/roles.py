"""What each role may do with love points (merged by core.roles after every migrate).

The county office sets the rules and settings; village staff work in the love-points pages only
(their scope is their village: lovepoints.access), never in the admin."""

from core import roles

ROLE_PERMISSIONS = {
    roles.COUNTY_OFFICE: {"lovepoints": ("add", "change", "view")},
}
