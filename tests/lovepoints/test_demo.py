"""The demo county's love points: two villages with a few months reviewed and some redemptions,
a `village` login, and books that balance; seeding twice changes nothing."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import authenticate

from core.reconcile import registered_checks, run_checks
from households import demo as households_demo
from lovepoints import demo
from lovepoints.models import Award, PointsEntry, Redemption, ReviewMonth

pytestmark = pytest.mark.django_db


def test_the_demo_fills_two_villages_with_months_of_awards_and_redemptions():
    context = households_demo.seed(households=600, stdout=io.StringIO(), context={})
    demo.seed(households=600, stdout=io.StringIO(), context=context)
    approved = ReviewMonth.objects.filter(status="approved")
    assert approved.values("village").distinct().count() == 2 and approved.values("month").distinct().count() >= 2
    assert Redemption.objects.exists() and PointsEntry.objects.filter(kind="award").exists()
    assert authenticate(username="village", password=households_demo.DEMO_PASSWORD) is not None
    counts = (Award.objects.count(), PointsEntry.objects.count(), Redemption.objects.count())
    demo.seed(households=600, stdout=io.StringIO(), context=context)
    assert (Award.objects.count(), PointsEntry.objects.count(), Redemption.objects.count()) == counts
    checks = [name for name in registered_checks() if name.startswith("love_points")]
    assert checks and run_checks(checks) == {name: [] for name in checks}
