"""The comparison table: options as columns, plan figures as rows (Qt-free).

An :class:`Option` is a :class:`~icbmap.plan.model.Plan` over the one shared atlas plus its
:class:`~icbmap.metrics.engine.Metrics` (the incremental engine the app already keeps up to
date); it holds no geometry.  :func:`compare` reads every figure from the metrics tables
(``Metrics.values_view()``: the board x area tables, pieces, registered lists), restricted to
each option's *focus boards* (:mod:`icbmap.compare.focus`).  There is no second way of
computing a figure: a row is a reading of the engine's tables.

Rows are :class:`RowSpec` objects in :data:`ROWS`; other modules (the principles of issue 12)
add rows with :func:`register_row`.  ``better`` says which way is best ("lower" or
"higher", None for neutral rows), and the best value(s) of each row are marked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from icbmap.compare.focus import Focus, england
from icbmap.compare.moves import Diff, diff_plans, moved_mask
from icbmap.metrics.engine import Metrics
from icbmap.names import short_board_name

LEVEL_WORDS = {"district": "districts", "council": "councils", "ca": "combined authorities"}


@dataclass
class Option:
    """One option: a plan and its metrics over the shared atlas."""

    name: str
    plan: Any
    metrics: Metrics | None = None
    path: Path | None = None
    baseline: bool = False           # the pack's baseline boards (read-only)
    proposal: Any = None             # the Proposal it was read from, if any
    reference_only: bool = False     # only its assignment is read (the moved rows): no metrics

    def __post_init__(self):
        if self.metrics is None and not self.reference_only:
            self.metrics = Metrics(self.plan, observe=False)

    @property
    def atlas(self):
        return self.plan.atlas

    @property
    def file(self) -> str | None:
        return str(self.path) if self.path else None


@dataclass
class Context:
    """What a row reads: one option restricted to the focus."""

    option: Option
    focus: Focus
    values: Any                   # MetricValues (live view)
    boards: np.ndarray            # focus board ids (active, holding a focus unit)
    baseline: Option | None
    territory: np.ndarray         # bool per unit: focus units and the units of the focus boards
    _moved: np.ndarray | None = None
    _change: tuple | None = None      # (boundary-change mask within the focus, continuing boards)

    def areas(self, level: str) -> np.ndarray:
        """Column indices (area + 1) of the areas at ``level`` the focus boards touch."""
        L = self.values.levels[level]
        if not len(self.boards):
            return np.zeros(0, np.int64)
        return np.flatnonzero(L.cnt[self.boards + 1, 1:].any(0)) + 1

    @property
    def pops(self) -> np.ndarray:
        return self.values.board_pop[self.boards]


@dataclass
class RowSpec:
    key: str
    label: str
    compute: Callable[[Context], Any]       # a number, or (number, text) for named rows
    better: str | None = None               # "lower", "higher" or None
    section: str = "Plan"
    note: str = ""


def _named(ctx: Context, which) -> tuple[int, str] | None:
    if not len(ctx.boards):
        return None
    pops = ctx.pops
    i = int(which(pops))
    b = ctx.option.plan.boards[int(ctx.boards[i])]
    return int(pops[i]), short_board_name(b.name)


def _ratio(ctx: Context):
    pops = ctx.pops
    if not len(pops) or pops.min() <= 0:
        return None
    return round(float(pops.max()) / float(pops.min()), 2)


def _split(level: str, real: bool):
    def f(ctx: Context):
        L = ctx.values.levels[level]
        cols = ctx.areas(level)
        n = L.n_real[cols] if real else L.n_touch[cols]
        return int((n > 1).sum())
    return f


def _councils_per_board(ctx: Context) -> np.ndarray:
    L = ctx.values.levels["council"]
    return (L.whole_n[ctx.boards] + L.part_n[ctx.boards]).astype(np.int64)


def _multi_region(ctx: Context) -> int:
    R = ctx.values.levels["region"]
    return int(((R.cnt[ctx.boards + 1, 1:] > 0).sum(1) > 1).sum()) if len(ctx.boards) else 0


def _non_contiguous(ctx: Context) -> int:
    v = ctx.values
    b = ctx.boards
    return int((v.pieces[b] - v.island_pieces[b] > 1).sum()) if len(b) else 0


def _registered(ctx: Context):
    if ctx.option.plan.n_practices == 0:
        return None
    return int(ctx.values.registered[ctx.boards].sum())


def _moved(ctx: Context, people: bool):
    base = ctx.baseline
    if base is None:
        return None
    atlas = ctx.option.atlas
    if ctx._moved is None:
        m = moved_mask(base.plan.assignment, ctx.option.plan.assignment, atlas.population)
        ctx._moved = m & (ctx.territory | _territory(base, ctx.focus))
    m = ctx._moved
    return int(atlas.population[m].sum()) if people else int(m.sum())


def _boundary(ctx: Context, what: str):
    """Boundary change (people or LSOAs) and merges from the baseline (icbmap.metrics.change)."""
    base = ctx.baseline
    if base is None:
        return None
    from icbmap.metrics import change as ch

    atlas = ctx.option.atlas
    if ctx._change is None:
        a, b = base.plan.assignment, ctx.option.plan.assignment
        _p, _m, cont = ch.boundary_change(a, b, atlas.population)
        mask = ch.moved_mask(a, b, atlas.population) & (ctx.territory | _territory(base, ctx.focus))
        ctx._change = (mask, cont)
    mask, cont = ctx._change
    if what == "people":
        return int(atlas.population[mask].sum())
    if what == "lsoas":
        return int(mask.sum())
    return ch.merges_into(cont, ctx.boards)


def _band(ctx: Context):
    return ctx.option.metrics.band


ROWS: list[RowSpec] = [
    RowSpec("boards", "Boards", lambda c: int(len(c.boards))),
    RowSpec("smallest", "Smallest board", lambda c: _named(c, np.argmin), "higher"),
    RowSpec("largest", "Largest board", lambda c: _named(c, np.argmax), "lower"),
    RowSpec("ratio", "Largest / smallest", _ratio, "lower"),
    RowSpec("below_floor", "Boards below 500,000", lambda c: int((c.pops < _band(c).floor).sum()), "lower"),
    RowSpec("below_minimum", "Boards below 1,000,000", lambda c: int((c.pops < _band(c).minimum).sum()), "lower"),
    RowSpec("above_maximum", "Boards above 3,000,000", lambda c: int((c.pops > _band(c).maximum).sum()), "lower"),
    RowSpec("councils_split", "Councils split", _split("council", True), "lower", "Councils",
            "more than one board holds more than a sliver of it"),
    RowSpec("districts_split", "Districts split", _split("district", True), "lower", "Councils"),
    RowSpec("cas_split", "Combined authorities split", _split("ca", True), "lower", "Councils"),
    RowSpec("councils_multi", "Councils working with more than one board", _split("council", False), "lower",
            "Councils", "any of it (slivers included) in more than one board"),
    RowSpec("cas_multi", "Combined authorities working with more than one board", _split("ca", False), "lower",
            "Councils"),
    RowSpec("councils_max", "Most councils a board works with",
            lambda c: int(_councils_per_board(c).max()) if len(c.boards) else None, "lower", "Councils"),
    RowSpec("councils_mean", "Mean councils a board works with",
            lambda c: round(float(_councils_per_board(c).mean()), 2) if len(c.boards) else None, "lower", "Councils"),
    RowSpec("multi_region", "Boards spanning NHS regions", _multi_region, "lower", "Shape"),
    RowSpec("non_contiguous", "Non-contiguous boards", _non_contiguous, "lower", "Shape"),
    RowSpec("registered", "Registered patients (GP practices)", _registered, None, "Population",
            "where the pack has GP practices"),
    RowSpec("boundary_change", "Boundary change: people whose area changes footprint",
            lambda c: _boundary(c, "people"), "lower", "Change",
            "each baseline board continues in the board holding most of its people; a pure merger moves nobody"),
    RowSpec("boundary_lsoas", "Boundary change: LSOAs", lambda c: _boundary(c, "lsoas"), "lower", "Change"),
    RowSpec("merges", "Merges: baseline boards absorbed into another's continuation",
            lambda c: _boundary(c, "merges"), None, "Change",
            "organisational change, counted apart from boundary change"),
    RowSpec("people_moved", "People moved, boards matched one to one (a merger counts)", lambda c: _moved(c, True),
            "lower", "Change", "each baseline board matched to at most one board: the people of absorbed boards count"),
    RowSpec("lsoas_moved", "LSOAs moved, boards matched one to one", lambda c: _moved(c, False), "lower", "Change"),
]


def register_row(spec: RowSpec, before: str | None = None) -> None:
    """Add a row (e.g. a principle's score) to every comparison; replaces one with the same key."""
    ROWS[:] = [r for r in ROWS if r.key != spec.key]
    if before is not None:
        for i, r in enumerate(ROWS):
            if r.key == before:
                ROWS.insert(i, spec)
                return
    ROWS.append(spec)


# ------------------------------------------------------------------ results
@dataclass
class Row:
    key: str
    label: str
    section: str
    better: str | None
    values: list                  # sortable value per option (None = not available)
    texts: list[str]
    best: list[int]               # indices of the best option(s)
    note: str = ""

    def to_dict(self) -> dict:
        return {"key": self.key, "label": self.label, "better": self.better, "values": self.values,
                "texts": self.texts, "best": self.best}


@dataclass
class BoardFigure:
    id: int
    code: str
    name: str
    population: int
    registered: int
    councils_whole: list[str]
    councils_part: list[str]
    districts_whole: list[str]
    districts_part: list[str]
    cas_whole: list[str]
    cas_part: list[str]

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Comparison:
    focus: Focus
    options: list[Option]
    rows: list[Row]
    boards: list[list[BoardFigure]]          # per option, largest first
    contexts: list[Context]
    baseline: Option | None = None
    _diffs: dict = field(default_factory=dict)

    def diff(self, i: int, j: int) -> Diff:
        """Moves from option ``i`` to option ``j`` within the focus (cached)."""
        key = (i, j)
        if key not in self._diffs:
            a, b = self.options[i], self.options[j]
            within = None if self.focus.england else (self.contexts[i].territory | self.contexts[j].territory)
            self._diffs[key] = diff_plans(a.plan, b.plan, a.name, b.name, within)
        return self._diffs[key]

    def row(self, key: str) -> Row:
        for r in self.rows:
            if r.key == key:
                return r
        raise KeyError(key)

    def split_areas(self, i: int) -> dict[str, list[dict]]:
        """The split areas (touched by the focus boards) per level, with their boards and shares."""
        ctx = self.contexts[i]
        v = ctx.values
        atlas = ctx.option.atlas
        plan = ctx.option.plan
        out = {}
        for lvl in ("council", "district", "ca"):
            L = v.levels[lvl]
            t = atlas.layers[lvl].table
            rows = []
            for c in ctx.areas(lvl).tolist():
                if L.n_touch[c] <= 1:
                    continue
                col = L.pop[1:, c]
                ap = int(L.pop[:, c].sum())
                held = np.flatnonzero(L.cnt[1:, c] > 0)
                held = held[np.argsort(-col[held], kind="stable")]
                rows.append({"code": str(t["code"].iat[c - 1]), "name": str(t["name"].iat[c - 1]),
                             "population": ap,
                             "boards": [{"code": plan.boards[b].code, "name": plan.boards[b].name,
                                         "population": int(col[b]),
                                         "share": round(int(col[b]) / ap, 6) if ap else 0.0,
                                         "sliver": bool(col[b] < v.tolerance * ap)} for b in held.tolist()]})
            out[lvl] = rows
        return out

    def to_dict(self) -> dict:
        atlas = self.options[0].atlas if self.options else None
        out = {
            "format": "icbmap-comparison", "version": 1,
            "pack": {"name": atlas.name, "content_hash": atlas.content_hash,
                     "population_basis": atlas.population_basis} if atlas else {},
            "focus": self.focus.to_dict(),
            "rows": [{"key": r.key, "label": r.label, "section": r.section, "better": r.better,
                      "best": [self.options[k].name for k in r.best]} for r in self.rows],
            "options": [],
        }
        for i, o in enumerate(self.options):
            out["options"].append({
                "name": o.name, "file": o.file, "baseline": o.baseline,
                "pack": {"name": o.atlas.name, "content_hash": o.atlas.content_hash},
                "summary": {r.key: _jsonable(r.values[i]) for r in self.rows},
                "summary_text": {r.key: r.texts[i] for r in self.rows},
                "boards": [b.to_dict() for b in self.boards[i]],
                "split_areas": self.split_areas(i),
                "moves": {self.options[j].name: self.diff(j, i).to_dict()
                          for j in range(len(self.options)) if j != i},
            })
        return out


def _jsonable(v):
    if isinstance(v, tuple):
        return {"population": v[0], "name": v[1]}
    return v


def _territory(option: Option, focus: Focus) -> np.ndarray:
    if focus.england:
        return np.ones(option.atlas.n_units, bool)
    boards = _focus_boards(option, focus)
    return focus.units | np.isin(option.plan.assignment, boards)


def _focus_boards(option: Option, focus: Focus) -> np.ndarray:
    plan = option.plan
    active = plan.active_ids().astype(np.int64)
    if focus.england:
        return active
    held = np.unique(plan.assignment[focus.units])
    held = held[held >= 0]
    return np.intersect1d(active, held.astype(np.int64))


def _text(v, key: str) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, tuple):
        return f"{v[1]} ({v[0]:,})"
    if isinstance(v, float):
        return f"{v:.2f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def _sortable(v):
    if isinstance(v, tuple):
        return v[0]
    return v


def _best(values: list, better: str | None) -> list[int]:
    if better is None:
        return []
    vals = [(_sortable(v), i) for i, v in enumerate(values) if v is not None]
    if len(vals) < 2:
        return []
    pick = min if better == "lower" else max
    target = pick(v for v, _ in vals)
    best = [i for v, i in vals if v == target]
    return [] if len(best) == len(vals) else best


def area_names(atlas, lvl: str) -> list[str]:
    """Names of the areas at ``lvl`` (cached on the atlas)."""
    cache = atlas.__dict__.setdefault("_compare_names", {})
    if lvl not in cache:
        cache[lvl] = atlas.layers[lvl].table["name"].astype(str).tolist()
    return cache[lvl]


def _labels(atlas, lvl: str, cols) -> list[str]:
    names = area_names(atlas, lvl)
    return [names[c - 1] for c in cols]


def board_figures(ctx: Context) -> list[BoardFigure]:
    v, plan, atlas = ctx.values, ctx.option.plan, ctx.option.atlas
    out = []
    for b in ctx.boards.tolist():
        lists = {}
        for lvl, key in (("council", "councils"), ("district", "districts"), ("ca", "cas")):
            L = v.levels[lvl]
            crow = L.cnt[b + 1]
            cols = np.flatnonzero(crow[1:] > 0) + 1
            full = L.cnt[:, cols].sum(0)
            lists[f"{key}_whole"] = _labels(atlas, lvl, cols[crow[cols] == full])
            lists[f"{key}_part"] = _labels(atlas, lvl, cols[crow[cols] != full])
        bd = plan.boards[b]
        out.append(BoardFigure(b, bd.code, bd.name, int(v.board_pop[b]), int(v.registered[b]), **lists))
    out.sort(key=lambda f: (-f.population, f.id))
    return out


def principle_rows(contexts: list[Context], rules) -> list[Row]:
    """One row per rule of ``rules`` (a :class:`~icbmap.principles.ruleset.RuleSet`): how many
    focus boards fail it (rules on boards), or how many areas fail it in the whole plan
    (rules on areas).  Read from the principles checker (:mod:`icbmap.principles.check`),
    which reads the same metrics tables."""
    from icbmap.principles.check import check

    results = [check(c.option.metrics, rules).results() for c in contexts]
    rows = []
    for k, rule in enumerate(rules.rules):
        vals, texts = [], []
        subject = results[0][k].subject if results else "boards"
        for c, res in zip(contexts, results):
            r = res[k]
            if r.missing:
                vals.append(None)
                texts.append("n/a")
                continue
            if r.subject == "boards" and r.fail is not None:
                n, total = int(r.fail[c.boards].sum()), len(c.boards)
            else:
                n, total = int(r.failing), int(r.total)
            vals.append(n)
            texts.append(f"{n:,} of {total:,}" if n else "\u2713 all pass")
        note = (f"{rules.name}: {rule.label}; failing {subject}" +
                ("" if subject == "boards" else " in the whole plan"))
        soft = "" if getattr(rule, "hard", True) else " (soft)"
        rows.append(Row(f"rule:{rule.id}", f"Principle{soft}: {rule.label}", "Principles", "lower", vals, texts,
                        _best(vals, "lower"), note))
    return rows


def compare(options: list[Option], focus: Focus | None = None, baseline: Option | None = None,
            rules=None) -> Comparison:
    """Compare ``options`` (same atlas) within ``focus``; ``baseline`` is the reference for the
    moved rows (default: the first option marked ``baseline``, else the pack's baseline plan);
    ``rules`` (a rule set of :mod:`icbmap.principles`) adds a row per rule."""
    if not options:
        raise ValueError("nothing to compare")
    atlas = options[0].atlas
    for o in options[1:]:
        if o.atlas is not atlas:
            raise ValueError(f"option {o.name} is on another atlas")
    focus = focus or england(atlas)
    if baseline is None:
        baseline = next((o for o in options if o.baseline), None)
    if baseline is None:
        from icbmap.plan.model import Plan

        baseline = Option("Baseline", Plan(atlas), baseline=True, reference_only=True)
    contexts = []
    for o in options:
        boards = _focus_boards(o, focus)
        terr = focus.units | np.isin(o.plan.assignment, boards) if not focus.england \
            else np.ones(atlas.n_units, bool)
        contexts.append(Context(o, focus, o.metrics.values_view(), boards, baseline, terr))
    rows = []
    for spec in ROWS:
        vals = [spec.compute(c) for c in contexts]
        rows.append(Row(spec.key, spec.label, spec.section, spec.better, vals,
                        [_text(v, spec.key) for v in vals], _best(vals, spec.better), spec.note))
    if rules is not None:
        rows += principle_rows(contexts, rules)
    boards = [board_figures(c) for c in contexts]
    return Comparison(focus, list(options), rows, boards, contexts, baseline)
