"""Reads of the shop: products with what is available, orders, allocation summaries and the
spending-progress reports. Pages, the API and the admin share these."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import router
from django.db.models import BigIntegerField, Count, DecimalField, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, TruncDate

from core.compiled_query import CompiledModelQuery
from core.money import ZERO
from logistics.selectors.stock import available_units_subquery

from .filters import EmployeeProgressFilter, EmployerProgressFilter, OrderFilter, ProductFilter
from .models import AllocationEntry, Employee, Employer, Membership, Order, OrderEvent, OrderLine, Product
from .services.allocation import allocation_today
from .services.orders import SOLD_STATUSES

K = AllocationEntry.Kind
MONEY = DecimalField(max_digits=14, decimal_places=2)


# --- memberships: which employer an entry belongs to ---------------------------------------------


def membership_at(*, employee: Employee, day) -> Membership | None:
    """The membership of ``employee`` covering ``day``."""
    return (
        Membership.objects.filter(employee=employee, valid_from__lte=day).exclude(valid_to__lte=day)
        .select_related("employer").first()
    )


def _employer_on(day_ref: str, employee_ref: str = "employee_id"):
    """The employer of the employee's membership covering the (county-time) day ``day_ref``; the
    current employer when no membership covers it (an employee written in bulk without one)."""
    membership = (
        Membership.objects.filter(employee_id=OuterRef(employee_ref), valid_from__lte=OuterRef(day_ref))
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=OuterRef(day_ref)))
        .order_by("-valid_from")
        .values("employer_id")[:1]
    )
    return Coalesce(Subquery(membership), F("employee__employer_id"), output_field=BigIntegerField())


def allocation_entries_by_employer(queryset: QuerySet[AllocationEntry] | None = None) -> QuerySet[AllocationEntry]:
    """Allocation entries with ``employer_at``: the employer the employee belonged to when the
    entry's order was placed (an order belongs to the employer of its time, and so do its refunds),
    or when the entry was written if it has no order (grants, expiry). A later move changes none."""
    order_time = Subquery(Order.objects.filter(number=OuterRef("order_number")).values("created_at")[:1])
    qs = queryset if queryset is not None else AllocationEntry.objects.all()
    return qs.annotate(at_day=TruncDate(Coalesce(order_time, F("created_at")))).annotate(employer_at=_employer_on("at_day"))


def orders_by_employer(queryset: QuerySet[Order] | None = None) -> QuerySet[Order]:
    """Orders with ``employer_at``: the employer the employee belonged to on the order's day."""
    qs = queryset if queryset is not None else Order.objects.all()
    return qs.annotate(at_day=TruncDate("created_at")).annotate(employer_at=_employer_on("at_day"))


def product_list(*, filters: dict | None = None, include_inactive: bool = False) -> QuerySet[Product]:
    """Products with ``available`` annotated, in one query however many there are."""
    qs = Product.objects.select_related("sku", "sku__produce").annotate(available=available_units_subquery("sku_id"))
    if not include_inactive:
        qs = qs.filter(active=True)
    return ProductFilter(filters or {}, queryset=qs).qs


def orders_sold() -> QuerySet[Order]:
    """The orders whose units count as sold: paid, and neither cancelled nor wholly refunded
    (``services.orders.SOLD_STATUSES``, the state machine's word on it). Settlement, the home
    page's figures and the reports count sales from here."""
    return Order.objects.filter(status__in=SOLD_STATUSES)


def product_get(*, product_id: int) -> Product | None:
    return product_list().filter(pk=product_id).first()


def order_list(*, employee: Employee | None = None, filters: dict | None = None) -> QuerySet[Order]:
    """Orders (of one employee when given), newest first, with their lines and products."""
    qs = Order.objects.select_related("employee", "employee__employer", "payment").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.select_related("product").order_by("id"))
    )
    if employee is not None:
        qs = qs.filter(employee=employee)
    # no filters, no FilterSet: building one (its form, its employer choices) cost more than the order's statements
    return OrderFilter(filters, queryset=qs).qs if filters else qs


def order_get(*, number: str, employee: Employee | None = None) -> Order:
    """One order by number; of ``employee`` only when given (raises Order.DoesNotExist otherwise).
    An employee's own order (the confirmation page after every checkout, the API) is read by three
    statements compiled once: building and compiling the querysets cost more than running them."""
    if employee is not None:
        return _own_order(number, employee.pk if isinstance(employee, Employee) else employee)
    qs = order_list(employee=employee).prefetch_related(Prefetch("events", queryset=OrderEvent.objects.order_by("id")))
    return qs.get(number=number)


_own_order_row = CompiledModelQuery(
    lambda number, employee_id: Order.objects.select_related("employee", "employee__employer", "payment").filter(
        number=number, employee_id=employee_id),
    marks=("\x1forder number\x1f", -7_330_000_001),
)
_order_lines = CompiledModelQuery(lambda order_id: OrderLine.objects.select_related("product").filter(order_id=order_id).order_by("id"))
_order_events = CompiledModelQuery(lambda order_id: OrderEvent.objects.filter(order_id=order_id).order_by("id"))


def _own_order(number: str, employee_id: int) -> Order:
    """What ``order_list(employee=…).prefetch_related(events).get(number=…)`` gives: the order with its
    employee, employer and payment, its lines (with their products) and its events prefetched."""
    found = _own_order_row(number, employee_id, using=router.db_for_read(Order))
    if not found:
        raise Order.DoesNotExist(f"no order {number} of employee {employee_id}")
    order = found[0]
    cache = order._prefetched_objects_cache = {}
    for name, statement in (("lines", _order_lines), ("events", _order_events)):
        rows = statement(order.pk, using=router.db_for_read(Order))
        key = Order._meta.get_field(name).field  # the child's key to the order
        for row in rows:
            key.set_cached_value(row, order)
        related = getattr(order, name).all()
        related._result_cache, related._prefetch_done = rows, True
        cache[name] = related
    return order


@dataclass
class AllocationSummary:
    year: int
    granted: Decimal = ZERO
    spent: Decimal = ZERO
    refunded: Decimal = ZERO
    expired: Decimal = ZERO
    carried_in: Decimal = ZERO
    carried_out: Decimal = ZERO
    balance: Decimal = ZERO
    entries: list[AllocationEntry] = field(default_factory=list)


def allocation_summary(*, employee: Employee, year: int | None = None) -> AllocationSummary:
    """The employee's ledger for ``year`` (this year by default) and its totals."""
    year = year or allocation_today().year
    entries = list(AllocationEntry.objects.filter(employee=employee, year=year).order_by("id"))
    s = AllocationSummary(year=year, entries=entries)
    for e in entries:
        if e.kind == K.GRANT:
            s.granted += e.amount
        elif e.kind == K.SPEND:
            s.spent -= e.amount
        elif e.kind == K.REFUND:
            s.refunded += e.amount
        elif e.kind == K.EXPIRY:
            s.expired -= e.amount
        elif e.kind == K.CARRY_OVER and e.amount > 0:
            s.carried_in += e.amount
        elif e.kind == K.CARRY_OVER:
            s.carried_out -= e.amount
    s.balance = entries[-1].balance_after if entries else ZERO
    return s


def _year_days(year: int) -> tuple[datetime.date, datetime.date]:
    return datetime.date(year, 1, 1), datetime.date(year + 1, 1, 1)


def _attributed_totals(year: int, *, employer: Employer | None = None, by: str) -> dict[int, dict[str, Decimal]]:
    """{employer or employee id: granted, spent, refunded, balance} for ``year``, each entry counted
    at the employer of its time (``allocation_entries_by_employer``). One grouped query."""
    qs = allocation_entries_by_employer(AllocationEntry.objects.filter(year=year))
    if employer is not None:
        qs = qs.filter(employer_at=employer.pk)
    out: dict[int, dict[str, Decimal]] = {}
    for row in qs.values(by, "kind").annotate(s=Sum("amount")).order_by():
        t = out.setdefault(row[by], {"granted": ZERO, "spent": ZERO, "refunded": ZERO, "balance": ZERO})
        amount = row["s"] or ZERO
        if row["kind"] == K.GRANT:
            t["granted"] += amount
        elif row["kind"] == K.SPEND:
            t["spent"] -= amount
        elif row["kind"] == K.REFUND:
            t["refunded"] += amount
        t["balance"] += amount
    return out


def _with_totals(rows, totals: dict[int, dict[str, Decimal]]):
    empty = {"granted": ZERO, "spent": ZERO, "refunded": ZERO, "balance": ZERO}
    for row in rows:
        for k, v in totals.get(row.pk, empty).items():
            setattr(row, k, v)
    return rows


def employee_progress(*, year: int, employer: Employer | None = None, filters: dict | None = None) -> list[Employee]:
    """Employees with ``granted``, ``spent``, ``refunded`` and ``balance`` for ``year`` (what an
    employer sees of its staff's spending). For one employer: everyone who belonged to it during the
    year, with what they spent while they did (a move later in the year leaves those figures be)."""
    qs = Employee.objects.select_related("employer")
    filters = dict(filters or {})
    if employer is not None:
        first, after = _year_days(year)
        members = Membership.objects.filter(employer=employer, valid_from__lt=after).filter(
            Q(valid_to__isnull=True) | Q(valid_to__gt=first)
        )
        qs = qs.filter(Q(pk__in=members.values("employee_id")) | Q(employer=employer, memberships__isnull=True)).distinct()
        filters.pop("employer", None)
    rows = list(EmployeeProgressFilter(filters, queryset=qs).qs.order_by("employer__code", "staff_number"))
    return _with_totals(rows, _attributed_totals(year, employer=employer, by="employee_id"))


def employer_progress(*, year: int, filters: dict | None = None) -> list[Employer]:
    """Employers with their staff's totals for ``year`` (what the county sees), each entry at the
    employer of its time; ``employee_count`` = active employees who belonged to it in the year."""
    first, after = _year_days(year)
    members = (
        Membership.objects.filter(employee__active=True, valid_from__lt=after)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=first))
        .values("employer_id").annotate(n=Count("employee_id", distinct=True)).order_by()
    )
    counts = {r["employer_id"]: r["n"] for r in members}
    for r in (Employee.objects.filter(active=True, memberships__isnull=True).values("employer_id")
              .annotate(n=Count("id")).order_by()):
        counts[r["employer_id"]] = counts.get(r["employer_id"], 0) + r["n"]
    rows = list(EmployerProgressFilter(filters or {}, queryset=Employer.objects.all()).qs.order_by("code"))
    for row in rows:
        row.employee_count = counts.get(row.pk, 0)
    return _with_totals(rows, _attributed_totals(year, by="employer_at"))


def order_notices_open(*, employee) -> list:
    """Notices of this employee's orders that still wait for them (ready or on the way)."""
    from .models import Order, OrderNotice

    return list(
        OrderNotice.objects.filter(
            order__employee=employee, order__status__in=[Order.Status.READY_FOR_PICKUP, Order.Status.OUT_FOR_DELIVERY]
        ).select_related("order__employee__employer")
    )
