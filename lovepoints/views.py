"""The love-points screens (phone first: village staff work from a phone at the village office).

``/love-points/``                         the village's (or the county's) start page
``/love-points/review/<YYYY-MM>/``         the month's review: every household in one list, categories ticked, a note
``/love-points/approvals/``                the county office approves (or sends back) submitted months
``/love-points/redeem/``                   find the household (or scan its card), pick goods, points deducted
``/love-points/goods/``                    the village's goods: stock, goods in, new items
``/love-points/goods/stocktake/``          count the goods and post the differences
``/love-points/card/<number>/``            a household's love-points card (printable, with its QR code)
``/love-points/board/<YYYY-MM>/``          善行义举榜: households by points in the month
``/love-points/report/``                   the county: per village and month, with Excel

Every page takes its scope from ``lovepoints.access``; another village's household or item is 404.
"""

from __future__ import annotations

import datetime
import unicodedata
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import DomainError
from core.parsing import InvalidInput, parse_int

from . import access, selectors, services
from .models import Award, GoodsItem, ReviewMonth, RuleSet

MAX_QUANTITY = 9999


def _int(value, *, default=None, lo=0, hi=MAX_QUANTITY):
    """A whole number typed on a phone (full-width digits allowed, read by core.parsing); None for
    anything else, ``default`` when empty."""
    if value is None or not str(value).strip():
        return default
    try:
        return parse_int(value, min_value=lo, max_value=hi)
    except InvalidInput:
        return None


def _month_or_404(text: str) -> datetime.date:
    try:
        return services.month_of(text)
    except DomainError:
        raise Http404(_("No such month.")) from None


def _forbidden(request):
    return render(request, "lovepoints/forbidden.html", status=403)


def love_points_required(view):
    """Signed in (else to the sign-in page) and a village's staff or the county office (else 403)."""

    @login_required
    def wrapped(request, *args, **kwargs):
        if not access.may_use(request.user):
            return _forbidden(request)
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _village_for(request):
    """The village a page is about: village staff their own; the county office by ``?village=code``."""
    if access.is_county_office(request.user):
        code = str(request.GET.get("village", ""))[:15]
        return access.villages_visible_to(request.user).filter(code=code).first() if code else None
    return access.village_of(request.user)


@love_points_required
def home(request):
    today = services.county_today()
    month = today.replace(day=1)
    context = {"month": month, "is_county": access.is_county_office(request.user)}
    village = access.village_of(request.user)
    if village is not None:
        context.update({
            "village": village,
            "review": ReviewMonth.objects.filter(village=village, month=month).first(),
            "reviews": selectors.recent_reviews(village),
            "redemptions": selectors.recent_redemptions(village, limit=5),
        })
    if context["is_county"]:
        context["awaiting"] = selectors.months_awaiting_approval(request.user)
        context["villages"] = access.villages_visible_to(request.user).order_by("code")
    return render(request, "lovepoints/home.html", context)


@love_points_required
@require_http_methods(["GET", "POST"])
def review(request, month: str):
    """The month's review for the village: tick categories per household, add a note, save; submit
    for approval when done. Saving is all-or-nothing: any refusal shows every problem and writes nothing."""
    village = access.village_of(request.user)
    if village is None:
        return _forbidden(request)
    month_day = _month_or_404(month)
    review_obj = ReviewMonth.objects.filter(village=village, month=month_day).select_related("rule_set").first()
    try:
        rule_set = review_obj.rule_set if review_obj else services.rule_set_in_force(month_day)
    except DomainError as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(reverse("lovepoints:home"))
    sheet = selectors.review_sheet(review=review_obj, village=village, month=month_day, rule_set=rule_set)
    errors: list[str] = []
    typed: dict | None = None
    if request.method == "POST":
        if "submit" in request.POST and review_obj is not None:
            try:
                services.review_submit(review=review_obj, author=request.user)
            except DomainError as exc:
                errors.append(exc.message)
            else:
                messages.success(request, _("%(month)s submitted to the county office for approval.") % {"month": month_day.strftime("%Y-%m")})
                return HttpResponseRedirect(reverse("lovepoints:review", args=[month]))
        else:
            typed = _typed_review(request.POST, sheet)
            errors = _save_review(request.user, month_day, sheet, typed)
            if not errors:
                messages.success(request, _("The review of %(month)s is saved.") % {"month": month_day.strftime("%Y-%m")})
                return HttpResponseRedirect(reverse("lovepoints:review", args=[month]))
    rows = sheet["rows"]
    for row in rows:
        hid = row["household"].pk
        ticked = typed["ticks"].get(hid, set()) if typed else {c for c, p in row["awarded"].items() if p > 0}
        row["cells"] = [{"category": c, "checked": c.pk in ticked, "name": f"c-{hid}-{c.pk}"} for c in sheet["categories"]]
        row["note_value"] = typed["notes"].get(hid, "") if typed else row["note"]
    return render(request, "lovepoints/review.html", {
        "village": village, "month": month_day, "month_text": month_day.strftime("%Y-%m"), "review": review_obj, "rule_set": rule_set,
        "categories": sheet["categories"], "rows": rows, "errors": errors,
        "editable": review_obj is None or review_obj.status == ReviewMonth.Status.OPEN,
        "previous": (month_day - datetime.timedelta(days=1)).replace(day=1).strftime("%Y-%m"),
        "next": (month_day + datetime.timedelta(days=32)).replace(day=1).strftime("%Y-%m") if month_day < services.county_today().replace(day=1) else None,
    }, status=400 if errors else 200)


def _typed_review(post, sheet) -> dict:
    ticks: dict[int, set[int]] = {}
    notes: dict[int, str] = {}
    for row in sheet["rows"]:
        hid = row["household"].pk
        ticks[hid] = {c.pk for c in sheet["categories"] if post.get(f"c-{hid}-{c.pk}")}
        notes[hid] = str(post.get(f"note-{hid}", "")).replace("\x00", "").strip()[:200]
    return {"ticks": ticks, "notes": notes}


def _save_review(user, month_day, sheet, typed) -> list[str]:
    """Award what is newly ticked, correct what was unticked — all or nothing."""
    errors: list[str] = []
    awards_by_key = {}
    review_obj = ReviewMonth.objects.filter(village=access.village_of(user), month=month_day).first()
    if review_obj is not None:
        for award in Award.objects.filter(review=review_obj, reverses__isnull=True, reversed_by__isnull=True):
            awards_by_key[(award.household_id, award.category_id)] = award
    try:
        with transaction.atomic():
            for row in sheet["rows"]:
                household, hid = row["household"], row["household"].pk
                wanted, had = typed["ticks"][hid], {c for c, p in row["awarded"].items() if p > 0}
                for category_id in sorted(had - wanted):
                    try:
                        services.award_reverse(award=awards_by_key[(hid, category_id)], reason=_("Corrected in the village review"), author=user)
                    except (DomainError, KeyError) as exc:
                        errors.append(f"{household.head_name}: {getattr(exc, 'message', exc)}")
                for category in sheet["categories"]:
                    if category.pk in wanted - had:
                        try:
                            services.award_record(author=user, household=household, month=month_day, category_code=category.code,
                                                  note=typed["notes"][hid])
                        except DomainError as exc:
                            errors.append(exc.message)
            if errors:
                raise _Rollback
    except _Rollback:
        pass
    return errors


class _Rollback(Exception):
    pass


@love_points_required
@require_http_methods(["GET", "POST"])
def approvals(request):
    if not access.is_county_office(request.user):
        return _forbidden(request)
    if request.method == "POST":
        review_obj = get_object_or_404(ReviewMonth, pk=_int(request.POST.get("review"), hi=2**31 - 1) or 0)
        try:
            if request.POST.get("action") == "return":
                services.review_return(review=review_obj, author=request.user)
                messages.success(request, _("%(review)s was sent back to the village.") % {"review": review_obj})
            else:
                points = services.review_approve(review=review_obj, author=request.user)
                messages.success(request, _("%(review)s approved: %(points)s points credited.") % {"review": review_obj, "points": points})
        except DomainError as exc:
            messages.error(request, exc.message)
        return HttpResponseRedirect(reverse("lovepoints:approvals"))
    return render(request, "lovepoints/approvals.html", {"awaiting": selectors.months_awaiting_approval(request.user)})


@love_points_required
@require_http_methods(["GET", "POST"])
def redeem(request):
    """Find the household (by number, name or its card's QR), pick goods, deduct the points."""
    village = access.village_of(request.user)
    if village is None:
        return _forbidden(request)
    query = unicodedata.normalize("NFKC", str(request.GET.get("q", ""))).replace("\x00", "").strip()[:30]
    number = str(request.GET.get("household") or request.POST.get("household") or "").strip()[:20]
    household = access.households_visible_to(request.user).filter(number=number).first() if number else None
    if number and household is None:
        raise Http404(_("No such household in your village."))
    matches = []
    if query and household is None:
        matches = list(access.households_visible_to(request.user).filter(head_name__contains=query)[:20]) or list(
            access.households_visible_to(request.user).filter(number__endswith=query)[:20])
    items = list(GoodsItem.objects.filter(village=village, active=True).order_by("name"))
    errors: list[str] = []
    quantities: dict[int, str] = {}
    if request.method == "POST" and household is not None:
        lines = []
        for item in items:
            raw = request.POST.get(f"q-{item.pk}", "")
            quantities[item.pk] = str(raw)[:6]
            qty = _int(raw, default=0)
            if qty is None:
                errors.append(_("%(item)s: the quantity must be a whole number from 0 to %(max)s.") % {"item": item.name, "max": MAX_QUANTITY})
            elif qty:
                lines.append((item.pk, qty))
        if not lines and not errors:
            errors.append(_("Choose at least one item."))
        if not errors:
            try:
                redemption, _created = services.redemption_record(author=request.user, household=household, lines=lines,
                                                                  client_id=request.POST.get("client_id"))
            except DomainError as exc:
                errors.extend(exc.problems or [exc.message])
            else:
                balance = selectors.household_points(household)["balance"]
                messages.success(request, _("%(name)s took goods for %(points)s points; %(balance)s points left.")
                                 % {"name": household.head_name, "points": redemption.points, "balance": balance})
                return HttpResponseRedirect(reverse("lovepoints:redeem") + f"?household={household.number}")
    return render(request, "lovepoints/redeem.html", {
        "village": village, "query": query, "matches": matches, "household": household,
        "points": selectors.household_points(household) if household else None,
        "items": [{"item": i, "value": quantities.get(i.pk, "")} for i in items], "errors": errors,
        "client_id": request.POST.get("client_id") if errors else uuid.uuid4(),
    }, status=400 if errors else 200)


@love_points_required
@require_http_methods(["GET", "POST"])
def goods(request):
    village = _village_for(request)
    if village is None:
        if access.is_county_office(request.user):
            return render(request, "lovepoints/choose_village.html", {"villages": access.villages_visible_to(request.user).order_by("code"),
                                                                      "target": reverse("lovepoints:goods")})
        return _forbidden(request)
    errors: list[str] = []
    form = {k: str(v)[:60] for k, v in request.POST.items() if k != "csrfmiddlewaretoken"} if request.method == "POST" else {}
    if request.method == "POST":
        try:
            if request.POST.get("action") == "new":
                price = _int(request.POST.get("points_price"), lo=1, hi=100000)
                if price is None:
                    raise services.LovePointsError(_("The price in points must be a whole number of at least 1."))
                item = services.goods_item_create(author=request.user, name=request.POST.get("name", ""), unit=request.POST.get("unit", ""),
                                                  points_price=price, village=village)
                messages.success(request, _("%(item)s added.") % {"item": item.name})
            else:
                item = GoodsItem.objects.filter(village=village, pk=_int(request.POST.get("item"), hi=2**31 - 1) or 0).first()
                quantity = _int(request.POST.get("quantity"), lo=1)
                if item is None:
                    raise services.LovePointsError(_("Choose the item received."))
                if quantity is None:
                    raise services.LovePointsError(_("The quantity received must be a whole number from 1 to %(max)s.") % {"max": MAX_QUANTITY})
                services.goods_receive(author=request.user, item=item, quantity=quantity, note=request.POST.get("note", ""))
                messages.success(request, _("%(quantity)s %(unit)s of %(item)s received.") % {"quantity": quantity, "unit": item.unit, "item": item.name})
        except DomainError as exc:
            errors.append(exc.message)
        else:
            return HttpResponseRedirect(request.get_full_path())
    return render(request, "lovepoints/goods.html", {
        "village": village, "items": GoodsItem.objects.filter(village=village).order_by("name"), "errors": errors, "form": form,
    }, status=400 if errors else 200)


@love_points_required
@require_http_methods(["GET", "POST"])
def stocktake(request):
    village = _village_for(request)
    if village is None:
        return _forbidden(request) if not access.is_county_office(request.user) else render(
            request, "lovepoints/choose_village.html",
            {"villages": access.villages_visible_to(request.user).order_by("code"), "target": reverse("lovepoints:stocktake")})
    items = list(GoodsItem.objects.filter(village=village).order_by("name"))
    errors: list[str] = []
    typed: dict[int, str] = {}
    if request.method == "POST":
        counts = {}
        for item in items:
            raw = request.POST.get(f"count-{item.pk}", "")
            typed[item.pk] = str(raw)[:6]
            if str(raw).strip() == "":
                continue
            counted = _int(raw)
            if counted is None:
                errors.append(_("%(item)s: the count must be a whole number from 0 to %(max)s.") % {"item": item.name, "max": MAX_QUANTITY})
            else:
                counts[item.pk] = counted
        if not errors:
            try:
                posted = services.goods_stocktake(author=request.user, village=village, counts=counts, note=request.POST.get("note", ""))
            except DomainError as exc:
                errors.extend(exc.problems or [exc.message])
            else:
                messages.success(request, _("Stock-take posted: %(n)s difference(s).") % {"n": len(posted)})
                return HttpResponseRedirect(request.get_full_path())
    return render(request, "lovepoints/stocktake.html", {
        "village": village, "items": [{"item": i, "value": typed.get(i.pk, "")} for i in items], "errors": errors,
    }, status=400 if errors else 200)


@love_points_required
def card(request, number: str):
    household = access.household_for(request.user, number)
    redeem_url = request.build_absolute_uri(reverse("lovepoints:redeem") + f"?household={household.number}")
    import segno

    qr_svg = segno.make(redeem_url, error="m").svg_inline(scale=4, dark="#1d2a1f")
    return render(request, "lovepoints/card.html", {
        "household": household, "points": selectors.household_points(household), "history": selectors.household_history(household),
        "qr_svg": qr_svg, "redeem_url": redeem_url,
    })


@love_points_required
def board(request, month: str):
    month_day = _month_or_404(month)
    village = _village_for(request)
    if village is None:
        if access.is_county_office(request.user):
            return render(request, "lovepoints/choose_village.html", {"villages": access.villages_visible_to(request.user).order_by("code"),
                                                                      "target": reverse("lovepoints:board", args=[month])})
        return _forbidden(request)
    review_obj = ReviewMonth.objects.filter(village=village, month=month_day).first()
    return render(request, "lovepoints/board.html", {
        "village": village, "month": month_day, "review": review_obj, "board": selectors.village_board(village=village, month=month_day),
        "previous": (month_day - datetime.timedelta(days=1)).replace(day=1).strftime("%Y-%m"),
    })


def _report_year(request) -> int | None:
    year = _int(request.GET.get("year"), default=services.county_today().year, lo=2000, hi=2100)
    return year


@love_points_required
def report(request):
    if not access.is_county_office(request.user):
        return _forbidden(request)
    year = _report_year(request)
    if year is None:
        return render(request, "lovepoints/report.html", {"errors": [_("The year must be between 2000 and 2100.")], "rows": [], "year": ""},
                      status=400)
    rows = selectors.county_report(user=request.user, year=year)
    totals = {k: sum(r[k] for r in rows) for k in ("awarded", "redeemed", "goods_out")}
    return render(request, "lovepoints/report.html", {"rows": rows, "year": year, "totals": totals})


@love_points_required
def report_xlsx(request):
    if not access.is_county_office(request.user):
        return _forbidden(request)
    year = _report_year(request)
    if year is None:
        return HttpResponse(_("The year must be between 2000 and 2100."), status=400, content_type="text/plain; charset=utf-8")
    from .excel import county_report_workbook

    body = county_report_workbook(selectors.county_report(user=request.user, year=year), year=year)
    response = HttpResponse(body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="love-points-{year}.xlsx"'
    return response


@love_points_required
@require_POST
def award_correct(request, pk: int):
    """Correct one award (a reversing entry with a reason): the county office after approval."""
    award = Award.objects.filter(pk=pk, review__village__in=access.villages_visible_to(request.user)).select_related("household").first()
    if award is None:
        raise Http404
    try:
        services.award_reverse(award=award, reason=request.POST.get("reason", ""), author=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The award was corrected."))
    return HttpResponseRedirect(reverse("lovepoints:card", args=[award.household.number]))


@love_points_required
@require_http_methods(["GET", "POST"])
def rules(request):
    """The county's rules: the ones in force and new ones from a date."""
    if not access.is_county_office(request.user):
        return _forbidden(request)
    errors: list[str] = []
    typed = {k: str(v)[:40] for k, v in request.POST.items()} if request.method == "POST" else {}
    if request.method == "POST":
        try:
            effective = datetime.date.fromisoformat(str(request.POST.get("effective_from", "")).strip()[:10])
            if not 2000 <= effective.year <= 2100:
                raise ValueError
        except ValueError:
            errors.append(_("Give the date the rules take effect, as YYYY-MM-DD."))
            effective = None
        cap = _int(request.POST.get("monthly_cap"), lo=1, hi=100000)
        if cap is None:
            errors.append(_("The monthly cap must be a whole number of at least 1."))
        categories = []
        for i in range(RULE_ROWS):
            code = str(request.POST.get(f"code-{i}", "")).strip()[:30]
            name = str(request.POST.get(f"name-{i}", "")).replace("\x00", "").strip()[:40]
            raw_points = request.POST.get(f"points-{i}", "")
            if not (code or name or str(raw_points).strip()):
                continue
            points = _int(raw_points, lo=1, hi=100000)
            if not code or not code.isascii() or not code.replace("-", "").replace("_", "").isalnum() or not name or points is None:
                errors.append(_("Category row %(n)s needs a code (letters, digits, -), a name and points of at least 1.") % {"n": i + 1})
                continue
            categories.append((code, name, points))
        if not errors:
            try:
                services.rule_set_create(effective_from=effective, monthly_cap=cap, categories=categories, author=request.user)
            except DomainError as exc:
                errors.extend(exc.problems or [exc.message])
            else:
                messages.success(request, _("New rules saved from %(date)s.") % {"date": effective.isoformat()})
                return HttpResponseRedirect(reverse("lovepoints:rules"))
    return render(request, "lovepoints/rules.html", {
        "rule_sets": RuleSet.objects.prefetch_related("categories")[:10], "errors": errors, "typed": typed,
        "rows": [{"i": i, "code": typed.get(f"code-{i}", ""), "name": typed.get(f"name-{i}", ""), "points": typed.get(f"points-{i}", "")}
                 for i in range(RULE_ROWS)],
    }, status=400 if errors else 200)


RULE_ROWS = 8
