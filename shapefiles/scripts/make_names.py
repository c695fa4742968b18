"""Derive ``shapefiles/wards_2024.csv`` and ``shapefiles/place_names_2024.csv`` from the ONS lookups.

Run from the repository root::

    python shapefiles/scripts/make_names.py [LOOKUPS_DIR [OUT_DIR]]

LOOKUPS_DIR (default ``../shared/data/raw/lookups``) holds the ONS lookups
``lsoa21_ward24_lad24_geographr.csv`` (LSOA 2021 -> ward 2024 -> LAD 2024, best fit) and
``lsoa21_sicbl24_icb24_geographr.csv`` (LSOA 2021 -> sub-ICB location -> ICB, April 2024), and
``lad23_utla23_geographr.csv`` (district -> upper-tier council, 2023).  Output is deterministic
(sorted rows, fixed formatting): re-running on the same files gives byte-identical tables.

``wards_2024.csv``: one row per English ward (December 2024): ``ward_code, ward_name,
district_code`` (2025 code: Barnsley and Sheffield recoded with ``lad_recodes.csv``),
``district_name`` and ``lsoas``, the 2021 LSOAs the ONS best-fit lookup puts in the ward
(space separated).  Search uses it to find wards and towns by name.

``place_names_2024.csv``: one row per April 2024 sub-ICB location: ``place_code`` (ONS),
``place_code_nhs``, ``official_name`` (the ONS name, e.g. "NHS Hertfordshire and West Essex ICB - 06K")
and ``usual_name``, made by a fixed rule from the official names (nothing typed by hand):

* the only sub-ICB location of its April 2024 ICB is named after that ICB
  ("NHS Cambridgeshire and Peterborough ICB - 06H" -> "Cambridgeshire and Peterborough (06H)");
* otherwise after the councils and districts its LSOAs lie in (ONS names), largest first, until
  they hold 90% of its LSOAs: a council or district wholly inside by its name, one at least 90%
  inside as "most of X" (councils) or at least half inside as "most of X" (districts), else
  "part of X"; at most three names, then "and N more" ("Barnsley (02P)",
  "Basildon and Brentwood (99E)", "most of Cumberland and part of Westmorland and Furness (01H)").
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]


def _short_icb(name: str) -> str:
    s = name.strip()
    s = s.removeprefix("NHS ")
    for suffix in (" Integrated Care Board", " ICB"):
        s = s.removesuffix(suffix)
    return s


def _join(names: list[str]) -> str:
    if len(names) > 3:
        return f"{', '.join(names[:3])} and {len(names) - 3} more"
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def make_wards(lookups: Path) -> pd.DataFrame:
    w = pd.read_csv(lookups / "lsoa21_ward24_lad24_geographr.csv", dtype=str)
    w = w[w["lsoa21_code"].str.startswith("E01")]
    recode = pd.read_csv(ROOT / "shapefiles" / "lad_recodes.csv", dtype=str)
    old, new = recode.columns[0], recode.columns[1]
    w["district_code"] = w["ltla24_code"].replace(dict(zip(recode[old], recode[new])))
    g = w.sort_values("lsoa21_code").groupby(["ward24_code", "ward24_name", "district_code", "ltla24_name"],
                                             sort=True)["lsoa21_code"].agg(" ".join).reset_index()
    g.columns = ["ward_code", "ward_name", "district_code", "district_name", "lsoas"]
    return g


def make_place_names(lookups: Path) -> pd.DataFrame:
    s = pd.read_csv(lookups / "lsoa21_sicbl24_icb24_geographr.csv", dtype=str)
    w = pd.read_csv(lookups / "lsoa21_ward24_lad24_geographr.csv", dtype=str)
    u = pd.read_csv(lookups / "lad23_utla23_geographr.csv", dtype=str)
    m = s.merge(w[["lsoa21_code", "ltla24_code", "ltla24_name"]], on="lsoa21_code", how="left")
    # 2023 and 2024 district codes are the same in England (the 2025 recodes come later)
    m = m.merge(u[["ltla23_code", "utla23_code", "utla23_name"]], left_on="ltla24_code", right_on="ltla23_code",
                how="left")
    lad_n = m.groupby("ltla24_code").size()
    utla_n = m.groupby("utla23_code").size()
    per_icb = s.groupby("icb24_code")["sicbl24_code"].nunique()
    rows = []
    for code, g in m.groupby("sicbl24_code", sort=True):
        official = g["sicbl24_name"].iloc[0]
        nhs = g["sicbl24_code_nhs"].iloc[0]
        if per_icb[g["icb24_code"].iloc[0]] == 1:
            usual = _short_icb(g["icb24_name"].iloc[0])
        else:
            parts: list[tuple[int, str]] = []     # (LSOAs of the place in it, words)
            for (ucode, uname), ug in g.groupby(["utla23_code", "utla23_name"], sort=True):
                share = len(ug) / utla_n[ucode]
                if share == 1.0:
                    parts.append((len(ug), uname))
                    continue
                if share >= 0.9:
                    parts.append((len(ug), f"most of {uname}"))
                    continue
                for (lcode, lname), lg in ug.groupby(["ltla24_code", "ltla24_name"], sort=True):
                    ls = len(lg) / lad_n[lcode]
                    words = lname if ls == 1.0 else f"most of {lname}" if ls >= 0.5 else f"part of {lname}"
                    parts.append((len(lg), words))
            parts.sort(key=lambda p: (-p[0], p[1]))
            kept, held = [], 0
            for n, words in parts:
                kept.append(words)
                held += n
                if held >= 0.9 * len(g):
                    break
            usual = _join(kept)
        rows.append((code, nhs, official, f"{usual} ({nhs})"))
    return pd.DataFrame(rows, columns=["place_code", "place_code_nhs", "official_name", "usual_name"])


def main(lookups: Path, out: Path = ROOT / "shapefiles") -> int:
    wards = make_wards(lookups)
    wards.to_csv(out / "wards_2024.csv", index=False, lineterminator="\n")
    names = make_place_names(lookups)
    names.to_csv(out / "place_names_2024.csv", index=False, lineterminator="\n")
    print(f"wrote {out / 'wards_2024.csv'}: {len(wards)} wards; "
          f"{out / 'place_names_2024.csv'}: {len(names)} places")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data" / "raw" / "lookups",
                  *([Path(sys.argv[2])] if len(sys.argv) > 2 else [])))
