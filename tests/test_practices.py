"""GP practices: readers, placing by postcode, the practices table, storage, CLI, helpers.

Real files come from ``../shared/data/raw/gp`` (skipped with a reason when absent).  Every
other CSV here is a small DEVELOPER-MADE FIXTURE written into ``tmp_path``: made-up counts
in the layout of the NHS Digital files, with real postcodes so they can be placed.  They
are not official data.
"""

from __future__ import annotations

import argparse
import copy
import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import shared_file
from icbmap.errors import DataError
from icbmap.practices import place as pl
from icbmap.practices.attach import (
    BY_FILE_CODE, BY_FILE_NHS_CODE, BY_LSOA_FILE, BY_MAP_CODE, BY_UNIT, SOURCE, attach_practices,
)
from icbmap.practices.population import (
    baseline_practice_assignment, practice_assignment_from_units, registered_by_area, registered_by_board,
)
from icbmap.practices.readers import (
    normalise_header, normalise_postcode, parse_extract_date, read_practice_lsoa, read_practice_map,
    read_practice_totals,
)
from icbmap.atlas.practices_table import PRACTICE_COLUMNS

REAL_PRACTICES = 6_378
REAL_PATIENTS = 62_581_556
DESIGN_COLUMNS = ["code", "name", "postcode", "x", "y", "patients", "pcn_code", "pcn_name",
                  "place", "board", "unit", "extract_date"]

# developer-made fixture content (real practice postcodes and sub-ICB codes, made-up counts)
HEADER = ("PUBLICATION,EXTRACT_DATE,TYPE,SUB_ICB_LOCATION_CODE,ONS_SUB_ICB_LOCATION_CODE,"
          "CODE,POSTCODE,SEX,AGE,NUMBER_OF_PATIENTS")
ROWS = [
    "GP_PRAC_PAT_LIST,01Jul2023,GP,00L,E38000130,A84002,NE65 7UW,ALL,ALL,6077",
    "GP_PRAC_PAT_LIST,01Jul2023,GP,00L,E38000130,A84005,NE22 6JX,ALL,ALL,12297",
    "GP_PRAC_PAT_LIST,01Jul2023,GP,15E,E38000258,M85001,B35 7QX,ALL,ALL,5000",
]


def fresh(atlas):
    """A shallow copy of the shared session atlas that attach_practices may modify."""
    a = copy.copy(atlas)
    a.practices = None
    a.provenance = {k: v for k, v in atlas.provenance.items() if k != "practices"}
    return a


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p


def fixture_totals(tmp_path: Path, rows=ROWS, header=HEADER, name="gp-reg-pat-prac-all_devfixture.csv"):
    return write(tmp_path, name, "\n".join([header, *rows]) + "\n")


# ====================================================================== real files
@pytest.fixture(scope="module")
def real(england):
    """The 1 July 2023 registrations with the October 2025 map, attached to a copy."""
    path = shared_file("gp", "gp-reg-pat-prac-all_2023-07.csv")
    map_path = shared_file("gp", "gp-reg-pat-prac-map_2025-10.csv")
    atlas = fresh(england)
    report = attach_practices(atlas, path, map_path)  # the positional form official.py uses
    return atlas, report, path, map_path


@pytest.mark.slow
def test_real_file_places_practices_and_keeps_the_total(real):
    atlas, report, path, _ = real
    p = atlas.practices
    assert list(p.columns) == DESIGN_COLUMNS == list(PRACTICE_COLUMNS)
    assert len(p) == report.practices == REAL_PRACTICES
    assert p["code"].is_unique
    assert report.placed >= 0.99 * REAL_PRACTICES
    assert report.placed + len(report.unplaced) == REAL_PRACTICES
    assert int(p["patients"].sum()) == report.registered_total == REAL_PATIENTS
    # the unplaced are listed with a reason, kept in the table without a location
    unplaced = p[p["unit"] < 0]
    assert sorted(unplaced["code"]) == sorted(u["code"] for u in report.unplaced)
    assert all(u["reason"] for u in report.unplaced)
    assert unplaced["x"].isna().all() and unplaced["y"].isna().all()
    placed = p[p["unit"] >= 0]
    assert placed["x"].notna().all()
    assert (placed["unit"] < atlas.n_units).all()
    # dtypes of the design
    assert p["patients"].dtype == np.int64
    for col in ("place", "board", "unit"):
        assert p[col].dtype == np.int32
    assert set(p["extract_date"]) == {"2023-07-01"}
    assert report.extract_date == "2023-07-01"


@pytest.mark.slow
def test_real_file_baseline_places_and_boards(real, england):
    atlas, report, path, _ = real
    p = atlas.practices
    raw = pd.read_csv(path, dtype=str).set_index("CODE")
    place_codes = england.layers["place"].codes
    # April 2026 places: the 2023 sub-ICB codes exist except Frimley's (abolished; its
    # practices go by the LSOA they stand in) and three recoded since (92A and 70F in 2024,
    # D9Y0V in 2026), which match by their NHS codes
    ons = raw.loc[p["code"], "ONS_SUB_ICB_LOCATION_CODE"].to_numpy()
    rule = report.detail.set_index("code").loc[p["code"], "place_rule"].to_numpy()
    known = np.isin(ons, place_codes)
    assert (rule[known] == BY_FILE_CODE).all()
    assert set(ons[~known]) == {"E38000246", "E38000248", "E38000252", "E38000253"}
    recoded = rule[np.isin(ons, ["E38000246", "E38000248", "E38000253"])]
    assert set(recoded) <= {BY_FILE_NHS_CODE, BY_UNIT} and (recoded == BY_FILE_NHS_CODE).mean() > 0.9
    assert (place_codes[p["place"].to_numpy()[ons == "E38000253"]] == "E38000266").all()
    assert (rule[ons == "E38000252"] == BY_UNIT).all()
    assert (place_codes[p["place"].to_numpy()[known]] == ons[known]).all()
    place_board = england.layers["place"].table["board"].to_numpy()
    assert (p["board"].to_numpy() == place_board[p["place"].to_numpy()]).all()
    # nearly all practices stand in their own place
    ok = p["unit"] >= 0
    located = england.unit_level("place")[p.loc[ok, "unit"]]
    same = (located == p.loc[ok, "place"].to_numpy()).mean()
    assert same > 0.98
    assert report.cross_place == int((located != p.loc[ok, "place"].to_numpy()).sum())
    # every practice of the file is in the table once; the rules are recorded
    assert sum(report.locate_rules.values()) == REAL_PRACTICES
    assert report.detail["code"].tolist() == p["code"].tolist()
    # provenance
    prov = atlas.provenance["practices"]
    assert prov.source == SOURCE == "NHS Digital, Patients Registered at a GP Practice"
    assert prov.vintage == "1 July 2023"
    assert prov.licence == "Open Government Licence v3.0"
    from icbmap.atlas.model import NHS_ATTRIBUTION

    assert prov.attribution == NHS_ATTRIBUTION
    # registered per board: all patients, boards of the design
    per_board = registered_by_board(atlas, p["board"].to_numpy())
    assert len(per_board) == len(atlas.layers["board"]) and per_board.sum() == REAL_PATIENTS


@pytest.mark.slow
def test_real_map_attaches_pcns_where_codes_match(real):
    atlas, report, _, map_path = real
    p = atlas.practices.set_index("code")
    m = pd.read_csv(map_path, dtype=str).set_index("PRACTICE_CODE")
    common = p.index.intersection(m.index)
    assert len(common) == report.pcn_attached > 6000
    assert (p.loc[common, "pcn_code"] == m.loc[common, "PCN_CODE"]).all()
    assert (p.loc[common, "pcn_name"] == m.loc[common, "PCN_NAME"]).all()
    assert (p.loc[common, "name"] == m.loc[common, "PRACTICE_NAME"]).all()
    gone = p.index.difference(m.index)  # closed or merged since 2023: no PCN, not dropped
    assert (p.loc[gone, "pcn_code"] == "").all() and len(gone) == REAL_PRACTICES - len(common)
    assert p.loc["A81001", "pcn_code"] == "U89141"
    assert p.loc["A81001", "pcn_name"] == "STOCKTON PCN"
    assert report.map_extract_date == "2025-10-01"
    assert report.map_only == len(m.index.difference(p.index))
    assert "PCNs" in atlas.provenance["practices"].note
    text = "\n".join(report.lines())
    assert "62,581,556" in text and "6,378" in text


def test_real_readers_alone():
    totals = read_practice_totals(shared_file("gp", "gp-reg-pat-prac-all_2023-07.csv"))
    assert len(totals) == REAL_PRACTICES
    assert int(totals.table["patients"].sum()) == REAL_PATIENTS
    assert totals.warnings == []
    mp = read_practice_map(shared_file("gp", "gp-reg-pat-prac-map_2025-10.csv"))
    assert len(mp) == 6_202 and mp.extract_date == "2025-10-01"
    assert mp.table["code"].is_unique


# ====================================================================== placing
@pytest.mark.slow
def test_place_rules_on_fixture(england, tmp_path):
    """Developer-made fixture: old/unknown sub-ICB codes fall back as documented."""
    rows = [
        # good ONS code
        "P,2023-07-01,GP,00L,E38000130,A84002,NE65 7UW,ALL,ALL,100",
        # ONS code unknown to the atlas, NHS code known -> NHS code
        "P,2023-07-01,GP,00L,E38000999,A84005,NE22 6JX,ALL,ALL,200",
        # both unknown (an old CCG) -> the map file's code
        "P,2023-07-01,GP,99X,E38000998,M85001,B35 7QX,ALL,ALL,300",
        # both unknown, no map row -> the containing LSOA's place
        "P,2023-07-01,GP,99X,E38000998,Y02625,M6 5FW,ALL,ALL,400",
        # unknown postcode, unknown codes -> no place, unplaced
        "P,2023-07-01,GP,99X,E38000998,Z99999,ZZ99 9ZZ,ALL,ALL,500",
        # blank postcode
        "P,2023-07-01,GP,00L,E38000130,Z99998,,ALL,ALL,600",
        # a Scottish postcode: far outside the atlas
        "P,2023-07-01,GP,00L,E38000130,Z99997,EH1 1YZ,ALL,ALL,700",
        # a coastal practice just outside the generalised boundary -> nearest LSOA
        "P,2023-07-01,GP,15N,E38000230,L83106,ex39  4au,ALL,ALL,800",
    ]
    totals = fixture_totals(tmp_path, rows)
    mp = write(tmp_path, "map_devfixture.csv",
               "PRACTICE_CODE,PRACTICE_NAME,PRACTICE_POSTCODE,PCN_CODE,PCN_NAME,ONS_SUB_ICB_LOCATION_CODE\n"
               "M85001,SHAH ZAMAN SURGERY,B35 7QX,U43660,NORTH BIRMINGHAM PCN,E38000258\n")
    atlas = fresh(england)
    report = attach_practices(atlas, totals, mp)
    p = atlas.practices.set_index("code")
    d = report.detail.set_index("code")
    layer = england.layers["place"]
    assert d.loc["A84002", "place_rule"] == BY_FILE_CODE
    assert d.loc["A84005", "place_rule"] == BY_FILE_NHS_CODE
    assert p.loc["A84005", "place"] == layer.index_of("E38000130")
    assert d.loc["M85001", "place_rule"] == BY_MAP_CODE
    assert p.loc["M85001", "place"] == layer.index_of("E38000258")
    assert d.loc["Y02625", "place_rule"] == BY_UNIT
    assert p.loc["Y02625", "place"] == england.unit_level("place")[p.loc["Y02625", "unit"]]
    assert p.loc["Z99999", "place"] == -1 and p.loc["Z99999", "board"] == -1
    assert d.loc["L83106", "locate_rule"] == pl.NEAREST
    assert 0 < d.loc["L83106", "distance_m"] <= pl.NEAREST_M
    assert p.loc["L83106", "postcode"] == "ex39  4au"  # as given; matched normalised
    reasons = {u["code"]: u["reason"] for u in report.unplaced}
    assert set(reasons) == {"Z99999", "Z99998", "Z99997"}
    assert reasons["Z99999"] == pl.UNKNOWN_POSTCODE
    assert reasons["Z99998"] == pl.NO_POSTCODE
    assert reasons["Z99997"].startswith(pl.OUTSIDE) and "Scotland" in reasons["Z99997"]
    assert "km" in reasons["Z99997"]
    # unplaced practices keep their file's place when it is known
    assert p.loc["Z99998", "place"] == layer.index_of("E38000130") and p.loc["Z99998", "unit"] == -1
    assert report.registered_total == sum(range(100, 900, 100))
    assert report.placed == 5
    assert p.loc["M85001", "pcn_code"] == "U43660" and p.loc["A84002", "pcn_code"] == ""


def test_locate_inside_nearest_and_outside():
    import shapely

    squares = np.array([shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)])
    loc = pl.locate(squares, np.array([5, 10, 25, 900, np.nan]), np.array([5, 5, 5, 5, 1]), nearest_m=100)
    assert loc.unit.tolist() == [0, 0, 1, -1, -1]  # on the shared edge: the lower index
    assert loc.rule.tolist() == [pl.IN_UNIT, pl.IN_UNIT, pl.NEAREST, pl.OUTSIDE, pl.NO_GRID]
    assert loc.distance[2] == pytest.approx(5.0) and loc.distance[3] == pytest.approx(880.0)


def test_lookup_postcodes_normalises_and_reads_few_letters():
    grid = pl.lookup_postcodes(["ne65 7uw", "NE657UW", " B35  7QX ", "ZZ99 9ZZ", ""])
    assert set(grid.index) == {"NE657UW", "B357QX"}
    assert grid.loc["NE657UW", "x"] == pytest.approx(405697.0)
    assert normalise_postcode(" ne65\t7uw ") == "NE657UW"
    assert normalise_postcode(None) == "" and normalise_postcode(float("nan")) == ""


def test_offline_postcode_frames_shared_decoder():
    from icbmap.atlas.postcodes import postcode_frames

    got = list(postcode_frames(None, letters="nq", columns=("pcd", "oseast1m")))
    assert [g[0] for g in got] == ["N"]  # the package has no file for Q
    assert {"pcd", "oseast1m", "osnrth1m", "laua"} <= set(got[0][2].columns)


# ====================================================================== header variants
def test_lowercase_headers_extra_columns_and_iso_dates(tmp_path):
    header = HEADER.lower() + ",extra_column"
    rows = [r.replace("01Jul2023", "2023-07-01") + ",x" for r in ROWS]
    t = read_practice_totals(fixture_totals(tmp_path, rows, header))
    assert t.table["code"].tolist() == ["A84002", "A84005", "M85001"]
    assert t.table["patients"].tolist() == [6077, 12297, 5000]
    assert t.extract_date == "2023-07-01"
    assert t.warnings == []


def test_old_ccg_layout_and_uk_dates(tmp_path):
    header = "PUBLICATION,EXTRACT_DATE,TYPE,CCG_CODE,ONS_CCG_CODE,CODE,POSTCODE,SEX,AGE,NUMBER_OF_PATIENTS"
    rows = ["GP_PRAC_PAT_LIST,01/04/2020,GP,00L,E38000130,A84002,NE65 7UW,ALL,ALL,6001",
            "GP_PRAC_PAT_LIST,01/04/2020,GP,00L,E38000130,A84005,NE22 6JX,ALL,ALL,\"12,001\""]
    t = read_practice_totals(fixture_totals(tmp_path, rows, header))
    assert t.columns["sub_icb_ons"] == "ONS_CCG_CODE" and t.columns["sub_icb_nhs"] == "CCG_CODE"
    assert t.table["sub_icb_ons"].tolist() == ["E38000130", "E38000130"]
    assert t.table["patients"].tolist() == [6001, 12001]
    assert t.extract_date == "2020-04-01"


def test_spaced_quoted_bom_tab_headers(tmp_path):
    text = "\ufeff\"Practice Code\"\t\"Postcode\"\t\"Number of Patients\"\t\"Extract Date\"\n" \
           "a84002\tNE65 7UW\t6077\t1 July 2023\n"
    t = read_practice_totals(write(tmp_path, "tabbed_devfixture.tsv", text))
    assert t.table["code"].tolist() == ["A84002"]  # upper-cased
    assert t.extract_date == "2023-07-01"
    assert t.table["sub_icb_ons"].tolist() == [""]


def test_zip_with_one_csv(tmp_path):
    import zipfile

    z = tmp_path / "gp-reg-pat-prac-all-jul-23_devfixture.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("gp-reg-pat-prac-all.csv", "\n".join([HEADER, *ROWS]))
    assert len(read_practice_totals(z)) == 3


@pytest.mark.parametrize("text,expected", [
    ("01Jul2023", date(2023, 7, 1)), ("01JUL2023", date(2023, 7, 1)), ("1-Jul-23", date(2023, 7, 1)),
    ("2023-07-01", date(2023, 7, 1)), ("01/07/2023", date(2023, 7, 1)), ("1 July 2023", date(2023, 7, 1)),
    ("20230701", date(2023, 7, 1)), ("2023-07-01 00:00:00", date(2023, 7, 1)), ("31/02/2023", None),
    ("July", None), ("", None),
])
def test_parse_extract_date(text, expected):
    assert parse_extract_date(text) == expected


def test_normalise_header():
    assert normalise_header(" Practice code ") == "PRACTICE_CODE"
    assert normalise_header("\ufeffPUBLICATION") == "PUBLICATION"
    assert normalise_header("ONS-Sub ICB Location Code") == "ONS_SUB_ICB_LOCATION_CODE"


def test_breakdown_rows_are_dropped_with_a_warning(tmp_path):
    rows = ROWS + ["GP_PRAC_PAT_LIST,01Jul2023,GP,00L,E38000130,A84002,NE65 7UW,MALE,ALL,3000",
                   "GP_PRAC_PAT_LIST,01Jul2023,GP,00L,E38000130,A84002,NE65 7UW,ALL,0_4,300",
                   "GP_PRAC_PAT_LIST,01Jul2023,CCG,00L,E38000130,00L,,ALL,ALL,18374",
                   ",,,,,,,,,"]
    t = read_practice_totals(fixture_totals(tmp_path, rows))
    assert t.table["patients"].tolist() == [6077, 12297, 5000]
    text = " ".join(t.warnings)
    assert "2 row(s) of sex/age breakdowns" in text and "TYPE CCG" in text


def test_identical_duplicates_warn_conflicting_fail(tmp_path):
    t = read_practice_totals(fixture_totals(tmp_path, ROWS + [ROWS[0]]))
    assert len(t) == 3 and any("duplicated" in w for w in t.warnings)
    path = fixture_totals(tmp_path, ROWS + [ROWS[0].replace("6077", "6078")], name="dup_devfixture.csv")
    with pytest.raises(DataError, match="A84002") as exc:
        read_practice_totals(path)
    assert str(path) in str(exc.value)


def test_multiple_dates_and_odd_codes_warn(tmp_path):
    rows = [ROWS[0], ROWS[1].replace("01Jul2023", "01Aug2023"),
            ROWS[2].replace("M85001", "XYZ"), ROWS[2].replace("M85001", "M85002").replace("01Jul2023", "soon")]
    t = read_practice_totals(fixture_totals(tmp_path, rows))
    assert t.extract_date == "2023-08-01"
    text = " ".join(t.warnings)
    assert "2 different extract dates" in text and "'soon'" in text and "XYZ" in text


# ====================================================================== bad input
def _raises_naming(path: Path, match: str, reader=read_practice_totals):
    with pytest.raises(DataError, match=match) as exc:
        reader(path)
    assert exc.value.path == str(path)
    assert str(path) in str(exc.value)


def test_missing_column(tmp_path):
    p = fixture_totals(tmp_path, [r.rsplit(",", 1)[0] for r in ROWS], HEADER.rsplit(",", 1)[0])
    _raises_naming(p, "missing column.*NUMBER_OF_PATIENTS")


def test_non_numeric_counts(tmp_path):
    p = fixture_totals(tmp_path, ROWS[:1] + [ROWS[1].replace("12297", "twelve"), ROWS[2].replace("5000", "-5")])
    _raises_naming(p, r"2 value\(s\) of NUMBER_OF_PATIENTS.*line 3: 'twelve'")


def test_empty_files(tmp_path):
    _raises_naming(write(tmp_path, "empty.csv", ""), "empty")
    _raises_naming(write(tmp_path, "blank.csv", "\n\n  \n"), "empty")
    _raises_naming(write(tmp_path, "header_only.csv", HEADER + "\n"), "no practice rows")


def test_not_a_csv(tmp_path):
    _raises_naming(write(tmp_path, "picture.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "not a CSV")
    _raises_naming(write(tmp_path, "areas.geojson", '{"type": "FeatureCollection", "features": []}'),
                   "missing column")
    _raises_naming(tmp_path / "absent.csv", "not found")
    _raises_naming(write(tmp_path, "map_instead.csv", "PRACTICE_CODE,PCN_CODE\nA84002,U1\n"),
                   "NUMBER_OF_PATIENTS")


def test_breakdown_only_file_fails(tmp_path):
    rows = [r.replace(",ALL,ALL,", ",MALE,0_4,") for r in ROWS]
    _raises_naming(fixture_totals(tmp_path, rows), "breakdown")


def test_map_reader_variants_and_errors(tmp_path):
    text = ("practice_code,practice_name,pcn_code,ons_ccg_code,extra\n"
            "a84002,ROTHBURY,u09980,e38000130,1\nA84002,ROTHBURY,U09980,E38000130,1\n")
    m = read_practice_map(write(tmp_path, "map_devfixture.csv", text))
    assert m.table.loc[0, ["code", "pcn_code", "sub_icb_ons", "pcn_name"]].tolist() == \
        ["A84002", "U09980", "E38000130", ""]
    assert len(m) == 1 and any("PCN_NAME" in w for w in m.warnings) and any("more than once" in w for w in m.warnings)
    _raises_naming(write(tmp_path, "nomap.csv", "PRACTICE_CODE,PRACTICE_NAME\nA1,B\n"), "PCN_CODE",
                   read_practice_map)


# ====================================================================== practice x LSOA
LSOA_HEADER = "PUBLICATION,EXTRACT_DATE,PRACTICE_NAME,PRACTICE_CODE,LSOA_CODE,SEX,NUMBER_OF_PATIENTS"


def lsoa_fixture(tmp_path, rows, header=LSOA_HEADER):
    """Developer-made practice-by-LSOA fixture (made-up counts, real LSOA codes)."""
    return write(tmp_path, "gp-reg-pat-prac-lsoa-all_devfixture.csv", "\n".join([header, *rows]) + "\n")


def test_lsoa_reader(tmp_path):
    rows = ["L,01Jul2023,X,A84002,E01027394,ALL,40", "L,01Jul2023,X,A84002,E01027395,ALL,10",
            "L,01Jul2023,X,A84002,E01027395,ALL,5", "L,01Jul2023,X,A84002,NO2011,ALL,3",
            "L,01Jul2023,X,A84002,E01027394,MALE,20", "L,01Jul2023,X,a84005,w01000001,ALL,7"]
    t = read_practice_lsoa(lsoa_fixture(tmp_path, rows))
    rec = {(r.code, r.lsoa): r.patients for r in t.table.itertuples()}
    assert rec == {("A84002", "E01027394"): 40, ("A84002", "E01027395"): 15, ("A84002", "NO2011"): 3,
                   ("A84005", "W01000001"): 7}
    assert t.extract_date == "2023-07-01"
    assert any("breakdowns" in w for w in t.warnings) and any("summed" in w for w in t.warnings)
    # male/female only: summed; the LSOA vintage from the header
    rows = ["A84002,E01027394,MALE,4", "A84002,E01027394,FEMALE,6"]
    t = read_practice_lsoa(lsoa_fixture(tmp_path, rows, "practice_code,lsoa21cd,sex,number_of_patients"))
    assert t.table["patients"].tolist() == [10] and t.columns["lsoa_vintage"] == "2021"
    p = lsoa_fixture(tmp_path, ["A84002,E01027394,ALL,many"])
    _raises_naming(p, "not whole numbers", read_practice_lsoa)
    p = lsoa_fixture(tmp_path, ["A84002,ALL,3"], "PRACTICE_CODE,SEX,NUMBER_OF_PATIENTS")
    _raises_naming(p, "LSOA_CODE", read_practice_lsoa)


@pytest.mark.slow
def test_attach_with_lsoa_file(england, tmp_path):
    u = england.units
    lsoa_a, lsoa_b = u["code"].iat[100], u["code"].iat[200]
    rows = [f"L,01Jul2023,X,A84002,{lsoa_a},ALL,60", f"L,01Jul2023,X,A84002,{lsoa_b},ALL,17",
            "L,01Jul2023,X,A84002,NO2011,ALL,3", f"L,01Jul2023,X,Z99999,{lsoa_b},ALL,90",
            f"L,01Jul2023,X,Z99999,{lsoa_a},ALL,10"]
    totals = fixture_totals(tmp_path, ROWS + ["P,01Jul2023,GP,00L,E38000130,Z99999,ZZ99 9ZZ,ALL,ALL,100"])
    atlas = fresh(england)
    report = attach_practices(atlas, totals, None, None, lsoa_path=lsoa_fixture(tmp_path, rows))
    s = report.lsoa
    assert s["patients"] == 180 and s["patients_matched"] == 177 and s["unmatched_examples"] == ["NO2011"]
    assert report.registered_by_unit.sum() == 177
    assert report.registered_by_unit[100] == 70 and report.registered_by_unit[200] == 107
    # the practice with an unknown postcode goes to the LSOA of most of its patients
    p = atlas.practices.set_index("code")
    assert p.loc["Z99999", "unit"] == 200
    assert p.loc["Z99999", "x"] == pytest.approx(england.unit_xy[200][0])
    assert report.detail.set_index("code").loc["Z99999", "locate_rule"] == BY_LSOA_FILE
    assert report.placed == 4 and report.unplaced == []
    assert not any("only" in w and "LSOA" in w for w in report.warnings)


# ====================================================================== helpers for metrics
@pytest.mark.slow
def test_registered_helpers(england, tmp_path):
    atlas = fresh(england)
    attach_practices(atlas, fixture_totals(tmp_path))
    p = atlas.practices
    base = baseline_practice_assignment(atlas)
    by_board = registered_by_board(atlas, base)
    assert by_board.dtype == np.int64 and len(by_board) == len(england.layers["board"])
    assert by_board.sum() == 6077 + 12297 + 5000
    b_ne = int(p.loc[p["code"] == "A84002", "board"].iat[0])
    assert by_board[b_ne] == 6077 + 12297
    moved = base.copy()
    moved[0] = 50  # a created board
    moved[2] = -1  # unassigned
    r = registered_by_board(atlas, moved)
    assert len(r) == 51 and r[50] == 6077 and r.sum() == 6077 + 12297
    assert len(registered_by_board(atlas, base, n_boards=60)) == 60
    with pytest.raises(ValueError):
        registered_by_board(atlas, base[:2])
    # practices follow the units they stand in
    ua = england.unit_level("board").copy()
    ua[p["unit"].iat[1]] = 45
    follow = practice_assignment_from_units(atlas, ua)
    assert follow[1] == 45 and follow[0] == base[0]
    by_unit = registered_by_area(atlas, "unit")
    assert by_unit.sum() == p["patients"].sum() and by_unit[p["unit"].iat[2]] == 5000
    assert registered_by_area(atlas, "region").sum() == p["patients"].sum()
    # no practices: zeros
    empty = fresh(england)
    assert registered_by_board(empty, []).sum() == 0
    assert registered_by_area(empty, "board").sum() == 0


# ====================================================================== storage
@pytest.fixture
def data_home(tmp_path, monkeypatch):
    """Point the data folder of icbmap.practices.store at tmp_path (the pack cache stays)."""
    from icbmap.practices import store

    home = tmp_path / "data"
    monkeypatch.setattr(store, "data_dir", lambda: home)
    return home


@pytest.mark.slow
def test_store_round_trip(england, tmp_path, data_home):
    from icbmap.practices.store import (
        load_practices_for, practices_path_for, remove_practices_for, save_practices_for,
        stored_practices_info,
    )

    atlas = fresh(england)
    rows = ROWS + ["P,01Jul2023,GP,00L,E38000130,Z99999,ZZ99 9ZZ,ALL,ALL,100"]
    report = attach_practices(atlas, fixture_totals(tmp_path, rows))
    path = save_practices_for(atlas, report)
    assert path == practices_path_for(atlas) == data_home / "practices" / f"{england.content_hash}.gpkg"
    assert [f.name for f in path.parent.iterdir()] == [path.name]  # no temporary file left
    later = fresh(england)  # what load_atlas returns on the next start
    got = load_practices_for(later)
    assert got is later.practices
    pd.testing.assert_frame_equal(later.practices, atlas.practices)
    assert later.provenance["practices"] == atlas.provenance["practices"]
    assert np.isnan(later.practices.set_index("code").loc["Z99999", "x"])
    assert stored_practices_info(later)["patients"] == report.registered_total
    assert england.practices is not atlas.practices and len(england.practices) == 6_378  # shared atlas untouched
    # the pack's own practices win when the pack was built after the attachment
    own = fresh(england)
    own.practices = atlas.practices.iloc[:1].copy()
    own.meta = dict(england.meta, built_at="2999-01-01T00:00:00Z")
    assert load_practices_for(own) is None and len(own.practices) == 1
    assert load_practices_for(own, override=True) is not None and len(own.practices) == 4
    # another pack (content hash) sees nothing
    other = fresh(england)
    other.meta = dict(england.meta, content_hash="0123456789abcdef")
    assert load_practices_for(other) is None and other.practices is None
    assert remove_practices_for(atlas) and not path.exists()
    assert load_practices_for(fresh(england)) is None


@pytest.mark.slow
def test_store_damaged_file_is_ignored_with_a_warning(england, data_home):
    from icbmap.practices.store import load_practices_for, practices_path_for

    path = practices_path_for(england)
    path.write_bytes(b"not a geopackage")
    atlas = fresh(england)
    with pytest.warns(UserWarning, match="ignored stored GP practices"):
        assert load_practices_for(atlas) is None
    assert atlas.practices is None


# ====================================================================== CLI handler
@pytest.mark.slow
def test_run_practices(england, tmp_path, data_home, monkeypatch, capsys):
    import icbmap.cli.common
    from icbmap.cli.practices import add_arguments, run_practices
    from icbmap.practices.store import load_practices_for

    atlas = fresh(england)
    monkeypatch.setattr(icbmap.cli.common, "load_atlas_for", lambda args, progress=None: atlas)
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    mp = write(tmp_path, "map_devfixture.csv",
               "PRACTICE_CODE,PRACTICE_NAME,PCN_CODE,PCN_NAME\nA84002,THE ROTHBURY PRACTICE,U09980,NORTHUMBRIA PCN\n")
    args = parser.parse_args([str(fixture_totals(tmp_path)), "--map", str(mp)])
    assert run_practices(args) == 0
    out = capsys.readouterr().out
    assert "GP practices: 3" in out and "23,374" in out and "Saved for this pack" in out
    later = fresh(england)
    load_practices_for(later)
    assert later.practices.set_index("code").loc["A84002", "pcn_name"] == "NORTHUMBRIA PCN"
    args = parser.parse_args([str(fixture_totals(tmp_path)), "--format", "json"])
    assert run_practices(args) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["placed"] == 3 and doc["registered_total"] == 23_374
    bad = parser.parse_args([str(write(tmp_path, "bad.csv", "CODE,POSTCODE\nA1,B\n"))])
    with pytest.raises(DataError, match="bad.csv"):
        run_practices(bad)


@pytest.mark.slow
def test_progress_and_cancel(england, tmp_path):
    from icbmap.errors import Cancelled
    from icbmap.progress import Progress

    seen = []
    atlas = fresh(england)
    attach_practices(atlas, fixture_totals(tmp_path), None, Progress(lambda f, m: seen.append(f)))
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen)
    progress = Progress(lambda f, m: progress.cancel() if f > 0.2 else None)
    other = fresh(england)
    with pytest.raises(Cancelled):
        attach_practices(other, fixture_totals(tmp_path), None, progress)
    assert other.practices is None and "practices" not in other.provenance
