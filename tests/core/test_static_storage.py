"""core.static_storage: production's manifest storage gives each name's hashed URL, worked out
once per process; a name the manifest lacks is refused every time."""

from __future__ import annotations

import json
from unittest import mock

import pytest
from django.test import override_settings

from core.static_storage import RememberingStaticFilesStorage


@pytest.fixture
def storage(tmp_path):
    (tmp_path / "staticfiles.json").write_text(json.dumps({
        "version": "1.1", "hash": "abc",
        "paths": {"css/site.css": "css/site.a33932b6c71a.css", "cms/storefront.css": "cms/storefront.9a3361b9b20f.css"},
    }))
    return RememberingStaticFilesStorage(location=str(tmp_path), base_url="/static/")


@override_settings(DEBUG=False)
def test_each_names_hashed_url_is_worked_out_once(storage):
    with mock.patch.object(storage, "stored_name", wraps=storage.stored_name) as stored_name:
        urls = [storage.url(name) for name in ("css/site.css", "cms/storefront.css", "css/site.css", "cms/storefront.css")]
    assert urls == ["/static/css/site.a33932b6c71a.css", "/static/cms/storefront.9a3361b9b20f.css"] * 2
    assert stored_name.call_count == 2


@override_settings(DEBUG=False)
def test_a_name_the_manifest_lacks_is_refused_every_time(storage):
    for _ in range(2):
        with pytest.raises(ValueError, match="Missing staticfiles manifest entry"):
            storage.url("css/missing.css")


@override_settings(DEBUG=True)
def test_debug_serves_the_names_unhashed(storage):
    assert storage.url("css/site.css") == "/static/css/site.css"
