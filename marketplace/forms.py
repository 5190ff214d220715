"""Admin forms of the shop's snippets."""

from __future__ import annotations

from wagtail.admin.forms import WagtailAdminModelForm

from households.forms import MobilePhoneField

from .models import Employee


class EmployeeAdminForm(WagtailAdminModelForm):
    """The employee snippet form; the phone is read by the same function as the employee import
    (full-width digits, spaces and dashes accepted, stored as 11 digits)."""

    phone = MobilePhoneField(label=Employee._meta.get_field("phone").verbose_name, required=False)
