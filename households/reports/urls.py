"""Site routes of the income reports (county office)."""

from django.urls import path

from . import views

urlpatterns = [
    path("income/", views.income_report, name="household-income-report"),
    path("income/households/<str:number>/", views.household_income, name="household-income"),
]
