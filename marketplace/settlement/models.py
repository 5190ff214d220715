"""Settlement runs and their lines (added by the settlement work)."""
