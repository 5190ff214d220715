"""Site routes of the storefront that are not Wagtail pages: the public money-flow page
(cms/money_flow.py); last, Wagtail's page view behind the anonymous page cache (cms/cache.py) —
the same pattern as Wagtail's own, which still follows in config/urls.py for anything this one
leaves (``_util/`` paths). The employee's cart, checkout, orders and allocation
(cms/shop_views.py) are routed first of all in config/urls.py."""

from django.urls import re_path

from . import cache
from .money_flow import urlpatterns as money_flow_urlpatterns

urlpatterns = [
    *money_flow_urlpatterns,
    re_path(r"^(?!_util/)((?:[\w\-]+/)*)$", cache.serve, name="storefront_serve"),
]
