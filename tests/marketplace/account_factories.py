"""Employees waiting to activate, coordinators, and reading the SMS outbox."""

from __future__ import annotations

import itertools
import re

from core import roles
from core.models import SmsMessage
from marketplace.accounts.models import EmployerCoordinator
from tests.households.factories import UserFactory
from tests.marketplace.factories import EmployeeFactory

_phones = itertools.count(1)


def next_phone() -> str:
    return f"1380000{next(_phones):04d}"


def waiting_employee(**fields):
    """An imported employee: a phone on file, an account with no usable password."""
    fields.setdefault("phone", next_phone())
    employee = EmployeeFactory(**fields)
    employee.user.set_unusable_password()
    employee.user.save()
    return employee


def coordinator_of(employer, username: str | None = None):
    user = UserFactory(username=username, role=roles.EMPLOYER_COORDINATOR) if username else UserFactory(role=roles.EMPLOYER_COORDINATOR)
    EmployerCoordinator.objects.create(user=user, employer=employer)
    return user


def last_sms_code(phone: str, digits: int = 6) -> str:
    message = SmsMessage.objects.filter(phone=phone).order_by("-id").first()
    assert message is not None, f"no text message to {phone}"
    return re.search(rf"\b(\d{{{digits}}})\b", message.text).group(1)
