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

from core import filters as core_filters
from core.admin_access import ScopedViewSetMixin
from core.roles import is_county_office

from ..access import watch_list_visible_to
from ..models import Township, WatchListEntry


class WatchListFilterSet(WagtailFilterSet):
    township = django_filters.ModelChoiceFilter(
        label=_("township"), field_name="household__village__township", queryset=Township.objects.all()
    )
    reason = django_filters.ChoiceFilter(label=_("reason"), choices=WatchListEntry.Reason.choices)
    period_end = core_filters.DateFilter(label=_("period ends"), field_name="period_end")

    class Meta:
        model = WatchListEntry
        fields: list[str] = []


class WatchListViewSet(ScopedViewSetMixin, ModelViewSet):
    """Only the county office looks (households/access.py); nobody edits (the monthly task writes
    the entries)."""

    model = WatchListEntry
    access_scope = watch_list_visible_to
    admin_writable = ()
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
    list_select_related = ("household__village__township",)


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
