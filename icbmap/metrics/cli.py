"""``icbmap metrics [PROPOSAL] [--format table|json|csv] [-o FILE]``.

Prints every metric (docs/metrics.md) for the baseline or a saved plan: a plain-text
report a planner can paste into a paper (``table``), the full report as JSON, or CSV
sections (one table per section, separated by a blank line) for a spreadsheet.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

from icbmap.errors import DataError
from icbmap.metrics.engine import Metrics
from icbmap.metrics.report import Report
from icbmap.metrics.values import COTERMINOSITY_LEVELS
from icbmap.plan.model import Plan

LEVEL_TITLES = {"district": "Districts", "council": "Councils (upper tier)", "ca": "Combined authorities"}


# ------------------------------------------------------------------ loading
def load_plan(path: str | Path, atlas) -> tuple[Plan, str]:
    """The plan saved at ``path`` (a proposal or a bare plan file) and a label for it.

    Read through :func:`icbmap.plan.proposal.load_proposal`, which checks the size before
    reading and validates everything, with errors naming the file.
    """
    from icbmap.plan.proposal import load_proposal

    proposal = load_proposal(path, atlas)
    return proposal.plan, proposal.title or Path(path).name


# ------------------------------------------------------------------ formatting
def _m(n: int) -> str:
    return f"{n / 1e6:.2f}M"


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def _table(headers: list[str], rows: list[list], align: str | None = None) -> str:
    cells = [[str(c) for c in r] for r in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    align = align or ("l" * len(headers))

    def fmt(r):
        return "  ".join(c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(r, widths, align)).rstrip()

    out = [fmt(headers), "  ".join("-" * w for w in widths)]
    out += [fmt(r) for r in cells]
    return "\n".join(out)


def _short(name: str) -> str:
    for suffix in (" Integrated Care Board", " ICB"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name[4:] if name.startswith("NHS ") else name


def format_table(report: Report, title: str) -> str:
    s = report.summary
    meta = report.meta
    lines = [f"icbmap metrics: {title}",
             f"Data pack: {meta['pack']} ({meta['content_hash']}); population: {meta['population_basis'] or 'as in the pack'}"
             + (" (estimated)" if meta.get("population_estimated") else ""),
             ""]
    band = s.band
    lines += [
        "PLAN SUMMARY",
        f"Boards: {s.boards}",
        f"Population: {s.population:,} (assigned {s.assigned_population:,})",
        f"Smallest board: {_short(s.smallest[1])} {s.smallest[2]:,}; largest: {_short(s.largest[1])} {s.largest[2]:,}",
        f"Boards below {band['floor']:,}: {s.below_floor}; below {band['minimum']:,}: "
        f"{s.below_minimum + s.below_floor}; above {band['maximum']:,}: {s.above_maximum}",
        f"Unassigned LSOAs: {s.unassigned_units} ({s.unassigned_population:,} people)",
        f"Boards not in one piece (islands excepted): {s.non_contiguous}",
        f"Boards spanning more than one NHS region: {s.multi_region}",
        f"Sliver tolerance: pieces under {100 * s.tolerance:g}% of an area's population",
        "",
        "COTERMINOSITY",
    ]
    rows = []
    for lvl, ls in s.levels.items():   # councils' levels, then any reference geography
        rows.append([LEVEL_TITLES.get(lvl, lvl), ls.areas, f"{ls.whole_in_one} ({ls.pct_whole_in_one:.1f}%)",
                     ls.split, ls.split_pieces, ls.real_split, ls.sliver_only,
                     f"{ls.pct_people_in_split:.1f}%", f"{ls.area_splitting:.4f}", f"{ls.board_splitting:.4f}"])
    lines.append(_table(["Level", "Areas", "In one board", "Split", "Σ(k−1)", "Split beyond slivers",
                         "Sliver-only", "People in split areas", "Area splitting", "Board splitting"],
                        rows, "lrrrrrrrrr"))
    ca = s.levels["ca"]
    lines += [f"Combined authorities nesting inside one board: {ca.nest} of {ca.areas}; equal to a board: {ca.equal}", ""]

    lines.append("BOARDS")
    rows = []
    for b in sorted(report.boards, key=lambda b: -b.population):
        rows.append([b.code, _short(b.name), f"{b.population:,}", f"{100 * b.share:.2f}%",
                     f"{len(b.councils_whole)}/{len(b.councils_part)}",
                     f"{len(b.districts_whole)}/{len(b.districts_part)}",
                     f"{len(b.cas_whole)}/{len(b.cas_part)}",
                     _pct(b.coterminosity["district"]), _pct(b.coterminosity["council"]),
                     _pct(b.coterminosity["ca"]), len(b.regions),
                     b.pieces if not b.island_pieces else f"{b.pieces} ({b.island_pieces} island)",
                     "; ".join(b.flags)])
    lines.append(_table(["Code", "Board", "Population", "Share", "Councils whole/part", "Districts whole/part",
                         "CAs whole/part", "Cot. district", "Cot. council", "Cot. CA", "Regions", "Pieces",
                         "Flags"], rows, "llrrrrrrrrrrl"))
    if any(b.registered for b in report.boards):
        lines.append("")
        lines.append(_table(["Code", "Board", "Registered patients"],
                            [[b.code, _short(b.name), f"{b.registered:,}"] for b in report.boards], "llr"))
    lines.append("")
    lines.append("Councils each board deals with (whole; in part):")
    for b in sorted(report.boards, key=lambda b: b.name):
        whole = ", ".join(x.rsplit(" (", 1)[0] for x in b.councils_whole) or "none"
        part = ", ".join(x.rsplit(" (", 1)[0] for x in b.councils_part) or "none"
        cas = ", ".join(x.rsplit(" (", 1)[0] for x in b.cas_whole + b.cas_part) or "none"
        lines.append(f"  {_short(b.name)}: whole: {whole}; in part: {part}; combined authorities: {cas}")
    lines.append("")

    for lvl in ("council", "district", "ca"):
        rows_all = report.areas[lvl]
        split = [a for a in rows_all if a.split]
        lines.append(f"SPLIT {LEVEL_TITLES[lvl].upper()}: {len(split)} of {len(rows_all)}")
        if split:
            rows = []
            for a in sorted(split, key=lambda a: (-a.n_boards, a.name)):
                parts = "; ".join(f"{_short(bn)} {100 * p.share:.1f}%" + (" (sliver)" if p.sliver else "")
                                  for p, bn in ((p, _board_name(report, p.board)) for p in a.boards))
                rows.append([a.code, a.name, f"{a.population:,}", a.n_boards, a.n_real_boards,
                             f"{100 * a.main_share:.1f}%", f"{a.split_score:.4f}", parts])
            lines.append(_table(["Code", "Name", "Population", "Boards", "Beyond slivers", "Main share",
                                 "Split score", "Boards (share of the area's people)"], rows, "llrrrrrl"))
        lines.append("")

    lines.append("COMBINED AUTHORITIES")
    rows = []
    for a in report.areas["ca"]:
        rows.append([a.code, a.name, f"{a.population:,}", a.n_boards, "yes" if a.nests else "no",
                     _short(_board_name(report, a.equals_board)) if a.equals_board is not None else "no",
                     ", ".join(_short(_board_name(report, p.board)) for p in a.boards)])
    lines.append(_table(["Code", "Name", "Population", "Boards", "Nests in one board", "Equals a board",
                         "Boards it deals with"], rows, "llrrlll"))
    lines.append("")
    lines.append("BOARDS EACH COUNCIL DEALS WITH")
    rows = [[a.code, a.name, a.n_boards, ", ".join(_short(_board_name(report, p.board)) for p in a.boards)]
            for a in report.areas["council"]]
    lines.append(_table(["Code", "Council", "Boards", "Boards it deals with"], rows, "llrl"))
    lines.append("")
    lines.append("Definitions: docs/metrics.md. Cot. = share of the board's people living in areas wholly "
                 "inside it. Splitting scores: reduced square-root entropy, 1.0 = no splits.")
    return "\n".join(lines) + "\n"


def _board_name(report: Report, board_id: int | None) -> str:
    for b in report.boards:
        if b.id == board_id:
            return b.name
    return ""


def format_csv(report: Report) -> str:
    from icbmap.export.safe import safe_writer

    buf = io.StringIO()
    w = safe_writer(buf, lineterminator="\n")  # formula-like names get a leading '
    s = report.summary
    w.writerow(["section", "summary"])
    w.writerow(["metric", "value"])
    for k in ("boards", "population", "assigned_population", "below_floor", "below_minimum", "above_maximum",
              "unassigned_units", "unassigned_population", "non_contiguous", "multi_region", "tolerance"):
        w.writerow([k, getattr(s, k)])
    w.writerow(["smallest_board", f"{s.smallest[1]} ({s.smallest[2]})"])
    w.writerow(["largest_board", f"{s.largest[1]} ({s.largest[2]})"])
    w.writerow([])
    w.writerow(["section", "coterminosity"])
    fields = ["areas", "whole_in_one", "pct_whole_in_one", "split", "split_pieces", "real_split",
              "real_split_pieces", "sliver_only", "people_in_split", "pct_people_in_split",
              "area_splitting", "board_splitting", "nest", "equal"]
    w.writerow(["level"] + fields)
    for lvl, ls in s.levels.items():
        w.writerow([lvl] + [getattr(ls, f) if getattr(ls, f) is not None else "" for f in fields])
    w.writerow([])
    w.writerow(["section", "boards"])
    w.writerow(["id", "code", "name", "population", "share", "status", "registered", "units",
                "councils_whole", "councils_part", "districts_whole", "districts_part", "cas_whole", "cas_part",
                "cot_district", "cot_council", "cot_ca", "split_district", "split_council", "split_ca",
                "regions", "pieces", "island_pieces", "contiguous", "flags"])
    for b in report.boards:
        w.writerow([b.id, b.code, b.name, b.population, f"{b.share:.6f}", b.status, b.registered, b.units,
                    "; ".join(b.councils_whole), "; ".join(b.councils_part),
                    "; ".join(b.districts_whole), "; ".join(b.districts_part),
                    "; ".join(b.cas_whole), "; ".join(b.cas_part),
                    *("" if b.coterminosity[lvl] is None else f"{b.coterminosity[lvl]:.6f}" for lvl in COTERMINOSITY_LEVELS),
                    *(f"{b.split_score[lvl]:.6f}" for lvl in COTERMINOSITY_LEVELS),
                    "; ".join(b.regions), b.pieces, b.island_pieces, b.contiguous, "; ".join(b.flags)])
    for lvl in report.areas:
        w.writerow([])
        w.writerow(["section", f"{lvl}_areas"])
        w.writerow(["code", "name", "population", "main_board", "main_share", "boards", "real_boards", "split",
                    "sliver_only", "unassigned_population", "split_score", "nests", "equals_board", "board_shares"])
        for a in report.areas[lvl]:
            w.writerow([a.code, a.name, a.population, _board_name(report, a.main_board), f"{a.main_share:.6f}",
                        a.n_boards, a.n_real_boards, a.split, a.sliver_only, a.unassigned_population,
                        f"{a.split_score:.6f}", "" if a.nests is None else a.nests,
                        "" if a.equals_board is None else _board_name(report, a.equals_board),
                        "; ".join(f"{p.code}={p.share:.6f}" + ("(sliver)" if p.sliver else "") for p in a.boards)])
    return buf.getvalue()


def format_change(c: dict) -> str:
    """The CHANGE FROM THE BASELINE section (icbmap.metrics.change)."""
    lines = ["CHANGE FROM THE BASELINE",
             f"Boundary change: {c['people']:,} people ({c['lsoas']:,} LSOAs) whose area changes footprint",
             f"Merges (organisational change): {c['merges']}"]
    for m in c["merged"]:
        lines.append(f"  {_short(m['name'])} continues " + ", ".join(_short(x["name"]) for x in m["continues"]))
    lines.append("A pure merger moves nobody: " + c["definition"] + " (docs/metrics.md).")
    return "\n".join(lines) + "\n\n"


def render(report: Report, fmt: str, title: str, change: dict | None = None) -> str:
    if fmt == "json":
        d = report.to_dict()
        d["meta"]["plan"] = title
        if change is not None:
            d["change"] = change
        return json.dumps(d, indent=1, ensure_ascii=False, allow_nan=False) + "\n"
    if fmt == "csv":
        text = format_csv(report)
        if change is not None:
            text += ("\nsection,change\nmetric,value\n" + f"boundary_change_people,{change['people']}\n"
                     f"boundary_change_lsoas,{change['lsoas']}\nmerges,{change['merges']}\n")
        return text
    text = format_table(report, title)
    if change is not None:
        head, sep, rest = text.partition("\nCOTERMINOSITY\n")
        block = format_change(change)
        text = head + "\n" + block.rstrip("\n") + "\n" + sep + rest if sep else text + block
    return text


def run(args) -> int:
    from icbmap.cli.common import load_atlas_for

    fmt = getattr(args, "format", "table") or "table"
    if getattr(args, "no_bom", False) and not (fmt == "csv" and getattr(args, "output", None)):
        print("icbmap metrics: --no-bom applies to --format csv with -o FILE", file=sys.stderr)
        return 2
    if getattr(args, "proposal", None):
        from icbmap.plan.proposal import precheck_proposal

        precheck_proposal(args.proposal)  # a bad file fails before the pack loads
    atlas = load_atlas_for(args)
    if getattr(args, "proposal", None):
        plan, title = load_plan(args.proposal, atlas)
    else:
        plan, title = Plan(atlas), f"baseline: {atlas.baseline_label}"
    metrics = Metrics(plan, observe=False)
    from icbmap.metrics.change import change_summary

    text = render(metrics.report(), fmt, title, change_summary(plan) if getattr(args, "proposal", None) else None)
    from icbmap.atlas.clusters import EXPECTED_KEY

    if atlas.baseline == EXPECTED_KEY and fmt == "table":   # expected, not decided: say so, with the sources
        prov = atlas.provenance["board"]
        first, _, rest = text.partition("\n")
        text = f"{first}\nBoards: {prov.source}. {prov.note[:1].upper() + prov.note[1:]}.\n{rest}"
    out = getattr(args, "output", None)
    if out:
        from icbmap.atlas.store import atomic_write_text
        from icbmap.export.csv import BOM

        if fmt == "csv" and not getattr(args, "no_bom", False):
            text = BOM + text  # Excel-ready, like icbmap export --format csv

        try:
            atomic_write_text(Path(out), text)
        except OSError as exc:
            raise DataError(out, f"could not write: {exc.strerror or exc}") from exc
        print(f"metrics written to {out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
