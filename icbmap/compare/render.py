"""Text forms of a :class:`~icbmap.compare.core.Comparison`: table, Markdown, CSV, JSON."""

from __future__ import annotations

import io
import json

from icbmap.names import format_population, short_board_name

MAX_MOVES = 12


def _grid(headers: list[str], rows: list[list[str]], align: str) -> str:
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]

    def fmt(r):
        return "  ".join(c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(r, widths, align)).rstrip()

    return "\n".join([fmt(headers), "  ".join("-" * w for w in widths)] + [fmt(r) for r in rows])


def _cell(value, text: str, width: int = 26) -> str:
    """A table cell: a named board is shortened to fit a column ("Greater Essex 1.86m")."""
    if isinstance(value, tuple):
        pop, name = value
        name = name if len(name) <= width else name[: width - 1].rstrip(" ,") + "\u2026"
        return f"{name} {format_population(pop)}"
    return text


def _cells(cmp, marker: str) -> list[list[str]]:
    out = []
    for r in cmp.rows:
        out.append([r.label] + [_cell(r.values[i], t) + (marker if i in r.best else "")
                                for i, t in enumerate(r.texts)])
    return out


def _header(cmp) -> list[str]:
    pack = cmp.options[0].atlas
    n = len(cmp.options)
    return [f"Comparison of {n} option{'' if n == 1 else 's'}; focus: {cmp.focus.label}",
            f"Data pack: {pack.name} ({pack.content_hash}); population: {pack.population_basis or 'as in the pack'}"]


def pair_order(n: int) -> list[tuple[int, int]]:
    """Neighbouring options first (where the subtle differences are), then each option
    against the first (the baseline when it is included)."""
    pairs = [(i, i + 1) for i in range(0, n - 1)]
    pairs += [(0, j) for j in range(2, n)]
    return pairs


def _pairs(cmp):
    return pair_order(len(cmp.options))


def format_table(cmp) -> str:
    lines = _header(cmp) + [""]
    names = [o.name for o in cmp.options]
    lines.append(_grid(["Figure"] + names, _cells(cmp, " *"), "l" + "r" * len(names)))
    lines.append("* best value in the row")
    lines.append("")
    lines += _boards_text(cmp)
    lines += _moves_text(cmp)
    lines.append("Definitions: docs/compare.md and docs/metrics.md.")
    return "\n".join(lines) + "\n"


def _boards_text(cmp) -> list[str]:
    lines = []
    for i, o in enumerate(cmp.options):
        lines.append(f"BOARDS IN THE FOCUS: {o.name}")
        rows = [[b.code, short_board_name(b.name), f"{b.population:,}",
                 f"{len(b.councils_whole)}/{len(b.councils_part)}",
                 f"{len(b.districts_whole)}/{len(b.districts_part)}", f"{len(b.cas_whole)}/{len(b.cas_part)}"]
                for b in cmp.boards[i]]
        lines.append(_grid(["Code", "Board", "Population", "Councils whole/part", "Districts whole/part",
                            "CAs whole/part"], rows, "llrrrr"))
        lines.append("")
    return lines


def _moves_text(cmp) -> list[str]:
    lines = []
    for i, j in _pairs(cmp):
        d = cmp.diff(i, j)
        lines.append(f"MOVES {cmp.options[i].name} \u2192 {cmp.options[j].name}: "
                     f"{d.lsoas:,} LSOAs, {d.people:,} people")
        for lvl in ("place", "district"):
            moves = d.by[lvl]
            if not moves:
                continue
            lines.append(f"  by {lvl}:")
            for m in moves[:MAX_MOVES]:
                lines.append(f"    {m.text()}")
            if len(moves) > MAX_MOVES:
                lines.append(f"    \u2026 and {len(moves) - MAX_MOVES} more")
        lines.append("")
    return lines


def format_md(cmp) -> str:
    names = [o.name for o in cmp.options]
    esc = lambda s: " ".join(str(s).replace("\\", "\\\\").replace("|", "\\|").split())  # noqa: E731
    lines = [f"# {esc(_header(cmp)[0])}", "", esc(_header(cmp)[1]), "",
             "| Figure | " + " | ".join(esc(n) for n in names) + " |",
             "|---|" + "---:|" * len(names)]
    for r in cmp.rows:
        cells = [f"**{esc(t)}**" if i in r.best else esc(t) for i, t in enumerate(r.texts)]
        lines.append(f"| {esc(r.label)} | " + " | ".join(cells) + " |")
    lines += ["", "Bold: best value in the row.", ""]
    for i, o in enumerate(cmp.options):
        lines += [f"## Boards in the focus: {esc(o.name)}", "",
                  "| Code | Board | Population | Councils whole/part |", "|---|---|---:|---:|"]
        for b in cmp.boards[i]:
            lines.append(f"| {esc(b.code)} | {esc(short_board_name(b.name))} | {b.population:,} | "
                         f"{len(b.councils_whole)}/{len(b.councils_part)} |")
        lines.append("")
    for i, j in _pairs(cmp):
        d = cmp.diff(i, j)
        lines += [f"## Moves {esc(cmp.options[i].name)} \u2192 {esc(cmp.options[j].name)}", "",
                  f"{d.lsoas:,} LSOAs, {d.people:,} people.", ""]
        for lvl in ("place", "district"):
            if d.by[lvl]:
                lines += [f"By {lvl}:", ""]
            for m in d.by[lvl][:MAX_MOVES]:
                lines.append(f"- {esc(m.text())}")
            if len(d.by[lvl]) > MAX_MOVES:
                lines.append(f"- \u2026 and {len(d.by[lvl]) - MAX_MOVES} more")
            lines.append("")
    return "\n".join(lines)


def format_csv(cmp) -> str:
    from icbmap.csvsafe import safe_writer

    buf = io.StringIO()
    w = safe_writer(buf, lineterminator="\n")  # formula-like option and board names get a leading '
    names = [o.name for o in cmp.options]
    w.writerow(["section", "summary", "focus", cmp.focus.label])
    w.writerow(["key", "figure"] + names + ["best"])
    for r in cmp.rows:
        vals = [("" if v is None else (v[0] if isinstance(v, tuple) else v)) for v in r.values]
        w.writerow([r.key, r.label] + vals + ["; ".join(names[k] for k in r.best)])
    w.writerow([])
    w.writerow(["section", "boards"])
    w.writerow(["option", "code", "name", "population", "registered", "councils_whole", "councils_part",
                "districts_whole", "districts_part", "cas_whole", "cas_part"])
    for i, o in enumerate(cmp.options):
        for b in cmp.boards[i]:
            w.writerow([o.name, b.code, b.name, b.population, b.registered, "; ".join(b.councils_whole),
                        "; ".join(b.councils_part), "; ".join(b.districts_whole), "; ".join(b.districts_part),
                        "; ".join(b.cas_whole), "; ".join(b.cas_part)])
    w.writerow([])
    w.writerow(["section", "moves"])
    w.writerow(["from_option", "to_option", "level", "code", "name", "from_board", "to_board", "lsoas", "people"])
    for i, j in _pairs(cmp):
        d = cmp.diff(i, j)
        for lvl in ("place", "district"):
            for m in d.by[lvl]:
                w.writerow([names[i], names[j], lvl, m.code, m.name, m.from_name, m.to_name, m.lsoas, m.people])
    return buf.getvalue()


def format_json(cmp) -> str:
    # compact: the C encoder (an indented England comparison takes ~0.3 s more to write)
    return json.dumps(cmp.to_dict(), ensure_ascii=False, allow_nan=False, separators=(",", ":")) + "\n"


def render(cmp, fmt: str) -> str:
    return {"table": format_table, "md": format_md, "csv": format_csv, "json": format_json}[fmt](cmp)
