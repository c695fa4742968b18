"""``icbmap suggest``: the best K board configurations under the rules, written as proposals.

    icbmap suggest [PROPOSAL] [--baseline KEY] [--scope REGION|BOARD,...] --blocks
        boards|places|councils|districts --boards N|N-M [--rules FILE] [--floor P]
        [--ceiling P] [--no-region-nesting] [--no-contiguity] [--councils-whole]
        [--cas-whole] [--lock CODE,...] [--objective disruption=1,balance=0.2,...]
        [--top K] [--time-limit S] [--format table|json] -o DIR

Writes ``DIR/option-<k>.icbmap.json`` (proposals) and ``DIR/summary.json``; prints the
summary (a table, or the JSON).  Nothing is written when the request is bad or infeasible.
Ctrl-C stops the search and keeps the best options found so far.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

from icbmap.errors import DataError
from icbmap.suggest.spec import (
    BLOCK_LEVELS,
    Constraints,
    Request,
    SuggestError,
    Target,
    Weights,
)


def register(sub) -> None:
    s = sub.add_parser("suggest", help="the best board configurations under your rules (exact optimiser)")
    s.add_argument("proposal", nargs="?", help="starting plan (default: the baseline)")
    from icbmap.cli.common import add_baseline_argument

    add_baseline_argument(s)
    s.add_argument("--scope", default="england", help="England (default), an NHS region, or board codes A,B,C")
    s.add_argument("--blocks", required=True, choices=BLOCK_LEVELS, help="what is moved whole")
    s.add_argument("--boards", required=True, help="number of boards in the scope: N or N-M")
    s.add_argument("--rules", help="a rule set (TOML/JSON file or a preset's name, as for icbmap check) or a "
                                   "JSON file of constraint settings; flags override it")
    s.add_argument("--floor", help="smallest board population, e.g. 1000000 or 1M")
    s.add_argument("--ceiling", help="largest board population, e.g. 3M")
    s.add_argument("--no-region-nesting", action="store_true", help="boards may cross NHS region lines")
    s.add_argument("--no-contiguity", action="store_true", help="boards may be in several pieces")
    s.add_argument("--councils-whole", action="store_true", help="no council split between boards")
    s.add_argument("--cas-whole", action="store_true", help="no combined authority split between boards")
    s.add_argument("--lock", help="board codes kept as they are (A,B,...)")
    s.add_argument("--objective", help="lexicographic levels of weighted terms, most important first, e.g. "
                                       "'soft_rules > boundary_change > merges > size_band=1,clusters=500' "
                                       "(default: soft_rules > boundary_change > merges > council_splits > "
                                       "size_band > clusters; docs/suggest.md)")
    s.add_argument("--band", help="target size band of the size_band term, LO-HI people (default 1M-3M)")
    s.add_argument("--ties", type=int, default=20, help="count optima tied with option 1 up to this many "
                                                        "(default 20; 0: do not count)")
    s.add_argument("--top", type=int, default=1, help="number of distinct options (default 1)")
    s.add_argument("--time-limit", type=float, default=60.0, help="seconds for the whole search (default 60)")
    s.add_argument("--workers", type=int, default=None, help="solver threads (default: the number of cores)")
    s.add_argument("--decompose", choices=["auto", "on", "off"], default="auto",
                   help="solve region by region and combine exactly (auto: when the problem has 61-200 pieces "
                        "and every objective term is a sum over boards; docs/suggest.md)")
    s.add_argument("--format", choices=["table", "json"], default="table")
    s.add_argument("-o", "--output", required=True, help="folder for the option proposals and summary.json")


MAX_WORKERS = 64
MAX_TOP = 100
MAX_TIME = 7 * 24 * 3600.0


def check_arguments(args) -> None:
    """Every number and list given on the command line, finite and in range (issue 21),
    before the solver sees it: one line naming the option."""
    from icbmap.guards import ECHO, echo, number
    from icbmap.plan.model import MAX_BOARDS

    for opt in ("floor", "ceiling"):
        if getattr(args, opt, None) is not None:
            parse_people(getattr(args, opt), opt)
    boards = str(args.boards)
    if len(boards) > 20:
        raise SuggestError(f"--boards {echo(boards, 20)}: expected N or N-M boards, at most {MAX_BOARDS}")
    for part in boards.strip().split("-", 1):
        if part.strip().isdigit() and int(part) > MAX_BOARDS:
            raise SuggestError(f"--boards {boards}: at most {MAX_BOARDS} boards")
    if args.workers is not None:      # default: the number of cores
        number(args.workers, "--workers", lo=1, hi=MAX_WORKERS, integer=True, error=lambda _p, m: SuggestError(m))
    number(args.top, "--top", lo=1, hi=MAX_TOP, integer=True, error=lambda _p, m: SuggestError(m))
    number(args.time_limit, "--time-limit", hi=MAX_TIME, unit=" s", error=lambda _p, m: SuggestError(m))  # <= 0: spec
    for opt in ("scope", "lock", "objective"):
        v = getattr(args, opt, None)
        if isinstance(v, str) and len(v) > 10_000:
            raise SuggestError(f"--{opt} {echo(v, ECHO)}: {len(v):,} characters, too long")


def parse_people(text: str, what: str) -> int:
    s = str(text).strip().replace(",", "").replace("_", "").lower()
    mult = 1
    if s.endswith("m"):
        s, mult = s[:-1], 1_000_000
    elif s.endswith("k"):
        s, mult = s[:-1], 1_000
    from icbmap.guards import echo

    if len(s) > 40:
        raise SuggestError(f"--{what} {echo(text, 20)}: expected a population such as 1000000 or 1M "
                           f"({len(str(text)):,} characters)")
    try:
        v = float(s) * mult
    except ValueError:
        raise SuggestError(f"--{what} {echo(text)}: expected a population such as 1000000 or 1M") from None
    if v != v or v in (float("inf"), float("-inf")):
        raise SuggestError(f"--{what} {echo(text)}: not a finite number; give a population such as 1M")
    if v < 0:
        raise SuggestError(f"--{what} {echo(text)}: a population cannot be negative")
    if v > 100_000_000:
        raise SuggestError(f"--{what} {echo(text)}: more than 100 million people (England has about 57 million)")
    return int(round(v))


def request_from_args(args, atlas=None) -> Request:
    """The request from the arguments; ``--rules`` needs the atlas (its geographies), so
    without one the rules are left out (used to check the other arguments early)."""
    cons = Constraints()
    args._ruleset, args._rule_notes = None, []
    if args.rules and atlas is not None:
        from icbmap.suggest.rules import constraints_from_rules

        cons, args._ruleset, args._rule_notes = constraints_from_rules(atlas, args.rules)
    kw = {}
    if args.floor is not None:
        kw["floor"] = parse_people(args.floor, "floor")
    if args.ceiling is not None:
        kw["ceiling"] = parse_people(args.ceiling, "ceiling")
    if args.no_region_nesting:
        kw["region_nesting"] = False
    if args.no_contiguity:
        kw["contiguity"] = False
    if args.councils_whole:
        kw["councils_whole"] = True
    if args.cas_whole:
        kw["cas_whole"] = True
    if args.lock:
        kw["locked"] = tuple(c.strip() for c in args.lock.split(",") if c.strip())
    from dataclasses import replace

    cons = replace(cons, **kw)
    band = None
    if args.band is not None:
        lo_s, sep, hi_s = str(args.band).partition("-")
        if not sep:
            raise SuggestError(f"--band {args.band!r}: expected LO-HI, e.g. 1M-3M")
        band = (parse_people(lo_s, "band"), parse_people(hi_s, "band"))
    weights = Weights.parse(args.objective, band=band)
    soft = [r for r in cons.soft]
    if args.rules and atlas is not None and args._ruleset is not None:
        from icbmap.suggest.rules import check_soft_only

        check_soft_only(args._ruleset, args.rules, cons, weights)
    del soft
    req = Request(blocks=args.blocks, target=Target.parse(args.boards), scope=args.scope, constraints=cons,
                  weights=weights, top=args.top, time_limit=args.time_limit,
                  workers=args.workers or (os.cpu_count() or 1), decompose=args.decompose)
    if not isinstance(args.ties, int) or args.ties < 0:
        raise SuggestError(f"--ties {args.ties!r}: 0 or more")
    req.check()
    return req


def _fmt_gap(g) -> str:
    return "-" if g is None else f"{100 * g:.2f}%"


def summary_dict(result, files: list[str], plan_label: str) -> dict:
    from icbmap.suggest.terms import display_value

    ties = result.ties
    return {
        "format": "icbmap-suggest",
        "start": plan_label,
        "request": result.request.to_dict(),
        "scope": result.problem.scope_label,
        "blocks": result.problem.n_blocks,
        "atoms": result.problem.n,
        "notes": result.problem.notes,
        "status": result.status,
        "message": result.message,
        "elapsed_seconds": round(result.elapsed, 2),
        "solver_seconds": round(getattr(result, "solver_seconds", result.elapsed), 2),
        "ties": None if ties is None else {"count": ties[0], "complete": ties[1]},
        "explanation": result.explanation,
        "options": [{
            "rank": o.rank,
            "file": f,
            "status": o.found.status,
            "objective": o.figures["objective"],
            "levels": o.figures["levels"],
            "solver_objective": o.found.objective,
            "bound": o.found.bound,
            "gap": o.found.gap,
            "terms": {t: display_value(t, v) for t, v in o.figures["terms"].items()},
            "violations": o.violations,
            "figures": o.figures,
        } for o, f in zip(result.options, files)],
    }


def add_checks(summary: dict) -> dict:
    from icbmap.suggest.figures import checks_text   # lazily: scipy.optimize is heavy

    for o in summary["options"]:
        o["checks"] = checks_text(o)
    return summary


def format_table(summary: dict) -> str:
    from icbmap.suggest.figures import checks_text   # lazily: scipy.optimize is heavy

    from icbmap.suggest.spec import SHORT_LABELS

    r = summary["request"]
    obj = r["objective"]
    levels = obj["levels"]
    lines = [f"icbmap suggest: {summary['scope']}, {r['blocks']} -> {r['target']} boards, start: {summary['start']}",
             "Rules: " + ", ".join(f"{k}={v}" for k, v in r["constraints"].items() if v not in (None, (), [])),
             "Objective (lexicographic, first matters most): "
             + " > ".join(",".join(f"{t}" + (f"={w:g}" if w != 1 else "") for t, w in lv.items()) for lv in levels)
             + (f"; size band {obj['band'][0]:,}-{obj['band'][1]:,}" if any("size_band" in lv for lv in levels)
                else "") + "; then a fixed tie-break",
             f"{summary['blocks']} blocks ({summary['atoms']} pieces); status: {summary['status']}"
             + (f" ({summary['message']})" if summary["message"] else "") + f"; {summary['elapsed_seconds']:.1f} s"]
    ties = summary.get("ties")
    if ties and summary["options"]:
        n, complete = ties["count"], ties["complete"]
        if n <= 1 and complete:
            lines.append("Ties: option 1 is the only optimum (every level and the tie-break decide it)")
        else:
            lines.append(f"Ties: {'' if complete else 'at least '}{n} distinct options tie with option 1 on every "
                         "level; the fixed tie-break chooses option 1" + ("" if complete else
                                                                           " (counting stopped at the cap)"))
    lines += [f"Note: {n}" for n in summary["notes"]]
    lines.append("")
    terms = [t for lv in levels for t in lv]
    shown = terms + [t for t in ("boundary_change", "merges") if t not in terms]
    head = ["Option", "Status", "Boards", "Smallest", "Largest"] + [SHORT_LABELS[t] for t in shown] \
        + ["Checks", "File"]
    rows = []
    for o in summary["options"]:
        f = o["figures"]
        vals = []
        for t in shown:
            v = o["terms"][t]
            vals.append(f"{v:,}" if isinstance(v, int) else f"{v:,.2f}")
        rows.append([str(o["rank"]), o["status"], str(f["boards"]), f"{f['smallest']:,}", f"{f['largest']:,}"]
                    + vals + [o.get("checks") or checks_text(o), o["file"]])
    if rows:
        widths = [max(len(h), *(len(x[i]) for x in rows)) for i, h in enumerate(head)]
        lines.append("  ".join(h.ljust(w) for h, w in zip(head, widths)).rstrip())
        lines.append("  ".join("-" * w for w in widths))
        lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    for o in summary["options"]:
        lines.append("")
        lines.append(f"Option {o['rank']} boards (population; councils it deals with; NHS region, as regions "
                     "follow boards):")
        for b in o["figures"]["board_list"]:
            lines.append(f"  {b['code']}  {b['name']}: {b['population']:,}; {b['councils']}"
                         + (f"; {b['nhs_region']}" if b.get("nhs_region") else "")
                         + (" (locked)" if b["locked"] else ""))
        for v in o["violations"]:
            lines.append(f"  BROKEN: {v}")
        pr = o["figures"].get("principles")
        if pr:
            rules = pr["rules"]
            ok = sum(1 for r in rules if r["passed"])
            lines.append(f"  Principles ({pr['rule_set']}): {ok} of {len(rules)} rules pass (icbmap check)")
            for r in rules:
                if not r["passed"]:
                    what = "FAILS" if r.get("hard", True) else "WARNING (soft rule)"
                    lines.append(f"    {what}: {r['label']}: {r['missing'] or str(r['failing']) + ' ' + r['subject']}")
    if summary["explanation"]:
        lines.append("")
        lines += summary["explanation"]
    lines.append("")
    lines.append("Terms: people (boundary change, outside band, range, people moved) or counts; the levels are "
                 "compared in order, weights within a level are per 1,000 people or per item; docs/suggest.md.")
    return "\n".join(lines) + "\n"


def run(args) -> int:
    from icbmap.cli.common import load_atlas_for
    from icbmap.plan.model import Plan
    from icbmap.plan.proposal import Proposal, write_proposal
    from icbmap.atomic import atomic_write_text
    from icbmap.suggest.solve import suggest

    check_arguments(args)
    request_from_args(args)          # bad arguments fail before the data pack is read
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise DataError(out, "is a file; -o needs a folder for the option proposals")
    atlas = load_atlas_for(args)
    request = request_from_args(args, atlas)
    if args.proposal:
        from icbmap.cli.metrics import load_plan

        start, label = load_plan(args.proposal, atlas)
    else:
        start, label = Plan(atlas), f"baseline: {atlas.baseline_label}"

    cancel = threading.Event()
    box: dict = {}
    last = [0.0]

    def progress(p):
        now = time.monotonic()
        if now - last[0] >= 1.0:
            last[0] = now
            print(f"[suggest] {p.line()}", file=sys.stderr, flush=True)

    def work():
        try:
            box["result"] = suggest(start, request, progress=progress, cancel=cancel, tie_cap=args.ties)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            box["error"] = exc

    t = threading.Thread(target=work, daemon=True)
    t.start()
    interrupted = False
    while t.is_alive():
        try:
            t.join(0.2)
        except KeyboardInterrupt:
            interrupted = True
            cancel.set()
            print("[suggest] stopping: keeping the best found so far", file=sys.stderr, flush=True)
    if "error" in box:
        raise box["error"]
    result = box["result"]
    if not result.options:
        raise SuggestError("\n  ".join([result.message] + result.explanation[1:]) if result.explanation
                           else result.message)
    if args._ruleset is not None:
        from icbmap.suggest.rules import check_option

        for o in result.options:
            o.figures["principles"] = {"rule_set": args._ruleset.name, "rules": check_option(o.plan, args._ruleset)}
            hard_of = {r.id: getattr(r, "hard", True) for r in args._ruleset.rules}
            for rr in o.figures["principles"]["rules"]:
                rr.setdefault("hard", hard_of.get(rr["id"], True))
    result.problem.notes.extend(args._rule_notes)
    from icbmap.guards import command_inputs
    from icbmap.suggest.outdir import plan_output, sha256

    where = plan_output(out, len(result.options), command_inputs(args))  # never over the user's files
    out = where.folder
    if where.note:
        print(f"icbmap: note: {where.note}", file=sys.stderr)
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for o in result.options:
        name = f"option-{o.rank}.icbmap.json"
        f = o.figures
        notes = (f"Suggested by icbmap suggest ({result.problem.scope_label}, {request.blocks} -> "
                 f"{request.target} boards; objective {f['objective']:,.2f}, bound {o.found.bound:,.2f}, "
                 f"{o.found.status}). Rules: {json.dumps(request.constraints.to_dict(), allow_nan=False)}. "
                 f"Objective weights: {request.weights}.")
        prop = Proposal.new(o.plan, title=f"Suggested option {o.rank}: {result.problem.scope_label}, "
                                          f"{f['boards']} boards", notes=notes)
        write_proposal(out / name, prop)
        files.append(name)
    summary = add_checks(summary_dict(result, files, label if not args.proposal else str(args.proposal)))
    for entry in summary["options"]:   # what this run wrote: a rerun replaces only these, unchanged
        entry["sha256"] = sha256(out / entry["file"])
    text_json = json.dumps(summary, indent=1, ensure_ascii=False, allow_nan=False) + "\n"
    atomic_write_text(out / "summary.json", text_json)
    # options left from an earlier run would be taken for this run's: removed when unchanged
    for old in where.stale:
        old.unlink(missing_ok=True)
    sys.stdout.write(text_json if args.format == "json" else format_table(summary))
    print(f"{len(files)} option(s) written to {out}", file=sys.stderr)
    return 130 if interrupted else 0
