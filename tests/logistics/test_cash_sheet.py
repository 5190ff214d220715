"""The daily cash sheet of a collection point (收购点现金日报) and the county's view of every point."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from core import roles
from core.ledger import AppendOnlyError
from logistics.models import CashAdvance
from logistics.reconcile import run_checks
from logistics.selectors.cash import cash_balances, cash_sheet
from logistics.services.cash import CashNotAllowed, InvalidCashAmount, cash_advance_record
from logistics.services.intake import intake_record, intake_void
from tests.logistics.factories import StationFactory, staff_at
from tests.logistics.intake_factories import county_user, intake_kwargs, point_setup

pytestmark = pytest.mark.django_db


def _at(days_ago: int, hour: int) -> datetime.datetime:
    day = timezone.localdate() - datetime.timedelta(days=days_ago)
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=timezone.get_current_timezone())


def _intake(setup, *, at, weight="12.500"):
    intake, _created = intake_record(**intake_kwargs(setup, weight_kg=weight, at=at))
    return intake  # 一级 板栗 12.00/kg: 12.5 kg = ¥150.00


@pytest.fixture
def books():
    """Yesterday: ¥1,000 advanced, two intakes paid (¥150 + ¥300). Today: one more (¥150), and
    yesterday's ¥300 intake voided — the cash comes back today, not yesterday."""
    setup = point_setup()
    county = county_user()
    cash_advance_record(point=setup.point, amount="1000", author=county, at=_at(1, 7))
    _intake(setup, at=_at(1, 9))
    big = _intake(setup, at=_at(1, 10), weight="25")
    _intake(setup, at=_at(0, 0) + datetime.timedelta(minutes=1))
    intake_void(intake=big, reason="称错了", author=setup.staff)
    return setup, county


def test_a_day_starts_with_the_day_befores_end_and_voids_give_cash_back_on_their_own_day(books):
    setup, _county = books
    yesterday = cash_sheet(point=setup.point, day=timezone.localdate() - datetime.timedelta(days=1))
    assert (yesterday.start, yesterday.advances, yesterday.paid, yesterday.reversed, yesterday.end) == (
        Decimal("0.00"), Decimal("1000.00"), Decimal("450.00"), Decimal("0.00"), Decimal("550.00"),
    )
    today = cash_sheet(point=setup.point)
    assert (today.start, today.paid, today.reversed, today.end) == (Decimal("550.00"), Decimal("150.00"), Decimal("300.00"), Decimal("700.00"))
    assert today.net_paid == Decimal("-150.00")


def test_cash_taken_back_lowers_the_balance_and_the_county_list_shows_every_point(books):
    setup, county = books
    other = point_setup()
    cash_advance_record(point=setup.point, amount="200.50", kind=CashAdvance.Kind.RETURN, note="交回", author=county)
    rows = {r.point.pk: r for r in cash_balances()}
    assert rows[setup.point.pk].end == Decimal("499.50")
    assert rows[other.point.pk].end == Decimal("0.00")


@pytest.mark.parametrize("amount", ["abc", "0", "-5", "1.234", "NaN", "Infinity", "", "2000000"])
def test_a_bad_amount_is_refused_and_writes_nothing(amount):
    setup = point_setup()
    with pytest.raises(InvalidCashAmount):
        cash_advance_record(point=setup.point, amount=amount, author=county_user())
    assert not CashAdvance.objects.exists()


def test_only_the_county_office_records_cash_and_entries_are_never_edited():
    setup = point_setup()
    with pytest.raises(CashNotAllowed):
        cash_advance_record(point=setup.point, amount="100", author=setup.staff)
    advance = cash_advance_record(point=setup.point, amount="100", author=county_user())
    advance.amount = Decimal("5")
    with pytest.raises(AppendOnlyError):
        advance.save()


def test_point_staff_see_only_their_own_sheet(books, client):
    setup, _county = books
    other = point_setup()
    client.force_login(other.staff)
    page = client.get("/intake/cash/", {"point": setup.point.code}).content.decode()
    assert other.point.name in page and setup.point.name not in page
    client.force_login(staff_at(StationFactory(), roles.SORTING_STATION_STAFF))
    assert client.get("/intake/cash/").status_code == 403
    assert client.get("/cash/").status_code == 403


def test_the_sheet_page_prints_and_shows_the_figures_in_chinese(books, client):
    setup, _county = books
    client.force_login(setup.staff)
    day = timezone.localdate() - datetime.timedelta(days=1)
    page = client.get("/intake/cash/", {"date": day.isoformat()}).content.decode()
    for text in ("收购点现金日报", "期初现金", "¥1,000.00", "¥450.00", "期末现金", "¥550.00", "@media print"):
        assert text in page, text


def test_county_records_an_advance_from_its_page_and_a_bad_amount_keeps_the_form(books, client):
    setup, county = books
    client.force_login(county)
    bad = client.post("/cash/advance/", {"point": setup.point.code, "kind": "advance", "amount": "一千", "note": "十二月"})
    assert bad.status_code == 400 and "请输入金额" in bad.content.decode() and "十二月" in bad.content.decode()
    assert CashAdvance.objects.count() == 1
    ok = client.post("/cash/advance/", {"point": setup.point.code, "kind": "advance", "amount": "2,000", "note": ""})
    assert ok.status_code == 302
    assert cash_sheet(point=setup.point).advances == Decimal("2000.00")
    listing = client.get("/cash/").content.decode()
    assert setup.point.name in listing and "¥2,700.00" in listing


def test_reconcile_passes_on_the_services_books_and_names_a_point_that_paid_more_than_it_had(books):
    setup, county = books
    assert run_checks(["cash_sheets"]) == {"cash_sheets": []}
    _intake(setup, at=timezone.now(), weight="100")  # ¥1,200 more than the ¥700 there
    problems = run_checks(["cash_sheets"])["cash_sheets"]
    assert len(problems) == 1 and setup.point.code in problems[0] and "below zero" in problems[0]
    with pytest.raises(CommandError):
        call_command("reconcile", "--check", "cash_sheets", stdout=io.StringIO())
