"""What the user asks the optimiser for: scope, blocks, target, constraints, objective weights.

Plain dataclasses with parsers for the CLI strings (``--boards 26``, ``--boards 20-30``,
``--objective disruption=1,balance=0.2``).  Every parse or consistency error is a
:class:`SuggestError` with one readable sentence.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field, fields

from icbmap.errors import IcbmapError

#: Block levels, smallest last.  ``boards`` are the starting plan's boards.
BLOCK_LEVELS: tuple[str, ...] = ("boards", "places", "councils", "districts")
#: Atlas level of each block kind (``boards`` = the starting plan's boards, not the atlas layer).
BLOCK_ATLAS_LEVEL = {"boards": "plan-board", "places": "place", "councils": "council", "districts": "district"}

#: Constraint groups, in the order the infeasibility explanation relaxes them.
GROUPS: tuple[str, ...] = ("floor", "ceiling", "contiguity", "region_nesting", "councils_whole",
                           "cas_whole", "whole_areas", "locked", "target")
GROUP_LABELS = {
    "floor": "population floor",
    "ceiling": "population ceiling",
    "contiguity": "contiguity",
    "region_nesting": "NHS region nesting",
    "councils_whole": "councils whole",
    "cas_whole": "combined authorities whole",
    "whole_areas": "other areas whole (rule set geographies)",
    "locked": "locked boards",
    "target": "number of boards",
}


class SuggestError(IcbmapError):
    """A suggestion request that cannot be run (bad target, bounds, scope, time limit...)."""


@dataclass(frozen=True)
class Target:
    """Number of boards in the scope (locked boards in the scope included): ``lo..hi``."""

    lo: int
    hi: int

    @classmethod
    def parse(cls, text: str | int) -> Target:
        s = str(text).strip()
        lo_s, sep, hi_s = s.partition("-")
        try:
            lo = int(lo_s)
            hi = int(hi_s) if sep else lo
        except ValueError:
            raise SuggestError(f"--boards {s!r}: expected a number of boards, N or N-M (e.g. 26 or 20-30)") from None
        t = cls(lo, hi)
        t.check()
        return t

    def check(self) -> None:
        if self.lo < 1:
            raise SuggestError(f"number of boards {self.lo} must be at least 1")
        if self.lo > self.hi:
            raise SuggestError(f"number of boards {self.lo}-{self.hi}: the lower bound is above the upper bound")

    def __str__(self) -> str:
        return str(self.lo) if self.lo == self.hi else f"{self.lo}-{self.hi}"


@dataclass(frozen=True)
class AreaRule:
    """A principle the optimiser enforces (hard) or counts (soft): its kind, geography level
    (a metrics level: ``council``, ``ca``, ``ref:...``), sliver tolerance and weight."""

    kind: str                    # population, area_within_one_board, board_of_whole_areas, nest_or_contain, max_areas
    level: str | None = None
    tolerance: float = 0.0
    weight: float = 1.0
    label: str = ""
    lo: int | None = None        # population min
    hi: int | None = None        # population max / most areas

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass
class Constraints:
    """Hard constraints (each group can be switched off; ``None`` bounds are off)."""

    floor: int | None = None            # every board in the scope has at least this many people
    ceiling: int | None = None          # ... and at most this many
    region_nesting: bool = True         # every board inside one NHS region
    regions_follow_boards: bool = True  # a block straddling a region line goes whole to either region
    contiguity: bool = True             # every board in one piece over the block adjacency
    councils_whole: bool = False        # no council split between boards (within a region when nesting)
    cas_whole: bool = False             # no combined authority split between boards
    locked: tuple[str, ...] = ()        # board codes kept as they are (besides those locked in the plan)
    whole_areas: tuple[str, ...] = ()   # other metrics levels kept whole, e.g. "ref:strategic_authorities_2026"
    tolerance: float = 0.0              # pieces under this share of an area's people do not tie it (slivers)
    nest: tuple[AreaRule, ...] = ()     # hard nest_or_contain rules
    soft: tuple[AreaRule, ...] = ()     # soft rules: failures counted in the soft_rules term

    def check(self) -> None:
        if not (isinstance(self.tolerance, (int, float)) and 0 <= self.tolerance <= 0.5):
            raise SuggestError(f"sliver tolerance {self.tolerance!r} should be between 0 and 0.5")
        for name in ("floor", "ceiling"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, int) or v < 0):
                raise SuggestError(f"population {name} {v!r} must be a whole number of people, 0 or more")
        if self.floor is not None and self.ceiling is not None and self.floor > self.ceiling:
            raise SuggestError(f"population floor {self.floor:,} is above the ceiling {self.ceiling:,}: "
                               "no board can meet both")

    def active_groups(self, has_locked: bool) -> list[str]:
        out = []
        if self.floor is not None:
            out.append("floor")
        if self.ceiling is not None:
            out.append("ceiling")
        for g in ("contiguity", "region_nesting", "councils_whole", "cas_whole", "whole_areas"):
            if getattr(self, g):
                out.append(g)
        if has_locked:
            out.append("locked")
        out.append("target")
        return out

    def to_dict(self) -> dict:
        d = asdict(self)
        d["locked"] = list(self.locked)
        d["whole_areas"] = list(self.whole_areas)
        d["nest"] = [r.to_dict() for r in self.nest]
        d["soft"] = [r.to_dict() for r in self.soft]
        return d

    @classmethod
    def from_dict(cls, d: dict, where: str = "rules") -> Constraints:
        if not isinstance(d, dict):
            raise SuggestError(f"{where}: expected an object of constraint settings")
        known = {f.name for f in fields(cls)} - {"nest", "soft"}
        bad = sorted(set(d) - known)
        if bad:
            raise SuggestError(f"{where}: unknown constraint {', '.join(bad)} (known: {', '.join(sorted(known))})")
        kw = dict(d)
        for name in ("floor", "ceiling"):
            if kw.get(name) is not None:
                v = kw[name]
                if isinstance(v, bool) or not isinstance(v, (int, float)) or v != int(v):
                    raise SuggestError(f"{where}: {name} should be a whole number of people, not {v!r}")
                kw[name] = int(v)
        for name in ("region_nesting", "regions_follow_boards", "contiguity", "councils_whole", "cas_whole"):
            if name in kw and not isinstance(kw[name], bool):
                raise SuggestError(f"{where}: {name} should be true or false, not {kw[name]!r}")
        for name in ("locked", "whole_areas"):
            if name in kw:
                v = kw[name]
                if not isinstance(v, (list, tuple)) or not all(isinstance(x, str) for x in v):
                    raise SuggestError(f"{where}: {name} should be a list of codes")
                kw[name] = tuple(v)
        if "tolerance" in kw and (isinstance(kw["tolerance"], bool) or not isinstance(kw["tolerance"], (int, float))):
            raise SuggestError(f"{where}: tolerance should be a number")
        c = cls(**kw)
        c.check()
        return c


#: Objective terms.  People terms count people (weights are per thousand people), count terms
#: count items; each is multiplied by its weight (docs/suggest.md).  Terms are grouped in
#: lexicographic *levels*: a later level only breaks ties of the earlier ones.
TERMS: tuple[str, ...] = ("soft_rules", "boundary_change", "merges", "council_splits", "sa_nesting",
                          "size_band", "clusters", "councils_per_board", "balance", "disruption", "ca_splits",
                          "ca_coterminosity")
PEOPLE_TERMS = ("boundary_change", "size_band", "disruption", "balance")
TERM_LABELS = {
    "soft_rules": "soft rules failing (each failure times its rule's weight)",
    "boundary_change": "boundary change: people whose area leaves its board's continuing board",
    "merges": "merges: boards combined into another's continuing board",
    "council_splits": "council splits: sum over councils of (boards it deals with - 1)",
    "sa_nesting": "strategic authorities failing nesting (neither holding whole boards nor inside one)",
    "size_band": "size band: people by which boards fall outside the target band (default 1M-3M)",
    "clusters": "boards merged across the 2025 clusters (distance from the expected April 2027 map)",
    "councils_per_board": "councils the busiest board deals with",
    "balance": "population range: largest board minus smallest",
    "disruption": "people moved (board id changes under the best one-to-one continuation)",
    "ca_splits": "combined-authority splits: sum over CAs of (boards it deals with - 1)",
    "ca_coterminosity": "combined authorities not equal to a board",
}
SHORT_LABELS = {
    "soft_rules": "soft rules", "boundary_change": "boundary change", "merges": "merges",
    "council_splits": "council splits", "sa_nesting": "SAs not nesting", "size_band": "outside band",
    "clusters": "cross-cluster", "councils_per_board": "councils/board", "balance": "range",
    "disruption": "people moved", "ca_splits": "CA splits", "ca_coterminosity": "CAs not a board",
}
#: Terms that are sums over boards (and areas), so that the search splits by region (docs/suggest.md).
DECOMPOSABLE = ("soft_rules", "boundary_change", "merges", "council_splits", "sa_nesting", "size_band",
                "clusters", "ca_splits")
#: The default order: rules first, then change, then shape (docs/suggest.md, "Objective").
DEFAULT_LEVELS: tuple[tuple[str, ...], ...] = (("soft_rules",), ("boundary_change",), ("merges",),
                                               ("council_splits",), ("size_band",), ("clusters",))
DEFAULT_BAND = (1_000_000, 3_000_000)
#: Weights are used to two decimal places (the solver works in integers).
WEIGHT_SCALE = 100


class Weights:
    """The objective: lexicographic levels, each a weighted sum of terms, and the size band.

    ``Weights.parse("boundary_change=1 > merges > size_band=1,clusters=500")``: levels are
    separated by ``>`` (the first matters most); ``term=w`` gives a weight (default 1).
    ``Weights()`` is the default order (:data:`DEFAULT_LEVELS`).
    """

    def __init__(self, levels=None, band: tuple[int, int] | None = None, option: str = "--objective"):
        if levels is None:
            levels = [{t: 1.0} for lv in DEFAULT_LEVELS for t in lv]
        self.levels: list[dict[str, float]] = [dict(lv) for lv in levels if lv]
        self.band = tuple(band) if band is not None else DEFAULT_BAND
        self.check(option)

    def check(self, option: str = "--objective") -> None:
        seen = set()
        for lv in self.levels:
            for t, v in lv.items():
                if t not in TERM_LABELS:
                    raise SuggestError(f"{option}: unknown term {t!r} (terms: {', '.join(TERMS)})")
                if t in seen:
                    raise SuggestError(f"{option}: the term {t} is given twice")
                seen.add(t)
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                    raise SuggestError(f"{option}: weight of {t} should be a number, 0 or more, not {v!r}")
        self.levels = [{t: v for t, v in lv.items() if int(round(v * WEIGHT_SCALE))} for lv in self.levels]
        self.levels = [lv for lv in self.levels if lv]
        if not self.levels:
            raise SuggestError(f"{option}: every weight is 0 (or rounds to 0 at two decimals); "
                               "give at least one term a weight")
        lo, hi = self.band
        for v in (lo, hi):
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise SuggestError(f"--band {lo}-{hi}: the size band is two whole numbers of people")
        if lo > hi:
            raise SuggestError(f"--band {lo:,}-{hi:,}: the floor of the size band is above its ceiling")

    @classmethod
    def parse(cls, text: str | None, band: tuple[int, int] | None = None, option: str = "--objective") -> Weights:
        """``None`` or empty gives the default order."""
        if text is None or not str(text).strip():
            return cls(band=band, option=option)
        levels = []
        for chunk in str(text).split(">"):
            lv: dict[str, float] = {}
            for part in chunk.split(","):
                part = part.strip()
                if not part:
                    continue
                name, sep, val = part.partition("=")
                name = name.strip().replace("-", "_")
                if name not in TERM_LABELS:
                    raise SuggestError(f"{option}: unknown term {name!r} (terms: {', '.join(TERMS)})")
                try:
                    v = float(val) if sep else 1.0
                except ValueError:
                    raise SuggestError(f"{option}: weight of {name} should be a number, not {val!r}") from None
                if not math.isfinite(v) or v < 0:
                    raise SuggestError(f"{option}: weight of {name} should be 0 or more, not {val.strip()}")
                if name in lv or any(name in o for o in levels):
                    raise SuggestError(f"{option}: the term {name} is given twice")
                lv[name] = v
            levels.append(lv)
        return cls(levels, band=band, option=option)

    def coef(self, term: str) -> int:
        """Integer weight (``WEIGHT_SCALE`` per unit weight) of ``term`` in its level (0: off)."""
        for lv in self.levels:
            if term in lv:
                return int(round(lv[term] * WEIGHT_SCALE))
        return 0

    def active(self) -> list[str]:
        return [t for lv in self.levels for t in lv]

    @property
    def decomposable(self) -> bool:
        return all(t in DECOMPOSABLE for t in self.active())

    def to_dict(self) -> dict:
        return {"levels": [dict(lv) for lv in self.levels], "band": list(self.band)}

    def __str__(self) -> str:
        return " > ".join(",".join(f"{t}={w:g}" for t, w in lv.items()) for lv in self.levels)

    def __eq__(self, other) -> bool:
        return isinstance(other, Weights) and self.levels == other.levels and self.band == other.band


@dataclass
class Request:
    """One suggestion run."""

    blocks: str = "boards"
    target: Target = field(default_factory=lambda: Target(1, 1))
    scope: str = "england"            # "england", an NHS region (name or code), or board codes "A,B,C"
    constraints: Constraints = field(default_factory=Constraints)
    weights: Weights = field(default_factory=Weights)
    top: int = 1
    time_limit: float = 60.0
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    decompose: str = "auto"           # split by region: auto (61-200 atoms), on, off

    def check(self) -> None:
        if self.blocks not in BLOCK_LEVELS:
            raise SuggestError(f"--blocks {self.blocks!r}: choose one of {', '.join(BLOCK_LEVELS)}")
        self.target.check()
        self.constraints.check()
        if not isinstance(self.top, int) or self.top < 1:
            raise SuggestError(f"--top {self.top!r}: ask for at least 1 option")
        if not (isinstance(self.time_limit, (int, float)) and math.isfinite(self.time_limit)) or self.time_limit <= 0:
            raise SuggestError(f"--time-limit {self.time_limit!r}: the time limit must be more than 0 seconds")
        if self.workers < 1:
            raise SuggestError(f"--workers {self.workers}: at least 1")

    def to_dict(self) -> dict:
        return {"blocks": self.blocks, "target": str(self.target), "scope": self.scope,
                "constraints": self.constraints.to_dict(), "objective": self.weights.to_dict(),
                "top": self.top, "time_limit": self.time_limit}
