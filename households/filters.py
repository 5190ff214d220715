"""FilterSets of the registry: the Wagtail listing, the Excel export and any API share them."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import WagtailFilterSet

from .models import EARLY_LIFTED_YEARS, RISK_FLAGS, Household, LabourClass, PovertyStatus, SubClass, Township, Village

YES_NO = (("true", _("Yes")), ("false", _("No")))


class YesNoFilter(django_filters.BooleanFilter):
    """A flag filter shown as a 是/否 select (the default NullBooleanSelect reads awkwardly)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", forms.Select(choices=(("", "---------"), *YES_NO)))
        super().__init__(*args, **kwargs)


MASKED_ID_TAIL = 4  # the digits a masked ID number still shows (core.masking)


def household_search(queryset, query: str, *, full_id: bool = True):
    """Search by registry number, head's name, or the last digits of the ID number.

    The database search backend cannot do "ends with", and people at a desk quote the last
    four or six digits of an ID card, so the search is a plain ORM filter. Without ``full_id``
    (anyone who sees IDs masked) only the last four digits match: a longer tail would let one
    probe the hidden digits.
    """
    query = (query or "").strip()
    if not query:
        return queryset
    from .validators import normalise_id_number

    tail = normalise_id_number(query)
    condition = Q(number__icontains=query) | Q(head_name__icontains=query)
    if tail and (full_id or len(tail) <= MASKED_ID_TAIL):
        condition |= Q(id_number__endswith=tail)
    return queryset.filter(condition)


class VillageChoiceField(forms.ModelChoiceField):
    """Village names repeat across townships (水峡村): every choice names its township."""

    def label_from_instance(self, obj) -> str:
        return f"{obj.township.name} · {obj.name}"


class VillageChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = VillageChoiceField


class HouseholdFilterSet(WagtailFilterSet):
    township = django_filters.ModelChoiceFilter(
        label=_("township"), field_name="village__township", queryset=Township.objects.all()
    )
    village = VillageChoiceFilter(
        label=_("village"), queryset=Village.objects.select_related("township").order_by("township__code", "code")
    )
    labour_class = django_filters.ChoiceFilter(label=_("labour capacity class"), choices=LabourClass.choices)
    sub_class = django_filters.ChoiceFilter(label=_("sub-class"), choices=SubClass.choices)
    poverty_status = django_filters.ChoiceFilter(label=_("poverty status"), choices=PovertyStatus.choices)
    flag_illness_disability = YesNoFilter(label=RISK_FLAGS["flag_illness_disability"])
    flag_elderly_alone = YesNoFilter(label=RISK_FLAGS["flag_elderly_alone"])
    flag_relocated_commuting = YesNoFilter(label=RISK_FLAGS["flag_relocated_commuting"])
    flag_income_decline = YesNoFilter(label=RISK_FLAGS["flag_income_decline"])
    flag_marginal = YesNoFilter(label=RISK_FLAGS["flag_marginal"])
    flag_early_lifted = YesNoFilter(label=_("2014/2015 脱贫户 (lifted in 2014 or 2015)"), method="filter_early_lifted")

    class Meta:
        model = Household
        fields = [
            "township",
            "village",
            "labour_class",
            "sub_class",
            "poverty_status",
            *RISK_FLAGS,
        ]

    def __init__(self, *args, user=None, **kwargs):
        """``user`` (or the ``request``'s): the township and village choices are theirs only, so a
        filter cannot name (or reveal) a place outside their scope."""
        super().__init__(*args, **kwargs)
        user = user or getattr(self.request, "user", None)
        if user is not None:
            from .access import townships_visible_to, villages_visible_to

            self.filters["township"].queryset = townships_visible_to(user)
            self.filters["village"].queryset = villages_visible_to(user).select_related("township").order_by("township__code", "code")

    def filter_early_lifted(self, queryset, name, value):
        if value is None:
            return queryset
        early = Q(poverty_status=PovertyStatus.LIFTED, lifted_year__in=EARLY_LIFTED_YEARS)
        return queryset.filter(early) if value else queryset.exclude(early)
