"""Sign-in backends: django-axes' lock-out check in front of Django's password check."""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend
from django.http import HttpRequest


class LockoutBackend(AxesStandaloneBackend):
    """Axes' check, also for callers of ``authenticate()`` that pass no request (the test client,
    scripts): lock-outs are by username only (settings.AXES_LOCKOUT_PARAMETERS), so a locked
    username is refused without one. Every sign-in page passes its request, so its failures are
    counted; a call without a request is checked but not counted."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        return super().authenticate(request if request is not None else HttpRequest(), username, password, **kwargs)
