"""Speed by decomposition: with boards nested in NHS regions, solve each region for each
number of boards and combine the regions with an exact dynamic programme.

Why it is exact.  With region nesting every board lies in one region, so every constraint but
the number of boards is a constraint of one region, and every *decomposable* term
(:data:`~icbmap.suggest.spec.DECOMPOSABLE`: sums over boards and areas) is a sum of one value
per region plus a constant.  The objective is lexicographic over levels and the tie-break, and
lexicographic order is compatible with addition (``a <= b`` implies ``a + c <= b + c``), so the
best plan with ``k_g`` boards in region ``g`` is made of each region's best plan with ``k_g``
boards, and the best plan overall is the best choice of ``(k_g)`` with ``sum k_g`` on target:
a knapsack-like dynamic programme over regions.  The top K come the same way (each region's K
best per board count; the programme keeps the K best per state).

Areas that cross a region line.  A starting board in two regions would tie the regions'
continuation choices: then the problem is not split (the whole model is solved).  A strategic
authority (or other area of a nest-or-contain rule in the objective) with real pieces in two
regions fails when it fails in *either*: the programme's state carries which of these areas
have failed so far, and each region is solved once per pattern of "may fail / must pass" for
its crossing areas (a pattern only bounds the failures, so the best over patterns is exact).
An area whose crossing share is not held by one piece (so that whether it is split depends on
the solution) makes the problem not split either.

Terms that are not sums over boards (the population range ``balance``, ``councils_per_board``,
the legacy ``disruption`` matching and CA coterminosity) make it not split.
"""

from __future__ import annotations

import itertools
import os
from concurrent.futures import ThreadPoolExecutor, as_completed
import threading
import time
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from icbmap.suggest.problem import Problem
from icbmap.suggest.terms import sliver_threshold


def _region_of_atoms(problem: Problem) -> np.ndarray:
    return np.asarray(problem.region, dtype=np.int64)


def _nest_rules(problem, cons, weights):
    """``(key, level, tol)`` of the nest-or-contain failures the objective counts."""
    out = []
    active = set(weights.active())
    if "soft_rules" in active:
        out += [(i, r.level, r.tolerance) for i, r in enumerate(cons.soft) if r.kind == "nest_or_contain"]
    if "sa_nesting" in active and problem.sa_level:
        from icbmap.metrics.values import DEFAULT_TOLERANCE

        out.append(("sa", problem.sa_level, DEFAULT_TOLERANCE))
    return out


def _area_levels(problem, cons, weights):
    """(level, tol, kind) of every sliver-aware area rule in the model."""
    out = [(r.level, r.tolerance, "nest_or_contain") for r in cons.nest]
    if "soft_rules" in weights.active():
        out += [(r.level, r.tolerance, r.kind) for r in cons.soft if r.level]
    out += [(lv, tol, "nest_or_contain") for _k, lv, tol in _nest_rules(problem, cons, weights) if _k == "sa"]
    return out


def crossing(problem, cons, weights):
    """``(ok, forced)``: whether areas that cross region lines allow the split, and the
    crossing areas ``{(level, area): [regions with a real piece]}`` (each such region holds
    an atom with a real piece on its own, so the area is split whatever the solution)."""
    reg = _region_of_atoms(problem)
    forced: dict[tuple[str, int], list[int]] = {}
    for level, tol, _kind in _area_levels(problem, cons, weights):
        per: dict[int, dict[int, int]] = {}
        big: dict[int, set[int]] = {}
        for a, d in enumerate(problem.areas[level]):
            for c, p in d.items():
                per.setdefault(c, {}).setdefault(int(reg[a]), 0)
                per[c][int(reg[a])] += p
                thr = sliver_threshold(tol, problem.area_pop[level][c])
                if p >= thr:
                    big.setdefault(c, set()).add(int(reg[a]))
        for c, by_reg in per.items():
            thr = sliver_threshold(tol, problem.area_pop[level][c])
            active = sorted(g for g, p in by_reg.items() if p >= thr)
            if len(active) <= 1:
                continue
            if not set(active) <= big.get(c, set()):
                return False, {}
            forced[(level, c)] = active
    return True, forced


def always_failing(problem, cons, forced: dict, nest_keys) -> set:
    """Crossing areas ``(rule key, area)`` that fail nest-or-contain in every solution: some
    region holds a real piece of the area (so the area is split) but too few of its people for
    any board there to lie inside it, since every board has at least the floor's people
    (inside means fewer than the tolerance of the board's people outside the area:
    ``(1 - tol) * floor`` of the area's people at least).  Their failures are a constant of the
    programme, not a pattern to solve for."""
    from icbmap.suggest.terms import _fraction

    if not cons.floor:
        return set()
    reg = _region_of_atoms(problem)
    out = set()
    for key, level, tol in nest_keys:
        num, den = _fraction(tol)
        for (lv, c), regs in forced.items():
            if lv != level:
                continue
            for g in regs:
                held = sum(problem.areas[lv][a].get(c, 0) for a in np.flatnonzero(reg == g))
                if den * held <= (den - num) * cons.floor:
                    out.add((key, c))
                    break
    return out


def decomposable(problem: Problem, cons, weights) -> bool:
    if not cons.region_nesting or not weights.decomposable or problem.n < 2:
        return False
    reg = _region_of_atoms(problem)
    if (reg < 0).any() or len(np.unique(reg)) < 2:
        return False
    if start_homes(problem) is None:
        return False
    ok, _forced = crossing(problem, cons, weights)
    return ok


def start_homes(problem: Problem) -> dict[int, int] | None:
    """Starting board -> the region its continuing board is certainly in, or None when a
    starting board's region cannot be told in advance.

    A starting board in several regions (a straddling block took some of its people across a
    region line) continues in its main region when its people elsewhere are fewer than its
    main region's people divided by its atoms there: some board in the main region then
    holds a bigger piece than all the other regions together.  Its people elsewhere always
    count as boundary change, a constant, so the other regions leave it out."""
    reg = _region_of_atoms(problem)
    per: dict[int, dict[int, int]] = {}
    atoms_in: dict[tuple[int, int], int] = {}
    for a, d in enumerate(problem.start):
        for s, p in d.items():
            g = int(reg[a])
            per.setdefault(s, {}).setdefault(g, 0)
            per[s][g] += p
            atoms_in[(s, g)] = atoms_in.get((s, g), 0) + 1
    homes = {}
    for s, by in per.items():
        main = max(sorted(by), key=lambda g: by[g])
        rest = sum(p for g, p in by.items() if g != main)
        if rest and not rest * atoms_in[(s, main)] < by[main]:
            return None
        homes[s] = main
    return homes


def _level_lb(weights, k: int, n_starts: int, cons, pop: int = 0) -> list[int]:
    """A lower bound of each level for a region with ``k`` boards and ``n_starts`` starting
    boards: at most ``n_starts`` boards continue one, so ``k - n_starts`` boards (each at
    least the floor) move all their people, and ``n_starts - k`` boards at least merge."""
    from icbmap.suggest.terms import level_coefs

    lo, hi = weights.band
    # the boards' distances from the band add up to at least the distance of their total
    lb = {"boundary_change": (cons.floor or 0) * max(0, k - n_starts), "merges": max(0, n_starts - k),
          "size_band": max(0, lo * k - pop) + max(0, pop - hi * k)}
    return [sum(c * lb.get(t, 0) for t, c in lv.items()) for lv in level_coefs(weights)]


def sub_problem(problem: Problem, atoms: np.ndarray, forced: dict, g: int) -> Problem:
    """The atoms of one region as a problem of their own (ids kept in ``gid``)."""
    local = {int(a): i for i, a in enumerate(atoms)}
    e = problem.edges
    keep = np.isin(e[:, 0], atoms) & np.isin(e[:, 1], atoms) if len(e) else np.zeros(0, bool)
    edges = np.array([[local[int(a)], local[int(b)]] for a, b in e[keep]], np.int64).reshape(-1, 2)
    areas = {lv: [problem.areas[lv][int(a)] for a in atoms] for lv in problem.areas}
    out_touch = {lv: dict(d) for lv, d in problem.out_touch.items()}
    or_areas = set()
    for (lv, c), regs in forced.items():
        if g in regs:
            out_touch.setdefault(lv, {})
            out_touch[lv][c] = out_touch[lv].get(c, 0) + len(regs) - 1   # split whatever happens here
            or_areas.add((lv, c))
    eqp = {c: [local[a] for a in at] for c, at in problem.equal_possible.items() if all(a in local for a in at)}
    _u, blk = np.unique(problem.block[atoms], return_inverse=True)
    homes = start_homes(problem) or {}
    start = [{s: p for s, p in problem.start[int(a)].items() if homes.get(s, g) == g} for a in atoms]
    return Problem(pop=problem.pop[atoms], edges=edges, block=blk.astype(np.int64), region=problem.region[atoms],
                   start=start, areas=areas, out_touch=out_touch,
                   equal_possible=eqp, area_pop=problem.area_pop, names=[problem.names[int(a)] for a in atoms],
                   gid=problem.gid[atoms], start_cluster=problem.start_cluster, sa_level=problem.sa_level,
                   or_areas=or_areas)


@dataclass
class _Entry:
    vec: tuple          # level values..., tie-break
    parts: tuple        # per region: partition in global atom ids
    mask: frozenset     # crossing (rule key, area) failed so far
    picks: tuple        # per region: (k, pattern)


def solve_decomposed(problem: Problem, cons, target, weights, top: int, time_limit: float, workers: int,
                     progress=None, cancel: threading.Event | None = None, tie_cap: int = 20):
    """:func:`~icbmap.suggest.solve.solve_problem` by regions (see the module docstring)."""
    from icbmap.suggest.lex import count_ties, lex_solve
    from icbmap.suggest.model import build_model
    from icbmap.suggest.results import Found, Solved, SolveProgress
    from icbmap.suggest.spec import Target
    from icbmap.suggest.terms import evaluate, level_values, points, term_scale

    t0 = time.monotonic()
    reg = _region_of_atoms(problem)
    regions = sorted(set(reg.tolist()))
    _ok, forced = crossing(problem, cons, weights)
    nest_keys = _nest_rules(problem, cons, weights)
    always = always_failing(problem, cons, forced, nest_keys)
    n_fixed = len(problem.fixed_pops)
    lo_all, hi_all = target.lo - n_fixed, target.hi - n_fixed
    G = len(regions)
    # level of each crossing failure and its weight there
    level_of = {t: i for i, lv in enumerate(weights.levels) for t in lv}
    from icbmap.suggest.spec import WEIGHT_SCALE
    from icbmap.suggest.terms import level_divisor

    def or_cost(key) -> tuple[int, int]:
        lvl, cost = _or_cost(key)
        return lvl, cost // level_divisor(weights, lvl)

    def _or_cost(key) -> tuple[int, int]:
        if key == "sa":
            return level_of["sa_nesting"], int(round(weights.levels[level_of["sa_nesting"]]["sa_nesting"]
                                                     * WEIGHT_SCALE)) * term_scale("sa_nesting")
        w = int(round(cons.soft[key].weight * WEIGHT_SCALE))
        lvl = level_of["soft_rules"]
        return lvl, int(round(weights.levels[lvl]["soft_rules"] * WEIGHT_SCALE)) * term_scale("soft_rules") * w

    n_levels = len(weights.levels)
    lock = threading.Lock()
    proven = True
    status_msg = ""
    solves = 0
    tables: list[dict] = []
    for gi, g in enumerate(regions):
        atoms = np.flatnonzero(reg == g)
        sub = sub_problem(problem, atoms, forced, g)
        keys = [(key, c) for key, lv, _t in nest_keys for (lv2, c) in sub.or_areas if lv2 == lv]
        keys = sorted(set(keys) - always, key=str)
        k_hi = min(len(np.unique(sub.block)), hi_all - (G - 1))
        if k_hi < 1:
            return Solved([], "infeasible", "too few boards for one in every region", time.monotonic() - t0)
        model = build_model(sub, cons, Target(1, k_hi), weights)
        starts = sorted({s_ for d in sub.start for s_ in d})
        by_start: dict[int, list[int]] = {}
        for a, d in enumerate(sub.start):
            by_start.setdefault(max(d, key=d.get) if d else -1, []).append(a)
        model.hint(sorted(by_start.values(), key=min))
        lbs = {}
        for k in range(1, k_hi + 1):
            lbs[k] = tuple(_level_lb(weights, k, len(starts), cons, int(sub.pop.sum()))) + (0,)
        tables.append({"sub": sub, "model": model, "keys": keys, "table": {}, "solved": set(), "lb": lbs})

    def solve_entry(gi: int, k: int, budget: float) -> None:
        nonlocal proven, solves
        T = tables[gi]
        model, keys, sub = T["model"], T["keys"], T["sub"]
        with lock:
            T["solved"].add(k)
        for pattern in itertools.product((0, 1), repeat=len(keys)):
            found_here = []
            for _rank in range(top):
                remaining = min(budget, time_limit - (time.monotonic() - t0))
                if remaining <= 0 or (cancel is not None and cancel.is_set()):
                    proven = False
                    break

                def extra(cp, k=k, pattern=pattern, found_here=found_here):
                    cp.Add(model.used == k)
                    for (key, c), allow in zip(keys, pattern):
                        lit = model.or_lits.get((key, c))
                        if lit is not None and not isinstance(lit, int) and not allow:
                            cp.Add(lit == 0)
                    for part in found_here:
                        lits = [model.x[(a, min(b))] for b in part for a in b]
                        cp.Add(sum(lits) <= len(lits) - 1)

                w_here = 1
                ts = time.monotonic()
                status, lf = lex_solve(model, remaining, w_here, cancel, None, extra=extra, light=True)
                if os.environ.get("ICBMAP_LEX_DEBUG"):
                    print(f"[decompose] region {regions[gi]} ({sub.n} atoms) k={k} pattern={pattern}: "
                          f"{'-' if lf is None else lf.level_ints} {time.monotonic() - ts:.2f} s", flush=True)
                solves += 1
                if lf is None:
                    if status != cp_model.INFEASIBLE:
                        proven = False
                    break
                if not lf.proven:
                    proven = False
                found_here.append(lf.partition)
                vec = tuple(lf.level_ints) + (lf.tie,)
                gpart = [[int(sub.gid[a]) for a in b] for b in lf.partition]
                fails = frozenset(kc for kc, allow in zip(keys, pattern) if allow)
                with lock:
                    T["table"].setdefault((k, pattern), []).append((vec, gpart, fails, lf.partition))
        if progress is not None:
            progress(SolveProgress(1, top, None, None, time.monotonic() - t0, 0, stage=len(
                [1 for t in tables for _ in t["solved"]]), stages=sum(len(t["lb"]) for t in tables)))

    def dp(solved_only: bool = False):
        """The K best combinations; entries not solved yet stand in with their lower bound."""
        states = {(0, frozenset()): [_Entry((0,) * (n_levels + 1), (), frozenset(), ())]}
        for gi, T in enumerate(tables):
            nxt: dict = {}
            rest_min = G - gi - 1
            options = []
            for k, lb in T["lb"].items():
                if k in T["solved"]:
                    for (k2, pattern), lst in T["table"].items():
                        if k2 == k:
                            options += [(k, pattern, vec, gpart, fails) for vec, gpart, fails, _lp in lst]
                elif not solved_only:
                    options.append((k, None, lb, None, frozenset()))
            for (ksum, mask), entries in states.items():
                for k, pattern, vec, gpart, fails in options:
                    ks = ksum + k
                    if ks + rest_min > hi_all:
                        continue
                    m2 = mask | fails
                    for e in entries:
                        v = tuple(a + b for a, b in zip(e.vec, vec))
                        nxt.setdefault((ks, m2), []).append(
                            _Entry(v, e.parts + (gpart,), m2, e.picks + ((k, pattern),)))
            states = {}
            for key, lst in nxt.items():
                lst.sort(key=lambda e: (e.vec, str(e.picks)))
                seen, keep = set(), []
                for e in lst:
                    sig = str(e.parts) if all(p is not None for p in e.parts) else str(e.picks)
                    if sig in seen:
                        continue
                    seen.add(sig)
                    keep.append(e)
                    if len(keep) >= top + 1:
                        break
                states[key] = keep
        finals = []
        for (ks, mask), entries in states.items():
            if not lo_all <= ks <= hi_all:
                continue
            extra_vec = [0] * (n_levels + 1)
            for key, _c in mask | always:
                lvl, cost = or_cost(key)
                extra_vec[lvl] += cost
            for e in entries:
                finals.append((tuple(a + b for a, b in zip(e.vec, extra_vec)), e))
        finals.sort(key=lambda t: (t[0], str(t[1].picks)))
        return finals

    while True:
        finals = dp()
        head = finals[:top + 1]
        todo = sorted({(gi, k) for _v, e in head for gi, (k, pattern) in enumerate(e.picks) if pattern is None})
        # also entries that could tie with the best on every level
        if finals:
            best = finals[0][0][:n_levels]
            todo += sorted({(gi, k) for v, e in finals if v[:n_levels] <= best
                            for gi, (k, pattern) in enumerate(e.picks) if pattern is None} - set(todo))
        if not todo:
            break
        if (cancel is not None and cancel.is_set()) or time.monotonic() - t0 > time_limit:
            proven = False
            break
        # entries are independent: solve them side by side, one solver thread each (a region's
        # model is small), as many at once as there are threads; each result is proven and
        # tie-broken, so the order does not change the answer
        par = max(1, min(workers, len(todo)))
        left = time_limit - (time.monotonic() - t0)
        budget = max(2.0, left / max(1, -(-len(todo) // par)))
        with ThreadPoolExecutor(max_workers=par) as pool:
            futures = [pool.submit(solve_entry, gi, k, budget) for gi, k in todo]
            for fut in as_completed(futures):
                fut.result()
                if progress is not None and all(t["table"] for t in tables) and not (
                        cancel is not None and cancel.is_set()):
                    with lock:
                        sf = dp(solved_only=True)
                    if sf:
                        from icbmap.suggest.terms import level_divisor

                        d = level_divisor(weights, 0)
                        lbv = finals[0][0][0] * d if finals else None
                        progress(SolveProgress(1, top, points(sf[0][0][0] * d),
                                               None if lbv is None else points(lbv),
                                               time.monotonic() - t0, 0, stage=1, stages=1))
    if os.environ.get("ICBMAP_LEX_DEBUG"):
        print(f"[decompose] {solves} solves, {time.monotonic() - t0:.2f} s; process CPU {time.process_time():.2f} s",
              flush=True)
    if not proven or todo:
        finals = dp(solved_only=True)
    finals = [(v, e) for v, e in finals if all(p is not None for _k, p in e.picks)]
    out, seen = [], set()
    for vec, e in finals:
        part = sorted((sorted(b) for p in e.parts for b in p), key=min)
        sig = tuple(map(tuple, part))
        if sig in seen:
            continue
        seen.add(sig)
        out.append((vec, e, part))
        if len(out) >= top:
            break
    elapsed = time.monotonic() - t0
    if not out:
        if cancel is not None and cancel.is_set():
            return Solved([], "cancelled", "cancelled before any option was found", elapsed)
        if not proven:
            return Solved([], "unknown", f"no option found within the time limit ({time_limit:g} s); the problem is "
                          "not proven infeasible: allow more time or relax a rule", elapsed)
        return Solved([], "infeasible", "infeasible", elapsed)
    found = []
    for vec, e, part in out:
        raw = evaluate(problem, cons, weights, part)
        lv = level_values(weights, raw)
        obj = points(lv[0])
        found.append(Found(part, obj, obj, "optimal" if proven else "feasible", raw,
                           levels=[points(v) for v in lv], level_ints=list(vec[:n_levels])))
    status = "optimal" if proven else "feasible"
    if cancel is not None and cancel.is_set():
        status, status_msg = "cancelled", f"cancelled: kept the best {len(found)} option(s) found so far"
    elif not proven:
        status_msg = "time limit reached: the best found so far, not proven optimal"
    if len(found) < top and proven:
        status_msg = f"only {len(found)} distinct option(s) meet the rules"
    solved = Solved(found, status, status_msg, elapsed)
    solved.regions = {"regions": G, "solves": solves}
    # ties: option 1's regions, each counted with its board count and pattern fixed
    if tie_cap > 0 and proven and not (cancel is not None and cancel.is_set()):
        best = out[0][0][:n_levels]
        n_paths = sum(1 for vec, _e in finals if vec[:n_levels] == best)
        e1 = out[0][1]
        total, complete = 1, n_paths == 1

        def count_region(T, k, pattern, lp):
            lst = T["table"][(k, pattern)]
            vec_g = next(v for v, gp, _f, _l in lst if gp == lp)
            model, keys = T["model"], T["keys"]

            def extra(cp, k=k, pattern=pattern, model=model, keys=keys):
                cp.Add(model.used == k)
                for (key, c), allow in zip(keys, pattern):
                    lit = model.or_lits.get((key, c))
                    if lit is not None and not isinstance(lit, int) and not allow:
                        cp.Add(lit == 0)

            remaining = max(1.0, time_limit - (time.monotonic() - t0))
            return count_ties(model, list(vec_g[:n_levels]), tie_cap, remaining, 1, cancel, extra=extra, light=True)

        # regions side by side, one solver thread each (as the entries)
        with ThreadPoolExecutor(max_workers=max(1, min(workers, G))) as pool:
            counts = list(pool.map(lambda args: count_region(*args),
                                   [(T, k, pattern, lp) for T, (k, pattern), lp in zip(tables, e1.picks, e1.parts)]))
        if os.environ.get("ICBMAP_LEX_DEBUG"):
            print(f"[decompose] ties counted: {counts}, {time.monotonic() - t0:.2f} s from the start", flush=True)
        for cnt, comp in counts:
            total *= max(cnt, 1)
            complete = complete and comp
        if total > 10 ** 12:
            complete = False
        solved.ties = (total, complete)
    solved.elapsed = time.monotonic() - t0
    return solved
