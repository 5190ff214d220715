"""The intake screens of a collection point (mobile first; staff are on a phone at the scale).

``/intake/``                      find the household, pick produce and grade, weigh, record
``/intake/today/``                the point's intakes of a day with totals
``/intake/<lot>/receipt/``        the receipt (收购凭证), printable, with the void form while allowed
``/intake/<lot>/void/``           POST: void with a reason
``/intake/sw.js``                 the service worker that keeps ``/intake/`` working offline
``/intake/manifest.webmanifest``  makes the intake page installable on the phone's home screen

The pages work without JavaScript; ``logistics/intake.js`` adds a live household search, the
price and amount as you type, and hides grades the chosen produce does not have;
``logistics/intake-offline.js`` keeps intakes made without a network in the phone (IndexedDB)
and uploads each once through ``POST /api/v1/intakes/`` (its ``client_id`` and ``recorded_at``)
when the network returns.
"""

from __future__ import annotations

import datetime
import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from core import roles
from core.errors import DomainError
from core.form_errors import FormErrors
from core.money import jin_to_kg, kg_to_jin, line_amount, price_per_jin
from core.money import kg as kg_rounded
from core.parsing import query_date, query_text, safe_decimal_or_none
from core.personal_data import Action, personal_data_access_record
from households.models import Household

from .selectors.intake import (
    household_picker_list,
    intake_for_user,
    intakes_of_day,
    last_intake_by,
    price_board,
    produce_with_grades,
    recent_households,
)
from .services.intake import (
    IntakeConflict,
    collection_point_of,
    intake_can_be_voided_by,
    intake_lot_still_at_point,
    intake_record,
    intake_void,
    served_village_ids,
)

SEARCH_LIMIT = 20
# the summary box links each problem to the input (or group of choices) it is about
FIELD_ANCHORS = {"household": "household-field", "produce": "produce-field", "grade": "grade-field", "weight": "weight", "unit": "weight"}


class IntakeForm(forms.Form):
    client_id = forms.UUIDField(widget=forms.HiddenInput)
    household = forms.CharField(max_length=20, error_messages={"required": gettext_lazy("Choose the household.")})
    produce = forms.CharField(max_length=20, error_messages={"required": gettext_lazy("Choose the produce.")})
    grade = forms.CharField(max_length=12, error_messages={"required": gettext_lazy("Choose the grade.")})
    weight = forms.CharField(max_length=20, error_messages={"required": gettext_lazy("Enter the weight.")})
    unit = forms.ChoiceField(choices=[("jin", gettext_lazy("jin (斤)")), ("kg", "kg")], initial="jin")


class VoidForm(forms.Form):
    reason = forms.CharField(max_length=200, error_messages={"required": gettext_lazy("Give the reason for the void.")})


def _forbidden(request):
    return render(request, "logistics/intake/forbidden.html", status=403)


def _price_map(board) -> dict:
    prices: dict = {}
    for line in board:
        prices.setdefault(line.produce_code, {})[line.grade_code] = {"kg": f"{line.price_per_kg:.2f}", "jin": f"{line.price_per_jin:.2f}"}
    return prices


def _household_choices(request, point, *, selected_number: str, query: str) -> tuple[list[Household], Household | None]:
    """Options of the household radios: the selected one, then search results or the recent ones."""
    selected = None
    if selected_number:
        selected = (
            Household.objects.select_related("village")
            .filter(number=selected_number, village_id__in=served_village_ids(point))
            .first()
        )
    if query:
        found = list(household_picker_list(user=request.user, filters={"search": query})[:SEARCH_LIMIT])
    else:
        found = recent_households(point=point)
    options = [selected] if selected else []
    options += [h for h in found if not selected or h.pk != selected.pk]
    return options, selected


def _preview(form_data: dict, prices: dict) -> dict | None:
    """Weight, price and amount the page shows before recording (the no-JS preview)."""
    raw = safe_decimal_or_none(form_data.get("weight", ""), max_digits=10, places=3, round_places=True)
    try:
        price = prices[form_data.get("produce", "")][form_data.get("grade", "")]
    except (KeyError, TypeError):
        return None
    if raw is None:
        return None
    weight = jin_to_kg(raw) if form_data.get("unit", "jin") == "jin" else kg_rounded(raw)
    if weight <= 0:
        return None
    return {"weight_kg": weight, "amount": line_amount(weight, price["kg"])}


@login_required
@require_http_methods(["GET", "POST"])
def intake_page(request):
    point = collection_point_of(request.user)
    if point is None:
        return _forbidden(request)
    board = price_board()
    prices = _price_map(board)

    if request.method == "POST":
        form = IntakeForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            weight_key = "weight_jin" if d["unit"] == "jin" else "weight_kg"
            try:
                intake, created = intake_record(
                    staff=request.user,
                    client_id=d["client_id"],
                    household_number=d["household"],
                    produce_code=d["produce"],
                    grade_code=d["grade"],
                    **{weight_key: d["weight"]},
                )
            except IntakeConflict as exc:
                form.add_error(None, exc.message)
                form.data = form.data.copy()
                form.data["client_id"] = str(uuid.uuid4())  # this id is spent: the next submit is a new intake
            except DomainError as exc:
                field = getattr(exc, "field", None)
                form.add_error(field if field in form.fields else None, exc.message)
            else:
                if not created:
                    messages.info(request, _("This intake was already recorded; here is its receipt."))
                return HttpResponseRedirect(reverse("intake-receipt", args=[intake.lot.code]))
        selected_number = query_text(request.POST, "household", max_length=20)
        query = query_text(request.POST, "q")
        values = {k: request.POST.get(k, "") for k in ("produce", "grade", "unit", "weight")}
    else:
        last = last_intake_by(staff=request.user, point=point)
        initial = {"client_id": uuid.uuid4(), "unit": "jin"}
        if last is not None:
            initial.update(produce=last.grade.produce.code, grade=last.grade.code)
        elif board:
            initial.update(produce=board[0].produce_code, grade=board[0].grade_code)
        selected_number = query_text(request.GET, "household", max_length=20)
        query = query_text(request.GET, "q")
        if selected_number:
            initial["household"] = selected_number
        form = IntakeForm(initial=initial)
        values = {k: initial.get(k, "") for k in ("produce", "grade", "unit")} | {"weight": ""}

    options, selected = _household_choices(request, point, selected_number=selected_number, query=query)
    # The options show ID numbers (shown_id): in full only to the county office (a county user
    # assigned to a point), and then the log names them.
    personal_data_access_record(request=request, action=Action.VIEW, households=[h.number for h in options])
    _day_list, totals = intakes_of_day(point=point)
    errors = FormErrors.of(form, anchors=FIELD_ANCHORS)
    return render(
        request,
        "logistics/intake/page.html",
        {
            "point": point,
            "form": form,
            "values": values,
            "query": query,
            "households": options,
            "selected_household": selected,
            "selected_number": selected.number if selected else "",
            "searched": bool(query),
            "produce_grades": [(p, [g for g in grades if g.code in prices.get(p.code, {})]) for p, grades in produce_with_grades()],
            "grade_codes": _grade_codes(board),
            "board": board,
            "prices": prices,
            "preview": _preview(values, prices),
            "today": _day_list[:5],
            "totals": totals,
            "errors": errors,
            # a repeat household ("same household again") goes straight to the weight
            "focus_weight": selected is not None and not errors,
        },
        status=200,
    )


def _grade_codes(board) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    ranks: dict[str, tuple] = {}
    for line in board:
        seen.setdefault(line.grade_code, line.grade_name)
    order = {"premium": 0, "grade1": 1, "grade2": 2}
    for code in seen:
        ranks[code] = (order.get(code, 9), code)
    return sorted(seen.items(), key=lambda kv: ranks[kv[0]])


@login_required
def intake_today(request):
    point = collection_point_of(request.user)
    if point is None:
        return _forbidden(request)
    day = query_date(request.GET, "date", default=timezone.localdate())
    intakes, totals = intakes_of_day(point=point, day=day)
    return render(
        request,
        "logistics/intake/today.html",
        {
            "point": point,
            "day": day,
            "intakes": intakes,
            "totals": totals,
            "previous_day": day - datetime.timedelta(days=1),
            "next_day": day + datetime.timedelta(days=1) if day < timezone.localdate() else None,
        },
    )


def _receipt_context(request, intake, void_form=None) -> dict:
    voided = intake.void if hasattr(intake, "void") else None
    can_void = voided is None and intake_can_be_voided_by(request.user, intake) and intake_lot_still_at_point(intake)
    return {
        "intake": intake,
        "voided": voided,
        "can_void": can_void,
        "void_form": void_form or VoidForm(),
        "weight_jin": kg_to_jin(intake.weight_kg),
        "price_per_jin": price_per_jin(intake.unit_price),
        "is_point_staff": collection_point_of(request.user) is not None,
    }


def _may_see_receipts(user) -> bool:
    return collection_point_of(user) is not None or roles.is_county_office(user)


@login_required
def intake_receipt(request, lot_code: str):
    if not _may_see_receipts(request.user):
        return _forbidden(request)
    intake = intake_for_user(user=request.user, lot_code=lot_code)
    if intake is None:
        raise Http404(_("No such intake."))
    return render(request, "logistics/intake/receipt.html", _receipt_context(request, intake))


@login_required
@require_POST
def intake_void_view(request, lot_code: str):
    if not _may_see_receipts(request.user):
        return _forbidden(request)
    intake = intake_for_user(user=request.user, lot_code=lot_code)
    if intake is None:
        raise Http404(_("No such intake."))
    form = VoidForm(request.POST)
    if form.is_valid():
        try:
            intake_void(intake=intake, reason=form.cleaned_data["reason"], author=request.user)
        except DomainError as exc:
            if exc.status == 403:
                return _forbidden(request)
            form.add_error("reason" if getattr(exc, "field", None) == "reason" else None, exc.message)
        else:
            messages.success(request, _("Intake %(lot)s was voided; the payment entry was reversed.") % {"lot": lot_code})
            return HttpResponseRedirect(reverse("intake-receipt", args=[lot_code]))
    intake = intake_for_user(user=request.user, lot_code=lot_code)
    return render(request, "logistics/intake/receipt.html", _receipt_context(request, intake, form), status=400)


# bump when the shell's files change shape; the worker drops caches of other versions
INTAKE_SHELL_VERSION = "intake-shell-v1"


def intake_service_worker(request):
    """The service worker, served from /intake/ so that its scope covers the intake page. Public:
    it is code and file names, no data (a signed-out phone must still be able to update it)."""
    body = render_to_string("logistics/intake/sw.js", {
        "version": INTAKE_SHELL_VERSION,
        "shell": [reverse("intake"), reverse("intake-manifest"), static("css/site.css"), static("logistics/intake.js"),
                  static("logistics/intake-offline.js"), static("logistics/icons/intake-192.png")],
        "page": reverse("intake"),
        "households_api": reverse("api-household-picker"),
    })
    response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"  # the browser checks for a new worker on every visit
    response["Service-Worker-Allowed"] = reverse("intake")
    return response


def intake_manifest(request):
    """Web app manifest: 收购 on the home screen opens the intake page full-screen."""
    data = {
        "name": _("Intake at the collection point"),
        "short_name": _("Intake"),
        "start_url": reverse("intake"),
        "scope": reverse("intake"),
        "display": "standalone",
        "background_color": "#f7f5ef",
        "theme_color": "#2e7d32",
        "lang": "zh-CN",
        "icons": [
            {"src": static("logistics/icons/intake-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("logistics/icons/intake-512.png"), "sizes": "512x512", "type": "image/png"},
            {"src": static("logistics/icons/intake.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json"
    return response


urlpatterns = [
    path("intake/", intake_page, name="intake"),
    path("intake/sw.js", intake_service_worker, name="intake-sw"),
    path("intake/manifest.webmanifest", intake_manifest, name="intake-manifest"),
    path("intake/today/", intake_today, name="intake-today"),
    path("intake/<str:lot_code>/receipt/", intake_receipt, name="intake-receipt"),
    path("intake/<str:lot_code>/void/", intake_void_view, name="intake-void"),
]
