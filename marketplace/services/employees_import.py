"""The writer of an employee import: one employer's employees (and their user accounts) from a
checked file, all rows or none. A staff number already on the employer's books updates that
employee (name, phone, active again, and the username if the file gives another free one); a new
one creates a user account (no usable password: the person signs in once the county office sets
one or through single sign-on) in the ``employee`` group, and the employee. Reading the file is
marketplace.employees_import.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core import roles
from core.spreadsheet import ImportResult, RowProblem

from ..employees_import import EmployeeRow, employees_read_xlsx
from ..models import Employee, Employer
from ..shopper_card import shopper_card_forget
from .employees import employee_create


def employees_import_xlsx(*, employer: Employer, file, author=None, progress=None) -> ImportResult:
    """Create or update ``employer``'s employees from an .xlsx file; all rows or none.

    Returns an ImportResult; when ``result.problems`` is not empty nothing was written.
    """
    result, parsed = employees_read_xlsx(employer=employer, file=file, progress=progress)
    if result.problems:
        result.nothing_written()
        return result
    try:
        _write(employer, parsed, result)
    except IntegrityError:
        # Someone created one of these accounts while the file was being checked.
        result.nothing_written()
        result.problems.append(RowProblem(0, "", _("Some accounts changed while the file was imported; nothing was imported. Upload it again.")))
    return result


@transaction.atomic
def _write(employer: Employer, parsed: list[EmployeeRow], result: ImportResult) -> None:
    User = get_user_model()
    existing = {
        e.staff_number: e
        for e in Employee.objects.select_for_update(of=("self",)).filter(employer=employer).select_related("user").order_by("pk")
    }
    group = Group.objects.filter(name=roles.EMPLOYEE).first()
    if group is None:
        roles.ensure_role_groups()
        group = Group.objects.get(name=roles.EMPLOYEE)
    for row in parsed:
        employee = existing.get(row.staff_number)
        if employee is None:
            user = User(username=row.username, first_name=row.name[:150])
            user.set_unusable_password()
            user.save()
            user.groups.add(group)
            # through the membership service: the new employee's open range at this employer
            employee_create(user=user, employer=employer, staff_number=row.staff_number, name=row.name, phone=row.phone)
            result.created += 1
            continue
        changed = False
        if employee.name != row.name or not employee.active or (row.phone and employee.phone != row.phone):
            Employee.objects.filter(pk=employee.pk).update(name=row.name, active=True, phone=row.phone or employee.phone)
            shopper_card_forget(employee_id=employee.pk)  # the name on every page: an update() sends no save signal
            changed = True
        user = employee.user
        if row.username_given and user.username != row.username:
            User.objects.filter(pk=user.pk).update(username=row.username)
            changed = True
        if user.first_name != row.name[:150]:
            User.objects.filter(pk=user.pk).update(first_name=row.name[:150])
        if not user.groups.filter(pk=group.pk).exists():
            user.groups.add(group)
            changed = True
        if changed:
            result.updated += 1
        else:
            result.unchanged += 1
