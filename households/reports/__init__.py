"""Household income reports, the household income page, payout lists and the watch list."""
