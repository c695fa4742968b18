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
    return LexRun(model, extra, light).run(time_limit, workers, cancel, report)


class LexRun:
    """A lexicographic solve that can stop after some stages and go on later (the region
    decomposition solves the first stage of many entries and the rest only where needed)."""

    def __init__(self, model, extra: Callable | None = None, light: bool = False):
        self.model, self.light = model, light
        self.st = stages(model)
        self.cp = model.cp.Clone()
        if extra is not None:
            extra(self.cp)
        self.values: list[int] = []
        self.first_bound = None
        self.proven = True
        self.part = None
        self.status0 = cp_model.UNKNOWN
        self.next = 0                  # the next stage to solve
        self.stopped = False           # a stage was not proven: later stages are not solved
        self.lv_now: list[int] = []
        self.tie_now = 0

    @property
    def complete(self) -> bool:
        return self.stopped or self.next >= len(self.st)

    def levels_done(self) -> set[int]:
        """Indices of the levels whose values are final (proven) so far."""
        return {j for _e, idx, _l in self.st[:self.next] for j in idx if j >= 0} if self.proven else set()

    def run(self, time_limit: float, workers: int, cancel: threading.Event | None = None,
            report: Callable | None = None, until: int | None = None) -> tuple[int, LexFound | None]:
        """Solve the stages from the next one up to ``until`` (all by default)."""
        model, cp, st = self.model, self.cp, self.st
        t0 = time.monotonic()
        last = len(st) if until is None else min(until, len(st))
        while self.next < last and not self.stopped:
            i = self.next
            expr, idx, lead = st[i]
            remaining = time_limit - (time.monotonic() - t0)
            if remaining <= 0 and self.part is not None:
                self.proven, self.stopped = False, True
                break
            cp.Minimize(expr)
            solver = _solver(max(remaining, 0.05), workers, self.light)
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
            self.next += 1
            if i == 0:
                self.status0 = status
            if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                if self.part is None:
                    self.stopped = True
                    return self.status0 if i == 0 else status, None
                self.proven, self.stopped = False, True
                break
            self.part = model.partition(lambda v, solver=solver: solver.BooleanValue(v))
            self.lv_now = [int(solver.Value(e)) for e in model.levels]
            self.tie_now = int(solver.Value(model.tiebreak)) if model.tiebreak is not None else 0
            val = round(solver.ObjectiveValue())
            self.values.append(val)
            if i == 0:
                b = round(solver.BestObjectiveBound())
                fb = -(-(b - lead + 1) // lead) if status != cp_model.OPTIMAL else val // lead
                self.first_bound = max(0, fb)
            if status == cp_model.OPTIMAL:
                # the packing is exact, so the optimum fixes each packed level's value: fixing them
                # one by one (small coefficients) is the same set of solutions and far easier to
                # propagate than the packed sum
                for j in idx:
                    e = model.tiebreak if j == -1 else model.levels[j]
                    v = self.tie_now if j == -1 else self.lv_now[j]
                    if not isinstance(e, int):
                        cp.Add(e == v)
            else:
                self.proven = False
                cp.Add(expr <= val)
            # continue from this solution
            cp.ClearHints()
            for v in model.x.values():
                cp.AddHint(v, solver.BooleanValue(v))
            if cancel is not None and cancel.is_set():
                self.stopped = True
                return self.status0, LexFound(self.part, list(self.values), self.first_bound, False, cancelled=True,
                                              level_ints=list(self.lv_now), tie=self.tie_now)
            if status != cp_model.OPTIMAL:
                self.stopped = True
                break          # not proven: later stages would be judged against an unproven value
        if self.part is None:
            return self.status0, None
        return self.status0, LexFound(self.part, list(self.values), self.first_bound,
                                      self.proven and len(self.values) == len(st), level_ints=list(self.lv_now),
                                      tie=self.tie_now)


def count_ties(model, level_values: list[int], cap: int, time_limit: float, workers: int,
               cancel: threading.Event | None = None, exclude: list[list[list[int]]] = (),
               extra: Callable | None = None, light: bool = False, collect: list | None = None) -> tuple[int, bool]:
    """Partitions with exactly these level values, other than ``exclude`` (already listed):
    ``(count, complete)``; ``complete`` is False when the cap or the time limit stopped it.
    ``collect``: a list the partitions found are appended to."""
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
        if collect is not None:
            collect.append(part)
        lits = [model.x[(a, min(board))] for board in part for a in board]
        cp.Add(sum(lits) <= len(lits) - 1)
        count += 1
    return count, False
