"""Storefront data for tests: a page tree over products with stock, and optional images."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.files.images import ImageFile
from wagtail.images import get_image_model
from wagtail.models import Page, Site

from cms.models import CategoryPage, HomePage, OriginIndexPage, OriginPage, ProductPage
from logistics.models import Produce
from marketplace.models import Product
from tests.logistics.factories import ProduceFactory, SkuFactory
from tests.marketplace.factories import ProductFactory, stock_batch


def image(title: str = "test image", size=(640, 480), colour=(120, 90, 40)):
    from PIL import Image as PILImage
    from wagtail.models import Collection

    if Collection.get_first_root_node() is None:  # flushed by an earlier transactional test
        Collection.add_root(name="Root")

    buf = io.BytesIO()
    PILImage.new("RGB", size, colour).save(buf, "JPEG")
    img = get_image_model()(title=title)
    img.file = ImageFile(io.BytesIO(buf.getvalue()), name="test.jpg")
    img.save()
    return img


def publish(parent: Page, page: Page) -> Page:
    parent.add_child(instance=page)
    page.save_revision().publish()
    page.refresh_from_db()
    return page


def _root() -> Page:
    """Wagtail's root page, recreated when a transactional test before this one flushed the
    tables (the root and the default locale come from Wagtail's data migrations)."""
    from wagtail.models import Locale

    Locale.objects.get_or_create(language_code="zh-hans")
    root = Page.get_first_root_node()
    return root or Page.add_root(instance=Page(title="Root", slug="root"))


def home_page() -> HomePage:
    home = HomePage.objects.first()
    if home:
        return home
    home = publish(_root(), HomePage(title="镇安县扶贫超市", slug="relief-home", intro="买一份山货，助一户农家"))
    Site.objects.update_or_create(is_default_site=True, defaults={"hostname": "localhost", "port": 80, "root_page": home})
    return home


def category_page(category: str = Produce.Category.CHESTNUT, title: str = "板栗") -> CategoryPage:
    home = home_page()
    existing = CategoryPage.objects.filter(category=category).first()
    return existing or publish(home, CategoryPage(title=title, slug=category, category=category, intro="镇安大板栗"))


@dataclass
class Catalogue:
    home: HomePage
    category: CategoryPage
    products: list[Product] = field(default_factory=list)
    pages: list[ProductPage] = field(default_factory=list)


def catalogue(n: int, *, units: int = 20, price: str = "50.00", with_images: bool = False, produce=None) -> Catalogue:
    """``n`` products of one produce, each with a published product page and ``units`` on sale."""
    produce = produce or ProduceFactory()
    category = category_page(produce.category)
    pic = image("栗子") if with_images else None
    result = Catalogue(home=home_page(), category=category)
    start = ProductPage.objects.count()
    for i in range(n):
        product = ProductFactory(sku=SkuFactory(produce=produce), price=Decimal(price) + i, name=f"镇安板栗 {start + i} 号")
        if units:
            stock_batch(product, units)
        page = publish(category, ProductPage(
            title=product.name, slug=f"p-{product.sku.code.lower()}", product=product, summary="个大皮薄", hero_image=pic,
            body=[("paragraph", "<p>镇安大板栗，国家地理标志产品。</p>")] + ([("figure", {"image": {"image": pic, "decorative": False, "alt_text": "板栗林"}, "caption": "栗园"})] if pic else []),
        ))
        result.products.append(product)
        result.pages.append(page)
    return result


def origin_pages(township) -> OriginPage:
    home = home_page()
    index = OriginIndexPage.objects.first() or publish(home, OriginIndexPage(title="产地", slug="origins"))
    return publish(index, OriginPage(title=township.name, slug=f"o-{township.code}", township=township))
