"""Design principles: rules, rule files, the live checker, reference geographies, trusts.

Expected figures are computed here independently, straight from the LSOA table
(``atlas.units``: population, district, council and board of every LSOA) and from the
bundled CSVs, never from the checker or the metrics engine.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from icbmap.atlas.areas_store import BUNDLED
from icbmap.metrics import Metrics, compute_values
from icbmap.metrics.values import DEFAULT_TOLERANCE
from icbmap.plan import Plan
from icbmap.plan.commands import History, MoveUnits
from icbmap.principles import Checker, RuleSet, load_rules, make_rule, preset_names, read_rules_file
from icbmap.principles.check import check, rule_counts

ROOT = Path(__file__).resolve().parent.parent
NHSE = "NHS England 2025 guidance"


def _frame(atlas, assignment=None):
    u = atlas.units
    return pd.DataFrame({
        "pop": u["population"].to_numpy(np.int64),
        "district": atlas.layers["district"].table["code"].to_numpy()[u["district"].to_numpy()],
        "council": atlas.layers["council"].table["name"].to_numpy()[u["council"].to_numpy()],
        "board": u["board"].to_numpy() if assignment is None else assignment,
    })


def _split_areas(df, col, tol=DEFAULT_TOLERANCE):
    """Areas where more than one board holds at least ``tol`` of the area's people."""
    area_pop = df.groupby(col)["pop"].sum()
    pieces = df.groupby([col, "board"])["pop"].sum().reset_index()
    pieces["real"] = ~(pieces["pop"] < tol * pieces[col].map(area_pop))
    n_real = pieces[pieces["real"]].groupby(col).size()
    return set(n_real[n_real > 1].index)


def _sa_of_district():
    t = pd.read_csv(ROOT / "shapefiles" / "reference_areas_2026.csv", dtype=str, keep_default_na=False)
    t = t[t["geography"] == "strategic_authorities_2026"]
    return {d: name for name, codes in zip(t["area_name"], t["district_codes"]) for d in codes.split(";")}


def _nest_failures(df, col, tol=DEFAULT_TOLERANCE):
    """Areas shared by more than one board (above the sliver) where a sharing board reaches outside:
    more than ``tol`` of the board's people live outside the area (written from the LSOA table)."""
    board_pop = df.groupby("board")["pop"].sum()
    area = df[df[col].notna()]
    area_pop = area.groupby(col)["pop"].sum()
    out = set()
    for name, g in area.groupby(col):
        pieces = g.groupby("board")["pop"].sum()
        real = pieces[~(pieces < tol * area_pop[name])]
        if len(real) < 2:
            continue
        if any(not (board_pop[b] - p) < tol * board_pop[b] for b, p in real.items()):
            out.add(name)
    return out


@pytest.fixture(scope="module")
def base(england):
    plan = Plan(england)
    m = Metrics(plan)
    return plan, m


# ------------------------------------------------------------------ the "done when" lists
def test_nhse_preset_lists_match_lsoa_tables(england, base):
    plan, m = base
    c = check(m, load_rules(NHSE))
    df = _frame(england)
    names = england.layers["board"].table["name"].to_numpy()
    small = df.groupby("board")["pop"].sum()
    expect_small = {names[b] for b, p in small.items() if p < 1_000_000}
    fails = c.result("population").fail
    assert {plan.boards[b].name for b in np.flatnonzero(fails)} == expect_small
    assert c.result("population").total == len(england.layers["board"])

    expect_councils = _split_areas(df, "council")
    got = {t.split(":")[0] for t in c.area_failures("councils")}
    assert got == expect_councils and c.result("councils").failing == len(expect_councils)

    sa = _sa_of_district()
    df["sa"] = df["district"].map(sa)
    expect_sa = _nest_failures(df, "sa")
    got_sa = {t.split(":")[0] for t in c.area_failures("strategic-authorities")}
    assert got_sa == expect_sa
    assert c.result("strategic-authorities").failing == len(expect_sa)
    assert "Cumbria Combined Authority" in expect_sa          # on the April 2026 baseline
    assert "West Midlands" in expect_sa
    assert "Greater London Authority" not in expect_sa        # four London boards nest inside it
    assert "Greater London Authority" in _split_areas(df[df["sa"].notna()], "sa")   # the strict reading fails it
    assert ("West Midlands: Coventry and Warwickshire holds 12% of it and reaches outside "
            "(63% of its people live outside)") in c.area_failures("strategic-authorities")
    assert not c.all_pass
    # soft: the devolution rule fails as a warning; the hard floor fails as a failure
    assert not c.result("strategic-authorities").rule.hard and c.result("strategic-authorities").warning
    assert c.result("population").rule.hard and not c.result("population").warning
    assert not c.hard_pass and [r.rule.id for r in c.warnings] == ["strategic-authorities"]


def test_cumbria_made_whole_by_moves(england):
    plan = Plan(england)
    m = Metrics(plan)
    h = History(plan)
    c = Checker(m, load_rules(NHSE))
    flips = []
    c.add_listener(lambda chk, f: flips.append(f))
    df = _frame(england)
    nenc = plan.board_by_code(next(b.code for b in plan.boards if "North East and North Cumbria" in b.name)).id
    cumberland = df["council"] == "Cumberland"
    sa = df["district"].map(_sa_of_district())
    cumbria = (sa == "Cumbria Combined Authority").to_numpy()
    assert any(t.startswith("Cumbria Combined Authority") for t in c.area_failures("strategic-authorities"))
    move = np.flatnonzero(cumberland.to_numpy() & (plan.assignment != nenc))
    assert len(move) > 0
    h.push(MoveUnits(move, nenc))
    assert not any(t.startswith("Cumberland:") for t in c.area_failures("councils"))
    assert flips and any(rid == "councils" for rid, _ in flips[-1])
    rest = np.flatnonzero(cumbria & (plan.assignment != nenc))
    h.push(MoveUnits(rest, nenc))
    assert not any(t.startswith("Cumbria Combined Authority") for t in c.area_failures("strategic-authorities"))
    # the live state equals a fresh check of the same plan
    fresh = check(Metrics(plan, observe=False), load_rules(NHSE))
    assert [r.to_dict() for r in c.results()] == [r.to_dict() for r in fresh.results()]
    h.undo()
    h.undo()
    assert any(t.startswith("Cumbria Combined Authority") for t in c.area_failures("strategic-authorities"))


def test_live_checker_matches_fresh_after_random_edits(england):
    rules = RuleSet("all kinds", [make_rule(d, i) for i, d in enumerate([
        {"kind": "population", "min": 1_500_000, "max": 3_000_000},
        {"kind": "area_within_one_board", "geography": "district"},
        {"kind": "area_within_one_board", "geography": "council", "tolerance": 0.05},
        {"kind": "board_of_whole_areas", "geography": "strategic_authorities_2026", "allow_outside": False},
        {"kind": "nest_or_contain"}, {"kind": "nest_or_contain", "geography": "council", "hard": False},
        {"kind": "one_region"}, {"kind": "contiguous"},
        {"kind": "max_areas", "geography": "council", "max": 3},
        {"kind": "min_acute_trusts", "min": 3, "include_specialist": True},
    ])])
    plan = Plan(england)
    m = Metrics(plan)
    h = History(plan)
    c = Checker(m, rules)
    rng = np.random.default_rng(12)
    adj = england.adjacency
    for _ in range(25):
        u = int(rng.integers(england.n_units))
        nb = adj.neighbours(u)
        units = np.unique(np.concatenate([[u], nb[: int(rng.integers(0, len(nb) + 1))]]))
        h.push(MoveUnits(units, int(rng.integers(plan.n_boards))))
        if rng.random() < 0.2:
            h.undo()
    fresh = check(Metrics(plan, observe=False), rules)
    for a, b in zip(c.results(), fresh.results()):
        assert a.to_dict() == b.to_dict()
        assert np.array_equal(a.fail, b.fail)
    for b in plan.active_ids():
        for r in rules.rules:
            assert c.board_reasons(r.id, int(b)) == fresh.board_reasons(r.id, int(b))


def test_rule_counts_rows(base):
    plan, m = base
    rows = rule_counts(m, load_rules("East of England regional principles"))
    assert [r["id"] for r in rows] == ["councils", "acute-trusts", "population"]
    assert all({"failing", "total", "passed", "label", "params"} <= set(r) for r in rows)


# ------------------------------------------------------------------ acute trusts
def test_trusts_table_and_counts(england, base):
    raw = pd.read_csv(ROOT.parent / "shared" / "data" / "raw" / "trusts" / "etr_ods_2026-07.csv", header=None,
                      dtype=str, keep_default_na=False) if (ROOT.parent / "shared" / "data" / "raw" / "trusts").exists() \
        else pytest.skip("shared trusts data absent")
    ae = pd.read_csv(ROOT.parent / "shared" / "data" / "raw" / "trusts" / "Monthly-AE-June-2025.csv", dtype=str)
    open_en = raw[((raw[11] == "") | (raw[11] > "20261127")) & (raw[2] != "")]
    type1 = set(ae.loc[pd.to_numeric(ae["A&E attendances Type 1"]) > 0, "Org Code"])
    acute = set(open_en[0]) & type1
    t = england.trusts
    assert len(t) == len(open_en) == 199
    assert set(t.loc[t["kind"] == "acute", "code"]) == acute and len(acute) == 120
    assert (t["unit"] >= 0).all()
    plan, m = base
    c = check(m, load_rules("East of England regional principles"))
    counts = c.trust_counts()
    # independent: which board holds each acute HQ's grid reference, by point in polygon
    from shapely import STRtree, points

    a = t[t["kind"] == "acute"]
    tree = STRtree(england.units.geometry.to_numpy())
    pi, gi = tree.query(points(a["x"].to_numpy(float), a["y"].to_numpy(float)), predicate="intersects")
    first = np.unique(pi, return_index=True)[1]
    boards = england.unit_level("board")[gi[first]]
    assert np.array_equal(np.bincount(boards, minlength=plan.n_boards), counts)
    assert counts.sum() == 120


# ------------------------------------------------------------------ reference geographies
def _council_csv(england, path):
    lad = england.layers["district"].table
    council = england.layers["council"].table
    # district -> its council: the council of any LSOA in it
    u = england.units
    first = u.groupby("district")["council"].first()
    rows = pd.DataFrame({"district": lad["code"].to_numpy()[first.index],
                         "area": council["name"].to_numpy()[first.to_numpy()]})
    rows.to_csv(path, index=False)
    return path


def _same_as_council(england, ref_key):
    plan = Plan(england)
    h = History(plan)
    m = Metrics(plan)
    h.push(MoveUnits(np.arange(200, 900), 5))
    v = compute_values(plan)
    assert not m.values().diff(v)                      # incremental == reference, refs included
    rep = m.report()
    council = {a.name: a for a in rep.areas["council"]}
    refrows = {a.name: a for a in rep.areas[ref_key]}
    assert set(refrows) == set(council)
    for name, a in council.items():
        b = refrows[name]
        for f in ("population", "n_boards", "n_real_boards", "split", "real_split", "sliver_only", "main_share",
                  "split_score", "unassigned_population"):
            assert getattr(a, f) == getattr(b, f), (name, f)
    s = rep.summary.levels
    for f in ("areas", "whole_in_one", "split", "split_pieces", "real_split", "people_in_split",
              "area_splitting", "board_splitting"):
        assert getattr(s["council"], f) == getattr(s[ref_key], f), f
    for b in rep.boards:
        assert b.coterminosity["council"] == b.references[ref_key]["coterminosity"]
        assert b.split_score["council"] == b.references[ref_key]["split_score"]
        assert len(b.councils_whole) == len(b.references[ref_key]["whole"])
        assert len(b.councils_part) == len(b.references[ref_key]["part"])
    return rep


def test_district_csv_reference_equals_council_level(england, tmp_path):
    from icbmap.atlas.references import read_area_csv

    path = _council_csv(england, tmp_path / "councils.csv")
    ref = read_area_csv(england, "my_councils", path)
    assert ref.level == "district"
    england.references[ref.key] = ref
    try:
        _same_as_council(england, ref.key)
    finally:
        del england.references[ref.key]


def test_polygon_reference_equals_council_level(england, tmp_path):
    import geopandas as gpd

    from icbmap.atlas.references import from_polygons

    council = england.layers["council"].table
    path = tmp_path / "councils.gpkg"
    gpd.GeoDataFrame({"name": council["name"]}, geometry=council.geometry, crs=council.crs).to_crs(
        "EPSG:4326").to_file(path)
    ref = from_polygons(england, "council_polys", path)
    assert ref.report["units_outside"] == 0
    england.references[ref.key] = ref
    try:
        _same_as_council(england, ref.key)
    finally:
        del england.references[ref.key]


def test_bundled_references(england):
    for name, (label, _) in BUNDLED.items():
        ref = england.references["ref:" + name]
        assert ref.label == label
    sa = england.references["ref:strategic_authorities_2026"].layer.table
    cumbria = sa[sa["name"] == "Cumbria Combined Authority"].iloc[0]
    assert cumbria["code"].startswith("icbmap:") and cumbria["code_kind"] == "local (not ONS)"
    assert "established" in cumbria["label"] and "2026-02-24" in cumbria["label"]
    lgr = england.references["ref:council_reorganisation"]
    names = set(lgr.layer.table["name"])
    assert {"East Surrey Council", "West Surrey Council"} <= names
    assert "Mid Hampshire (working name)" not in names                 # made of parts of districts
    assert "Mid Hampshire" in lgr.layer.provenance.note
    # populations: sums of the member districts' LSOAs, computed from the CSV
    df = _frame(england)
    t = pd.read_csv(ROOT / "shapefiles" / "reference_areas_2026.csv", dtype=str)
    for _, r in t[t["geography"] == "council_reorganisation"].iterrows():
        want = int(df.loc[df["district"].isin(r["district_codes"].split(";")), "pop"].sum())
        got = int(lgr.layer.table.loc[lgr.layer.table["name"] == r["area_name"], "population"].iloc[0])
        assert got == want


# ------------------------------------------------------------------ rule files
def test_presets_and_round_trip(tmp_path):
    assert set(preset_names()) == {NHSE, "Ministerial statement 2025 (strategic authorities)",
                                   "East of England regional principles"}
    for name in preset_names():
        rs = load_rules(name)
        assert rs.source and rs.url.startswith("https://")
        for suffix in (".toml", ".json"):
            p = tmp_path / f"r{suffix}"
            from icbmap.principles import write_rules

            write_rules(p, rs)
            assert read_rules_file(p).to_dict() == rs.to_dict()


def test_proposal_keeps_rules_and_reports_missing_reference(england, tmp_path):
    from icbmap.plan.proposal import Proposal, read_proposal, write_proposal

    prop = Proposal.new(Plan(england), title="t")
    prop.rules = load_rules("East of England regional principles")
    prop.references = [{"name": "gone_layer", "label": "Gone", "source": "x.csv"},
                       {"name": "strategic_authorities_2026", "label": "SA", "source": "bundled"}]
    path = write_proposal(tmp_path / "p.icbmap.json", prop)
    back = read_proposal(path, england)
    assert back.rules.to_dict() == prop.rules.to_dict()
    assert back.missing_references == ["gone_layer"]


# ------------------------------------------------------------------ CLI and bad input
def _cli(*args, home=None):
    import os

    env = dict(os.environ)
    if home:
        env["ICBMAP_HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "icbmap", *args], capture_output=True, text=True, env=env,
                          timeout=600)


def test_check_cli_exit_codes(tmp_path):
    r = _cli("check", "--rules", NHSE, "--format", "json")
    assert r.returncode == 3, r.stderr
    d = json.loads(r.stdout)
    assert not d["all_pass"] and {x["id"] for x in d["results"]} == {"population", "councils", "strategic-authorities"}
    # the CLI's lists against the LSOA table: boards under 1m, councils split
    from icbmap.atlas.store import load_atlas

    atlas = load_atlas()
    df = _frame(atlas)
    names = atlas.layers["board"].table["name"].to_numpy()
    small = {names[b] for b, p in df.groupby("board")["pop"].sum().items() if p < 1_000_000}
    res = {x["id"]: x for x in d["results"]}
    assert {f.split(":")[0] for f in res["population"]["failures"]} == small
    assert {f.split(":")[0] for f in res["councils"]["failures"]} == _split_areas(df, "council")
    easy = tmp_path / "easy.toml"
    easy.write_text('name = "easy"\n[[rule]]\nkind = "population"\nmin = 1\n')
    r = _cli("check", "--rules", str(easy))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "All rules pass." in r.stdout
    # only a soft rule fails: a warning, exit 0, and the output says so
    soft = tmp_path / "soft.toml"
    soft.write_text('name = "soft"\n[[rule]]\nkind = "population"\nmin = 1\n'
                    '[[rule]]\nid = "sa"\nkind = "nest_or_contain"\nhard = false\n')
    r = _cli("check", "--rules", str(soft))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "[WARN]" in r.stdout and "(soft)" in r.stdout and "[FAIL]" not in r.stdout
    assert "1 soft rule fails: warning, not failure. Every hard rule passes (exit 0)." in r.stdout
    assert "West Midlands: Coventry and Warwickshire holds 12% of it" in r.stdout
    assert "Greater London Authority" not in r.stdout
    # the same rule hard: exit 3
    soft.write_text(soft.read_text().replace("hard = false", "hard = true"))
    r = _cli("check", "--rules", str(soft), "--format", "json")
    assert r.returncode == 3
    d = json.loads(r.stdout)
    assert not d["hard_pass"] and d["results"][1]["hard"] is True


def test_check_nhse_preset_marks_devolution_soft():
    r = _cli("check", "--rules", NHSE)
    lines = r.stdout.splitlines()
    sa = next(x for x in lines if "due regard to devolution" in x and x.startswith("["))
    assert sa.startswith("[WARN]") and "(soft)" in sa
    assert next(x for x in lines if x.startswith("[FAIL] At least 1 million people (hard)"))
    failing = [x for x in lines if x.startswith("    - ") and "reaches outside" in x]
    assert {x[6:].split(":")[0] for x in failing} == {"West Midlands", "Greater Lincolnshire", "West of England",
                                                       "York and North Yorkshire", "Cumbria Combined Authority"}
    assert r.returncode == 3        # the hard floor fails on the April 2026 boards
    assert "2 hard rules fail (exit 3); 1 soft rule fails" in r.stdout


BAD_RULES = {
    "unknown.toml": ('name = "x"\n[[rule]]\nkind = "no_such_rule"\n', "unknown rule 'no_such_rule'"),
    "badparam.toml": ('name = "x"\n[[rule]]\nkind = "population"\nmin = "lots"\n', "parameter 'min'"),
    "extra.json": (json.dumps({"name": "x", "rule": [{"kind": "contiguous", "colour": 1}]}), "unknown parameter 'colour'"),
    "badweight.toml": ('name = "x"\n[[rule]]\nkind = "contiguous"\nhard = false\nweight = nan\n',
                       "'rule[0].weight' is not a finite number"),
    "zeroweight.toml": ('name = "x"\n[[rule]]\nkind = "contiguous"\nweight = 0\n',
                        "'weight' should be a finite number above 0"),
    "badhard.json": (json.dumps({"name": "x", "rule": [{"kind": "contiguous", "hard": "yes"}]}),
                     "'hard' should be true or false"),
    "missinggeo.toml": ('name = "x"\n[[rule]]\nkind = "area_within_one_board"\ngeography = "atlantis"\n',
                        "'atlantis' is not loaded"),
}


@pytest.mark.parametrize("fname", sorted(BAD_RULES))
def test_bad_rule_files(tmp_path, fname):
    text, needle = BAD_RULES[fname]
    p = tmp_path / fname
    p.write_text(text)
    r = _cli("check", "--rules", str(p))
    assert r.returncode == 1
    msg = r.stderr.strip().splitlines()[-1]
    assert str(p) in msg and needle in msg and "Traceback" not in r.stderr


def _bad_area_inputs(england, tmp):
    import geopandas as gpd

    council = england.layers["council"].table.iloc[:3]
    out = {}
    p = tmp / "unknown.csv"
    p.write_text("district,area\nE07000207,A\nE99999999,B\nE99999998,B\n")
    out["unknown"] = (p, "2 unknown district codes", ["E99999998", "E99999999"])
    p = tmp / "overlap.csv"
    p.write_text("district,area\nE07000207,A\nE07000207,B\nE07000208,B\n")
    out["overlap"] = (p, "overlapping areas", ["E07000207"])
    p = tmp / "wrongcrs.geojson"   # British National Grid metres labelled as longitude/latitude
    g = gpd.GeoDataFrame({"name": council["name"].to_numpy()}, geometry=list(council.geometry.to_numpy()),
                         crs="EPSG:4326")
    g.to_file(p)
    out["wrongcrs"] = (p, "wrong CRS", [])
    p = tmp / "abroad.gpkg"
    g = gpd.GeoDataFrame({"name": council["name"]}, geometry=council.geometry.translate(2_000_000, 0),
                         crs=council.crs)
    g.to_file(p)
    out["abroad"] = (p, "outside England", [])
    return out


@pytest.mark.parametrize("case", ["unknown", "overlap", "wrongcrs", "abroad"])
def test_bad_reference_inputs(england, tmp_path, case):
    path, needle, codes = _bad_area_inputs(england, tmp_path)[case]
    home = tmp_path / "home"
    r = _cli("data", "areas", "add", "mine", str(path), home=home)
    assert r.returncode == 1
    msg = r.stderr.strip().splitlines()[-1]
    assert str(path) in msg and needle in msg, msg
    for c in codes:
        assert c in msg
    assert not (home / "data" / "areas" / "mine.json").exists()
    r = _cli("data", "areas", "list", home=home)
    assert "mine" not in r.stdout


def test_areas_add_list_remove(england, tmp_path):
    home = tmp_path / "home"
    path = _council_csv(england, tmp_path / "c.csv")
    r = _cli("data", "areas", "add", "mine", str(path), home=home)
    assert r.returncode == 0, r.stderr
    assert "153 areas" in r.stdout or f"{len(england.layers['council'])} areas" in r.stdout
    r = _cli("data", "areas", "list", home=home)
    assert "mine" in r.stdout and "strategic_authorities_2026" in r.stdout
    r = _cli("check", "--rules", str(_rule_on(tmp_path, "mine")), "--format", "json", home=home)
    assert r.returncode in (0, 3), r.stderr
    r = _cli("data", "areas", "remove", "mine", home=home)
    assert r.returncode == 0
    r = _cli("check", "--rules", str(_rule_on(tmp_path, "mine")), home=home)
    assert r.returncode == 1 and "'mine' is not loaded" in r.stderr


def _rule_on(tmp, geo):
    p = tmp / "on.toml"
    p.write_text(f'name = "on"\n[[rule]]\nkind = "area_within_one_board"\ngeography = "{geo}"\n')
    return p


def test_trusts_refresh_and_no_postcode_column(tmp_path):
    from conftest import shared_file

    etr = shared_file("trusts", "etr_ods_2026-07.csv")
    home = tmp_path / "home"
    bad = tmp_path / "trusts.csv"
    bad.write_text("code,name,address\nRXX,SOME TRUST,1 HIGH STREET\n")
    r = _cli("data", "trusts", str(bad), home=home)
    assert r.returncode == 1
    msg = r.stderr.strip().splitlines()[-1]
    assert str(bad) in msg and "no postcode column" in msg
    assert not (home / "data" / "trusts" / "trusts.csv").exists()
    r = _cli("data", "trusts", str(etr), home=home)
    assert r.returncode == 0, r.stderr
    assert "acute 120" in r.stdout


def test_briefing_has_a_principles_page(england):
    from icbmap.export.briefing import briefing_figures

    plan = Plan(england)
    rules = load_rules("East of England regional principles")
    figs = briefing_figures(plan, rules=rules, date_text="27 November 2026")
    assert len(figs) >= 2      # the reasons in full flow onto further pages (issue 22)
    texts = [t.get_text() for f in figs[1:] for ax in f.axes for t in ax.texts] + \
        [t.get_text() for f in figs[1:] for t in f.texts]
    assert any("Design principles: East of England regional principles" in t for t in texts)
    assert any("Each ICB includes more than one acute trust" in t for t in texts)
    c = check(Metrics(plan, observe=False), rules)
    r = c.result("acute-trusts")
    assert any(f"{r.failing} of {r.total} boards fail" in t for t in texts)


def test_check_compare_adds_a_second_count():
    r = _cli("check", "--rules", NHSE, "--compare", "baseline")
    assert r.returncode == 3
    assert "(baseline " in r.stdout
