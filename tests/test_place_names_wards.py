"""Places by their usual names, and wards and towns found by name (issue 22, item 8)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import shared_file

ROOT = Path(__file__).resolve().parent.parent
LOOKUPS = ROOT.parent / "shared" / "data" / "raw" / "lookups"


def _place(atlas, nhs: str) -> int:
    t = atlas.layers["place"].table
    return int(np.flatnonzero(t["code_nhs"].astype(str).to_numpy() == nhs)[0])


def test_places_carry_their_usual_names(england):
    t = england.layers["place"].table
    i = _place(england, "06H")
    assert t["name"].iat[i] == "Cambridgeshire and Peterborough (06H)"
    assert t["official_name"].iat[i] == "NHS Central East ICB - 06H"   # the pack's name is kept
    assert t["name"].iat[_place(england, "02P")] == "Barnsley (02P)"
    assert t["name"].iat[_place(england, "99E")] == "Basildon and Brentwood (99E)"
    # every place of the April 2024 table has its usual name: no "NHS ... ICB - code" left
    # (East Berkshire, made in April 2026, is not an April 2024 sub-ICB location)
    left = [n for n in t["name"].astype(str) if n.startswith("NHS ")]
    assert left == [n for n in t["name"].astype(str) if "U2G6B" in n]
    # the NHS code still finds the place (comparison focus)
    from icbmap.compare.focus import resolve_focus

    assert resolve_focus(england, "06H").units.sum() == len(england.members("place", i))
    assert resolve_focus(england, "NHS Central East ICB - 06H").units.sum() == len(england.members("place", i))


def test_2022_baseline_places_named_by_nhs_code(england):
    from icbmap.atlas.place_names import usual_names

    # E38000246 is 92A's July 2022 ONS code (recoded E38000264 by 2024): matched by its NHS code
    assert usual_names(["E38000246"], [""], ["NHS Surrey Heartlands ICB - 92A"]) == ["Surrey Heartlands (92A)"]
    assert usual_names(["X"], [""], ["Somewhere else"]) == ["Somewhere else"]


def test_royston_finds_the_hertfordshire_town_first(england):
    from icbmap.atlas.search import SearchIndex

    idx = SearchIndex(england)
    hits = idx.find("Royston")
    assert hits[0].kind == "town" and hits[0].detail == "North Hertfordshire"
    assert "Royston" in hits[0].label and "3 wards of North Hertfordshire" in hits[0].label
    kinds = [(h.kind, h.detail) for h in hits]
    assert ("ward", "Barnsley") in kinds                        # Barnsley's Royston ward too
    if england.practices is not None:     # the Barnsley GP practice is found, after the wards
        assert [h.kind for h in hits][-1] == "practice" and "Royston" in hits[-1].name
    herts = [h for h in hits if h.kind == "ward" and h.detail == "North Hertfordshire"]
    assert sorted(h.name for h in herts) == ["Royston Heath", "Royston Meridian", "Royston Palace"]
    # the town's LSOAs are the wards' LSOAs in the ONS lookup
    path = shared_file("lookups", "lsoa21_ward24_lad24_geographr.csv")
    w = pd.read_csv(path, dtype=str)
    want = set(w.loc[w["ward24_name"].str.startswith("Royston ") & (w["ltla24_name"] == "North Hertfordshire"),
                     "lsoa21_code"])
    got = set(england.units["code"].to_numpy()[idx.units_of(hits[0])])
    assert got == want and len(want) == 9


def test_ward_code_and_exact_name(england):
    from icbmap.atlas.search import SearchIndex

    idx = SearchIndex(england)
    h = idx.find("E05015775")[0]
    assert (h.kind, h.name, h.detail) == ("ward", "Royston Heath", "North Hertfordshire")
    assert len(idx.units_of(h)) == 2


def test_bundled_tables_regenerate_byte_identical(tmp_path):
    if not (LOOKUPS / "lsoa21_ward24_lad24_geographr.csv").exists():
        pytest.skip("../shared/data/raw/lookups is absent: cannot regenerate the ward and place-name tables")
    subprocess.run([sys.executable, str(ROOT / "shapefiles" / "scripts" / "make_names.py"), str(LOOKUPS),
                    str(tmp_path)], check=True, capture_output=True, cwd=ROOT, timeout=120)
    for n in ("wards_2024.csv", "place_names_2024.csv"):
        assert (tmp_path / n).read_bytes() == (ROOT / "shapefiles" / n).read_bytes(), n


@pytest.mark.gui
def test_search_box_selects_the_town(qtbot, england, tmp_path):
    from conftest import main_window

    w = main_window(qtbot, england, tmp_path, size=(1366, 700), normal=True)
    assert w.run_search("Royston")
    sel = set(england.units["code"].to_numpy()[w.map.selected_units])
    assert len(sel) == 9 and all(c.startswith(("E0102365", "E0102366")) for c in sel)
    assert w.map.level == "unit"
    assert "North Hertfordshire" in w.statusBar().currentMessage()
