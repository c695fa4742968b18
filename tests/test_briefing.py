"""The briefing PDF: pages, text, vector output, PNG pages, figures for the GUI."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from icbmap.export.briefing import briefing_figures, render_briefing
from icbmap.names import short_board_name as short_name
from icbmap.plan.commands import History
from icbmap.plan.model import Plan
from icbmap.plan.proposal import Proposal

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def proposal(thames_plan):
    return Proposal.new(thames_plan, title="Option B: a Thames Estuary board", author="Strategy Unit")


def _pdftext(path) -> str:
    if shutil.which("pdftotext"):
        return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                              check=True).stdout
    pytest.skip("pdftotext (poppler-utils) is not installed")


def test_pdf_first_page_content(proposal, england, tmp_path):
    out = render_briefing(proposal, tmp_path / "brief.pdf", date_text="24 November 2026")
    assert out == [tmp_path / "brief.pdf"]
    pdf = out[0]
    assert pdf.read_bytes().startswith(b"%PDF")
    text = _pdftext(pdf)
    for needle in ("Option B: a Thames Estuary board", "Prepared by Strategy Unit", "24 November 2026",
                   "Legend", "Combined authority", "Population", "Councils", "Coterm.",
                   "Thames Estuary", "London", "km", "Open Government Licence", "Crown copyright",
                   "Census 2021 usual residents by LSOA", "Baseline: April 2026 boards (36, derived)",
                   "Page 1 of 1", "56,490,056"):
        assert needle in text, needle
    # every board appears in the table
    for b in proposal.plan.active_boards():
        assert short_name(b.name)[:20] in text.replace("\n", " ") or short_name(b.name)[:12] in text
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert "Pages:           1" in info and "A4" in info
    # vector output: the map is drawn as paths, not embedded as an image
    assert b"/Subtype /Image" not in pdf.read_bytes()


def test_changed_pages_and_a3(proposal, tmp_path):
    pdf = render_briefing(proposal, tmp_path / "brief-a3.pdf", paper="A3", changed_pages=True)[0]
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    changed = {3, proposal.plan.n_baseline_boards, proposal.plan.board_by_code("E54000032").id}
    moved_from = set(np.unique(proposal.plan.baseline_assignment[proposal.plan.changed_units()]).tolist())
    expected_pages = 1 + len(changed | moved_from)
    assert f"Pages:           {expected_pages}" in info
    assert "1190.55 x 841.89" in info  # A3 landscape in points
    text = _pdftext(pdf)
    assert "Thames Estuary: before and after" in text and "Baseline" in text and "Proposed" in text
    assert "(this board does not exist here)" in text


def test_png_and_figures_for_the_gui(proposal, tmp_path):
    out = render_briefing(proposal.plan, tmp_path / "brief.png", dpi=60, title="PNG test")
    assert len(out) == 1 and out[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    figs = briefing_figures(proposal, changed_pages=True)
    assert len(figs) > 1
    w, h = figs[0].get_size_inches()
    assert w > h and abs(w * 25.4 - 297) < 0.5 and abs(h * 25.4 - 210) < 0.5


def test_baseline_default_title(england, tmp_path):
    pdf = render_briefing(Plan(england), tmp_path / "base.pdf")[0]
    assert "Integrated care boards: current boundaries" in _pdftext(pdf)


def test_bad_output_type(proposal, tmp_path):
    from icbmap.errors import DataError

    with pytest.raises(DataError, match=".pdf or .png"):
        render_briefing(proposal, tmp_path / "brief.docx")


def test_drawing_stays_inside_each_map_without_clip_paths(proposal):
    """The app's print preview renders pages as SVG with QSvgRenderer, which ignores clip
    paths: every polygon and line of a map must already lie inside that map's view."""
    from matplotlib.collections import LineCollection, PatchCollection
    from matplotlib.patches import PathPatch

    figs = briefing_figures(proposal, changed_pages=True)
    checked = 0
    for fig in figs:
        for ax in fig.axes:
            x0, x1 = sorted(ax.get_xlim())
            y0, y1 = sorted(ax.get_ylim())
            if x1 - x0 < 1000:  # the table axes (0..1), not a map
                continue
            tol = (x1 - x0) * 1e-6
            verts = []
            for c in ax.collections:
                if isinstance(c, (PatchCollection, LineCollection)):
                    verts.extend(p.vertices for p in c.get_paths())
            for p in ax.patches:
                if isinstance(p, PathPatch):
                    verts.append(p.get_path().vertices)
            v = np.concatenate(verts)
            assert v[:, 0].min() >= x0 - tol and v[:, 0].max() <= x1 + tol
            assert v[:, 1].min() >= y0 - tol and v[:, 1].max() <= y1 + tol
            checked += 1
    assert checked >= 2 * len(figs)  # the England map + London inset, and two maps per board page


def test_merged_board_page_says_where_its_areas_went(england, tmp_path):
    from icbmap.plan.commands import MergeBoards

    p = Plan(england)
    keep, absorb = p.board_by_code("E54000011").id, p.board_by_code("E54000019").id
    History(p).push(MergeBoards(keep, absorb))
    pdf = render_briefing(p, tmp_path / "merge.pdf", changed_pages=True)[0]
    text = _pdftext(pdf)
    n = int((england.unit_level("board") == absorb).sum())
    assert "This board is gone in the proposal" in text
    assert f"{short_name(p.boards[keep].name)}: {n:,} LSOAs" in text
    assert "Page 3 of 3" in text


@pytest.mark.parametrize("paper", ["A4", "A3"])
def test_labels_do_not_collide_at_england_scale(england, thames_plan, paper):
    """No two board labels or numbers overlap on the overview map or the London inset
    ("Staffordshire and Stoke-on-Trent" was cut by the Nottingham box, Bristol's number hid
    under the Bath label, Greater Manchester touched South Yorkshire)."""
    from icbmap.export.briefing import label_boxes

    for plan in (Plan(england), thames_plan):
        fig = briefing_figures(plan, paper=paper)[0]
        boxes = label_boxes(fig)
        n_boards = len([b for b in plan.boards if b.active])
        assert len(boxes) >= n_boards  # every board has its label or number
        clashes = [(a[0], b[0]) for i, a in enumerate(boxes) for b in boxes[i + 1:]
                   if a[2] is b[2] and a[1].overlaps(b[1])]
        assert clashes == []


def test_expected_2027_briefing_says_expected_with_sources_and_soft_warnings(tmp_path):
    """The expected April 2027 baseline's briefing: its title and subtitle say expected, not decided,
    the foot names the cluster sources; the NHS England preset's devolution rule shows as a soft
    warning (⚠ ... (warning)) on the principles page (issue 20)."""
    from icbmap.atlas.store import load_atlas
    from icbmap.principles import load_rules

    atlas = load_atlas(baseline="2027-expected")
    pdf = render_briefing(Plan(atlas), tmp_path / "b27.pdf", rules=load_rules("NHS England 2025 guidance"))[0]
    text = " ".join(_pdftext(pdf).split())
    for needle in ("expected April 2027 boundaries (not decided)",
                   "April 2027 (expected: 2025 clusters merged; not decided)", "HCWS915",
                   "(due regard to devolution) (soft)", "5 of 20 areas fail (warning)", "Page 2 of 2"):
        assert needle in text, needle


def test_pure_merger_briefing_hatches_nothing_and_counts_one_merge(england, tmp_path):
    """A pure merger moves nobody: no area hatched as moved; the summary line says boundary change 0
    and one merge (issue 20)."""
    from icbmap.export.briefing import _context
    from icbmap.plan.commands import MergeBoards

    plan = Plan(england)
    History(plan).push(MergeBoards(plan.board_by_code("E54000062").id, plan.board_by_code("E54000055").id))
    assert _context(plan, "A4", "t", "", "d").moved is None
    text = " ".join(_pdftext(render_briefing(plan, tmp_path / "m.pdf")[0]).split())
    assert "boundary change 0 people · 1 merge" in text
