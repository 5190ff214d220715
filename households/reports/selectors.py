"""Reads of household income: the ledger aggregated in SQL (GROUP BY), never row by row.

The income of a household is its IncomeEntry rows: intake payments (收购款), attributed sales
revenue (销售收入, net of refunds) and dividends (二次返利). Every report takes the same
``IncomeReportFilterSet`` (township, village, class, status, flag, period, produce).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import django_filters
from django import forms
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext_lazy as _

from ..models import RISK_FLAGS, Household, IncomeEntry, IncomeKind, LabourClass, PovertyStatus, Township, Village

ZERO = Decimal("0.00")
KINDS = tuple(IncomeKind.values)  # intake, sales, dividend


class IncomeReportFilterSet(django_filters.FilterSet):
    """Filters on income entries by their household's registry data and by the entry's date and produce."""

    township = django_filters.ModelChoiceFilter(
        label=_("township"), field_name="household__village__township", queryset=Township.objects.all()
    )
    village = django_filters.ModelChoiceFilter(
        label=_("village"), field_name="household__village",
        queryset=Village.objects.select_related("township").order_by("township__code", "code"),
    )
    labour_class = django_filters.ChoiceFilter(label=_("labour capacity class"), field_name="household__labour_class",
                                               choices=LabourClass.choices)
    poverty_status = django_filters.ChoiceFilter(label=_("poverty status"), field_name="household__poverty_status",
                                                 choices=PovertyStatus.choices)
    flag = django_filters.ChoiceFilter(label=_("at-risk group"), choices=list(RISK_FLAGS.items()), method="filter_flag")
    date_from = django_filters.DateFilter(label=_("from"), field_name="date", lookup_expr="gte",
                                          widget=forms.DateInput(attrs={"type": "date"}))
    date_to = django_filters.DateFilter(label=_("to"), field_name="date", lookup_expr="lte",
                                        widget=forms.DateInput(attrs={"type": "date"}))
    produce = django_filters.CharFilter(label=_("produce"), field_name="produce")

    class Meta:
        model = IncomeEntry
        fields: list[str] = []

    def filter_flag(self, queryset, name, value):
        if value in RISK_FLAGS:
            return queryset.filter(**{f"household__{value}": True})
        return queryset


def income_entries(*, filters: dict | None = None):
    filterset = IncomeReportFilterSet(filters or {}, queryset=IncomeEntry.objects.all())
    return filterset.qs if filterset.is_valid() else IncomeEntry.objects.none()


def _kind_sums() -> dict:
    sums = {k: Sum("amount", filter=Q(kind=k)) for k in KINDS}
    sums["total"] = Sum("amount")
    return sums


def _clean(row: dict) -> dict:
    for k in (*KINDS, "total"):
        row[k] = row.get(k) or ZERO
    return row


GROUPS = {
    "township": ("household__village__township", "household__village__township__name"),
    "village": ("household__village", "household__village__name"),
    "labour_class": ("household__labour_class", None),
}


def income_totals_by(group: str, *, filters: dict | None = None) -> list[dict]:
    """Totals per township, village or labour class: one GROUP BY over the filtered ledger."""
    key, name = GROUPS[group]
    values = [key] + ([name] if name else [])
    if group == "village":
        values.append("household__village__township__name")
    rows = (
        income_entries(filters=filters).order_by().values(*values)
        .annotate(**_kind_sums(), households=Count("household_id", distinct=True)).order_by(key)
    )
    out = []
    labels = dict(LabourClass.choices)
    for row in rows:
        row = _clean(dict(row))
        row["key"] = row[key]
        row["label"] = str(labels.get(row[key], row[key])) if group == "labour_class" else row[name]
        if group == "village":
            row["label"] = f"{row['household__village__township__name']} {row['label']}"
        out.append(row)
    return out


def income_totals(*, filters: dict | None = None) -> dict:
    return _clean(dict(income_entries(filters=filters).order_by().aggregate(
        **_kind_sums(), households=Count("household_id", distinct=True))))


def households_ranked(*, filters: dict | None = None, limit: int | None = 100, ascending: bool = False) -> list[dict]:
    """Households by income in the filtered period, highest first (or lowest first)."""
    rows = (
        income_entries(filters=filters).order_by()
        .values("household_id", "household__number", "household__head_name", "household__village__name",
                "household__village__township__name")
        .annotate(**_kind_sums())
        .order_by("total" if ascending else "-total", "household__number")
    )
    if limit:
        rows = rows[:limit]
    return [_clean(dict(r)) for r in rows]


def income_by_month(*, filters: dict | None = None, household: Household | None = None) -> list[dict]:
    qs = income_entries(filters=filters) if household is None else IncomeEntry.objects.filter(household=household)
    rows = qs.order_by().annotate(month=TruncMonth("date")).values("month").annotate(**_kind_sums()).order_by("month")
    return [_clean(dict(r)) for r in rows]


def income_by_produce(*, filters: dict | None = None, household: Household | None = None) -> list[dict]:
    qs = income_entries(filters=filters) if household is None else IncomeEntry.objects.filter(household=household)
    rows = qs.order_by().values("produce").annotate(**_kind_sums()).order_by("-total")
    return [_clean(dict(r)) for r in rows]


def household_income_entries(*, household: Household, date_from: datetime.date | None = None,
                             date_to: datetime.date | None = None):
    """A household's ledger lines with their sources (lot, batch, order codes)."""
    qs = IncomeEntry.objects.filter(household=household).order_by("-date", "-id")
    if date_from:
        qs = qs.filter(date__gte=date_from)
    if date_to:
        qs = qs.filter(date__lte=date_to)
    return qs


def entry_sources(entry: IncomeEntry) -> dict:
    """The codes behind an entry, read from its source fields (households/ knows no other app)."""
    detail = entry.source_detail or {}
    lot = detail.get("lot") or (entry.source_code if entry.source_type == "lot" else "")
    order = detail.get("order") or (entry.source_code if entry.source_type in ("sale", "refund") else "")
    return {
        "lot": lot,
        "batch": detail.get("batch", ""),
        "order": order,
        "run": detail.get("run") or (entry.source_code if entry.source_type == "dividend" else ""),
    }


def household_income_summary(*, household: Household) -> dict:
    """Totals by kind and by month (what the API answers)."""
    totals = _clean(dict(IncomeEntry.objects.filter(household=household).aggregate(**_kind_sums())))
    months = income_by_month(household=household)
    return {"totals": totals, "by_month": months, "by_produce": income_by_produce(household=household)}
