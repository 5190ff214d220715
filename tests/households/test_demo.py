"""The demo county: real townships, about 150 villages, one login per role; idempotent."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from core import roles
from households import demo
from households.models import Household, Township, Village

pytestmark = pytest.mark.django_db


def _counts():
    return (Township.objects.count(), Village.objects.count(), Household.objects.count(), get_user_model().objects.count())


def test_seeding_the_registry_twice_changes_nothing():
    first = demo.seed(households=50, stdout=io.StringIO(), context={})
    counts = _counts()
    snapshot = list(Household.objects.order_by("number").values_list("number", "id_number", "head_name", "village_id"))
    second = demo.seed(households=50, stdout=io.StringIO(), context={})
    assert _counts() == counts
    assert list(Household.objects.order_by("number").values_list("number", "id_number", "head_name", "village_id")) == snapshot
    assert [v.pk for v in first["villages"]] == [v.pk for v in second["villages"]]
    assert set(first["users"]) == {"county", "point", "station", "shop", "cashier", "employee"}


def test_the_demo_county_has_zhenans_15_townships_and_about_150_villages():
    demo.seed(households=30, stdout=io.StringIO(), context={})
    assert Township.objects.count() == 15
    assert Township.objects.filter(name="永乐街道").exists() and Village.objects.filter(name="水峡村").exists()
    assert 140 <= Village.objects.count() <= 160
    assert Household.objects.count() == 30
    for household in Household.objects.all():
        household.full_clean()  # demo data passes the registry's own validation


def test_each_demo_login_has_its_role_and_the_demo_password():
    demo.seed(households=10, stdout=io.StringIO(), context={})
    User = get_user_model()
    for username, (role, _name) in demo.DEMO_USERS.items():
        user = User.objects.get(username=username)
        assert user.check_password(demo.DEMO_PASSWORD)
        assert roles.has_role(user, role)


def test_a_larger_second_seed_only_adds_households():
    demo.seed(households=20, stdout=io.StringIO(), context={})
    before = set(Household.objects.values_list("number", "id_number"))
    demo.seed(households=40, stdout=io.StringIO(), context={})
    after = set(Household.objects.values_list("number", "id_number"))
    assert before < after and len(after) == 40


def test_the_seed_demo_command_twice_changes_nothing():
    call_command("seed_demo", households=50, stdout=io.StringIO())
    counts = _counts()
    call_command("seed_demo", households=50, stdout=io.StringIO())
    assert _counts() == counts
    assert Household.objects.count() == 50
