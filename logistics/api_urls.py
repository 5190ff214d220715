"""JSON API routes of logistics, mounted under /api/v1/: intake and the household picker
(logistics/intake_api.py), trace (logistics/trace_api.py)."""

from .intake_api import urlpatterns as intake_urlpatterns
from .trace_api import urlpatterns as trace_urlpatterns

urlpatterns = intake_urlpatterns + trace_urlpatterns
