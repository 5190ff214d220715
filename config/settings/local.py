"""The embedded default: what `make run` serves on a fresh machine."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)

# bench/storefront.py's baseline (core/bench_views.py): routed only here, only when asked for.
RELIEF_BENCH_VIEWS = env.bool("RELIEF_BENCH_VIEWS", default=False)
