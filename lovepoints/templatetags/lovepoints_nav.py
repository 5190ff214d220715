"""The love-points pages' navigation: which links the signed-in user's role gets."""

from django import template

from .. import access
from ..services import county_today

register = template.Library()


@register.simple_tag(takes_context=True)
def love_points_nav(context) -> dict:
    user = context["request"].user
    return {
        "village": access.village_of(user),
        "county": access.is_county_office(user),
        "month": county_today().strftime("%Y-%m"),
    }
