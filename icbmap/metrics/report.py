"""The metrics report the CLI and the GUI panels read, built from :class:`MetricValues`.

Every figure is defined in ``docs/metrics.md``.  ``Report.to_dict()`` is plain JSON data.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from icbmap.metrics.values import MetricValues, PerLevel, PopulationBand, coterminosity_levels, level_counts


@dataclass
class BoardPiece:
    board: int
    code: str
    population: int
    share: float      # of the area's population
    sliver: bool


@dataclass
class AreaRow:
    level: str
    index: int
    code: str
    name: str
    population: int
    main_board: int            # -1 if no board holds any of it
    main_board_name: str
    main_share: float
    n_boards: int              # boards touching it
    n_real_boards: int         # boards holding more than a sliver
    split: bool                # touches more than one board
    real_split: bool           # more than one board holds more than a sliver
    sliver_only: bool          # split, but only by slivers
    unassigned_population: int
    split_score: float         # reduced sqrt-entropy (area direction); 1.0 = whole
    boards: list[BoardPiece] = field(default_factory=list)
    nests: bool | None = None          # combined authorities: wholly inside one board
    equals_board: int | None = None    # combined authorities: the board it equals exactly, else None


@dataclass
class BoardRow:
    id: int
    code: str
    name: str
    colour: str
    locked: bool
    population: int
    share: float
    status: str                # ok / below_floor / below_minimum / above_maximum
    flags: list[str]
    units: int
    registered: int
    councils_whole: list[str]
    councils_part: list[str]
    districts_whole: list[str]
    districts_part: list[str]
    cas_whole: list[str]
    cas_part: list[str]
    coterminosity: dict[str, float | None]   # share of people in areas wholly inside, per level
    split_score: dict[str, float]            # reduced sqrt-entropy (board direction), per level
    regions: list[str]
    pieces: int
    island_pieces: int
    contiguous: bool
    #: reference geographies: level -> {"whole": [...], "part": [...] (labels), "coterminosity",
    #: "split_score"} (the same figures as ``coterminosity`` / ``split_score`` give councils)
    references: dict = field(default_factory=dict)


@dataclass
class LevelSummary:
    level: str
    areas: int
    whole_in_one: int          # areas wholly inside exactly one board
    pct_whole_in_one: float
    split: int                 # areas touching more than one board
    split_pieces: int          # sum over areas of (boards touching - 1)
    real_split: int
    real_split_pieces: int
    sliver_only: int
    people_in_split: int
    pct_people_in_split: float
    area_splitting: float      # population-weighted mean area split score
    board_splitting: float     # population-weighted mean board split score
    nest: int | None = None    # combined authorities nesting inside one board
    equal: int | None = None   # combined authorities equal to a board


@dataclass
class PlanSummary:
    boards: int
    population: int
    assigned_population: int
    smallest: tuple[int, str, int]
    largest: tuple[int, str, int]
    below_floor: int
    below_minimum: int
    above_maximum: int
    band: dict
    tolerance: float
    unassigned_units: int
    unassigned_population: int
    non_contiguous: int
    multi_region: int
    registered: int
    levels: dict[str, LevelSummary]


@dataclass
class Report:
    summary: PlanSummary
    boards: list[BoardRow]
    areas: dict[str, list[AreaRow]]
    meta: dict

    def to_dict(self) -> dict:
        return {"meta": self.meta, "summary": asdict(self.summary),
                "boards": [asdict(b) for b in self.boards],
                "areas": {lvl: [asdict(a) for a in rows] for lvl, rows in self.areas.items()}}

    def board(self, code_or_id) -> BoardRow:
        for b in self.boards:
            if b.id == code_or_id or b.code == code_or_id:
                return b
        raise KeyError(code_or_id)

    def area(self, level: str, name_or_code: str) -> AreaRow:
        for a in self.areas[level]:
            if a.code == name_or_code or a.name == name_or_code:
                return a
        raise KeyError(name_or_code)


def _pct(a: int, b: int) -> float:
    return 100.0 * a / b if b else 0.0


def plan_summary(plan, v: MetricValues, band: PopulationBand,
                 active: tuple[list, np.ndarray] | None = None) -> PlanSummary:
    """The plan totals.  ``active``: the active boards and their ids, when the caller keeps
    them (the engine does, between changes of the board table)."""
    active, ids = active or active_boards(plan)
    bp = v.board_pop[ids] if len(ids) else np.zeros(0, np.int64)
    total = int(plan.atlas.total_population)
    below_floor, below_minimum, above_maximum = band.counts(bp)
    if len(ids):
        lo, hi = int(np.argmin(bp)), int(np.argmax(bp))
        smallest = (int(ids[lo]), active[lo].name, int(bp[lo]))
        largest = (int(ids[hi]), active[hi].name, int(bp[hi]))
    else:
        smallest = largest = (-1, "", 0)
    reg_lvl = v.levels["region"]
    multi_region = int(((reg_lvl.cnt[ids + 1, 1:] > 0).sum(1) > 1).sum()) if len(ids) else 0
    nonc = int((v.pieces[ids] - v.island_pieces[ids] > 1).sum()) if len(ids) else 0
    levels = _level_summaries([lvl for lvl in coterminosity_levels(plan.atlas) if lvl in v.levels], v, ids)
    return PlanSummary(
        boards=len(active), population=total, assigned_population=int(bp.sum()),
        smallest=smallest, largest=largest,
        below_floor=below_floor, below_minimum=below_minimum, above_maximum=above_maximum,
        band={"floor": band.floor, "minimum": band.minimum, "maximum": band.maximum},
        tolerance=v.tolerance, unassigned_units=v.unassigned_units, unassigned_population=v.unassigned_pop,
        non_contiguous=nonc, multi_region=multi_region,
        registered=int(v.registered.sum()) + v.unassigned_registered, levels=levels)


def active_boards(plan) -> tuple[list, np.ndarray]:
    """The plan's active boards and their ids (int64)."""
    active = plan.active_boards()
    return active, np.array([b.id for b in active], dtype=np.int64)


def _level_summaries(wanted: list[str], v: MetricValues, ids: np.ndarray) -> PerLevel:
    """The summary of each level in ``wanted``: the counts of every level at once over the
    fused columns, each level's :class:`LevelSummary` made when it is first read (so the cost
    does not grow with the number of reference geographies)."""
    F = v.fused()
    spans = F.spans
    bp = v.board_pop[ids] if len(ids) else np.zeros(0, np.int64)
    btot = int(bp.sum())

    def summary(lvl: str) -> LevelSummary:
        if v.refresh is not None:
            v.refresh(lvl)
        i, a, b = spans[lvl]
        n_whole, n_split, split_pieces, real_pieces, real_split, sliver, people_split, t = level_counts(F, lvl)
        n = b - a
        weighted = (F.area_pop[a:b] * F.area_score[a:b]).tolist()
        s = LevelSummary(
            lvl, n, n_whole, _pct(n_whole, n), n_split, split_pieces, real_split,
            real_pieces, sliver, people_split, _pct(people_split, t),
            math.fsum(weighted) / t if t else 0.0,
            math.fsum((bp * F.board_score[i, ids]).tolist()) / btot if btot else 0.0)
        if lvl == "ca":
            L = v.levels[lvl]
            mb = L.main_board[1:]
            whole_one = (F.n_touch[a:b] == 1) & (F.unassigned[a:b] == 0)
            eq = whole_one & (mb >= 0) & (L.cnt[mb + 1, np.arange(1, len(mb) + 1)] == v.board_units[np.maximum(mb, 0)])
            s.nest, s.equal = n_whole, int(eq.sum())
        return s

    out = PerLevel(pending=tuple(wanted), make=summary)
    if wanted:      # one entry made now: C code that reads a dict's storage (json) sees it non-empty
        out[wanted[0]]
    return out


def build_report(plan, v: MetricValues, band: PopulationBand, lazy_areas: bool = False) -> Report:
    """The full report.  ``lazy_areas``: each level's area rows are made when first read
    (a :class:`PerLevel`; valid until the plan's next edit, as ``v`` is), for a caller that
    shows one level at a time (the app's panels, after every edit)."""
    atlas = plan.atlas
    total = int(atlas.total_population)
    cot_levels = tuple(lvl for lvl in coterminosity_levels(atlas) if lvl in v.levels)
    layers = {lvl: atlas.level_layer(lvl).table for lvl in cot_levels + ("region",)}
    codes = {lvl: layers[lvl]["code"].astype(str).tolist() for lvl in layers}
    names = {lvl: layers[lvl]["name"].astype(str).tolist() for lvl in layers}

    def labels(lvl, cols):
        return [f"{names[lvl][c - 1]} ({codes[lvl][c - 1]})" for c in cols]

    # units per area, once: summing the board x area table inside the board loop made the
    # report quadratic in the number of boards
    area_units = {lvl: L.cnt.sum(0) for lvl, L in v.levels.items()}  # reference geographies too
    boards: list[BoardRow] = []
    for b in plan.boards:
        if not b.active:
            continue
        i = b.id
        pop = int(v.board_pop[i])
        status = band.status(pop)
        flags = [band.label(status)] if status != "ok" else []
        pieces, isl = int(v.pieces[i]), int(v.island_pieces[i])
        contiguous = pieces - isl <= 1
        if not contiguous:
            flags.append(f"{pieces - isl} separate pieces")
        touched = {}
        for lvl in ("district", "council", "ca"):
            L = v.levels[lvl]
            crow = L.cnt[i + 1]
            units = area_units[lvl]
            cols = np.flatnonzero(crow[1:] > 0) + 1
            whole = [c for c in cols if crow[c] == units[c]]
            part = [c for c in cols if crow[c] != units[c]]
            touched[lvl] = (labels(lvl, whole), labels(lvl, part))
        cot = {}
        score = {}
        refs = {}
        for lvl in cot_levels:
            L = v.levels[lvl]
            denom = pop - int(L.pop[i + 1, 0])
            c_val = int(L.whole_pop[i]) / denom if denom > 0 else None
            s_val = float(L.board_score[i])
            if lvl.startswith("ref:"):   # reference geographies: their own entry, same figures
                crow = L.cnt[i + 1]
                units = area_units[lvl]
                cols = np.flatnonzero(crow[1:] > 0) + 1
                refs[lvl] = {"whole": labels(lvl, [c for c in cols if crow[c] == units[c]]),
                             "part": labels(lvl, [c for c in cols if crow[c] != units[c]]),
                             "coterminosity": c_val, "split_score": s_val}
            else:
                cot[lvl], score[lvl] = c_val, s_val
        R = v.levels["region"]
        regions = [names["region"][c - 1] for c in np.flatnonzero(R.cnt[i + 1, 1:] > 0) + 1]
        if len(regions) > 1:
            flags.append(f"spans {len(regions)} NHS regions")
        boards.append(BoardRow(
            id=i, code=b.code, name=b.name, colour=b.colour, locked=b.locked, population=pop,
            share=pop / total if total else 0.0, status=status, flags=flags, units=int(v.board_units[i]),
            registered=int(v.registered[i]),
            councils_whole=touched["council"][0], councils_part=touched["council"][1],
            districts_whole=touched["district"][0], districts_part=touched["district"][1],
            cas_whole=touched["ca"][0], cas_part=touched["ca"][1],
            coterminosity=cot, split_score=score, regions=regions, pieces=pieces, island_pieces=isl,
            contiguous=contiguous, references=refs))

    bcode = {b.id: b.code for b in plan.boards}
    bname = {b.id: b.name for b in plan.boards}

    def area_rows(lvl: str) -> list[AreaRow]:
        L = v.levels[lvl]
        area_pop = L.pop.sum(0)
        rows = []
        for c in range(1, L.pop.shape[1]):
            ap = int(area_pop[c])
            held = np.flatnonzero(L.cnt[1:, c] > 0)
            pieces = sorted(
                (BoardPiece(int(b), bcode[int(b)], int(L.pop[b + 1, c]),
                            int(L.pop[b + 1, c]) / ap if ap else 0.0,
                            bool(L.pop[b + 1, c] < v.tolerance * ap))
                 for b in held), key=lambda p: (-p.population, p.board))
            mb = int(L.main_board[c])
            nt, nr = int(L.n_touch[c]), int(L.n_real[c])
            row = AreaRow(
                level=lvl, index=c - 1, code=codes[lvl][c - 1], name=names[lvl][c - 1], population=ap,
                main_board=mb, main_board_name=bname.get(mb, ""),
                main_share=int(L.main_pop[c]) / ap if ap else 0.0,
                n_boards=nt, n_real_boards=nr, split=nt > 1, real_split=nr > 1,
                sliver_only=nt > 1 and nr <= 1, unassigned_population=int(L.pop[0, c]),
                split_score=float(L.area_score[c]), boards=pieces)
            if lvl == "ca":
                nests = nt == 1 and int(L.cnt[0, c]) == 0
                row.nests = nests
                row.equals_board = mb if nests and int(L.cnt[mb + 1, c]) == int(v.board_units[mb]) else None
            rows.append(row)
        return rows

    if lazy_areas:
        areas = PerLevel(pending=cot_levels, make=area_rows)
    else:
        areas = {lvl: area_rows(lvl) for lvl in cot_levels}
    meta = {
        "pack": atlas.name, "content_hash": atlas.content_hash,
        "population_basis": atlas.population_basis, "population_estimated": atlas.population_estimated,
        "tolerance": v.tolerance,
    }
    return Report(plan_summary(plan, v, band), boards, areas, meta)
