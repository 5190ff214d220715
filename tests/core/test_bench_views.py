"""The benchmarks' bare view is never routed unless the local settings ask for it."""

from django.urls import Resolver404, resolve

from core.bench_views import bare_view


def test_the_bare_bench_view_is_not_routed_by_default():
    try:
        match = resolve("/_bench/bare/")
    except Resolver404:
        return
    assert match.func is not bare_view
