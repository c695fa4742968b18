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


def moved_mask(baseline_assignment, assignment, population) -> np.ndarray:
    """Bool per unit: its area changes footprint (assigned in both plans, and its proposed board is
    not the continuing board of its baseline board).  ``population[mask].sum()`` is the boundary
    change of :func:`boundary_change`."""
    base = np.asarray(baseline_assignment, dtype=np.int64)
    prop = np.asarray(assignment, dtype=np.int64)
    _people, _merges, continuing = boundary_change(base, prop, population)
    ok = (base >= 0) & (prop >= 0)
    if not len(continuing):
        return np.zeros(base.shape, bool)
    return ok & (prop != continuing[np.clip(base, 0, len(continuing) - 1)])


def merges_into(continuing: np.ndarray, boards) -> int:
    """Merges counted over the proposed boards ``boards`` only (e.g. a comparison's focus)."""
    cont = np.asarray(continuing, dtype=np.int64)
    cont = cont[cont >= 0]
    if not len(cont):
        return 0
    counts = np.bincount(cont)
    b = np.asarray(boards, dtype=np.int64)
    b = b[(b >= 0) & (b < len(counts))]
    return int(np.maximum(counts[b] - 1, 0).sum())


def change_summary(plan) -> dict:
    """Boundary change and merges of ``plan`` against its own baseline, as plain data: ``people``,
    ``lsoas``, ``merges``, ``population`` and ``merged`` (per proposed board continuing more than one
    baseline board: its code and name and the baseline boards it continues)."""
    atlas = plan.atlas
    base, prop, pop = plan.baseline_assignment, plan.assignment, atlas.population
    people, merges, cont = boundary_change(base, prop, pop)
    mask = moved_mask(base, prop, pop)
    t = atlas.layers["board"].table
    base_codes, base_names = t["code"].astype(str).tolist(), t["name"].astype(str).tolist()
    merged = []
    for p in sorted({int(c) for c in cont if c >= 0}):
        from_ = [int(b) for b in np.flatnonzero(cont == p)]
        if len(from_) > 1:
            bd = plan.boards[p]
            merged.append({"code": bd.code, "name": bd.name,
                           "continues": [{"code": base_codes[b], "name": base_names[b]} for b in from_]})
    return {"people": int(people), "lsoas": int(mask.sum()), "merges": int(merges),
            "population": int(pop.sum()), "merged": merged,
            "definition": "each baseline board continues in the board holding most of its people (ties: the "
                          "lowest board id); boundary change counts the people outside their board's continuation; "
                          "merges count the baseline boards beyond the first that continue in one board"}


def change(baseline_assignment, assignment, population) -> Change:
    """:func:`boundary_change` as a :class:`Change`."""
    return Change(*boundary_change(baseline_assignment, assignment, population))


__all__ = ["Change", "boundary_change", "change", "change_summary", "merges_into", "moved_mask"]
