"""Wagtail admin for the shop: products, employers, employees and the yearly allocation setting
(snippets with filters), the allocation progress report and the grant button (county office)."""

from django.urls import path, reverse
from django.utils.translation import gettext_lazy
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.panels import ObjectList, extract_panel_definitions_from_model_class
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import EditView, SnippetViewSet, SnippetViewSetGroup

from core.admin_access import ScopedViewSetMixin
from core.personal_data import Action, personal_data_access_record
from core.roles import is_county_office

from . import staff_admin  # noqa: F401  (fulfilment queue, statements, employee import)
from .access import employees_visible_to, employers_visible_to
from .admin_views import AllocationGrantView, AllocationProgressView
from .forms import EmployeeAdminForm
from .models import AllocationYear, Employee, Employer, Product


class ProductViewSet(SnippetViewSet):
    model = Product
    icon = "tag"
    menu_label = gettext_lazy("Products")
    menu_name = "products"
    list_display = ["name", "sku", "price", "active", "max_per_order"]
    list_filter = ["active", "sku__produce"]
    search_fields = ["name"]
    ordering = ["name"]
    copy_view_enabled = False


class EmployerViewSet(ScopedViewSetMixin, SnippetViewSet):
    model = Employer
    access_scope = employers_visible_to
    icon = "site"
    menu_label = gettext_lazy("Employers")
    menu_name = "employers"
    list_display = ["name", "code", "office_address", "active"]
    search_fields = ["name", "code"]
    ordering = ["code"]
    copy_view_enabled = False


class EmployeeEditView(EditView):
    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # The form holds the employee's mobile phone in full.
        if self.object.phone:
            personal_data_access_record(
                request=self.request, action=Action.VIEW, employees=[f"{self.object.employer.code}/{self.object.staff_number}"]
            )
        return context


class EmployeeViewSet(ScopedViewSetMixin, SnippetViewSet):
    model = Employee
    access_scope = employees_visible_to
    list_select_related = ("employer",)
    edit_view_class = EmployeeEditView
    icon = "user"
    menu_label = gettext_lazy("Employees")
    menu_name = "employees"
    list_display = ["name", "staff_number", "employer", "active"]
    list_filter = ["employer", "active"]
    search_fields = ["name", "staff_number"]
    ordering = ["employer", "staff_number"]
    copy_view_enabled = False
    def get_edit_handler(self):
        # The default panels (every editable field), on a form that reads the phone like the import
        # and saves through the membership services (a change of employer is a move).
        panels = extract_panel_definitions_from_model_class(self.model, exclude=self.get_exclude_form_fields())
        return ObjectList(panels, base_form_class=EmployeeAdminForm).bind_to_model(self.model)


class AllocationYearViewSet(SnippetViewSet):
    model = AllocationYear
    icon = "date"
    menu_label = gettext_lazy("Allocation years")
    menu_name = "allocation_years"
    list_display = ["year", "amount", "opens_on", "closes_on", "unspent", "max_units_per_order", "dividend_rate"]
    ordering = ["-year"]
    copy_view_enabled = False


class ShopViewSetGroup(SnippetViewSetGroup):
    items = (ProductViewSet, EmployerViewSet, EmployeeViewSet, AllocationYearViewSet)
    menu_icon = "tag"
    menu_label = gettext_lazy("Shop and allocations")
    menu_name = "shop"
    menu_order = 250
    submenu_hook = "register_marketplace_menu_item"


register_snippet(ShopViewSetGroup)


class _CountyMenuItem(MenuItem):
    def is_shown(self, request):
        return is_county_office(request.user)


@hooks.register("register_marketplace_menu_item")
def allocation_progress_menu_item():
    return _CountyMenuItem(
        gettext_lazy("Allocation progress"), reverse("marketplace_allocation_progress"), name="allocation-progress", icon_name="table",
        order=900,
    )


@hooks.register("register_admin_urls")
def allocation_admin_urls():
    return [
        path("shop/allocations/", AllocationProgressView.as_view(), name="marketplace_allocation_progress"),
        path("shop/allocations/grant/", AllocationGrantView.as_view(), name="marketplace_allocation_grant"),
    ]
