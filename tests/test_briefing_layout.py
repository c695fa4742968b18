"""Briefings that read cleanly (issue 22, item 5): no text overlaps another text or crosses a
map frame, measured from the matplotlib renderer, on England, London and a region, for 36
boards and for 26; long names wrap; every principle reason in full; one definition of a split."""

from __future__ import annotations

import numpy as np
import pytest

from icbmap.export.layout_check import frame_crossings, page_texts, text_overlaps

DATE = "7 December 2026"


def merged(atlas, n_target: int):
    """The baseline with its smallest boards merged into their smallest neighbour until
    ``n_target`` boards are left (as the whole-boards suggestion or a merged plan does)."""
    from icbmap.plan.commands import MergeBoards
    from icbmap.plan.model import Plan

    p = Plan(atlas)
    adj = atlas.adjacency
    while sum(1 for b in p.boards if b.active) > n_target:
        act = [b.id for b in p.boards if b.active]
        pops = {b: int(atlas.population[p.assignment == b].sum()) for b in act}
        small = min(act, key=lambda b: pops[b])
        units = np.flatnonzero(p.assignment == small)
        nb = set(p.assignment[np.concatenate([adj.neighbours(u) for u in units])].tolist()) - {small, -1}
        MergeBoards(min(nb, key=lambda b: pops[b]), small).do(p)
    return p


@pytest.fixture(scope="module")
def plans(england):
    from icbmap.plan.model import Plan

    return {36: Plan(england), 26: merged(england, 26)}


@pytest.fixture(scope="module")
def rules():
    from icbmap.principles.ruleset import load_rules

    return load_rules("NHS England 2025 guidance")


def _map_axes(fig):
    return [ax for ax in fig.axes if ax.get_xlim()[1] > 1000]


@pytest.mark.parametrize("n", [36, 26])
def test_briefing_pages_have_no_overlapping_text(plans, rules, n):
    from icbmap.export.briefing import briefing_figures

    figs = briefing_figures(plans[n], date_text=DATE, rules=rules, changed_pages=(n == 26))
    assert len(figs) >= 3
    for k, fig in enumerate(figs[:4]):
        assert text_overlaps(fig) == [], f"page {k + 1}"
        assert frame_crossings(fig, _map_axes(fig)) == [], f"page {k + 1}"


@pytest.mark.parametrize("focus", [None, "London", "East of England"])
def test_comparison_page_has_no_overlapping_text(england, plans, focus):
    from icbmap.compare.core import Option
    from icbmap.compare.focus import resolve_focus
    from icbmap.export.compare_brief import comparison_figure

    opts = [Option("Current boards (April 2026)", plans[36], baseline=True),
            Option("Suggested option 1: England", plans[26]),
            Option("A merged plan whose name takes two lines in the header", merged(england, 30))]
    fig, _ = comparison_figure(opts, resolve_focus(england, focus), date_text=DATE)
    assert text_overlaps(fig) == []
    assert frame_crossings(fig, _map_axes(fig)) == []
    # the column headers end above the rule under them (not struck through)
    table = next(ax for ax in fig.axes if ax.lines and ax.get_xlim() == (0, 1))
    rule_y = table.lines[0].get_ydata()[0]
    heads = [t for t in table.texts if t.get_position()[1] == 1.0 and t.get_fontweight() == "bold"]
    r = fig.canvas.get_renderer()
    rule_px = table.transData.transform((0, rule_y))[1]
    assert heads and all(t.get_window_extent(r).y0 > rule_px for t in heads)


def test_long_names_wrap_instead_of_running_into_numbers(plans, england):
    from icbmap.export.briefing import briefing_figures
    from icbmap.plan.commands import RenameBoard

    p = merged(england, 26)
    big = max((b for b in p.boards if b.active), key=lambda b: len(b.name))
    RenameBoard(big.id, "NHS Norfolk, Suffolk, Cambridgeshire and Peterborough and Essex Integrated Care Board").do(p)
    fig = briefing_figures(p, date_text=DATE)[0]
    texts = page_texts(fig)
    name = [t for t in texts if "Norfolk, Suffolk" in t[0] and t[2].axes is not None
            and t[2].axes.get_xlim() == (0, 1)]
    assert len(name) == 1 and name[0][0].count("\n") == 1, "the long name is wrapped onto two lines"
    assert "\u2026" not in name[0][0]
    assert text_overlaps(fig) == []
    assert not any("cut to fit" in t[0] for t in texts)


def test_every_principle_reason_in_full(plans, rules):
    from icbmap.export.briefing import briefing_figures
    from icbmap.export.principles_page import principles_rows

    figs = briefing_figures(plans[36], date_text=DATE, rules=rules)
    words = " ".join(t[0] for f in figs[1:] for t in page_texts(f)).replace("\n", " ")
    c, _ = principles_rows(plans[36], rules)
    for r in c.results():
        if r.ok or r.missing:
            continue
        for reason in c.area_failures(r.rule.id):
            head = reason.split(":")[0]
            assert head.replace("NHS ", "").split(" Integrated")[0] in words, head
    assert "Cumbria" in words
    assert "and 1 more" not in words and "more; " not in words


def test_one_definition_of_a_split(plans, rules):
    from icbmap.export.briefing import briefing_figures
    from icbmap.export.facts import metrics_report

    p = plans[26]
    lv = metrics_report(p).summary.levels["council"]
    figs = briefing_figures(p, date_text=DATE, rules=rules)
    page1 = " ".join(t[0] for t in page_texts(figs[0])).replace("\n", " ")
    page2 = " ".join(t[0] for t in page_texts(figs[1])).replace("\n", " ")
    assert f"{lv.real_split} of {lv.areas} councils split" in page1
    assert f"{lv.real_split} split" in page1
    if lv.sliver_only:
        assert f"+ {lv.sliver_only} with only a sliver" in page1
    assert f"{lv.real_split} of {lv.areas} areas fail" in page2
    assert "sliver" in page1 and "sliver" in page2


def test_long_summary_breaks_onto_a_second_line(england):
    """The summary under the title keeps the split count visible when a long name fills it."""
    from icbmap.export.briefing import briefing_figures
    from icbmap.export.facts import metrics_report
    from icbmap.plan.commands import RenameBoard
    from icbmap.plan.model import Plan

    p = Plan(england)
    smallest = metrics_report(p).summary.smallest[1]
    bid = next(b.id for b in p.boards if b.name == smallest)
    RenameBoard(bid, "NHS " + "Shropshire, Telford and Wrekin and the Marches " * 3 + "Integrated Care Board").do(p)
    fig = briefing_figures(p, date_text=DATE)[0]
    lv = metrics_report(p).summary.levels["council"]
    texts = [t[0] for t in page_texts(fig)]
    assert any(f"{lv.real_split} of {lv.areas} councils split" in t and "\u2026" not in t.split("split")[0]
               for t in texts)
    assert text_overlaps(fig) == []


def test_five_options_with_long_names_on_a_region(england, plans):
    from icbmap.compare.core import Option
    from icbmap.compare.focus import resolve_focus
    from icbmap.export.compare_brief import comparison_figure

    opts = [Option("Current boards (April 2026)", plans[36], baseline=True)] + [
        Option(f"Suggested option {k}: whole boards merged to {n} in England", merged(england, n))
        for k, n in enumerate((34, 30, 28), 1)] + [Option("Suggested option 4: England", plans[26])]
    fig, _ = comparison_figure(opts, resolve_focus(england, "Midlands"), date_text=DATE)
    assert text_overlaps(fig) == []
    assert frame_crossings(fig, _map_axes(fig)) == []
