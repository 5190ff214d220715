from django.urls import path

from .api import HouseholdIncomeAPI

urlpatterns = [
    path("households/<str:number>/income/", HouseholdIncomeAPI.as_view(), name="api-household-income"),
]
