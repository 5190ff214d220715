"""Fapiao (发票) pages: the employer coordinator's requests (``/employer/fapiao/``), the
supermarket's list where an issued fapiao is recorded (``/staff/fapiao/``), and the PDF, served
only to whoever may see the request (``fapiao_requests_visible_to``). The rules live in
``services/fapiao.py``."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import DomainError

from .models import FapiaoRequest
from .services.fapiao import (
    fapiao_may_issue,
    fapiao_record_issued,
    fapiao_request,
    fapiao_requests_visible_to,
)
from .statements import StatementMonth, employer_statement


def _signed_in(request):
    return request.user.is_authenticated


@require_http_methods(["GET", "POST"])
def employer_fapiao_page(request):
    from .accounts.selectors import coordinated_employer

    if not _signed_in(request):
        return redirect_to_login(request.get_full_path())
    employer = coordinated_employer(request.user)
    if employer is None:
        raise PermissionDenied
    errors, status, typed = {}, 200, {}
    if request.method == "POST":
        typed = {k: request.POST.get(k, "") for k in ("month", "title", "tax_number", "address", "bank")}
        try:
            month = StatementMonth.parse(typed["month"])
        except ValueError:
            errors, status = {"month": _("Choose a month.")}, 400
        else:
            try:
                created = fapiao_request(user=request.user, employer=employer, month=month, title=typed["title"],
                                         tax_number=typed["tax_number"], address=typed["address"], bank=typed["bank"])
            except DomainError as exc:
                errors = exc.problem_keys or {"__all__": exc.message}
                status = exc.status
            else:
                messages.success(request, _("Fapiao requested for %(month)s: %(amount)s yuan.") % {
                    "month": month, "amount": created.amount})
                return redirect("employer_fapiao")
    requested = {(r.year, r.month): r for r in fapiao_requests_visible_to(request.user)}
    months = []
    for month in StatementMonth.recent(12):
        months.append({"month": month, "owed": employer_statement(employer=employer, month=month).owed,
                       "request": requested.get((month.year, month.month))})
    last = FapiaoRequest.objects.filter(employer=employer).order_by("-requested_at").first()
    defaults = typed or {"title": last.title if last else employer.name, "tax_number": last.tax_number if last else "",
                         "address": last.address if last else "", "bank": last.bank if last else ""}
    return render(request, "marketplace/fapiao/employer.html", {
        "employer": employer, "months": months, "errors": errors, "typed": defaults,
    }, status=status)


def staff_fapiao_page(request, *, errors=None, failed_pk=None, status=200):
    if not _signed_in(request):
        return redirect_to_login(request.get_full_path())
    if not fapiao_may_issue(request.user):
        raise PermissionDenied
    requests_ = list(fapiao_requests_visible_to(request.user).order_by("status", "-year", "-month")[:200])
    return render(request, "marketplace/fapiao/staff.html", {
        "requests": requests_, "errors": errors or {}, "failed_pk": failed_pk, "typed": request.POST if failed_pk else {},
    }, status=status)


@require_POST
def staff_fapiao_issue(request, pk: int):
    if not _signed_in(request):
        return redirect_to_login(request.get_full_path())
    if not fapiao_may_issue(request.user):
        raise PermissionDenied
    fapiao = fapiao_requests_visible_to(request.user).filter(pk=pk).first()
    if fapiao is None:
        raise Http404
    try:
        issued_on = datetime.date.fromisoformat(request.POST.get("issued_on", ""))
    except ValueError:
        issued_on = None
    try:
        fapiao_record_issued(user=request.user, fapiao=fapiao, number=request.POST.get("number", ""), issued_on=issued_on,
                             pdf=request.FILES.get("pdf"))
    except DomainError as exc:
        return staff_fapiao_page(request, errors=exc.problem_keys or {"__all__": exc.message}, failed_pk=pk, status=exc.status)
    messages.success(request, _("Fapiao recorded for %(employer)s, %(year)d-%(month)02d.") % {
        "employer": fapiao.employer.name, "year": fapiao.year, "month": fapiao.month})
    return redirect("staff_fapiao")


def fapiao_pdf(request, pk: int):
    if not _signed_in(request):
        return redirect_to_login(request.get_full_path())
    fapiao = fapiao_requests_visible_to(request.user).filter(pk=pk, status=FapiaoRequest.Status.ISSUED).first()
    if fapiao is None or not fapiao.pdf:
        raise Http404
    response = FileResponse(fapiao.pdf.open("rb"), content_type="application/pdf",
                            filename=f"fapiao-{fapiao.fapiao_number}.pdf")
    response["Cache-Control"] = "no-store"
    return response


urlpatterns = [
    path("employer/fapiao/", employer_fapiao_page, name="employer_fapiao"),
    path("staff/fapiao/", require_http_methods(["GET"])(staff_fapiao_page), name="staff_fapiao"),
    path("staff/fapiao/<int:pk>/issue/", staff_fapiao_issue, name="staff_fapiao_issue"),
    path("fapiao/<int:pk>/pdf/", fapiao_pdf, name="fapiao_pdf"),
]
