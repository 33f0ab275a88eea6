"""Redis implementations of the dedup index, state store and metrics (distributed mode)."""
