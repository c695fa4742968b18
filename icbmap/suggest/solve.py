"""Solving: the best K distinct options, progress, cancellation, and why it is infeasible.

:func:`solve_problem` works on a bare :class:`~icbmap.suggest.problem.Problem` (tests build
small ones by hand); :func:`suggest` runs a :class:`~icbmap.suggest.spec.Request` over a
plan and turns every option into a plan with its figures from the metrics engine
(:mod:`icbmap.suggest.figures`).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from ortools.sat.python import cp_model

from icbmap.suggest.model import build_model, partition_from_units
from icbmap.suggest.problem import Problem, build_problem
from icbmap.suggest.results import Found, Solved, SolveProgress
from icbmap.suggest.spec import (
    GROUP_LABELS,
    Constraints,
    Request,
    SuggestError,
    Target,
    Weights,
)


class _Callback(cp_model.CpSolverSolutionCallback):
    def __init__(self, model, report, cancel):
        super().__init__()
        self.model = model
        self.report = report
        self.cancel = cancel
        self.best: list[list[int]] | None = None
        self.best_obj: float | None = None

    def on_solution_callback(self):
        self.best = self.model.partition(lambda v: self.BooleanValue(v))
        self.best_obj = self.ObjectiveValue()
        self.report(self.best_obj, self.BestObjectiveBound())
        if self.cancel is not None and self.cancel.is_set():
            self.StopSearch()


def _run(model, time_limit: float, workers: int, cancel, on_bound) -> tuple[int, cp_model.CpSolver, _Callback]:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.01, float(time_limit))
    solver.parameters.num_workers = int(workers)
    solver.parameters.random_seed = 1
    cb = _Callback(model, on_bound, cancel)
    if model.objective is not None:
        solver.best_bound_callback = lambda b: on_bound(cb.best_obj, b)
    done = threading.Event()

    def watch():
        while not done.wait(0.05):
            if cancel is not None and cancel.is_set():
                solver.stop_search()
                return

    w = threading.Thread(target=watch, daemon=True)
    w.start()
    try:
        status = solver.Solve(model.cp, cb)
    finally:
        done.set()
        w.join()
    return status, solver, cb


def _term_values(model, solver) -> dict[str, int]:
    out = {}
    for name, expr in model.terms.items():
        try:
            out[name] = int(solver.Value(expr))
        except TypeError:
            out[name] = int(expr)
    return out


def solve_problem(problem: Problem, cons: Constraints, target: Target, weights: Weights, top: int = 1,
                  time_limit: float = 60.0, workers: int | None = None,
                  progress: Callable[[SolveProgress], None] | None = None,
                  cancel: threading.Event | None = None, hint: list[list[int]] | None = None,
                  tie_cap: int = 20, decompose: str = "auto") -> Solved:
    """The best ``top`` distinct partitions in the lexicographic order of the objective's levels
    then the fixed tie-break (no-good cuts between solves), and how many tie with the first.

    ``hint``: a partition to start the search from (a warm start; it need not be feasible).
    """
    from icbmap.suggest.decompose import decomposable, solve_decomposed
    from icbmap.suggest.lex import count_ties, lex_solve
    from icbmap.suggest.terms import evaluate, level_values, points

    workers = workers or (os.cpu_count() or 1)
    if decompose not in ("auto", "on", "off"):
        raise SuggestError(f"--decompose {decompose!r}: auto, on or off")
    if decompose != "off" and decomposable(problem, cons, weights) and (decompose == "on"
                                                                          or 60 < problem.n <= 200):
        return solve_decomposed(problem, cons, target, weights, top, time_limit, workers, progress, cancel,
                                tie_cap)
    from icbmap.suggest.terms import level_divisor

    t0 = time.monotonic()
    model = build_model(problem, cons, target, weights)
    div0 = level_divisor(weights, 0) if weights.levels else 1   # the model's levels are divided by it
    if hint:
        model.hint(hint)
    found: list[Found] = []
    status_out, message = "optimal", ""
    for k in range(1, top + 1):
        remaining = time_limit - (time.monotonic() - t0)
        if remaining <= 0:
            status_out = "feasible" if found else "unknown"
            message = (f"time limit reached after {len(found)} option(s)" if found else
                       f"no option found within the time limit ({time_limit:g} s); the problem is not "
                       "proven infeasible: allow more time or relax a rule")
            break
        state = {"obj": None, "bound": None}

        def report(stage, n_stages, obj, bound, k=k):
            if stage == 1:
                if obj is not None:
                    state["obj"] = obj
                if bound is not None:
                    state["bound"] = bound
            if progress is not None:
                progress(SolveProgress(k, top,
                                       None if state["obj"] is None else points(state["obj"] * div0),
                                       None if state["bound"] is None else points(state["bound"] * div0),
                                       time.monotonic() - t0, len(found), stage=stage, stages=n_stages))

        status, lf = lex_solve(model, remaining, workers, cancel, report)
        cancelled = cancel is not None and cancel.is_set()
        if lf is not None:
            raw = evaluate(problem, cons, weights, lf.partition)
            lv = level_values(weights, raw)
            obj = points(lv[0]) if lv else 0.0
            bound = points(lf.level_bound * div0) if lf.level_bound is not None else obj
            st = "optimal" if lf.proven else "feasible"
            found.append(Found(lf.partition, obj, obj if st == "optimal" else min(bound, obj), st, raw,
                               levels=[points(v) for v in lv], level_ints=lf.level_ints))
            model.forbid(lf.partition)
            model.hint(lf.partition)
            if st != "optimal":
                status_out = "feasible"
            if cancelled:
                status_out, message = "cancelled", f"cancelled: kept the best {len(found)} option(s) found so far"
                break
            continue
        if cancelled:
            status_out = "cancelled"
            message = (f"cancelled: kept the best {len(found)} option(s) found so far" if found
                       else "cancelled before any option was found")
            break
        if status == cp_model.INFEASIBLE:
            if found:
                message = f"only {len(found)} distinct option(s) meet the rules"
            else:
                status_out, message = "infeasible", model.infeasible_reason or "infeasible"
            break
        if found:
            status_out = "feasible"
            message = f"time limit reached after {len(found)} option(s)"
        else:
            status_out = "unknown"
            message = (f"no option found within the time limit ({time_limit:g} s); "
                       "the problem is not proven infeasible: allow more time or relax a rule")
        break
    solved = Solved(found, status_out, message, time.monotonic() - t0)
    if tie_cap > 0 and found and found[0].status == "optimal" and not (cancel is not None and cancel.is_set()):
        listed = [f.partition for f in found if f.level_ints == found[0].level_ints]
        remaining = max(1.0, time_limit - (time.monotonic() - t0))
        more, complete = count_ties(model_for_ties(model), found[0].level_ints, tie_cap, remaining, workers,
                                    cancel, exclude=[])
        solved.ties = (len(listed) + more, complete)
    solved.elapsed = time.monotonic() - t0
    return solved


def model_for_ties(model):
    """The model with the listed options already forbidden (the cuts are in ``model.cp``)."""
    return model


# ------------------------------------------------------------------ over a plan
@dataclass
class Option:
    rank: int
    found: Found
    plan: object
    figures: dict
    violations: list[str]

    @property
    def objective(self) -> float:
        return self.figures["objective"]


@dataclass
class Result:
    request: Request
    problem: Problem
    options: list[Option]
    status: str
    message: str
    elapsed: float
    explanation: list[str] = field(default_factory=list)
    ties: tuple[int, bool] | None = None
    solver_seconds: float = 0.0      # the search itself (model, solves, ties), without the figures

    @property
    def ok(self) -> bool:
        return bool(self.options)


def check_request(plan, request: Request, problem: Problem) -> None:
    """Bad input that needs the problem: target beyond the blocks, below the locked boards."""
    n_locked = len(problem.locked_boards)
    most = problem.n_blocks + n_locked
    if request.target.lo > most:
        raise SuggestError(
            f"--boards {request.target}: the scope ({problem.scope_label}) has only {problem.n_blocks} "
            f"{request.blocks} to build boards from" + (f" and {n_locked} locked board(s)" if n_locked else "")
            + f", so at most {most} boards")
    if request.target.hi < n_locked + 1:
        raise SuggestError(f"--boards {request.target}: the scope has {n_locked} locked board(s), "
                           f"so at least {n_locked + 1} boards are needed")


def suggest(plan, request: Request, progress: Callable[[SolveProgress], None] | None = None,
            cancel: threading.Event | None = None, explain: bool = True, tie_cap: int = 20) -> Result:
    """Run ``request`` over ``plan``: options with their plans and figures, or why not."""
    from icbmap.suggest.figures import option_figures, option_plan

    request.check()
    t0 = time.monotonic()
    problem = build_problem(plan, request)
    check_request(plan, request, problem)
    from icbmap.suggest.decompose import decomposable

    split = request.decompose == "on" or (request.decompose == "auto" and 60 < problem.n <= 200)
    if request.blocks == "boards" or (split and decomposable(problem, request.constraints, request.weights)):
        hint = None
    else:
        hint = warm_start(plan, request, problem, cancel)
    solved = solve_problem(problem, request.constraints, request.target, request.weights, request.top,
                           request.time_limit - (time.monotonic() - t0), request.workers, progress, cancel,
                           hint=hint, tie_cap=tie_cap, decompose=request.decompose)
    solver_seconds = solved.elapsed
    solved.elapsed = time.monotonic() - t0
    options = []
    for i, f in enumerate(solved.found, 1):
        p = option_plan(plan, problem, f.partition, title=f"Option {i}")
        figs, violations = option_figures(plan, p, problem, request, f)
        options.append(Option(i, f, p, figs, violations))
    result = Result(request, problem, options, solved.status, solved.message, solved.elapsed, ties=solved.ties)
    result.solver_seconds = solver_seconds
    if solved.status == "infeasible" and explain:
        result.explanation = explain_infeasible(plan, request, problem, cancel)
        result.message = result.explanation[0]
    return result


def warm_start(plan, request: Request, problem: Problem, cancel=None) -> list[list[int]] | None:
    """A starting partition for finer blocks: the same request solved with whole boards
    (fast), mapped onto the atoms.  ``None`` if whole boards give nothing quickly."""
    coarse = replace(request, blocks="boards", top=1, time_limit=min(10.0, 0.15 * request.time_limit))
    try:
        cp = build_problem(plan, coarse)
        check_request(plan, coarse, cp)
    except SuggestError:
        return None
    cs = solve_problem(cp, coarse.constraints, coarse.target, coarse.weights, 1, coarse.time_limit,
                       coarse.workers, None, cancel)
    if not cs.found:
        return None
    import numpy as np

    atom_board = np.full(cp.n, -1, np.int64)
    for k, board in enumerate(cs.found[0].partition):
        atom_board[board] = k
    unit_board = np.where(cp.unit_atom >= 0, atom_board[np.maximum(cp.unit_atom, 0)], -1)
    return partition_from_units(problem, request.constraints, unit_board, plan.atlas.population)


def _relaxed(plan, request: Request, group: str, problem: Problem):
    cons = request.constraints
    target = request.target
    if group == "floor":
        cons = replace(cons, floor=None)
    elif group == "ceiling":
        cons = replace(cons, ceiling=None)
    elif group in ("contiguity", "region_nesting", "councils_whole", "cas_whole"):
        cons = replace(cons, **{group: False})
    elif group == "whole_areas":
        cons = replace(cons, whole_areas=())
    elif group == "locked":
        cons = replace(cons, locked=())
        plan = plan.copy()
        for b in plan.boards:
            b.locked = False
    elif group == "target":
        target = Target(1, max(problem.n_blocks + len(problem.locked_boards), 1))
    return plan, replace(request, constraints=cons, target=target)


def _largest_area_sentence(plan, request: Request, problem: Problem, levels) -> str:
    """"no option with 26 boards keeps every strategic authority in one board: the Greater
    London Authority alone has 8.8M people" (names and figures from the data)."""
    atlas = plan.atlas
    best = None
    for lvl in levels:
        pops = problem.area_pop.get(lvl, {})
        for c in sorted(pops):
            if best is None or pops[c] > best[2]:
                best = (lvl, c, pops[c])
    if best is None:
        return ""
    lvl, c, pop = best
    name = str(atlas.level_layer(lvl).names[c])
    label = atlas.level_label(lvl)
    return (f"no option with {request.target} boards keeps every area of {label} in one board: "
            f"the {name} alone has {pop / 1e6:.1f}M people")


def _plain_reason(plan, request: Request, problem: Problem) -> str:
    """A plain sentence when areas kept whole leave too few groups for the number of boards
    (figures from the data): "no option with 26 boards keeps every strategic authority in one
    board: that joins the blocks into at most 19 groups; the Greater London Authority alone
    has 8.8M people"."""
    from icbmap.suggest.model import together_groups

    cons = request.constraints
    whole = (["council"] if cons.councils_whole else []) + (["ca"] if cons.cas_whole else []) \
        + [lv for lv in cons.whole_areas if lv not in ("council", "ca")]
    if not whole:
        return ""
    groups = together_groups(problem, cons)
    most = len(groups) + len(problem.locked_boards)
    if most >= request.target.lo:
        return ""
    atlas = plan.atlas
    # the largest area kept whole, and the level whose rule joins the most
    best = None
    for lvl in whole:
        base = replace(cons, councils_whole=lvl == "council", cas_whole=lvl == "ca",
                       whole_areas=tuple(x for x in cons.whole_areas if x == lvl))
        n_g = len(together_groups(problem, base))
        pops = problem.area_pop.get(lvl, {})
        if not pops:
            continue
        c = max(sorted(pops), key=lambda k: pops[k])
        if best is None or n_g < best[0]:
            best = (n_g, lvl, c, pops[c])
    if best is None:
        return ""
    _n, lvl, c, pop = best
    name = str(atlas.level_layer(lvl).names[c])
    what = atlas.level_label(lvl).lower()
    return (f"no option with {request.target} boards keeps every {what.rstrip('s')} in one board: that joins "
            f"the {request.blocks} of {problem.scope_label} into at most {most} groups; the {name} alone has "
            f"{pop / 1e6:.1f}M people (relax that rule, make it soft, or ask for at most {most} boards)")


def explain_infeasible(plan, request: Request, problem: Problem, cancel=None) -> list[str]:
    """Relax one constraint group at a time; say which one makes the problem feasible.

    The first line is the summary; the others give one line per group tried.
    """
    cons = request.constraints
    groups = cons.active_groups(bool(problem.locked_boards))
    labels = [GROUP_LABELS[g] for g in groups]
    plain = _plain_reason(plan, request, problem)
    if plain:
        return [plain]
    head = (f"no option with {request.target} boards for {problem.scope_label} from {request.blocks} meets "
            f"every rule ({', '.join(labels)})")
    budget = max(2.0, min(20.0, request.time_limit / max(len(groups), 1)))
    lines, fixes = [], []
    for g in groups:
        if cancel is not None and cancel.is_set():
            break
        p2, r2 = _relaxed(plan, request, g, problem)
        try:
            prob2 = build_problem(p2, r2)
        except SuggestError as exc:
            lines.append(f"without the {GROUP_LABELS[g]} rule: {exc}")
            continue
        objective = {"floor": "max_min_pop", "ceiling": "min_max_pop"}.get(g, "none")
        model = build_model(prob2, r2.constraints, r2.target, r2.weights, objective=objective)
        status, solver, _cb = _run(model, budget, request.workers, cancel, lambda o, b: None)
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            part = model.partition(lambda v: solver.BooleanValue(v))
            pops = sorted(int(prob2.pop[b].sum()) for b in part) + []
            pops_all = sorted(pops + list(prob2.fixed_pops))
            if g == "floor":
                what = (f"the best then has a smallest board of {pops_all[0]:,} people "
                        f"(floor {cons.floor:,})")
            elif g == "ceiling":
                what = (f"the best then has a largest board of {pops_all[-1]:,} people "
                        f"(ceiling {cons.ceiling:,})")
            elif g == "target":
                what = f"for example with {len(pops_all)} board{'s' if len(pops_all) != 1 else ''}"
            elif g == "locked":
                what = "the locked boards then have to change"
            else:
                what = "an option exists"
            fixes.append(f"without the {GROUP_LABELS[g]} rule, {what}")
            lines.append(f"dropping the {GROUP_LABELS[g]} rule alone makes it feasible: {what}")
        elif status == cp_model.INFEASIBLE:
            lines.append(f"dropping the {GROUP_LABELS[g]} rule alone still leaves no option")
        else:
            lines.append(f"dropping the {GROUP_LABELS[g]} rule: not settled within {budget:.0f} s")
    if fixes:
        head += "; relaxing one rule at a time: " + "; ".join(fixes)
        whole_fix = [g for g in groups if g in ("councils_whole", "cas_whole", "whole_areas")
                     and any(f.startswith(f"without the {GROUP_LABELS[g]} rule") for f in fixes)]
        if whole_fix:
            lvl = {"councils_whole": "council", "cas_whole": "ca"}.get(whole_fix[0])
            lvls = [lvl] if lvl else [lv for lv in cons.whole_areas if lv not in ("council", "ca")]
            sentence = _largest_area_sentence(plan, request, problem, lvls)
            if sentence:
                head = sentence + ". In full: " + head
    else:
        head += "; no single rule is to blame: at least two rules conflict"
    return [head] + lines
