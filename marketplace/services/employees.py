"""Employees and their employers over time — the only writer of ``Membership`` and of
``Employee.employer``.

An employee belongs to an employer over a date range (``valid_from`` inclusive, ``valid_to``
exclusive, null while open). A move closes the open range on the day of the move and opens the
next one from that day; a closed range is never changed again. ``Employee.employer`` is the
employer of the open range ("current employer" for the storefront, the fulfilment queue and the
import) and changes only here, in the same transaction.

A move may not reach back over recorded spending: the day of the move must come after the last
day with an order or allocation entry of the employee, so every order already made keeps the
employer it was made under, and no issued statement, progress figure or report changes.

Lock order: the employee row, then its memberships (in ``valid_from`` order).
"""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from core import roles
from core.errors import ConflictError, DomainError

from ..models import MEMBERSHIP_EPOCH, AllocationEntry, Employee, Employer, Membership, Order
from ..shopper_card import shopper_card_forget


class MembershipError(DomainError):
    code = "membership_invalid"


class MembershipConflict(ConflictError):
    code = "membership_conflict"


def _last_activity_day(employee: Employee) -> datetime.date | None:
    """The last county-time day with an order or allocation entry of the employee."""
    days = [
        Order.objects.filter(employee=employee).aggregate(d=Max(TruncDate("created_at")))["d"],
        AllocationEntry.objects.filter(employee=employee).aggregate(d=Max(TruncDate("created_at")))["d"],
    ]
    days = [d for d in days if d is not None]
    return max(days) if days else None


def membership_open_initial(*, employee: Employee, author=None, valid_from: datetime.date | None = None) -> Membership:
    """The first membership of a new employee, at ``employee.employer``, open-ended."""
    with transaction.atomic():
        if Membership.objects.filter(employee=employee).exists():
            raise MembershipConflict(_("%(name)s already has a membership.") % {"name": employee.name})
        return Membership.objects.create(
            employee=employee, employer_id=employee.employer_id, staff_number=employee.staff_number,
            valid_from=valid_from or MEMBERSHIP_EPOCH, author=author,
        )


def employee_create(
    *, user, employer: Employer, staff_number: str, name: str, phone: str = "", active: bool = True, author=None
) -> Employee:
    """A new employee of ``employer`` with its open membership (the import and the admin call this)."""
    with transaction.atomic():
        employee = Employee.objects.create(
            user=user, employer=employer, staff_number=staff_number, name=name, phone=phone, active=active
        )
        membership_open_initial(employee=employee, author=author)
    return employee


def employee_move_refusal(
    *, employee: Employee, employer: Employer, on: datetime.date, staff_number: str | None = None,
    memberships: list[Membership] | None = None,
) -> DomainError | None:
    """Why ``employee`` may not move to ``employer`` on ``on`` (the error to raise), or None.
    The admin form asks this before saving; ``employee_move`` asks it under the row lock."""
    if memberships is None:
        memberships = list(Membership.objects.filter(employee=employee).order_by("valid_from"))
    if employer.pk == employee.employer_id:
        return MembershipError(_("%(name)s already works for %(employer)s.") % {"name": employee.name, "employer": employer.name})
    if on > timezone.localdate():
        return MembershipError(_("A move can only take effect today or on a past day, not on %(day)s.") % {"day": on})
    last = _last_activity_day(employee)
    if last is not None and on <= last:
        return MembershipConflict(
            _("%(name)s has orders or allocation entries up to %(last)s: a move must take effect after that day, "
              "so that nothing already recorded changes employer.") % {"name": employee.name, "last": last}
        )
    open_ = next((m for m in memberships if m.valid_to is None), None)
    since = open_.valid_from if open_ is not None else max((m.valid_to for m in memberships), default=MEMBERSHIP_EPOCH)
    if on <= since:
        return MembershipConflict(
            _("%(name)s has belonged to %(employer)s only since %(since)s: a move must take effect after that day.")
            % {"name": employee.name, "employer": employee.employer.name, "since": since}
        )
    number = (staff_number or employee.staff_number).strip()
    if Employee.objects.filter(employer=employer, staff_number=number).exclude(pk=employee.pk).exists():
        return MembershipConflict(
            _("Staff number %(number)s is already taken at %(employer)s: give the employee's new number.")
            % {"number": number, "employer": employer.name}
        )
    return None


def employee_move(
    *, employee: Employee, employer: Employer, on: datetime.date | None = None, author=None, staff_number: str | None = None
) -> Membership:
    """Move ``employee`` to ``employer`` from the day ``on`` (default today, county time): close the
    open membership on that day, open the next one, and make ``employee.employer`` follow.

    ``staff_number`` is the number at the new employer (default: the same one). Refuses a move to
    the same employer, a day in the future, a day not after the open range's start, or a day on or
    before recorded spending (that would rewrite history). Returns the new membership."""
    on = on or timezone.localdate()
    given = employee
    with transaction.atomic():
        employee = Employee.objects.select_for_update(of=("self",)).select_related("employer").get(pk=employee.pk)
        memberships = list(Membership.objects.select_for_update().filter(employee=employee).order_by("valid_from"))
        refusal = employee_move_refusal(employee=employee, employer=employer, on=on, staff_number=staff_number,
                                        memberships=memberships)
        if refusal is not None:
            raise refusal
        open_ = next((m for m in memberships if m.valid_to is None), None)
        if open_ is None:
            # An employee written without one (in bulk, before memberships): its whole past was
            # at its current employer.
            start = max((m.valid_to for m in memberships), default=MEMBERSHIP_EPOCH)
            open_ = Membership.objects.create(
                employee=employee, employer_id=employee.employer_id, staff_number=employee.staff_number, valid_from=start, author=author
            )
        number = (staff_number or employee.staff_number).strip()
        Membership.objects.filter(pk=open_.pk).update(valid_to=on)
        try:
            with transaction.atomic():
                new = Membership.objects.create(
                    employee=employee, employer=employer, staff_number=number, valid_from=on, author=author
                )
        except IntegrityError as exc:  # the database's own guard (a concurrent move got there first)
            raise MembershipConflict(_("%(name)s was moved by someone else just now; reload and try again.")
                                     % {"name": employee.name}) from exc
        Employee.objects.filter(pk=employee.pk).update(employer=employer, staff_number=number)
    given.employer, given.staff_number = employer, number
    return new


def employee_update(
    *, employee: Employee, name: str, staff_number: str, phone: str = "", active: bool = True, author=None
) -> Employee:
    """Correct an employee's own details where it works now (a move is ``employee_move``); the open
    membership's staff number follows (a closed one keeps the number of its time)."""
    with transaction.atomic():
        Employee.objects.filter(pk=employee.pk).update(name=name, staff_number=staff_number, phone=phone, active=active)
        Membership.objects.filter(employee=employee, valid_to__isnull=True).update(staff_number=staff_number)
        shopper_card_forget(employee_id=employee.pk)  # the name on every page: an update() sends no save signal
    employee.name, employee.staff_number, employee.phone, employee.active = name, staff_number, phone, active
    return employee


def memberships_open_missing(*, valid_from: datetime.date = MEMBERSHIP_EPOCH) -> int:
    """An open membership at the current employer for every employee written without one (in
    bulk: the demo, benchmarks). Returns how many were opened."""
    with transaction.atomic():
        missing = Employee.objects.filter(memberships__isnull=True).values_list("pk", "employer_id", "staff_number")
        rows = [Membership(employee_id=pk, employer_id=employer_id, staff_number=number, valid_from=valid_from)
                for pk, employer_id, number in missing.iterator()]
        Membership.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


def _employee_group() -> Group:
    group = Group.objects.filter(name=roles.EMPLOYEE).first()
    if group is None:
        roles.ensure_role_groups()
        group = Group.objects.get(name=roles.EMPLOYEE)
    return group


@transaction.atomic
def employee_account_create(*, employer: Employer, staff_number: str, name: str, phone: str, username: str) -> Employee:
    """A new employee and their account, which has no usable password: the employee sets one
    with an activation code (marketplace/accounts), so nobody else ever knows it."""
    User = get_user_model()
    user = User(username=username, first_name=name[:150])
    user.set_unusable_password()
    user.save()
    user.groups.add(_employee_group())
    return employee_create(user=user, employer=employer, staff_number=staff_number, name=name, phone=phone)


__all__ = [
    "MembershipConflict", "MembershipError", "employee_create", "employee_move", "employee_move_refusal", "employee_update",
    "employee_account_create", "membership_open_initial", "memberships_open_missing",
]
