"""Expiry: what expires within 7 days is shown to the station and the supermarket (their own
facility only); expired units are written off as ``expired`` movements (a service, a button and
a daily task, all idempotent), and the books still reconcile."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.management import call_command
from django.utils import translation

from core import roles
from core.errors import DomainError
from logistics.models import BatchMovement, BatchStock, MovementKind
from logistics.selectors.stock import county_today, expiring_rows, sellable_stock
from logistics.services.batches import batch_inspect
from logistics.services.shipments import shipment_dispatch, shipment_receive
from logistics.services.stock import batch_stock_lock, batch_stock_release, batch_stock_reserve, batch_write_off_expired
from logistics.tasks import BEAT_SCHEDULE, batches_write_off_expired_task
from tests.logistics.chain_factories import chain
from tests.logistics.factories import StationFactory, staff_at

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def zh():
    with translation.override("zh-hans"):
        yield


def _days(n: int) -> datetime.date:
    return county_today() + datetime.timedelta(days=n)


def _batch_at_supermarket(c, *, best_before, units=6, kg="10"):
    """A batch packed by the chain's station, passed, shipped and received whole at the supermarket."""
    lots = c.lots_at_station(1, weight_kg=kg)
    batch = c.pack([(lots[0], kg)], units=4 if kg == "10" else units, best_before=best_before)
    batch_inspect(batch=batch, passed=True, inspector=c.county)
    out = shipment_dispatch(origin=c.station, lines=[(batch, batch.units)], author=c.station_staff)
    shipment_receive(shipment=out, received={}, loss_reasons={}, author=c.shop_staff)
    return batch


def _reconciles() -> str:
    out = io.StringIO()
    call_command("reconcile", stdout=out)  # raises CommandError (exit 1) on any imbalance
    return out.getvalue()


def test_an_expired_batch_is_not_sellable_or_lockable_for_checkout():
    c = chain()
    fresh = _batch_at_supermarket(c, best_before=_days(0))
    stale = _batch_at_supermarket(c, best_before=_days(-1))

    assert list(sellable_stock().values_list("batch_id", flat=True)) == [fresh.pk]
    locked = batch_stock_lock(facility_id=c.supermarket.pk, sku_ids=[c.sku.pk])
    assert [row.batch_id for row in locked] == [fresh.pk]
    assert stale.pk not in [row.batch_id for row in locked]


def test_writing_off_an_expired_batch_records_an_expired_movement_and_reconcile_still_passes():
    c = chain()
    batch = _batch_at_supermarket(c, best_before=_days(-2))
    row = BatchStock.objects.get(batch=batch, facility=c.supermarket)
    batch_stock_reserve(stock=row, units=1, reference_type="order", reference_code="PENDING-1")

    written = batch_write_off_expired(batch=batch, author=c.shop_staff, facility=c.supermarket)

    assert written == 3  # 4 on hand, 1 held by an unpaid order stays until it is paid or released
    row.refresh_from_db()
    assert (row.quantity, row.reserved) == (1, 1)
    movement = BatchMovement.objects.get(batch=batch, kind=MovementKind.EXPIRED)
    assert (movement.quantity_delta, movement.reserved_delta, movement.author_id) == (-3, 0, c.shop_staff.pk)
    assert batch_write_off_expired(batch=batch, author=c.shop_staff, facility=c.supermarket) == 0  # idempotent
    batch_stock_release(stock=row, units=1, reference_type="order", reference_code="PENDING-1")
    assert batch_write_off_expired(batch=batch) == 1
    assert "All books balance" in _reconciles()


def test_a_batch_still_in_date_cannot_be_written_off_as_expired():
    c = chain()
    batch = _batch_at_supermarket(c, best_before=_days(0))

    with pytest.raises(DomainError) as exc:
        batch_write_off_expired(batch=batch, author=c.shop_staff, facility=c.supermarket)

    assert "保质期至" in exc.value.message
    assert not BatchMovement.objects.filter(kind=MovementKind.EXPIRED).exists()


def test_staff_write_off_only_at_their_own_facility():
    c = chain()
    batch = _batch_at_supermarket(c, best_before=_days(-1))
    elsewhere = staff_at(StationFactory(), roles.SORTING_STATION_STAFF)

    with pytest.raises(DomainError):
        batch_write_off_expired(batch=batch, author=elsewhere, facility=c.supermarket)
    with pytest.raises(DomainError):
        batch_write_off_expired(batch=batch, author=c.shop_staff)  # every facility: the county office's or the task's

    assert not BatchMovement.objects.filter(kind=MovementKind.EXPIRED).exists()


def test_the_daily_task_writes_off_everything_expired_everywhere_once_and_reconcile_passes():
    c = chain()
    at_shop = _batch_at_supermarket(c, best_before=_days(-1))
    at_station = c.pack([(c.lots_at_station(1)[0], "10")], units=4, best_before=_days(-5))
    in_date = _batch_at_supermarket(c, best_before=_days(3))

    assert batches_write_off_expired_task.delay().get() == 8
    assert batches_write_off_expired_task.delay().get() == 0

    on_hand = dict(BatchStock.objects.values_list("batch_id", "quantity"))
    assert (on_hand[at_shop.pk], on_hand[at_station.pk], on_hand[in_date.pk]) == (0, 0, 4)
    assert "All books balance" in _reconciles()
    schedule = BEAT_SCHEDULE["logistics-batches-write-off-expired"]
    assert schedule["task"] == "logistics.tasks.batches_write_off_expired_task"


def test_expiring_rows_list_what_expires_within_7_days_at_one_facility_earliest_first():
    c = chain()
    later = _batch_at_supermarket(c, best_before=_days(7))
    expired = _batch_at_supermarket(c, best_before=_days(-1))
    _batch_at_supermarket(c, best_before=_days(8))  # outside the week
    at_station = c.pack([(c.lots_at_station(1)[0], "10")], units=4, best_before=_days(2))

    rows = expiring_rows(facility_id=c.supermarket.pk)

    assert [r.batch_id for r in rows] == [expired.pk, later.pk]
    assert (rows[0].expired, rows[0].days_ago, rows[0].writable_off) == (True, 1, 4)
    assert (rows[1].expired, rows[1].days_left, rows[1].writable_off) == (False, 7, 0)
    assert [r.batch_id for r in expiring_rows(facility_id=c.station.pk)] == [at_station.pk]


def test_the_station_home_shows_its_own_expiring_batches_and_writes_off_with_the_button(client):
    c = chain()
    soon = c.pack([(c.lots_at_station(1)[0], "10")], units=4, best_before=_days(3))
    gone = c.pack([(c.lots_at_station(1)[0], "10")], units=4, best_before=_days(-1))
    at_shop = _batch_at_supermarket(c, best_before=_days(1))
    client.force_login(c.station_staff)

    page = client.get("/station/").content.decode()
    section = page[page.index('data-testid="expiring"'):]
    assert soon.code in section and "还剩3天" in section
    assert gone.code in section and "已过期1天" in section and "报损4件" in section
    assert at_shop.code not in section  # another facility's stock

    response = client.post("/station/expired/write-off/", {"batch": gone.code, "next": "/station/"})

    assert response.status_code == 302 and response["Location"] == "/station/"
    assert BatchStock.objects.get(batch=gone, facility=c.station).quantity == 0
    assert BatchMovement.objects.get(batch=gone, kind=MovementKind.EXPIRED).author_id == c.station_staff.pk
    assert "批次" in client.get("/station/").content.decode()


def test_the_write_off_button_refuses_a_batch_in_date_with_a_message(client):
    c = chain()
    soon = c.pack([(c.lots_at_station(1)[0], "10")], units=4, best_before=_days(3))
    client.force_login(c.station_staff)

    response = client.post("/station/expired/write-off/", {"batch": soon.code}, follow=True)

    assert "保质期至" in response.content.decode()
    assert BatchStock.objects.get(batch=soon, facility=c.station).quantity == 4


def test_the_supermarket_staff_screen_lists_what_expires_on_its_shelves(client):
    c = chain()
    soon = _batch_at_supermarket(c, best_before=_days(0))
    at_station = c.pack([(c.lots_at_station(1)[0], "10")], units=4, best_before=_days(2))
    client.force_login(c.shop_staff)

    page = client.get("/staff/orders/").content.decode()

    section = page[page.index('data-testid="expiring"'):]
    assert soon.code in section and "今天是最后一天" in section
    assert at_station.code not in section


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_button_pressed_twice_and_the_daily_task_at_once_write_off_each_unit_once(on_postgres):
    from tests.marketplace.test_concurrency import run_together

    c = chain()
    batch = _batch_at_supermarket(c, best_before=_days(-1))

    results = run_together([
        lambda: batch_write_off_expired(batch=batch, author=c.shop_staff, facility=c.supermarket),
        lambda: batch_write_off_expired(batch=batch, author=c.shop_staff, facility=c.supermarket),
        batches_write_off_expired_task,
    ])

    assert not [r for r in results if isinstance(r, BaseException)], results
    assert sorted(results) == [0, 0, 4]
    assert BatchStock.objects.get(batch=batch, facility=c.supermarket).quantity == 0
    assert BatchMovement.objects.filter(batch=batch, kind=MovementKind.EXPIRED).count() == 1
    assert "All books balance" in _reconciles()
