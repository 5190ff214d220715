"""Every published figure agrees: one function computes the totals at a cut-off; the home page,
/money-flow/, its JSON and the county report show the same paid-to-households total after a
settlement; the snapshot follows settlements, voids and refunds; times are the county's; each
run's dividends are exactly rate × what it attributed; ``reconcile`` checks both."""

from __future__ import annotations

import datetime
import io
import re
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from core.money import from_fen, split_largest_remainder
from households.models import IncomeEntry
from logistics.reconcile import run_checks
from logistics.services.batches import batch_inspect
from logistics.services.intake import intake_void
from logistics.services.shipments import shipment_dispatch, shipment_receive
from marketplace.models import Order, OrderLine
from marketplace.services.allocation import allocation_grant
from marketplace.services.cart import cart_item_set
from marketplace.services.checkout import checkout_submit
from marketplace.services.orders import order_refund, order_transition
from marketplace.settlement.dividends import dividend_split, dividend_total_fen
from marketplace.settlement.models import DividendLine, MoneyFlowSnapshot, SettlementLine
from marketplace.settlement.money_flow import money_flow_snapshot_refresh, published_totals
from tests.cms.factories import home_page
from tests.logistics.chain_factories import chain
from tests.marketplace.factories import EmployeeFactory, ProductFactory, allocation_year

pytestmark = pytest.mark.django_db


def _money(html: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}">(¥[\d,.\-]+)<', html)
    assert match, f"{testid} not on the page"
    return match.group(1)


@pytest.fixture
def books(django_capture_on_commit_callbacks):
    """Intakes at the scale, a batch packed from them, sold to two employees through checkout,
    one unit refunded — all through the services, so ``reconcile`` has nothing to find."""
    c = chain()
    lots = [c.intake(h, weight_kg=w) for h, w in zip(c.households, ("5.000", "7.000", "11.000"), strict=True)]
    c.ship_to_station([(lot, lot.weight_kg) for lot in lots])
    batch = c.pack([(lot, lot.weight_kg) for lot in lots], units=8, waste_kg="3")
    batch_inspect(batch=batch, passed=True, inspector=c.county)
    out = shipment_dispatch(origin=c.station, lines=[(batch, 8)], author=c.station_staff)
    shipment_receive(shipment=out, received={}, loss_reasons={}, author=c.shop_staff)
    product = ProductFactory(sku=c.sku, price=Decimal("24.00"))
    setting = allocation_year(dividend_rate=Decimal("0.0500"))
    orders = []
    for units in (3, 2):
        employee = EmployeeFactory()
        allocation_grant(employee=employee, year=setting.year)
        cart_item_set(employee=employee, product=product, quantity=units)
        orders.append(checkout_submit(employee=employee, fulfilment="pickup").order)
    for status in (Order.Status.PICKING, Order.Status.READY_FOR_PICKUP, Order.Status.COMPLETED):
        order_transition(order=orders[1], to=status, actor=c.shop_staff)
    with django_capture_on_commit_callbacks(execute=True):
        order_refund(order=orders[1], lines={OrderLine.objects.get(order=orders[1]).pk: 1}, reason="破损", actor=c.shop_staff)
    home_page()
    return c, lots, orders


def test_after_settle_home_money_flow_api_and_county_report_show_one_paid_total(client, books, django_capture_on_commit_callbacks):
    c, _lots, _orders = books
    with django_capture_on_commit_callbacks(execute=True):
        call_command("settle", stdout=io.StringIO())

    intake = sum(IncomeEntry.objects.filter(kind="intake").values_list("amount", flat=True))
    dividends = sum(IncomeEntry.objects.filter(kind="dividend").values_list("amount", flat=True))
    expected = f"¥{intake + dividends:,.2f}"
    assert dividends == Decimal("4.80")  # 5 % × (5 − 1 refunded) × ¥24, to the fen

    home = client.get("/").content.decode()
    page = client.get("/money-flow/").content.decode()
    api = client.get("/api/v1/public/money-flow/").json()
    client.force_login(c.county)
    report = client.get("/income/").content.decode()

    assert _money(home, "paid-to-households") == expected
    assert _money(page, "paid-to-households") == expected
    assert f"¥{Decimal(api['households']['paid_to_households']):,.2f}" == expected
    assert _money(report, "published-paid") == expected
    assert _money(report, "report-paid") == expected
    assert api["households"]["reached"] == 3 and api["sales"]["net"] == "96.00"  # 120 paid − 24 refunded

    output = io.StringIO()
    call_command("reconcile", stdout=output)  # raises CommandError on any imbalance
    assert "published_figures_equal_ledger" in output.getvalue()


def test_the_snapshot_follows_a_settlement_an_intake_void_and_a_refund_at_once(books, django_capture_on_commit_callbacks):
    c, lots, orders = books
    extra = c.intake(c.households[0], weight_kg="2.000")
    money_flow_snapshot_refresh()
    before = MoneyFlowSnapshot.objects.latest()

    with django_capture_on_commit_callbacks(execute=True):
        intake_void(intake=extra.intake, reason="称错了", author=c.point_staff)
    after_void = MoneyFlowSnapshot.objects.latest()
    assert after_void.pk != before.pk
    assert Decimal(after_void.data["households"]["intake"]) == Decimal(before.data["households"]["intake"]) - extra.intake.amount

    with django_capture_on_commit_callbacks(execute=True):
        call_command("settle", stdout=io.StringIO())
    after_settle = MoneyFlowSnapshot.objects.latest()
    assert after_settle.pk != after_void.pk and after_settle.data["households"]["dividends"] == "4.80"

    with django_capture_on_commit_callbacks(execute=True):
        order_refund(order=orders[1], lines={OrderLine.objects.get(order=orders[1]).pk: 1}, reason="又坏一个", actor=c.shop_staff)
    assert MoneyFlowSnapshot.objects.latest().data["sales"]["refunded"] == "48.00"


def test_times_are_shown_in_the_countys_zone_and_the_json_carries_its_offset(client, books, monkeypatch):
    moment = datetime.datetime(2030, 12, 2, 15, 20, 7, tzinfo=datetime.UTC)  # after the fixture's snapshots
    monkeypatch.setattr(timezone, "now", lambda: moment)
    money_flow_snapshot_refresh()

    data = client.get("/api/v1/public/money-flow/").json()
    assert data["as_of"] == "2030-12-02T23:20:07+08:00"
    html = client.get("/money-flow/").content.decode()
    assert re.search(r'<time datetime="2030-12-02T23:20:07\+08:00"[^>]*>2030-12-02 23:20</time>', html)
    assert "2030-12-0215:20" not in html


def test_a_paid_order_cancelled_later_is_taken_off_net_sales_once(books):
    c, _lots, orders = books
    from marketplace.services.orders import order_cancel

    order_cancel(order=orders[0], actor=c.shop_staff, reason="不要了")
    totals = published_totals(as_of=timezone.now())
    assert (totals["sales"]["total"], totals["sales"]["refunded"], totals["sales"]["net"]) == ("120.00", "96.00", "24.00")


def test_published_totals_are_the_ledger_as_it_stood_at_the_cut_off(books):
    c, _lots, _orders = books
    cut = timezone.now()
    then = published_totals(as_of=cut)
    c.intake(c.households[0], weight_kg="1.000")  # written after the cut-off
    assert published_totals(as_of=cut) == then
    assert published_totals(as_of=timezone.now())["households"]["intake"] != then["households"]["intake"]


def test_reconcile_names_a_snapshot_that_differs_from_the_ledger_and_dividends_that_do_not_add_up(books, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("settle", stdout=io.StringIO())
    assert run_checks(["published_figures_equal_ledger", "settlement_dividends_equal_rate_times_attributed"]) == {
        "published_figures_equal_ledger": [], "settlement_dividends_equal_rate_times_attributed": [],
    }
    snapshot = MoneyFlowSnapshot.objects.latest()
    snapshot.data["households"]["paid_to_households"] = "1.00"
    MoneyFlowSnapshot.objects.filter(pk=snapshot.pk).update(data=snapshot.data)
    line = DividendLine.objects.order_by("pk").first()
    DividendLine.objects.filter(pk=line.pk).update(amount_fen=line.amount_fen + 1)

    problems = run_checks(["published_figures_equal_ledger", "settlement_dividends_equal_rate_times_attributed"])
    assert any("paid_to_households published 1.00" in p for p in problems["published_figures_equal_ledger"])
    assert any("dividends 4.81" in p for p in problems["settlement_dividends_equal_rate_times_attributed"])
    with pytest.raises(CommandError):
        call_command("reconcile", stdout=io.StringIO())


def test_a_runs_dividends_add_up_to_rate_times_attributed_revenue(books, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("settle", stdout=io.StringIO())
    attributed = sum(SettlementLine.objects.values_list("amount_fen", flat=True))
    paid = sum(DividendLine.objects.values_list("amount_fen", flat=True))
    assert paid == dividend_total_fen(rate=Decimal("0.05"), attributed_fen=attributed) == 480


def test_the_issues_example_five_percent_of_72_yuan_is_3_60_not_3_61():
    # three households whose own 5 % round up: 0.8750, 0.8750, 1.8500 (¥17.50, ¥17.50, ¥37.00)
    attributed = {1: 1750, 2: 1750, 3: 3700}
    each_rounded = sum(int((Decimal(f) * Decimal("0.05") + Decimal("0.5")).to_integral_value(rounding="ROUND_FLOOR")) for f in attributed.values())
    assert from_fen(each_rounded) == Decimal("3.61")
    parts = dividend_split(rate=Decimal("0.05"), attributed=attributed)
    assert from_fen(sum(parts.values())) == Decimal("3.60")


RATES = st.decimals(min_value=Decimal("0"), max_value=Decimal("0.5"), places=4)
AMOUNTS = st.dictionaries(st.integers(1, 10_000), st.integers(-500_000, 500_000), min_size=1, max_size=30)


@given(rate=RATES, attributed=AMOUNTS)
@settings(max_examples=300, deadline=None)
def test_dividends_always_add_up_to_rate_times_attributed_and_stay_within_a_fen_or_two(rate, attributed):
    parts = dividend_split(rate=rate, attributed=attributed)
    assert set(parts) == set(attributed)
    assert sum(parts.values()) == dividend_total_fen(rate=rate, attributed_fen=sum(attributed.values()))
    for household, fen in attributed.items():
        assert abs(parts[household] - rate * fen) < 2  # never more than a fen or so from its exact share
        assert parts[household] * fen >= 0 or parts[household] == 0  # a clawback never pays, a sale never claws


@given(rate=RATES, fen=st.lists(st.integers(0, 500_000), min_size=1, max_size=30))
@settings(max_examples=200, deadline=None)
def test_with_sales_only_the_split_is_core_moneys_largest_remainder(rate, fen):
    attributed = dict(enumerate(fen, start=1))
    if not sum(fen):
        return
    parts = dividend_split(rate=rate, attributed=attributed)
    total = dividend_total_fen(rate=rate, attributed_fen=sum(fen))
    assert [parts[h] for h in sorted(parts)] == split_largest_remainder(total, fen)
