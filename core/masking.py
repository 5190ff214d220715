"""Masking of personal data: resident ID numbers, phones and payout accounts.

Only county office staff see them in full; everyone else (and every public page and log line)
sees the masked form.
"""

from __future__ import annotations

from .roles import is_county_office


def mask_id_number(value: str) -> str:
    """``612525198001011234`` -> ``612525********1234``."""
    if not value:
        return ""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str) -> str:
    """``13812345678`` -> ``138****5678``."""
    if not value:
        return ""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_account(value: str) -> str:
    """Keep only the last four characters of a payout account."""
    if not value:
        return ""
    if len(value) <= 4:
        return "*" * len(value)
    return "*" * (len(value) - 4) + value[-4:]


def can_see_personal_data(user) -> bool:
    return bool(user and user.is_authenticated and (user.is_superuser or is_county_office(user)))


def shown_id_number(user, value: str) -> str:
    return value if can_see_personal_data(user) else mask_id_number(value)


def shown_phone(user, value: str) -> str:
    return value if can_see_personal_data(user) else mask_phone(value)


def shown_account(user, value: str) -> str:
    return value if can_see_personal_data(user) else mask_account(value)
