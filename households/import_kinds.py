"""The registry import as core's background import runs it (registered in HouseholdsConfig.ready)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from core.spreadsheet import ImportKind, register_import_kind

KIND = "households"


def _run(*, file, params, author, progress):
    from .services_import import households_import_xlsx

    return households_import_xlsx(file=file, author=author, progress=progress)


def _may_import(user, params) -> bool:
    from .admin_views import user_may_import

    return user_may_import(user)


def register() -> None:
    register_import_kind(
        ImportKind(
            name=KIND,
            run=_run,
            may_import=_may_import,
            back_url=lambda params: reverse("households_import"),
            title=lambda params: _("Household registry"),
        )
    )
