"""Persistent PostgreSQL connections are health-checked at most every RELIEF_DB_HEALTH_CHECK_SECONDS
(core/db_backends/postgresql): a connection checked (or opened) just now is trusted for the next
request; one due is checked as Django checks it; a broken one is replaced, and a request that
found it broken makes the next one check it."""

from __future__ import annotations

import time

import pytest
from django.db import connection as proxy
from django.db import connections

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(proxy.vendor != "postgresql", reason="the health check is PostgreSQL's backend's"),
]


class _Default:
    """The default connection itself (its class's methods are patched, not the proxy's)."""

    def __getattr__(self, name):
        return getattr(connections["default"], name)

    def __setattr__(self, name, value):
        setattr(connections["default"], name, value)


connection = _Default()


@pytest.fixture
def checks(monkeypatch, settings):
    """Django's own checks (``is_usable``) counted, health checks on, the connection persistent."""
    settings.RELIEF_DB_HEALTH_CHECK_SECONDS = 5
    monkeypatch.setitem(connection.settings_dict, "CONN_HEALTH_CHECKS", True)
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 60)
    done = []
    usable = type(connections["default"]).is_usable

    def counted(self):
        done.append(time.monotonic())
        return usable(self)

    monkeypatch.setattr(type(connections["default"]), "is_usable", counted)
    return done


def _request() -> int:
    """One request's database use, as Django frames it: the connection is looked at when the
    request starts, used, and looked at again when it ends. Returns the backend's pid."""
    connection.close_if_unusable_or_obsolete()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    connection.close_if_unusable_or_obsolete()
    return pid


def test_the_backend_is_ours() -> None:
    from core.db_backends.postgresql.base import DatabaseWrapper

    assert isinstance(connections["default"], DatabaseWrapper)


def test_a_connection_checked_just_now_is_trusted_by_the_next_requests(checks) -> None:
    _request()
    connection.checked_at = time.monotonic()
    pids = {_request() for _ in range(5)}
    assert checks == [] and len(pids) == 1


def test_a_connection_due_is_checked_once_then_trusted(checks) -> None:
    _request()
    connection.checked_at = time.monotonic() - 6
    pids = {_request() for _ in range(3)}
    assert len(checks) == 1 and len(pids) == 1
    assert time.monotonic() - connection.checked_at < 1


def test_with_no_interval_every_request_is_checked_as_djangos_own(checks, settings) -> None:
    settings.RELIEF_DB_HEALTH_CHECK_SECONDS = 0
    _request()
    before = len(checks)
    for _ in range(3):
        _request()
    assert len(checks) - before == 3


def test_a_broken_connection_due_for_a_check_is_replaced_without_failing_the_request(checks) -> None:
    first = _request()
    connection.checked_at = time.monotonic() - 6
    _terminate(first)  # the server ends this backend (a restart, an idle timeout)
    assert _request() != first
    assert len(checks) == 1


def test_a_broken_connection_trusted_fails_one_statement_and_the_next_request_replaces_it(checks) -> None:
    from django.db import OperationalError

    first = _request()
    connection.checked_at = time.monotonic()
    _terminate(first)
    connection.close_if_unusable_or_obsolete()
    with pytest.raises(OperationalError), connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    connection.close_if_unusable_or_obsolete()  # the request ends: Django saw the error, checks, closes
    assert _request() != first


def _terminate(pid: int) -> None:
    import psycopg

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**{k: v for k, v in params.items() if k in ("host", "port", "user", "password", "dbname")}, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    time.sleep(0.05)
