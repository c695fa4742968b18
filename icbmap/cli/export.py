"""``icbmap export``, ``icbmap import`` and ``icbmap print`` (headless).

Exit codes: 0 success; 1 bad input or a failed operation (the message on stderr names the
file and the problem); 2 wrong usage (e.g. an output type the format cannot write, a
precision out of range).  Without a PROPOSAL, ``export`` and ``print`` work on the
baseline of the data pack in use.

Examples::

    icbmap export --format geojson -o boards.geojson            # the baseline
    icbmap export option-b.icbmap.json --format geojson --units -o option-b.geojson
    icbmap export option-b.icbmap.json --format gpkg -o option-b.gpkg
    icbmap export option-b.icbmap.json --format csv -o option-b.csv     # Excel-ready (BOM)
    icbmap export option-b.icbmap.json --format csv --no-bom -o b.csv   # for scripts
    icbmap export option-b.icbmap.json --format shp -o option-b.zip     # shapefile parts, zipped
    icbmap export option-b.icbmap.json --format xlsx -o option-b.xlsx   # Excel workbook
    icbmap export option-b.icbmap.json --format html -o option-b.html  # a web page, nothing to install
    icbmap import their-boards.shp --code-field ICB_CODE -o theirs.icbmap.json
    icbmap print option-b.icbmap.json -o brief.pdf --paper A3 --changed-pages
"""

from __future__ import annotations

import sys
from pathlib import Path

from icbmap.errors import DataError
from icbmap.progress import Progress

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2

FORMAT_SUFFIXES = {"geojson": (".geojson", ".json"), "gpkg": (".gpkg",), "csv": (".csv", ".txt"),
                   "shp": (".zip",), "xlsx": (".xlsx",), "html": (".html", ".htm")}


def register_export(sub) -> None:
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


def register_import(sub) -> None:
    from icbmap.cli.common import add_baseline_argument

    imp = sub.add_parser("import", help="turn boards drawn elsewhere (polygons or CSV) into a proposal")
    imp.add_argument("source", help="board polygons (GeoJSON, GeoPackage, shapefile or its .zip) "
                                    "or an assignment CSV")
    imp.add_argument("-o", "--output", required=True, help="proposal file to write")
    imp.add_argument("--code-field", help="column or attribute holding the board code (default: the one ICB or "
                                          "board column; needed when icbmap cannot tell)")
    imp.add_argument("--name-field", help="column or attribute holding the board name")
    add_baseline_argument(imp)


def register_print(sub) -> None:
    from icbmap.cli.common import add_baseline_argument

    pr = sub.add_parser("print", help="briefing map as PDF or PNG")
    pr.add_argument("proposal", nargs="?", help="proposal file (default: the baseline)")
    pr.add_argument("-o", "--output", required=True, help="output .pdf or .png")
    pr.add_argument("--paper", choices=["A4", "A3"], default="A4")
    pr.add_argument("--title")
    pr.add_argument("--subtitle")
    pr.add_argument("--changed-pages", action="store_true", help="add a before/after page per changed board")
    pr.add_argument("--rules", help="add a design-principles page: a rule file or preset name "
                                    "(default: the proposal's own rules, if any)")
    pr.add_argument("--compare", nargs="+", metavar="PROPOSAL",
                    help="the comparison briefing of these proposals (one page: maps, table, differences)")
    pr.add_argument("--focus", help="with --compare: an NHS region, or boards / places separated by commas")
    pr.add_argument("--with-baseline", dest="include_baseline", action="store_true",
                    help="with --compare: add the baseline boards as the first option")
    pr.add_argument("--option-pages", action="store_true", help="with --compare: add each option's briefing pages")
    pr.add_argument("--map", dest="map_pack", action="store_true",
                    help="with --compare: map proposals drawn on another data pack onto this one")
    add_baseline_argument(pr)


def _err(message: str) -> None:
    print(f"icbmap: error: {message}", file=sys.stderr)


def _warn(message: str) -> None:
    print(f"icbmap: warning: {message}", file=sys.stderr)


def _usage(message: str) -> int:
    print(f"icbmap: usage error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _atlas(args):
    from icbmap.cli.common import load_atlas_for
    from icbmap.plan.proposal import precheck_proposal

    if getattr(args, "proposal", None):
        precheck_proposal(args.proposal)  # a bad file fails before the pack loads
    return load_atlas_for(args)


def _plan_for(args, atlas):
    from icbmap.plan.model import Plan
    from icbmap.plan.proposal import Proposal

    if getattr(args, "proposal", None):
        from icbmap.plan.proposal import load_proposal

        return load_proposal(args.proposal, atlas)
    return Proposal.new(Plan(atlas), title="")


def _check_output(path: Path) -> str | None:
    if path.exists() and path.is_dir():
        return f"{path} is a folder; give a file name"
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.exists():
        return f"the folder {parent} does not exist"
    return None


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


def run_import(args) -> int:
    from icbmap.export.importers import import_file
    from icbmap.plan.proposal import SUFFIX, write_proposal

    out = Path(args.output)
    if not out.name.lower().endswith(".json"):
        return _usage(f"-o should name a proposal file ending in {SUFFIX}, not {out.name!r}")
    problem = _check_output(out)
    if problem:
        _err(problem)
        return EXIT_ERROR
    src = Path(args.source)
    if src.resolve() == out.resolve():
        return _usage("the output would overwrite the source")
    from icbmap.export.importers import precheck_import

    precheck_import(src)  # a bad file fails before the pack loads
    atlas = _atlas(args)
    result = import_file(src, atlas, code_field=args.code_field, name_field=args.name_field,
                         progress=Progress.stderr("import"))
    proposal = result.to_proposal()
    write_proposal(out, proposal)
    print(result.report.summary(), file=sys.stderr)
    print(out)
    return EXIT_OK


def run_print(args) -> int:
    from icbmap.export.briefing import render_briefing

    out = Path(args.output)
    if out.suffix.lower() not in (".pdf", ".png"):
        return _usage(f"-o should end in .pdf or .png, not {out.name!r}")
    problem = _check_output(out)
    if problem:
        _err(problem)
        return EXIT_ERROR
    atlas = _atlas(args)
    proposal = _plan_for(args, atlas)
    rules = None
    if getattr(args, "rules", None):
        from icbmap.principles import load_rules

        rules = load_rules(args.rules)
    paths = render_briefing(proposal, out, paper=args.paper, title=args.title, subtitle=args.subtitle,
                            changed_pages=args.changed_pages, progress=Progress.stderr("print"), rules=rules)
    for p in paths:
        print(p)
    return EXIT_OK


def run(args) -> int:
    """Entry point from :mod:`icbmap.cli`; errors other than usage propagate as
    :class:`~icbmap.errors.IcbmapError` and are reported there (exit 1)."""
    command = args.command
    if command == "print" and getattr(args, "compare", None):   # the comparison briefing
        from icbmap.cli import compare

        return compare.run(args)
    try:
        if command == "export":
            return run_export(args)
        if command == "import":
            return run_import(args)
        if command == "print":
            return run_print(args)
    except OSError as exc:  # disk full, permission denied... while writing the output
        name, out = getattr(exc, "filename", None), getattr(args, "output", None)
        if out and (not name or Path(str(name)).parent == Path(out).parent):
            name = out  # the output the user named, not the atomic writer's temporary file beside it
        raise DataError(name, f"could not write: {exc.strerror or exc}") from exc
    return _usage(f"unknown command {command!r}")
