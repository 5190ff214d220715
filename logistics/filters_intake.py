"""FilterSets of the intake screens and API: a point's intakes, and the household picker."""

from __future__ import annotations

import datetime
import re

import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import filters as core_filters
from households.models import Household, LabourClass, PovertyStatus, SubClass

from .models import Intake

ID_TAIL = re.compile(r"^\d{3}[\dXx]$")


def local_day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The day in the site's time zone (Asia/Shanghai) as an aware [start, end) range."""
    tz = timezone.get_current_timezone()
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)
    return start, start + datetime.timedelta(days=1)


class IntakeFilter(django_filters.FilterSet):
    date = core_filters.DateFilter(method="filter_date", label=_("date (YYYY-MM-DD)"))
    produce = django_filters.CharFilter(field_name="grade__produce__code", label=_("produce code"))
    grade = django_filters.CharFilter(field_name="grade__code", label=_("grade code"))
    household = django_filters.CharFilter(field_name="household__number", label=_("household registry number"))
    voided = django_filters.BooleanFilter(method="filter_voided", label=_("voided"))

    class Meta:
        model = Intake
        fields = ["date", "produce", "grade", "household", "voided"]

    def filter_date(self, queryset, name, value):
        start, end = local_day_bounds(value)
        return queryset.filter(created_at__gte=start, created_at__lt=end)

    def filter_voided(self, queryset, name, value):
        return queryset.filter(void__isnull=not value)


class CountyIntakeFilter(IntakeFilter):
    """The county office sees every point's intakes and may narrow them to one point."""

    point = django_filters.CharFilter(field_name="collection_point__code", label=_("collection point code"))

    class Meta(IntakeFilter.Meta):
        fields = [*IntakeFilter.Meta.fields, "point"]


def household_search_q(term: str) -> Q:
    """Registry number or name (contains), or — for four digits (or three and X) — the ID's tail."""
    term = term.strip()
    q = Q(number__icontains=term) | Q(head_name__icontains=term)
    if ID_TAIL.match(term):
        q |= Q(id_number__iendswith=term)
    return q


class HouseholdPickerFilter(django_filters.FilterSet):
    """What collection-point staff may narrow the picker by (their own villages only)."""

    search = django_filters.CharFilter(method="filter_search", label=_("registry number, name or last 4 ID digits"))
    village = django_filters.CharFilter(field_name="village__code", label=_("village code"))

    class Meta:
        model = Household
        fields = ["search", "village"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(household_search_q(value)) if value.strip() else queryset


class RegistryHouseholdPickerFilter(HouseholdPickerFilter):
    """The county office's picker: the registry's filters as well."""

    township = django_filters.CharFilter(field_name="village__township__code", label=_("township code"))
    labour_class = django_filters.ChoiceFilter(choices=LabourClass.choices, label=_("labour capacity class"))
    sub_class = django_filters.ChoiceFilter(choices=SubClass.choices, label=_("sub-class"))
    poverty_status = django_filters.ChoiceFilter(choices=PovertyStatus.choices, label=_("poverty status"))

    class Meta(HouseholdPickerFilter.Meta):
        fields = [*HouseholdPickerFilter.Meta.fields, "township", "labour_class", "sub_class", "poverty_status"]
