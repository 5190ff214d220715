"""The client's IP address, as the access log and the sign-in lock-out both record it.

Behind the reverse proxy every request comes from the proxy's address; the proxy appends the
client's address to ``X-Forwarded-For``. ``RELIEF_TRUSTED_PROXIES`` says how many proxies stand
in front (0 in development: REMOTE_ADDR is the client): the client is the address that many
places from the right of that header — the entries further left are the client's own claims and
can be forged.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def _valid(value: str) -> str | None:
    value = (value or "").strip()
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    meta = getattr(request, "META", {})
    proxies = getattr(settings, "RELIEF_TRUSTED_PROXIES", 0)
    if proxies > 0:
        forwarded = [part for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return _valid(forwarded[-proxies])
    return _valid(meta.get("REMOTE_ADDR", ""))
