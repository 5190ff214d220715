"""Love points beside the rest: the household's income page shows its balance, the public money
flow shows only totals per township, and the watch list lists households without points once
the county switches that on."""

from __future__ import annotations

import datetime

import pytest

from households.models import WatchListEntry
from households.reports.watch import watch_list_compute
from lovepoints.models import LovePointsSettings
from tests.lovepoints.factories import last_month, world

pytestmark = pytest.mark.django_db


def test_the_household_income_page_shows_its_love_points_beside_its_income(client):
    w = world()
    h = w.households[0]
    w.give_points(h, codes=("diligence", "hygiene"))
    client.force_login(w.county)
    html = client.get(f"/income/households/{h.number}/").content.decode()
    assert "15 分" in html and f"/love-points/card/{h.number}/" in html


def test_the_public_money_flow_shows_points_per_township_and_no_person(client):
    w = world()
    h = w.households[0]
    w.give_points(h)
    w.redeem(h, [(w.items[1].pk, 2)])
    html = client.get("/money-flow/").content.decode()
    assert w.village.township.name in html and "各镇爱心超市" in html
    assert h.head_name not in html and h.number not in html and w.village.name not in html


def _months_before(day: datetime.date, n: int) -> datetime.date:
    for _i in range(n):
        day = (day - datetime.timedelta(days=1)).replace(day=1)
    return day


def test_no_points_for_the_watch_period_lists_the_household_only_when_switched_on():
    w = world()
    active, lapsed = w.households[0], w.households[1]
    period_end = last_month() + datetime.timedelta(days=31)
    period_end = period_end.replace(day=1) - datetime.timedelta(days=1)  # end of last month
    period_start = _months_before(last_month(), 2)  # three whole months
    earlier = _months_before(period_start, 1)
    w.award(lapsed, "diligence", month=earlier)
    w.award(active, "diligence", month=earlier)
    w.approve(month=earlier)
    w.award(active, "filial")
    w.approve()
    watch_list_compute(period_start=period_start, period_end=period_end)
    assert not WatchListEntry.objects.exists()
    settings = LovePointsSettings.load()
    settings.watch_no_points = True
    settings.save()
    watch_list_compute(period_start=period_start, period_end=period_end)
    assert list(WatchListEntry.objects.values_list("household_id", "reason")) == [(lapsed.pk, "no_points")]
