"""County office pages: the income report (totals per township / village / class, ranking, charts,
Excel) and each household's income page with the codes behind every amount. Other roles: 403."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from core.roles import is_county_office

from ..access import households_visible_to
from ..extensions import household_figures
from ..models import IncomeKind
from . import selectors
from .charts import bar_chart_svg
from .excel import workbook_response
from .templating import render

KIND_LABELS = dict(IncomeKind.choices)


def county_office_required(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_county_office(request.user):
            raise PermissionDenied(_("Only the county office sees household income."))
        return view(request, *args, **kwargs)

    return wrapped


def _money_headers() -> list[str]:
    return [str(KIND_LABELS["intake"]), str(KIND_LABELS["sales"]), str(KIND_LABELS["dividend"]), _("Total")]


def _money(row: dict) -> list:
    return [row["intake"], row["sales"], row["dividend"], row["total"]]


@county_office_required
def income_report(request):
    filters = request.GET.copy()
    filterset = selectors.IncomeReportFilterSet(filters)
    filterset.is_valid()
    export = request.GET.get("format") == "xlsx"
    with selectors.one_version():  # the page's tables read one state of the ledger and registry
        report = selectors.income_report(filters=filters, limit=None if export else 100)
        months = selectors.income_by_month(filters=filters)
        produce = selectors.income_by_produce(filters=filters)
        channels = selectors.income_by_channel(filters=filters)
        published = selectors.income_published_now()
    townships, villages, classes = report["township"], report["village"], report["labour_class"]
    ranked, totals = report["ranked"], report["totals"]

    if export:
        hh = _("Households")
        sheets = [
            (_("By township"), [_("Township"), hh, *_money_headers()], [[r["label"], r["households"], *_money(r)] for r in townships]),
            (_("By village"), [_("Village"), hh, *_money_headers()], [[r["label"], r["households"], *_money(r)] for r in villages]),
            (_("By class"), [_("Class"), hh, *_money_headers()], [[r["label"], r["households"], *_money(r)] for r in classes]),
            (_("Ranking"), [_("Registry number"), _("Head of household"), _("Township"), _("Village"), *_money_headers()],
             [[r["household__number"], r["household__head_name"], r["household__village__township__name"],
               r["household__village__name"], *_money(r)] for r in ranked]),
            (_("By month"), [_("Month"), *_money_headers()], [[r["month"].strftime("%Y-%m"), *_money(r)] for r in months]),
            (_("By produce"), [_("Produce"), *_money_headers()], [[r["produce_label"], *_money(r)] for r in produce]),
            (_("By sales channel"), [_("Sales channel"), str(KIND_LABELS["sales"])],
             [[r["label"], r["sales"]] for r in channels]),
        ]
        return workbook_response("income-report.xlsx", sheets)

    charts = [
        bar_chart_svg([(r["month"].strftime("%Y-%m"), r["total"]) for r in months], title=_("Income by month")),
        bar_chart_svg([(r["label"], r["total"]) for r in townships], title=_("Income by township")),
        bar_chart_svg([(r["produce_label"], r["total"]) for r in produce], title=_("Income by produce")),
    ]
    return render(request, "households/reports/income_report.html", {
        "filterset": filterset, "townships": townships, "villages": villages, "classes": classes, "ranked": ranked,
        "months": months, "produce": produce, "channels": channels, "totals": totals, "charts": charts, "kind_labels": KIND_LABELS,
        "query": request.GET.urlencode(), "published": published,
    })


@county_office_required
def household_income(request, number: str):
    household = get_object_or_404(households_visible_to(request.user).select_related("village__township"), number=number)
    entries = list(selectors.household_income_entries(household=household)[:1000])
    names = selectors.produce_names()
    for e in entries:
        e.sources = selectors.entry_sources(e)
        e.kind_label = KIND_LABELS.get(e.kind, e.kind)
        e.produce_label = names.get(e.produce, e.produce or "-")
    summary = selectors.household_income_summary(household=household)
    if request.GET.get("format") == "xlsx":
        return workbook_response(f"income-{household.number}.xlsx", [
            (_("By month"), [_("Month"), *_money_headers()],
             [[r["month"].strftime("%Y-%m"), *_money(r)] for r in summary["by_month"]]),
            (_("By produce"), [_("Produce"), *_money_headers()], [[r["produce_label"], *_money(r)] for r in summary["by_produce"]]),
            (_("By sales channel"), [_("Sales channel"), str(KIND_LABELS["sales"])],
             [[r["label"], r["sales"]] for r in summary["by_channel"]]),
            (_("Entries"), [_("Date"), _("Kind"), _("Amount"), _("Produce"), _("Lot"), _("Batch"), _("Order"), _("Settlement run"),
                            _("Reason")],
             [[e.date.isoformat(), str(e.kind_label), e.amount, e.produce_label, e.sources["lot"], e.sources["batch"],
               e.sources["order"], e.sources["run"], e.reason] for e in entries]),
        ])
    charts = [
        bar_chart_svg([(r["month"].strftime("%Y-%m"), r["total"]) for r in summary["by_month"]], title=_("Income by month")),
        bar_chart_svg([(r["produce_label"], r["total"]) for r in summary["by_produce"]], title=_("Income by produce")),
    ]
    return render(request, "households/reports/household_income.html", {
        "household": household, "entries": entries, "summary": summary, "charts": charts, "kind_labels": KIND_LABELS,
        "figures": household_figures(household),
    })
