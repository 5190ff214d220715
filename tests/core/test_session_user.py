"""The session's user is read with its employee record in one statement, and its roles come from a
per-user cache entry that every change of its groups drops: a signed-in page pays for neither,
and a role given or taken away shows on the very next request."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cms.selectors import employee_for
from core import roles
from core.auth_backends import ModelBackend
from tests.households.factories import UserFactory
from tests.logistics.factories import CollectionPointFactory, staff_at
from tests.marketplace.factories import EmployeeFactory

pytestmark = pytest.mark.django_db


def test_the_session_user_comes_with_its_employee_and_employer_in_one_statement():
    employee = EmployeeFactory()
    with CaptureQueriesContext(connection) as ctx:
        user = ModelBackend().get_user(employee.user_id)
        assert employee_for(user) == employee
        assert employee_for(user).employer.name == employee.employer.name
    assert len(ctx.captured_queries) == 1


def _values(obj):
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def test_the_compiled_statement_returns_what_the_orm_returns():
    """Every column of the user, employee and employer as select_related reads them, with their
    types (dates as aware datetimes, not SQLite's text), and each record linked both ways."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    employee = EmployeeFactory()
    get_user_model().objects.filter(pk=employee.user_id).update(last_login=timezone.now())
    expected = get_user_model().objects.select_related("employee__employer").get(pk=employee.user_id)
    user = ModelBackend().get_user(str(employee.user_id))  # as the session holds it
    assert _values(user) == _values(expected)
    assert isinstance(user.last_login, type(expected.last_login)) and user.last_login.tzinfo is not None
    assert _values(user.employee) == _values(expected.employee)
    assert _values(user.employee.employer) == _values(expected.employee.employer)
    with CaptureQueriesContext(connection) as ctx:
        assert user.employee.user is user
    assert ctx.captured_queries == []
    assert not user._state.adding and user._state.db == expected._state.db


def test_no_session_user_for_an_id_that_is_not_there():
    assert ModelBackend().get_user(987_654_321) is None


def test_a_user_who_is_no_employee_is_known_as_such_without_another_statement():
    user_id = UserFactory(role=roles.COUNTY_OFFICE).pk
    with CaptureQueriesContext(connection) as ctx:
        assert employee_for(ModelBackend().get_user(user_id)) is None
    assert len(ctx.captured_queries) == 1


def test_an_inactive_user_gets_no_session_user():
    user = UserFactory()
    user.is_active = False
    user.save()
    assert ModelBackend().get_user(user.pk) is None


def test_roles_are_read_once_then_from_the_cache():
    user_id = UserFactory(role=roles.SUPERMARKET_STAFF).pk
    first = ModelBackend().get_user(user_id)
    assert roles.has_role(first, roles.SUPERMARKET_STAFF)
    again = ModelBackend().get_user(user_id)
    with CaptureQueriesContext(connection) as ctx:
        assert roles.has_role(again, roles.SUPERMARKET_STAFF)
        assert not roles.is_county_office(again)
    assert ctx.captured_queries == []


@pytest.mark.parametrize("how", ["user side", "group side", "group deleted", "user cleared", "group cleared"])
def test_a_role_taken_away_is_gone_on_the_next_read(how):
    roles.ensure_role_groups()
    user = UserFactory(role=roles.COUNTY_OFFICE)
    assert roles.is_county_office(ModelBackend().get_user(user.pk))  # cached now
    group = Group.objects.get(name=roles.COUNTY_OFFICE)
    if how == "user side":
        user.groups.remove(group)
    elif how == "group side":
        group.user_set.remove(user)
    elif how == "group deleted":
        group.delete()
    elif how == "user cleared":
        user.groups.clear()
    else:
        group.user_set.clear()
    assert not roles.is_county_office(ModelBackend().get_user(user.pk))


@pytest.mark.parametrize("how", ["user side", "group side", "group set"])
def test_a_role_given_shows_on_the_next_read(how):
    roles.ensure_role_groups()
    user = UserFactory()
    assert not roles.has_role(ModelBackend().get_user(user.pk), roles.VILLAGE_STAFF)  # cached: no roles
    group = Group.objects.get(name=roles.VILLAGE_STAFF)
    if how == "user side":
        user.groups.add(group)
    elif how == "group side":
        group.user_set.add(user)
    else:
        user.groups.set([group])
    assert roles.has_role(ModelBackend().get_user(user.pk), roles.VILLAGE_STAFF)


def test_a_new_user_under_a_reused_id_does_not_inherit_cached_roles():
    """A user deleted and another created with its id (SQLite reuses ids; test databases roll
    back): the new user's save drops what was cached for the id."""
    roles.ensure_role_groups()
    old = UserFactory(role=roles.COUNTY_OFFICE)
    old_id = old.pk
    assert roles.is_county_office(ModelBackend().get_user(old_id))
    old.delete()
    fresh = UserFactory.build(username="someone-else")
    fresh.pk = old_id
    fresh.save()
    assert not roles.is_county_office(ModelBackend().get_user(old_id))


def test_the_header_follows_a_role_change_between_two_requests(client):
    """Through the site: point staff see the intake screens; moved out of the role, the next page
    no longer offers them (and the intake page refuses)."""
    user = staff_at(CollectionPointFactory(), roles.COLLECTION_POINT_STAFF, username="pt-moving")
    client.force_login(user)
    header = lambda: client.get("/accounts/login/").content.decode().split("</header>")[0]  # noqa: E731
    assert 'href="/intake/"' in header()
    assert client.get("/intake/").status_code == 200
    user.groups.remove(Group.objects.get(name=roles.COLLECTION_POINT_STAFF))
    assert 'href="/intake/"' not in header()
    assert client.get("/intake/").status_code in (302, 403)
