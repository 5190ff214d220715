import io

import pytest
from django.core.management import call_command

DEMO_ROLES = ["county", "point", "station", "shop", "employee"]


@pytest.fixture
def demo_county(db, settings):
    """The seeded demo county (small): one login per role, orders, batches, a settlement run."""
    settings.ALLOWED_HOSTS = ["*"]
    call_command("seed_demo", households=20, stdout=io.StringIO())
