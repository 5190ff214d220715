"""Site routes of logistics: the intake screens (logistics/intake_views.py) and the station,
shipment, label and public trace pages (logistics/views.py)."""

from .cash_views import urlpatterns as cash_urlpatterns
from .intake_views import urlpatterns as intake_urlpatterns
from .stocktake_views import urlpatterns as stocktake_urlpatterns
from .views import urlpatterns as chain_urlpatterns

urlpatterns = cash_urlpatterns + intake_urlpatterns + stocktake_urlpatterns + chain_urlpatterns
