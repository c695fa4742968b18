"""The comparison briefing (issue 11): one landscape page comparing options.

Top: a small map of each option framed on the focus, boards labelled with their short name
and population (placed without overlap by the briefing's label placer; a board that does
not fit is numbered instead), the units that differ from the first option hatched.
Bottom left: the comparison table (:mod:`icbmap.compare.core`, best values bold).  Bottom
right: the difference notes (the biggest moves by place between the options).  Then, if
asked, the usual briefing pages of each option.  Vector PDF (matplotlib), or PNG.
"""

from __future__ import annotations

import textwrap
from datetime import date as _date
from pathlib import Path

import numpy as np
import shapely
from matplotlib.collections import LineCollection, PatchCollection
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch, Rectangle

from icbmap.compare.core import Option, compare
from icbmap.compare.focus import england
from icbmap.compare.moves import moved_mask
from icbmap.compare.render import pair_order
from icbmap.errors import DataError
from icbmap.export.drawing import (save_pages, FAINT, INK, PAPER_MM, _data_per_mm, _label_anchor, _new_figure,
                                   _overlaps, _place_labels, attribution_text, geom_path, hatch_lines)
from icbmap.names import format_population, short_board_name
from icbmap.progress import Progress

NOTES_PER_PAIR = 4


def _focus_bounds(atlas, cmp) -> tuple[float, float, float, float]:
    mask = np.zeros(atlas.n_units, bool)
    for ctx in cmp.contexts:
        mask |= ctx.territory
    b = shapely.total_bounds(atlas.units.geometry.to_numpy()[mask])
    return tuple(float(v) for v in b)


def _frame(ax, bounds, box_aspect: float, pad: float = 0.04):
    """Limits holding ``bounds`` at equal scale in an axes of height/width ``box_aspect``."""
    x0, y0, x1, y1 = bounds
    w, h = (x1 - x0) * (1 + 2 * pad), (y1 - y0) * (1 + 2 * pad)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    if h / w > box_aspect:
        w = h / box_aspect
    else:
        h = w * box_aspect
    ax.set_xlim(cx - w / 2, cx + w / 2)
    ax.set_ylim(cy - h / 2, cy + h / 2)
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_axis_off()
    return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2


def _draw_option(fig, ax, opt: Option, ctx, view, geoms, in_view, differs, s, number_base: int) -> list:
    """Boards of one option in ``view``; returns the label items for the table of numbers."""
    plan = opt.plan
    a = plan.assignment
    units = np.flatnonzero(in_view)
    boards = np.unique(a[units])
    boards = boards[boards >= 0]
    focus_boards = set(ctx.boards.tolist())
    patches, faces, shapes = [], [], {}
    box = shapely.box(*view)
    for b in boards.tolist():
        u = units[a[units] == b]
        g = shapely.coverage_union_all(geoms[u])
        g = shapely.clip_by_rect(g, *view)
        p = geom_path(g)
        if p is None:
            continue
        shapes[b] = g
        colour = plan.boards[b].colour if b in focus_boards else "#d9d9d9"
        patches.append(PathPatch(p))
        faces.append(colour)
    ax.add_collection(PatchCollection(patches, facecolors=faces, edgecolors="white", linewidths=0.5,
                                      alpha=0.9, zorder=1))
    moved = units[differs[units]]
    if len(moved):
        mg = shapely.intersection(shapely.coverage_union_all(geoms[moved]), box)
        segs = hatch_lines(mg, 1.0 * _data_per_mm(ax))
        if segs:
            ax.add_collection(LineCollection(segs, colors=INK, linewidths=0.35, alpha=0.8, zorder=3))
        p = geom_path(mg)
        if p is not None:
            ax.add_patch(PathPatch(p, facecolor="none", edgecolor=INK, linewidth=0.5, zorder=3))
    pops = ctx.values.board_pop
    items = []
    order = sorted((b for b in shapes if b in focus_boards), key=lambda b: -int(pops[b]))
    for k, b in enumerate(order):
        x, y = _label_anchor(shapes[b])
        name = "\n".join(textwrap.wrap(short_board_name(plan.boards[b].name), 18))
        items.append((b, x, y, f"{name}\n{format_population(int(pops[b]))}", number_base + k))
    return items


def _table(fig, cmp, rect, s) -> None:
    ax = fig.add_axes(rect)
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    n = len(cmp.options)
    label_w = 0.34
    col_w = (1 - label_w) / n
    width_mm = rect[2] * fig.get_figwidth() * 25.4
    fs = 5.6 * s
    char_mm = fs * 0.6 * 0.3528      # DejaVu Sans: ~0.6 em per character
    wrap_cols = max(8, int(col_w * width_mm / char_mm) - 1)
    wrap_label = max(12, int(label_w * width_mm / char_mm) - 1)
    rows = []
    for r in cmp.rows:
        cells = []
        for i, v in enumerate(r.values):
            if isinstance(v, tuple):
                text = f"{v[1]} {format_population(v[0])}"
            else:
                text = r.texts[i]
            cells.append(textwrap.wrap(text, wrap_cols) or [""])
        rows.append((textwrap.wrap(r.label, wrap_label), cells, r.best))
    heads = [textwrap.wrap(o.name, wrap_cols)[:2] for o in cmp.options]
    head_h = max(len(h) for h in heads) + 0.4          # a long name (the expected 2027 map) takes two lines
    lines = [max([len(lab)] + [len(c) for c in cells]) for lab, cells, _ in rows] + [1]
    total = sum(lines) + head_h
    line_h = 1.0 / total
    y = 1.0
    for i, head in enumerate(heads):
        ax.text(label_w + (i + 1) * col_w - 0.006, y, "\n".join(head),
                fontsize=fs, fontweight="bold", ha="right", va="top", color=INK, linespacing=1.0)
    y -= line_h * head_h
    ax.plot([0, 1], [y + line_h * 0.15] * 2, color=INK, lw=0.5)
    for k, (lab, cells, best) in enumerate(rows):
        h = max([len(lab)] + [len(c) for c in cells])
        if k % 2 == 0:
            ax.add_patch(Rectangle(
                (0, y - h * line_h), 1, h * line_h, facecolor="#f2f2f2", edgecolor="none", zorder=0))
        ax.text(0.004, y - line_h * 0.1, "\n".join(lab), fontsize=fs, ha="left", va="top", color=INK,
                linespacing=1.0)
        for i, cell in enumerate(cells):
            ax.text(label_w + (i + 1) * col_w - 0.006, y - line_h * 0.1, "\n".join(cell), fontsize=fs,
                    ha="right", va="top", color=INK, linespacing=1.0,
                    fontweight="bold" if i in best else "normal")
        y -= h * line_h
    ax.text(0.004, y - line_h * 0.2, "Bold: the best value in the row. Definitions: docs/compare.md.",
            fontsize=fs * 0.9, ha="left", va="top", color=FAINT)


def _notes(fig, cmp, rect, s) -> None:
    ax = fig.add_axes(rect)
    ax.set_axis_off()
    width_mm = rect[2] * fig.get_figwidth() * 25.4
    fs = 5.6 * s
    wrap = max(20, int(width_mm / (fs * 0.6 * 0.3528)) - 2)
    lines = ["Differences"]
    bold = {0}
    n = len(cmp.options)
    pairs = pair_order(n)
    for i, j in pairs:
        d = cmp.diff(i, j)
        bold.add(len(lines))
        lines.extend(textwrap.wrap(f"{cmp.options[i].name} \u2192 {cmp.options[j].name}: {d.lsoas:,} LSOAs, "
                                   f"{d.people:,} people change board", wrap))
        for m in d.by["place"][:NOTES_PER_PAIR]:
            lines.extend(textwrap.wrap("\u2022 " + m.text(), wrap, subsequent_indent="  "))
        if len(d.by["place"]) > NOTES_PER_PAIR:
            lines.append(f"  \u2026 and {len(d.by['place']) - NOTES_PER_PAIR} more places")
    height_mm = rect[3] * fig.get_figheight() * 25.4
    max_lines = int(height_mm / (fs * 0.3528 * 1.25))
    if len(lines) > max_lines:
        lines = lines[: max_lines - 1] + ["\u2026 (the full list: icbmap compare)"]
    y = 1.0
    step = 1.0 / max(max_lines, 1)
    for k, text in enumerate(lines):
        ax.text(0, y, text, fontsize=fs * (1.15 if k == 0 else 1.0), ha="left", va="top", color=INK,
                fontweight="bold" if k in bold else "normal")
        y -= step * (1.2 if k == 0 else 1.0)


def comparison_figure(options: list[Option], focus=None, paper: str = "A4", title: str | None = None,
                      date_text: str | None = None, progress: Progress | None = None,
                      rules=None) -> tuple[Figure, object]:
    """The comparison page and the :class:`~icbmap.compare.core.Comparison` drawn on it."""
    progress = progress or Progress.silent()
    if paper not in PAPER_MM:
        raise DataError(None, f"paper must be A4 or A3, not {paper!r}")
    if not options:
        raise DataError(None, "no options to compare")
    atlas = options[0].atlas
    focus = focus or england(atlas)
    progress.step(0.05, "Comparing")
    cmp = compare(options, focus, rules=rules)
    s = 1.0 if paper == "A4" else 1.3
    fig = _new_figure(paper)
    if not date_text:
        d = _date.today()
        date_text = f"{d.day} {d:%B %Y}"
    title = title or f"Options compared: {focus.label}"
    fig.text(0.025, 0.965, title, fontsize=15 * s, fontweight="bold", color=INK, va="top")
    fig.text(0.025, 0.922, f"{len(options)} options; hatched: areas on a different board from "
             f"{options[0].name}", fontsize=8 * s, color=FAINT, va="top")
    fig.text(0.975, 0.965, date_text, fontsize=8.5 * s, color=FAINT, va="top", ha="right")
    n = len(options)
    geoms = atlas.units.geometry.to_numpy()
    bounds = _focus_bounds(atlas, cmp)
    left, right, top, bottom = 0.025, 0.975, 0.89, 0.47
    gap = 0.012
    w = (right - left - gap * (n - 1)) / n
    h = top - bottom - 0.035
    fig_w, fig_h = fig.get_figwidth(), fig.get_figheight()
    ub = shapely.bounds(geoms)
    first = options[0].plan
    number = 1
    for i, opt in enumerate(options):
        progress.step(0.1 + 0.7 * i / n, f"Drawing {opt.name}")
        ax = fig.add_axes([left + i * (w + gap), bottom, w, h])
        view = _frame(ax, bounds, (h * fig_h) / (w * fig_w))
        in_view = (ub[:, 0] <= view[2]) & (ub[:, 2] >= view[0]) & (ub[:, 1] <= view[3]) & (ub[:, 3] >= view[1])
        differs = moved_mask(first.assignment, opt.plan.assignment, atlas.population) if i else \
            np.zeros(atlas.n_units, bool)
        fig.text(left + i * (w + gap) + w / 2, top - 0.005, "\n".join(textwrap.wrap(opt.name, 40)[:2]),
                 fontsize=9 * s, fontweight="bold", ha="center", va="top", color=INK)
        items = _draw_option(fig, ax, opt, cmp.contexts[i], view, geoms, in_view, differs, s, number)
        fs = (6.2 if n <= 3 else 5.4 if n == 4 else 4.8) * s
        _place_labels(fig, ax, items, fs)
        ax.add_patch(Rectangle(
            (view[0], view[1]), view[2] - view[0], view[3] - view[1], facecolor="none", edgecolor="#999999",
            lw=0.5, zorder=9))
    progress.step(0.85, "Table and notes")
    _table(fig, cmp, [0.025, 0.085, 0.56, 0.36], s)
    _notes(fig, cmp, [0.61, 0.085, 0.365, 0.36], s)
    foot = []
    for line in attribution_text(atlas):
        foot.extend(textwrap.wrap(line, 250 if paper == "A4" else 330))
    fig.text(0.025, 0.012, "\n".join(foot), fontsize=5.0 * s, color=FAINT, va="bottom", ha="left",
             linespacing=1.3)
    return fig, cmp


def label_overlaps(fig) -> list[tuple[str, str]]:
    """Pairs of map labels (inside one map) whose boxes overlap: the check the tests run."""
    renderer = fig.canvas.get_renderer()
    out = []
    for ax in fig.axes:
        boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in ax.texts if t.get_text()]
        if len(boxes) < 2 or ax.get_xlim() == (0, 1):
            continue
        for a in range(len(boxes)):
            for b in range(a + 1, len(boxes)):
                if _overlaps(boxes[a][1], [boxes[b][1]], pad=0):
                    out.append((boxes[a][0], boxes[b][0]))
    return out


def render_comparison(options: list[Option], path, focus=None, paper: str = "A4", title: str | None = None,
                      option_pages: bool = False, progress: Progress | None = None, dpi: int = 200,
                      date_text: str | None = None, rules=None) -> list[Path]:
    """Write the comparison page (then each option's briefing pages if ``option_pages``)."""
    import matplotlib

    from icbmap.export.files import done

    progress = progress or Progress.silent()
    path = Path(path)
    kind = path.suffix.lower()
    if kind not in (".pdf", ".png"):
        raise DataError(path, "the comparison briefing is written as .pdf or .png")
    with matplotlib.rc_context({"pdf.fonttype": 42, "font.family": "DejaVu Sans", "pdf.compression": 6}):
        fig, cmp = comparison_figure(options, focus, paper, title, date_text, progress.sub(0.0, 0.7), rules=rules)
        figs = [fig]
        if option_pages:
            from icbmap.export.briefing import briefing_figures

            for k, o in enumerate(options):
                figs += briefing_figures(o.plan, paper, title=o.name, date_text=date_text,
                                         progress=progress.sub(0.7 + 0.2 * k / len(options),
                                                               0.7 + 0.2 * (k + 1) / len(options)))
        out = save_pages(figs, path, kind, title or f"Options compared: {cmp.focus.label}", dpi)
    done(progress, f"Wrote {path.name}")
    return out
