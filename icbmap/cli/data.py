"""``icbmap data ...``: data packs."""

from __future__ import annotations

import json
import sys

from icbmap.atlas.model import LEVEL_LABELS
from icbmap.progress import Progress


def info_rows(atlas) -> list[dict]:
    rows = []
    for r in atlas.summary():
        prov = r["provenance"]
        pop_note = ""
        if r["layer"] == "unit" and atlas.population_estimated:
            pop_note = "apportioned from district totals"
        rows.append({
            "layer": LEVEL_LABELS[r["layer"]],
            "count": r["count"],
            "population": r["population"],
            "population_note": pop_note,
            "source": prov.source,
            "vintage": prov.vintage,
            "licence": prov.licence,
        })
    return rows


def baseline_lines(atlas) -> list[str]:
    """The board configuration in use and the others the pack holds, with provenance."""
    info = atlas.baseline_info()
    if not info:
        prov = atlas.layers["board"].provenance
        return [f"Boards: {len(atlas.layers['board'])} from the pack's own lookup ({prov.source}; {prov.vintage})"]
    out = [f"Baseline: {atlas.baseline_label}",
           f"  source: {info.get('source', '')}"]
    if info.get("note"):
        out.append(f"  note: {info['note']}")
    others = [f"{c['key']} ({c['label']}, {c['status']})" for c in atlas.baselines if str(c["key"]) != atlas.baseline]
    if others:
        out.append("  other baselines in this pack (--baseline KEY): " + "; ".join(others))
    return out


def format_info(atlas) -> str:
    rows = info_rows(atlas)
    built = atlas.meta.get("built_at", "?")
    built = (f"bundled, inputs sha256 {atlas.meta['inputs_sha256'][:16]}" if "inputs_sha256" in atlas.meta
             else f"built {built}")
    lines = [
        f"Data pack: {atlas.name}  (content hash {atlas.content_hash}, {built})",
        f"England population: {atlas.total_population:,}  ({atlas.population_basis})",
        *baseline_lines(atlas),
        "",
        f"{'layer':<26} {'count':>7} {'population':>12}  source (vintage; licence)",
        "-" * 100,
    ]
    for r in rows:
        pop = f"{r['population']:,}"
        lines.append(f"{r['layer']:<26} {r['count']:>7,} {pop:>12}  {r['source']} ({r['vintage']}; {r['licence']})")
        if r["population_note"]:
            lines.append(f"{'':<26} {'':>7} {'':>12}  population {r['population_note']}")
    if atlas.practices is not None:
        from icbmap.practices.store import practices_extract_label

        lines.append(f"{'GP practices':<26} {len(atlas.practices):>7,} "
                     f"{int(atlas.practices['patients'].sum()):>12,}  registered patients "
                     f"({practices_extract_label(atlas)})")
    else:
        lines.append(f"{'GP practices':<26} {'none':>7}  add them with `icbmap data practices FILE` "
                     "(NHS 'Patients Registered at a GP Practice')")
    if atlas.trusts is not None:
        acute = int((atlas.trusts["kind"] == "acute").sum())
        lines.append(f"{'NHS trusts (HQ)':<26} {len(atlas.trusts):>7,} {'':>12}  {acute} acute; "
                     f"{atlas.provenance['trusts'].line() if 'trusts' in atlas.provenance else ''}")
    for ref in atlas.references.values():
        lines.append(f"{ref.label[:26]:<26} {len(ref):>7,} {int(ref.layer.population.sum()):>12,}  "
                     f"reference geography '{ref.name}' ({'bundled' if ref.source == 'bundled' else ref.source})")
    lines += ["", "Attribution:"]
    seen = set()
    for prov in list(atlas.provenance.values()) + [atlas.layers[k].provenance for k in atlas.layers]:
        if prov.attribution and prov.attribution not in seen:
            seen.add(prov.attribution)
            lines.append(f"  {prov.attribution}")
    return "\n".join(lines)


def run(args) -> int:
    from icbmap.atlas import store
    from icbmap.cli.common import load_atlas_for

    cmd = args.data_command
    if cmd == "info":
        atlas = load_atlas_for(args)
        if args.format == "json":
            print(json.dumps({"pack": atlas.name, "content_hash": atlas.content_hash,
                              "population_basis": atlas.population_basis,
                              "england_population": atlas.total_population,
                              "baseline": {**atlas.baseline_info(), "key": atlas.baseline,
                                           "label": atlas.baseline_label},
                              "baselines": atlas.baselines,
                              "practices": (None if atlas.practices is None else {
                                  "count": len(atlas.practices),
                                  "registered": int(atlas.practices["patients"].sum()),
                                  "extract_date": sorted(set(atlas.practices["extract_date"]))}),
                              "layers": info_rows(atlas)}, indent=2, allow_nan=False))
        else:
            print(format_info(atlas))
        return 0
    if cmd == "list":
        current = store.current_pack_name()
        for p in store.list_packs():
            mark = "*" if p["name"] == current else " "
            print(f"{mark} {p['name']:<24} {p['kind']}" + (f"  ({p['path']})" if p["path"] else ""))
        return 0
    if cmd == "use":
        store.use_pack(args.name)
        print(f"now using data pack {args.name}")
        return 0
    if cmd == "build":
        atlas = store.load_atlas(store.OFFLINE)
        print(f"the offline pack ships ready-built ({store.offline_pack_path()}): {atlas.n_units:,} LSOAs, "
              f"England {atlas.total_population:,}; nothing to build. To regenerate it from the official "
              "files in ../shared/data/raw: python -m icbmap.atlas.bundle")
        return 0
    if cmd in ("areas", "trusts"):
        from icbmap.cli import areas as areas_cli

        return areas_cli.run_areas(args) if cmd == "areas" else areas_cli.run_trusts(args)
    if cmd == "practices":
        from icbmap.practices.cli import run_practices

        return run_practices(args)
    if cmd == "import":
        from icbmap.atlas import official
        from icbmap.atlas.official import import_pack

        # every file is checked (there, a regular file, within its size limit) before any is read
        official._existing(args.boundaries, "LSOA boundaries", official.MAX_BOUNDARY_BYTES)
        for value, what in ((args.icb_lookup, "LSOA to sub-ICB location to ICB lookup"),
                            (args.lad_lookup, "LSOA to local authority district lookup"),
                            (args.population, "LSOA population table"),
                            (getattr(args, "practices", None), "GP practice registered patients"),
                            (getattr(args, "practice_map", None), "GP practice map")):
            if value:
                official._existing(value, what, official.MAX_TABLE_BYTES)

        atlas = import_pack(
            args.name, boundaries=args.boundaries, icb_lookup=args.icb_lookup,
            lad_lookup=args.lad_lookup, population=args.population,
            practices=getattr(args, "practices", None), practice_map=getattr(args, "practice_map", None),
            progress=Progress.stderr("data import"))
        if args.use:
            store.use_pack(args.name)
        print(format_info(atlas))
        return 0
    if cmd == "download":
        from icbmap.download.pack import download_pack

        atlas = download_pack(args.name, dest=args.dest, base_url=args.base_url,
                              progress=Progress.stderr("download"))
        if args.use:
            store.use_pack(args.name)
        print(format_info(atlas))
        return 0
    print(f"unknown data action {cmd}", file=sys.stderr)
    return 2
