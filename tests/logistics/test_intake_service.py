"""Intake at a collection point, through the service: every rule, idempotency, prices, voids."""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from django.test import override_settings
from django.utils import timezone

from core import roles
from core.errors import DomainError, NotAllowed
from households.models import IncomeEntry
from logistics.models import Intake, IntakeVoid, Lot, LotMovement, MovementKind, PurchasePrice
from logistics.services import intake as intake_service
from logistics.services.intake import (
    GradeNotOffered,
    HouseholdNotServed,
    IntakeConflict,
    IntakeNotAllowed,
    InvalidWeight,
    UnknownHousehold,
    UnknownProduce,
    VoidRefused,
    intake_record,
    intake_void,
)
from logistics.services.prices import NoPriceInForce, PriceAlreadySet, price_in_force, purchase_price_set
from tests.households.factories import HouseholdFactory, UserFactory
from tests.logistics.factories import GradeFactory, ProduceFactory, StationFactory, staff_at
from tests.logistics.intake_factories import county_user, honey_grade, intake_kwargs, point_setup

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, int, int, int]:
    return Intake.objects.count(), Lot.objects.count(), LotMovement.objects.count(), IncomeEntry.objects.count()


def refused(exc_type, message_part: str, **kwargs):
    """Call intake_record and assert it raised ``exc_type`` with the message, writing nothing."""
    before = counts()
    with pytest.raises(exc_type) as info:
        intake_record(**kwargs)
    assert message_part in info.value.message
    assert counts() == before
    return info.value


@pytest.fixture
def setup():
    return point_setup()


# --- recording ---------------------------------------------------------------------------------


def test_an_intake_writes_lot_intake_stock_movement_and_household_payment(setup):
    intake, created = intake_record(**intake_kwargs(setup, weight_kg="12.500"))

    assert created is True
    assert intake.weight_kg == Decimal("12.500")
    assert intake.unit_price == Decimal("12.00")
    assert intake.amount == Decimal("150.00")
    assert intake.collection_point == setup.point
    assert intake.staff == setup.staff
    lot = intake.lot
    assert (lot.household, lot.grade, lot.origin, lot.weight_kg) == (setup.household, setup.grades["grade1"], setup.point, Decimal("12.500"))
    movement = LotMovement.objects.get(lot=lot)
    assert (movement.kind, movement.facility, movement.quantity_kg) == (MovementKind.INTAKE, setup.point, Decimal("12.500"))
    entry = IncomeEntry.objects.get(household=setup.household)
    assert entry.kind == "intake"
    assert entry.amount == Decimal("150.00")
    assert (entry.source_type, entry.source_code, entry.produce) == ("lot", lot.code, "chestnut")
    assert entry.date == timezone.localdate()


def test_lot_codes_are_readable_unique_and_count_up_per_point_and_day(setup):
    first, _ = intake_record(**intake_kwargs(setup))
    second, _ = intake_record(**intake_kwargs(setup))
    day = timezone.localdate().strftime("%y%m%d")
    compact = setup.point.code.replace("-", "")
    assert first.lot.code == f"L{compact}-{day}-0001"
    assert second.lot.code == f"L{compact}-{day}-0002"
    assert len(first.lot.code) <= 32


def test_lot_code_skips_a_code_already_taken(setup):
    day = timezone.localdate().strftime("%y%m%d")
    compact = setup.point.code.replace("-", "")
    Lot.objects.create(
        code=f"L{compact}-{day}-0001", grade=setup.grades["grade1"], household=setup.household, origin=setup.point, weight_kg=1
    )
    intake, _ = intake_record(**intake_kwargs(setup))
    assert intake.lot.code == f"L{compact}-{day}-0002"


def test_weight_in_jin_is_converted_to_kg(setup):
    intake, _ = intake_record(**intake_kwargs(setup, weight_kg=None, weight_jin="25"))
    assert intake.weight_kg == Decimal("12.500")
    assert intake.amount == Decimal("150.00")


def test_odd_jin_rounds_the_kg_half_up_to_the_gram(setup):
    intake, _ = intake_record(**intake_kwargs(setup, weight_kg=None, weight_jin="0.001"))
    assert intake.weight_kg == Decimal("0.001")  # 0.0005 kg rounds half up


def test_amount_is_rounded_half_up_to_the_fen(setup):
    PurchasePrice.objects.create(grade=setup.grades["grade2"], price_per_kg=Decimal("8.33"), effective_from=datetime.date(2021, 1, 1))
    # 1.5 kg x 8.33 = 12.495 -> 12.50 (half up, not banker's 12.50/12.49)
    intake, _ = intake_record(**intake_kwargs(setup, grade_code="grade2", weight_kg="1.500"))
    assert intake.amount == Decimal("12.50")
    # 0.5 kg x 8.33 = 4.165 -> 4.17
    intake, _ = intake_record(**intake_kwargs(setup, grade_code="grade2", weight_kg="0.5"))
    assert intake.amount == Decimal("4.17")


def test_a_past_date_takes_the_price_in_force_then_and_keeps_that_time(setup):
    grade = setup.grades["grade1"]
    purchase_price_set(grade=grade, price_per_kg="14.00", effective_from=datetime.date(2025, 9, 1), author=None)
    at = timezone.make_aware(datetime.datetime(2025, 8, 20, 9, 30))
    intake, _ = intake_record(**intake_kwargs(setup, at=at))
    assert intake.unit_price == Decimal("12.00")
    assert intake.created_at == at
    assert intake.lot.created_at == at
    assert "-250820-" in intake.lot.code
    assert IncomeEntry.objects.get(source_code=intake.lot.code).date == datetime.date(2025, 8, 20)
    later, _ = intake_record(**intake_kwargs(setup, at=timezone.make_aware(datetime.datetime(2025, 9, 1, 8, 0))))
    assert later.unit_price == Decimal("14.00")


def test_a_price_change_never_rewrites_a_past_intake(setup):
    grade = setup.grades["grade1"]
    intake, _ = intake_record(**intake_kwargs(setup, weight_kg="10"))
    purchase_price_set(grade=grade, price_per_kg="20.00", effective_from=timezone.localdate(), author=None)
    intake.refresh_from_db()
    assert (intake.unit_price, intake.amount) == (Decimal("12.00"), Decimal("120.00"))
    assert IncomeEntry.objects.get(source_code=intake.lot.code).amount == Decimal("120.00")
    newer, _ = intake_record(**intake_kwargs(setup, weight_kg="10"))
    assert (newer.unit_price, newer.amount) == (Decimal("20.00"), Decimal("200.00"))


# --- idempotency -------------------------------------------------------------------------------


def test_the_same_client_id_and_content_returns_the_first_intake_and_writes_nothing(setup):
    kwargs = intake_kwargs(setup)
    first, created = intake_record(**kwargs)
    before = counts()
    again, created_again = intake_record(**kwargs)
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert counts() == before


def test_a_replay_in_jin_of_the_same_weight_is_the_same_content(setup):
    kwargs = intake_kwargs(setup, weight_kg="12.5")
    first, _ = intake_record(**kwargs)
    again, created = intake_record(**{**kwargs, "weight_kg": None, "weight_jin": "25"})
    assert (again.pk, created) == (first.pk, False)


def test_a_replay_after_a_price_change_returns_the_first_record_unchanged(setup):
    kwargs = intake_kwargs(setup, weight_kg="10")
    first, _ = intake_record(**kwargs)
    purchase_price_set(grade=setup.grades["grade1"], price_per_kg="30.00", effective_from=timezone.localdate(), author=None)
    again, created = intake_record(**kwargs)
    assert (again.pk, created, again.amount) == (first.pk, False, Decimal("120.00"))


@pytest.mark.parametrize(
    "change",
    [{"weight_kg": "12.501"}, {"grade_code": "grade2"}, {"household_number": None}],
)
def test_the_same_client_id_with_different_content_is_a_conflict(setup, change):
    kwargs = intake_kwargs(setup)
    intake_record(**kwargs)
    if change.get("household_number", "") is None:
        change = {"household_number": setup.households[1].number}
    error = refused(IntakeConflict, "", **{**kwargs, **change})
    assert error.status == 409
    assert error.message == "这个客户端编号已用于另一笔收购，本次未记录。"


def test_the_same_client_id_from_another_point_is_a_conflict(setup):
    kwargs = intake_kwargs(setup)
    intake_record(**kwargs)
    other = point_setup()
    refused(IntakeConflict, "客户端编号", **{**kwargs, "staff": other.staff})


# --- the rules ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({"weight_kg": "0"}, "重量必须大于零"),
        ({"weight_kg": "-1"}, "重量必须大于零"),
        ({"weight_kg": "0.0004"}, "重量必须大于零"),
        ({"weight_kg": "NaN"}, "重量必须是数字"),
        ({"weight_kg": "Infinity"}, "重量必须是数字"),
        ({"weight_kg": "twelve"}, "重量必须是数字"),
        ({"weight_kg": ""}, "请输入重量"),
        ({"weight_kg": None}, "请输入重量"),
        ({"weight_kg": "500.001"}, "每笔收购不能超过 500 公斤（1000 斤）"),
        ({"weight_kg": None, "weight_jin": "1000.01"}, "每笔收购不能超过 500 公斤"),
        ({"weight_kg": "1", "weight_jin": "2"}, "斤或公斤中只填一个"),
        ({"weight_kg": float("inf")}, "重量必须是数字"),
    ],
)
def test_a_weight_that_is_not_a_positive_finite_number_up_to_the_maximum_is_refused(setup, weights, message):
    error = refused(InvalidWeight, message, **intake_kwargs(setup, **weights))
    assert error.field == "weight"
    assert error.status == 400


@override_settings(RELIEF_MAX_INTAKE_KG=50)
def test_the_maximum_weight_per_intake_is_configurable(setup):
    refused(InvalidWeight, "50 公斤", **intake_kwargs(setup, weight_kg="50.5"))
    intake, _ = intake_record(**intake_kwargs(setup, weight_kg="50"))
    assert intake.weight_kg == Decimal("50.000")


def test_an_unknown_household_is_refused(setup):
    refused(UnknownHousehold, "没有户号为“H-NOPE”的农户", **intake_kwargs(setup, household_number="H-NOPE"))


def test_a_household_outside_the_points_villages_is_refused(setup):
    stranger = HouseholdFactory()
    error = refused(HouseholdNotServed, "不在本收购点服务的村", **intake_kwargs(setup, household_number=stranger.number))
    assert stranger.number in error.message


def test_a_household_of_another_served_village_is_accepted(setup):
    other = HouseholdFactory()
    setup.point.served_villages.add(other.village)
    setup.point._served_village_ids = None  # the service caches the villages on the facility object
    intake, created = intake_record(**intake_kwargs(setup, household_number=other.number))
    assert created and intake.household == other


def test_an_unknown_produce_is_refused(setup):
    refused(UnknownProduce, "未知的农产品“durian”", **intake_kwargs(setup, produce_code="durian"))


def test_a_grade_the_produce_lacks_is_refused(setup):
    honey_grade()
    refused(GradeNotOffered, "蜂蜜没有“premium”这个等级", **intake_kwargs(setup, produce_code="honey", grade_code="premium"))


def test_no_price_in_force_on_the_intake_date_is_refused(setup):
    walnut = ProduceFactory(code="walnut", name="核桃")
    GradeFactory(produce=walnut, code="grade1", name="一级")
    refused(NoPriceInForce, "核桃一级", **intake_kwargs(setup, produce_code="walnut"))
    early = timezone.make_aware(datetime.datetime(2019, 12, 31, 10, 0))
    refused(NoPriceInForce, "2019-12-31 没有生效的收购价", **intake_kwargs(setup, at=early))


def test_a_user_who_is_not_collection_point_staff_may_not_record(setup):
    station = StationFactory()
    for user in (
        UserFactory(),
        county_user(),
        staff_at(station, roles.SORTING_STATION_STAFF),
    ):
        error = refused(IntakeNotAllowed, "只有收购点工作人员", **intake_kwargs(setup, staff=user))
        assert isinstance(error, NotAllowed) and error.status == 403


def test_point_staff_not_assigned_to_a_collection_point_may_not_record(setup):
    unassigned = UserFactory(role=roles.COLLECTION_POINT_STAFF)
    refused(IntakeNotAllowed, "没有被分配到收购点", **intake_kwargs(setup, staff=unassigned))
    at_station = staff_at(StationFactory(), roles.COLLECTION_POINT_STAFF)
    refused(IntakeNotAllowed, "没有被分配到收购点", **intake_kwargs(setup, staff=at_station))


def test_recording_an_intake_takes_a_bounded_number_of_queries(setup, django_assert_max_num_queries):
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018  as in a running server: URLs loaded, the admin's snippets registered
    intake_record(**intake_kwargs(setup))  # warms the staff's cached assignment and villages
    with django_assert_max_num_queries(12):
        intake_record(**intake_kwargs(setup))
    kwargs = intake_kwargs(setup)
    intake_record(**kwargs)
    with django_assert_max_num_queries(2):  # the id probe, then the record itself
        intake_record(**kwargs)


@pytest.mark.django_db(transaction=True)
def test_an_intake_is_two_statements_on_postgresql_with_its_checks_and_summary(django_assert_max_num_queries):
    """One read (client id, household, price, the day's count), then one write: on PostgreSQL
    lot, intake, movement, the ledger entry and its monthly summary are one statement, which in
    autocommit is its own transaction (no BEGIN/COMMIT). SQLite writes them one by one in a
    transaction: five inserts and the summary."""
    from django.urls import get_resolver

    from households.models import IncomeMonth

    get_resolver().url_patterns  # noqa: B018  as in a running server
    setup = point_setup()
    intake_record(**intake_kwargs(setup))  # warms the staff's cached assignment and villages
    limit = 2 if connection.vendor == "postgresql" else 8
    with django_assert_max_num_queries(limit) as captured:
        intake, created = intake_record(**intake_kwargs(setup))
    assert created
    data = [q["sql"] for q in captured.captured_queries if q["sql"].split()[0] not in ("BEGIN", "COMMIT")]
    assert len(data) == (2 if connection.vendor == "postgresql" else 6)
    assert Lot.objects.filter(pk=intake.lot_id, code=intake.lot.code).exists()
    assert LotMovement.objects.filter(lot_id=intake.lot_id, kind="intake", quantity_kg=intake.weight_kg).count() == 1
    month = IncomeMonth.objects.get(household=setup.household, kind="intake")
    assert (month.amount, month.entries) == (IncomeEntry.objects.filter(household=setup.household).aggregate(s=Sum("amount"))["s"], 2)
    kwargs = intake_kwargs(setup)
    intake_record(**kwargs)
    with django_assert_max_num_queries(2):  # the read that finds the client id, then the first record
        again, created = intake_record(**kwargs)
    assert not created


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")
def test_an_intakes_two_statements_are_prepared_once_and_reused():
    """PostgreSQL plans the intake's read and write once per connection, not once per intake."""
    setup = point_setup()
    for _n in range(3):
        intake_record(**intake_kwargs(setup))
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements")
        runs = {statement[:22]: n for statement, n in cursor.fetchall()
                if "logistics_lot" in statement or "logistics_intake" in statement}
    assert runs == {"SELECT h.id, h.village": 3, "WITH l AS (INSERT INTO": 3}


# --- prices ------------------------------------------------------------------------------------


def test_price_in_force_is_the_latest_from_that_day_or_before(setup):
    grade = setup.grades["grade1"]
    purchase_price_set(grade=grade, price_per_kg="13.00", effective_from=datetime.date(2025, 9, 1), author=None)
    purchase_price_set(grade=grade, price_per_kg="15.00", effective_from=datetime.date(2025, 10, 1), author=None)
    assert price_in_force(grade=grade, on=datetime.date(2025, 8, 31)) == Decimal("12.00")
    assert price_in_force(grade=grade, on=datetime.date(2025, 9, 1)) == Decimal("13.00")
    assert price_in_force(grade=grade, on=datetime.date(2025, 9, 30)) == Decimal("13.00")
    assert price_in_force(grade=grade, on=datetime.date(2026, 1, 1)) == Decimal("15.00")
    with pytest.raises(NoPriceInForce) as info:
        price_in_force(grade=grade, on=datetime.date(2019, 1, 1))
    assert "板栗一级" in info.value.message


def test_setting_a_price_adds_a_row_and_setting_it_again_changes_nothing(setup):
    grade = setup.grades["grade1"]
    author = county_user()
    row = purchase_price_set(grade=grade, price_per_kg="13.005", effective_from=datetime.date(2025, 9, 1), author=author)
    assert (row.price_per_kg, row.created_by) == (Decimal("13.01"), author)
    again = purchase_price_set(grade=grade, price_per_kg="13.01", effective_from=datetime.date(2025, 9, 1), author=author)
    assert again.pk == row.pk
    assert PurchasePrice.objects.filter(grade=grade).count() == 2


def test_a_different_price_for_a_day_that_has_one_is_refused(setup):
    grade = setup.grades["grade1"]
    with pytest.raises(PriceAlreadySet) as info:
        purchase_price_set(grade=grade, price_per_kg="99", effective_from=datetime.date(2020, 1, 1), author=None)
    assert info.value.status == 409
    assert PurchasePrice.objects.get(grade=grade).price_per_kg == Decimal("12.00")


@pytest.mark.parametrize("price", ["0", "-3", "abc", "NaN"])
def test_a_price_that_is_not_positive_is_refused(setup, price):
    with pytest.raises(DomainError):
        purchase_price_set(grade=setup.grades["grade1"], price_per_kg=price, effective_from=datetime.date(2025, 1, 1), author=None)
    assert PurchasePrice.objects.filter(grade=setup.grades["grade1"]).count() == 1


# --- voids -------------------------------------------------------------------------------------


def test_a_void_writes_the_void_a_reversing_movement_and_reverses_the_payment(setup):
    intake, _ = intake_record(**intake_kwargs(setup, weight_kg="10"))
    void = intake_void(intake=intake, reason="称错了", author=setup.staff)

    assert (void.intake, void.reason, void.author) == (intake, "称错了", setup.staff)
    rows = list(LotMovement.objects.filter(lot=intake.lot).values_list("kind", "quantity_kg", "reason", "author_id"))
    assert rows == [
        (MovementKind.INTAKE, Decimal("10.000"), "", setup.staff.pk),
        (MovementKind.VOID, Decimal("-10.000"), "称错了", setup.staff.pk),
    ]
    entries = list(IncomeEntry.objects.filter(source_code=intake.lot.code).order_by("id"))
    assert [e.amount for e in entries] == [Decimal("120.00"), Decimal("-120.00")]
    assert entries[1].reverses == entries[0]
    assert (entries[1].reason, entries[1].author) == ("称错了", setup.staff)
    assert sum(e.amount for e in IncomeEntry.objects.filter(household=setup.household)) == 0


def test_the_county_office_may_void(setup):
    intake, _ = intake_record(**intake_kwargs(setup))
    intake_void(intake=intake, reason="核查", author=county_user())
    assert IntakeVoid.objects.filter(intake=intake).exists()


def test_staff_of_another_point_may_not_void(setup):
    intake, _ = intake_record(**intake_kwargs(setup))
    other = point_setup()
    with pytest.raises(IntakeNotAllowed):
        intake_void(intake=intake, reason="x", author=other.staff)
    assert not IntakeVoid.objects.exists()


def test_a_void_needs_a_reason(setup):
    intake, _ = intake_record(**intake_kwargs(setup))
    with pytest.raises(DomainError) as info:
        intake_void(intake=intake, reason="  ", author=setup.staff)
    assert info.value.message == "请填写作废原因。"
    assert LotMovement.objects.count() == 1


def test_voiding_twice_is_refused_with_a_clear_message(setup):
    intake, _ = intake_record(**intake_kwargs(setup))
    intake_void(intake=intake, reason="重复录入", author=setup.staff)
    before = counts()
    with pytest.raises(VoidRefused) as info:
        intake_void(intake=intake, reason="再来一次", author=setup.staff)
    assert info.value.message == f"收购 {intake.lot.code} 已经作废。"
    assert info.value.status == 409
    assert counts() == before


def test_a_void_is_refused_once_the_lot_has_left_the_point(setup):
    intake, _ = intake_record(**intake_kwargs(setup, weight_kg="10"))
    station = setup.point.ships_to
    LotMovement.objects.create(lot=intake.lot, facility=setup.point, kind=MovementKind.SHIP_OUT, quantity_kg=Decimal("-4"))
    LotMovement.objects.create(lot=intake.lot, facility=station, kind=MovementKind.RECEIVE, quantity_kg=Decimal("4"))
    before = counts()
    with pytest.raises(VoidRefused) as info:
        intake_void(intake=intake, reason="晚了", author=setup.staff)
    assert "已离开收购点" in info.value.message
    assert counts() == before
    assert not IntakeVoid.objects.exists()


def test_a_void_is_refused_once_part_of_the_lot_was_packed_or_lost(setup):
    intake, _ = intake_record(**intake_kwargs(setup, weight_kg="10"))
    LotMovement.objects.create(lot=intake.lot, facility=setup.point, kind=MovementKind.LOSS, quantity_kg=Decimal("-0.5"))
    with pytest.raises(VoidRefused):
        intake_void(intake=intake, reason="晚了", author=setup.staff)


# --- concurrency ---------------------------------------------------------------------------------


def skip_precheck(monkeypatch):
    """Make the first look-up of a client id (per thread) miss, as when two posts arrive together."""
    real = intake_service._existing_intake
    seen = threading.local()

    def first_misses(client_id):
        if not getattr(seen, "done", False):
            seen.done = True
            return None
        return real(client_id)

    monkeypatch.setattr(intake_service, "_existing_intake", first_misses)


def test_a_post_that_loses_the_race_on_the_client_id_returns_the_winner_and_writes_nothing(setup, monkeypatch):
    kwargs = intake_kwargs(setup)
    first, _ = intake_record(**kwargs)
    before = counts()
    skip_precheck(monkeypatch)
    again, created = intake_record(**kwargs)
    assert (again.pk, created) == (first.pk, False)
    assert counts() == before


def test_a_racing_post_with_different_content_is_a_conflict(setup, monkeypatch):
    kwargs = intake_kwargs(setup)
    intake_record(**kwargs)
    skip_precheck(monkeypatch)
    refused(IntakeConflict, "客户端编号", **{**kwargs, "weight_kg": "3"})



@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_client_id_posted_from_two_threads_makes_one_intake(on_postgres, monkeypatch):
    setup = point_setup()
    kwargs = intake_kwargs(setup)
    barrier = threading.Barrier(2)
    skip_precheck(monkeypatch)  # both threads go on to write: the unique client id must decide
    results: list = []
    errors: list = []

    def post():
        try:
            barrier.wait()
            results.append(intake_record(**kwargs))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert sorted(created for _i, created in results) == [False, True]
    assert len({i.pk for i, _c in results}) == 1
    assert Intake.objects.count() == 1
    assert Lot.objects.count() == 1
    assert LotMovement.objects.count() == 1
    assert IncomeEntry.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_intakes_at_one_point_get_distinct_lot_codes(on_postgres):
    setup = point_setup(households=4)
    barrier = threading.Barrier(4)
    errors: list = []

    def post(household):
        try:
            barrier.wait()
            intake_record(**intake_kwargs(setup, household_number=household.number))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(h,)) for h in setup.households]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    codes = list(Lot.objects.values_list("code", flat=True))
    assert len(codes) == len(set(codes)) == 4



def test_points_whose_long_codes_share_a_beginning_get_lot_codes_of_their_own():
    first, second = point_setup(), point_setup()
    Facility = type(first.point)
    Facility.objects.filter(pk=first.point.pk).update(code="CP-611025103001-A")
    Facility.objects.filter(pk=second.point.pk).update(code="CP-611025103001-B")
    first.point.refresh_from_db()
    second.point.refresh_from_db()
    a, _ = intake_record(**intake_kwargs(first))
    b, _ = intake_record(**intake_kwargs(second))
    assert a.lot.code != b.lot.code
    assert a.lot.code.endswith("-0001") and b.lot.code.endswith("-0001")


def test_a_taken_lot_code_moves_on_past_the_highest_code_of_the_day():
    setup = point_setup()
    first, _ = intake_record(**intake_kwargs(setup))
    prefix = first.lot.code[: -len("0001")]
    # Codes taken out of band (e.g. an earlier sync) further along the day's sequence:
    Lot.objects.create(code=f"{prefix}0002", grade=first.grade, household=first.household, origin=setup.point, weight_kg=1)
    Lot.objects.create(code=f"{prefix}0007", grade=first.grade, household=first.household, origin=setup.point, weight_kg=1)
    second, _ = intake_record(**intake_kwargs(setup))
    assert second.lot.code == f"{prefix}0008"
