"""Cash pages (收购点现金日报).

``/intake/cash/?date=``            the point's cash sheet of a day (point staff: their own point;
                                   county office: ``&point=<code>`` for any point), printable
``/cash/?date=``                   county office: every point's cash at the end of the day
``/cash/advance/``                 county office, POST: record cash advanced to or taken back from a point
"""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core import roles
from core.errors import DomainError

from .models import CashAdvance, Facility
from .selectors.cash import cash_balances, cash_sheet
from .services.cash import cash_advance_record
from .services.intake import collection_point_of


class AdvanceForm(forms.Form):
    point = forms.ModelChoiceField(
        label=gettext_lazy("Collection point"), queryset=Facility.objects.none(), to_field_name="code",
        error_messages={"required": gettext_lazy("Choose the collection point."), "invalid_choice": gettext_lazy("Choose the collection point.")},
    )
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=CashAdvance.Kind.choices, initial=CashAdvance.Kind.ADVANCE)
    amount = forms.CharField(label=gettext_lazy("Amount (yuan)"), max_length=20, error_messages={"required": gettext_lazy("Enter the amount.")})
    note = forms.CharField(label=gettext_lazy("Note"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["point"].queryset = Facility.objects.filter(kind=Facility.Kind.COLLECTION_POINT, active=True).select_related("township").order_by("township__name", "code")
        self.fields["point"].label_from_instance = lambda p: f"{p.township.name if p.township else ''} · {p.name}"


def _day(request) -> datetime.date:
    try:
        return datetime.date.fromisoformat(request.GET.get("date", "")) if request.GET.get("date") else timezone.localdate()
    except ValueError:
        return timezone.localdate()


def _day_links(day: datetime.date) -> dict:
    return {
        "previous_day": day - datetime.timedelta(days=1),
        "next_day": day + datetime.timedelta(days=1) if day < timezone.localdate() else None,
    }


@login_required
def cash_sheet_page(request):
    county = roles.is_county_office(request.user)
    point = collection_point_of(request.user)
    if county:
        code = request.GET.get("point", "")
        point = Facility.objects.filter(kind=Facility.Kind.COLLECTION_POINT, code=code).first() if code else None
        if point is None:
            return HttpResponseRedirect(reverse("cash-balances"))
    elif point is None:
        raise PermissionDenied
    day = _day(request)
    sheet = cash_sheet(point=point, day=day)
    form = AdvanceForm(initial={"point": point.code}) if county else None
    return render(
        request, "logistics/cash/sheet.html",
        {"sheet": sheet, "point": point, "day": day, "county": county, "form": form, "point_query": urlencode({"point": point.code}) if county else "",
         **_day_links(day)},
    )


@login_required
def cash_balances_page(request):
    if not roles.is_county_office(request.user):
        raise PermissionDenied
    day = _day(request)
    rows = cash_balances(day=day)
    return render(
        request, "logistics/cash/balances.html",
        {"rows": rows, "day": day, "form": AdvanceForm(), "total": sum((r.end for r in rows), start=0),
         **_day_links(day)},
    )


@login_required
@require_POST
def cash_advance_page(request):
    if not roles.is_county_office(request.user):
        raise PermissionDenied
    form = AdvanceForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            advance = cash_advance_record(point=d["point"], kind=d["kind"], amount=d["amount"], note=d["note"], author=request.user)
        except DomainError as exc:
            form.add_error("amount" if getattr(exc, "field", None) == "amount" else None, exc.message)
        else:
            messages.success(request, _("Recorded: %(entry)s.") % {"entry": f"{advance.get_kind_display()} ¥{advance.amount:,.2f} · {advance.point.name}"})
            return HttpResponseRedirect(reverse("cash-sheet") + "?" + urlencode({"point": advance.point.code}))
    day = timezone.localdate()
    rows = cash_balances(day=day)
    return render(
        request, "logistics/cash/balances.html",
        {"rows": rows, "day": day, "form": form, "total": sum((r.end for r in rows), start=0), **_day_links(day)}, status=400,
    )


urlpatterns = [
    path("intake/cash/", cash_sheet_page, name="cash-sheet"),
    path("cash/", cash_balances_page, name="cash-balances"),
    path("cash/advance/", cash_advance_page, name="cash-advance"),
]
