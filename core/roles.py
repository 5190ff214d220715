"""Roles are Django groups. Their permissions are (re)applied after every migrate.

A staff user also belongs to one facility (logistics.StaffAssignment): the role says what a
person may do, the facility says where.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

COUNTY_OFFICE = "county_office"
COLLECTION_POINT_STAFF = "collection_point_staff"
SORTING_STATION_STAFF = "sorting_station_staff"
SUPERMARKET_STAFF = "supermarket_staff"
EMPLOYEE = "employee"
VILLAGE_STAFF = "village_staff"
# Hands out the activation codes of one employer's employees (marketplace.accounts.EmployerCoordinator).
EMPLOYER_COORDINATOR = "employer_coordinator"
# Orders for one work unit's canteen against its reserved share (marketplace.canteens.CanteenBuyer).
CANTEEN_BUYER = "canteen_buyer"

ROLE_LABELS = {
    COUNTY_OFFICE: _("County office (扶贫办)"),
    COLLECTION_POINT_STAFF: _("Collection-point staff"),
    SORTING_STATION_STAFF: _("Sorting-station staff"),
    SUPERMARKET_STAFF: _("Supermarket staff"),
    EMPLOYEE: _("Employee"),
    VILLAGE_STAFF: _("Village staff (love points)"),
    EMPLOYER_COORDINATOR: _("Employer coordinator"),
    CANTEEN_BUYER: _("Canteen buyer"),
}

# role -> app_label -> actions ("add", "change", "view", or a full codename) the role holds on
# that app's models. Each app adds its own in ``<app>/roles.py``; they are merged here.
ROLE_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    COUNTY_OFFICE: {
        "households": ("add", "change", "view"),
        "logistics": ("add", "change", "view"),
        "marketplace": ("add", "change", "view"),
        "cms": ("add", "change", "view"),
    },
    COLLECTION_POINT_STAFF: {},
    SORTING_STATION_STAFF: {},
    SUPERMARKET_STAFF: {},
    EMPLOYEE: {},
    VILLAGE_STAFF: {},
    EMPLOYER_COORDINATOR: {},
    CANTEEN_BUYER: {},
}


ROLES_TTL = 60 * 60


def _roles_key(user_id) -> str:
    return f"core:roles:{user_id}"


def role_names(user) -> frozenset[str]:
    """The names of the user's groups: every signed-in page asks (the header's screens, the access
    policy), so they are kept in the cache per user, and dropped by whatever changes them
    (``roles_forget``: a membership added or removed from either side, the user saved or deleted,
    a group deleted). Cached on the user object for the rest of the request."""
    names = getattr(user, "_relief_roles", None)
    if names is None:
        from django.core.cache import cache

        key = _roles_key(user.pk)
        names = cache.get(key)
        if names is None:
            names = frozenset(user.groups.values_list("name", flat=True))
            cache.set(key, names, ROLES_TTL)
        user._relief_roles = names
    return names


def roles_forget(user_ids) -> None:
    """Drop the cached roles of these users: now, and again when the surrounding transaction
    commits (a request between the two must not keep what it read before the commit)."""
    from django.core.cache import cache
    from django.db import transaction

    keys = [_roles_key(pk) for pk in user_ids]
    if not keys:
        return
    cache.delete_many(keys)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: cache.delete_many(keys))


def has_role(user, role: str) -> bool:
    if not user or not user.is_authenticated:
        return False
    return role in role_names(user)


def is_county_office(user) -> bool:
    return bool(user and user.is_authenticated and (user.is_superuser or has_role(user, COUNTY_OFFICE)))


def _role_permissions() -> dict[str, dict[str, tuple[str, ...]]]:
    """ROLE_PERMISSIONS above, plus what each app adds in its own ``<app>/roles.py``
    (a dict ``ROLE_PERMISSIONS = {role: {app_label: ("view", ...)}}``)."""
    import importlib

    from django.apps import apps as django_apps

    merged = {role: dict(perms) for role, perms in ROLE_PERMISSIONS.items()}
    for config in django_apps.get_app_configs():
        try:
            module = importlib.import_module(f"{config.name}.roles")
        except ModuleNotFoundError:
            continue
        for role, perms in getattr(module, "ROLE_PERMISSIONS", {}).items():
            for app_label, actions in perms.items():
                merged.setdefault(role, {})
                merged[role][app_label] = tuple(sorted(set(merged[role].get(app_label, ())) | set(actions)))
    return merged


def ensure_role_groups(**kwargs) -> None:
    """Create the role groups and give each its permissions (idempotent)."""
    from django.contrib.auth.models import Group, Permission

    for role, apps in _role_permissions().items():
        group, _created = Group.objects.get_or_create(name=role)
        wanted = []
        for app_label, actions in apps.items():
            for perm in Permission.objects.filter(content_type__app_label=app_label):
                if perm.codename.split("_", 1)[0] in actions or perm.codename in actions:
                    wanted.append(perm)
        # Employees, village staff, employer coordinators and canteen buyers work on the site's own pages, not in the admin.
        if role not in (EMPLOYEE, VILLAGE_STAFF, EMPLOYER_COORDINATOR, CANTEEN_BUYER):
            wanted += list(Permission.objects.filter(content_type__app_label="wagtailadmin", codename="access_admin"))
        if role == COUNTY_OFFICE:
            wanted += list(Permission.objects.filter(content_type__app_label="wagtailcore"))
            wanted += list(Permission.objects.filter(content_type__app_label="wagtailimages"))
        if wanted:
            group.permissions.add(*wanted)
