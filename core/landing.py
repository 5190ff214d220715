"""Where each user works: the screens of their role and the one they land on after sign-in.

Core knows no app, so each app registers a provider in its ``AppConfig.ready``:
``register_screens(provider, rank=…)`` where ``provider(user)`` returns the user's screens in
that app (empty when the app has nothing for them), the first being the app's landing. The
provider of the lowest rank that answers decides the landing (``landing_url_for``); the site
header lists every provider's screens (``screens_for``). The county office's screen, the
Wagtail admin, is core's own: the admin is a framework piece, not an app of ours.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from django.urls import get_script_prefix, reverse
from django.utils.functional import LazyObject, empty
from django.utils.translation import gettext_lazy as _

from . import roles

SHOP_URL = "/"


@dataclass(frozen=True)
class Screen:
    label: str
    url: str


Provider = Callable[[object], list[Screen]]
_providers: list[tuple[int, Provider]] = []


def register_screens(provider: Provider, *, rank: int) -> None:
    """Add an app's screens; a lower ``rank`` wins the landing for users several apps serve."""
    if any(p is provider for _r, p in _providers):
        return
    _providers.append((rank, provider))
    _providers.sort(key=lambda rp: rp[0])


def _county_office_screens(user) -> list[Screen]:
    if roles.is_county_office(user):
        return [Screen(str(_("County office dashboard")), "/admin/")]
    return []


register_screens(_county_office_screens, rank=0)


def screen_url(name: str) -> str:
    """``reverse(name)`` of a route without arguments, worked out once per script prefix: the
    header lists the user's screens on every page."""
    return _reversed(name, get_script_prefix())


@lru_cache(maxsize=256)
def _reversed(name: str, _prefix: str) -> str:
    return reverse(name)


def _unwrapped(user):
    """The user behind ``request.user``'s lazy proxy: the providers ask a user a dozen questions
    a page, and each through the proxy is a call of its own."""
    if isinstance(user, LazyObject):
        if user._wrapped is empty:
            user._setup()
        return user._wrapped
    return user


def _groups(user) -> list[list[Screen]]:
    if not user or not user.is_authenticated:
        return []
    user = _unwrapped(user)
    cached = getattr(user, "_relief_screens", None)
    if cached is None:
        cached = [screens for _rank, provider in _providers if (screens := list(provider(user)))]
        user._relief_screens = cached
    return cached


def screens_for(user) -> list[Screen]:
    """Every screen of the user's roles, the landing first, without repeats."""
    seen: set[str] = set()
    out: list[Screen] = []
    for group in _groups(user):
        for screen in group:
            if screen.url not in seen:
                seen.add(screen.url)
                out.append(screen)
    return out


def landing_url_for(user) -> str:
    """Where ``user`` lands after signing in: the first screen of their highest-ranked role."""
    groups = _groups(user)
    return groups[0][0].url if groups else SHOP_URL

