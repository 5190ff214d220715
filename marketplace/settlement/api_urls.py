from django.urls import path

from .views import PublicMoneyFlowAPI

urlpatterns = [
    path("public/money-flow/", PublicMoneyFlowAPI.as_view(), name="api-public-money-flow"),
]
