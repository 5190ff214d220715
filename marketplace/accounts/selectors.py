"""Who may hand out which employer's codes: the county office any employer's, an employer
coordinator only their own."""

from __future__ import annotations

from core import roles
from marketplace.models import Employee, Employer

from .models import EmployerCoordinator


def coordinated_employer(user) -> Employer | None:
    if not user or not user.is_authenticated or not roles.has_role(user, roles.EMPLOYER_COORDINATOR):
        return None
    assignment = EmployerCoordinator.objects.filter(user=user).select_related("employer").first()
    return assignment.employer if assignment else None


def employers_for_codes(user):
    """The employers whose activation codes ``user`` may issue (an empty queryset for anyone else)."""
    if roles.is_county_office(user):
        return Employer.objects.order_by("code")
    employer = coordinated_employer(user)
    if employer is None:
        return Employer.objects.none()
    return Employer.objects.filter(pk=employer.pk)


def may_issue_codes(user) -> bool:
    return roles.is_county_office(user) or coordinated_employer(user) is not None


def activation_summary(employer: Employer) -> dict:
    employees = Employee.objects.filter(employer=employer, active=True)
    waiting = employees.filter(user__password__startswith="!")
    return {
        "total": employees.count(),
        "waiting": waiting.count(),
        "without_phone": waiting.filter(phone="").count(),
    }
