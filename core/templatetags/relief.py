"""Display filters: money as ¥ with two decimals, weights in jin and kg, masked personal data."""

from django import template

from core import masking
from core.money import kg_to_jin, to_decimal, yuan

register = template.Library()


@register.filter
def cny(value) -> str:
    """``Decimal('12.5')`` -> ``¥12.50``."""
    if value is None or value == "":
        return ""
    v = yuan(value)
    sign = "-" if v < 0 else ""
    return f"{sign}¥{abs(v):,.2f}"


@register.filter
def jin(value_kg) -> str:
    """A kg weight shown as jin: ``Decimal('2.5')`` -> ``5.000``."""
    if value_kg is None or value_kg == "":
        return ""
    return f"{kg_to_jin(value_kg):,.3f}".rstrip("0").rstrip(".")


@register.filter
def kg(value_kg) -> str:
    if value_kg is None or value_kg == "":
        return ""
    return f"{to_decimal(value_kg):,.3f}".rstrip("0").rstrip(".")


@register.filter
def weight(value_kg) -> str:
    """Both units, as the counter reads them: ``5 斤 (2.5 kg)``."""
    if value_kg is None or value_kg == "":
        return ""
    return f"{jin(value_kg)} 斤 ({kg(value_kg)} kg)"


@register.simple_tag(takes_context=True)
def shown_id(context, value):
    return masking.shown_id_number(context.get("request") and context["request"].user, value)


@register.simple_tag(takes_context=True)
def shown_phone(context, value):
    return masking.shown_phone(context.get("request") and context["request"].user, value)


@register.simple_tag(takes_context=True)
def shown_account(context, value):
    return masking.shown_account(context.get("request") and context["request"].user, value)
