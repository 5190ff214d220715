"""Site routes of this app (pages that are not Wagtail pages)."""

urlpatterns: list = []
