"""FilterSets of the supply chain (beyond intake): the Wagtail listings and selectors share them."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet

from core import filters as core_filters

from .models import Facility, Grade, Lot, PackedBatch, PurchasePrice, Shipment, Sku


class FacilityFilterSet(WagtailFilterSet):
    class Meta:
        model = Facility
        fields = ["kind", "township", "active"]


class PurchasePriceFilterSet(WagtailFilterSet):
    produce = django_filters.CharFilter(label=_("produce code"), field_name="grade__produce__code")

    class Meta:
        model = PurchasePrice
        fields = ["grade"]


class _ScopedChoices:
    """Facility choices narrowed to the requesting user's scope (logistics/access.py)."""

    facility_filters: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = getattr(self.request, "user", None)
        if user is not None:
            from .access import facilities_visible_to

            visible = facilities_visible_to(user)
            for name in self.facility_filters:
                self.filters[name].queryset = self.filters[name].queryset.filter(pk__in=visible.values("pk"))


class LotFilterSet(_ScopedChoices, WagtailFilterSet):
    facility_filters = ("origin",)

    grade = django_filters.ModelChoiceFilter(label=_("grade"), queryset=Grade.objects.select_related("produce"))
    origin = django_filters.ModelChoiceFilter(
        label=_("collection point"), queryset=Facility.objects.filter(kind=Facility.Kind.COLLECTION_POINT)
    )
    created_at = core_filters.DateFromToRangeFilter(label=_("intake date"), widget=DateRangePickerWidget)

    class Meta:
        model = Lot
        fields = ["grade", "origin", "created_at"]


class PackedBatchFilterSet(_ScopedChoices, WagtailFilterSet):
    facility_filters = ("station",)

    sku = django_filters.ModelChoiceFilter(label=_("SKU"), queryset=Sku.objects.all())
    station = django_filters.ModelChoiceFilter(
        label=_("sorting station"), queryset=Facility.objects.filter(kind=Facility.Kind.SORTING_STATION)
    )
    packed_at = core_filters.DateFromToRangeFilter(label=_("packed at"), widget=DateRangePickerWidget)

    class Meta:
        model = PackedBatch
        fields = ["sku", "station", "inspection_status", "on_hold", "packed_at"]


class ShipmentFilterSet(_ScopedChoices, WagtailFilterSet):
    facility_filters = ("origin", "destination")

    dispatched_at = core_filters.DateFromToRangeFilter(label=_("dispatched at"), widget=DateRangePickerWidget)

    class Meta:
        model = Shipment
        fields = ["origin", "destination", "status", "dispatched_at"]
