"""The watch list (收入下降户): a fall of more than the set share against the same period a year
before, or no deliveries where there were some; nobody else is flagged."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from core import roles
from households.models import Household, WatchListEntry
from households.reports.watch import last_complete_months, watch_list_compute
from households.services import income_entry_record
from households.tasks import BEAT_SCHEDULE, watch_list_monthly_task
from tests.households.factories import HouseholdFactory, UserFactory

pytestmark = pytest.mark.django_db

PERIOD = (datetime.date(2026, 8, 1), datetime.date(2026, 10, 31))


def income(h, kind, amount, day):
    income_entry_record(household=h, kind=kind, amount=Decimal(amount), date=day,
                        source_type="lot" if kind == "intake" else "sale", source_code="X")


def compute():
    return watch_list_compute(period_start=PERIOD[0], period_end=PERIOD[1])


def test_a_fall_of_more_than_the_share_puts_the_household_on_the_list_with_evidence(settings):
    settings.RELIEF_WATCH_DECLINE_SHARE = "0.30"
    h = HouseholdFactory()
    income(h, "intake", "100.00", datetime.date(2025, 9, 1))
    income(h, "intake", "60.00", datetime.date(2026, 9, 1))  # down 40 %

    compute()

    entry = WatchListEntry.objects.get(household=h)
    assert entry.reason == WatchListEntry.Reason.DECLINE
    assert (entry.income, entry.income_year_before, entry.drop_share) == (Decimal("60.00"), Decimal("100.00"), Decimal("0.4000"))
    h.refresh_from_db()
    assert h.flag_income_decline


def test_a_household_that_stopped_delivering_is_listed_even_with_other_income(settings):
    settings.RELIEF_WATCH_DECLINE_SHARE = "0.30"
    h = HouseholdFactory()
    income(h, "intake", "100.00", datetime.date(2025, 8, 15))
    income(h, "dividend", "95.00", datetime.date(2026, 8, 15))  # only 5 % less, but no intake at all

    compute()

    assert WatchListEntry.objects.get(household=h).reason == WatchListEntry.Reason.STOPPED
    assert Household.objects.get(pk=h.pk).flag_income_decline


def test_a_fall_within_the_share_or_a_rise_is_not_flagged(settings):
    settings.RELIEF_WATCH_DECLINE_SHARE = "0.30"
    small_fall, rise, new = HouseholdFactory(), HouseholdFactory(), HouseholdFactory()
    income(small_fall, "intake", "100.00", datetime.date(2025, 10, 1))
    income(small_fall, "intake", "70.00", datetime.date(2026, 10, 1))  # exactly 30 %: not more than the share
    income(rise, "intake", "10.00", datetime.date(2025, 10, 1))
    income(rise, "intake", "50.00", datetime.date(2026, 10, 1))
    income(new, "intake", "50.00", datetime.date(2026, 10, 1))  # nothing a year before

    compute()

    assert not WatchListEntry.objects.exists()
    assert not Household.objects.filter(flag_income_decline=True).exists()


def test_the_share_is_a_setting(settings):
    h = HouseholdFactory()
    income(h, "intake", "100.00", datetime.date(2025, 9, 1))
    income(h, "intake", "75.00", datetime.date(2026, 9, 1))
    settings.RELIEF_WATCH_DECLINE_SHARE = "0.30"
    compute()
    assert not WatchListEntry.objects.exists()
    settings.RELIEF_WATCH_DECLINE_SHARE = "0.20"
    compute()
    assert WatchListEntry.objects.filter(household=h).exists()


def test_running_the_monthly_task_twice_writes_each_entry_once(settings):
    settings.RELIEF_WATCH_DECLINE_SHARE = "0.30"
    h = HouseholdFactory()
    start, end = last_complete_months(datetime.date.today(), 3)
    income(h, "intake", "100.00", start.replace(year=start.year - 1))
    watch_list_monthly_task.delay()
    watch_list_monthly_task.delay()
    assert WatchListEntry.objects.filter(household=h, period_start=start, period_end=end).count() == 1
    assert BEAT_SCHEDULE["households-watch-list-monthly"]["task"] == "households.tasks.watch_list_monthly_task"


def test_the_watch_list_is_in_the_admin_for_the_county_office_only(client, settings):
    settings.RELIEF_WATCH_DECLINE_SHARE = "0.30"
    h = HouseholdFactory(head_name="李长青")
    income(h, "intake", "100.00", datetime.date(2025, 9, 1))
    compute()
    client.force_login(UserFactory(role=roles.COUNTY_OFFICE))
    response = client.get("/admin/watch_list/")
    assert response.status_code == 200
    assert "李长青" in response.content.decode()
    client.force_login(UserFactory(role=roles.SUPERMARKET_STAFF))
    assert client.get("/admin/watch_list/").status_code in (302, 403)


def test_a_voided_delivery_does_not_count_as_delivering(settings):
    from households.models import IncomeEntry
    from households.services import income_entry_reverse

    settings.RELIEF_WATCH_DECLINE_SHARE = "0.30"
    h = HouseholdFactory()
    income(h, "intake", "100.00", datetime.date(2025, 9, 1))
    income(h, "intake", "100.00", datetime.date(2026, 9, 1))
    income_entry_reverse(entry=IncomeEntry.objects.get(household=h, date=datetime.date(2026, 9, 1)), reason="称错",
                         date=datetime.date(2026, 9, 2))

    compute()

    assert WatchListEntry.objects.get(household=h).reason == WatchListEntry.Reason.STOPPED
