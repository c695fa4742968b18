"""``icbmap``: no arguments opens the app; subcommands are the headless CLI.

The parser and ``main`` live here; ``icbmap.cli.data`` and ``icbmap.cli.areas`` run ``icbmap data``;
``icbmap.cli.common`` holds the helpers the subcommand modules share (they import it, never this
module). Building the parser imports no heavy module (geopandas, Qt): handlers import lazily.

Exit codes: 0 success, 1 bad input or a failed operation (the message names the file and
the problem), 2 wrong usage, 3 ``check``: a design principle fails, 130 cancelled.
"""

from __future__ import annotations

import argparse
import sys

from icbmap import __version__
from icbmap.cli.common import BASELINE_HELP, add_baseline_argument, load_atlas_for  # noqa: F401 (re-exported)
from icbmap.errors import Cancelled, IcbmapError

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_CANCELLED = 0, 1, 2, 130


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="icbmap",
        description="Redraw NHS England's integrated care boards. With no command, opens the app.",
    )
    p.add_argument("--version", action="version", version=f"icbmap {__version__}")
    p.add_argument("--rebuild", action="store_true", help=argparse.SUPPRESS)  # the offline pack ships built
    p.add_argument("--pack", help="data pack to use for this run (default: the one chosen with `data use`)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    app = sub.add_parser("app", help="open the desktop app (the default)")
    app.add_argument("proposal", nargs="?", help="a proposal file to open")

    data = sub.add_parser("data", help="data packs: info, list, use, import, download")
    dsub = data.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    di = dsub.add_parser("info", help="layers of the pack in use: counts, population, sources")
    di.add_argument("--format", choices=["table", "json"], default="table")
    add_baseline_argument(di)
    dsub.add_parser("list", help="list the data packs on this machine")
    du = dsub.add_parser("use", help="choose the data pack the app and CLI use")
    du.add_argument("name")
    dsub.add_parser("build", help="say where the ready-built offline pack is (it is never built at run time)")
    from icbmap.practices.cli import add_arguments as practices_arguments

    practices_arguments(dsub.add_parser(
        "practices", help="attach GP practices (NHS registered-patient files) to the pack in use"))
    from icbmap.cli.areas import add_arguments as areas_arguments

    areas_arguments(dsub)
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

    met = sub.add_parser("metrics", help="print every metric for the baseline or a proposal")
    met.add_argument("proposal", nargs="?", help="proposal file (default: the baseline)")
    met.add_argument("--format", choices=["table", "json", "csv"], default="table")
    met.add_argument("-o", "--output", help="write to a file instead of standard output")
    met.add_argument("--no-bom", action="store_true",
                     help="CSV file: no UTF-8 byte-order mark (by default a CSV written with -o has one, "
                          "so Excel reads the names right; standard output never has one)")
    add_baseline_argument(met)

    from icbmap.principles.cli import add_arguments as check_arguments

    check_arguments(sub.add_parser(
        "check", help="check the baseline or a proposal against design principles (exit 0 pass, 3 fail)"))

    exp = sub.add_parser("export", help="export the baseline or a proposal")
    exp.add_argument("proposal", nargs="?", help="proposal file (default: the baseline)")
    exp.add_argument("--format", choices=["geojson", "gpkg", "csv", "shp"], default="geojson",
                     help="shp writes a .zip of shapefile parts (see docs/exports.md)")
    exp.add_argument("-o", "--output", required=True)
    exp.add_argument("--precision", type=int, default=6, help="GeoJSON decimal places (default 6, ~0.1 m)")
    exp.add_argument("--units", action="store_true", help="GeoJSON, shp: add the unit-assignment layer")
    exp.add_argument("--no-bom", action="store_true",
                     help="CSV: no UTF-8 byte-order mark (the default has one so Excel reads the names right)")
    add_baseline_argument(exp)

    imp = sub.add_parser("import", help="turn boards drawn elsewhere (polygons or CSV) into a proposal")
    imp.add_argument("source", help="board polygons (GeoJSON, GeoPackage, shapefile or its .zip) "
                                    "or an assignment CSV")
    imp.add_argument("-o", "--output", required=True, help="proposal file to write")
    imp.add_argument("--code-field", help="column or attribute holding the board code (default: the one ICB or "
                                          "board column; needed when icbmap cannot tell)")
    imp.add_argument("--name-field", help="column or attribute holding the board name")
    add_baseline_argument(imp)

    from icbmap.compare.cli import add_arguments as compare_arguments

    compare_arguments(sub.add_parser("compare", help="options side by side: the comparison table and the moves"))

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
    from icbmap.suggest.cli import add_arguments as suggest_arguments

    suggest_arguments(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        from icbmap.settings import sweep_on_start

        sweep_on_start()  # temporary files left by a killed write, older than a day
        from icbmap.guards import check_command_outputs, check_command_text

        check_command_outputs(args)  # -o never names a file the command reads (issue 21)
        check_command_text(args)     # --title & co: printable, capped
        if args.command in (None, "app"):
            from icbmap.app.main import run_app

            return run_app(proposal=getattr(args, "proposal", None), rebuild=args.rebuild, pack=args.pack)
        if args.command == "data":
            from icbmap.cli import data as data_cli

            return data_cli.run(args)
        if args.command == "metrics":
            from icbmap.metrics import cli as metrics_cli

            return metrics_cli.run(args)
        if args.command == "check":
            from icbmap.principles import cli as check_cli

            return check_cli.run(args)
        if args.command == "compare" or (args.command == "print" and getattr(args, "compare", None)):
            from icbmap.compare import cli as compare_cli

            return compare_cli.run(args)
        if args.command in ("export", "import", "print"):
            from icbmap.export import cli as export_cli

            return export_cli.run(args)
        if args.command == "suggest":
            from icbmap.suggest import cli as suggest_cli

            return suggest_cli.run(args)
    except Cancelled as exc:
        print(f"icbmap: {exc}", file=sys.stderr)
        return EXIT_CANCELLED
    except IcbmapError as exc:
        print(f"icbmap: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("icbmap: interrupted", file=sys.stderr)
        return EXIT_CANCELLED
    except (MemoryError, RecursionError) as exc:  # backstop: the readers bound their input first
        files = ", ".join(_input_files(args)) or "the input"
        what = "ran out of memory" if isinstance(exc, MemoryError) else "input nested too deeply"
        print(f"icbmap: error: {files}: {what} while reading it", file=sys.stderr)
        return EXIT_ERROR
    parser.print_usage(sys.stderr)
    return EXIT_USAGE


def _input_files(args) -> list[str]:
    names = ("proposal", "source", "file", "boundaries", "icb_lookup", "lad_lookup", "population",
             "practices", "practice_map", "map", "lsoa", "rules", "compare")
    return [str(getattr(args, n)) for n in names if isinstance(getattr(args, n, None), str)]
