"""Drawing on a printed page with matplotlib's object API (no pyplot, no Qt): the pieces the
briefing (:mod:`icbmap.export.briefing`) and the comparison briefing
(:mod:`icbmap.export.compare_brief`) share.  Shapes to matplotlib paths, the boards, combined
authorities and moved areas cut to the view, hatching, the scale bar and north arrow, one-line
text cut to fit, labels placed so they do not overlap, the attribution lines.  Where things go
on the page (header, footer, map, table, legend; which pages) is the briefing modules' work.
"""

from __future__ import annotations

from datetime import date as _date
from typing import Protocol

import numpy as np
import shapely
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PatchCollection
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrow, PathPatch, Rectangle
from matplotlib.path import Path as MplPath

from icbmap import __version__
from icbmap.names import board_flags



class _Ctx(Protocol):
    """What the shared drawing needs of a page's context (the briefing's context has it)."""

    moved: object       # union of the moved units (EPSG:27700), or None
    ca_lines: np.ndarray
    scale: float        # line widths and text scale with the paper


PAPER_MM = {"A4": (297.0, 210.0), "A3": (420.0, 297.0)}
MM = 1 / 25.4
INK = "#222222"
FAINT = "#666666"


def _ring_path(coords: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    codes = np.full(len(coords), MplPath.LINETO, dtype=np.uint8)
    codes[0] = MplPath.MOVETO
    codes[-1] = MplPath.CLOSEPOLY
    return coords, codes


def geom_path(geom) -> MplPath | None:
    """A compound matplotlib path for a (Multi)Polygon, holes included."""
    if geom is None or shapely.is_empty(geom):
        return None
    verts, codes = [], []
    for poly in shapely.get_parts(geom):
        for ring in (poly.exterior, *poly.interiors):
            v, c = _ring_path(shapely.get_coordinates(ring))
            if len(v) >= 4:
                verts.append(v)
                codes.append(c)
    if not verts:
        return None
    return MplPath(np.concatenate(verts), np.concatenate(codes))


def short_flags(row) -> str:
    return ", ".join(board_flags(row))


def attribution_text(atlas) -> list[str]:
    """The attribution lines printed at the foot of every page."""
    prov = atlas.provenance
    year = _date.today().year
    lines = [
        "Source: Office for National Statistics licensed under the Open Government Licence v.3.0. "
        f"Contains OS data \u00a9 Crown copyright and database right {year}. "
        "Contains public sector information licensed under the Open Government Licence v3.0 (NHS England).",
    ]
    parts = []
    for key, label in (("unit", "Boundaries"), ("place", "Board lookup"), ("district_assignment", "Districts"),
                       ("population", "Population")):
        p = prov.get(key)
        if p is not None:
            parts.append(f"{label}: {p.source} ({p.vintage})")
    if atlas.baseline == "2027-expected" and prov.get("board") is not None:   # icbmap.atlas.expected_2027
        from icbmap.atlas.clusters import SHORT_SOURCE

        parts.append(f"Boards: {atlas.baseline_label}: {SHORT_SOURCE}")
    if parts:
        lines.append("; ".join(parts) + ".")
    basis = atlas.population_basis
    lines.append(f"Population basis: {basis}{' (estimated)' if atlas.population_estimated else ''}. "
                 f"Data pack {atlas.name} ({atlas.content_hash}); icbmap {__version__}.")
    return lines


def _new_figure(paper: str) -> Figure:
    if paper not in PAPER_MM:
        raise ValueError(f"paper must be A4 or A3, not {paper!r}")
    w, h = PAPER_MM[paper]
    fig = Figure(figsize=(w * MM, h * MM))
    FigureCanvasAgg(fig)
    return fig


ELLIPSIS = "\u2026"
#: Hostile or careless input: text longer than this is cut before it is even measured.
MAX_TEXT_CHARS = 400


def one_line(text: object, limit: int = MAX_TEXT_CHARS) -> str:
    """``text`` as one line (newlines, tabs and other control characters become spaces),
    cut to ``limit`` characters with an ellipsis."""
    flat = " ".join("".join(c if c.isprintable() else " " for c in str(text)).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + ELLIPSIS


def fit_text(t, right_px: float) -> bool:
    """Shorten the matplotlib text ``t`` (ending it with an ellipsis) until its right edge
    is at most ``right_px`` (display pixels).  Returns whether it was cut."""
    fig = t.get_figure()
    renderer = fig.canvas.get_renderer()
    full = t.get_text()
    if t.get_window_extent(renderer).x1 <= right_px:
        return False
    lo, hi = 0, len(full)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        t.set_text(full[:mid].rstrip() + ELLIPSIS)
        if t.get_window_extent(renderer).x1 <= right_px:
            lo = mid
        else:
            hi = mid - 1
    t.set_text(full[:lo].rstrip() + ELLIPSIS)
    return True


def _view(ax):
    """The axes' visible box in data coordinates (after the aspect is applied)."""
    ax.apply_aspect()
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


def _draw_boards(ax, ctx: _Ctx, shapes, colours, alpha=0.9, edge="white", lw=0.35, clip=True) -> None:
    """Board fills and outlines, cut to the axes' view.

    Geometry is clipped here rather than left to the renderer's clip path: the app's print
    preview renders the pages as SVG through QSvgRenderer, which ignores clip paths, so an
    unclipped zoomed view would spill over the page.  Call after the view is set.
    """
    view = _view(ax) if clip else None
    patches, faces = [], []
    for i, g in enumerate(shapes):
        if g is None or shapely.is_empty(g):
            continue
        if view is not None:
            g = shapely.clip_by_rect(g, *view)
        p = geom_path(g)
        if p is None:
            continue
        patches.append(PathPatch(p))
        faces.append(colours[i])
    coll = PatchCollection(patches, facecolors=faces, edgecolors=edge, linewidths=lw, alpha=alpha,
                           zorder=1)
    ax.add_collection(coll)


def _draw_ca(ax, ctx: _Ctx, lw=0.6, clip=True) -> None:
    lines = ctx.ca_lines
    if clip:
        lines = shapely.intersection(lines, shapely.box(*_view(ax)))
    segs = [shapely.get_coordinates(part) for g in lines for part in shapely.get_parts(g)
            if part.geom_type == "LineString" and not part.is_empty]
    ax.add_collection(LineCollection(segs, colors=INK, linewidths=lw * ctx.scale,
                                     linestyles=(0, (3, 2)), zorder=4))


def hatch_lines(geom, spacing: float) -> list[np.ndarray]:
    """Diagonal hatch lines clipped to ``geom``, as explicit line geometry.

    Drawn as plain lines rather than a fill pattern, so the hatch survives every output
    (PDF, PNG, and the SVG the app's print preview renders, which has no patterns).
    """
    if geom is None or shapely.is_empty(geom) or spacing <= 0:
        return []
    x0, y0, x1, y1 = geom.bounds
    span = (x1 - x0) + (y1 - y0)
    n = int(span / spacing) + 2
    if n > 20_000:
        return []
    offs = x0 - (y1 - y0) + spacing * np.arange(n)
    lines = shapely.linestrings([[[o, y0], [o + (y1 - y0), y1]] for o in offs])
    clipped = shapely.intersection(lines, geom)
    out = []
    for g in clipped:
        for part in shapely.get_parts(g):
            if part.geom_type == "LineString" and not part.is_empty:
                out.append(shapely.get_coordinates(part))
    return out


def _data_per_mm(ax) -> float:
    ax.apply_aspect()
    fig = ax.figure
    width_mm = ax.get_position().width * fig.get_figwidth() * 25.4
    x0, x1 = ax.get_xlim()
    return (x1 - x0) / max(width_mm, 1e-6)


def _draw_moved(ax, ctx: _Ctx) -> None:
    """Hatch the areas moved from their baseline board (call after the view is set)."""
    if ctx.moved is None:
        return
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    view = shapely.box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
    geom = shapely.intersection(ctx.moved, view)
    segs = hatch_lines(geom, 1.1 * _data_per_mm(ax))
    if segs:
        ax.add_collection(LineCollection(segs, colors=INK, linewidths=0.45, alpha=0.8, zorder=3.5))
    p = geom_path(geom)
    if p is not None:
        ax.add_patch(PathPatch(p, facecolor="none", edgecolor=INK, linewidth=0.4, alpha=0.8, zorder=3.5))


class _HatchHandler:
    """Legend key for the moved areas: a box with three diagonal lines (no fill pattern)."""

    def legend_artist(self, legend, orig_handle, fontsize, handlebox):
        from matplotlib.lines import Line2D

        x0, y0 = handlebox.xdescent, handlebox.ydescent
        w, h = handlebox.width, handlebox.height
        box = Rectangle((x0, y0), w, h, facecolor="none", edgecolor=INK, lw=0.4,
                        transform=handlebox.get_transform())
        handlebox.add_artist(box)
        for f in (0.2, 0.5, 0.8):
            cx = x0 + f * w
            line = Line2D([cx - h * 0.45, cx + h * 0.45], [y0 + h * 0.05, y0 + h * 0.95], color=INK, lw=0.5,
                          transform=handlebox.get_transform())
            handlebox.add_artist(line)
        return box


def _frame(ax, bounds, pad=0.02) -> None:
    x0, y0, x1, y1 = bounds
    dx, dy = (x1 - x0) * pad, (y1 - y0) * pad
    ax.set_xlim(x0 - dx, x1 + dx)
    ax.set_ylim(y0 - dy, y1 + dy)
    ax.set_aspect("equal", adjustable="box")
    ax.set_axis_off()


def _scale_bar(ax, ctx: _Ctx, loc=(0.70, 0.035)) -> None:
    """A scale bar in metres (EPSG:27700) at axes fraction ``loc``, with a north arrow."""
    s = ctx.scale
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    span = x1 - x0
    target = span * 0.22
    nice = max(v for v in (1_000, 2_000, 5_000, 10_000, 20_000, 25_000, 50_000, 100_000, 150_000, 200_000)
               if v <= max(target, 1_000))
    bx = x0 + loc[0] * span
    by = y0 + loc[1] * (y1 - y0)
    h = (y1 - y0) * 0.008
    half = nice / 2
    ax.add_patch(Rectangle((bx, by), half, h, facecolor=INK, edgecolor=INK, lw=0.4, zorder=6))
    ax.add_patch(Rectangle((bx + half, by), half, h, facecolor="white", edgecolor=INK, lw=0.4, zorder=6))
    for k, v in enumerate((0, half, nice)):
        label = f"{v / 1000:g}" + (" km" if k == 2 else "")
        ax.text(bx + v, by + h * 1.8, label, fontsize=6 * s, ha="center", va="bottom", color=INK, zorder=6)
    # north arrow (grid north of British National Grid, within a degree or two of true north)
    ax_ = bx + nice + span * 0.06
    ay = by
    alen = (y1 - y0) * 0.07
    ax.add_patch(FancyArrow(ax_, ay, 0, alen, width=span * 0.006, head_width=span * 0.022,
                            head_length=alen * 0.4, length_includes_head=True, color=INK, zorder=6))
    ax.text(ax_, ay + alen * 1.08, "N", fontsize=8 * s, ha="center", va="bottom", fontweight="bold",
            color=INK, zorder=6)


def _label_anchor(geom):
    """A point well inside the largest part of ``geom`` (pole of inaccessibility)."""
    parts = list(shapely.get_parts(geom))
    big = max(parts, key=lambda p: p.area)
    try:
        pt = shapely.polylabel(big, tolerance=max(big.length / 2000, 50))
    except Exception:  # noqa: BLE001 - fall back to a point on the surface
        pt = big.representative_point()
    return pt.x, pt.y


def _overlaps(bb, placed, pad=1.5) -> bool:
    for o in placed:
        if not (bb.x1 + pad < o.x0 or bb.x0 - pad > o.x1 or bb.y1 + pad < o.y0 or bb.y0 - pad > o.y1):
            return True
    return False


#: label offsets tried around an anchor, in label widths / heights: the anchor, then two rings
_OFFSETS = [(0, 0), (0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (-1, 1), (1, -1), (-1, -1)]
_FAR = [(0, 2), (0, -2), (2, 0), (-2, 0), (2, 2), (-2, 2), (2, -2), (-2, -2), (1, 2), (-1, 2), (1, -2), (-1, -2)]
_FARTHER = [(dx, dy) for dx in range(-5, 6) for dy in range(-5, 6) if max(abs(dx), abs(dy)) >= 3]


def _place_labels(fig, ax, items, fontsize, obstacles=(), numbers_only=()) -> None:
    """Place ``(id, x, y, label, number)`` labels without overlap, largest boards first.

    Each label tries its anchor and eight nearby offsets, at full size and a little smaller;
    labels keep a gap of about half a character from each other (boxes that touched read as
    one: "Greater Manchester" against "South Yorkshire").  If none is free the board's
    number (which the table explains) is placed instead, searching a wider ring so it is
    not hidden under a neighbour's label; only if that fails too is it drawn at the anchor.
    """
    renderer = fig.canvas.get_renderer()
    placed = list(obstacles)
    trans = ax.transData
    ax_bb = ax.get_window_extent(renderer)
    gap = fontsize * fig.dpi / 72.0 * 0.45  # display pixels between label boxes
    for bid, x, y, label, number in items:
        px, py = trans.transform((x, y))
        done = False
        candidates = [] if bid in numbers_only else [(label, fontsize, _OFFSETS), (label, fontsize * 0.82, _OFFSETS)]
        candidates.append((str(number), fontsize * 1.05, _OFFSETS + _FAR))
        candidates.append((str(number), fontsize * 0.85, _OFFSETS + _FAR + _FARTHER))
        for k, (text, fs, offsets) in enumerate(candidates):
            # the last try may sit closer, but never so close that the white boxes touch
            pad = gap if k < len(candidates) - 1 else fs * fig.dpi / 72.0 * 0.32
            is_number = text == str(number)
            t = ax.text(x, y, text, fontsize=fs, ha="center", va="center", color=INK, zorder=8,
                        linespacing=1.05, fontweight="bold" if is_number else "normal",
                        bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none",
                              "alpha": 0.8})
            bb0 = t.get_window_extent(renderer)
            w, h = bb0.width, bb0.height
            for ox, oy in offsets:
                nx, ny = px + ox * w * 0.55, py + oy * h * 0.8
                t.set_position(trans.inverted().transform((nx, ny)))
                bb = t.get_window_extent(renderer)
                inside = bb.x0 >= ax_bb.x0 and bb.x1 <= ax_bb.x1 and bb.y0 >= ax_bb.y0 and bb.y1 <= ax_bb.y1
                if inside and not _overlaps(bb, placed, pad=pad):
                    placed.append(bb)
                    done = True
                    break
            if done:
                break
            t.remove()
        if not done:  # the spot of least overlap near the anchor
            t = ax.text(x, y, str(number), fontsize=fontsize * 0.8, ha="center", va="center", color=INK,
                        zorder=8, fontweight="bold")
            bb0 = t.get_window_extent(renderer)
            w, h = bb0.width, bb0.height
            best, best_cost = (px, py), float("inf")
            for ox, oy in _OFFSETS + _FAR + _FARTHER:
                nx, ny = px + ox * w * 0.7, py + oy * h * 0.9
                t.set_position(trans.inverted().transform((nx, ny)))
                bb = t.get_window_extent(renderer)
                if not (bb.x0 >= ax_bb.x0 and bb.x1 <= ax_bb.x1 and bb.y0 >= ax_bb.y0 and bb.y1 <= ax_bb.y1):
                    continue
                cost = sum(max(0.0, min(bb.x1, o.x1) - max(bb.x0, o.x0)) * max(0.0, min(bb.y1, o.y1) - max(bb.y0, o.y0))
                           for o in placed) + 0.01 * (abs(ox) + abs(oy))
                if cost < best_cost:
                    best, best_cost = (nx, ny), cost
            t.set_position(trans.inverted().transform(best))
            placed.append(t.get_window_extent(renderer))


def label_boxes(fig) -> list:
    """Display-space boxes of the board labels and numbers on ``fig`` (for checks)."""
    fig.canvas.draw()  # label boxes are laid out at draw time
    renderer = fig.canvas.get_renderer()
    out = []
    for ax in fig.axes:
        for t in ax.texts:
            if t.get_zorder() == 8 and t.get_visible():
                patch = t.get_bbox_patch()
                out.append((t.get_text(), (patch.get_window_extent(renderer) if patch is not None
                                           else t.get_window_extent(renderer)), ax))
    return out


def save_pages(figs, path, kind: str, title: str, dpi: int, progress=None) -> list:
    """Write ``figs`` atomically: one PDF (``kind`` ".pdf") or one PNG per page (page 2 on as
    ``name-2.png`` ...).  Returns the paths written.  Shared by the briefing and the
    comparison briefing."""
    from pathlib import Path

    from icbmap import __version__
    from icbmap.atlas.store import atomic_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = []
    if kind == ".pdf":
        from matplotlib.backends.backend_pdf import PdfPages

        with atomic_file(path, ".pdf") as tmp:
            with PdfPages(tmp, metadata={"Title": title, "Creator": f"icbmap {__version__}"}) as pdf:
                for k, fig in enumerate(figs):
                    if progress is not None:
                        progress.step(0.8 + 0.2 * k / len(figs), f"Writing page {k + 1}")
                    pdf.savefig(fig)
        out.append(path)
    else:
        for k, fig in enumerate(figs):
            p = path if k == 0 else path.with_name(f"{path.stem}-{k + 1}{path.suffix}")
            with atomic_file(p, ".png") as tmp:
                fig.savefig(tmp, format="png", dpi=dpi, facecolor="white")
            out.append(p)
    return out
