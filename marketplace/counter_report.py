"""The counter's day (门店日报): its sales, what the allocation and cash paid, returns, each product,
the cash the till should hold and the latest cash-up; and its Excel export. Read-only.

A day is the county's calendar day (Asia/Shanghai): sales by their payment time, returns by the
time they were made.
"""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from core.money import ZERO, yuan

from .models import CounterSale, Order, OrderLine, Refund, RefundLine, TillCount

MONEY_FORMAT = "#,##0.00"


@dataclass
class ProductRow:
    product_id: int
    name: str
    units: int = 0
    amount: Decimal = ZERO
    returned_units: int = 0
    returned_amount: Decimal = ZERO

    @property
    def net(self) -> Decimal:
        return yuan(self.amount - self.returned_amount)


@dataclass
class CounterDay:
    day: datetime.date
    sales: int = 0
    total: Decimal = ZERO
    allocation: Decimal = ZERO
    cash: Decimal = ZERO
    returns: int = 0
    returned_allocation: Decimal = ZERO
    returned_cash: Decimal = ZERO
    products: list[ProductRow] = field(default_factory=list)
    recent: list[CounterSale] = field(default_factory=list)
    till: TillCount | None = None

    @property
    def returned(self) -> Decimal:
        return yuan(self.returned_allocation + self.returned_cash)

    @property
    def net(self) -> Decimal:
        return yuan(self.total - self.returned)

    @property
    def expected_cash(self) -> Decimal:
        """What the till should hold from the day: cash taken less cash handed back."""
        return yuan(self.cash - self.returned_cash)


def county_day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    return start, start + datetime.timedelta(days=1)


def counter_day_report(*, day: datetime.date) -> CounterDay:
    start, end = county_day_bounds(day)
    report = CounterDay(day=day)
    orders = Order.objects.filter(channel=Order.Channel.COUNTER, paid_at__gte=start, paid_at__lt=end)
    sums = orders.aggregate(n=Count("id"), t=Sum("total"), a=Sum("allocation_amount"), c=Sum("offline_amount"))
    report.sales = sums["n"] or 0
    report.total, report.allocation, report.cash = (yuan(sums[k] or ZERO) for k in ("t", "a", "c"))
    refunds = Refund.objects.filter(order__channel=Order.Channel.COUNTER, created_at__gte=start, created_at__lt=end)
    rsums = refunds.aggregate(n=Count("id"), a=Sum("allocation_amount"), c=Sum("offline_amount"))
    report.returns = rsums["n"] or 0
    report.returned_allocation, report.returned_cash = yuan(rsums["a"] or ZERO), yuan(rsums["c"] or ZERO)

    rows: dict[int, ProductRow] = {}
    for r in (
        OrderLine.objects.filter(order__in=orders).values("product_id", "product__name")
        .annotate(units=Sum("quantity"), amount=Sum("line_total")).order_by()
    ):
        rows[r["product_id"]] = ProductRow(r["product_id"], r["product__name"], units=r["units"], amount=yuan(r["amount"]))
    for r in (
        RefundLine.objects.filter(refund__in=refunds).values("line__product_id", "line__product__name")
        .annotate(units=Sum("units"), amount=Sum("amount")).order_by()
    ):
        row = rows.setdefault(r["line__product_id"], ProductRow(r["line__product_id"], r["line__product__name"]))
        row.returned_units, row.returned_amount = r["units"], yuan(r["amount"])
    report.products = sorted(rows.values(), key=lambda p: (-p.amount, p.name))
    report.recent = list(
        CounterSale.objects.filter(order__in=orders).select_related("order", "cashier").order_by("-order__paid_at")[:50]
    )
    report.till = TillCount.objects.filter(day=day).select_related("author").order_by("-id").first()
    return report


def counter_day_xlsx(report: CounterDay) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = _("Counter day")[:31]
    bold = Font(bold=True)
    ws.append([_("Counter sales"), report.day.isoformat()])
    ws.append([])
    for label, value in (
        (_("Sales"), report.sales), (_("Total sold"), report.total), (_("Paid from allocations"), report.allocation),
        (_("Paid in cash"), report.cash), (_("Returns"), report.returns), (_("Returned to allocations"), report.returned_allocation),
        (_("Cash handed back"), report.returned_cash), (_("Net sales"), report.net), (_("Cash expected in the till"), report.expected_cash),
    ):
        ws.append([label, value])
    if report.till is not None:
        ws.append([_("Cash counted"), report.till.counted])
        ws.append([_("Difference"), report.till.difference])
    for row in ws.iter_rows(min_row=3, min_col=2, max_col=2):
        for cell in row:
            if isinstance(cell.value, Decimal):
                cell.number_format = MONEY_FORMAT
    ws.append([])
    ws.append([_("Product"), _("Units sold"), _("Amount"), _("Units returned"), _("Returned"), _("Net")])
    for cell in ws[ws.max_row]:
        cell.font = bold
    first = ws.max_row + 1
    for p in report.products:
        ws.append([p.name, p.units, p.amount, p.returned_units, p.returned_amount, p.net])
    for row in ws.iter_rows(min_row=first, min_col=3, max_col=6):
        for cell in row:
            if isinstance(cell.value, Decimal):
                cell.number_format = MONEY_FORMAT
    ws.column_dimensions["A"].width = 28
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
