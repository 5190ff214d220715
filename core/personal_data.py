"""The personal-data access log (个人信息查阅记录): the one writer and the reads of it.

Every page, export, PDF or API answer that shows an ID number, a phone or a payout account
unmasked calls ``personal_data_access_record`` with what it showed. Whether a user sees personal
data unmasked is decided in one place (core.masking.can_see_personal_data); a user who sees it
masked is not recorded, so callers may call the service unconditionally.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import django_filters
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.widgets import AdminDateInput

from .client_ip import client_ip
from .masking import can_see_personal_data, mask_id_number, mask_phone
from .models import PersonalDataAccess

Action = PersonalDataAccess.Action

# Query keys that say nothing about which records were shown.
_NOT_A_FILTER = {"csrfmiddlewaretoken", "format", "export", "_w_filter_fragment"}


# A search may be a full ID number or phone: the log records the search masked, as it must hold
# no personal data itself. (Registry numbers, 16 digits, stay readable.)
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
_PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def _masked(value: str) -> str:
    value = _ID_NUMBER.sub(lambda m: mask_id_number(m.group(0)), value)
    return _PHONE.sub(lambda m: mask_phone(m.group(0)), value)


def _filters_of(filters) -> dict:
    if not filters:
        return {}
    if hasattr(filters, "lists"):  # a QueryDict: keep every value of a repeated key
        items = [(k, v if len(v) > 1 else v[0]) for k, v in filters.lists()]
    else:
        items = list(filters.items())
    kept = {}
    for key, value in items:
        if key in _NOT_A_FILTER or value in ("", []):
            continue
        kept[str(key)] = [_masked(str(v)) for v in value] if isinstance(value, list) else _masked(str(value))
    return kept


@transaction.atomic
def personal_data_access_record(
    *,
    request,
    action: str,
    households: Iterable[str] = (),
    employees: Iterable[str] = (),
    filters: Mapping | None = None,
    rows: int | None = None,
) -> PersonalDataAccess | None:
    """Record that ``request.user`` was shown these households' (registry numbers) or employees'
    (``employer code/staff number``) personal data unmasked. ``rows``: how many records an
    export or listing held (the number of households and employees if not given).

    Returns the entry, or None when nothing was shown unmasked (the user sees personal data
    masked, or the page held nobody): then nothing is written."""
    user = getattr(request, "user", None)
    if not can_see_personal_data(user):
        return None
    households = [str(n) for n in dict.fromkeys(households)]
    employees = [str(n) for n in dict.fromkeys(employees)]
    if not households and not employees and not rows:
        return None  # an empty page or export showed nobody's data
    return PersonalDataAccess.objects.create(
        user=user,
        username=user.get_username(),
        action=Action(action),
        path=(getattr(request, "path", "") or "")[:300],
        households=households,
        employees=employees,
        filters=_filters_of(filters),
        rows=len(households) + len(employees) if rows is None else rows,
        ip=client_ip(request),
    )


# --- reads -------------------------------------------------------------------------------------


def _users_with_entries(request=None):
    return get_user_model().objects.filter(pk__in=PersonalDataAccess.objects.values("user_id")).order_by("username")


class PersonalDataAccessFilterSet(WagtailFilterSet):
    """One filter for the admin listing, its Excel export and the API: ``user`` (id), ``action``,
    ``date_from``/``date_to`` (calendar days, Asia/Shanghai, both included), ``household``."""

    user = django_filters.ModelChoiceFilter(label=_("User"), queryset=_users_with_entries)
    action = django_filters.ChoiceFilter(label=_("Action"), choices=Action.choices)
    # Two plain dates rather than a range filter: the admin and the API then name them alike.
    date_from = django_filters.DateFilter(label=pgettext_lazy("date", "From"), field_name="at", lookup_expr="date__gte", widget=AdminDateInput)
    date_to = django_filters.DateFilter(label=pgettext_lazy("date", "To"), field_name="at", lookup_expr="date__lte", widget=AdminDateInput)
    household = django_filters.CharFilter(label=_("Household number"), method="filter_household")

    class Meta:
        model = PersonalDataAccess
        fields = ["user", "action", "date_from", "date_to", "household"]

    def filter_household(self, queryset, name, value):
        # The JSON list's text holds each number in quotes: an exact element, on SQLite and
        # PostgreSQL alike (JSON containment is PostgreSQL-only).
        number = value.strip().replace('"', "")
        return queryset.filter(households__icontains=f'"{number}"') if number else queryset


class InvalidFilters(Exception):
    def __init__(self, errors):
        self.errors = errors
        super().__init__(str(errors))


def personal_data_access_list(*, filters: Mapping | None = None):
    """The log, newest first, narrowed by ``filters`` (PersonalDataAccessFilterSet's keys)."""
    queryset = PersonalDataAccess.objects.order_by("-at", "-id")
    filterset = PersonalDataAccessFilterSet(filters or {}, queryset=queryset)
    if not filterset.is_valid():
        raise InvalidFilters(filterset.errors)
    return filterset.qs
