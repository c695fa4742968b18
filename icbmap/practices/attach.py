"""Attach GP practices to an atlas: read the files, place each practice, report.

``attach_practices(atlas, practices_path, practice_map_path=None, progress=None,
lsoa_path=None)`` sets ``atlas.practices`` (see :mod:`icbmap.atlas.practices_table`) and
``atlas.provenance["practices"]`` and returns an :class:`AttachReport`.

Rules, recorded per practice in ``report.detail``:

* **location** (``unit``, ``x``, ``y``): the practice postcode's grid reference in the ONS
  Postcode Directory, inside an LSOA, or the nearest LSOA within
  :data:`~icbmap.practices.place.NEAREST_M` metres (generalised coastlines).  Failing that,
  when a practice-by-LSOA file is given, the LSOA where most of its patients live
  (``x, y`` = that LSOA's representative point).  Otherwise the practice stays in the table
  with ``unit == -1`` and NaN ``x, y`` and is listed in ``report.unplaced`` with the reason.
* **baseline place and board**: the practice's own sub-ICB location in the registrations
  file (ONS code, else NHS three-character code) when the atlas has it; else the map
  file's; else the place of the LSOA containing the practice (old CCG codes that no longer
  exist).  The board is the place's board.
* **PCN** and **name**: from the map file, by practice code.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from icbmap.atlas.model import NHS_ATTRIBUTION, OGL, Atlas, Provenance
from icbmap.practices import place as pl
from icbmap.practices.readers import (
    Table, human_date, normalise_postcode, read_practice_lsoa, read_practice_map, read_practice_totals,
)
from icbmap.atlas.practices_table import conform
from icbmap.progress import Progress

SOURCE = "NHS Digital, Patients Registered at a GP Practice"

# place rules
BY_FILE_CODE = "sub-ICB code in the registrations file"
BY_FILE_NHS_CODE = "sub-ICB NHS code in the registrations file"
BY_MAP_CODE = "sub-ICB code in the practice map"
BY_UNIT = "place of the containing LSOA"
NO_PLACE = "none"

# extra location rule (practice-by-LSOA file)
BY_LSOA_FILE = "LSOA where most of its patients live (practice-by-LSOA file)"


@dataclass
class AttachReport:
    """What :func:`attach_practices` did.  ``unplaced`` lists practices without a unit
    (``code, name, postcode, patients, reason``); ``detail`` has one row per practice of the
    table (same order) with ``code, locate_rule, place_rule, distance_m``."""

    source: str
    extract_date: str
    practices: int
    placed: int
    registered_total: int
    registered_placed: int
    unplaced: list[dict]
    locate_rules: dict[str, int]
    place_rules: dict[str, int]
    provenance: Provenance
    detail: pd.DataFrame
    map_source: str | None = None
    map_extract_date: str = ""
    pcn_attached: int = 0
    map_only: int = 0
    cross_place: int = 0
    lsoa: dict | None = None
    registered_by_unit: np.ndarray | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def placed_fraction(self) -> float:
        return self.placed / self.practices if self.practices else 0.0

    @property
    def vintage(self) -> str:
        return self.provenance.vintage

    def to_dict(self) -> dict:
        """JSON-friendly summary (no per-practice detail)."""
        return {
            "source": self.source, "extract_date": self.extract_date, "practices": self.practices,
            "placed": self.placed, "registered_total": self.registered_total,
            "registered_placed": self.registered_placed, "unplaced": self.unplaced,
            "locate_rules": self.locate_rules, "place_rules": self.place_rules,
            "map_source": self.map_source, "map_extract_date": self.map_extract_date,
            "pcn_attached": self.pcn_attached, "map_only": self.map_only,
            "cross_place": self.cross_place, "lsoa": self.lsoa, "warnings": self.warnings,
            "provenance": self.provenance.to_dict(),
        }

    def lines(self) -> list[str]:
        """A human summary for the CLI and the app's import dialog."""
        out = [
            f"GP practices: {self.practices:,} from {Path(self.source).name} "
            f"(extract {human_date(self.extract_date) or 'date unknown'})",
            f"  placed by postcode: {self.placed:,} ({100 * self.placed_fraction:.2f}%); "
            f"unplaced: {len(self.unplaced):,}",
            f"  registered patients: {self.registered_total:,} "
            f"({self.registered_placed:,} at placed practices)",
        ]
        for rule, n in self.locate_rules.items():
            out.append(f"    location: {rule}: {n:,}")
        for rule, n in self.place_rules.items():
            out.append(f"    baseline place: {rule}: {n:,}")
        if self.cross_place:
            out.append(f"  {self.cross_place:,} practice(s) belong to a place other than the one "
                       "their postcode lies in (kept with their own place)")
        if self.map_source:
            out.append(f"  PCNs from {Path(self.map_source).name} "
                       f"(extract {human_date(self.map_extract_date) or 'date unknown'}): "
                       f"{self.pcn_attached:,} practice(s) matched; "
                       f"{self.practices - self.pcn_attached:,} without a PCN; "
                       f"{self.map_only:,} map row(s) for practices not in the registrations file")
        if self.lsoa:
            d = self.lsoa
            out.append(f"  patients by LSOA from {Path(d['source']).name}: {d['patients']:,} patients, "
                       f"{d['patients_matched']:,} ({100 * d['matched_fraction']:.1f}%) in LSOAs of the atlas")
        for u in self.unplaced[:20]:
            out.append(f"  unplaced {u['code']} {u['postcode']!r} ({u['patients']:,} patients): {u['reason']}")
        if len(self.unplaced) > 20:
            out.append(f"  ... and {len(self.unplaced) - 20} more unplaced")
        for w in self.warnings:
            out.append(f"  warning: {w}")
        return out


# ---------------------------------------------------------------- place codes
def _place_nhs_codes(atlas: Atlas) -> dict[str, int]:
    """NHS three-character sub-ICB codes of the atlas places: a ``code_nhs`` column when the
    pack has one, else the suffix of names like ``"NHS South Yorkshire ICB - 02P"``."""
    t = atlas.layers["place"].table
    out: dict[str, int] = {}
    if "code_nhs" in t.columns:
        for i, c in enumerate(t["code_nhs"].astype(str)):
            if c:
                out[c.strip().upper()] = i
        return out
    for i, name in enumerate(t["name"].astype(str)):
        m = re.search(r"-\s*([0-9A-Z]{3})\s*$", name.strip().upper())
        if m:
            out[m.group(1)] = i
    return out


def _resolve_places(atlas: Atlas, totals: pd.DataFrame, mapped: pd.DataFrame | None,
                    unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = len(totals)
    layer = atlas.layers["place"]
    nhs = _place_nhs_codes(atlas)
    place = np.full(n, -1, dtype=np.int32)
    rule = np.full(n, NO_PLACE, dtype=object)

    def fill(codes, lookup, name):
        idx = np.array([lookup(c) if c else None for c in codes], dtype=object)
        hit = np.array([v is not None for v in idx]) & (place < 0)
        place[hit] = idx[hit].astype(np.int32)
        rule[hit] = name

    fill(totals["sub_icb_ons"], layer.get, BY_FILE_CODE)
    fill(totals["sub_icb_nhs"], nhs.get, BY_FILE_NHS_CODE)
    if mapped is not None:
        fill(mapped["sub_icb_ons"].fillna(""), layer.get, BY_MAP_CODE)
    by_unit = (place < 0) & (unit >= 0)
    place[by_unit] = atlas.unit_level("place")[unit[by_unit]]
    rule[by_unit] = BY_UNIT
    return place, rule


# ---------------------------------------------------------------- LSOA file
def _lsoa_summary(atlas: Atlas, lsoa: Table, codes: pd.Series) -> tuple[dict, np.ndarray, pd.Series]:
    t = lsoa.table
    unit = np.array([atlas.unit_index(c) if c else None for c in t["lsoa"]], dtype=object)
    matched = np.array([u is not None for u in unit])
    uidx = np.where(matched, unit, -1).astype(np.int64)
    pats = t["patients"].to_numpy(np.int64)
    by_unit = np.bincount(uidx[matched], weights=pats[matched], minlength=atlas.n_units).astype(np.int64)
    # the unit holding most of each practice's patients (ties: lower unit index)
    m = pd.DataFrame({"code": t["code"].to_numpy()[matched], "unit": uidx[matched], "n": pats[matched]})
    m = m.sort_values(["code", "n", "unit"], ascending=[True, False, True]).drop_duplicates("code")
    modal = m.set_index("code")["unit"]
    total = int(pats.sum())
    summary = {
        "source": str(lsoa.path),
        "extract_date": lsoa.extract_date,
        "lsoa_vintage": lsoa.columns.get("lsoa_vintage", ""),
        "rows": len(t),
        "practices": int(t["code"].nunique()),
        "practices_in_registrations": int(t["code"].drop_duplicates().isin(set(codes)).sum()),
        "patients": total,
        "patients_matched": int(pats[matched].sum()),
        "matched_fraction": float(pats[matched].sum() / total) if total else 0.0,
        "unmatched_codes": int(pd.Series(t["lsoa"].to_numpy()[~matched]).nunique()),
        "unmatched_examples": sorted(set(t["lsoa"].to_numpy()[~matched]))[:5],
    }
    return summary, by_unit, modal


# ---------------------------------------------------------------- the entry point
def attach_practices(atlas: Atlas, practices_path, practice_map_path=None,
                     progress: Progress | None = None, lsoa_path=None) -> AttachReport:
    """Read the practice files, place every practice and set ``atlas.practices``.

    ``practices_path``: ``gp-reg-pat-prac-all.csv`` (required); ``practice_map_path``:
    ``gp-reg-pat-prac-map.csv`` (PCNs, names; optional); ``lsoa_path``:
    ``gp-reg-pat-prac-lsoa-all.csv`` (optional; patients by LSOA of residence).  Raises
    :class:`~icbmap.errors.DataError` naming the file when one cannot be used.
    """
    progress = progress or Progress.silent()
    progress.step(0.0, "Reading GP practice registrations")
    totals = read_practice_totals(practices_path)
    warnings = [f"{Path(totals.path).name}: {w}" for w in totals.warnings]
    t = totals.table.sort_values("code", kind="stable").reset_index(drop=True)
    n = len(t)

    mp: Table | None = None
    mapped: pd.DataFrame | None = None
    if practice_map_path:
        progress.step(0.05, "Reading the practice to PCN map")
        mp = read_practice_map(practice_map_path)
        warnings += [f"{Path(mp.path).name}: {w}" for w in mp.warnings]
        mapped = t[["code"]].merge(mp.table, on="code", how="left")
        mapped.index = t.index

    lsoa: Table | None = None
    if lsoa_path:
        progress.step(0.1, "Reading patients by LSOA")
        lsoa = read_practice_lsoa(lsoa_path)
        warnings += [f"{Path(lsoa.path).name}: {w}" for w in lsoa.warnings]

    # ------------------------------------------------------------ postcodes -> points
    postcode, unit, locate_rule, distance, x, y, reason = _place_by_postcode(atlas, t, mapped, progress)

    # ------------------------------------------------------------ LSOA file
    lsoa_summary = by_unit = None
    if lsoa is not None:
        lsoa_summary, by_unit = _rescue_by_lsoa(atlas, lsoa, t, unit, x, y, reason, locate_rule, warnings,
                                                progress)

    # ------------------------------------------------------------ place, board, PCN
    progress.step(0.9, "Baseline places and boards")
    place, place_rule = _resolve_places(atlas, t, mapped, unit)
    place_board = atlas.layers["place"].table["board"].to_numpy(np.int32)
    board = np.where(place >= 0, place_board[np.maximum(place, 0)], -1).astype(np.int32)
    located_place = np.where(unit >= 0, atlas.unit_level("place")[np.maximum(unit, 0)], -1)
    cross = int(((unit >= 0) & (place >= 0) & (located_place != place)).sum())

    name, pcn_code, pcn_name, pcn_attached, map_only = _names_and_pcns(t, mapped, mp)

    table = conform(pd.DataFrame({
        "code": t["code"], "name": name, "postcode": postcode, "x": x, "y": y,
        "patients": t["patients"].to_numpy(np.int64), "pcn_code": pcn_code, "pcn_name": pcn_name,
        "place": place, "board": board, "unit": unit, "extract_date": totals.extract_date,
    }))

    placed = unit >= 0
    unplaced = [
        {"code": t["code"].iat[i], "name": str(name[i]), "postcode": str(postcode[i]),
         "patients": int(t["patients"].iat[i]), "reason": str(reason[i])}
        for i in np.flatnonzero(~placed)
    ]
    detail = pd.DataFrame({"code": t["code"].to_numpy(), "locate_rule": locate_rule,
                           "place_rule": place_rule, "distance_m": distance})

    extract = totals.extract_date
    prov = _provenance(extract, mp, lsoa)

    atlas.set_practices(table, prov)
    progress.step(1.0, f"Attached {n:,} GP practices")
    return AttachReport(
        source=str(totals.path), extract_date=extract, practices=n, placed=int(placed.sum()),
        registered_total=int(table["patients"].sum()),
        registered_placed=int(table["patients"].to_numpy()[placed].sum()),
        unplaced=unplaced, locate_rules=dict(Counter(locate_rule.tolist()).most_common()),
        place_rules=dict(Counter(place_rule.tolist()).most_common()), provenance=prov,
        detail=detail, map_source=str(mp.path) if mp else None,
        map_extract_date=mp.extract_date if mp else "", pcn_attached=pcn_attached,
        map_only=map_only, cross_place=cross, lsoa=lsoa_summary, registered_by_unit=by_unit,
        warnings=warnings,
    )


def _place_by_postcode(atlas: Atlas, t: pd.DataFrame, mapped, progress: Progress):
    """Each practice's postcode (the map's when the registrations file has none) looked up and
    located in an LSOA: ``(postcode, unit, locate_rule, distance, x, y, reason)``."""
    n = len(t)
    postcode = t["postcode"].to_numpy(dtype=object).copy()
    if mapped is not None:  # a blank postcode in the registrations file: the map's
        blank = (t["postcode"] == "").to_numpy() & mapped["postcode"].fillna("").ne("").to_numpy()
        postcode[blank] = mapped["postcode"].to_numpy(dtype=object)[blank]
    keys = np.array([normalise_postcode(p) for p in postcode], dtype=object)
    grid = pl.lookup_postcodes(keys, progress.sub(0.15, 0.6))
    progress.step(0.6, "Placing practices in LSOAs")
    gx = grid["x"].reindex(keys).to_numpy(np.float64)
    gy = grid["y"].reindex(keys).to_numpy(np.float64)
    known = np.isin(keys, grid.index.to_numpy())
    loc = pl.locate(atlas.units.geometry.to_numpy(), gx, gy)
    unit = loc.unit.astype(np.int64)
    locate_rule = loc.rule.copy()
    locate_rule[~known] = pl.UNKNOWN_POSTCODE
    locate_rule[keys == ""] = pl.NO_POSTCODE
    distance = loc.distance
    x = np.where(unit >= 0, gx, np.nan)
    y = np.where(unit >= 0, gy, np.nan)
    reason = np.empty(n, dtype=object)
    for i in np.flatnonzero(unit < 0):
        r = locate_rule[i]
        if r == pl.OUTSIDE:
            lad = grid["lad"].get(keys[i], "")
            where = {"W": " (in Wales)", "S": " (in Scotland)", "N": " (in Northern Ireland)"}.get(str(lad)[:1], "")
            r = f"{r}{where}: {distance[i] / 1000:.1f} km from the nearest LSOA"
        reason[i] = r
    return postcode, unit, locate_rule, distance, x, y, reason


def _rescue_by_lsoa(atlas: Atlas, lsoa, t: pd.DataFrame, unit, x, y, reason, locate_rule, warnings: list[str],
                    progress: Progress):
    """The patients-by-LSOA file: its summary, the patients by unit, and practices no postcode
    placed put in the LSOA most of their patients live in (arrays are updated in place)."""
    progress.step(0.8, "Matching patients' LSOAs")
    lsoa_summary, by_unit, modal = _lsoa_summary(atlas, lsoa, t["code"])
    if lsoa_summary["matched_fraction"] < 0.9:
        warnings.append(
            f"{Path(lsoa.path).name}: only {100 * lsoa_summary['matched_fraction']:.1f}% of patients live "
            f"in LSOAs of this atlas (codes like {', '.join(lsoa_summary['unmatched_examples'][:3])}); "
            "the file may use another LSOA vintage (2011/2021) than the atlas")
    rescue = np.flatnonzero((unit < 0) & t["code"].isin(modal.index).to_numpy())
    for i in rescue:
        u = int(modal[t["code"].iat[i]])
        unit[i] = u
        x[i], y[i] = atlas.unit_xy[u]
        reason[i] = f"{reason[i]}; placed at the {BY_LSOA_FILE.split(' (')[0]}"
        locate_rule[i] = BY_LSOA_FILE
    return lsoa_summary, by_unit


def _names_and_pcns(t: pd.DataFrame, mapped, mp):
    """Practice names (the map's when it has one) and PCNs:
    ``(name, pcn_code, pcn_name, pcn_attached, map_only)``."""
    n = len(t)
    name = t["name"].to_numpy(dtype=object).copy()
    pcn_code = np.full(n, "", dtype=object)
    pcn_name = np.full(n, "", dtype=object)
    pcn_attached = map_only = 0
    if mapped is not None:
        has = mapped["pcn_code"].notna().to_numpy()
        pcn_code[has] = mapped["pcn_code"].to_numpy(dtype=object)[has]
        pcn_name[has] = mapped["pcn_name"].to_numpy(dtype=object)[has]
        mname = mapped["name"].fillna("").to_numpy(dtype=object)
        name = np.where(mname != "", mname, name)
        pcn_attached = int((has & (pcn_code != "")).sum())
        map_only = int((~mp.table["code"].isin(set(t["code"]))).sum())
    return name, pcn_code, pcn_name, pcn_attached, map_only


def _provenance(extract: str, mp, lsoa) -> Provenance:
    note = [f"placed by postcode: {pl.postcode_source()}"]
    if mp is not None:
        note.append(f"PCNs: NHS England practice to PCN map"
                    f"{' (' + human_date(mp.extract_date) + ')' if mp.extract_date else ''}")
    if lsoa is not None:
        note.append("patients by LSOA"
                    f"{' (' + human_date(lsoa.extract_date) + ')' if lsoa.extract_date else ''}")
    prov = Provenance(source=SOURCE, vintage=human_date(extract) if extract else "extract date not given",
                      licence=OGL, attribution=NHS_ATTRIBUTION, note="; ".join(note))
    return prov


__all__ = ["AttachReport", "SOURCE", "attach_practices"]
