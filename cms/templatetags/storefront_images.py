"""``{% srcset_image_memo %}``: Wagtail's ``{% srcset_image %}`` (same arguments, same HTML) for
images read with their renditions prefetched (``prefetch_renditions()``, as the selectors read
product and origin cards), with the ``<img srcset…>`` HTML remembered per process.

Wagtail works the specs out, looks each rendition up by its cache key and builds every file URL
on each render: some 1.2 ms a card, a seventh of the home page and the listing uncached. The key
holds everything that HTML is made of — the image's file, size, focal point and alt text, the
specs and attributes asked for, and the id, spec, file and size of every rendition the image was
read with — so a new file, a moved focal point or a deleted or regenerated rendition gives
another key on the next request that reads it, in every process. An entry is stored only when
every rendition it shows was among those read with the image (not created by this render, not
Wagtail's "not found" stand-in), so a key can never stand for renditions that are gone. Images
are public; nothing of anyone is kept. File URLs are the default storage's (a file system under
MEDIA_URL), the same for every request: a storage signing its URLs per request would not fit.
"""

from __future__ import annotations

from django import template
from wagtail.images.models import ResponsiveImage
from wagtail.images.shortcuts import get_renditions_or_not_found
from wagtail.images.templatetags.wagtailimages_tags import SrcsetImageNode, image

register = template.Library()

_MAX_ENTRIES = 1024
_memo: dict = {}


def _attr_key(value):
    return (type(value).__name__, str(value))


def _image_key(img, renditions) -> tuple:
    return (
        img.pk,
        img.file.name,
        img.width,
        img.height,
        img.focal_point_x,
        img.focal_point_y,
        img.focal_point_width,
        img.focal_point_height,
        img.default_alt_text,
        getattr(img, "decorative", None),
        getattr(img, "contextual_alt_text", None),
        tuple((r.pk, r.filter_spec, r.focal_point_key, r.file.name, r.width, r.height) for r in renditions),
    )


class MemoSrcsetImageNode(SrcsetImageNode):
    def render(self, context):
        img = self.validate_image(context)
        prefetched = getattr(img, "prefetched_renditions", None) if img else None
        if self.output_var_name or prefetched is None:
            return super().render(context)
        attrs = {name: expr.resolve(context) for name, expr in self.attrs.items()}
        key = (tuple(self.filter_specs), tuple((name, _attr_key(value)) for name, value in attrs.items()), _image_key(img, prefetched))
        html = _memo.get(key)
        if html is not None:
            return html
        read_with_image = {r.pk for r in prefetched}  # before Wagtail appends any it has to create
        renditions = get_renditions_or_not_found(img, self.get_filters())
        html = ResponsiveImage(renditions, attrs).__html__()
        if all(r.pk is not None and r.pk in read_with_image for r in renditions.values()):
            if len(_memo) >= _MAX_ENTRIES:
                _memo.clear()
            _memo[key] = html
        return html


def srcset_image_memo(parser, token):
    """Parsed as Wagtail parses ``{% srcset_image %}``, so it takes the same arguments."""
    wagtail_token = template.base.Token(
        token.token_type, "srcset_image" + token.contents.removeprefix("srcset_image_memo"), token.position, token.lineno
    )
    node = image(parser, wagtail_token)
    memo = MemoSrcsetImageNode.__new__(MemoSrcsetImageNode)
    memo.__dict__.update(node.__dict__)
    return memo


register.tag("srcset_image_memo", srcset_image_memo)
