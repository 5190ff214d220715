"""FilterSets of the storefront listings. They run on GET parameters, so the filter form works
without JavaScript; every filter is a join or an EXISTS, so the number of queries a listing runs
does not depend on the size of the catalogue."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Exists, OuterRef
from django.forms.renderers import DjangoTemplates
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core import filters as core_filters
from core.compiled_query import CompiledModelQuery
from households.models import Township
from logistics.models import PackedBatch, Produce


def _frozen(value):
    """A hashable stand-in for a widget template's context that tells apart every two contexts
    the template could render differently: the type (a ``SafeString`` is not escaped, a lazy
    label is translated) and the text of each value, recursively."""
    if isinstance(value, dict):
        return tuple(sorted((key, _frozen(item)) for key, item in value.items()))
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(_frozen(item) for item in value))
    if value is None or isinstance(value, bool | int):
        return (type(value).__name__, value)
    return (type(value).__name__, str(value))


class WidgetMemoRenderer(DjangoTemplates):
    """The form renderer of the listing's filter form: a widget's HTML is remembered per process,
    keyed by everything its template reads (choices with their labels in the request's language,
    the value asked for, attributes). Rendering the selects option by option through templates
    was a fifth of a listing's render; the form shows public filters only, and an entry is
    the same text the templates would write for the same context, so nothing of anyone is kept."""

    MAX_ENTRIES = 512

    def __init__(self):
        super().__init__()
        self._memo = {}

    def render(self, template_name, context, request=None):
        if request is not None or not template_name.startswith("django/forms/widgets/"):
            return super().render(template_name, context, request=request)
        key = (template_name, _frozen(context))
        html = self._memo.get(key)
        if html is None:
            html = super().render(template_name, context)
            if len(self._memo) >= self.MAX_ENTRIES:
                self._memo.clear()  # odd queries (any price typed) cannot grow it without bound
            self._memo[key] = html
        return html


class FilterForm(forms.Form):
    default_renderer = WidgetMemoRenderer()


class MemoSelect(forms.Select):
    """A select whose HTML is remembered per process, keyed by all it is drawn from: its name, the
    value asked for, its attributes, whether it is required, and its choices (values and labels as
    text in the request's language). Building each option's context before the template memo
    could be asked was most of a dropdown's cost."""

    MAX_ENTRIES = 256
    _memo: dict = {}

    def render(self, name, value, attrs=None, renderer=None):
        choices = tuple((str(v), str(label)) for v, label in self.choices)
        key = (type(self), self.template_name, self.option_template_name, name, tuple(self.format_value(value)),
               _frozen(self.build_attrs(self.attrs, attrs)), self.is_required, self.allow_multiple_selected, choices)
        html = self._memo.get(key)
        if html is None:
            html = super().render(name, value, attrs, renderer)
            if len(self._memo) >= self.MAX_ENTRIES:
                self._memo.clear()
            self._memo[key] = html
        return html


class _CompiledChoices(django_filters.fields.ModelChoiceIterator):
    """The field's choices from ``field.read_choices()`` (a compiled statement that gives the rows
    of the field's queryset) where it has one."""

    def __iter__(self):
        read = getattr(self.field, "read_choices", None)
        if read is None:
            yield from super().__iter__()
            return
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        if self.field.null_label is not None:
            yield (self.field.null_value, self.field.null_label)
        for obj in read():
            yield self.choice(obj)


class CompiledModelChoiceField(django_filters.fields.ModelChoiceField):
    iterator = _CompiledChoices
    widget = MemoSelect

    def __init__(self, *args, read_choices=None, **kwargs):
        self.read_choices = read_choices
        super().__init__(*args, **kwargs)


class CompiledModelChoiceFilter(django_filters.ModelChoiceFilter):
    """A model choice filter whose dropdown reads its rows through ``read_choices`` (a callable
    giving the same rows as ``queryset``, compiled once); the value asked for is still checked
    against ``queryset``."""

    field_class = CompiledModelChoiceField


# the dropdowns' rows, compiled once per thread and database (building and compiling the two
# querysets on each listing cost more than running them)
_all_produce = CompiledModelQuery(lambda: Produce.objects.all())
_produce_of_category = CompiledModelQuery(lambda category: Produce.objects.filter(category=category), ("\x00category-mark",))
_townships = CompiledModelQuery(lambda: Township.objects.all())


class ProductPageFilter(django_filters.FilterSet):
    """Filters a queryset of ProductPage annotated by ``cms.selectors.product_pages`` with
    ``price``, ``available`` and ``newest``."""

    produce = CompiledModelChoiceFilter(
        label=_("Produce"), field_name="product__sku__produce", queryset=Produce.objects.all(), empty_label=_("All produce"),
        read_choices=_all_produce,
    )
    township = CompiledModelChoiceFilter(
        label=_("Township of origin"), queryset=Township.objects.all(), method="filter_township", empty_label=_("All townships"),
        read_choices=_townships,
    )
    price_min = core_filters.MoneyFilter(
        label=_("Lowest price (¥)"), field_name="price", lookup_expr="gte", widget=forms.NumberInput(attrs={"min": 0, "step": "0.01", "inputmode": "decimal"})
    )
    price_max = core_filters.MoneyFilter(
        label=_("Highest price (¥)"), field_name="price", lookup_expr="lte", widget=forms.NumberInput(attrs={"min": 0, "step": "0.01", "inputmode": "decimal"})
    )
    in_stock = django_filters.BooleanFilter(
        label=_("In stock only"), method="filter_in_stock", widget=forms.CheckboxInput
    )
    sort = django_filters.ChoiceFilter(
        label=_("Sort by"),
        method="filter_sort",
        empty_label=_("Recommended"),
        choices=[
            ("price", _("Price: low to high")),
            ("-price", _("Price: high to low")),
            ("newest", pgettext_lazy("sort", "Newest")),
        ],
    )

    class Meta:
        form = FilterForm

    def __init__(self, *args, produce_category: str | None = None, queryset=None, **kwargs):
        """``queryset`` may also be a function that builds it, called only once the queryset is
        asked for (``.qs``): the listing's compiled statement answers most pages from the form's
        values alone, and building the annotated queryset cost a fifth of such a page."""
        build = queryset if callable(queryset) else None
        if build is not None:
            from .models import ProductPage

            queryset = ProductPage.objects.none()  # its model for the filters; never read
        super().__init__(*args, queryset=queryset, **kwargs)
        self._build_queryset = build
        if produce_category:
            self.filters["produce"].queryset = Produce.objects.filter(category=produce_category)
            self.filters["produce"].extra["read_choices"] = lambda: _produce_of_category(produce_category)

    @property
    def queryset(self):
        if getattr(self, "_build_queryset", None) is not None:
            self._queryset, self._build_queryset = self._build_queryset(), None
        return self._queryset

    @queryset.setter
    def queryset(self, value):
        self._queryset, self._build_queryset = value, None

    def filter_township(self, queryset, name, value):
        if not value:
            return queryset
        packed_there = PackedBatch.objects.filter(sku_id=OuterRef("product__sku_id"), station__township=value)
        return queryset.filter(Exists(packed_there))

    def filter_in_stock(self, queryset, name, value):
        return queryset.filter(available__gt=0) if value else queryset

    def filter_sort(self, queryset, name, value):
        if value == "price":
            return queryset.order_by("price", "path")
        if value == "-price":
            return queryset.order_by("-price", "path")
        if value == "newest":
            return queryset.order_by("-newest", "-first_published_at", "path")
        return queryset
