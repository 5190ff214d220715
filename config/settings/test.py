"""The test suite: same as the default, with fast hashing and no file system leftovers."""

import tempfile

from .base import *  # noqa: F403
from .base import CACHES, env

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = tempfile.mkdtemp(prefix="relief-media-")
PRIVATE_MEDIA_ROOT = tempfile.mkdtemp(prefix="relief-private-")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "private": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": PRIVATE_MEDIA_ROOT}},
}
# Keep test processes from sharing one Redis cache namespace with a developer's server.
if CACHES["default"]["BACKEND"].endswith("RedisCache"):
    CACHES["default"]["KEY_PREFIX"] = env("CACHE_KEY_PREFIX", default="relief-test")

# Tasks run eagerly in tests even when REDIS_URL is set; the real-worker tests switch this off
# for themselves (tests/conftest.py: celery_worker_process).
CELERY_TASK_ALWAYS_EAGER = True

# Tests see stock badges change at once; tests/cms/test_stock_badge_window.py sets a window.
STOREFRONT_STOCK_BADGE_SECONDS = 0

# Wagtail's renditions in a cache of their own, emptied before each test (tests/conftest.py): the
# test database is rolled back between tests and gives the next test's image the same id and file
# hash, so a rendition cached by one test would stand for a row the next test never made.
CACHES = {**CACHES, "renditions": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "relief-test-renditions"}}
