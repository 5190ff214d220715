"""StreamField blocks for editor-written stories: rich text and images with alt text and a caption."""

import copy

from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.images.blocks import ImageBlock, ImageChooserBlock


class StoryImageChooserBlock(ImageChooserBlock):
    """Wagtail's image chooser, whose images are read for a page with their renditions
    (``cms.selectors.images_with_renditions``): one statement compiled once for a story's images,
    and their ``{% srcset_image_memo %}`` served from them rather than from the cache."""

    def bulk_to_python(self, values):
        from .selectors import image_id_of, images_with_renditions

        values = list(values)
        found = images_with_renditions(values)
        result, seen = [], set()
        for pk in values:
            image = found.get(image_id_of(pk))
            if image is not None and pk in seen:
                image = copy.copy(image)  # a distinct instance for each repeat, as Wagtail gives
            result.append(image)
            seen.add(pk)
        return result


class StoryImageBlock(ImageBlock):
    """Wagtail's ImageBlock (alt text or decorative) reading its images as above. It deconstructs
    as Wagtail's ImageBlock, so migrations do not name it."""

    def __init__(self, required=True, **kwargs):
        super().__init__(required=required, **kwargs)
        chooser = StoryImageChooserBlock(required=required)
        chooser.set_name("image")
        self.child_blocks["image"] = chooser


class FigureBlock(blocks.StructBlock):
    """An image (with its alt text, or marked decorative) and an optional caption."""

    image = StoryImageBlock(label=_("Image"))
    caption = blocks.CharBlock(required=False, max_length=200, label=_("Caption"))

    class Meta:
        icon = "image"
        label = _("Image")
        template = "cms/blocks/figure.html"


class StoryBlock(blocks.StreamBlock):
    paragraph = blocks.RichTextBlock(
        features=["h2", "h3", "bold", "italic", "ol", "ul", "link"], label=_("Text"), template="cms/blocks/paragraph.html"
    )
    figure = FigureBlock()

    class Meta:
        block_counts = {}
