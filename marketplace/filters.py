"""FilterSets of the shop, shared by the storefront, the JSON API and the admin reports."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from core import filters as core_filters
from logistics.models import Produce

from .models import AllocationEntry, Employee, Employer, Order, Product


class ProductFilter(django_filters.FilterSet):
    """Filters for products; ``available`` is annotated by ``selectors.product_list``."""

    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label=_("name contains"))
    produce = django_filters.CharFilter(field_name="sku__produce__code", label=_("produce (code)"))
    category = django_filters.ChoiceFilter(field_name="sku__produce__category", choices=Produce.Category.choices, label=_("category"))
    in_stock = django_filters.BooleanFilter(method="filter_in_stock", label=_("in stock"))
    min_price = core_filters.MoneyFilter(field_name="price", lookup_expr="gte", label=_("lowest price"))
    max_price = core_filters.MoneyFilter(field_name="price", lookup_expr="lte", label=_("highest price"))

    class Meta:
        model = Product
        fields = ["q", "produce", "category", "in_stock", "min_price", "max_price"]

    def filter_in_stock(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(available__gt=0) if value else queryset.filter(available__lte=0)


class OrderFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Order.Status.choices, label=_("status"))
    fulfilment = django_filters.ChoiceFilter(choices=Order.Fulfilment.choices, label=_("fulfilment"))
    employer = django_filters.ModelChoiceFilter(field_name="employee__employer", queryset=Employer.objects.all(), label=_("employer"))
    created_after = core_filters.DateFilter(field_name="created_at", lookup_expr="date__gte", label=_("from"))
    created_before = core_filters.DateFilter(field_name="created_at", lookup_expr="date__lte", label=_("to"))
    number = django_filters.CharFilter(field_name="number", lookup_expr="icontains", label=_("order number"))

    class Meta:
        model = Order
        fields = ["status", "fulfilment", "employer", "created_after", "created_before", "number"]


class AllocationEntryFilter(django_filters.FilterSet):
    year = core_filters.IntegerFilter(label=_("year"), min_value=2000, max_value=2100)
    kind = django_filters.MultipleChoiceFilter(choices=AllocationEntry.Kind.choices, label=_("kind"))

    class Meta:
        model = AllocationEntry
        fields = ["year", "kind"]


class EmployeeProgressFilter(django_filters.FilterSet):
    employer = django_filters.ModelChoiceFilter(queryset=Employer.objects.all(), label=_("employer"))
    name = django_filters.CharFilter(lookup_expr="icontains", label=_("name contains"))
    active = django_filters.BooleanFilter(label=_("active"))

    class Meta:
        model = Employee
        fields = ["employer", "name", "active"]


class EmployerProgressFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains", label=_("name contains"))

    class Meta:
        model = Employer
        fields = ["name"]
