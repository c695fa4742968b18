"""``icbmap compare [--with-baseline] [--baseline KEY] [--focus REGION|BOARD,...] PROPOSAL... --format table|json|csv|md [-o FILE]``.

Exit codes: 0 when every file was compared; 1 with a message naming the file and the problem
for bad input: a file that cannot be read or was drawn on another data pack (without
``--map``), the same file twice, a focus naming nothing.  When some files are good and
others are refused, the good ones are still compared and written, and the exit code is 1.
"""

from __future__ import annotations

import sys
from pathlib import Path

from icbmap.errors import DataError, IcbmapError

FORMATS = ("table", "json", "csv", "md")


def add_arguments(p) -> None:
    p.add_argument("proposals", nargs="*", metavar="PROPOSAL",
                   help="proposal files (.icbmap.json); '2027-expected' adds the expected April 2027 map (the "
                        "2025 clusters merged; not decided) as a column")
    p.add_argument("--with-baseline", dest="include_baseline", action="store_true",
                   help="add the baseline boards as the first option")
    p.add_argument("--focus", help="an NHS region, or boards / places (codes or names) separated by commas")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.add_argument("-o", "--output", help="write to a file instead of standard output")
    p.add_argument("--map", dest="map_pack", action="store_true",
                   help="map proposals drawn on another data pack onto this one by codes (reported)")
    p.add_argument("--rules", help="add a row per design principle: a rule file or a preset's name "
                                   "(icbmap check --list-presets)")
    from icbmap.cli.common import add_baseline_argument

    add_baseline_argument(p)


def load_atlas_for_options(args, paths):
    """The atlas: ``--pack``, with ``--baseline`` or else the baseline the first readable
    proposal records (every option must be on it; others are refused with the reason)."""
    from icbmap.cli.common import load_atlas_for
    from icbmap.plan.proposal import proposal_baseline

    if not getattr(args, "baseline", None):
        for p in paths:
            recorded = proposal_baseline(p)
            if recorded:
                args.baseline = recorded
                break
    return load_atlas_for(args)


def run(args) -> int:
    from icbmap.compare.core import compare
    from icbmap.compare.render import render

    if args.command == "print":
        return run_print(args)
    if not args.proposals and not args.include_baseline:
        print("icbmap: usage error: give proposal files to compare (and/or --baseline)", file=sys.stderr)
        return 2
    _atlas, focus, options, loaded = _options(args, args.proposals)
    cmp = compare(options, focus, rules=_rules(args))
    text = render(cmp, args.format)
    if args.output:
        from icbmap.atlas.store import atomic_write_text

        try:
            atomic_write_text(Path(args.output), text)
        except OSError as exc:
            raise DataError(args.output, f"could not write: {exc.strerror or exc}") from exc
        print(f"comparison written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 1 if loaded.refused else 0


def _rules(args):
    """The rule set named by ``--rules`` (a file or a preset), or None."""
    name = getattr(args, "rules", None)
    if not name:
        return None
    from icbmap.principles.ruleset import load_rules

    return load_rules(name)


def _options(args, paths):
    from icbmap.compare.core import Option
    from icbmap.compare.focus import resolve_focus
    from icbmap.compare.loading import load_options
    from icbmap.plan.model import Plan

    from icbmap.atlas.clusters import EXPECTED_KEY

    expected_at = [i for i, p in enumerate(paths) if str(p) == EXPECTED_KEY and not Path(p).exists()]
    paths = [p for i, p in enumerate(paths) if i not in expected_at]
    atlas = load_atlas_for_options(args, paths)
    focus = resolve_focus(atlas, args.focus)
    loaded = load_options(paths, atlas, map_pack=args.map_pack)
    if expected_at:       # the expected April 2027 map as an option, where it was named
        from icbmap.plan.expected import expected_option_name, expected_plan

        loaded.options.insert(min(expected_at[0], len(loaded.options)),
                              Option(expected_option_name(), expected_plan(atlas)))
    for note in loaded.notes:
        print(f"icbmap: {note}", file=sys.stderr)
    options = list(loaded.options)
    if args.include_baseline:
        options.insert(0, Option("Baseline", Plan(atlas), baseline=True))
    if not options and len(loaded.refused) == 1:
        raise IcbmapError(loaded.refused[0])  # the one error line names the file and the problem
    for msg in loaded.refused:  # the comparison goes on without them, or stops just below
        print(f"icbmap: refused: {msg}", file=sys.stderr)
    if not options:
        raise IcbmapError(f"none of the {len(loaded.refused)} proposals could be opened (see above); "
                          "nothing to compare")
    return atlas, focus, options, loaded


def run_print(args) -> int:
    """``icbmap print --compare A B C -o brief.pdf``: the comparison briefing."""
    from icbmap.export.compare_brief import render_comparison
    from icbmap.progress import Progress

    out = Path(args.output)
    if out.suffix.lower() not in (".pdf", ".png"):
        print(f"icbmap: usage error: {out}: the comparison briefing is written as .pdf or .png", file=sys.stderr)
        return 2
    _atlas, focus, options, loaded = _options(args, args.compare)
    files = render_comparison(options, out, focus=focus, paper=args.paper, title=args.title,
                              option_pages=args.option_pages, rules=_rules(args),
                              progress=Progress.stderr("comparison briefing"))
    print("wrote " + ", ".join(str(f) for f in files), file=sys.stderr)
    return 1 if loaded.refused else 0
