"""The storefront's Wagtail pages: home, category listings, product stories, origin pages.

Pages present, they do not decide: every figure, price and stock level on them comes from
``cms.selectors`` (which reads marketplace and logistics). The tree is

    HomePage (site root)
    ├── CategoryPage (one produce category)      └── ProductPage (a story linked to a Product)
    └── OriginIndexPage                          └── OriginPage (a township) └── OriginPage (a village)
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminPageForm
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.fields import StreamField
from wagtail.models import Page, PageViewRestriction
from wagtail.search import index

from logistics.models import Produce

from .blocks import StoryBlock

LISTING_PAGE_SIZE = 12


class CachedPageMixin:
    """Marks a page type whose anonymous responses ``cms.cache`` may serve from the page cache."""

    storefront_cacheable = True

    def serve(self, request, *args, **kwargs):
        # Reached only once Wagtail's before_serve_page hooks (view restrictions…) let the page
        # through; the cache stores only responses marked here.
        cacheable = self.storefront_cacheable
        if cacheable and getattr(request, "_storefront_shared_render", False) and self.get_view_restrictions().exists():
            cacheable = False  # a page only some people may see is never shared between signed-in people
        request._storefront_cacheable = cacheable
        return super().serve(request, *args, **kwargs)

    def get_view_restrictions(self):
        # Wagtail asks this on every view (two queries over the ancestors); with no restriction
        # anywhere — the usual case, cached per catalogue version — the answer is known.
        from .cache import view_restrictions_exist

        if not view_restrictions_exist():
            return PageViewRestriction.objects.none()
        return super().get_view_restrictions()


class HomePage(CachedPageMixin, Page):
    """The site root: this season's produce, the signed-in employee's balance, and what the
    programme has returned to households."""

    intro = models.TextField(_("introduction"), blank=True)
    hero_image = models.ForeignKey(
        "wagtailimages.Image", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("hero image")
    )

    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("hero_image")]

    parent_page_types = ["wagtailcore.Page"]
    subpage_types = ["cms.CategoryPage", "cms.OriginIndexPage"]
    max_count = 1

    class Meta:
        verbose_name = _("home page")

    def get_context(self, request, *args, **kwargs):
        from . import selectors

        context = super().get_context(request, *args, **kwargs)
        context["season_products"] = selectors.season_product_pages(limit=8)
        context["categories"] = selectors.category_pages()
        context["programme"] = selectors.programme_headline()
        # the signed-in employee's balance comes from their shopper card ({% shopper %}), so
        # that this page can be shared between employees by the page cache
        return context


class CategoryPage(CachedPageMixin, Page):
    """A listing of the product pages of one produce category (chestnut, walnut, tea …), with
    filters that work without JavaScript (a GET form), sorting and pagination."""

    category = models.CharField(_("produce category"), max_length=12, choices=Produce.Category.choices)
    intro = models.TextField(_("introduction"), blank=True)
    image = models.ForeignKey(
        "wagtailimages.Image", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("image")
    )

    content_panels = [*Page.content_panels, FieldPanel("category"), FieldPanel("intro"), FieldPanel("image")]

    parent_page_types = ["cms.HomePage"]
    subpage_types = ["cms.ProductPage"]

    class Meta:
        verbose_name = _("category page")

    def get_context(self, request, *args, **kwargs):
        from . import selectors

        context = super().get_context(request, *args, **kwargs)
        filterset = selectors.product_page_filterset(data=request.GET, category_page=self)
        page_obj = selectors.listing_page(filterset, category_page=self, number=request.GET.get("page"), per_page=LISTING_PAGE_SIZE)
        if page_obj is None:  # a page number to look for: the queryset answers
            paginator = Paginator(filterset.qs, LISTING_PAGE_SIZE)
            try:
                page_obj = paginator.page(request.GET.get("page") or 1)
            except PageNotAnInteger:
                page_obj = paginator.page(1)
            except EmptyPage:
                page_obj = paginator.page(paginator.num_pages)
            page_obj.object_list = selectors.product_cards(page_obj.object_list)
        if (filterset.is_bound and not filterset.is_valid()) or str(page_obj.number) != (request.GET.get("page") or "1").strip():
            # a value the page had to set aside (an unknown township, a page past the last) is
            # not kept in the page cache: only what was asked for and shown is
            request._storefront_cacheable = False
        query = request.GET.copy()
        query.pop("page", None)
        context.update(
            filter=filterset,
            page_obj=page_obj,
            products=page_obj.object_list,
            query_without_page=query.urlencode(),
        )
        return context


class ProductPageForm(WagtailAdminPageForm):
    """In the admin the product is a required field, checked only when publishing (Wagtail defers
    required fields when a draft is saved); the model's own check then stands aside, since a new
    page is ``live`` until the view marks it a draft."""

    def _post_clean(self):
        self.instance._checked_by_admin_form = True
        super()._post_clean()


class ProductPage(CachedPageMixin, Page):
    """The story of a product: where it grows, who grows it, how it is packed. Linked to the
    marketplace Product that gives it a live price and stock; it cannot be published without one."""

    product = models.ForeignKey(
        "marketplace.Product",
        null=True,
        blank=False,  # required when publishing, deferred on drafts (Wagtail's deferred validation)
        on_delete=models.SET_NULL,
        related_name="pages",
        verbose_name=_("product on sale"),
    )
    summary = models.CharField(_("summary"), max_length=200, blank=True, help_text=_("one line shown on listings"))
    hero_image = models.ForeignKey(
        "wagtailimages.Image", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("main image")
    )
    body = StreamField(StoryBlock(), blank=True, verbose_name=_("story"))

    content_panels = [
        *Page.content_panels,
        MultiFieldPanel([FieldPanel("product"), FieldPanel("summary"), FieldPanel("hero_image")], heading=_("Product")),
        FieldPanel("body"),
    ]
    search_fields = [*Page.search_fields, index.SearchField("summary"), index.SearchField("body")]

    parent_page_types = ["cms.CategoryPage"]
    subpage_types: list[str] = []
    base_form_class = ProductPageForm

    class Meta:
        verbose_name = _("product page")

    def clean(self):
        super().clean()
        if self.live and self.product_id is None and not getattr(self, "_checked_by_admin_form", False):
            raise ValidationError({"product": _("A product page cannot be published without a product on sale.")})

    def get_context(self, request, *args, **kwargs):
        from . import selectors

        context = super().get_context(request, *args, **kwargs)
        selectors.read_hero_image(self)
        context["detail"] = selectors.product_detail(page=self)
        return context


class OriginIndexPage(CachedPageMixin, Page):
    """Lists the townships the produce comes from."""

    intro = models.TextField(_("introduction"), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    parent_page_types = ["cms.HomePage"]
    subpage_types = ["cms.OriginPage"]
    max_count = 1

    class Meta:
        verbose_name = _("origins index")

    def get_context(self, request, *args, **kwargs):
        from . import selectors

        context = super().get_context(request, *args, **kwargs)
        context["origins"] = selectors.origin_cards(parent=self)
        return context


class OriginPage(CachedPageMixin, Page):
    """A township (or one of its villages): its produce, photos and aggregate figures —
    households taking part, kilograms bought, income returned. Never a person's data."""

    township = models.ForeignKey("households.Township", on_delete=models.PROTECT, related_name="+", verbose_name=_("township"))
    village = models.ForeignKey(
        "households.Village",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("village"),
        help_text=_("leave empty for a page about the whole township"),
    )
    intro = models.TextField(_("introduction"), blank=True)
    hero_image = models.ForeignKey(
        "wagtailimages.Image", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("main image")
    )
    body = StreamField(StoryBlock(), blank=True, verbose_name=_("story and photos"))

    content_panels = [
        *Page.content_panels,
        MultiFieldPanel([FieldPanel("township"), FieldPanel("village")], heading=_("Place")),
        FieldPanel("intro"),
        FieldPanel("hero_image"),
        FieldPanel("body"),
    ]

    parent_page_types = ["cms.OriginIndexPage", "cms.OriginPage"]
    subpage_types = ["cms.OriginPage"]

    class Meta:
        verbose_name = _("origin page")

    def clean(self):
        super().clean()
        if self.village_id and self.township_id and self.village.township_id != self.township_id:
            raise ValidationError({"village": _("This village is not in the chosen township.")})
        parent = self.get_parent() if self.path and self.depth > 1 else None
        parent = parent.specific if parent is not None else None
        if isinstance(parent, OriginPage) and (not self.village_id or parent.township_id != self.township_id):
            # checked once the page is in the tree: at the latest when it is published
            raise ValidationError({"village": _("A page under a township's page is about one of its villages: choose the village.")})

    def get_context(self, request, *args, **kwargs):
        from . import selectors

        context = super().get_context(request, *args, **kwargs)
        context["figures"] = selectors.origin_figures(township_id=self.township_id, village_id=self.village_id)
        context["products"] = selectors.product_cards(selectors.product_pages_from_township(township_id=self.township_id)[:8])
        context["villages"] = selectors.origin_cards(parent=self)
        return context
