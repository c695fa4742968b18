"""``icbmap print`` (headless): the briefing map of the baseline or a proposal as PDF or PNG,
or with ``--compare`` the comparison briefing of several options (:mod:`icbmap.cli.compare`).

Example::

    icbmap print option-b.icbmap.json -o brief.pdf --paper A3 --changed-pages
"""

from __future__ import annotations

from pathlib import Path

from icbmap.cli.common import EXIT_ERROR, EXIT_OK, _atlas, _check_output, _err, _plan_for, _usage, writing
from icbmap.progress import Progress


def register(sub) -> None:
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
    if getattr(args, "compare", None):   # the comparison briefing
        from icbmap.cli import compare

        return compare.run(args)
    with writing(args):
        return run_print(args)
