"""Where a person may act: now part of the access policy (logistics/access.py); kept so the
services' imports stay short."""

from ..access import STAFF_ROLES, ensure_acts_at, facility_of, is_supermarket_staff, is_supply_chain_staff

__all__ = ["STAFF_ROLES", "ensure_acts_at", "facility_of", "is_supermarket_staff", "is_supply_chain_staff"]
