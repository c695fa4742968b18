"""Organisational change and boundary change between a baseline and a proposal (Qt-free).

Definitions (``docs/metrics.md``):

* Each baseline board B has a **continuing board**: the proposed board holding the largest share
  of B's people (ties: the lowest proposed board id).
* **Boundary change** (people) = the sum over baseline boards B of (people of B) − (people of B in
  its continuing board): the residents whose area moves from one continuing footprint to another.
* **Merges** (count) = the sum over proposed boards P of max(0, (number of baseline boards whose
  continuing board is P) − 1): organisations combined.

A pure merger of two boards moves nobody (boundary change 0) and counts one merge.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Change:
    people: int            # boundary change: people whose area leaves its board's continuing board
    merges: int            # organisational change: baseline boards absorbed into another's continuation
    continuing: np.ndarray  # baseline board id -> its continuing proposed board id (-1: no people)


def boundary_change(baseline_assignment, assignment, population) -> tuple[int, int, np.ndarray]:
    """``(people, merges, continuing)`` for a proposal against a baseline.

    ``baseline_assignment`` and ``assignment``: board id (int >= 0; negative = unassigned) per
    unit; ``population``: people per unit.  ``continuing[b]`` is baseline board b's continuing
    board (-1 when b holds no assigned people).  Units unassigned in either plan are left out.
    """
    base = np.asarray(baseline_assignment, dtype=np.int64)
    prop = np.asarray(assignment, dtype=np.int64)
    pop = np.asarray(population, dtype=np.float64)
    if not (base.shape == prop.shape == pop.shape) or base.ndim != 1:
        raise ValueError("baseline_assignment, assignment and population should be 1-d arrays of one length")
    if not np.isfinite(pop).all() or (pop < 0).any():
        raise ValueError("population should be finite and not negative")
    ok = (base >= 0) & (prop >= 0)
    nb = int(base.max()) + 1 if base.size and base.max() >= 0 else 0
    if not ok.any() or nb == 0:
        return 0, 0, np.full(nb, -1, dtype=np.int64)
    b, p, w = base[ok], prop[ok], pop[ok]
    npb = int(p.max()) + 1
    table = np.zeros((nb, npb), dtype=np.float64)
    np.add.at(table, (b, p), w)
    continuing = np.argmax(table, axis=1).astype(np.int64)   # argmax: the first (lowest id) on ties
    total = table.sum(axis=1)
    continuing[total <= 0] = -1
    kept = table[np.arange(nb), np.maximum(continuing, 0)]
    kept[continuing < 0] = 0.0
    people = int(round(float((total - kept).sum())))
    counts = np.bincount(continuing[continuing >= 0], minlength=npb)
    merges = int(np.maximum(counts - 1, 0).sum())
    return people, merges, continuing


def change(baseline_assignment, assignment, population) -> Change:
    """:func:`boundary_change` as a :class:`Change`."""
    return Change(*boundary_change(baseline_assignment, assignment, population))


__all__ = ["Change", "boundary_change", "change"]
