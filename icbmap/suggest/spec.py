"""What the user asks the optimiser for: scope, blocks, target, constraints, objective weights.

Plain dataclasses with parsers for the CLI strings (``--boards 26``, ``--boards 20-30``,
``--objective disruption=1,balance=0.2``).  Every parse or consistency error is a
:class:`SuggestError` with one readable sentence.
"""

from __future__ import annotations

import math
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
    def parse(cls, text: str | int) -> "Target":
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


@dataclass
class Constraints:
    """Hard constraints (each group can be switched off; ``None`` bounds are off)."""

    floor: int | None = None            # every board in the scope has at least this many people
    ceiling: int | None = None          # ... and at most this many
    region_nesting: bool = True         # every board inside one NHS region
    contiguity: bool = True             # every board in one piece over the block adjacency
    councils_whole: bool = False        # no council split between boards (within a region when nesting)
    cas_whole: bool = False             # no combined authority split between boards
    locked: tuple[str, ...] = ()        # board codes kept as they are (besides those locked in the plan)
    whole_areas: tuple[str, ...] = ()   # other metrics levels kept whole, e.g. "ref:strategic_authorities_2026"
    tolerance: float = 0.0              # pieces under this share of an area's people do not tie it (slivers)

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
        return d

    @classmethod
    def from_dict(cls, d: dict, where: str = "rules") -> "Constraints":
        if not isinstance(d, dict):
            raise SuggestError(f"{where}: expected an object of constraint settings")
        known = {f.name for f in fields(cls)}
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
        for name in ("region_nesting", "contiguity", "councils_whole", "cas_whole"):
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


#: Objective terms.  People terms count thousands of people, count terms count items;
#: each is multiplied by its weight (docs/suggest.md).
TERMS: tuple[str, ...] = ("disruption", "balance", "council_splits", "ca_splits", "councils_per_board",
                          "ca_coterminosity")
PEOPLE_TERMS = ("disruption", "balance")
TERM_LABELS = {
    "disruption": "people moved from the starting plan (thousands)",
    "balance": "population range: largest board minus smallest (thousands)",
    "council_splits": "council splits: sum over councils of (boards it deals with - 1)",
    "ca_splits": "combined-authority splits: sum over CAs of (boards it deals with - 1)",
    "councils_per_board": "councils the busiest board deals with",
    "ca_coterminosity": "combined authorities not equal to a board",
}
#: Weights are used to two decimal places (the solver works in integers).
WEIGHT_SCALE = 100


@dataclass
class Weights:
    disruption: float = 1.0
    balance: float = 0.0
    council_splits: float = 0.0
    ca_splits: float = 0.0
    councils_per_board: float = 0.0
    ca_coterminosity: float = 0.0

    @classmethod
    def parse(cls, text: str | None) -> "Weights":
        """``disruption=1,balance=0.2``: named terms get the given weight, the others 0.

        ``None`` or empty gives the default (disruption only).
        """
        if not text or not str(text).strip():
            return cls()
        w = {t: 0.0 for t in TERMS}
        for part in str(text).split(","):
            part = part.strip()
            if not part:
                continue
            name, sep, val = part.partition("=")
            name = name.strip().replace("-", "_")
            if name not in w:
                raise SuggestError(f"--objective: unknown term {name!r} (terms: {', '.join(TERMS)})")
            try:
                v = float(val) if sep else 1.0
            except ValueError:
                raise SuggestError(f"--objective: weight of {name} should be a number, not {val!r}") from None
            if not math.isfinite(v) or v < 0:
                raise SuggestError(f"--objective: weight of {name} should be 0 or more, not {val}")
            w[name] = v
        out = cls(**w)
        if not any(out.coef(t) for t in TERMS):
            raise SuggestError("--objective: every weight is 0 (or rounds to 0 at two decimals); "
                               "give at least one term a weight")
        return out

    def coef(self, term: str) -> int:
        """Integer weight (``WEIGHT_SCALE`` per unit weight)."""
        return int(round(getattr(self, term) * WEIGHT_SCALE))

    def active(self) -> list[str]:
        return [t for t in TERMS if self.coef(t)]

    def to_dict(self) -> dict:
        return {t: getattr(self, t) for t in TERMS}

    def __str__(self) -> str:
        return ",".join(f"{t}={getattr(self, t):g}" for t in self.active())


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
    workers: int = 8

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
