from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from cms.shop_views import urlpatterns as shop_urlpatterns
from core.routing import remembered

api_v1 = [
    path("", include("core.api_urls")),
    path("", include("households.api_urls")),
    path("", include("lovepoints.api")),
    path("", include("logistics.api_urls")),
    path("", include("marketplace.api_urls")),
    path("", include("marketplace.settlement.api_urls")),
    path("", include("marketplace.canteens.api")),
]

urlpatterns = [
    # the employee's cart, checkout, orders and allocation first: every step of an order resolves
    # here rather than after the apps' prefix-less includes (no other route starts with their paths)
    *shop_urlpatterns,
    path("django-admin/", admin.site.urls),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("accounts/", include("core.urls")),
    path("", include("marketplace.accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include(api_v1)),
    path("", include("households.urls")),
    path("", include("lovepoints.urls")),
    path("", include("logistics.urls")),
    path("", include("marketplace.urls")),
    path("", include("marketplace.settlement.urls")),
    path("", include("marketplace.canteens.urls")),
    path("", include("cms.urls")),
]

if getattr(settings, "RELIEF_BENCH_VIEWS", False):  # the benchmarks' bare view (local settings only)
    from core.bench_views import bare_view

    urlpatterns.insert(0, path("_bench/bare/", bare_view))

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# Wagtail's page tree serves everything else; it must come last.
urlpatterns += [path("", include(wagtail_urls))]

# each path's view found once per process, then remembered (core/routing.py)
urlpatterns = remembered(urlpatterns)
