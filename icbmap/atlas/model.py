"""The atlas: England's geography for the rest of the program (Qt-free).

Units are LSOAs, held as rows ``0..n-1`` of ``Atlas.units``; every other table refers to
them by integer index.  Reference layers (districts, councils, combined authorities,
places, boards, NHS regions) are dissolved from the units at build time and each row ``i``
of a layer is area index ``i`` at that level.  The hot paths (plan, metrics, map colouring)
use the integer arrays returned by :meth:`Atlas.unit_level` and :meth:`Atlas.members`,
never per-unit Python objects.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd

from icbmap.atlas.cache import DerivedCache

CRS = "EPSG:27700"

#: Reference levels, in the order planners think of them.
LEVELS: tuple[str, ...] = ("district", "council", "ca", "place", "board", "region")

LEVEL_LABELS = {
    "unit": "LSOA",
    "district": "District",
    "council": "Council",
    "ca": "Combined authority",
    "place": "Place (sub-ICB location)",
    "board": "Board (ICB)",
    "region": "NHS region",
}

LEVEL_PLURALS = {
    "unit": "LSOAs",
    "district": "districts",
    "council": "councils",
    "ca": "combined authorities",
    "place": "places",
    "board": "boards",
    "region": "NHS regions",
}

OGL = "Open Government Licence v3.0"
ONS_ATTRIBUTION = (
    "Source: Office for National Statistics licensed under the Open Government Licence v.3.0. "
    "Contains OS data \u00a9 Crown copyright and database right"
)
NHS_ATTRIBUTION = (
    "Contains public sector information licensed under the Open Government Licence v3.0 "
    "(NHS England / NHS Digital)"
)


@dataclass(frozen=True)
class Provenance:
    """Where a layer's figures come from."""

    source: str
    vintage: str
    licence: str = OGL
    attribution: str = ONS_ATTRIBUTION
    note: str = ""

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Provenance":
        return cls(**{k: d.get(k, "") for k in ("source", "vintage", "licence", "attribution", "note")})

    def line(self) -> str:
        text = f"{self.source} ({self.vintage}; {self.licence})"
        return f"{text} \u2014 {self.note}" if self.note else text


@dataclass
class Layer:
    """One reference layer: row ``i`` is area ``i`` at this level.

    ``table`` has at least ``code``, ``name``, ``population`` and ``geometry`` (EPSG:27700).
    """

    level: str
    table: gpd.GeoDataFrame
    provenance: Provenance

    def __len__(self) -> int:
        return len(self.table)

    @property
    def codes(self) -> np.ndarray:
        return self.table["code"].to_numpy(dtype=object)

    @property
    def names(self) -> np.ndarray:
        return self.table["name"].to_numpy(dtype=object)

    @property
    def population(self) -> np.ndarray:
        return self.table["population"].to_numpy(dtype=np.int64)

    @property
    def geometry(self) -> np.ndarray:
        return self.table.geometry.to_numpy()

    @cached_property
    def _index(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.table["code"])}

    def index_of(self, code: str) -> int:
        """Index of the area with ``code``; ``KeyError`` if unknown."""
        return self._index[code]

    def get(self, code: str) -> int | None:
        return self._index.get(code)


@dataclass
class Adjacency:
    """Unit adjacency in CSR form.

    Rule: two LSOAs are neighbours when their repaired boundaries share a line of positive
    length (rook contiguity; touching at a point does not count).  Landmasses with no land
    neighbour on the mainland (Isle of Wight, Isles of Scilly, estuary islands) are joined
    to the nearest mainland unit by one *bridge* edge each, so contiguity checks treat an
    island as attached to the coast it faces.  ``shared`` is the shared boundary length in
    metres (0 for bridges).
    """

    indptr: np.ndarray
    indices: np.ndarray
    shared: np.ndarray
    bridge: np.ndarray  # bool per stored edge

    @classmethod
    def from_pairs(cls, n: int, a: np.ndarray, b: np.ndarray, shared: np.ndarray,
                   bridge: np.ndarray) -> "Adjacency":
        a = np.asarray(a, dtype=np.int64)
        b = np.asarray(b, dtype=np.int64)
        src = np.concatenate([a, b])
        dst = np.concatenate([b, a])
        sh = np.concatenate([shared, shared]).astype(np.float64)
        br = np.concatenate([bridge, bridge]).astype(bool)
        order = np.lexsort((dst, src))
        src, dst, sh, br = src[order], dst[order], sh[order], br[order]
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.add.at(indptr, src + 1, 1)
        np.cumsum(indptr, out=indptr)
        return cls(indptr, dst.astype(np.int32), sh, br)

    @property
    def n(self) -> int:
        return len(self.indptr) - 1

    def neighbours(self, i: int) -> np.ndarray:
        return self.indices[self.indptr[i]:self.indptr[i + 1]]

    def degree(self) -> np.ndarray:
        return np.diff(self.indptr)

    def pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Each undirected edge once: ``(a, b, shared, bridge)`` with ``a < b``."""
        src = np.repeat(np.arange(self.n), np.diff(self.indptr))
        keep = src < self.indices
        return src[keep], self.indices[keep].astype(np.int64), self.shared[keep], self.bridge[keep]


@dataclass
class Reference:
    """A reference geography: named areas over the units, measured like councils.

    ``key`` is the metrics level name (``"ref:" + name``).  ``layer.table`` has ``code``,
    ``name``, ``population`` plus ``status``, ``date`` and ``code_kind`` ("ONS" or "local
    (not ONS)"); its geometry is dissolved from the units on first use (:meth:`geometry`).
    ``unit_area`` is the area index of every unit (-1 = outside every area).  ``report``
    holds how it was made (cut LSOAs, rows left out) as plain data.
    """

    name: str
    label: str
    layer: Layer
    unit_area: np.ndarray
    source: str = ""          # "bundled" or the file it was added from
    report: dict = field(default_factory=dict)
    level: str = "lsoa"       # what it was made from: district, council or lsoa codes
    members: pd.DataFrame | None = None   # member code -> area (code, name, status, date, code_kind)

    @property
    def key(self) -> str:
        return REFERENCE_PREFIX + self.name

    def __len__(self) -> int:
        return len(self.layer)


#: Metrics level names of reference geographies start with this.
REFERENCE_PREFIX = "ref:"


def is_reference_level(level: str) -> bool:
    return level.startswith(REFERENCE_PREFIX)


@dataclass
class Atlas:
    """England's geography: units, reference layers, adjacency and provenance.

    ``units`` columns: ``code, name, district, council, ca, region, place, board`` (integer
    area indices; ``ca`` is -1 outside any combined authority), ``population`` (int64),
    ``x, y`` (a representative point inside the unit, EPSG:27700) and ``geometry``.
    """

    units: gpd.GeoDataFrame
    layers: dict[str, Layer]
    adjacency: Adjacency
    provenance: dict[str, Provenance]
    meta: dict = field(default_factory=dict)
    practices: pd.DataFrame | None = None
    #: only while building a pack with several board configurations: key -> {"place",
    #: "board", "region": unit index arrays, "layers": {level: Layer}} (see atlas.bundle)
    configurations: dict | None = None
    #: with ``configurations``: per practice, ``place_<key>`` and ``board_<key>``
    practice_configs: pd.DataFrame | None = None
    #: reference geographies attached at load time (key ``"ref:<name>"``)
    references: dict = field(default_factory=dict)
    #: NHS trusts placed by headquarters postcode (attached at load time), or None
    trusts: pd.DataFrame | None = None
    #: per unit, its April 2026 board code when the atlas is drawn with another configuration of a
    #: pack holding them (set at load; the 2025 clusters follow it: icbmap.atlas.expected_2027)
    board_codes_2026: np.ndarray | None = None
    #: tables other packages derive from this atlas, by name (see :mod:`icbmap.atlas.cache`);
    #: not an argument, so ``dataclasses.replace`` and ``copy.copy`` give the copy its own
    derived: DerivedCache = field(default_factory=DerivedCache, init=False, repr=False, compare=False)

    def __copy__(self) -> "Atlas":
        """A shallow copy with its own derived tables (and its own provenance dict), so a
        change to the copy's parts never shows through the original's caches."""
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.derived = DerivedCache()
        new.provenance = dict(self.provenance)
        return new

    # ------------------------------------------------------------------ parts that change
    def set_practices(self, table: pd.DataFrame | None, provenance: Provenance | None = None) -> None:
        """Attach the GP practices table (see ``docs/design.md``) and its provenance; the
        tables derived from the practices are dropped."""
        self.practices = table
        if provenance is not None:
            self.provenance = {**self.provenance, "practices": provenance}
        self.derived.invalidate("practices")

    def set_trusts(self, table: pd.DataFrame | None, provenance: Provenance | None = None) -> None:
        """Attach the NHS trusts table and its provenance; tables derived from it are dropped."""
        self.trusts = table
        if provenance is not None:
            self.provenance = {**self.provenance, "trusts": provenance}
        self.derived.invalidate("trusts")

    def set_references(self, references: dict) -> None:
        """Replace the attached reference geographies (key ``"ref:<name>"``)."""
        self.references = dict(references)
        self.derived.invalidate("references")

    def add_reference(self, key: str, reference) -> None:
        """Attach (or replace) one reference geography."""
        self.references[key] = reference
        self.derived.invalidate("references")

    # ------------------------------------------------------------------ basics
    @property
    def name(self) -> str:
        return self.meta.get("name", "unnamed")

    @property
    def content_hash(self) -> str:
        return self.meta.get("content_hash", "")

    @property
    def n_units(self) -> int:
        return len(self.units)

    # ------------------------------------------------------------ baselines
    @property
    def baseline(self) -> str:
        """Key of the board configuration the atlas is drawn with ("2026"), or "" for a pack
        holding a single configuration (an imported pack)."""
        return str(self.meta.get("baseline", "") or "")

    @property
    def baselines(self) -> list[dict]:
        """The configurations this pack holds (key, label, vintage, status, boards, source, note)."""
        return list(self.meta.get("configurations", []) or [])

    def baseline_info(self, key: str | None = None) -> dict:
        key = self.baseline if key is None else key
        for c in self.baselines:
            if str(c.get("key")) == key:
                return c
        return {}

    @property
    def baseline_label(self) -> str:
        """How the baseline is named everywhere it shows, e.g. "April 2026 boards (36, derived)"."""
        info = self.baseline_info()
        if info.get("baseline_label"):      # e.g. the expected April 2027 map: its own wording
            return str(info["baseline_label"])
        if info:
            status = info.get("status", "")
            n = info.get("boards", len(self.layers["board"]))
            return f"{info.get('vintage', info.get('key'))} boards ({n}{', ' + status if status else ''})"
        label = self.meta.get("baseline_label")
        if label:
            return str(label)
        vintage = self.layers["board"].provenance.vintage if "board" in self.layers else ""
        return f"{vintage} boards" if vintage else "baseline boards"

    @property
    def population_basis(self) -> str:
        """How unit populations were obtained, e.g. "apportioned from district totals"."""
        return self.meta.get("population_basis", "")

    @property
    def population_estimated(self) -> bool:
        return bool(self.meta.get("population_estimated", False))

    @cached_property
    def population(self) -> np.ndarray:
        return self.units["population"].to_numpy(dtype=np.int64)

    @cached_property
    def total_population(self) -> int:
        return int(self.population.sum())

    def layer(self, level: str) -> Layer:
        return self.layers[level]

    # ------------------------------------------------------------ lookups
    @cached_property
    def _unit_index(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.units["code"])}

    def unit_index(self, code: str) -> int | None:
        return self._unit_index.get(code)

    @cached_property
    def unit_codes(self) -> np.ndarray:
        return self.units["code"].to_numpy(dtype=object)

    @cached_property
    def _levels(self) -> dict[str, np.ndarray]:
        return {lvl: self.units[lvl].to_numpy(dtype=np.int32) for lvl in LEVELS}

    def unit_level(self, level: str) -> np.ndarray:
        """Area index of every unit at ``level`` (int32; -1 = none, only for ``ca`` and
        reference geographies ``"ref:<name>"``)."""
        if is_reference_level(level):
            return self.references[level].unit_area
        return self._levels[level]

    def level_layer(self, level: str) -> Layer:
        """The layer of a built-in level or of a reference geography (``"ref:<name>"``)."""
        if is_reference_level(level):
            return self.references[level].layer
        return self.layers[level]

    def level_label(self, level: str) -> str:
        if is_reference_level(level):
            return self.references[level].label if level in self.references else level[len(REFERENCE_PREFIX):]
        return LEVEL_LABELS.get(level, level)

    @cached_property
    def _members(self) -> dict[str, list[np.ndarray]]:
        out: dict[str, list[np.ndarray]] = {}
        for lvl in LEVELS:
            idx = self._levels[lvl]
            n = len(self.layers[lvl])
            order = np.argsort(idx, kind="stable")
            bounds = np.searchsorted(idx[order], np.arange(n + 1))
            out[lvl] = [order[bounds[i]:bounds[i + 1]] for i in range(n)]
        return out

    def members(self, level: str, area: int) -> np.ndarray:
        """Unit indices belonging to area ``area`` at ``level`` (sorted)."""
        if level == "unit":
            return np.array([area], dtype=np.int64)
        if is_reference_level(level):
            return np.flatnonzero(self.references[level].unit_area == area)
        return self._members[level][area]

    @cached_property
    def unit_xy(self) -> np.ndarray:
        return self.units[["x", "y"]].to_numpy(dtype=np.float64)

    @cached_property
    def bounds(self) -> tuple[float, float, float, float]:
        return tuple(float(v) for v in self.units.total_bounds)

    def area_label(self, level: str, area: int) -> str:
        if level == "unit":
            row = self.units.iloc[area]
            return f"{row['name']} ({row['code']})"
        t = self.level_layer(level).table
        return f"{t['name'].iat[area]} ({t['code'].iat[area]})"

    # ------------------------------------------------------------- summary
    def summary(self) -> list[dict]:
        """One row per layer: level, count, population, source, vintage, licence."""
        rows = [{
            "layer": "unit",
            "label": LEVEL_PLURALS["unit"],
            "count": self.n_units,
            "population": self.total_population,
            "provenance": self.provenance["unit"],
        }]
        if "population" in self.provenance:
            rows[0]["population_provenance"] = self.provenance["population"]
        for lvl in LEVELS:
            layer = self.layers[lvl]
            rows.append({
                "layer": lvl,
                "label": LEVEL_PLURALS[lvl],
                "count": len(layer),
                "population": int(layer.population.sum()),
                "provenance": layer.provenance,
            })
        return rows
