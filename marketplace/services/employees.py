"""Employee accounts: the one writer that creates an employee's user account and record."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from core import roles

from ..models import Employee, Employer


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
    return Employee.objects.create(user=user, employer=employer, staff_number=staff_number, name=name, phone=phone)
