"""FilterSets of the storefront listings. They run on GET parameters, so the filter form works
without JavaScript; every filter is a join or an EXISTS, so the number of queries a listing runs
does not depend on the size of the catalogue."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from core import filters as core_filters
from households.models import Township
from logistics.models import PackedBatch, Produce


class ProductPageFilter(django_filters.FilterSet):
    """Filters a queryset of ProductPage annotated by ``cms.selectors.product_pages`` with
    ``price``, ``available`` and ``newest``."""

    produce = django_filters.ModelChoiceFilter(
        label=_("Produce"), field_name="product__sku__produce", queryset=Produce.objects.all(), empty_label=_("All produce")
    )
    township = django_filters.ModelChoiceFilter(
        label=_("Township of origin"), queryset=Township.objects.all(), method="filter_township", empty_label=_("All townships")
    )
    price_min = core_filters.MoneyFilter(
        label=_("Lowest price (¥)"), field_name="price", lookup_expr="gte", widget=forms.NumberInput(attrs={"min": 0, "step": "0.01", "inputmode": "decimal"})
    )
    price_max = core_filters.MoneyFilter(
        label=_("Highest price (¥)"), field_name="price", lookup_expr="lte", widget=forms.NumberInput(attrs={"min": 0, "step": "0.01", "inputmode": "decimal"})
    )
    in_stock = django_filters.BooleanFilter(
        label=_("In stock only"), method="filter_in_stock", widget=forms.CheckboxInput
    )
    sort = django_filters.ChoiceFilter(
        label=_("Sort by"),
        method="filter_sort",
        empty_label=_("Recommended"),
        choices=[
            ("price", _("Price: low to high")),
            ("-price", _("Price: high to low")),
            ("newest", _("Newest")),
        ],
    )

    def __init__(self, *args, produce_category: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if produce_category:
            self.filters["produce"].queryset = Produce.objects.filter(category=produce_category)

    def filter_township(self, queryset, name, value):
        if not value:
            return queryset
        packed_there = PackedBatch.objects.filter(sku_id=OuterRef("product__sku_id"), station__township=value)
        return queryset.filter(Exists(packed_there))

    def filter_in_stock(self, queryset, name, value):
        return queryset.filter(available__gt=0) if value else queryset

    def filter_sort(self, queryset, name, value):
        if value == "price":
            return queryset.order_by("price", "path")
        if value == "-price":
            return queryset.order_by("-price", "path")
        if value == "newest":
            return queryset.order_by("-newest", "-first_published_at", "path")
        return queryset
