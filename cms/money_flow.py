"""The public money-flow page ``/money-flow/``: 钱从哪里来、拨到哪里去 — allocations granted and
spent, sales, what reached households (intake payments and dividends), by township and month,
and how many households were reached. Aggregates only, read from the snapshot a task refreshes
(marketplace.settlement.money_flow); the same figures are JSON at /api/v1/public/money-flow/."""

from __future__ import annotations

from decimal import Decimal

from django.shortcuts import render
from django.urls import path
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from households.models import SalesChannel
from households.reports.charts import bar_chart_svg
from lovepoints.selectors import township_totals as love_points_by_township
from marketplace.settlement.money_flow import money_flow_latest


def money_flow_page(request):
    data = money_flow_latest()
    paid = [(t["township"], Decimal(t["intake"]) + Decimal(t["dividend"])) for t in data["by_township"]]
    months = [(m["month"], Decimal(m["intake"]) + Decimal(m["dividend"]) + Decimal(m["sales"])) for m in data["by_month"][-12:]]
    charts = [
        bar_chart_svg(paid, title=_("Paid to households, by township")),
        bar_chart_svg(months, title=_("Reaching households, by month")),
    ]
    as_of = parse_datetime(data.get("as_of") or data.get("computed_at") or "")
    flows = data.get("channels") or {}  # snapshots taken before channels existed have none
    channels = [
        {"label": label, "net": flows[f"{c}_net"], "attributed": flows.get(f"{c}_attributed")}
        for c, label in SalesChannel.choices if f"{c}_net" in flows
    ]
    return render(request, "cms/money_flow.html", {
        "flow": data, "as_of": as_of, "charts": charts, "love_points": love_points_by_township(), "channels": channels,
    })


urlpatterns = [path("money-flow/", money_flow_page, name="money-flow")]
