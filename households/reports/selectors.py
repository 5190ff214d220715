"""Reads of household income: the ledger aggregated in SQL (GROUP BY), never row by row.

The income of a household is its IncomeEntry rows: intake payments (收购款), attributed sales
revenue (销售收入, net of refunds) and dividends (二次返利). Every report takes the same
``IncomeReportFilterSet`` (township, village, class, status, flag, period, produce).
"""

from __future__ import annotations

import datetime
import hashlib
from decimal import Decimal

import django_filters
from django import forms
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Q, Sum
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext_lazy as _

from core.money import yuan

from ..models import RISK_FLAGS, Household, IncomeEntry, IncomeKind, LabourClass, PovertyStatus, Township, Village

ZERO = Decimal("0.00")
CACHE_SECONDS = 3600
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


# --- The per-household pre-aggregate every registry grouping starts from -----------------------
#
# Summing the ledger per household first (one pass, 25,000 groups) and only then joining the
# registry is what keeps the county report fast: joining a million ledger rows to households,
# villages and townships before grouping (and counting distinct households) is many times slower.
# Results are cached under the ledger's version: it is append-only, so its highest id (with the
# registry's last change) names its state exactly and a cached answer is never stale.

HOUSEHOLD_FILTERS = ("township", "village", "labour_class", "poverty_status", "flag")


def _valid(filters: dict | None) -> dict | None:
    filterset = IncomeReportFilterSet(filters or {}, queryset=IncomeEntry.objects.none())
    return filterset.form.cleaned_data if filterset.is_valid() else None


def _per_household_sql(cleaned: dict) -> tuple[str, list]:
    t_entry = connection.ops.quote_name(IncomeEntry._meta.db_table)
    where, params = ["1 = 1"], []
    if cleaned.get("date_from"):
        where.append("date >= %s")
        params.append(cleaned["date_from"])
    if cleaned.get("date_to"):
        where.append("date <= %s")
        params.append(cleaned["date_to"])
    if cleaned.get("produce"):
        where.append("produce = %s")
        params.append(cleaned["produce"])
    sums = ", ".join(f"SUM(CASE WHEN kind = '{k}' THEN amount ELSE 0 END) AS {k}" for k in KINDS)
    sql = f"SELECT household_id, {sums}, SUM(amount) AS total FROM {t_entry} WHERE {' AND '.join(where)} GROUP BY household_id"
    return sql, params


def _household_filter_sql(cleaned: dict) -> tuple[str, list]:
    qs = Household.objects.all()
    if cleaned.get("township"):
        qs = qs.filter(village__township=cleaned["township"])
    if cleaned.get("village"):
        qs = qs.filter(village=cleaned["village"])
    if cleaned.get("labour_class"):
        qs = qs.filter(labour_class=cleaned["labour_class"])
    if cleaned.get("poverty_status"):
        qs = qs.filter(poverty_status=cleaned["poverty_status"])
    if cleaned.get("flag") in RISK_FLAGS:
        qs = qs.filter(**{cleaned["flag"]: True})
    if qs.query.where:
        sql, params = qs.values("id").query.sql_with_params()
        return f"h.id IN ({sql})", list(params)
    return "1 = 1", []


def _version() -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT MAX(id) FROM {IncomeEntry._meta.db_table}), "
            f"(SELECT MAX(updated_at) FROM {Household._meta.db_table}), (SELECT COUNT(*) FROM {Household._meta.db_table})"
        )
        return "|".join(str(v) for v in cursor.fetchone())


def _cached(name: str, cleaned: dict, compute):
    key_src = f"{name}|{sorted((k, str(getattr(v, 'pk', v))) for k, v in cleaned.items() if v not in (None, ''))}|{_version()}"
    key = "income-report:" + hashlib.sha1(key_src.encode()).hexdigest()
    hit = cache.get(key)
    if hit is not None:
        return hit
    value = compute()
    cache.set(key, value, CACHE_SECONDS)
    return value


def _grouped(cleaned: dict, select: str, group_by: str, order_by: str, limit: int | None = None) -> list[dict]:
    per_hh, p1 = _per_household_sql(cleaned)
    hh_where, p2 = _household_filter_sql(cleaned)
    th, tv, tt = (connection.ops.quote_name(m._meta.db_table) for m in (Household, Village, Township))
    sums = ", ".join(f"SUM(e.{k}) AS {k}" for k in (*KINDS, "total"))
    sql = (
        f"SELECT {select}, {sums}, COUNT(*) AS households FROM ({per_hh}) e "
        f"JOIN {th} h ON h.id = e.household_id JOIN {tv} v ON v.id = h.village_id JOIN {tt} t ON t.id = v.township_id "
        f"WHERE {hh_where} {'GROUP BY ' + group_by if group_by else ''} ORDER BY {order_by}"
        + (f" LIMIT {int(limit)}" if limit else "")
    )
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The per-household hash aggregate (25,000 groups) spills to disk at the default 4 MB.
            cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(sql, p1 + p2)
        names = [c[0] for c in cursor.description]
        rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    for row in rows:
        for k in (*KINDS, "total"):
            row[k] = yuan(row[k] or 0)
    return rows


GROUPS = {
    "township": ("t.id AS key, t.name AS label, t.code AS code", "t.id, t.name, t.code", "t.code"),
    "village": ("v.id AS key, v.name AS village_name, t.name AS township_name, v.code AS code",
                "v.id, v.name, t.name, v.code", "v.code"),
    "labour_class": ("h.labour_class AS key", "h.labour_class", "h.labour_class"),
}


def income_totals_by(group: str, *, filters: dict | None = None) -> list[dict]:
    """Totals per township, village or labour class (households = those with income in the selection)."""
    cleaned = _valid(filters)
    if cleaned is None:
        return []
    select, group_by, order = GROUPS[group]

    def compute():
        rows = _grouped(cleaned, select, group_by, order)
        labels = dict(LabourClass.choices)
        for row in rows:
            if group == "labour_class":
                row["label"] = str(labels.get(row["key"], row["key"]))
            elif group == "village":
                row["label"] = f"{row['township_name']} {row['village_name']}"
        return rows

    return _cached(f"by-{group}", cleaned, compute)


def income_totals(*, filters: dict | None = None) -> dict:
    cleaned = _valid(filters)
    if cleaned is None:
        return _clean({"households": 0})
    rows = _cached("totals", cleaned, lambda: _grouped(cleaned, "1 AS one", "", "1"))
    return rows[0] if rows and rows[0]["households"] else _clean({"households": 0})


def households_ranked(*, filters: dict | None = None, limit: int | None = 100, ascending: bool = False) -> list[dict]:
    """Households by income in the selection, highest first (or lowest first)."""
    cleaned = _valid(filters)
    if cleaned is None:
        return []
    select = ("h.id AS household_id, h.number AS household__number, h.head_name AS household__head_name, "
              "v.name AS household__village__name, t.name AS household__village__township__name")
    group_by = "h.id, h.number, h.head_name, v.name, t.name"
    order = ("SUM(e.total) ASC" if ascending else "SUM(e.total) DESC") + ", h.number"
    return _cached(f"ranked-{limit}-{ascending}", cleaned, lambda: _grouped(cleaned, select, group_by, order, limit))


def income_by_month(*, filters: dict | None = None, household: Household | None = None) -> list[dict]:
    def compute(qs):
        rows = qs.order_by().annotate(month=TruncMonth("date")).values("month").annotate(**_kind_sums()).order_by("month")
        return [_clean(dict(r)) for r in rows]

    if household is not None:
        return compute(IncomeEntry.objects.filter(household=household))
    cleaned = _valid(filters)
    return [] if cleaned is None else _cached("by-month", cleaned, lambda: compute(income_entries(filters=filters)))


def income_by_produce(*, filters: dict | None = None, household: Household | None = None) -> list[dict]:
    def compute(qs):
        return [_clean(dict(r)) for r in qs.order_by().values("produce").annotate(**_kind_sums()).order_by("-total")]

    if household is not None:
        return compute(IncomeEntry.objects.filter(household=household))
    cleaned = _valid(filters)
    return [] if cleaned is None else _cached("by-produce", cleaned, lambda: compute(income_entries(filters=filters)))


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
