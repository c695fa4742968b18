"""An option as a plan, and its figures and hard-constraint checks from the metrics engine.

Board identity: each new board continues at most one starting board and each starting board
is continued by at most one new board, chosen to keep the most people on their board (a
maximum-weight matching).  A continuing board keeps the starting board's id, code and colour;
a board made of several starting boards is renamed after them; a starting board nobody
continues is deleted (inactive); a new board nobody continues is created.  So *people moved*
is exactly the population of the units whose board id changed.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from icbmap.metrics.engine import Metrics
from icbmap.names import short_board_name
from icbmap.plan.model import Board
from icbmap.suggest.spec import Request


def option_plan(start, problem, partition: list[list[int]], title: str = ""):
    """A copy of ``start`` with the free units of the scope on the option's boards."""
    atlas = start.atlas
    pop = atlas.population.astype(np.int64)
    p = start.copy()
    A0 = start.assignment
    free = list(problem.free_boards)
    col = {b: i for i, b in enumerate(free)}
    units = [np.flatnonzero(np.isin(problem.unit_atom, board)) for board in partition]
    W = np.zeros((len(partition), len(free)), np.int64)
    for k, u in enumerate(units):
        s = np.bincount([col[int(b)] for b in A0[u]], weights=pop[u], minlength=len(free)) if len(u) else 0
        W[k] = s
    rows, cols = linear_sum_assignment(-W)
    match = {int(r): free[int(c)] for r, c in zip(rows, cols) if W[r, c] > 0}
    ids = [0] * len(partition)
    for k, u in enumerate(units):
        if k in match:
            ids[k] = match[k]
    used_codes = {b.code for b in p.boards}
    n_new = 0
    for k, u in enumerate(units):
        if k not in match:
            n_new += 1
            code = f"NEW{n_new:02d}"
            while code in used_codes:
                n_new += 1
                code = f"NEW{n_new:02d}"
            used_codes.add(code)
            bid = p.n_boards
            p.append_board(Board(bid, code, "", "#808080"))
            ids[k] = bid
    for k, u in enumerate(units):
        p.assign(u, ids[k])
    # GP practices of the free boards go with the unit they are in; one outside the free
    # area (or not located) goes where most of its starting board's people went
    if p.n_practices:
        idx = np.flatnonzero(np.isin(start.practice_assignment, free))
        if len(idx):
            heir = {s: ids[int(np.argmax(W[:, col[s]]))] for s in free}
            pu = start.practice_unit[idx]
            inside = (pu >= 0) & (problem.unit_atom[np.maximum(pu, 0)] >= 0)
            dest = np.array([int(p.assignment[u]) if ok else heir[int(b)]
                             for u, ok, b in zip(pu, inside, start.practice_assignment[idx])], np.int32)
            p.assign_practices(idx, dest)
    for b in free:
        if b not in ids:
            p.set_active(b, False)
    # names and colours
    from icbmap.plan.colours import colour_for_units

    for k, u in enumerate(units):
        bid = ids[k]
        contrib = np.bincount(A0[u], weights=pop[u], minlength=start.n_boards)
        total = contrib.sum()
        parts = [int(b) for b in np.argsort(-contrib) if contrib[b] > 0 and contrib[b] >= 0.05 * total]
        same = bid < start.n_boards and np.array_equal(np.flatnonzero(A0 == bid), np.sort(u))
        if same or parts == [bid]:
            continue
        shorts = [short_board_name(start.boards[b].name) for b in parts]
        if len(shorts) > 3:
            shorts = shorts[:2] + [f"{len(shorts) - 2} more"]
        name = " + ".join(shorts) or f"New board {k + 1}"
        fields = {"name": name}
        if bid >= start.n_boards:
            fields["colour"] = colour_for_units(p, u)
        p.update_board(bid, **fields)
    return p


def option_regions(problem, partition) -> np.ndarray | None:
    """The NHS region of every unit for an option when regions follow boards: a free unit's
    region is its board's (a straddling block goes whole to the region its board is in), so
    each region is the union of its boards.  ``None`` when regions do not follow boards."""
    ur = getattr(problem, "unit_region", None)
    if ur is None or partition is None or not getattr(problem, "alt_region", None):
        return ur
    ur = ur.copy()
    atom_reg = np.full(problem.n, -1, np.int64)
    for board in partition:
        atom_reg[board] = problem.board_region(board)
    free = problem.unit_atom >= 0
    ur[free] = atom_reg[problem.unit_atom[free]]
    return ur


def option_figures(start, plan, problem, request: Request, found=None) -> tuple[dict, list[str]]:
    """Figures of an option, all read from the metrics engine's report, and the hard
    constraints it breaks (an empty list when it meets every rule)."""
    atlas = start.atlas
    pop = atlas.population.astype(np.int64)
    report = Metrics(plan, observe=False).report()
    by_id = {b.id: b for b in report.boards}
    free_units = problem.unit_atom >= 0
    unit_region = option_regions(problem, found.partition if found is not None else None)
    region_names = atlas.layers["region"].table["name"].tolist()
    new_ids = sorted({int(b) for b in plan.assignment[free_units]})
    scope_ids = new_ids + list(problem.locked_boards)
    pops = {i: by_id[i].population for i in scope_ids}
    moved = int(pop[plan.assignment != start.assignment].sum())
    areas_touched = {}
    for lvl in ("council", "ca"):
        ul = atlas.unit_level(lvl)[free_units]
        areas_touched[lvl] = sorted(set(np.unique(ul).tolist()) - {-1})
    rows = {lvl: report.areas[lvl] for lvl in ("council", "ca")}
    council_splits = sum(rows["council"][c].n_boards - 1 for c in areas_touched["council"])
    ca_splits = sum(rows["ca"][c].n_boards - 1 for c in areas_touched["ca"])
    ca_not_equal = sum(1 for c in areas_touched["ca"] if rows["ca"][c].equals_board is None)
    councils_per_board = max(len(by_id[i].councils_whole) + len(by_id[i].councils_part) for i in scope_ids)
    from icbmap.metrics.change import boundary_change

    people, merges, continuing = boundary_change(start.assignment, plan.assignment, pop)
    lo, hi = request.weights.band
    band = sum(max(0, lo - p) + max(0, p - hi) for i, p in pops.items() if i not in problem.locked_boards)
    cluster_of = getattr(problem, "start_cluster", {}) or {}
    cross = 0
    for P in set(int(c) for c in continuing if c >= 0):
        ks = {cluster_of.get(b, -1 - b) for b in range(len(continuing)) if continuing[b] == P}
        cross += max(0, len(ks) - 1)
    terms = dict(found.terms) if found is not None else {}
    terms.update({
        "boundary_change": int(people),
        "merges": int(merges),
        "size_band": int(band),
        "clusters": int(cross),
        "disruption": moved,
        "balance": max(pops.values()) - min(pops.values()),
        "council_splits": council_splits,
        "ca_splits": ca_splits,
        "councils_per_board": councils_per_board,
        "ca_coterminosity": ca_not_equal,
    })
    terms.setdefault("soft_rules", 0)
    from icbmap.suggest.terms import level_values, points

    levels = [points(v) for v in level_values(request.weights, terms)]
    objective = levels[0] if levels else 0.0
    boards = [{"id": i, "code": by_id[i].code, "name": by_id[i].name, "population": by_id[i].population,
               "locked": i in problem.locked_boards, "contiguous": by_id[i].contiguous,
               "regions": by_id[i].regions,
               "nhs_region": _board_region_name(plan, i, unit_region, region_names),
               "councils": len(by_id[i].councils_whole) + len(by_id[i].councils_part)}
              for i in sorted(scope_ids, key=lambda i: -pops[i])]
    figs = {
        "boards": len(scope_ids),
        "smallest": min(pops.values()),
        "largest": max(pops.values()),
        "people_moved": moved,
        "terms": terms,
        "objective": objective,
        "levels": levels,
        "boundary_change": int(people),
        "merges": int(merges),
        "non_contiguous": sum(1 for i in scope_ids if not by_id[i].contiguous),
        "multi_region": sum(1 for i in scope_ids if len(by_id[i].regions) > 1),
        "councils_split": sum(1 for c in areas_touched["council"] if rows["council"][c].n_boards > 1),
        "cas_split": sum(1 for c in areas_touched["ca"] if rows["ca"][c].n_boards > 1),
        "cas_equal_to_a_board": len(areas_touched["ca"]) - ca_not_equal,
        "board_list": boards,
    }
    if unit_region is not None:    # regions follow boards: a board lies in the region it went to
        figs["multi_region"] = sum(1 for i in scope_ids
                                   if len(np.unique(unit_region[plan.assignment == i])) > 1)
    return figs, violations(start, plan, problem, request, report, scope_ids, areas_touched, unit_region)


def _board_region_name(plan, i, unit_region, names) -> str:
    """The NHS region a board lies in (as regions follow boards: the union of their boards), or
    its regions joined with " + " when it spans several."""
    region = unit_region if unit_region is not None else plan.atlas.unit_level("region")
    regs = [int(g) for g in np.unique(region[plan.assignment == i]) if g >= 0]
    return " + ".join(str(names[g]) for g in regs)


def violations(start, plan, problem, request: Request, report, scope_ids, areas_touched,
               unit_region=None) -> list[str]:
    """Every hard constraint the option breaks, judged from the metrics report."""
    cons = request.constraints
    atlas = start.atlas
    out = []
    by_id = {b.id: b for b in report.boards}
    n = len(scope_ids)
    if not request.target.lo <= n <= request.target.hi:
        out.append(f"{n} boards, target {request.target}")
    for i in scope_ids:
        b = by_id[i]
        if cons.floor is not None and b.population < cons.floor:
            out.append(f"{b.name}: {b.population:,} people, below the floor {cons.floor:,}")
        if cons.ceiling is not None and b.population > cons.ceiling:
            out.append(f"{b.name}: {b.population:,} people, above the ceiling {cons.ceiling:,}")
        if cons.contiguity and not b.contiguous:
            out.append(f"{b.name} is not in one piece")
    region = atlas.unit_level("region")
    ur = unit_region if unit_region is not None else getattr(problem, "unit_region", None)
    if ur is not None:   # regions follow boards: a straddling block counts in the region it went to
        region = np.where(problem.unit_atom >= 0, ur, region)
    for i in scope_ids:
        b = by_id[i]
        n_reg = len(np.unique(region[plan.assignment == i]))
        if cons.region_nesting and n_reg > 1:
            out.append(f"{b.name} spans {n_reg} NHS regions")
    pop = atlas.population
    free_units = problem.unit_atom >= 0
    whole = (["council"] if cons.councils_whole else []) + (["ca"] if cons.cas_whole else []) \
        + [lv for lv in cons.whole_areas if lv not in ("council", "ca")]
    for lvl in whole:
        ul = atlas.unit_level(lvl)
        names = atlas.level_layer(lvl).names
        for c in sorted(set(np.unique(ul[free_units]).tolist()) - {-1}):
            inside = ul == c
            boards = plan.assignment[inside]
            if cons.tolerance > 0:
                pieces = np.bincount(boards[boards >= 0], weights=pop[inside][boards >= 0])
                n_real = int(((pieces > 0) & (pieces >= cons.tolerance * pop[inside].sum())).sum())
            else:
                n_real = len(set(boards.tolist()) - {-1})
            allowed = len(np.unique(region[inside])) if cons.region_nesting else 1
            allowed += problem.out_touch.get(lvl, {}).get(c, 0)   # parts on locked boards or outside the scope
            if n_real > allowed:
                name = str(names[c])
                out.append(f"{name} is split between {n_real} boards")
    for i in problem.locked_boards:
        if not plan.boards[i].active or not np.array_equal(plan.assignment == i, start.assignment == i):
            out.append(f"locked board {plan.boards[i].name} changed")
    return out


def checks_text(o: dict) -> str:
    """One verdict per option that never says "all rules met" beside a failing principle."""
    pr = o["figures"].get("principles")
    hard = len(o["violations"])
    soft = 0
    if pr:
        for r in pr["rules"]:
            if r["passed"] or r.get("missing"):
                continue
            if r.get("hard", True):
                hard += 1
            else:
                soft += 1
    if not hard and not soft:
        return "all rules met"
    parts = []
    if hard:
        parts.append(f"{hard} rule{'s' if hard != 1 else ''} broken")
    if soft:
        parts.append(f"{soft} soft rule{'s' if soft != 1 else ''} fail{'s' if soft == 1 else ''}")
    return "; ".join(parts)
