"""The employee import as core's background import runs it (registered in MarketplaceConfig.ready)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from core.spreadsheet import ImportKind, register_import_kind

KIND = "employees"


def _run(*, file, params, author, progress):
    from .models import Employer
    from .services.employees_import import employees_import_xlsx

    employer = Employer.objects.get(pk=params["employer"])
    return employees_import_xlsx(employer=employer, file=file, author=author, progress=progress)


def _may_import(user, params) -> bool:
    from .staff_admin import user_may_import_employees

    return user_may_import_employees(user)


def _title(params) -> str:
    from .models import Employer

    employer = Employer.objects.filter(pk=params.get("employer")).first()
    return _("Employees of %(employer)s") % {"employer": employer.name if employer else "—"}


def register() -> None:
    register_import_kind(
        ImportKind(
            name=KIND,
            run=_run,
            may_import=_may_import,
            back_url=lambda params: f"{reverse('marketplace_employees_import')}?employer={params.get('employer', '')}",
            title=_title,
        )
    )
