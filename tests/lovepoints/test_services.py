"""Love points: the cap, the village scope, approval, append-only corrections, redemptions that
never overdraw, goods that never go below zero, and rules that never rewrite earlier awards."""

from __future__ import annotations

import datetime
import threading
import uuid

import pytest
from django.db import connection

from core.errors import ConflictError, NotAllowed
from core.ledger import AppendOnlyError
from core.reconcile import run_checks
from lovepoints import services
from lovepoints.models import Award, GoodsItem, PointsAccount, PointsEntry, ReviewMonth
from lovepoints.selectors import household_points, village_board
from tests.households.factories import UserFactory
from tests.lovepoints.factories import last_month, this_month, world

pytestmark = pytest.mark.django_db

LOVE_CHECKS = ["love_points_balances", "love_points_awards", "love_points_redemptions", "love_points_goods"]


def balances_reconcile():
    assert run_checks(LOVE_CHECKS) == {name: [] for name in LOVE_CHECKS}


def test_an_award_takes_the_categorys_points_and_counts_only_once_its_month_is_approved():
    w = world()
    h = w.households[0]
    award = w.award(h, "diligence")
    assert award.points == 10
    assert household_points(h)["balance"] == 0  # entered, not yet approved
    assert w.approve() == 10
    points = household_points(h)
    assert (points["earned"], points["redeemed"], points["balance"]) == (10, 0, 10)
    assert points["months"][-2] == {"month": last_month().strftime("%Y-%m"), "awarded": 10, "redeemed": 0}
    balances_reconcile()


def test_a_household_never_passes_the_monthly_cap_and_the_refusal_names_it():
    w = world(cap=25)
    h = w.households[0]
    w.award(h, "diligence")
    w.award(h, "filial")
    with pytest.raises(services.OverMonthlyCap) as refused:
        w.award(h, "volunteer")
    assert "25" in refused.value.message and h.head_name in refused.value.message
    w.award(h, "hygiene")  # 25 exactly is allowed
    assert Award.objects.filter(household=h).count() == 3


def test_a_partial_award_may_be_less_than_the_category_but_never_more():
    w = world()
    h = w.households[0]
    assert w.award(h, "diligence", points=4).points == 4
    with pytest.raises(services.LovePointsError):
        w.award(h, "filial", points=11)
    with pytest.raises(services.LovePointsError):
        w.award(h, "filial", points=0)


def test_one_category_once_a_month_per_household():
    w = world()
    h = w.households[0]
    w.award(h, "diligence")
    with pytest.raises(services.AlreadyAwarded):
        w.award(h, "diligence")


def test_village_staff_award_only_their_own_villages_households_and_others_may_not_award_at_all():
    w = world()
    with pytest.raises(services.OutsideVillage):
        w.award(w.others[0])
    shop = UserFactory(username="lp-shop", role="supermarket_staff")
    with pytest.raises(NotAllowed):
        services.award_record(author=shop, household=w.households[0], month=last_month(), category_code="diligence")
    with pytest.raises(NotAllowed):
        services.award_record(author=w.county, household=w.households[0], month=last_month(), category_code="diligence")
    assert not Award.objects.exists()


def test_a_month_not_yet_begun_cannot_be_reviewed():
    w = world()
    future = (this_month() + datetime.timedelta(days=40)).replace(day=1)
    with pytest.raises(services.LovePointsError):
        w.award(w.households[0], month=future)


def test_the_same_client_id_returns_the_same_award_and_other_content_is_refused():
    w = world()
    h = w.households[0]
    client_id = uuid.uuid4()
    first, created = services.award_record(author=w.staff, household=h, month=last_month(), category_code="diligence", client_id=client_id)
    again, created_again = services.award_record(author=w.staff, household=h, month=last_month(), category_code="diligence", client_id=client_id)
    assert created and not created_again and first.pk == again.pk
    with pytest.raises(services.ClientIdConflict):
        services.award_record(author=w.staff, household=h, month=last_month(), category_code="filial", client_id=client_id)
    assert Award.objects.count() == 1


def test_awards_are_append_only_and_a_correction_is_a_reversing_award_with_a_reason():
    w = world()
    h = w.households[0]
    award = w.award(h, "diligence")
    with pytest.raises(AppendOnlyError):
        award.points = 5
        award.save()
    with pytest.raises(AppendOnlyError):
        award.delete()
    with pytest.raises(AppendOnlyError):
        Award.objects.filter(pk=award.pk).update(points=1)
    with pytest.raises(services.LovePointsError):
        services.award_reverse(award=award, reason=" ", author=w.staff)
    reversal = services.award_reverse(award=award, reason="记错了户", author=w.staff)
    assert (reversal.points, reversal.reverses_id, reversal.reason) == (-10, award.pk, "记错了户")
    with pytest.raises(ConflictError):
        services.award_reverse(award=award, reason="again", author=w.staff)
    # the category is free again for the month
    assert w.award(h, "diligence").points == 10


def test_after_approval_only_the_county_corrects_and_the_correction_leaves_the_balance():
    w = world()
    h = w.households[0]
    award = w.award(h, "diligence")
    w.award(h, "filial")
    w.approve()
    with pytest.raises(services.ReviewClosed):
        services.award_reverse(award=award, reason="错误", author=w.staff)
    with pytest.raises(services.ReviewClosed):
        w.award(h, "hygiene")
    services.award_reverse(award=award, reason="复核不实", author=w.county)
    assert household_points(h)["balance"] == 10
    assert list(PointsEntry.objects.filter(household=h).values_list("points", "balance_after")) == [(10, 10), (10, 20), (-10, 10)]
    balances_reconcile()


def test_a_correction_after_approval_never_takes_a_balance_below_zero():
    w = world()
    h = w.households[0]
    award = w.award(h, "filial")
    w.approve()
    w.redeem(h, [(w.items[1].pk, 2)])  # 10 points spent of 10
    with pytest.raises(services.InsufficientPoints):
        services.award_reverse(award=award, reason="复核不实", author=w.county)
    assert household_points(h)["balance"] == 0
    balances_reconcile()


def test_a_redemption_deducts_points_and_takes_the_goods_out_of_stock():
    w = world()
    h = w.households[0]
    w.give_points(h)  # 30
    oil, towel = w.items
    redemption, created = w.redeem(h, [(oil.pk, 1), (towel.pk, 2)])
    assert created and redemption.points == 30
    assert household_points(h) | {"months": None} == {"earned": 30, "redeemed": 30, "balance": 0, "months": None}
    assert GoodsItem.objects.get(pk=oil.pk).on_hand == 4 and GoodsItem.objects.get(pk=towel.pk).on_hand == 8
    balances_reconcile()


def test_not_enough_points_is_refused_with_the_balance_and_writes_nothing():
    w = world()
    h = w.households[0]
    w.give_points(h, codes=("hygiene",))  # 5
    with pytest.raises(services.InsufficientPoints) as refused:
        w.redeem(h, [(w.items[0].pk, 1)])
    assert refused.value.balance == 5 and refused.value.needed == 20
    assert refused.value.as_dict()["balance"] == 5
    assert GoodsItem.objects.get(pk=w.items[0].pk).on_hand == 5
    assert not PointsEntry.objects.filter(kind="redemption").exists()


def test_goods_short_or_of_another_village_are_refused_naming_each():
    w = world()
    h = w.households[0]
    w.give_points(h)
    with pytest.raises(services.InsufficientGoods) as short:
        w.redeem(h, [(w.items[1].pk, 11)])
    assert "毛巾" in short.value.message
    other_item = services.goods_item_create(author=w.other_staff, name="肥皂", unit="块", points_price=2)
    services.goods_receive(author=w.other_staff, item=other_item, quantity=5)
    with pytest.raises(services.LovePointsError):
        w.redeem(h, [(other_item.pk, 1)])
    with pytest.raises(services.OutsideVillage):
        w.redeem(w.others[0], [(other_item.pk, 1)])
    assert household_points(h)["balance"] == 30


def test_the_same_redemption_client_id_is_one_redemption():
    w = world()
    h = w.households[0]
    w.give_points(h)
    client_id = uuid.uuid4()
    first, _ = w.redeem(h, [(w.items[1].pk, 1)], client_id=client_id)
    again, created = w.redeem(h, [(w.items[1].pk, 1)], client_id=client_id)
    assert first.pk == again.pk and not created
    with pytest.raises(services.ClientIdConflict):
        w.redeem(h, [(w.items[1].pk, 2)], client_id=client_id)
    assert household_points(h)["balance"] == 25


def test_new_rules_never_change_awards_already_made():
    w = world()
    h = w.households[0]
    w.award(h, "diligence")
    w.approve()
    services.rule_set_create(effective_from=this_month(), monthly_cap=50,
                             categories=[("diligence", "勤劳致富", 20)], author=w.county)
    assert Award.objects.get(household=h).points == 10
    assert ReviewMonth.objects.get(village=w.village, month=last_month()).rule_set_id == w.rules.pk
    assert w.award(h, "diligence", month=this_month()).points == 20
    with pytest.raises(services.LovePointsError):  # a month already reviewed keeps its rules
        services.rule_set_create(effective_from=last_month(), monthly_cap=10, categories=[("x", "x", 1)], author=w.county)


def test_only_the_county_sets_rules_and_approves():
    w = world()
    h = w.households[0]
    w.award(h)
    review = services.review_month_open(village=w.village, month=last_month())
    services.review_submit(review=review, author=w.staff)
    with pytest.raises(NotAllowed):
        services.review_approve(review=review, author=w.staff)
    with pytest.raises(NotAllowed):
        services.rule_set_create(effective_from=this_month(), monthly_cap=5, categories=[("a", "a", 1)], author=w.staff)


def test_a_stocktake_posts_the_differences_and_goods_still_reconcile():
    w = world()
    oil, towel = w.items
    posted = services.goods_stocktake(author=w.staff, village=w.village, counts={oil.pk: 4, towel.pk: 10})
    assert [(m.item_id, m.quantity, m.kind) for m in posted] == [(oil.pk, -1, "stocktake")]
    assert GoodsItem.objects.get(pk=oil.pk).on_hand == 4
    with pytest.raises(services.OutsideVillage):
        services.goods_stocktake(author=w.other_staff, village=w.village, counts={oil.pk: 1})
    balances_reconcile()


def test_reconcile_names_a_household_whose_account_was_changed_outside_the_services():
    w = world()
    h = w.households[0]
    w.give_points(h)
    PointsAccount.objects.filter(pk=h.pk).update(earned=40, balance=40)
    problems = run_checks(["love_points_balances"])["love_points_balances"]
    assert problems and str(h.pk) in problems[0]
    GoodsItem.objects.filter(pk=w.items[0].pk).update(on_hand=99)
    assert run_checks(["love_points_goods"])["love_points_goods"]


def test_the_board_ranks_households_by_the_months_points_with_names_only():
    w = world()
    a, b, c = w.households
    w.award(a, "hygiene")
    for code in ("diligence", "filial"):
        w.award(b, code)
    w.award(c, "diligence")
    w.award(c, "hygiene")
    board = village_board(village=w.village, month=last_month())
    assert [(r["rank"], r["name"], r["points"]) for r in board] == [(1, b.head_name, 20), (2, c.head_name, 15), (3, a.head_name, 5)]
    assert all(set(r) == {"rank", "name", "points"} for r in board)


@pytest.mark.django_db(transaction=True)
def test_two_redemptions_at_once_never_take_a_balance_below_zero(on_postgres):
    w = world(goods=((("毛巾", "条", 5), 50),))
    h = w.households[0]
    w.give_points(h, codes=("diligence",))  # 10 points: room for one redemption of 10, not two
    item = w.items[0]
    barrier = threading.Barrier(4)
    results = []

    def attempt():
        try:
            barrier.wait()
            w.redeem(h, [(item.pk, 2)])
            results.append("ok")
        except services.InsufficientPoints:
            results.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["ok", "refused", "refused", "refused"]
    assert household_points(h)["balance"] == 0
    assert GoodsItem.objects.get(pk=item.pk).on_hand == 48
    balances_reconcile()
