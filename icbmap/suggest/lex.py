"""Lexicographic solving: the objective's levels one after another, then a fixed tie-break.

Each *stage* minimises one or more consecutive levels packed into one integer objective
(``L1 * (ub2 + 1) + L2``, exact as long as the packed range stays under 2**52), then fixes
that stage's value and goes on.  The last stage is the tie-break
(:func:`icbmap.suggest.terms.tie_break`): a fixed pseudo-random weight per (atom, board root)
pair, the same on every machine, so that when several partitions tie on every level the one
returned is always the same, whatever the number of solver threads (tests/test_suggest_lex.py).

:func:`count_ties` counts the partitions that tie with an option on every level (up to a cap),
each found by a feasibility solve with the previous ones forbidden.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

MAX_PACK = 1 << 52
_DEBUG = bool(os.environ.get("ICBMAP_LEX_DEBUG"))


@dataclass
class LexFound:
    partition: list[list[int]]
    stage_values: list[int]
    level_bound: float | None          # a proven lower bound of level 1 (its integer units)
    proven: bool                        # every stage proven optimal
    cancelled: bool = False
    level_ints: list[int] = field(default_factory=list)   # each level's value in the model
    tie: int = 0                                          # the tie-break's value
    stages: list[str] = field(default_factory=list)


def stages(model) -> list[tuple[object, list[int], int]]:
    """``(expression, level indices, multiplier of its first level)`` per stage; the tie-break
    is level ``-1``."""
    items = list(zip(model.levels, range(len(model.levels)), model.level_ub))
    if model.tiebreak is not None:
        from icbmap.suggest.model import _upper

        items.append((model.tiebreak, -1, _upper(model.cp, model.tiebreak)))
    out = []
    cur = None     # [expr, idx, span, lead]
    for expr, i, ub in items:
        ub = max(int(ub), 0)
        if cur is not None and cur[2] * (ub + 1) < MAX_PACK:
            cur[0] = cur[0] * (ub + 1) + expr
            cur[1].append(i)
            cur[2] *= ub + 1
            cur[3] *= ub + 1
            continue
        if cur is not None:
            out.append((cur[0], cur[1], cur[3]))
        cur = [expr, [i], ub + 1, 1]
    if cur is not None:
        out.append((cur[0], cur[1], cur[3]))
    return out


def _solver(time_limit: float, workers: int, light: bool = False) -> cp_model.CpSolver:
    s = cp_model.CpSolver()
    s.parameters.max_time_in_seconds = max(0.01, float(time_limit))
    s.parameters.num_workers = int(workers)
    s.parameters.random_seed = 1
    if light:
        # many small solves (a region's entries, stage after stage): the default presolve's
        # probing, symmetry detection and repeated passes cost more than they save there
        # (councils -> 26 with the NHS England preset: 10.8 -> 4.3 s CPU); the search and its
        # proof are unchanged, so the answers are the same
        s.parameters.cp_model_probing_level = 0
        s.parameters.symmetry_level = 0
        s.parameters.max_presolve_iterations = 1
    return s


class _Watch:
    """Stops a solver when ``cancel`` is set."""

    def __init__(self, solver, cancel):
        self.solver, self.cancel = solver, cancel
        self.done = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.done.wait(0.05):
            if self.cancel is not None and self.cancel.is_set():
                self.solver.stop_search()
                return

    def __enter__(self):
        self.t.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.t.join()


class _Progress(cp_model.CpSolverSolutionCallback):
    def __init__(self, report, cancel):
        super().__init__()
        self.report, self.cancel = report, cancel

    def on_solution_callback(self):
        self.report(self.ObjectiveValue(), self.BestObjectiveBound())
        if self.cancel is not None and self.cancel.is_set():
            self.StopSearch()


def lex_solve(model, time_limit: float, workers: int, cancel: threading.Event | None = None,
              report: Callable[[int, int, float | None, float | None], None] | None = None,
              extra: Callable | None = None, light: bool = False) -> tuple[int, LexFound | None]:
    """Solve ``model`` (its current constraints, cuts included) stage by stage.

    Returns ``(status of the first stage, found)``; ``report(stage, n_stages, value, bound)``
    is called with the first level's figures while stage 1 runs and with the stage's own
    figures afterwards.
    """
    t0 = time.monotonic()
    st = stages(model)
    cp = model.cp.Clone()
    if extra is not None:
        extra(cp)
    values: list[int] = []
    first_bound = None
    proven = True
    part = None
    status0 = cp_model.UNKNOWN
    for i, (expr, idx, lead) in enumerate(st):
        remaining = time_limit - (time.monotonic() - t0)
        if remaining <= 0 and part is not None:
            proven = False
            break
        cp.Minimize(expr)
        solver = _solver(max(remaining, 0.05), workers, light)
        if model.objective is not None and report is not None:
            def rep(v, b, i=i, lead=lead):
                report(i + 1, len(st), v / lead if v is not None else None, b / lead if b is not None else None)
            solver.best_bound_callback = lambda b, rep=rep: rep(None, b)
            cb = _Progress(lambda v, b, rep=rep: rep(v, b), cancel)
        else:
            cb = _Progress(lambda v, b: None, cancel)
        ts = time.monotonic()
        with _Watch(solver, cancel):
            status = solver.Solve(cp, cb)
        if _DEBUG:
            print(f"[lex] stage {i + 1}/{len(st)} levels {idx}: {solver.StatusName(status)} "
                  f"{time.monotonic() - ts:.2f} s", flush=True)
        if i == 0:
            status0 = status
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            if part is None:
                return status0 if i == 0 else status, None
            proven = False
            break
        part = model.partition(lambda v: solver.BooleanValue(v))
        lv_now = [int(solver.Value(e)) for e in model.levels]
        tie_now = int(solver.Value(model.tiebreak)) if model.tiebreak is not None else 0
        val = int(round(solver.ObjectiveValue()))
        values.append(val)
        if i == 0:
            b = int(round(solver.BestObjectiveBound()))
            first_bound = -(-(b - lead + 1) // lead) if status != cp_model.OPTIMAL else val // lead
            first_bound = max(0, first_bound)
        if status != cp_model.OPTIMAL:
            proven = False
        if status == cp_model.OPTIMAL and not os.environ.get("ICBMAP_LEX_PACKED_CUT"):
            # the packing is exact, so the optimum fixes each packed level's value: fixing them one
            # by one (small coefficients) is the same set of solutions and far easier to propagate
            for j in idx:
                e = model.tiebreak if j == -1 else model.levels[j]
                v = tie_now if j == -1 else lv_now[j]
                if not isinstance(e, int):
                    cp.Add(e == v)
        else:
            cp.Add(expr <= val)
        # continue from this solution
        cp.ClearHints()
        for (a, r), v in model.x.items():
            cp.AddHint(v, solver.BooleanValue(v))
        if cancel is not None and cancel.is_set():
            return status0, LexFound(part, values, first_bound, False, cancelled=True, level_ints=lv_now,
                                     tie=tie_now)
        if status != cp_model.OPTIMAL:
            break          # not proven: later stages would be judged against an unproven value
    return status0, LexFound(part, values, first_bound, proven and len(values) == len(st), level_ints=lv_now,
                             tie=tie_now)


def count_ties(model, level_values: list[int], cap: int, time_limit: float, workers: int,
               cancel: threading.Event | None = None, exclude: list[list[list[int]]] = (),
               extra: Callable | None = None, light: bool = False) -> tuple[int, bool]:
    """Partitions with exactly these level values, other than ``exclude`` (already listed):
    ``(count, complete)``; ``complete`` is False when the cap or the time limit stopped it."""
    t0 = time.monotonic()
    cp = model.cp.Clone()
    if extra is not None:
        extra(cp)
    for expr, v in zip(model.levels, level_values):
        cp.Add(expr == v)
    for part in exclude:
        lits = [model.x[(a, min(board))] for board in part for a in board]
        cp.Add(sum(lits) <= len(lits) - 1)
    cp.ClearObjective()
    count = 0
    while count < cap:
        remaining = time_limit - (time.monotonic() - t0)
        if remaining <= 0 or (cancel is not None and cancel.is_set()):
            return count, False
        solver = _solver(remaining, workers, light)
        with _Watch(solver, cancel):
            status = solver.Solve(cp)
        if status == cp_model.INFEASIBLE:
            return count, True
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return count, False
        part = model.partition(lambda v: solver.BooleanValue(v))
        lits = [model.x[(a, min(board))] for board in part for a in board]
        cp.Add(sum(lits) <= len(lits) - 1)
        count += 1
    return count, False
