"""The briefing's principles pages: each rule's verdict and count (this plan and the
baseline) with every failing area or board and its reasons in full, flowing onto further
pages as needed, then a ✓/✗ table of boards against rules, with the rule set's source."""

from __future__ import annotations

import textwrap

from matplotlib.patches import Rectangle

from icbmap.names import short_board_name

INK = "#222222"
FAINT = "#666666"
RED = "#b71c1c"
GREEN = "#2e7d32"
AMBER = "#b26a00"       # a soft rule that fails: a warning


def principles_rows(plan, ruleset):
    """``(checker of plan, checker of the baseline)`` for ``ruleset``."""
    from icbmap.metrics import Metrics
    from icbmap.plan.model import Plan
    from icbmap.principles.check import check

    c = check(Metrics(plan, observe=False), ruleset)
    base = check(Metrics(Plan(plan.atlas), observe=False), ruleset)
    return c, base


def _short_names(text: str) -> str:
    """Board names in a reason as planners say them ("NHS Kent and Medway Integrated Care
    Board" -> "Kent and Medway")."""
    import re

    return re.sub(r"NHS ([^;:()%]+?) (Integrated Care Board|ICB)\b", r"\1", text)


class _Flow:
    """Lines laid down a page from the top; a new page when the next block does not fit."""

    def __init__(self, new_page):
        self.new_page = new_page
        self.pages: list = []
        self._start()

    def _start(self) -> None:
        fig, ax, height_pt = self.new_page(len(self.pages))
        self.pages.append(fig)
        self.ax, self.y, self.bottom = ax, height_pt, 0.0

    def need(self, pts: float) -> None:
        if self.y - pts < self.bottom:
            self._start()

    def text(self, x: float, s: str, fs: float, **kw):
        return self.ax.text(x, self.y, s, fontsize=fs, va="top", **kw)


def draw_principles_pages(ctx, ruleset, header, new_figure, footer_top) -> list:
    """The principles pages (one or more): each rule's verdict here and in the baseline with
    every failing area or board and its reasons in full, flowing onto further pages, then the
    boards against the rules.  Returns the figures (their footers are drawn by the caller)."""
    s = ctx.scale
    c, base = principles_rows(ctx.plan, ruleset)
    fs = 7.2 * s
    left, width = 0.025, 0.95

    def new_page(k: int):
        fig = new_figure()
        header(fig, ctx, "Design principles: " + ruleset.name + (" (continued)" if k else ""), ctx.title)
        top = 0.875
        bottom = footer_top(fig) + 0.015
        ax = fig.add_axes([left, bottom, width, top - bottom])
        ax.set_axis_off()
        h_pt = (top - bottom) * fig.get_figheight() * 72
        w_pt = width * fig.get_figwidth() * 72
        ax.set_xlim(0, w_pt)
        ax.set_ylim(0, h_pt)
        return fig, ax, h_pt

    flow = _Flow(new_page)
    w_pt = width * flow.pages[0].get_figwidth() * 72

    def chars(size: float, span: float) -> int:   # DejaVu Sans: about 0.56 em a character
        return max(20, int(span / (size * 0.56)))

    def lines_of(text: str, size: float, span: float, indent: str = "") -> list[str]:
        return textwrap.wrap(text, chars(size, span), subsequent_indent=indent) or [""]

    col_plan, col_base = 0.70 * w_pt, 0.86 * w_pt
    src = ruleset.source + (f" ({ruleset.url})" if ruleset.url else "")
    if src:
        ls = lines_of("Source: " + src, fs * 0.9, w_pt)
        flow.text(0, "\n".join(ls), fs * 0.9, color=FAINT, linespacing=1.25)
        flow.y -= len(ls) * fs * 0.9 * 1.25 + fs * 0.8

    def head_row():
        flow.text(0, "Rule", fs, fontweight="bold", color=INK)
        flow.text(col_plan, "This plan", fs, fontweight="bold", ha="right", color=INK)
        flow.text(col_base, "Baseline", fs, fontweight="bold", ha="right", color=INK)
        flow.y -= fs * 1.7

    head_row()
    tol = getattr(ctx.report.summary, "tolerance", 0.01)
    for i, r in enumerate(c.results()):
        b = base.result(r.rule.id)

        def verdict(x):
            if x.missing:
                return "not checked", FAINT
            if x.ok:
                return "\u2713 passes", GREEN
            if not x.rule.hard:
                return f"\u26a0 {x.failing} of {x.total} {x.subject} fail (warning)", AMBER
            return f"\u2717 {x.failing} of {x.total} {x.subject} fail", RED
        t, col = verdict(r)
        tb, colb = verdict(b)
        soft = "" if r.rule.hard else " (soft)"
        label = lines_of(f"{i + 1}. {r.rule.label}{soft}", fs, col_plan - 10 * fs)
        flow.need(len(label) * fs * 1.3 + fs)
        flow.text(0, "\n".join(label), fs, color=INK, linespacing=1.2)
        flow.text(col_plan, t, fs, ha="right", color=col)
        flow.text(col_base, tb, fs, ha="right", color=colb)
        flow.y -= len(label) * fs * 1.2 + fs * 0.45
        if not r.ok and not r.missing:
            small = fs * 0.8
            for reason in c.area_failures(r.rule.id):
                ls = lines_of("\u2022 " + _short_names(reason), small, w_pt - 2 * fs, indent="  ")
                h = len(ls) * small * 1.25
                if flow.y - h < flow.bottom:
                    flow._start()
                    head_row()
                    flow.text(0, f"{i + 1}. {r.rule.label} (continued)", fs, color=INK)
                    flow.y -= fs * 1.45
                flow.text(fs, "\n".join(ls), small, color=FAINT, linespacing=1.25)
                flow.y -= h + small * 0.3
        flow.y -= fs * 0.5
    # boards against rules: two columns, continued on further pages when there are many
    boards = [bd for bd in ctx.plan.boards if bd.active]
    rules = c.results()
    row_h = fs * 0.85 * 1.55
    name_chars = chars(fs * 0.85, 0.30 * w_pt - fs)
    flow.y -= fs * 0.6
    start = 0
    while start < len(boards):
        room = int((flow.y - flow.bottom - fs * 4) / row_h - 1.5)
        if room < 4:
            flow._start()
            room = int((flow.y - flow.bottom - fs * 4) / row_h - 1.5)
        left_n = min(room, (len(boards) - start + 1) // 2)
        chunk = boards[start:start + 2 * left_n]
        start += len(chunk)
        y0 = flow.y
        for half in range(2):
            x0 = 0.0 if half == 0 else 0.5 * w_pt
            part = chunk[half * left_n:(half + 1) * left_n]
            if not part:
                continue
            yy = y0
            flow.ax.text(x0, yy, "Board", fontsize=fs * 0.9, fontweight="bold", va="top", color=INK)
            for j in range(len(rules)):
                flow.ax.text(x0 + 0.30 * w_pt + j * 0.03 * w_pt, yy, str(j + 1), fontsize=fs * 0.9,
                             fontweight="bold", va="top", ha="center", color=INK)
            yy -= row_h * 1.1
            for k, bd in enumerate(part):
                if k % 2:
                    flow.ax.add_patch(Rectangle((x0, yy - row_h * 0.8), 0.48 * w_pt, row_h, facecolor="#f2f2f2",
                                                edgecolor="none"))
                name = short_board_name(bd.name)
                name = name if len(name) <= name_chars else name[: name_chars - 1] + "\u2026"
                flow.ax.text(x0, yy, name, fontsize=fs * 0.85, va="top", color=INK)
                for j, r in enumerate(rules):
                    if r.fail is None:
                        mark, col = "\u2013", FAINT
                    elif r.fail[bd.id]:
                        mark, col = ("\u2717", RED) if r.rule.hard else ("\u26a0", AMBER)
                    else:
                        mark, col = "\u2713", GREEN
                    flow.ax.text(x0 + 0.30 * w_pt + j * 0.03 * w_pt, yy, mark, fontsize=fs * 0.9, va="top",
                                 ha="center", color=col)
                yy -= row_h
        flow.y = y0 - (left_n + 1.5) * row_h
        if start < len(boards):
            flow._start()
    note = ("Counts are of boards, or of areas for 'within one board' and nesting rules. A soft rule (marked "
            "(soft), \u26a0 when it fails) is weighed, not required: its failures are warnings. An area is split when more than one "
            f"board holds at least {tol * 100:g}% of its people; a smaller piece is a sliver and does not count "
            "(page 1 counts the councils with only slivers across a boundary apart). Acute trusts are counted by "
            "headquarters postcode: headquarters are not catchments. Definitions: docs/principles.md.")
    ls = lines_of(note, fs * 0.8, w_pt)
    flow.need(len(ls) * fs * 0.8 * 1.25)
    flow.text(0, "\n".join(ls), fs * 0.8, color=FAINT, linespacing=1.25)
    return flow.pages


def _footer_top(fig, ctx, footer) -> float:
    """Figure fraction of the top of the footer ``footer`` draws (drawn on a scratch copy)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    scratch = Figure(figsize=fig.get_size_inches())
    FigureCanvasAgg(scratch)
    footer(scratch, ctx, 1, 1)
    r = scratch.canvas.get_renderer()
    return max(t.get_window_extent(r).y1 for t in scratch.texts) / scratch.bbox.height
