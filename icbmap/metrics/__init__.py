"""Metrics: incremental board x area tables, the report, the full-recompute reference."""
