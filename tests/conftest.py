"""Fixtures shared by every test module. App-specific factories live in tests/<app>/factories.py.

``RELIEF_CI_STRICT=1`` (set by .ci/run) turns the "needs PostgreSQL / Redis / a browser" skips
into failures, so a CI run cannot pass by skipping the tests that matter most.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
STRICT = os.environ.get("RELIEF_CI_STRICT") == "1"


def skip_or_fail(reason: str) -> None:
    if STRICT:
        pytest.fail(f"required in CI but unavailable: {reason}")
    pytest.skip(reason)


@pytest.fixture
def on_postgres():
    """For row-lock and concurrency tests: skip (fail in CI) unless the database is PostgreSQL."""
    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL: run with DATABASE_URL=postgres://… (.ci/run does)")


def _database_url_for_test_db() -> str:
    s = connection.settings_dict
    if connection.vendor == "postgresql":
        return f"postgres://{s['USER'] or 'postgres'}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    return f"sqlite:///{s['NAME']}"


@pytest.fixture
def celery_worker_process(transactional_db):
    """A real ``celery worker`` process on Redis, reading the test database.

    Yields a function ``start()`` -> Popen so that a test may kill and restart it.
    """
    if not settings.REDIS_URL:
        skip_or_fail("needs REDIS_URL for a real Celery worker")
    if connection.vendor != "postgresql":
        skip_or_fail("a worker process needs a database it can share: PostgreSQL")
    from config.celery_app import app

    app.control.purge()
    app.conf.task_always_eager = False
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url_for_test_db(),
        "REDIS_URL": settings.REDIS_URL,
    }
    procs: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        hostname = f"test-{os.getpid()}-{len(procs)}@%h"
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=WARNING",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", hostname],
            cwd=ROOT,
            env=env,
        )
        procs.append(proc)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"celery worker exited with {proc.returncode}")
            replies = app.control.ping(timeout=0.5) or []
            if any(hostname.split("@")[0] in name for r in replies for name in r):
                return proc
        raise RuntimeError("celery worker did not answer a ping within 30 s")

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    app.control.purge()
    app.conf.task_always_eager = True


@pytest.fixture(autouse=True)
def _no_renditions_cached_by_an_earlier_test():
    """config/settings/test.py: Wagtail's rendition cache is the test process's own."""
    from django.core.cache import caches

    caches["renditions"].clear()
