"""A bare Django view for the benchmarks' baseline: about 2 KB of HTML through the whole
middleware stack, no template, no query — the ceiling for a Django page on this machine.

Routed only when the setting ``RELIEF_BENCH_VIEWS`` is true, which the embedded (local)
settings read from the environment for ``bench/storefront.py`` and production never sets.
"""

from django.http import HttpResponse

_BODY = ("<!DOCTYPE html><html><head><title>bare</title></head><body><main>" + "<p>relief market baseline</p>" * 75 + "</main></body></html>").encode()


def bare_view(request):
    return HttpResponse(_BODY, content_type="text/html; charset=utf-8")
