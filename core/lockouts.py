"""Sign-in lock-outs (django-axes): after AXES_FAILURE_LIMIT failed sign-ins for one username,
from any address, that username is refused for AXES_COOLOFF_TIME. This module answers a
refused sign-in in the user's language, saying when to try again, and gives the county office a
list of the current lock-outs in the Wagtail admin, each with a button that lifts it (axes' own
reset)."""

from __future__ import annotations

import datetime

from axes.helpers import get_client_username
from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied
from django.db.models import Max, Sum
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from .roles import is_county_office

LOCKED_STATUS = 429


def _cool_off() -> datetime.timedelta:
    return settings.AXES_COOLOFF_TIME


def current_lockouts() -> list[dict]:
    """Usernames refused now: their failures within the cool-off add up to the limit. Each with
    the failure count, the last failure and when the lock ends."""
    since = timezone.now() - _cool_off()
    rows = (
        AccessAttempt.objects.filter(attempt_time__gte=since)
        .values("username")
        .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
        .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
        .order_by("-last")
    )
    return [{**row, "until": row["last"] + _cool_off()} for row in rows]


def locked_until(username: str) -> datetime.datetime | None:
    last = AccessAttempt.objects.filter(username=username).aggregate(last=Max("attempt_time"))["last"]
    return last + _cool_off() if last else None


def lockout_message(username: str) -> str:
    until = locked_until(username) or timezone.now() + _cool_off()
    until = timezone.localtime(until)
    minutes = int(_cool_off().total_seconds() // 60)
    return _(
        "Too many failed sign-ins for “%(username)s”: signing in with this username is refused for %(minutes)d minutes. "
        "Try again after %(time)s (Beijing time), or ask the county office to lift the lock."
    ) % {"username": username, "minutes": minutes, "time": f"{until:%Y-%m-%d %H:%M}"}


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: our own sign-in page keeps its form with the message as the form's
    error; any other sign-in page (the Wagtail admin's, Django admin's) gets the message in the
    site frame with a way back."""
    username = get_client_username(request, credentials) or ""
    message = lockout_message(username)
    if request.path == reverse("login"):
        form = AuthenticationForm(request, data={"username": username})
        form.errors.clear()
        form.add_error(None, message)
        return render(request, "core/login.html", {"form": form, "next": request.POST.get("next", "")}, status=LOCKED_STATUS)
    return render(
        request,
        "core/locked_out.html",
        {"message": message, "username": username, "back": request.get_full_path()},
        status=LOCKED_STATUS,
    )


# --- county office: lift a lock-out ------------------------------------------------------------


class LockoutListView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "core/admin/lockouts.html"
    page_title = gettext_lazy("Sign-in lock-outs")
    header_icon = "lock"

    def dispatch(self, request, *args, **kwargs):
        if not is_county_office(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return [*self.breadcrumbs_items, {"url": "", "label": self.get_page_title()}]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            lockouts=current_lockouts(),
            limit=settings.AXES_FAILURE_LIMIT,
            minutes=int(_cool_off().total_seconds() // 60),
        )
        return context

    def post(self, request):
        username = request.POST.get("username", "")
        if username and axes_reset(username=username):
            messages.success(request, _("The lock on “%(username)s” is lifted: they can sign in again.") % {"username": username})
        else:
            messages.error(request, _("“%(username)s” is not locked out.") % {"username": username})
        return redirect("core_lockouts")


class _CountyMenuItem(MenuItem):
    def is_shown(self, request):
        return is_county_office(request.user)


@hooks.register("register_admin_urls")
def lockout_admin_urls():
    return [path("sign-in-lockouts/", LockoutListView.as_view(), name="core_lockouts")]


@hooks.register("register_admin_menu_item")
def lockout_menu_item():
    return _CountyMenuItem(gettext_lazy("Sign-in lock-outs"), reverse("core_lockouts"), name="sign-in-lockouts", icon_name="lock", order=9200)
