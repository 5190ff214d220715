"""The yearly allocation (the 700 yuan): the county's setting per year and the append-only
ledger per employee and year — the only writer of ``AllocationEntry``.

Locking rule: every write locks the employee row (``select_for_update``), then reads the latest
entry of (employee, year), checks, and appends one entry whose ``balance_after`` is the new
running balance. The database refuses a negative ``balance_after`` and a repeated
``idempotency_key``, so a second grant of the same year grants nothing.

Signs: grant, refund and an incoming carry-over are positive; spend, expiry and an outgoing
carry-over are negative. Per employee and year: granted − spent + refunded − expired ± carried
= balance (the latest ``balance_after``).
"""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal

from django.db import connection, router, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ConflictError, DomainError
from core.money import ZERO, yuan
from core.one_row import one_row_statement
from core.sql_prepared import prepared_cursor

from ..models import AllocationEntry, AllocationYear, Employee
from ..shopper_card import shopper_card_forget

DEFAULT_AMOUNT = Decimal("700.00")


class AllocationError(DomainError):
    code = "allocation_error"


class AllocationExhausted(ConflictError):
    code = "allocation_exhausted"


class AllocationWindowClosed(ConflictError):
    code = "allocation_window_closed"


def allocation_today() -> datetime.date:
    return timezone.localdate()


# One web request reads the year's setting once: the eligibility rule, the cart's limits, the
# checkout preview and the checkout each ask for it (up to four reads per page). The memo lives from
# request_started to request_finished (marketplace.apps), and a save of a setting empties it.
_request_memo = threading.local()


def allocation_year_memo_start(**_kwargs) -> None:
    _request_memo.years = {}


def allocation_year_memo_end(**_kwargs) -> None:
    _request_memo.years = None


def allocation_year_memo_forget(**_kwargs) -> None:
    """A setting was saved: a request running now reads it again."""
    if getattr(_request_memo, "years", None) is not None:
        _request_memo.years = {}


def allocation_year_get(*, year: int) -> AllocationYear:
    """The county's setting for ``year``; created with the defaults (700.00, the calendar year,
    unspent balance expires) the first time it is asked for."""
    memo = getattr(_request_memo, "years", None)
    if memo is not None and year in memo:
        return memo[year]
    setting = _allocation_year_read(year)
    if memo is not None:
        memo[year] = setting
    return setting


def _allocation_year_read(year: int) -> AllocationYear:
    # compiled once: read on every cart and checkout request, where compiling it cost more than running it
    setting = one_row_statement(AllocationYear, (), router.db_for_read(AllocationYear), by="year").get(year)
    if setting is None:
        setting, _created = AllocationYear.objects.get_or_create(
            year=year,
            defaults={"amount": DEFAULT_AMOUNT, "opens_on": datetime.date(year, 1, 1), "closes_on": datetime.date(year, 12, 31)},
        )
    return setting


def allocation_year_current() -> AllocationYear:
    return allocation_year_get(year=allocation_today().year)


def allocation_window_open(setting: AllocationYear, on: datetime.date | None = None) -> bool:
    on = on or allocation_today()
    return setting.opens_on <= on <= setting.closes_on


def balance_of(value) -> Decimal:
    """A ``balance_after`` as a raw statement returns it (a Decimal; on SQLite a number), to the fen;
    no entry yet (None) is a balance of zero."""
    return yuan(Decimal(str(value))) if value is not None else ZERO


def allocation_balance(*, employee: Employee | int, year: int) -> Decimal:
    """The balance as last written (no lock: for display; writers use the locked read)."""
    employee_id = employee if isinstance(employee, int) else employee.pk
    # a plain statement, as the locked read below: every cart and checkout page shows the balance,
    # and building this with the ORM cost more than running it
    with prepared_cursor(connection.alias) as cursor:
        cursor.execute(
            f"SELECT balance_after FROM {AllocationEntry._meta.db_table} WHERE employee_id = %s AND year = %s ORDER BY id DESC LIMIT 1",
            [employee_id, year],
        )
        row = cursor.fetchone()
    return balance_of(row[0] if row is not None else None)


def allocation_balance_locked(*, employee: Employee | int, year: int) -> Decimal:
    """Lock the employee row, then read the balance: callers may then check and append.
    Must run inside a transaction."""
    employee_id = employee if isinstance(employee, int) else employee.pk
    # Two plain statements: every checkout runs them while it holds stock rows locked, and building
    # them with the ORM cost more than running them. The balance is read after the lock is granted,
    # in a statement of its own, so that it sees what the previous holder committed.
    with prepared_cursor(connection.alias) as cursor:
        if connection.features.has_select_for_update:
            cursor.execute(f"SELECT id FROM {Employee._meta.db_table} WHERE id = %s FOR UPDATE", [employee_id])
        cursor.execute(
            f"SELECT balance_after FROM {AllocationEntry._meta.db_table} WHERE employee_id = %s AND year = %s ORDER BY id DESC LIMIT 1",
            [employee_id, year],
        )
        row = cursor.fetchone()
    return balance_of(row[0] if row is not None else None)


def _entry(
    *, employee_id: int, year: int, kind: str, amount: Decimal, balance_before: Decimal, idempotency_key: str | None = None,
    order_number: str = "", reason: str = "", author=None,
) -> AllocationEntry:
    """The next entry, unsaved; the card of the employee is stale from now (and again at commit)."""
    amount = yuan(amount)
    shopper_card_forget(employee_id=employee_id)
    return AllocationEntry(
        employee_id=employee_id,
        year=year,
        kind=kind,
        amount=amount,
        balance_after=balance_before + amount,
        idempotency_key=idempotency_key,
        order_number=order_number,
        reason=reason[:200],
        author=author,
    )


def _append(**kwargs) -> AllocationEntry:
    entry = _entry(**kwargs)
    entry.save(force_insert=True)
    return entry


def _already(key: str) -> AllocationEntry | None:
    return AllocationEntry.objects.filter(idempotency_key=key).first()


@transaction.atomic
def allocation_grant(*, employee: Employee, year: int, author=None) -> AllocationEntry | None:
    """Grant ``year``'s amount to ``employee``; None (and nothing written) if already granted."""
    setting = allocation_year_get(year=year)
    key = f"grant:{year}:{employee.pk}"
    balance = allocation_balance_locked(employee=employee, year=year)
    if _already(key):
        return None
    if setting.amount <= 0:
        return None
    return _append(
        employee_id=employee.pk, year=year, kind=AllocationEntry.Kind.GRANT, amount=setting.amount, balance_before=balance,
        idempotency_key=key, reason=_("Allocation for %(year)s") % {"year": year}, author=author,
    )


def allocation_grant_year(*, year: int, author=None) -> int:
    """Grant ``year`` to every active employee not yet granted; returns how many were granted.
    One short transaction per employee, so a long run never holds many locks."""
    allocation_year_get(year=year)
    granted_keys = set(
        AllocationEntry.objects.filter(year=year, kind=AllocationEntry.Kind.GRANT, idempotency_key__startswith=f"grant:{year}:")
        .values_list("employee_id", flat=True)
    )
    count = 0
    for employee in Employee.objects.filter(active=True).exclude(pk__in=granted_keys).order_by("pk").iterator():
        if allocation_grant(employee=employee, year=year, author=author) is not None:
            count += 1
    return count


def allocation_spend(*, employee: Employee | int, year: int, amount: Decimal, order_number: str, author=None) -> AllocationEntry:
    """Debit ``amount`` for an order. Refuses more than the balance and a closed window."""
    employee_id = employee if isinstance(employee, int) else employee.pk
    with transaction.atomic():
        setting = allocation_year_get(year=year)
        balance = allocation_balance_locked(employee=employee_id, year=year)
        return allocation_spend_locked(
            employee_id=employee_id, setting=setting, amount=amount, balance=balance, order_number=order_number, author=author
        )


def allocation_spend_locked(
    *, employee_id: int, setting: AllocationYear, amount: Decimal, balance: Decimal, order_number: str, author=None
) -> AllocationEntry:
    """The write of ``allocation_spend`` for a caller (checkout) that has already locked the
    employee with ``allocation_balance_locked`` in the current transaction and read ``balance``."""
    entry = allocation_spend_entry_locked(
        employee_id=employee_id, setting=setting, amount=amount, balance=balance, order_number=order_number, author=author
    )
    entry.save(force_insert=True)
    return entry


def allocation_spend_entry_locked(
    *, employee_id: int, setting: AllocationYear, amount: Decimal, balance: Decimal, order_number: str, author=None
) -> AllocationEntry:
    """``allocation_spend_locked`` checked and built but not written: for checkout on PostgreSQL,
    which inserts the entry in the same statement as the order. The caller must insert it, once,
    in the transaction that holds the employee's lock."""
    amount = yuan(amount)
    if amount <= 0:
        raise AllocationError(_("An amount to spend must be positive."))
    if not allocation_window_open(setting):
        raise AllocationWindowClosed(
            _("The %(year)s allocation can be spent from %(opens)s to %(closes)s.")
            % {"year": setting.year, "opens": setting.opens_on, "closes": setting.closes_on}
        )
    if balance < amount:
        raise AllocationExhausted(
            _("Your allocation balance is %(balance)s yuan, less than the %(amount)s yuan asked for.")
            % {"balance": balance, "amount": amount}
        )
    return _entry(
        employee_id=employee_id, year=setting.year, kind=AllocationEntry.Kind.SPEND, amount=-amount, balance_before=balance,
        idempotency_key=f"spend:{order_number}", order_number=order_number, author=author,
    )


def allocation_refund(
    *, employee: Employee | int, year: int, amount: Decimal, order_number: str, key: str, reason: str = "", author=None
) -> AllocationEntry:
    """Give ``amount`` back to the ledger for an order (cancel, refund, unpaid release).

    Only while that year's window is open (a closed year has been expired or carried over, and
    money cannot flow back into it): otherwise AllocationWindowClosed says so. ``key`` makes it
    idempotent: a second call with the same key returns the first entry.
    """
    amount = yuan(amount)
    if amount <= 0:
        raise AllocationError(_("An amount to refund must be positive."))
    employee_id = employee if isinstance(employee, int) else employee.pk
    idem = f"refund:{key}"
    with transaction.atomic():
        setting = allocation_year_get(year=year)
        balance = allocation_balance_locked(employee=employee_id, year=year)
        existing = _already(idem)
        if existing:
            return existing
        if allocation_today() > setting.closes_on:
            raise AllocationWindowClosed(
                _("The %(year)s allocation closed on %(closes)s; %(amount)s yuan cannot go back to it.")
                % {"year": year, "closes": setting.closes_on, "amount": amount}
            )
        return _append(
            employee_id=employee_id, year=year, kind=AllocationEntry.Kind.REFUND, amount=amount, balance_before=balance,
            idempotency_key=idem, order_number=order_number, reason=reason, author=author,
        )


def allocation_expire_year(*, year: int, author=None, force: bool = False) -> int:
    """Close ``year``: each employee's remaining balance expires or carries over to the next year
    (per the county's setting). Refused while the window is open unless ``force``. Idempotent:
    a closed employee-year has balance zero and is skipped. Returns how many balances moved."""
    setting = allocation_year_get(year=year)
    if not force and allocation_today() <= setting.closes_on:
        raise AllocationError(_("The %(year)s allocation is open until %(closes)s.") % {"year": year, "closes": setting.closes_on})
    employee_ids = (
        AllocationEntry.objects.filter(year=year).order_by().values_list("employee_id", flat=True).distinct()
    )
    moved = 0
    for employee_id in sorted(set(employee_ids)):
        with transaction.atomic():
            balance = allocation_balance_locked(employee=employee_id, year=year)
            if balance <= 0:
                continue
            if setting.unspent == AllocationYear.Unspent.CARRY_OVER:
                _append(
                    employee_id=employee_id, year=year, kind=AllocationEntry.Kind.CARRY_OVER, amount=-balance, balance_before=balance,
                    idempotency_key=f"carry-out:{year}:{employee_id}", reason=_("Carried over to %(year)s") % {"year": year + 1},
                    author=author,
                )
                allocation_year_get(year=year + 1)
                next_balance = allocation_balance(employee=employee_id, year=year + 1)
                _append(
                    employee_id=employee_id, year=year + 1, kind=AllocationEntry.Kind.CARRY_OVER, amount=balance,
                    balance_before=next_balance, idempotency_key=f"carry-in:{year + 1}:{employee_id}",
                    reason=_("Carried over from %(year)s") % {"year": year}, author=author,
                )
            else:
                _append(
                    employee_id=employee_id, year=year, kind=AllocationEntry.Kind.EXPIRY, amount=-balance, balance_before=balance,
                    idempotency_key=f"expire:{year}:{employee_id}", reason=_("Unspent balance expired"), author=author,
                )
            moved += 1
    return moved


def allocation_expire_due(*, author=None) -> int:
    """Close every year whose window has ended (the daily beat task calls this)."""
    moved = 0
    for setting in AllocationYear.objects.filter(closes_on__lt=allocation_today()).order_by("year"):
        moved += allocation_expire_year(year=setting.year, author=author)
    return moved
