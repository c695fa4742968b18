"""The briefing's principles page: each rule's verdict and count (this plan and the
baseline), then a ✓/✗ table of boards against rules, with the rule set's source."""

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


def draw_principles_page(fig, ctx, ruleset, header, footer, page: int, pages: int) -> None:
    s = ctx.scale
    header(fig, ctx, "Design principles: " + ruleset.name, ctx.title)
    footer(fig, ctx, page, pages)
    c, base = principles_rows(ctx.plan, ruleset)
    ax = fig.add_axes([0.025, 0.09, 0.95, 0.8])
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    fs = 7.2 * s
    y = 0.98
    src = ruleset.source + (f" ({ruleset.url})" if ruleset.url else "")
    if src:
        ax.text(0, y, "\n".join(textwrap.wrap("Source: " + src, 190)), fontsize=fs * 0.9, color=FAINT, va="top")
        y -= 0.05
    ax.text(0.0, y, "Rule", fontsize=fs, fontweight="bold", va="top", color=INK)
    ax.text(0.62, y, "This plan", fontsize=fs, fontweight="bold", va="top", ha="right", color=INK)
    ax.text(0.78, y, "Baseline", fontsize=fs, fontweight="bold", va="top", ha="right", color=INK)
    y -= 0.035
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
        ax.text(0.0, y, f"{i + 1}. {r.rule.label}{soft}", fontsize=fs, va="top", color=INK)
        ax.text(0.62, y, t, fontsize=fs, va="top", ha="right", color=col)
        ax.text(0.78, y, tb, fontsize=fs, va="top", ha="right", color=colb)
        y -= 0.03
        if r.subject == "areas" and not r.ok and not r.missing:
            fails = c.area_failures(r.rule.id)
            shown = "; ".join(fails[:3]) + (f"; and {len(fails) - 3} more" if len(fails) > 3 else "")
            lines = textwrap.wrap(shown, 230)[:2]
            ax.text(0.02, y + 0.004, "\n".join(lines), fontsize=fs * 0.75, va="top", color=FAINT)
            y -= 0.022 * len(lines)
    y -= 0.02
    boards = [bd for bd in ctx.plan.boards if bd.active]
    n = len(boards)
    per_col = (n + 1) // 2
    row_h = min(0.028, (y - 0.02) / (per_col + 1.5))
    rules = c.results()
    for half in range(2):
        x0 = 0.0 if half == 0 else 0.5
        yy = y
        ax.text(x0, yy, "Board", fontsize=fs * 0.9, fontweight="bold", va="top", color=INK)
        for j in range(len(rules)):
            ax.text(x0 + 0.30 + j * 0.03, yy, str(j + 1), fontsize=fs * 0.9, fontweight="bold", va="top",
                    ha="center", color=INK)
        yy -= row_h * 1.1
        for k, bd in enumerate(boards[half * per_col:(half + 1) * per_col]):
            if k % 2:
                ax.add_patch(Rectangle((x0, yy - row_h * 0.85), 0.48, row_h, facecolor="#f2f2f2", edgecolor="none"))
            ax.text(x0, yy, (lambda t: t if len(t) <= 42 else t[:41] + "\u2026")(short_board_name(bd.name)), fontsize=fs * 0.85, va="top", color=INK)
            for j, r in enumerate(rules):
                if r.fail is None:
                    mark, col = "\u2013", FAINT
                elif r.fail[bd.id]:
                    mark, col = ("\u2717", RED) if r.rule.hard else ("\u26a0", AMBER)
                else:
                    mark, col = "\u2713", GREEN
                ax.text(x0 + 0.30 + j * 0.03, yy, mark, fontsize=fs * 0.9, va="top", ha="center", color=col)
            yy -= row_h
    note = ("Counts are of boards, or of areas for 'within one board' and nesting rules. A soft rule (marked "
            "(soft), \u26a0 when it fails) is weighed, not required: its failures are warnings. "
            "Pieces under 1% of an area's people "
            "are slivers and do not count. Acute trusts are counted by headquarters postcode: headquarters are "
            "not catchments. Definitions: docs/principles.md.")
    ax.text(0.0, 0.0, "\n".join(textwrap.wrap(note, 200)), fontsize=fs * 0.8, color=FAINT, va="bottom")
