"""The bundled ONS fact tables under ``shapefiles/`` (see ``shapefiles/SOURCES.md``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from icbmap.atlas.model import Provenance
from icbmap.errors import DataError
from icbmap.paths import shapefiles_dir

LAD_FILE = "lad_2025.csv"
CA_FILE = "combined_authorities_2025.csv"
ICB_FILE = "icb_region_2022.csv"
RECODE_FILE = "lad_recodes.csv"

LAD_COLUMNS = ["lad_code", "lad_name", "lad_type", "council_code", "council_name",
               "region_code", "region_name", "ca_code", "ca_name", "population_census2021"]
CA_COLUMNS = ["ca_code", "ca_name", "kind", "mayoral", "member_lad_codes"]
ICB_COLUMNS = ["icb_code", "icb_code_nhs", "icb_name", "nhs_region_code", "nhs_region_name"]

LAD_PROVENANCE = Provenance(
    source="ONS local authority districts, counties and unitary authorities; combined "
           "authorities; Census 2021 usual residents (TS001) summed by district",
    vintage="LAD and CA codes 2025; population Census 2021",
)
CA_PROVENANCE = Provenance(
    source="ONS combined authorities (2025) and the Greater London Authority",
    vintage="2025",
)
ICB_PROVENANCE = Provenance(
    source="ONS Sub-ICB Location to ICB to NHS England Region lookup",
    vintage="July 2022",
)


def read_csv_checked(path: Path, columns: list[str], **kwargs) -> pd.DataFrame:
    """Read a CSV and insist on ``columns``; errors name the file and the problem."""
    if not path.exists():
        raise DataError(path, "file not found")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, **kwargs)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise DataError(path, f"not a readable CSV file ({exc.__class__.__name__}: {exc})") from exc
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError(path, f"missing column(s) {', '.join(missing)}; found {', '.join(map(str, df.columns[:12]))}")
    return df


@dataclass
class Facts:
    lads: pd.DataFrame
    cas: pd.DataFrame
    icbs: pd.DataFrame
    recodes: dict[str, str]

    @classmethod
    def load(cls, folder: Path | None = None) -> "Facts":
        folder = Path(folder) if folder else shapefiles_dir()
        lads = read_csv_checked(folder / LAD_FILE, LAD_COLUMNS)
        lads["population_census2021"] = pd.to_numeric(lads["population_census2021"], errors="raise").astype("int64")
        cas = read_csv_checked(folder / CA_FILE, CA_COLUMNS)
        icbs = read_csv_checked(folder / ICB_FILE, ICB_COLUMNS)
        recodes: dict[str, str] = {}
        rpath = folder / RECODE_FILE
        if rpath.exists():
            rc = read_csv_checked(rpath, ["old_code", "new_code"])
            recodes = dict(zip(rc["old_code"], rc["new_code"]))
        return cls(lads, cas, icbs, recodes)

    def recode_lad(self, codes: pd.Series) -> pd.Series:
        """Map older district codes (e.g. 2024 Barnsley, Sheffield) to 2025 codes."""
        return codes.map(lambda c: self.recodes.get(c, c))
