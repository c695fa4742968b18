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

Areas that cross a region line.  A strategic authority (or other area of a nest-or-contain
rule in the objective) with real pieces in two regions fails when it fails in *either*: the
programme's state carries which of these areas have failed so far, and each region is solved
once per pattern of "may fail / must pass" for its crossing areas (a pattern only bounds the
failures, so the best over patterns is exact).  One that no board of some region can lie in
(too few of its people there for the floor) fails whatever: a constant, not a pattern.  An area
whose crossing share is not held by one piece (so that whether it is split depends on the
solution) makes the problem not split.

Regions follow boards.  A straddling block may go to any of its regions, so each region comes
in *variants* (:func:`layout`): the straddling blocks it takes, the starting boards of several
regions it continues (when which region continues one cannot be told in advance:
:func:`start_homes`), and for each area that may lie in it alone or across regions, which is
assumed.  The state carries the choices so far, so each block goes to one region, each such
starting board continues in one, and an area assumed across regions has pieces in two.

Lazily.  Entries (a variant, a board count, a pattern) stand in with lower bounds until a best
combination uses them; then their first lexicographic stage is solved, and the rest only when
a combination that could be best or tie still uses them.
Terms that are not sums over boards (the population range ``balance``, ``councils_per_board``,
the legacy ``disruption`` matching and CA coterminosity) make it not split.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field

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


MAX_STRADDLERS = 6   # straddling blocks touching one region (2**6 ways to share them out)


@dataclass
class _Variant:
    """A region with a choice of the straddling blocks it takes (regions follow boards) and,
    for each area of a nest rule that has a real piece here and could have one elsewhere,
    whether it is assumed to lie in this region alone or across regions."""

    g: int
    taken: frozenset                 # ("b", block) it takes, ("s", starting board) it continues
    atoms: np.ndarray                # global atom ids
    flags: dict                      # (level, area) -> "alone" | "cross"
    const: int = 0                   # people of this region's starting boards on blocks it leaves to others
    always: frozenset = frozenset()  # (rule key, area) that fail whatever this region does
    cross: dict = field(default_factory=dict)   # (level, area) across regions -> other regions holding it


@dataclass
class _Layout:
    regions: list
    variants: list                   # per region: list of _Variant
    dep: list                        # (level, area) whose region-crossing depends on the solution
    straddlers: dict                 # ("b", straddling block) or ("s", starting board) -> regions it may go to
    homes: dict                      # starting board -> the region it certainly continues in


def _area_levels(problem, cons, weights):
    """(level, tol, kind) of every sliver-aware area rule in the model."""
    out = [(r.level, r.tolerance, "nest_or_contain") for r in cons.nest]
    if "soft_rules" in weights.active():
        out += [(r.level, r.tolerance, r.kind) for r in cons.soft if r.level]
    out += [(lv, tol, "nest_or_contain") for _k, lv, tol in _nest_rules(problem, cons, weights) if _k == "sa"]
    return out


def layout(problem: Problem, cons, weights) -> _Layout | None:
    """How the problem splits by region, or ``None`` when it does not.

    Each region comes in *variants*: which of the straddling blocks that may join it (regions
    follow boards) it takes, and for each area of an area rule with a real piece in it that
    could also have one in another region, whether the area lies in this region alone or across
    regions (then it is split whatever happens, and an area of a nest-or-contain rule fails when
    it fails in any region).  The programme's state keeps the choices consistent.  It does not
    split when a region's share of such an area is real but no single atom holds a real piece
    (whether the area is split would depend on the solution), or when a starting board's
    region cannot be told in advance (:func:`start_homes`)."""
    reg = _region_of_atoms(problem)
    if (reg < 0).any():
        return None
    regions = sorted(set(reg.tolist()))
    if len(regions) < 2:
        return None
    strad: dict[int, tuple] = {}
    for a, rr in problem.alt_region.items():
        strad[int(problem.block[a])] = tuple(sorted(rr))
    s_atoms = {b: np.flatnonzero(problem.block == b) for b in strad}
    is_strad = np.zeros(problem.n, bool)
    for at in s_atoms.values():
        is_strad[at] = True
    homes, shared = start_homes(problem, cons.floor)
    if shared and not _free_continuation_exact(weights):
        return None
    levels = {}
    for level, tol, kind in _area_levels(problem, cons, weights):
        if levels.setdefault(level, (tol, set()))[0] != tol:
            return None       # one geography with two tolerances: not split
        levels[level][1].add(kind)
    variants: list[list[_Variant]] = []
    presence: dict = {}           # (level, c) -> {g: [present in each variant]}
    for g in regions:
        fixed = np.flatnonzero((reg == g) & ~is_strad)
        mine = sorted(b for b, rr in strad.items() if g in rr)
        if len(mine) > MAX_STRADDLERS:
            return None
        cont = sorted(s_ for s_, rr in shared.items() if g in rr)
        if len(mine) + len(cont) > MAX_STRADDLERS:
            return None
        vs = []
        for n_take in range(len(mine) + 1):
            for taken in itertools.combinations(mine, n_take):
                atoms = np.sort(np.concatenate([fixed] + [s_atoms[b] for b in taken]).astype(np.int64))
                # this region's starting boards' people on the straddling blocks it leaves to others
                const = sum(p for b in mine if b not in taken for a in s_atoms[b]
                            for s_, p in problem.start[int(a)].items() if homes.get(s_) == g)
                held = {}
                for a in atoms:
                    for s_, p in problem.start[int(a)].items():
                        if s_ in shared:
                            held[s_] = held.get(s_, 0) + p
                # starting boards of several regions this region continues (it must hold some of them)
                can = [s_ for s_ in cont if held.get(s_, 0) > 0]
                for n_c in range(len(can) + 1):
                    for conts in itertools.combinations(can, n_c):
                        lost = sum(p for s_, p in held.items() if s_ not in conts)   # moved, whatever happens
                        vs.append(_Variant(g, frozenset([("b", b) for b in taken] + [("s", s_) for s_ in conts]),
                                           atoms, {}, const + lost))
        for vi, v in enumerate(vs):
            for level, (tol, _kinds) in levels.items():
                per: dict[int, int] = {}
                big: set = set()
                for a in v.atoms:
                    for c, p in problem.areas[level][int(a)].items():
                        per[c] = per.get(c, 0) + p
                        if p >= sliver_threshold(tol, problem.area_pop[level][c]):
                            big.add(c)
                for c, p in per.items():
                    real = p >= sliver_threshold(tol, problem.area_pop[level][c])
                    if real and c not in big:
                        return None
                    if real:
                        presence.setdefault((level, c), {}).setdefault(g, set()).add(vi)
        variants.append(vs)
    n_var = {g: len(vs) for g, vs in zip(regions, variants)}

    def always_here(key, h) -> bool:
        return len(presence[key].get(h, ())) == n_var[h]
    # areas that may have real pieces in two regions
    dep = []
    for key, by_g in sorted(presence.items(), key=str):
        if len(by_g) < 2:
            continue
        fixed_presence = all(always_here(key, h) for h in by_g)
        level = key[0]
        kinds = levels[level][1]
        if not fixed_presence:
            # the count of regions holding it would vary: only nest-or-contain (an OR over
            # regions) and per-board rules add up exactly then
            if "area_within_one_board" in kinds:
                return None
            if (level == "council" and "council_splits" in weights.active()) or (
                    level == "ca" and "ca_splits" in weights.active()):
                return None
        dep.append(key)
    # flags per variant: alone or across regions
    nest_keys = _nest_rules(problem, cons, weights)
    out: list[list[_Variant]] = []
    for gi, g in enumerate(regions):
        vs_out = []
        for vi, v in enumerate(variants[gi]):
            here = [key for key in dep if vi in presence[key].get(g, ())]
            choices = []
            for key in here:
                others_always = sum(1 for h in presence[key] if h != g and always_here(key, h))
                choices.append(("cross",) if others_always else ("alone", "cross"))
            for combo in itertools.product(*choices):
                flags = dict(zip(here, combo))
                always = _always_failing(problem, cons, v, flags, nest_keys)
                cross = {key: max(1, sum(1 for h in presence[key] if h != g and always_here(key, h)))
                         for key, f in flags.items() if f == "cross"}
                vs_out.append(_Variant(g, v.taken, v.atoms, flags, v.const, always, cross))
        out.append(vs_out)
    tokens = {("b", b): rr for b, rr in strad.items()}
    tokens.update({("s", s_): rr for s_, rr in shared.items()})
    return _Layout(regions, out, dep, tokens, homes)


def _always_failing(problem, cons, v: _Variant, flags: dict, nest_keys) -> frozenset:
    """Areas across regions that fail nest-or-contain whatever: this region holds a real piece
    of the area (so it is split) but too few of its people for any board here to lie inside it,
    since every board has at least the floor's people (inside means fewer than the tolerance of
    the board's people outside the area: ``(1 - tol) * floor`` of the area's people at least).
    Their failures are a constant of the variant, not a pattern to solve for."""
    from icbmap.suggest.terms import _fraction

    if not cons.floor:
        return frozenset()
    out = set()
    for key, level, tol in nest_keys:
        num, den = _fraction(tol)
        for (lv, c), f in flags.items():
            if lv != level or f != "cross":
                continue
            held = sum(problem.areas[lv][int(a)].get(c, 0) for a in v.atoms)
            if den * held <= (den - num) * cons.floor:
                out.add((key, c))
    return frozenset(out)


def decomposable(problem: Problem, cons, weights) -> bool:
    if not cons.region_nesting or not weights.decomposable or problem.n < 2:
        return False
    return layout(problem, cons, weights) is not None


def _free_continuation_exact(weights) -> bool:
    """Whether a starting board's continuing region may be left to the programme's choice: the
    continuing board is the one holding most of its people, and a free choice (the best piece in
    the chosen region) only ever loses people to boundary change, so it is exact when boundary
    change is minimised before merges and clusters (or they are not in the objective)."""
    at = {t: i for i, lv in enumerate(weights.levels) for t in lv}
    later = [at[t] for t in ("merges", "clusters") if t in at]
    if not later:
        return True
    return "boundary_change" in at and at["boundary_change"] < min(later)


def start_homes(problem: Problem, floor: int | None = None) -> tuple[dict[int, int], dict[int, tuple]]:
    """``(homes, shared)``: starting board -> the region its continuing board is certainly in,
    and starting board -> the regions it may continue in when that cannot be told in advance.

    A starting board in several regions (a straddling block took some of its people across a
    region line, or may) continues in its main region when its people that may lie elsewhere are
    fewer than its main region's people divided by the number of boards that can hold them
    there (its atoms there, and at most the region's people over the floor): some board in the
    main region then holds a bigger piece than all the other regions together.  Its people
    elsewhere count as boundary change (a constant, or the variant's), so the other regions
    leave it out.  Otherwise the programme chooses the region that continues it (each region's
    variants say whether it does)."""
    reg = _region_of_atoms(problem)
    strad = set(problem.alt_region)
    per: dict[int, dict[int, int]] = {}
    total: dict[int, int] = {}
    atoms_in: dict[tuple[int, int], int] = {}
    where: dict[int, set] = {}
    could: dict[int, int] = {}      # region -> people who may be in it
    for a in range(problem.n):
        for g in problem.regions_of(a):
            could[g] = could.get(g, 0) + int(problem.pop[a])
    for a, d in enumerate(problem.start):
        for s, p in d.items():
            total[s] = total.get(s, 0) + p
            where.setdefault(s, set()).update(problem.regions_of(a))
            if a in strad:
                continue
            g = int(reg[a])
            per.setdefault(s, {}).setdefault(g, 0)
            per[s][g] += p
            atoms_in[(s, g)] = atoms_in.get((s, g), 0) + 1
    homes, shared = {}, {}
    for s, tot in total.items():
        by = per.get(s)
        if not by:
            shared[s] = tuple(sorted(where[s]))
            continue
        main = max(sorted(by), key=lambda g: by[g])
        rest = tot - by[main]
        holders = atoms_in[(s, main)]
        if floor:
            holders = min(holders, max(1, could.get(main, 0) // floor))
        if rest and not rest * holders < by[main]:
            shared[s] = tuple(sorted(where[s]))
            continue
        homes[s] = main
    return homes, shared


def _level_lb(weights, k: int, n_starts: int, cons, pop: int = 0, uncounted: int = 0) -> list[int]:
    """A lower bound of each level for a region with ``k`` boards and ``n_starts`` starting
    boards: at most ``n_starts`` boards continue one, so ``k - n_starts`` boards (each at
    least the floor) move all their people but the ``uncounted`` (people of starting boards
    continued in another region, counted there), and ``n_starts - k`` boards at least merge."""
    from icbmap.suggest.terms import level_coefs

    lo, hi = weights.band
    # the boards' distances from the band add up to at least the distance of their total
    lb = {"boundary_change": max(0, (cons.floor or 0) * max(0, k - n_starts) - uncounted),
          "merges": max(0, n_starts - k),
          "size_band": max(0, lo * k - pop) + max(0, pop - hi * k)}
    return [sum(c * lb.get(t, 0) for t, c in lv.items()) for lv in level_coefs(weights)]


def _const_vec(weights, people: int) -> list[int]:
    """Each level's share of ``people`` of boundary change (a variant's constant)."""
    from icbmap.suggest.terms import level_coefs

    return [lv.get("boundary_change", 0) * people for lv in level_coefs(weights)]


def sub_problem(problem: Problem, v: _Variant, homes: dict, cross: dict) -> Problem:
    """The atoms of one region variant as a problem of their own (ids kept in ``gid``).
    ``cross``: (level, area) -> other regions holding a real piece, for the areas across
    regions (split whatever happens here)."""
    atoms, g = v.atoms, v.g
    local = {int(a): i for i, a in enumerate(atoms)}
    e = problem.edges
    keep = np.isin(e[:, 0], atoms) & np.isin(e[:, 1], atoms) if len(e) else np.zeros(0, bool)
    edges = np.array([[local[int(a)], local[int(b)]] for a, b in e[keep]], np.int64).reshape(-1, 2)
    areas = {lv: [problem.areas[lv][int(a)] for a in atoms] for lv in problem.areas}
    out_touch = {lv: dict(d) for lv, d in problem.out_touch.items()}
    or_areas = set()
    for (lv, c), n_other in cross.items():
        out_touch.setdefault(lv, {})
        out_touch[lv][c] = out_touch[lv].get(c, 0) + n_other   # split whatever happens here
        or_areas.add((lv, c))
    eqp = {c: [local[a] for a in at] for c, at in problem.equal_possible.items() if all(a in local for a in at)}
    _u, blk = np.unique(problem.block[atoms], return_inverse=True)
    conts = {t[1] for t in v.taken if t[0] == "s"}
    start = [{s: p for s, p in problem.start[int(a)].items() if homes.get(s, -1) == g or s in conts} for a in atoms]
    return Problem(pop=problem.pop[atoms], edges=edges, block=blk.astype(np.int64),
                   region=np.full(len(atoms), g, np.int64),
                   start=start, areas=areas, out_touch=out_touch,
                   equal_possible=eqp, area_pop=problem.area_pop, names=[problem.names[int(a)] for a in atoms],
                   gid=problem.gid[atoms], start_cluster=problem.start_cluster, sa_level=problem.sa_level,
                   or_areas=or_areas)


@dataclass
class _Entry:
    vec: tuple          # level values..., tie-break
    parts: tuple        # per region: partition in global atom ids
    mask: frozenset     # crossing (rule key, area) failed so far
    picks: tuple        # per region: (table, k, pattern)


def solve_decomposed(problem: Problem, cons, target, weights, top: int, time_limit: float, workers: int,
                     progress=None, cancel: threading.Event | None = None, tie_cap: int = 20):
    """:func:`~icbmap.suggest.solve.solve_problem` by regions (see the module docstring)."""
    from icbmap.suggest.lex import LexRun, count_ties, lex_solve
    from icbmap.suggest.model import build_model
    from icbmap.suggest.results import Found, Solved, SolveProgress
    from icbmap.suggest.spec import WEIGHT_SCALE, Target
    from icbmap.suggest.terms import (
        evaluate,
        level_divisor,
        level_values,
        points,
        term_scale,
    )

    t0 = time.monotonic()
    lay = layout(problem, cons, weights)
    regions = lay.regions
    nest_keys = _nest_rules(problem, cons, weights)
    n_fixed = len(problem.fixed_pops)
    lo_all, hi_all = target.lo - n_fixed, target.hi - n_fixed
    G = len(regions)
    dep = lay.dep
    dep_ix = {key: i for i, key in enumerate(dep)}
    # the programme's order of regions: those that share straddling blocks or starting boards
    # next to each other, so that few choices are open at a time (fewer states)
    toks = [{t for t, rr in lay.straddlers.items() if g in rr} for g in regions]
    order, open_ = [], set()
    left_ = list(range(G))
    while left_:
        gi = min(left_, key=lambda i: (-len(toks[i] & open_), len(toks[i] - open_), i))
        order.append(gi)
        left_.remove(gi)
        open_ = (open_ | toks[gi]) - {t for t in toks[gi] if all(j in order for j in range(G) if t in toks[j])}
    pos = {gi: i for i, gi in enumerate(order)}
    # the last region (in the programme's order) each straddling block may join
    last_of = {b: max(pos[regions.index(g)] for g in rr) for b, rr in lay.straddlers.items()}
    all_strad = frozenset(lay.straddlers)
    # level of each crossing failure and its weight there
    level_of = {t: i for i, lv in enumerate(weights.levels) for t in lv}

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
    # one table per region variant; its model is built when an entry of it is first solved
    tables: list[dict] = []
    by_region: list[list[int]] = [[] for _ in regions]
    for gi, g in enumerate(regions):
        for v in lay.variants[gi]:
            pop = int(problem.pop[v.atoms].sum())
            # every board has at least the floor's people, at most the ceiling's
            k_hi = min(len(np.unique(problem.block[v.atoms])), hi_all - (G - 1),
                       pop // cons.floor if cons.floor else pop)
            k_lo = max(1, -(-pop // cons.ceiling) if cons.ceiling else 1)
            if k_hi < k_lo:
                continue
            conts = {t[1] for t in v.taken if t[0] == "s"}
            starts = {s_ for a in v.atoms for s_ in problem.start[int(a)] if lay.homes.get(s_, -1) == g or s_ in conts}
            uncounted = sum(p_ for a in v.atoms for s_, p_ in problem.start[int(a)].items() if s_ not in starts)
            const = tuple(_const_vec(weights, v.const)) + (0,)
            lbs = {k: tuple(a + b for a, b in zip(tuple(_level_lb(weights, k, len(starts), cons, pop, uncounted))
                                                  + (0,), const))
                   for k in range(k_lo, k_hi + 1)}
            keys = sorted({(key, c) for key, lv, _t in nest_keys for (lv2, c) in v.cross if lv2 == lv} - v.always,
                          key=str)
            flag_state = tuple((dep_ix[key], f) for key, f in sorted(v.flags.items(), key=str))
            by_region[gi].append(len(tables))
            tables.append({"gi": gi, "v": v, "model": None, "keys": keys, "table": {}, "solved": set(), "lb": lbs,
                           "runs": {}, "partial": {},
                           "k_hi": k_hi, "const": const, "flags": flag_state})
        if not by_region[gi]:
            return Solved([], "infeasible", "too few boards for one in every region", time.monotonic() - t0)

    def ensure_model(T) -> None:
        if T["model"] is not None:
            return
        v = T["v"]
        sub = sub_problem(problem, v, lay.homes, v.cross)
        model = build_model(sub, cons, Target(1, T["k_hi"]), weights)
        by_start: dict[int, list[int]] = {}
        for a, d in enumerate(sub.start):
            by_start.setdefault(max(d, key=d.get) if d else -1, []).append(a)
        model.hint(sorted(by_start.values(), key=min))
        T["sub"], T["model"] = sub, model

    def solve_entry(ti: int, k: int, budget: float) -> None:
        T = tables[ti]
        with lock:
            first = k not in T["solved"]
            T["solved"].add(k)
        solve_entry_lazy(ti, k, budget, first)
        if progress is not None:
            progress(SolveProgress(1, top, None, None, time.monotonic() - t0, 0, stage=len(
                [1 for t in tables for _ in t["solved"]]), stages=sum(len(t["lb"]) for t in tables)))

    def solve_entry_lazy(ti: int, k: int, budget: float, first: bool) -> None:
        """For one option: the first stage of each pattern on the first visit (the entry then
        stands in with its first-stage levels and lower bounds for the rest), the other stages
        only when the programme needs the entry's full value."""
        nonlocal proven, solves
        T = tables[ti]
        model, keys, sub = T["model"], T["keys"], T["sub"]
        patterns = list(itertools.product((0, 1), repeat=len(keys))) if first else \
            sorted(p for (k2, p) in T["runs"] if k2 == k)
        for pattern in patterns:
            remaining = min(budget, time_limit - (time.monotonic() - t0))
            if remaining <= 0 or (cancel is not None and cancel.is_set()):
                proven = False
                break
            if first:
                def extra(cp, k=k, pattern=pattern):
                    cp.Add(model.used == k)
                    for (key, c), allow in zip(keys, pattern):
                        lit = model.or_lits.get((key, c))
                        if lit is not None and not isinstance(lit, int) and not allow:
                            cp.Add(lit == 0)

                run = LexRun(model, extra, light=True)
            else:
                with lock:
                    run = T["runs"].pop((k, pattern))
                    T["partial"].pop((k, pattern), None)
            ts = time.monotonic()
            status, lf = run.run(remaining, 1, cancel, None, until=1 if first else None)
            if os.environ.get("ICBMAP_LEX_DEBUG"):
                v = T["v"]
                print(f"[decompose] region {regions[T['gi']]} (takes {sorted(v.taken)}, {v.flags}; {sub.n} atoms) "
                      f"k={k} pattern={pattern} {'stage 1' if first else 'rest'}: "
                      f"{'-' if lf is None else lf.level_ints} {time.monotonic() - ts:.2f} s", flush=True)
            solves += 1
            if lf is None:
                if status != cp_model.INFEASIBLE:
                    proven = False
                continue
            fails = frozenset(kc for kc, allow in zip(keys, pattern) if allow)
            if not run.proven and not run.complete:
                proven = False
            if run.complete:
                if not lf.proven:
                    proven = False
                vec = tuple(lf.level_ints) + (lf.tie,)
                gpart = [[int(sub.gid[a]) for a in b] for b in lf.partition]
                with lock:
                    T["table"].setdefault((k, pattern), []).append((vec, gpart, fails, lf.partition))
                more_ranks(T, k, pattern, budget, fails, [lf.partition])
            else:
                done = run.levels_done()
                lbk = T["lb"][k]
                vec = tuple(lf.level_ints[i] if i in done else lbk[i] - T["const"][i] for i in range(n_levels)) + (0,)
                with lock:
                    T["runs"][(k, pattern)] = run
                    T["partial"][(k, pattern)] = (vec, fails)

    def more_ranks(T, k, pattern, budget, fails, found_here) -> None:
        """Ranks 2..K of an entry (``--top K``), each with the earlier ones forbidden."""
        nonlocal proven, solves
        model, keys, sub = T["model"], T["keys"], T["sub"]
        for _rank in range(1, top):
            remaining = min(budget, time_limit - (time.monotonic() - t0))
            if remaining <= 0 or (cancel is not None and cancel.is_set()):
                proven = False
                return

            def extra(cp, k=k, pattern=pattern, found_here=found_here):
                cp.Add(model.used == k)
                for (key, c), allow in zip(keys, pattern):
                    lit = model.or_lits.get((key, c))
                    if lit is not None and not isinstance(lit, int) and not allow:
                        cp.Add(lit == 0)
                for part in found_here:
                    lits = [model.x[(a, min(b))] for b in part for a in b]
                    cp.Add(sum(lits) <= len(lits) - 1)

            status, lf = lex_solve(model, remaining, 1, cancel, None, extra=extra, light=True)
            solves += 1
            if lf is None:
                if status != cp_model.INFEASIBLE:
                    proven = False
                return
            if not lf.proven:
                proven = False
            found_here.append(lf.partition)
            gpart = [[int(sub.gid[a]) for a in b] for b in lf.partition]
            with lock:
                T["table"].setdefault((k, pattern), []).append((tuple(lf.level_ints) + (lf.tie,), gpart, fails,
                                                               lf.partition))

    dp_info = {"tie_dropped": False}

    def dp(solved_only: bool = False, bound=None, keep_n: int | None = None):
        """The K best combinations; entries not solved yet stand in with their lower bound.
        A state is (boards so far, crossing areas failed, straddling blocks taken, how the
        areas across regions lie so far)."""
        dp_info["tie_dropped"] = False
        empty_flags = tuple((None, 0) for _ in dep)
        states = {(0, frozenset(), frozenset(), empty_flags): [_Entry((0,) * (n_levels + 1), (), frozenset(), ())]}
        for step, gi in enumerate(order):
            nxt: dict = {}
            rest_min = G - step - 1
            must = frozenset(b for b, last in last_of.items() if last == step)
            for ti in by_region[gi]:
                T = tables[ti]
                v = T["v"]
                options = []
                with lock:
                    items = sorted(T["table"].items())
                    partial = sorted(T["partial"].items())
                for k, lb in T["lb"].items():
                    if k in T["solved"]:
                        for (k2, pattern), lst in items:
                            if k2 == k:
                                options += [(k, pattern, tuple(a + b for a, b in zip(vec, T["const"])), gpart,
                                             fails | v.always) for vec, gpart, fails, _lp in lst]
                        if not solved_only:    # first stage only: its levels, then lower bounds
                            options += [(k, pattern, tuple(a + b for a, b in zip(vec, T["const"])), None,
                                         fails | v.always) for (k2, pattern), (vec, fails) in partial if k2 == k]
                    elif not solved_only:
                        options.append((k, None, lb, None, v.always))
                if not options:
                    continue
                for (ksum, mask, taken, flags), entries in states.items():
                    if v.taken & taken or not must <= (taken | v.taken):
                        continue
                    fl = list(flags)
                    ok = True
                    for i, f in T["flags"]:
                        f0, _cnt = fl[i]
                        if f0 is None:
                            fl[i] = (f, 1)
                        elif f0 == "cross" and f == "cross":
                            fl[i] = (f, 2)
                        else:
                            ok = False
                            break
                    if not ok:
                        continue
                    fl = tuple(fl)
                    tk = taken | v.taken
                    for k, pattern, vec, gpart, fails in options:
                        ks = ksum + k
                        if ks + rest_min > hi_all:
                            continue
                        m2 = mask | fails
                        for e in entries:
                            vv = tuple(a + b for a, b in zip(e.vec, vec))
                            if bound is not None and vv[:n_levels] > bound:
                                continue    # levels only grow: worse than a known option on the levels
                            nxt.setdefault((ks, m2, tk, fl), []).append(
                                _Entry(vv, e.parts + (gpart,), m2, e.picks + ((ti, k, pattern),)))
            states = {}
            for key, lst in nxt.items():
                lst.sort(key=lambda e: e.vec)     # stable: options come in a fixed order
                seen, keep = set(), []
                for e in lst:
                    sig = str(e.parts) if all(p is not None for p in e.parts) else str(e.picks)
                    if sig in seen:
                        continue
                    seen.add(sig)
                    if len(keep) >= (keep_n or top + 1):
                        # a combination dropped here that ties the last kept one on every level
                        # could end tied with option 1: then the tie count is only "at least"
                        if e.vec[:n_levels] == keep[-1].vec[:n_levels]:
                            dp_info["tie_dropped"] = True
                        break
                    keep.append(e)
                states[key] = keep
            if os.environ.get("ICBMAP_DP_DEBUG"):
                print(f"[dp] region {gi}: {len(states)} states, {sum(len(v) for v in states.values())} entries",
                      flush=True)
        finals = []
        for (ks, mask, taken, flags), entries in states.items():
            if not lo_all <= ks <= hi_all or taken != all_strad:
                continue
            if any(f == "cross" and cnt < 2 for f, cnt in flags):
                continue      # assumed across regions, but only one region holds it
            extra_vec = [0] * (n_levels + 1)
            for key, _c in mask:
                lvl, cost = or_cost(key)
                extra_vec[lvl] += cost
            for e in entries:
                finals.append((tuple(a + b for a, b in zip(e.vec, extra_vec)), e))
        finals.sort(key=lambda t: (t[0], str(t[1].picks)))
        return finals

    bound = None      # the levels of the K-th best complete combination so far
    while True:
        finals = dp(bound=bound)
        # the K-th best distinct complete combination bounds what can still matter
        done_, sigs = [], set()
        for v, e in finals:
            if all(p is not None for p in e.parts):
                sig = tuple(sorted(tuple(sorted(b)) for p in e.parts for b in p))
                if sig not in sigs:
                    sigs.add(sig)
                    done_.append(v[:n_levels])
        if len(done_) >= top and (bound is None or done_[top - 1] < bound):
            bound = done_[top - 1]
        head = finals[:top + 1]
        todo = sorted({(ti, k) for _v, e in head for (ti, k, _p), part in zip(e.picks, e.parts) if part is None})
        # also entries that could tie with the best on every level
        if finals:
            best = finals[0][0][:n_levels]
            todo += sorted({(ti, k) for v, e in finals if v[:n_levels] <= best
                            for (ti, k, _p), part in zip(e.picks, e.parts) if part is None} - set(todo))
        if not todo:
            break
        if (cancel is not None and cancel.is_set()) or time.monotonic() - t0 > time_limit:
            proven = False
            break
        for ti in sorted({ti for ti, _k in todo}):
            ensure_model(tables[ti])
        # entries are independent: solve them side by side, one solver thread each (a region's
        # model is small), as many at once as there are threads; each result is proven and
        # tie-broken, so the order does not change the answer
        par = max(1, min(workers, len(todo)))
        left = time_limit - (time.monotonic() - t0)
        budget = max(2.0, left / max(1, -(-len(todo) // par)))
        with ThreadPoolExecutor(max_workers=par) as pool:
            futures = [pool.submit(solve_entry, ti, k, budget) for ti, k in todo]
            for fut in as_completed(futures):
                fut.result()
                if progress is not None and not (cancel is not None and cancel.is_set()):
                    sf = dp(solved_only=True)
                    if sf:
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
    finals = [(v, e) for v, e in finals if all(p is not None for p in e.parts)]
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
        # each level's value in the model's units (the programme's sums leave out constants)
        found.append(Found(part, obj, obj, "optimal" if proven else "feasible", raw,
                           levels=[points(v) for v in lv],
                           level_ints=[v // level_divisor(weights, i) for i, v in enumerate(lv)]))
    status = "optimal" if proven else "feasible"
    if cancel is not None and cancel.is_set():
        status, status_msg = "cancelled", f"cancelled: kept the best {len(found)} option(s) found so far"
    elif not proven:
        status_msg = "time limit reached: the best found so far, not proven optimal"
    if len(found) < top and proven:
        status_msg = f"only {len(found)} distinct option(s) meet the rules"
    solved = Solved(found, status, status_msg, elapsed)
    solved.regions = {"regions": G, "solves": solves}
    # ties: option 1's regions, each counted with its variant, board count and pattern fixed
    if tie_cap > 0 and proven and not (cancel is not None and cancel.is_set()):
        best = out[0][0][:n_levels]
        e1 = out[0][1]
        # one combination reaching option 1's levels (the programme keeps K + 1 per state, so a
        # hidden tie would show at least K + 1 here): count within it; otherwise look for every
        # combination that could tie (no state cut to K + 1)
        n_paths = sum(1 for vec, _e in finals if vec[:n_levels] == best)
        tie_finals = [] if n_paths == 1 else dp(bound=best, keep_n=tie_cap + 1)
        tied, seen_picks = [], set()
        unsure = n_paths > 1 and dp_info["tie_dropped"]
        for vec, e in tie_finals:
            if vec[:n_levels] > best:
                continue
            if any(p is None for p in e.parts):
                unsure = True      # an entry not solved could still tie
                continue
            if vec[:n_levels] == best and e.picks not in seen_picks:
                seen_picks.add(e.picks)
                tied.append(e)
        if not any(e.picks == e1.picks for e in tied):
            tied.append(e1)
        if os.environ.get("ICBMAP_LEX_DEBUG"):
            print(f"[decompose] ties: {len(tied)} combination(s); unsure {unsure} (dropped "
                  f"{dp_info['tie_dropped']})", flush=True)

        def count_region(T, k, pattern, lp):
            """This entry's partitions with its level values (global atom ids) and whether all."""
            lst = T["table"][(k, pattern)]
            vec_g, local = next((v, ll) for v, gp, _f, ll in lst if gp == lp)
            model, keys, sub = T["model"], T["keys"], T["sub"]

            def extra(cp, k=k, pattern=pattern, model=model, keys=keys):
                cp.Add(model.used == k)
                for (key, c), allow in zip(keys, pattern):
                    lit = model.or_lits.get((key, c))
                    if lit is not None and not isinstance(lit, int) and not allow:
                        cp.Add(lit == 0)

            remaining = max(1.0, time_limit - (time.monotonic() - t0))
            # this entry's own partition is known: find the others (one solve fewer when unique)
            more: list = []
            _cnt, comp = count_ties(model, list(vec_g[:n_levels]), tie_cap - 1, remaining, 1, cancel,
                                    exclude=[local], extra=extra, light=True, collect=more)
            parts = [[tuple(sorted(int(sub.gid[a]) for a in b)) for b in p] for p in [local, *more]]
            return parts, comp

        # regions side by side, one solver thread each (as the entries); an entry counted once
        combos = [e1] if unsure else tied
        jobs = {}
        for e in combos:
            for (ti, k, pattern), lp in zip(e.picks, e.parts):
                jobs.setdefault((ti, k, pattern, str(lp)), (tables[ti], k, pattern, lp))
        keys_ = list(jobs)
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(keys_)))) as pool:
            counts = dict(zip(keys_, pool.map(lambda args: count_region(*args), [jobs[k_] for k_ in keys_])))
        if os.environ.get("ICBMAP_LEX_DEBUG"):
            print(f"[decompose] ties counted: {[len(p) for p, _c in counts.values()]} over {len(combos)} "
                  f"combination(s), {time.monotonic() - t0:.2f} s from the start", flush=True)
        # the distinct plans: each combination's regions' partitions put together (a plan that
        # two combinations share is counted once)
        complete = not unsure
        plans: set = set()
        for e in combos:
            per = []
            for (ti, k, pattern), lp in zip(e.picks, e.parts):
                parts, comp = counts[(ti, k, pattern, str(lp))]
                complete = complete and comp
                per.append(parts)
            for choice in itertools.product(*per):
                plans.add(tuple(sorted(b for p in choice for b in p)))
                if len(plans) > tie_cap:     # as the whole model: at least the cap
                    complete = False
                    break
        total = len(plans)
        if total > 10 ** 12:
            complete = False
        solved.ties = (total, complete)
    solved.elapsed = time.monotonic() - t0
    return solved
