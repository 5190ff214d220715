"""Employee sign-in pages and the activation-code sheet.

``/accounts/activate/``        phone, activation code, new password twice -> signed in
``/accounts/reset/``           phone -> a 6-digit code by SMS (same answer whether or not the phone is known)
``/accounts/reset/code/``      phone, code, new password twice -> signed in
``/staff/activation-codes/``   county office (any employer) or an employer coordinator (their own):
                               counts, and POST to issue fresh codes as .xlsx or a printable page
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import login, password_validation
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import DomainError

from .selectors import activation_summary, employers_for_codes, may_issue_codes
from .services import (
    ACTIVATION_VALID,
    RESET_VALID,
    account_activate,
    activation_codes_issue,
    password_reset_confirm,
    password_reset_request,
    phone_checked,
)
from .sheet import activation_codes_xlsx

BACKEND = "core.auth_backends.ModelBackend"


class PhoneField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault("label", gettext_lazy("Mobile phone"))
        kwargs.setdefault("error_messages", {"required": gettext_lazy("Enter your mobile phone number.")})
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        try:
            return phone_checked(value)
        except DomainError as exc:
            raise forms.ValidationError(exc.message, code="phone") from exc


class NewPasswordMixin(forms.Form):
    new_password1 = forms.CharField(
        label=gettext_lazy("New password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": gettext_lazy("Choose a password.")},
    )
    new_password2 = forms.CharField(
        label=gettext_lazy("New password again"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": gettext_lazy("Type the password a second time.")},
    )

    def clean(self):
        data = super().clean()
        one, two = data.get("new_password1"), data.get("new_password2")
        if one and two and one != two:
            self.add_error("new_password2", _("The two passwords differ."))
        elif one:
            try:
                password_validation.validate_password(one)
            except forms.ValidationError as exc:
                self.add_error("new_password1", exc)
        return data


class ActivateForm(NewPasswordMixin):
    phone = PhoneField()
    code = forms.CharField(
        label=gettext_lazy("Activation code"), max_length=20, error_messages={"required": gettext_lazy("Enter the activation code.")}
    )
    field_order = ["phone", "code", "new_password1", "new_password2"]


class ResetRequestForm(forms.Form):
    phone = PhoneField()


class ResetConfirmForm(NewPasswordMixin):
    phone = PhoneField()
    code = forms.CharField(label=gettext_lazy("Code from the text message"), max_length=12,
                           error_messages={"required": gettext_lazy("Enter the code from the text message.")})
    field_order = ["phone", "code", "new_password1", "new_password2"]


def _client(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


def _code_error(form, exc: DomainError) -> None:
    form.add_error(getattr(exc, "field", None) if getattr(exc, "field", None) in form.fields else None, exc.message)


@require_http_methods(["GET", "POST"])
def activate_page(request):
    form = ActivateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            user = account_activate(phone=d["phone"], code=d["code"], password=d["new_password1"], client=_client(request))
        except DomainError as exc:
            _code_error(form, exc)
        else:
            login(request, user, backend=BACKEND)
            messages.success(request, _("Your account is active and you are signed in. Welcome!"))
            return HttpResponseRedirect("/")
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/activate.html", {"form": form, "valid_days": ACTIVATION_VALID.days}, status=status)


@require_http_methods(["GET", "POST"])
def reset_request_page(request):
    form = ResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            password_reset_request(phone=form.cleaned_data["phone"])
        except DomainError as exc:
            _code_error(form, exc)
        else:
            request.session["reset_phone"] = form.cleaned_data["phone"]
            messages.info(request, _("If this number belongs to an employee account, a code is on its way by text message."))
            return HttpResponseRedirect(reverse("account_reset_confirm"))
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/reset_request.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
def reset_confirm_page(request):
    form = ResetConfirmForm(request.POST or None, initial={"phone": request.session.get("reset_phone", "")})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            user = password_reset_confirm(phone=d["phone"], code=d["code"], password=d["new_password1"])
        except DomainError as exc:
            _code_error(form, exc)
        else:
            request.session.pop("reset_phone", None)
            login(request, user, backend=BACKEND)
            messages.success(request, _("Your new password is set and you are signed in."))
            return HttpResponseRedirect("/")
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/reset_confirm.html", {"form": form, "valid_minutes": RESET_VALID.seconds // 60}, status=status)


def _employer_of_request(request, data):
    employers = employers_for_codes(request.user)
    raw = data.get("employer", "")
    if raw:
        return employers.filter(code=raw).first()
    return employers.first() if employers.count() == 1 else None


@login_required
def codes_page(request):
    if not may_issue_codes(request.user):
        raise PermissionDenied
    employers = list(employers_for_codes(request.user))
    employer = _employer_of_request(request, request.GET)
    return render(
        request,
        "accounts/codes.html",
        {
            "employers": employers,
            "employer": employer,
            "summary": activation_summary(employer) if employer else None,
            "summaries": [(e, activation_summary(e)) for e in employers] if employer is None else [],
            "valid_days": ACTIVATION_VALID.days,
        },
    )


@login_required
@require_POST
def codes_issue(request):
    if not may_issue_codes(request.user):
        raise PermissionDenied
    employer = _employer_of_request(request, request.POST)
    if employer is None:
        messages.error(request, _("Choose an employer."))
        return HttpResponseRedirect(reverse("activation_codes"))
    rows = activation_codes_issue(employer=employer, author=request.user)
    if request.POST.get("format") == "xlsx":
        response = HttpResponse(
            activation_codes_xlsx(rows), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        response["Content-Disposition"] = f'attachment; filename="activation-codes-{employer.code}-{timezone.localdate():%Y%m%d}.xlsx"'
        response["Cache-Control"] = "no-store"
        return response
    response = render(
        request,
        "accounts/codes_print.html",
        {"employer": employer, "rows": rows, "valid_until": timezone.localdate() + ACTIVATION_VALID},
    )
    response["Cache-Control"] = "no-store"
    return response


urlpatterns = [
    path("accounts/activate/", activate_page, name="account_activate"),
    path("accounts/reset/", reset_request_page, name="account_reset"),
    path("accounts/reset/code/", reset_confirm_page, name="account_reset_confirm"),
    path("staff/activation-codes/", codes_page, name="activation_codes"),
    path("staff/activation-codes/issue/", codes_issue, name="activation_codes_issue"),
]
