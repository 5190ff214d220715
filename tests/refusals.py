"""Whether the database refuses a write: for the tests of keys and constraints it enforces."""

from __future__ import annotations

from django.db import IntegrityError, connection, transaction


def refused(write) -> bool:
    """Whether the database refuses ``write`` (its deferred keys checked too) and keeps nothing of it."""
    try:
        with transaction.atomic():
            write()
            connection.check_constraints()
    except IntegrityError:
        return True
    return False
