"""``icbmap import`` (headless): boards drawn elsewhere (polygons, an assignment CSV or
icbmap's own workbook) turned into a proposal.

Example::

    icbmap import their-boards.shp --code-field ICB_CODE -o theirs.icbmap.json
"""

from __future__ import annotations

import sys
from pathlib import Path

from icbmap.cli.common import EXIT_ERROR, EXIT_OK, _atlas, _check_output, _err, _usage, writing
from icbmap.progress import Progress


def register(sub) -> None:
    from icbmap.cli.common import add_baseline_argument

    imp = sub.add_parser("import", help="turn boards drawn elsewhere (polygons or CSV) into a proposal")
    imp.add_argument("source", help="board polygons (GeoJSON, GeoPackage, shapefile or its .zip) "
                                    "or an assignment CSV")
    imp.add_argument("-o", "--output", required=True, help="proposal file to write")
    imp.add_argument("--code-field", help="column or attribute holding the board code (default: the one ICB or "
                                          "board column; needed when icbmap cannot tell)")
    imp.add_argument("--name-field", help="column or attribute holding the board name")
    add_baseline_argument(imp)


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


def run(args) -> int:
    with writing(args):
        return run_import(args)
