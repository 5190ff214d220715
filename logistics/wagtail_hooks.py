"""Wagtail admin of the supply chain: facilities, produce and grades, SKUs (reference data,
snippets); the purchase price list (new rows only, through prices.purchase_price_set); lots,
packed batches (with the hold / inspect action) and shipments, read-only — the ledgers are
written by the services, never by an admin form. Facilities, lots, batches and shipments are
scoped by the access policy (logistics/access.py): staff see their own facility's (a station its
township's), the county office everything."""

from __future__ import annotations

from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic.models import CreateView
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permission_policies.base import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from core import roles
from core.admin_access import ScopedViewSetMixin
from core.errors import DomainError

from .access import batches_visible_to, facilities_visible_to, lots_visible_to, shipments_visible_to
from .filters import FacilityFilterSet, LotFilterSet, PackedBatchFilterSet, PurchasePriceFilterSet, ShipmentFilterSet
from .models import Facility, Grade, Lot, PackedBatch, Produce, PurchasePrice, Shipment, Sku
from .services.prices import purchase_price_set


class AddOnlyPolicy(ModelPermissionPolicy):
    """Prices: new rows only (through prices.purchase_price_set), never an edit of a past one."""

    def user_has_permission(self, user, action):
        if action in ("change", "delete"):
            return False
        return super().user_has_permission(user, action)

    def user_has_permission_for_instance(self, user, action, instance):
        return self.user_has_permission(user, action)


register_permission_policy(PurchasePrice, AddOnlyPolicy(PurchasePrice))


class FacilityViewSet(ScopedViewSetMixin, SnippetViewSet):
    model = Facility
    access_scope = facilities_visible_to
    icon = "site"
    menu_label = _("Facilities")
    list_display = ["name", "code", "kind", "township", "ships_to", "active"]
    filterset_class = FacilityFilterSet
    search_fields = ["name", "code"]
    ordering = ["kind", "code"]
    copy_view_enabled = False


class ProduceViewSet(SnippetViewSet):
    model = Produce
    icon = "pick"
    menu_label = _("Produce")
    list_display = ["name", "code", "category"]
    search_fields = ["name", "code"]
    copy_view_enabled = False


class GradeViewSet(SnippetViewSet):
    model = Grade
    icon = "tag"
    menu_label = _("Grades")
    list_display = ["produce", "name", "code", "rank"]
    list_filter = ["produce"]
    copy_view_enabled = False


class SkuViewSet(SnippetViewSet):
    model = Sku
    icon = "tag"
    menu_label = _("SKUs")
    list_display = ["name", "code", "produce", "grade", "unit_weight_kg", "shelf_life_days"]
    list_filter = ["produce"]
    search_fields = ["name", "code"]
    copy_view_enabled = False


class ReferenceDataGroup(SnippetViewSetGroup):
    items = (FacilityViewSet, ProduceViewSet, GradeViewSet, SkuViewSet)
    menu_icon = "site"
    menu_label = _("Supply chain setup")
    menu_name = "supply-chain-setup"
    menu_order = 160


register_snippet(ReferenceDataGroup)


class PriceCreateView(CreateView):
    """A new price row from a date, through the prices service (never an edit of a past row)."""

    def form_valid(self, form):
        self.form = form
        data = form.cleaned_data
        try:
            self.object = purchase_price_set(
                grade=data["grade"], price_per_kg=data["price_per_kg"], effective_from=data["effective_from"], author=self.request.user
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
            return self.form_invalid(form)
        return self.save_action()

    def get_success_buttons(self):
        return []


class PurchasePriceViewSet(ModelViewSet):
    model = PurchasePrice
    icon = "doc-full"
    menu_label = _("Purchase prices")
    add_view_class = PriceCreateView
    form_fields = ["grade", "price_per_kg", "effective_from"]
    list_display = ["grade", "price_per_kg", "effective_from", "created_by", "created_at"]
    filterset_class = PurchasePriceFilterSet
    ordering = ["grade", "-effective_from"]
    inspect_view_enabled = True
    copy_view_enabled = False


class LotViewSet(ScopedViewSetMixin, ModelViewSet):
    model = Lot
    access_scope = lots_visible_to
    admin_writable = ()  # written by the services only
    list_select_related = ("grade__produce", "household", "origin")
    icon = "clipboard-list"
    menu_label = _("Lots")
    form_fields = ["code"]
    list_display = ["code", "grade", "household", "origin", "weight_kg", "created_at"]
    filterset_class = LotFilterSet
    search_fields = ["code"]
    inspect_view_enabled = True
    copy_view_enabled = False
    list_per_page = 50


class BatchActionColumn(Column):
    def get_value(self, instance):
        url = reverse("station-batch", args=[instance.code])
        return format_html('<a href="{}">{}</a>', url, _("Inspect / hold / labels"))


class PackedBatchViewSet(ScopedViewSetMixin, ModelViewSet):
    model = PackedBatch
    access_scope = batches_visible_to
    admin_writable = ()  # written by the services only
    list_select_related = ("sku", "station")
    icon = "pick"
    menu_label = _("Packed batches")
    form_fields = ["code"]
    list_display = ["code", "sku", "station", "units", "packed_at", "inspection_status", "on_hold", BatchActionColumn("actions", label=_("Actions"))]
    filterset_class = PackedBatchFilterSet
    search_fields = ["code"]
    inspect_view_enabled = True
    copy_view_enabled = False
    list_per_page = 50


class ShipmentViewSet(ScopedViewSetMixin, ModelViewSet):
    model = Shipment
    access_scope = shipments_visible_to
    admin_writable = ()  # written by the services only
    list_select_related = ("origin", "destination")
    icon = "redirect"
    menu_label = _("Shipments")
    form_fields = ["code"]
    list_display = ["code", "origin", "destination", "status", "dispatched_at", "received_at"]
    filterset_class = ShipmentFilterSet
    search_fields = ["code"]
    inspect_view_enabled = True
    copy_view_enabled = False
    list_per_page = 50


class SupplyChainGroup(ViewSetGroup):
    items = (PurchasePriceViewSet, LotViewSet, PackedBatchViewSet, ShipmentViewSet)
    menu_icon = "redirect"
    menu_label = _("Supply chain")
    menu_name = "supply-chain"
    menu_order = 170


@hooks.register("register_admin_viewset")
def register_supply_chain_viewsets():
    return SupplyChainGroup()


class _CountyOnlyMenuItem(MenuItem):
    def is_shown(self, request):
        return roles.is_county_office(request.user)


@hooks.register("register_admin_menu_item")
def cash_menu_item():
    """The county's cash for collection points lives on a site page (printable), linked from here."""
    return _CountyOnlyMenuItem(_("Cash at every point"), reverse("cash-balances"), name="cash-balances", icon_name="table", order=175)
