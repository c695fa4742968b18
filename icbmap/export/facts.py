"""What every export says about a board: shapes, codes and the figures a recipient needs."""

from __future__ import annotations

import numpy as np

from icbmap import __version__
from icbmap.export.shapes import dissolve_boards


def active_board_ids(plan) -> list[int]:
    """Ids of the boards that exist in the plan (deleted boards are left out)."""
    return [b.id for b in plan.boards if getattr(b, "active", True)]


def board_code_name_arrays(plan) -> tuple[list, list]:
    """``codes[id]``, ``names[id]`` for every board id (deleted ones included)."""
    codes = [b.code for b in plan.boards]
    names = [b.name for b in plan.boards]
    return codes, names


def board_shapes(plan) -> np.ndarray:
    """Dissolved boundary of every board id (EPSG:27700; empty for boards without units)."""
    atlas = plan.atlas
    return dissolve_boards(atlas.units.geometry.to_numpy(), np.asarray(plan.assignment), len(plan.boards))


def document_meta(plan, title: str = "") -> dict:
    """Foreign members describing the export (allowed by RFC 7946 section 6.1)."""
    atlas = plan.atlas
    from icbmap.export.schema import document_members

    meta = {
        **document_members(),
        "generator": f"icbmap {__version__}",
        "data_pack": {"name": atlas.name, "content_hash": atlas.content_hash},
        # e.g. "April 2027 (expected: 2025 clusters merged; not decided)": said wherever the boards go
        "baseline": {"key": atlas.baseline, "label": atlas.baseline_label},
        "population_basis": atlas.population_basis,
        "attribution": attribution_lines(atlas),
    }
    if title:
        meta["title"] = title
    return meta


def attribution_lines(atlas) -> list[str]:
    """Source lines for the layers an export uses: boundaries, lookups, population."""
    out = []
    seen = set()
    for key in ("unit", "district_assignment", "place", "board", "population"):
        prov = atlas.provenance.get(key)
        if prov is None:
            continue
        line = f"{prov.source} ({prov.vintage})"
        if line not in seen:
            seen.add(line)
            out.append(line)
    for prov in atlas.provenance.values():
        if prov.attribution and prov.attribution not in seen:
            seen.add(prov.attribution)
            out.append(prov.attribution)
    return out


def metrics_report(plan):
    """The metrics report of ``plan`` (computed once, without observing the plan)."""
    from icbmap.metrics.engine import Metrics

    return Metrics(plan, observe=False).report()


def _ratio(x):
    return None if x is None else round(float(x), 4)


#: Code kinds, as the reference-area tables say them (shapefiles/reference_areas_2026.csv).
ONS_CODE, LOCAL_CODE = "ONS", "local (not ONS)"
LOCAL_PREFIX = "icbmap:icb:"


def _ons_identity(plan, bid: int) -> dict:
    """ONS code and name, NHS (ODS) code, code kind and NHS region of board ``bid``.

    A baseline board keeps its ONS code (and the configuration's name and region) while its
    code is the baseline's; any other board is proposed: a local code, the user's name, and
    the NHS region holding most of its people (derived)."""
    atlas = plan.atlas
    board = plan.boards[bid]
    t = atlas.layers["board"].table
    regions = atlas.layers["region"].table if "region" in atlas.layers else None
    official = bid < len(t) and str(t["code"].iat[bid]) == board.code
    region = -1
    if official:
        out = {"ons_code": board.code, "ons_name": str(t["name"].iat[bid]),
               "nhs_code": str(t["code_nhs"].iat[bid]) if "code_nhs" in t.columns and
               isinstance(t["code_nhs"].iat[bid], str) else None, "code_kind": ONS_CODE}
        if "region" in t.columns:
            region = int(t["region"].iat[bid])
    else:
        out = {"ons_code": LOCAL_PREFIX + board.code, "ons_name": board.name, "nhs_code": None,
               "code_kind": LOCAL_CODE}
        sel = np.asarray(plan.assignment) == bid
        if sel.any() and "region" in atlas.units.columns:
            ur = atlas.units["region"].to_numpy()[sel]
            pop = np.asarray(atlas.population)[sel].astype(float)
            ok = ur >= 0
            if ok.any():
                region = int(np.bincount(ur[ok], weights=pop[ok] + 1e-9).argmax())
    if regions is not None and 0 <= region < len(regions):
        out["region_code"], out["region_name"] = str(regions["code"].iat[region]), str(regions["name"].iat[region])
    else:
        out["region_code"] = out["region_name"] = None
    return out


def board_geometry_facts(shape) -> dict:
    """Area, perimeter and label point of a dissolved board shape in British National Grid
    (null for a board with no LSOAs); :func:`board_geometry_table` gives the same figures
    for every board without dissolving (a test checks the two agree)."""
    import shapely

    from icbmap.export.shapes import transformer

    if shape is None or shapely.is_empty(shape):
        return {"area_km2": None, "perimeter_km": None, "BNG_E": None, "BNG_N": None, "LONG": None, "LAT": None}
    pt = shapely.point_on_surface(shape)
    lon, lat = transformer().transform(pt.x, pt.y)
    return {"area_km2": round(float(shape.area) / 1e6, 3), "perimeter_km": round(float(shape.length) / 1e3, 3),
            "BNG_E": int(round(pt.x)), "BNG_N": int(round(pt.y)),
            "LONG": round(float(lon), 6), "LAT": round(float(lat), 6)}


_UNIT_MEASURES: dict = {}


def _unit_measures(atlas):
    """Area, boundary length and centroid of every unit (cached per atlas)."""
    import shapely

    key = id(atlas)
    hit = _UNIT_MEASURES.get(key)
    if hit is None or hit[0] is not atlas:
        g = atlas.units.geometry.to_numpy()
        c = shapely.centroid(g)
        hit = (atlas, shapely.area(g), shapely.length(g), np.column_stack([shapely.get_x(c), shapely.get_y(c)]))
        _UNIT_MEASURES.clear()
        _UNIT_MEASURES[key] = hit
    return hit[1:]


def board_geometry_table(plan) -> dict[int, dict]:
    """Area, perimeter and label point of every board, from its units without dissolving:
    the units form a clean coverage (shared edges vertex for vertex), so a board's area is
    the sum of its units' areas and its perimeter the sum of their boundaries less twice the
    boundary they share with each other (the adjacency's shared lengths).  The label point
    is the representative point (a point inside) of the board's unit nearest its centroid,
    so it is always inside the board."""
    from icbmap.export.shapes import transformer

    atlas = plan.atlas
    area, length, cxy = _unit_measures(atlas)
    a = np.asarray(plan.assignment).astype(np.int64)
    n = max(plan.n_boards, 1)
    ok = a >= 0
    b_area = np.bincount(a[ok], weights=area[ok], minlength=n)
    b_len = np.bincount(a[ok], weights=length[ok], minlength=n)
    adj = atlas.adjacency
    src = np.repeat(np.arange(len(adj.indptr) - 1), np.diff(adj.indptr))
    dst = adj.indices
    same = (a[src] == a[dst]) & (a[src] >= 0) & ~np.asarray(adj.bridge, dtype=bool)
    b_len -= np.bincount(a[src][same], weights=adj.shared[same], minlength=n)  # each shared edge twice
    cx = np.bincount(a[ok], weights=(area * cxy[:, 0])[ok], minlength=n)
    cy = np.bincount(a[ok], weights=(area * cxy[:, 1])[ok], minlength=n)
    rep = atlas.unit_xy
    out = {}
    for bid in range(plan.n_boards):
        if b_area[bid] <= 0:
            continue
        units = np.flatnonzero(a == bid)
        c = np.array([cx[bid], cy[bid]]) / b_area[bid]
        u = units[np.argmin(((rep[units] - c) ** 2).sum(axis=1))]
        x, y = float(rep[u, 0]), float(rep[u, 1])
        lon, lat = transformer().transform(x, y)
        out[bid] = {"area_km2": round(float(b_area[bid]) / 1e6, 3), "perimeter_km": round(float(b_len[bid]) / 1e3, 3),
                    "BNG_E": int(round(x)), "BNG_N": int(round(y)), "LONG": round(float(lon), 6),
                    "LAT": round(float(lat), 6)}
    return out


def board_facts(plan, report=None) -> list[dict]:
    """One dict per active board, from the metrics report: what a recipient needs.

    Keys: ``code, name, colour, population, population_share, population_basis,
    population_estimated, population_status, units, councils_whole, councils_part,
    combined_authorities_whole, combined_authorities_part, coterminosity_index`` (council
    level, the share of the board's people living in councils wholly inside it; see
    docs/metrics.md), ``coterminosity_district, coterminosity_ca, regions, pieces,
    contiguous, flags``, the ONS/NHS fields (``ICB{icb}CD`` ..., see
    :mod:`icbmap.export.schema`), area, perimeter and label point; ``_id`` (the board id)
    and ``_vintages`` (the years of the ONS-style field names).
    """
    from icbmap.export.schema import resolve, vintages

    atlas = plan.atlas
    report = report if report is not None else metrics_report(plan)
    geometry = board_geometry_table(plan)
    years = vintages(atlas)
    a = np.asarray(plan.assignment)
    base = np.asarray(plan.baseline_assignment)
    out = []
    for r in report.boards:
        ident = _ons_identity(plan, r.id)
        out.append({
            "_id": r.id,
            "_vintages": years,
            "board_id": int(r.id),
            "code": r.code,
            "name": r.name,
            "colour": r.colour,
            "population": int(r.population),
            "population_share": round(float(r.share), 6),
            "population_basis": atlas.population_basis,
            "population_estimated": bool(atlas.population_estimated),
            "population_status": r.status,
            "units": int(r.units),
            "councils_whole": list(r.councils_whole),
            "councils_part": list(r.councils_part),
            "combined_authorities_whole": list(r.cas_whole),
            "combined_authorities_part": list(r.cas_part),
            "coterminosity_index": _ratio(r.coterminosity.get("council")),
            "coterminosity_district": _ratio(r.coterminosity.get("district")),
            "coterminosity_ca": _ratio(r.coterminosity.get("ca")),
            "regions": list(r.regions),
            "pieces": int(r.pieces),
            "contiguous": bool(r.contiguous),
            "flags": list(r.flags),
            resolve("ICB{icb}CD", years): ident["ons_code"],
            resolve("ICB{icb}NM", years): ident["ons_name"],
            resolve("ICB{icb}CDH", years): ident["nhs_code"],
            "code_kind": ident["code_kind"],
            "changed": bool(not np.array_equal(a == r.id, base == r.id)),
            resolve("NHSER{icb}CD", years): ident["region_code"],
            resolve("NHSER{icb}NM", years): ident["region_name"],
            **geometry.get(r.id, board_geometry_facts(None)),
        })
    return out


def unit_area_columns(atlas) -> dict[str, np.ndarray]:
    """The LSOA layer's district and sub-ICB location columns, under their ONS-style names
    (``LAD25CD``, ``LAD25NM``, ``SICBL26CD``, ``SICBL26NM``); ``None`` where unknown."""
    from icbmap.export.schema import resolve, vintages

    years = vintages(atlas)
    out = {}
    for level, code_name, name_name in (("district", "LAD{lad}CD", "LAD{lad}NM"),
                                        ("place", "SICBL{icb}CD", "SICBL{icb}NM")):
        idx = atlas.units[level].to_numpy() if level in atlas.units.columns else np.full(atlas.n_units, -1)
        if level in atlas.layers:
            t = atlas.layers[level].table
            codes = np.array(list(t["code"].astype(str)) + [None], dtype=object)
            names = np.array(list(t["name"].astype(str)) + [None], dtype=object)
        else:
            codes = names = np.array([None], dtype=object)
        idx = np.where((idx >= 0) & (idx < len(codes) - 1), idx, -1)
        out[resolve(code_name, years)] = codes[idx]
        out[resolve(name_name, years)] = names[idx]
    return out
