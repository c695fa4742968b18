"""``icbmap data ...``: data packs."""

from __future__ import annotations

import json
import sys

from icbmap.progress import Progress


def register(sub) -> None:
    from icbmap.cli import areas, practices
    from icbmap.cli.common import add_baseline_argument

    data = sub.add_parser("data", help="data packs: info, list, use, import, download")
    dsub = data.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    di = dsub.add_parser("info", help="layers of the pack in use: counts, population, sources")
    di.add_argument("--format", choices=["table", "json"], default="table")
    add_baseline_argument(di)
    dsub.add_parser("list", help="list the data packs on this machine")
    du = dsub.add_parser("use", help="choose the data pack the app and CLI use")
    du.add_argument("name")
    dsub.add_parser("build", help="say where the ready-built offline pack is (it is never built at run time)")
    practices.add_arguments(dsub.add_parser(
        "practices", help="attach GP practices (NHS registered-patient files) to the pack in use"))
    areas.add_arguments(dsub)
    dimp = dsub.add_parser("import", help="build a named pack from official ONS/NHS files")
    dimp.add_argument("name", help="name for the new pack, e.g. ons-2021")
    dimp.add_argument("--boundaries", required=True, help="LSOA 2021 boundaries (GeoJSON, GeoPackage, shapefile)")
    dimp.add_argument("--icb-lookup", required=True, help="LSOA -> sub-ICB location -> ICB lookup (CSV; any year, e.g. ICB26CD; "
                                                           "see docs/data.md)")
    dimp.add_argument("--lad-lookup", required=True, help="LSOA -> district (LAD) lookup (CSV)")
    dimp.add_argument("--population", help="LSOA population (CSV); without it, apportioned from district totals")
    dimp.add_argument("--practices", help="GP practice registered patients (gp-reg-pat-prac-all.csv)")
    dimp.add_argument("--practice-map", help="GP practice -> PCN -> sub-ICB map (gp-reg-pat-prac-map.csv)")
    dimp.add_argument("--use", action="store_true", help="use the new pack from now on")
    ddl = dsub.add_parser("download", help="download the latest official files and build a pack")
    ddl.add_argument("name", nargs="?", default="ons-latest")
    ddl.add_argument("--dest", help="folder for downloaded files (default: the user cache)")
    ddl.add_argument("--base-url", help="override the server (testing, mirrors)")
    ddl.add_argument("--use", action="store_true", help="use the new pack from now on")


def run(args) -> int:
    from icbmap.atlas import store
    from icbmap.atlas.info import format_info, info_rows
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
        from icbmap.cli.practices import run_practices

        return run_practices(args)
    if cmd == "import":
        from icbmap.atlas import official_tables as tables
        from icbmap.atlas.official import import_pack

        # every file is checked (there, a regular file, within its size limit) before any is read
        tables._existing(args.boundaries, "LSOA boundaries", tables.MAX_BOUNDARY_BYTES)
        for value, what in ((args.icb_lookup, "LSOA to sub-ICB location to ICB lookup"),
                            (args.lad_lookup, "LSOA to local authority district lookup"),
                            (args.population, "LSOA population table"),
                            (getattr(args, "practices", None), "GP practice registered patients"),
                            (getattr(args, "practice_map", None), "GP practice map")):
            if value:
                tables._existing(value, what, tables.MAX_TABLE_BYTES)

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
