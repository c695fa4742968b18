"""Electoral wards (December 2024) over the LSOAs, for finding places by town name.  Qt-free.

``shapefiles/wards_2024.csv`` (made by ``shapefiles/scripts/make_names.py`` from the ONS
LSOA (2021) -> ward (2024) -> LAD (2024) best-fit lookup) lists each English ward with its
district and its LSOAs.  Wards are a search aid only: an LSOA belongs to the one ward the
ONS best fit gives it, so a ward here is made of whole LSOAs and may differ a little from the
ward's legal boundary.  A *town* is what a planner types: the wards of one district whose
names start with the same word(s), e.g. "Royston" finds Royston Heath, Royston Meridian and
Royston Palace in North Hertfordshire as one hit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from icbmap.atlas.place_names import read_bundled_table

BUNDLED_FILE = "wards_2024.csv"
SOURCE = ("ONS LSOA (2021) to Electoral Ward (2024) to LAD (2024) best-fit lookup "
          "(shapefiles/wards_2024.csv; Open Government Licence v3.0)")


@dataclass
class Wards:
    code: list[str]
    name: list[str]
    district: list[str]
    units: list[np.ndarray]      # unit indices of the atlas, per ward
    population: np.ndarray


def read_wards(atlas) -> Wards | None:
    """The bundled wards with their units in ``atlas`` (wards with none are left out)."""
    t = read_bundled_table(BUNDLED_FILE, {"ward_code", "ward_name", "district_name", "lsoas"}, 20_000, "wards")
    if t is None:
        return None
    index = {c: i for i, c in enumerate(atlas.units["code"].astype(str))}
    pop = atlas.population
    out = Wards([], [], [], [], np.zeros(0, np.int64))
    pops = []
    for code, name, district, lsoas in zip(t["ward_code"], t["ward_name"], t["district_name"], t["lsoas"]):
        units = np.array(sorted(index[c] for c in lsoas.split() if c in index), dtype=np.int64)
        if len(units) == 0:
            continue
        out.code.append(code)
        out.name.append(name)
        out.district.append(district)
        out.units.append(units)
        pops.append(int(pop[units].sum()))
    out.population = np.array(pops, dtype=np.int64)
    return out
