"""Wagtail admin of core: the access policy's bulk delete (core/admin_access.py), the pages of a
spreadsheet import (progress, status, bad-row report), the personal-data access log (county
office, read only, filters and Excel export) and the sign-in lock-outs (core/lockouts.py)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic.models import InspectView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permission_policies.base import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from . import lockouts  # noqa: F401  (the lock-out list registers its own URL and menu item)
from .admin_access import ScopedSnippetDeleteBulkAction
from .admin_views import SpreadsheetImportProgressView, SpreadsheetImportReportView, SpreadsheetImportStatusView
from .models import PersonalDataAccess
from .personal_data import PersonalDataAccessFilterSet
from .roles import COUNTY_OFFICE, is_county_office


class CountyOfficeReadsOnly(ModelPermissionPolicy):
    """The county office may read the log; nobody may add, change or delete through the admin
    (the one writer is core.personal_data.personal_data_access_record)."""

    def user_has_permission(self, user, action):
        return action == "view" and is_county_office(user)

    def users_with_any_permission(self, actions):
        users = get_user_model().objects.filter(is_active=True)
        if "view" not in actions:
            return users.none()
        return users.filter(is_superuser=True) | users.filter(groups__name=COUNTY_OFFICE)


# After Wagtail's own snippet bulk delete (order 0), so this one replaces it for every snippet.
hooks.register("register_bulk_action", ScopedSnippetDeleteBulkAction, order=100)


@hooks.register("register_admin_urls")
def spreadsheet_import_admin_urls():
    return [
        path("imports/<int:pk>/", SpreadsheetImportProgressView.as_view(), name="spreadsheet_import_progress"),
        path("imports/<int:pk>/status.json", SpreadsheetImportStatusView.as_view(), name="spreadsheet_import_status"),
        path("imports/<int:pk>/refused-rows.xlsx", SpreadsheetImportReportView.as_view(), name="spreadsheet_import_report"),
    ]
register_permission_policy(PersonalDataAccess, CountyOfficeReadsOnly(PersonalDataAccess))


class WhenColumn(Column):
    """Date over time, each kept on one line (a phone's narrow column would break them anywhere),
    the date linking to the entry."""

    cell_template_name = "core/admin/when_cell.html"

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        context["when"] = instance.at
        context["url"] = reverse("personal_data_access:inspect", args=[instance.pk])
        return context


class NoWrapColumn(Column):
    cell_template_name = "core/admin/nowrap_cell.html"


LABELS = {
    "at_shown": _("At"),
    "username": _("User"),
    "action_label": _("Action"),
    "path": _("Page or address"),
    "households_text": _("Households"),
    "employees_text": _("Employees"),
    "filters_text": _("Filter"),
    "rows": _("Rows"),
    "ip": _("IP address"),
}


class PersonalDataAccessInspectView(InspectView):
    def get_field_label(self, field_name, field):
        return LABELS.get(field_name) or super().get_field_label(field_name, field)


class PersonalDataAccessViewSet(ModelViewSet):
    model = PersonalDataAccess
    icon = "view"
    menu_label = _("Personal-data access log")
    menu_name = "personal-data-access"
    menu_order = 9100
    add_to_admin_menu = True
    name = "personal_data_access"
    inspect_view_enabled = True
    copy_view_enabled = False
    form_fields: list = []  # no add or edit form is ever shown (the permission policy refuses them)
    filterset_class = PersonalDataAccessFilterSet
    list_display = [
        WhenColumn("at", label=_("At"), sort_key="at"),
        NoWrapColumn("username", label=_("User"), sort_key="username"),
        NoWrapColumn("action_label", label=_("Action")),
        Column("whose_shown", label=_("Whose data")),
        Column("rows", label=_("Rows")),
        Column("ip", label=_("IP address")),
        Column("path", label=_("Page or address")),
    ]
    list_per_page = 50
    ordering = ["-at", "-id"]
    inspect_view_class = PersonalDataAccessInspectView
    inspect_view_fields = list(LABELS)
    list_export = list(LABELS)
    export_headings = LABELS
    export_filename = "personal-data-access-log"


personal_data_access_viewset = PersonalDataAccessViewSet()


@hooks.register("register_admin_viewset")
def register_personal_data_access_viewset():
    return personal_data_access_viewset
