import pytest
from django.core.cache import cache

from cms.cache import bump_catalogue_version


@pytest.fixture(autouse=True)
def _fresh_page_cache(settings):
    settings.RELIEF_PAGE_CACHE = True
    cache.clear()
    bump_catalogue_version()
    yield
    cache.clear()
