"""The optimiser (icbmap suggest): exactness against brute force, hard constraints checked by
the metrics engine, contiguity, top-K order, cancellation, bad input and infeasibility.

Small synthetic problems (8 blocks on a grid, a 6-block path) are solved and compared with a
brute-force enumeration of every partition; the rest runs on the England offline pack.
"""

from __future__ import annotations

import itertools
import json
import threading

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from icbmap.suggest.problem import Problem
from icbmap.suggest.solve import solve_problem
from icbmap.suggest.spec import (PEOPLE_TERMS, TERMS, WEIGHT_SCALE, Constraints, Request, SuggestError, Target,
                                 Weights)


# ------------------------------------------------------------------ brute force
def partitions(items: list[int], k: int):
    """Every partition of ``items`` into exactly ``k`` non-empty blocks."""
    n = len(items)

    def rec(i, labels, m):
        if i == n:
            if m == k:
                yield [[items[j] for j in range(n) if labels[j] == b] for b in range(k)]
            return
        if k - m > n - i:
            return
        for b in range(min(m + 1, k)):
            labels.append(b)
            yield from rec(i + 1, labels, max(m, b + 1))
            labels.pop()

    yield from rec(0, [], 0)


def connected(board: list[int], nb: list[list[int]]) -> bool:
    s = set(board)
    seen = {board[0]}
    todo = [board[0]]
    while todo:
        v = todo.pop()
        for w in nb[v]:
            if w in s and w not in seen:
                seen.add(w)
                todo.append(w)
    return len(seen) == len(s)


def brute_terms(problem: Problem, part: list[list[int]]) -> dict[str, int]:
    """The objective terms, computed directly from the problem arrays (not from the model)."""
    starts = sorted({s for d in problem.start for s in d})
    W = np.array([[sum(problem.start[a].get(s, 0) for a in b) for s in starts] for b in part])
    r, c = linear_sum_assignment(-W)
    pops = [int(problem.pop[b].sum()) for b in part] + list(problem.fixed_pops)
    out = {"disruption": problem.free_pop - int(W[r, c].sum()), "balance": max(pops) - min(pops)}
    for lvl, term in (("council", "council_splits"), ("ca", "ca_splits")):
        areas = sorted({c for d in problem.areas[lvl] for c in d})
        out[term] = sum(sum(1 for b in part if any(c in problem.areas[lvl][a] for a in b))
                        + problem.out_touch[lvl].get(c, 0) - 1 for c in areas)
    out["councils_per_board"] = max(
        [len({c for a in b for c in problem.areas["council"][a]}) for b in part] + list(problem.fixed_councils))
    return out


def brute_objective(terms: dict, w: Weights) -> float:
    return sum(w.coef(t) * (terms[t] if t in PEOPLE_TERMS else 1000 * terms[t])
               for t in TERMS if t in terms) / (WEIGHT_SCALE * 1000)


def brute_force(problem: Problem, cons: Constraints, k: int, w: Weights) -> list[tuple[float, list[list[int]]]]:
    nb = problem.neighbours()
    out = []
    for part in partitions(list(range(problem.n)), k):
        pops = [int(problem.pop[b].sum()) for b in part]
        if cons.floor is not None and min(pops) < cons.floor:
            continue
        if cons.ceiling is not None and max(pops) > cons.ceiling:
            continue
        if cons.contiguity and not all(connected(b, nb) for b in part):
            continue
        if any(len({next(i for i, b in enumerate(part) if a in b) for a in np.flatnonzero(problem.block == g)}) > 1
               for g in np.unique(problem.block)):
            continue
        if cons.councils_whole:
            councils = {c for d in problem.areas["council"] for c in d}
            if any(sum(1 for b in part if any(c in problem.areas["council"][a] for a in b)) > 1 for c in councils):
                continue
        out.append((brute_objective(brute_terms(problem, part), w), sorted(sorted(b) for b in part)))
    out.sort(key=lambda t: t[0])
    return out


def grid_problem(seed: int, rows: int = 2, cols: int = 4) -> Problem:
    """A rows x cols grid of blocks with random populations, starting boards and councils."""
    rng = np.random.default_rng(seed)
    n = rows * cols
    pop = rng.integers(50_000, 400_000, n).astype(np.int64)
    edges = []
    for r in range(rows):
        for c in range(cols):
            i = r * cols + c
            if c + 1 < cols:
                edges.append((i, i + 1))
            if r + 1 < rows:
                edges.append((i, i + cols))
    start_board = rng.integers(0, 4, n)
    council = rng.integers(0, 4, n)
    start = [{int(start_board[i]): int(pop[i])} for i in range(n)]
    areas = {"council": [{int(council[i]): int(pop[i])} for i in range(n)], "ca": [{} for _ in range(n)]}
    return Problem(pop=pop, edges=np.array(edges, np.int64), block=np.arange(n), region=np.zeros(n, np.int64),
                   start=start, areas=areas, out_touch={"council": {}, "ca": {}})


# ------------------------------------------------------------------ synthetic: exactness
@pytest.mark.parametrize("seed", [1, 2, 3, 4])
@pytest.mark.parametrize("objective", ["disruption=1", "disruption=1,balance=0.3,council_splits=20",
                                       "balance=1,councils_per_board=50"])
def test_top_k_equals_brute_force(seed, objective):
    problem = grid_problem(seed)
    cons = Constraints(floor=int(problem.pop.sum() // 5), region_nesting=False)
    w = Weights.parse(objective)
    brute = brute_force(problem, cons, 3, w)
    assert brute, "the synthetic instance should be feasible"
    top = min(5, len(brute))
    solved = solve_problem(problem, cons, Target(3, 3), w, top=top, time_limit=60, workers=2)
    assert solved.status == "optimal"
    got = [f.objective for f in solved.found]
    assert got == pytest.approx([b[0] for b in brute[:top]], abs=1e-9)   # optimum and top-K order
    seen = set()
    feasible = {json.dumps(p): o for o, p in brute}
    for f in solved.found:
        key = json.dumps(sorted(sorted(b) for b in f.partition))
        assert key in feasible and feasible[key] == pytest.approx(f.objective)   # a real feasible option
        assert key not in seen                                               # distinct up to renaming
        seen.add(key)
        assert f.bound == pytest.approx(f.objective) and f.gap == 0


def test_infeasible_synthetic_is_reported():
    problem = grid_problem(5)
    cons = Constraints(floor=int(problem.pop.sum() // 2) + 1, region_nesting=False)
    solved = solve_problem(problem, cons, Target(3, 3), Weights.parse("disruption=1"), time_limit=20, workers=2)
    assert solved.status == "infeasible" and not solved.found
    assert brute_force(problem, cons, 3, Weights.parse("disruption=1")) == []


def path_problem() -> Problem:
    """a-b-c-d-e-f in a line; a, b, e, f start on board 0 and c, d on board 1.

    Keeping everyone on their board needs board 0 in two pieces: a model that only asks
    every block for a neighbour on its own board accepts that (each of a, b, e, f has one),
    so it answers 0 people moved with a disconnected board.
    """
    pop = np.array([100, 120, 300, 310, 90, 80], np.int64)
    start_board = [0, 0, 1, 1, 0, 0]
    n = len(pop)
    return Problem(pop=pop, edges=np.array([(i, i + 1) for i in range(n - 1)], np.int64), block=np.arange(n),
                   region=np.zeros(n, np.int64), start=[{start_board[i]: int(pop[i])} for i in range(n)],
                   areas={"council": [{} for _ in range(n)], "ca": [{} for _ in range(n)]},
                   out_touch={"council": {}, "ca": {}})


def test_contiguity_where_a_naive_model_gives_a_disconnected_board():
    problem = path_problem()
    nb = problem.neighbours()
    w = Weights.parse("disruption=1")
    # the naive rule (every block has a neighbour on its board) admits the disconnected start plan
    naive = []
    for part in partitions(list(range(problem.n)), 2):
        if all(any(v in b for v in nb[a]) for b in part for a in b):
            naive.append((brute_objective(brute_terms(problem, part), w), part))
    naive.sort(key=lambda t: t[0])
    assert naive[0][0] == 0 and not all(connected(b, nb) for b in naive[0][1])
    # the real formulation returns the best connected plan
    cons = Constraints(region_nesting=False)
    solved = solve_problem(problem, cons, Target(2, 2), w, top=3, time_limit=20, workers=2)
    brute = brute_force(problem, cons, 2, w)
    assert [f.objective for f in solved.found] == pytest.approx([b[0] for b in brute[:3]])
    assert solved.found[0].objective > 0
    for f in solved.found:
        assert all(connected(b, nb) for b in f.partition)
    # without contiguity the solver finds the disconnected 0-move plan
    loose = solve_problem(problem, Constraints(region_nesting=False, contiguity=False), Target(2, 2), w,
                          time_limit=20, workers=2)
    assert loose.found[0].objective == 0
    assert not all(connected(b, nb) for b in loose.found[0].partition)


# ------------------------------------------------------------------ England pack


@pytest.fixture(scope="module")
def baseline(england):
    from icbmap.plan.model import Plan

    return Plan(england)


def _suggest(plan, **kw):
    from icbmap.suggest.solve import suggest

    kw.setdefault("workers", 2)
    kw.setdefault("time_limit", 60)
    return suggest(plan, Request(**kw))


def _two_board_scope(plan, places: int = 8) -> str:
    """Two neighbouring starting boards in one region holding about ``places`` places."""
    atlas = plan.atlas
    place = atlas.unit_level("place")
    region = atlas.unit_level("region")
    n_places = {b.id: len(np.unique(place[plan.assignment == b.id])) for b in plan.active_boards()}
    reg = {b.id: int(region[plan.assignment == b.id][0]) for b in plan.active_boards()}
    from icbmap.plan.colours import board_neighbours

    nb = board_neighbours(atlas, plan.assignment, plan.n_boards)
    best = None
    for b1, b2 in itertools.combinations(n_places, 2):
        if b2 in nb[b1] and reg[b1] == reg[b2]:
            score = abs(n_places[b1] + n_places[b2] - places)
            if best is None or score < best[0]:
                best = (score, b1, b2)
    return f"{plan.boards[best[1]].code},{plan.boards[best[2]].code}"


@pytest.mark.slow
def test_places_brute_force_on_real_boards(baseline):
    """Two real starting boards split into places, regrouped into 3 boards: the solver's top 4
    equal the brute-force enumeration, and the metrics engine agrees with every figure."""
    scope = _two_board_scope(baseline)
    w = Weights.parse("disruption=1,balance=0.5,council_splits=10")
    cons = Constraints()
    r = _suggest(baseline, blocks="places", target=Target(3, 3), scope=scope, constraints=cons, weights=w, top=4)
    assert 6 <= r.problem.n <= 12
    brute = brute_force(r.problem, cons, 3, w)
    assert r.status == "optimal"
    assert [o.found.objective for o in r.options] == pytest.approx([b[0] for b in brute[:len(r.options)]])
    assert len(r.options) == min(4, len(brute))
    for o in r.options:
        assert o.violations == []
        assert o.figures["objective"] == pytest.approx(o.found.objective)


@pytest.mark.slow
def test_whole_boards_england_is_optimal_and_checked(baseline):
    n = len(baseline.active_boards())
    target = max(2, round(n * 0.62))
    r = _suggest(baseline, blocks="boards", target=Target(target, target),
                 constraints=Constraints(floor=1_000_000), top=2)
    assert r.status == "optimal"
    for o in r.options:
        assert o.found.status == "optimal" and o.found.gap == 0
        assert o.figures["boards"] == target and o.figures["smallest"] >= 1_000_000
        assert o.violations == []
        assert o.figures["objective"] == pytest.approx(o.found.objective)
    assert r.options[0].found.objective <= r.options[1].found.objective


@pytest.mark.slow
@pytest.mark.parametrize("case", range(6))
def test_every_option_meets_every_rule(baseline, case):
    """Property: varied requests; every option passes the metrics-engine check of every hard
    constraint, locked boards are untouched, and the claimed objective is recomputed."""
    rng = np.random.default_rng(100 + case)
    atlas = baseline.atlas
    regions = atlas.layers["region"].table["name"].tolist()
    region = regions[int(rng.integers(len(regions)))]
    from icbmap.suggest.problem import resolve_scope

    ids, _ = resolve_scope(baseline, region)
    blocks = ["boards", "places", "councils", "districts"][case % 4]
    lock = baseline.boards[ids[int(rng.integers(len(ids)))]].code if case % 3 == 0 and len(ids) > 2 else None
    k = max(1, len(ids) - int(rng.integers(1, 3)))
    cons = Constraints(floor=int(rng.choice([0, 400_000, 700_000])),
                       councils_whole=bool(case % 2), cas_whole=bool(case == 4),
                       locked=(lock,) if lock else ())
    w = Weights.parse(["disruption=1", "disruption=1,balance=0.2,councils_per_board=10",
                       "disruption=1,council_splits=50,ca_splits=30,ca_coterminosity=20"][case % 3])
    r = _suggest(baseline, blocks=blocks, target=Target(max(1, k - 1), k), scope=region, constraints=cons,
                 weights=w, top=2, time_limit=40)
    assert r.options, r.message
    for o in r.options:
        assert o.violations == [], o.violations
        if lock:
            lid = baseline.board_by_code(lock).id
            assert np.array_equal(o.plan.assignment == lid, baseline.assignment == lid)
            assert o.plan.boards[lid].active
        if o.found.status == "optimal":
            assert o.figures["objective"] == pytest.approx(o.found.objective)
        else:
            assert o.figures["objective"] <= o.found.objective + 1e-9
        # units outside the scope never move
        outside = ~np.isin(baseline.assignment, r.problem.free_boards)
        assert np.array_equal(o.plan.assignment[outside], baseline.assignment[outside])


@pytest.mark.slow
def test_cancel_keeps_the_best_so_far(baseline):
    from icbmap.suggest.solve import suggest

    cancel = threading.Event()
    seen = []

    def progress(p):
        seen.append(p)
        if p.objective is not None:
            cancel.set()

    n = len(baseline.active_boards())
    req = Request(blocks="districts", target=Target(round(n * 0.62), round(n * 0.62)),
                  constraints=Constraints(floor=1_000_000), time_limit=300)
    r = suggest(baseline, req, progress=progress, cancel=cancel)
    assert r.status == "cancelled"
    assert len(r.options) == 1 and r.elapsed < 120
    o = r.options[0]
    assert o.violations == []
    assert o.figures["objective"] <= o.found.objective + 1e-9
    assert any(p.objective is not None for p in seen)


@pytest.mark.slow
def test_infeasible_is_explained(baseline):
    """Two boards for a region with a floor above half its people: the floor is to blame,
    and the message gives the best smallest board without it."""
    from icbmap.suggest.problem import resolve_scope

    atlas = baseline.atlas
    reg = atlas.layers["region"].table
    name = str(reg["name"].iat[int(np.argmin(reg["population"].to_numpy()))])
    ids, _ = resolve_scope(baseline, name)
    pop = sum(baseline.board_population(i) for i in ids)
    r = _suggest(baseline, blocks="boards", target=Target(2, 2), scope=name,
                 constraints=Constraints(floor=pop // 2 + 1))
    assert r.status == "infeasible" and not r.options
    assert "population floor" in r.message and "smallest board of" in r.message
    assert any("dropping the contiguity rule alone still leaves no option" in line for line in r.explanation)


# ------------------------------------------------------------------ CLI
@pytest.mark.slow
def test_cli_writes_proposals_that_metrics_agree_with(england, tmp_path, capsys):
    from icbmap.cli import main

    n = len(england.layers["board"])
    target = max(2, round(n * 0.62))
    out = tmp_path / "opts"
    rc = main(["--pack", "england-offline", "suggest", "--blocks", "boards", "--boards", str(target),
               "--floor", "1M", "--top", "2", "--time-limit", "60", "--workers", "2", "-o", str(out),
               "--format", "json"])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    summary = json.loads(captured.out)
    assert summary == json.loads((out / "summary.json").read_text())
    assert summary["status"] == "optimal" and len(summary["options"]) == 2
    for opt in summary["options"]:
        assert main(["--pack", "england-offline", "metrics", str(out / opt["file"]), "--format", "json"]) == 0
        rep = json.loads(capsys.readouterr().out)
        boards = {b["code"]: b for b in rep["boards"]}
        for b in opt["figures"]["board_list"]:
            assert boards[b["code"]]["population"] == b["population"]
            assert boards[b["code"]]["contiguous"] and len(boards[b["code"]]["regions"]) == 1
        pops = [b["population"] for b in rep["boards"] if b["population"] > 0]
        assert len(pops) == opt["figures"]["boards"] == target
        assert min(pops) == opt["figures"]["smallest"] and max(pops) == opt["figures"]["largest"]
        split = sum(1 for a in rep["areas"]["council"] if a["n_boards"] > 1)
        assert split == opt["figures"]["councils_split"]
        ca_split = sum(1 for a in rep["areas"]["ca"] if a["n_boards"] > 1)
        assert ca_split == opt["figures"]["cas_split"]
        ca_equal = sum(1 for a in rep["areas"]["ca"] if a["equals_board"] is not None)
        assert ca_equal == opt["figures"]["cas_equal_to_a_board"]
        assert sum(a["n_boards"] - 1 for a in rep["areas"]["council"]) == opt["figures"]["terms"]["council_splits"]
        assert rep["summary"]["non_contiguous"] == 0 and rep["summary"]["multi_region"] == 0


@pytest.mark.slow
def test_cli_table_output(england, tmp_path, capsys):
    from icbmap.cli import main

    rc = main(["--pack", "england-offline", "suggest", "--blocks", "places", "--boards", "3",
               "--scope", "East of England", "--top", "3", "--workers", "2", "-o", str(tmp_path / "o")])
    out = capsys.readouterr().out
    assert rc == 0
    assert "Option  Status" in out and "optimal" in out
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == [
        "option-1.icbmap.json", "option-2.icbmap.json", "option-3.icbmap.json", "summary.json"]
    # a second run with fewer options leaves no stale option files behind
    rc = main(["--pack", "england-offline", "suggest", "--blocks", "places", "--boards", "3",
               "--scope", "East of England", "--top", "1", "--workers", "2", "-o", str(tmp_path / "o")])
    capsys.readouterr()
    assert rc == 0
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["option-1.icbmap.json", "summary.json"]


BAD = [
    (["--blocks", "boards", "--boards", "999"], "at most"),
    (["--blocks", "boards", "--boards", "30-20"], "lower bound is above the upper bound"),
    (["--blocks", "boards", "--boards", "26", "--floor", "3M", "--ceiling", "1M"], "is above the ceiling"),
    (["--blocks", "boards", "--boards", "2", "--scope", "Atlantis"], "neither an NHS region"),
    (["--blocks", "boards", "--boards", "26", "--time-limit", "0"], "more than 0 seconds"),
    (["--blocks", "boards", "--boards", "x"], "expected a number of boards"),
    (["--blocks", "boards", "--boards", "26", "--objective", "speed=1"], "unknown term"),
    (["--blocks", "boards", "--boards", "26", "--lock", "NOPE"], "no board with this code"),
]


@pytest.mark.slow
@pytest.mark.parametrize("argv,message", BAD, ids=[m for _a, m in BAD])
def test_bad_input_clear_message_changes_nothing(england, tmp_path, capsys, argv, message):
    from icbmap.cli import main

    out = tmp_path / "never"
    rc = main(["--pack", "england-offline", "suggest", *argv, "--workers", "2", "-o", str(out)])
    err = capsys.readouterr().err
    assert rc == 1
    assert message in err and "Traceback" not in err
    error = [line for line in err.splitlines() if not line.startswith("[")]
    assert len(error) == 1 and error[0].startswith("icbmap: error:")
    assert not out.exists()


@pytest.mark.slow
def test_too_little_time_says_so(england, tmp_path, capsys):
    from icbmap.cli import main

    out = tmp_path / "never"
    rc = main(["--pack", "england-offline", "suggest", "--blocks", "districts", "--boards", "20",
               "--floor", "1M", "--time-limit", "0.01", "--workers", "2", "-o", str(out)])
    err = capsys.readouterr().err
    assert rc == 1 and not out.exists()
    assert "no option found within the time limit" in err and "not proven infeasible" in err


@pytest.mark.slow
def test_locked_board_that_makes_it_infeasible(england, baseline, tmp_path, capsys):
    """Locking the smallest board under a floor above its population: the explanation names
    the locked boards, and nothing is written."""
    from icbmap.cli import main

    small = min(baseline.active_boards(), key=lambda b: baseline.board_population(b.id))
    pop = baseline.board_population(small.id)
    region = baseline.atlas.unit_level("region")[baseline.assignment == small.id][0]
    rname = str(baseline.atlas.layers["region"].table["name"].iat[int(region)])
    from icbmap.suggest.problem import resolve_scope

    ids, _ = resolve_scope(baseline, rname)
    out = tmp_path / "never"
    rc = main(["--pack", "england-offline", "suggest", "--blocks", "boards", "--boards", f"1-{len(ids)}",
               "--scope", rname, "--floor", str(pop + 1), "--lock", small.code, "--workers", "2",
               "-o", str(out)])
    err = capsys.readouterr().err
    assert rc == 1 and not out.exists()
    assert "locked boards" in err and "dropping the locked boards rule alone makes it feasible" in err


def test_request_parsing():
    assert Target.parse("26") == Target(26, 26) and Target.parse("20-30") == Target(20, 30)
    w = Weights.parse("disruption=1,balance=0.2")
    assert w.coef("disruption") == 100 and w.coef("balance") == 20 and w.coef("council_splits") == 0
    with pytest.raises(SuggestError, match="every weight is 0"):
        Weights.parse("disruption=0")
    with pytest.raises(SuggestError, match="0 or more"):
        Weights.parse("balance=-1")
    with pytest.raises(SuggestError, match="unknown constraint"):
        Constraints.from_dict({"flor": 3})
    c = Constraints.from_dict({"floor": 1e6, "councils_whole": True, "locked": ["E54000011"]})
    assert c.floor == 1_000_000 and c.councils_whole and c.locked == ("E54000011",)


@pytest.mark.slow
def test_rules_file(england, tmp_path, capsys):
    from icbmap.cli import main

    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{floor: 1}")
    unknown = tmp_path / "unknown.json"
    unknown.write_text(json.dumps({"flor": 1000000}))
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"constraints": {"floor": 1000000, "councils_whole": False}}))
    base = ["--pack", "england-offline", "suggest", "--blocks", "boards", "--workers", "2"]
    for path, message in ((bad_json, "not a JSON rules file"), (unknown, "unknown constraint flor")):
        out = tmp_path / "never"
        assert main([*base, "--boards", "26", "--rules", str(path), "-o", str(out)]) == 1
        err = capsys.readouterr().err
        assert str(path) in err and message in err and not out.exists()
    out = tmp_path / "ok"
    n = len(england.layers["board"])
    assert main([*base, "--boards", str(min(26, n - 1)), "--rules", str(good), "--format", "json", "-o", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["request"]["constraints"]["floor"] == 1_000_000
    assert summary["options"][0]["figures"]["smallest"] >= 1_000_000


@pytest.mark.slow
def test_rules_preset_from_the_principles(england, tmp_path, capsys):
    """``--rules`` takes the principles' presets: the NHS England 2025 guidance gives the floor and
    councils whole (its devolution rule is soft); every option is checked by the principles
    checker, and only areas crossing an NHS region line (named in the notes) can fail there."""
    from icbmap.cli import main
    from icbmap.principles import load_rules

    rs = load_rules("NHS England 2025 guidance")
    floor = next(r.params["min"] for r in rs.rules if r.kind == "population")
    out = tmp_path / "nhs"
    n = len(england.layers["board"])
    rc = main(["--pack", "england-offline", "suggest", "--blocks", "boards", "--boards", f"1-{min(26, n - 1)}",
               "--rules", "NHS England 2025 guidance", "--workers", "2", "--format", "json", "-o", str(out)])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    s = json.loads(captured.out)
    cons = s["request"]["constraints"]
    # the devolution rule is soft nesting (issue 20): weighed, never a whole-areas constraint
    assert cons["floor"] == floor and cons["councils_whole"] and cons["whole_areas"] == []
    opt = s["options"][0]
    assert opt["status"] == "optimal" and opt["violations"] == []
    rules = opt["figures"]["principles"]["rules"]
    assert len(rules) == len(rs.rules)
    assert next(r for r in rules if r["kind"] == "population")["passed"]
    notes = " ".join(s["notes"])
    # the same verdicts as icbmap check of the written proposal
    main(["--pack", "england-offline", "check", str(out / opt["file"]), "--rules", "NHS England 2025 guidance",
          "--format", "json"])
    check = json.loads(capsys.readouterr().out)
    by_id = {r["id"]: r for r in check["results"]}
    for r in rules:
        assert by_id[r["id"]]["passed"] == r["passed"] and by_id[r["id"]]["failing"] == r["failing"]
    assert ("cross an NHS region line" in notes) or all(r["passed"] for r in rules if r["hard"])


@pytest.mark.slow
def test_rules_preset_infeasible_target_is_explained(england, tmp_path, capsys):
    from icbmap.cli import main

    n = len(england.layers["board"])
    out = tmp_path / "never"
    rc = main(["--pack", "england-offline", "suggest", "--blocks", "boards", "--boards", str(n - 1),
               "--rules", "NHS England 2025 guidance", "--floor", "3M", "--workers", "2", "-o", str(out)])
    err = capsys.readouterr().err
    assert rc == 1 and not out.exists()
    assert "population floor" in err and "relaxing one rule at a time" in err
