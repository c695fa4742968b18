"""The briefing page: a printable A4/A3 landscape map of the boards with their figures.

Page 1: title, subtitle and date; a one-line summary; the map of boards (fills from the
board colours, board outlines, combined-authority outlines dashed, areas moved from their
baseline board hatched, labels with name and population placed so they do not overlap,
numbers where a label does not fit, a London inset); legend; the metrics table (population,
councils wholly / partly inside, coterminosity index, flags); scale bar and north arrow in
British National Grid metres; the data attribution (ONS / OS Open Government Licence wording,
data vintages, the population basis).

Optional pages (``changed_pages=True``): one per changed board, its baseline shape beside
its proposed shape, zoomed, with the before / after figures.

Drawn with matplotlib's object API (no pyplot, no Qt): :func:`briefing_figures` returns the
:class:`~matplotlib.figure.Figure` of each page (the GUI can show them in its preview or
paint them), :func:`render_briefing` writes a vector PDF (or PNG pages).  This module lays the
pages out; the drawing pieces (paths, hatching, labels, scale bar, text fitting) are in
:mod:`icbmap.export.drawing`, re-exported here.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from datetime import date as _date
from pathlib import Path

import numpy as np
import shapely
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch, Rectangle

from icbmap.errors import DataError
from icbmap.export import facts as facts_mod
from icbmap.progress import Progress
from icbmap.names import format_population, short_board_name
from icbmap.export.drawing import (  # noqa: F401 (re-exported: their old home)
    ELLIPSIS,
    FAINT,
    INK,
    MAX_TEXT_CHARS,
    MM,
    PAPER_MM,
    attribution_text,
    fit_text,
    label_boxes,
    save_pages,
    geom_path,
    hatch_lines,
    one_line,
    short_flags,
    _HatchHandler,
    _data_per_mm,
    _draw_boards,
    _draw_ca,
    _draw_moved,
    _frame,
    _label_anchor,
    _new_figure,
    _overlaps,
    _place_labels,
    _ring_path,
    _scale_bar,
    _view,
)

#: London inset extent (EPSG:27700 metres): Greater London with a margin.
LONDON = (500_000.0, 153_000.0, 565_000.0, 203_000.0)
#: Where the London inset sits on the England map: (x, y, width) in EPSG:27700 metres,
#: over Wales, which the map leaves blank.
INSET_AT = (84_000.0, 222_000.0, 232_000.0)


# ------------------------------------------------------------------ geometry -> paths


# ------------------------------------------------------------------ text helpers


# ------------------------------------------------------------------ page model
@dataclass
class _Ctx:
    plan: object
    atlas: object
    report: object
    base_report: object
    shapes: np.ndarray
    base_shapes: np.ndarray
    moved: object            # union of moved units (EPSG:27700) or None
    changed: list[int]       # board ids whose units changed
    ca_lines: np.ndarray
    scale: float
    paper: str
    title: str
    subtitle: str
    date_text: str


def _changed_boards(plan) -> list[int]:
    base = plan.baseline_assignment
    a = plan.assignment
    moved = a != base
    ids = set(np.unique(a[moved]).tolist()) | set(np.unique(base[moved]).tolist())
    ids.discard(-1)
    for b in plan.boards:
        if b.id >= plan.n_baseline_boards and b.active:
            ids.add(b.id)
        elif b.id < plan.n_baseline_boards and not b.active:
            ids.add(b.id)
    return sorted(ids)


def _context(plan, paper, title, subtitle, date_text) -> _Ctx:
    from icbmap.plan.model import Plan

    atlas = plan.atlas
    report = facts_mod.metrics_report(plan)
    base_plan = Plan(atlas, colours={b.id: b.colour for b in plan.boards[: plan.n_baseline_boards]})
    base_report = facts_mod.metrics_report(base_plan)
    shapes = facts_mod.board_shapes(plan)
    base_shapes = atlas.layers["board"].geometry
    # hatched: areas whose board's footprint changes (boundary change); a pure merger moves nobody
    from icbmap.metrics.change import moved_mask

    moved_idx = np.flatnonzero(moved_mask(plan.baseline_assignment, plan.assignment, atlas.population))
    moved = (shapely.coverage_union_all(atlas.units.geometry.to_numpy()[moved_idx])
             if len(moved_idx) else None)
    ca_geoms = atlas.layers["ca"].geometry
    scale = 1.0 if paper == "A4" else 1.25
    return _Ctx(plan, atlas, report, base_report, shapes, base_shapes, moved, _changed_boards(plan),
                shapely.boundary(np.asarray(ca_geoms, dtype=object)), scale, paper, title, subtitle, date_text)


def _header(fig: Figure, ctx: _Ctx, title: str, subtitle: str) -> None:
    """Title (one line, cut to end before the date), subtitle (one line, cut at the margin), date."""
    s = ctx.scale
    date = fig.text(0.975, 0.962, ctx.date_text, fontsize=9.5 * s, color=FAINT, va="top", ha="right")
    renderer = fig.canvas.get_renderer()
    t = fig.text(0.025, 0.962, one_line(title), fontsize=17 * s, fontweight="bold", color=INK, va="top")
    fit_text(t, date.get_window_extent(renderer).x0 - 12 * s)
    if subtitle:
        sub = fig.text(0.025, 0.912, one_line(subtitle), fontsize=10.5 * s, color=FAINT, va="top")
        fit_text(sub, 0.975 * fig.bbox.width)


def _footer(fig: Figure, ctx: _Ctx, page: int, pages: int) -> None:
    s = ctx.scale
    width_chars = int(250 * (1.0 if ctx.paper == "A4" else 1.42 / s))
    lines = []
    for line in attribution_text(ctx.atlas):
        lines.extend(textwrap.wrap(line, width_chars))
    fig.text(0.025, 0.012, "\n".join(lines), fontsize=5.2 * s, color=FAINT, va="bottom", ha="left",
             linespacing=1.3)
    fig.text(0.975, 0.012, f"Page {page} of {pages}", fontsize=6 * s, color=FAINT, va="bottom", ha="right")


X_POP, X_COUNCILS, X_COT, X_FLAGS = 0.555, 0.69, 0.80, 0.82


def _metrics_table(fig, ctx: _Ctx, rect, rows, numbers) -> None:
    """The per-board table (doubles as the colour legend) inside figure ``rect``."""
    s = ctx.scale
    ax = fig.add_axes(rect)
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    n = len(rows)
    height_in = rect[3] * fig.get_figheight()
    row_h = 1.0 / (n + 3.2)
    fs = min(6.6 * s, row_h * height_in * 72 * 0.66)
    cols = [(0.0, "#", "left"), (0.035, "", "left"), (0.065, "Board", "left"), (X_POP, "Population", "right"),
            (X_COUNCILS, "Councils", "right"), (X_COT, "Coterm.", "right"), (X_FLAGS, "Flags", "left")]
    y = 1.0 - row_h * 0.6
    for x, head, ha in cols:
        if head:
            ax.text(x, y, head, fontsize=fs, fontweight="bold", ha=ha, va="center", color=INK)
    ax.plot([0, 1], [1.0 - row_h * 1.15] * 2, color=INK, lw=0.5)
    changed = set(ctx.changed)
    cut = 0
    for k, r in enumerate(rows):
        y = 1.0 - row_h * (k + 1.75)
        if k % 2 == 1:
            ax.add_patch(Rectangle((0, y - row_h / 2), 1, row_h, facecolor="#f2f2f2", edgecolor="none", zorder=0))
        num = numbers[r.id]
        ax.text(0.0, y, f"{num}{'*' if r.id in changed else ''}", fontsize=fs, ha="left", va="center", color=INK)
        ax.add_patch(Rectangle((0.035, y - row_h * 0.36), 0.022, row_h * 0.72, facecolor=r.colour,
                               edgecolor=INK, lw=0.3))
        name = one_line(short_board_name(r.name), 80)
        name_t = ax.text(0.065, y, name, fontsize=fs, ha="left", va="center", color=INK,
                         fontweight="bold" if r.id in changed else "normal")
        pop_t = ax.text(X_POP, y, f"{r.population:,}", fontsize=fs, ha="right", va="center", color=INK)
        # the name ends before the population starts, whatever its length or glyphs
        fitted = fit_text(name_t, pop_t.get_window_extent(fig.canvas.get_renderer()).x0 - 4 * s)
        cut += fitted or (name.endswith(ELLIPSIS) and not r.name.endswith(ELLIPSIS))
        whole, part = len(r.councils_whole), len(r.councils_part)
        ax.text(X_COUNCILS, y, f"{whole}" + (f" + {part} part" if part else ""), fontsize=fs, ha="right",
                va="center", color=INK)
        cot = r.coterminosity.get("council")
        ax.text(X_COT, y, "n/a" if cot is None else f"{cot * 100:.0f}%", fontsize=fs, ha="right",
                va="center", color=INK)
        ax.text(X_FLAGS, y, short_flags(r), fontsize=fs * 0.92, ha="left", va="center",
                color="#a00000" if r.status != "ok" or not r.contiguous else INK)
    y = 1.0 - row_h * (n + 1.3)
    ax.plot([0, 1], [y + row_h * 0.05] * 2, color=INK, lw=0.5)
    summ = ctx.report.summary
    lv = summ.levels.get("council")
    ax.text(0.065, y - row_h * 0.45, f"England ({summ.boards} boards)", fontsize=fs, fontweight="bold",
            ha="left", va="center", color=INK)
    if lv is not None:
        ax.text(X_COUNCILS, y - row_h * 0.45, f"{lv.split} split", fontsize=fs, fontweight="bold", ha="right",
                va="center", color=INK)
    ax.text(X_POP, y - row_h * 0.45, f"{summ.population:,}", fontsize=fs, fontweight="bold", ha="right",
            va="center", color=INK)
    note = ("Councils: upper-tier councils wholly inside + partly inside; total: councils split between boards.  "
            "Coterm.: coterminosity index, "
            "the share of the board's people living in councils wholly inside it.  "
            f"* changed from the baseline ({ctx.plan.atlas.baseline_label}).  "
            "Flags: population below 1m / 0.5m or above 3m, separate pieces, more than one NHS region.")
    if cut:
        note += (f"  {cut} board name{'s are' if cut != 1 else ' is'} cut to fit (ending {ELLIPSIS}); "
                 "the exports carry the full names.")
    ax.text(0.0, y - row_h * 1.25, "\n".join(textwrap.wrap(note, 118 if ctx.paper == "A4" else 150)),
            fontsize=fs * 0.82, ha="left", va="top", color=FAINT)


def _legend(ax, ctx: _Ctx, loc=(0.015, 0.985)) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    s = ctx.scale
    handles = [
        Patch(facecolor="#bbbbbb", edgecolor="white", label="Board (colour as in the table)"),
        Line2D([0], [0], color=INK, lw=0.8, linestyle=(0, (3, 2)), label="Combined authority / GLA"),
    ]
    if ctx.moved is not None:
        handles.append(Patch(facecolor="none", edgecolor=INK, lw=0.4, label="Moved to another board's footprint"))
    handler_map = {handles[-1]: _HatchHandler()} if ctx.moved is not None else {}
    leg = ax.legend(handles=handles, handler_map=handler_map, loc="upper left", bbox_to_anchor=loc, fontsize=6.5 * s,
                    frameon=True, framealpha=0.9, edgecolor="#cccccc", title="Legend",
                    title_fontsize=7 * s)
    leg.set_zorder(9)
    leg._legend_box.align = "left"


# ------------------------------------------------------------------ pages
def _overview_page(ctx: _Ctx, page: int, pages: int) -> Figure:
    fig = _new_figure(ctx.paper)
    s = ctx.scale
    summ = ctx.report.summary
    subtitle = ctx.subtitle
    _header(fig, ctx, ctx.title, subtitle)
    cl = summ.levels.get("council")
    line = (f"{summ.boards} boards \u00b7 population {summ.population:,} \u00b7 smallest "
            f"{short_board_name(summ.smallest[1])} {format_population(summ.smallest[2])} \u00b7 largest "
            f"{short_board_name(summ.largest[1])} {format_population(summ.largest[2])}")
    if cl is not None:
        line += f" \u00b7 {cl.split} of {cl.areas} councils split"
    if summ.unassigned_units:
        line += f" \u00b7 {summ.unassigned_units:,} LSOAs unassigned"
    if not ctx.plan.is_baseline():
        from icbmap.metrics.change import boundary_change

        people, merges, _ = boundary_change(ctx.plan.baseline_assignment, ctx.plan.assignment, ctx.atlas.population)
        line += f" \u00b7 boundary change {people:,} people \u00b7 {merges} merge{'s' if merges != 1 else ''}"
    summary = fig.text(0.025, 0.877 if subtitle else 0.905, one_line(line, 2 * MAX_TEXT_CHARS), fontsize=7.5 * s,
                       color=INK, va="top")
    fit_text(summary, 0.975 * fig.bbox.width)
    top = 0.86
    map_rect = [0.01, 0.085, 0.53, top - 0.085]
    ax = fig.add_axes(map_rect)
    colours = {b.id: b.colour for b in ctx.plan.boards}
    _frame(ax, ctx.atlas.bounds, pad=0.01)
    _draw_boards(ax, ctx, ctx.shapes, colours)
    _draw_ca(ax, ctx)
    _draw_moved(ax, ctx)
    # London inset where Wales would be (the map shows England only)
    lx0, ly0, lx1, ly1 = LONDON
    ax.apply_aspect()
    to_fig = ax.transData + fig.transFigure.inverted()
    ix0, iy0 = to_fig.transform(INSET_AT[:2])
    ix1, _ = to_fig.transform((INSET_AT[0] + INSET_AT[2], INSET_AT[1]))
    iw = ix1 - ix0
    ih = iw * fig.get_figwidth() / fig.get_figheight() * (ly1 - ly0) / (lx1 - lx0)
    inset_rect = [ix0, iy0, iw, ih]
    ins = fig.add_axes(inset_rect)
    ins.set_xlim(lx0, lx1)
    ins.set_ylim(ly0, ly1)
    ins.set_aspect("equal", adjustable="datalim")
    _draw_boards(ins, ctx, ctx.shapes, colours, lw=0.5)
    _draw_ca(ins, ctx, lw=0.8)
    _draw_moved(ins, ctx)
    ins.set_xticks([])
    ins.set_yticks([])
    for sp in ins.spines.values():
        sp.set_edgecolor(INK)
        sp.set_linewidth(0.6)
    ins.set_title("London", fontsize=7 * s, color=INK, pad=2)
    ax.add_patch(Rectangle((lx0, ly0), lx1 - lx0, ly1 - ly0, facecolor="none", edgecolor=INK, lw=0.6, zorder=7))
    _legend(ax, ctx)
    _scale_bar(ax, ctx)
    # labels: full labels where they fit, else numbers; London boards labelled in the inset
    rows = ctx.report.boards
    numbers = {r.id: k + 1 for k, r in enumerate(rows)}
    items, london_items = [], []
    for r in sorted(rows, key=lambda r: -shapely.area(ctx.shapes[r.id]) if not shapely.is_empty(ctx.shapes[r.id]) else 0):
        g = ctx.shapes[r.id]
        if g is None or shapely.is_empty(g):
            continue
        x, y = _label_anchor(g)
        label = "\n".join(textwrap.wrap(one_line(short_board_name(r.name), 60), 18, max_lines=3,
                                        placeholder=ELLIPSIS)) + f"\n{format_population(r.population)}"
        in_london = lx0 < x < lx1 and ly0 < y < ly1
        items.append((r.id, x, y, label, numbers[r.id]))
        if in_london:
            london_items.append((r.id, x, y, label, numbers[r.id]))
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    obstacles = [ins.get_window_extent(renderer).expanded(1.0, 1.12), ax.get_legend().get_window_extent(renderer)]
    london_ids = {i for i, *_ in london_items}
    _place_labels(fig, ax, items, 5.4 * s, obstacles=obstacles, numbers_only=london_ids)
    _place_labels(fig, ins, london_items, 5.4 * s)
    _metrics_table(fig, ctx, [0.565, 0.085, 0.415, top - 0.085], rows, numbers)
    _footer(fig, ctx, page, pages)
    return fig


def _board_page(ctx: _Ctx, bid: int, page: int, pages: int) -> Figure:
    fig = _new_figure(ctx.paper)
    s = ctx.scale
    board = ctx.plan.boards[bid]
    _header(fig, ctx, f"{one_line(short_board_name(board.name))}: before and after", ctx.title)
    before = ctx.base_shapes[bid] if bid < len(ctx.base_shapes) else None
    after = ctx.shapes[bid] if board.active else None
    present = [g for g in (before, after) if g is not None and not shapely.is_empty(g)]
    if not present:
        return fig
    x0, y0, x1, y1 = shapely.total_bounds(np.array(present, dtype=object))
    w, h = x1 - x0, y1 - y0
    side = max(w, h) * 1.25 + 5_000
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    view = (cx - side / 2, cy - side / 2 * 0.95, cx + side / 2, cy + side / 2 * 0.95)
    base_colours = {r.id: r.colour for r in ctx.base_report.boards}
    colours = {b.id: b.colour for b in ctx.plan.boards}
    panels = [("Baseline", ctx.base_shapes, base_colours, before, ctx.base_report),
              ("Proposed", ctx.shapes, colours, after, ctx.report)]
    for k, (label, shapes, cols, focus, rep) in enumerate(panels):
        rect = [0.02 + k * 0.49, 0.30, 0.47, 0.56]
        ax = fig.add_axes(rect)
        _frame(ax, view, pad=0.0)
        faded = {i: "#dddddd" for i in range(len(shapes))}
        _draw_boards(ax, ctx, shapes, faded, alpha=1.0)
        if focus is not None and not shapely.is_empty(focus):
            fp = geom_path(shapely.clip_by_rect(focus, *_view(ax)))
            if fp is not None:
                ax.add_patch(PathPatch(fp, facecolor=cols.get(bid, board.colour), edgecolor=INK, lw=0.9,
                                       zorder=3))
        _draw_ca(ax, ctx)
        if k == 1:
            _draw_moved(ax, ctx)
        ax.set_axis_on()
        ax.set_xticks([])
        ax.set_yticks([])
        for sp in ax.spines.values():
            sp.set_edgecolor("#999999")
            sp.set_linewidth(0.5)
        ax.set_title(label, fontsize=10 * s, color=INK, loc="left")
        _scale_bar(ax, ctx, loc=(0.05, 0.04))
        try:
            row = rep.board(bid)
        except KeyError:
            row = None
        lines = _board_lines(row)
        if k == 1 and row is None and bid < ctx.plan.n_baseline_boards:
            lines = _absorbed_lines(ctx, bid)
        fig.text(rect[0], 0.27, "\n".join(lines), fontsize=7.5 * s, va="top", ha="left", color=INK,
                 linespacing=1.35)
    _footer(fig, ctx, page, pages)
    return fig


def _absorbed_lines(ctx: _Ctx, bid: int) -> list[str]:
    """Where a deleted baseline board's areas went."""
    plan = ctx.plan
    units = np.flatnonzero(plan.baseline_assignment == bid)
    dest = plan.assignment[units]
    ids, counts = np.unique(dest, return_counts=True)
    order = np.argsort(-counts, kind="stable")
    out = ["This board is gone in the proposal; its areas now belong to:"]
    for i in order[:6]:
        b = int(ids[i])
        name = "no board (unassigned)" if b < 0 else one_line(short_board_name(plan.boards[b].name), 60)
        out.append(f"  {name}: {int(counts[i]):,} LSOAs")
    if len(order) > 6:
        out.append(f"  and {len(order) - 6} other boards")
    return out


def _board_lines(row) -> list[str]:
    if row is None:
        return ["(this board does not exist here)"]
    cot = row.coterminosity.get("council")
    out = [f"Population {row.population:,}  ({row.units:,} LSOAs)",
           f"Coterminosity index {'n/a' if cot is None else f'{cot * 100:.1f}%'}"]
    for label, items in (("Councils wholly inside", row.councils_whole), ("Councils partly inside", row.councils_part),
                         ("Combined authorities", list(row.cas_whole) + [f"{c} (part)" for c in row.cas_part])):
        text = ", ".join(items) if items else "none"
        wrapped = textwrap.wrap(f"{label}: {text}", 95)
        if len(wrapped) > 3:
            wrapped = wrapped[:3]
            wrapped[-1] += " \u2026"
        out.extend(wrapped)
    if row.flags:
        out.append("Flags: " + "; ".join(row.flags))
    return out


def _resolve(plan, title, subtitle):
    """``(plan, title, subtitle)`` with a proposal's title and author as defaults."""
    proposal = None
    if hasattr(plan, "plan") and hasattr(plan, "title"):
        proposal, plan = plan, plan.plan
    if title is None and proposal is not None:
        title = proposal.title or None
    if title is None:
        title = ("Integrated care boards: current boundaries" if plan.is_baseline()
                 else "Integrated care boards: proposed boundaries")
        if plan.is_baseline() and plan.atlas.baseline == "2027-expected":   # icbmap.atlas.expected_2027
            title = "Integrated care boards: expected April 2027 boundaries (not decided)"
    if subtitle is None:
        parts = [f"Prepared by {proposal.author}"] if proposal is not None and proposal.author else []
        parts.append(f"Baseline: {plan.atlas.baseline_label}")
        subtitle = " \u00b7 ".join(parts)
    return plan, title, subtitle


def briefing_figures(plan, paper: str = "A4", title: str | None = None, subtitle: str | None = None,
                     date_text: str | None = None, changed_pages: bool = False,
                     progress: Progress | None = None, rules=None) -> list[Figure]:
    """The pages of the briefing as matplotlib figures (page 1 first).

    ``plan`` may be a :class:`~icbmap.plan.model.Plan` or a proposal (its plan, title and
    author are used, and its rule set when ``rules`` is not given).  With a rule set, a
    principles page follows the map.
    """
    progress = progress or Progress.silent()
    if rules is None and hasattr(plan, "plan"):
        rules = getattr(plan, "rules", None)
    plan, title, subtitle = _resolve(plan, title, subtitle)
    if paper not in PAPER_MM:
        raise DataError(None, f"paper must be A4 or A3, not {paper!r}")
    if not date_text:
        d = _date.today()
        date_text = f"{d.day} {d:%B %Y}"
    progress.step(0.0, "Computing metrics")
    ctx = _context(plan, paper, title, subtitle, date_text)
    board_pages = [b for b in ctx.changed] if changed_pages else []
    extra = 1 if rules is not None else 0
    pages = 1 + extra + len(board_pages)
    progress.step(0.2, "Drawing the map")
    figs = [_overview_page(ctx, 1, pages)]
    if rules is not None:
        from icbmap.export.principles_page import draw_principles_page

        progress.step(0.25, "Checking the design principles")
        fig = _new_figure(paper)
        draw_principles_page(fig, ctx, rules, _header, _footer, 2, pages)
        figs.append(fig)
    for k, bid in enumerate(board_pages):
        progress.step(0.3 + 0.6 * k / max(len(board_pages), 1), f"Drawing {short_board_name(plan.boards[bid].name)}")
        figs.append(_board_page(ctx, bid, k + 2 + extra, pages))
    progress.step(0.95, "Pages ready")
    return figs


def render_briefing(plan, path: str | Path, paper: str = "A4", title: str | None = None,
                    subtitle: str | None = None, changed_pages: bool = False,
                    progress: Progress | None = None, dpi: int = 200,
                    date_text: str | None = None, rules=None) -> list[Path]:
    """Write the briefing to ``path``: a vector PDF (all pages) or PNG (one file per page:
    ``brief.png``, ``brief-2.png``, ...).  Returns the files written."""
    import matplotlib

    from icbmap.export.files import done

    progress = progress or Progress.silent()
    path = Path(path)
    kind = path.suffix.lower()
    if kind not in (".pdf", ".png"):
        raise DataError(path, "the briefing is written as .pdf or .png")
    _, doc_title, _ = _resolve(plan, title, subtitle)
    with matplotlib.rc_context({"pdf.fonttype": 42, "font.family": "DejaVu Sans",
                                "pdf.compression": 6}):
        figs = briefing_figures(plan, paper, title, subtitle, date_text, changed_pages, progress.sub(0.0, 0.8),
                                rules=rules)
        out = save_pages(figs, path, kind, doc_title, dpi, progress)
    done(progress, f"Wrote {path.name}")
    return out
