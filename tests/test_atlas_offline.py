"""The offline England pack (2021 LSOAs, Census 2021, April 2026 boards by default): counts,
population, repair, adjacency and provenance."""

import numpy as np
import pytest
import shapely

from icbmap.atlas.model import LEVELS

pytestmark = pytest.mark.slow

ENGLAND = 56_490_056


def test_counts_and_population(england):
    counts = {r["layer"]: r["count"] for r in england.summary()}
    assert counts == {"unit": 33_755, "district": 296, "council": 153, "ca": 16,
                      "place": 106, "board": 36, "region": 7}
    assert england.total_population == ENGLAND
    for lvl in ("district", "council", "place", "board", "region"):
        assert england.layers[lvl].population.sum() == ENGLAND
    assert "E61000001" in set(england.layers["ca"].codes)  # the GLA counts as one


def test_board_population_range(england):
    """Board totals are sums of the Census 2021 LSOA counts of the board's LSOAs."""
    boards = england.layers["board"].table.sort_values("population")
    smallest, largest = boards.iloc[0], boards.iloc[-1]
    assert "Shropshire, Telford and Wrekin" in smallest["name"]
    assert smallest["population"] == 509_143
    assert "West and North London" in largest["name"]  # North West + North Central London
    per_board = np.bincount(england.unit_level("board"), weights=england.population).astype(np.int64)
    assert largest["population"] == per_board.max()


def test_district_population_is_the_sum_of_exact_lsoa_counts(england):
    from icbmap.atlas.facts import Facts

    facts = Facts.load()
    official = dict(zip(facts.lads["lad_code"], facts.lads["population_census2021"]))
    dist = england.layers["district"].table
    assert dict(zip(dist["code"], dist["population"])) == official
    assert not england.population_estimated
    assert england.population_basis == "Census 2021 usual residents by LSOA"
    # real LSOA counts, not equal shares: LSOAs of one district differ widely
    pop = england.population
    assert pop.min() < 1_000 < 3_000 < pop.max()


def test_units_nest_consistently(england):
    u = england.units
    # every LSOA of a place sits in that place's board
    place_board = england.layers["place"].table["board"].to_numpy()
    assert np.array_equal(place_board[u["place"].to_numpy()], u["board"].to_numpy())
    # council and CA follow the district
    dist = england.layers["district"].table
    assert np.array_equal(dist["council"].to_numpy()[u["district"].to_numpy()], u["council"].to_numpy())
    assert np.array_equal(dist["ca"].to_numpy()[u["district"].to_numpy()], u["ca"].to_numpy())
    # Barnsley and Sheffield carry their 2025 codes
    codes = set(dist["code"])
    assert {"E08000038", "E08000039"} <= codes and "E08000016" not in codes


def test_repaired_coverage_is_clean(england):
    geoms = england.units.geometry.to_numpy()
    assert shapely.is_valid(geoms).all()
    assert shapely.coverage_is_valid(geoms)
    for lvl in LEVELS:
        shapes = england.layers[lvl].geometry
        assert shapely.is_valid(shapes).all(), lvl
        # no sliver holes: every interior ring of a dissolved board is a real enclave
        holes = [r for g in shapes for p in shapely.get_parts(g) for r in p.interiors]
        assert all(shapely.area(shapely.Polygon(r)) > 10_000 for r in holes), lvl


def test_adjacency_rook_symmetric_and_connected(england):
    adj = england.adjacency
    a, b, shared, bridge = adj.pairs()
    assert (a < b).all()
    assert (shared[~bridge] > 0).all()
    # symmetric CSR
    i = int(england.unit_index("E01000001"))
    for j in adj.neighbours(i):
        assert i in adj.neighbours(int(j))
    # bridges join islands such as the Isle of Wight; the whole graph is connected
    from icbmap.atlas.geometry import _components

    assert len(np.unique(_components(england.n_units, a, b))) == 1
    iow = [k for k, n in enumerate(england.units["name"]) if n.startswith("Isle of Wight")]
    # the island is one landmass (bridged internally where the Medina cuts it) with one
    # bridge to the mainland
    iow_set = set(iow)
    to_mainland = [(p, q) for p, q in zip(a[bridge], b[bridge]) if (p in iow_set) != (q in iow_set)]
    assert len(to_mainland) == 1


def test_provenance_on_every_layer(england):
    for row in england.summary():
        prov = row["provenance"]
        assert prov.source and prov.vintage and prov.licence
    assert england.provenance["population"].note == "Census 2021 usual residents by LSOA"
    assert "derived" in england.layers["board"].provenance.note  # April 2026 is derived
    assert "Open Government Licence" in england.layers["district"].provenance.licence


def test_bridges_only_join_units_that_do_not_touch(england):
    """Bridges are for landmasses with no shared boundary; units sharing a line are rook
    neighbours (this caught MultiPolygon units whose edges were once skipped)."""
    a, b, _shared, bridge = england.adjacency.pairs()
    geoms = england.units.geometry.to_numpy()
    shared = shapely.length(shapely.intersection(geoms[a[bridge]], geoms[b[bridge]]))
    assert (shared < 1.0).all()
    multi = np.flatnonzero(shapely.get_type_id(geoms) == 6)
    assert len(multi) > 100
    deg = england.adjacency.degree()
    assert (deg[multi] > 0).all()


def test_loading_reports_progress_and_builds_nothing(tmp_path, monkeypatch):
    """The offline pack ships ready: a first start reads it and writes nothing."""
    from icbmap.atlas import store
    from icbmap.progress import Progress

    monkeypatch.setenv("ICBMAP_HOME", str(tmp_path))
    seen = []
    atlas = store.load_atlas(store.OFFLINE, progress=Progress(lambda f, m: seen.append((f, m))))
    assert atlas.n_units == 33_755
    assert seen[0][0] == 0.0 and seen[-1][0] == 1.0
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]
