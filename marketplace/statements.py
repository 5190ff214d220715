"""Employer statements: per employer and month, the allocation each employee spent (net of
refunds) and the total the employer owes the supermarket; Excel export.

Source: the allocation ledger (append-only), not order states, so a statement once month-end has
passed never changes. For a month (local time, Asia/Shanghai):

- spent = the SPEND entries of the month (money of the allocation taken at checkout),
- refunded = the REFUND entries of the month that belong to an order (a cancellation, a return,
  or an unpaid card order released — which gives back what its checkout took),
- owed = spent − refunded, per employee and in total.

A refund is counted in the month it happens, not in the month of its order (as on a bank
statement): an order placed on 31 May and returned on 2 June is spent in May and refunded in
June. The card part of an order is the employee's own money and is not on the statement.
Grants, expiry and carry-over are not spending and are not on it either.
"""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from core.money import ZERO, yuan

from .models import AllocationEntry, Employer, Membership
from .selectors import allocation_entries_by_employer

K = AllocationEntry.Kind
MONEY_FORMAT = "#,##0.00"


@dataclass(frozen=True, order=True)
class StatementMonth:
    year: int
    month: int

    def __post_init__(self):
        if not 1 <= self.month <= 12 or not 2000 <= self.year <= 2100:
            raise ValueError(f"not a month: {self.year}-{self.month}")

    @classmethod
    def parse(cls, value: str) -> StatementMonth:
        """``2026-11`` -> StatementMonth(2026, 11); ValueError otherwise."""
        try:
            year, month = (int(part) for part in str(value).strip().split("-"))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"not a month: {value!r}") from exc
        return cls(year, month)

    @classmethod
    def of(cls, date: datetime.date) -> StatementMonth:
        return cls(date.year, date.month)

    @classmethod
    def recent(cls, n: int) -> list[StatementMonth]:
        month = cls.of(timezone.localdate())
        out = [month]
        while len(out) < n:
            out.append(out[-1].previous())
        return out

    def previous(self) -> StatementMonth:
        return StatementMonth(self.year - 1, 12) if self.month == 1 else StatementMonth(self.year, self.month - 1)

    def next(self) -> StatementMonth:
        return StatementMonth(self.year + 1, 1) if self.month == 12 else StatementMonth(self.year, self.month + 1)

    @property
    def start(self) -> datetime.datetime:
        """The first instant of the month in the site's time zone."""
        return timezone.make_aware(datetime.datetime(self.year, self.month, 1))

    @property
    def end(self) -> datetime.datetime:
        # not self.next(): the end of 2100-12 lies past the last month a StatementMonth may name
        year, month = (self.year + 1, 1) if self.month == 12 else (self.year, self.month + 1)
        return timezone.make_aware(datetime.datetime(year, month, 1))

    @property
    def label(self) -> str:
        return _("%(year)d-%(month)02d") % {"year": self.year, "month": self.month}

    def __str__(self) -> str:
        return f"{self.year}-{self.month:02d}"


@dataclass
class StatementRow:
    employee_id: int
    staff_number: str
    name: str
    orders: int
    spent: Decimal
    refunded: Decimal

    @property
    def owed(self) -> Decimal:
        return yuan(self.spent - self.refunded)


@dataclass
class Statement:
    employer: Employer
    month: StatementMonth
    rows: list[StatementRow] = field(default_factory=list)

    @property
    def spent(self) -> Decimal:
        return yuan(sum((r.spent for r in self.rows), ZERO))

    @property
    def refunded(self) -> Decimal:
        return yuan(sum((r.refunded for r in self.rows), ZERO))

    @property
    def owed(self) -> Decimal:
        return yuan(self.spent - self.refunded)

    @property
    def orders(self) -> int:
        return sum(r.orders for r in self.rows)


@dataclass
class EmployerTotal:
    employer: Employer
    employees: int
    orders: int
    spent: Decimal
    refunded: Decimal

    @property
    def owed(self) -> Decimal:
        return yuan(self.spent - self.refunded)


def _month_entries(month: StatementMonth):
    return AllocationEntry.objects.filter(
        created_at__gte=month.start, created_at__lt=month.end,
    ).filter(Q(kind=K.SPEND) | Q(kind=K.REFUND, order_number__gt=""))


_SUMS = {
    "spend_sum": Sum("amount", filter=Q(kind=K.SPEND)),
    "refund_sum": Sum("amount", filter=Q(kind=K.REFUND)),
    "order_count": Count("order_number", filter=Q(kind=K.SPEND), distinct=True),
}


def _staff_numbers(employer: Employer, month: StatementMonth, employee_ids) -> dict[int, str]:
    """Each employee's staff number at ``employer`` in the month (from the membership, so a number
    given at a later employer does not reach back)."""
    first, after = month.start.date(), month.end.date()
    numbers: dict[int, str] = {}
    for employee_id, number in (
        Membership.objects.filter(employer=employer, employee_id__in=list(employee_ids), valid_from__lt=after)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=first))
        .order_by("valid_from").values_list("employee_id", "staff_number")
    ):
        numbers[employee_id] = number
    return numbers


def employer_statement(*, employer: Employer, month: StatementMonth) -> Statement:
    """One employer's month: a row per employee who spent or got something back while belonging
    to it (an order belongs to the employer of its day, whatever happened since)."""
    rows = list(
        allocation_entries_by_employer(_month_entries(month))
        .filter(employer_at=employer.pk)
        .values("employee_id", "employee__staff_number", "employee__name")
        .annotate(**_SUMS)
        .order_by("employee_id")
    )
    numbers = _staff_numbers(employer, month, (r["employee_id"] for r in rows))
    statement = Statement(employer=employer, month=month)
    for r in rows:
        statement.rows.append(StatementRow(
            employee_id=r["employee_id"], staff_number=numbers.get(r["employee_id"], r["employee__staff_number"]),
            name=r["employee__name"], orders=r["order_count"], spent=yuan(-(r["spend_sum"] or ZERO)),
            refunded=yuan(r["refund_sum"] or ZERO),
        ))
    statement.rows.sort(key=lambda row: (row.staff_number, row.employee_id))
    return statement


def statements_for_month(*, month: StatementMonth) -> list[EmployerTotal]:
    """Every employer with spending or refunds in the month, with its totals (by the membership
    of each order's day)."""
    per_employer = (
        allocation_entries_by_employer(_month_entries(month))
        .values("employer_at")
        .annotate(**_SUMS, employee_count=Count("employee_id", distinct=True))
        .order_by()
    )
    employers = Employer.objects.in_bulk([r["employer_at"] for r in per_employer])
    totals = [
        EmployerTotal(
            employer=employers[r["employer_at"]], employees=r["employee_count"], orders=r["order_count"],
            spent=yuan(-(r["spend_sum"] or ZERO)), refunded=yuan(r["refund_sum"] or ZERO),
        )
        for r in per_employer
    ]
    return sorted(totals, key=lambda t: t.employer.code)


# --- Excel --------------------------------------------------------------------------------------


def _sheet_title(text: str) -> str:
    for ch in "[]:*?/\\":
        text = text.replace(ch, " ")
    return text[:31] or "-"


def _write_statement(ws, statement: Statement) -> None:
    bold = Font(bold=True)
    ws.append([_("Employer statement"), f"{statement.employer.name}（{statement.employer.code}）"])
    ws.append([_("Month"), str(statement.month)])
    ws.append([])
    ws.append([_("Staff number"), _("Name"), _("Orders"), _("Allocation spent"), _("Allocation refunded"), _("Owed")])
    for cell in ws[ws.max_row]:
        cell.font = bold
    for r in statement.rows:
        ws.append([r.staff_number, r.name, r.orders, r.spent, r.refunded, r.owed])
    ws.append([_("Total"), "", statement.orders, statement.spent, statement.refunded, statement.owed])
    for cell in ws[ws.max_row]:
        cell.font = bold
    for row in ws.iter_rows(min_row=5, min_col=4, max_col=6):
        for cell in row:
            cell.number_format = MONEY_FORMAT
    ws.column_dimensions["A"].width = 14
    ws.column_dimensions["B"].width = 16
    for col in "DEF":
        ws.column_dimensions[col].width = 14


def statement_xlsx(*, month: StatementMonth, employer: Employer | None = None) -> bytes:
    """One employer's statement, or (no employer) a summary sheet and one sheet per employer."""
    wb = Workbook()
    if employer is not None:
        ws = wb.active
        ws.title = _sheet_title(employer.name)
        _write_statement(ws, employer_statement(employer=employer, month=month))
    else:
        ws = wb.active
        ws.title = _sheet_title(_("Summary of employers"))
        ws.append([_("Employer statements"), str(month)])
        ws.append([])
        ws.append([_("Code"), _("Employer"), _("Number of employees"), _("Orders"), _("Allocation spent"), _("Allocation refunded"), _("Owed")])
        for cell in ws[ws.max_row]:
            cell.font = Font(bold=True)
        totals = statements_for_month(month=month)
        for t in totals:
            ws.append([t.employer.code, t.employer.name, t.employees, t.orders, t.spent, t.refunded, t.owed])
        ws.append([_("Total"), "", sum(t.employees for t in totals), sum(t.orders for t in totals),
                   yuan(sum((t.spent for t in totals), ZERO)), yuan(sum((t.refunded for t in totals), ZERO)),
                   yuan(sum((t.owed for t in totals), ZERO))])
        for cell in ws[ws.max_row]:
            cell.font = Font(bold=True)
        for row in ws.iter_rows(min_row=4, min_col=5, max_col=7):
            for cell in row:
                cell.number_format = MONEY_FORMAT
        ws.column_dimensions["B"].width = 24
        for t in totals:
            _write_statement(wb.create_sheet(_sheet_title(t.employer.name)), employer_statement(employer=t.employer, month=month))
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


__all__ = ["EmployerTotal", "Statement", "StatementMonth", "StatementRow", "employer_statement", "statement_xlsx", "statements_for_month"]
