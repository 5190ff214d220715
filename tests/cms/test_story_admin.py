"""The story's figure block (cms.blocks.StoryImageBlock, Wagtail's ImageBlock reading its images
with their renditions) works in the Wagtail admin as Wagtail's does: the edit form shows the
figure, and a figure saved through the page keeps its image, alt text and caption."""

import json

import pytest

from cms.models import ProductPage
from tests.cms.factories import catalogue, image

pytestmark = pytest.mark.django_db


def test_the_admin_edits_a_product_page_with_a_figure(admin_client):
    shop = catalogue(1, with_images=True)
    page = shop.pages[0]
    response = admin_client.get(f"/admin/pages/{page.pk}/edit/")
    assert response.status_code == 200
    html = response.content.decode()
    escaped = lambda text: json.dumps(text)[1:-1]  # noqa: E731  (telepath's JSON in the page)
    assert all(text in html or escaped(text) in html for text in ("板栗林", "栗园"))  # the figure's alt text and caption


def test_a_figure_saved_through_the_page_reads_back_with_its_alt_text_and_caption():
    shop = catalogue(1, with_images=True)
    page = ProductPage.objects.get(pk=shop.pages[0].pk)
    other = image("核桃林")
    page.body = [("figure", {"image": {"image": other, "decorative": False, "alt_text": "核桃林"}, "caption": "核桃"})]
    page.full_clean()
    page.save_revision().publish()
    again = ProductPage.objects.get(pk=page.pk)
    (figure,) = list(again.body)
    assert (figure.value["image"].pk, figure.value["image"].contextual_alt_text, figure.value["caption"]) == (other.pk, "核桃林", "核桃")
    assert again.body.raw_data[0]["value"]["image"] == {"image": other.pk, "decorative": False, "alt_text": "核桃林"}
