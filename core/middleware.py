"""HTML pages answer unreadable input with a 400 page carrying the message, never a 500.

A view reads its query parameters with ``core.parsing.query_*``; a bad one raises
``InvalidInput``, which lands here (the API answers it through ``core.api.exception_handler``
before it gets this far). Forms show their errors themselves; this is for links and query strings.

Before any view runs, a query string or form post holding NUL or another control character is
refused (400) whatever the view: no screen has a use for them, PostgreSQL cannot store NUL, and a
search for one reaches the database as an error rather than as no result.
"""

from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from .parsing import InvalidInput, clean_text

FORM_CONTENT_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}


def _check_params(params) -> None:
    for name, values in params.lists():
        clean_text(name, max_length=10_000, label=None, field=None)
        for value in values:
            clean_text(value, max_length=1_000_000, multiline=True, label=name, field=name)


class InvalidInputMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            _check_params(request.GET)
            if request.method == "POST" and request.content_type in FORM_CONTENT_TYPES:  # text fields; files are the form's
                _check_params(request.POST)
        except InvalidInput as exc:
            return self._refuse(request, exc)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, InvalidInput):
            return None
        return self._refuse(request, exception)

    def _refuse(self, request, exc: InvalidInput):
        if request.path.startswith("/api/"):
            return JsonResponse(exc.as_dict(), status=400)
        message = exc.message or _("This request cannot be read.")
        return render(request, "core/bad_input.html", {"message": message, "back": request.path}, status=400)
