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


def board_facts(plan, report=None) -> list[dict]:
    """One dict per active board, from the metrics report: what a recipient needs.

    Keys: ``code, name, colour, population, population_share, population_basis,
    population_estimated, population_status, units, councils_whole, councils_part,
    combined_authorities_whole, combined_authorities_part, coterminosity_index`` (council
    level, the share of the board's people living in councils wholly inside it; see
    docs/metrics.md), ``coterminosity_district, coterminosity_ca, regions, pieces,
    contiguous, flags`` and ``_id`` (the board id, for internal use).
    """
    atlas = plan.atlas
    report = report if report is not None else metrics_report(plan)
    out = []
    for r in report.boards:
        out.append({
            "_id": r.id,
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
        })
    return out
