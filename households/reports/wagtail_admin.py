"""Wagtail admin for income reports and the watch list: menu items in the registry menu, and the
watch list (收入下降户, with its evidence) as a read-only listing for the county office."""

from __future__ import annotations

import django_filters
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.menu import MenuItem
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permission_policies.base import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from core.roles import is_county_office

from ..models import Township, WatchListEntry


class CountyOfficeReadOnly(ModelPermissionPolicy):
    """Only the county office looks; nobody edits (the monthly task writes the entries)."""

    def user_has_permission(self, user, action):
        return action == "view" and is_county_office(user)

    def user_has_any_permission(self, user, actions):
        return any(self.user_has_permission(user, a) for a in actions)

    def users_with_any_permission(self, actions):
        return super().users_with_any_permission(["view"]) if "view" in actions else self.model._default_manager.none()


class WatchListFilterSet(WagtailFilterSet):
    township = django_filters.ModelChoiceFilter(
        label=_("township"), field_name="household__village__township", queryset=Township.objects.all()
    )
    reason = django_filters.ChoiceFilter(label=_("reason"), choices=WatchListEntry.Reason.choices)
    period_end = django_filters.DateFilter(label=_("period ends"), field_name="period_end")

    class Meta:
        model = WatchListEntry
        fields: list[str] = []


register_permission_policy(WatchListEntry, CountyOfficeReadOnly(WatchListEntry))


class WatchListViewSet(ModelViewSet):
    model = WatchListEntry
    icon = "warning"
    menu_label = _("Watch list (收入下降户)")
    name = "watch_list"
    add_to_admin_menu = False
    list_display = ["household", "reason", "period_start", "period_end", "income", "income_year_before", "drop_share"]
    filterset_class = WatchListFilterSet
    search_fields = ["household__number", "household__head_name"]
    inspect_view_enabled = True
    copy_view_enabled = False
    form_fields = ["reason"]
    list_per_page = 50

    def get_queryset(self, request):
        return WatchListEntry.objects.select_related("household__village__township")


watch_list_viewset = WatchListViewSet()


@hooks.register("register_admin_viewset")
def register_watch_list_viewset():
    return watch_list_viewset


class CountyMenuItem(MenuItem):
    def is_shown(self, request):
        return is_county_office(request.user)


@hooks.register("register_households_menu_item")
def income_report_menu_item():
    return CountyMenuItem(_("Income report"), reverse("household-income-report"), name="income-report", icon_name="table",
                          order=20)


@hooks.register("register_households_menu_item")
def watch_list_menu_item():
    return CountyMenuItem(_("Watch list (收入下降户)"), reverse(watch_list_viewset.get_url_name("index")), name="watch-list",
                          icon_name="warning", order=30)
