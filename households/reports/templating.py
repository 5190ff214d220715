"""Templates of the income pages live beside this package (households/reports/templates), which
is not an app of its own; this engine finds them first and everything else (base.html, app
templates) the usual way."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from django.conf import settings
from django.http import HttpResponse
from django.template.backends.django import DjangoTemplates


@cache
def _engine() -> DjangoTemplates:
    base = settings.TEMPLATES[0]
    return DjangoTemplates({
        "NAME": "household-reports",
        "DIRS": [Path(__file__).parent / "templates", *base.get("DIRS", [])],
        "APP_DIRS": True,
        "OPTIONS": dict(base.get("OPTIONS", {})),
    })


def render(request, template_name: str, context: dict, status: int = 200) -> HttpResponse:
    return HttpResponse(_engine().get_template(template_name).render(context, request), status=status)
