"""The offline default under shapefiles/: today's geography, exact, derived reproducibly.

The committed copies are checked against the official files in ``../shared/data/raw`` (skipped
with the reason when absent), and the derivation is checked to be deterministic.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from icbmap.atlas import bundle
from icbmap.atlas.facts import Facts
from icbmap.atlas.store import OFFLINE, load_atlas, offline_pack_path, read_meta
from icbmap.paths import shapefiles_dir

from conftest import SHARED, shared_file

FACTS = SHARED / "facts"


def _facts_dir() -> Path:
    if not (FACTS / "icb_2026" / "icb_2026.csv").exists():
        pytest.skip(f"April 2026 facts not available: {FACTS / 'icb_2026'} is absent")
    return FACTS


@pytest.fixture(scope="module")
def raw() -> Path:
    return shared_file("lookups", "lsoa21_sicbl24_icb24_geographr.csv").parent.parent


@pytest.fixture(scope="module")
def derived(raw):
    recodes = Facts.load().recodes
    lsoa = bundle.derive_lsoa_table(raw, recodes)
    return lsoa, bundle.derive_configurations(raw, _facts_dir(), lsoa, recodes)


def test_committed_tables_are_what_the_raw_files_give(derived):
    lsoa, configs = derived
    assert (shapefiles_dir() / bundle.LSOA_FILE).read_bytes() == bundle._csv_bytes(lsoa)
    cdir = shapefiles_dir() / bundle.CONFIG_DIR
    assert (cdir / "configurations.csv").read_bytes() == bundle._csv_bytes(bundle.CONFIGURATIONS)
    for key, t in configs.items():
        assert (cdir / f"boards_{key}.csv").read_bytes() == bundle._csv_bytes(t["boards"]), key
        assert (cdir / f"places_{key}.csv").read_bytes() == bundle._csv_bytes(t["places"]), key
        assert (cdir / f"lsoa_exceptions_{key}.csv").read_bytes() == bundle._csv_bytes(t["exceptions"]), key


def test_population_is_census_2021_by_lsoa_exactly(raw):
    pop = pd.read_csv(raw / bundle.RAW_FILES["population"], dtype=str, keep_default_na=False)
    pop = pop[pop["LSOA21CD"].str.startswith("E01")].set_index("LSOA21CD")["2021"].astype(np.int64)
    atlas = load_atlas(OFFLINE)
    assert atlas.n_units == len(pop) == 33_755
    assert (atlas.population == pop.loc[atlas.unit_codes].to_numpy()).all()
    assert atlas.total_population == 56_490_056
    assert not atlas.population_estimated
    assert atlas.population_basis == "Census 2021 usual residents by LSOA"


def test_pack_shapes_follow_the_raw_boundaries(raw):
    import pyogrio

    g = pyogrio.read_dataframe(raw / bundle.RAW_FILES["boundaries"], columns=["lsoa21_code"])
    g = g[g["lsoa21_code"].str.startswith("E01")].to_crs("EPSG:27700").set_index("lsoa21_code")
    atlas = load_atlas(OFFLINE)
    src = g.loc[atlas.unit_codes].geometry.to_numpy()
    ours = atlas.units.geometry.to_numpy()
    # metre rounding and coverage repair move edges by a few metres at most
    d = shapely.hausdorff_distance(ours, shapely.make_valid(src))
    assert np.median(d) < 1.5
    assert np.quantile(d, 0.999) < 50
    area = shapely.area(ours) / shapely.area(src)
    assert np.all(np.abs(area - 1) < 0.05)


def test_configurations_reproduce_the_published_facts():
    a24 = load_atlas(OFFLINE, baseline="2024")
    a26 = load_atlas(OFFLINE, baseline="2026")
    a22 = load_atlas(OFFLINE, baseline="2022")
    assert len(a26.layers["board"]) == 36
    assert len(a24.layers["board"]) == len(a22.layers["board"]) == 42
    assert len(a26.layers["region"]) == 7
    c24 = a24.layers["board"].codes[a24.unit_level("board")]
    c26 = a26.layers["board"].codes[a26.unit_level("board")]
    assert int((c24 != c26).sum()) == 10_207
    assert int((c26 == "E54000048").sum()) == 1_060  # Lancashire and South Cumbria unchanged
    pops = a24.layers["board"].population
    assert (pops.min(), pops.max()) == (509_143, 2_966_501)
    # Frimley is gone in 2026 and its three pieces are places of three boards
    assert "E54000034" not in set(c26)
    places = a26.layers["place"].table.set_index("code")
    assert places.loc["U2G6B", "board"] == a26.layers["board"].index_of("E54000070")
    assert places.loc["E38000266", "board"] == a26.layers["board"].index_of("E54000067")
    # each place lies in one board, and the place layer follows the configuration
    pb = a26.layers["place"].table["board"].to_numpy()
    assert (pb[a26.unit_level("place")] == a26.unit_level("board")).all()


def test_2026_configuration_is_labelled_derived():
    atlas = load_atlas(OFFLINE)
    assert atlas.baseline == "2026"
    assert "derived" in atlas.baseline_label
    assert "Frimley" in atlas.layers["board"].provenance.note
    assert "derived" in atlas.layers["board"].provenance.note
    assert load_atlas(OFFLINE, baseline="2024").baseline_info()["status"] == "official"


def test_unknown_baseline_is_refused_with_the_known_ones():
    from icbmap.errors import DataError

    with pytest.raises(DataError) as e:
        load_atlas(OFFLINE, baseline="2019")
    assert "2019" in str(e.value) and "2026" in str(e.value) and "england-2021.gpkg" in str(e.value)


def test_practices_ship_in_the_default_pack_with_their_extract_date():
    atlas = load_atlas(OFFLINE)
    pr = atlas.practices
    assert pr is not None and len(pr) == 6_378
    assert int(pr["patients"].sum()) == 62_581_556
    assert set(pr["extract_date"]) == {"2023-07-01"}
    # in every baseline a practice's board is that of its place (the sub-ICB location that
    # commissions it, else the one it stands in), and almost always the board it stands in
    for key in ("2022", "2024", "2026"):
        a = load_atlas(OFFLINE, baseline=key)
        p = a.practices
        assert (p["place"] >= 0).all()
        place_board = a.layers["place"].table["board"].to_numpy()
        assert (p["board"].to_numpy() == place_board[p["place"].to_numpy()]).all(), key
        u = p["unit"].to_numpy()
        same = p["board"].to_numpy()[u >= 0] == a.unit_level("board")[u[u >= 0]]
        assert same.mean() > 0.97, key


def test_configuration_table_with_a_board_in_two_regions_is_refused(tmp_path):
    from icbmap.errors import DataError

    src = shapefiles_dir() / bundle.CONFIG_DIR
    for f in src.glob("*.csv"):
        (tmp_path / f.name).write_bytes(f.read_bytes())
    boards = pd.read_csv(tmp_path / "boards_2026.csv", dtype=str, keep_default_na=False)
    extra = boards.iloc[[0]].copy()
    extra["nhs_region_code"] = "E40000003"
    pd.concat([boards, extra]).to_csv(tmp_path / "boards_2026.csv", index=False)
    with pytest.raises(DataError) as e:
        bundle.read_configurations(tmp_path)
    assert "boards_2026.csv" in str(e.value) and "more than one NHS region" in str(e.value)


@pytest.mark.slow
def test_rebuild_is_byte_identical(raw, tmp_path):
    """Regenerating from the same inputs gives the committed bytes (tables and pack)."""
    facts = _facts_dir()
    out = tmp_path / "shapefiles"
    out.mkdir()
    for f in shapefiles_dir().glob("*.csv"):
        (out / f.name).write_bytes(f.read_bytes())
    files = bundle.regenerate(raw, facts, out)
    for f in files:
        committed = shapefiles_dir() / f.relative_to(out)
        assert hashlib.sha256(f.read_bytes()).digest() == hashlib.sha256(committed.read_bytes()).digest(), f.name
    meta = read_meta(offline_pack_path())
    assert meta["inputs_sha256"] == bundle.input_digest(raw, facts)
