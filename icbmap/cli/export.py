"""``icbmap export`` (headless): the baseline or a proposal as GeoJSON, GeoPackage, CSV,
zipped shapefiles, an Excel workbook or a web page.

Exit codes: 0 success; 1 bad input or a failed operation (the message on stderr names the
file and the problem); 2 wrong usage (e.g. an output type the format cannot write, a
precision out of range).  Without a PROPOSAL the baseline of the data pack in use is exported.

Examples::

    icbmap export --format geojson -o boards.geojson            # the baseline
    icbmap export option-b.icbmap.json --format geojson --units -o option-b.geojson
    icbmap export option-b.icbmap.json --format gpkg -o option-b.gpkg
    icbmap export option-b.icbmap.json --format csv -o option-b.csv     # Excel-ready (BOM)
    icbmap export option-b.icbmap.json --format csv --no-bom -o b.csv   # for scripts
    icbmap export option-b.icbmap.json --format shp -o option-b.zip     # shapefile parts, zipped
    icbmap export option-b.icbmap.json --format xlsx -o option-b.xlsx   # Excel workbook
    icbmap export option-b.icbmap.json --format html -o option-b.html  # a web page, nothing to install
"""

from __future__ import annotations

import sys

from icbmap.cli.common import EXIT_ERROR, EXIT_OK, _atlas, _check_output, _err, _plan_for, _usage, _warn, writing
from icbmap.progress import Progress

FORMAT_SUFFIXES = {"geojson": (".geojson", ".json"), "gpkg": (".gpkg",), "csv": (".csv", ".txt"),
                   "shp": (".zip",), "xlsx": (".xlsx",), "html": (".html", ".htm")}


def register(sub) -> None:
    from icbmap.cli.common import add_baseline_argument

    exp = sub.add_parser("export", help="export the baseline or a proposal")
    exp.add_argument("proposal", nargs="?", help="proposal file (default: the baseline)")
    exp.add_argument("--format", choices=["geojson", "gpkg", "csv", "shp", "xlsx", "html"], default="geojson",
                     help="shp writes a .zip of shapefile parts; xlsx an Excel workbook; html a self-contained "
                          "web page (see docs/exports.md)")
    exp.add_argument("-o", "--output", required=True)
    exp.add_argument("--precision", type=int, default=6, help="GeoJSON decimal places (default 6, ~0.1 m)")
    exp.add_argument("--units", action="store_true", help="GeoJSON, shp: add the unit-assignment layer")
    exp.add_argument("--crs", type=int, choices=[4326, 27700], default=None,
                     help="GeoJSON: 4326 (default, RFC 7946) or 27700 (British National Grid metres; "
                          "outside RFC 7946)")
    exp.add_argument("--no-bom", action="store_true",
                     help="CSV: no UTF-8 byte-order mark (the default has one so Excel reads the names right)")
    exp.add_argument("--title", help="html: the page's title (default: the proposal's title)")
    exp.add_argument("--rules", help="html, xlsx: the design principles shown, a rule file or preset name "
                                     "(default: the proposal's own rules, else NHS England 2025 guidance)")
    add_baseline_argument(exp)


def run_export(args) -> int:
    from icbmap.export.files import safe_output
    from icbmap.export.shapes import check_precision

    fmt = args.format
    out, note = safe_output(args.output)
    if out.suffix.lower() not in FORMAT_SUFFIXES[fmt]:
        return _usage(f"--format {fmt} writes {' or '.join(FORMAT_SUFFIXES[fmt])} files, not {out.name!r}")
    try:
        precision = check_precision(args.precision)
    except ValueError as exc:
        return _usage(f"--precision: {exc}")
    if getattr(args, "rules", None) and fmt != "xlsx":
        return _usage("--rules applies to --format xlsx (the principles sheet)")
    if args.units and fmt not in ("geojson", "shp"):
        return _usage("--units applies to --format geojson and shp (GeoPackage always has the units layer; "
                      "CSV is the unit assignment)")
    if getattr(args, "no_bom", False) and fmt != "csv":
        return _usage("--no-bom applies to --format csv")
    if fmt != "html" and getattr(args, "title", None):
        return _usage("--title applies to --format html")
    if fmt not in ("html", "xlsx") and getattr(args, "rules", None):
        return _usage("--rules applies to --format html and xlsx")
    crs = getattr(args, "crs", None)
    if crs is not None and fmt != "geojson":
        return _usage("--crs applies to --format geojson (GeoPackage and shapefile are in British National "
                      "Grid, EPSG:27700)")
    problem = _check_output(out)
    if problem:
        _err(problem)
        return EXIT_ERROR
    if note:
        _warn(note)
    atlas = _atlas(args)
    proposal = _plan_for(args, atlas)
    progress = Progress.stderr("export")
    if fmt == "geojson":
        from icbmap.export.geojson import write_geojson

        if crs == 27700:
            _warn("--crs 27700 writes British National Grid coordinates: valid GeoJSON for GDAL and QGIS, "
                  "but outside RFC 7946 (WGS84 only), so web maps will misplace it")
        paths = write_geojson(proposal.plan, out, precision=precision, units=args.units,
                              title=proposal.title, progress=progress, crs=crs or 4326)
    elif fmt == "gpkg":
        from icbmap.export.gpkg import write_gpkg

        paths = write_gpkg(proposal.plan, out, title=proposal.title, progress=progress)
    elif fmt == "shp":
        from icbmap.export.shp import estimate_units_bytes, member_base, write_shapefile_zip

        base = member_base(out)
        if base != out.name[: -len(out.suffix)]:
            print(f"icbmap: note: the shapefiles in the zip are named {base}_boards.shp ... (letters, "
                  "digits, - and _ only)", file=sys.stderr)
        if args.units:
            _warn(f"--units adds all {atlas.n_units:,} LSOA polygons: about "
                  f"{estimate_units_bytes(atlas) / 2**20:,.0f} MB unzipped, slow to open in ArcGIS; "
                  "--format gpkg holds the same layers in one smaller file")
        cuts: list[str] = []
        paths = write_shapefile_zip(proposal.plan, out, units=args.units, title=proposal.title,
                                    progress=progress, cuts=cuts)
        for c in cuts:
            _warn(c)
    elif fmt == "xlsx":
        from icbmap.export.xlsx import write_xlsx

        rules = getattr(proposal, "rules", None)   # the proposal's own rule set, unless --rules
        if getattr(args, "rules", None):
            from icbmap.principles import load_rules

            rules = load_rules(args.rules)
        cuts: list[str] = []
        paths = write_xlsx(proposal.plan, out, title=proposal.title, ruleset=rules, progress=progress, cuts=cuts)
        for c in cuts:
            _warn(f"a text too long for an Excel cell was cut: {c}")
    elif fmt == "html":
        from icbmap.export.webpage import write_webpage

        rules = None
        if getattr(args, "rules", None):
            from icbmap.principles.ruleset import load_rules

            rules = load_rules(args.rules)
        paths = write_webpage(proposal, out, title=getattr(args, "title", None), rules=rules, progress=progress)
    else:
        from icbmap.export.csv import write_csv

        paths = write_csv(proposal.plan, out, progress=progress, bom=not getattr(args, "no_bom", False))
    for p in paths:
        print(p)
    return EXIT_OK


def run(args) -> int:
    """Entry point from :mod:`icbmap.cli`; errors other than usage propagate as
    :class:`~icbmap.errors.IcbmapError` and are reported there (exit 1)."""
    with writing(args):
        return run_export(args)
