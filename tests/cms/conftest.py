import pytest

from cms.cache import bump_catalogue_version


@pytest.fixture(autouse=True)
def _fresh_page_cache(settings):
    """Every test starts with no cached page: a new catalogue version makes earlier entries
    unreachable (no cache.clear(): on Redis that would flush the Celery broker's database too)."""
    settings.RELIEF_PAGE_CACHE = True
    bump_catalogue_version()
    yield
    bump_catalogue_version()
