"""Metrics: incremental board x area tables, the report, the full-recompute reference.

``Metrics(plan)`` (incremental, observes the plan), ``full_recompute(plan)`` (the reference
report), ``PopulationBand`` and ``DEFAULT_TOLERANCE``; definitions in docs/metrics.md.
"""

from icbmap.metrics.engine import Metrics
from icbmap.metrics.reference import compute_values, full_recompute
from icbmap.metrics.values import DEFAULT_TOLERANCE, MetricValues, PopulationBand

__all__ = ["DEFAULT_TOLERANCE", "MetricValues", "Metrics", "PopulationBand", "compute_values", "full_recompute"]
