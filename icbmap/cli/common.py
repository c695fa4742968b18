"""The bottom of the CLI: helpers the subcommand modules share.

``icbmap.cli.metrics``, ``icbmap.cli.export`` and the other subcommand modules import from
here, never from :mod:`icbmap.cli` itself, so nothing below the top-level CLI imports it
(no import circle). Importing this module is cheap: the atlas is loaded lazily.
"""

from __future__ import annotations

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
