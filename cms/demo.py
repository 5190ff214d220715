"""Demo storefront: the page tree over the demo county's products and townships.

Home (the Site's root, replacing Wagtail's welcome page) → one category page per produce
category that has products → a product page per marketplace Product with a story; and an
origins index → one origin page per township. Images are drawn here with Pillow (no download)
so that renditions are exercised. Idempotent: pages and images are found by slug and title.
"""

from __future__ import annotations

import io

from django.core.files.images import ImageFile
from django.db import transaction
from django.utils.text import slugify
from wagtail.images import get_image_model
from wagtail.models import Page, Site

from households.models import Township, Village
from logistics.models import Produce
from marketplace.models import Product

from .models import CategoryPage, HomePage, OriginIndexPage, OriginPage, ProductPage

HOME_SLUG = "relief-home"

CATEGORY_TEXT = {
    Produce.Category.CHESTNUT: ("板栗", "镇安大板栗：国家地理标志产品，个大、皮薄、香甜糯。", (140, 82, 38)),
    Produce.Category.WALNUT: ("核桃", "秦岭深处的核桃，壳薄仁满，油香浓郁。", (166, 124, 82)),
    Produce.Category.TEA: ("茶叶", "象园茶生长在云雾缭绕的高山茶园，清明前采摘，汤色嫩绿。", (76, 140, 74)),
    Produce.Category.FUNGI: ("食用菌", "椴木香菇与黑木耳，在山里的菌棚中慢慢长成。", (96, 72, 60)),
    Produce.Category.HONEY: ("蜂蜜", "秦岭百花蜜，来自山里人家的土蜂箱。", (214, 160, 40)),
    Produce.Category.OTHER: ("山货", "更多来自镇安山村的好东西。", (120, 120, 90)),
}

STORIES = {
    Produce.Category.CHESTNUT: [
        "<h2>镇安大板栗</h2><p>镇安县种植板栗六十万亩，是全国闻名的“中国板栗之乡”。"
        "秋分前后，栗苞开口，贫困户上山捡拾、去苞、晾晒，送到村里的收购点，当场称重、定级、结算。</p>",
        "<p>每一袋板栗都能追溯到它来自哪些村、哪些农户：扫一扫包装上的二维码，就能看到批次的来龙去脉。"
        "您买下的每一元钱，都会按份额回到这些农户手中。</p>",
    ],
    Produce.Category.WALNUT: [
        "<h2>秦岭核桃</h2><p>镇安三十万亩核桃林分布在海拔八百米以上的山坡，白露前后采收，"
        "脱青皮后自然晾晒，不漂白、不熏硫。</p>",
        "<p>核桃在镇里的分拣站按个头分级、装袋，每批都留有检验记录。</p>",
    ],
    Produce.Category.TEA: [
        "<h2>象园茶</h2><p>象园茶产自云盖寺镇，茶园终年云雾缭绕。明前采一芽一叶，手工杀青、揉捻、烘焙，"
        "栗香持久，回甘明显。</p>",
        "<p>采茶季，村里的留守老人和妇女在家门口的茶园务工，茶青卖给收购点，收入当天到账。</p>",
    ],
    Produce.Category.FUNGI: [
        "<h2>香菇与木耳</h2><p>全县年产食用菌一千三百万袋。香菇在菌棚里长成，"
        "木耳挂在椴木上晒干，肉厚、泡发率高。</p>",
        "<p>菌棚大多由有劳动能力的贫困户经营，收购点按等级定价收购。</p>",
    ],
    Produce.Category.HONEY: [
        "<h2>土蜂蜜</h2><p>中华蜂在秦岭山间采百花，一年只取一次蜜，浓稠、结晶是天然的标志。</p>",
    ],
    Produce.Category.OTHER: ["<p>来自镇安山村的山货，每一件都可追溯到生产它的农户。</p>"],
}


def _draw(title: str, colour: tuple[int, int, int], variant: int = 0) -> bytes:
    """A simple landscape: sky, two hills in the produce's colour, a sun — a JPEG."""
    from PIL import Image, ImageDraw

    width, height = 1200, 800
    img = Image.new("RGB", (width, height), (225, 236, 228))
    draw = ImageDraw.Draw(img)
    for y in range(height // 2):
        shade = 236 - y // 12
        draw.line([(0, y), (width, y)], fill=(200 - y // 20, 222 - y // 30, shade))
    r, g, b = colour
    draw.ellipse([880 - variant * 90, 90, 1020 - variant * 90, 230], fill=(250, 214, 120))
    draw.polygon([(0, 800), (0, 430), (380 + variant * 40, 300), (820, 520), (820, 800)], fill=(max(r - 40, 0), min(g + 40, 255), max(b - 20, 0)))
    draw.polygon([(300, 800), (760, 380), (1200, 470), (1200, 800)], fill=colour)
    for i in range(9):
        cx, cy = 180 + i * 110, 650 + (i % 3) * 30
        draw.ellipse([cx - 34, cy - 30, cx + 34, cy + 30], fill=(min(r + 60, 255), min(g + 40, 255), min(b + 30, 255)))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=82)
    return buf.getvalue()


def _image(title: str, colour: tuple[int, int, int], variant: int = 0):
    Image = get_image_model()
    existing = Image.objects.filter(title=title).first()
    if existing:
        return existing
    image = Image(title=title)
    image.file = ImageFile(io.BytesIO(_draw(title, colour, variant)), name=f"{slugify(title, allow_unicode=False) or 'demo'}-{variant}.jpg")
    image.save()
    return image


def _child(parent: Page, model, slug: str, **fields):
    """The child of ``parent`` with ``slug`` (created and published if missing)."""
    existing = parent.get_children().filter(slug=slug).first()
    if existing is not None:
        return existing.specific
    page = model(slug=slug, **fields)
    parent.add_child(instance=page)
    page.save_revision().publish()
    return page


def _home() -> HomePage:
    home = HomePage.objects.first()
    root = Page.get_first_root_node()
    if home is None:
        home = HomePage(
            title="镇安县扶贫超市",
            slug=HOME_SLUG,
            intro="买一份山货，助一户农家：镇安县干部职工消费扶贫商城。每一元都可追溯到卖出农产品的贫困户。",
            hero_image=_image("镇安山村", (92, 140, 80), 2),
        )
        root.add_child(instance=home)
        home.save_revision().publish()
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        Site.objects.create(hostname="localhost", port=80, root_page=home, is_default_site=True, site_name="镇安县扶贫超市")
    elif site.root_page_id != home.pk:
        old_root = site.root_page
        site.root_page = home
        site.site_name = site.site_name or "镇安县扶贫超市"
        site.save()
        # Wagtail's placeholder welcome page goes once nothing points at it.
        if old_root.specific_class is Page and old_root.depth == 2 and not old_root.get_children().exists():
            old_root.delete()
    return home


@transaction.atomic
def seed(*, households: int, stdout, context: dict) -> dict:
    home = _home()
    products = list(Product.objects.select_related("sku__produce").order_by("sku__code"))
    categories: dict[str, CategoryPage] = {}
    for category in dict.fromkeys(p.sku.produce.category for p in products):
        name, intro, colour = CATEGORY_TEXT.get(category, CATEGORY_TEXT[Produce.Category.OTHER])
        categories[category] = _child(home, CategoryPage, slug=category, title=name, category=category, intro=intro, image=_image(name, colour))
    product_pages = 0
    for i, product in enumerate(products):
        category = product.sku.produce.category
        name, intro, colour = CATEGORY_TEXT.get(category, CATEGORY_TEXT[Produce.Category.OTHER])
        if ProductPage.objects.filter(product=product).exists():
            continue
        photo = _image(f"{name} · 山间", colour, 1 + i % 3)
        body = [("paragraph", html) for html in STORIES.get(category, STORIES[Produce.Category.OTHER])]
        body.insert(1, ("figure", {"image": {"image": photo, "decorative": False, "alt_text": f"{name}产地的山坡"}, "caption": f"{name}产地"}))
        _child(
            categories[category], ProductPage, slug=slugify(product.sku.code) or f"product-{product.pk}", title=product.name,
            product=product, summary=intro, hero_image=_image(name, colour), body=body,
        )
        product_pages += 1
    origins = _child(home, OriginIndexPage, slug="origins", title="产地", intro="镇安十五个镇的山村，是这些山货的家乡。")
    for t, township in enumerate(Township.objects.order_by("code")):
        page = _child(
            origins, OriginPage, slug=township.code, title=township.name, township=township,
            intro=f"{township.name}的贫困户把山货卖给村收购点，再经镇分拣站送到县扶贫超市。",
            hero_image=_image(f"{township.name}风光", (90 + (t * 9) % 60, 130, 70 + (t * 13) % 50), t % 3),
        )
        village = Village.objects.filter(township=township).order_by("code").first()
        if village is not None and t < 3:
            _child(page, OriginPage, slug=village.code, title=f"{township.name}{village.name}", township=township, village=village,
                   intro=f"{village.name}的农户参与消费扶贫。")
    stdout.write(f"cms: home, {len(categories)} categories, {product_pages} new product pages, origin pages for townships")
    return {"storefront_home": home}
