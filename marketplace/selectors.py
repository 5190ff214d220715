"""Reads of the shop: products with what is available, orders, allocation summaries and the
spending-progress reports. Pages, the API and the admin share these."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, DecimalField, Prefetch, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from core.money import ZERO
from logistics.selectors.stock import available_units_subquery

from .filters import EmployeeProgressFilter, EmployerProgressFilter, OrderFilter, ProductFilter
from .models import AllocationEntry, Employee, Employer, Order, OrderEvent, OrderLine, Product
from .services.allocation import allocation_today
from .services.orders import SOLD_STATUSES

K = AllocationEntry.Kind
MONEY = DecimalField(max_digits=14, decimal_places=2)


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
    return OrderFilter(filters or {}, queryset=qs).qs


def order_get(*, number: str, employee: Employee | None = None) -> Order:
    """One order by number; of ``employee`` only when given (raises Order.DoesNotExist otherwise)."""
    qs = order_list(employee=employee).prefetch_related(Prefetch("events", queryset=OrderEvent.objects.order_by("id")))
    return qs.get(number=number)


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


def _ledger_sums(prefix: str, year: int) -> dict:
    def total(*kinds, sign=1):
        expr = Sum(f"{prefix}amount", filter=Q(**{f"{prefix}year": year, f"{prefix}kind__in": kinds}))
        return Coalesce(expr if sign > 0 else -expr, Value(ZERO), output_field=MONEY)

    return {
        "granted": total(K.GRANT),
        "spent": total(K.SPEND, sign=-1),
        "refunded": total(K.REFUND),
        "balance": Coalesce(Sum(f"{prefix}amount", filter=Q(**{f"{prefix}year": year})), Value(ZERO), output_field=MONEY),
    }


def employee_progress(*, year: int, employer: Employer | None = None, filters: dict | None = None) -> QuerySet[Employee]:
    """Employees with ``granted``, ``spent``, ``refunded`` and ``balance`` for ``year`` (what an
    employer sees of its staff's spending)."""
    qs = Employee.objects.select_related("employer").annotate(**_ledger_sums("allocation_entries__", year))
    if employer is not None:
        qs = qs.filter(employer=employer)
    return EmployeeProgressFilter(filters or {}, queryset=qs).qs.order_by("employer__code", "staff_number")


def employer_progress(*, year: int, filters: dict | None = None) -> QuerySet[Employer]:
    """Employers with their staff's totals for ``year`` (what the county sees)."""
    employees = Count("employees", filter=Q(employees__active=True), distinct=True)
    qs = Employer.objects.annotate(employee_count=employees, **_ledger_sums("employees__allocation_entries__", year))
    return EmployerProgressFilter(filters or {}, queryset=qs).qs.order_by("code")


def order_notices_open(*, employee) -> list:
    """Notices of this employee's orders that still wait for them (ready or on the way)."""
    from .models import Order, OrderNotice

    return list(
        OrderNotice.objects.filter(
            order__employee=employee, order__status__in=[Order.Status.READY_FOR_PICKUP, Order.Status.OUT_FOR_DELIVERY]
        ).select_related("order__employee__employer")
    )
