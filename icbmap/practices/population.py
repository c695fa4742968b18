"""Registered population: patients on GP practice lists, summed by board or area.

Two population bases sit side by side in icbmap:

* **resident** (``atlas.population``): people living in each LSOA (ONS, by area);
* **registered** (``atlas.practices["patients"]``): patients on each GP practice's list,
  counted where the practice is, whoever its patients are and wherever they live.  It is
  higher than the resident figure (list inflation, patients living in Wales or Scotland).

A board's registered population is the sum of the lists of the practices assigned to it
(``plan.practice_assignment``, one board id per practice, -1 = unassigned).
"""

from __future__ import annotations

import numpy as np

from icbmap.atlas.model import LEVELS, Atlas


def practice_patients(atlas: Atlas) -> np.ndarray:
    """Registered patients per practice (int64; empty when the atlas has no practices)."""
    if atlas.practices is None:
        return np.zeros(0, np.int64)
    return atlas.practices["patients"].to_numpy(dtype=np.int64)


def baseline_practice_assignment(atlas: Atlas) -> np.ndarray:
    """Each practice's baseline board (int32, -1 none; empty without practices)."""
    if atlas.practices is None:
        return np.zeros(0, np.int32)
    return atlas.practices["board"].to_numpy(dtype=np.int32).copy()


def registered_by_board(atlas: Atlas, practice_assignment, n_boards: int | None = None) -> np.ndarray:
    """Registered patients per board id (int64).

    ``practice_assignment``: board id per practice (row order of ``atlas.practices``), -1
    for none.  The result has ``n_boards`` entries (default: the atlas's boards or the
    highest board id + 1, whichever is larger); unassigned practices count nowhere.
    """
    pats = practice_patients(atlas)
    assign = np.asarray(practice_assignment, dtype=np.int64)
    if len(assign) != len(pats):
        raise ValueError(f"practice assignment has {len(assign)} entries for {len(pats)} practices")
    n = len(atlas.layers["board"]) if n_boards is None else int(n_boards)
    if n_boards is None and len(assign):
        n = max(n, int(assign.max()) + 1)
    ok = assign >= 0
    if ok.any() and int(assign[ok].max()) >= n:
        raise ValueError(f"board id {int(assign[ok].max())} out of range for {n} boards")
    return np.bincount(assign[ok], weights=pats[ok], minlength=n).astype(np.int64)


def practice_assignment_from_units(atlas: Atlas, unit_assignment, base=None) -> np.ndarray:
    """Boards of the practices when each practice follows the unit it stands in.

    Practices without a unit keep ``base`` (default: their baseline board).
    """
    base = baseline_practice_assignment(atlas) if base is None else np.asarray(base, np.int32).copy()
    if atlas.practices is None:
        return base
    unit = atlas.practices["unit"].to_numpy(dtype=np.int64)
    ua = np.asarray(unit_assignment, dtype=np.int32)
    placed = unit >= 0
    base[placed] = ua[unit[placed]]
    return base


def registered_by_area(atlas: Atlas, level: str) -> np.ndarray:
    """Registered patients of the practices standing in each area of ``level`` (by location,
    not by the board a practice belongs to; unplaced practices count nowhere).  ``level``:
    ``"unit"`` or one of :data:`~icbmap.atlas.model.LEVELS`."""
    if level != "unit" and level not in LEVELS:
        raise ValueError(f"unknown level {level!r}")
    n = atlas.n_units if level == "unit" else len(atlas.layers[level])
    if atlas.practices is None:
        return np.zeros(n, np.int64)
    unit = atlas.practices["unit"].to_numpy(dtype=np.int64)
    pats = practice_patients(atlas)
    ok = unit >= 0
    area = unit[ok] if level == "unit" else atlas.unit_level(level)[unit[ok]].astype(np.int64)
    keep = area >= 0  # outside any combined authority
    return np.bincount(area[keep], weights=pats[ok][keep], minlength=n).astype(np.int64)


__all__ = ["baseline_practice_assignment", "practice_assignment_from_units", "practice_patients",
           "registered_by_area", "registered_by_board"]
