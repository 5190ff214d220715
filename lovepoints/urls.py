"""The love-points pages (see lovepoints/views.py)."""

from django.urls import path

from .views import (
    approvals,
    award_correct,
    board,
    card,
    goods,
    home,
    redeem,
    report,
    report_xlsx,
    review,
    rules,
    stocktake,
)

app_name = "lovepoints"
urlpatterns = [
    path("love-points/", home, name="home"),
    path("love-points/review/<str:month>/", review, name="review"),
    path("love-points/approvals/", approvals, name="approvals"),
    path("love-points/redeem/", redeem, name="redeem"),
    path("love-points/goods/", goods, name="goods"),
    path("love-points/goods/stocktake/", stocktake, name="stocktake"),
    path("love-points/card/<str:number>/", card, name="card"),
    path("love-points/board/<str:month>/", board, name="board"),
    path("love-points/report/", report, name="report"),
    path("love-points/report.xlsx", report_xlsx, name="report-xlsx"),
    path("love-points/awards/<int:pk>/correct/", award_correct, name="award-correct"),
    path("love-points/rules/", rules, name="rules"),
]
