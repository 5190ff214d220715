"""The embedded default and production settings."""

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def test_default_language_and_time_zone_are_the_countys():
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert ("en", "English") in settings.LANGUAGES


def test_sqlite_writers_wait_instead_of_failing():
    options = settings.DATABASES["default"].get("OPTIONS", {})
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        assert options["transaction_mode"] == "IMMEDIATE"
        assert options["timeout"] >= 20


def _manage(*args, **env):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, capture_output=True, text=True,
        # The browser tests' DJANGO_ALLOW_ASYNC_UNSAFE must not leak into a deploy check.
        env={k: v for k, v in {**os.environ, **env}.items() if k not in ("DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE") or k in env},
        timeout=120,
    )


def test_production_settings_pass_the_deploy_check_with_no_warnings():
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="x" * 20 + "a-long-random-production-secret-key-0123456789",
        DJANGO_ALLOWED_HOSTS="relief.example.org",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_every_app_periodic_task_reaches_the_beat_schedule():
    from config.celery_app import app, collect_beat_schedule

    schedule = collect_beat_schedule()
    app.finalize()
    for name in schedule:
        assert name in app.conf.beat_schedule
