"""``icbmap check [PROPOSAL] [--baseline KEY] [--rules FILE|PRESET] [--compare PROPOSAL] [--format table|json]``.

``--baseline`` chooses the pack's board configuration (as for ``icbmap metrics``);
``--compare`` adds another proposal's (or the baseline's) count beside each rule.

Exit 0 when every hard rule passes (soft rules that fail are printed as warnings), 3 when a
hard rule fails (so it can gate a script), 1 on bad input (the message names the file), 2 on
wrong usage.
"""

from __future__ import annotations

import json
import sys

from icbmap.errors import DataError
from icbmap.principles.check import summary_line
from icbmap.principles.ruleset import DEFAULT_PRESET

EXIT_PASS, EXIT_FAIL = 0, 3


def register(sub) -> None:
    add_arguments(sub.add_parser(
        "check", help="check the baseline or a proposal against design principles (exit 0 pass, 3 fail)"))


def add_arguments(p) -> None:
    p.add_argument("proposal", nargs="?", help="proposal file (default: the baseline)")
    p.add_argument("--rules", help="a rule file (TOML or JSON) or a preset's name (default: the proposal's own "
                                   f"rules, else {DEFAULT_PRESET!r})")
    from icbmap.cli.common import add_baseline_argument

    add_baseline_argument(p)
    p.add_argument("--compare", metavar="PROPOSAL",
                   help="also count each rule's failures on another proposal ('baseline' = the baseline's boards; "
                        "'2027-expected' = the expected April 2027 map)")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.add_argument("--list-presets", action="store_true", help="list the preset rule sets and exit")
    p.add_argument("-o", "--output", help="write to a file instead of standard output")


def _plan_for(atlas, path):
    from icbmap.plan.model import Plan
    from icbmap.plan.proposal import load_proposal

    if path in (None, "baseline"):
        return Plan(atlas), None
    from icbmap.atlas.clusters import EXPECTED_KEY

    if path == EXPECTED_KEY and not __import__("pathlib").Path(path).exists():
        from icbmap.plan.expected import expected_plan

        return expected_plan(atlas), None
    prop = load_proposal(path, atlas)
    return prop.plan, prop


def _checker(plan, rules):
    from icbmap.metrics import Metrics
    from icbmap.principles.check import check

    return check(Metrics(plan, observe=False), rules)


def format_table(c, base=None, title: str = "", base_name: str | None = None) -> str:
    rs = c.ruleset
    lines = [f"PRINCIPLES: {rs.name}" + (f" - {title}" if title else "")]
    if rs.source:
        lines.append(f"Source: {rs.source}")
    if rs.url:
        lines.append(f"        {rs.url}")
    lines.append("")
    for r in c.results():
        if r.missing:
            mark, count = "?", f"not checked: {r.missing}"
        else:
            mark = "PASS" if r.ok else ("FAIL" if r.rule.hard else "WARN")
            count = f"{r.failing} of {r.total} {r.subject} fail"
            if base is not None:
                b = base.result(r.rule.id)
                if not b.missing:
                    d = r.failing - b.failing
                    count += f" ({base_name or 'baseline'} {b.failing}; {'+' if d > 0 else ''}{d})"
        kind = "hard" if r.rule.hard else (f"soft, weight {r.rule.weight:g}" if r.rule.weight != 1.0 else "soft")
        lines.append(f"[{mark}] {r.rule.label} ({kind}): {count}")
        if not r.ok and not r.missing:
            for f in c.area_failures(r.rule.id):
                lines.append(f"    - {f}")
    lines.append("")
    lines.append(summary_line(c))
    if rs.notes:
        lines += ["", f"Notes: {rs.notes}"]
    return "\n".join(lines) + "\n"


def run(args) -> int:
    from icbmap.atomic import atomic_write_text
    from icbmap.cli.common import load_atlas_for
    from icbmap.principles.ruleset import load_rules, preset_paths

    if args.list_presets:
        for name, path in preset_paths().items():
            print(f"{name}  ({path.name})")
        return 0
    atlas = load_atlas_for(args)
    plan, prop = _plan_for(atlas, args.proposal)
    if args.rules:
        rules = load_rules(args.rules)
    elif prop is not None and prop.rules is not None:
        rules = prop.rules
    else:
        rules = load_rules(DEFAULT_PRESET)
    if prop is not None and prop.missing_references:
        print(f"icbmap: warning: {args.proposal}: uses reference geographies not on this machine: "
              + ", ".join(prop.missing_references), file=sys.stderr)
    c = _checker(plan, rules)
    missing = c.missing
    if missing:
        where = args.rules or (args.proposal if prop is not None and prop.rules is not None else DEFAULT_PRESET)
        raise DataError(where, "; ".join(f"rule {r.rule.id!r} cannot be checked: {r.missing}" for r in missing))
    base = None
    if args.compare:
        bplan, _ = _plan_for(atlas, args.compare)
        base = _checker(bplan, rules)
    title = args.proposal or "baseline"
    if args.format == "json":
        d = c.to_dict()
        d["proposal"] = title
        if base is not None:
            d["compare"] = {"name": args.compare, "results": base.counts()}
        text = json.dumps(d, indent=1, ensure_ascii=False, allow_nan=False) + "\n"
    else:
        text = format_table(c, base, title, args.compare)
    if args.output:
        atomic_write_text(args.output, text)
    else:
        sys.stdout.write(text)
    return EXIT_PASS if c.hard_pass else EXIT_FAIL
