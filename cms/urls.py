"""Site routes of the storefront that are not Wagtail pages: cart, checkout, orders, allocation
(cms/shop_views.py) and the public money-flow page (cms/money_flow.py)."""

from .money_flow import urlpatterns as money_flow_urlpatterns
from .shop_views import urlpatterns as shop_urlpatterns

urlpatterns = shop_urlpatterns + money_flow_urlpatterns
