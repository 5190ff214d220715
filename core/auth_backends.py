"""Sign-in backends: django-axes' lock-out check in front of Django's password check, and the
session's user read with what every signed-in page asks for."""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth import backends, get_user_model
from django.db import router
from django.http import HttpRequest

from core.one_row import one_row_statement


class SessionUserMixin:
    """``get_user`` (the session's user, read on every signed-in request) joins the one-to-one
    records named in ``settings.AUTH_USER_SELECT_RELATED`` (an employee's record and employer: the
    header, the cart and checkout all ask for them), one statement instead of two, compiled once
    (``OneRowStatement``). A user without such a record has it cached as missing, so asking
    costs nothing either."""

    def get_user(self, user_id):
        UserModel = get_user_model()
        paths = tuple(getattr(settings, "AUTH_USER_SELECT_RELATED", ()))
        user = one_row_statement(UserModel, paths, router.db_for_read(UserModel)).get(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


class LockoutBackend(AxesStandaloneBackend):
    """Axes' check, also for callers of ``authenticate()`` that pass no request (the test client,
    scripts): lock-outs are by username only (settings.AXES_LOCKOUT_PARAMETERS), so a locked
    username is refused without one. Every sign-in page passes its request, so its failures are
    counted; a call without a request is checked but not counted."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        return super().authenticate(request if request is not None else HttpRequest(), username, password, **kwargs)


class ModelBackend(SessionUserMixin, backends.ModelBackend):
    """Django's password check, and the sessions it signs in (the test client's ``force_login``
    too): their user as ``SessionUserMixin`` reads it."""
