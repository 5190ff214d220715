"""Card images: the ``<img srcset…>`` HTML remembered per process is Wagtail's, and an edited
image (new file, moved focal point, deleted renditions) shows at once."""

import io
from unittest import mock

import pytest
from django.core.files.images import ImageFile
from django.template import Context, Template
from PIL import Image as PILImage
from wagtail.images import get_image_model

from cms.templatetags import storefront_images
from tests.cms.factories import image

pytestmark = pytest.mark.django_db

ARGS = 'fill-{320x240,640x480} sizes="(min-width: 720px) 300px, 100vw" alt=alt loading="lazy" class="product-card-img"'
MEMO = Template("{% load storefront_images %}{% srcset_image_memo img " + ARGS + " %}")
WAGTAIL = Template("{% load wagtailimages_tags %}{% srcset_image img " + ARGS + " %}")


def _read(pk):
    """The image as the card selectors read it: with its renditions prefetched."""
    return get_image_model().objects.prefetch_renditions().get(pk=pk)


def _both(pk, alt=""):
    memo = MEMO.render(Context({"img": _read(pk), "alt": alt}))
    plain = WAGTAIL.render(Context({"img": _read(pk), "alt": alt}))
    return memo, plain


def _jpeg(colour, size=(800, 600)):
    buf = io.BytesIO()
    PILImage.new("RGB", size, colour).save(buf, "JPEG")
    return ImageFile(io.BytesIO(buf.getvalue()), name="new.jpg")


def test_the_remembered_card_image_is_the_html_wagtail_writes():
    pic = image("栗子")
    for alt in ("", "板栗 <大>"):
        for _ in range(3):  # creates the renditions, then remembers, then answers from memory
            memo, plain = _both(pic.pk, alt)
            assert memo == plain and "srcset=" in memo


def test_a_remembered_card_image_is_not_worked_out_again():
    pic = image()
    _both(pic.pk)  # the renditions exist now
    MEMO.render(Context({"img": _read(pic.pk), "alt": ""}))
    with mock.patch.object(storefront_images, "get_renditions_or_not_found", wraps=storefront_images.get_renditions_or_not_found) as worked_out:
        MEMO.render(Context({"img": _read(pic.pk), "alt": ""}))
    assert worked_out.call_count == 0


def test_renditions_made_by_this_render_are_not_remembered_under_the_key_read_before_them():
    pic = image()
    MEMO.render(Context({"img": _read(pic.pk), "alt": ""}))  # makes the renditions
    pic.renditions.all().delete()
    memo, plain = _both(pic.pk)  # read without renditions again: must not answer the deleted ones
    assert memo == plain


def test_a_new_file_a_moved_focal_point_and_deleted_renditions_each_show_at_once():
    pic = image()
    _both(pic.pk)
    first, _ = _both(pic.pk)

    pic = _read(pic.pk)
    pic.focal_point_x, pic.focal_point_y, pic.focal_point_width, pic.focal_point_height = 100, 80, 40, 40
    pic.save()
    moved, plain = _both(pic.pk)
    assert moved == plain and moved != first
    assert _both(pic.pk) == (moved, moved)

    pic = _read(pic.pk)
    pic.file = _jpeg((10, 200, 30))
    pic.width, pic.height = 800, 600
    pic.save()
    pic.renditions.all().delete()  # as Wagtail's edit view does when the file changes
    new_file, plain = _both(pic.pk)
    assert new_file == plain and new_file != moved
    assert _both(pic.pk) == (new_file, new_file)

    old = {r.file.name for r in pic.renditions.all()}
    pic.renditions.all().delete()
    regenerated, plain = _both(pic.pk)
    assert regenerated == plain
    assert _both(pic.pk) == (regenerated, regenerated)
    assert not any(name in regenerated for name in old - {r.file.name for r in pic.renditions.all()})


def test_an_image_read_without_its_renditions_is_rendered_as_wagtail_does():
    pic = image()
    html = MEMO.render(Context({"img": get_image_model().objects.get(pk=pic.pk), "alt": ""}))
    assert html == WAGTAIL.render(Context({"img": get_image_model().objects.get(pk=pic.pk), "alt": ""}))


def test_read_renditions_keeps_what_wagtails_prefetch_keeps_for_any_number_of_images(django_assert_num_queries):
    """The cards' renditions read by the compiled statement, 12 images a statement: the same
    renditions of each image as ``prefetch_renditions()`` reads, each pointing at its image, for
    images with none, one or several renditions, repeated in the list, over more than 12."""
    from cms.selectors import read_renditions

    pics = [image(f"p{n}", size=(200 + n, 150)) for n in range(14)]
    for n, pic in enumerate(pics):
        for spec in ("fill-320x240", "fill-640x480", "width-360")[: n % 4]:
            pic.get_rendition(spec)
    model = get_image_model()
    wanted = [*pics, pics[3], pics[0]]
    read = [model.objects.get(pk=pic.pk) for pic in wanted]
    with django_assert_num_queries(2):  # 14 distinct images: two statements
        read_renditions(read)
    with django_assert_num_queries(0):
        got = [sorted((r.pk, r.filter_spec, r.image.pk) for r in img.prefetched_renditions) for img in read]
    prefetched = [_read(pic.pk) for pic in wanted]
    assert got == [sorted((r.pk, r.filter_spec, r.image_id) for r in img.prefetched_renditions) for img in prefetched]
    assert sum(map(len, got)) > 14 and [] in got
    read_renditions([])  # no image: no statement
    few = [model.objects.get(pk=pics[2].pk)]
    with django_assert_num_queries(1):
        read_renditions(few)
    assert sorted(r.filter_spec for r in few[0].prefetched_renditions) == ["fill-320x240", "fill-640x480"]


def test_story_images_are_read_with_their_renditions_and_shown_as_wagtail_shows_them(django_assert_num_queries):
    """A story's figures: their images read with their renditions (one statement, and one more
    only for an image with no rendition yet), each figure's alt text kept, a repeated image a
    distinct instance, and the same ``<img>`` as Wagtail's ``{% srcset_image %}`` writes."""
    import re

    from cms.blocks import StoryBlock

    a, b = image("a", size=(900, 600)), image("b", size=(700, 500))
    for spec in ("width-360", "width-720", "width-1080", "fill-320x240"):
        a.get_rendition(spec)
    raw = [
        {"type": "figure", "value": {"image": {"image": a.pk, "decorative": False, "alt_text": "栗园"}, "caption": "一"}},
        {"type": "paragraph", "value": "<p>镇安大板栗</p>"},
        {"type": "figure", "value": {"image": {"image": b.pk, "decorative": True, "alt_text": ""}, "caption": ""}},
        {"type": "figure", "value": {"image": {"image": a.pk, "decorative": False, "alt_text": "采摘"}, "caption": ""}},
    ]
    block = StoryBlock()
    value = block.to_python(raw)
    with django_assert_num_queries(2):
        images = [child.value["image"] for child in value if child.block_type == "figure"]
    assert [i.pk for i in images] == [a.pk, b.pk, a.pk] and images[0] is not images[2]
    assert [(i.contextual_alt_text, i.decorative) for i in images] == [("栗园", False), ("", True), ("采摘", False)]
    assert sorted(r.pk for r in images[0].prefetched_renditions) == sorted(a.renditions.values_list("pk", flat=True))
    assert images[1].prefetched_renditions == [] and all(r.image.pk == a.pk for r in images[2].prefetched_renditions)
    html = block.render(value)
    wagtail = Template(
        '{% load wagtailimages_tags %}{% srcset_image img width-{360,720,1080} sizes="(min-width: 960px) 900px, 100vw" alt=alt loading="lazy" %}'
    )
    expected = [wagtail.render(Context({"img": get_image_model().objects.get(pk=pk), "alt": alt})) for pk, alt in ((a.pk, "栗园"), (b.pk, ""), (a.pk, "采摘"))]
    assert re.findall(r"<img[^>]*>", html) == expected
    again = block.to_python(raw)
    with django_assert_num_queries(1):  # b has its renditions now
        assert [child.value["image"].pk for child in again if child.block_type == "figure"] == [a.pk, b.pk, a.pk]
    assert block.render(again) == html


def test_a_story_whose_json_holds_an_image_id_as_text_or_a_missing_image_reads_as_wagtail_reads_it():
    """Hand-edited or imported JSON: an id as text names the image (Wagtail's single read takes it
    so; its bulk read gives none), a deleted image or a value that is no id gives no image, and none
    of them breaks the page."""
    from wagtail.blocks import StreamValue
    from wagtail.images.blocks import ImageChooserBlock

    from cms.blocks import StoryBlock, StoryImageChooserBlock

    a = image("a")
    gone = image("gone")
    gone_pk = gone.pk
    gone.delete()
    values = [a.pk, str(a.pk), gone_pk, None, "x", True]
    ours = StoryImageChooserBlock().bulk_to_python(values)
    wagtails = ImageChooserBlock().bulk_to_python([a.pk, gone_pk, None])
    assert [i and i.pk for i in ours] == [a.pk, a.pk, None, None, None, None]
    assert [i and i.pk for i in (ours[0], ours[2], ours[3])] == [i and i.pk for i in wagtails]
    assert ImageChooserBlock().to_python(str(a.pk)).pk == a.pk
    raw = [{"type": "figure", "value": {"image": {"image": str(a.pk), "decorative": False, "alt_text": "栗园"}, "caption": ""}},
           {"type": "figure", "value": {"image": {"image": gone_pk, "decorative": False, "alt_text": "无"}, "caption": "空"}}]
    html = StoryBlock().render(StreamValue(StoryBlock(), raw, is_lazy=True))
    assert html.count("<img") == 1 and "空" in html
