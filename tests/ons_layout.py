"""DEVELOPER-MADE lookups laid out like the ONS April 2026 LSOA -> sub-ICB location -> ICB
lookup, written from icbmap's own bundled tables (``shapefiles/lsoa21_england.csv`` and the
April 2026 configuration under ``shapefiles/configurations/``).

They are not the official file: their board of each LSOA is icbmap's derived April 2026
configuration (Frimley by district), and East Berkshire's sub-ICB location carries its NHS
code where the ONS code is not known.  They exercise the column layout of the official
release (``LSOA21CD, LSOA21NM, SICBL26CD, SICBL26NM, ICB26CD, ICB26NM, LAD26CD, LAD26NM``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from icbmap.atlas.bundle import CONFIG_DIR, LSOA_FILE, configuration_units, read_configurations
from icbmap.atlas.facts import Facts
from icbmap.paths import shapefiles_dir

#: the layout of the issue / the ONS April 2026 release
ONS_2026_COLUMNS = ["LSOA21CD", "LSOA21NM", "SICBL26CD", "SICBL26NM", "ICB26CD", "ICB26NM", "LAD26CD", "LAD26NM"]
#: the same with the NHS codes and the NHS England region, as the ArcGIS service serves it
ONS_2026_FULL = ["LSOA21CD", "LSOA21NM", "SICBL26CD", "SICBL26CDH", "SICBL26NM", "ICB26CD", "ICB26CDH", "ICB26NM",
                 "NHSER26CD", "NHSER26NM", "LAD26CD", "LAD26NM"]


def lookup_2026(key: str = "2026") -> pd.DataFrame:
    """One row per English LSOA in the ONS 2026 layout (every column of :data:`ONS_2026_FULL`)."""
    folder = shapefiles_dir()
    lsoa = pd.read_csv(folder / LSOA_FILE, dtype=str, keep_default_na=False)
    _, configs = read_configurations(folder / CONFIG_DIR)
    cfg = configs[key]
    units = configuration_units(lsoa, cfg)
    boards = cfg["boards"].set_index("icb_code")
    places = cfg["places"].set_index("place_code")
    lads = Facts.load().lads.set_index("lad_code")["lad_name"]
    return pd.DataFrame({
        "LSOA21CD": lsoa["code"], "LSOA21NM": lsoa["name"],
        "SICBL26CD": units["place_code"], "SICBL26CDH": units["place_code"].map(places["place_code_nhs"]),
        "SICBL26NM": units["place_name"],
        "ICB26CD": units["board_code"], "ICB26CDH": units["board_code"].map(boards["icb_code_nhs"]),
        "ICB26NM": units["board_code"].map(boards["icb_name"]),
        "NHSER26CD": units["board_code"].map(boards["nhs_region_code"]),
        "NHSER26NM": units["board_code"].map(boards["nhs_region_name"]),
        "LAD26CD": lsoa["lad_code"], "LAD26NM": lsoa["lad_code"].map(lads),
    })


def write_lookup_2026(path: Path, columns=ONS_2026_COLUMNS, frame: pd.DataFrame | None = None) -> Path:
    frame = lookup_2026() if frame is None else frame
    frame[list(columns)].to_csv(path, index=False, encoding="utf-8-sig")
    return path
