"""An RFC 7946 GeoJSON checker (used by the tests and by ``icbmap export`` self-checks).

``check(obj)`` returns a list of problems, empty when the document conforms to what this
program promises a recipient:

* the structure of RFC 7946 sections 3.1-3.3 (types, members, positions);
* no ``crs`` member anywhere (removed from GeoJSON by RFC 7946, section 4);
* positions in longitude, latitude order within -180..180 and -90..90 (with
  ``expect_bounds`` the positions must also fall inside a known box, which catches
  swapped axes: England at latitude 1 and longitude 52 would fail);
* linear rings closed with at least four positions (3.1.6), exterior rings
  counter-clockwise and holes clockwise (the right-hand rule of 3.1.6);
* a ``bbox`` (5), if present, of 2*n numbers containing every position;
* optionally, every polygon valid in the OGC simple-features sense (via shapely).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

GEOMETRY_TYPES = {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon",
                  "MultiPolygon", "GeometryCollection"}


def check_file(path: str | Path, **kwargs) -> list[str]:
    with open(path, "rb") as fh:
        try:
            obj = json.load(fh)
        except ValueError as exc:
            return [f"not JSON: {exc}"]
    return check(obj, **kwargs)


def check(obj, expect_bounds: tuple[float, float, float, float] | None = None,
          validity: bool = True, max_problems: int = 50) -> list[str]:
    c = _Checker(expect_bounds, validity, max_problems)
    c.document(obj)
    return c.problems


def ring_signed_area(ring) -> float:
    """Shoelace signed area of a closed ring of [x, y] positions (> 0 counter-clockwise)."""
    s = 0.0
    for (x1, y1, *_), (x2, y2, *_) in zip(ring[:-1], ring[1:]):
        s += x1 * y2 - x2 * y1
    return s / 2.0


class _Full(Exception):
    pass


class _Checker:
    def __init__(self, expect_bounds, validity, max_problems):
        self.expect = expect_bounds
        self.validity = validity
        self.max = max_problems
        self.problems: list[str] = []
        self.lo = [math.inf, math.inf]
        self.hi = [-math.inf, -math.inf]

    def fail(self, where: str, problem: str) -> None:
        self.problems.append(f"{where}: {problem}")
        if len(self.problems) >= self.max:
            raise _Full

    # ---------------------------------------------------------------- documents
    def document(self, obj) -> None:
        try:
            if not isinstance(obj, dict):
                self.fail("document", "top level is not a JSON object")
                return
            self._no_crs(obj, "document")
            t = obj.get("type")
            if t == "FeatureCollection":
                feats = obj.get("features")
                if not isinstance(feats, list):
                    self.fail("document", "FeatureCollection without a 'features' array")
                    return
                for i, f in enumerate(feats):
                    self.feature(f, f"features[{i}]")
            elif t == "Feature":
                self.feature(obj, "feature")
            elif t in GEOMETRY_TYPES:
                self.geometry(obj, "geometry")
            else:
                self.fail("document", f"unknown GeoJSON type {t!r}")
                return
            if "bbox" in obj:
                self.bbox(obj["bbox"], "document")
        except _Full:
            pass

    def _no_crs(self, obj: dict, where: str) -> None:
        if "crs" in obj:
            self.fail(where, "has a 'crs' member (not allowed by RFC 7946; coordinates are WGS84)")

    def feature(self, f, where: str) -> None:
        if not isinstance(f, dict) or f.get("type") != "Feature":
            self.fail(where, "not a Feature object")
            return
        self._no_crs(f, where)
        if "geometry" not in f:
            self.fail(where, "no 'geometry' member")
        elif f["geometry"] is not None:
            self.geometry(f["geometry"], where + ".geometry")
        if "properties" not in f:
            self.fail(where, "no 'properties' member")
        elif f["properties"] is not None and not isinstance(f["properties"], dict):
            self.fail(where, "'properties' is neither an object nor null")
        if "id" in f and not isinstance(f["id"], (str, int, float)):
            self.fail(where, "'id' is neither a string nor a number")
        if "bbox" in f:
            self.bbox(f["bbox"], where)

    # ---------------------------------------------------------------- geometry
    def geometry(self, g, where: str) -> None:
        if not isinstance(g, dict) or g.get("type") not in GEOMETRY_TYPES:
            self.fail(where, "not a GeoJSON geometry object")
            return
        self._no_crs(g, where)
        t = g["type"]
        if t == "GeometryCollection":
            geoms = g.get("geometries")
            if not isinstance(geoms, list):
                self.fail(where, "GeometryCollection without 'geometries'")
                return
            for i, sub in enumerate(geoms):
                self.geometry(sub, f"{where}.geometries[{i}]")
            return
        c = g.get("coordinates")
        if t == "Point":
            self.position(c, where)
        elif t in ("MultiPoint", "LineString"):
            self.positions(c, where, minimum=2 if t == "LineString" else 0)
        elif t == "MultiLineString":
            if self._is_list(c, where):
                for i, line in enumerate(c):
                    self.positions(line, f"{where}[{i}]", minimum=2)
        elif t == "Polygon":
            self.polygon(c, where)
        elif t == "MultiPolygon":
            if self._is_list(c, where):
                for i, poly in enumerate(c):
                    self.polygon(poly, f"{where}[{i}]")
        if self.validity and t in ("Polygon", "MultiPolygon") and not self.problems:
            self._valid(g, where)

    def _is_list(self, c, where: str) -> bool:
        if not isinstance(c, list):
            self.fail(where, "'coordinates' is not an array")
            return False
        return True

    def position(self, p, where: str) -> bool:
        if (not isinstance(p, list) or not 2 <= len(p) <= 3
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                           for v in p)):
            self.fail(where, f"bad position {p!r:.60}")
            return False
        lon, lat = p[0], p[1]
        if not -180 <= lon <= 180 or not -90 <= lat <= 90:
            self.fail(where, f"position {p!r} is not longitude, latitude within -180..180, -90..90")
            return False
        if self.expect is not None:
            w, s, e, n = self.expect
            if not (w <= lon <= e and s <= lat <= n):
                self.fail(where, f"position {p!r} lies outside the expected area {self.expect} "
                                 "(swapped coordinate order or wrong CRS?)")
                return False
        self.lo[0] = min(self.lo[0], lon)
        self.lo[1] = min(self.lo[1], lat)
        self.hi[0] = max(self.hi[0], lon)
        self.hi[1] = max(self.hi[1], lat)
        return True

    def positions(self, c, where: str, minimum: int = 0) -> bool:
        if not self._is_list(c, where):
            return False
        if len(c) < minimum:
            self.fail(where, f"needs at least {minimum} positions, has {len(c)}")
            return False
        return all([self.position(p, where) for p in c])

    def polygon(self, rings, where: str) -> None:
        if not self._is_list(rings, where):
            return
        if not rings:
            self.fail(where, "polygon with no rings")
            return
        for k, ring in enumerate(rings):
            w = f"{where} ring {k}"
            if not self.positions(ring, w, minimum=4):
                continue
            if ring[0] != ring[-1]:
                self.fail(w, "ring is not closed (first and last positions differ)")
                continue
            area = ring_signed_area(ring)
            if k == 0 and area <= 0:
                self.fail(w, "exterior ring is not counter-clockwise (right-hand rule)")
            elif k > 0 and area >= 0:
                self.fail(w, "hole is not clockwise (right-hand rule)")

    def _valid(self, g, where: str) -> None:
        import shapely

        try:
            geom = shapely.geometry.shape(g)
        except Exception as exc:  # noqa: BLE001 - any failure is a finding
            self.fail(where, f"cannot be read as a geometry ({exc})")
            return
        if not shapely.is_valid(geom):
            self.fail(where, f"invalid geometry: {shapely.is_valid_reason(geom)}")

    def bbox(self, b, where: str) -> None:
        if (not isinstance(b, list) or len(b) not in (4, 6)
                or not all(isinstance(v, (int, float)) for v in b)):
            self.fail(where, f"bad bbox {b!r:.80}")
            return
        half = len(b) // 2
        w, s, e, n = b[0], b[1], b[half], b[half + 1]
        if s > n:
            self.fail(where, "bbox south is greater than north")
        if self.lo[0] <= self.hi[0] and where == "document":
            if self.lo[1] < s or self.hi[1] > n or (w <= e and (self.lo[0] < w or self.hi[0] > e)):
                self.fail(where, f"bbox {b} does not contain every position "
                                 f"({[self.lo[0], self.lo[1], self.hi[0], self.hi[1]]})")
