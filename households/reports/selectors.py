"""Reads of household income: the ledger aggregated in SQL (GROUP BY), never row by row.

The income of a household is its IncomeEntry rows: intake payments (收购款), attributed sales
revenue (销售收入, net of refunds) and dividends (二次返利). Every report takes the same
``IncomeReportFilterSet`` (township, village, class, status, flag, period, produce).
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal

import django_filters
from django import forms
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import filters as core_filters
from core.money import from_fen

from ..filters import VillageChoiceFilter
from ..models import (
    RISK_FLAGS,
    Household,
    IncomeEntry,
    IncomeKind,
    IncomeMonth,
    LabourClass,
    PovertyStatus,
    SalesChannel,
    Township,
    Village,
)

ZERO = Decimal("0.00")
CACHE_SECONDS = 3600
KINDS = tuple(IncomeKind.values)  # intake, sales, dividend


# Produce codes belong to the supply chain (logistics), which registers {code: name} here from its
# AppConfig.ready(): the registry never imports it, and people filter and read by name (板栗).
_PRODUCE_NAME_SOURCES: list[Callable[[], dict[str, str]]] = []


def register_produce_names(fn: Callable[[], dict[str, str]]) -> None:
    if fn not in _PRODUCE_NAME_SOURCES:
        _PRODUCE_NAME_SOURCES.append(fn)


def produce_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for fn in _PRODUCE_NAME_SOURCES:
        names.update(fn())
    return names


def produce_code(text: str) -> str:
    """The produce code a person meant: a code (any case), a name (板栗) or a unique part of one;
    otherwise the text itself, which then finds nothing."""
    text = (text or "").strip()
    if not text:
        return ""
    names = produce_names()
    lowered = {code.lower(): code for code in names}
    if text.lower() in lowered:
        return lowered[text.lower()]
    exact = [code for code, name in names.items() if name == text]
    partial = [code for code, name in names.items() if text in name]
    chosen = exact or partial
    return chosen[0] if len(chosen) == 1 else text


def produce_label(code: str, names: dict[str, str] | None = None) -> str:
    if not code:
        return "-"
    return (produce_names() if names is None else names).get(code, code)


class ProduceField(forms.CharField):
    def clean(self, value):
        return produce_code(super().clean(value))


class ProduceFilter(django_filters.CharFilter):
    field_class = ProduceField


class IncomeReportFilterSet(django_filters.FilterSet):
    """Filters on income entries by their household's registry data and by the entry's date and produce."""

    township = django_filters.ModelChoiceFilter(
        label=_("township"), field_name="household__village__township", queryset=Township.objects.all()
    )
    village = VillageChoiceFilter(
        label=_("village"), field_name="household__village",
        queryset=Village.objects.select_related("township").order_by("township__code", "code"),
    )
    labour_class = django_filters.ChoiceFilter(label=_("labour capacity class"), field_name="household__labour_class",
                                               choices=LabourClass.choices)
    poverty_status = django_filters.ChoiceFilter(label=_("poverty status"), field_name="household__poverty_status",
                                                 choices=PovertyStatus.choices)
    flag = django_filters.ChoiceFilter(label=_("at-risk group"), choices=list(RISK_FLAGS.items()), method="filter_flag")
    date_from = core_filters.DateFilter(label=_("from"), field_name="date", lookup_expr="gte",
                                          widget=forms.DateInput(attrs={"type": "date"}))
    date_to = core_filters.DateFilter(label=_("to"), field_name="date", lookup_expr="lte",
                                        widget=forms.DateInput(attrs={"type": "date"}))
    produce = ProduceFilter(label=_("produce"), field_name="produce", help_text=_("name or code, e.g. 板栗"))

    class Meta:
        model = IncomeEntry
        fields: list[str] = []

    def filter_flag(self, queryset, name, value):
        if value in RISK_FLAGS:
            return queryset.filter(**{f"household__{value}": True})
        return queryset


# --- The published figures ----------------------------------------------------------------------
#
# What the public pages, the API and the county report call "paid to households" is decided here
# and nowhere else: intake payments (收购款, cash at the scale) plus dividends (二次返利). Sales
# revenue attributed to households is income the channel drove — the base of the dividend — but
# not money paid to them, so it is shown beside the figure and never added into it.

PAID_KINDS = (IncomeKind.INTAKE, IncomeKind.DIVIDEND)


def paid_to_households(row: dict) -> Decimal:
    """The paid-to-households figure of a row of per-kind sums (``intake``, ``sales``, ``dividend``)."""
    return sum(((row.get(k) or ZERO) for k in PAID_KINDS), ZERO)


def income_published(*, as_of: datetime.datetime) -> dict:
    """The ledger's published figures at the cut-off ``as_of``: entries written up to that instant
    (the ledger is append-only, so this is what any page showed at that time). One aggregate.

    Keys: ``as_of``, ``households`` (reached: with any entry), ``intake``, ``sales``, ``dividend``,
    ``total`` (all income the channel brought), ``paid_to_households``."""
    row = IncomeEntry.objects.filter(created_at__lte=as_of).aggregate(**_kind_sums(), households=Count("household_id", distinct=True))
    row = _clean(row)
    row["paid_to_households"] = paid_to_households(row)
    row["as_of"] = as_of
    return row


def income_published_now() -> dict:
    """``income_published`` at this instant, its sums cached while the ledger stays as it is (the
    ledger's version changes with every entry written, so a cached sum is the sum now)."""
    now = timezone.now()
    key = _key("published", _version())
    row = cache.get(key)
    if row is None:
        row = _published_from_summary()
        cache.set(key, row, CACHE_SECONDS)
    return {**row, "as_of": now}


def _published_from_summary() -> dict:
    """``income_published`` at this instant, from the monthly summary: every entry written so far
    is in it (added in the entry's own transaction) and none other, so its sums and households are
    the ledger's — a few hundred thousand rows read instead of every entry."""
    row = IncomeMonth.objects.aggregate(
        **{k: Sum("amount", filter=Q(kind=k)) for k in KINDS}, total=Sum("amount"),
        households=Count("household_id", distinct=True),
    )
    row = _clean(row)
    row["paid_to_households"] = paid_to_households(row)
    return row


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


# --- The per-household sums every registry grouping starts from --------------------------------
#
# The ledger is summed per household in one pass (for the entries' own filters: period and
# produce) and cached; townships, villages, classes, flags and the ranking are then grouped in
# Python over those 25,000 sums and the registry's attributes (also cached). One scan of the
# ledger serves every table of the page and every registry filter, instead of one scan each.
#
# Cache keys carry the ledger's version. It is append-only, so its highest id names its state —
# except for a transaction that took an id and commits late: the count of entries among the
# most recent ids catches those (transactions are short; a settlement chunk is well inside it).

RECENT_IDS = 200_000


def _valid(filters: dict | None) -> dict | None:
    filterset = IncomeReportFilterSet(filters or {}, queryset=IncomeEntry.objects.none())
    return filterset.form.cleaned_data if filterset.is_valid() else None


def _ledger_version() -> str:
    table = connection.ops.quote_name(IncomeEntry._meta.db_table)
    with connection.cursor() as cursor:
        # The newest row's time as well: ids start again in a new database (a restored copy, a
        # test run) while the cache may live on.
        cursor.execute(f"SELECT id, created_at FROM {table} ORDER BY id DESC LIMIT 1")
        top, created = cursor.fetchone() or (0, None)
        cursor.execute(f"SELECT COUNT(*) FROM {table} WHERE id > %s", [top - RECENT_IDS])
        return f"{top}.{cursor.fetchone()[0]}.{created}"


def _registry_version() -> str:
    table = connection.ops.quote_name(Household._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MAX(updated_at), COUNT(*), MAX(id) FROM {table}")
        return "|".join(str(v) for v in cursor.fetchone())


# One page, one snapshot: inside ``one_version()`` every table of the report reads the versions
# read once on entering, instead of two statements per table (each a count over recent ids).
_PINNED: ContextVar[str | None] = ContextVar("income_report_version", default=None)


@contextmanager
def one_version():
    token = _PINNED.set(f"{_ledger_version()}|{_registry_version()}")
    try:
        yield
    finally:
        _PINNED.reset(token)


def _version() -> str:
    pinned = _PINNED.get()
    if pinned is not None:
        return pinned
    return f"{_ledger_version()}|{_registry_version()}"


def _key(name: str, parts) -> str:
    return "income-report:" + hashlib.sha1(f"{name}|{parts!r}".encode()).hexdigest()


# The big cached values (per-household sums, the registry's attributes) are also kept unpickled
# in this process for the next call; their keys carry the versions, so a hit is never stale.
_LOCAL: dict[str, object] = {}


def _cache_get(key: str):
    if key in _LOCAL:
        return _LOCAL[key]
    value = cache.get(key)
    if value is not None:
        _local_put(key, value)
    return value


def _cache_set(key: str, value) -> None:
    cache.set(key, value, CACHE_SECONDS)
    _local_put(key, value)


def _local_put(key: str, value) -> None:
    while len(_LOCAL) >= 8:
        _LOCAL.pop(next(iter(_LOCAL)))
    _LOCAL[key] = value


def _cached(name: str, cleaned: dict, compute):
    parts = (sorted((k, str(getattr(v, "pk", v))) for k, v in cleaned.items() if v not in (None, "")), _version())
    key = _key(name, parts)
    hit = cache.get(key)
    if hit is not None:
        return hit
    value = compute()
    cache.set(key, value, CACHE_SECONDS)
    return value


def _month_after(day: datetime.date) -> datetime.date:
    return (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def _period_rows_sql(date_from: datetime.date | None, date_to: datetime.date | None, produce: str,
                     columns: tuple[str, ...] = ("household_id", "kind", "amount")) -> tuple[str, list]:
    """Rows (``columns`` of household_id, month, kind, produce, channel, amount) that sum to the
    ledger over a period: the whole months from the monthly summary (IncomeMonth, kept by the
    ledger's writers), the days of a month cut by the period's ends from the ledger (its
    (date, kind) index) — equal to the ledger's rows summed, an order of magnitude fewer rows read."""
    from ..summary import month_sql

    entries = connection.ops.quote_name(IncomeEntry._meta.db_table)
    months = connection.ops.quote_name(IncomeMonth._meta.db_table)
    summary_cols = ", ".join(columns)
    ledger_cols = ", ".join(f"{month_sql('date')} AS month" if c == "month" else c for c in columns)
    first_whole = date_from if date_from is None or date_from.day == 1 else _month_after(date_from)
    # first month not wholly inside the period
    end_whole = None if date_to is None else (_month_after(date_to) if _month_after(date_to) - datetime.timedelta(days=1) == date_to
                                               else date_to.replace(day=1))
    parts, params = [], []
    where, wparams = ["1 = 1"], []
    if first_whole is not None:
        where.append("month >= %s")
        wparams.append(first_whole)
    if end_whole is not None:
        where.append("month < %s")
        wparams.append(end_whole)
    if produce:
        where.append("produce = %s")
        wparams.append(produce)
    if first_whole is None or end_whole is None or first_whole < end_whole:
        parts.append(f"SELECT {summary_cols} FROM {months} WHERE {' AND '.join(where)}")
        params += wparams
    # The cut months at either end, read from the ledger.
    ranges = []
    if date_from is not None and date_from.day != 1:
        head_end = _month_after(date_from) - datetime.timedelta(days=1)
        ranges.append((date_from, min(head_end, date_to) if date_to else head_end))
    if end_whole is not None and date_to is not None and end_whole == date_to.replace(day=1):
        tail_start = date_to.replace(day=1) if date_from is None else max(date_to.replace(day=1), date_from)
        if not ranges or tail_start > ranges[0][1]:
            ranges.append((tail_start, date_to))
    for start, end in ranges:
        if start > end:
            continue
        clause = "date >= %s AND date <= %s" + (" AND produce = %s" if produce else "")
        parts.append(f"SELECT {ledger_cols} FROM {entries} WHERE {clause}")
        params += [start, end] + ([produce] if produce else [])
    if not parts:
        return f"SELECT {summary_cols} FROM {months} WHERE 1 = 0", []
    return " UNION ALL ".join(parts), params


def per_household_sql(date_from: datetime.date | None, date_to: datetime.date | None, produce: str) -> tuple[str, list]:
    """SUM(amount) per (household, kind) over a period, from the monthly summary and the cut days
    of the ledger (``_period_rows_sql``)."""
    union, params = _period_rows_sql(date_from, date_to, produce)
    return f"SELECT household_id, kind, SUM(amount) FROM ({union}) AS p GROUP BY household_id, kind", params


def _registry_where(cleaned: dict) -> tuple[str, list]:
    """The registry filters (township, village, class, status, at-risk group) as SQL on the
    household ``h`` and its village ``v``."""
    where, params = ["1 = 1"], []
    if cleaned.get("township"):
        where.append("v.township_id = %s")
        params.append(cleaned["township"].pk)
    if cleaned.get("village"):
        where.append("h.village_id = %s")
        params.append(cleaned["village"].pk)
    for field in ("labour_class", "poverty_status"):
        if cleaned.get(field):
            where.append(f"h.{field} = %s")
            params.append(cleaned[field])
    if cleaned.get("flag") in RISK_FLAGS:
        where.append(f"h.{cleaned['flag']} = %s")
        params.append(True)
    return " AND ".join(where), params


def _has_registry_filter(cleaned: dict) -> bool:
    return any(cleaned.get(f) for f in ("township", "village", "labour_class", "poverty_status")) or cleaned.get("flag") in RISK_FLAGS


def _tables() -> tuple[str, str, str]:
    q = connection.ops.quote_name
    return q(Household._meta.db_table), q(Village._meta.db_table), q(Township._meta.db_table)


def per_household_ledger_sql(date_from, date_to, produce: str) -> tuple[str, list]:
    """The same sums by a GROUP BY over the whole ledger: what the summary replaced (the benchmark's
    baseline, and the tests' reference)."""
    where, params = ["1 = 1"], []
    for value, op in ((date_from, ">="), (date_to, "<=")):
        if value:
            where.append(f"date {op} %s")
            params.append(value)
    if produce:
        where.append("produce = %s")
        params.append(produce)
    table = connection.ops.quote_name(IncomeEntry._meta.db_table)
    return f"SELECT household_id, kind, SUM(amount) FROM {table} WHERE {' AND '.join(where)} GROUP BY household_id, kind", params


def _fen_sum(kind: str) -> str:
    return f"CAST(ROUND(SUM(CASE WHEN p.kind = '{kind}' THEN p.amount ELSE 0 END) * 100) AS BIGINT)"


def _selected(cleaned: dict) -> list[tuple[dict, tuple]]:
    """(household attributes, (intake, sales, dividend, total) in fen) of the households with
    income in the selection: one query — the period's sums per household (``_period_rows_sql``)
    joined to the registry, its filters applied there — cached under the filters and the ledger's
    and the registry's versions."""
    key = _key("selected", (sorted((k, str(getattr(v, "pk", v))) for k, v in cleaned.items() if v not in (None, "")),
                            _version()))
    hit = _cache_get(key)
    if hit is not None:
        return hit
    union, params = _period_rows_sql(cleaned.get("date_from"), cleaned.get("date_to"), cleaned.get("produce") or "")
    where, wparams = _registry_where(cleaned)
    households, villages, townships = _tables()
    flags = ", ".join(f"h.{f}" for f in RISK_FLAGS)
    sums = ", ".join(_fen_sum(k) for k in KINDS)
    sql = f"""
    SELECT h.id, h.number, h.head_name, h.labour_class, h.poverty_status, {flags}, h.village_id, v.name, v.code,
           v.township_id, t.name, t.code, s.*
    FROM (SELECT p.household_id, {sums} FROM ({union}) AS p GROUP BY p.household_id) AS s
    JOIN {households} h ON h.id = s.household_id
    JOIN {villages} v ON v.id = h.village_id
    JOIN {townships} t ON t.id = v.township_id
    WHERE {where}
    """
    names = REGISTRY_FIELDS
    width = len(names)
    out = []
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # 25,000 households' groups: the hash aggregate spills to disk at the default 4 MB.
            cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(sql, [*params, *wparams])
        for row in cursor.fetchall():
            fen = tuple(int(x or 0) for x in row[width + 1:])
            out.append((dict(zip(names, row[:width], strict=True)), (*fen, sum(fen))))
    _cache_set(key, out)
    return out


REGISTRY_FIELDS = (
    "id", "number", "head_name", "labour_class", "poverty_status", *RISK_FLAGS,
    "village_id", "village__name", "village__code", "village__township_id", "village__township__name", "village__township__code",
)


def _row(amounts_list: list[tuple], **extra) -> dict:
    row = dict(extra)
    for i, k in enumerate((*KINDS, "total")):
        row[k] = from_fen(sum(a[i] for a in amounts_list))
    row["households"] = len(amounts_list)
    row["paid_to_households"] = paid_to_households(row)
    return row


GROUPS = {
    "township": (lambda h: h["village__township_id"], lambda h: h["village__township__name"], lambda h: h["village__township__code"]),
    "village": (lambda h: h["village_id"], lambda h: f"{h['village__township__name']} {h['village__name']}", lambda h: h["village__code"]),
    "labour_class": (lambda h: h["labour_class"], lambda h: str(dict(LabourClass.choices).get(h["labour_class"], h["labour_class"])),
                     lambda h: h["labour_class"]),
}


def _totals_by(group: str, selected: list[tuple[dict, tuple]]) -> list[dict]:
    key_of, label_of, order_of = GROUPS[group]
    groups: dict = {}
    for h, amounts in selected:
        key = key_of(h)
        entry = groups.get(key)
        if entry is None:  # the label once per group, not once per household
            entry = groups[key] = (label_of(h), order_of(h), [])
        entry[2].append(amounts)
    rows = [_row(amounts, key=key, label=label, code=order) for key, (label, order, amounts) in groups.items()]
    return sorted(rows, key=lambda r: r["code"])


def _ranked(selected: list[tuple[dict, tuple]], limit: int | None, ascending: bool) -> list[dict]:
    ordered = sorted(selected, key=lambda ha: ha[0]["number"])
    ordered.sort(key=lambda ha: ha[1][3], reverse=not ascending)
    return [
        _row([amounts], household_id=h["id"], household__number=h["number"], household__head_name=h["head_name"],
             household__village__name=h["village__name"], household__village__township__name=h["village__township__name"])
        for h, amounts in (ordered[:limit] if limit else ordered)
    ]


def income_totals_by(group: str, *, filters: dict | None = None) -> list[dict]:
    """Totals per township, village or labour class (households = those with income in the selection)."""
    cleaned = _valid(filters)
    return [] if cleaned is None else _totals_by(group, _selected(cleaned))


def income_totals(*, filters: dict | None = None) -> dict:
    cleaned = _valid(filters)
    if cleaned is None:
        return _clean({"households": 0})
    return _row([amounts for _h, amounts in _selected(cleaned)])


def households_ranked(*, filters: dict | None = None, limit: int | None = 100, ascending: bool = False) -> list[dict]:
    """Households by income in the selection, highest first (or lowest first)."""
    cleaned = _valid(filters)
    return [] if cleaned is None else _ranked(_selected(cleaned), limit, ascending)


def income_report(*, filters: dict | None = None, limit: int | None = 100) -> dict:
    """Every table of the county report from one look at the ledger: totals, per township, village
    and class, and the ranking."""
    cleaned = _valid(filters)
    if cleaned is None:
        return {"totals": _clean({"households": 0}), "township": [], "village": [], "labour_class": [], "ranked": []}

    return _cached(f"report-{limit}", cleaned, lambda: _report_in_sql(cleaned, limit))


def _report_in_sql(cleaned: dict, limit: int | None) -> dict:
    """``income_report``'s tables grouped in the database, in one statement: the selection's
    per-household sums (``_period_rows_sql`` joined to the registry, its filters applied there) as
    a common table, then its totals per township, village, class and overall and its ranking
    (highest total first, ties by registry number) as one UNION ALL — a few hundred rows to
    Python instead of 25,000 households. The same figures as the tables grouped in Python from
    ``_selected`` (the tests compare them)."""
    union, params = _period_rows_sql(cleaned.get("date_from"), cleaned.get("date_to"), cleaned.get("produce") or "")
    where, wparams = _registry_where(cleaned)
    households, villages, townships = _tables()
    sums = ", ".join(f"{_fen_sum(k)} AS {k}" for k in KINDS)
    amounts = "COUNT(*), SUM(intake), SUM(sales), SUM(dividend)"
    limit_sql = f"WHERE r.rank <= {int(limit)}" if limit else ""
    sql = f"""
    WITH sel AS (
        SELECT h.id AS hid, h.number AS number, h.head_name AS head_name, h.labour_class AS labour_class,
               h.village_id AS village_id, v.name AS vname, v.code AS vcode, v.township_id AS tid, t.name AS tname,
               t.code AS tcode, s.intake AS intake, s.sales AS sales, s.dividend AS dividend
        FROM (SELECT p.household_id, {sums} FROM ({union}) AS p GROUP BY p.household_id) AS s
        JOIN {households} h ON h.id = s.household_id
        JOIN {villages} v ON v.id = h.village_id
        JOIN {townships} t ON t.id = v.township_id
        WHERE {where}
    )
    SELECT 'township', CAST(tid AS TEXT), MIN(tcode), MIN(tname), '', '', 0, {amounts} FROM sel GROUP BY tid
    UNION ALL
    SELECT 'village', CAST(village_id AS TEXT), MIN(vcode), MIN(tname), MIN(vname), '', 0, {amounts} FROM sel GROUP BY village_id
    UNION ALL
    SELECT 'labour_class', labour_class, labour_class, '', '', '', 0, {amounts} FROM sel GROUP BY labour_class
    UNION ALL
    SELECT 'total', '', '', '', '', '', 0, {amounts} FROM sel
    UNION ALL
    SELECT 'ranked', CAST(r.hid AS TEXT), r.number, r.head_name, r.vname, r.tname, r.rank, 1, r.intake, r.sales, r.dividend
    FROM (SELECT sel.*, ROW_NUMBER() OVER (ORDER BY intake + sales + dividend DESC, number) AS rank FROM sel) AS r {limit_sql}
    """
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL work_mem = '64MB'")  # 25,000 households' groups in memory
        cursor.execute(sql, [*params, *wparams])
        rows = cursor.fetchall()
    classes = dict(LabourClass.choices)
    report: dict = {"township": [], "village": [], "labour_class": [], "totals": _fen_row((0, 0, 0), 0)}
    ranked = []
    for group, key, code, name1, name2, name3, rank, count, *fen in rows:
        row = _fen_row(tuple(int(f or 0) for f in fen), int(count))
        if group == "township":
            report[group].append({**row, "key": int(key), "label": name1, "code": code})
        elif group == "village":
            report[group].append({**row, "key": int(key), "label": f"{name1} {name2}", "code": code})
        elif group == "labour_class":
            report[group].append({**row, "key": key, "label": str(classes.get(key, key)), "code": code})
        elif group == "total":
            report["totals"] = row
        else:
            ranked.append((int(rank), {**row, "household_id": int(key), "household__number": code, "household__head_name": name1,
                                       "household__village__name": name2, "household__village__township__name": name3}))
    for group in GROUPS:
        report[group].sort(key=lambda r: r["code"])
    report["ranked"] = [row for _rank, row in sorted(ranked, key=lambda rr: rr[0])]
    return report


def _fen_row(fen: tuple[int, int, int], households: int) -> dict:
    row = {k: from_fen(v) for k, v in zip(KINDS, fen, strict=True)}
    row["total"] = from_fen(sum(fen))
    row["households"] = households
    row["paid_to_households"] = paid_to_households(row)
    return row


def _facets(cleaned: dict) -> list[tuple[datetime.date, str, str, str, int]]:
    """(month, kind, produce, channel, fen) of the selection — the monthly summary (and the cut
    days of the ledger) grouped by what the month, produce and channel tables show, the registry
    filters joined in: one query for the three tables, cached like the per-household sums."""
    key = _key("facets", (sorted((k, str(getattr(v, "pk", v))) for k, v in cleaned.items() if v not in (None, "")),
                          _version()))
    hit = _cache_get(key)
    if hit is not None:
        return hit
    union, params = _period_rows_sql(cleaned.get("date_from"), cleaned.get("date_to"), cleaned.get("produce") or "",
                                     columns=("household_id", "month", "kind", "produce", "channel", "amount"))
    join, wparams = "", []
    if _has_registry_filter(cleaned):
        households, villages, _townships = _tables()
        where, wparams = _registry_where(cleaned)
        join = f"JOIN {households} h ON h.id = p.household_id JOIN {villages} v ON v.id = h.village_id WHERE {where}"
    sql = (
        f"SELECT p.month, p.kind, p.produce, p.channel, CAST(ROUND(SUM(p.amount) * 100) AS BIGINT) FROM ({union}) AS p {join} "
        f"GROUP BY p.month, p.kind, p.produce, p.channel"
    )
    month_field = IncomeMonth._meta.get_field("month")
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *wparams])
        rows = [(month_field.to_python(m), k, pr or "", ch or "", int(f or 0)) for m, k, pr, ch, f in cursor.fetchall()]
    _cache_set(key, rows)
    return rows


def _facet_rows(cleaned: dict, dimension: int) -> dict:
    """{month or produce: row of per-kind sums} of the selection (dimension 0 month, 2 produce)."""
    out: dict = {}
    for facet in _facets(cleaned):
        fen = out.setdefault(facet[dimension], dict.fromkeys(KINDS, 0))
        if facet[1] in fen:
            fen[facet[1]] += facet[4]
    return {
        key: {**{k: from_fen(v) for k, v in fen.items()}, "total": from_fen(sum(fen.values()))} for key, fen in out.items()
    }


def income_by_month(*, filters: dict | None = None, household: Household | None = None) -> list[dict]:
    """Per-kind sums by month (``month`` the month's first day), oldest first."""
    if household is not None:
        rows = (IncomeEntry.objects.filter(household=household).order_by().annotate(month=TruncMonth("date")).values("month")
                .annotate(**_kind_sums()).order_by("month"))
        return [_clean(dict(r)) for r in rows]
    cleaned = _valid(filters)
    if cleaned is None:
        return []
    return [{"month": month, **row} for month, row in sorted(_facet_rows(cleaned, 0).items())]


def income_by_produce(*, filters: dict | None = None, household: Household | None = None) -> list[dict]:
    """Per-kind sums by produce, highest total first, with the produce's name."""
    names = produce_names()
    if household is not None:
        rows = [_clean(dict(r)) for r in IncomeEntry.objects.filter(household=household).order_by().values("produce")
                .annotate(**_kind_sums()).order_by("-total")]
    else:
        cleaned = _valid(filters)
        if cleaned is None:
            return []
        rows = sorted(({"produce": produce, **row} for produce, row in _facet_rows(cleaned, 2).items()),
                      key=lambda r: (-r["total"], r["produce"]))
    for r in rows:
        r["produce_label"] = produce_label(r["produce"], names)
    return rows


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


def income_by_channel(*, filters: dict | None = None, household: Household | None = None) -> list[dict]:
    """Attributed sales revenue per sales channel (online, counter, canteen), every channel
    listed (zero when it sold nothing): ``channel``, ``label``, ``sales``."""
    if household is not None:
        sums = dict(
            IncomeEntry.objects.filter(household=household, kind=IncomeKind.SALES).order_by().values("channel")
            .annotate(s=Sum("amount")).values_list("channel", "s")
        )
    else:
        cleaned = _valid(filters)
        fen: dict[str, int] = {}
        for _month, kind, _produce, channel, amount in (_facets(cleaned) if cleaned is not None else []):
            if kind == IncomeKind.SALES:
                fen[channel] = fen.get(channel, 0) + amount
        sums = {c: from_fen(f) for c, f in fen.items()}
    return [{"channel": c, "label": str(label), "sales": sums.get(c) or ZERO} for c, label in SalesChannel.choices]


def household_income_summary(*, household: Household) -> dict:
    """Totals by kind and by month (what the API answers)."""
    totals = _clean(dict(IncomeEntry.objects.filter(household=household).aggregate(**_kind_sums())))
    months = income_by_month(household=household)
    return {
        "totals": totals, "by_month": months, "by_produce": income_by_produce(household=household),
        "by_channel": income_by_channel(household=household),
    }
