"""Settlement pages: runs and their progress (county office, in the Wagtail admin), payout lists
per township (page, Excel, PDF; accounts masked for anyone but the county office), marking a
payout paid, and the public money-flow JSON."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import DomainError
from core.parsing import local_url
from core.personal_data import Action, personal_data_access_record
from core.roles import is_county_office
from households.reports.excel import workbook_response

from . import selectors
from .access import settlement_runs_visible_to
from .models import Payout, SettlementRun
from .money_flow import money_flow_latest
from .pdf import payout_list_pdf
from .services import settlement_request


def _county_only(request) -> None:
    if not is_county_office(request.user):
        raise PermissionDenied(_("Only the county office can do this."))


def run_progress_data(run: SettlementRun) -> dict:
    return {
        "code": run.code, "status": run.status, "status_label": str(run.get_status_display()), "phase": run.phase,
        "phase_label": str(run.get_phase_display()), "percent": run.progress_percent, "items_done": run.items_done,
        "items_total": run.items_total, "lines": run.lines_written, "sales": str(run.sales_amount),
        "refunds": str(run.refunds_amount), "dividends": str(run.dividend_amount), "error": run.error if run.error else "",
    }


def settlement_admin(request):
    """Wagtail admin page: start a settlement, watch its progress bar, list the runs."""
    _county_only(request)
    if request.method == "POST":
        try:
            run = settlement_request(user=request.user)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Settlement %(code)s started.") % {"code": run.code})
        return redirect("settlement_admin")
    runs = SettlementRun.objects.select_related("author")[:50]
    running = SettlementRun.objects.filter(status__in=[SettlementRun.Status.RUNNING, SettlementRun.Status.FAILED]).first()
    return render(request, "settlement/admin_runs.html", {"runs": runs, "running": running})


def run_progress(request, pk: int):
    """The small JSON the progress bar polls."""
    _county_only(request)
    return JsonResponse(run_progress_data(get_object_or_404(SettlementRun, pk=pk)))


def _may_see_payouts(request) -> None:
    if not request.user.is_authenticated or selectors.payout_townships_for(request.user) == []:
        raise PermissionDenied(_("You may not see payout lists."))


@login_required
def payout_list(request, code: str | None = None):
    """A run's payouts (or all runs'), per township; ``?format=xlsx`` / ``pdf`` to export."""
    _may_see_payouts(request)
    run = get_object_or_404(settlement_runs_visible_to(request.user), code=code) if code else None
    qs = selectors.payouts(user=request.user, run=run, filters=request.GET)
    filterset = selectors.PayoutFilterSet(request.GET, queryset=qs)
    rows = selectors.payout_rows(user=request.user, payouts_qs=qs)
    totals = selectors.payout_totals(qs)
    title = _("Payout list") + (f" {run.code}" if run else "")
    township = filterset.form.cleaned_data.get("township") if filterset.is_valid() else None
    if township:
        title += f" · {township.name}"
    fmt = request.GET.get("format")
    # Each form shows the payout accounts (unmasked to the county office): one log entry.
    personal_data_access_record(
        request=request,
        action={"xlsx": Action.EXPORT, "pdf": Action.PDF}.get(fmt, Action.VIEW),
        households=[r["number"] for r in rows],
        filters=request.GET,
        rows=len(rows),
    )
    if fmt == "xlsx":
        headers = [_("Township"), _("Village"), _("Registry number"), _("Head of household"), _("Bank"), _("Account"), _("Amount"),
                   _("Status"), _("Method"), _("Paid by"), _("Paid at")]
        data = [[r["township"], r["village"], r["number"], r["head_name"], r["bank"], r["account"], r["amount"], str(r["status_label"]),
                 str(r["method"]), r["paid_by"], r["paid_at"].isoformat() if r["paid_at"] else ""] for r in rows]
        return workbook_response(f"payouts-{run.code if run else 'all'}.xlsx", [(_("Payouts"), headers, data)])
    if fmt == "pdf":
        response = HttpResponse(payout_list_pdf(title=title, rows=rows, totals=totals), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="payouts-{run.code if run else "all"}.pdf"'
        return response
    return render(request, "settlement/payout_list.html", {
        "run": run, "rows": rows, "totals": totals, "filterset": filterset, "title": title,
        "may_mark": is_county_office(request.user), "methods": Payout.Method.choices, "query": request.GET.urlencode(),
        "unpaid_by_township": selectors.unpaid_by_township(user=request.user),
    })


@require_POST
@login_required
def payout_paid(request, pk: int):
    from .services import payout_mark_paid

    _county_only(request)
    try:
        payout = payout_mark_paid(payout=pk, method=request.POST.get("method", ""), user=request.user,
                                  reference=request.POST.get("reference", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Payout to %(number)s recorded as paid.") % {"number": payout.household.number})
    return redirect(local_url(request.POST.get("next"), request=request, default=reverse("payout-list")))


class _AllocationsFlow(serializers.Serializer):
    granted = serializers.DecimalField(max_digits=14, decimal_places=2)
    spent = serializers.DecimalField(max_digits=14, decimal_places=2)
    refunded = serializers.DecimalField(max_digits=14, decimal_places=2)
    expired = serializers.DecimalField(max_digits=14, decimal_places=2)


class _SalesFlow(serializers.Serializer):
    orders = serializers.IntegerField()
    total = serializers.DecimalField(max_digits=14, decimal_places=2)
    from_allocation = serializers.DecimalField(max_digits=14, decimal_places=2)
    by_card = serializers.DecimalField(max_digits=14, decimal_places=2)
    refunded = serializers.DecimalField(max_digits=14, decimal_places=2)
    net = serializers.DecimalField(max_digits=14, decimal_places=2)


class _HouseholdsFlow(serializers.Serializer):
    reached = serializers.IntegerField()
    intake = serializers.DecimalField(max_digits=14, decimal_places=2)
    sales_attributed = serializers.DecimalField(max_digits=14, decimal_places=2)
    dividends = serializers.DecimalField(max_digits=14, decimal_places=2)
    paid_to_households = serializers.DecimalField(max_digits=14, decimal_places=2)


class MoneyFlowSerializer(serializers.Serializer):
    """The shape of the public money flow (documentation for the schema; the figures come ready)."""

    computed_at = serializers.DateTimeField()
    allocations = _AllocationsFlow()
    sales = _SalesFlow()
    households = _HouseholdsFlow()
    by_township = serializers.ListField(child=serializers.DictField())
    by_month = serializers.ListField(child=serializers.DictField())
    by_township_month = serializers.ListField(child=serializers.DictField())


class PublicMoneyFlowAPI(APIView):
    """``GET /api/v1/public/money-flow/``: the public money flow, aggregates only, no sign-in."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(responses=MoneyFlowSerializer, summary="Public money flow (aggregates only)")
    def get(self, request):
        return Response(money_flow_latest())
