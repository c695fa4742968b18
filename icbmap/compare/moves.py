"""Moves between two options: which units change board, grouped by district and by place.

Two options rarely share board ids (a merge keeps one id, a new board takes the next), so
boards are first **matched**: every pair (board of A, board of B) sharing people is ranked
by the people they share (then LSOAs, then ids) and taken greedily, each board at most
once.  A unit **moves** when its board in B is not the match of its board in A.  So a
merge moves only the people of the boards that did not carry on, and two options drawing
the same lines under different names or ids move nobody.  A board of A left without a
match (more boards in A than in B) moves all its people.

Everything here is numpy over the unit arrays: one ``bincount`` of the pairs and one
grouped count per level, a few milliseconds on England.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from icbmap.names import short_board_name

GROUP_LEVELS = ("district", "place")


def match_boards(a: np.ndarray, b: np.ndarray, pop: np.ndarray) -> dict[int, int]:
    """Board of A -> matched board of B (see the module doc).  ``-1`` (unassigned) matches ``-1``."""
    a = a.astype(np.int64)
    b = b.astype(np.int64)
    nb = int(max(b.max(initial=-1), -1)) + 2
    na = int(max(a.max(initial=-1), -1)) + 2
    key = (a + 1) * nb + (b + 1)
    units = np.bincount(key, minlength=na * nb)         # board ids are small: a dense table
    uniq = np.flatnonzero(units)
    units = units[uniq].astype(np.int64)
    shared = np.bincount(key, weights=pop, minlength=na * nb)[uniq].astype(np.int64)
    ka, kb = uniq // nb - 1, uniq % nb - 1
    order = np.lexsort((kb, ka, -units, -shared))
    out: dict[int, int] = {-1: -1}
    used_b = {-1}
    for i in order.tolist():
        x, y = int(ka[i]), int(kb[i])
        if x in out or y in used_b:
            continue
        out[x] = y
        used_b.add(y)
    return out


def moved_mask(a: np.ndarray, b: np.ndarray, pop: np.ndarray) -> np.ndarray:
    """Bool per unit: True where the unit's board in B is not the match of its board in A."""
    m = match_boards(a, b, pop)
    lut = np.full(int(max(a.max(initial=-1), -1)) + 2, -2, np.int64)
    for x, y in m.items():
        lut[x + 1] = y
    return lut[a.astype(np.int64) + 1] != b


@dataclass
class Move:
    """The units of one area that go from one board of A to one board of B."""

    level: str            # "district" or "place"
    area: int
    code: str
    name: str
    from_board: int       # board id in A
    from_name: str
    to_board: int         # board id in B
    to_name: str
    units: np.ndarray     # unit indices
    people: int
    area_units: int       # all the area's units (so "12 of 40 LSOAs")

    @property
    def lsoas(self) -> int:
        return len(self.units)

    def text(self) -> str:
        whole = "all" if self.lsoas == self.area_units else f"{self.lsoas:,} of {self.area_units:,}"
        return (f"{self.name}: {whole} LSOAs, {self.people:,} people: "
                f"{short_board_name(self.from_name)} \u2192 {short_board_name(self.to_name)}")

    def to_dict(self) -> dict:
        return {"level": self.level, "code": self.code, "name": self.name,
                "from": self.from_name, "to": self.to_name, "lsoas": self.lsoas,
                "area_lsoas": self.area_units, "people": self.people}


@dataclass
class Diff:
    """What changes from option A to option B."""

    a_name: str
    b_name: str
    moved: np.ndarray                 # bool per unit
    to_board: np.ndarray              # int32 per moved unit (B's board), aligned with ``units``
    units: np.ndarray                 # moved unit indices
    people: int
    match: dict[int, int]
    by: dict[str, list[Move]] = field(default_factory=dict)

    @property
    def lsoas(self) -> int:
        return len(self.units)

    def to_dict(self) -> dict:
        return {"from": self.a_name, "to": self.b_name, "lsoas": self.lsoas, "people": self.people,
                **{f"by_{lvl}": [m.to_dict() for m in moves] for lvl, moves in self.by.items()}}


def diff_plans(plan_a, plan_b, a_name: str = "A", b_name: str = "B",
               within: np.ndarray | None = None) -> Diff:
    """The moves from ``plan_a`` to ``plan_b`` (same atlas), grouped by district and place.

    ``within`` (bool per unit) keeps only moves of those units (a focus)."""
    atlas = plan_a.atlas
    pop = atlas.population
    a, b = plan_a.assignment, plan_b.assignment
    match = match_boards(a, b, pop)
    lut = np.full(int(max(a.max(initial=-1), -1)) + 2, -2, np.int64)
    for x, y in match.items():
        lut[x + 1] = y
    moved = lut[a.astype(np.int64) + 1] != b
    if within is not None:
        moved &= within
    units = np.flatnonzero(moved)
    d = Diff(a_name, b_name, moved, b[units].astype(np.int32), units, int(pop[units].sum()), match)
    names_a = {bd.id: bd.name for bd in plan_a.boards}
    names_b = {bd.id: bd.name for bd in plan_b.boards}
    names_a[-1] = names_b[-1] = "unassigned"
    for lvl in GROUP_LEVELS:
        d.by[lvl] = _group(atlas, lvl, units, a[units], b[units], pop, names_a, names_b)
    return d


def place_label(name: str) -> str:
    """'NHS Hertfordshire and West Essex ICB - 06K' -> 'Hertfordshire and West Essex 06K'."""
    if " - " in name:
        board, code = name.rsplit(" - ", 1)
        return f"{short_board_name(board)} {code}"
    return name


def _level_tables(atlas, lvl):
    """Codes, planners' names and unit counts of the areas at ``lvl`` (kept with the atlas's derived tables)."""
    def build():
        t = atlas.layers[lvl].table
        names = t["name"].astype(str).tolist()
        if lvl == "place":
            names = [place_label(n) for n in names]
        return (t["code"].astype(str).tolist(), names, np.bincount(atlas.unit_level(lvl), minlength=len(t)))

    return atlas.derived.get(f"compare.level_tables:{lvl}", build, depends=("units", "layers"))


def _group(atlas, lvl, units, fa, fb, pop, names_a, names_b) -> list[Move]:
    if not len(units):
        return []
    area = atlas.unit_level(lvl)[units].astype(np.int64)
    nbmax = int(max(fa.max(), fb.max())) + 2
    key = (area * nbmax + (fa.astype(np.int64) + 1)) * nbmax + (fb.astype(np.int64) + 1)
    order = np.argsort(key, kind="stable")
    sk = key[order]
    starts = np.flatnonzero(np.r_[True, sk[1:] != sk[:-1]])
    ends = np.r_[starts[1:], len(sk)]
    codes, names, sizes = _level_tables(atlas, lvl)
    su = units[order]
    people = np.add.reduceat(pop[su], starts) if len(starts) else np.zeros(0, np.int64)
    sa, sfa, sfb = area[order][starts].tolist(), fa[order][starts].tolist(), fb[order][starts].tolist()
    out = []
    for k, (s, e) in enumerate(zip(starts.tolist(), ends.tolist())):
        ar, x, y = int(sa[k]), int(sfa[k]), int(sfb[k])
        out.append(Move(lvl, ar, codes[ar], names[ar], x, names_a.get(x, str(x)), y, names_b.get(y, str(y)),
                        su[s:e], int(people[k]), int(sizes[ar])))
    out.sort(key=lambda m: (-m.people, m.name))
    return out
