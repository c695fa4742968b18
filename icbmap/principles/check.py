"""Live principles: pass/fail per board and rule, kept up to date with the metrics (Qt-free).

``Checker(metrics, ruleset)`` reads the incremental metrics' board x area tables (the same
arrays the metrics panels read; nothing is recomputed from the units).  It listens to the
metrics: after a move it re-derives only the columns of the areas the moved LSOAs belong to
(``O(boards x areas touched)``), then the per-rule verdicts, which are a few vector
operations over the boards.  Reasons ("Cumbria Combined Authority: 60% in ..., 40% in
...") are written only when asked for.

Listeners added with :meth:`Checker.add_listener` get ``(checker, flipped)`` after every
update, where ``flipped`` is a set of ``(rule id, board id)`` whose verdict changed (a
plan-level count change shows as ``(rule id, -1)``).

:func:`rule_counts` gives one row per rule with the plan's counts, for comparison tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from icbmap.listeners import Listeners
from icbmap.names import short_board_name
from icbmap.principles.rules import BUILTIN_GEOGRAPHIES, Rule
from icbmap.principles.ruleset import RuleSet


def resolve_geography(atlas, name: str) -> str | None:
    """The metrics level a rule's ``geography`` names, or None when the atlas lacks it."""
    if name in BUILTIN_GEOGRAPHIES:
        return name
    from icbmap.atlas.model import (
        REFERENCE_PREFIX,  # lazily: geopandas stays out of `icbmap --help`
    )

    key = name if name.startswith(REFERENCE_PREFIX) else REFERENCE_PREFIX + name
    return key if key in getattr(atlas, "references", {}) else None


def acute_trust_units(atlas, include_specialist: bool = False) -> np.ndarray | None:
    """Units holding each acute trust's headquarters (placed ones only), or None without trusts."""
    t = getattr(atlas, "trusts", None)
    if t is None:
        return None
    kinds = {"acute"} | ({"acute (specialist)"} if include_specialist else set())
    sel = t["kind"].isin(kinds).to_numpy() & (t["unit"].to_numpy() >= 0)
    return t["unit"].to_numpy(dtype=np.int64)[sel]


def _pct(s: float) -> str:
    return f"{100 * s:.0f}%" if s >= 0.01 or s == 0 else f"{100 * s:.1f}%"


class _Geo:
    """Sliver-aware pieces at one level for one tolerance, updated column by column."""

    def __init__(self, metrics, level: str, tol: float):
        self.metrics = metrics
        self.level = level
        self.tol = tol
        self.full()

    def full(self) -> None:
        L = self.metrics.levels[self.level]
        self.thr = self.tol * L.area_pop.astype(np.float64)
        real = (L.cnt[1:] > 0) & ~(L.pop[1:] < self.thr)
        real[:, 0] = False
        self.real = real
        self.split = real.sum(0) > 1
        self.held_split = (real & self.split).sum(1)      # per board: split areas it holds (non-sliver)
        self.n_real = real.sum(1)                          # per board: areas it holds more than a sliver of

    def update(self, units: np.ndarray) -> None:
        L = self.metrics.levels[self.level]
        cols = np.unique(L.cols[units])
        cols = cols[cols > 0]
        if not len(cols):
            return
        old_real = self.real[:, cols]
        old_split = self.split[cols]
        new_real = (L.cnt[1:, cols] > 0) & ~(L.pop[1:, cols] < self.thr[cols])
        new_split = new_real.sum(0) > 1
        self.held_split += (new_real & new_split).sum(1) - (old_real & old_split).sum(1)
        self.n_real += new_real.sum(1) - old_real.sum(1)
        self.real[:, cols] = new_real
        self.split[cols] = new_split


@dataclass
class RuleResult:
    rule: Rule
    fail: np.ndarray | None          # bool per board id (inactive boards never fail)
    failing: int                     # boards or areas failing (see ``subject``)
    total: int                       # boards or areas checked
    subject: str                     # "boards" or "areas"
    missing: str = ""                # why the rule cannot be checked ("" = it can)
    level: str | None = None

    @property
    def ok(self) -> bool:
        return not self.missing and self.failing == 0

    @property
    def hard(self) -> bool:
        return self.rule.hard

    @property
    def warning(self) -> bool:
        """A soft rule that fails: reported as a warning, not a failure."""
        return not self.rule.hard and not self.missing and self.failing > 0

    def to_dict(self) -> dict:
        return {"id": self.rule.id, "kind": self.rule.kind, "label": self.rule.label,
                "params": dict(self.rule.params), "subject": self.subject,
                "hard": self.rule.hard, "weight": self.rule.weight,
                "failing": self.failing, "total": self.total, "passed": self.ok,
                "missing": self.missing}


@dataclass
class _Slot:
    rule: Rule
    level: str | None = None
    geo: tuple | None = None
    trust_units: np.ndarray | None = None
    missing: str = ""
    result: RuleResult | None = None
    extra: dict = field(default_factory=dict)


class Checker(Listeners):
    """Per-board and per-plan verdicts of ``ruleset`` on ``metrics.plan``, kept live."""

    def __init__(self, metrics, ruleset: RuleSet, observe: bool = True):
        self.metrics = metrics
        self.plan = metrics.plan
        self.atlas = metrics.plan.atlas
        self.ruleset = ruleset
        self._listeners: list[Callable] = []
        self._observing = False
        self.rebuild()
        if observe:
            metrics.add_listener(self._on_metrics)
            self._observing = True

    # -------------------------------------------------------------- lifecycle
    def detach(self) -> None:
        if self._observing:
            self.metrics.remove_listener(self._on_metrics)
            self._observing = False


    def set_rules(self, ruleset: RuleSet) -> None:
        self.ruleset = ruleset
        self.rebuild()
        for fn in list(self._listeners):
            fn(self, {(s.rule.id, -1) for s in self.slots})

    def rebuild(self) -> None:
        """Everything from the metrics' current tables (a full check)."""
        atlas = self.atlas
        self._cap = self.metrics.cap
        self.geos: dict[tuple, _Geo] = {}
        self.slots: list[_Slot] = []
        default_tol = self.metrics.tolerance
        for r in self.ruleset.rules:
            s = _Slot(r)
            if "geography" in r.params:
                lvl = resolve_geography(atlas, r.params["geography"])
                if lvl is None:
                    s.missing = (f"the geography {r.params['geography']!r} is not loaded "
                                 "(add it with Data > Add reference geography or `icbmap data areas add`)")
                else:
                    tol = r.params.get("tolerance")
                    tol = default_tol if tol is None else float(tol)
                    key = (lvl, tol)
                    if key not in self.geos:
                        self.geos[key] = _Geo(self.metrics, lvl, tol)
                    s.level, s.geo = lvl, key
            if r.kind == "min_acute_trusts":
                s.trust_units = acute_trust_units(atlas, bool(r.params.get("include_specialist")))
                if s.trust_units is None:
                    s.missing = "no NHS trusts are attached to the data pack (see `icbmap data trusts`)"
            self.slots.append(s)
        self._evaluate()

    # -------------------------------------------------------------- updates
    def _on_metrics(self, change, dirty) -> None:
        if self.metrics.cap != self._cap or change.structural:
            before = self._snapshot()
            self.rebuild()
        elif change.kind == "board" or (change.kind == "assign" and len(change.units)):
            before = self._snapshot()
            for g in self.geos.values():
                g.update(change.units)
            self._evaluate()
        else:
            return  # practices alone: no rule reads them, nothing to copy or compare
        flipped = self._flips(before)
        for fn in list(self._listeners):
            fn(self, flipped)

    def _snapshot(self):
        return [(s.rule.id, None if s.result is None or s.result.fail is None else s.result.fail.copy(),
                 None if s.result is None else s.result.failing) for s in self.slots]

    def _flips(self, before) -> set:
        out = set()
        old = {rid: (f, n) for rid, f, n in before}
        for s in self.slots:
            f0, n0 = old.get(s.rule.id, (None, None))
            r = s.result
            if r is None:
                continue
            if n0 != r.failing:
                out.add((s.rule.id, -1))
            if r.fail is not None:
                if f0 is None or len(f0) != len(r.fail):
                    out.update((s.rule.id, int(b)) for b in np.flatnonzero(r.fail))
                else:
                    out.update((s.rule.id, int(b)) for b in np.flatnonzero(f0 != r.fail))
        return out

    def _evaluate(self) -> None:
        m, plan = self.metrics, self.plan
        n = plan.n_boards
        active = np.fromiter((b.active for b in plan.boards), bool, n)
        n_active = int(active.sum())
        for s in self.slots:
            r = s.rule
            k = r.kind
            if s.missing:
                s.result = RuleResult(r, None, 0, 0, r.subject, s.missing, s.level)
                continue
            if k == "population":
                bp = m.board_pop[1:n + 1]
                fail = np.zeros(n, bool)
                if r.params.get("min") is not None:
                    fail |= bp < r.params["min"]
                if r.params.get("max") is not None:
                    fail |= bp > r.params["max"]
            elif k == "area_within_one_board":
                g = self.geos[s.geo]
                fail = g.held_split[:n] > 0
                fail &= active
                s.result = RuleResult(r, fail, int(g.split.sum()), len(g.split) - 1, "areas", level=s.level)
                continue
            elif k == "nest_or_contain":
                g = self.geos[s.geo]
                offend = self._offenders(s)
                fail = offend.any(1) & active
                s.result = RuleResult(r, fail, int(offend.any(0).sum()), len(g.split) - 1, "areas", level=s.level)
                continue
            elif k == "board_of_whole_areas":
                g = self.geos[s.geo]
                fail = g.held_split[:n] > 0
                if not r.params.get("allow_outside", True):
                    L = m.levels[s.level]
                    fail = fail | ~(L.pop[1:n + 1, 0] < g.tol * m.board_pop[1:n + 1])
            elif k == "one_region":
                fail = (m.levels["region"].cnt[1:n + 1, 1:] > 0).sum(1) > 1
            elif k == "contiguous":
                c = m.contiguity
                fail = (c.pieces[:n] - c.island_pieces[:n]) > 1
            elif k == "max_areas":
                fail = self.geos[s.geo].n_real[:n] > r.params["max"]
            elif k == "min_acute_trusts":
                boards = plan.assignment[s.trust_units]
                counts = np.bincount(boards[boards >= 0], minlength=n)[:n]
                s.extra["counts"] = counts
                fail = counts < r.params["min"]
            else:  # pragma: no cover - make_rule rejects unknown kinds
                raise AssertionError(k)
            fail &= active
            s.result = RuleResult(r, fail, int(fail.sum()), n_active, "boards", level=s.level)

    def _offenders(self, s: _Slot) -> np.ndarray:
        """Boards x area columns (board id rows): the board holds more than a sliver of a shared
        area and more than a sliver of its own people live outside it (it neither nests nor contains)."""
        g = self.geos[s.geo]
        m = self.metrics
        n = self.plan.n_boards
        L = m.levels[s.level]
        bp = m.board_pop[1:n + 1].astype(np.float64)
        outside = bp[:, None] - L.pop[1:n + 1, :]
        reaches = ~(outside < g.tol * bp[:, None])
        offend = g.real[:n] & g.split[None, :] & reaches
        offend[:, 0] = False
        return offend

    def _nest_text(self, s: _Slot, col: int, boards) -> str:
        """``"West Midlands: Coventry and Warwickshire holds 12% of it and reaches outside (63% of its
        people live outside)"`` for the boards of ``boards`` that hold area ``col`` and reach outside."""
        m = self.metrics
        L = m.levels[s.level]
        t = self.atlas.level_layer(s.level).table
        name = str(t["name"].iat[col - 1])
        ap = int(L.area_pop[col])
        parts = []
        for b in sorted(boards, key=lambda b: (-int(L.pop[b + 1, col]), b)):
            inside = int(L.pop[b + 1, col])
            bp = int(m.board_pop[b + 1])
            parts.append(f"{short_board_name(self.plan.boards[b].name)} holds {_pct(inside / ap if ap else 0.0)} "
                         f"of it and reaches outside ({_pct((bp - inside) / bp if bp else 0.0)} of its people "
                         "live outside)")
        return f"{name}: " + "; ".join(parts)

    # -------------------------------------------------------------- results
    def results(self) -> list[RuleResult]:
        return [s.result for s in self.slots]

    def result(self, rule_id: str) -> RuleResult:
        return self._slot(rule_id).result

    def _slot(self, rule_id: str) -> _Slot:
        for s in self.slots:
            if s.rule.id == rule_id:
                return s
        raise KeyError(rule_id)

    @property
    def all_pass(self) -> bool:
        return all(r.ok for r in self.results())

    @property
    def hard_pass(self) -> bool:
        """Every hard rule passes (soft rules may fail: they are warnings)."""
        return all(r.ok for r in self.results() if r.rule.hard)

    @property
    def warnings(self) -> list[RuleResult]:
        """The soft rules that fail."""
        return [r for r in self.results() if r.warning]

    @property
    def missing(self) -> list[RuleResult]:
        return [r for r in self.results() if r.missing]

    def failing_boards(self, board: int) -> list[Rule]:
        return [s.rule for s in self.slots if s.result.fail is not None and board < len(s.result.fail)
                and s.result.fail[board]]

    def trust_counts(self, include_specialist: bool = False) -> np.ndarray | None:
        units = acute_trust_units(self.atlas, include_specialist)
        if units is None:
            return None
        b = self.plan.assignment[units]
        return np.bincount(b[b >= 0], minlength=self.plan.n_boards)[:self.plan.n_boards]

    # ----------------------------------------------------------- reasons (on demand)
    def _area_text(self, level: str, col: int, tol: float | None = None) -> str:
        """``"Cumbria Combined Authority: 60% in A, 40% in B"`` for area column ``col``
        (pieces under the sliver tolerance marked ``(sliver)``)."""
        tol = self.metrics.tolerance if tol is None else tol
        L = self.metrics.levels[level]
        t = self.atlas.level_layer(level).table
        # reference geographies: the label carries each area's status and date
        name = str(t["label"].iat[col - 1]) if "label" in t.columns else str(t["name"].iat[col - 1])
        ap = int(L.area_pop[col])
        n = self.plan.n_boards
        pops = L.pop[1:n + 1, col]
        held = np.flatnonzero(L.cnt[1:n + 1, col] > 0)
        held = sorted(held, key=lambda b: (-int(pops[b]), b))
        parts = [f"{_pct(int(pops[b]) / ap if ap else 0.0)} in {self.plan.boards[b].name}"
                 + (" (sliver)" if int(pops[b]) < tol * ap else "") for b in held]
        if int(L.cnt[0, col]):
            parts.append(f"{_pct(int(L.pop[0, col]) / ap if ap else 0.0)} unassigned")
        return f"{name}: " + ", ".join(parts)

    def area_failures(self, rule_id: str) -> list[str]:
        """Plan-level list: each failing area (area rules) or failing board with its reasons."""
        s = self._slot(rule_id)
        r = s.result
        if r.missing:
            return [r.missing]
        if s.rule.kind == "area_within_one_board":
            g = self.geos[s.geo]
            L = self.metrics.levels[s.level]
            cols = np.flatnonzero(g.split)
            cols = sorted(cols, key=lambda c: -int(L.area_pop[c]))
            return [self._area_text(s.level, int(c), g.tol) for c in cols]
        if s.rule.kind == "nest_or_contain":
            offend = self._offenders(s)
            L = self.metrics.levels[s.level]
            cols = sorted(np.flatnonzero(offend.any(0)), key=lambda c: (-int(L.area_pop[c]), c))
            return [self._nest_text(s, int(c), np.flatnonzero(offend[:, c])) for c in cols]
        out = []
        for b in np.flatnonzero(r.fail):
            out.append(f"{self.plan.boards[b].name}: " + "; ".join(self.board_reasons(rule_id, int(b))))
        return out

    def board_reasons(self, rule_id: str, board: int) -> list[str]:
        """Why ``board`` fails ``rule_id`` (empty when it passes)."""
        s = self._slot(rule_id)
        r, rule, m = s.result, s.rule, self.metrics
        if r.missing:
            return [r.missing]
        if r.fail is None or board >= len(r.fail) or not r.fail[board]:
            return []
        k, p = rule.kind, rule.params
        if k == "population":
            pop = int(m.board_pop[board + 1])
            if p.get("min") is not None and pop < p["min"]:
                return [f"{pop:,} people, below {p['min']:,}"]
            return [f"{pop:,} people, above {p['max']:,}"]
        if k in ("area_within_one_board", "board_of_whole_areas"):
            g = self.geos[s.geo]
            cols = np.flatnonzero(g.real[board] & g.split)
            out = [self._area_text(s.level, int(c), g.tol) for c in cols]
            if k == "board_of_whole_areas" and not p.get("allow_outside", True):
                outside = int(m.levels[s.level].pop[board + 1, 0])
                bp = int(m.board_pop[board + 1])
                if bp and not outside < g.tol * bp:
                    out.append(f"{_pct(outside / bp)} of its people live outside every area")
            return out
        if k == "nest_or_contain":
            offend = self._offenders(s)
            return [self._nest_text(s, int(c), [board]) for c in np.flatnonzero(offend[board])]
        if k == "one_region":
            R = m.levels["region"]
            names = self.atlas.layers["region"].table["name"].astype(str).tolist()
            regions = [names[c - 1] for c in np.flatnonzero(R.cnt[board + 1, 1:] > 0) + 1]
            return [f"spans {len(regions)} NHS regions: " + ", ".join(regions)]
        if k == "contiguous":
            c = m.contiguity
            return [f"{int(c.pieces[board] - c.island_pieces[board])} separate pieces"]
        if k == "max_areas":
            g = self.geos[s.geo]
            t = self.atlas.level_layer(s.level).table
            names = [str(t["name"].iat[c - 1]) for c in np.flatnonzero(g.real[board])]
            return [f"works with {len(names)} (at most {p['max']}): " + ", ".join(names)]
        if k == "min_acute_trusts":
            counts = s.extra["counts"]
            t = self.atlas.trusts
            kinds = {"acute"} | ({"acute (specialist)"} if p.get("include_specialist") else set())
            units = t["unit"].to_numpy()
            here = t[t["kind"].isin(kinds).to_numpy() & (units >= 0)]
            here = here[self.plan.assignment[here["unit"].to_numpy()] == board]
            names = ", ".join(here["name"].astype(str)) or "none"
            return [f"{int(counts[board])} acute trust{'s' if counts[board] != 1 else ''} "
                    f"(at least {p['min']}): {names}"]
        return []

    # -------------------------------------------------------------- reports
    def counts(self) -> list[dict]:
        """One row per rule: id, kind, label, params, subject, failing, total, passed, missing."""
        return [r.to_dict() for r in self.results()]

    def to_dict(self) -> dict:
        boards = []
        for b in self.plan.boards:
            if not b.active:
                continue
            row = {"id": b.id, "code": b.code, "name": b.name, "population": int(self.metrics.board_pop[b.id + 1]),
                   "rules": {}}
            for s in self.slots:
                f = s.result.fail
                row["rules"][s.rule.id] = {
                    "passed": None if f is None else not bool(f[b.id]),
                    "reasons": self.board_reasons(s.rule.id, b.id) if f is not None and f[b.id] else []}
            boards.append(row)
        rules = []
        for s in self.slots:
            d = s.result.to_dict()
            d["failures"] = self.area_failures(s.rule.id) if not s.result.ok else []
            rules.append(d)
        rs = self.ruleset
        return {"rules": {"name": rs.name, "source": rs.source, "url": rs.url, "notes": rs.notes},
                "all_pass": self.all_pass, "hard_pass": self.hard_pass,
                "warnings": [r.rule.id for r in self.warnings], "results": rules, "boards": boards}


def check(metrics, ruleset: RuleSet) -> Checker:
    """A one-off (not live) check of the metrics' plan."""
    return Checker(metrics, ruleset, observe=False)


def rule_counts(metrics, ruleset: RuleSet) -> list[dict]:
    """Per-rule plan counts (one dict per rule), e.g. for an options comparison table."""
    return check(metrics, ruleset).counts()


__all__ = ["Checker", "RuleResult", "acute_trust_units", "check", "resolve_geography", "rule_counts"]
