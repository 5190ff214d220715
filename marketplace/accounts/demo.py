"""Demo part of employee accounts: phones for the demo employees, a coordinator for 教育局, and
where to find activation codes (a few printed; the command writes them all)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from core import roles
from marketplace.models import Employee, Employer

from .models import EmployerCoordinator
from .services import activation_codes_issue, employees_not_activated

DEMO_PASSWORD = "relief-demo"
SHOWN = 3


def demo_phone(pk: int) -> str:
    return f"139{pk:08d}"[:11]


@transaction.atomic
def seed_phones() -> int:
    """Every demo employee without a phone gets one (139 + their id), so they can activate."""
    missing = list(Employee.objects.filter(phone="").only("pk"))
    for employee in missing:
        employee.phone = demo_phone(employee.pk)
    Employee.objects.bulk_update(missing, ["phone"], batch_size=500)
    return len(missing)


@transaction.atomic
def seed_coordinator(employer: Employer):
    User = get_user_model()
    user, created = User.objects.get_or_create(username="coordinator", defaults={"first_name": "单位联络员"})
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    roles.ensure_role_groups()
    user.groups.add(Group.objects.get(name=roles.EMPLOYER_COORDINATOR))
    EmployerCoordinator.objects.update_or_create(user=user, defaults={"employer": employer})
    return user


def seed(*, households: int = 2000, stdout=None, context: dict | None = None) -> dict:
    phones = seed_phones()
    employer = Employer.objects.filter(code="ZA-EDU").first() or Employer.objects.order_by("code").first()
    if employer is None:
        return {}
    seed_coordinator(employer)
    waiting = employees_not_activated(employer=employer)
    shown = list(waiting.filter(phone__gt="")[:SHOWN])
    if stdout:
        stdout.write(f"accounts: {phones} demo phones added, coordinator 'coordinator' for {employer.name}")
        if shown:
            # Codes are stored hashed: showing some means issuing the employer's codes afresh.
            rows = [r for r in activation_codes_issue(employer=employer) if r.code][:SHOWN]
            stdout.write("  demo activation codes (/accounts/activate/; every earlier code of 教育局 is replaced):")
            for row in rows:
                stdout.write(f"    {row.name}  phone {row.phone}  code {row.code}")
            stdout.write(
                f"  all codes: python manage.py activation_codes --employer {employer.code} --output codes.xlsx, "
                "or sign in as 'coordinator' / county and open /staff/activation-codes/"
            )
    return {}
