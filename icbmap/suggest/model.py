"""The CP-SAT model (docs/suggest.md has the formulation in full).

Representative formulation: ``x[a, r]`` says atom ``a`` is on the board whose *root* is
atom ``r``, the lowest-numbered atom of that board (so ``r <= a``, and each partition has
exactly one encoding: options are distinct up to board renaming by construction, and one
no-good cut removes exactly one partition).  Contiguity: every atom of a board other than
its root picks a parent among its neighbours on the same board with a smaller depth, so
following parents always ends at the root (a spanning tree of the board).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import numpy as np
from ortools.sat.python import cp_model

from icbmap.suggest.problem import Problem
from icbmap.suggest.spec import Constraints, Target, Weights
from icbmap.suggest.terms import (
    PER_THOUSAND,
    _Areas,
    add_hard_nesting,
    add_terms,
    tie_break,
)


class _DSU:
    def __init__(self, n: int):
        self.p = list(range(n))

    def find(self, a: int) -> int:
        while self.p[a] != a:
            self.p[a] = self.p[self.p[a]]
            a = self.p[a]
        return a

    def union(self, a: int, b: int) -> None:
        a, b = self.find(a), self.find(b)
        if a != b:
            self.p[max(a, b)] = min(a, b)


def together_groups(problem: Problem, cons: Constraints) -> list[list[int]]:
    """Atoms that must share a board: a block's atoms; with the rules, a council's / CA's."""
    n = problem.n
    d = _DSU(n)
    first: dict = {}
    for a in range(n):
        keys = [("block", int(problem.block[a]))]
        reg = int(problem.region[a]) if cons.region_nesting else 0
        whole = (["council"] if cons.councils_whole else []) + (["ca"] if cons.cas_whole else []) \
            + [lv for lv in cons.whole_areas if lv not in ("council", "ca")]
        for lvl in whole:
            for c, p in problem.areas.get(lvl, [{}] * n)[a].items():
                # a piece under the sliver tolerance of the area's people does not tie it
                total = problem.area_pop.get(lvl, {}).get(c, 0)
                if cons.tolerance == 0 or (p > 0 and p >= cons.tolerance * total):
                    keys.append((lvl, c, reg))
        for k in keys:
            if k in first:
                d.union(first[k], a)
            else:
                first[k] = a
    groups: dict[int, list[int]] = {}
    for a in range(n):
        groups.setdefault(d.find(a), []).append(a)
    return list(groups.values())


def candidates(problem: Problem, cons: Constraints, groups: list[list[int]]) -> list[list[int]]:
    """Roots each atom may be assigned to (pruned: root <= atom, same region, reachable
    through atoms numbered >= root within the ceiling, whole groups)."""
    n = problem.n
    nb = problem.neighbours()
    pop = problem.pop
    gmin = np.zeros(n, np.int64)
    for g in groups:
        gmin[g] = min(g)
    can_root = [int(gmin[a]) == a for a in range(n)]
    regs = [problem.regions_of(a) for a in range(n)]   # a straddling block may join either region
    reach: list[set[int]] = [set() for _ in range(n)]   # reach[a] = roots
    ceiling = cons.ceiling
    for r in range(n):
        if not can_root[r]:
            continue
        if not cons.contiguity:
            for a in range(r, n):
                if not cons.region_nesting or set(regs[a]) & set(regs[r]):
                    reach[a].add(r)
            continue
        dist = {r: int(pop[r])}
        heap = [(int(pop[r]), r)]
        while heap:
            dv, v = heapq.heappop(heap)
            if dv > dist.get(v, 1 << 62):
                continue
            reach[v].add(r)
            for w in nb[v]:
                if w < r or (cons.region_nesting and not set(regs[w]) & set(regs[r])):
                    continue
                nd = dv + int(pop[w])
                if ceiling is not None and nd > ceiling:
                    continue
                if nd < dist.get(w, 1 << 62):
                    dist[w] = nd
                    heapq.heappush(heap, (nd, w))
    cand: list[list[int]] = [[] for _ in range(n)]
    for g in groups:
        common = None
        lo = min(g)
        for a in g:
            s = {r for r in reach[a] if r <= lo}
            common = s if common is None else common & s
        for a in g:
            cand[a] = sorted(common or ())
    # a root must be able to hold itself
    for a in range(n):
        cand[a] = [r for r in cand[a] if r in cand[r] or r == a]
    return cand


def _false(m: cp_model.CpModel) -> None:
    z = m.NewBoolVar("false")
    m.AddBoolOr([z])
    m.AddBoolOr([z.Not()])


@dataclass
class Model:
    """A built CP-SAT model and handles to its variables."""

    problem: Problem
    cons: Constraints
    target: Target
    weights: Weights
    cp: cp_model.CpModel
    x: dict[tuple[int, int], cp_model.IntVar]
    cand: list[list[int]]
    roots: list[int]
    terms: dict[str, cp_model.LinearExpr] = field(default_factory=dict)
    objective: cp_model.LinearExpr | None = None
    min_pop: cp_model.IntVar | None = None
    max_pop: cp_model.IntVar | None = None
    infeasible_reason: str = ""
    parents: dict[tuple[int, int], cp_model.IntVar] = field(default_factory=dict)
    keeps: dict[tuple[int, int], tuple] = field(default_factory=dict)   # (root, start board) -> (m, w)
    depth: list = field(default_factory=list)
    members: dict = field(default_factory=dict)
    board_pop: dict = field(default_factory=dict)
    areas_helper: object = None
    cont: dict = field(default_factory=dict)
    levels: list = field(default_factory=list)       # lexicographic levels (integer expressions)
    level_ub: list = field(default_factory=list)     # an upper bound of each level's value
    tiebreak: object = None
    used: object = None                               # number of boards built from atoms
    or_lits: dict = field(default_factory=dict)       # (rule key, area) -> failure literal
    board_region: dict = field(default_factory=dict)  # root of a straddling block -> {region: literal}

    def hint(self, partition: list[list[int]]) -> int:
        """Warm start from a partition (e.g. a coarser solution mapped onto these atoms):
        assignment, and a breadth-first spanning tree of each board for the parent arcs.
        Returns the number of atoms hinted."""
        self.cp.ClearHints()
        nb = self.problem.neighbours()
        done = 0
        for board in partition:
            r = min(board)
            inside = set(board)
            for a in board:
                for (aa, rr) in ((a, c) for c in self.cand[a]):
                    self.cp.AddHint(self.x[(aa, rr)], rr == r)
                done += (a, r) in self.x
            if not self.depth:
                continue
            depth = {r: 0}
            parent = {}
            queue = [r]
            for v in queue:
                for w in nb[v]:
                    if w in inside and w not in depth:
                        depth[w] = depth[v] + 1
                        parent[w] = v
                        queue.append(w)
            for a in board:
                if a in depth:
                    self.cp.AddHint(self.depth[a], depth[a])
                for v in nb[a]:
                    if (a, v) in self.parents:
                        self.cp.AddHint(self.parents[(a, v)], parent.get(a) == v)
        if self.keeps:
            from scipy.optimize import linear_sum_assignment

            starts = sorted({s for (_r, s) in self.keeps})
            col = {s: i for i, s in enumerate(starts)}
            W = np.zeros((len(partition), len(starts)))
            for k, board in enumerate(partition):
                for a in board:
                    for s, p in self.problem.start[a].items():
                        W[k, col[s]] += p
            rows, cols = linear_sum_assignment(-W)
            match = {(min(partition[k]), starts[c]): int(W[k, c]) for k, c in zip(rows, cols) if W[k, c] > 0}
            for key, (mv, w) in self.keeps.items():
                self.cp.AddHint(mv, key in match)
                self.cp.AddHint(w, match.get(key, 0))
        return done

    def partition(self, value) -> list[list[int]]:
        """Boards (lists of atoms) from a solution; ``value`` maps a variable to its value."""
        boards: dict[int, list[int]] = {}
        for (a, r), v in self.x.items():
            if value(v):
                boards.setdefault(r, []).append(a)
        return [sorted(boards[r]) for r in sorted(boards)]

    def forbid(self, partition: list[list[int]]) -> None:
        """No-good cut: this partition (up to board renaming) may not come again."""
        lits = [self.x[(a, min(board))] for board in partition for a in board]
        self.cp.Add(sum(lits) <= len(lits) - 1)


def build_model(problem: Problem, cons: Constraints, target: Target, weights: Weights,
                objective: str = "weighted") -> Model:
    """The CP-SAT model.  ``objective``: ``weighted`` (the user's), ``max_min_pop``,
    ``min_max_pop`` (used by the infeasibility explanation) or ``none``."""
    n = problem.n
    pop = problem.pop
    total = int(pop.sum())
    groups = together_groups(problem, cons)
    group_of = {a: i for i, g in enumerate(groups) for a in g}
    cand = candidates(problem, cons, groups)
    m = cp_model.CpModel()
    x: dict[tuple[int, int], cp_model.IntVar] = {}
    for a in range(n):
        for r in cand[a]:
            x[(a, r)] = m.NewBoolVar(f"x[{a},{r}]")
    roots = [r for r in range(n) if (r, r) in x]
    members: dict[int, list[int]] = {r: [] for r in roots}
    for (a, r) in x:
        members[r].append(a)
    model = Model(problem, cons, target, weights, m, x, cand, roots, members=members)
    empty = [a for a in range(n) if not cand[a]]
    if empty:
        model.infeasible_reason = f"{problem.names[empty[0]]} cannot be placed on any board"
    # each atom on exactly one board; only on a board whose root is used
    for a in range(n):
        if cand[a]:
            m.AddExactlyOne([x[(a, r)] for r in cand[a]])
        else:
            _false(m)
        for r in cand[a]:
            if r != a:
                m.AddImplication(x[(a, r)], x[(r, r)])
    # regions follow boards: a board rooted at an atom of a straddling block lies in one of its
    # regions (board_region[r, g]), and every atom on it may join that region
    model.board_region = {}
    if cons.region_nesting and problem.alt_region:
        for r in roots:
            rr = problem.regions_of(r)
            if len(rr) < 2:
                continue
            bv = {g: m.NewBoolVar(f"region[{r},{g}]") for g in rr}
            m.Add(sum(bv.values()) == x[(r, r)])
            model.board_region[r] = bv
            for a in members[r]:
                ok = [g for g in rr if g in problem.regions_of(a)]
                if len(ok) < len(rr):
                    m.AddBoolOr([bv[g] for g in ok]).OnlyEnforceIf(x[(a, r)])
    # atoms that must share a board
    for g in groups:
        for a, b in zip(g, g[1:]):
            for r in cand[a]:
                if (b, r) in x:
                    m.Add(x[(a, r)] == x[(b, r)])
    # number of boards
    n_fixed = len(problem.fixed_pops)
    used = sum(x[(r, r)] for r in roots)
    model.used = used
    m.Add(used >= target.lo - n_fixed)
    m.Add(used <= target.hi - n_fixed)
    # populations
    board_pop = {r: sum(int(pop[a]) * x[(a, r)] for a in members[r]) for r in roots}
    model.board_pop = board_pop
    for r in roots:
        if cons.floor is not None:
            m.Add(board_pop[r] >= cons.floor * x[(r, r)])
        if cons.ceiling is not None:
            m.Add(board_pop[r] <= cons.ceiling)
    for fp in problem.fixed_pops:   # locked boards stay as they are: they must meet the bounds too
        if (cons.floor is not None and fp < cons.floor) or (cons.ceiling is not None and fp > cons.ceiling):
            model.infeasible_reason = model.infeasible_reason or f"a locked board has {fp:,} people"
            _false(m)
    # contiguity: parent arcs and depths
    if cons.contiguity:
        depth = [m.NewIntVar(0, n - 1, f"d[{a}]") for a in range(n)]
        model.depth = depth
        par: dict[int, list] = {a: [] for a in range(n)}
        for a, b in problem.edges:
            a, b = int(a), int(b)
            if not set(cand[a]) & set(cand[b]):
                continue
            for u, v in ((a, b), (b, a)):
                if cand[u] == [u]:
                    continue   # u is always a root
                p = m.NewBoolVar(f"p[{u},{v}]")
                par[u].append(p)
                model.parents[(u, v)] = p
                m.Add(depth[u] >= depth[v] + 1).OnlyEnforceIf(p)
                # on the board of root r, u's parent v is on it too
                for r in cand[u]:
                    if (v, r) in x:
                        m.AddImplication(p, x[(v, r)]).OnlyEnforceIf(x[(u, r)])
                    else:
                        m.AddImplication(p, x[(u, r)].Not())
        for a in range(n):
            root_lit = [x[(a, a)]] if (a, a) in x else []
            if par[a] or root_lit:
                m.AddExactlyOne(par[a] + root_lit)
            else:
                _false(m)
            if root_lit:
                m.Add(depth[a] == 0).OnlyEnforceIf(root_lit[0])
    # ---------------------------------------------------------------- objective terms
    model.areas_helper = _Areas(model)
    add_hard_nesting(model)
    terms: dict[str, cp_model.LinearExpr] = {}
    want = set(weights.active()) if objective == "weighted" else set()
    terms.update(add_terms(model, want))
    if "disruption" in want:
        # m[r, s]: the board rooted at r continues starting board s (each s at most once)
        starts_pop: dict[int, int] = {}
        for a in range(n):
            for s, p in problem.start[a].items():
                starts_pop[s] = starts_pop.get(s, 0) + p
        kept = []
        by_s: dict[int, list] = {}
        kept_in: dict[int, list] = {}
        for r in roots:
            ss = sorted({s for a in members[r] for s in problem.start[a]})
            mr = []
            for s in ss:
                cap = sum(problem.start[a].get(s, 0) for a in members[r])
                mv = m.NewBoolVar(f"m[{r},{s}]")
                w = m.NewIntVar(0, cap, f"w[{r},{s}]")
                m.Add(w <= sum(problem.start[a].get(s, 0) * x[(a, r)] for a in members[r] if s in problem.start[a]))
                m.Add(w <= cap * mv)
                mr.append(mv)
                by_s.setdefault(s, []).append(mv)
                kept.append(w)
                model.keeps[(r, s)] = (mv, w)
                kept_in.setdefault(int(problem.region[r]) if cons.region_nesting and not problem.alt_region else 0,
                                   []).append(w)
            if mr:
                m.Add(sum(mr) <= x[(r, r)])
        for s, lits in by_s.items():
            m.AddAtMostOne(lits)
        # Redundant cuts (tighten the bound): a part of the map (a region when boards nest)
        # with k boards keeps at most the people of its k largest starting boards there.
        for g, ws in kept_in.items():
            by_reg = cons.region_nesting and not problem.alt_region
            in_g = [a for a in range(n) if not by_reg or int(problem.region[a]) == g]
            sp: dict[int, int] = {}
            for a in in_g:
                for s_, p_ in problem.start[a].items():
                    sp[s_] = sp.get(s_, 0) + p_
            sizes = sorted(sp.values(), reverse=True)
            n_g = sum(x[(r, r)] for r in roots if not by_reg or int(problem.region[r]) == g)
            top = 0
            for k, size in enumerate(sizes):
                m.Add(sum(ws) <= top + size * (n_g - k))
                top += size
        terms["disruption"] = total - sum(kept)
    need_pop_range = "balance" in want or objective in ("max_min_pop", "min_max_pop")
    if need_pop_range:
        lo_all = min([0] + problem.fixed_pops)
        maxp = m.NewIntVar(0, total + sum(problem.fixed_pops), "max_pop")
        minp = m.NewIntVar(0, total + sum(problem.fixed_pops), "min_pop")
        for r in roots:
            m.Add(maxp >= board_pop[r])
            m.Add(minp <= board_pop[r] + (total + 1) * (1 - x[(r, r)]))
        for fp in problem.fixed_pops:
            m.Add(maxp >= fp)
            m.Add(minp <= fp)
        model.min_pop, model.max_pop = minp, maxp
        del lo_all
        terms["balance"] = maxp - minp
    touch: dict[str, dict[tuple[int, int], cp_model.IntVar]] = {}
    for lvl, term in (("council", "council_splits"), ("ca", "ca_splits")):
        if term not in want and not (lvl == "council" and "councils_per_board" in want):
            continue
        t: dict[tuple[int, int], cp_model.IntVar] = {}
        atoms_of: dict[int, list[int]] = {}
        for a in range(n):
            for c in problem.areas[lvl][a]:
                atoms_of.setdefault(c, []).append(a)
        one_board = 0      # areas whose atoms must share a board: they touch exactly one board
        for c, atoms in atoms_of.items():
            if len({group_of[a] for a in atoms}) == 1:
                one_board += 1
                for r in cand[atoms[0]]:
                    t[(c, r)] = x[(atoms[0], r)]
                continue
            for r in sorted({r for a in atoms for r in cand[a]}):
                tv = m.NewBoolVar(f"t[{lvl},{c},{r}]")
                for a in atoms:
                    if (a, r) in x:
                        m.AddImplication(x[(a, r)], tv)
                t[(c, r)] = tv
        touch[lvl] = t
        if term in want:
            free_t = [tv for (c, _r), tv in t.items() if len({group_of[a] for a in atoms_of[c]}) > 1]
            terms[term] = sum(free_t) + one_board + sum(problem.out_touch[lvl].get(c, 0) - 1 for c in atoms_of)
    if "councils_per_board" in want:
        t = touch["council"]
        mc = m.NewIntVar(0, len({c for c, _ in t}) + max(problem.fixed_councils or [0]), "max_councils")
        per_root: dict[int, list] = {}
        for (c, r), tv in t.items():
            per_root.setdefault(r, []).append(tv)
        for r, tvs in per_root.items():
            m.Add(mc >= sum(tvs))
        for fc in problem.fixed_councils:
            m.Add(mc >= fc)
        terms["councils_per_board"] = mc
    if "ca_coterminosity" in want:
        ca_atoms: set[int] = set()
        for a in range(n):
            ca_atoms |= set(problem.areas["ca"][a])
        eqs = []
        for c, atoms in problem.equal_possible.items():
            r = min(atoms)
            if (r, r) not in x or any((a, r) not in x for a in atoms):
                continue
            e = m.NewBoolVar(f"eq[{c}]")
            for a in atoms:
                m.AddImplication(e, x[(a, r)])
            inside = set(atoms)
            others = [x[(a, r)] for a in members[r] if a not in inside]
            for o in others:
                m.AddImplication(e, o.Not())
            eqs.append(e)
        terms["ca_coterminosity"] = len(ca_atoms) - sum(eqs)
    model.terms = terms
    if objective == "weighted":
        from icbmap.suggest.terms import level_coefs

        for lv in level_coefs(weights):
            expr, ub = 0, 0
            for term, k in lv.items():
                expr += k * terms[term]
                ub += k * _upper(m, terms[term])
            model.levels.append(expr)
            model.level_ub.append(ub)
        model.tiebreak = tie_break(model)
        model.objective = model.levels[0] if model.levels else None
    elif objective == "max_min_pop":
        m.Maximize(model.min_pop)
    elif objective == "min_max_pop":
        m.Minimize(model.max_pop)
    return model


def _upper(m: cp_model.CpModel, expr) -> int:
    """An upper bound of a linear expression from its variables' domains."""
    if isinstance(expr, (int, np.integer)):
        return int(expr)
    flat = cp_model.FlatIntExpr(expr)
    proto = m.Proto()
    ub = int(flat.offset)
    for v, c in zip(flat.vars, flat.coeffs):
        dom = list(proto.variables[v.index].domain)   # (a negative index on the proto field reads 0)
        ub += int(c) * int(dom[-1] if c > 0 else dom[0])
    return ub


def partition_from_units(problem: Problem, cons: Constraints, unit_board: np.ndarray,
                         unit_pop: np.ndarray) -> list[list[int]]:
    """Atoms grouped as a unit-level assignment groups them (each atom, and each group of
    atoms that must share a board, goes where most of its people are)."""
    if problem.unit_atom is None:
        raise ValueError("needs an atlas problem")
    ua = problem.unit_atom
    free = ua >= 0
    boards, inv = np.unique(unit_board[free], return_inverse=True)
    votes = np.zeros((problem.n, len(boards)))
    np.add.at(votes, (ua[free], inv), unit_pop[free] + 1e-3)
    choice = np.zeros(problem.n, np.int64)
    for g in together_groups(problem, cons):
        choice[g] = int(np.argmax(votes[g].sum(axis=0)))
    out: dict[int, list[int]] = {}
    for a in range(problem.n):
        out.setdefault(int(choice[a]), []).append(a)
    return sorted((sorted(v) for v in out.values()), key=min)


def objective_points(value: float) -> float:
    """An integer objective value in points (weight x thousands of people, or x items)."""
    return value / (100 * PER_THOUSAND)
