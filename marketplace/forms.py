"""Admin forms of the shop's snippets."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from wagtail.admin.forms import WagtailAdminModelForm

from households.forms import MobilePhoneField

from .models import Employee, Employer
from .services.employees import employee_create, employee_move, employee_move_refusal, employee_update


class EmployeeAdminForm(WagtailAdminModelForm):
    """The employee snippet form; the phone is read by the same function as the employee import
    (full-width digits, spaces and dashes accepted, stored as 11 digits). Saving goes through the
    membership services, so a change of employer is a move (the old range closed today, a new one
    opened) and never rewrites the employer of orders already made."""

    phone = MobilePhoneField(label=Employee._meta.get_field("phone").verbose_name, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._employer_before = self.instance.employer_id if self.instance.pk else None

    def _moving_to(self) -> Employer | None:
        employer = self.cleaned_data.get("employer")
        if self.instance.pk and employer is not None and employer.pk != self._employer_before:
            return employer
        return None

    def clean(self):
        cleaned = super().clean()
        employer = self._moving_to()
        if employer is not None:
            current = Employee.objects.select_related("employer").get(pk=self.instance.pk)
            refusal = employee_move_refusal(
                employee=current, employer=employer, on=timezone.localdate(), staff_number=cleaned.get("staff_number")
            )
            if refusal is not None:
                self.add_error("employer", refusal.message)
        return cleaned

    def save(self, commit=True):
        if not commit:
            return super().save(commit=False)
        data, author = self.cleaned_data, getattr(self, "for_user", None)
        fields = {"name": data["name"], "staff_number": data["staff_number"], "phone": data.get("phone") or "",
                  "active": data.get("active", True)}
        if self.instance.pk is None:
            return employee_create(user=data["user"], employer=data["employer"], author=author, **fields)
        with transaction.atomic():
            employer = self._moving_to()
            current = Employee.objects.select_related("employer").get(pk=self.instance.pk)
            if employer is not None:
                employee_move(employee=current, employer=employer, author=author, staff_number=fields["staff_number"])
            employee_update(employee=current, author=author, **fields)
        return current
