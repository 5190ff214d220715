"""Django's PostgreSQL backend, its connection health check run at most every few seconds.

With persistent connections and ``CONN_HEALTH_CHECKS`` Django runs ``SELECT 1`` before the first
statement of every request: one more round trip for each of them, a tenth of an API checkout's.
Here a connection that answered a check (or was opened) within the last
``RELIEF_DB_HEALTH_CHECK_SECONDS`` (default 5) is not checked again; a busy server checks each
connection once every few seconds instead of once a request, an idle one as before. A connection
that broke in between fails the statement that finds it broken; Django then marks the error and
checks (and replaces) the connection when the request ends, as it does for any error.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    checked_at: float | None = None  # time.monotonic() of the last check it answered, or of its opening

    def connect(self):
        super().connect()
        self.checked_at = time.monotonic()

    def close_if_health_check_failed(self):
        if self.connection is None or self.pool or not self.health_check_enabled or self.health_check_done:
            return super().close_if_health_check_failed()
        if self.checked_at is not None and time.monotonic() - self.checked_at < _interval():
            self.health_check_done = True
            return None
        super().close_if_health_check_failed()
        if self.connection is not None:  # it answered (else it was closed and the next use opens one)
            self.checked_at = time.monotonic()
        return None


def _interval() -> float:
    return float(getattr(settings, "RELIEF_DB_HEALTH_CHECK_SECONDS", 5))
