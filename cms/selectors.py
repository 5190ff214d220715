"""What the storefront pages show, read from marketplace, logistics and households.

Every function runs a fixed number of queries whatever the size of the catalogue (joins,
subqueries and prefetches, never a query per product), and only aggregates leave the
households app: counts and sums, never a person's name, ID or phone.
"""

from __future__ import annotations

import datetime
import threading
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.paginator import Page, Paginator
from django.db import models, router
from django.db.models import Count, DecimalField, F, OuterRef, Prefetch, Q, Subquery, Sum, Value, Window
from django.db.models.functions import Coalesce
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from wagtail.images import get_image_model

from core.compiled_query import CompiledModelQuery
from core.money import ZERO, price_per_jin, to_decimal
from core.one_row import one_row_statement
from households.models import IncomeEntry, Village
from logistics.models import Intake, PackedBatch, Produce
from logistics.selectors.stock import available_units, available_units_subquery, county_today, sellable_stock, skus_in_stock
from marketplace.models import Order, Product
from marketplace.settlement.money_flow import money_flow_latest

from .filters import ProductPageFilter
from .models import CategoryPage, OriginPage, ProductPage


def available_units_expression(sku_ref: str = "product__sku_id", *, on: datetime.date | None = None):
    """Units of the SKU on sale at the supermarket now (or on the county day ``on``): logistics'
    one rule of what is sellable (inspected, not held, not past its best-before date)."""
    return available_units_subquery(sku_ref, on=on)


def _newest_batch_expression(sku_ref: str = "product__sku_id"):
    latest = PackedBatch.objects.filter(sku_id=OuterRef(sku_ref)).order_by("-packed_at").values("packed_at")[:1]
    return Subquery(latest)


def _image_prefetch(lookup: str) -> Prefetch:
    return Prefetch(lookup, queryset=get_image_model().objects.prefetch_renditions())


def product_pages(*, on: datetime.date | None = None):
    """Live product pages of products on sale, each with ``price``, ``available`` (on the county day
    ``on``, today by default) and ``newest``."""
    return (
        ProductPage.objects.live()
        .filter(product__isnull=False, product__active=True)
        .select_related("product__sku")  # the card shows the unit weight; produce and grade are filters only
        .prefetch_related(_image_prefetch("hero_image"))
        .annotate(
            price=F("product__price"),
            available=available_units_expression(on=on),
            newest=_newest_batch_expression(),
        )
        .order_by("path")
    )


def product_page_filterset(*, data, category_page: CategoryPage | None = None) -> ProductPageFilter:
    """The listing's filter set; its annotated queryset is built only if the queryset is asked for."""

    def queryset():
        qs = product_pages()
        return qs.child_of(category_page) if category_page is not None else qs

    return ProductPageFilter(data or None, queryset=queryset, produce_category=category_page.category if category_page else None)


def product_cards(pages) -> list[ProductPage]:
    """Evaluate a (sliced) queryset of product pages for cards; the annotations ride along."""
    return list(pages)


# What a product card shows of its page (cms/includes/product_card.html: the link, title, summary,
# product and image); the cards' statements read only these of a page's columns. Loading the rest —
# the StreamField body, the dates, the revision and lock columns — into every card's page instance
# cost more than the statement did to run.
_CARD_PAGE_FIELDS = ("title", "url_path", "summary", "product", "hero_image")


# The listing's page of cards from one statement compiled per shape: which filters are set (and
# the values of those that change the statement's shape: in stock only, the sort) and the
# category page. The values of the others (produce, township, prices) and the county day are
# parameters, so one compiled statement serves every value; the total comes in each row
# (COUNT(*) OVER ()), so the paginator needs no count statement. Building, filtering and
# compiling the annotated queryset twice (count and page) was half of a listing's uncached render.
_LISTING_MARKS = (
    datetime.date(1901, 7, 3),  # the county day
    -7_330_000_001, -7_330_000_002, -7_330_000_003,  # model choices (produce, township …)
    Decimal("-7330000004.01"), Decimal("-7330000005.01"), Decimal("-7330000006.01"),  # amounts
)
_LISTING_SHAPES_KEPT = 64
_listing_local = threading.local()  # {shape: its compiled statement}, per thread


class _FetchedPage:
    """The rows of one page and the total, as the paginator reads an object list: ``count()`` and
    the slice of that page."""

    def __init__(self, total: int, offset: int, rows: list) -> None:
        self.total, self.offset, self.rows = total, offset, rows

    def count(self) -> int:
        return self.total

    def __getitem__(self, key: slice) -> list:
        if not isinstance(key, slice) or (key.start or 0) != self.offset:
            raise IndexError("only the fetched page")
        return self.rows


def _listing_shape(cleaned: dict) -> tuple[tuple, list, dict] | None:
    """(the shape, the arguments after the county day, the cleaned data with stand-ins) of a
    filter form's cleaned data; None for a value of a kind no stand-in is kept for."""
    ints, amounts = iter(_LISTING_MARKS[1:4]), iter(_LISTING_MARKS[4:7])
    shape, args, standing = [], [], {}
    for name in sorted(cleaned):
        value = cleaned[name]
        if isinstance(value, models.Model):
            mark = next(ints, None)
            if mark is None or value.pk is None:
                return None
            shape.append((name, "pk"))
            standing[name] = type(value)(pk=mark)
            args.append((mark, value.pk))
        elif isinstance(value, Decimal):
            mark = next(amounts, None)
            if mark is None:
                return None
            shape.append((name, "amount"))
            standing[name] = mark
            args.append((mark, value))
        elif value is None or isinstance(value, bool | str):
            shape.append((name, value))
            standing[name] = value
        else:
            return None
    return tuple(shape), args, standing


def _listing_statement(category_page: CategoryPage, shape: tuple, marks: tuple, standing: dict) -> CompiledModelQuery:
    statements = getattr(_listing_local, "statements", None)
    if statements is None:
        statements = _listing_local.statements = {}
    key = (category_page.pk, category_page.path, category_page.depth, category_page.category, shape)
    statement = statements.get(key)
    if statement is None:
        if len(statements) >= _LISTING_SHAPES_KEPT:
            statements.clear()  # odd queries cannot grow it without bound

        def build(on, *_marks):
            filterset = ProductPageFilter(queryset=product_pages(on=on).child_of(category_page), produce_category=category_page.category)
            filterset.form.cleaned_data = dict(standing)
            return (
                filterset.filter_queryset(filterset.queryset.all())
                .prefetch_related(None)
                .select_related("hero_image")
                .only(*_CARD_PAGE_FIELDS)
                .annotate(listing_total=Window(Count("*")))
            )

        statement = statements[key] = CompiledModelQuery(build, marks, paged=True)
    return statement



_RENDITION_SLOTS = 12  # images per statement: a listing page's cards (LISTING_PAGE_SIZE)
_renditions_of = CompiledModelQuery(
    lambda *image_ids: get_image_model().get_rendition_model().objects.filter(image_id__in=image_ids).order_by("image_id", "id"),
    tuple(-7_340_000_001 - n for n in range(_RENDITION_SLOTS)),
)


def read_renditions(images: list) -> None:
    """Every rendition of each image, kept where ``Image.get_rendition`` looks first
    (``prefetched_renditions``, each rendition's ``image`` set), as Wagtail's
    ``prefetch_renditions()`` keeps them — from a statement compiled once that takes a fixed number
    of image ids (the rest filled with the first), where the ORM built and compiled its query on
    every home page and listing."""
    if not images:
        return
    using = router.db_for_read(get_image_model().get_rendition_model())
    found: dict[int, list] = {}
    for chunk in _slotted(list(dict.fromkeys(image.pk for image in images))):
        for rendition in _renditions_of(*chunk, using=using):
            found.setdefault(rendition.image_id, []).append(rendition)
    for image in images:
        _keep_renditions(image, list(found.get(image.pk, ())))


def _slotted(ids: list) -> list[list]:
    """``ids`` in chunks of ``_RENDITION_SLOTS``, each filled up with its first."""
    chunks = [ids[start : start + _RENDITION_SLOTS] for start in range(0, len(ids), _RENDITION_SLOTS)]
    return [chunk + [chunk[0]] * (_RENDITION_SLOTS - len(chunk)) for chunk in chunks]


def _keep_renditions(image, renditions: list) -> None:
    """``renditions`` kept on ``image`` where Wagtail looks first, each pointing back at it."""
    image_field = get_image_model().get_rendition_model()._meta.get_field("image")
    for rendition in renditions:
        image_field.set_cached_value(rendition, image)
    image.prefetched_renditions = renditions


def listing_page(filterset: ProductPageFilter, *, category_page: CategoryPage, number, per_page: int) -> Page | None:
    """The listing's page ``number`` of cards for this filter set (a bound one's invalid values set
    aside, as ``filterset.qs`` does), with ``price``, ``available`` and ``newest`` and their
    images' renditions; None where the paginator must look further (a page number that is not a
    whole number ≥ 1, a page past the last) or a value is of a kind not compiled: the queryset
    then answers."""
    try:
        number = int(number or 1)
    except (TypeError, ValueError):
        return None
    if number < 1:
        return None
    cleaned = {}
    if filterset.is_bound:
        filterset.form.is_valid()  # cleans: a value that fails is left out, as filterset.qs leaves it
        cleaned = filterset.form.cleaned_data
    found = _listing_shape(cleaned)
    if found is None:
        return None
    shape, pairs, standing = found
    marks = (_LISTING_MARKS[0], *(mark for mark, _value in pairs))
    statement = _listing_statement(category_page, shape, marks, standing)
    offset = (number - 1) * per_page
    rows = statement(county_today(), *(value for _mark, value in pairs), limit=per_page, offset=offset,
                     using=router.db_for_read(ProductPage))
    if not rows and number != 1:
        return None
    images = [page.hero_image for page in rows if page.hero_image is not None]
    read_renditions(images)
    total = rows[0].listing_total if rows else 0
    return Paginator(_FetchedPage(total, offset, rows), per_page).page(number)


# this season's pages (the SKU in stock on the county day: a parameter) and the category pages,
# compiled once per thread and database
_season_pages = CompiledModelQuery(
    lambda on: ProductPage.objects.live()
    .filter(product__active=True, product__sku_id__in=sellable_stock(on=on).order_by().values("batch__sku_id"))
    .select_related("product__sku", "hero_image")
    .only(*_CARD_PAGE_FIELDS)
    .order_by("path"),
    (_LISTING_MARKS[0],),
)
_category_pages = CompiledModelQuery(lambda: CategoryPage.objects.live().order_by("path").only("title", "url_path"))


def season_product_pages(*, limit: int = 8) -> list[ProductPage]:
    """This season's produce: what is in stock, most recently packed first (then in tree order),
    each with ``price``, ``available`` and ``newest`` as ``product_pages`` gives them.

    The SKUs in stock come first, from one grouped statement; then the pages of SKUs with units on
    sale (the same rule, in SQL) from a statement compiled once, without the two per-row
    subqueries ``product_pages`` annotates (building and compiling that query was most of the
    home page's uncached render)."""
    today = county_today()
    stock = skus_in_stock(on=today)
    if not stock:
        return []
    using = router.db_for_read(ProductPage)
    pages = [page for page in _season_pages(today, using=using) if page.product.sku_id in stock]  # stock may have moved in between
    images = [page.hero_image for page in pages if page.hero_image is not None]
    read_renditions(images)
    for page in pages:
        page.price = page.product.price
        page.available, page.newest = stock[page.product.sku_id]
    newest_first = sorted((p for p in pages if p.newest is not None), key=lambda p: p.newest, reverse=True)  # stable: path order kept
    return (newest_first + [p for p in pages if p.newest is None])[:limit]


def product_pages_from_township(*, township_id: int):
    packed_there = PackedBatch.objects.filter(station__township_id=township_id).values("sku_id")
    return product_pages().filter(product__sku_id__in=packed_there)


def category_pages() -> list[CategoryPage]:
    """The live category pages, for the home page's category links (titles and URLs: their images
    are shown on no page that lists them, so they are not read)."""
    return _category_pages(using=router.db_for_read(CategoryPage))


def trace_url(batch_code: str) -> str:
    """The public trace page of a batch (logistics owns it)."""
    for name in ("trace-public", "trace"):
        try:
            return reverse(name, args=[batch_code])
        except NoReverseMatch:
            continue
    return f"/trace/{batch_code}/"


@dataclass
class ProductDetail:
    product: object | None
    price: Decimal | None = None
    available: int = 0
    unit_weight_kg: Decimal | None = None
    latest_batch: PackedBatch | None = None
    latest_batch_trace_url: str = ""
    price_per_jin: Decimal | None = None
    max_quantity: int = 0
    villages: list = field(default_factory=list)
    origin_pages: list = field(default_factory=list)


# The product page's reads, compiled once per thread and database: building and compiling these
# querysets on every request was a third of the page's uncached render.
_latest_batch = CompiledModelQuery(
    lambda sku_id: PackedBatch.objects.filter(sku_id=sku_id).select_related("station__township").order_by("-packed_at", "-id")[:1]
)
_origin_villages = CompiledModelQuery(
    lambda sku_id: Village.objects.filter(households__batch_shares__batch__sku_id=sku_id)
    .select_related("township")
    .distinct()
    .order_by("code")[:12]
)
# all the township-level pages (a county has a few dozen townships), picked in Python: one
# statement whatever the number of townships asked for. Only what a link to each needs is read:
# the body (a StreamField), the dates and the rest of a page's columns cost more to load than the
# statement did to run.
_township_origin_pages = CompiledModelQuery(
    lambda: OriginPage.objects.live().filter(village__isnull=True).order_by("path").only("title", "url_path", "township_id", "path", "depth")
)


_renditions_with_images = CompiledModelQuery(
    lambda *image_ids: get_image_model().get_rendition_model().objects.filter(image_id__in=image_ids).select_related("image").order_by("image_id", "id"),
    tuple(-7_340_000_101 - n for n in range(_RENDITION_SLOTS)),
)
_images_of = CompiledModelQuery(
    lambda *image_ids: get_image_model().objects.filter(pk__in=image_ids), tuple(-7_340_000_201 - n for n in range(_RENDITION_SLOTS))
)


def image_id_of(value) -> int | None:
    """An image id as a story's JSON holds it: a number, or its text (Wagtail's ``in_bulk`` takes
    either); anything else names no image."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def images_with_renditions(image_ids) -> dict:
    """{id: image} for the ids given (missing ones left out), each image with every rendition of it
    (``prefetched_renditions``, each rendition's ``image`` set): one statement per 12 images (the
    renditions, each joined to its image), and one more only for images with no rendition yet
    (their first render makes them). For the images of editors' stories, which Wagtail's
    ImageChooserBlock read with a query built on every render and whose renditions
    ``{% srcset_image %}`` then asked the cache for and wrote back, every time."""
    ids = list(dict.fromkeys(i for i in map(image_id_of, image_ids) if i is not None))
    if not ids:
        return {}
    using = router.db_for_read(get_image_model())
    found: dict = {}
    renditions: dict[int, list] = {}
    for chunk in _slotted(ids):
        for rendition in _renditions_with_images(*chunk, using=using):
            found.setdefault(rendition.image_id, rendition.image)
            renditions.setdefault(rendition.image_id, []).append(rendition)
    missing = [i for i in ids if i not in found]
    for chunk in _slotted(missing) if missing else ():
        for image in _images_of(*chunk, using=using):
            found[image.pk] = image
    for pk, image in found.items():
        _keep_renditions(image, renditions.get(pk, []))
    return found


def read_hero_image(page) -> None:
    """The page's hero image with its renditions (``images_with_renditions``: one statement
    compiled once while it has renditions), where the image field's descriptor built and compiled
    its query on every render and Wagtail's ``{% srcset_image %}`` then asked the cache for the
    renditions and wrote them back to it, every time."""
    field = type(page)._meta.get_field("hero_image")
    if page.hero_image_id is None or field.is_cached(page):
        return
    field.set_cached_value(page, images_with_renditions([page.hero_image_id]).get(page.hero_image_id))


def product_detail(*, page: ProductPage) -> ProductDetail:
    """Live price and stock, the origin villages and the latest batch of a product page (fixed queries)."""
    if page.product_id is None:
        return ProductDetail(product=None)
    product = one_row_statement(Product, ("sku__produce", "sku__grade"), router.db_for_read(Product)).get(page.product_id)
    if product is None:
        return ProductDetail(product=None)
    # a statement of its own (plain on PostgreSQL) rather than a subquery annotated on the product:
    # building that subquery cost more than running both
    product.available = available_units(sku_ids=[product.sku_id])[product.sku_id]
    latest = next(iter(_latest_batch(product.sku_id, using=router.db_for_read(PackedBatch))), None)
    villages = _origin_villages(product.sku_id, using=router.db_for_read(Village))
    township_ids = {v.township_id for v in villages}
    if latest and latest.station.township_id:
        township_ids.add(latest.station.township_id)
    origin_pages = (
        [p for p in _township_origin_pages(using=router.db_for_read(OriginPage)) if p.township_id in township_ids] if township_ids else []
    )
    available = max(product.available, 0)
    unit_kg = product.sku.unit_weight_kg
    return ProductDetail(
        product=product,
        price=product.price,
        price_per_jin=price_per_jin(to_decimal(product.price) / unit_kg) if unit_kg else None,
        max_quantity=min(available, product.max_per_order) if product.max_per_order else available,
        available=available,
        unit_weight_kg=product.sku.unit_weight_kg,
        latest_batch=latest,
        latest_batch_trace_url=trace_url(latest.code) if latest else "",
        villages=villages,
        origin_pages=origin_pages,
    )


@dataclass
class AreaFigures:
    households: int
    weight_kg: Decimal
    intake_paid: Decimal
    income_returned: Decimal
    produce: list


def _intakes_in(*, township_id: int | None = None, village_id: int | None = None):
    qs = Intake.objects.filter(void__isnull=True)
    if village_id:
        return qs.filter(household__village_id=village_id)
    return qs.filter(household__village__township_id=township_id)


def origin_figures(*, township_id: int, village_id: int | None = None) -> AreaFigures:
    """Aggregates for an origin page: households taking part, kg bought, income returned."""
    intakes = _intakes_in(township_id=township_id, village_id=village_id)
    agg = intakes.aggregate(
        households=Count("household_id", distinct=True),
        weight=Coalesce(Sum("weight_kg"), Value(Decimal("0")), output_field=DecimalField()),
        paid=Coalesce(Sum("amount"), Value(ZERO), output_field=DecimalField()),
    )
    income = IncomeEntry.objects.filter(
        Q(household__village_id=village_id) if village_id else Q(household__village__township_id=township_id)
    ).aggregate(total=Coalesce(Sum("amount"), Value(ZERO), output_field=DecimalField()))["total"]
    produce = list(Produce.objects.filter(grades__intakes__in=intakes).distinct().order_by("code"))
    return AreaFigures(
        households=agg["households"],
        weight_kg=agg["weight"],
        intake_paid=agg["paid"],
        income_returned=income or agg["paid"],
        produce=produce,
    )


def origin_cards(*, parent) -> list[OriginPage]:
    """Child origin pages of ``parent``, each with ``figures`` (households, kg) from one grouped query."""
    pages = list(
        OriginPage.objects.live().child_of(parent).select_related("township", "village").prefetch_related(_image_prefetch("hero_image"))
    )
    by_township = {
        row["household__village__township_id"]: row
        for row in Intake.objects.filter(void__isnull=True)
        .values("household__village__township_id")
        .annotate(households=Count("household_id", distinct=True), weight=Sum("weight_kg"))
    } if any(p.village_id is None for p in pages) else {}
    by_village = {
        row["household__village_id"]: row
        for row in Intake.objects.filter(void__isnull=True, household__village_id__in=[p.village_id for p in pages if p.village_id])
        .values("household__village_id")
        .annotate(households=Count("household_id", distinct=True), weight=Sum("weight_kg"))
    } if any(p.village_id for p in pages) else {}
    for p in pages:
        row = by_village.get(p.village_id) if p.village_id else by_township.get(p.township_id)
        p.figures = {"households": row["households"] if row else 0, "weight_kg": row["weight"] if row else Decimal("0")}
    return pages


@dataclass
class ProgrammeHeadline:
    returned: Decimal  # paid to households (intake payments + dividends), or sales so far before any
    sales: Decimal  # net sales to employees
    households: int
    from_income_ledger: bool
    as_of: datetime.datetime | None = None
    intake: Decimal = ZERO
    attributed_sales: Decimal = ZERO
    dividends: Decimal = ZERO


def programme_headline() -> ProgrammeHeadline:
    """What the programme has paid to households, from the published money-flow snapshot — the
    figures /money-flow/ and its JSON show, for the same cut-off (``as_of``)."""
    data = money_flow_latest()
    hh, sales = data["households"], Decimal(data["sales"]["net"])
    as_of = parse_datetime(data.get("as_of") or data.get("computed_at") or "")
    if hh["reached"]:
        return ProgrammeHeadline(
            returned=Decimal(hh["paid_to_households"]), sales=sales, households=hh["reached"], from_income_ledger=True,
            as_of=as_of, intake=Decimal(hh["intake"]), attributed_sales=Decimal(hh["sales_attributed"]),
            dividends=Decimal(hh["dividends"]),
        )
    return ProgrammeHeadline(returned=sales, sales=sales, households=0, from_income_ledger=False, as_of=as_of)


# --- the signed-in employee -------------------------------------------------------------------


def employee_for(user):
    """The user's Employee record, or None (only employees have a cart and orders). Whether
    they may shop now is marketplace's rule (``services.eligibility``), not decided here."""
    if not user or not user.is_authenticated:
        return None
    from marketplace.models import Employee

    cached = getattr(user, "_storefront_employee", False)
    if cached is not False:
        return cached
    descriptor = Employee.user.field.remote_field.model.employee  # the User's side (request.user may be a lazy object)
    if descriptor.is_cached(user):  # read with the session's user (core.auth_backends), found or not
        employee = descriptor.related.get_cached_value(user)
    else:
        employee = Employee.objects.filter(user=user).select_related("employer").first()
    user._storefront_employee = employee
    return employee


def current_year() -> int:
    return timezone.localdate().year


def allocation_for(employee, *, year: int | None = None):
    """The employee's allocation this year, from marketplace's selector."""
    from marketplace import selectors as marketplace_selectors

    return marketplace_selectors.allocation_summary(employee=employee, year=year or current_year())


def today() -> datetime.date:
    return timezone.localdate()


def order_of(*, employee, number: str):
    """One of the employee's own orders by number (None if it is not theirs)."""
    from marketplace import selectors as marketplace_selectors

    try:
        return marketplace_selectors.order_get(number=number, employee=employee)
    except Order.DoesNotExist:
        return None
