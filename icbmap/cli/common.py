"""The bottom of the CLI: helpers the subcommand modules share.

``icbmap.cli.metrics``, ``icbmap.cli.export`` and the other subcommand modules import from
here, never from :mod:`icbmap.cli` itself, so nothing below the top-level CLI imports it
(no import circle). Importing this module is cheap: the atlas is loaded lazily.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2

BASELINE_HELP = ("board configuration to start from: 2026 (April 2026, 36 boards; the default), "
                 "2024 (April 2024, 42), 2022 (July 2022, 42) or 2027-expected (April 2027, 26: the 2025 "
                 "clusters merged; expected, not decided); a proposal uses the one it records")


def add_baseline_argument(parser) -> None:
    parser.add_argument("--baseline", metavar="KEY", help=BASELINE_HELP)


def load_atlas_for(args, progress=None):
    """The atlas for a CLI run: ``--pack`` or the pack in use, with ``--baseline`` or the
    baseline the proposal (``args.proposal``) records."""
    from icbmap.atlas.store import load_atlas
    from icbmap.errors import DataError
    from icbmap.plan.proposal import proposal_baseline
    from icbmap.progress import Progress

    baseline = getattr(args, "baseline", None) or None
    path = getattr(args, "proposal", None)
    if path:
        import re

        recorded = proposal_baseline(path)
        if recorded and not re.fullmatch(r"[A-Za-z0-9_.-]{1,32}", recorded) or recorded in (".", ".."):
            from icbmap.guards import echo

            raise DataError(path, f"the proposal records the baseline {echo(recorded, 40)}, which is not a "
                                  "baseline key (such as 2026, 2024 or 2022)")
        if baseline and recorded and recorded != baseline:
            raise DataError(path, f"the proposal is drawn on the baseline {recorded!r}, not {baseline!r}; "
                                  "drop --baseline to use the proposal's own")
        baseline = baseline or recorded or None
    try:
        return load_atlas(getattr(args, "pack", None), rebuild=getattr(args, "rebuild", False),
                          progress=progress or Progress.stderr("data pack"), baseline=baseline)
    except DataError as exc:
        if path and baseline and not getattr(args, "baseline", None) and "has no baseline" in exc.problem:
            raise DataError(path, f"the proposal is drawn on the baseline {baseline!r}, which the data pack "
                                  f"does not have ({exc.problem.split('(', 1)[-1].rstrip(')')})") from None
        raise


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


@contextmanager
def writing(args):
    """Run a command that writes ``args.output``: a disk full or permission denied while
    writing becomes one message naming the output the user gave (not the atomic writer's
    temporary file beside it)."""
    from icbmap.errors import DataError

    try:
        yield
    except OSError as exc:
        name, out = getattr(exc, "filename", None), getattr(args, "output", None)
        if out and (not name or Path(str(name)).parent == Path(out).parent):
            name = out
        raise DataError(name, f"could not write: {exc.strerror or exc}") from exc
