"""``icbmap data practices FILE [--map F] [--lsoa F]``: attach GP practices to the pack in use.

The lead wires the subcommand; :func:`add_arguments` declares its arguments (``file``,
``--map``, ``--lsoa``, ``--format``) and :func:`run_practices` runs it.  The pack itself is
not rebuilt: the placed practices are stored beside it (see :mod:`icbmap.practices.store`)
and come back with it on every later start.
"""

from __future__ import annotations

import json
import sys

from icbmap.progress import Progress


def add_arguments(parser) -> None:
    """Arguments of ``icbmap data practices`` on an argparse (sub)parser."""
    parser.add_argument("file", help="GP practice registered patients (gp-reg-pat-prac-all.csv)")
    parser.add_argument("--map", dest="map", help="practice -> PCN -> sub-ICB map (gp-reg-pat-prac-map.csv)")
    parser.add_argument("--lsoa", dest="lsoa", help="patients by practice and LSOA (gp-reg-pat-prac-lsoa-all.csv)")
    parser.add_argument("--format", choices=["table", "json"], default="table")


def _arg(args, *names):
    for n in names:
        v = getattr(args, n, None)
        if v:
            return v
    return None


def run_practices(args) -> int:
    """Attach the practices in ``args.file`` to the pack in use (or ``args.pack``) and store
    them for later starts.  Prints the report; returns the exit code (0).  Errors are
    :class:`~icbmap.errors.DataError` naming the file, shown by ``icbmap.cli.main``."""
    from icbmap.cli.common import load_atlas_for
    from icbmap.errors import DataError
    from icbmap.practices.attach import attach_practices
    from icbmap.practices.store import save_practices_for

    path = _arg(args, "file", "practices", "path")
    if not path:
        raise DataError(None, "no GP practice file given (gp-reg-pat-prac-all.csv)")
    from icbmap.practices.readers import MAX_FILE_BYTES
    from icbmap.safeio import check_input

    for given in (path, _arg(args, "map", "practice_map"), _arg(args, "lsoa", "practice_lsoa")):
        if given:  # refused before the pack loads: missing, a FIFO, a device, too large
            check_input(given, "CSV file", MAX_FILE_BYTES)
    progress = Progress.stderr("attach GP practices")
    atlas = load_atlas_for(args, progress=progress)
    report = attach_practices(atlas, path, _arg(args, "map", "practice_map"), progress,
                              lsoa_path=_arg(args, "lsoa", "practice_lsoa"))
    stored = save_practices_for(atlas, report)
    if getattr(args, "format", "table") == "json":
        print(json.dumps({"pack": atlas.name, "content_hash": atlas.content_hash,
                          "stored": str(stored), **report.to_dict()}, indent=2, allow_nan=False))
    else:
        print(f"Data pack: {atlas.name} (content hash {atlas.content_hash})")
        print("\n".join(report.lines()))
        print(f"Saved for this pack: {stored}")
    if report.unplaced:
        print(f"icbmap: {len(report.unplaced)} practice(s) could not be placed; they are kept "
              "without a location", file=sys.stderr)
    return 0


__all__ = ["add_arguments", "run_practices"]
