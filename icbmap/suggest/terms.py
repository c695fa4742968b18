"""The objective's terms: as CP-SAT expressions (:func:`add_terms`) and, independently, as
plain arithmetic on a partition (:func:`evaluate`), which every reported figure uses.

Definitions (docs/suggest.md, "Objective"), for the free area of the scope:

- ``boundary_change`` (people): each starting board ``s`` has a *continuing board*, the new
  board holding most of its people; ``sum_s pop(s) - pop(s on its continuing board)``.  A pure
  merger moves nobody.  (The same as :func:`icbmap.metrics.change.boundary_change`.)
- ``merges`` (count): ``sum_P max(0, #starting boards continuing into P - 1)``.
- ``clusters`` (count): ``sum_P max(0, #2025 clusters among the starting boards continuing into
  P - 1)``: boards merged across the expected April 2027 clusters.
- ``size_band`` (people): ``sum_P max(0, lo - pop P) + max(0, pop P - hi)``.
- ``council_splits``, ``ca_splits`` (count): ``sum_c (boards touching c - 1)``.
- ``sa_nesting`` (count): strategic authorities failing *nest or contain*.
- ``soft_rules`` (hundredths): ``sum over soft rules of round(100 weight) x failures``; a
  failure is an area (area rules) or a board (board rules), as the principles checker counts.
- ``councils_per_board``, ``balance``, ``disruption``, ``ca_coterminosity``: as before.

Slivers, as the principles checker: a board holds a *real piece* of an area when it holds at
least ``tolerance`` of the area's people (and some people); an area is *split* when two boards
hold real pieces; a board lies *inside* an area when its people outside the area are under
``tolerance`` of its people.  Nest or contain: an area passes unless it is split and a board
with a real piece of it does not lie inside it.
"""

from __future__ import annotations

import math

import numpy as np

from icbmap.suggest.spec import PEOPLE_TERMS, WEIGHT_SCALE

#: Integer units: people terms per person, counts per thousandth of an item (so a weight is
#: per thousand people or per item), soft rules are already in hundredths.
PER_THOUSAND = 1000
TERM_SCALE = {t: 1 for t in PEOPLE_TERMS}
TERM_SCALE["soft_rules"] = PER_THOUSAND // WEIGHT_SCALE
TOL_DEN = 1_000_000


def _fraction(tol: float) -> tuple[int, int]:
    """``tol`` as a small exact fraction ``num / den`` (0.01 -> 1/100)."""
    from fractions import Fraction

    f = Fraction(tol).limit_denominator(TOL_DEN)
    return f.numerator, f.denominator


def term_scale(term: str) -> int:
    return TERM_SCALE.get(term, PER_THOUSAND)


def display_value(term: str, raw: int) -> float | int:
    """A term's value as shown: people, items, or weighted failures (soft rules)."""
    return raw / WEIGHT_SCALE if term == "soft_rules" else int(raw)


def sliver_threshold(tol: float, area_pop: int) -> int:
    """People a piece needs to be real: at least ``tol`` of the area's people, and at least 1."""
    return max(1, math.ceil(tol * area_pop - 1e-9))


def tie_weight(a: int, r: int) -> int:
    """A fixed pseudo-random weight for the tie-break (splitmix64 of the atom and root ids):
    the same on every machine and in every run."""
    z = (a * 0x9E3779B97F4A7C15 + r * 0xBF58476D1CE4E5B9 + 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return int((z ^ (z >> 31)) & 0xFFFFF)   # 20 bits


def sa_rule(problem) -> object | None:
    from icbmap.metrics.values import DEFAULT_TOLERANCE
    from icbmap.suggest.spec import AreaRule

    if not problem.sa_level:
        return None
    return AreaRule("nest_or_contain", problem.sa_level, DEFAULT_TOLERANCE, 1.0, "strategic authorities")


# ----------------------------------------------------------------------------- model
class _Areas:
    """Shared CP-SAT helpers for sliver-aware area rules on one model."""

    def __init__(self, model):
        self.model = model
        self.m = model.cp
        self.cache: dict = {}

    def atoms_of(self, level):
        key = ("atoms", level)
        if key not in self.cache:
            out: dict[int, list[int]] = {}
            for a, d in enumerate(self.model.problem.areas[level]):
                for c in d:
                    out.setdefault(c, []).append(a)
            self.cache[key] = out
        return self.cache[key]

    def share(self, level, c, r):
        key = ("share", level, c, r)
        if key not in self.cache:
            P = self.model.problem.areas[level]
            self.cache[key] = sum(P[a][c] * self.model.x[(a, r)] for a in self.atoms_of(level)[c]
                                  if (a, r) in self.model.x and P[a].get(c, 0))
        return self.cache[key]

    def roots_of(self, level, c):
        x = self.model.x
        return sorted({r for a in self.atoms_of(level)[c] for r in self.model.cand[a] if (a, r) in x})

    def has(self, level, tol, c, r):
        """Board r holds a real piece of c (forced true when it does; free otherwise)."""
        key = ("has", level, tol, c, r)
        if key not in self.cache:
            pr = self.model.problem
            thr = sliver_threshold(tol, pr.area_pop[level][c])
            sh = self.share(level, c, r)
            cap = sum(pr.areas[level][a].get(c, 0) for a in self.atoms_of(level)[c] if (a, r) in self.model.x)
            if isinstance(sh, int) or cap < thr:
                self.cache[key] = None          # never real
            else:
                h = self.m.NewBoolVar(f"has[{level},{c},{r}]")
                self.m.Add(sh <= thr - 1 + cap * h)
                self.cache[key] = h
        return self.cache[key]

    def split(self, level, tol, c):
        key = ("split", level, tol, c)
        if key not in self.cache:
            hs = [h for r in self.roots_of(level, c) if (h := self.has(level, tol, c, r)) is not None]
            fixed = self.model.problem.out_touch.get(level, {}).get(c, 0)
            if len(hs) + fixed <= 1:
                self.cache[key] = 0
            else:
                s = self.m.NewBoolVar(f"split[{level},{c}]")
                self.m.Add(sum(hs) + fixed <= 1 + (len(hs) + fixed) * s)
                self.cache[key] = s
        return self.cache[key]

    def inside(self, level, tol, c, r):
        """Board r lies inside c (forced false when it does not); ``True`` when every atom that
        can be on r lies wholly inside c."""
        key = ("inside", level, tol, c, r)
        if key not in self.cache:
            pr = self.model.problem
            P = pr.areas[level]
            outs = [(a, int(pr.pop[a]) - P[a].get(c, 0)) for a in self.model.members[r]]
            if all(o <= 0 for _a, o in outs):
                self.cache[key] = True
                return True
            i = self.m.NewBoolVar(f"inside[{level},{c},{r}]")
            num, den = _fraction(tol)
            # people outside c < tol * people of r   <=>   den * outside - num * pop_r <= -1
            self.m.Add(sum((den * o - num * int(pr.pop[a])) * self.model.x[(a, r)] for a, o in outs
                           if den * o - num * int(pr.pop[a])) <= -1).OnlyEnforceIf(i)
            self.cache[key] = i
        return self.cache[key]

    def nest_fail(self, level, tol, c):
        """A literal/0 that must be 1 when area c fails nest-or-contain."""
        key = ("nestfail", level, tol, c)
        if key not in self.cache:
            sp = self.split(level, tol, c)
            if isinstance(sp, int):
                self.cache[key] = 0
                return 0
            f = self.m.NewBoolVar(f"nestfail[{level},{c}]")
            for r in self.roots_of(level, c):
                h = self.has(level, tol, c, r)
                if h is None:
                    continue
                ins = self.inside(level, tol, c, r)
                if ins is True:
                    continue
                self.m.AddBoolOr([f, h.Not(), sp.Not(), ins])
            self.cache[key] = f
        return self.cache[key]


def _rule_failures(A: _Areas, rule, key=None) -> object:
    """Failures of one rule (an expression), as the principles checker counts them.

    Areas in ``problem.or_areas`` (a decomposition's areas that fail when they fail in any
    region) are left out of the count; their failure literals go to ``model.or_lits[(key, c)]``."""
    model = A.model
    m = model.cp
    pr = model.problem
    x = model.x
    if rule.kind == "population":
        out = []
        for r in model.roots:
            f = m.NewBoolVar(f"popfail[{r}]")
            if rule.lo is not None:
                m.Add(model.board_pop[r] >= rule.lo).OnlyEnforceIf([x[(r, r)], f.Not()])
            if rule.hi is not None:
                m.Add(model.board_pop[r] <= rule.hi).OnlyEnforceIf(f.Not())
            m.AddImplication(f, x[(r, r)])
            out.append(f)
        return sum(out)
    lvl, tol = rule.level, rule.tolerance
    areas = sorted(A.atoms_of(lvl))
    if rule.kind == "area_within_one_board":
        return sum(A.split(lvl, tol, c) for c in areas)
    if rule.kind == "nest_or_contain":
        out = 0
        for c in areas:
            f = A.nest_fail(lvl, tol, c)
            if (lvl, c) in pr.or_areas:
                model.or_lits[(key, c)] = f
            else:
                out += f
        return out
    if rule.kind in ("board_of_whole_areas", "max_areas"):
        out = []
        for r in model.roots:
            f = m.NewBoolVar(f"boardfail[{rule.kind},{r}]")
            hs = []
            for c in areas:
                h = A.has(lvl, tol, c, r)
                if h is None:
                    continue
                hs.append(h)
                if rule.kind == "board_of_whole_areas":
                    sp = A.split(lvl, tol, c)
                    if not isinstance(sp, int):
                        m.AddBoolOr([f, h.Not(), sp.Not()])
            if rule.kind == "max_areas" and len(hs) > (rule.hi or 0):
                m.Add(sum(hs) <= rule.hi + len(hs) * f)
            out.append(f)
        return sum(out)
    raise ValueError(rule.kind)


def add_hard_nesting(model) -> None:
    """Hard nest-or-contain rules: no area may fail."""
    A = model.areas_helper
    for rule in model.cons.nest:
        for c in sorted(A.atoms_of(rule.level)):
            f = A.nest_fail(rule.level, rule.tolerance, c)
            if not isinstance(f, int):
                model.cp.Add(f == 0)


def add_terms(model, want: set[str]) -> dict:
    """CP-SAT expressions of the decomposable terms in ``want`` (raw units, see TERM_SCALE)."""
    m, pr, x = model.cp, model.problem, model.x
    A = model.areas_helper
    terms: dict = {}
    n = pr.n
    if want & {"boundary_change", "merges", "clusters"}:
        starts: dict[int, list[int]] = {}
        for a in range(n):
            for s in pr.start[a]:
                starts.setdefault(s, []).append(a)
        y: dict[tuple[int, int], object] = {}
        kept = []
        for s, atoms in sorted(starts.items()):
            pop_s = sum(pr.start[a][s] for a in atoms)
            if pop_s <= 0:
                continue
            roots = sorted({r for a in atoms for r in model.cand[a] if (a, r) in x})
            ws, ys = [], []
            for r in roots:
                piece = sum(pr.start[a][s] * x[(a, r)] for a in atoms if (a, r) in x)
                cap = sum(pr.start[a][s] for a in atoms if (a, r) in x)
                yv = m.NewBoolVar(f"y[{r},{s}]")
                w = m.NewIntVar(0, cap, f"w[{r},{s}]")
                m.Add(w <= piece)
                m.Add(w <= cap * yv)
                m.AddImplication(yv, x[(r, r)])
                y[(r, s)] = yv
                ws.append((w, piece))
                ys.append(yv)
            m.AddExactlyOne(ys)
            W = sum(w for w, _ in ws)
            for _w, piece in ws:       # the continuing board holds the largest piece
                m.Add(W >= piece)
            kept.append(W)
        model.cont = y
        tot = sum(sum(pr.start[a][s] for a in atoms) for s, atoms in starts.items())
        n_starts = len({s for (_r, s) in y})
        if "boundary_change" in want:
            terms["boundary_change"] = tot - sum(kept)
            if model.cons.floor and model.used is not None:
                # redundant: at most n_starts boards continue a starting board; every other board
                # has at least the floor's people, all of them moved, except people of no starting
                # board counted here (a region of a decomposition leaves out boards continued in
                # another region)
                uncounted = int(pr.pop.sum()) - tot
                m.Add(tot - sum(kept) >= model.cons.floor * (model.used - n_starts) - uncounted)
        by_root: dict[int, list] = {}
        for (r, s), v in y.items():
            by_root.setdefault(r, []).append((s, v))
        if "merges" in want:
            zs = []
            for r, lst in by_root.items():
                z = m.NewBoolVar(f"cont[{r}]")
                m.Add(z <= sum(v for _s, v in lst))
                zs.append(z)
            terms["merges"] = n_starts - sum(zs)
        if "clusters" in want:
            parts = []
            for r, lst in by_root.items():
                ks: dict[int, list] = {}
                for s, v in lst:
                    ks.setdefault(pr.start_cluster.get(s, -1 - s), []).append(v)
                if len(ks) <= 1:
                    continue
                us = []
                for k, vs in ks.items():
                    u = m.NewBoolVar(f"u[{r},{k}]")
                    for v in vs:
                        m.AddImplication(v, u)
                    us.append(u)
                z = m.NewBoolVar(f"anycont[{r}]")
                m.Add(z <= sum(v for _s, v in lst))
                parts.append(sum(us) - z)
            terms["clusters"] = sum(parts) if parts else 0
    if "size_band" in want:
        lo, hi = model.weights.band
        dev = []
        for r in model.roots:
            below = m.NewIntVar(0, lo, f"below[{r}]")
            above = m.NewIntVar(0, max(0, int(pr.pop.sum()) - hi), f"above[{r}]")
            m.Add(below >= lo * x[(r, r)] - model.board_pop[r])
            m.Add(above >= model.board_pop[r] - hi)
            dev += [below, above]
        terms["size_band"] = sum(dev)
    if "sa_nesting" in want:
        rule = sa_rule(pr)
        terms["sa_nesting"] = _rule_failures(A, rule, "sa") if rule is not None else 0
    if "soft_rules" in want:
        expr = 0
        for i, rule in enumerate(model.cons.soft):
            k = int(round(rule.weight * WEIGHT_SCALE))
            expr += k * _rule_failures(A, rule, i)
        terms["soft_rules"] = expr
    return terms


def tie_break(model):
    """The final level: a fixed pseudo-random weight per (atom, root) pair on the atoms' global
    ids, so that the optimum is one partition whatever the solver's threads do."""
    g = model.problem.gid
    return sum(tie_weight(int(g[a]), int(g[r])) * v for (a, r), v in model.x.items())


# ----------------------------------------------------------------------------- plain arithmetic
def _real_pieces(problem, level, tol, part):
    """area -> {board index: people} for real pieces only (and area -> fixed pieces)."""
    out: dict[int, dict[int, int]] = {}
    for k, board in enumerate(part):
        for a in board:
            for c, p in problem.areas[level][a].items():
                out.setdefault(c, {}).setdefault(k, 0)
                out[c][k] += p
    real = {}
    for c, d in out.items():
        thr = sliver_threshold(tol, problem.area_pop[level][c])
        real[c] = {k: p for k, p in d.items() if p >= thr}
    return out, real


def rule_failures(problem, rule, part, only=None) -> int:
    """Failures of ``rule`` on ``part``; ``only``: whether that one area fails nest-or-contain."""
    pops = [int(problem.pop[b].sum()) for b in part]
    if rule.kind == "population":
        return sum(1 for p in pops if (rule.lo is not None and p < rule.lo) or (rule.hi is not None and p > rule.hi))
    lvl, tol = rule.level, rule.tolerance
    allp, real = _real_pieces(problem, lvl, tol, part)
    fixed = problem.out_touch.get(lvl, {})
    if only is not None:
        num, den = _fraction(tol)
        return int(only in real and (len(real[only]) + fixed.get(only, 0) > 1) and any(
            not (pops[k] - allp[only][k]) * den < num * pops[k] for k in real[only]))
    split = {c: len(real[c]) + fixed.get(c, 0) > 1 for c in real}
    if rule.kind == "area_within_one_board":
        return sum(split.values())
    if rule.kind == "nest_or_contain":
        fails = 0
        for c in real:
            if not split[c] or (lvl, c) in problem.or_areas:
                continue
            num, den = _fraction(tol)
            if any(not (pops[k] - p) * den < num * pops[k] for k, p in ((k, allp[c][k]) for k in real[c])):
                fails += 1
        return fails
    if rule.kind == "board_of_whole_areas":
        return sum(1 for k in range(len(part)) if any(k in real[c] and split[c] for c in real))
    if rule.kind == "max_areas":
        return sum(1 for k in range(len(part)) if sum(1 for c in real if k in real[c]) > (rule.hi or 0))
    raise ValueError(rule.kind)


def evaluate(problem, cons, weights, part: list[list[int]]) -> dict[str, int]:
    """Every term's raw value for ``part`` (boards as lists of atoms), by plain arithmetic."""
    from scipy.optimize import linear_sum_assignment

    out: dict[str, int] = {}
    pops = [int(problem.pop[b].sum()) for b in part]
    # continuing boards
    starts = sorted({s for d in problem.start for s in d})
    piece = np.zeros((len(part), len(starts)), np.int64)
    col = {s: i for i, s in enumerate(starts)}
    for k, board in enumerate(part):
        for a in board:
            for s, p in problem.start[a].items():
                piece[k, col[s]] += p
    tot = piece.sum(axis=0)
    has = tot > 0
    cont = np.argmax(piece, axis=0)
    out["boundary_change"] = int((tot - piece[cont, np.arange(len(starts))])[has].sum())
    counts = np.bincount(cont[has], minlength=len(part))
    out["merges"] = int(np.maximum(counts - 1, 0).sum())
    cl = 0
    for k in range(len(part)):
        ks = {problem.start_cluster.get(starts[j], -1 - starts[j]) for j in np.flatnonzero(has & (cont == k))}
        cl += max(0, len(ks) - 1)
    out["clusters"] = cl
    lo, hi = weights.band
    out["size_band"] = sum(max(0, lo - p) + max(0, p - hi) for p in pops)
    for lvl, term in (("council", "council_splits"), ("ca", "ca_splits")):
        areas = sorted({c for d in problem.areas[lvl] for c in d})
        out[term] = sum(sum(1 for b in part if any(c in problem.areas[lvl][a] for a in b))
                        + problem.out_touch[lvl].get(c, 0) - 1 for c in areas)
    out["councils_per_board"] = max(
        [len({c for a in b for c in problem.areas["council"][a]}) for b in part] + list(problem.fixed_councils))
    allp = pops + list(problem.fixed_pops)
    out["balance"] = max(allp) - min(allp)
    r, c = linear_sum_assignment(-piece)
    out["disruption"] = int(problem.free_pop - piece[r, c].sum())
    ca_atoms = {c for d in problem.areas["ca"] for c in d}
    eq = 0
    for c, atoms in problem.equal_possible.items():
        if any(sorted(atoms) == sorted(b) for b in part):
            eq += 1
    out["ca_coterminosity"] = len(ca_atoms) - eq
    rule = sa_rule(problem)
    if rule is not None:     # counted only when asked for (the strategic authorities loaded)
        out["sa_nesting"] = rule_failures(problem, rule, part)
    out["soft_rules"] = sum(int(round(r.weight * WEIGHT_SCALE)) * rule_failures(problem, r, part)
                            for r in cons.soft)
    return out


def level_coefs(weights) -> list[dict[str, int]]:
    """Integer coefficient of each term in its level, divided by the level's common divisor
    (a level of one term then counts it in its own units: the order is the same, the numbers
    smaller, which keeps more levels in one solver stage)."""
    out = []
    for lv in weights.levels:
        c = {t: int(round(w * WEIGHT_SCALE)) * term_scale(t) for t, w in lv.items()}
        g = 0
        for v in c.values():
            g = math.gcd(g, v)
        out.append({t: v // max(g, 1) for t, v in c.items()})
    return out


def level_divisor(weights, i: int) -> int:
    lv = weights.levels[i]
    g = 0
    for t, w in lv.items():
        g = math.gcd(g, int(round(w * WEIGHT_SCALE)) * term_scale(t))
    return max(g, 1)


def level_values(weights, raw: dict[str, int]) -> list[int]:
    """Integer value of each level for these raw term values (before the level's divisor)."""
    return [sum(int(round(w * WEIGHT_SCALE)) * term_scale(t) * raw.get(t, 0) for t, w in lv.items())
            for lv in weights.levels]


def points(v: int) -> float:
    """A level's integer value in points (weight x thousands of people, or x items)."""
    return v / (WEIGHT_SCALE * PER_THOUSAND)
