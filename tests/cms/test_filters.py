"""The listing's filter form: its widgets' HTML remembered per process is the HTML the templates write."""

import pytest
from django.forms.renderers import DjangoTemplates
from django.utils import translation

from cms.filters import ProductPageFilter
from cms.models import ProductPage
from tests.cms.factories import catalogue

pytestmark = pytest.mark.django_db


def _form_html(data, category):
    form = ProductPageFilter(data or None, queryset=ProductPage.objects.none(), produce_category=category).form
    return "".join(str(form[name]) for name in form.fields)


def _plain_html(data, category):
    form = ProductPageFilter(data or None, queryset=ProductPage.objects.none(), produce_category=category).form
    form.renderer = DjangoTemplates()
    return "".join(str(form[name]) for name in form.fields)


@pytest.mark.parametrize("data", [{}, {"sort": "-price", "in_stock": "on", "price_min": "10.50"}, {"price_min": "cheap"}])
def test_the_remembered_filter_widgets_are_what_the_templates_write(data):
    cat = catalogue(1)
    township = cat.products[0].sku.batches.get().station.township
    data = {**data, "township": str(township.pk)} if data else data
    for language in ("zh-hans", "en"):
        with translation.override(language):
            _form_html(data, cat.category.category)  # remembered
            assert _form_html(data, cat.category.category) == _plain_html(data, cat.category.category)


def test_a_new_township_a_renamed_one_a_selected_one_and_the_language_each_show_at_once():
    from tests.households.factories import TownshipFactory

    cat = catalogue(1)
    category = cat.category.category
    first = _form_html({}, category)
    township = TownshipFactory(name="云盖寺镇")
    added = _form_html({}, category)
    assert "云盖寺镇" in added and "云盖寺镇" not in first
    township.name = "青铜关镇"
    township.save()
    renamed = _form_html({}, category)
    assert "青铜关镇" in renamed and "云盖寺镇" not in renamed
    selected = _form_html({"township": str(township.pk)}, category)
    assert f'<option value="{township.pk}" selected>' in selected
    assert f'<option value="{township.pk}" selected>' not in _form_html({}, category)
    with translation.override("en"):
        english = _form_html({}, category)
    with translation.override("zh-hans"):
        chinese = _form_html({}, category)
    assert "All townships" in english and "All townships" not in chinese
