"""JSON API routes of this app, mounted under /api/v1/."""

from django.urls import path

from . import api, counter_api

urlpatterns: list = [
    path("products/", api.ProductListApi.as_view(), name="api-products"),
    path("cart/", api.CartApi.as_view(), name="api-cart"),
    path("cart/items/", api.CartItemsApi.as_view(), name="api-cart-items"),
    path("cart/items/<int:product_id>/", api.CartItemApi.as_view(), name="api-cart-item"),
    path("checkout/", api.CheckoutApi.as_view(), name="api-checkout"),
    path("orders/", api.OrderListApi.as_view(), name="api-orders"),
    path("orders/<str:number>/", api.OrderDetailApi.as_view(), name="api-order"),
    path("orders/<str:number>/cancel/", api.OrderCancelApi.as_view(), name="api-order-cancel"),
    path("me/allocation/", api.MyAllocationApi.as_view(), name="api-my-allocation"),
    path("me/allocation/pass/", counter_api.MyAllocationPassApi.as_view(), name="api-my-allocation-pass"),
    path("counter/sales/", counter_api.CounterSaleApi.as_view(), name="api-counter-sales"),
    path("counter/allocation-codes/", counter_api.AllocationCodeApi.as_view(), name="api-counter-allocation-codes"),
]
