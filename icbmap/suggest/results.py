"""What a solve gives back: progress while it runs, each option found, the whole answer.

Kept apart from :mod:`icbmap.suggest.solve` so that the whole-model search and the search by
region (:mod:`icbmap.suggest.decompose`) share them without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SolveProgress:
    """What the solver is doing now (sent to the progress callback)."""

    option: int                 # 1-based option being searched
    top: int
    objective: float | None     # best found so far for this option (points)
    bound: float | None         # the solver's bound for this option (points)
    elapsed: float
    options_found: int
    stage: int = 1              # lexicographic stage being solved (1 = the first level)
    stages: int = 1

    @property
    def gap(self) -> float | None:
        return gap_of(self.objective, self.bound)

    def line(self) -> str:
        best = "none yet" if self.objective is None else f"{self.objective:,.2f}"
        bound = "-" if self.bound is None else f"{self.bound:,.2f}"
        gap = "-" if self.gap is None else f"{100 * self.gap:.2f}%"
        stage = f" (level stage {self.stage} of {self.stages})" if self.stages > 1 else ""
        return (f"option {self.option}/{self.top}: best {best}, bound {bound}, gap {gap}{stage}, "
                f"{self.elapsed:.1f} s")


def gap_of(objective: float | None, bound: float | None) -> float | None:
    if objective is None or bound is None:
        return None
    if abs(objective) < 1e-9:
        return 0.0 if abs(bound) < 1e-9 else 1.0
    return max(0.0, (objective - bound) / abs(objective))


@dataclass
class Found:
    """One option as the solver returns it (atoms per board, lowest root first)."""

    partition: list[list[int]]
    objective: float            # points
    bound: float                # points
    status: str                 # "optimal" or "feasible" (time limit or cancel before proof)
    terms: dict[str, int] = field(default_factory=dict)   # raw term values (terms.evaluate)
    levels: list[float] = field(default_factory=list)      # each level's value in points
    level_ints: list[int] = field(default_factory=list)

    @property
    def gap(self) -> float:
        return gap_of(self.objective, self.bound) or 0.0


@dataclass
class Solved:
    found: list[Found]
    status: str                 # optimal / feasible / infeasible / unknown / cancelled
    message: str
    elapsed: float
    ties: tuple[int, bool] | None = None   # (partitions tied with option 1 on every level, count complete)


__all__ = ["Found", "SolveProgress", "Solved", "gap_of"]
